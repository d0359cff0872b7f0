// The C API's kriging (include/kinterp/kinterp.h, kinterp_kriging_*) over
// kinterp::Kriging and fit_hyperparameters: settings are kept as given and
// checked as far as they can be when set; the collective calls agree on
// errors across ranks first, so no rank is left in a collective.

#include <kinterp/kinterp.h>

#include <kinterp/core/Communicator.hpp>
#include <kinterp/dist/ProductChoice.hpp>
#include <kinterp/kriging/Kriging.hpp>
#include <kinterp/kriging/Likelihood.hpp>

#include "CApiSupport.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using namespace kinterp::capi;

struct kinterp_kriging_s {
  explicit kinterp_kriging_s(MPI_Comm caller) : comm(caller) {
    options.kind = kinterp::KrigingKind::Ordinary;
  }

  kinterp::Communicator comm;
  std::string error;

  // Settings, as given.
  kinterp::CovarianceModel model;
  kinterp::KrigingOptions options;
  kinterp::ProductEngine product_engine = kinterp::ProductEngine::Direct;
  double product_tolerance = 0;  ///< 0: a hundredth of rtol

  // The last fit.
  std::optional<kinterp::Kriging> fitted;
  int dimension = 0;

  kinterp::KrigingOptions resolved_options() const {
    kinterp::KrigingOptions resolved = options;
    resolved.product.engine = product_engine;
    resolved.product.tree.tolerance =
        product_tolerance > 0 ? product_tolerance
                              : kinterp::solve_product_tolerance<double>(options.solve.rtol);
    return resolved;
  }

  /// Everything that must agree across ranks, as one text.
  std::string settings_text(int dimension_) const {
    std::ostringstream text;
    text.precision(17);
    text << model.family << '|' << model.variance << '|' << model.shape << '|' << model.nugget;
    for (double l : model.length_scales) text << ',' << l;
    text << '|';
    for (double a : model.angles) text << ',' << a;
    text << '|' << static_cast<int>(options.kind) << '|' << options.mean << '|'
         << options.drift_degree << '|' << options.solve.rtol << '|' << options.solve.max_iterations
         << '|' << options.preconditioner.rank << '|' << options.vecchia.neighbors << '|'
         << static_cast<int>(product_engine) << '|' << product_tolerance << '|' << dimension_;
    return text.str();
  }

  /// Collective: the caller's error, the dimension and the settings agree
  /// on every rank, or every rank throws.
  void agree_on_input(int dimension_, const char* caller_error, const char* call,
                      const std::function<void()>& local_checks) const {
    agree(comm.get(), [&] {
      if (caller_error && *caller_error) throw kinterp::Error(caller_error);
      if (dimension_ < 1) {
        throw kinterp::Error(std::string(call) + ": the dimension is " +
                             std::to_string(dimension_) + "; it must be at least 1");
      }
      local_checks();
    });
    require_same_settings(comm.get(), settings_text(dimension_),
                          std::string("the model, kind, tolerances, preconditioner, product or "
                                      "dimension of ") +
                              call);
  }

  /// Local: throws unless a fit exists and the targets have its dimension.
  void require_fit(const char* call, int dimension_) const {
    if (!fitted) {
      throw state_error(std::string(call) + ": no fit yet: call kinterp_kriging_fit first");
    }
    if (dimension_ != dimension) {
      throw kinterp::Error(std::string(call) + ": targets of dimension " +
                           std::to_string(dimension_) + " but the fit had points of dimension " +
                           std::to_string(dimension));
    }
  }
};

namespace {

template <class Body>
int on_kriging(kinterp_kriging kriging, Body&& body) {
  return on_handle(kriging,
                   "the kriging handle is NULL: create it with kinterp_kriging_create first",
                   std::forward<Body>(body));
}

/// The model's dimension as far as its settings tell (for checks at set-up).
int dimension_of(const kinterp::CovarianceModel& model) {
  if (model.length_scales.size() > 1) return static_cast<int>(model.length_scales.size());
  return model.angles.size() == 1 ? 2 : model.angles.size() == 3 ? 3 : 1;
}

std::vector<double> numbers(const double* data, int count, const char* what) {
  if (count < 0 || (count > 0 && !data)) {
    throw kinterp::Error(std::string("the ") + what + ": count " + std::to_string(count) +
                         (data ? "" : " with a NULL array") +
                         "; give a count >= 0 and an array of that many numbers");
  }
  return std::vector<double>(data, data + count);
}

}  // namespace

extern "C" {

int kinterp_kriging_create(MPI_Comm comm, kinterp_kriging* kriging) {
  return create_handle(comm, kriging, "kinterp_kriging_create");
}

int kinterp_kriging_create_f(MPI_Fint comm, kinterp_kriging* kriging) {
  return kinterp_kriging_create(MPI_Comm_f2c(comm), kriging);
}

int kinterp_kriging_destroy(kinterp_kriging* kriging) {
  return destroy_handle(kriging);
}

const char* kinterp_kriging_error_message(kinterp_kriging kriging) {
  return kriging ? kriging->error.c_str() : global_error.c_str();
}

int kinterp_kriging_set_model(kinterp_kriging kriging, const char* family, double variance,
                              int length_scale_count, const double* length_scales, int angle_count,
                              const double* angles, double shape, double nugget) {
  return on_kriging(kriging, [&](kinterp_kriging_s& k) {
    kinterp::CovarianceModel model;
    model.family = require_text(family, "the family");
    model.variance = variance;
    model.length_scales = numbers(length_scales, length_scale_count, "length scales");
    model.angles = numbers(angles, angle_count, "angles");
    model.shape = shape;
    model.nugget = nugget;
    model.check(dimension_of(model));
    k.model = model;
  });
}

int kinterp_kriging_set_kind(kinterp_kriging kriging, const char* kind, double mean,
                             int drift_degree) {
  return on_kriging(kriging, [&](kinterp_kriging_s& k) {
    const auto chosen = kinterp::kriging_kind_from_name(require_text(kind, "the kind"));
    if (chosen == kinterp::KrigingKind::Simple && !std::isfinite(mean)) {
      throw kinterp::Error("the mean of simple kriging must be finite");
    }
    if (chosen == kinterp::KrigingKind::Universal && drift_degree < 0) {
      throw kinterp::Error("the drift degree of universal kriging must be >= 0, got " +
                           std::to_string(drift_degree));
    }
    k.options.kind = chosen;
    k.options.mean = chosen == kinterp::KrigingKind::Simple ? mean : 0;
    k.options.drift_degree = chosen == kinterp::KrigingKind::Universal ? drift_degree : 1;
  });
}

int kinterp_kriging_set_tolerances(kinterp_kriging kriging, double rtol, int max_iterations) {
  return on_kriging(kriging, [&](kinterp_kriging_s& k) {
    kinterp::SolveOptions options = k.options.solve;
    options.rtol = rtol;
    options.max_iterations = max_iterations;
    kinterp::check_solve_parameters(0, options);
    k.options.solve = options;
  });
}

int kinterp_kriging_set_preconditioner(kinterp_kriging kriging, int rank) {
  return on_kriging(kriging, [&](kinterp_kriging_s& k) {
    choose_nystrom(rank, k.options.preconditioner, k.options.vecchia);
  });
}

int kinterp_kriging_set_vecchia(kinterp_kriging kriging, int neighbors) {
  return on_kriging(kriging, [&](kinterp_kriging_s& k) {
    choose_vecchia(neighbors, k.options.preconditioner, k.options.vecchia);
  });
}

int kinterp_kriging_set_product(kinterp_kriging kriging, const char* engine, double tolerance) {
  return on_kriging(kriging, [&](kinterp_kriging_s& k) {
    k.product_engine = checked_product(engine, tolerance);
    k.product_tolerance = tolerance;
  });
}

int kinterp_kriging_fit(kinterp_kriging kriging, int64_t local_rows, int dimension,
                        const double* points, const double* values) {
  return kinterp_kriging_fit_checked(kriging, local_rows, dimension, points, values, nullptr);
}

int kinterp_kriging_fit_checked(kinterp_kriging kriging, int64_t local_rows, int dimension,
                                const double* points, const double* values,
                                const char* caller_error) {
  int status = on_kriging(kriging, [&](kinterp_kriging_s& k) {
    k.fitted.reset();
    Matrix device_points, device_values;
    k.agree_on_input(dimension, caller_error, "kinterp_kriging_fit", [&] {
      device_points = to_device(points, local_rows, dimension, "points");
      device_values = to_device(values, local_rows, 1, "values");
    });
    k.fitted.emplace(k.comm.get(), k.model, device_points, device_values, k.resolved_options());
    k.dimension = dimension;
  });
  if (status == KINTERP_SUCCESS && !kriging->fitted->fit_result().converged()) {
    kriging->error =
        "kinterp_kriging_fit did not converge: " + kriging->fitted->fit_result().detail;
    status = KINTERP_ERROR_NOT_CONVERGED;
  }
  return status;
}

int kinterp_kriging_refit(kinterp_kriging kriging, int64_t local_rows, const double* values) {
  return kinterp_kriging_refit_checked(kriging, local_rows, values, nullptr);
}

int kinterp_kriging_refit_checked(kinterp_kriging kriging, int64_t local_rows, const double* values,
                                  const char* caller_error) {
  int status = on_kriging(kriging, [&](kinterp_kriging_s& k) {
    Matrix device_values;
    agree(k.comm.get(), [&] {
      if (caller_error && *caller_error) throw kinterp::Error(caller_error);
      if (!k.fitted) {
        throw state_error("kinterp_kriging_refit: no fit yet: call kinterp_kriging_fit first");
      }
      const auto rows = static_cast<std::int64_t>(k.fitted->weights().extent(0));
      if (local_rows != rows) {
        throw kinterp::Error("kinterp_kriging_refit: " + std::to_string(local_rows) +
                             " values on this rank but the fit had " + std::to_string(rows) +
                             " points: a refit keeps the points (fit again for new ones)");
      }
      device_values = to_device(values, local_rows, 1, "values");
    });
    k.fitted->refit(device_values);
  });
  if (status == KINTERP_SUCCESS && !kriging->fitted->fit_result().converged()) {
    kriging->error =
        "kinterp_kriging_refit did not converge: " + kriging->fitted->fit_result().detail;
    status = KINTERP_ERROR_NOT_CONVERGED;
  }
  return status;
}

int kinterp_kriging_fit_result(kinterp_kriging kriging, int* iterations,
                               double* relative_residual) {
  return on_kriging(kriging, [&](kinterp_kriging_s& k) {
    if (!k.fitted) {
      throw state_error("kinterp_kriging_fit_result: no fit yet: call kinterp_kriging_fit first");
    }
    if (iterations) *iterations = k.fitted->fit_result().iterations;
    if (relative_residual) *relative_residual = k.fitted->fit_result().relative_residual();
  });
}

int kinterp_kriging_mean(kinterp_kriging kriging, int64_t local_targets, int dimension,
                         const double* targets, double* mean) {
  return kinterp_kriging_mean_checked(kriging, local_targets, dimension, targets, mean, nullptr);
}

int kinterp_kriging_mean_checked(kinterp_kriging kriging, int64_t local_targets, int dimension,
                                 const double* targets, double* mean, const char* caller_error) {
  return on_kriging(kriging, [&](kinterp_kriging_s& k) {
    Matrix device_targets, out;
    agree(k.comm.get(), [&] {
      if (caller_error && *caller_error) throw kinterp::Error(caller_error);
      k.require_fit("kinterp_kriging_mean", dimension);
      device_targets = to_device(targets, local_targets, dimension, "targets");
      require_output(local_targets, mean, "kinterp_kriging_mean", "mean");
      out = Matrix("kinterp::kriging_mean", local_targets, 1);
    });
    k.fitted->mean(device_targets, out);
    to_host(out, mean);
  });
}

int kinterp_kriging_mean_gradient(kinterp_kriging kriging, int64_t local_targets, int dimension,
                                  const double* targets, double* gradient) {
  return kinterp_kriging_mean_gradient_checked(kriging, local_targets, dimension, targets, gradient,
                                               nullptr);
}

int kinterp_kriging_mean_gradient_checked(kinterp_kriging kriging, int64_t local_targets,
                                          int dimension, const double* targets, double* gradient,
                                          const char* caller_error) {
  return on_kriging(kriging, [&](kinterp_kriging_s& k) {
    Matrix device_targets, out;
    agree(k.comm.get(), [&] {
      if (caller_error && *caller_error) throw kinterp::Error(caller_error);
      k.require_fit("kinterp_kriging_mean_gradient", dimension);
      device_targets = to_device(targets, local_targets, dimension, "targets");
      require_output(local_targets, gradient, "kinterp_kriging_mean_gradient", "gradient");
      out = Matrix("kinterp::kriging_mean_gradient", local_targets, dimension);
    });
    k.fitted->mean_gradient(device_targets, out);
    to_host(out, gradient);
  });
}

int kinterp_kriging_variance(kinterp_kriging kriging, int64_t local_targets, int dimension,
                             const double* targets, double* variance) {
  return kinterp_kriging_variance_checked(kriging, local_targets, dimension, targets, variance,
                                          nullptr);
}

int kinterp_kriging_variance_checked(kinterp_kriging kriging, int64_t local_targets, int dimension,
                                     const double* targets, double* variance,
                                     const char* caller_error) {
  kinterp::KrigingVarianceInfo info;
  int status = on_kriging(kriging, [&](kinterp_kriging_s& k) {
    Matrix device_targets, out;
    agree(k.comm.get(), [&] {
      if (caller_error && *caller_error) throw kinterp::Error(caller_error);
      k.require_fit("kinterp_kriging_variance", dimension);
      device_targets = to_device(targets, local_targets, dimension, "targets");
      require_output(local_targets, variance, "kinterp_kriging_variance", "variance");
      out = Matrix("kinterp::kriging_variance", local_targets, 1);
    });
    info = k.fitted->variance(device_targets, out);
    to_host(out, variance);
  });
  if (status == KINTERP_SUCCESS && !info.converged) {
    kriging->error = "kinterp_kriging_variance: a batch's CG did not converge: " + info.detail;
    status = KINTERP_ERROR_NOT_CONVERGED;
  }
  return status;
}

int kinterp_kriging_estimate(kinterp_kriging kriging, int64_t local_rows, int dimension,
                             const double* points, const double* values, int which,
                             int max_iterations, double* log_likelihood) {
  return kinterp_kriging_estimate_checked(kriging, local_rows, dimension, points, values, which,
                                          max_iterations, log_likelihood, nullptr);
}

int kinterp_kriging_estimate_checked(kinterp_kriging kriging, int64_t local_rows, int dimension,
                                     const double* points, const double* values, int which,
                                     int max_iterations, double* log_likelihood,
                                     const char* caller_error) {
  bool converged = true;
  std::string reason;
  int status = on_kriging(kriging, [&](kinterp_kriging_s& k) {
    Matrix device_points, device_values;
    kinterp::HyperparameterFitOptions fit;
    k.agree_on_input(dimension, caller_error, "kinterp_kriging_estimate", [&] {
      constexpr int all = KINTERP_FIT_VARIANCE | KINTERP_FIT_LENGTH_SCALES | KINTERP_FIT_NUGGET |
                          KINTERP_FIT_SHAPE | KINTERP_FIT_ANGLES;
      if (which <= 0 || (which & ~all) != 0) {
        throw kinterp::Error("kinterp_kriging_estimate: `which` is " + std::to_string(which) +
                             "; or together KINTERP_FIT_VARIANCE, KINTERP_FIT_LENGTH_SCALES, "
                             "KINTERP_FIT_NUGGET, KINTERP_FIT_SHAPE, KINTERP_FIT_ANGLES");
      }
      if (max_iterations < 0) {
        throw kinterp::Error("kinterp_kriging_estimate: max_iterations is " +
                             std::to_string(max_iterations) + "; give a number >= 0, such as 50");
      }
      fit.which = {(which & KINTERP_FIT_VARIANCE) != 0, (which & KINTERP_FIT_LENGTH_SCALES) != 0,
                   (which & KINTERP_FIT_NUGGET) != 0, (which & KINTERP_FIT_SHAPE) != 0,
                   (which & KINTERP_FIT_ANGLES) != 0};
      fit.max_iterations = max_iterations;
      device_points = to_device(points, local_rows, dimension, "points");
      device_values = to_device(values, local_rows, 1, "values");
    });
    const kinterp::HyperparameterFitResult result = kinterp::fit_hyperparameters(
        k.comm.get(), k.model, device_points, device_values, k.resolved_options(), fit);
    k.model = result.model;
    if (log_likelihood) *log_likelihood = result.at_fit.log_likelihood;
    converged = result.converged;
    reason = result.reason;
  });
  if (status == KINTERP_SUCCESS && !converged) {
    kriging->error = "kinterp_kriging_estimate stopped early: " + reason;
    status = KINTERP_ERROR_NOT_CONVERGED;
  }
  return status;
}

int kinterp_kriging_get_model(kinterp_kriging kriging, double* variance, int length_scale_count,
                              double* length_scales, int* length_scales_held, double* nugget,
                              double* shape) {
  return on_kriging(kriging, [&](kinterp_kriging_s& k) {
    const kinterp::CovarianceModel& model = k.model;
    const int held = static_cast<int>(model.length_scales.size());
    if (length_scale_count < 0 || (length_scale_count > 0 && !length_scales)) {
      throw kinterp::Error("kinterp_kriging_get_model: room for " +
                           std::to_string(length_scale_count) +
                           " length scales with a NULL array or a negative count");
    }
    if (variance) *variance = model.variance;
    for (int i = 0; i < std::min(held, length_scale_count); ++i)
      length_scales[i] = model.length_scales[i];
    if (length_scales_held) *length_scales_held = held;
    if (nugget) *nugget = model.nugget;
    if (shape) *shape = model.shape;
  });
}

}  // extern "C"
