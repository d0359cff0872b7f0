// Plain CG against Nystrom-preconditioned CG (randomly pivoted Cholesky) on
// the seed's two problems and on a hard one: iterations and time to rtol,
// preconditioner set-up included. One JSON object per line on stdout, a table
// on stderr. It reports; it never passes or fails on time.
//
//   kinterp-bench-preconditioner [--problems seed1d,seed2d,hard] [--ranks 100,200,500,1000]
//                                [--rtol 1e-6] [--max-it 20000] [--plain-max-it N]
//                                [--dtype double|float]
//                                [--hard-n 20000] [--seed-n 10000] [--pivots rpcholesky]

#include <kinterp/KernelSolve.hpp>
#include <kinterp/core/Environment.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/io/LocalRowsView.hpp>

#include "support/BenchArguments.hpp"
#include "support/JsonLine.hpp"
#include "support/Statistics.hpp"
#include "support/StdoutToStderr.hpp"

#include <SeedProblems.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace {

using kinterp::Error;
using kinterp::bench::JsonLine;
using kinterp::bench::max_over_ranks;

constexpr const char* usage =
    "usage: kinterp-bench-preconditioner [--problems seed1d,seed2d,hard] "
    "[--ranks 100,200,500,1000] [--rtol 1e-6] [--max-it 20000] [--plain-max-it N] "
    "[--dtype double|float] [--pivots rpcholesky|greedy|uniform] "
    "[--seed-n 10000] [--hard-n 20000]\n";

struct Problem {
  std::string name;
  kinterp::seed::SeedProblem data;  ///< points and right-hand side
  kinterp::KernelSpec kernel;
  double alpha;
  std::int64_t n;
};

struct Settings {
  std::vector<std::string> problems = {"seed1d", "seed2d", "hard"};
  std::vector<int> ranks = {100, 200, 500, 1000};
  double rtol = 1e-6;
  int max_iterations = 20000;
  int plain_max_iterations = 20000;  ///< plain CG may be capped lower: it crawls
  std::string dtype = "double";
  std::string pivots = "rpcholesky";
  std::int64_t seed_n = 10000;
  std::int64_t hard_n = 20000;
  bool help = false;
};

Settings parse(int argc, char** argv) {
  Settings s;
  kinterp::bench::BenchArguments arguments(argc, argv);
  while (arguments.next()) {
    if (arguments.is("--help", "-h")) {
      s.help = true;
    } else if (arguments.is("--problems")) {
      s.problems = arguments.names({"seed1d", "seed2d", "hard"});
    } else if (arguments.is("--ranks")) {
      s.ranks = arguments.integers();
    } else if (arguments.is("--rtol")) {
      s.rtol = arguments.real();
    } else if (arguments.is("--max-it")) {
      s.max_iterations = static_cast<int>(arguments.integer());
      s.plain_max_iterations = s.max_iterations;
    } else if (arguments.is("--plain-max-it")) {
      s.plain_max_iterations = static_cast<int>(arguments.integer());
    } else if (arguments.is("--dtype")) {
      s.dtype = arguments.name({"double", "float"});
    } else if (arguments.is("--pivots")) {
      s.pivots = arguments.text();
    } else if (arguments.is("--seed-n")) {
      s.seed_n = arguments.integer();
    } else if (arguments.is("--hard-n")) {
      s.hard_n = arguments.integer();
    } else {
      arguments.unknown();
    }
  }
  return s;
}

Problem make_problem(const std::string& name, const Settings& s) {
  using kinterp::KernelFamily;
  if (name == "seed1d") {
    const auto seed = kinterp::seed::gaussian_1d();
    return {name, seed, {KernelFamily::Gaussian, seed.g, 1}, seed.alpha, s.seed_n};
  }
  if (name == "seed2d") {
    const auto seed = kinterp::seed::laplacian_2d();
    return {name, seed, {KernelFamily::Laplacian, seed.g, 1}, seed.alpha, s.seed_n};
  }
  if (name == "hard") {
    // The seed's 2D data with a Gaussian of sigma = 0.1 and a small nugget:
    // the interpolation regime, where plain CG crawls.
    const auto seed = kinterp::seed::laplacian_2d();
    return {name, seed, {KernelFamily::Gaussian, 0.5 / (0.1 * 0.1), 1}, 1e-4, s.hard_n};
  }
  throw Error("unknown problem " + name + " (seed1d, seed2d, hard)");
}

template <class T>
void run(const Problem& problem, const Settings& settings, MPI_Comm comm) {
  const int rank = kinterp::rank_of(comm);
  const kinterp::RowBlock block = kinterp::block_partition(problem.n, comm);
  std::vector<double> x, b;
  kinterp::seed::samples(problem.data, problem.n, block, x, b);
  const int d = problem.data.dim;
  using Matrix = typename kinterp::KernelSolve<T>::Matrix;
  Matrix points("points", block.count, d), rhs("b", block.count, 1), a("a", block.count, 1);
  {
    auto hp = Kokkos::create_mirror_view(points);
    auto hb = Kokkos::create_mirror_view(rhs);
    for (std::int64_t i = 0; i < block.count; ++i) {
      for (int k = 0; k < d; ++k) hp(i, k) = static_cast<T>(x[i * d + k]);
      hb(i, 0) = static_cast<T>(b[i]);
    }
    Kokkos::deep_copy(points, hp);
    Kokkos::deep_copy(rhs, hb);
  }
  const kinterp::KernelSolve<T> solver(comm, problem.kernel, points);
  kinterp::SolveOptions options;
  options.rtol = settings.rtol;
  // No stagnation stop: the benchmark measures how many iterations CG needs
  // (its residual can rise for hundreds of iterations on the hard problem).
  options.stagnation_window = 0;

  std::vector<int> ks = {0};
  ks.insert(ks.end(), settings.ranks.begin(), settings.ranks.end());
  for (const int k : ks) {
    kinterp::KernelSolveOptions how;
    how.preconditioner.rank = k;
    options.max_iterations = k == 0 ? settings.plain_max_iterations : settings.max_iterations;
    how.preconditioner.pivots = kinterp::pivot_rule_from_name(settings.pivots);
    MPI_Barrier(comm);
    const double start = MPI_Wtime();
    const kinterp::KernelSolveResult result = solver.solve(rhs, a, problem.alpha, options, how);
    const double seconds = max_over_ranks(comm, MPI_Wtime() - start);
    const double setup = max_over_ranks(comm, result.preconditioner.setup_seconds);
    const double apply = max_over_ranks(comm, result.preconditioner_seconds);
    unsigned long long bytes = result.preconditioner.bytes_per_rank;
    MPI_Allreduce(MPI_IN_PLACE, &bytes, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, comm);
    JsonLine line;
    line.add("problem", problem.name)
        .add("n", problem.n)
        .add("dim", d)
        .add("kernel", kinterp::to_string(problem.kernel.family))
        .add("g", problem.kernel.g)
        .add("alpha", problem.alpha)
        .add("dtype", settings.dtype)
        .add("ranks", kinterp::size_of(comm))
        .add("threads", Kokkos::DefaultExecutionSpace().concurrency())
        .add("precond_rank", k)
        .add("landmarks", result.preconditioner.rank)
        .add("pivots", k == 0 ? "none" : settings.pivots)
        .add("converged", result.converged())
        .add("reason", kinterp::to_string(result.reason))
        .add("iterations", result.iterations)
        .add("relative_residual", result.relative_residual())
        .add("setup_seconds", setup)
        .add("apply_seconds", apply)
        .add("seconds", seconds)
        .add("precond_bytes_per_rank", static_cast<std::int64_t>(bytes));
    kinterp::bench::emit(comm, line);
    if (rank != 0) continue;
    std::fprintf(stderr, "  %-7s %6lld  %5s %5d  %-10s %7d  %9.3f  %9.3f  %9.3f  %.1e\n",
                 problem.name.c_str(), static_cast<long long>(problem.n),
                 k == 0 ? "-" : std::to_string(k).c_str(), result.preconditioner.rank,
                 result.converged() ? "converged" : "stopped", result.iterations, setup, seconds,
                 seconds - setup, result.relative_residual());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const auto environment = kinterp::bench::start_quietly(argc, argv);
  try {
    const Settings settings = parse(argc, argv);
    if (settings.help) {
      std::fputs(usage, stderr);
      return 0;
    }
    const MPI_Comm comm = MPI_COMM_WORLD;
    if (kinterp::rank_of(comm) == 0) {
      std::fprintf(stderr,
                   "bench_preconditioner: %d rank(s) x %d thread(s), %s, rtol %g\n"
                   "  problem      n      k  kept  stop       iters   setup s    total s    "
                   "solve s  rel res\n",
                   kinterp::size_of(comm), Kokkos::DefaultExecutionSpace().concurrency(),
                   settings.dtype.c_str(), settings.rtol);
    }
    for (const auto& name : settings.problems) {
      const Problem problem = make_problem(name, settings);
      if (settings.dtype == "float") {
        run<float>(problem, settings, comm);
      } else {
        run<double>(problem, settings, comm);
      }
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_preconditioner: %s\n", error.what());
    return 1;
  }
  return 0;
}
