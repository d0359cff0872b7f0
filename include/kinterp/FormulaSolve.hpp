#pragma once
/// \file FormulaSolve.hpp
/// KeOps' KernelSolve(formula, aliases, "A", axis=1) for a formula that is not
/// one of the compiled kernel families: solve (alpha I + K) a = b where
/// (K a)_i = sum_j F(x_i, x_j, a_j) and F is linear in a, with the generic
/// evaluator (formula/Program.hpp) and the same conjugate gradient as
/// KernelSolve. Besides the points and A, F may take per-point data (noise,
/// weights, bandwidths) as further i- and j-variables, as KeOps' Kinv(x, x,
/// s, s, b) does, so long as the operator stays symmetric. Compiled kernels
/// are faster: use KernelSolve when Formula::bind recognises the formula.

#include <kinterp/KernelSolve.hpp>
#include <kinterp/dist/FormulaKernelProduct.hpp>
#include <kinterp/formula/Formula.hpp>
#include <kinterp/local/LocalMatrix.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <map>
#include <string>
#include <vector>

namespace kinterp {

template <class T>
class FormulaSolve {
 public:
  using Matrix = LocalMatrix<T>;
  using ConstMatrix = LocalMatrix<const T>;

  /// Collective over `comm`. `formula` is F(X, Y, A): linear in the j-variable
  /// `unknown` (A), of A's dimension, with at least one i-variable. Each other
  /// variable takes its rows (one per point, this rank's n_r) from `inputs`
  /// under its name, or else `points` (KeOps calls the solver as Kinv(x, x,
  /// b)), whose dimension it must then have. Parameters by name. Measures
  /// the operator's symmetry with two products on random vectors, since
  /// conjugate gradient needs a symmetric operator (an i-variable and its
  /// j-twin must hold the same rows), and throws if it is not. Throws
  /// FormulaError or kinterp::Error on every rank, saying which condition
  /// fails.
  FormulaSolve(MPI_Comm comm, const Formula& formula,
               const std::map<std::string, std::vector<double>>& parameters,
               const std::string& unknown, const ConstMatrix& points,
               const VariableRows<T>& inputs = {});

  /// Collective; as KernelSolve::solve without a preconditioner or mixed
  /// precision. b and a: this rank's rows (n_r x columns()). The columns are
  /// the components of one unknown, which the kernel may couple, so CG solves
  /// one system of N * columns() unknowns (rtol is relative to all of b).
  KernelSolveResult solve(const ConstMatrix& b, const Matrix& a, double alpha,
                          const SolveOptions& options = {}) const;

  /// The unknown's dimension: the columns of b and a.
  int columns() const { return product_.program().dimension; }

  /// |u.Kv - v.Ku| / (|u| |Kv| + |v| |Ku|) for random u, v, measured at
  /// construction: rounding level for a symmetric operator.
  double asymmetry() const { return asymmetry_; }

  const Program& program() const { return product_.program(); }

  /// y = K x (no alpha), for this rank's rows: the fitted model at the points.
  /// Collective.
  RingTimings apply(const ConstMatrix& x, const Matrix& y) const;

 private:
  std::string unknown_;
  std::uint64_t fingerprint_ = 0;    // the formula and its parameters, for checkpoints
  VariableRows<T> inputs_;           // for checkpoints' fingerprint
  FormulaKernelProduct<T> product_;  // sources: the points' i-rows, weights: the unknown
  double asymmetry_ = 0;
};

extern template class FormulaSolve<float>;
extern template class FormulaSolve<double>;

}  // namespace kinterp
