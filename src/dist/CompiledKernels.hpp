#pragma once
// DirectKernelProduct's and local_kernel_sum_of's definitions, instantiated
// once per precision in CompiledKernelsFloat.cpp and CompiledKernelsDouble.cpp:
// the nine kernels' ring products are the library's longest compile, so the
// two halves build side by side, and the local sums the ring's first step
// makes are the same instantiations as local_kernel_sum_of's, compiled once.

#include <kinterp/dist/DirectKernelProduct.hpp>
#include <kinterp/kernels/RadialKernels.hpp>
#include <kinterp/local/LocalKernelSumOf.hpp>

namespace kinterp {

template <class T>
RingTimings DirectKernelProduct<T>::apply(const Kokkos::DefaultExecutionSpace& space,
                                          const LocalMatrix<const T>& targets,
                                          const LocalMatrix<const T>& weights,
                                          const LocalMatrix<T>& out) const {
  return visit_kernel<T>(kernel_, [&](const auto& k) {
    return ring_.apply(space, k, static_cast<T>(kernel_.variance), targets, weights, out);
  });
}

template <class T>
void local_kernel_sum_of(const Kokkos::DefaultExecutionSpace& space, const KernelSpec& spec,
                         const LocalMatrix<const T>& targets, const LocalMatrix<const T>& sources,
                         const LocalMatrix<const T>& weights, const LocalMatrix<T>& out) {
  visit_kernel<T>(spec, [&](const auto& kernel) {
    local_kernel_sum(space, kernel, static_cast<T>(spec.variance), targets, sources, weights, out);
  });
}

}  // namespace kinterp
