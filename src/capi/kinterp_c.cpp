// The C API (include/kinterp/kinterp.h) over KernelModel: settings are kept as
// given and checked when set; kinterp_fit resolves them into a KernelModel on
// every rank, agrees on errors, and runs the solve. The process-wide calls
// (initialize, finalize) live here too; kriging is in kinterp_kriging_c.cpp.

#include <kinterp/kinterp.h>

#include "CApiSupport.hpp"

#include <kinterp/KernelModel.hpp>
#include <kinterp/core/Communicator.hpp>
#include <kinterp/core/Environment.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/dist/ProductChoice.hpp>

#include <Kokkos_Core.hpp>

#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

namespace {

using kinterp::KernelModel;
using namespace kinterp::capi;

/// Throws unless the caller's array is rows x columns like `rows_of`.
void require_shape(const std::string& what, std::int64_t rows, int columns, const Matrix& rows_of) {
  if (rows != static_cast<std::int64_t>(rows_of.extent(0)) ||
      columns != static_cast<int>(rows_of.extent(1))) {
    throw kinterp::Error(what + " are " + std::to_string(rows) + " x " + std::to_string(columns) +
                         " on this rank but the fit has " + std::to_string(rows_of.extent(0)) +
                         " x " + std::to_string(rows_of.extent(1)));
  }
}

std::unique_ptr<kinterp::Environment> environment;
bool finalized = false;  // MPI and Kokkos cannot start again in this process

}  // namespace

namespace kinterp::capi {

thread_local std::string global_error;
std::atomic<int> live_handles{0};

void require_running(MPI_Comm comm, const char* call) {
  int mpi_ready = 0, mpi_done = 0;
  MPI_Initialized(&mpi_ready);
  MPI_Finalized(&mpi_done);
  if (!mpi_ready || mpi_done) {
    throw state_error("MPI is not running: call MPI_Init (or kinterp_initialize) first");
  }
  if (!Kokkos::is_initialized()) {
    throw state_error(
        "Kokkos is not initialised: call Kokkos::initialize (or kinterp_initialize) first");
  }
  if (comm == MPI_COMM_NULL) throw Error(std::string(call) + ": the communicator is MPI_COMM_NULL");
}

}  // namespace kinterp::capi

struct kinterp_model_s {
  explicit kinterp_model_s(MPI_Comm caller) : comm(caller) {}

  kinterp::Communicator comm;
  std::string error;

  // Settings, as given.
  std::string kernel_name;
  double length_scale = 0;
  std::string formula, aliases, unknown;
  KernelModel::Parameters parameters;
  std::map<std::string, Matrix> inputs;  ///< a formula's other variables at the points
  double alpha = 0;
  kinterp::SolveOptions options;
  kinterp::KernelSolveOptions how;
  kinterp::ProductEngine product_engine = kinterp::ProductEngine::Direct;
  double product_tolerance = 0;  ///< 0: the default of fits and predictions

  // The last fit.
  std::optional<KernelModel> model;
  int dimension = 0;
  Matrix points, weights;
  kinterp::KernelSolveResult result;

  /// "X = Vi(2); Y = Vj(2)" as a list.
  static std::vector<std::string> alias_list(const std::string& aliases) {
    std::vector<std::string> list;
    std::stringstream text(aliases);
    for (std::string alias; std::getline(text, alias, ';');) {
      if (alias.find_first_not_of(" \t\n") != std::string::npos) list.push_back(alias);
    }
    return list;
  }

  static kinterp::Formula parse(const std::string& formula, const std::string& aliases) {
    return kinterp::Formula(formula, alias_list(aliases));
  }

  KernelModel resolve() const {
    if (!formula.empty()) {
      return KernelModel::from_formula(formula, alias_list(aliases), parameters, unknown);
    }
    if (kernel_name.empty()) {
      throw state_error("no kernel is set: call kinterp_set_kernel or kinterp_set_formula first");
    }
    return KernelModel::named(kernel_name, length_scale);
  }

  /// The products' engine, with `default_tolerance` where none was set.
  kinterp::ProductOptions product(double default_tolerance) const {
    kinterp::ProductOptions chosen;
    chosen.engine = product_engine;
    chosen.tree.tolerance = product_tolerance > 0 ? product_tolerance : default_tolerance;
    return chosen;
  }

  /// Everything that must agree across ranks, as one text.
  std::string settings_text(std::int64_t dimension_, int columns) const {
    std::ostringstream text;
    text.precision(17);
    text << kernel_name << '|' << length_scale << '|' << formula << '|' << aliases << '|' << unknown
         << '|' << alpha << '|' << options.rtol << '|' << options.atol << '|'
         << options.max_iterations << '|' << how.preconditioner.rank << '|' << how.vecchia.neighbors
         << '|' << how.mixed_precision << '|' << static_cast<int>(product_engine) << '|'
         << product_tolerance << '|' << dimension_ << '|' << columns;
    for (const auto& [name, values] : parameters) {
      text << '|' << name;
      for (double v : values) text << ',' << v;
    }
    for (const auto& [name, rows] : inputs) text << '|' << name << ':' << rows.extent(1);
    return text.str();
  }
};

namespace {

/// Runs a call on `model`, which must not be NULL.
template <class Body>
int on_model(kinterp_model model, Body&& body) {
  return on_handle(model, "the model is NULL: create it with kinterp_create first",
                   std::forward<Body>(body));
}

// What kinterp_predict, kinterp_predict_gradient (d columns per value
// column) and kinterp_predict_laplacian evaluate, with the checks they share.
enum class Evaluation { Values, Gradient, Laplacian };

int evaluate(kinterp_model model, int64_t local_targets, int dimension, const double* targets,
             int columns, double* out_values, const char* caller_error, Evaluation what) {
  const bool gradient = what == Evaluation::Gradient;
  const char* call = gradient                        ? "kinterp_predict_gradient"
                     : what == Evaluation::Laplacian ? "kinterp_predict_laplacian"
                                                     : "kinterp_predict";
  return on_model(model, [&](kinterp_model_s& m) {
    const MPI_Comm comm = m.comm.get();
    Matrix device_targets, out;
    agree(comm, [&] {
      if (caller_error && *caller_error) throw kinterp::Error(caller_error);
      if (!m.model) throw state_error(std::string(call) + ": no fit yet: call kinterp_fit first");
      if (dimension != m.dimension || columns != static_cast<int>(m.weights.extent(1))) {
        throw kinterp::Error(
            std::string(call) + ": targets of dimension " + std::to_string(dimension) +
            " and values of " + std::to_string(columns) +
            " columns, but the fit had points of dimension " + std::to_string(m.dimension) +
            " and " + std::to_string(m.weights.extent(1)) + " columns of values");
      }
      device_targets = to_device(targets, local_targets, dimension, "targets");
      require_output(local_targets, out_values, call,
                     gradient                        ? "gradients"
                     : what == Evaluation::Laplacian ? "laplacians"
                                                     : "values");
      out = Matrix("kinterp::predicted", local_targets,
                   gradient ? std::int64_t(columns) * dimension : columns);
    });
    if (gradient) {
      m.model->predict_gradient<double>(comm, m.points, m.weights, device_targets, out,
                                        m.product(1e-6));
    } else if (what == Evaluation::Laplacian) {
      m.model->predict_laplacian<double>(comm, m.points, m.weights, device_targets, out);
    } else {
      m.model->predict<double>(comm, m.points, m.weights, device_targets, out, m.product(1e-6));
    }
    to_host(out, out_values);
  });
}

}  // namespace

extern "C" {

const char* kinterp_version(void) {
  return KINTERP_VERSION;
}

int kinterp_initialize(int* argc, char*** argv) {
  return guarded(global_error, [&] {
    if (finalized) {
      throw state_error(
          "kinterp_initialize after kinterp_finalize: MPI and Kokkos start once "
          "per process; finalize at the end of the program");
    }
    if (!environment) {
      static int default_argc = 1;
      static char name[] = "kinterp";
      static char* default_argv[] = {name, nullptr};
      static char** default_argv_pointer = default_argv;
      environment = std::make_unique<kinterp::Environment>(argc ? *argc : default_argc,
                                                           argv ? *argv : default_argv_pointer);
    }
    return KINTERP_SUCCESS;
  });
}

int kinterp_finalize(void) {
  return guarded(global_error, [&] {
    if (live_handles > 0) {
      throw state_error(std::to_string(live_handles) +
                        " model(s) or kriging object(s) are alive: destroy them "
                        "(kinterp_destroy, kinterp_kriging_destroy) before kinterp_finalize");
    }
    if (environment) finalized = true;
    environment.reset();
    return KINTERP_SUCCESS;
  });
}

int kinterp_create(MPI_Comm comm, kinterp_model* model) {
  return create_handle(comm, model, "kinterp_create");
}

int kinterp_create_f(MPI_Fint comm, kinterp_model* model) {
  return kinterp_create(MPI_Comm_f2c(comm), model);
}

int kinterp_destroy(kinterp_model* model) {
  return destroy_handle(model);
}

const char* kinterp_error_message(kinterp_model model) {
  return model ? model->error.c_str() : global_error.c_str();
}

int kinterp_set_kernel(kinterp_model model, const char* name, double length_scale) {
  return on_model(model, [&](kinterp_model_s& m) {
    const std::string text = require_text(name, "the kernel name");
    kinterp::KernelSpec::from_name(text, length_scale);  // checks name and length scale
    m.kernel_name = text;
    m.length_scale = length_scale;
    m.formula.clear();
    m.aliases.clear();
    m.parameters.clear();
    m.unknown.clear();
    m.inputs.clear();
  });
}

int kinterp_set_formula(kinterp_model model, const char* formula, const char* aliases) {
  return on_model(model, [&](kinterp_model_s& m) {
    const std::string text = require_text(formula, "the formula");
    const std::string alias_string = require_text(aliases, "the aliases");
    kinterp_model_s::parse(text, alias_string);  // syntax and dimensions, now
    m.formula = text;
    m.aliases = alias_string;
    m.parameters.clear();
    m.unknown.clear();
    m.inputs.clear();
    m.kernel_name.clear();
  });
}

int kinterp_set_parameter(kinterp_model model, const char* name, const double* values, int count) {
  return on_model(model, [&](kinterp_model_s& m) {
    const std::string text = require_text(name, "the parameter name");
    if (m.formula.empty())
      throw state_error("kinterp_set_parameter needs a formula: call kinterp_set_formula first");
    if (count < 1 || !values) {
      throw kinterp::Error("parameter " + text + ": give at least one value (count " +
                           std::to_string(count) + (values ? ")" : ", values NULL)"));
    }
    m.parameters[text].assign(values, values + count);
  });
}

int kinterp_set_unknown(kinterp_model model, const char* name) {
  return on_model(model,
                  [&](kinterp_model_s& m) { m.unknown = require_text(name, "the unknown"); });
}

int kinterp_set_input(kinterp_model model, const char* name, int64_t local_rows, int columns,
                      const double* rows) {
  return on_model(model, [&](kinterp_model_s& m) {
    const std::string text = require_text(name, "the input's variable");
    if (m.formula.empty())
      throw state_error("kinterp_set_input needs a formula: call kinterp_set_formula first");
    if (columns < 1) {
      throw kinterp::Error("input " + text + ": columns " + std::to_string(columns) +
                           " must be at least 1");
    }
    m.inputs[text] = to_device(rows, local_rows, columns, "input rows");
  });
}

int kinterp_set_alpha(kinterp_model model, double alpha) {
  return on_model(model, [&](kinterp_model_s& m) {
    kinterp::check_solve_parameters(alpha, m.options);
    m.alpha = alpha;
  });
}

int kinterp_set_tolerances(kinterp_model model, double rtol, double atol, int max_iterations) {
  return on_model(model, [&](kinterp_model_s& m) {
    kinterp::SolveOptions options = m.options;
    options.rtol = rtol;
    options.atol = atol;
    options.max_iterations = max_iterations;
    kinterp::check_solve_parameters(m.alpha, options);
    m.options = options;
  });
}

int kinterp_set_preconditioner(kinterp_model model, int rank) {
  return on_model(model, [&](kinterp_model_s& m) {
    choose_nystrom(rank, m.how.preconditioner, m.how.vecchia);
  });
}

int kinterp_set_vecchia(kinterp_model model, int neighbors) {
  return on_model(model, [&](kinterp_model_s& m) {
    choose_vecchia(neighbors, m.how.preconditioner, m.how.vecchia);
  });
}

int kinterp_set_mixed_precision(kinterp_model model, int enabled) {
  return on_model(model, [&](kinterp_model_s& m) { m.how.mixed_precision = enabled != 0; });
}

int kinterp_set_product(kinterp_model model, const char* engine, double tolerance) {
  return on_model(model, [&](kinterp_model_s& m) {
    m.product_engine = checked_product(engine, tolerance);
    m.product_tolerance = tolerance;
  });
}

int kinterp_fit(kinterp_model model, int64_t local_rows, int dimension, const double* points,
                int columns, const double* values) {
  return kinterp_fit_checked(model, local_rows, dimension, points, columns, values, nullptr);
}

int kinterp_fit_checked(kinterp_model model, int64_t local_rows, int dimension,
                        const double* points, int columns, const double* values,
                        const char* caller_error) {
  int status = on_model(model, [&](kinterp_model_s& m) {
    const MPI_Comm comm = m.comm.get();
    m.model.reset();
    std::optional<KernelModel> resolved;
    Matrix device_points, device_values;
    agree(comm, [&] {
      if (caller_error && *caller_error) throw kinterp::Error(caller_error);
      if (dimension < 1 || columns < 1) {
        throw kinterp::Error("kinterp_fit: dimension " + std::to_string(dimension) +
                             " and columns " + std::to_string(columns) +
                             " must both be at least 1");
      }
      resolved = m.resolve();
      resolved->check_point_columns("the points", dimension);
      resolved->check_weight_columns("the values", columns);
      device_points = to_device(points, local_rows, dimension, "points");
      device_values = to_device(values, local_rows, columns, "values");
    });
    require_same_settings(comm, m.settings_text(dimension, columns),
                          "the kernel, parameters, alpha, tolerances, preconditioner, "
                          "dimension or columns of kinterp_fit");
    Matrix weights("kinterp::weights", local_rows, columns);
    const kinterp::VariableRows<double> inputs(m.inputs.begin(), m.inputs.end());
    m.result = resolved->fit<double>(
        comm, device_points, device_values, weights, m.alpha, m.options, m.how,
        m.product(kinterp::solve_product_tolerance<double>(m.options.rtol)), inputs);
    m.model = resolved;
    m.dimension = dimension;
    m.points = device_points;
    m.weights = weights;
  });
  if (status == KINTERP_SUCCESS && !model->result.converged()) {
    model->error = "kinterp_fit did not converge: " + model->result.detail;
    status = KINTERP_ERROR_NOT_CONVERGED;
  }
  return status;
}

int kinterp_fit_result(kinterp_model model, int* iterations, double* relative_residual) {
  return on_model(model, [&](kinterp_model_s& m) {
    if (!m.model) throw state_error("kinterp_fit_result: no fit yet: call kinterp_fit first");
    if (iterations) *iterations = m.result.iterations;
    if (relative_residual) *relative_residual = m.result.relative_residual();
  });
}

int kinterp_fit_product(kinterp_model model, double* tolerance, double* residual_bound) {
  return on_model(model, [&](kinterp_model_s& m) {
    if (!m.model) throw state_error("kinterp_fit_product: no fit yet: call kinterp_fit first");
    if (tolerance) *tolerance = m.result.product_tolerance;
    if (residual_bound) *residual_bound = m.result.product_residual_bound;
  });
}

int kinterp_weights(kinterp_model model, int64_t local_rows, int columns, double* weights) {
  return on_model(model, [&](kinterp_model_s& m) {
    if (!m.model) throw state_error("kinterp_weights: no fit yet: call kinterp_fit first");
    require_shape("kinterp_weights: the weights", local_rows, columns, m.weights);
    if (m.weights.size() == 0) return;
    if (!weights) throw kinterp::Error("kinterp_weights: the weights array is NULL");
    Kokkos::deep_copy(HostRows(weights, m.weights.extent(0), m.weights.extent(1)), m.weights);
  });
}

int kinterp_predict(kinterp_model model, int64_t local_targets, int dimension,
                    const double* targets, int columns, double* values) {
  return kinterp_predict_checked(model, local_targets, dimension, targets, columns, values,
                                 nullptr);
}

int kinterp_predict_checked(kinterp_model model, int64_t local_targets, int dimension,
                            const double* targets, int columns, double* values,
                            const char* caller_error) {
  return evaluate(model, local_targets, dimension, targets, columns, values, caller_error,
                  Evaluation::Values);
}

int kinterp_predict_gradient(kinterp_model model, int64_t local_targets, int dimension,
                             const double* targets, int columns, double* gradients) {
  return kinterp_predict_gradient_checked(model, local_targets, dimension, targets, columns,
                                          gradients, nullptr);
}

int kinterp_predict_gradient_checked(kinterp_model model, int64_t local_targets, int dimension,
                                     const double* targets, int columns, double* gradients,
                                     const char* caller_error) {
  return evaluate(model, local_targets, dimension, targets, columns, gradients, caller_error,
                  Evaluation::Gradient);
}

int kinterp_predict_laplacian(kinterp_model model, int64_t local_targets, int dimension,
                              const double* targets, int columns, double* laplacians) {
  return kinterp_predict_laplacian_checked(model, local_targets, dimension, targets, columns,
                                           laplacians, nullptr);
}

int kinterp_predict_laplacian_checked(kinterp_model model, int64_t local_targets, int dimension,
                                      const double* targets, int columns, double* laplacians,
                                      const char* caller_error) {
  return evaluate(model, local_targets, dimension, targets, columns, laplacians, caller_error,
                  Evaluation::Laplacian);
}

}  // extern "C"
