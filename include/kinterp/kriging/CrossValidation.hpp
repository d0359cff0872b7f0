#pragma once
/// \file CrossValidation.hpp
/// k-fold cross-validation of a kriging model by refits: fold f holds out the
/// points whose global row is f mod k, the model is refitted on the others
/// (one kriging fit each) and predicts them.

#include <kinterp/kriging/Kriging.hpp>

#include <vector>

namespace kinterp {

struct CrossValidationResult {
  int folds = 0;
  double rmse = 0;  ///< sqrt(mean (z - prediction)^2) over all points
  double mae = 0;   ///< mean |z - prediction|
  std::vector<double> fold_rmse;
  bool converged = true;  ///< every refit's CG converged
  double seconds = 0;
};

/// Collective. `folds` from 2 to N (N: leave-one-out, N fits). Throws
/// kinterp::Error on every rank for a bad fold count or bad input (as Kriging).
CrossValidationResult cross_validate(MPI_Comm comm, const CovarianceModel& model,
                                     const Kriging::ConstMatrix& points,
                                     const Kriging::ConstMatrix& values,
                                     const KrigingOptions& options, int folds);

}  // namespace kinterp
