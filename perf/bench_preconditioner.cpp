// Plain CG against CG preconditioned by Nystrom (randomly pivoted Cholesky)
// and by Vecchia factors on the seed's two problems, a hard one and a kriging
// one: iterations and time to rtol, preconditioner set-up included. One JSON
// object per line on stdout, a table on stderr. It reports; it never passes
// or fails on time.
//
//   kinterp-bench-preconditioner [--problems seed1d,seed2d,hard,kriging]
//                                [--ranks 100,200,500,1000] [--neighbors 10,30]
//                                [--rtol 1e-6] [--max-it 20000] [--plain-max-it N]
//                                [--dtype double|float] [--product direct|tree]
//                                [--hard-n 20000] [--seed-n 10000] [--kriging-n 20000]
//                                [--pivots rpcholesky]
//
// 0 in --ranks or --neighbors, or --plain-max-it 0: no such run.
// "kriging" is the kriging problem: Matern 3/2, length scale 0.02,
// nugget 1e-3, on the seed's uniform 2D points.

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
    "[--ranks 100,200,500,1000] [--neighbors 10,30] [--rtol 1e-6] [--max-it 20000] "
    "[--plain-max-it N] [--dtype double|float] [--product direct|tree] "
    "[--pivots rpcholesky|greedy|uniform] [--seed-n 10000] [--hard-n 20000] "
    "[--kriging-n 20000]\n";

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
  std::vector<int> neighbors = {10, 30};
  std::string product = "direct";
  std::int64_t kriging_n = 20000;
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
      s.problems = arguments.names({"seed1d", "seed2d", "hard", "kriging"});
    } else if (arguments.is("--ranks")) {
      s.ranks = arguments.integers(0);
    } else if (arguments.is("--neighbors")) {
      s.neighbors = arguments.integers(0);
    } else if (arguments.is("--product")) {
      s.product = arguments.name({"direct", "tree"});
    } else if (arguments.is("--kriging-n")) {
      s.kriging_n = arguments.integer();
    } else if (arguments.is("--rtol")) {
      s.rtol = arguments.real();
    } else if (arguments.is("--max-it")) {
      s.max_iterations = static_cast<int>(arguments.integer());
      s.plain_max_iterations = s.max_iterations;
    } else if (arguments.is("--plain-max-it")) {
      s.plain_max_iterations = static_cast<int>(arguments.integer(0));
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
  if (name == "kriging") {
    const auto seed = kinterp::seed::laplacian_2d();
    return {name, seed, kinterp::KernelSpec::from_name("matern32", 0.02), 1e-3, s.kriging_n};
  }
  throw Error("unknown problem " + name + " (seed1d, seed2d, hard, kriging)");
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
  kinterp::ProductOptions product;
  if (settings.product == "tree") product.engine = kinterp::ProductEngine::Tree;
  product.tree.tolerance = kinterp::solve_product_tolerance<T>(settings.rtol);
  const kinterp::KernelSolve<T> solver(comm, problem.kernel, points, product);
  kinterp::SolveOptions options;
  options.rtol = settings.rtol;
  // No stagnation stop: the benchmark measures how many iterations CG needs
  // (its residual can rise for hundreds of iterations on the hard problem).
  options.stagnation_window = 0;

  // Plain CG, then Nystrom of each rank, then Vecchia of each neighbour count.
  struct Preconditioner {
    int landmarks = 0, neighbors = 0;
  };
  std::vector<Preconditioner> runs;
  if (settings.plain_max_iterations > 0) runs.push_back({});
  for (const int k : settings.ranks)
    if (k > 0) runs.push_back({k, 0});
  for (const int k : settings.neighbors)
    if (k > 0) runs.push_back({0, k});
  for (const Preconditioner& run : runs) {
    kinterp::KernelSolveOptions how;
    how.preconditioner.rank = run.landmarks;
    how.vecchia.neighbors = run.neighbors;
    options.max_iterations =
        how.preconditioned() ? settings.max_iterations : settings.plain_max_iterations;
    how.preconditioner.pivots = kinterp::pivot_rule_from_name(settings.pivots);
    MPI_Barrier(comm);
    const double start = MPI_Wtime();
    const kinterp::KernelSolveResult result = solver.solve(rhs, a, problem.alpha, options, how);
    const double seconds = max_over_ranks(comm, MPI_Wtime() - start);
    const double setup =
        max_over_ranks(comm, run.neighbors > 0 ? result.vecchia.setup_seconds
                                               : result.preconditioner.setup_seconds);
    const double apply = max_over_ranks(comm, result.preconditioner_seconds);
    unsigned long long bytes =
        run.neighbors > 0 ? result.vecchia.bytes_per_rank : result.preconditioner.bytes_per_rank;
    MPI_Allreduce(MPI_IN_PLACE, &bytes, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, comm);
    const std::string name = run.neighbors > 0   ? "vecchia"
                             : run.landmarks > 0 ? settings.pivots
                                                 : "none";
    JsonLine line;
    line.add("problem", problem.name)
        .add("n", problem.n)
        .add("dim", d)
        .add("kernel", kinterp::to_string(problem.kernel.family))
        .add("g", problem.kernel.g)
        .add("alpha", problem.alpha)
        .add("dtype", settings.dtype)
        .add("product", result.product_engine)
        .add("ranks", kinterp::size_of(comm))
        .add("threads", Kokkos::DefaultExecutionSpace().concurrency())
        .add("preconditioner", name)
        .add("precond_rank", run.landmarks)
        .add("landmarks", result.preconditioner.rank)
        .add("neighbors", run.neighbors)
        .add("mean_set_size", result.vecchia.mean_set_size)
        .add("converged", result.converged())
        .add("reason", kinterp::to_string(result.reason))
        .add("iterations", result.iterations)
        .add("relative_residual", result.relative_residual())
        .add("setup_seconds", setup)
        .add("apply_seconds", apply)
        .add("seconds", seconds)
        .add("precond_bytes_per_rank", static_cast<std::int64_t>(bytes))
        .add("precond_bytes_per_point",
             static_cast<double>(bytes) * kinterp::size_of(comm) / static_cast<double>(problem.n));
    kinterp::bench::emit(comm, line);
    if (rank != 0) continue;
    const std::string size = run.neighbors > 0   ? "v" + std::to_string(run.neighbors)
                             : run.landmarks > 0 ? std::to_string(run.landmarks)
                                                 : "-";
    std::fprintf(stderr, "  %-7s %8lld  %5s %5d  %-10s %7d  %9.3f  %9.3f  %9.3f  %.1e\n",
                 problem.name.c_str(), static_cast<long long>(problem.n), size.c_str(),
                 run.neighbors > 0 ? static_cast<int>(result.vecchia.mean_set_size + 0.5)
                                   : result.preconditioner.rank,
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
                   "  problem        n      k  kept  stop       iters   setup s    total s    "
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
