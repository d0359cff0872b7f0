// sum: the distributed kernel sum through kinterp::KernelSum<T>: pairs per
// second, time spent waiting for ring messages, peak memory.

#include "BenchData.hpp"
#include "Context.hpp"
#include "Modes.hpp"
#include "support/JsonLine.hpp"
#include "support/PeakMemory.hpp"
#include "support/Statistics.hpp"

#include <kinterp/KernelSum.hpp>
#include <kinterp/core/Partition.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace kinterp::bench {
namespace {

template <class T>
void bench_sum(MPI_Comm comm, const Settings& s, const std::string& kernel_name, int d, int m) {
  const int rank = rank_of(comm), size = size_of(comm);
  MemoryProbe memory(comm);
  memory.start();
  const RowBlock block = kinterp::block_partition(s.n, rank, size);
  const KernelSpec spec = bench_kernel(kernel_name, d);
  const auto points = make_matrix<T>("bench::points", block.count, d, [&](std::int64_t i, int k) {
    return coordinate(block.begin + i, k);
  });
  const auto weights = make_matrix<T>("bench::weights", block.count, m, [&](std::int64_t i, int c) {
    return weight(block.begin + i, c);
  });
  Matrix<T> out("bench::out", block.count, m);
  const kinterp::KernelSum<T> sum(comm, spec, points);

  sum(points, weights, out);  // warm-up: first touch, ring buffers
  Kokkos::fence();
  std::vector<double> seconds, compute, wait, wait_fraction, rank_seconds;
  for (int rep = 0; rep < s.reps; ++rep) {
    MPI_Barrier(comm);
    const double start = MPI_Wtime();
    const kinterp::RingTimings timings = sum(points, weights, out);
    Kokkos::fence();
    const double elapsed = MPI_Wtime() - start;
    rank_seconds.push_back(elapsed);
    // The distributed product takes as long as its slowest rank.
    seconds.push_back(max_over_ranks(comm, elapsed));
    compute.push_back(max_over_ranks(comm, timings.compute));
    wait.push_back(max_over_ranks(comm, timings.wait));
    wait_fraction.push_back(
        max_over_ranks(comm, timings.total > 0 ? timings.wait / timings.total : 0.0));
  }

  const auto host_out = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
  const double error = rank == 0 ? max_relative_error<T>(spec, s.n, d, m, block, host_out) : 0.0;

  const Stats time = stats(seconds);
  const std::vector<double> per_rank_seconds = all_ranks(comm, stats(rank_seconds).median);
  const double pairs = static_cast<double>(s.n) * static_cast<double>(s.n);
  const double rate = pairs / time.median;

  JsonLine line = case_line(comm, "kernel_sum", kernel_name, type_name<T>(), d, s.n, m);
  line.add("g", spec.g)
      .add("reps", s.reps)
      .add("seconds", time.median)
      .add("seconds_min", time.min)
      .add("seconds_max", time.max)
      .add("pairs", pairs)
      .add("pairs_per_second", rate)
      .add("pairs_per_second_per_thread", rate / (size * threads_per_rank()))
      .add("compute_seconds", stats(compute).median)
      .add("wait_seconds", stats(wait).median)
      .add("wait_fraction", stats(wait_fraction).median)
      .add("seconds_per_rank", per_rank_seconds)
      .add("max_rel_error", error);
  memory.finish(line, block.count);
  emit(comm, line);
  if (rank == 0) {
    std::fprintf(stderr, "  %-10s %-6s %4d %3d %12.3e %16.3e %10.4g %8.1f%% %9.1e\n",
                 kernel_name.c_str(), type_name<T>(), d, m, rate,
                 rate / (size * threads_per_rank()), time.median, 100 * stats(wait_fraction).median,
                 error);
  }
}

}  // namespace

void run_sum_mode(MPI_Comm comm, const Settings& s) {
  const bool root = rank_of(comm) == 0;
  if (root) {
    std::fprintf(stderr, "\nkernel sum, N = M = %lld, median of %d\n", static_cast<long long>(s.n),
                 s.reps);
    std::fprintf(stderr, "  %-10s %-6s %4s %3s %12s %16s %10s %9s %9s\n", "kernel", "dtype", "d",
                 "m", "pairs/s", "pairs/s/thread", "seconds", "wait", "max rel");
  }
  for (const auto& kernel : s.kernels)
    for (int d : s.dims)
      for (const auto& type : s.types)
        for (int m : s.columns)
          for_each_type(type, [&](auto t) { bench_sum<decltype(t)>(comm, s, kernel, d, m); });
}

}  // namespace kinterp::bench
