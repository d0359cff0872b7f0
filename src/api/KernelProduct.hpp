#pragma once
// kernel_product's definition, instantiated once per precision in
// KernelProductFloat.cpp and KernelProductDouble.cpp: the nine kernels' ring
// products are the library's longest compile, so the two halves build side by
// side.

#include <kinterp/KernelSum.hpp>
#include <kinterp/kernels/RadialKernels.hpp>

namespace kinterp {

template <class T>
RingTimings kernel_product(const RingKernelProduct<T>& product, const KernelSpec& kernel,
                           const typename RingKernelProduct<T>::ConstMatrix& targets,
                           const typename RingKernelProduct<T>::ConstMatrix& weights,
                           const typename RingKernelProduct<T>::Matrix& out) {
  return visit_kernel<T>(kernel, [&](const auto& k) {
    return product.apply(typename RingKernelProduct<T>::execution_space(), k,
                         static_cast<T>(kernel.variance), targets, weights, out);
  });
}

}  // namespace kinterp
