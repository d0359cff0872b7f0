#pragma once
// The kriging system of one covariance model at the points: the checked
// input, the points in the model's coordinates, the solver and its Nystrom
// preconditioner, the drift basis; and its solution by generalised least
// squares. Kriging (predictions) and the likelihood (hyperparameters) share it.

#include <kinterp/KernelSolve.hpp>
#include <kinterp/kriging/Kriging.hpp>
#include <kinterp/solve/LanczosQuadrature.hpp>

#include "Drift.hpp"
#include "Reductions.hpp"

#include <mpi.h>

#include <optional>
#include <vector>

namespace kinterp::detail {

/// One CG solve of K [w | K^-1 P | K^-1 extra] and the GLS drift.
struct GlsSolution {
  KernelSolveResult solve;
  std::vector<double> beta;         ///< the drift (simple kriging: {mean})
  std::vector<double> gram_factor;  ///< Cholesky factor of P^T K^-1 P (q x q)
  KrigingMatrix weights;            ///< w = K^-1 (z - P beta), n_r x 1
  KrigingMatrix extra;              ///< K^-1 extra, n_r x s (empty without extra)
};

class KrigingSystem {
 public:
  /// Collective: validates everything on every rank at once (see Kriging).
  KrigingSystem(MPI_Comm comm, const CovarianceModel& model, const ConstKrigingMatrix& points,
                const ConstKrigingMatrix& values, const KrigingOptions& options);

  /// Collective: new values at the same points (Kriging::refit); throws
  /// kinterp::Error on every rank for a wrong shape.
  void set_values(const ConstKrigingMatrix& values);

  /// Collective: solves for [z - mean or z, P, extra] in one CG (the
  /// preconditioner applied) and the drift by GLS. Throws kinterp::Error on
  /// every rank for a singular drift.
  /// `lanczos`: receives CG's coefficients (SolveOptions::lanczos_coefficients).
  GlsSolution solve(const ConstKrigingMatrix& extra = {},
                    const LanczosCallback& lanczos = {}) const;

  /// Collective: (nugget I + K) x = b for other right-hand sides.
  KernelSolveResult solve_columns(const ConstKrigingMatrix& b, const KrigingMatrix& x,
                                  const SolveOptions& options) const;

  MPI_Comm comm() const { return comm_; }
  const CovarianceModel& model() const { return model_; }
  const KrigingOptions& options() const { return options_; }
  const KernelSpec& spec() const { return spec_; }
  const std::optional<Drift>& drift() const { return drift_; }
  int drift_terms() const { return drift_ ? drift_->terms() : 0; }
  std::int64_t global_rows() const { return global_rows_; }
  /// The global row of this rank's first point.
  std::int64_t first_row() const { return first_row_; }
  const KrigingMatrix& coordinates() const { return coordinates_; }
  const KrigingMatrix& basis() const { return basis_; }
  const KrigingMatrix& centred_values() const { return centred_values_; }
  const KernelSolve<double>& solver() const { return *solver_; }
  const NystromPreconditioner<double>* preconditioner() const {
    return preconditioner_ ? &*preconditioner_ : nullptr;
  }
  const VecchiaPreconditioner<double>* vecchia() const { return vecchia_ ? &*vecchia_ : nullptr; }

 private:
  /// Not collective: throws unless `values` is points x 1.
  static void check_values(std::size_t points, const ConstKrigingMatrix& values);
  /// centred_values_ = values - the known mean (simple kriging) or values.
  void centre(const ConstKrigingMatrix& values);

  MPI_Comm comm_;
  CovarianceModel model_;
  KrigingOptions options_;
  KernelSpec spec_;
  std::optional<Drift> drift_;
  std::int64_t global_rows_ = 0, first_row_ = 0;
  KrigingMatrix coordinates_;     // the points in the model's frame
  KrigingMatrix basis_;           // P, n_r x q
  KrigingMatrix centred_values_;  // z - mean (simple kriging) or z, n_r x 1
  std::optional<KernelSolve<double>> solver_;
  std::optional<NystromPreconditioner<double>> preconditioner_;
  std::optional<VecchiaPreconditioner<double>> vecchia_;
};

}  // namespace kinterp::detail
