#pragma once
/// \file MpiFile.hpp
/// What the parallel readers and writers (.npy files, CG checkpoints) share
/// about MPI-IO: a file opened on every rank or on none, and the first
/// failure of a rank kept until all ranks agree on the failures, after
/// making the same collective calls.

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Partition.hpp>

#include <mpi.h>

#include <cstdint>
#include <string>
#include <utility>

namespace kinterp::detail {

/// MPI's text for an error code.
inline std::string mpi_error_string(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return std::string(text, length);
}

/// A file opened on every rank of `comm` or on none (then every rank throws
/// "name: failure on rank R (MPI's reason); fix", `name` the path unless
/// given: an output written under a temporary name is named as the output);
/// closed on scope exit.
class MpiFile {
 public:
  MpiFile(MPI_Comm comm, const std::string& path, int mode, const std::string& failure,
          const std::string& fix = "", const std::string& name = "") {
    const int rc = MPI_File_open(comm, path.c_str(), mode, MPI_INFO_NULL, &handle_);
    // On a failure, ranks whose open succeeded leak their handle: closing is
    // collective and would wait for the ranks that failed.
    throw_if_any(comm, rc != MPI_SUCCESS,
                 (name.empty() ? path : name) + ": " + failure + " on rank " +
                     std::to_string(rank_of(comm)) + " (" + mpi_error_string(rc) + ")" +
                     (fix.empty() ? "" : "; " + fix));
    MPI_File_set_errhandler(handle_, MPI_ERRORS_RETURN);
  }
  ~MpiFile() {
    if (handle_ != MPI_FILE_NULL) MPI_File_close(&handle_);
  }
  MpiFile(const MpiFile&) = delete;
  MpiFile& operator=(const MpiFile&) = delete;

  MPI_File get() const { return handle_; }
  int close() {
    const int rc = MPI_File_close(&handle_);
    handle_ = MPI_FILE_NULL;
    return rc;
  }

 private:
  MPI_File handle_ = MPI_FILE_NULL;
};

/// The first MPI-IO failure on this rank, as "prefix + what failed". Ranks go
/// on making their collective calls after one and agree on the failures at
/// the end (throw_if_any).
class MpiFailures {
 public:
  explicit MpiFailures(std::string prefix) : prefix_(std::move(prefix)) {}

  void check(int rc, const std::string& action) {
    if (rc != MPI_SUCCESS && message_.empty()) {
      message_ = prefix_ + action + " failed (" + mpi_error_string(rc) + ")";
    }
  }
  /// Also that a read or write moved all `expected` items of `type`.
  void check(int rc, const std::string& action, const MPI_Status& status, MPI_Datatype type,
             std::int64_t expected) {
    check(rc, action);
    int moved = static_cast<int>(expected);
    if (rc == MPI_SUCCESS && expected > 0) MPI_Get_count(&status, type, &moved);
    if (moved != expected && message_.empty()) {
      message_ = prefix_ + action + " moved " + std::to_string(moved) + " of " +
                 std::to_string(expected) + (type == MPI_BYTE ? " bytes" : " elements") +
                 "; check that the file system is not full and that nothing else changes the file";
    }
  }
  bool failed() const { return !message_.empty(); }
  const std::string& message() const { return message_; }
  void throw_if_any(MPI_Comm comm) const {
    kinterp::throw_if_any(comm, !message_.empty(), message_);
  }

 private:
  std::string prefix_;
  std::string message_;
};

}  // namespace kinterp::detail
