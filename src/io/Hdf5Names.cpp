#include "Hdf5Names.hpp"

#include <kinterp/core/Error.hpp>

#include "Hdf5File.hpp"

#include <algorithm>

namespace kinterp::io::hdf5 {

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

std::string object_path(const std::vector<std::string>& parts, std::size_t n) {
  std::string text;
  for (std::size_t i = 0; i < n; ++i) text += "/" + parts[i];
  return text.empty() ? "/" : text;
}
std::string object_path(const std::vector<std::string>& parts) {
  return object_path(parts, parts.size());
}

namespace {

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

}  // namespace

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

}  // namespace kinterp::io::hdf5
