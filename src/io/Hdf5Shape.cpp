#include "Hdf5Shape.hpp"

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/io/Hdf5.hpp>

#include "Hdf5File.hpp"
#include "Hdf5Names.hpp"
#include "RowLayout.hpp"

#include <cstdint>

namespace kinterp::io {
namespace hdf5 {
namespace {

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

}  // namespace

ArrayShape inspect(MPI_Comm comm, const std::string& path, const std::vector<std::string>& parts) {
  ArrayShape shape;
  agree_on_errors(comm, [&] {
    if (rank_of(comm) != 0) return;
    const Id file = open_serial(path);
    locate(file.get(), path, parts, false);
    shape = dataset_shape(file.get(), path + ":" + object_path(parts), object_path(parts));
  });
  return detail::broadcast_shape(comm, shape);
}

}  // namespace hdf5

ArrayShape read_hdf5_shape(MPI_Comm comm, const std::string& path, const std::string& dataset) {
  const hdf5::QuietErrors quiet;
  return hdf5::inspect(comm, path, hdf5::components(path, dataset));
}

}  // namespace kinterp::io
