#pragma once
// The kinterp tool's subcommands. Each returns the process exit status.

#include <mpi.h>

#include <string>
#include <vector>

namespace kinterp::cli {

/// Exit statuses of the tool.
enum ExitStatus : int {
  exit_ok = 0,
  exit_error = 1,          ///< bad input or a failed run (message printed)
  exit_usage = 2,          ///< a wrong command line
  exit_not_converged = 3,  ///< the solve stopped without converging (reason printed)
};

/// Runs `kinterp <arguments...>` on every rank of `comm`.
int run(MPI_Comm comm, const std::vector<std::string>& arguments);

}  // namespace kinterp::cli
