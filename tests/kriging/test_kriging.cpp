// Kriging against the dense kriging equations in long double, at 1-4 ranks.

#include <kinterp/core/Error.hpp>
#include <kinterp/kriging/CrossValidation.hpp>
#include <kinterp/kriging/Kriging.hpp>

#include "../DistributedData.hpp"
#include "DenseKriging.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace kinterp::test {
namespace {

constexpr std::int64_t n_points = 150, n_targets = 37;

HostMatrix<double> points() {
  return global_matrix<double>(n_points, 2, 11, 0, 1);
}
HostMatrix<double> targets() {
  return global_matrix<double>(n_targets, 2, 12, -0.1, 1.1);
}
std::vector<double> values(const HostMatrix<double>& x) {
  std::vector<double> z(x.rows);
  for (std::int64_t i = 0; i < x.rows; ++i) {
    z[i] = 1.5 + std::sin(3 * x(i, 0)) + std::cos(2 * x(i, 1)) + 2 * x(i, 0) +
           0.05 * (uniform01(13, i) - 0.5);
  }
  return z;
}

std::vector<long double> linear_drift(const double* x) {
  return {1, x[0], x[1]};
}
std::vector<long double> constant_drift(const double*) {
  return {1};
}

struct Fitted {
  std::vector<double> mean, variance;
  std::vector<double> beta;
  KrigingVarianceInfo info;
  KernelSolveResult fit;
};

Fitted krige(const CovarianceModel& model, const KrigingOptions& options,
             bool approximate = false) {
  const HostMatrix<double> x = points(), t = targets();
  const std::vector<double> z = values(x);
  HostMatrix<double> zm(n_points, 1);
  zm.values = z;
  const RowBlock mine = my_block(n_points), my_targets = my_block(n_targets);
  const Kriging kriging(MPI_COMM_WORLD, model, rows_on_device(x, mine), rows_on_device(zm, mine),
                        options);
  const auto device_targets = rows_on_device(t, my_targets);
  Kriging::Matrix mean("mean", my_targets.count, 1), variance("variance", my_targets.count, 1);
  kriging.mean(device_targets, mean);
  Fitted fitted;
  fitted.info = kriging.variance(device_targets, variance, approximate);
  fitted.fit = kriging.fit_result();
  fitted.beta = kriging.drift_coefficients();
  const auto m = on_host(mean), v = on_host(variance);
  for (std::int64_t j = 0; j < my_targets.count; ++j) {
    fitted.mean.push_back(m(j, 0));
    fitted.variance.push_back(v(j, 0));
  }
  return fitted;
}

void expect_matches_dense(const CovarianceModel& model, const KrigingOptions& options,
                          const DenseKrigingResult& dense, double tolerance) {
  const Fitted fitted = krige(model, options);
  ASSERT_TRUE(fitted.fit.converged()) << fitted.fit.detail;
  ASSERT_TRUE(fitted.info.converged) << fitted.info.detail;
  const RowBlock my_targets = my_block(n_targets);
  for (std::int64_t j = 0; j < my_targets.count; ++j) {
    const std::int64_t g = my_targets.begin + j;
    EXPECT_NEAR(fitted.mean[j], static_cast<double>(dense.mean[g]), tolerance) << "target " << g;
    EXPECT_NEAR(fitted.variance[j], static_cast<double>(dense.variance[g]),
                tolerance * model.variance)
        << "target " << g;
  }
}

CovarianceModel isotropic_gaussian() {
  CovarianceModel model;
  model.family = "gaussian";
  model.length_scales = {0.2};
  model.nugget = 1e-2;
  return model;
}

CovarianceModel anisotropic_matern() {
  CovarianceModel model;
  model.family = "matern32";
  model.variance = 2;
  model.length_scales = {0.3, 0.1};
  model.angles = {0.5};
  model.nugget = 1e-3;
  return model;
}

KrigingOptions tight(KrigingKind kind) {
  KrigingOptions options;
  options.kind = kind;
  options.solve.rtol = 1e-11;
  options.variance_tolerance = 0;  // CG to rtol
  options.variance_batch = 8;      // several batches, some spanning ranks
  return options;
}

TEST(Kriging, SimpleKrigingMatchesDenseKrigingWithAnisotropy) {
  const CovarianceModel model = anisotropic_matern();
  KrigingOptions options = tight(KrigingKind::Simple);
  options.mean = 0.7;
  const auto dense = dense_kriging(points(), values(points()), targets(), covariance(model),
                                   model.nugget, nullptr, options.mean);
  expect_matches_dense(model, options, dense, 1e-7);
  // The same through the preconditioned CG.
  options.preconditioner.rank = 40;
  expect_matches_dense(model, options, dense, 1e-7);
}

TEST(Kriging, OrdinaryKrigingEstimatesTheMeanByGeneralisedLeastSquares) {
  const CovarianceModel model = isotropic_gaussian();
  const KrigingOptions options = tight(KrigingKind::Ordinary);
  const auto dense = dense_kriging(points(), values(points()), targets(), covariance(model),
                                   model.nugget, constant_drift, 0);
  expect_matches_dense(model, options, dense, 1e-7);
  const Fitted fitted = krige(model, options);
  ASSERT_EQ(fitted.beta.size(), 1u);
  EXPECT_NEAR(fitted.beta[0], static_cast<double>(dense.beta[0]), 1e-8);
}

TEST(Kriging, UniversalKrigingWithALinearDriftMatchesDenseKriging) {
  CovarianceModel model;
  model.family = "matern52";
  model.variance = 0.5;
  model.length_scales = {0.15, 0.25};
  model.nugget = 1e-3;
  KrigingOptions options = tight(KrigingKind::Universal);
  options.drift_degree = 1;
  const auto dense = dense_kriging(points(), values(points()), targets(), covariance(model),
                                   model.nugget, linear_drift, 0);
  expect_matches_dense(model, options, dense, 1e-7);
}

TEST(Kriging, VarianceToleranceBoundsTheErrorFromAbove) {
  // CG approaches k^T K^-1 k from below, so the variance from above, within
  // variance_tolerance * variance.
  const CovarianceModel model = anisotropic_matern();
  KrigingOptions options = tight(KrigingKind::Simple);
  options.variance_tolerance = 1e-4;
  const auto dense = dense_kriging(points(), values(points()), targets(), covariance(model),
                                   model.nugget, nullptr, 0);
  const Fitted fitted = krige(model, options);
  const RowBlock my_targets = my_block(n_targets);
  double largest = 0;
  for (std::int64_t j = 0; j < my_targets.count; ++j) {
    const double error =
        fitted.variance[j] - static_cast<double>(dense.variance[my_targets.begin + j]);
    EXPECT_GE(error, -1e-12) << "target " << my_targets.begin + j;
    EXPECT_LE(error, options.variance_tolerance * model.variance)
        << "target " << my_targets.begin + j;
    largest = std::max(largest, error);
  }
  // Looser than rtol = 1e-11: the tolerance is what stopped CG.
  MPI_Allreduce(MPI_IN_PLACE, &largest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  EXPECT_GT(largest, 1e-9);
}

TEST(Kriging, ApproximateVarianceIsALowerBoundWithinItsStatedError) {
  const CovarianceModel model = anisotropic_matern();
  KrigingOptions options = tight(KrigingKind::Simple);
  options.preconditioner.rank = 30;
  const Fitted exact = krige(model, options), approximate = krige(model, options, true);
  ASSERT_GT(approximate.info.error_bound, 0);
  double largest_gap = 0;
  for (std::size_t j = 0; j < exact.variance.size(); ++j) {
    const double gap = exact.variance[j] - approximate.variance[j];
    EXPECT_GE(gap, -1e-9) << "target " << j;
    EXPECT_LE(gap, approximate.info.error_bound + 1e-9) << "target " << j;
    largest_gap = std::max(largest_gap, gap);
  }
  // With 30 landmarks of 150 points the approximation is visible but useful.
  double gap = largest_gap;
  MPI_Allreduce(MPI_IN_PLACE, &gap, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  EXPECT_GT(gap, 0);
  EXPECT_LT(gap, model.variance);
}

TEST(Kriging, CrossValidationMatchesDenseRefits) {
  const CovarianceModel model = isotropic_gaussian();
  const KrigingOptions options = tight(KrigingKind::Ordinary);
  const HostMatrix<double> x = points();
  const std::vector<double> z = values(x);
  constexpr int folds = 4;
  long double squares = 0, absolutes = 0;
  for (int f = 0; f < folds; ++f) {
    HostMatrix<double> train(0, 2), test(0, 2);
    std::vector<double> z_train, z_test;
    for (std::int64_t i = 0; i < n_points; ++i) {
      HostMatrix<double>& to = i % folds == f ? test : train;
      to.values.push_back(x(i, 0));
      to.values.push_back(x(i, 1));
      ++to.rows;
      (i % folds == f ? z_test : z_train).push_back(z[i]);
    }
    const auto dense =
        dense_kriging(train, z_train, test, covariance(model), model.nugget, constant_drift, 0);
    for (std::size_t j = 0; j < z_test.size(); ++j) {
      const long double e = z_test[j] - dense.mean[j];
      squares += e * e;
      absolutes += std::abs(e);
    }
  }
  HostMatrix<double> zm(n_points, 1);
  zm.values = z;
  const RowBlock mine = my_block(n_points);
  const CrossValidationResult cv = cross_validate(MPI_COMM_WORLD, model, rows_on_device(x, mine),
                                                  rows_on_device(zm, mine), options, folds);
  EXPECT_TRUE(cv.converged);
  EXPECT_EQ(cv.fold_rmse.size(), static_cast<std::size_t>(folds));
  EXPECT_NEAR(cv.rmse, static_cast<double>(std::sqrt(squares / n_points)), 1e-8);
  EXPECT_NEAR(cv.mae, static_cast<double>(absolutes / n_points), 1e-8);
}

TEST(Kriging, BadInputIsReportedOnEveryRank) {
  const HostMatrix<double> x = points();
  const RowBlock mine = my_block(n_points);
  const auto device_points = rows_on_device(x, mine);
  HostMatrix<double> zm(n_points, 1);
  zm.values = values(x);
  const auto device_values = rows_on_device(zm, mine);
  const auto expect_error = [&](const CovarianceModel& model, const KrigingOptions& options,
                                const std::string& words) {
    try {
      Kriging(MPI_COMM_WORLD, model, device_points, device_values, options);
      ADD_FAILURE() << "no error for: " << words;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  CovarianceModel model;
  model.length_scales = {0.1, 0.2, 0.3};
  expect_error(model, {}, "one length scale or one per axis (2 for these points)");
  model.length_scales = {0.1};
  model.nugget = -1;
  expect_error(model, {}, "nugget must be a finite number >= 0");
  model.nugget = 0;
  model.angles = {0.1, 0.2};
  expect_error(model, {}, "1 in 2D, 3 in 3D");
  model.angles = {};
  KrigingOptions options;
  options.kind = KrigingKind::Universal;
  options.drift_degree = 20;
  expect_error(model, options, "lower the drift degree");
  // Values with two columns on one rank only: still one error everywhere.
  const auto wide = world_rank() == world_size() - 1 ? Kriging::Matrix("wide", mine.count, 2)
                                                     : Kriging::Matrix("values", mine.count, 1);
  try {
    Kriging(MPI_COMM_WORLD, CovarianceModel{}, device_points, wide, KrigingOptions{});
    ADD_FAILURE() << "no error for two columns of values";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("one value per point"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kinterp::test
