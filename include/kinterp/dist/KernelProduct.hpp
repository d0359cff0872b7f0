#pragma once
/// \file KernelProduct.hpp
/// The seam every kernel product goes through: out = K(targets, sources) w,
/// with the sources and their weights spread over the ranks. The solvers
/// (KernelSolve, FormulaSolve), KernelSum, kriging and the likelihood hold a
/// KernelProduct and call nothing else, so an engine (the direct ring of
/// compiled kernels, the generic formula evaluator's ring, a tree product)
/// plugs in by implementing this interface.

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Communicator.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/dist/SourceRing.hpp>
#include <kinterp/local/LocalMatrix.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <cstdint>
#include <string>

namespace kinterp {

namespace detail {

/// Collective: a product's shapes fit on every rank (targets of d
/// coordinates, weights of one row per source here, out of targets x
/// columns) and the weights have the same columns everywhere, or one Error
/// on every rank. Returns the columns.
template <class ConstMatrix, class Matrix>
int check_product_shapes(const Communicator& comm, int dim, std::int64_t sources,
                         const ConstMatrix& targets, const ConstMatrix& weights,
                         const Matrix& out) {
  std::string problem;
  if (targets.extent(1) != static_cast<std::size_t>(dim)) {
    problem = "the targets have " + std::to_string(targets.extent(1)) +
              " coordinates but the sources have " + std::to_string(dim);
  } else if (static_cast<std::int64_t>(weights.extent(0)) != sources) {
    problem = "the weights have " + std::to_string(weights.extent(0)) +
              " rows on a rank that holds " + std::to_string(sources) + " source points";
  } else if (out.extent(0) != targets.extent(0) || out.extent(1) != weights.extent(1)) {
    problem = "the output is " + std::to_string(out.extent(0)) + " x " +
              std::to_string(out.extent(1)) + " but must be (targets) " +
              std::to_string(targets.extent(0)) + " x (weight columns) " +
              std::to_string(weights.extent(1));
  }
  throw_if_any(comm.get(), !problem.empty(), "kernel product: " + problem);

  int columns[2] = {static_cast<int>(weights.extent(1)), -static_cast<int>(weights.extent(1))};
  MPI_Allreduce(MPI_IN_PLACE, columns, 2, MPI_INT, MPI_MAX, comm.get());
  if (columns[0] != -columns[1]) {
    throw Error("kernel product: the weights have between " + std::to_string(-columns[1]) +
                " and " + std::to_string(columns[0]) +
                " columns on different ranks; every rank must pass the same number");
  }
  return columns[0];
}

}  // namespace detail

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
