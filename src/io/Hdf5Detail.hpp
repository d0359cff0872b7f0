#pragma once
/// \file Hdf5Detail.hpp
/// The HDF5 entry points with the bytes moved per H5Dread/H5Dwrite call as a
/// parameter, so that tests can exercise with small arrays the chunking that
/// keeps each call far below MPI-IO's 2 GiB limits. Private to the library and
/// its tests.

#include <kinterp/io/Hdf5.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace kinterp::io::detail {

/// Bytes per HDF5 transfer call (and the bound on the conversion buffer).
inline constexpr std::int64_t default_hdf5_chunk_bytes = std::int64_t(1) << 27;

/// As io::read_hdf5; `block` defaults to block_partition of the dataset's rows.
template <class T>
LocalRows<T> read_hdf5(MPI_Comm comm, const std::string& path, const std::string& dataset,
                       const std::optional<RowBlock>& block, std::int64_t chunk_bytes);

/// As io::write_hdf5.
template <class T>
void write_hdf5(MPI_Comm comm, const std::string& path, const std::string& dataset,
                const LocalRows<T>& local, int item_size, const Attributes& attributes,
                std::int64_t chunk_bytes);

}  // namespace kinterp::io::detail
