// `kinterp predict`: the fitted model sum_j k(t_i, x_j) a_j at the targets.

#include <kinterp/KernelModel.hpp>
#include <kinterp/KernelSum.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/io/Hdf5.hpp>
#include <kinterp/io/RowFile.hpp>

#include "Command.hpp"
#include "CommandLine.hpp"
#include "CommandSupport.hpp"
#include "KernelOptions.hpp"
#include "ProductFlags.hpp"

#include <optional>

namespace kinterp::cli {

namespace {

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
      {"gradient", "",
       "write the model's gradient at the targets instead, shape (M, d m): column\n"
       "k d + l is d/dt_l of output k (gaussian, laplacian, matern32/52, cauchy,\n"
       "imq, rq: a product with the kernel phi'(r)/r, direct or tree; laplacian\n"
       "refuses targets on a point; other kernels and formulas: the formula's\n"
       "symbolic derivative, direct)"},
      {"laplacian", "",
       "write the model's Laplacian at the targets instead, shape (M,) or (M, m)\n"
       "(gaussian, matern32/52, cauchy, imq, rq: the closed form, exact at the\n"
       "points too; other kernels and formulas: the symbolic Laplacian; direct)"},
  };
  for (auto& option : kernel_options(false)) options.push_back(option);
  for (auto& option : product_options()) options.push_back(option);
  add_run_options(options);
  return options;
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

template <class T>
int predict(MPI_Comm comm, const Reporter& report, const CommandLine& command,
            const PredictInputs& inputs) {
  const double start = MPI_Wtime();
  const KernelModel& kernel = *inputs.kernel;
  const std::string& points_path = inputs.points;
  const std::string weights_path = command.required("weights");
  const std::string targets_path = command.required("targets"), out_path = command.required("out");
  const ProductOptions product = from_command_line([&] { return resolve_product(command, 1e-6); });
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
  const io::LocalRows<T> targets = read_targets_like(comm, targets_path, points);

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
  const bool gradient = command.flag("gradient"), laplacian = command.flag("laplacian");
  if (gradient && laplacian) {
    throw UsageError{"--gradient and --laplacian: choose one (run predict twice for both)"};
  }
  const std::int64_t columns = gradient ? weights.columns * points.columns : weights.columns;
  typename KernelSum<T>::Matrix out("kinterp::predicted", targets.block.count, columns);
  const auto device_points = to_device(points, "kinterp::points");
  const auto device_weights = to_device(weights, "kinterp::weights");
  const auto device_targets = to_device(targets, "kinterp::targets");
  const ModelPrediction prediction =
      gradient ? kernel.predict_gradient<T>(comm, device_points, device_weights, device_targets,
                                            out, product)
      : laplacian
          ? kernel.predict_laplacian<T>(comm, device_points, device_weights, device_targets, out,
                                        product)
          : kernel.predict<T>(comm, device_points, device_weights, device_targets, out, product);
  const RingTimings& timings = prediction.timings;
  const double write_start = MPI_Wtime();
  io::write_rows(
      comm, out_path,
      io::to_local_rows<T>(out, targets.global_rows, targets.block, gradient ? 2 : weights.ndim),
      sizeof(T));
  const double write_seconds = MPI_Wtime() - write_start;
  report.print("time: %.3f s in all; kernel product %.3f s, of which waiting for messages %.3f s\n",
               report.max(MPI_Wtime() - start), report.max(timings.total),
               report.max(timings.wait));
  report.print("kernel products: %s\n", prediction.product.c_str());
  report.print("%s written to %s\n",
               gradient    ? "gradients"
               : laplacian ? "Laplacians"
                           : "predictions",
               out_path.c_str());
  if (command.flag("log-view")) {
    log_read_run_write(comm, read_seconds, prediction.setup_seconds, "predict (kernel product)",
                       timings, prediction.product, write_seconds, MPI_Wtime() - start);
  }
  return exit_ok;
}

int run(MPI_Comm comm, const Reporter& report, const CommandLine& command) {
  const PredictInputs inputs = predict_inputs(comm, command);
  return with_precision(command, false, [&](auto zero, bool) {
    return predict<decltype(zero)>(comm, report, command, inputs);
  });
}

}  // namespace

const Command predict_command = {"predict", predict_options, kernels_help, run};

}  // namespace kinterp::cli
