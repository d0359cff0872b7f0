#pragma once
/// \file Npy.hpp
/// NumPy .npy files read and written in parallel: each rank reads or writes only
/// its own block of rows, with MPI-IO at computed offsets.

#include <kinterp/core/Partition.hpp>

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kinterp::io {

/// What a .npy header says. Only little-endian float32/float64 arrays of one or
/// two dimensions in C order are accepted.
struct NpyHeader {
  std::int64_t rows = 0;         ///< shape[0]
  std::int64_t columns = 1;      ///< shape[1], or 1 for a 1-D array
  int ndim = 2;                  ///< 1 or 2
  int item_size = 8;             ///< 4 (float32) or 8 (float64)
  std::int64_t data_offset = 0;  ///< bytes before the first element
};

/// This rank's rows of a distributed 2-D array, row-major, in double or float.
template <class T>
struct LocalRows {
  std::int64_t global_rows = 0;
  std::int64_t columns = 1;
  int ndim = 2;           ///< as read from / to be written to the file
  RowBlock block;         ///< which global rows `values` holds
  std::vector<T> values;  ///< block.count * columns values, row-major
};

/// Collective. Reads the header on one rank and shares it; throws kinterp::Error
/// on every rank for a missing or unreadable file, a file that is not .npy, an
/// unsupported dtype, Fortran order, more than two dimensions, or a file shorter
/// than its header says (truncated).
NpyHeader read_npy_header(MPI_Comm comm, const std::string& path);

/// Collective. Reads the rows `block` of `path` (default: block_partition of its
/// rows over `comm`), converting float32/float64 to T. Errors as read_npy_header,
/// plus a block outside the array.
template <class T>
LocalRows<T> read_npy(MPI_Comm comm, const std::string& path);
template <class T>
LocalRows<T> read_npy(MPI_Comm comm, const std::string& path, RowBlock block);

/// Collective. Writes the distributed array whose rows [block.begin,
/// block.begin + block.count) are `local` on each rank (blocks contiguous and
/// ordered by rank, covering global_rows) as float64 (`item_size` 8) or float32
/// (4), shape (global_rows,) when ndim is 1 (columns must then be 1) or
/// (global_rows, columns). Replaces an existing file. Throws kinterp::Error on
/// every rank when the file cannot be written.
template <class T>
void write_npy(MPI_Comm comm, const std::string& path, const LocalRows<T>& local,
               int item_size = 8);

}  // namespace kinterp::io
