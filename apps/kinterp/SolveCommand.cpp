// `kinterp solve`: the weights a of (alpha I + K) a = b by conjugate gradient.

#include <kinterp/KernelModel.hpp>
#include <kinterp/KernelSolve.hpp>
#include <kinterp/KernelSum.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/io/Hdf5.hpp>
#include <kinterp/io/RowFile.hpp>

#include "Command.hpp"
#include "CommandLine.hpp"
#include "CommandSupport.hpp"
#include "KernelOptions.hpp"
#include "LogView.hpp"
#include "ProductFlags.hpp"
#include "Progress.hpp"

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <optional>

namespace kinterp::cli {

namespace {

using detail::number_text;

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
       "Cholesky), greedy (largest residual) or uniform (random points);\n"
       "or vecchia: a sparse inverse Cholesky factor of alpha I + K, each\n"
       "point conditioned on --neighbors nearby ones (1-3 coordinates; memory\n"
       "bounded per point at any N, where a Nystrom factor's grows with k)"},
      {"neighbors", "K",
       "points each conditional of the Vecchia preconditioner is taken on\n"
       "(default: 30; about 24 K bytes per point in double)"},
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
  options.push_back({"input", "NAME=FILE",
                     "the rows of a --formula variable other than the points and the\n"
                     "weights, one per point (per-point noise, weights, bandwidths); repeat\n"
                     "for each; variables without --input take --points",
                     true});
  for (auto& option : product_options()) options.push_back(option);
  add_run_options(options);
  return options;
}

/// --log-view of solve: reading, set-up, CG and its parts, writing.
void log_solve(MPI_Comm comm, double read_seconds, double fit_seconds,
               const KernelSolveResult& result, double write_seconds, double total) {
  LogView log;
  log.add("read input", read_seconds);
  log.add("set-up (kernel products, preconditioner)", fit_seconds - result.seconds);
  log.add("conjugate gradient", result.seconds);
  add_product_rows(log, "kernel products", result.product, 1, result.product_engine);
  if (result.preconditioned) log.add("preconditioner", result.preconditioner_seconds, 1);
  if (result.checkpoints_written > 0 || result.resumed_from >= 0) {
    log.add("checkpoints", result.checkpoint_seconds, 1);
  }
  log.add("vectors, dot products, allreduce",
          result.seconds - result.product.total - result.preconditioner_seconds -
              result.checkpoint_seconds,
          1);
  log.add("write output", write_seconds);
  log.print(comm, total);
}

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
  const ProductOptions product = from_command_line(
      [&] { return resolve_product(command, solve_product_tolerance<T>(options.rtol)); });
  std::vector<FileOption> inputs = {{"--points", points_path}, {"--values", values_path}};
  const auto variable_files = named_files(command, "input");
  if (!variable_files.empty() && !command.has("formula")) {
    throw UsageError{"--input gives a --formula variable's rows; --kernel takes only --points"};
  }
  for (const auto& [name, path] : variable_files) inputs.push_back({"--input " + name, path});
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
  VariableRows<T> variables;
  for (const auto& [name, path] : variable_files) {
    const auto rows =
        read_rows_like(comm, path, "--input " + name, points, "--points " + points_path);
    variables.emplace(name, to_device(rows, "kinterp::input"));
  }

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
  const KernelSolveResult result = kernel.fit<T>(comm, device_points, device_values, weights, alpha,
                                                 options, settings.how, product, variables);
  const double fit_seconds = MPI_Wtime() - fit_start;

  // On HDF5 weights: what `kinterp predict` needs to use them without options,
  // and how they were computed.
  io::Attributes attributes;
  if (io::FileSpec::parse(out_path).format == io::FileFormat::Hdf5) {
    attributes = kernel_attributes(command);
    attributes["kinterp_version"] = KINTERP_VERSION;
    attributes["points"] = points_path;
    attributes["values"] = values_path;
    for (const auto& [name, path] : variable_files) attributes["input " + name] = path;
    attributes["alpha"] = number_text(alpha);
    attributes["precision"] = mixed ? "mixed" : (sizeof(T) == 8 ? "double" : "float");
    attributes["solver_reason"] = to_string(result.reason);
    attributes["solver_iterations"] = std::to_string(result.iterations);
    attributes["solver_relative_residual"] = number_text(result.relative_residual());
    attributes["product"] = result.product_engine;
  }
  const double write_start = MPI_Wtime();
  io::write_rows(comm, out_path, io::to_local_rows<T>(weights, n, points.block, values.ndim),
                 sizeof(T), attributes);
  const double write_seconds = MPI_Wtime() - write_start;

  if (result.vecchia.neighbors > 0) {
    print_vecchia(report, result.vecchia);
  } else if (result.preconditioned) {
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
  report.print("kernel products: %s\n", result.product_engine.c_str());
  if (result.product_tolerance > 0) {
    report.print(
        "  the residual is computed with these products; the exact one is within %.2e of it "
        "(eps || |K| |a| || / ||b||)\n",
        result.product_residual_bound);
  }
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
    log_solve(comm, read_seconds, fit_seconds, result, write_seconds, MPI_Wtime() - start);
  }
  return result.converged() ? exit_ok : exit_not_converged;
}

int run(MPI_Comm comm, const Reporter& report, const CommandLine& command) {
  const KernelModel kernel = from_command_line([&] { return resolve_kernel(command); });
  return with_precision(command, true, [&](auto zero, bool mixed) {
    return solve<decltype(zero)>(comm, report, command, kernel, mixed);
  });
}

}  // namespace

const Command solve_command = {"solve", solve_options, kernels_help, run};

}  // namespace kinterp::cli
