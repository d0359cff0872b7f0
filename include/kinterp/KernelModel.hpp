#pragma once
/// \file KernelModel.hpp
/// A kernel as users name it, resolved once: a compiled family with a length
/// scale, or a KeOps formula with aliases and parameters. A formula that
/// Formula::bind recognises runs on the compiled kernels (KernelSolve,
/// KernelSum); any other formula F(X, Y, A) linear in its weights A runs on the
/// generic evaluator (FormulaSolve, Genred). The front ends (the kinterp tool,
/// the C and Fortran API) fit and predict through it.

#include <kinterp/KernelSolve.hpp>
#include <kinterp/formula/Formula.hpp>
#include <kinterp/formula/VariableRows.hpp>

#include <mpi.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kinterp {

/// What KernelModel::predict did: its product's set-up, timings and engine.
struct ModelPrediction {
  RingTimings timings;
  std::string product;       ///< the product's description ("direct", "tree (eps ...)")
  double setup_seconds = 0;  ///< making the product (the tree's set-up), this rank
};

class KernelModel {
 public:
  template <class T>
  using Matrix = typename KernelSum<T>::Matrix;
  template <class T>
  using ConstMatrix = typename KernelSum<T>::ConstMatrix;
  using Parameters = std::map<std::string, std::vector<double>>;

  /// `name` as KernelSpec::from_name (gaussian, laplacian, matern32, ...).
  /// Throws kinterp::Error for an unknown name or a bad length scale.
  static KernelModel named(const std::string& name, double length_scale);

  /// A KeOps formula, its aliases and its parameters' values. `unknown` names
  /// the weights' j-variable; empty: the one j-variable the formula is linear
  /// in. Throws FormulaError or kinterp::Error saying what is wrong.
  static KernelModel from_formula(const std::string& formula,
                                  const std::vector<std::string>& aliases,
                                  const Parameters& parameters, const std::string& unknown = "");

  /// Whether the generic evaluator runs it (else a compiled family).
  bool generic() const { return generic_.has_value(); }
  /// The compiled family (meaningful when !generic()).
  const KernelSpec& spec() const { return spec_; }
  /// For logs: "gaussian, length scale 0.5" or "\"formula\" (laplacian)".
  const std::string& description() const { return description_; }
  /// The dimension a formula fixes for the points and the weights; -1: any
  /// (for the points also when a generic formula has several j-variables
  /// besides the weights, one of which may be an input).
  int point_dimension() const { return point_dimension_; }
  int weight_dimension() const { return weight_dimension_; }

  /// Throw kinterp::Error unless `columns` agrees with the formula's
  /// dimension; `what` names the input in the message (a file, an argument).
  void check_point_columns(const std::string& what, std::int64_t columns) const;
  void check_weight_columns(const std::string& what, std::int64_t columns) const;

  /// Collective: solves (alpha I + K) weights = values for this rank's points
  /// and values (n_r x d, n_r x m), as KernelSolve::solve or FormulaSolve::solve.
  /// `product` chooses a compiled family's products (direct by default).
  /// The generic evaluator has no preconditioner, no mixed precision and no
  /// tree product: asking for them throws (auto takes direct). `inputs`: a
  /// generic formula's other variables at the points (FormulaSolve).
  template <class T>
  KernelSolveResult fit(MPI_Comm comm, const ConstMatrix<T>& points, const ConstMatrix<T>& values,
                        const Matrix<T>& weights, double alpha, const SolveOptions& options,
                        const KernelSolveOptions& how = {}, const ProductOptions& product = {},
                        const VariableRows<T>& inputs = {}) const;

  /// Collective: out (n_t x m) = sum_j k(t_i, x_j) w_j, the fitted model at
  /// this rank's targets, over all ranks' points and weights. A formula with
  /// variables besides X, Y and the weights is refused here and in the
  /// derivatives: Genred (the tool's `kinterp reduce`) evaluates it with each
  /// variable's rows.
  template <class T>
  ModelPrediction predict(MPI_Comm comm, const ConstMatrix<T>& points,
                          const ConstMatrix<T>& weights, const ConstMatrix<T>& targets,
                          const Matrix<T>& out, const ProductOptions& product = {}) const;

  /// Collective: the gradient of the fitted model at this rank's targets,
  /// out (n_t x d m), column k d + l = d/dt_l sum_j k(t_i, x_j) w_jk (KeOps'
  /// GradMatrix layout; d columns for one weight column). For gaussian,
  /// laplacian, matern32, matern52, cauchy, imq and rq, phi'(r)/r is a
  /// compiled family: one product with (d + 1) m columns on the engine
  /// `product` chooses (KernelModelDerivatives.cpp; a tree's eps then bounds
  /// the error relative to sum_j |phi'(r)/r| |w_j| (|t - o| + |x_j - o|), o
  /// the points' mean). Every
  /// other kernel, and any generic formula, is differentiated symbolically
  /// (formula/Derivative.hpp) on the generic evaluator, direct. Throws
  /// kinterp::Error, on every rank, for the general Matern kernel (no
  /// formula), for a kernel with a cusp at r = 0 (laplacian, spherical) when a
  /// target coincides with a point, for the tree on the generic route, and
  /// for shapes that do not fit.
  template <class T>
  ModelPrediction predict_gradient(MPI_Comm comm, const ConstMatrix<T>& points,
                                   const ConstMatrix<T>& weights, const ConstMatrix<T>& targets,
                                   const Matrix<T>& out, const ProductOptions& product = {}) const;

  /// Collective: the Laplacian of the fitted model at this rank's targets,
  /// out (n_t x m), column k = sum_l d^2/dt_l^2 sum_j k(t_i, x_j) w_jk. For
  /// gaussian, matern32, matern52, cauchy, imq and rq, the closed form
  /// phi''(r) + (d - 1) phi'(r)/r, exact at the points too; for the other
  /// kernels and formulas, the formula's symbolic Laplacian (a formula through
  /// Norm2 has 0 for its second derivative at r = 0). Generic evaluator,
  /// direct. Throws as predict_gradient.
  template <class T>
  ModelPrediction predict_laplacian(MPI_Comm comm, const ConstMatrix<T>& points,
                                    const ConstMatrix<T>& weights, const ConstMatrix<T>& targets,
                                    const Matrix<T>& out, const ProductOptions& product = {}) const;

 private:
  /// The generic route of predict_gradient and predict_laplacian.
  template <class T>
  ModelPrediction derivative_by_formula(MPI_Comm comm, bool laplacian, const ConstMatrix<T>& points,
                                        const ConstMatrix<T>& weights,
                                        const ConstMatrix<T>& targets, const Matrix<T>& out,
                                        const ProductOptions& product, double start) const;

  /// Throws for the tree asked of a generic formula.
  void require_direct(const ProductOptions& product) const;
  /// Throws unless `program` is F(X, Y, weights) with one i- and one other
  /// j-variable, of `dimension`: what predicting at new targets needs.
  static void require_targets_and_points(const Program& program, const std::string& what,
                                         const std::string& text, const std::string& weights,
                                         std::int64_t dimension);

  KernelSpec spec_;
  std::optional<Formula> generic_;
  Parameters parameters_;
  std::string unknown_;  // the weights' variable of a generic formula
  std::string description_;
  std::string point_alias_, weight_alias_;  // e.g. "Y = Vj(1)"; empty for a named kernel
  int point_dimension_ = -1, weight_dimension_ = -1;
};

}  // namespace kinterp
