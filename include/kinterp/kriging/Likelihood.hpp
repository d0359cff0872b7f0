#pragma once
/// \file Likelihood.hpp
/// The Gaussian log marginal likelihood of a kriging model, estimated
/// matrix-free, and the covariance parameters that maximise it.
///
///   log L = -1/2 (z - P beta)^T K^-1 (z - P beta) - 1/2 log det K - N/2 log 2 pi
///
/// (beta the GLS drift, profiled out; simple kriging: z - mean). One CG solve
/// with the columns [z, P, b_1..b_s] gives the data term and, by stochastic
/// Lanczos quadrature on the probes b_i ~ N(0, M) (M the Nystrom
/// preconditioner, or I), log det K = log det M + E[g^T log(M^-1/2 K M^-1/2) g]
/// (Gardner et al. 2018, GPyTorch's BBMM). The gradient
///   d log L / d theta = 1/2 w^T dK w - 1/2 tr(K^-1 dK),  w = K^-1 (z - P beta),
/// takes tr(K^-1 dK) ~ mean_i (M^-1 b_i)^T dK (K^-1 b_i) from the same solve;
/// dK is exact for the variance and the nugget; for the length scales and
/// angles, exact through one product with the family's slope kernel
/// (kernels/SlopeKernel.hpp) for all of them, where the family has one; for
/// the rational quadratic's alpha, exact through a formula product; else (and
/// Matern's nu) a central difference of two kernel products.

#include <kinterp/kriging/Kriging.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace kinterp {

/// Which parameters a fit varies; the others keep the model's values.
struct FitParameters {
  bool variance = true;
  bool length_scales = true;  ///< every length scale of the model
  bool nugget = true;
  bool shape = false;   ///< Matern's nu or the rational quadratic's alpha
  bool angles = false;  ///< the rotation angles of an anisotropic model
};

struct LikelihoodOptions {
  int probes = 32;         ///< Hutchinson / Lanczos probes
  std::uint64_t seed = 0;  ///< the probes depend on it and on the global rows only
  /// The central difference step, in the log of the shape, in radians for
  /// angles, and in the log of length scales where they are differenced.
  double step = 1e-4;
  /// The length scales' and angles' derivatives exactly, by one product with
  /// the slope kernel phi'(r)/r (kernels/SlopeKernel.hpp) for all of them, for
  /// every family that has one but the exponential (its slope kernel is
  /// infinite at r = 0), and the rational quadratic's alpha by a formula
  /// product; false, and for the other cases: central differences, two
  /// products per parameter (Matern's nu always: d K_nu / d nu has no closed
  /// form).
  bool exact_derivatives = true;
};

/// log L and its gradient in the optimiser's coordinates: the natural log of
/// the variance, of each length scale, of the nugget and of the shape, then
/// the angles in radians (only those FitParameters selects, in that order).
struct LikelihoodEstimate {
  double log_likelihood = 0;
  std::vector<double> gradient;
  double log_determinant = 0;  ///< the estimate of log det K
  double data_fit = 0;         ///< (z - P beta)^T K^-1 (z - P beta)
  int iterations = 0;          ///< CG iterations of the solve
  bool converged = false;
  std::string detail;  ///< why CG stopped, when it did not converge
};

/// Collective: the estimate for `model` (its nugget included). `kriging`
/// gives the kind, the known mean or drift, CG's tolerance and the
/// preconditioner. Throws kinterp::Error on every rank for bad input, as Kriging.
LikelihoodEstimate estimate_log_likelihood(MPI_Comm comm, const CovarianceModel& model,
                                           const Kriging::ConstMatrix& points,
                                           const Kriging::ConstMatrix& values,
                                           const KrigingOptions& kriging,
                                           const FitParameters& which,
                                           const LikelihoodOptions& options = {});

struct HyperparameterFitOptions {
  FitParameters which;
  LikelihoodOptions likelihood;
  int max_iterations = 50;  ///< L-BFGS iterations
  /// Stop when an iteration raises log L by less than ftol * max(|log L|, 1).
  double ftol = 1e-9;
  /// Box constraints, as multiples of the starting value (variance, length
  /// scales, shape) or of the starting variance (nugget); angles are free.
  double lower_factor = 1e-5, upper_factor = 1e5;
  double nugget_lower_factor = 1e-10;
};

struct HyperparameterFitResult {
  CovarianceModel model;  ///< the fitted model
  LikelihoodEstimate at_fit;
  double initial_log_likelihood = 0;
  int iterations = 0, evaluations = 0;
  bool converged = false;
  std::string reason;  ///< why the optimiser stopped
  double seconds = 0;
};

/// Collective: maximises the estimated log L over the parameters `which`
/// selects, from `model` (a nugget to be fitted that is 0 starts at 1e-2 times
/// the variance), by projected L-BFGS in the optimiser's coordinates within
/// the box of HyperparameterFitOptions. The probes stay fixed, so the
/// estimate is a smooth function of the parameters.
HyperparameterFitResult fit_hyperparameters(MPI_Comm comm, const CovarianceModel& model,
                                            const Kriging::ConstMatrix& points,
                                            const Kriging::ConstMatrix& values,
                                            const KrigingOptions& kriging,
                                            const HyperparameterFitOptions& options = {});

}  // namespace kinterp
