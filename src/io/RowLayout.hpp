#pragma once
/// \file RowLayout.hpp
/// What the parallel readers and writers of row files (.npy, HDF5, CSV) share:
/// the checks that every rank's block of rows fits the array, reached by every
/// rank alike, and allocations and chunked transfers that keep the ranks in
/// step. Private to the library and its tests.

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/io/ArrayShape.hpp>
#include <kinterp/io/Npy.hpp>

#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

namespace kinterp::io::detail {

/// Resizes `values` on every rank or throws on every rank, so that a rank out of
/// memory cannot leave the others waiting in the next collective.
template <class V>
void allocate(MPI_Comm comm, const std::string& path, std::vector<V>& values, std::int64_t n) {
  agree_on_errors(comm, [&] {
    try {
      values.resize(static_cast<std::size_t>(n));
    } catch (const std::exception&) {
      throw Error(path + ": rank " + std::to_string(rank_of(comm)) + " cannot allocate " +
                  std::to_string(n) + " values; run on more ranks or nodes");
    }
  });
}

/// This rank's rows `block` of an array of shape (global_rows, columns), its
/// values allocated as by allocate (to be read into).
template <class T>
LocalRows<T> allocate_rows(MPI_Comm comm, const std::string& path, RowBlock block,
                           std::int64_t global_rows, std::int64_t columns, int ndim) {
  LocalRows<T> local;
  local.global_rows = global_rows;
  local.columns = columns;
  local.ndim = ndim;
  local.block = block;
  allocate(comm, path, local.values, block.count * columns);
  return local;
}

/// Collective: rank 0's `shape` on every rank.
ArrayShape broadcast_shape(MPI_Comm comm, const ArrayShape& shape);

/// Calls move(first, count) for consecutive pieces of [0, n) of at most `chunk`
/// elements, and as often on every rank (the most any rank needs), since each
/// call makes one collective I/O call; ranks with less to move pass count 0.
template <class Move>
void for_each_chunk(MPI_Comm comm, std::int64_t n, std::int64_t chunk, Move&& move) {
  std::int64_t rounds = (n + chunk - 1) / chunk;
  MPI_Allreduce(MPI_IN_PLACE, &rounds, 1, MPI_INT64_T, MPI_MAX, comm);
  for (std::int64_t round = 0; round < rounds; ++round) {
    const std::int64_t first = std::min(n, round * chunk);
    move(first, std::min(chunk, n - first));
  }
}

/// Every rank's `mine`, rank after rank, on every rank (all of the same size):
/// checks of them reach the same verdict and message everywhere.
std::vector<std::int64_t> gather_everywhere(MPI_Comm comm, const std::vector<std::int64_t>& mine);

/// Collective. Throws kinterp::Error on every rank unless the blocks of the
/// array to write are contiguous, ordered by rank and cover global_rows, every
/// rank passes the same shape, ndim is 1 (one column) or 2, item_size 4 or 8
/// and each rank holds block.count * columns values.
void check_layout(MPI_Comm comm, const std::string& path, RowBlock block, std::int64_t global_rows,
                  std::int64_t columns, int ndim, int item_size, std::size_t values);
template <class T>
void check_layout(MPI_Comm comm, const std::string& path, const LocalRows<T>& local,
                  int item_size) {
  check_layout(comm, path, local.block, local.global_rows, local.columns, local.ndim, item_size,
               local.values.size());
}

/// Collective. Throws on every rank if a rank asks for rows outside [0, rows);
/// says whether any two ranks' blocks overlap.
bool check_blocks(MPI_Comm comm, const std::string& path, RowBlock block, std::int64_t rows);

}  // namespace kinterp::io::detail
