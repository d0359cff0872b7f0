#pragma once
/// \file FormulaKernelProduct.hpp
/// The product of a formula F(X, Y, A) that is not a compiled kernel family,
/// linear in its weights A: out_i = sum_j F(t_i, x_j, a_j) on the generic
/// evaluator (formula/Program.hpp), the source rows [x_j, a_j] travelling
/// around the ring of ranks (RingReduction.hpp).

#include <kinterp/dist/KernelProduct.hpp>
#include <kinterp/dist/RingReduction.hpp>
#include <kinterp/formula/Program.hpp>

#include <mpi.h>

#include <string>

namespace kinterp {

/// Compiled in the library for T = float and double; accumulates in double.
template <class T>
class FormulaKernelProduct final : public KernelProduct<T> {
 public:
  /// Collective over `comm` (duplicated inside). `program`: F compiled for
  /// axis 1 with one i-variable X and the j-variables Y and `weights` (A),
  /// where X and Y are points of sources' dimension (the caller checks this
  /// shape and says what is wrong). `sources`: this rank's points Y.
  FormulaKernelProduct(MPI_Comm comm, const Program& program, const std::string& weights,
                       const LocalMatrix<const T>& sources);

  /// Collective. out (n_t x dimension) = sum_j F(t_i, x_j, w_j) for this
  /// rank's targets (n_t x d) and weights (n_r x the dimension of A).
  RingTimings apply(const Kokkos::DefaultExecutionSpace& space, const LocalMatrix<const T>& targets,
                    const LocalMatrix<const T>& weights, const LocalMatrix<T>& out) const override;

  const LocalMatrix<const T>& sources() const override { return points_; }
  const Communicator& communicator() const override { return ring_.communicator(); }
  std::string description() const override { return "direct (generic formula evaluator)"; }
  const Program& program() const { return program_; }

 private:
  using execution_space = Kokkos::DefaultExecutionSpace;

  Program program_;
  DeviceProgram<T, execution_space> device_program_;
  int points_at_ = 0, weights_at_ = 0;  // where Y and A sit in a source row
  LocalMatrix<const T> points_;
  mutable LocalMatrix<T> rows_;  // the points and the weights packed as source rows
  mutable RingReduction<T, execution_space> ring_;
  mutable LocalMatrix<double> sums_;  // the reduction's output, in double
};

extern template class FormulaKernelProduct<float>;
extern template class FormulaKernelProduct<double>;

}  // namespace kinterp
