// generic: the generic evaluator (kinterp::Genred) on the Gaussian and
// Laplacian written so that the recogniser does not catch them, next to the
// compiled path (KernelSum) on the same data in the same run.

#include "BenchData.hpp"
#include "Context.hpp"
#include "Modes.hpp"
#include "support/JsonLine.hpp"
#include "support/Statistics.hpp"

#include <kinterp/Genred.hpp>
#include <kinterp/KernelSum.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/formula/Formula.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace kinterp::bench {
namespace {

template <class T>
void bench_generic(MPI_Comm comm, const Settings& s, const std::string& kernel_name, int d) {
  const int rank = rank_of(comm), size = size_of(comm);
  const RowBlock block = kinterp::block_partition(s.n, rank, size);
  const KernelSpec spec = bench_kernel(kernel_name, d);
  const auto points = make_matrix<T>("bench::points", block.count, d, [&](std::int64_t i, int k) {
    return coordinate(block.begin + i, k);
  });
  // The generic path's source rows: the point, then its weight.
  const auto rows = make_matrix<T>("bench::rows", block.count, d + 1, [&](std::int64_t i, int k) {
    return k < d ? coordinate(block.begin + i, k) : weight(block.begin + i, 0);
  });
  const auto weights = Kokkos::subview(rows, Kokkos::ALL, std::make_pair(d, d + 1));
  Matrix<T> weights_copy("bench::weights", block.count, 1);
  Kokkos::deep_copy(weights_copy, weights);
  const std::string distance = "Sum(Square(X-Y))";
  const std::string formula = kernel_name == "laplacian" ? "Exp(-G*Sqrt(" + distance + "))*A"
                                                         : "Exp(-G*" + distance + ")*A";
  const std::string dim = std::to_string(d);
  const kinterp::Formula parsed(
      formula, {"X = Vi(" + dim + ")", "Y = Vj(" + dim + ")", "A = Vj(1)", "G = Pm(1)"});
  const kinterp::Genred<T> generic(comm, parsed, {{"G", {spec.g}}}, kinterp::Reduction{}, 1, rows);
  const kinterp::KernelSum<T> compiled(comm, spec, points);
  Matrix<T> out("bench::out", block.count, 1);
  typename kinterp::Genred<T>::Output generic_out("bench::generic_out", block.count, 1);

  // Alternate, so that both see the same machine state.
  const double compiled_seconds =
      time_call(comm, s.reps, [&] { compiled(points, weights_copy, out); });
  const double generic_seconds = time_call(comm, s.reps, [&] { generic(points, generic_out); });

  // The two paths against each other, on every row of this rank.
  const auto a = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
  const auto b = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), generic_out);
  double difference = 0;
  for (std::int64_t i = 0; i < block.count; ++i) {
    difference = std::max(
        difference, std::fabs(double(a(i, 0)) - b(i, 0)) / std::max(std::fabs(b(i, 0)), 1e-300));
  }
  difference = max_over_ranks(comm, difference);

  const double pairs = static_cast<double>(s.n) * static_cast<double>(s.n);
  JsonLine line = case_line(comm, "generic", kernel_name, type_name<T>(), d, s.n, 1);
  line.add("formula", formula)
      .add("reps", s.reps)
      .add("generic_seconds", generic_seconds)
      .add("compiled_seconds", compiled_seconds)
      .add("generic_pairs_per_second", pairs / generic_seconds)
      .add("compiled_pairs_per_second", pairs / compiled_seconds)
      .add("generic_over_compiled_time", generic_seconds / compiled_seconds)
      .add("max_rel_difference", difference);
  emit(comm, line);
  if (rank == 0) {
    std::fprintf(stderr, "  %-10s %-6s %4d %12.3e %12.3e %10.2f %10.1e\n", kernel_name.c_str(),
                 type_name<T>(), d, pairs / generic_seconds, pairs / compiled_seconds,
                 generic_seconds / compiled_seconds, difference);
  }
}

}  // namespace

void run_generic_mode(MPI_Comm comm, const Settings& s) {
  const bool root = rank_of(comm) == 0;
  if (root) {
    std::fprintf(stderr,
                 "\ngeneric evaluator vs compiled kernel, N = M = %lld, m = 1, median of %d\n",
                 static_cast<long long>(s.n), s.reps);
    std::fprintf(stderr, "  %-10s %-6s %4s %12s %12s %10s %10s\n", "kernel", "dtype", "d",
                 "generic p/s", "compiled p/s", "time ratio", "max diff");
  }
  for (const auto& kernel : s.kernels)
    for (int d : s.dims)
      for (const auto& type : s.types)
        for_each_type(type, [&](auto t) { bench_generic<decltype(t)>(comm, s, kernel, d); });
}

}  // namespace kinterp::bench
