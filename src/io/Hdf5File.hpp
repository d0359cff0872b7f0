#pragma once
/// \file Hdf5File.hpp
/// HDF5 identifiers closed on scope exit, HDF5's failures in kinterp's words,
/// and HDF5 files and datasets opened on rank 0 alone (to look at them) or on
/// every rank with the MPI-IO driver. Private to the library, built with HDF5.

#include <hdf5.h>
#include <mpi.h>

#include <string>

namespace kinterp::io::hdf5 {

/// An HDF5 identifier, closed on scope exit. Closing a file opened with the
/// MPI-IO driver is collective: every rank's handles go out of scope together
/// because every error is agreed on by all ranks before it is thrown.
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

/// HDF5 prints its error stack on every failure unless told not to; kinterp
/// reports failures itself. Restores the previous handler on scope exit.
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

/// HDF5's own words for the last failure (the innermost error of its stack),
/// then clears the stack.
std::string hdf5_reason();

/// "rank R", for messages.
std::string rank_text(MPI_Comm comm);

/// Not collective. Whether the file at `path` has HDF5's signature.
bool is_hdf5(const std::string& path);

/// Rank 0 alone: opens an existing HDF5 file to look at it; throws saying what
/// is wrong with the file.
Id open_serial(const std::string& path);

enum class Access { Read, Update, Create };

/// Collective: opens `path` with the MPI-IO driver on every rank (read-only, for
/// reading and writing, or created, which rank 0 has checked it may be), or
/// throws on every rank.
Id open_parallel(MPI_Comm comm, const std::string& path, Access access);

/// Collective: opens an existing dataset on every rank, or throws on every rank.
Id open_dataset(MPI_Comm comm, hid_t file, const std::string& where, const std::string& name);

}  // namespace kinterp::io::hdf5
