#pragma once
// What the file I/O tests share: a scratch directory per run, files written by
// rank 0 alone, the check that a collective call fails on every rank with the
// same message, and the arrays value(row, column) written and checked.

#include <kinterp/core/Error.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/io/Npy.hpp>

#include "../DistributedData.hpp"
#include "../ScratchDirectory.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <string>

namespace kinterp::test {

/// Rank 0 writes `bytes` to `path`; every rank returns once it is there.
inline void write_file(const std::string& path, const std::string& bytes) {
  if (world_rank() == 0) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

inline std::string file_contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Checks that `call` throws kinterp::Error on every rank with the same message,
/// which starts with `prefix` followed by ": " or ", " and contains every fragment.
inline void expect_collective_error(const std::function<void()>& call, const std::string& prefix,
                                    std::initializer_list<std::string> fragments) {
  std::string message = "(no exception)";
  try {
    call();
  } catch (const kinterp::Error& e) {
    message = e.what();
  } catch (const std::exception& e) {
    message = std::string("(not a kinterp::Error) ") + e.what();
  }
  EXPECT_TRUE(message.rfind(prefix + ": ", 0) == 0 || message.rfind(prefix + ", ", 0) == 0)
      << "'" << prefix << "' does not start\n"
      << message;
  for (const std::string& fragment : fragments) {
    EXPECT_NE(message.find(fragment), std::string::npos) << "'" << fragment << "' not in\n"
                                                         << message;
  }
  int length = static_cast<int>(message.size());
  MPI_Bcast(&length, 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::string first = world_rank() == 0 ? message : std::string(length, '\0');
  MPI_Bcast(first.data(), length, MPI_CHAR, 0, MPI_COMM_WORLD);
  EXPECT_EQ(message, first) << "ranks threw different messages";
}

/// The arrays the HDF5, CSV and row-file tests write and read: row + column / 10.
inline double value(std::int64_t row, std::int64_t column) {
  return row + column / 10.0;
}

/// An array known in closed form: its element at (row, column).
using Element = double (*)(std::int64_t row, std::int64_t column);

/// The calling rank's rows under the default distribution (read_npy's).
inline RowBlock default_block(std::int64_t rows, MPI_Comm comm = MPI_COMM_WORLD) {
  return block_partition(rows, comm);
}

/// Blocks growing with the rank (rank 0 may get none): uneven on purpose.
inline RowBlock uneven_block(std::int64_t rows, int rank, int size) {
  const auto edge = [&](std::int64_t r) { return rows * r * (r + 1) / (size * (size + 1)); };
  return {edge(rank), edge(rank + 1) - edge(rank)};
}

/// Rows `block` (by default default_block) of the array `element` (by default
/// value) of shape (rows, columns), as T, to write.
template <class T = double>
io::LocalRows<T> make_rows(std::int64_t rows, std::int64_t columns, int ndim, RowBlock block,
                           Element element = value) {
  io::LocalRows<T> local;
  local.global_rows = rows;
  local.columns = columns;
  local.ndim = ndim;
  local.block = block;
  for (std::int64_t row = block.begin; row < block.begin + block.count; ++row) {
    for (std::int64_t column = 0; column < columns; ++column) {
      local.values.push_back(static_cast<T>(element(row, column)));
    }
  }
  return local;
}
template <class T = double>
io::LocalRows<T> make_rows(std::int64_t rows, std::int64_t columns, int ndim) {
  return make_rows<T>(rows, columns, ndim, default_block(rows));
}

/// Checks that `local` holds rows `block` of the array `element` (by default
/// value) as T.
template <class T>
void expect_rows(const io::LocalRows<T>& local, RowBlock block, std::int64_t rows,
                 std::int64_t columns, int ndim, Element element = value) {
  EXPECT_EQ(local.global_rows, rows);
  EXPECT_EQ(local.columns, columns);
  EXPECT_EQ(local.ndim, ndim);
  EXPECT_EQ(local.block.begin, block.begin);
  EXPECT_EQ(local.block.count, block.count);
  ASSERT_EQ(local.values.size(), static_cast<std::size_t>(block.count * columns));
  for (std::int64_t k = 0; k < block.count; ++k) {
    for (std::int64_t j = 0; j < columns; ++j) {
      EXPECT_EQ(local.values[k * columns + j], static_cast<T>(element(block.begin + k, j)))
          << "row " << block.begin + k << ", column " << j;
    }
  }
}

}  // namespace kinterp::test
