#pragma once
/// \file DirectKernelProduct.hpp
/// The direct product of a compiled kernel family: every target against every
/// source, the sources travelling around the ring of ranks
/// (RingKernelProduct.hpp) and the local engines doing the sums. Exact up to
/// rounding; N^2 kernel evaluations per product.

#include <kinterp/dist/KernelProduct.hpp>
#include <kinterp/dist/RingKernelProduct.hpp>
#include <kinterp/kernels/KernelSpec.hpp>

namespace kinterp {

/// Compiled in the library for T = float and double: the nine families' ring
/// products are its longest compile, done once. Validates nothing (KernelSum
/// checks its input first).
template <class T>
class DirectKernelProduct final : public KernelProduct<T> {
 public:
  /// Collective over `comm` (duplicated inside). `sources`: this rank's
  /// points, n_r x d, the same d on every rank.
  DirectKernelProduct(MPI_Comm comm, const KernelSpec& kernel, const LocalMatrix<const T>& sources)
      : kernel_(kernel), ring_(Communicator(comm), sources) {}

  /// Collective. out = K(targets, sources) weights with the kernel's variance.
  RingTimings apply(const Kokkos::DefaultExecutionSpace& space, const LocalMatrix<const T>& targets,
                    const LocalMatrix<const T>& weights, const LocalMatrix<T>& out) const override;

  const LocalMatrix<const T>& sources() const override { return ring_.sources(); }
  const Communicator& communicator() const override { return ring_.communicator(); }
  const KernelSpec& kernel() const { return kernel_; }
  std::string description() const override { return "direct"; }

 private:
  KernelSpec kernel_;
  RingKernelProduct<T> ring_;
};

extern template class DirectKernelProduct<float>;
extern template class DirectKernelProduct<double>;

}  // namespace kinterp
