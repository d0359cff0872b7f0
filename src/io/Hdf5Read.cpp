#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>

#include "Hdf5Detail.hpp"
#include "Hdf5File.hpp"
#include "Hdf5Names.hpp"
#include "Hdf5Rows.hpp"
#include "Hdf5Shape.hpp"
#include "RowLayout.hpp"

#include <algorithm>
#include <type_traits>
#include <vector>

namespace kinterp::io {
namespace {

using namespace hdf5;
using detail::allocate;

// Reads this rank's rows into `out`, converting from FileT to T, in chunks
// made as often on every rank. Records the first failure in `failure`.
template <class FileT, class T>
void read_rows(MPI_Comm comm, hid_t dataset, hid_t file_space, hid_t transfer,
               const ArrayShape& shape, RowBlock block, T* out, std::int64_t chunk_bytes,
               const std::string& where, std::string& failure) {
  constexpr bool same = std::is_same_v<FileT, T>;
  const std::int64_t chunk = chunk_rows(chunk_bytes, shape);
  std::vector<FileT> buffer;
  if (!same) allocate(comm, where, buffer, std::min(block.count, chunk) * shape.columns);
  for_each_row_chunk(comm, file_space, shape, block, chunk, where, "reading", "", failure,
                     [&](std::int64_t first, std::int64_t count, hid_t memory_space) {
                       T* const rows = out + first * shape.columns;
                       if constexpr (same) {
                         return H5Dread(dataset, memory_type<FileT>(), memory_space, file_space,
                                        transfer, rows);
                       } else {
                         const herr_t rc = H5Dread(dataset, memory_type<FileT>(), memory_space,
                                                   file_space, transfer, buffer.data());
                         std::transform(buffer.begin(), buffer.begin() + count * shape.columns,
                                        rows, [](FileT x) { return static_cast<T>(x); });
                         return rc;
                       }
                     });
}

}  // namespace

template <class T>
LocalRows<T> detail::read_hdf5(MPI_Comm comm, const std::string& path, const std::string& dataset,
                               const std::optional<RowBlock>& requested, std::int64_t chunk_bytes) {
  const kinterp::detail::ScopedRegion region("kinterp::io::read_hdf5");
  const QuietErrors quiet;
  const std::vector<std::string> parts = components(path, dataset);
  const std::string name = object_path(parts), where = path + ":" + name;
  const ArrayShape shape = inspect(comm, path, parts);
  const RowBlock block = requested ? *requested : block_partition(shape.rows, comm);
  // Open MPI's collective MPI-IO reads get some overlapping blocks wrong (see read_npy).
  const bool collective = !detail::check_blocks(comm, where, block, shape.rows);

  LocalRows<T> local =
      detail::allocate_rows<T>(comm, where, block, shape.rows, shape.columns, shape.ndim);

  const Id file = open_parallel(comm, path, Access::Read);
  const Id data = open_dataset(comm, file.get(), where, name);
  const Id file_space(H5Dget_space(data.get()), H5Sclose);
  const Id transfer = transfer_list(collective);
  std::string failure;
  if (shape.item_size == 4) {
    read_rows<float>(comm, data.get(), file_space.get(), transfer.get(), shape, block,
                     local.values.data(), chunk_bytes, where, failure);
  } else {
    read_rows<double>(comm, data.get(), file_space.get(), transfer.get(), shape, block,
                      local.values.data(), chunk_bytes, where, failure);
  }
  throw_if_any(comm, !failure.empty(), failure);
  return local;
}

template LocalRows<float> detail::read_hdf5<float>(MPI_Comm, const std::string&, const std::string&,
                                                   const std::optional<RowBlock>&, std::int64_t);
template LocalRows<double> detail::read_hdf5<double>(MPI_Comm, const std::string&,
                                                     const std::string&,
                                                     const std::optional<RowBlock>&, std::int64_t);

}  // namespace kinterp::io
