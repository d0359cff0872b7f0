#include "Commands.hpp"

#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/Spelling.hpp>
#include <kinterp/io/Hdf5.hpp>

#include "Command.hpp"
#include "CommandLine.hpp"
#include "CommandSupport.hpp"
#include "KernelOptions.hpp"
#include "OptionsFile.hpp"

#include <Kokkos_Core.hpp>

#include <cstdio>

namespace kinterp::cli {

namespace {

/// The tool's commands, in the order --help names them.
const Command* const commands[] = {&solve_command, &predict_command, &reduce_command,
                                   &krige_command};

const Command* find_command(const std::string& name) {
  for (const Command* command : commands) {
    if (name == command->name) return command;
  }
  return nullptr;
}

std::vector<std::string> command_names() {
  std::vector<std::string> names;
  for (const Command* command : commands) names.push_back(command->name);
  return names;
}

const char* const files_help =
    "Files (FILE). The format comes from the name:\n"
    "  x.npy               NumPy, float64 or float32, C order (numpy.save)\n"
    "  x.csv               text: a row per line, values separated by commas or spaces,\n"
    "                      '#' comments, an optional header line of names; read on\n"
    "                      rank 0 and sent to the others (small data); written %.17g\n"
    "  x.h5:/group/name    the dataset /group/name of an HDF5 file (also .hdf5),\n"
    "                      float64 or float32, read and written with parallel HDF5;\n"
    "                      writing adds or replaces the dataset, keeping the others\n"
    "Every rank reads and writes only its own block of rows (CSV: through rank 0).\n";

const char* const usage =
    "kinterp: kernel interpolation and kernel ridge regression, matrix-free and\n"
    "distributed (MPI + Kokkos). KeOps' KernelSolve and Genred for clusters.\n"
    "\n"
    "Usage:\n"
    "  mpirun -np P kinterp solve   --points x.npy --values b.npy KERNEL --alpha A --out a.npy\n"
    "  mpirun -np P kinterp predict --points x.npy --weights a.npy --targets t.npy KERNEL --out "
    "y.npy\n"
    "  mpirun -np P kinterp predict --weights a.h5:/a --targets t.npy --out y.h5:/y\n"
    "                               (weights written to HDF5 by solve record the kernel and "
    "points)\n"
    "  mpirun -np P kinterp reduce  --formula F --var ALIAS... [--param NAME=V...] --reduction R\n"
    "                               [--k K] [--axis 1|0] --input NAME=x.npy... --out r.npy\n"
    "  mpirun -np P kinterp krige   --points x.npy --values z.npy --model NAME --length-scale L\n"
    "                               [--variance V --nugget N --kriging ordinary] --targets t.npy\n"
    "                               --out mean.npy [--variance-out var.npy]\n"
    "  kinterp COMMAND --help (solve, predict, reduce, krige) | kinterp --version\n"
    "where KERNEL is --formula F --var ALIAS... --param NAME=V... or --kernel NAME --length-scale "
    "S.\n"
    "\n"
    "solve    solves (alpha I + K_xx) a = b by conjugate gradient, never storing K\n"
    "predict  evaluates the fitted model y_i = sum_j k(t_i, x_j) a_j\n"
    "reduce   any KeOps formula and reduction (Sum, Min, ArgMin, KMin, LogSumExp, ...),\n"
    "         as Genred: out_i = Reduction_j F(x_i, y_j)\n"
    "krige    kriging (Gaussian process regression): the mean and variance at targets\n"
    "         for a covariance model (Matern, spherical, ...), simple, ordinary or\n"
    "         universal\n"
    "\n"
    "Files are NumPy .npy (float64 or float32, C order), CSV (.csv) or HDF5\n"
    "datasets (x.h5:/dataset); every rank reads and writes only its own block of\n"
    "rows. Threads per rank: OMP_NUM_THREADS or --kokkos-threads=N (Kokkos 3) /\n"
    "--kokkos-num-threads=N (Kokkos 4).\n"
    "\n"
    "Outputs are written whole (as FILE.tmp, then renamed) and never over an input.\n"
    "Exit status: 0 success; 1 bad data or files, or a failed run; 2 a wrong command\n"
    "line (an unknown, missing or repeated option, a value of the wrong kind or out of\n"
    "range, a formula that does not parse); 3 the solve did not converge (the last\n"
    "iterate is still written).\n";

}  // namespace

int run(MPI_Comm comm, const std::vector<std::string>& arguments,
        const std::string& argument_error) {
  Reporter report{comm};
  MPI_Comm_rank(comm, &report.rank);
  const std::string name = arguments.empty() ? "" : arguments[0];
  const std::vector<std::string> rest(arguments.begin() + (arguments.empty() ? 0 : 1),
                                      arguments.end());
  try {
    if (!argument_error.empty()) throw UsageError{argument_error};
    if (name.empty() || name == "--help" || name == "-h" || name == "help") {
      report.print("%s\n%s", usage, kernels_help);
      return name.empty() ? exit_usage : exit_ok;
    }
    if (name == "--version") {
      const std::string hdf5 = io::hdf5_available() ? "parallel HDF5 " + io::hdf5_version()
                                                    : std::string("without HDF5");
      report.print("kinterp %s (Kokkos %d, %s, %s)\n", KINTERP_VERSION, KOKKOS_VERSION,
                   Kokkos::DefaultExecutionSpace::name(), hdf5.c_str());
      return exit_ok;
    }
    const Command* const found = find_command(name);
    if (found == nullptr) {
      std::string message = "unknown command '" + name + "'";
      const std::string guess = detail::closest(name, command_names());
      if (!guess.empty()) message += "; did you mean '" + guess + "'?";
      throw UsageError{message};
    }
    const std::vector<OptionSpec> specs = found->options();
    const CommandLine command(specs, expand_options_files(comm, rest, specs));
    if (command.flag("help")) {
      report.print("Usage: mpirun -np P kinterp %s [options]\n\n%s\n%s\n%s", name.c_str(),
                   CommandLine::help(specs).c_str(), found->help, files_help);
      return exit_ok;
    }
    return found->run(comm, report, command);
  } catch (const UsageError& e) {
    report.print("kinterp %s: error: %s (see kinterp %s--help)\n", name.c_str(), e.message.c_str(),
                 find_command(name) != nullptr ? (name + " ").c_str() : "");
    return exit_usage;
  } catch (const Error& e) {
    // kinterp::Error is thrown on every rank together: rank 0 speaks for all.
    report.print("kinterp %s: error: %s\n", name.c_str(), e.what());
    return exit_error;
  } catch (const std::exception& e) {
    // Anything else may have happened on this rank alone: stop them all.
    std::fprintf(stderr, "kinterp %s: unexpected error on rank %d: %s\n", name.c_str(), report.rank,
                 e.what());
    MPI_Abort(comm, exit_error);
  }
  return exit_error;
}

}  // namespace kinterp::cli
