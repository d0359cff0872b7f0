#pragma once
/// \file NpyDetail.hpp
/// The .npy entry points with the bytes moved per MPI-IO call as a parameter, so
/// that tests can exercise with small arrays the chunking that counts above
/// INT_MAX elements need. Private to the library and its tests.

#include <kinterp/io/Npy.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace kinterp::io::detail {

/// Bytes per MPI-IO call: far below the 2 GiB where some MPI-IO layers overflow
/// int byte counts, and the bound on the float32 <-> float64 conversion buffer.
inline constexpr std::int64_t default_chunk_bytes = std::int64_t(1) << 27;

/// As io::read_npy; `block` defaults to block_partition of the file's rows.
template <class T>
LocalRows<T> read_npy(MPI_Comm comm, const std::string& path, const std::optional<RowBlock>& block,
                      std::int64_t chunk_bytes);

/// As io::write_npy.
template <class T>
void write_npy(MPI_Comm comm, const std::string& path, const LocalRows<T>& local, int item_size,
               std::int64_t chunk_bytes);

}  // namespace kinterp::io::detail
