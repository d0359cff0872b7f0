// Kriging at scale: ordinary kriging of N points in 2D with the mean and the
// kriging variance at M targets, for a list of N: the time of each phase and
// the peak memory per rank, next to what a dense covariance matrix would
// need. One JSON object per line on stdout, a table on stderr. It reports; it
// never passes or fails on time.
//
//   kinterp-bench-kriging [--n 2500,5000,10000,20000] [--targets 1000]
//                         [--variance-targets M] [--rank 500 | --neighbors 30]
//                         [--product direct|tree] [--rtol 1e-8]
//                         [--model matern32] [--shape A] [--length-scale 0.1] [--nugget 1e-3]
//                         [--batch 64] [--variance-tolerance 1e-6] [--approximate]
//                         [--likelihood | --fit] [--anisotropic]
//
// --neighbors K: the Vecchia preconditioner instead of Nystrom's --rank.
// --likelihood: instead, one estimate of the log likelihood and its gradient
// (variance, length scales, nugget; with --anisotropic also the angle) with
// the length scales' and angle's derivatives exact and by central
// differences, side by side; --fit: a whole hyperparameter fit each way.
// --anisotropic: length scales (l, l/2) rotated by 0.3 rad. --shape: the
// rq family's alpha or matern's nu, fitted too by --likelihood and --fit.
// --variance-targets M: the variance at the first M targets only (default:
// all; 0: none), the mean at all of them.

#include <kinterp/core/Environment.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/core/detail/SplitMix64.hpp>
#include <kinterp/kriging/Kriging.hpp>
#include <kinterp/kriging/Likelihood.hpp>

#include "support/BenchArguments.hpp"
#include "support/JsonLine.hpp"
#include "support/PeakMemory.hpp"
#include "support/Statistics.hpp"
#include "support/StdoutToStderr.hpp"

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace {

using kinterp::bench::max_over_ranks;

constexpr const char* usage =
    "usage: kinterp-bench-kriging [--n 2500,5000,10000,20000] [--targets 1000]\n"
    "       [--variance-targets M] [--rank 500 | --neighbors 30] [--product direct|tree]\n"
    "       [--rtol 1e-8] [--model matern32] [--shape A] [--length-scale 0.1] [--nugget 1e-3]\n"
    "       [--batch 64] [--variance-tolerance 1e-6] [--approximate]\n"
    "       [--likelihood | --fit] [--anisotropic]\n"
    "Ordinary kriging in 2D for each N: the fit, the mean at the targets, the exact\n"
    "(or --approximate) variance at the first M targets (default all, 0 none), and a\n"
    "refit of new values at the same points; times and peak memory per rank.\n"
    "--neighbors K: the Vecchia preconditioner instead of Nystrom's --rank.\n"
    "--likelihood: one likelihood estimate with the length scales' (and angle's)\n"
    "derivatives exact and by central differences; --fit: a hyperparameter fit each way.\n"
    "--anisotropic: length scales (l, l/2) rotated by 0.3 rad, the angle fitted too.\n"
    "--shape: rq's alpha or matern's nu, fitted too by --likelihood and --fit.\n";

struct Settings {
  bool help = false;
  std::vector<int> n = {2500, 5000, 10000, 20000};
  long targets = 1000;
  long variance_targets = -1;  // -1: all targets
  int rank = 500;
  int neighbors = 0;
  std::string product = "direct";
  double rtol = kinterp::KrigingOptions::default_solve().rtol;
  std::string model = "matern32";
  double shape = 0, length_scale = 0.1, nugget = 1e-3, variance_tolerance = 1e-6;
  int batch = 64;
  bool approximate = false;
  bool likelihood = false, fit = false, anisotropic = false;
};

Settings parse(int argc, char** argv) {
  Settings s;
  kinterp::bench::BenchArguments arguments(argc, argv);
  while (arguments.next()) {
    if (arguments.is("--help", "-h")) {
      s.help = true;
    } else if (arguments.is("--approximate")) {
      s.approximate = true;
    } else if (arguments.is("--likelihood")) {
      s.likelihood = true;
    } else if (arguments.is("--fit")) {
      s.fit = true;
    } else if (arguments.is("--anisotropic")) {
      s.anisotropic = true;
    } else if (arguments.is("--n")) {
      s.n = arguments.integers();
    } else if (arguments.is("--targets")) {
      s.targets = arguments.integer();
    } else if (arguments.is("--variance-targets")) {
      s.variance_targets = arguments.integer(0);
    } else if (arguments.is("--rank")) {
      s.rank = static_cast<int>(arguments.integer(0));
    } else if (arguments.is("--neighbors")) {
      s.neighbors = static_cast<int>(arguments.integer());
    } else if (arguments.is("--product")) {
      s.product = arguments.name({"direct", "tree"});
    } else if (arguments.is("--rtol")) {
      s.rtol = arguments.real();
    } else if (arguments.is("--model")) {
      s.model = arguments.text();
    } else if (arguments.is("--shape")) {
      s.shape = arguments.real();
    } else if (arguments.is("--length-scale")) {
      s.length_scale = arguments.real();
    } else if (arguments.is("--nugget")) {
      s.nugget = arguments.real();
    } else if (arguments.is("--batch")) {
      s.batch = static_cast<int>(arguments.integer());
    } else if (arguments.is("--variance-tolerance")) {
      s.variance_tolerance = arguments.real();
    } else {
      arguments.unknown();
    }
  }
  return s;
}

/// A number in [0, 1) from (stream, index) alone: the same data for any rank count.
double uniform(std::uint64_t stream, std::uint64_t index) {
  return kinterp::detail::unit_interval(
      kinterp::detail::splitmix64_finalise(stream * 0x9e3779b97f4a7c15ULL + index + 1));
}

using Matrix = kinterp::Kriging::Matrix;

/// This rank's rows of `rows` uniform points in the unit square (and their values).
Matrix points(std::uint64_t stream, kinterp::RowBlock block, Matrix* values) {
  Matrix x("bench::points", block.count, 2);
  auto host = Kokkos::create_mirror_view(x);
  Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::HostSpace> z("bench::values", block.count, 1);
  for (std::int64_t i = 0; i < block.count; ++i) {
    const std::uint64_t g = block.begin + i;
    host(i, 0) = uniform(stream, 2 * g);
    host(i, 1) = uniform(stream, 2 * g + 1);
    z(i, 0) =
        std::sin(6 * host(i, 0)) * std::cos(4 * host(i, 1)) + 0.03 * (uniform(stream + 7, g) - 0.5);
  }
  Kokkos::deep_copy(x, host);
  if (values) {
    *values = Matrix("bench::values", block.count, 1);
    Kokkos::deep_copy(*values, z);
  }
  return x;
}

/// --likelihood and --fit: the length scales' and angles' derivatives exact
/// and by central differences, on the same data and probes.
void compare_derivatives(MPI_Comm comm, const Settings& s, const kinterp::CovarianceModel& model,
                         const kinterp::KrigingOptions& options) {
  const bool root = kinterp::rank_of(comm) == 0;
  if (root) {
    std::fprintf(stderr,
                 "likelihood of %s: the length scales', angles' and shape's derivatives exact / "
                 "differenced\n",
                 model.description().c_str());
  }
  for (long n : s.n) {
    const kinterp::RowBlock block = kinterp::block_partition(n, comm);
    Matrix values;
    const Matrix x = points(2, block, &values);
    for (bool exact : {true, false}) {
      kinterp::HyperparameterFitOptions fit;
      fit.likelihood.exact_derivatives = exact;
      fit.which.angles = !model.angles.empty();
      fit.which.shape = model.shape > 0;
      const double start = MPI_Wtime();
      std::string what;
      if (s.fit) {
        const auto result = kinterp::fit_hyperparameters(comm, model, x, values, options, fit);
        what = "fit: " + result.model.description() + ", log L " +
               std::to_string(result.at_fit.log_likelihood) + ", " +
               std::to_string(result.evaluations) + " evaluations";
      } else {
        const auto e = kinterp::estimate_log_likelihood(comm, model, x, values, options, fit.which,
                                                        fit.likelihood);
        what = "log L " + std::to_string(e.log_likelihood) + ", gradient";
        for (double g : e.gradient) what += " " + std::to_string(g);
      }
      const double seconds = max_over_ranks(comm, MPI_Wtime() - start);
      if (root) {
        std::fprintf(stderr, "%7ld  %-11s %8.2f s  %s\n", n, exact ? "exact" : "differenced",
                     seconds, what.c_str());
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const auto environment = kinterp::bench::start_quietly(argc, argv);
  try {
    const Settings s = parse(argc, argv);
    const MPI_Comm comm = MPI_COMM_WORLD;
    const bool root = kinterp::rank_of(comm) == 0;
    if (s.help) {
      if (root) std::fputs(usage, stderr);
      return 0;
    }
    kinterp::CovarianceModel model;
    model.family = s.model;
    model.shape = s.shape;
    model.length_scales = {s.length_scale};
    if (s.anisotropic) model.length_scales = {s.length_scale, s.length_scale / 2};
    if (s.anisotropic) model.angles = {0.3};
    model.nugget = s.nugget;
    kinterp::KrigingOptions options;
    options.kind = kinterp::KrigingKind::Ordinary;
    options.preconditioner.rank = s.neighbors > 0 ? 0 : s.rank;
    options.vecchia.neighbors = s.neighbors;
    options.solve.rtol = s.rtol;
    if (s.product == "tree") {
      options.product.engine = kinterp::ProductEngine::Tree;
      options.product.tree.tolerance = kinterp::solve_product_tolerance<double>(s.rtol);
    }
    options.variance_batch = s.batch;
    options.variance_tolerance = s.variance_tolerance;
    if (s.likelihood || s.fit) {
      compare_derivatives(comm, s, model, options);
      return 0;
    }
    const std::string preconditioner =
        s.neighbors > 0 ? "Vecchia, " + std::to_string(s.neighbors) + " neighbors"
                        : "Nystrom rank " + std::to_string(s.rank);
    const long variance_targets =
        s.variance_targets < 0 ? s.targets : std::min(s.variance_targets, s.targets);
    if (root) {
      std::fprintf(stderr,
                   "bench_kriging: %d rank(s) x %d thread(s), ordinary kriging in 2D, %s, "
                   "%s, %s products, %ld targets (variance at %ld), %s variance\n"
                   "      N  fit it  fit s  mean s  var it   var s  total s  refit s  peak "
                   "MB/rank  dense K MB\n",
                   kinterp::size_of(comm), Kokkos::DefaultExecutionSpace().concurrency(),
                   model.description().c_str(), preconditioner.c_str(), s.product.c_str(),
                   s.targets, variance_targets,
                   s.approximate ? "approximate (Nystrom)" : "exact (batched CG)");
    }
    const kinterp::RowBlock target_block = kinterp::block_partition(s.targets, comm);
    const Matrix targets = points(1, target_block, nullptr);
    // The variance's targets: the first variance_targets of them.
    const kinterp::RowBlock variance_block = kinterp::block_partition(variance_targets, comm);
    const Matrix variance_points = points(1, variance_block, nullptr);
    for (long n : s.n) {
      const kinterp::RowBlock block = kinterp::block_partition(n, comm);
      Matrix values;
      const Matrix x = points(2, block, &values);
      const double start = MPI_Wtime();
      kinterp::Kriging kriging(comm, model, x, values, options);
      const double fitted = MPI_Wtime();
      Matrix mean("bench::mean", target_block.count, 1),
          variance("bench::variance", variance_block.count, 1);
      kriging.mean(targets, mean);
      const double meaned = MPI_Wtime();
      const kinterp::KrigingVarianceInfo info =
          variance_targets > 0 ? kriging.variance(variance_points, variance, s.approximate)
                               : kinterp::KrigingVarianceInfo{};
      const double done = MPI_Wtime();
      const int fit_iterations = kriging.fit_result().iterations;
      // A refit (new values at the same points: a simulation's next time
      // step) keeps the set-up: the tree and the preconditioner.
      const Matrix next("bench::next_values", values.extent(0), 1);
      Kokkos::parallel_for(
          "bench::next_values", values.extent(0),
          KOKKOS_LAMBDA(const std::size_t i) { next(i, 0) = 0.5 * values(i, 0) + 1; });
      kriging.refit(next);
      const double refit_s = max_over_ranks(comm, MPI_Wtime() - done);
      const double fit_s = max_over_ranks(comm, fitted - start),
                   mean_s = max_over_ranks(comm, meaned - fitted),
                   variance_s = max_over_ranks(comm, done - meaned),
                   total_s = max_over_ranks(comm, done - start);
      const double peak = max_over_ranks(comm, kinterp::bench::peak_rss_bytes()) / 1048576;
      const double dense_mb = 8.0 * n * n / 1e6;
      kinterp::bench::JsonLine line;
      line.add("record", "kriging")
          .add("n", std::int64_t{n})
          .add("targets", std::int64_t{s.targets})
          .add("ranks", kinterp::size_of(comm))
          .add("threads", Kokkos::DefaultExecutionSpace().concurrency())
          .add("model", s.model)
          .add("variance_targets", std::int64_t{variance_targets})
          .add("nystrom_rank", s.neighbors > 0 ? 0 : s.rank)
          .add("vecchia_neighbors", s.neighbors)
          .add("product", kriging.fit_result().product_engine)
          .add("rtol", s.rtol)
          .add("approximate", s.approximate)
          .add("fit_iterations", fit_iterations)
          .add("fit_seconds", fit_s)
          .add("refit_iterations", kriging.fit_result().iterations)
          .add("refit_seconds", refit_s)
          .add("mean_seconds", mean_s)
          .add("variance_batches", info.batches)
          .add("variance_max_iterations", info.max_iterations)
          .add("variance_seconds", variance_s)
          .add("variance_error_bound", info.error_bound)
          .add("total_seconds", total_s)
          .add("peak_rss_mb_per_rank", peak)
          .add("dense_covariance_mb", dense_mb);
      kinterp::bench::emit(comm, line);
      if (root) {
        std::fprintf(stderr, "%7ld  %6d  %5.2f  %6.3f  %6d  %6.1f  %7.1f  %7.2f  %12.1f  %10.1f\n",
                     n, fit_iterations, fit_s, mean_s, info.max_iterations, variance_s, total_s,
                     refit_s, peak, dense_mb);
      }
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_kriging: %s\n", error.what());
    return 1;
  }
  return 0;
}
