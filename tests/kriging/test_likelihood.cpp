// The estimated log marginal likelihood, its gradient and the hyperparameter
// fit against the dense Gaussian log likelihood in long double, at 1-4 ranks.

#include <kinterp/kriging/Likelihood.hpp>

#include "../DistributedData.hpp"
#include "DenseKriging.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace kinterp::test {
namespace {

constexpr std::int64_t n_points = 160;

HostMatrix<double> points(int dimension = 2) {
  return global_matrix<double>(n_points, dimension, 21, 0, 1);
}
std::vector<double> values(const HostMatrix<double>& x) {
  std::vector<double> z(x.rows);
  for (std::int64_t i = 0; i < x.rows; ++i) {
    z[i] = std::sin(4 * x(i, 0)) * std::cos(3 * x(i, 1)) + 0.1 * (uniform01(22, i) - 0.5);
    if (x.cols == 3) z[i] += x(i, 2) * x(i, 2);
  }
  return z;
}

std::vector<long double> constant_drift(const double*) {
  return {1};
}

/// The dense log likelihood of ordinary kriging (GLS mean profiled out).
double dense_log_likelihood(const CovarianceModel& model) {
  const HostMatrix<double> x = points(), none(0, 2);
  return static_cast<double>(
      dense_kriging(x, values(x), none, covariance(model), model.nugget, constant_drift, 0)
          .log_likelihood);
}

/// The dense gradient in the optimiser's coordinates (log variance, log length
/// scale, log nugget) by central differences of the dense log likelihood.
std::vector<double> dense_gradient(const CovarianceModel& model) {
  std::vector<double> g;
  const double h = 1e-4;
  for (int j = 0; j < 3; ++j) {
    CovarianceModel up = model, down = model;
    double* up_value = j == 0 ? &up.variance : j == 1 ? &up.length_scales[0] : &up.nugget;
    double* down_value = j == 0 ? &down.variance : j == 1 ? &down.length_scales[0] : &down.nugget;
    *up_value *= std::exp(h);
    *down_value *= std::exp(-h);
    g.push_back((dense_log_likelihood(up) - dense_log_likelihood(down)) / (2 * h));
  }
  return g;
}

struct Data {
  DeviceMatrix<double> x, z;
};
Data my_data(int dimension = 2) {
  const HostMatrix<double> x = points(dimension);
  HostMatrix<double> z(n_points, 1);
  z.values = values(x);
  const RowBlock mine = my_block(n_points);
  return {rows_on_device(x, mine), rows_on_device(z, mine)};
}

CovarianceModel matern(double variance, double length_scale, double nugget) {
  CovarianceModel model;
  model.family = "matern32";
  model.variance = variance;
  model.length_scales = {length_scale};
  model.nugget = nugget;
  return model;
}

KrigingOptions ordinary(int landmarks) {
  KrigingOptions options;
  options.kind = KrigingKind::Ordinary;
  options.solve.rtol = 1e-10;
  options.preconditioner.rank = landmarks;
  return options;
}

TEST(Likelihood, WithAnExactPreconditionerTheEstimateIsTheDenseLikelihood) {
  // Nystrom of full rank with the nugget as its ridge is K itself: the probes
  // see the identity and log det K = log det P exactly.
  const CovarianceModel model = matern(0.8, 0.3, 1e-2);
  const Data data = my_data();
  const LikelihoodEstimate e =
      estimate_log_likelihood(MPI_COMM_WORLD, model, data.x, data.z, ordinary(n_points), {});
  ASSERT_TRUE(e.converged) << e.detail;
  const double dense = dense_log_likelihood(model);
  EXPECT_NEAR(e.log_likelihood, dense, 1e-7 * std::abs(dense));
}

TEST(Likelihood, WithAFullVecchiaFactorTheEstimateIsTheDenseLikelihood) {
  // Sets holding every earlier point make the Vecchia factor exact: log det P
  // is log det K. (One rank alone: across ranks the sets reach only the halo.)
  const CovarianceModel model = matern(0.8, 0.3, 1e-2);
  const HostMatrix<double> x = points();
  HostMatrix<double> z(n_points, 1);
  z.values = values(x);
  const RowBlock all{0, n_points};
  KrigingOptions options = ordinary(0);
  options.vecchia.neighbors = n_points;
  const LikelihoodEstimate e = estimate_log_likelihood(MPI_COMM_SELF, model, rows_on_device(x, all),
                                                       rows_on_device(z, all), options, {});
  ASSERT_TRUE(e.converged) << e.detail;
  const double dense = dense_log_likelihood(model);
  EXPECT_NEAR(e.log_likelihood, dense, 1e-7 * std::abs(dense));
}

TEST(Likelihood, EstimateAndGradientAgreeWithDenseWithinTheirStatisticalError) {
  const CovarianceModel model = matern(0.8, 0.3, 1e-2);
  const Data data = my_data();
  LikelihoodOptions options;
  options.probes = 64;
  // The preconditioner takes most of log det exactly (log det P): the probes
  // only estimate what it misses, so their error falls with it.
  for (const auto& [landmarks, tolerance] : {std::pair{0, 0.05}, std::pair{25, 0.01}}) {
    const LikelihoodEstimate e = estimate_log_likelihood(MPI_COMM_WORLD, model, data.x, data.z,
                                                         ordinary(landmarks), {}, options);
    ASSERT_TRUE(e.converged) << e.detail;
    const double dense = dense_log_likelihood(model);
    // Hutchinson with 64 Gaussian probes (seen: 2.9% and 0.4%).
    EXPECT_NEAR(e.log_likelihood, dense, tolerance * std::abs(dense)) << landmarks << " landmarks";
    const std::vector<double> g = dense_gradient(model);
    ASSERT_EQ(e.gradient.size(), 3u);
    for (int j = 0; j < 3; ++j) {
      EXPECT_NEAR(e.gradient[j], g[j], 0.1 * std::abs(g[j]) + 2)
          << "coordinate " << j << ", " << landmarks << " landmarks";
    }
  }
  // A Vecchia factor of 10 neighbours: its probes (B^-1 D^1/2 g, across the
  // ranks' halos) and log det P.
  KrigingOptions vecchia = ordinary(0);
  vecchia.vecchia.neighbors = 10;
  const LikelihoodEstimate e =
      estimate_log_likelihood(MPI_COMM_WORLD, model, data.x, data.z, vecchia, {}, options);
  ASSERT_TRUE(e.converged) << e.detail;
  const double dense = dense_log_likelihood(model);
  EXPECT_NEAR(e.log_likelihood, dense, 0.01 * std::abs(dense)) << "Vecchia";
}

TEST(Likelihood, ExactDerivativesMatchTheDifferencedOnes) {
  // The same estimate (same probes, same solve) with dK/d log l and dK/d angle
  // from the slope kernel (and the rational quadratic's dK/d log alpha from
  // its formula) and from central differences of two products: they differ by
  // the difference's O(h^2) only. Isotropic (its angles' derivatives are 0),
  // rotated with a length scale per axis in 2D and in 3D (three angles), for
  // each family with a slope kernel (two in 3D, where only the angles differ).
  for (int dimension : {2, 3}) {
    const Data data = my_data(dimension);
    const std::vector<const char*> families =
        dimension == 2 ? std::vector<const char*>{"matern32", "matern52", "gaussian", "rq", "imq"}
                       : std::vector<const char*>{"matern52", "rq"};
    for (const char* family : families) {
      for (bool anisotropic : {false, true}) {
        CovarianceModel model = matern(0.8, 0.3, 1e-2);
        model.family = family;
        const bool shaped = std::string(family) == "rq";
        if (shaped) model.shape = 1.5;
        const FitParameters which{false, true, false, shaped, true};
        model.angles =
            dimension == 2 ? std::vector<double>{0.5} : std::vector<double>{0.5, -0.3, 0.8};
        if (anisotropic) {
          model.length_scales =
              dimension == 2 ? std::vector<double>{0.25, 0.4} : std::vector<double>{0.25, 0.4, 0.6};
        }
        LikelihoodOptions exact, differenced;
        exact.probes = differenced.probes = 8;
        differenced.exact_derivatives = false;
        const auto a = estimate_log_likelihood(MPI_COMM_WORLD, model, data.x, data.z, ordinary(30),
                                               which, exact);
        const auto b = estimate_log_likelihood(MPI_COMM_WORLD, model, data.x, data.z, ordinary(30),
                                               which, differenced);
        ASSERT_TRUE(a.converged && b.converged) << a.detail << b.detail;
        const std::size_t angles = model.angles.size();
        ASSERT_EQ(a.gradient.size(), model.length_scales.size() + (shaped ? 1 : 0) + angles);
        ASSERT_EQ(b.gradient.size(), a.gradient.size());
        for (std::size_t j = 0; j < a.gradient.size(); ++j) {
          EXPECT_NEAR(a.gradient[j], b.gradient[j], 1e-6 * std::abs(b.gradient[j]) + 1e-6)
              << family << " in " << dimension << "D, "
              << (anisotropic ? "anisotropic" : "isotropic") << ", coordinate " << j;
        }
        if (!anisotropic) {  // turning isotropic coordinates changes nothing
          for (std::size_t j = a.gradient.size() - angles; j < a.gradient.size(); ++j) {
            EXPECT_NEAR(a.gradient[j], 0.0, 1e-9);
          }
        }
      }
    }
  }
}

TEST(Likelihood, FitReachesALocalMaximumOfTheDenseLikelihood) {
  const Data data = my_data();
  HyperparameterFitOptions options;
  options.likelihood.probes = 32;
  // Beyond 1e-7 the line search only chases the last digits of the estimate
  // (132 evaluations against 39 for the same optimum to 1e-8 in log L); the
  // check below resolves 1.0.
  options.ftol = 1e-7;
  const CovarianceModel start = matern(1, 0.5, 0.1);
  const HyperparameterFitResult fit =
      fit_hyperparameters(MPI_COMM_WORLD, start, data.x, data.z, ordinary(40), options);
  ASSERT_TRUE(fit.converged) << fit.reason;
  const double at_fit = dense_log_likelihood(fit.model);
  EXPECT_GT(at_fit, dense_log_likelihood(start) + 10);
  // No 10% change of one parameter raises the dense likelihood by more than the
  // estimate's resolution.
  for (int j = 0; j < 3; ++j) {
    for (double factor : {0.9, 1.1}) {
      CovarianceModel moved = fit.model;
      (j == 0 ? moved.variance : j == 1 ? moved.length_scales[0] : moved.nugget) *= factor;
      EXPECT_LT(dense_log_likelihood(moved), at_fit + 1.0)
          << "parameter " << j << " x " << factor << ": fitted variance " << fit.model.variance
          << ", length scale " << fit.model.length_scales[0] << ", nugget " << fit.model.nugget;
    }
  }
}

}  // namespace
}  // namespace kinterp::test
