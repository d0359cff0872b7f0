#pragma once
/// \file Partition.hpp
/// Which contiguous block of global rows each rank owns.

#include <mpi.h>

#include <cstdint>

namespace kinterp {

/// Rows [begin, begin + count) of `global_rows` owned by one rank.
struct RowBlock {
  std::int64_t begin = 0;
  std::int64_t count = 0;
};

/// The default distribution: rank r of P gets global_rows / P rows, the first
/// global_rows % P ranks one more. Ranks may own no rows when global_rows < P.
inline RowBlock block_partition(std::int64_t global_rows, int rank, int size) {
  const std::int64_t base = global_rows / size;
  const std::int64_t extra = global_rows % size;
  RowBlock block;
  block.count = base + (rank < extra ? 1 : 0);
  block.begin = rank * base + (rank < extra ? rank : extra);
  return block;
}

/// The rank and size of a communicator (for code without a kinterp::Communicator).
inline int rank_of(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  return rank;
}
inline int size_of(MPI_Comm comm) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  return size;
}

/// The calling rank's block of `global_rows` under the default distribution.
inline RowBlock block_partition(std::int64_t global_rows, MPI_Comm comm) {
  return block_partition(global_rows, rank_of(comm), size_of(comm));
}

/// Collective: this rank's rows [begin, begin + count) when every rank holds a
/// contiguous block of `count` rows, the blocks in rank order.
inline RowBlock global_block(MPI_Comm comm, std::int64_t count) {
  std::int64_t begin = 0;
  MPI_Exscan(&count, &begin, 1, MPI_INT64_T, MPI_SUM, comm);
  if (rank_of(comm) == 0) begin = 0;  // MPI_Exscan leaves rank 0's result undefined
  return {begin, count};
}

}  // namespace kinterp
