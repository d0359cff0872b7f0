#pragma once
/// \file Hdf5Shape.hpp
/// The shape and type of an HDF5 dataset, as kinterp reads it: rank 1 or 2,
/// float64 or float32. Private to the library, built with HDF5.

#include <kinterp/io/ArrayShape.hpp>

#include <mpi.h>

#include <string>
#include <vector>

namespace kinterp::io::hdf5 {

/// Collective: the shape of path:dataset (its components `parts`) as rank 0
/// finds it, or throws on every rank.
ArrayShape inspect(MPI_Comm comm, const std::string& path, const std::vector<std::string>& parts);

}  // namespace kinterp::io::hdf5
