#pragma once
/// \file Hdf5Names.hpp
/// A dataset named by its path in an HDF5 file, "/group/points": its components
/// and the checks, on rank 0, that the path leads through groups to a dataset,
/// with messages that say what the file holds instead. Private to the library,
/// built with HDF5.

#include <hdf5.h>

#include <cstddef>
#include <string>
#include <vector>

namespace kinterp::io::hdf5 {

/// The components of a dataset's path, "/a//b/" -> {a, b}; throws when none.
std::vector<std::string> components(const std::string& path, const std::string& dataset);

/// "/" followed by the first n components (all of them by default).
std::string object_path(const std::vector<std::string>& parts, std::size_t n);
std::string object_path(const std::vector<std::string>& parts);

/// Follows `parts` from the root group. Throws when a component on the way is
/// not a group, when the last one is not a dataset, or, unless `may_be_missing`,
/// when one is missing (then says what the group there holds). Returns whether
/// the dataset exists.
bool locate(hid_t file, const std::string& path, const std::vector<std::string>& parts,
            bool may_be_missing);

}  // namespace kinterp::io::hdf5
