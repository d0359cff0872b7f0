#include "Hdf5Detail.hpp"

#include <kinterp/core/Error.hpp>

#if KINTERP_HAVE_HDF5
#include "Hdf5File.hpp"
#endif

#include <optional>

// The HDF5 layer, built only with HDF5 (src/io/CMakeLists.txt):
//   Hdf5File       identifiers, errors, opening files and datasets
//   Hdf5Names      a dataset's path in the file, checked to lead to a dataset
//   Hdf5Shape      the shape and type of a dataset (read_hdf5_shape)
//   Hdf5Attributes a dataset's attributes (read/write_hdf5_attributes)
//   Hdf5Rows       rows moved in chunks of hyperslabs
//   Hdf5Read       read_hdf5
//   Hdf5Write      write_hdf5, whole or not at all
// This file: what needs no HDF5 internals, and the stand-ins without HDF5.

namespace kinterp::io {

#if KINTERP_HAVE_HDF5

bool hdf5_available() {
  return true;
}
void require_hdf5(const std::string&) {}

bool is_hdf5_file(const std::string& path) {
  const hdf5::QuietErrors quiet;
  return hdf5::is_hdf5(path);
}

std::string hdf5_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

#else  // !KINTERP_HAVE_HDF5

namespace {

[[noreturn]] void unavailable(const std::string& path) {
  throw Error(path +
              ": kinterp was built without parallel HDF5; install libhdf5-openmpi-dev and "
              "rebuild (or use .npy files)");
}

}  // namespace

bool hdf5_available() {
  return false;
}
std::string hdf5_version() {
  return "";
}
void require_hdf5(const std::string& path) {
  unavailable(path);
}

bool is_hdf5_file(const std::string&) {
  return false;
}

ArrayShape read_hdf5_shape(MPI_Comm, const std::string& path, const std::string&) {
  unavailable(path);
}

template <class T>
LocalRows<T> detail::read_hdf5(MPI_Comm, const std::string& path, const std::string&,
                               const std::optional<RowBlock>&, std::int64_t) {
  unavailable(path);
}

template <class T>
void detail::write_hdf5(MPI_Comm, const std::string& path, const std::string&, const LocalRows<T>&,
                        int, const Attributes&, std::int64_t) {
  unavailable(path);
}

// With HDF5, Hdf5Read.cpp and Hdf5Write.cpp make these.
#define KINTERP_HDF5_UNAVAILABLE(T)                                                            \
  template LocalRows<T> detail::read_hdf5<T>(MPI_Comm, const std::string&, const std::string&, \
                                             const std::optional<RowBlock>&, std::int64_t);    \
  template void detail::write_hdf5<T>(MPI_Comm, const std::string&, const std::string&,        \
                                      const LocalRows<T>&, int, const Attributes&, std::int64_t);
KINTERP_HDF5_UNAVAILABLE(float)
KINTERP_HDF5_UNAVAILABLE(double)
#undef KINTERP_HDF5_UNAVAILABLE

Attributes read_hdf5_attributes(MPI_Comm, const std::string& path, const std::string&) {
  unavailable(path);
}

void write_hdf5_attributes(MPI_Comm, const std::string& path, const std::string&,
                           const Attributes&) {
  unavailable(path);
}

#endif  // KINTERP_HAVE_HDF5

template <class T>
LocalRows<T> read_hdf5(MPI_Comm comm, const std::string& path, const std::string& dataset) {
  return detail::read_hdf5<T>(comm, path, dataset, std::nullopt, detail::default_hdf5_chunk_bytes);
}

template <class T>
LocalRows<T> read_hdf5(MPI_Comm comm, const std::string& path, const std::string& dataset,
                       RowBlock block) {
  return detail::read_hdf5<T>(comm, path, dataset, block, detail::default_hdf5_chunk_bytes);
}

template <class T>
void write_hdf5(MPI_Comm comm, const std::string& path, const std::string& dataset,
                const LocalRows<T>& local, int item_size, const Attributes& attributes) {
  detail::write_hdf5(comm, path, dataset, local, item_size, attributes,
                     detail::default_hdf5_chunk_bytes);
}

#define KINTERP_HDF5_INSTANTIATE(T)                                                               \
  template LocalRows<T> read_hdf5<T>(MPI_Comm, const std::string&, const std::string&);           \
  template LocalRows<T> read_hdf5<T>(MPI_Comm, const std::string&, const std::string&, RowBlock); \
  template void write_hdf5<T>(MPI_Comm, const std::string&, const std::string&,                   \
                              const LocalRows<T>&, int, const Attributes&);
KINTERP_HDF5_INSTANTIATE(float)
KINTERP_HDF5_INSTANTIATE(double)
#undef KINTERP_HDF5_INSTANTIATE

}  // namespace kinterp::io
