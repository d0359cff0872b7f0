#include "Commands.hpp"

#include <kinterp/Genred.hpp>
#include <kinterp/KernelModel.hpp>
#include <kinterp/KernelSolve.hpp>
#include <kinterp/KernelSum.hpp>
#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/NumberText.hpp>
#include <kinterp/core/detail/Spelling.hpp>
#include <kinterp/formula/Formula.hpp>
#include <kinterp/io/Hdf5.hpp>
#include <kinterp/io/LocalRowsView.hpp>
#include <kinterp/io/RowFile.hpp>

#include "CommandLine.hpp"
#include "CommandSupport.hpp"
#include "Krige.hpp"
#include "LogView.hpp"
#include "OptionsFile.hpp"
#include "Progress.hpp"

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>

namespace kinterp::cli {

namespace {

// ---- Options and help ------------------------------------------------------------

/// What every command takes besides its own options.
void add_run_options(std::vector<OptionSpec>& options) {
  options.push_back({"options-file", "FILE",
                     "more options from FILE, one per line: name value, name = value, or\n"
                     "YAML name: value (lists as '- item' lines); the command line wins"});
  options.push_back(
      {"log-view", "", "print where the time went: a row per phase, min/max/avg over ranks"});
  options.push_back({"help", "", "print this help"});
}

std::vector<OptionSpec> kernel_options(bool solve) {
  // Chosen here rather than with `solve ? OptionSpec{...} : OptionSpec{...}` inside the
  // list below: that conditional crashes the CUDA 13.0 device front end (cicc, a
  // segmentation fault), though this file has no device code of its own.
  OptionSpec precision{"precision", "double|float", "arithmetic precision (default: double)"};
  if (solve) {
    precision.value_name = "double|float|mixed";
    precision.help =
        "arithmetic precision (default: double); mixed: kernel products\n"
        "in float, CG in double, refined with double residuals until\n"
        "rtol is met (the accuracy of double, the products of float);\n"
        "the weights are written in float64";
  }
  return {
      {"formula", "F",
       "the kernel as a KeOps formula F(X, Y, A), e.g. \"Exp(-G*SqDist(X,Y))*A\",\n"
       "linear in the weights' j-variable A (see below)"},
      {"var", "ALIAS", "a formula variable, e.g. \"X=Vi(2)\"; repeat for each", true},
      {"unknown", "NAME",
       "the weights' variable A of --formula (default: the one j-variable the\n"
       "formula is linear in), as KeOps' KernelSolve(formula, aliases, \"A\")"},
      {"param", "NAME=V[,V...]", "a formula parameter's value, e.g. G=50; repeat for each", true},
      {"kernel", "NAME",
       "instead of --formula: gaussian exp(-r^2/(2s^2)), laplacian (=\n"
       "exponential, matern12) exp(-r/s), matern32, matern52 (g = sqrt(3)/s,\n"
       "sqrt(5)/s), cauchy 1/(1+r^2/s^2), imq 1/sqrt(1+r^2/s^2), spherical\n"
       "(s: the range); rq and matern of any nu: kinterp krige"},
      {"length-scale", "S", "the length scale s of --kernel"},
      precision,
  };
}

std::vector<OptionSpec> solve_options() {
  std::vector<OptionSpec> options = {
      {"points", "FILE", "the points x, shape (N, d), float64 or float32 (FILE: see below)"},
      {"values", "FILE", "the values b, shape (N,) or (N, m): one column per right-hand side"},
      {"out", "FILE",
       "where to write the weights a, shaped like --values; as HDF5\n"
       "(FILE.h5:/DATASET) with attributes recording the kernel, alpha,\n"
       "precision, solver result and --points, so that `kinterp predict`\n"
       "needs no kernel options"},
      {"alpha", "A", "the ridge alpha >= 0 in (alpha I + K) a = b (default: 1e-10, as KeOps)"},
      {"rtol", "R", "stop when ||r|| <= max(rtol ||b||, atol) in every column (default: 1e-6)"},
      {"atol", "A", "absolute residual tolerance (default: 0)"},
      {"max-it", "N", "stop after N iterations without convergence (default: 1000)"},
      {"stagnation-window", "N",
       "stop when the smallest residual has not fallen by 10% over N\n"
       "iterations (default: 1000; 0: never)"},
      {"initial-guess", "FILE", "start CG from these weights (default: 0)"},
      {"monitor", "", "print the residual norm at every iteration"},
      {"progress", "SECONDS",
       "every SECONDS, print the iteration, residual, elapsed time and an\n"
       "estimate of the time left (from the rate of convergence so far)"},
      {"precond", "NAME",
       "preconditioner: none (default), or a Nystrom approximation of K of\n"
       "rank --rank with landmarks chosen by rpcholesky (randomly pivoted\n"
       "Cholesky), greedy (largest residual) or uniform (random points)"},
      {"rank", "K",
       "landmarks of the Nystrom preconditioner (default: 500, or as many as\n"
       "--precond-memory allows when only that is given; at most N)"},
      {"precond-memory", "MB",
       "at most MB megabytes (10^6 bytes) per rank for the preconditioner's\n"
       "factor and core; with --rank, k is the smaller of the two"},
      {"precond-seed", "S",
       "seed of the preconditioner's random landmarks (default: 0); the same\n"
       "landmarks for any number of ranks"},
      {"checkpoint", "FILE",
       "write the solver's state to FILE every --checkpoint-every iterations\n"
       "and when --max-it stops it; written as FILE.tmp and renamed, so a job\n"
       "killed while writing keeps the previous FILE"},
      {"checkpoint-every", "N", "iterations between checkpoints (default: 100)"},
      {"restart", "FILE",
       "continue from a --checkpoint file, on any number of ranks, to the\n"
       "answer and iteration count of an uninterrupted run; the points,\n"
       "values, kernel, alpha, precision and preconditioner must be those\n"
       "it was written with"},
  };
  for (auto& option : kernel_options(true)) options.push_back(option);
  add_run_options(options);
  return options;
}

std::vector<OptionSpec> predict_options() {
  std::vector<OptionSpec> options = {
      {"points", "FILE",
       "the points x the weights belong to, shape (N, d) (default: those\n"
       "HDF5 weights written by `kinterp solve` record)"},
      {"weights", "FILE",
       "the weights a from `kinterp solve`, shape (N,) or (N, m); HDF5\n"
       "weights it wrote record the kernel: no kernel options are needed"},
      {"targets", "FILE", "where to evaluate, shape (M, d)"},
      {"out", "FILE", "where to write sum_j k(t_i, x_j) a_j, shape (M,) or (M, m)"},
  };
  for (auto& option : kernel_options(false)) options.push_back(option);
  add_run_options(options);
  return options;
}

std::vector<OptionSpec> reduce_options() {
  std::vector<OptionSpec> options = {
      {"formula", "F", "the formula F to reduce, as in KeOps, e.g. \"SqDist(X,Y)\""},
      {"formula2", "G",
       "SumSoftMaxWeight's weights G (KeOps' formula2): Concat(F, G) is\n"
       "reduced, F must be scalar"},
      {"var", "ALIAS", "a formula variable, e.g. \"X=Vi(3)\"; repeat for each", true},
      {"param", "NAME=V[,V...]",
       "a parameter's value, e.g. G=50, or its values, S=2,0.5,1.5; repeat\nfor each", true},
      {"reduction", "NAME", "the reduction (default: Sum); see below"},
      {"k", "K", "K of KMin, ArgKMin and KMin_ArgKMin (required there)"},
      {"axis", "1|0",
       "1 (default): reduce over j, a row per i; 0: reduce over i, a row\nper j (as KeOps)"},
      {"input", "NAME=FILE",
       "the rows of the variable NAME, shape (N, dim), or (N,) for dim 1;\n"
       "one for each i- and j-variable (those of a category share N)",
       true},
      {"out", "FILE", "where to write the result, float64, one row per output index"},
      {"precision", "double|float",
       "arithmetic precision (default: double); the output is float64"},
  };
  add_run_options(options);
  return options;
}

const char* const reductions_help =
    "Reductions, as KeOps' Genred. With --axis 1, out_i = Reduction_j F(x_i, y_j), one\n"
    "row per i; for a formula of dimension D the columns are:\n"
    "  Sum, Min, Max, LogSumExp  D, per component (LogSumExp: log sum_j exp F, max-shifted)\n"
    "  ArgMin, ArgMax            D: the global 0-based index j of the min / max\n"
    "  Min_ArgMin, Max_ArgMax    2D: the D values, then the D indices\n"
    "  KMin, ArgKMin             K*D: for component c, columns c*K .. c*K+K-1, ascending\n"
    "  KMin_ArgKMin              2*K*D: the K*D values, then the K*D indices\n"
    "  SumSoftMaxWeight          D-1: sum_j exp(F) G / sum_j exp(F) for --formula F\n"
    "                            --formula2 G (or a formula Concat(F, G), F scalar)\n"
    "Variables of the category reduced over (Vj for axis 1) are the sources, the others\n"
    "the targets; each needs an --input, read by blocks of rows on every rank.\n";

const char* const kernels_help =
    "Kernels. A formula F(X, Y, A) is linear in A, with X = Vi(d) the targets, Y = Vj(d)\n"
    "the points, A = Vj(m) the weights, G = Pm(...) parameters. The compiled kernel\n"
    "families are recognised in any spelling, with r = Norm2(X-Y) and r^2 = SqDist(X,Y):\n"
    "  Gaussian  Exp(-G*SqDist(X,Y))*A      Laplacian  Exp(-G*Norm2(X-Y))*A\n"
    "  Matern32  (1+G*r)*Exp(-G*r)*A        Matern52   (1+G*r+G*G*r*r/3)*Exp(-G*r)*A\n"
    "  Cauchy    Inv(1+G*SqDist(X,Y))*A     IMQ        Rsqrt(1+G*SqDist(X,Y))*A\n"
    "and constant factors. Any other formula runs through the generic evaluator (2-4x\n"
    "slower; solve: plain CG, the operator must be symmetric, which is checked).\n";

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

// ---- The kernel, from --formula or --kernel ----------------------------------------

std::map<std::string, std::vector<double>> parse_params(const std::vector<std::string>& texts) {
  std::map<std::string, std::vector<double>> params;
  for (const auto& text : texts) {
    const auto equals = text.find('=');
    if (equals == std::string::npos || equals == 0) {
      throw UsageError{"--param takes NAME=VALUE[,VALUE...], got '" + text + "'"};
    }
    const std::string name = text.substr(0, equals);
    std::vector<double> values;
    std::stringstream list(text.substr(equals + 1));
    for (std::string item; std::getline(list, item, ',');) {
      char* end = nullptr;
      const double value = std::strtod(item.c_str(), &end);
      if (item.empty() || *end != '\0' || !std::isfinite(value)) {
        throw UsageError{"--param " + name + ": '" + item + "' is not a finite number"};
      }
      values.push_back(value);
    }
    if (values.empty()) throw UsageError{"--param " + name + " has no value"};
    if (!params.emplace(name, values).second)
      throw UsageError{"--param " + name + " is given twice"};
  }
  return params;
}

KernelModel resolve_kernel(const CommandLine& command) {
  if (command.has("formula") == command.has("kernel")) {
    throw UsageError{
        "give either --formula (with --var and --param) or --kernel with --length-scale"};
  }
  if (command.has("kernel")) {
    if (command.has("var") || command.has("param") || command.has("unknown")) {
      throw UsageError{"--var, --param and --unknown belong to --formula, not --kernel"};
    }
    if (!command.has("length-scale")) throw UsageError{"--kernel needs --length-scale"};
    const std::string name = command.required("kernel");
    if (name == "rq" || name == "matern") {
      throw UsageError{"--kernel " + name +
                       " has a shape parameter that solve and predict do not take: use kinterp "
                       "krige (--nu, --rq-alpha), or matern32/matern52/exponential"};
    }
    return KernelModel::named(command.required("kernel"), command.number("length-scale", 0));
  }
  if (command.has("length-scale")) throw UsageError{"--length-scale belongs to --kernel"};
  return KernelModel::from_formula(command.required("formula"), command.all("var"),
                                   parse_params(command.all("param")),
                                   command.optional("unknown").value_or(""));
}

// ---- The kernel and points recorded on HDF5 weights -------------------------------------

using detail::number_text;

/// The items of a "; "-separated list, trimmed, without empty ones.
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ';');) {
    const auto first = item.find_first_not_of(" \t"), last = item.find_last_not_of(" \t");
    if (first != std::string::npos) items.push_back(item.substr(first, last - first + 1));
  }
  return items;
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : "; ") + item;
  return text;
}

/// The kernel options (valid: resolve_kernel accepted them) as attributes that
/// recorded_kernel turns back into the same kernel.
io::Attributes kernel_attributes(const CommandLine& command) {
  io::Attributes attributes;
  if (command.has("kernel")) {
    attributes["kernel"] = command.required("kernel");
    attributes["length_scale"] = number_text(command.number("length-scale", 0));
    return attributes;
  }
  attributes["formula"] = command.required("formula");
  attributes["vars"] = join(command.all("var"));
  std::vector<std::string> params;
  for (const auto& [name, values] : parse_params(command.all("param"))) {
    std::string text = name + "=";
    for (std::size_t i = 0; i < values.size(); ++i) text += (i ? "," : "") + number_text(values[i]);
    params.push_back(text);
  }
  attributes["params"] = join(params);
  if (const auto unknown = command.optional("unknown")) attributes["unknown"] = *unknown;
  return attributes;
}

/// The kernel that the attributes of --weights record, if they record one.
std::optional<KernelModel> recorded_kernel(const io::Attributes& attributes,
                                           const std::string& weights) {
  const auto get = [&](const char* name) -> std::optional<std::string> {
    const auto found = attributes.find(name);
    if (found == attributes.end()) return std::nullopt;
    return found->second;
  };
  const std::string failure = "--weights " + weights + " records a kernel kinterp cannot use (";
  const std::string fix = "); give the kernel with --formula or --kernel";
  try {
    if (const auto name = get("kernel")) {
      const std::string scale = get("length_scale").value_or("");
      char* end = nullptr;
      const double length_scale = std::strtod(scale.c_str(), &end);
      if (scale.empty() || *end != '\0') {
        throw Error("its 'length_scale' attribute is '" + scale + "', not a number");
      }
      return KernelModel::named(*name, length_scale);
    }
    if (const auto formula = get("formula")) {
      return KernelModel::from_formula(*formula, split_list(get("vars").value_or("")),
                                       parse_params(split_list(get("params").value_or(""))),
                                       get("unknown").value_or(""));
    }
  } catch (const Error& e) {
    throw Error(failure + e.what() + fix);
  } catch (const UsageError& e) {
    throw Error(failure + e.message + fix);
  }
  return std::nullopt;
}

/// What predict evaluates: the kernel and the points, from the options or else
/// from the attributes of HDF5 weights written by solve.
struct PredictInputs {
  std::optional<KernelModel> kernel;
  std::string points;
  bool kernel_recorded = false, points_recorded = false;
};

PredictInputs predict_inputs(MPI_Comm comm, const CommandLine& command) {
  const std::string weights = command.required("weights");
  const bool hdf5 = io::FileSpec::parse(weights).format == io::FileFormat::Hdf5;
  bool kernel_options = false;
  for (const char* option : {"formula", "kernel", "var", "param", "unknown", "length-scale"}) {
    kernel_options = kernel_options || command.has(option);
  }
  PredictInputs inputs;
  io::Attributes recorded;
  if (hdf5 && !(kernel_options && command.has("points"))) {
    recorded = io::read_attributes(comm, weights);
  }
  if (kernel_options || !hdf5) {
    inputs.kernel = from_command_line([&] { return resolve_kernel(command); });
  } else {
    inputs.kernel = recorded_kernel(recorded, weights);
    if (!inputs.kernel) {
      throw UsageError{
          "give either --formula (with --var and --param) or --kernel with --length-scale: "
          "--weights " +
          weights + " records no kernel (HDF5 weights written by kinterp solve do)"};
    }
    inputs.kernel_recorded = true;
  }
  if (const auto points = command.optional("points")) {
    inputs.points = *points;
  } else if (recorded.count("points") != 0) {
    inputs.points = recorded.at("points");
    inputs.points_recorded = true;
  } else {
    throw UsageError{"--points is required" +
                     (hdf5 ? " (--weights " + weights + " records no points)" : std::string())};
  }
  return inputs;
}

/// Copies the rows of `from` into columns [offset, offset + from.columns) of
/// `packed` (the same rows): one variable of the rows a formula reads.
template <class T>
void place_columns(const io::LocalRows<T>& from, io::LocalRows<T>& packed, std::int64_t offset) {
  for (std::int64_t r = 0; r < packed.block.count; ++r) {
    std::copy_n(from.values.data() + r * from.columns, from.columns,
                packed.values.data() + r * packed.columns + offset);
  }
}

/// --log-view of a command that reads, runs one product or reduction, writes.
void log_read_run_write(MPI_Comm comm, double read_seconds, const std::string& name,
                        const RingTimings& timings, double write_seconds, double total) {
  LogView log;
  log.add("read input", read_seconds);
  add_product_rows(log, name, timings, 0);
  log.add("write output", write_seconds);
  log.print(comm, total);
}

// ---- solve ----------------------------------------------------------------------------

template <class T>
int solve(MPI_Comm comm, const Reporter& report, const CommandLine& command,
          const KernelModel& kernel, bool mixed) {
  const double start = MPI_Wtime();
  const std::string points_path = command.required("points"),
                    values_path = command.required("values");
  const std::string out_path = command.required("out");
  SolveSettings settings = from_command_line([&] { return solve_settings(command, mixed); });
  SolveOptions& options = settings.options;
  const double alpha = settings.alpha;
  std::vector<FileOption> inputs = {{"--points", points_path}, {"--values", values_path}};
  if (const auto guess = command.optional("initial-guess")) {
    inputs.push_back({"--initial-guess", *guess});
  }
  if (!options.checkpoint.restart_path.empty()) {
    inputs.push_back({"--restart", options.checkpoint.restart_path, true});
  }
  std::vector<FileOption> outputs = {{"--out", out_path}};
  if (!options.checkpoint.path.empty()) {
    outputs.push_back({"--checkpoint", options.checkpoint.path, true});
  }
  check_files(comm, inputs, outputs);

  const io::LocalRows<T> points = io::read_rows<T>(comm, points_path);
  require_rows("--points " + points_path, points.global_rows);
  kernel.check_point_columns("--points " + points_path, points.columns);
  const io::LocalRows<T> values =
      read_rows_like(comm, values_path, "--values", points, "--points " + points_path);
  kernel.check_weight_columns("--values " + values_path, values.columns);
  const std::int64_t n = points.global_rows;
  const int m = static_cast<int>(values.columns);

  typename KernelSum<T>::Matrix weights("kinterp::weights", points.block.count, m);
  if (const auto guess_path = command.optional("initial-guess")) {
    const auto guess =
        read_rows_like(comm, *guess_path, "--initial-guess", points, "--points " + points_path);
    if (guess.columns != m) {
      throw Error("--initial-guess " + *guess_path + " has " + std::to_string(guess.columns) +
                  " columns but --values has " + std::to_string(m));
    }
    Kokkos::deep_copy(weights, to_device(guess, "kinterp::initial_guess"));
    options.use_initial_guess = true;
  }
  const bool monitor = command.flag("monitor");
  std::optional<Progress> progress;
  if (command.has("progress")) {
    const double every = command.number("progress", 0);
    if (every <= 0) throw UsageError{"--progress takes a positive number of seconds"};
    progress.emplace(report.rank, every, options.rtol, options.atol);
  }
  if (monitor || progress) {
    options.monitor = [&](int iteration, const std::vector<double>& norms) {
      if (monitor) {
        double worst = 0;
        for (double norm : norms) worst = std::max(worst, norm);
        report.print("  iteration %5d  residual %.6e\n", iteration, worst);
      }
      if (progress) (*progress)(iteration, norms);
    };
  }
  const double read_seconds = MPI_Wtime() - start;

  report.print("kinterp solve: %s in %lldD, %s, kernel %s, alpha = %g, %s, %s\n",
               count_text(n, "point").c_str(), static_cast<long long>(points.columns),
               count_text(m, "right-hand side").c_str(), kernel.description().c_str(), alpha,
               mixed ? "mixed precision (float products, double CG)"
                     : (sizeof(T) == 8 ? "double precision" : "float precision"),
               machine(comm).c_str());
  const auto device_points = to_device(points, "kinterp::points");
  const auto device_values = to_device(values, "kinterp::values");
  const double fit_start = MPI_Wtime();
  const KernelSolveResult result =
      kernel.fit<T>(comm, device_points, device_values, weights, alpha, options, settings.how);
  const double fit_seconds = MPI_Wtime() - fit_start;

  // On HDF5 weights: what `kinterp predict` needs to use them without options,
  // and how they were computed.
  io::Attributes attributes;
  if (io::FileSpec::parse(out_path).format == io::FileFormat::Hdf5) {
    attributes = kernel_attributes(command);
    attributes["kinterp_version"] = KINTERP_VERSION;
    attributes["points"] = points_path;
    attributes["values"] = values_path;
    attributes["alpha"] = number_text(alpha);
    attributes["precision"] = mixed ? "mixed" : (sizeof(T) == 8 ? "double" : "float");
    attributes["solver_reason"] = to_string(result.reason);
    attributes["solver_iterations"] = std::to_string(result.iterations);
    attributes["solver_relative_residual"] = number_text(result.relative_residual());
  }
  const double write_start = MPI_Wtime();
  io::write_rows(comm, out_path, io::to_local_rows<T>(weights, n, points.block, values.ndim),
                 sizeof(T), attributes);
  const double write_seconds = MPI_Wtime() - write_start;

  if (result.preconditioned) {
    const NystromInfo& info = result.preconditioner;
    report.print(
        "preconditioner: Nystrom, %d landmarks (%s, seed %llu), set-up %.3f s, %.1f MB per rank, "
        "tr(K - F F^T) / tr(K) = %.2e\n",
        info.rank, settings.precond.c_str(),
        static_cast<unsigned long long>(settings.how.preconditioner.seed),
        report.max(info.setup_seconds), report.max(static_cast<double>(info.bytes_per_rank)) / 1e6,
        info.trace > 0 ? info.residual_trace / info.trace : 0.0);
  }
  if (result.resumed_from >= 0) {
    report.print("resumed from %s at iteration %d\n", options.checkpoint.restart_path.c_str(),
                 result.resumed_from);
  }
  report.print("%s after %d iterations: relative residual %.3e (recomputed: %.3e)\n",
               to_string(result.reason).c_str(), result.iterations,
               result.recurrence_relative_residual(), result.relative_residual());
  if (result.residuals_disagree()) {
    report.print(
        "  note: the recurrence's residual and the recomputed ||b - A a|| / ||b|| differ "
        "(%.3e vs %.3e); the recomputed one is the accuracy of the written weights\n",
        result.recurrence_relative_residual(), result.relative_residual());
  }
  if (!result.detail.empty()) report.print("  %s\n", result.detail.c_str());
  if (result.mixed_precision) {
    report.print(
        "mixed precision: %d kernel products in float, %d in double (%d residual replacement%s, "
        "%d restart%s)\n",
        result.float_products, result.products - result.float_products, result.replacements,
        result.replacements == 1 ? "" : "s", result.restarts, result.restarts == 1 ? "" : "s");
  }
  if (result.checkpoints_written > 0) {
    report.print("%d checkpoint%s written to %s\n", result.checkpoints_written,
                 result.checkpoints_written == 1 ? "" : "s", options.checkpoint.path.c_str());
  }
  report.print(
      "time: %.3f s in all (read %.3f, solve %.3f, write %.3f); %s %.3f s, of "
      "which waiting for messages %.3f s",
      report.max(MPI_Wtime() - start), report.max(read_seconds), report.max(result.seconds),
      report.max(write_seconds), count_text(result.products, "kernel product").c_str(),
      report.max(result.product.total), report.max(result.product.wait));
  if (result.preconditioned) {
    report.print("; preconditioner %.3f s", report.max(result.preconditioner_seconds));
  }
  if (result.checkpoints_written > 0 || result.resumed_from >= 0) {
    report.print("; checkpoints %.3f s", report.max(result.checkpoint_seconds));
  }
  report.print("\n");
  report.print("weights written to %s\n", out_path.c_str());
  if (command.flag("log-view")) {
    LogView log;
    log.add("read input", read_seconds);
    log.add("set-up (kernel, preconditioner)", fit_seconds - result.seconds);
    log.add("conjugate gradient", result.seconds);
    add_product_rows(log, "kernel products", result.product, 1);
    if (result.preconditioned) log.add("preconditioner", result.preconditioner_seconds, 1);
    if (result.checkpoints_written > 0 || result.resumed_from >= 0) {
      log.add("checkpoints", result.checkpoint_seconds, 1);
    }
    log.add("vectors, dot products, allreduce",
            result.seconds - result.product.total - result.preconditioner_seconds -
                result.checkpoint_seconds,
            1);
    log.add("write output", write_seconds);
    log.print(comm, MPI_Wtime() - start);
  }
  return result.converged() ? exit_ok : exit_not_converged;
}

// ---- predict --------------------------------------------------------------------------

template <class T>
int predict(MPI_Comm comm, const Reporter& report, const CommandLine& command,
            const PredictInputs& inputs) {
  const double start = MPI_Wtime();
  const KernelModel& kernel = *inputs.kernel;
  const std::string& points_path = inputs.points;
  const std::string weights_path = command.required("weights");
  const std::string targets_path = command.required("targets"), out_path = command.required("out");
  check_files(comm,
              {{"--points", points_path}, {"--weights", weights_path}, {"--targets", targets_path}},
              {{"--out", out_path}});

  io::LocalRows<T> points;
  try {
    points = io::read_rows<T>(comm, points_path);
  } catch (const Error& e) {
    if (!inputs.points_recorded) throw;
    // Thrown on every rank alike, so rethrown alike.
    throw Error(std::string(e.what()) + " (the points recorded by --weights " + weights_path +
                "; give --points to name them)");
  }
  require_rows("--points " + points_path, points.global_rows);
  kernel.check_point_columns("--points " + points_path, points.columns);
  const io::LocalRows<T> weights =
      read_rows_like(comm, weights_path, "--weights", points, "--points " + points_path);
  kernel.check_weight_columns("--weights " + weights_path, weights.columns);
  const io::LocalRows<T> targets = io::read_rows<T>(comm, targets_path);
  if (targets.columns != points.columns) {
    throw Error("--targets " + targets_path + " has " + count_text(targets.columns, "coordinate") +
                " per point but --points has " + std::to_string(points.columns));
  }

  const double read_seconds = MPI_Wtime() - start;
  report.print("kinterp predict: %s from %s in %lldD, kernel %s, %s\n",
               count_text(targets.global_rows, "target").c_str(),
               count_text(points.global_rows, "point").c_str(),
               static_cast<long long>(points.columns), kernel.description().c_str(),
               machine(comm).c_str());
  if (inputs.kernel_recorded || inputs.points_recorded) {
    report.print("  %s from the attributes of %s\n",
                 inputs.kernel_recorded && inputs.points_recorded ? "kernel and points"
                 : inputs.kernel_recorded                         ? "kernel"
                                                                  : "points",
                 weights_path.c_str());
  }
  typename KernelSum<T>::Matrix out("kinterp::predicted", targets.block.count, weights.columns);
  const RingTimings timings = kernel.predict<T>(comm, to_device(points, "kinterp::points"),
                                                to_device(weights, "kinterp::weights"),
                                                to_device(targets, "kinterp::targets"), out);
  const double write_start = MPI_Wtime();
  io::write_rows(comm, out_path,
                 io::to_local_rows<T>(out, targets.global_rows, targets.block, weights.ndim),
                 sizeof(T));
  const double write_seconds = MPI_Wtime() - write_start;
  report.print("time: %.3f s in all; kernel product %.3f s, of which waiting for messages %.3f s\n",
               report.max(MPI_Wtime() - start), report.max(timings.total),
               report.max(timings.wait));
  report.print("predictions written to %s\n", out_path.c_str());
  if (command.flag("log-view")) {
    log_read_run_write(comm, read_seconds, "predict (kernel product)", timings, write_seconds,
                       MPI_Wtime() - start);
  }
  return exit_ok;
}

// ---- reduce ---------------------------------------------------------------------------

/// What `reduce` computes, from the command line alone (before any file is read).
struct ReduceSettings {
  Formula formula;
  std::map<std::string, std::vector<double>> params;
  Reduction reduction;
  int axis = 1;
  Program layout;  ///< the compiled formula: where each variable sits in a packed row
  /// The file of each packed variable, by its name in layout.targets / sources.
  std::map<std::string, std::string> inputs;
};

std::string variables_text(const Formula& formula) {
  std::string text;
  for (const auto& v : formula.variables()) text += (text.empty() ? "" : ", ") + alias_text(v);
  return text;
}

Formula reduce_formula(const CommandLine& command, ReductionKind kind) {
  const std::string text = command.required("formula");
  const std::vector<std::string> aliases = command.all("var");
  const auto weights = command.optional("formula2");
  if (!weights) return Formula(text, aliases);
  if (kind != ReductionKind::SumSoftMaxWeight) {
    throw UsageError{"--formula2 belongs to --reduction SumSoftMaxWeight"};
  }
  // KeOps' SumSoftMaxWeight(F, G) is what the library reduces as Concat(F, G).
  const Formula f(text, aliases);
  if (f.dimension() != 1) {
    throw Error("SumSoftMaxWeight needs a scalar --formula, but \"" + text + "\" has dimension " +
                std::to_string(f.dimension()));
  }
  static_cast<void>(Formula(*weights, aliases));  // alone first: its errors then point into G
  return Formula("Concat(" + text + "," + *weights + ")", aliases);
}

ReduceSettings reduce_settings(const CommandLine& command) {
  const std::string name = command.optional("reduction").value_or("Sum");
  Reduction reduction;
  try {
    reduction = Reduction::parse(name, 1);
  } catch (const Error& e) {
    throw UsageError{std::string("--reduction: ") + e.what()};
  }
  if (reduction.takes_k()) {
    if (!command.has("k")) throw UsageError{"--reduction " + name + " needs --k K"};
    reduction = Reduction::parse(name, static_cast<int>(command.integer("k", 1, 1, INT_MAX)));
  } else if (command.has("k")) {
    throw UsageError{"--k belongs to KMin, ArgKMin and KMin_ArgKMin, not " + name};
  }
  const int axis = static_cast<int>(command.integer("axis", 1, 0, 1));
  auto params = parse_params(command.all("param"));
  if (command.all("input").empty()) throw UsageError{"--input NAME=FILE is required"};

  // Formula errors are bad input (exit 1), as for solve's --formula.
  Formula formula = reduce_formula(command, reduction.kind);
  Program layout = formula.compile(params, axis);
  ReduceSettings s{std::move(formula), std::move(params), reduction, axis, std::move(layout), {}};
  s.reduction.output_columns(s.layout.dimension);  // throws when the formula does not fit

  // Each --input names a packed variable (or an alias sharing its index).
  std::map<int, std::string> packed;  // variable index -> name in the layout
  for (const auto* list : {&s.layout.targets, &s.layout.sources}) {
    for (const auto& v : *list) packed[s.formula.find(v.name)->index] = v.name;
  }
  for (const auto& text : command.all("input")) {
    const auto equals = text.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == text.size()) {
      throw UsageError{"--input takes NAME=FILE, got '" + text + "'"};
    }
    const std::string name = text.substr(0, equals), path = text.substr(equals + 1);
    const Variable* variable = s.formula.find(name);
    if (variable == nullptr) {
      std::vector<std::string> names;
      for (const auto& v : s.formula.variables()) names.push_back(v.name);
      std::string message = "--input " + name + ": the formula has no variable " + name;
      const std::string guess = detail::closest(name, names);
      if (!guess.empty()) message += "; did you mean '" + guess + "'?";
      throw UsageError{message + " (its variables: " + variables_text(s.formula) + ")"};
    }
    if (variable->category == Variable::Category::Parameter) {
      throw UsageError{"--input " + name + ": " + alias_text(*variable) +
                       " is a parameter: give its value with --param " + name + "=V[,V...]"};
    }
    if (!s.inputs.emplace(packed.at(variable->index), path).second) {
      throw UsageError{"--input " + name + ": variable " + packed.at(variable->index) +
                       " is given twice"};
    }
  }
  for (const auto* list : {&s.layout.targets, &s.layout.sources}) {
    for (const auto& v : *list) {
      if (s.inputs.count(v.name) == 0) {
        throw UsageError{"no --input for " + alias_text(*s.formula.find(v.name)) +
                         ": add --input " + v.name + "=FILE.npy"};
      }
    }
  }
  const char* target_category = s.axis == 1 ? "Vi" : "Vj";
  const char* source_category = s.axis == 1 ? "Vj" : "Vi";
  // Without a variable of a category nothing says how many rows it has.
  if (s.layout.targets.empty() || s.layout.sources.empty()) {
    throw Error("the formula needs at least one " +
                std::string(s.layout.targets.empty() ? target_category : source_category) +
                " variable: its --input gives the number of " +
                (s.layout.targets.empty() ? "output rows" : "rows reduced over") +
                " (declare one with --var even if the formula does not use it)");
  }
  return s;
}

/// This rank's block of the packed rows of `variables`, each read from its
/// --input file; all files must have the same number of rows.
template <class T>
io::LocalRows<T> read_packed(MPI_Comm comm, const ReduceSettings& s,
                             const std::vector<PackedVariable>& variables, int width) {
  io::LocalRows<T> packed;
  std::string first;  // the file that fixed the row count
  for (const auto& v : variables) {
    const std::string& path = s.inputs.at(v.name);
    const io::ArrayShape header = io::read_shape(comm, path);
    const std::string alias = alias_text(*s.formula.find(v.name));
    if (header.columns != v.dimension) {
      throw Error("--input " + v.name + ": " + alias + " needs a file with " +
                  std::to_string(v.dimension) + (v.dimension == 1 ? " column" : " columns") + ", " +
                  path + " has " + std::to_string(header.columns));
    }
    if (first.empty()) {
      first = path;
      packed.global_rows = header.rows;
      packed.columns = width;
      packed.block = block_partition(header.rows, comm);
      packed.values.resize(packed.block.count * width);
    } else if (header.rows != packed.global_rows) {
      throw Error("--input " + v.name + ": " + path + " has " + std::to_string(header.rows) +
                  " rows but " + first + " has " + std::to_string(packed.global_rows) +
                  ": variables of the same category need one row per index");
    }
    const io::LocalRows<T> rows = io::read_rows<T>(comm, path, packed.block);
    place_columns(rows, packed, v.offset);
  }
  return packed;
}

template <class T>
int reduce(MPI_Comm comm, const Reporter& report, const CommandLine& command) {
  const double start = MPI_Wtime();
  const std::string out_path = command.required("out");
  const ReduceSettings s = from_command_line([&] { return reduce_settings(command); });
  std::vector<FileOption> inputs;
  for (const auto& [name, path] : s.inputs) inputs.push_back({"--input " + name, path});
  check_files(comm, inputs, {{"--out", out_path}});
  const Program& layout = s.layout;
  const io::LocalRows<T> targets = read_packed<T>(comm, s, layout.targets, layout.target_width);
  const io::LocalRows<T> sources = read_packed<T>(comm, s, layout.sources, layout.source_width);
  require_rows(
      "--input " + layout.sources.front().name + " " + s.inputs.at(layout.sources.front().name),
      sources.global_rows);
  const double read_seconds = MPI_Wtime() - start;
  // Past the row count the K smallest are padded with inf: most likely a mistake.
  if (s.reduction.takes_k() && s.reduction.k > sources.global_rows) {
    throw Error("--k " + std::to_string(s.reduction.k) + " is more than the " +
                std::to_string(sources.global_rows) + " " + (s.axis == 1 ? "j" : "i") +
                "-rows reduced over");
  }

  const char* over = s.axis == 1 ? "j" : "i";
  report.print(
      "kinterp reduce: %s over %s of \"%s\" (dimension %d), %lld %s-rows against %lld, %s, %s\n",
      (s.reduction.name() +
       (s.reduction.takes_k() ? " (K = " + std::to_string(s.reduction.k) + ")" : std::string()))
          .c_str(),
      over, s.formula.text().c_str(), layout.dimension, static_cast<long long>(targets.global_rows),
      s.axis == 1 ? "i" : "j", static_cast<long long>(sources.global_rows),
      sizeof(T) == 8 ? "double precision" : "float precision", machine(comm).c_str());
  using Genred = kinterp::Genred<T>;
  using Rows = Kokkos::View<T**, Kokkos::LayoutRight, typename Genred::memory_space>;
  const Genred genred(comm, s.formula, s.params, s.reduction, s.axis,
                      io::to_view<Rows>(sources, "kinterp::sources"));
  typename Genred::Output out("kinterp::reduced", targets.block.count, genred.output_columns());
  const RingTimings timings = genred(io::to_view<Rows>(targets, "kinterp::targets"), out);

  const double write_start = MPI_Wtime();
  io::write_rows(comm, out_path,
                 io::to_local_rows<double>(out, targets.global_rows, targets.block, 2), 8);
  const double write_seconds = MPI_Wtime() - write_start;
  report.print(
      "time: %.3f s in all (read %.3f, reduce %.3f, write %.3f); waiting for messages %.3f s\n",
      report.max(MPI_Wtime() - start), report.max(read_seconds), report.max(timings.total),
      report.max(write_seconds), report.max(timings.wait));
  report.print("%lld x %d result written to %s\n", static_cast<long long>(targets.global_rows),
               genred.output_columns(), out_path.c_str());
  if (command.flag("log-view")) {
    log_read_run_write(comm, read_seconds, "reduction", timings, write_seconds,
                       MPI_Wtime() - start);
  }
  return exit_ok;
}

int reduce_with_precision(const CommandLine& command, MPI_Comm comm, const Reporter& report) {
  const std::string precision = command.optional("precision").value_or("double");
  if (precision == "double") return reduce<double>(comm, report, command);
  if (precision == "float") return reduce<float>(comm, report, command);
  throw UsageError{"--precision is double or float, got '" + precision + "'"};
}

// ---- Dispatch ---------------------------------------------------------------------------

/// Runs Command<T> for --precision; `input` is what it needs besides the
/// command line (the kernel; predict: also the points).
template <template <class> class Command, class Input>
int with_precision(const CommandLine& command, MPI_Comm comm, const Reporter& report,
                   const Input& input) {
  const std::string precision = command.optional("precision").value_or("double");
  constexpr bool mixes = Command<double>::mixed_precision;
  if (precision == "double") return Command<double>::run(comm, report, command, input, false);
  if (precision == "float") return Command<float>::run(comm, report, command, input, false);
  if (precision == "mixed" && mixes)
    return Command<double>::run(comm, report, command, input, true);
  throw UsageError{std::string("--precision is double") +
                   (mixes ? ", float or mixed" : " or float") + ", got '" + precision + "'"};
}

template <class T>
struct Solve {
  static constexpr bool mixed_precision = true;
  static int run(MPI_Comm c, const Reporter& r, const CommandLine& l, const KernelModel& k,
                 bool mixed) {
    return solve<T>(c, r, l, k, mixed);
  }
};
template <class T>
struct Predict {
  static constexpr bool mixed_precision = false;
  static int run(MPI_Comm c, const Reporter& r, const CommandLine& l, const PredictInputs& in,
                 bool) {
    return predict<T>(c, r, l, in);
  }
};

}  // namespace

int run(MPI_Comm comm, const std::vector<std::string>& arguments,
        const std::string& argument_error) {
  Reporter report{comm};
  MPI_Comm_rank(comm, &report.rank);
  const std::string name = arguments.empty() ? "" : arguments[0];
  const std::vector<std::string> rest(arguments.begin() + (arguments.empty() ? 0 : 1),
                                      arguments.end());
  const std::vector<std::string> commands = {"solve", "predict", "reduce", "krige"};
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
    const bool is_solve = name == "solve", is_reduce = name == "reduce", is_krige = name == "krige";
    if (std::find(commands.begin(), commands.end(), name) == commands.end()) {
      std::string message = "unknown command '" + name + "'";
      const std::string guess = detail::closest(name, commands);
      if (!guess.empty()) message += "; did you mean '" + guess + "'?";
      throw UsageError{message};
    }
    const auto specs = is_solve    ? solve_options()
                       : is_reduce ? reduce_options()
                       : is_krige  ? krige_options()
                                   : predict_options();
    const CommandLine command(specs, expand_options_files(comm, rest, specs));
    if (command.flag("help")) {
      report.print("Usage: mpirun -np P kinterp %s [options]\n\n%s\n%s\n%s", name.c_str(),
                   CommandLine::help(specs).c_str(),
                   is_reduce ? reductions_help : (is_krige ? krige_help : kernels_help),
                   files_help);
      return exit_ok;
    }
    if (is_reduce) return reduce_with_precision(command, comm, report);
    if (is_krige) return krige(comm, report, command);
    return is_solve
               ? with_precision<Solve>(command, comm, report,
                                       from_command_line([&] { return resolve_kernel(command); }))
               : with_precision<Predict>(command, comm, report, predict_inputs(comm, command));
  } catch (const UsageError& e) {
    report.print("kinterp %s: error: %s (see kinterp %s--help)\n", name.c_str(), e.message.c_str(),
                 std::find(commands.begin(), commands.end(), name) != commands.end()
                     ? (name + " ").c_str()
                     : "");
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
