#pragma once
/// \file Csv.hpp
/// Comma- or whitespace-separated text files of rows, for small data: read and
/// parsed on rank 0 and sent to the ranks by blocks of rows (those of
/// io::read_npy), written by gathering the rows on rank 0.
///
/// Format read: one row per line, values separated by commas (a line with a
/// comma) or else by spaces and tabs; '#' starts a comment to the end of the
/// line; blank lines are skipped; the first line may be a header of names (a
/// line none of whose fields is a number). A file of one column reads as shape
/// (N,), of d columns as (N, d).

#include <kinterp/core/Partition.hpp>
#include <kinterp/io/ArrayShape.hpp>
#include <kinterp/io/Npy.hpp>

#include <mpi.h>

#include <string>

namespace kinterp::io {

/// Collective. The shape of the CSV file `path` (item_size 8). Parses the whole
/// file on rank 0 and throws kinterp::Error on every rank for a missing or
/// unreadable file, a field that is not a number or is empty, or rows of
/// different lengths, naming the line.
ArrayShape read_csv_shape(MPI_Comm comm, const std::string& path);

/// Collective. Reads the rows `block` of `path` (default: block_partition of
/// its rows over `comm`) into T. Errors as read_csv_shape, plus a block outside
/// the array.
template <class T>
LocalRows<T> read_csv(MPI_Comm comm, const std::string& path);
template <class T>
LocalRows<T> read_csv(MPI_Comm comm, const std::string& path, RowBlock block);

/// Collective. Writes the distributed array `local` (blocks as for write_npy)
/// to `path` from rank 0, one row per line, values separated by commas, each
/// printed with "%.17g" (exact for float64). Replaces an existing file.
template <class T>
void write_csv(MPI_Comm comm, const std::string& path, const LocalRows<T>& local);

}  // namespace kinterp::io
