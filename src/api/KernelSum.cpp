#include <kinterp/KernelSum.hpp>
#include <kinterp/core/detail/FiniteRows.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>

namespace kinterp {

namespace {
const KernelSpec& checked(const KernelSpec& kernel) {
  kernel.require_valid();
  return kernel;
}
}  // namespace

template <class T>
KernelSum<T>::KernelSum(MPI_Comm comm, const KernelSpec& kernel, const ConstMatrix& sources,
                        const ProductOptions& product)
    : kernel_(checked(kernel)) {
  // Checked before a tree sorts them.
  detail::require_finite(comm, sources, "source points");
  product_ = make_kernel_product<T>(comm, kernel_, sources, product);
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
