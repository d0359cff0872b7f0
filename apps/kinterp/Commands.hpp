#pragma once
// The kinterp tool: its commands (Command.hpp), run from the command line.

#include <mpi.h>

#include <string>
#include <vector>

namespace kinterp::cli {

/// Runs `kinterp <arguments...>` on every rank of `comm`; `argument_error`
/// (Environment::argument_error) is reported as a wrong command line.
int run(MPI_Comm comm, const std::vector<std::string>& arguments,
        const std::string& argument_error = "");

}  // namespace kinterp::cli
