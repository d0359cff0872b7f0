// `kinterp krige`: kriging (Gaussian process regression) from files.

#include <kinterp/core/Error.hpp>
#include <kinterp/kriging/CrossValidation.hpp>
#include <kinterp/kriging/Kriging.hpp>
#include <kinterp/kriging/Likelihood.hpp>

#include "Command.hpp"
#include "CommandLine.hpp"
#include "CommandSupport.hpp"
#include "LogView.hpp"
#include "ProductFlags.hpp"

#include <climits>
#include <cmath>
#include <optional>
#include <sstream>

namespace kinterp::cli {

namespace {

constexpr double degrees = 3.14159265358979323846 / 180;

/// A comma-separated list of numbers.
std::vector<double> number_list(const CommandLine& command, const std::string& name) {
  std::vector<double> numbers;
  std::stringstream list(command.required(name));
  for (std::string item; std::getline(list, item, ',');) {
    char* end = nullptr;
    const double value = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0' || !std::isfinite(value)) {
      throw UsageError{"--" + name + " takes finite numbers separated by commas, got '" +
                       command.required(name) + "'"};
    }
    numbers.push_back(value);
  }
  return numbers;
}

CovarianceModel covariance_model(const CommandLine& command) {
  CovarianceModel model;
  model.family = command.required("model");
  model.variance = command.number("variance", model.variance);
  model.nugget = command.number("nugget", model.nugget);
  if (!command.has("length-scale")) throw UsageError{"--model needs --length-scale"};
  model.length_scales = number_list(command, "length-scale");
  if (command.has("angles")) {
    model.angles = number_list(command, "angles");
    for (double& angle : model.angles) angle *= degrees;
  }
  const bool matern = model.family == "matern", rq = model.family == "rq";
  if (command.has("nu") && !matern) throw UsageError{"--nu belongs to --model matern"};
  if (command.has("rq-alpha") && !rq) throw UsageError{"--rq-alpha belongs to --model rq"};
  if (matern && !command.has("nu")) {
    throw UsageError{
        "--model matern needs --nu (0.5, 1.5, 2.5 are closed forms; any nu > 0 works)"};
  }
  if (rq && !command.has("rq-alpha")) throw UsageError{"--model rq needs --rq-alpha"};
  model.shape = matern ? command.number("nu", 0) : rq ? command.number("rq-alpha", 0) : 0;
  return model;
}

KrigingOptions kriging_options(const CommandLine& command) {
  KrigingOptions options;
  options.kind = kriging_kind_from_name(command.optional("kriging").value_or("ordinary"));
  if (command.has("mean") && options.kind != KrigingKind::Simple) {
    throw UsageError{"--mean is simple kriging's known mean: add --kriging simple"};
  }
  if (command.has("drift-degree") && options.kind != KrigingKind::Universal) {
    throw UsageError{"--drift-degree belongs to --kriging universal"};
  }
  options.mean = command.number("mean", 0);
  options.drift_degree = static_cast<int>(command.integer("drift-degree", 1, 0, 10));
  options.variance_batch =
      static_cast<int>(command.integer("variance-batch", options.variance_batch, 1, INT_MAX));
  options.variance_tolerance = command.number("variance-tolerance", options.variance_tolerance);
  SolveSettings settings = solve_settings(command, false, "rpcholesky");
  options.solve = settings.options;
  if (!command.has("rtol")) options.solve.rtol = KrigingOptions::default_solve().rtol;
  if (!command.has("max-it")) {
    options.solve.max_iterations = KrigingOptions::default_solve().max_iterations;
  }
  options.preconditioner = settings.how.preconditioner;
  options.vecchia = settings.how.vecchia;
  options.product = resolve_product(command, solve_product_tolerance<double>(options.solve.rtol));
  return options;
}

/// --fit's list: variance, length-scale, nugget, nu / rq-alpha, angles; all = the first three.
std::optional<HyperparameterFitOptions> fit_options(const CommandLine& command,
                                                    const CovarianceModel& model) {
  for (const char* option : {"probes", "fit-max-it", "fit-seed"}) {
    if (command.has(option) && !command.has("fit")) {
      throw UsageError{std::string("--") + option + " belongs to --fit"};
    }
  }
  if (!command.has("fit")) return std::nullopt;
  HyperparameterFitOptions options;
  FitParameters& which = options.which;
  which = FitParameters{false, false, false, false, false};
  std::stringstream list(command.required("fit"));
  for (std::string item; std::getline(list, item, ',');) {
    if (item == "all") {
      which.variance = which.length_scales = which.nugget = true;
    } else if (item == "variance") {
      which.variance = true;
    } else if (item == "length-scale") {
      which.length_scales = true;
    } else if (item == "nugget") {
      which.nugget = true;
    } else if (item == "nu" || item == "rq-alpha") {
      if (!(model.family == (item == "nu" ? "matern" : "rq"))) {
        throw UsageError{"--fit " + item + " needs --model " + (item == "nu" ? "matern" : "rq")};
      }
      which.shape = true;
    } else if (item == "angles") {
      if (model.angles.empty()) throw UsageError{"--fit angles needs --angles to start from"};
      which.angles = true;
    } else {
      throw UsageError{
          "--fit takes a list of variance, length-scale, nugget, nu, rq-alpha, "
          "angles, or all; got '" +
          item + "'"};
    }
  }
  options.likelihood.probes = static_cast<int>(command.integer("probes", 32, 1, 100000));
  options.likelihood.seed = static_cast<std::uint64_t>(command.integer("fit-seed", 0, 0, LONG_MAX));
  options.max_iterations = static_cast<int>(command.integer("fit-max-it", 50, 0, INT_MAX));
  return options;
}

std::string list_text(const std::vector<double>& values, double scale = 1) {
  std::ostringstream text;
  text.precision(6);
  for (std::size_t i = 0; i < values.size(); ++i) text << (i ? "," : "") << values[i] * scale;
  return text.str();
}

std::vector<OptionSpec> krige_options() {
  return {
      {"points", "FILE", "the data locations, shape (N, d)"},
      {"values", "FILE", "the observed values z, shape (N,) or (N, 1)"},
      {"targets", "FILE", "where to predict, shape (M, d)"},
      {"out", "FILE", "where to write the kriging mean at the targets, shape (M,)"},
      {"variance-out", "FILE",
       "where to write the kriging variance of the latent field at the\n"
       "targets, shape (M,) (one CG column per target, in batches)"},
      {"gradient-out", "FILE",
       "where to write the gradient of the kriging mean at the targets, shape\n"
       "(M, d): one kernel product through phi'(r)/r (gaussian, exponential,\n"
       "matern32/52, cauchy, imq, rq; anisotropic models too)"},
      {"model", "NAME", "the covariance model (see below)"},
      {"variance", "V", "its variance (sill) (default: 1)"},
      {"length-scale", "L[,L...]",
       "its length scale (range), or one per axis of the rotated frame"},
      {"angles", "DEG[,DEG,DEG]",
       "rotation of the anisotropy axes in degrees: 1 in 2D (first axis\n"
       "counterclockwise from x), 3 in 3D (yaw, pitch, roll: R_z R_y R_x)"},
      {"nu", "NU", "Matern's smoothness nu > 0 (--model matern)"},
      {"rq-alpha", "A", "the rational quadratic's alpha > 0 (--model rq)"},
      {"nugget", "N",
       "added to the training covariance's diagonal only (measurement\n"
       "noise; scikit-learn's alpha) (default: 0)"},
      {"kriging", "KIND", "simple, ordinary (default) or universal"},
      {"mean", "M", "the known mean of --kriging simple (default: 0)"},
      {"drift-degree", "P", "universal kriging's polynomial drift degree (default: 1)"},
      {"approximate-variance", "",
       "variance from the Nystrom preconditioner instead of CG solves:\n"
       "much cheaper, never above the exact one; the bound on the gap is\n"
       "printed"},
      {"variance-batch", "B",
       "targets per variance solve (default: 64); memory ~6 N/P x B\n"
       "doubles per rank"},
      {"variance-tolerance", "E",
       "with a nugget, stop each variance's CG once its error is provably\n"
       "below E x variance (default: 1e-6), or at --rtol"},
      {"rtol", "R", "CG's relative tolerance, fit and variance (default: 1e-8)"},
      {"atol", "A", "absolute residual tolerance (default: 0)"},
      {"max-it", "N", "CG iterations at most per solve (default: 10000)"},
      {"stagnation-window", "N", "as in kinterp solve (default: 1000; 0: never)"},
      {"precond", "NAME",
       "rpcholesky (default), greedy, uniform: a Nystrom preconditioner of\n"
       "--rank landmarks built once for the fit and every variance batch;\n"
       "vecchia: a sparse inverse Cholesky factor (1-3 coordinates, memory\n"
       "bounded per point at any N: for large N and small nuggets); none"},
      {"neighbors", "K", "points each Vecchia conditional is taken on (default: 30)"},
      {"rank", "K", "landmarks of the preconditioner (default: 500, at most N)"},
      {"precond-memory", "MB", "at most MB megabytes per rank for the preconditioner"},
      {"precond-seed", "S", "seed of the preconditioner's random landmarks (default: 0)"},
      {"fit", "LIST",
       "first fit these parameters by maximising the Gaussian log marginal\n"
       "likelihood (stochastic Lanczos quadrature, L-BFGS in a box), from\n"
       "the values given: variance, length-scale, nugget, nu, rq-alpha,\n"
       "angles, comma-separated, or all (= variance,length-scale,nugget)"},
      {"probes", "S", "random probes of --fit's log-determinant estimate (default: 32)"},
      {"fit-max-it", "N", "L-BFGS iterations of --fit at most (default: 50)"},
      {"fit-seed", "S", "seed of --fit's probes (default: 0)"},
      {"cv", "K",
       "k-fold cross-validation (refits, K from 2 to N) of the model (after\n"
       "--fit): prints the RMSE and mean absolute error"},
      {"product", "ENGINE",
       "kernel products: auto (default), tree or direct (see kinterp solve --help)"},
      {"product-tolerance", "EPS", "the tree's tolerance (default: a hundredth of --rtol)"},
      // Shorter than add_run_options' texts: kinterp solve --help explains them.
      {"options-file", "FILE", "more options from FILE (see kinterp solve --help)"},
      {"log-view", "", "print where the time went, min/max/avg over ranks"},
      {"help", "", "print this help"},
  };
}

/// The covariance models and kriging kinds, for --help.
const char krige_help[] =
    "Covariance models (--model), r the distance in units of --length-scale, times\n"
    "--variance; scikit-learn's definitions:\n"
    "  gaussian     exp(-r^2/2)                   exponential  exp(-r) (= matern12)\n"
    "  matern32     (1+sqrt3 r) exp(-sqrt3 r)     matern52     (1+sqrt5 r+5r^2/3) exp(-sqrt5 r)\n"
    "  matern       any --nu: 2^(1-nu)/Gamma(nu) (sqrt(2nu) r)^nu K_nu(sqrt(2nu) r)\n"
    "  spherical    1 - 1.5r + 0.5r^3 for r < 1, else 0 (the length scale is the range)\n"
    "  rq           (1 + r^2/(2 alpha))^-alpha with --rq-alpha\n"
    "  cauchy       1/(1+r^2)                     imq          1/sqrt(1+r^2)\n"
    "Kriging (--kriging): simple (known --mean), ordinary (constant mean estimated by\n"
    "generalised least squares), universal (polynomial drift of --drift-degree).\n"
    "The fit is one CG solve with 1 + q right-hand sides; each variance batch one\n"
    "more; memory stays linear in N.\n";

int run(MPI_Comm comm, const Reporter& report, const CommandLine& command) {
  const double start = MPI_Wtime();
  CovarianceModel model = from_command_line([&] {
    CovarianceModel given = covariance_model(command);
    given.kernel();  // checks the model's family and parameters
    return given;
  });
  const KrigingOptions options = from_command_line([&] { return kriging_options(command); });
  const std::optional<HyperparameterFitOptions> fit_settings =
      from_command_line([&] { return fit_options(command, model); });
  const int folds = static_cast<int>(command.integer("cv", 0, 2, INT_MAX));
  const bool approximate = command.flag("approximate-variance");
  const std::string out_path = command.required("out");
  const std::optional<std::string> variance_path = command.optional("variance-out");
  const std::optional<std::string> gradient_path = command.optional("gradient-out");
  if (approximate && !variance_path) {
    throw UsageError{"--approximate-variance needs --variance-out FILE"};
  }
  if (approximate && options.preconditioner.rank == 0 &&
      options.preconditioner.memory_budget_bytes == 0) {
    throw UsageError{
        "--approximate-variance comes from a Nystrom preconditioner: use --precond rpcholesky "
        "(or greedy, uniform)"};
  }
  const std::string points_path = command.required("points"),
                    values_path = command.required("values"),
                    targets_path = command.required("targets");
  std::vector<FileOption> outputs = {{"--out", out_path}};
  if (variance_path) outputs.push_back({"--variance-out", *variance_path});
  if (gradient_path) outputs.push_back({"--gradient-out", *gradient_path});
  check_files(comm,
              {{"--points", points_path}, {"--values", values_path}, {"--targets", targets_path}},
              outputs);

  const io::LocalRows<double> points = io::read_rows<double>(comm, points_path);
  if (points.global_rows == 0) {
    throw Error("--points " + points_path + " has no rows: kriging needs at least one data point");
  }
  const io::LocalRows<double> values =
      read_rows_like(comm, values_path, "--values", points, "--points " + points_path);
  if (values.columns != 1) {
    throw Error("--values " + values_path + " has " + std::to_string(values.columns) +
                " columns: kriging takes one value per point, shape (N,) or (N, 1)");
  }
  const io::LocalRows<double> targets = read_targets_like(comm, targets_path, points);
  // Before the fit, which may take hours: a model that does not fit the points'
  // dimension, or bad targets, fail now.
  from_command_line([&] {
    model.check(static_cast<int>(points.columns));
    return 0;
  });
  require_finite(comm, targets, "--targets " + targets_path);
  const auto device_points = to_device(points, "kinterp::points");
  const auto device_values = to_device(values, "kinterp::values");
  const auto device_targets = to_device(targets, "kinterp::targets");
  const double read_seconds = MPI_Wtime() - start;
  report.print("kinterp krige: %s in %lldD, %s, %s kriging, model %s, %s\n",
               count_text(points.global_rows, "point").c_str(),
               static_cast<long long>(points.columns),
               count_text(targets.global_rows, "target").c_str(), to_string(options.kind).c_str(),
               model.description().c_str(), machine(comm).c_str());
  double hyperparameter_seconds = 0, cv_seconds = 0;
  if (fit_settings) {
    const HyperparameterFitResult fitted =
        fit_hyperparameters(comm, model, device_points, device_values, options, *fit_settings);
    hyperparameter_seconds = fitted.seconds;
    model = fitted.model;
    report.print(
        "hyperparameters: %s after %d iterations (%d likelihood evaluations, %d probes), %.3f s\n"
        "  log likelihood %.6g (start %.6g), log det K %.6g\n"
        "  fitted: variance %.6g, length scale%s %s, nugget %.6g",
        fitted.reason.c_str(), fitted.iterations, fitted.evaluations,
        fit_settings->likelihood.probes, report.max(fitted.seconds), fitted.at_fit.log_likelihood,
        fitted.initial_log_likelihood, fitted.at_fit.log_determinant, model.variance,
        model.length_scales.size() > 1 ? "s" : "", list_text(model.length_scales).c_str(),
        model.nugget);
    if (model.shape > 0)
      report.print(", %s %.6g", model.family == "rq" ? "rq-alpha" : "nu", model.shape);
    if (!model.angles.empty()) {
      report.print(", angles %s deg", list_text(model.angles, 1 / degrees).c_str());
    }
    report.print("\n");
    if (!fitted.converged) {
      throw Error("the hyperparameter fit failed: " + fitted.reason);
    }
  }
  if (folds > 0) {
    const CrossValidationResult cv =
        cross_validate(comm, model, device_points, device_values, options, folds);
    cv_seconds = cv.seconds;
    report.print("cross-validation, %d folds: RMSE %.6g, mean absolute error %.6g%s\n", cv.folds,
                 cv.rmse, cv.mae, cv.converged ? "" : " (some refits did not converge)");
  }
  const double fit_start = MPI_Wtime();
  const Kriging kriging(comm, model, device_points, device_values, options);
  const double fit_seconds = MPI_Wtime() - fit_start;
  const KernelSolveResult& fit = kriging.fit_result();
  if (fit.vecchia.neighbors > 0) {
    print_vecchia(report, fit.vecchia);
  } else if (fit.preconditioned) {
    const NystromInfo& info = fit.preconditioner;
    report.print(
        "preconditioner: Nystrom, %d landmarks, set-up %.3f s, tr(K - F F^T) / tr(K) = %.2e\n",
        info.rank, report.max(info.setup_seconds),
        info.trace > 0 ? info.residual_trace / info.trace : 0.0);
  }
  report.print("kernel products: %s\n", fit.product_engine.c_str());
  report.print("fit: %s after %d iterations, relative residual %.3e\n",
               to_string(fit.reason).c_str(), fit.iterations, fit.relative_residual());
  if (!fit.detail.empty()) report.print("  %s\n", fit.detail.c_str());
  const std::vector<double>& beta = kriging.drift_coefficients();
  if (options.kind == KrigingKind::Ordinary) report.print("estimated mean: %.10g\n", beta[0]);
  if (options.kind == KrigingKind::Universal) {
    report.print("drift coefficients (coordinates scaled to [-1, 1]):");
    for (double b : beta) report.print(" %.6g", b);
    report.print("\n");
  }

  const double mean_start = MPI_Wtime();
  Kriging::Matrix mean("kinterp::mean", targets.block.count, 1);
  kriging.mean(device_targets, mean);
  // The gradient before anything is written: its refusals leave no output.
  Kriging::Matrix gradient;
  if (gradient_path) {
    gradient =
        Kriging::Matrix("kinterp::mean_gradient", targets.block.count, device_targets.extent(1));
    kriging.mean_gradient(device_targets, gradient);
  }
  io::write_rows(comm, out_path,
                 io::to_local_rows<double>(mean, targets.global_rows, targets.block, 1),
                 sizeof(double));
  report.print("mean written to %s\n", out_path.c_str());
  if (gradient_path) {
    io::write_rows(comm, *gradient_path,
                   io::to_local_rows<double>(gradient, targets.global_rows, targets.block, 2),
                   sizeof(double));
    report.print("gradient of the mean written to %s\n", gradient_path->c_str());
  }
  const double mean_seconds = MPI_Wtime() - mean_start;

  bool converged = fit.converged();
  KrigingVarianceInfo variance_info;
  if (variance_path) {
    Kriging::Matrix variance("kinterp::variance", targets.block.count, 1);
    variance_info = kriging.variance(device_targets, variance, approximate);
    io::write_rows(comm, *variance_path,
                   io::to_local_rows<double>(variance, targets.global_rows, targets.block, 1),
                   sizeof(double));
    if (approximate) {
      report.print(
          "approximate variance (Nystrom): below the exact one by at most %.3e (%.2e of the "
          "variance)\n",
          variance_info.error_bound, variance_info.error_bound / model.variance);
    } else {
      report.print("variance: %d batch%s, at most %d iterations, worst relative residual %.3e",
                   variance_info.batches, variance_info.batches == 1 ? "" : "es",
                   variance_info.max_iterations, variance_info.worst_residual);
      if (variance_info.error_bound > 0) {
        report.print("; above the exact one by at most %.3e (%.2e of the variance)",
                     variance_info.error_bound, variance_info.error_bound / model.variance);
      }
      report.print("\n");
    }
    if (!variance_info.converged) report.print("  %s\n", variance_info.detail.c_str());
    if (variance_info.clamped > 0) {
      report.print("  %lld variances below 0 by rounding were set to 0\n",
                   static_cast<long long>(variance_info.clamped));
    }
    report.print("variance written to %s\n", variance_path->c_str());
    converged = converged && variance_info.converged;
  }
  report.print(
      "time: %.3f s in all (read %.3f, hyperparameters %.3f, cross-validation %.3f, fit %.3f, "
      "mean %.3f, variance %.3f)\n",
      report.max(MPI_Wtime() - start), report.max(read_seconds), report.max(hyperparameter_seconds),
      report.max(cv_seconds), report.max(fit_seconds), report.max(mean_seconds),
      report.max(variance_info.seconds));
  if (command.flag("log-view")) {
    LogView log;
    log.add("read input", read_seconds);
    if (fit_settings) log.add("hyperparameters (likelihood, L-BFGS)", hyperparameter_seconds);
    if (folds > 0) log.add("cross-validation (refits)", cv_seconds);
    log.add("fit (preconditioner, CG)", fit_seconds);
    log.add("mean (kernel sum, write)", mean_seconds);
    log.add("variance (batched CG, write)", variance_info.seconds);
    log.print(comm, MPI_Wtime() - start);
  }
  return converged ? exit_ok : exit_not_converged;
}

}  // namespace

const Command krige_command = {"krige", krige_options, krige_help, run};

}  // namespace kinterp::cli
