#include "Hdf5Detail.hpp"

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/io/OutputFile.hpp>

#include "RowLayout.hpp"

#if KINTERP_HAVE_HDF5
#include <hdf5.h>
#endif

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <type_traits>
#include <vector>

namespace kinterp::io {

#if KINTERP_HAVE_HDF5

namespace {

namespace fs = std::filesystem;
using detail::allocate;
using detail::check_blocks;
using detail::check_layout;
using detail::for_each_chunk;

// ---- Identifiers and errors ----

// An HDF5 identifier, closed on scope exit. Closing a file opened with the
// MPI-IO driver is collective: every rank's handles go out of scope together
// because every error is agreed on by all ranks before it is thrown.
class Id {
 public:
  using Close = herr_t (*)(hid_t);
  Id() = default;
  Id(hid_t id, Close close) : id_(id), close_(close) {}
  Id(Id&& other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = -1; }
  Id& operator=(Id&& other) noexcept {
    if (this != &other) {
      close();
      id_ = other.id_;
      close_ = other.close_;
      other.id_ = -1;
    }
    return *this;
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  ~Id() { close(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  herr_t close() {
    const herr_t rc = id_ >= 0 ? close_(id_) : 0;
    id_ = -1;
    return rc;
  }
  /// Forgets the identifier without closing it (see open_parallel).
  void release() { id_ = -1; }

 private:
  hid_t id_ = -1;
  Close close_ = nullptr;
};

// HDF5 prints its error stack on every failure unless told not to; kinterp
// reports failures itself. Restores the previous handler on scope exit.
class QuietErrors {
 public:
  QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &function_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, function_, data_); }
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

 private:
  H5E_auto2_t function_ = nullptr;
  void* data_ = nullptr;
};

// HDF5's own words for the last failure (the innermost error of its stack),
// then clears the stack.
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

// ---- Names in the file ----

// The components of a dataset's path, "/a//b/" -> {a, b}; throws when none.
std::vector<std::string> components(const std::string& path, const std::string& dataset) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= dataset.size()) {
    const std::size_t slash = std::min(dataset.find('/', start), dataset.size());
    if (slash > start) parts.push_back(dataset.substr(start, slash - start));
    start = slash + 1;
  }
  if (parts.empty()) {
    throw Error(path + ": '" + dataset + "' names no dataset; name one by its path in the file, " +
                "e.g. " + path + ":/points");
  }
  return parts;
}

// "/" followed by the first n components.
std::string object_path(const std::vector<std::string>& parts, std::size_t n) {
  std::string text;
  for (std::size_t i = 0; i < n; ++i) text += "/" + parts[i];
  return text.empty() ? "/" : text;
}
std::string object_path(const std::vector<std::string>& parts) {
  return object_path(parts, parts.size());
}

enum class Kind { Group, Dataset, Other };

Kind kind_of(hid_t file, const std::string& object) {
  const Id opened(H5Oopen(file, object.c_str(), H5P_DEFAULT), H5Oclose);
  if (!opened.valid()) {
    H5Eclear2(H5E_DEFAULT);
    return Kind::Other;  // a dangling soft or external link
  }
  switch (H5Iget_type(opened.get())) {
    case H5I_GROUP:
      return Kind::Group;
    case H5I_DATASET:
      return Kind::Dataset;
    default:
      return Kind::Other;
  }
}

const char* kind_text(Kind kind) {
  switch (kind) {
    case Kind::Group:
      return "group";
    case Kind::Dataset:
      return "dataset";
    default:
      return "named datatype or broken link";
  }
}

// "the root group holds: a (dataset), b (group)", for messages.
std::string members(hid_t file, const std::string& group) {
  const std::string who = group == "/" ? "the root group" : "group " + group;
  const Id opened(H5Gopen2(file, group.c_str(), H5P_DEFAULT), H5Gclose);
  std::vector<std::string> names;
  if (opened.valid()) {
    H5Literate(
        opened.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
        [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
          static_cast<std::vector<std::string>*>(data)->push_back(name);
          return 0;
        },
        &names);
  }
  H5Eclear2(H5E_DEFAULT);
  if (names.empty()) return who + " is empty";
  constexpr std::size_t shown = 20;
  std::string text = who + " holds ";
  for (std::size_t i = 0; i < std::min(names.size(), shown); ++i) {
    const std::string member = (group == "/" ? "/" : group + "/") + names[i];
    text += (i == 0 ? "" : ", ") + names[i] + " (" + kind_text(kind_of(file, member)) + ")";
  }
  if (names.size() > shown) text += " and " + std::to_string(names.size() - shown) + " more";
  return text;
}

// Follows `parts` from the root group. Throws when a component on the way is
// not a group, when the last one is not a dataset, or, unless `may_be_missing`,
// when one is missing (then says what the group there holds). Returns whether
// the dataset exists.
bool locate(hid_t file, const std::string& path, const std::vector<std::string>& parts,
            bool may_be_missing) {
  const std::string where = path + ":" + object_path(parts);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string object = object_path(parts, i + 1);
    const bool last = i + 1 == parts.size();
    const htri_t exists = H5Lexists(file, object.c_str(), H5P_DEFAULT);
    if (exists < 0) {
      throw Error(where + ": cannot look up " + object + " in the file (" + hdf5_reason() + ")");
    }
    if (exists == 0) {
      if (may_be_missing) return false;
      throw Error(where + ": no " + (last ? "dataset " : "group ") + object + " in the file; " +
                  members(file, object_path(parts, i)) + "; check the name after the ':'");
    }
    const Kind kind = kind_of(file, object);
    if (!last && kind != Kind::Group) {
      throw Error(where + ": " + object + " is a " + kind_text(kind) +
                  ", not a group, so it holds no " + object_path(parts, i + 2));
    }
    if (last && kind != Kind::Dataset) {
      throw Error(where + ": " + object + " is a " + kind_text(kind) + ", not a dataset" +
                  (kind == Kind::Group ? "; " + members(file, object) + ": name a dataset" : ""));
    }
  }
  return true;
}

// ---- Opening files ----

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

enum class Access { Read, Update, Create };

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

// ---- Shapes and types ----

std::string type_text(hid_t type) {
  const std::size_t bits = 8 * H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return std::string(H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
    case H5T_FLOAT:
      return "float" + std::to_string(bits);
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum (e.g. bool)";
    case H5T_ARRAY:
      return "array";
    case H5T_VLEN:
      return "variable-length";
    default:
      return "an unsupported type";
  }
}

std::string dims_text(const std::vector<hsize_t>& dims) {
  std::string text = "(";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    text += (i == 0 ? "" : ", ") + std::to_string(dims[i]);
  }
  return text + (dims.size() == 1 ? ",)" : ")");
}

// Rank 0: the shape of an existing dataset, or throws for a wrong rank or type.
ArrayShape dataset_shape(hid_t file, const std::string& where, const std::string& name) {
  const Id dataset(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dataset.valid()) {
    throw Error(where + ": cannot open the dataset (" + hdf5_reason() + ")");
  }
  const Id space(H5Dget_space(dataset.get()), H5Sclose);
  const Id type(H5Dget_type(dataset.get()), H5Tclose);
  if (!space.valid() || !type.valid()) {
    throw Error(where + ": cannot read the dataset's shape or type (" + hdf5_reason() + ")");
  }
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (H5Sget_simple_extent_type(space.get()) == H5S_NULL || rank == 0) {
    throw Error(where +
                ": the dataset is a scalar (shape ()); kinterp reads datasets of shape (N,) or "
                "(N, d): store np.atleast_1d(x)");
  }
  if (rank < 0) throw Error(where + ": cannot read the dataset's shape (" + hdf5_reason() + ")");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  if (rank > 2) {
    throw Error(where + ": the dataset has shape " + dims_text(dims) + ", " + std::to_string(rank) +
                " dimensions; kinterp reads datasets of shape (N,) or (N, d): store "
                "x.reshape(x.shape[0], -1)");
  }
  const std::size_t size = H5Tget_size(type.get());
  if (H5Tget_class(type.get()) != H5T_FLOAT || (size != 4 && size != 8)) {
    throw Error(where + ": the dataset's type is " + type_text(type.get()) +
                "; kinterp reads float64 or float32 datasets: store x.astype(np.float64)");
  }
  ArrayShape shape;
  shape.ndim = rank;
  shape.rows = static_cast<std::int64_t>(dims[0]);
  shape.columns = rank == 2 ? static_cast<std::int64_t>(dims[1]) : 1;
  shape.item_size = static_cast<int>(size);
  return shape;
}

ArrayShape broadcast(MPI_Comm comm, const ArrayShape& shape) {
  std::int64_t fields[4] = {shape.rows, shape.columns, shape.ndim, shape.item_size};
  MPI_Bcast(fields, 4, MPI_INT64_T, 0, comm);
  ArrayShape out;
  out.rows = fields[0];
  out.columns = fields[1];
  out.ndim = static_cast<int>(fields[2]);
  out.item_size = static_cast<int>(fields[3]);
  return out;
}

// Collective: the shape of path:dataset as rank 0 finds it, or throws on every rank.
ArrayShape inspect(MPI_Comm comm, const std::string& path, const std::vector<std::string>& parts) {
  ArrayShape shape;
  agree_on_errors(comm, [&] {
    if (rank_of(comm) != 0) return;
    const Id file = open_serial(path);
    locate(file.get(), path, parts, false);
    shape = dataset_shape(file.get(), path + ":" + object_path(parts), object_path(parts));
  });
  return broadcast(comm, shape);
}

// ---- Attributes ----

Attributes broadcast(MPI_Comm comm, const Attributes& attributes) {
  std::string packed;
  const auto put = [&](const std::string& text) {
    const std::uint64_t size = text.size();
    packed.append(reinterpret_cast<const char*>(&size), sizeof size);
    packed += text;
  };
  if (rank_of(comm) == 0) {
    for (const auto& [name, value] : attributes) {
      put(name);
      put(value);
    }
  }
  std::int64_t bytes = static_cast<std::int64_t>(packed.size());
  MPI_Bcast(&bytes, 1, MPI_INT64_T, 0, comm);
  if (bytes > INT_MAX) throw Error("attributes of more than 2 GiB");
  packed.resize(static_cast<std::size_t>(bytes));
  MPI_Bcast(packed.data(), static_cast<int>(bytes), MPI_CHAR, 0, comm);
  Attributes out;
  std::size_t at = 0;
  const auto get = [&] {
    std::uint64_t size = 0;
    std::memcpy(&size, packed.data() + at, sizeof size);
    at += sizeof size;
    std::string text = packed.substr(at, size);
    at += size;
    return text;
  };
  while (at < packed.size()) {
    std::string name = get();
    out[name] = get();
  }
  return out;
}

// One attribute as text, or nothing for kinds kinterp does not read.
std::optional<std::string> attribute_text(hid_t attribute) {
  const Id type(H5Aget_type(attribute), H5Tclose);
  const Id space(H5Aget_space(attribute), H5Sclose);
  if (!type.valid() || !space.valid() || H5Sget_simple_extent_npoints(space.get()) != 1) {
    return std::nullopt;
  }
  switch (H5Tget_class(type.get())) {
    case H5T_STRING: {
      if (H5Tis_variable_str(type.get()) > 0) {
        const Id memory(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(memory.get(), H5T_VARIABLE);
        H5Tset_cset(memory.get(), H5Tget_cset(type.get()));
        char* text = nullptr;
        if (H5Aread(attribute, memory.get(), &text) < 0) return std::nullopt;
        std::string value = text != nullptr ? text : "";
        H5free_memory(text);
        return value;
      }
      std::string value(H5Tget_size(type.get()), '\0');
      if (H5Aread(attribute, type.get(), value.data()) < 0) return std::nullopt;
      value.resize(std::strlen(value.c_str()));      // null-terminated or padded
      value.erase(value.find_last_not_of(' ') + 1);  // space-padded
      return value;
    }
    case H5T_INTEGER: {
      long long value = 0;
      if (H5Aread(attribute, H5T_NATIVE_LLONG, &value) < 0) return std::nullopt;
      return std::to_string(value);
    }
    case H5T_FLOAT: {
      double value = 0;
      if (H5Aread(attribute, H5T_NATIVE_DOUBLE, &value) < 0) return std::nullopt;
      char text[32];
      std::snprintf(text, sizeof text, "%.17g", value);
      return std::string(text);
    }
    default:
      return std::nullopt;
  }
}

// Rank 0, serial: the attributes of an open object.
Attributes read_attributes(hid_t object) {
  Attributes attributes;
  H5Aiterate2(
      object, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t location, const char* name, const H5A_info_t*, void* data) -> herr_t {
        const Id attribute(H5Aopen(location, name, H5P_DEFAULT), H5Aclose);
        if (!attribute.valid()) return 0;
        if (auto text = attribute_text(attribute.get())) {
          (*static_cast<Attributes*>(data))[name] = *text;
        }
        return 0;
      },
      &attributes);
  H5Eclear2(H5E_DEFAULT);
  return attributes;
}

// Every rank with the same `attributes`: writes them as scalar UTF-8 strings of
// variable length (what h5py writes for a str), replacing those of the same
// name. Returns what failed, or "".
std::string write_attributes(hid_t object, const Attributes& attributes) {
  const Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  const Id scalar(H5Screate(H5S_SCALAR), H5Sclose);
  for (const auto& [name, value] : attributes) {
    const htri_t exists = H5Aexists(object, name.c_str());
    if (exists > 0 && H5Adelete(object, name.c_str()) < 0) {
      return "replacing the attribute '" + name + "' failed (" + hdf5_reason() + ")";
    }
    const Id attribute(
        H5Acreate2(object, name.c_str(), type.get(), scalar.get(), H5P_DEFAULT, H5P_DEFAULT),
        H5Aclose);
    const char* text = value.c_str();
    if (!attribute.valid() || H5Awrite(attribute.get(), type.get(), &text) < 0) {
      return "writing the attribute '" + name + "' failed (" + hdf5_reason() + ")";
    }
  }
  return "";
}

// ---- Rows ----

template <class F>
hid_t memory_type() {
  return std::is_same_v<F, float> ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
}

// Selects rows [begin, begin + count) of the dataset in `file_space` and makes
// `memory_space` their count * columns values; nothing in either when count is 0.
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

std::int64_t chunk_rows(std::int64_t chunk_bytes, const ArrayShape& shape) {
  const std::int64_t row_bytes = std::max<std::int64_t>(shape.columns, 1) * shape.item_size;
  return std::clamp<std::int64_t>(chunk_bytes / row_bytes, 1,
                                  std::max<std::int64_t>(INT_MAX / row_bytes, 1));
}

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
  for_each_chunk(comm, block.count, chunk, [&](std::int64_t first, std::int64_t count) {
    FileT* to = nullptr;
    if constexpr (same) {
      to = out + first * shape.columns;
    } else {
      to = buffer.data();
    }
    Id memory_space;
    herr_t rc = select_rows(file_space, shape, block.begin + first, count, memory_space);
    if (rc >= 0) {
      rc = H5Dread(dataset, memory_type<FileT>(), memory_space.get(), file_space, transfer, to);
    }
    if (rc < 0 && failure.empty()) {
      failure = where + ": " + rank_text(comm) + ": reading rows " +
                std::to_string(block.begin + first) + " to " +
                std::to_string(block.begin + first + count - 1) + " failed (" + hdf5_reason() + ")";
    }
    if constexpr (!same) {
      std::transform(buffer.begin(), buffer.begin() + count * shape.columns,
                     out + first * shape.columns, [](FileT x) { return static_cast<T>(x); });
    }
  });
}

// Writes this rank's rows from `in`, converting from T to FileT.
template <class FileT, class T>
void write_rows(MPI_Comm comm, hid_t dataset, hid_t file_space, hid_t transfer,
                const ArrayShape& shape, RowBlock block, const T* in, std::int64_t chunk_bytes,
                const std::string& where, std::string& failure) {
  constexpr bool same = std::is_same_v<FileT, T>;
  const std::int64_t chunk = chunk_rows(chunk_bytes, shape);
  std::vector<FileT> buffer;
  if (!same) allocate(comm, where, buffer, std::min(block.count, chunk) * shape.columns);
  for_each_chunk(comm, block.count, chunk, [&](std::int64_t first, std::int64_t count) {
    const FileT* from = nullptr;
    if constexpr (same) {
      from = in + first * shape.columns;
    } else {
      std::transform(in + first * shape.columns, in + (first + count) * shape.columns,
                     buffer.begin(), [](T x) { return static_cast<FileT>(x); });
      from = buffer.data();
    }
    Id memory_space;
    herr_t rc = select_rows(file_space, shape, block.begin + first, count, memory_space);
    if (rc >= 0) {
      rc = H5Dwrite(dataset, memory_type<FileT>(), memory_space.get(), file_space, transfer, from);
    }
    if (rc < 0 && failure.empty()) {
      failure = where + ": " + rank_text(comm) + ": writing rows " +
                std::to_string(block.begin + first) + " to " +
                std::to_string(block.begin + first + count - 1) + " failed (" + hdf5_reason() +
                "); check that the file system is not full";
    }
  });
}

Id transfer_list(bool collective) {
  Id transfer(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
  H5Pset_dxpl_mpio(transfer.get(), collective ? H5FD_MPIO_COLLECTIVE : H5FD_MPIO_INDEPENDENT);
  return transfer;
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

}  // namespace

bool hdf5_available() {
  return true;
}
void require_hdf5(const std::string&) {}

bool is_hdf5_file(const std::string& path) {
  const QuietErrors quiet;
  return is_hdf5(path);
}

std::string hdf5_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

ArrayShape read_hdf5_shape(MPI_Comm comm, const std::string& path, const std::string& dataset) {
  const QuietErrors quiet;
  return inspect(comm, path, components(path, dataset));
}

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
  const bool collective = !check_blocks(comm, where, block, shape.rows);

  LocalRows<T> local;
  local.global_rows = shape.rows;
  local.columns = shape.columns;
  local.ndim = shape.ndim;
  local.block = block;
  allocate(comm, where, local.values, block.count * shape.columns);

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

Attributes read_hdf5_attributes(MPI_Comm comm, const std::string& path,
                                const std::string& dataset) {
  const QuietErrors quiet;
  const std::vector<std::string> parts = components(path, dataset);
  Attributes attributes;
  agree_on_errors(comm, [&] {
    if (rank_of(comm) != 0) return;
    const Id file = open_serial(path);
    locate(file.get(), path, parts, false);
    const Id data(H5Dopen2(file.get(), object_path(parts).c_str(), H5P_DEFAULT), H5Dclose);
    if (!data.valid()) {
      throw Error(path + ":" + object_path(parts) + ": cannot open the dataset (" + hdf5_reason() +
                  ")");
    }
    attributes = read_attributes(data.get());
  });
  return broadcast(comm, attributes);
}

void write_hdf5_attributes(MPI_Comm comm, const std::string& path, const std::string& dataset,
                           const Attributes& attributes) {
  const QuietErrors quiet;
  const std::vector<std::string> parts = components(path, dataset);
  const std::string name = object_path(parts), where = path + ":" + name;
  const Attributes shared = broadcast(comm, attributes);
  agree_on_errors(comm, [&] {
    if (rank_of(comm) != 0) return;
    const Id file = open_serial(path);
    locate(file.get(), path, parts, false);
  });
  Id file = open_parallel(comm, path, Access::Update);
  Id data = open_dataset(comm, file.get(), where, name);
  std::string failure = write_attributes(data.get(), shared);
  if (!failure.empty()) failure = where + ": " + failure;
  if (data.close() < 0 && failure.empty()) {
    failure = where + ": closing the dataset failed (" + hdf5_reason() + ")";
  }
  if (file.close() < 0 && failure.empty()) {
    failure = path + ": closing the file failed (" + hdf5_reason() + ")";
  }
  throw_if_any(comm, !failure.empty(), failure);
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
                              const LocalRows<T>&, int, const Attributes&);                       \
  template LocalRows<T> detail::read_hdf5<T>(MPI_Comm, const std::string&, const std::string&,    \
                                             const std::optional<RowBlock>&, std::int64_t);       \
  template void detail::write_hdf5<T>(MPI_Comm, const std::string&, const std::string&,           \
                                      const LocalRows<T>&, int, const Attributes&, std::int64_t);
KINTERP_HDF5_INSTANTIATE(float)
KINTERP_HDF5_INSTANTIATE(double)
#undef KINTERP_HDF5_INSTANTIATE

}  // namespace kinterp::io
