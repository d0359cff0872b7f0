/* The same problem as consumer.cpp through the C API. */
#include <kinterp/kinterp.h>

#include <math.h>
#include <stdio.h>

int main(int argc, char** argv) {
  if (kinterp_initialize(&argc, &argv) != KINTERP_SUCCESS) return 1;
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int n = 3 * size;
  const double alpha = 0.1, scale = 0.3;
  double x[3], b[3], a[3], all_a[3 * 64];
  for (int i = 0; i < 3; ++i) {
    x[i] = (double)(3 * rank + i) / n;
    b[i] = cos(3 * x[i]);
  }
  kinterp_model model;
  int status = kinterp_create(MPI_COMM_WORLD, &model);
  if (status == KINTERP_SUCCESS) status = kinterp_set_kernel(model, "gaussian", scale);
  if (status == KINTERP_SUCCESS) status = kinterp_set_alpha(model, alpha);
  if (status == KINTERP_SUCCESS) status = kinterp_set_tolerances(model, 1e-12, 0, 100);
  if (status == KINTERP_SUCCESS) status = kinterp_fit(model, 3, 1, x, 1, b);
  if (status == KINTERP_SUCCESS) status = kinterp_weights(model, 3, 1, a);
  if (status != KINTERP_SUCCESS) {
    fprintf(stderr, "consumer_c: %s\n", kinterp_error_message(model));
    return 1;
  }
  MPI_Allgather(a, 3, MPI_DOUBLE, all_a, 3, MPI_DOUBLE, MPI_COMM_WORLD);
  double worst = 0;
  for (int i = 0; i < n; ++i) {
    double r = alpha * all_a[i] - cos(3.0 * i / n);
    for (int j = 0; j < n; ++j) {
      const double d = (double)(i - j) / n;
      r += exp(-d * d / (2 * scale * scale)) * all_a[j];
    }
    if (fabs(r) > worst) worst = fabs(r);
  }
  if (rank == 0) printf("consumer_c: residual %.2e\n", worst);
  kinterp_destroy(&model);
  kinterp_finalize();
  return worst < 1e-9 ? 0 : 1;
}
