// gemm: the on-node GEMM path for d >= 16 (local_kernel_sum_gemm) next to a
// bare KokkosBlas::gemm of the shapes it multiplies, and next to
// local_kernel_sum as dispatched.

#include "BenchData.hpp"
#include "Context.hpp"
#include "Modes.hpp"
#include "support/JsonLine.hpp"
#include "support/Statistics.hpp"

#include <kinterp/kernels/RadialKernels.hpp>
#include <kinterp/local/GemmKernelSum.hpp>
#include <kinterp/local/LocalKernelSum.hpp>
#include <kinterp/local/LocalKernelSumOf.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cstdio>
#include <string>

namespace kinterp::bench {
namespace {

template <class T>
void bench_gemm(MPI_Comm comm, const Settings& s, const std::string& kernel_name, int d, int m) {
  using Space = Kokkos::DefaultExecutionSpace;
  const Space space;
  const std::int64_t n = s.gemm_n;
  const KernelSpec spec = bench_kernel(kernel_name, d);
  const RowBlock all{0, n};
  const auto points = make_matrix<T>("bench::gemm_points", n, d,
                                     [&](std::int64_t i, int k) { return coordinate(i, k); });
  const auto weights = make_matrix<T>("bench::gemm_weights", n, m,
                                      [&](std::int64_t i, int c) { return weight(i, c); });
  Matrix<T> out("bench::gemm_out", n, m);

  // kinterp's GEMM path, with a workspace kept across calls as a caller would.
  kinterp::GemmKernelSumWorkspace<T, Space> workspace;
  const auto gemm_path = [&] {
    Kokkos::deep_copy(space, out, T(0));
    kinterp::visit_kernel<T>(spec, [&](auto kernel) {
      kinterp::local_kernel_sum_gemm(space, kernel, T(1), points, points, weights, out, workspace);
    });
  };
  const double path_seconds = time_call(comm, s.gemm_reps, gemm_path);
  const auto host_out = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
  const double error =
      rank_of(comm) == 0 ? max_relative_error<T>(spec, n, d, m, all, host_out) : 0.0;

  // The bare GEMM of the path's tile shape: (targets x d) (sources x d)^T,
  // in the layout the path uses. Rate = its pairs (targets x sources) per second.
  using Tile = typename kinterp::GemmKernelSumWorkspace<T, Space>::Matrix;
  const auto plan = kinterp::detail::gemm_sum::plan_tiles(space);
  const int bt = static_cast<int>(std::min<std::int64_t>(plan.targets, n));
  const int bs = static_cast<int>(std::min<std::int64_t>(plan.sources, n));
  Kokkos::View<T*, Space::memory_space> storage("bench::gemm_tiles",
                                                std::size_t(bt + bs) * d + std::size_t(bt) * bs);
  const Tile a(storage.data(), bt, d), b(storage.data() + std::size_t(bt) * d, bs, d);
  const Tile c(storage.data() + std::size_t(bt + bs) * d, bt, bs);
  Kokkos::deep_copy(storage, T(0.5));
  const std::int64_t tile_calls = std::max<std::int64_t>(1, (n / bt) * (n / bs));
  const double gemm_seconds = time_call(comm, s.gemm_reps, [&] {
    for (std::int64_t call = 0; call < tile_calls; ++call)
      kinterp::detail::gemm_sum::gemm_on(space, "N", "T", T(1), a, b, T(0), c);
  });
  const double gemm_pairs = double(tile_calls) * bt * bs;

  // local_kernel_sum as the library dispatches it for this d, on a slice of
  // the targets (it may be much slower).
  const std::int64_t slice = std::min<std::int64_t>(n, 1024);
  const auto some_points =
      Kokkos::subview(points, std::make_pair<std::int64_t>(0, slice), Kokkos::ALL);
  const auto some_out = Kokkos::subview(out, std::make_pair<std::int64_t>(0, slice), Kokkos::ALL);
  const double dispatch_seconds = time_call(comm, s.gemm_reps, [&] {
    kinterp::local_kernel_sum_of<T>(space, spec, some_points, points, weights, some_out);
  });

  const int ranks = size_of(comm);
  const double pairs = double(n) * double(n);
  const double rate = ranks * pairs / path_seconds;
  const double gemm_rate = ranks * gemm_pairs / gemm_seconds;
  const double dispatch_rate = ranks * double(slice) * double(n) / dispatch_seconds;
  const double flops_per_pair = 2.0 * d;  // the GEMM's multiply-adds
  JsonLine line = case_line(comm, "gemm", kernel_name, type_name<T>(), d, n, m);
  line.add("g", spec.g)
      .add("reps", s.gemm_reps)
      .add("gemm_backend", gemm_backend())
      .add("tile_targets", bt)
      .add("tile_sources", bs)
      .add("seconds", path_seconds)
      .add("pairs_per_second", rate)
      .add("gflops", rate * flops_per_pair * 1e-9)
      .add("gemm_seconds", gemm_seconds)
      .add("gemm_pairs_per_second", gemm_rate)
      .add("gemm_gflops", gemm_rate * flops_per_pair * 1e-9)
      .add("fraction_of_gemm", rate / gemm_rate)
      .add("local_kernel_sum_pairs_per_second", dispatch_rate)
      .add("speedup_over_local_kernel_sum", rate / dispatch_rate)
      .add("use_gemm_kernel_sum", kinterp::use_gemm_kernel_sum<Space>(d))
      .add("max_rel_error", error);
  emit(comm, line);
  if (rank_of(comm) == 0) {
    std::fprintf(stderr,
                 "  %-10s %-6s %4d %3d %11.3e %8.2f %11.3e %8.2f %7.2f %11.3e %8.1fx %9.1e\n",
                 kernel_name.c_str(), type_name<T>(), d, m, rate, rate * flops_per_pair * 1e-9,
                 gemm_rate, gemm_rate * flops_per_pair * 1e-9, rate / gemm_rate, dispatch_rate,
                 rate / dispatch_rate, error);
  }
}

}  // namespace

void run_gemm_mode(MPI_Comm comm, const Settings& s) {
  const bool root = rank_of(comm) == 0;
  if (root) {
    std::fprintf(stderr,
                 "\nGEMM path (d >= 16), N = M = %lld, median of %d; GFLOP/s count the GEMM's "
                 "2d flops per pair\n",
                 static_cast<long long>(s.gemm_n), s.gemm_reps);
    std::fprintf(stderr, "  %-10s %-6s %4s %3s %11s %8s %11s %8s %7s %11s %9s %9s\n", "kernel",
                 "dtype", "d", "m", "pairs/s", "GFLOP/s", "gemm p/s", "GFLOP/s", "of gemm",
                 "dispatch", "speedup", "max rel");
  }
  for (const auto& kernel : s.kernels)
    for (int d : s.gemm_dims())
      for (const auto& type : s.types)
        for (int m : s.columns)
          for_each_type(type, [&](auto t) { bench_gemm<decltype(t)>(comm, s, kernel, d, m); });
}

}  // namespace kinterp::bench
