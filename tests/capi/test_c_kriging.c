/* The C API's kriging, compiled as C: mean and variance against the dense
 * ordinary and simple kriging equations solved in long double over all
 * ranks' data, a refit against the dense equations with the new values, the
 * likelihood fit against a dense log likelihood, and the errors for bad input
 * and calls out of order, the same on every rank. Prints each failed check
 * and exits nonzero. */
#include <kinterp/kinterp.h>

#include "CChecks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 150, D = 2, TARGETS = 20, M = N + 1 };

static double points[N * D], values[N], targets[TARGETS * D];
static int begin, count, target_begin, target_count;

static void block(int n, int* first, int* rows) {
  *first = (int)((long)n * rank / size);
  *rows = (int)((long)n * (rank + 1) / size) - *first;
}

/* The Matern 3/2 covariance of variance s2 and length scale l. */
static long double matern32(const double* x, const double* y, double s2, double l) {
  long double r2 = 0;
  for (int k = 0; k < D; ++k) r2 += ((long double)x[k] - y[k]) * ((long double)x[k] - y[k]);
  const long double a = sqrtl(3.0L * r2) / l;
  return s2 * (1 + a) * expl(-a);
}

/* Solves A X = B (n x n, n x m, row-major) in place by Gaussian elimination
 * with partial pivoting; B becomes X. */
static void dense_solve(long double* a, long double* b, int n, int m) {
  for (int c = 0; c < n; ++c) {
    int pivot = c;
    for (int r = c + 1; r < n; ++r)
      if (fabsl(a[r * n + c]) > fabsl(a[pivot * n + c])) pivot = r;
    for (int k = 0; k < n; ++k) {
      long double t = a[c * n + k];
      a[c * n + k] = a[pivot * n + k];
      a[pivot * n + k] = t;
    }
    for (int k = 0; k < m; ++k) {
      long double t = b[c * m + k];
      b[c * m + k] = b[pivot * m + k];
      b[pivot * m + k] = t;
    }
    for (int r = c + 1; r < n; ++r) {
      const long double f = a[r * n + c] / a[c * n + c];
      for (int k = c; k < n; ++k) a[r * n + k] -= f * a[c * n + k];
      for (int k = 0; k < m; ++k) b[r * m + k] -= f * b[c * m + k];
    }
  }
  for (int c = n - 1; c >= 0; --c) {
    for (int k = 0; k < m; ++k) {
      long double s = b[c * m + k];
      for (int j = c + 1; j < n; ++j) s -= a[c * n + j] * b[j * m + k];
      b[c * m + k] = s / a[c * n + c];
    }
  }
}

static long double system_matrix[M * M], right_sides[M * TARGETS];

/* The dense kriging mean and variance at all targets: ordinary kriging
 * solves [K 1; 1^T 0] [lambda; mu] = [k_t; 1], simple kriging K lambda = k_t;
 * mean = lambda^T z (+ (1 - sum lambda) m for simple), variance = C(t, t) -
 * lambda^T k_t - mu. */
static void dense_kriging(const double* z, double s2, double l, double nugget, int ordinary,
                          double mean_known, long double* mean, long double* variance) {
  const int n = ordinary ? M : N;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      long double v = 0;
      if (i < N && j < N) {
        v = matern32(&points[i * D], &points[j * D], s2, l) + (i == j ? nugget : 0);
      } else if (i < N || j < N) {
        v = 1;
      }
      system_matrix[i * n + j] = v;
    }
    for (int t = 0; t < TARGETS; ++t)
      right_sides[i * TARGETS + t] = i < N ? matern32(&points[i * D], &targets[t * D], s2, l) : 1;
  }
  dense_solve(system_matrix, right_sides, n, TARGETS);
  for (int t = 0; t < TARGETS; ++t) {
    long double m = 0, quadratic = 0, weight = 0;
    for (int i = 0; i < N; ++i) {
      const long double lambda = right_sides[i * TARGETS + t];
      m += lambda * z[i];
      weight += lambda;
      quadratic += lambda * matern32(&points[i * D], &targets[t * D], s2, l);
    }
    if (!ordinary) m += (1 - weight) * mean_known;
    mean[t] = m;
    variance[t] = s2 - quadratic - (ordinary ? right_sides[N * TARGETS + t] : 0);
  }
}

/* The dense ordinary kriging mean's gradient at all targets (TARGETS x D):
 * [K 1; 1^T 0] [a; mu] = [z; 0] gives mean(t) = k_t^T a + mu, so
 * grad mean(t) = sum_i a_i grad_t C(t, x_i), and for Matern 3/2
 * grad_t C(t, x) = -3 s2 / l^2 exp(-sqrt(3) |t - x| / l) (t - x). */
static void dense_mean_gradient(const double* z, double s2, double l, double nugget,
                                long double* gradient) {
  static long double dual[M];
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < M; ++j) {
      long double v = 0;
      if (i < N && j < N) {
        v = matern32(&points[i * D], &points[j * D], s2, l) + (i == j ? nugget : 0);
      } else if (i < N || j < N) {
        v = 1;
      }
      system_matrix[i * M + j] = v;
    }
    dual[i] = i < N ? z[i] : 0;
  }
  dense_solve(system_matrix, dual, M, 1);
  for (int t = 0; t < TARGETS; ++t) {
    for (int k = 0; k < D; ++k) gradient[t * D + k] = 0;
    for (int i = 0; i < N; ++i) {
      long double r2 = 0;
      for (int k = 0; k < D; ++k) {
        const long double e = (long double)targets[t * D + k] - points[i * D + k];
        r2 += e * e;
      }
      const long double slope = -3 * s2 / (l * l) * expl(-sqrtl(3 * r2) / l);
      for (int k = 0; k < D; ++k) {
        gradient[t * D + k] +=
            dual[i] * slope * ((long double)targets[t * D + k] - points[i * D + k]);
      }
    }
  }
}

/* max over targets of |computed - exact| / scale, over all ranks. */
static double worst_error(const double* computed, const long double* exact, long double scale) {
  double worst = 0;
  for (int t = 0; t < target_count; ++t) {
    const double e = (double)(fabsl(computed[t] - exact[target_begin + t]) / scale);
    if (e > worst) worst = e;
  }
  MPI_Allreduce(MPI_IN_PLACE, &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return worst;
}

/* Every rank got `expected`, and the same message, containing `text`. */
static void expect_error(kinterp_kriging kriging, int status, int expected, const char* text) {
  expect_status(status, expected, kinterp_kriging_error_message(kriging), text);
}

/* The fitted model's mean and variance at this rank's targets. */
static void predict(kinterp_kriging kriging, const double* my_targets, double* mean,
                    double* variance) {
  CHECK(kinterp_kriging_mean(kriging, target_count, D, my_targets, mean) == KINTERP_SUCCESS, "%s",
        kinterp_kriging_error_message(kriging));
  CHECK(kinterp_kriging_variance(kriging, target_count, D, my_targets, variance) == KINTERP_SUCCESS,
        "%s", kinterp_kriging_error_message(kriging));
}

/* The dense log likelihood of ordinary kriging (the GLS mean profiled out):
 * -1/2 (z - 1 beta)^T K^-1 (z - 1 beta) - 1/2 log det K - N/2 log 2 pi. */
static long double dense_log_likelihood(double s2, double l, double nugget) {
  static long double k[N * N], rhs[N * 2];
  for (int i = 0; i < N; ++i) {
    for (int j = 0; j < N; ++j)
      k[i * N + j] = matern32(&points[i * D], &points[j * D], s2, l) + (i == j ? nugget : 0);
    rhs[i * 2] = values[i];
    rhs[i * 2 + 1] = 1;
  }
  /* Cholesky for the log determinant, on a copy. */
  static long double c[N * N];
  memcpy(c, k, sizeof c);
  long double log_det = 0;
  for (int j = 0; j < N; ++j) {
    long double s = c[j * N + j];
    for (int p = 0; p < j; ++p) s -= c[j * N + p] * c[j * N + p];
    c[j * N + j] = sqrtl(s);
    log_det += 2 * logl(c[j * N + j]);
    for (int i = j + 1; i < N; ++i) {
      long double t = c[i * N + j];
      for (int p = 0; p < j; ++p) t -= c[i * N + p] * c[j * N + p];
      c[i * N + j] = t / c[j * N + j];
    }
  }
  dense_solve(k, rhs, N, 2);
  long double zkz = 0, zk1 = 0, one_k_one = 0;
  for (int i = 0; i < N; ++i) {
    zkz += values[i] * rhs[i * 2];
    zk1 += values[i] * rhs[i * 2 + 1];
    one_k_one += rhs[i * 2 + 1];
  }
  const long double data = zkz - zk1 * zk1 / one_k_one;
  return -0.5L * data - 0.5L * log_det - 0.5L * N * logl(2 * 3.14159265358979323846L);
}

int main(int argc, char** argv) {
  kinterp_kriging kriging = NULL;
  CHECK(kinterp_initialize(&argc, &argv) == KINTERP_SUCCESS, "%s",
        kinterp_kriging_error_message(NULL));
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  for (int i = 0; i < N; ++i) {
    for (int k = 0; k < D; ++k)
      points[i * D + k] = fmod(0.5 + (i + 1) * (k ? 0.7548776662 : 0.5698402910), 1.0);
    values[i] = sin(6 * points[i * D]) * cos(4 * points[i * D + 1]) + 2;
  }
  for (int t = 0; t < TARGETS; ++t)
    for (int k = 0; k < D; ++k) targets[t * D + k] = fmod(0.13 + 0.31 * t * (k + 1), 1.0);
  block(N, &begin, &count);
  block(TARGETS, &target_begin, &target_count);
  const double* my_points = &points[begin * D];
  const double* my_targets = &targets[target_begin * D];
  double mean[TARGETS], variance[TARGETS];
  static long double exact_mean[TARGETS], exact_variance[TARGETS];
  const double l = 0.3, s2 = 1.5, nugget = 1e-3;

  CHECK(kinterp_kriging_create(MPI_COMM_WORLD, &kriging) == KINTERP_SUCCESS, "%s",
        kinterp_kriging_error_message(NULL));
  /* Out of order: a state error, on every rank. */
  expect_error(kriging, kinterp_kriging_mean(kriging, target_count, D, my_targets, mean),
               KINTERP_ERROR_STATE, "kinterp_kriging_fit first");
  expect_error(kriging, kinterp_kriging_refit(kriging, count, &values[begin]), KINTERP_ERROR_STATE,
               "kinterp_kriging_fit first");
  /* Local settings, checked when set. */
  expect_error(kriging, kinterp_kriging_set_model(kriging, "maternn", 1, 1, &l, 0, NULL, 0, 0),
               KINTERP_ERROR_INVALID_ARGUMENT, "maternn");
  expect_error(kriging, kinterp_kriging_set_model(kriging, "matern32", -1, 1, &l, 0, NULL, 0, 0),
               KINTERP_ERROR_INVALID_ARGUMENT, "variance");
  expect_error(kriging, kinterp_kriging_set_kind(kriging, "ordinal", 0, 0),
               KINTERP_ERROR_INVALID_ARGUMENT, "ordinal");
  expect_error(kriging, kinterp_kriging_set_vecchia(kriging, -3), KINTERP_ERROR_INVALID_ARGUMENT,
               "neighbors");

  /* Ordinary kriging (the default), Matern 3/2 with a nugget. */
  CHECK(kinterp_kriging_set_model(kriging, "matern32", s2, 1, &l, 0, NULL, 0, nugget) ==
            KINTERP_SUCCESS,
        "%s", kinterp_kriging_error_message(kriging));
  CHECK(kinterp_kriging_set_tolerances(kriging, 1e-12, 1000) == KINTERP_SUCCESS, "%s",
        kinterp_kriging_error_message(kriging));
  CHECK(kinterp_kriging_fit(kriging, count, D, my_points, &values[begin]) == KINTERP_SUCCESS, "%s",
        kinterp_kriging_error_message(kriging));
  predict(kriging, my_targets, mean, variance);
  dense_kriging(values, s2, l, nugget, 1, 0, exact_mean, exact_variance);
  double error = worst_error(mean, exact_mean, 1);
  CHECK(error < 1e-8, "ordinary kriging mean: error %g against the dense equations", error);
  /* Each variance's CG stops once its error is provably below 1e-6 times the
   * variance (KrigingOptions::variance_tolerance), which is below the sill. */
  error = worst_error(variance, exact_variance, s2);
  CHECK(error < 1e-6,
        "ordinary kriging variance: error %g (of the sill) against the dense "
        "equations",
        error);

  /* The mean's gradient (targets x D, row-major) against the dense one. */
  static double gradient[TARGETS * D];
  static long double exact_gradient[TARGETS * D];
  CHECK(kinterp_kriging_mean_gradient(kriging, target_count, D, my_targets, gradient) ==
            KINTERP_SUCCESS,
        "%s", kinterp_kriging_error_message(kriging));
  dense_mean_gradient(values, s2, l, nugget, exact_gradient);
  long double largest = 0;
  for (int k = 0; k < TARGETS * D; ++k) largest = fmaxl(largest, fabsl(exact_gradient[k]));
  double gradient_error = 0;
  for (int k = 0; k < target_count * D; ++k) {
    const double e = (double)(fabsl(gradient[k] - exact_gradient[target_begin * D + k]) / largest);
    if (e > gradient_error) gradient_error = e;
  }
  MPI_Allreduce(MPI_IN_PLACE, &gradient_error, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  CHECK(gradient_error < 1e-8,
        "the mean's gradient: error %g (of the largest) against the dense "
        "equations",
        gradient_error);

  /* A refit: new values, the same points and model. */
  static double changed[N];
  for (int i = 0; i < N; ++i) changed[i] = cos(5 * points[i * D + 1]) - points[i * D];
  CHECK(kinterp_kriging_refit(kriging, count, &changed[begin]) == KINTERP_SUCCESS, "%s",
        kinterp_kriging_error_message(kriging));
  CHECK(kinterp_kriging_mean(kriging, target_count, D, my_targets, mean) == KINTERP_SUCCESS, "%s",
        kinterp_kriging_error_message(kriging));
  dense_kriging(changed, s2, l, nugget, 1, 0, exact_mean, exact_variance);
  error = worst_error(mean, exact_mean, 1);
  CHECK(error < 1e-8, "the refit's mean: error %g against the dense equations", error);
  int iterations = 0;
  double residual = 1;
  CHECK(kinterp_kriging_fit_result(kriging, &iterations, &residual) == KINTERP_SUCCESS, "%s",
        kinterp_kriging_error_message(kriging));
  CHECK(iterations > 0 && residual <= 1e-12, "the refit: %d iterations, residual %g", iterations,
        residual);
  /* A refit of other points is refused on every rank, even when only one is wrong. */
  expect_error(
      kriging,
      kinterp_kriging_refit(kriging, rank == size - 1 ? count - 1 : count, &changed[begin]),
      KINTERP_ERROR_INVALID_ARGUMENT, "a refit keeps the points");
  expect_error(kriging, kinterp_kriging_mean(kriging, target_count, 3, my_targets, mean),
               KINTERP_ERROR_INVALID_ARGUMENT, "dimension 3");

  /* Simple kriging with a known mean, and the Vecchia preconditioner. */
  CHECK(kinterp_kriging_set_kind(kriging, "simple", 2.0, 0) == KINTERP_SUCCESS, "%s",
        kinterp_kriging_error_message(kriging));
  CHECK(kinterp_kriging_set_vecchia(kriging, 10) == KINTERP_SUCCESS, "%s",
        kinterp_kriging_error_message(kriging));
  CHECK(kinterp_kriging_fit(kriging, count, D, my_points, &values[begin]) == KINTERP_SUCCESS, "%s",
        kinterp_kriging_error_message(kriging));
  predict(kriging, my_targets, mean, variance);
  dense_kriging(values, s2, l, nugget, 0, 2.0, exact_mean, exact_variance);
  error = worst_error(mean, exact_mean, 1);
  CHECK(error < 1e-8, "simple kriging mean (Vecchia): error %g against the dense equations", error);
  error = worst_error(variance, exact_variance, s2);
  CHECK(error < 1e-6, "simple kriging variance (Vecchia): error %g against the dense equations",
        error);

  /* The likelihood fit: ordinary kriging with a Vecchia factor of every
   * earlier point (exact: its log determinant is log det K), from a length
   * scale too short. The result must match the dense log likelihood at the
   * estimated model and beat the start's. */
  const double start = 0.1;
  CHECK(kinterp_kriging_set_kind(kriging, "ordinary", 0, 0) == KINTERP_SUCCESS, "%s",
        kinterp_kriging_error_message(kriging));
  CHECK(kinterp_kriging_set_vecchia(kriging, N) == KINTERP_SUCCESS, "%s",
        kinterp_kriging_error_message(kriging));
  CHECK(kinterp_kriging_set_model(kriging, "matern32", s2, 1, &start, 0, NULL, 0, nugget) ==
            KINTERP_SUCCESS,
        "%s", kinterp_kriging_error_message(kriging));
  expect_error(kriging,
               kinterp_kriging_estimate(kriging, count, D, my_points, &values[begin], 0, 50, NULL),
               KINTERP_ERROR_INVALID_ARGUMENT, "KINTERP_FIT_VARIANCE");
  double log_likelihood = 0;
  const int status = kinterp_kriging_estimate(kriging, count, D, my_points, &values[begin],
                                              KINTERP_FIT_VARIANCE | KINTERP_FIT_LENGTH_SCALES, 50,
                                              &log_likelihood);
  CHECK(status == KINTERP_SUCCESS || status == KINTERP_ERROR_NOT_CONVERGED, "%s",
        kinterp_kriging_error_message(kriging));
  double fitted_s2 = 0, fitted_l = 0, fitted_nugget = 0;
  int held = 0;
  CHECK(kinterp_kriging_get_model(kriging, &fitted_s2, 1, &fitted_l, &held, &fitted_nugget, NULL) ==
            KINTERP_SUCCESS,
        "%s", kinterp_kriging_error_message(kriging));
  CHECK(held == 1 && fitted_nugget == nugget, "held %d length scales, nugget %g", held,
        fitted_nugget);
  const long double at_fit = dense_log_likelihood(fitted_s2, fitted_l, nugget);
  const long double at_start = dense_log_likelihood(s2, start, nugget);
  CHECK(fabsl(at_fit - log_likelihood) <= 1e-6L * fabsl(at_fit),
        "the estimate's log likelihood %.12g, the dense one at its model %.12Lg", log_likelihood,
        at_fit);
  CHECK(at_fit > at_start + 1, "the fit did not raise the likelihood: %.6Lg from %.6Lg (l %g)",
        at_fit, at_start, fitted_l);

  kinterp_kriging_destroy(&kriging);
  CHECK(kriging == NULL, "destroy leaves the handle set");
  CHECK(kinterp_finalize() == KINTERP_SUCCESS, "%s", kinterp_kriging_error_message(NULL));
  if (failures > 0) fprintf(stderr, "rank %d: %d check(s) failed\n", rank, failures);
  return failures > 0 ? 1 : 0;
}
