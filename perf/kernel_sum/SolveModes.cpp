// seed and solve: kinterp::KernelSolve on the seed's data model. seed: the
// seed's two solves (1D Gaussian, 2D Laplacian, N = 10000, rtol 1e-6); solve:
// a seed-like Gaussian solve at scale (--solve-n points in --solve-dim
// dimensions): time, iterations, time per kernel product, residual, peak
// memory per rank.

#include "BenchData.hpp"
#include "Context.hpp"
#include "Modes.hpp"
#include "support/JsonLine.hpp"
#include "support/PeakMemory.hpp"
#include "support/Statistics.hpp"

#include <SeedProblems.hpp>

#include <kinterp/KernelSolve.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/formula/Formula.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace kinterp::bench {
namespace {

struct SolveCase {
  std::string record;  ///< "seed_solve" or "solve"
  kinterp::seed::SeedProblem problem;
  std::int64_t n;
  int reps;
};

/// The scale check's problem: the seed's 2D data model (a ring, noise,
/// outliers) in `dim` dimensions, with the 1D problem's Gaussian kernel,
/// sigma = 0.1 (exp(-50 r^2)) and alpha = 1.
kinterp::seed::SeedProblem scale_problem(int dim) {
  const std::string d = std::to_string(dim);
  return {"gaussian-" + d + "D",
          dim,
          "Exp(- G * SqDist(X,Y) ) * A",
          {"X = Vi(" + d + ")", "Y = Vj(" + d + ")", "A = Vj(1)", "G = Pm(1)"},
          0.1,
          0.5 / (0.1 * 0.1),
          1.0,
          0};
}

template <class T>
void bench_solve(MPI_Comm comm, const SolveCase& c) {
  const kinterp::seed::SeedProblem& problem = c.problem;
  const int d = problem.dim;
  MemoryProbe memory(comm);
  memory.start();
  const RowBlock block = kinterp::block_partition(c.n, comm);
  std::vector<double> x, b;
  kinterp::seed::samples(problem, c.n, block, x, b);
  const auto points = make_matrix<T>("bench::solve_points", block.count, d,
                                     [&](std::int64_t i, int k) { return x[i * d + k]; });
  const auto values = make_matrix<T>("bench::solve_values", block.count, 1,
                                     [&](std::int64_t i, int) { return b[i]; });
  Matrix<T> a("bench::solve_weights", block.count, 1);

  const kinterp::Formula formula(problem.formula, problem.aliases);
  const KernelSpec kernel = formula.bind({{"G", {problem.g}}}).kernel;
  kinterp::SolveOptions options;
  options.rtol = 1e-6;

  MPI_Barrier(comm);
  const double setup_start = MPI_Wtime();
  const kinterp::KernelSolve<T> solver(comm, kernel, points);
  MPI_Barrier(comm);
  const double setup_seconds = MPI_Wtime() - setup_start;

  std::vector<double> seconds, per_product, wait, wait_fraction;
  kinterp::KernelSolveResult result;
  for (int rep = 0; rep < c.reps; ++rep) {
    Kokkos::deep_copy(a, T(0));
    MPI_Barrier(comm);
    const double start = MPI_Wtime();
    result = solver.solve(values, a, problem.alpha, options);
    MPI_Barrier(comm);
    seconds.push_back(MPI_Wtime() - start);
    const int products = std::max(result.products, 1);
    per_product.push_back(max_over_ranks(comm, result.product.total / products));
    wait.push_back(max_over_ranks(comm, result.product.wait));
    wait_fraction.push_back(max_over_ranks(
        comm, result.product.total > 0 ? result.product.wait / result.product.total : 0.0));
  }
  const Stats time = stats(seconds);
  const double per_product_median = stats(per_product).median;
  const double pairs = static_cast<double>(c.n) * static_cast<double>(c.n);

  const std::string kernel_name =
      kernel.family == KernelFamily::Laplacian ? "laplacian" : "gaussian";
  JsonLine line = case_line(comm, c.record, kernel_name, type_name<T>(), d, c.n, 1);
  line.add("problem", problem.name)
      .add("formula", problem.formula)
      .add("aliases", problem.aliases)
      .add("g", problem.g)
      .add("alpha", problem.alpha)
      .add("rtol", options.rtol)
      .add("reps", c.reps)
      .add("setup_seconds", setup_seconds)
      .add("seconds", time.median)
      .add("seconds_min", time.min)
      .add("seconds_max", time.max)
      .add("solver_seconds", result.seconds)
      .add("iterations", result.iterations)
      .add("products", result.products)
      .add("seconds_per_product", per_product_median)
      .add("pairs_per_second", pairs / per_product_median)
      .add("wait_seconds", stats(wait).median)
      .add("wait_fraction", stats(wait_fraction).median)
      .add("wait_seconds_per_rank", all_ranks(comm, result.product.wait))
      .add("converged", result.converged())
      .add("reason", to_string(result.reason))
      .add("relative_residual", result.relative_residual());
  memory.finish(line, block.count);
  emit(comm, line);
  if (rank_of(comm) == 0) {
    std::fprintf(stderr, "  %-14s %-6s %9lld %10.4g %6d %12.3e %8.1f%% %10.2e %10.3g %s\n",
                 problem.name.c_str(), type_name<T>(), static_cast<long long>(c.n), time.median,
                 result.iterations, per_product_median, 100 * stats(wait_fraction).median,
                 result.relative_residual(), max_over_ranks(comm, peak_rss_bytes()) / 1048576.0,
                 result.converged() ? "" : "NOT CONVERGED");
  } else {
    max_over_ranks(comm, peak_rss_bytes());
  }
}

void print_solve_header(MPI_Comm comm, const char* title) {
  if (rank_of(comm) != 0) return;
  std::fprintf(stderr, "\n%s, rtol 1e-6\n", title);
  std::fprintf(stderr, "  %-14s %-6s %9s %10s %6s %12s %9s %10s %10s\n", "problem", "dtype", "N",
               "seconds", "iters", "s/product", "wait", "rel res", "peak MiB");
}

}  // namespace

void run_seed_mode(MPI_Comm comm, const Settings& s) {
  print_solve_header(comm, "seed solves");
  for (const auto& problem : {kinterp::seed::gaussian_1d(), kinterp::seed::laplacian_2d()}) {
    for (const auto& type : s.seed_types) {
      const SolveCase c{"seed_solve", problem, s.seed_n, s.seed_reps};
      for_each_type(type, [&](auto t) { bench_solve<decltype(t)>(comm, c); });
    }
  }
}

void run_solve_mode(MPI_Comm comm, const Settings& s) {
  print_solve_header(comm, "scale solve: Gaussian exp(-50 r^2), alpha = 1");
  for (const auto& type : s.solve_types) {
    const SolveCase c{"solve", scale_problem(s.solve_dim), s.solve_n, s.solve_reps};
    for_each_type(type, [&](auto t) { bench_solve<decltype(t)>(comm, c); });
  }
}

}  // namespace kinterp::bench
