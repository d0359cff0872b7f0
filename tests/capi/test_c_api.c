/* The C API, compiled as C: fit and predict against plain long double loops
 * over all ranks' data, and the status codes and messages for bad input, the
 * same on every rank. Prints each failed check and exits nonzero. */
#include <kinterp/kinterp.h>

#include "CChecks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 240, D = 2, TARGETS = 37 };

/* Deterministic scattered points in [0, 1]^2 and a smooth function on them. */
static double coordinate(int i, int k) {
  return fmod(0.5 + (i + 1) * (k ? 0.7548776662 : 0.5698402910), 1.0);
}
static double signal(const double* x) {
  return sin(6 * x[0]) * cos(4 * x[1]) + x[0];
}

typedef long double (*Kernel)(long double squared_distance);
static const double scale = 0.2; /* length scale */
static long double gaussian(long double r2) {
  return expl(-r2 / (2.0L * scale * scale));
}
static long double mixture(long double r2) { /* the generic formula below */
  return expl(-r2 / (2.0L * scale * scale)) + 1.0L / (1.0L + r2 / (scale * scale));
}

/* k'(r) / r of the two kernels: their gradient is that times (t - x). */
static long double gaussian_slope(long double r2) {
  return -gaussian(r2) / (scale * scale);
}
static long double mixture_slope(long double r2) {
  const long double q = 1.0L + r2 / (scale * scale);
  return -gaussian(r2) / (scale * scale) - 2.0L / (scale * scale * q * q);
}

/* The kernels' Laplacians in D = 2: phi''(r) + phi'(r) / r. */
static long double gaussian_laplacian(long double r2) {
  const long double s2 = (long double)scale * scale;
  return (r2 / (s2 * s2) - D / s2) * gaussian(r2);
}
static long double mixture_laplacian(long double r2) {
  const long double h = 1.0L / ((long double)scale * scale), q = 1.0L + h * r2;
  return gaussian_laplacian(r2) + 8.0L * h * h * r2 / (q * q * q) - 2.0L * h * D / (q * q);
}

static long double squared_distance(const double* x, const double* y) {
  long double s = 0;
  for (int k = 0; k < D; ++k) s += ((long double)x[k] - y[k]) * ((long double)x[k] - y[k]);
  return s;
}

/* This rank's block of rows of n. */
static void block(int n, int* begin, int* count) {
  *begin = (int)((long)n * rank / size);
  *count = (int)((long)n * (rank + 1) / size) - *begin;
}

static double all_points[N * D], all_values[N];
static int begin, count;

/* All ranks' weights of the last fit, in global order. */
static void gather_weights(kinterp_model model, double* weights) {
  double local[N];
  int counts[64], displacements[64];
  CHECK(kinterp_weights(model, count, 1, local) == KINTERP_SUCCESS, "%s",
        kinterp_error_message(model));
  for (int r = 0; r < size; ++r) {
    displacements[r] = (int)((long)N * r / size);
    counts[r] = (int)((long)N * (r + 1) / size) - displacements[r];
  }
  MPI_Allgatherv(local, count, MPI_DOUBLE, weights, counts, displacements, MPI_DOUBLE,
                 MPI_COMM_WORLD);
}

/* max_i |((alpha I + K) a - b)_i| / max |b|, in long double over all N rows,
 * with this rank's weights gathered from all ranks. */
static double relative_residual(kinterp_model model, Kernel kernel, double alpha) {
  double weights[N];
  gather_weights(model, weights);
  long double worst = 0, largest = 0;
  for (int i = 0; i < N; ++i) {
    long double sum = alpha * (long double)weights[i] - all_values[i];
    for (int j = 0; j < N; ++j)
      sum += kernel(squared_distance(&all_points[i * D], &all_points[j * D])) * weights[j];
    if (fabsl(sum) > worst) worst = fabsl(sum);
    if (fabsl(all_values[i]) > largest) largest = fabsl(all_values[i]);
  }
  return (double)(worst / largest);
}

/* Targets spread unevenly: all on the last rank; returns how many are this rank's. */
static int uneven_targets(double* targets) {
  for (int t = 0; t < TARGETS; ++t)
    for (int k = 0; k < D; ++k) targets[t * D + k] = fmod(0.13 + 0.31 * t * (k + 1), 1.0);
  return rank == size - 1 ? TARGETS : 0;
}

/* Predicts at the uneven targets and compares with the plain sum over all
 * ranks' weights. */
static double prediction_error(kinterp_model model, Kernel kernel) {
  double targets[TARGETS * D], predicted[TARGETS], weights[N];
  const int mine = uneven_targets(targets);
  CHECK(kinterp_predict(model, mine, D, targets, 1, predicted) == KINTERP_SUCCESS, "%s",
        kinterp_error_message(model));
  gather_weights(model, weights);
  double worst = 0;
  for (int t = 0; t < mine; ++t) {
    long double sum = 0, magnitude = 0;
    for (int j = 0; j < N; ++j) {
      const long double term =
          kernel(squared_distance(&targets[t * D], &all_points[j * D])) * weights[j];
      sum += term;
      magnitude += fabsl(term);
    }
    const double error = (double)(fabsl(sum - predicted[t]) / magnitude);
    if (error > worst) worst = error;
  }
  MPI_Allreduce(MPI_IN_PLACE, &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return worst;
}

/* kinterp_predict_gradient at the same uneven targets against the plain sum
 * of slope(r^2) (t - x_j) a_j, relative to the sum of the terms' sizes. */
static double gradient_error(kinterp_model model, Kernel slope) {
  double targets[TARGETS * D], gradients[TARGETS * D], weights[N];
  const int mine = uneven_targets(targets);
  CHECK(kinterp_predict_gradient(model, mine, D, targets, 1, gradients) == KINTERP_SUCCESS, "%s",
        kinterp_error_message(model));
  gather_weights(model, weights);
  double worst = 0;
  for (int t = 0; t < mine; ++t) {
    for (int l = 0; l < D; ++l) {
      long double sum = 0, magnitude = 0;
      for (int j = 0; j < N; ++j) {
        const long double term = slope(squared_distance(&targets[t * D], &all_points[j * D])) *
                                 ((long double)targets[t * D + l] - all_points[j * D + l]) *
                                 weights[j];
        sum += term;
        magnitude += fabsl(term);
      }
      const double error = (double)(fabsl(sum - gradients[t * D + l]) / magnitude);
      if (error > worst) worst = error;
    }
  }
  MPI_Allreduce(MPI_IN_PLACE, &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return worst;
}

/* kinterp_predict_laplacian at the uneven targets against the plain sum of
 * laplacian(r^2) a_j (the kernel's Laplacian in 2D), relative to the sum of
 * the terms' sizes. */
static double laplacian_error(kinterp_model model, Kernel laplacian) {
  double targets[TARGETS * D], laplacians[TARGETS], weights[N];
  const int mine = uneven_targets(targets);
  CHECK(kinterp_predict_laplacian(model, mine, D, targets, 1, laplacians) == KINTERP_SUCCESS, "%s",
        kinterp_error_message(model));
  gather_weights(model, weights);
  double worst = 0;
  for (int t = 0; t < mine; ++t) {
    long double sum = 0, magnitude = 0;
    for (int j = 0; j < N; ++j) {
      const long double term =
          laplacian(squared_distance(&targets[t * D], &all_points[j * D])) * weights[j];
      sum += term;
      magnitude += fabsl(term);
    }
    const double error = (double)(fabsl(sum - laplacians[t]) / magnitude);
    if (error > worst) worst = error;
  }
  MPI_Allreduce(MPI_IN_PLACE, &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return worst;
}

/* Every rank got `expected`, and the same message, containing `text`. */
static void expect_error(kinterp_model model, int status, int expected, const char* text) {
  expect_status(status, expected, kinterp_error_message(model), text);
}

int main(int argc, char** argv) {
  kinterp_model model = NULL;
  /* Before MPI runs: a state error, and MPI is left alone. */
  CHECK(kinterp_create(MPI_COMM_WORLD, &model) == KINTERP_ERROR_STATE, "%s",
        kinterp_error_message(NULL));
  CHECK(strstr(kinterp_error_message(NULL), "MPI_Init") != NULL, "%s", kinterp_error_message(NULL));
  CHECK(model == NULL, "the model is set after a failed create");

  CHECK(kinterp_initialize(&argc, &argv) == KINTERP_SUCCESS, "%s", kinterp_error_message(NULL));
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  for (int i = 0; i < N; ++i) {
    for (int k = 0; k < D; ++k) all_points[i * D + k] = coordinate(i, k);
    all_values[i] = signal(&all_points[i * D]);
  }
  block(N, &begin, &count);
  const double* points = &all_points[begin * D];
  const double* values = &all_values[begin];

  CHECK(kinterp_create(MPI_COMM_WORLD, &model) == KINTERP_SUCCESS, "%s",
        kinterp_error_message(NULL));
  CHECK(strcmp(kinterp_version(), "") != 0, "no version");

  /* Predict before fit. */
  double t[D] = {0.5, 0.5}, out[1];
  expect_error(model, kinterp_predict(model, 1, D, t, 1, out), KINTERP_ERROR_STATE,
               "kinterp_fit first");
  /* Fit without a kernel, then bad settings (local errors). */
  expect_error(model, kinterp_fit(model, count, D, points, 1, values), KINTERP_ERROR_STATE,
               "no kernel");
  CHECK(kinterp_set_kernel(model, "gausian", 0.2) == KINTERP_ERROR_INVALID_ARGUMENT,
        "misspelt name accepted");
  CHECK(strstr(kinterp_error_message(model), "gaussian") != NULL, "%s",
        kinterp_error_message(model));
  CHECK(kinterp_set_kernel(model, "gaussian", -1) == KINTERP_ERROR_INVALID_ARGUMENT,
        "negative scale accepted");
  CHECK(kinterp_set_alpha(model, -1) == KINTERP_ERROR_INVALID_ARGUMENT, "negative alpha accepted");
  CHECK(kinterp_set_formula(model, "Exp(-G*SqDist(X,Y)) * B",
                            "X = Vi(2); Y = Vj(3); B = Vj(1); G = Pm(1)") ==
            KINTERP_ERROR_INVALID_ARGUMENT,
        "a dimension error in the formula was accepted");
  CHECK(strstr(kinterp_error_message(model), "dimension") != NULL, "%s",
        kinterp_error_message(model));

  /* The Gaussian by name, against the dense residual and the plain sum. */
  CHECK(kinterp_set_kernel(model, "gaussian", scale) == KINTERP_SUCCESS, "%s",
        kinterp_error_message(model));
  const double alpha = 1e-3;
  CHECK(kinterp_set_alpha(model, alpha) == KINTERP_SUCCESS, "%s", kinterp_error_message(model));
  CHECK(kinterp_set_tolerances(model, 1e-12, 0, 2000) == KINTERP_SUCCESS, "%s",
        kinterp_error_message(model));
  CHECK(kinterp_fit(model, count, D, points, 1, values) == KINTERP_SUCCESS, "%s",
        kinterp_error_message(model));
  int iterations = 0;
  double residual = 1;
  CHECK(kinterp_fit_result(model, &iterations, &residual) == KINTERP_SUCCESS, "%s",
        kinterp_error_message(model));
  CHECK(iterations > 0 && residual <= 1e-12, "%d iterations, residual %g", iterations, residual);
  double check = relative_residual(model, gaussian, alpha);
  CHECK(check < 1e-9, "gaussian: dense residual %g", check);
  check = prediction_error(model, gaussian);
  CHECK(check < 1e-12, "gaussian: prediction error %g", check);
  check = gradient_error(model, gaussian_slope);
  CHECK(check < 1e-11, "gaussian: gradient error %g", check);
  check = laplacian_error(model, gaussian_laplacian);
  CHECK(check < 1e-12, "gaussian: Laplacian error %g", check);

  double tolerance = -1, bound = -1;
  CHECK(kinterp_fit_product(model, &tolerance, &bound) == KINTERP_SUCCESS && tolerance == 0 &&
            bound == 0,
        "direct products: tolerance %g, bound %g", tolerance, bound);

  /* The tree product: the fit within its reported bound (a 2-norm bound
   * relative to ||b||; the dense check is a max-norm one, so sqrt(N) apart),
   * each prediction within eps sum_j |k(t, x_j)| |a_j|. */
  CHECK(kinterp_set_product(model, "tree", 1e-10) == KINTERP_SUCCESS, "%s",
        kinterp_error_message(model));
  CHECK(kinterp_fit(model, count, D, points, 1, values) == KINTERP_SUCCESS, "%s",
        kinterp_error_message(model));
  CHECK(kinterp_fit_product(model, &tolerance, &bound) == KINTERP_SUCCESS && tolerance == 1e-10 &&
            bound > 0,
        "tree products: tolerance %g, bound %g", tolerance, bound);
  check = relative_residual(model, gaussian, alpha);
  CHECK(check <= sqrt(N) * (2e-12 + bound), "tree: dense residual %g, bound %g", check, bound);
  check = prediction_error(model, gaussian);
  CHECK(check <= 1e-10, "tree: prediction error %g against eps 1e-10", check);
  expect_error(model, kinterp_set_product(model, "tre", 0), KINTERP_ERROR_INVALID_ARGUMENT,
               "did you mean 'tree'");
  expect_error(model, kinterp_set_product(model, "direct", 1e-6), KINTERP_ERROR_INVALID_ARGUMENT,
               "tolerance 0 with \"direct\"");
  expect_error(model, kinterp_set_product(model, "tree", 1e-13), KINTERP_ERROR_INVALID_ARGUMENT,
               "the tolerance is 1e-13");
  CHECK(kinterp_set_product(model, "direct", 0) == KINTERP_SUCCESS, "%s",
        kinterp_error_message(model));

  /* Preconditioned: the same dense residual, Nystrom and then Vecchia. */
  CHECK(kinterp_set_preconditioner(model, 40) == KINTERP_SUCCESS, "%s",
        kinterp_error_message(model));
  CHECK(kinterp_fit(model, count, D, points, 1, values) == KINTERP_SUCCESS, "%s",
        kinterp_error_message(model));
  check = relative_residual(model, gaussian, alpha);
  CHECK(check < 1e-9, "Nystrom: dense residual %g", check);
  CHECK(kinterp_set_vecchia(model, 15) == KINTERP_SUCCESS, "%s", kinterp_error_message(model));
  CHECK(kinterp_fit(model, count, D, points, 1, values) == KINTERP_SUCCESS, "%s",
        kinterp_error_message(model));
  check = relative_residual(model, gaussian, alpha);
  CHECK(check < 1e-9, "Vecchia: dense residual %g", check);
  expect_error(model, kinterp_set_vecchia(model, -1), KINTERP_ERROR_INVALID_ARGUMENT,
               "neighbors are -1");
  kinterp_set_vecchia(model, 0);

  /* The same kernel as a formula (compiled), then a formula that is no
   * compiled family (the generic evaluator). */
  const double g = 1 / (2 * scale * scale), h = 1 / (scale * scale);
  CHECK(kinterp_set_formula(model, "Exp(-G*SqDist(X,Y)) * B",
                            "X = Vi(2); Y = Vj(2); B = Vj(1); G = Pm(1)") == KINTERP_SUCCESS,
        "%s", kinterp_error_message(model));
  CHECK(kinterp_set_parameter(model, "G", &g, 1) == KINTERP_SUCCESS, "%s",
        kinterp_error_message(model));
  CHECK(kinterp_fit(model, count, D, points, 1, values) == KINTERP_SUCCESS, "%s",
        kinterp_error_message(model));
  check = relative_residual(model, gaussian, alpha);
  CHECK(check < 1e-9, "gaussian formula: dense residual %g", check);
  CHECK(kinterp_set_formula(model, "(Exp(-G*SqDist(X,Y)) + Inv(IntCst(1) + H*SqDist(X,Y))) * B",
                            "X = Vi(2); Y = Vj(2); B = Vj(1); G = Pm(1); H = Pm(1)") ==
            KINTERP_SUCCESS,
        "%s", kinterp_error_message(model));
  kinterp_set_parameter(model, "G", &g, 1);
  /* A missing parameter is found at fit, on every rank. */
  expect_error(model, kinterp_fit(model, count, D, points, 1, values),
               KINTERP_ERROR_INVALID_ARGUMENT, "H");
  kinterp_set_parameter(model, "H", &h, 1);
  /* The generic evaluator has no tree product: refused on every rank. */
  kinterp_set_product(model, "tree", 0);
  expect_error(model, kinterp_fit(model, count, D, points, 1, values),
               KINTERP_ERROR_INVALID_ARGUMENT, "needs a compiled kernel family");
  kinterp_set_product(model, "direct", 0);
  CHECK(kinterp_fit(model, count, D, points, 1, values) == KINTERP_SUCCESS, "%s",
        kinterp_error_message(model));
  check = relative_residual(model, mixture, alpha);
  CHECK(check < 1e-9, "generic formula: dense residual %g", check);
  check = prediction_error(model, mixture);
  CHECK(check < 1e-12, "generic formula: prediction error %g", check);
  check = gradient_error(model, mixture_slope);
  CHECK(check < 1e-12, "generic formula: gradient error %g", check);
  check = laplacian_error(model, mixture_laplacian);
  CHECK(check < 1e-11, "generic formula: Laplacian error %g", check);
  expect_error(model, kinterp_predict_gradient(model, 1, 3, t, 1, out),
               KINTERP_ERROR_INVALID_ARGUMENT, "dimension 3");
  expect_error(model, kinterp_predict(model, 1, 3, t, 1, out), KINTERP_ERROR_INVALID_ARGUMENT,
               "dimension 3");
  double wrong_shape[1];
  CHECK(kinterp_weights(model, count + 1, 1, wrong_shape) == KINTERP_ERROR_INVALID_ARGUMENT,
        "weights shape not checked");

  /* Per-point data: K_ij = w_i w_j exp(-g r^2), the i-variable W and its
   * j-twin V given the same rows; against the dense residual. */
  CHECK(kinterp_set_formula(model, "W*V*Exp(-G*SqDist(X,Y)) * B",
                            "X = Vi(2); Y = Vj(2); B = Vj(1); W = Vi(1); V = Vj(1); G = Pm(1)") ==
            KINTERP_SUCCESS,
        "%s", kinterp_error_message(model));
  kinterp_set_parameter(model, "G", &g, 1);
  kinterp_set_unknown(model, "B"); /* the formula is linear in V too */
  double point_weights[N];
  for (int i = 0; i < N; ++i) point_weights[i] = 1 + 0.5 * sin(0.7 * i);
  kinterp_set_input(model, "W", count, 1, point_weights + begin);
  /* V takes the points unless given: its dimension says it cannot. */
  expect_error(model, kinterp_fit(model, count, D, points, 1, values),
               KINTERP_ERROR_INVALID_ARGUMENT, "V = Vj(1) has dimension 1");
  kinterp_set_input(model, "V", count, 1, point_weights + begin);
  CHECK(kinterp_fit(model, count, D, points, 1, values) == KINTERP_SUCCESS, "%s",
        kinterp_error_message(model));
  {
    double weights[N];
    gather_weights(model, weights);
    long double worst = 0, largest = 0;
    for (int i = 0; i < N; ++i) {
      long double sum = alpha * (long double)weights[i] - all_values[i];
      for (int j = 0; j < N; ++j) {
        const long double r2 = squared_distance(&all_points[i * D], &all_points[j * D]);
        sum += (long double)point_weights[i] * point_weights[j] * expl(-g * r2) * weights[j];
      }
      if (fabsl(sum) > worst) worst = fabsl(sum);
      if (fabsl(all_values[i]) > largest) largest = fabsl(all_values[i]);
    }
    check = (double)(worst / largest);
  }
  CHECK(check < 1e-9, "formula with inputs: dense residual %g", check);
  /* Its rows at the targets are unknown: predict refuses, on every rank. */
  expect_error(model, kinterp_predict(model, 1, D, t, 1, out), KINTERP_ERROR_INVALID_ARGUMENT,
               "it also takes W, V");

  /* Errors on one rank only reach every rank, in the same words. */
  kinterp_set_kernel(model, "gaussian", scale);
  expect_error(
      model, kinterp_fit(model, count, D, rank == size - 1 && count > 0 ? NULL : points, 1, values),
      KINTERP_ERROR_INVALID_ARGUMENT, "NULL");
  kinterp_set_alpha(model, rank == 0 ? 0.5 : alpha);
  if (size > 1) {
    expect_error(model, kinterp_fit(model, count, D, points, 1, values),
                 KINTERP_ERROR_INVALID_ARGUMENT, "disagree");
  }
  kinterp_set_alpha(model, alpha);
  double bad[N];
  memcpy(bad, values, sizeof(double) * count);
  if (rank == 0 && count > 0) bad[0] = NAN;
  expect_error(model, kinterp_fit(model, count, D, points, 1, bad), KINTERP_ERROR_INVALID_ARGUMENT,
               "NaN");

  /* A solve that runs out of iterations says so; its last iterate is kept. */
  kinterp_set_alpha(model, 0);
  kinterp_set_tolerances(model, 1e-14, 0, 3);
  expect_error(model, kinterp_fit(model, count, D, points, 1, values), KINTERP_ERROR_NOT_CONVERGED,
               "after 3 iterations");
  CHECK(kinterp_fit_result(model, &iterations, &residual) == KINTERP_SUCCESS && iterations == 3,
        "%d iterations", iterations);
  CHECK(kinterp_predict(model, 1, D, t, 1, out) == KINTERP_SUCCESS, "%s",
        kinterp_error_message(model));

  /* Finalize refuses while a model is alive. */
  CHECK(kinterp_finalize() == KINTERP_ERROR_STATE, "finalize with a live model");
  CHECK(kinterp_destroy(&model) == KINTERP_SUCCESS && model == NULL, "destroy");
  CHECK(kinterp_set_alpha(model, 1) == KINTERP_ERROR_STATE, "a NULL model accepted");

  int total = 0;
  MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0) printf("test_c_api: %d ranks, %d failed checks\n", size, total);
  CHECK(kinterp_finalize() == KINTERP_SUCCESS, "%s", kinterp_error_message(NULL));
  return total == 0 && failures == 0 ? 0 : 1;
}
