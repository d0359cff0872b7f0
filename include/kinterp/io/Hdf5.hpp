#pragma once
/// \file Hdf5.hpp
/// HDF5 datasets read and written in parallel: every rank reads or writes its
/// own hyperslab of rows (the blocks of io::read_npy) with collective MPI-IO
/// through parallel HDF5, and string attributes on a dataset record what the
/// rows are (kinterp solve's weights record their kernel and solve).
///
/// HDF5 is optional: in a kinterp built without parallel HDF5
/// (hdf5_available() is false) every function here throws kinterp::Error
/// saying so. HDF5's headers are not needed to use this one.

#include <kinterp/core/Partition.hpp>
#include <kinterp/io/ArrayShape.hpp>
#include <kinterp/io/Npy.hpp>

#include <mpi.h>

#include <map>
#include <string>

namespace kinterp::io {

/// A dataset's attributes, by name.
using Attributes = std::map<std::string, std::string>;

/// Whether this kinterp was built with parallel HDF5.
bool hdf5_available();
/// The HDF5 library's version, e.g. "1.10.8"; empty without HDF5.
std::string hdf5_version();
/// Throws kinterp::Error ("path: kinterp was built without parallel HDF5; ...")
/// unless hdf5_available(): for a front end to fail before long work.
void require_hdf5(const std::string& path);

/// Not collective. Whether the file at `path` is an HDF5 file (has HDF5's
/// signature); false without HDF5.
bool is_hdf5_file(const std::string& path);

/// Collective. The shape and element size of the dataset `dataset` (a path
/// in the file, e.g. "/group/points") of the HDF5 file `path`. Throws
/// kinterp::Error on every rank for a missing file, a file that is not HDF5,
/// a missing dataset (naming what the group where the path ends holds), a
/// group where a dataset is expected, a dataset of rank other than 1 or 2 or
/// of a type other than float64 or float32.
ArrayShape read_hdf5_shape(MPI_Comm comm, const std::string& path, const std::string& dataset);

/// Collective. Reads the rows `block` of the dataset (default: block_partition
/// of its rows over `comm`, as read_npy), converting float32/float64 to T.
/// Errors as read_hdf5_shape, plus a block outside the dataset and a file not
/// visible to every rank.
template <class T>
LocalRows<T> read_hdf5(MPI_Comm comm, const std::string& path, const std::string& dataset);
template <class T>
LocalRows<T> read_hdf5(MPI_Comm comm, const std::string& path, const std::string& dataset,
                       RowBlock block);

/// Collective. Writes the distributed array `local` (blocks as for write_npy)
/// as the dataset `dataset` of `path`, float64 (`item_size` 8) or float32 (4),
/// shape (global_rows,) when ndim is 1, else (global_rows, columns), with
/// `attributes` as UTF-8 string attributes (rank 0's are written). Creates the
/// file, or opens it and replaces the dataset if it exists (other datasets are
/// kept), and creates missing groups on the way. Throws kinterp::Error on
/// every rank for a bad layout, a file that exists but is not HDF5, a group
/// where the dataset should be, or a file that cannot be written.
template <class T>
void write_hdf5(MPI_Comm comm, const std::string& path, const std::string& dataset,
                const LocalRows<T>& local, int item_size = 8, const Attributes& attributes = {});

/// Collective. The attributes of the dataset: string attributes as they are,
/// scalar integer and floating-point ones as text ("%.17g"); others are left
/// out. Errors as read_hdf5_shape (of any type and rank).
Attributes read_hdf5_attributes(MPI_Comm comm, const std::string& path, const std::string& dataset);

/// Collective. Adds `attributes` (rank 0's) to an existing dataset, replacing
/// those of the same name.
void write_hdf5_attributes(MPI_Comm comm, const std::string& path, const std::string& dataset,
                           const Attributes& attributes);

}  // namespace kinterp::io
