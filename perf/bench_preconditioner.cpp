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

#include <SeedProblems.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

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
};

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> items;
  std::stringstream stream(list);
  for (std::string item; std::getline(stream, item, ',');) items.push_back(item);
  return items;
}

Settings parse(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cerr << "usage: kinterp-bench-preconditioner [--problems seed1d,seed2d,hard] "
                   "[--ranks 100,200,500,1000] [--rtol 1e-6] [--max-it 20000] [--plain-max-it N] "
                   "[--dtype double|float] [--pivots rpcholesky|greedy|uniform] "
                   "[--seed-n 10000] [--hard-n 20000]\n";
      std::exit(0);
    }
    if (i + 1 >= argc) throw std::runtime_error(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--problems") {
      s.problems = split(value);
    } else if (flag == "--ranks") {
      s.ranks.clear();
      for (const auto& k : split(value)) s.ranks.push_back(std::stoi(k));
    } else if (flag == "--rtol") {
      s.rtol = std::stod(value);
    } else if (flag == "--max-it") {
      s.max_iterations = std::stoi(value);
      s.plain_max_iterations = s.max_iterations;
    } else if (flag == "--plain-max-it") {
      s.plain_max_iterations = std::stoi(value);
    } else if (flag == "--dtype") {
      s.dtype = value;
    } else if (flag == "--pivots") {
      s.pivots = value;
    } else if (flag == "--seed-n") {
      s.seed_n = std::stoll(value);
    } else if (flag == "--hard-n") {
      s.hard_n = std::stoll(value);
    } else {
      throw std::runtime_error("unknown option " + flag + " (see --help)");
    }
  }
  if (s.dtype != "double" && s.dtype != "float") {
    throw std::runtime_error("--dtype is double or float, got " + s.dtype);
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
  throw std::runtime_error("unknown problem " + name + " (seed1d, seed2d, hard)");
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
    double seconds = MPI_Wtime() - start;
    MPI_Allreduce(MPI_IN_PLACE, &seconds, 1, MPI_DOUBLE, MPI_MAX, comm);
    double setup = result.preconditioner.setup_seconds, apply = result.preconditioner_seconds;
    MPI_Allreduce(MPI_IN_PLACE, &setup, 1, MPI_DOUBLE, MPI_MAX, comm);
    MPI_Allreduce(MPI_IN_PLACE, &apply, 1, MPI_DOUBLE, MPI_MAX, comm);
    unsigned long long bytes = result.preconditioner.bytes_per_rank;
    MPI_Allreduce(MPI_IN_PLACE, &bytes, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, comm);
    if (rank != 0) continue;
    std::printf(
        "{\"problem\": \"%s\", \"n\": %lld, \"dim\": %d, \"kernel\": \"%s\", \"g\": %g, "
        "\"alpha\": %g, \"dtype\": \"%s\", \"ranks\": %d, \"threads\": %d, "
        "\"precond_rank\": %d, \"landmarks\": %d, \"pivots\": \"%s\", \"converged\": %s, "
        "\"reason\": \"%s\", \"iterations\": %d, \"relative_residual\": %.3e, "
        "\"setup_seconds\": %.4f, \"apply_seconds\": %.4f, \"seconds\": %.4f, "
        "\"precond_bytes_per_rank\": %llu}\n",
        problem.name.c_str(), static_cast<long long>(problem.n), d,
        kinterp::to_string(problem.kernel.family).c_str(), problem.kernel.g, problem.alpha,
        settings.dtype.c_str(), kinterp::size_of(comm),
        Kokkos::DefaultExecutionSpace().concurrency(), k, result.preconditioner.rank,
        k == 0 ? "none" : settings.pivots.c_str(), result.converged() ? "true" : "false",
        kinterp::to_string(result.reason).c_str(), result.iterations, result.relative_residual(),
        setup, apply, seconds, bytes);
    std::fflush(stdout);
    std::fprintf(stderr, "  %-7s %6lld  %5s %5d  %-10s %7d  %9.3f  %9.3f  %9.3f  %.1e\n",
                 problem.name.c_str(), static_cast<long long>(problem.n),
                 k == 0 ? "-" : std::to_string(k).c_str(), result.preconditioner.rank,
                 result.converged() ? "converged" : "stopped", result.iterations, setup, seconds,
                 seconds - setup, result.relative_residual());
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<kinterp::Environment> environment;
  try {
    environment = std::make_unique<kinterp::Environment>(argc, argv);
    const Settings settings = parse(argc, argv);
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
