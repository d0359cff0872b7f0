#pragma once
// Test data that every rank can generate for itself: global matrices defined
// index by index, of which each rank takes its block of rows.

#include <kinterp/core/Partition.hpp>

#include "DeviceMatrix.hpp"
#include "KernelReference.hpp"

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cmath>

namespace kinterp::test {

inline int world_rank() {
  return rank_of(MPI_COMM_WORLD);
}
inline int world_size() {
  return size_of(MPI_COMM_WORLD);
}
inline RowBlock my_block(std::int64_t rows) {
  return block_partition(rows, MPI_COMM_WORLD);
}

/// The global rows x cols matrix with entries lo + (hi - lo) * uniform01(seed, i * cols + j).
template <class T>
HostMatrix<T> global_matrix(std::int64_t rows, std::int64_t cols, std::uint64_t seed, double lo,
                            double hi) {
  HostMatrix<T> m(rows, cols);
  for (std::int64_t k = 0; k < rows * cols; ++k) {
    m.values[k] = static_cast<T>(lo + (hi - lo) * uniform01(seed, k));
  }
  return m;
}

/// Rows [block.begin, block.begin + block.count) of `m` on the device.
template <class T>
DeviceMatrix<T> rows_on_device(const HostMatrix<T>& m, RowBlock block) {
  return rows_to_device(m, block.begin, block.count);
}

template <class View>
auto on_host(const View& view) {
  return Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), view);
}

inline double global_max(double value) {
  MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return value;
}

/// max over this rank's rows of |z - expected| / max |expected|, over all
/// ranks (`expected`: the global matrix; `block`: this rank's rows of it).
template <class View>
double relative_difference(const View& z, const HostMatrix<double>& expected, RowBlock block) {
  const auto got = on_host(z);
  double error = 0, scale = 0;
  for (std::int64_t i = 0; i < block.count; ++i)
    for (std::int64_t c = 0; c < expected.cols; ++c)
      error =
          std::max(error, std::abs(static_cast<double>(got(i, c)) - expected(block.begin + i, c)));
  for (double v : expected.values) scale = std::max(scale, std::abs(v));
  return global_max(error) / scale;
}

}  // namespace kinterp::test
