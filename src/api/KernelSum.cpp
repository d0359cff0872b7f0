#include <kinterp/KernelSum.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/kernels/RadialKernels.hpp>

#include "Validation.hpp"

namespace kinterp {

namespace {
const KernelSpec& checked(const KernelSpec& kernel) {
  detail::require_valid_kernel(kernel);
  return kernel;
}
}  // namespace

template <class T>
KernelSum<T>::KernelSum(MPI_Comm comm, const KernelSpec& kernel, const ConstMatrix& sources)
    : kernel_(checked(kernel)), product_(Communicator(comm), sources) {
  detail::require_finite(product_.communicator().get(), sources, "source points");
}

template <class T>
RingTimings KernelSum<T>::operator()(const ConstMatrix& targets, const ConstMatrix& weights,
                                     const Matrix& out) const {
  const detail::ScopedRegion region("kinterp::KernelSum");
  const MPI_Comm comm = product_.communicator().get();
  detail::require_finite(comm, targets, "target points");
  detail::require_finite(comm, weights, "weights");
  return visit_kernel<T>(kernel_, [&](const auto& k) {
    return product_.apply(execution_space(), k, static_cast<T>(kernel_.variance), targets, weights,
                          out);
  });
}

template class KernelSum<float>;
template class KernelSum<double>;

}  // namespace kinterp
