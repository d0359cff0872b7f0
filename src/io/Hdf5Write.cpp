#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/io/OutputFile.hpp>

#include "Hdf5Attributes.hpp"
#include "Hdf5Detail.hpp"
#include "Hdf5File.hpp"
#include "Hdf5Names.hpp"
#include "Hdf5Rows.hpp"
#include "RowLayout.hpp"

#include <algorithm>
#include <filesystem>
#include <type_traits>
#include <vector>

namespace kinterp::io {
namespace {

namespace fs = std::filesystem;
using namespace hdf5;
using detail::allocate;

// Writes this rank's rows from `in`, converting from T to FileT, in chunks
// made as often on every rank. Records the first failure in `failure`.
template <class FileT, class T>
void write_rows(MPI_Comm comm, hid_t dataset, hid_t file_space, hid_t transfer,
                const ArrayShape& shape, RowBlock block, const T* in, std::int64_t chunk_bytes,
                const std::string& where, std::string& failure) {
  constexpr bool same = std::is_same_v<FileT, T>;
  const std::int64_t chunk = chunk_rows(chunk_bytes, shape);
  std::vector<FileT> buffer;
  if (!same) allocate(comm, where, buffer, std::min(block.count, chunk) * shape.columns);
  for_each_row_chunk(comm, file_space, shape, block, chunk, where, "writing",
                     "; check that the file system is not full", failure,
                     [&](std::int64_t first, std::int64_t count, hid_t memory_space) {
                       const T* const rows = in + first * shape.columns;
                       const FileT* from = nullptr;
                       if constexpr (same) {
                         from = rows;
                       } else {
                         std::transform(rows, rows + count * shape.columns, buffer.begin(),
                                        [](T x) { return static_cast<FileT>(x); });
                         from = buffer.data();
                       }
                       return H5Dwrite(dataset, memory_type<FileT>(), memory_space, file_space,
                                       transfer, from);
                     });
}

}  // namespace

template <class T>
void detail::write_hdf5(MPI_Comm comm, const std::string& path, const std::string& dataset,
                        const LocalRows<T>& local, int item_size, const Attributes& attributes,
                        std::int64_t chunk_bytes) {
  const kinterp::detail::ScopedRegion region("kinterp::io::write_hdf5");
  const QuietErrors quiet;
  const std::vector<std::string> parts = components(path, dataset);
  const std::string name = object_path(parts), where = path + ":" + name;
  check_layout(comm, where, local, item_size);
  const Attributes shared = broadcast(comm, attributes);

  // What is there already, as rank 0 sees it: {file exists, dataset exists,
  // a staged dataset left by a killed run exists}.
  std::vector<std::string> staged_parts = parts;
  staged_parts.back() += ".kinterp-tmp";
  int there[3] = {0, 0, 0};
  agree_on_errors(comm, [&] {
    if (rank_of(comm) != 0) return;
    std::error_code ec;
    if (fs::exists(path, ec)) {
      if (fs::is_directory(path, ec)) throw Error(path + ": is a directory, not an HDF5 file");
      if (!is_hdf5(path)) {
        throw Error(path +
                    ": exists and is not an HDF5 file, so kinterp does not add a dataset to "
                    "it; remove it or choose another name");
      }
      const Id file = open_serial(path);
      there[0] = 1;
      there[1] = locate(file.get(), path, parts, true) ? 1 : 0;
      there[2] = locate(file.get(), path, staged_parts, true) ? 1 : 0;
    } else {
      const fs::path directory = fs::path(path).parent_path();
      if (!directory.empty() && !fs::is_directory(directory, ec)) {
        throw Error(path + ": cannot create the file: the directory " + directory.string() +
                    " does not exist");
      }
    }
  });
  MPI_Bcast(there, 3, MPI_INT, 0, comm);

  // Whole or not at all (OutputFile.hpp): a new file is written as path.tmp
  // and renamed; into an existing file, the dataset is written beside the old
  // one under a temporary name that takes the old one's place at the end.
  const bool new_file = there[0] == 0;
  const std::string file_path = new_file ? temporary_path(path) : path;
  const std::string staged = new_file ? name : object_path(staged_parts);
  Id file = open_parallel(comm, file_path, new_file ? Access::Create : Access::Update);
  if (there[2] != 0) {
    const herr_t rc = H5Ldelete(file.get(), staged.c_str(), H5P_DEFAULT);
    throw_if_any(comm, rc < 0,
                 path + ":" + staged + ": cannot remove what a killed run left (" +
                     (rc < 0 ? hdf5_reason() : "") + ")");
  }
  ArrayShape shape;
  shape.rows = local.global_rows;
  shape.columns = local.columns;
  shape.ndim = local.ndim;
  shape.item_size = item_size;
  const hsize_t dims[2] = {static_cast<hsize_t>(shape.rows), static_cast<hsize_t>(shape.columns)};
  const Id space(H5Screate_simple(shape.ndim, dims, nullptr), H5Sclose);
  const Id links(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(links.get(), 1);
  Id data(H5Dcreate2(file.get(), staged.c_str(), item_size == 4 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE,
                     space.get(), links.get(), H5P_DEFAULT, H5P_DEFAULT),
          H5Dclose);
  throw_if_any(comm, !data.valid(),
               where + ": cannot create the dataset (" + (data.valid() ? "" : hdf5_reason()) + ")");

  const Id file_space(H5Dget_space(data.get()), H5Sclose);
  const Id transfer = transfer_list(true);
  std::string failure;
  if (item_size == 4) {
    write_rows<float>(comm, data.get(), file_space.get(), transfer.get(), shape, local.block,
                      local.values.data(), chunk_bytes, where, failure);
  } else {
    write_rows<double>(comm, data.get(), file_space.get(), transfer.get(), shape, local.block,
                       local.values.data(), chunk_bytes, where, failure);
  }
  const std::string attribute_failure = write_attributes(data.get(), shared);
  if (failure.empty() && !attribute_failure.empty()) failure = where + ": " + attribute_failure;
  if (data.close() < 0 && failure.empty()) {
    failure = where + ": closing the dataset failed (" + hdf5_reason() + ")";
  }
  throw_if_any(comm, !failure.empty(), failure);
  if (!new_file) {
    // On disk before the swap: a job killed from here on leaves a valid file.
    const bool flushed = H5Fflush(file.get(), H5F_SCOPE_GLOBAL) >= 0;
    throw_if_any(comm, !flushed,
                 path + ": flushing the file failed (" + (flushed ? "" : hdf5_reason()) + ")");
    fault_point("output-before-rename");
    // The old dataset's space is not reclaimed in the file (h5repack does that).
    herr_t rc = there[1] != 0 ? H5Ldelete(file.get(), name.c_str(), H5P_DEFAULT) : 0;
    if (rc >= 0)
      rc = H5Lmove(file.get(), staged.c_str(), file.get(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
    throw_if_any(comm, rc < 0,
                 where + ": cannot put the new dataset in place of the old one (" +
                     (rc < 0 ? hdf5_reason() : "") + "); it is in " + path + ":" + staged);
  }
  if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0 || file.close() < 0) {
    failure = file_path + ": closing the file failed (" + hdf5_reason() +
              "); check that the file system is not full";
  }
  throw_if_any(comm, !failure.empty(), failure);
  if (new_file) commit_output(comm, file_path, path);
}

template void detail::write_hdf5<float>(MPI_Comm, const std::string&, const std::string&,
                                        const LocalRows<float>&, int, const Attributes&,
                                        std::int64_t);
template void detail::write_hdf5<double>(MPI_Comm, const std::string&, const std::string&,
                                         const LocalRows<double>&, int, const Attributes&,
                                         std::int64_t);

}  // namespace kinterp::io
