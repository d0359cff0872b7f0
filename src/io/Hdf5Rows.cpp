#include "Hdf5Rows.hpp"

#include <algorithm>
#include <climits>

namespace kinterp::io::hdf5 {

Id transfer_list(bool collective) {
  Id transfer(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
  H5Pset_dxpl_mpio(transfer.get(), collective ? H5FD_MPIO_COLLECTIVE : H5FD_MPIO_INDEPENDENT);
  return transfer;
}

std::int64_t chunk_rows(std::int64_t chunk_bytes, const ArrayShape& shape) {
  const std::int64_t row_bytes = std::max<std::int64_t>(shape.columns, 1) * shape.item_size;
  return std::clamp<std::int64_t>(chunk_bytes / row_bytes, 1,
                                  std::max<std::int64_t>(INT_MAX / row_bytes, 1));
}

herr_t select_rows(hid_t file_space, const ArrayShape& shape, std::int64_t begin,
                   std::int64_t count, Id& memory_space) {
  const std::int64_t n = count * shape.columns;
  const hsize_t memory_dims[1] = {static_cast<hsize_t>(std::max<std::int64_t>(n, 1))};
  memory_space = Id(H5Screate_simple(1, memory_dims, nullptr), H5Sclose);
  if (n == 0) {
    if (H5Sselect_none(file_space) < 0) return -1;
    return H5Sselect_none(memory_space.get());
  }
  const hsize_t start[2] = {static_cast<hsize_t>(begin), 0};
  const hsize_t counts[2] = {static_cast<hsize_t>(count), static_cast<hsize_t>(shape.columns)};
  return H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, nullptr, counts, nullptr);
}

}  // namespace kinterp::io::hdf5
