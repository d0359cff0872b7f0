#pragma once
// `--options-file FILE`: options kept in a file, as PETSc users keep theirs.
// One option per line, in any of these forms (# starts a comment):
//
//   alpha 1e-3           alpha = 1e-3         alpha: 1e-3         --alpha 1e-3
//   monitor              monitor: true        (a flag; false/no/off leave it out)
//   var:                 (a repeatable option as a YAML block list, or repeated lines)
//     - X = Vi(2)
//     - Y = Vj(2)
//
// The file's options come first; an option also given on the command line is
// taken from the command line only (for a repeatable one, all its values).

#include "CommandLine.hpp"

#include <mpi.h>

#include <string>
#include <vector>

namespace kinterp::cli {

/// The arguments with each `--options-file FILE` replaced by the file's
/// options. Collective: rank 0 reads the files and broadcasts them, so every
/// rank gets the same arguments or the same UsageError (a missing file or a
/// directory, a line that is no option of `specs`, an option without its
/// value, a nested --options-file), naming the file and line.
std::vector<std::string> expand_options_files(MPI_Comm comm,
                                              const std::vector<std::string>& arguments,
                                              const std::vector<OptionSpec>& specs);

/// The options in the text of an options file, as arguments ("--name=value",
/// "--name"), checked against `specs`; `path` names the file in messages.
/// Throws UsageError.
std::vector<std::string> parse_options_file(const std::string& text, const std::string& path,
                                            const std::vector<OptionSpec>& specs);

}  // namespace kinterp::cli
