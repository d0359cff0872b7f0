#pragma once
/// \file Hdf5Attributes.hpp
/// A dataset's attributes (what its rows are) read on rank 0 and written on
/// every rank, and shared between ranks. Private to the library, built with HDF5.

#include <kinterp/io/Hdf5.hpp>

#include <hdf5.h>
#include <mpi.h>

#include <string>

namespace kinterp::io::hdf5 {

/// Collective: rank 0's `attributes` on every rank.
Attributes broadcast(MPI_Comm comm, const Attributes& attributes);

/// Rank 0, serial: the attributes of an open object, string ones as they are,
/// scalar numbers as text; others are left out.
Attributes read_attributes(hid_t object);

/// Every rank with the same `attributes`: writes them as scalar UTF-8 strings of
/// variable length (what h5py writes for a str), replacing those of the same
/// name. Returns what failed, or "".
std::string write_attributes(hid_t object, const Attributes& attributes);

}  // namespace kinterp::io::hdf5
