#pragma once
// One of the kinterp tool's commands, as the table in Commands.cpp lists it:
// its options, the help printed after them, and what it does.

#include "CommandLine.hpp"
#include "CommandSupport.hpp"

#include <mpi.h>

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

struct Command {
  const char* name;  ///< `kinterp NAME`
  std::vector<OptionSpec> (*options)();
  /// What `kinterp NAME --help` prints after the options (before the files' help).
  const char* help;
  /// Runs the command on every rank; returns its exit status.
  int (*run)(MPI_Comm comm, const Reporter& report, const CommandLine& command);
};

// Each defined in its own file (SolveCommand.cpp, ...). Constant-initialised
// (addresses and literals only), so the table may list them at any time.
extern const Command solve_command;
extern const Command predict_command;
extern const Command reduce_command;
extern const Command krige_command;

}  // namespace kinterp::cli
