#include "Hdf5File.hpp"

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/Partition.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace kinterp::io::hdf5 {

namespace fs = std::filesystem;

std::string hdf5_reason() {
  std::string reason;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* error, void* data) -> herr_t {
        if (n == 0 && error->desc != nullptr) *static_cast<std::string*>(data) = error->desc;
        return 0;
      },
      &reason);
  H5Eclear2(H5E_DEFAULT);
  return reason.empty() ? "HDF5 gives no reason" : reason;
}

std::string rank_text(MPI_Comm comm) {
  return "rank " + std::to_string(rank_of(comm));
}

namespace {

// A file access property list. The serial one is rank 0's, to look at a file;
// file locking, where the file system lacks it (some parallel ones), is skipped
// instead of failing.
Id file_access(MPI_Comm comm, bool parallel) {
  Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (parallel) {
    H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL);
    // Metadata read once and broadcast, written collectively: no storm of
    // small reads from every rank on a parallel file system.
    H5Pset_all_coll_metadata_ops(fapl.get(), 1);
    H5Pset_coll_metadata_write(fapl.get(), 1);
  }
#if H5_VERSION_GE(1, 12, 1) || (H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 10 && H5_VERS_RELEASE >= 7)
  H5Pset_file_locking(fapl.get(), 1, 1);
#endif
  return fapl;
}

}  // namespace

bool is_hdf5(const std::string& path) {
#if H5_VERSION_GE(1, 12, 0)
  const htri_t result = H5Fis_accessible(path.c_str(), H5P_DEFAULT);
#else
  const htri_t result = H5Fis_hdf5(path.c_str());
#endif
  H5Eclear2(H5E_DEFAULT);
  return result > 0;
}

// Rank 0 alone: opens an existing HDF5 file to look at it; throws saying what
// is wrong with the file.
Id open_serial(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    throw Error(path +
                ": no such file; check the path (an HDF5 dataset is named FILE.h5:/DATASET)");
  }
  if (fs::is_directory(path, ec)) {
    throw Error(path + ": is a directory, not an HDF5 file");
  }
  if (std::FILE* file = std::fopen(path.c_str(), "rb")) {
    std::fclose(file);
  } else {
    throw Error(path + ": cannot open the file for reading (" + std::strerror(errno) +
                "); check the file's permissions");
  }
  if (!is_hdf5(path)) {
    throw Error(path +
                ": not an HDF5 file (it has no HDF5 signature); write it with h5py or the HDF5 "
                "library, or name a .npy or .csv file");
  }
  const Id fapl = file_access(MPI_COMM_SELF, false);
  Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose);
  if (!file.valid()) throw Error(path + ": cannot open the HDF5 file (" + hdf5_reason() + ")");
  return file;
}

// Collective: opens `path` with the MPI-IO driver on every rank (read-only, for
// reading and writing, or created, which rank 0 has checked it may be), or
// throws on every rank.
Id open_parallel(MPI_Comm comm, const std::string& path, Access access) {
  std::error_code ec;
  if (access != Access::Create) {
    throw_if_any(comm, !fs::exists(path, ec),
                 path + ": " + rank_text(comm) +
                     " does not see the file; every rank must: put it on a file system shared "
                     "by all nodes");
  }
  const Id fapl = file_access(comm, true);
  const hid_t id = access == Access::Create
                       ? H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get())
                   : access == Access::Update ? H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl.get())
                                              : H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get());
  const std::string reason = id < 0 ? hdf5_reason() : "";
  Id file(id, H5Fclose);
  try {
    throw_if_any(comm, id < 0,
                 path + ": cannot " + (access == Access::Create ? "create" : "open") +
                     " the file with parallel HDF5 on " + rank_text(comm) + " (" + reason + ")" +
                     (access == Access::Read ? ""
                                             : "; check that its directory is writable and "
                                               "shared by all nodes"));
  } catch (const Error&) {
    // Closing is collective: where only some ranks opened the file, they keep
    // it (as MpiFile does) rather than wait for the others.
    file.release();
    throw;
  }
  return file;
}

// Collective: opens an existing dataset on every rank, or throws on every rank.
Id open_dataset(MPI_Comm comm, hid_t file, const std::string& where, const std::string& name) {
  const hid_t id = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
  const std::string reason = id < 0 ? hdf5_reason() : "";
  Id dataset(id, H5Dclose);
  throw_if_any(comm, id < 0,
               where + ": cannot open the dataset on " + rank_text(comm) + " (" + reason + ")");
  return dataset;
}

}  // namespace kinterp::io::hdf5
