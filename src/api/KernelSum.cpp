#include <kinterp/KernelSum.hpp>
#include <kinterp/core/detail/FiniteRows.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/dist/DirectKernelProduct.hpp>

namespace kinterp {

namespace {
const KernelSpec& checked(const KernelSpec& kernel) {
  kernel.require_valid();
  return kernel;
}
}  // namespace

template <class T>
KernelSum<T>::KernelSum(MPI_Comm comm, const KernelSpec& kernel, const ConstMatrix& sources)
    : kernel_(checked(kernel)),
      product_(std::make_shared<const DirectKernelProduct<T>>(comm, kernel_, sources)) {
  detail::require_finite(product_->communicator().get(), sources, "source points");
}

template <class T>
RingTimings KernelSum<T>::operator()(const execution_space& space, const ConstMatrix& targets,
                                     const ConstMatrix& weights, const Matrix& out) const {
  const detail::ScopedRegion region("kinterp::KernelSum");
  const MPI_Comm comm = product_->communicator().get();
  detail::require_finite(comm, targets, "target points");
  detail::require_finite(comm, weights, "weights");
  return product_->apply(space, targets, weights, out);
}

template class KernelSum<float>;
template class KernelSum<double>;

}  // namespace kinterp
