#include "Hdf5Attributes.hpp"

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>

#include "Hdf5File.hpp"
#include "Hdf5Names.hpp"

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <vector>

namespace kinterp::io {
namespace hdf5 {
namespace {

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

}  // namespace

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

}  // namespace hdf5

using namespace hdf5;

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

}  // namespace kinterp::io
