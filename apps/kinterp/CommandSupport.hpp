#pragma once
// What the kinterp tool's commands share: printing on rank 0, moving rows
// between files and the device, the solver's options from the command line.

#include <kinterp/KernelSolve.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/io/LocalRowsView.hpp>
#include <kinterp/io/RowFile.hpp>

#include "CommandLine.hpp"
#include "LogView.hpp"

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <cstdio>
#include <string>

namespace kinterp::cli {

/// Prints on rank 0 only.
struct Reporter {
  MPI_Comm comm;
  int rank = 0;

  template <class... Args>
  void print(const char* format, Args... args) const {
    if (rank != 0) return;
    std::printf(format, args...);
    std::fflush(stdout);
  }
  /// The largest value over the ranks (for times).
  double max(double value) const {
    MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_MAX, comm);
    return value;
  }
};

/// Fails early (before a long solve) for an --out that cannot be written: an
/// HDF5 file without a dataset, or HDF5 in a kinterp built without it.
void check_output(const std::string& out);

/// "2 ranks x 4 OpenMP threads"
std::string machine(MPI_Comm comm);

/// --log-view's rows for kernel products: their time, split into computing
/// and waiting for the ring's messages.
void add_product_rows(LogView& log, const std::string& name, const RingTimings& timings, int depth);

template <class T>
typename KernelSum<T>::Matrix to_device(const io::LocalRows<T>& rows, const std::string& label) {
  return io::to_view<typename KernelSum<T>::Matrix>(rows, label);
}

/// Reads `path` (any io::read_rows spec), which must have the rows of `like`
/// (same N, same block).
template <class T>
io::LocalRows<T> read_rows_like(MPI_Comm comm, const std::string& path, const std::string& option,
                                const io::LocalRows<T>& like, const std::string& like_option) {
  const io::ArrayShape shape = io::read_shape(comm, path);
  if (shape.rows != like.global_rows) {
    throw Error(option + " " + path + " has " + std::to_string(shape.rows) + " rows but " +
                like_option + " has " + std::to_string(like.global_rows) +
                ": give one row per point");
  }
  return io::read_rows<T>(comm, path, like.block);
}

/// What `solve` does, from the command line alone (before any file is read).
struct SolveSettings {
  double alpha = 1e-10;
  SolveOptions options;
  KernelSolveOptions how;
  std::string precond = "none";
};

/// --alpha, --rtol, --atol, --max-it, --stagnation-window, --precond and its
/// options, --checkpoint and --restart; `default_precond` when --precond is
/// not given (a Nystrom one gets --rank 500 by default). UsageError or
/// kinterp::Error for values out of range.
SolveSettings solve_settings(const CommandLine& command, bool mixed,
                             const std::string& default_precond = "none");

}  // namespace kinterp::cli
