/* A small simulation code that embeds kinterp through its C API: a 2D heat
 * equation on its own MPI decomposition (slabs of grid rows, halo exchange)
 * assimilates scattered sensor readings. Every few steps it fits a kernel
 * model to the readings (the sensors are spread over the ranks differently
 * from the grid) and nudges its field towards the model's prediction at its
 * own grid points.
 *
 * The true field is the exact solution u(x, y, t) = exp(-2 pi^2 kappa t)
 * sin(pi x) sin(pi y) (plus a second, faster mode); the simulation starts
 * from u = 0, so without the sensors it would stay wrong. The sensors read the
 * true field plus noise. The run prints the grid's RMS error against the exact
 * solution before and after each assimilation and exits with 1 if the final
 * error is not below --tolerance (relative to the field's maximum).
 *
 *   mpirun -np 4 build/examples/heat/heat_proxy [--grid 96] [--sensors 400] [--steps 200]
 *                                      [--every 50] [--tolerance 0.01] */
#include <kinterp/kinterp.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double pi = 3.14159265358979323846, kappa = 0.1;

static double exact(double x, double y, double t) {
  return exp(-2 * pi * pi * kappa * t) * sin(pi * x) * sin(pi * y) +
         0.5 * exp(-10 * pi * pi * kappa * t) * sin(pi * x) * sin(3 * pi * y);
}

/* A reproducible value in [0, 1) for (seed, index), the same on any rank count. */
static double uniform(unsigned long seed, unsigned long index) {
  unsigned long long z = (seed * 0x9E3779B97F4A7C15ull) ^ (index + 0xBF58476D1CE4E5B9ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (double)((z ^ (z >> 31)) >> 11) * 0x1p-53;
}

static int usage(int rank, const char* problem) {
  if (rank == 0) {
    if (problem) fprintf(stderr, "heat_proxy: %s\n", problem);
    fprintf(problem ? stderr : stdout,
            "usage: heat_proxy [--grid N] [--sensors S] [--steps T] [--every K] [--tolerance E]\n"
            "  --grid N       N x N interior grid points on [0,1]^2 (default 96)\n"
            "  --sensors S    scattered sensors reading the true field with noise (default 400)\n"
            "  --steps T      explicit Euler steps (default 200)\n"
            "  --every K      assimilate the sensor readings every K steps (default 50)\n"
            "  --tolerance E  fail unless the final RMS error / max |u| < E (default 0.01)\n");
  }
  return problem ? 2 : 0;
}

int main(int argc, char** argv) {
  if (kinterp_initialize(&argc, &argv) != KINTERP_SUCCESS) {
    fprintf(stderr, "heat_proxy: %s\n", kinterp_error_message(NULL));
    return 1;
  }
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int n = 96, sensors = 400, steps = 200, every = 50;
  double tolerance = 0.01;
  for (int k = 1; k < argc; ++k) {
    if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h")) {
      kinterp_finalize();
      return usage(rank, NULL);
    }
    int* integer = !strcmp(argv[k], "--grid")      ? &n
                   : !strcmp(argv[k], "--sensors") ? &sensors
                   : !strcmp(argv[k], "--steps")   ? &steps
                   : !strcmp(argv[k], "--every")   ? &every
                                                   : NULL;
    if (k + 1 < argc && integer) {
      *integer = atoi(argv[++k]);
    } else if (k + 1 < argc && !strcmp(argv[k], "--tolerance")) {
      tolerance = atof(argv[++k]);
    } else {
      kinterp_finalize();
      return usage(rank, "unknown option or missing value (see --help)");
    }
  }
  if (n < 4 || sensors < 1 || steps < 1 || every < 1 || n < size) {
    kinterp_finalize();
    return usage(rank, "--grid must be at least 4 and the number of ranks, the counts positive");
  }

  /* The simulation's decomposition: rows [row0, row0 + rows) of the n x n
   * interior grid, plus one halo row above and below (the boundary is 0). */
  const int row0 = (int)((long)n * rank / size), rows = (int)((long)n * (rank + 1) / size) - row0;
  const double h = 1.0 / (n + 1), dt = 0.2 * h * h / kappa;
  double* u = calloc((size_t)(rows + 2) * n, sizeof(double));
  double* next = calloc((size_t)(rows + 2) * n, sizeof(double));
  double* grid_points = malloc(sizeof(double) * 2 * rows * n);
  double* interpolated = malloc(sizeof(double) * rows * n);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < n; ++j) {
      grid_points[2 * (i * n + j)] = (j + 1) * h;
      grid_points[2 * (i * n + j) + 1] = (row0 + i + 1) * h;
    }
#define U(field, i, j) field[(size_t)((i) + 1) * n + (j)]

  /* The sensors' decomposition: a block of the sensor list on each rank. */
  const int s0 = (int)((long)sensors * rank / size),
            my_sensors = (int)((long)sensors * (rank + 1) / size) - s0;
  double* sensor_points = malloc(sizeof(double) * 2 * (my_sensors + 1));
  double* readings = malloc(sizeof(double) * (my_sensors + 1));
  for (int s = 0; s < my_sensors; ++s) {
    sensor_points[2 * s] = uniform(1, s0 + s);
    sensor_points[2 * s + 1] = uniform(2, s0 + s);
  }

  kinterp_model model;
  const double noise = 1e-3;
  int status = kinterp_create(MPI_COMM_WORLD, &model);
  if (status == KINTERP_SUCCESS) status = kinterp_set_kernel(model, "matern52", 0.3);
  /* Ridge alpha above the noise variance (1e-6): kernel ridge regression
   * rather than exact interpolation of noisy readings, and a well-conditioned
   * system for CG. */
  if (status == KINTERP_SUCCESS) status = kinterp_set_alpha(model, 1e-4);
  if (status == KINTERP_SUCCESS) status = kinterp_set_tolerances(model, 1e-8, 0, 2000);
  /* Small alpha makes plain CG slow (about 1100 iterations here); a Nystrom
   * preconditioner of 100 landmarks brings it to a few dozen. */
  if (status == KINTERP_SUCCESS) status = kinterp_set_preconditioner(model, 100);
  if (status != KINTERP_SUCCESS) {
    fprintf(stderr, "heat_proxy: %s\n", kinterp_error_message(model));
    return 1;
  }

  const int up = rank > 0 ? rank - 1 : MPI_PROC_NULL,
            down = rank < size - 1 ? rank + 1 : MPI_PROC_NULL;
  double error = 0, t = 0;
  for (int step = 1; step <= steps; ++step) {
    MPI_Sendrecv(&U(u, 0, 0), n, MPI_DOUBLE, up, 0, &U(u, rows, 0), n, MPI_DOUBLE, down, 0,
                 MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Sendrecv(&U(u, rows - 1, 0), n, MPI_DOUBLE, down, 1, &U(u, -1, 0), n, MPI_DOUBLE, up, 1,
                 MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < n; ++j) {
        const double left = j > 0 ? U(u, i, j - 1) : 0, right = j < n - 1 ? U(u, i, j + 1) : 0;
        U(next, i, j) =
            U(u, i, j) + kappa * dt / (h * h) *
                             (left + right + U(u, i - 1, j) + U(u, i + 1, j) - 4 * U(u, i, j));
      }
    double* swap = u;
    u = next;
    next = swap;
    t += dt;

    if (step % every != 0 && step != steps) continue;
    double sums[3] = {0, 0, 0}; /* squared error before, after; max |exact| */
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < n; ++j) {
        const double e =
            U(u, i, j) - exact(grid_points[2 * (i * n + j)], grid_points[2 * (i * n + j) + 1], t);
        sums[0] += e * e;
      }

    /* Assimilate: the sensors read the true field with noise; the kernel
     * model of the readings, evaluated at this rank's grid points, nudges u. */
    for (int s = 0; s < my_sensors; ++s) {
      readings[s] = exact(sensor_points[2 * s], sensor_points[2 * s + 1], t) +
                    noise * (2 * uniform(3 + step, s0 + s) - 1);
    }
    const double start = MPI_Wtime();
    status = kinterp_fit(model, my_sensors, 2, sensor_points, 1, readings);
    if (status == KINTERP_SUCCESS)
      status = kinterp_predict(model, (int64_t)rows * n, 2, grid_points, 1, interpolated);
    if (status != KINTERP_SUCCESS) {
      if (rank == 0) fprintf(stderr, "heat_proxy: %s\n", kinterp_error_message(model));
      break;
    }
    const double seconds = MPI_Wtime() - start;
    int iterations = 0;
    double residual = 0;
    kinterp_fit_result(model, &iterations, &residual);
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < n; ++j) {
        U(u, i, j) = interpolated[i * n + j]; /* full nudging: the sensors win */
        const double x = grid_points[2 * (i * n + j)], y = grid_points[2 * (i * n + j) + 1];
        const double e = U(u, i, j) - exact(x, y, t);
        sums[1] += e * e;
        if (fabs(exact(x, y, t)) > sums[2]) sums[2] = fabs(exact(x, y, t));
      }
    MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &sums[2], 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    const double before = sqrt(sums[0] / ((double)n * n)), after = sqrt(sums[1] / ((double)n * n));
    error = after / sums[2];
    if (rank == 0) {
      printf(
          "step %4d  t = %.4f  RMS error vs exact %.2e -> %.2e (relative %.2e); fit of %d "
          "readings: %d CG iterations, %.3f s\n",
          step, t, before, after, error, sensors, iterations, seconds);
    }
  }
  const int passed = status == KINTERP_SUCCESS && error < tolerance;
  if (rank == 0) {
    printf(
        "heat_proxy: %d x %d grid on %d ranks, final relative RMS error %.2e (tolerance %g): %s\n",
        n, n, size, error, tolerance, passed ? "ok" : "FAILED");
  }
  kinterp_destroy(&model);
  free(u);
  free(next);
  free(grid_points);
  free(interpolated);
  free(sensor_points);
  free(readings);
  kinterp_finalize();
  return passed ? 0 : 1;
}
