#include <kinterp/KernelSum.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>

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
  return kernel_product(product_, kernel_, targets, weights, out);
}

template class KernelSum<float>;
template class KernelSum<double>;

}  // namespace kinterp
