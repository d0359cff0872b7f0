// The tree product against the direct one: one product K w at the sources
// (the solve's product) for N points in 1-3 dimensions, its set-up and
// product times, its memory, and its error against the direct engine on
// sampled rows, in the contract's norm (max_i |err_i| / sum_j |k_ij||w_j|)
// and relative 2-norm. One JSON object per line on stdout, a summary on
// stderr. It reports; it never passes or fails on time.
//
//   kinterp-bench-fast-sum --kernel gaussian --dim 2 --n 1000000 --tolerance 1e-6
//       [--length-scale 0.05] [--dtype float|double] [--distribution uniform|clustered]
//       [--direct] [--sample 1000] [--repeat 3] [--weights signed|positive]

#include <kinterp/core/Environment.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/core/detail/SplitMix64.hpp>
#include <kinterp/dist/DirectKernelProduct.hpp>
#include <kinterp/dist/TreeKernelProduct.hpp>

#include "support/BenchArguments.hpp"
#include "support/JsonLine.hpp"
#include "support/PeakMemory.hpp"
#include "support/Statistics.hpp"
#include "support/StdoutToStderr.hpp"

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using kinterp::bench::JsonLine;
using kinterp::bench::max_over_ranks;

constexpr const char* usage =
    "usage: kinterp-bench-fast-sum --kernel NAME --dim 1|2|3 --n N --tolerance EPS\n"
    "       [--length-scale 0.05] [--dtype float|double] [--distribution uniform|clustered]\n"
    "       [--direct] [--sample 1000] [--repeat 3] [--degree P] [--leaf-size L]\n"
    "       [--weights signed|positive]\n"
    "Points in the unit cube (clustered: 20 Gaussian blobs of spread 0.02), weights\n"
    "uniform in [-1, 1] (positive: in [0, 1], where no error cancels, the contract's\n"
    "hard case). --direct also times the direct product (N^2: minutes at 1e6).\n"
    "--degree and --leaf-size override the tree's choices (0: chosen), for tuning them.\n";

struct Settings {
  std::string kernel = "gaussian", dtype = "float", distribution = "uniform";
  std::string weights = "signed";
  int dim = 2;
  std::int64_t n = 100000;
  double tolerance = 1e-6, length_scale = 0.05;
  bool direct = false, help = false;
  int sample = 1000, repeat = 3;
  int degree = 0, leaf_size = 0;
};

Settings parse(int argc, char** argv) {
  Settings s;
  kinterp::bench::BenchArguments arguments(argc, argv);
  while (arguments.next()) {
    if (arguments.is("--help", "-h")) {
      s.help = true;
    } else if (arguments.is("--kernel")) {
      s.kernel = arguments.name(kinterp::KernelSpec::names());
    } else if (arguments.is("--dim")) {
      s.dim = static_cast<int>(arguments.integer());
    } else if (arguments.is("--n")) {
      s.n = arguments.integer();
    } else if (arguments.is("--tolerance")) {
      s.tolerance = arguments.real();
    } else if (arguments.is("--length-scale")) {
      s.length_scale = arguments.real();
    } else if (arguments.is("--dtype")) {
      s.dtype = arguments.name({"float", "double"});
    } else if (arguments.is("--distribution")) {
      s.distribution = arguments.name({"uniform", "clustered"});
    } else if (arguments.is("--weights")) {
      s.weights = arguments.name({"signed", "positive"});
    } else if (arguments.is("--direct")) {
      s.direct = true;
    } else if (arguments.is("--sample")) {
      s.sample = static_cast<int>(arguments.integer());
    } else if (arguments.is("--repeat")) {
      s.repeat = static_cast<int>(arguments.integer());
    } else if (arguments.is("--degree")) {
      s.degree = static_cast<int>(arguments.integer());
    } else if (arguments.is("--leaf-size")) {
      s.leaf_size = static_cast<int>(arguments.integer());
    } else {
      arguments.unknown();
    }
  }
  return s;
}

double uniform01(std::uint64_t stream, std::uint64_t index) {
  return kinterp::detail::unit_interval(
      kinterp::detail::splitmix64_finalise(stream * 0x9E3779B97F4A7C15ull + index));
}

/// Global point i, coordinate k: the same on any number of ranks.
double coordinate(const Settings& s, std::int64_t i, int k) {
  const double u = uniform01(1, std::uint64_t(i) * s.dim + k);
  if (s.distribution == "uniform") return u;
  // A blob: its centre, plus a Box-Muller normal of spread 0.02.
  const double centre = uniform01(2, std::uint64_t(i % 20) * 3 + k);
  const double v = uniform01(3, std::uint64_t(i) * s.dim + k);
  return centre + 0.02 * std::sqrt(-2 * std::log(1 - u)) * std::cos(6.283185307179586 * v);
}

template <class T>
void run(const Settings& s, MPI_Comm comm) {
  const auto block = kinterp::block_partition(s.n, comm);
  const int rank = kinterp::rank_of(comm);
  using Matrix = kinterp::LocalMatrix<T>;
  kinterp::bench::MemoryProbe memory(comm);
  memory.start();
  Matrix points("points", block.count, s.dim), weights("weights", block.count, 1);
  {
    auto p = Kokkos::create_mirror_view(points);
    auto w = Kokkos::create_mirror_view(weights);
    for (std::int64_t i = 0; i < block.count; ++i) {
      for (int k = 0; k < s.dim; ++k) p(i, k) = static_cast<T>(coordinate(s, block.begin + i, k));
      const double u = uniform01(4, block.begin + i);
      w(i, 0) = static_cast<T>(s.weights == "positive" ? u : 2 * u - 1);
    }
    Kokkos::deep_copy(points, p);
    Kokkos::deep_copy(weights, w);
  }
  const kinterp::KernelSpec spec = kinterp::KernelSpec::from_name(s.kernel, s.length_scale);
  const Kokkos::DefaultExecutionSpace space;

  MPI_Barrier(comm);
  double start = MPI_Wtime();
  const kinterp::TreeKernelProduct<T> tree(
      comm, spec, points, kinterp::TreeOptions{s.tolerance, s.degree, s.leaf_size});
  const double setup = max_over_ranks(comm, MPI_Wtime() - start);
  Matrix out("out", block.count, 1);
  std::vector<double> times;
  kinterp::RingTimings last;
  for (int r = 0; r < s.repeat; ++r) {
    MPI_Barrier(comm);
    start = MPI_Wtime();
    last = tree.apply_at_sources(space, weights, out);
    times.push_back(max_over_ranks(comm, MPI_Wtime() - start));
  }
  JsonLine line;
  memory.finish(line, block.count);

  // The error on sampled rows, against the direct engine (and sum |k||w|).
  const std::int64_t sampled = std::min<std::int64_t>(
      block.count, (s.sample + kinterp::size_of(comm) - 1) / kinterp::size_of(comm));
  Matrix rows("rows", sampled, s.dim), magnitudes("magnitudes", block.count, 2);
  Matrix exact("exact", sampled, 2);
  std::vector<std::int64_t> picked(sampled);
  {
    auto r = Kokkos::create_mirror_view(rows);
    auto p = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), points);
    auto w = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), weights);
    auto m = Kokkos::create_mirror_view(magnitudes);
    for (std::int64_t j = 0; j < sampled; ++j) {
      picked[j] = j * block.count / std::max<std::int64_t>(sampled, 1);
      for (int k = 0; k < s.dim; ++k) r(j, k) = p(picked[j], k);
    }
    for (std::int64_t i = 0; i < block.count; ++i) {
      m(i, 0) = w(i, 0);
      m(i, 1) = std::fabs(w(i, 0));
    }
    Kokkos::deep_copy(rows, r);
    Kokkos::deep_copy(magnitudes, m);
  }
  const kinterp::TreeWork work = tree.last_work();
  const kinterp::DirectKernelProduct<T> direct(comm, spec, points);
  direct.apply(space, rows, magnitudes, exact);
  double worst = 0, error2 = 0, exact2 = 0;
  {
    auto e = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), exact);
    auto o = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
    for (std::int64_t j = 0; j < sampled; ++j) {
      const double error = double(o(picked[j], 0)) - double(e(j, 0));
      worst = std::max(worst, std::fabs(error) / double(e(j, 1)));
      error2 += error * error;
      exact2 += double(e(j, 0)) * double(e(j, 0));
    }
  }
  double sums[2] = {error2, exact2};
  MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_DOUBLE, MPI_SUM, comm);
  worst = max_over_ranks(comm, worst);

  double direct_seconds = -1;
  if (s.direct) {
    MPI_Barrier(comm);
    start = MPI_Wtime();
    direct.apply_at_sources(space, weights, out);
    direct_seconds = max_over_ranks(comm, MPI_Wtime() - start);
  }
  const auto& info = tree.info();
  const double product = kinterp::bench::stats(times).median;
  line.add("kernel", s.kernel)
      .add("length_scale", s.length_scale)
      .add("dim", s.dim)
      .add("n", s.n)
      .add("dtype", s.dtype)
      .add("tolerance", s.tolerance)
      .add("distribution", s.distribution)
      .add("weights", s.weights)
      .add("degree", info.degree)
      .add("leaf_size", info.leaf_size)
      .add("setup_seconds", setup)
      .add("product_seconds", product)
      .add("product_seconds_all", times);
  if (s.direct) line.add("direct_seconds", direct_seconds).add("speedup", direct_seconds / product);
  line.add("pairs_per_target", work.pairs_per_target())
      .add("near_pairs", work.near_pairs)
      .add("far_pairs", work.far_pairs)
      .add("work_imbalance", work.imbalance())
      .add("max_rel_error", worst)
      .add("rel_error_2norm", std::sqrt(sums[0] / sums[1]))
      .add("sampled_rows", static_cast<std::int64_t>(std::min<std::int64_t>(s.n, s.sample)))
      .add("tree_bytes_per_point",
           max_over_ranks(comm, double(info.bytes) / std::max<std::int64_t>(block.count, 1)))
      .add("threads", Kokkos::DefaultExecutionSpace().concurrency())
      .add("ranks", kinterp::size_of(comm));
  if (rank == 0) {
    std::printf("%s\n", line.text().c_str());
    std::fflush(stdout);
    std::fprintf(stderr,
                 "fast-sum %s %dD n=%lld %s eps=%g: setup %.3g s, product %.3g s%s, "
                 "%.3g pairs per target, max rel error %.2g (bound %g), 2-norm %.2g\n",
                 s.kernel.c_str(), s.dim, static_cast<long long>(s.n), s.dtype.c_str(), s.tolerance,
                 setup, product,
                 s.direct ? (", direct " + std::to_string(direct_seconds) + " s").c_str() : "",
                 work.pairs_per_target(), worst, s.tolerance, std::sqrt(sums[0] / sums[1]));
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
    if (settings.dtype == "float") {
      run<float>(settings, MPI_COMM_WORLD);
    } else {
      run<double>(settings, MPI_COMM_WORLD);
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "kinterp-bench-fast-sum: %s\n", error.what());
    return 1;
  }
  return 0;
}
