#pragma once
/// \file Hdf5Rows.hpp
/// Rows of a dataset moved between memory and the file in chunks, each chunk
/// one H5Dread or H5Dwrite of a hyperslab of whole rows, made as often on every
/// rank (the transfers may be collective). Private to the library, built with HDF5.

#include <kinterp/core/Partition.hpp>
#include <kinterp/io/ArrayShape.hpp>

#include "Hdf5File.hpp"
#include "RowLayout.hpp"

#include <hdf5.h>
#include <mpi.h>

#include <cstdint>
#include <string>
#include <type_traits>

namespace kinterp::io::hdf5 {

/// HDF5's type for F (float or double) in memory.
template <class F>
hid_t memory_type() {
  return std::is_same_v<F, float> ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
}

/// A dataset transfer property list: collective or independent MPI-IO.
Id transfer_list(bool collective);

/// Rows per transfer call: `chunk_bytes` of them, at least one, and fewer than
/// INT_MAX bytes.
std::int64_t chunk_rows(std::int64_t chunk_bytes, const ArrayShape& shape);

/// Selects rows [begin, begin + count) of the dataset in `file_space` and makes
/// `memory_space` their count * columns values; nothing in either when count is 0.
herr_t select_rows(hid_t file_space, const ArrayShape& shape, std::int64_t begin,
                   std::int64_t count, Id& memory_space);

/// Calls move(first, count, memory_space) for consecutive chunks of at most
/// `chunk` of this rank's rows `block`, as often on every rank, with the
/// chunk's rows selected in `file_space` and memory_space made to fit; `move`
/// returns what H5Dread or H5Dwrite returned. Records the first failure in
/// `failure`: "where: rank R: <doing> rows A to B failed (reason)<advice>".
template <class Move>
void for_each_row_chunk(MPI_Comm comm, hid_t file_space, const ArrayShape& shape, RowBlock block,
                        std::int64_t chunk, const std::string& where, const char* doing,
                        const char* advice, std::string& failure, Move&& move) {
  detail::for_each_chunk(comm, block.count, chunk, [&](std::int64_t first, std::int64_t count) {
    Id memory_space;
    herr_t rc = select_rows(file_space, shape, block.begin + first, count, memory_space);
    if (rc >= 0) rc = move(first, count, memory_space.get());
    if (rc < 0 && failure.empty()) {
      failure = where + ": " + rank_text(comm) + ": " + doing + " rows " +
                std::to_string(block.begin + first) + " to " +
                std::to_string(block.begin + first + count - 1) + " failed (" + hdf5_reason() +
                ")" + advice;
    }
  });
}

}  // namespace kinterp::io::hdf5
