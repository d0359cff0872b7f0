// The C++ API in one page (the README shows this file): fit a 1D Gaussian
// kernel interpolant to points spread over the MPI ranks, then evaluate it.
//   mpirun -np 2 kernel_interpolation

#include <kinterp/kinterp.hpp>

#include <cmath>
#include <cstdio>

int main(int argc, char** argv) {
  kinterp::Environment environment(argc, argv);  // MPI + Kokkos, unless already started
  const MPI_Comm comm = MPI_COMM_WORLD;
  const int rank = kinterp::rank_of(comm);

  // This rank's rows of the data: points x (n x 1) and values b (n x 1).
  const std::int64_t n_global = 2000;
  const kinterp::RowBlock rows = kinterp::block_partition(n_global, comm);
  using Matrix = kinterp::KernelSolve<double>::Matrix;  // Kokkos::View<double**, LayoutRight>
  Matrix x("x", rows.count, 1), b("b", rows.count, 1), a("a", rows.count, 1);
  auto x_host = Kokkos::create_mirror_view(x);
  auto b_host = Kokkos::create_mirror_view(b);
  for (std::int64_t i = 0; i < rows.count; ++i) {
    const double t = double(rows.begin + i) / (n_global - 1);
    x_host(i, 0) = t;
    b_host(i, 0) = std::sin(6 * t);
  }
  Kokkos::deep_copy(x, x_host);
  Kokkos::deep_copy(b, b_host);

  // The kernel, as in KeOps: a formula with its aliases and parameter values.
  const kinterp::Formula formula("Exp(- G * SqDist(X,Y) ) * A",
                                 {"X = Vi(1)", "Y = Vj(1)", "A = Vj(1)", "G = Pm(1)"});
  const kinterp::KernelSpec kernel = formula.bind({{"G", {50.0}}}).kernel;

  // Solve (alpha I + K_xx) a = b: collective, matrix-free, always terminates.
  const kinterp::KernelSolve<double> solver(comm, kernel, x);
  kinterp::SolveOptions options;
  options.rtol = 1e-8;
  options.max_iterations = 500;
  const kinterp::KernelSolveResult result = solver.solve(b, a, /*alpha=*/1e-3, options);
  if (!result.converged()) {
    if (rank == 0) std::printf("%s: %s\n", to_string(result.reason).c_str(), result.detail.c_str());
    return 3;
  }

  // Evaluate the fit at this rank's targets: y_i = sum_j k(t_i, x_j) a_j.
  Matrix t("t", 1, 1), y("y", 1, 1);
  Kokkos::deep_copy(t, 0.5);
  solver.kernel_sum()(t, a, y);
  auto y_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), y);
  if (rank == 0) {
    std::printf("%d iterations, relative residual %.2e; f(0.5) = %.6f (sin(3) = %.6f)\n",
                result.iterations, result.relative_residual(), y_host(0, 0), std::sin(3.0));
  }
  return 0;
}
