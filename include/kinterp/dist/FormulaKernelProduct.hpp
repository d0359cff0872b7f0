#pragma once
/// \file FormulaKernelProduct.hpp
/// The product of a formula F that is not a compiled kernel family, linear in
/// its weights A: out_i = sum_j F(i-variables at target i, j-variables at
/// point j, a_j) on the generic evaluator (formula/Program.hpp), the packed
/// source rows travelling around the ring of ranks (RingReduction.hpp).

#include <kinterp/dist/KernelProduct.hpp>
#include <kinterp/dist/RingReduction.hpp>
#include <kinterp/formula/Program.hpp>
#include <kinterp/formula/VariableRows.hpp>

#include <mpi.h>

#include <string>

namespace kinterp {

/// Compiled in the library for T = float and double; accumulates in double.
template <class T>
class FormulaKernelProduct final : public KernelProduct<T> {
 public:
  /// Collective over `comm` (duplicated inside). `program`: F compiled for
  /// axis 1 with the j-variable `weights` (A). Every other variable takes its
  /// rows from `inputs` under its name, or else `points` (this rank's n_r
  /// points); the caller checks that the shapes fit and says what is wrong.
  FormulaKernelProduct(MPI_Comm comm, const Program& program, const std::string& weights,
                       const LocalMatrix<const T>& points, const VariableRows<T>& inputs = {});

  /// Collective. out (n_t x dimension) = sum_j F(t_i, x_j, w_j) for this
  /// rank's targets, packed i-variable rows (n_t x program().target_width:
  /// the target points when X is the one i-variable), and weights (n_r x the
  /// dimension of A).
  RingTimings apply(const Kokkos::DefaultExecutionSpace& space, const LocalMatrix<const T>& targets,
                    const LocalMatrix<const T>& weights, const LocalMatrix<T>& out) const override;

  /// The points as targets: each point's packed i-variable row (the points
  /// themselves when X is the one i-variable), so that apply_at_sources is
  /// the operator of a solve.
  const LocalMatrix<const T>& sources() const override { return targets_at_points_; }
  const Communicator& communicator() const override { return ring_.communicator(); }
  std::string description() const override { return "direct (generic formula evaluator)"; }
  const Program& program() const { return program_; }

 private:
  using execution_space = Kokkos::DefaultExecutionSpace;

  Program program_;
  DeviceProgram<T, execution_space> device_program_;
  int weights_at_ = 0, weights_dimension_ = 0;  // where A sits in a source row
  LocalMatrix<const T> targets_at_points_;
  mutable LocalMatrix<T> rows_;  // the packed source rows; A's columns change with each apply
  mutable RingReduction<T, execution_space> ring_;
  mutable LocalMatrix<double> sums_;  // the reduction's output, in double
};

extern template class FormulaKernelProduct<float>;
extern template class FormulaKernelProduct<double>;

}  // namespace kinterp
