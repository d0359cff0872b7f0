#pragma once
// `kinterp krige`: kriging (Gaussian process regression) from files.

#include "CommandLine.hpp"
#include "CommandSupport.hpp"

#include <mpi.h>

#include <vector>

namespace kinterp::cli {

std::vector<OptionSpec> krige_options();
/// The covariance models and kriging kinds, for --help.
extern const char* const krige_help;
int krige(MPI_Comm comm, const Reporter& report, const CommandLine& command);

}  // namespace kinterp::cli
