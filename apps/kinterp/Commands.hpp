#pragma once
// The kinterp tool's subcommands. Each returns the process exit status.

#include <mpi.h>

#include <string>
#include <vector>

namespace kinterp::cli {

/// Exit statuses of the tool, one rule for every command (README, "Exit status").
enum ExitStatus : int {
  exit_ok = 0,
  /// Bad data or files (missing, unreadable, of the wrong shape, NaN, an output
  /// that cannot be written or would overwrite an input), or a failed run.
  exit_error = 1,
  /// A wrong command line: an unknown option or command, an option missing,
  /// repeated or without its value, or a value that is not of its kind or out
  /// of its range (a number, a name, a formula), whatever layer found it.
  exit_usage = 2,
  exit_not_converged = 3,  ///< the solve stopped without converging (reason printed)
};

/// Runs `kinterp <arguments...>` on every rank of `comm`; `argument_error`
/// (Environment::argument_error) is reported as a wrong command line.
int run(MPI_Comm comm, const std::vector<std::string>& arguments,
        const std::string& argument_error = "");

}  // namespace kinterp::cli
