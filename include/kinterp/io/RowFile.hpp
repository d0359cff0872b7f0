#pragma once
/// \file RowFile.hpp
/// A file of rows named by one string, whatever its format: "x.npy" (NumPy),
/// "x.csv" (text) or "x.h5:/group/dataset" (HDF5; also ".hdf5"). The kinterp
/// tool's file options take such specs; these functions pick the reader or
/// writer by the spec and share their row distribution.

#include <kinterp/core/Partition.hpp>
#include <kinterp/io/ArrayShape.hpp>
#include <kinterp/io/Hdf5.hpp>
#include <kinterp/io/Npy.hpp>

#include <mpi.h>

#include <string>

namespace kinterp::io {

enum class FileFormat { Npy, Csv, Hdf5 };

/// A parsed spec. The format comes from the file's extension (any case):
/// ".csv" is CSV; ".h5" or ".hdf5" followed by ":/dataset" is HDF5; anything
/// else is read and written as .npy.
struct FileSpec {
  FileFormat format = FileFormat::Npy;
  std::string path;     ///< the file
  std::string dataset;  ///< HDF5 only: the dataset's path in the file, e.g. "/weights"
  std::string text;     ///< the spec as given, for messages

  /// Throws kinterp::Error for an HDF5 file without a dataset ("x.h5", "x.h5:"),
  /// saying how to name one.
  static FileSpec parse(const std::string& spec);
};

/// Collective. The shape of the array `spec` names (the .npy header, the HDF5
/// dataset's, the CSV file's). Errors as read_npy_header, read_hdf5_shape and
/// read_csv_shape, on every rank.
ArrayShape read_shape(MPI_Comm comm, const std::string& spec);

/// Collective. Reads rows `block` (default: block_partition of the rows over
/// `comm`) of the array `spec` names, converted to T.
template <class T>
LocalRows<T> read_rows(MPI_Comm comm, const std::string& spec);
template <class T>
LocalRows<T> read_rows(MPI_Comm comm, const std::string& spec, RowBlock block);

/// Collective. Writes the distributed array `local` to `spec`, float64
/// (`item_size` 8) or float32 (4; CSV prints values with "%.17g" either way).
/// `attributes` are written on an HDF5 dataset and ignored for the other
/// formats. Errors as write_npy, write_hdf5 and write_csv.
template <class T>
void write_rows(MPI_Comm comm, const std::string& spec, const LocalRows<T>& local,
                int item_size = 8, const Attributes& attributes = {});

/// Collective. Fails with the same kinterp::Error on every rank unless `spec`
/// can be written: a valid spec, HDF5 in this build when it names HDF5,
/// require_writable for its file and, for an HDF5 file that exists, an HDF5
/// file. For front ends, before long work.
void require_output(MPI_Comm comm, const std::string& spec);

/// Whether two specs name the same data, so that writing one destroys the
/// other: the same file (same_file), unless both name HDF5 datasets, which
/// then must be the same dataset too ("/a//b" is "a/b").
bool same_data(const std::string& a, const std::string& b);

/// Collective. The attributes of an HDF5 dataset (read_hdf5_attributes); empty
/// for the other formats, which have none.
Attributes read_attributes(MPI_Comm comm, const std::string& spec);

}  // namespace kinterp::io
