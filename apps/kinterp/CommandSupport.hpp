#pragma once
// What the kinterp tool's commands share: printing on rank 0, the options
// every command takes, --precision, moving rows between files and the device,
// the checks made before any work (files, finite data), the solver's options
// from the command line, --log-view's rows.

#include <kinterp/KernelSolve.hpp>
#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/NumberText.hpp>
#include <kinterp/io/LocalRowsView.hpp>
#include <kinterp/io/RowFile.hpp>

#include "CommandLine.hpp"
#include "LogView.hpp"

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <utility>
#include <vector>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

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

/// Runs `interpret`, which reads the command line only: whatever it finds
/// wrong, whether the tool or the library found it (a formula, a kernel name,
/// an alpha), is a wrong command line (exit status 2).
template <class Interpret>
auto from_command_line(Interpret&& interpret) {
  try {
    return interpret();
  } catch (const Error& e) {
    throw UsageError{e.what()};
  }
}

/// What every command takes besides its own options: --options-file,
/// --log-view, --help.
void add_run_options(std::vector<OptionSpec>& options);

/// Runs `run(T{}, mixed)` with T the type of --precision: double, float, or
/// (where `mixes`) mixed, which is double with `mixed` set: products in
/// float, the rest in double. UsageError for any other precision.
template <class Run>
int with_precision(const CommandLine& command, bool mixes, const Run& run) {
  const std::string precision = command.optional("precision").value_or("double");
  if (precision == "double") return run(double{}, false);
  if (precision == "float") return run(float{}, false);
  if (precision == "mixed" && mixes) return run(double{}, true);
  throw UsageError{std::string("--precision is double") +
                   (mixes ? ", float or mixed" : " or float") + ", got '" + precision + "'"};
}

/// A file a command reads or writes, and the option that names it.
struct FileOption {
  std::string option;  ///< "--out", "--input X", ...
  std::string spec;    ///< an io::read_rows spec, or a plain path if `plain`
  bool plain = false;  ///< a checkpoint: any file name, its own format
};

/// Collective; before any work. Every output can be written (an HDF5 one
/// needs a dataset and HDF5 in this build) and none is the data of an input or
/// of another output: writing it would destroy them. A --checkpoint may be
/// its --restart file (it continues it). One kinterp::Error on every rank
/// otherwise.
void check_files(MPI_Comm comm, const std::vector<FileOption>& inputs,
                 const std::vector<FileOption>& outputs);

/// The NAME=FILE values of a repeatable --`option`, in order; a UsageError for
/// one without '=', a name or a file, or a name given twice.
std::vector<std::pair<std::string, std::string>> named_files(const CommandLine& command,
                                                             const std::string& option);

/// "2 ranks x 4 OpenMP threads, threads not bound"
std::string machine(MPI_Comm comm);

using detail::count_text;  // "1 point", "3 points"

/// --log-view's rows for kernel products: their time, split into computing
/// and waiting for the ring's messages; for a tree (`engine`, the product's
/// description, starts with "tree") computing splits into readying the
/// blocks and the sums.
void add_product_rows(LogView& log, const std::string& name, const RingTimings& timings, int depth,
                      const std::string& engine);

/// --log-view of a command that reads, makes a product (setup_seconds; < 0:
/// no row), runs it or a reduction, writes.
void log_read_run_write(MPI_Comm comm, double read_seconds, double setup_seconds,
                        const std::string& name, const RingTimings& timings,
                        const std::string& engine, double write_seconds, double total);

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

/// Reads the --targets `path`, whose points must have the coordinates of `points`.
template <class T>
io::LocalRows<T> read_targets_like(MPI_Comm comm, const std::string& path,
                                   const io::LocalRows<T>& points) {
  io::LocalRows<T> targets = io::read_rows<T>(comm, path);
  if (targets.columns != points.columns) {
    throw Error("--targets " + path + " has " + count_text(targets.columns, "coordinate") +
                " per point but --points has " + std::to_string(points.columns));
  }
  return targets;
}

/// Collective: a NaN or Inf in `rows` is the same Error on every rank, naming
/// its global row (before the work that would use them).
template <class T>
void require_finite(MPI_Comm comm, const io::LocalRows<T>& rows, const std::string& what) {
  std::int64_t bad = -1;
  for (std::size_t k = 0; k < rows.values.size() && bad < 0; ++k) {
    if (!std::isfinite(rows.values[k])) {
      bad = rows.block.begin + static_cast<std::int64_t>(k) / rows.columns;
    }
  }
  throw_if_any(comm, bad >= 0,
               "NaN or Inf in " + what + " (first in row " + std::to_string(bad) +
                   ", counting from 0): every value must be a finite number");
}

/// Every rank alike: `what` (an option and its file) must have rows.
inline void require_rows(const std::string& what, std::int64_t rows) {
  if (rows == 0) throw Error(what + " has no rows: give at least one point");
}

/// Collective: the Vecchia preconditioner's line of a solve's report.
void print_vecchia(const Reporter& report, const VecchiaInfo& info);

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
