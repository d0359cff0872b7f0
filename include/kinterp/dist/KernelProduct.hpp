#pragma once
/// \file KernelProduct.hpp
/// The seam every kernel product goes through: out = K(targets, sources) w,
/// with the sources and their weights spread over the ranks. The solvers
/// (KernelSolve, FormulaSolve), KernelSum, kriging and the likelihood hold a
/// KernelProduct and call nothing else, so an engine (the direct ring of
/// compiled kernels, the generic formula evaluator's ring, a tree product)
/// plugs in by implementing this interface.

#include <kinterp/core/Communicator.hpp>
#include <kinterp/dist/SourceRing.hpp>
#include <kinterp/local/LocalMatrix.hpp>

#include <Kokkos_Core.hpp>

#include <cstdint>
#include <string>

namespace kinterp {

template <class T>
class KernelProduct {
 public:
  using execution_space = Kokkos::DefaultExecutionSpace;
  using memory_space = execution_space::memory_space;
  using Matrix = LocalMatrix<T>;
  using ConstMatrix = LocalMatrix<const T>;

  virtual ~KernelProduct() = default;

  /// Collective. out (n_t x m) = K(targets, every rank's sources) weights,
  /// where `targets` are this rank's rows (any count, the sources themselves
  /// included) and `weights` this rank's rows of the sources' weights (n_r x
  /// m, the same m on every rank). Work is launched on `space`; on return it
  /// is complete. Returns this rank's timings. Throws kinterp::Error on every
  /// rank for shapes that do not fit.
  virtual RingTimings apply(const execution_space& space, const ConstMatrix& targets,
                            const ConstMatrix& weights, const Matrix& out) const = 0;

  /// This rank's source points (n_r x d).
  virtual const ConstMatrix& sources() const = 0;
  /// The product's own duplicate of the caller's communicator.
  virtual const Communicator& communicator() const = 0;

  /// The accuracy the product promises: 0 for one exact to rounding, else
  /// eps of |(K~ w - K w)_i| <= eps * sum_j |k(t_i, x_j)| |w_j| (a tree).
  virtual double tolerance() const { return 0; }
  /// For logs: "direct", "tree (eps 1e-06, degree 17, ...)".
  virtual std::string description() const = 0;

  std::int64_t local_count() const { return static_cast<std::int64_t>(sources().extent(0)); }
  /// Collective. y = K(sources, sources) x: the operator of a solve.
  RingTimings apply_at_sources(const execution_space& space, const ConstMatrix& x,
                               const Matrix& y) const {
    return apply(space, sources(), x, y);
  }

 protected:
  KernelProduct() = default;
  KernelProduct(const KernelProduct&) = default;
  KernelProduct& operator=(const KernelProduct&) = default;
};

}  // namespace kinterp
