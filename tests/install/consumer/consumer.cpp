// Solves (alpha I + K) a = b for three points on each rank with the C++ API and
// checks the residual with a plain loop over all ranks' data.
#include <kinterp/kinterp.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
  kinterp::Environment environment(argc, argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int n = 3 * size;  // global points x_i = i / n, b_i = cos(3 x_i)
  const double alpha = 0.1, scale = 0.3;
  using Matrix = kinterp::KernelSolve<double>::Matrix;
  Matrix x("x", 3, 1), b("b", 3, 1), a("a", 3, 1);
  auto hx = Kokkos::create_mirror_view(x), hb = Kokkos::create_mirror_view(b);
  for (int i = 0; i < 3; ++i) {
    hx(i, 0) = double(3 * rank + i) / n;
    hb(i, 0) = std::cos(3 * hx(i, 0));
  }
  Kokkos::deep_copy(x, hx);
  Kokkos::deep_copy(b, hb);
  const kinterp::KernelSolve<double> solver(MPI_COMM_WORLD,
                                            kinterp::KernelSpec::from_name("gaussian", scale), x);
  kinterp::SolveOptions options;
  options.rtol = 1e-12;
  const auto result = solver.solve(b, a, alpha, options);
  std::vector<double> all_a(n);
  auto ha = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), a);
  MPI_Allgather(ha.data(), 3, MPI_DOUBLE, all_a.data(), 3, MPI_DOUBLE, MPI_COMM_WORLD);
  double worst = 0;
  for (int i = 0; i < n; ++i) {
    const double xi = double(i) / n;
    double r = alpha * all_a[i] - std::cos(3 * xi);
    for (int j = 0; j < n; ++j) {
      const double d = xi - double(j) / n;
      r += std::exp(-d * d / (2 * scale * scale)) * all_a[j];
    }
    worst = std::fmax(worst, std::fabs(r));
  }
  if (rank == 0)
    std::printf("consumer_cxx: %s, residual %.2e\n", kinterp::to_string(result.reason).c_str(),
                worst);
  return result.converged() && worst < 1e-9 ? 0 : 1;
}
