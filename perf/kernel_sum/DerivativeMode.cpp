// derivatives: the gradient and the Laplacian of a fitted model
// (KernelModel::predict_gradient, predict_laplacian) next to its values
// (predict) on the same data in the same run: the seed's 2D problem, N =
// --seed-n points with the seed's length scale 0.1, at 101 x 101 grid targets
// (a grid in 2D, as many uniform targets otherwise).

#include "BenchData.hpp"
#include "Context.hpp"
#include "Modes.hpp"
#include "support/JsonLine.hpp"

#include <kinterp/KernelModel.hpp>
#include <kinterp/core/Partition.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <cstdio>
#include <string>

namespace kinterp::bench {
namespace {

constexpr int kGrid = 101;

template <class T>
void bench_derivatives(MPI_Comm comm, const Settings& s, const std::string& kernel_name, int d) {
  const int rank = rank_of(comm), size = size_of(comm);
  const RowBlock block = kinterp::block_partition(s.seed_n, rank, size);
  const std::int64_t m_targets = std::int64_t(kGrid) * kGrid;
  const RowBlock target_block = kinterp::block_partition(m_targets, rank, size);
  const auto points = make_matrix<T>("bench::points", block.count, d, [&](std::int64_t i, int k) {
    return coordinate(block.begin + i, k);
  });
  const auto weights = make_matrix<T>("bench::weights", block.count, 1, [&](std::int64_t i, int) {
    return weight(block.begin + i, 0);
  });
  const auto targets =
      make_matrix<T>("bench::targets", target_block.count, d, [&](std::int64_t i, int k) {
        const std::int64_t row = target_block.begin + i;
        if (d != 2) return coordinate(s.seed_n + row, k);
        return (k == 0 ? row % kGrid : row / kGrid) / double(kGrid - 1);
      });
  const KernelModel model = KernelModel::named(kernel_name, 0.1);
  Matrix<T> values("bench::values", target_block.count, 1);
  Matrix<T> gradients("bench::gradients", target_block.count, d);
  Matrix<T> laplacians("bench::laplacians", target_block.count, 1);
  std::string gradient_route, laplacian_route;
  const double value_seconds = time_call(
      comm, s.seed_reps, [&] { model.predict<T>(comm, points, weights, targets, values); });
  const double gradient_seconds = time_call(comm, s.seed_reps, [&] {
    gradient_route = model.predict_gradient<T>(comm, points, weights, targets, gradients).product;
  });
  const double laplacian_seconds = time_call(comm, s.seed_reps, [&] {
    laplacian_route =
        model.predict_laplacian<T>(comm, points, weights, targets, laplacians).product;
  });
  JsonLine line = case_line(comm, "derivatives", kernel_name, type_name<T>(), d, s.seed_n, 1);
  line.add("targets", m_targets)
      .add("reps", s.seed_reps)
      .add("predict_seconds", value_seconds)
      .add("gradient_seconds", gradient_seconds)
      .add("laplacian_seconds", laplacian_seconds)
      .add("gradient_over_predict", gradient_seconds / value_seconds)
      .add("laplacian_over_predict", laplacian_seconds / value_seconds)
      .add("gradient_route", gradient_route)
      .add("laplacian_route", laplacian_route);
  emit(comm, line);
  if (rank == 0) {
    std::fprintf(stderr, "  %-10s %-6s %4d %10.4f %10.4f %6.2f %10.4f %6.2f\n", kernel_name.c_str(),
                 type_name<T>(), d, value_seconds, gradient_seconds,
                 gradient_seconds / value_seconds, laplacian_seconds,
                 laplacian_seconds / value_seconds);
  }
}

}  // namespace

void run_derivative_mode(MPI_Comm comm, const Settings& s) {
  if (rank_of(comm) == 0) {
    std::fprintf(stderr,
                 "\nderivatives of a fitted model: N = %lld points, %d x %d targets, length scale "
                 "0.1, median of %d (seconds, and ratios to predict)\n",
                 static_cast<long long>(s.seed_n), kGrid, kGrid, s.seed_reps);
    std::fprintf(stderr, "  %-10s %-6s %4s %10s %10s %6s %10s %6s\n", "kernel", "dtype", "d",
                 "predict", "gradient", "ratio", "laplacian", "ratio");
  }
  for (const auto& kernel : s.kernels)
    for (int d : s.dims)
      for (const auto& type : s.types)
        for_each_type(type, [&](auto t) { bench_derivatives<decltype(t)>(comm, s, kernel, d); });
}

}  // namespace kinterp::bench
