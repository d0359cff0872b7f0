#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/KokkosCompat.hpp>
#include <kinterp/core/detail/SplitMix64.hpp>
#include <kinterp/dist/FormulaKernelProduct.hpp>
#include <kinterp/formula/Formula.hpp>
#include <kinterp/kernels/SlopeKernel.hpp>
#include <kinterp/kriging/Likelihood.hpp>
#include <kinterp/local/ColumnMeans.hpp>
#include <kinterp/solve/LanczosQuadrature.hpp>

#include "BoundedLbfgs.hpp"
#include "KrigingSystem.hpp"
#include "Reductions.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kinterp {

namespace {

using execution_space = Kokkos::DefaultExecutionSpace;
using Matrix = detail::KrigingMatrix;
using ConstMatrix = detail::ConstKrigingMatrix;

constexpr double two_pi = 6.283185307179586476925;

// ---- Probes: standard normals that depend on (seed, index) only -----------------

/// A standard normal from two hashed uniforms (Box-Muller).
KOKKOS_INLINE_FUNCTION double standard_normal(std::uint64_t seed, std::uint64_t index) {
  constexpr double to_unit = 1.0 / 9007199254740992.0;  // 2^-53
  const double u1 = (double(detail::mix64(seed ^ detail::mix64(2 * index)) >> 11) + 0.5) * to_unit;
  const double u2 =
      (double(detail::mix64(seed ^ detail::mix64(2 * index + 1)) >> 11) + 0.5) * to_unit;
  return detail::math::sqrt(-2 * detail::math::log(u1)) * detail::math::cos(two_pi * u2);
}

/// s probes b ~ N(0, M), M the preconditioner (or I). Nystrom, M = F F^T + a I:
/// b = F g + sqrt(a) h, g (k x s) the same on every rank, h by global row
/// (independent of the rank count). Vecchia: b = B^-1 D^1/2 h.
Matrix probes(const detail::KrigingSystem& system, int s, std::uint64_t seed,
              std::int64_t first_row) {
  const std::size_t rows = system.coordinates().extent(0);
  Matrix b(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::likelihood::probes"), rows, s);
  const auto* preconditioner = system.preconditioner();
  const auto* vecchia = system.vecchia();
  const double scale = preconditioner ? std::sqrt(preconditioner->alpha()) : 1.0;
  const std::uint64_t row_seed = detail::mix64(seed ^ 0x726f7773ULL),
                      core_seed = detail::mix64(seed ^ 0x636f7265ULL);
  Kokkos::parallel_for(
      "kinterp::likelihood::row_probes", Kokkos::RangePolicy<execution_space>(0, rows),
      KOKKOS_LAMBDA(const std::int64_t i) {
        for (int c = 0; c < s; ++c) {
          b(i, c) = scale * standard_normal(row_seed, std::uint64_t(first_row + i) * s + c);
        }
      });
  if (vecchia) vecchia->correlate(b, b);
  if (!preconditioner) return b;
  const Matrix f = preconditioner->factor();
  const int k = static_cast<int>(f.extent(1));
  Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::HostSpace> g_host("kinterp::likelihood::g", k,
                                                                        s);
  for (int p = 0; p < k; ++p)
    for (int c = 0; c < s; ++c) g_host(p, c) = standard_normal(core_seed, std::uint64_t(p) * s + c);
  const auto g = Kokkos::create_mirror_view_and_copy(execution_space::memory_space(), g_host);
  Kokkos::parallel_for(
      "kinterp::likelihood::factor_probes", Kokkos::RangePolicy<execution_space>(0, rows),
      KOKKOS_LAMBDA(const std::int64_t i) {
        for (int c = 0; c < s; ++c) {
          double sum = 0;
          for (int p = 0; p < k; ++p) sum += f(i, p) * g(p, c);
          b(i, c) += sum;
        }
      });
  return b;
}

// ---- The optimiser's coordinates -----------------------------------------------

std::vector<double> coordinates_of(const CovarianceModel& model, const FitParameters& which) {
  std::vector<double> x;
  if (which.variance) x.push_back(std::log(model.variance));
  if (which.length_scales) {
    for (double l : model.length_scales) x.push_back(std::log(l));
  }
  if (which.nugget) x.push_back(std::log(model.nugget));
  if (which.shape) x.push_back(std::log(model.shape));
  if (which.angles) x.insert(x.end(), model.angles.begin(), model.angles.end());
  return x;
}

CovarianceModel model_at(CovarianceModel model, const FitParameters& which,
                         const std::vector<double>& x) {
  std::size_t i = 0;
  if (which.variance) model.variance = std::exp(x[i++]);
  if (which.length_scales) {
    for (double& l : model.length_scales) l = std::exp(x[i++]);
  }
  if (which.nugget) model.nugget = std::exp(x[i++]);
  if (which.shape) model.shape = std::exp(x[i++]);
  if (which.angles) {
    for (double& a : model.angles) a = x[i++];
  }
  return model;
}

/// What coordinate i of `which` is: the variance, the nugget, a length scale
/// or an angle (exact where the family has a usable slope kernel), or the
/// shape (exact for the rational quadratic's alpha; Matern's nu differenced).
enum class Role { Variance, Nugget, LengthScale, Angle, Shape };
std::vector<Role> roles(const CovarianceModel& model, const FitParameters& which) {
  std::vector<Role> r;
  if (which.variance) r.push_back(Role::Variance);
  if (which.length_scales) r.insert(r.end(), model.length_scales.size(), Role::LengthScale);
  if (which.nugget) r.push_back(Role::Nugget);
  if (which.shape) r.push_back(Role::Shape);
  if (which.angles) r.insert(r.end(), model.angles.size(), Role::Angle);
  return r;
}

/// y = K_latent(model) x, the points in the model's coordinates.
Matrix latent_product(MPI_Comm comm, const CovarianceModel& model, const ConstMatrix& points,
                      const ConstMatrix& x) {
  const Matrix u = model.transform(points);
  const KernelSum<double> sum(comm, model.kernel(), u);
  Matrix y("kinterp::likelihood::product", x.extent(0), x.extent(1));
  sum(u, x, y);
  return y;
}

/// The family's slope kernel where the exact derivatives can use it: not
/// exp(-g r)/r (the Laplacian kernel's), infinite on the diagonal.
std::optional<SlopeKernel> usable_slope(const CovarianceModel& model) {
  auto slope = slope_kernel(model.kernel());
  if (slope && slope->psi.family == KernelFamily::ExponentialOverDistance) return std::nullopt;
  return slope;
}

/// A symmetric d x d Q (row-major) with d (r^2 / 2) / d theta = (u_i - u_j)^T Q
/// (u_i - u_j) for one parameter theta, u the model's coordinates. A length
/// scale l_a: du_a / d log l_a = -u_a, so Q = -e_a e_a^T (an isotropic one: -I).
/// An angle: du / d theta = G u (CovarianceModel::angle_derivative), so Q is
/// G's symmetric part.
std::vector<double> quadratic_form(const CovarianceModel& model, Role role, int index, int d) {
  std::vector<double> q(d * d, 0.0);
  if (role == Role::LengthScale) {
    for (int a = 0; a < d; ++a) {
      if (model.length_scales.size() == 1 || a == index) q[a * d + a] = -1;
    }
  } else {
    const std::vector<double> g = model.angle_derivative(d, index);
    for (int a = 0; a < d; ++a)
      for (int b = 0; b < d; ++b) q[a * d + b] = 0.5 * (g[a * d + b] + g[b * d + a]);
  }
  return q;
}

/// dK/d theta_k x for parameters with quadratic forms Q_k, exactly, by one
/// product with the slope kernel psi (phi'(r)/r = c psi): d phi(r) / d theta =
/// phi'(r)/r d (r^2/2) / d theta = c psi(r) (u_i - u_j)^T Q_k (u_i - u_j). With
/// v = u - o (o the mean, so the terms stay of the data's size), that
/// quadratic form is v_i^T Q v_i - 2 v_i^T Q v_j + v_j^T Q v_j, so the
/// product's columns are, for each of x's m columns, x, x v_a (each axis) and
/// x v^T Q_k v (each form), and
///   (dK_k x)_i = c [v_i^T Q_k v_i (psi x)_i - 2 v_i^T Q_k (psi x v)_i + (psi x v^T Q_k v)_i].
/// `u`: the points in the model's coordinates (KrigingSystem::coordinates()).
std::vector<Matrix> quadratic_form_products(MPI_Comm comm, const SlopeKernel& slope,
                                            const ConstMatrix& u, const ConstMatrix& x,
                                            const std::vector<std::vector<double>>& forms) {
  const std::int64_t rows = u.extent(0), m = x.extent(1);
  const int d = static_cast<int>(u.extent(1)), k = static_cast<int>(forms.size());
  const int blocks = 1 + d + k;
  Kokkos::View<double***, Kokkos::LayoutRight, Kokkos::HostSpace> q_host(
      "kinterp::likelihood::forms", k, d, d);
  for (int f = 0; f < k; ++f) std::copy(forms[f].begin(), forms[f].end(), &q_host(f, 0, 0));
  const auto q = Kokkos::create_mirror_view_and_copy(execution_space::memory_space(), q_host);
  const auto o = column_means<double>(comm, u);
  Matrix columns("kinterp::likelihood::slope_weights", rows, blocks * m);
  Kokkos::parallel_for(
      "kinterp::likelihood::slope_weights", Kokkos::RangePolicy<execution_space>(0, rows),
      KOKKOS_LAMBDA(const std::int64_t i) {
        for (std::int64_t c = 0; c < m; ++c) {
          columns(i, c) = x(i, c);
          for (int a = 0; a < d; ++a) columns(i, (1 + a) * m + c) = x(i, c) * (u(i, a) - o(a));
        }
        for (int f = 0; f < k; ++f) {
          double vqv = 0;
          for (int a = 0; a < d; ++a)
            for (int b = 0; b < d; ++b) vqv += (u(i, a) - o(a)) * q(f, a, b) * (u(i, b) - o(b));
          for (std::int64_t c = 0; c < m; ++c) columns(i, (1 + d + f) * m + c) = x(i, c) * vqv;
        }
      });
  const KernelSum<double> sum(comm, slope.psi, u);
  Matrix sums("kinterp::likelihood::slope_sums", rows, blocks * m);
  sum(u, columns, sums);
  const double c = slope.factor;
  std::vector<Matrix> out;
  for (int f = 0; f < k; ++f) {
    Matrix y("kinterp::likelihood::form_product", rows, m);
    Kokkos::parallel_for(
        "kinterp::likelihood::form_product", Kokkos::RangePolicy<execution_space>(0, rows),
        KOKKOS_LAMBDA(const std::int64_t i) {
          for (std::int64_t col = 0; col < m; ++col) y(i, col) = sums(i, (1 + d + f) * m + col);
          for (int a = 0; a < d; ++a) {
            double qv = 0;  // (Q_f v_i)_a, once for all m columns
            for (int b = 0; b < d; ++b) qv += q(f, a, b) * (u(i, b) - o(b));
            const double v = u(i, a) - o(a);
            for (std::int64_t col = 0; col < m; ++col) {
              y(i, col) += qv * (v * sums(i, col) - 2 * sums(i, (1 + a) * m + col));
            }
          }
          for (std::int64_t col = 0; col < m; ++col) y(i, col) *= c;
        });
    out.push_back(y);
  }
  return out;
}

/// dK/d log alpha x for the rational quadratic (1 + t)^-alpha, t = r^2 / (2
/// alpha) at unit length scale, exactly: alpha d phi / d alpha = alpha phi(r)
/// (t / (1 + t) - log(1 + t)). No compiled family has the log, so the generic
/// formula evaluator runs it, faster than the two compiled products of a
/// central difference (0.40 against 1.58 s at N = 5000, 33 columns, 1
/// thread). Matern's nu has no such form: d K_nu / d nu is an integral.
Matrix shape_product(MPI_Comm comm, const CovarianceModel& model, const ConstMatrix& u,
                     const ConstMatrix& x) {
  const std::string d = std::to_string(u.extent(1)), m = std::to_string(x.extent(1));
  const std::string t = "(SqDist(X,Y)*H)";
  const Formula formula(
      "C*Powf(IntCst(1)+" + t + ",-P)*(" + t + "/(IntCst(1)+" + t + ")-Log(IntCst(1)+" + t + "))*A",
      {"X = Vi(" + d + ")", "Y = Vj(" + d + ")", "A = Vj(" + m + ")", "C = Pm(1)", "H = Pm(1)",
       "P = Pm(1)"});
  const double alpha = model.shape;
  const Program program =
      formula.compile({{"C", {model.variance * alpha}}, {"H", {1 / (2 * alpha)}}, {"P", {alpha}}});
  const FormulaKernelProduct<double> product(comm, program, "A", u);
  Matrix y("kinterp::likelihood::shape_product", x.extent(0), x.extent(1));
  product.apply_at_sources(execution_space(), x, y);
  return y;
}

}  // namespace

LikelihoodEstimate estimate_log_likelihood(MPI_Comm comm, const CovarianceModel& model,
                                           const Kriging::ConstMatrix& points,
                                           const Kriging::ConstMatrix& values,
                                           const KrigingOptions& kriging,
                                           const FitParameters& which,
                                           const LikelihoodOptions& options) {
  throw_if_any(comm, options.probes < 1 || !(options.step > 0 && options.step < 1),
               "the likelihood needs at least one probe and a difference step in (0, 1)");
  throw_if_any(comm, which.shape && !(model.shape > 0),
               "fitting the shape needs a model with one (matern's nu, rq's alpha)");
  const int s = options.probes;

  const detail::KrigingSystem system(comm, model, points, values, kriging);
  const int q = system.drift_terms();
  const Matrix b = probes(system, s, options.seed, system.first_row());
  LanczosRecorder recorder(1 + q + s);  // the Lanczos record of every column of the solve
  const detail::GlsSolution solution = system.solve(b, recorder.callback());

  Matrix u = b;  // M^-1 b
  if (const auto* preconditioner = system.preconditioner()) {
    u = Matrix("kinterp::likelihood::preconditioned_probes", b.extent(0), s);
    preconditioner->apply(b, u);
  } else if (const auto* vecchia = system.vecchia()) {
    u = Matrix("kinterp::likelihood::preconditioned_probes", b.extent(0), s);
    vecchia->apply(b, u);
  }
  const std::vector<double> ub = detail::column_dots(comm, u, b);
  const std::vector<double> uv = detail::column_dots(comm, u, solution.extra);
  const double ww = detail::column_dots(comm, solution.weights, solution.weights)[0];

  LikelihoodEstimate estimate;
  estimate.iterations = solution.solve.iterations;
  estimate.converged = solution.solve.converged();
  estimate.detail = solution.solve.detail;
  // Simple kriging: z - mean; else z, and P^T w = 0 makes z^T w = (z - P beta)^T w.
  estimate.data_fit = detail::column_dots(comm, system.centred_values(), solution.weights)[0];
  double trace_log = 0;
  for (int i = 0; i < s; ++i) trace_log += ub[i] * recorder.log_quadrature(1 + q + i);
  estimate.log_determinant = (system.preconditioner() ? system.preconditioner()->log_determinant()
                              : system.vecchia()      ? system.vecchia()->log_determinant()
                                                      : 0.0) +
                             trace_log / s;
  const double n = static_cast<double>(system.global_rows());
  estimate.log_likelihood =
      -0.5 * estimate.data_fit - 0.5 * estimate.log_determinant - 0.5 * n * std::log(two_pi);

  // The gradient: 1/2 w^T dK w - 1/2 mean_i u_i^T dK v_i.
  const double nugget = model.nugget;
  const auto mean_over_probes = [&](auto&& term) {
    double sum = 0;
    for (int i = 0; i < s; ++i) sum += term(i);
    return sum / s;
  };
  const std::vector<Role> parameter_roles = roles(model, which);
  const std::vector<double> x = coordinates_of(model, which);
  Matrix wv, wu;  // [w, v_1..v_s] and [w, u_1..u_s], for the derivatives' products
  const auto ready_wv_wu = [&] {
    if (wv.extent(1) != 0) return;
    const auto first = std::make_pair(0, 1), rest = std::make_pair(1, 1 + s);
    wv = Matrix("kinterp::likelihood::wv", b.extent(0), 1 + s);
    wu = Matrix("kinterp::likelihood::wu", b.extent(0), 1 + s);
    Kokkos::deep_copy(Kokkos::subview(wv, Kokkos::ALL, first), solution.weights);
    Kokkos::deep_copy(Kokkos::subview(wv, Kokkos::ALL, rest), solution.extra);
    Kokkos::deep_copy(Kokkos::subview(wu, Kokkos::ALL, first), solution.weights);
    Kokkos::deep_copy(Kokkos::subview(wu, Kokkos::ALL, rest), u);
  };
  // 1/2 w^T dK w - 1/2 mean_i u_i^T dK v_i from dK [w, v_1..v_s].
  const auto gradient_from = [&](const Matrix& dk_wv) {
    const std::vector<double> dots = detail::column_dots(comm, wu, dk_wv);
    return 0.5 * dots[0] - 0.5 * mean_over_probes([&](int i) { return dots[1 + i]; });
  };
  // Length scales and angles: exact, all from one product with the slope kernel.
  const auto slope = options.exact_derivatives ? usable_slope(model) : std::nullopt;
  const int d = static_cast<int>(points.extent(1));
  std::vector<std::vector<double>> forms;
  std::vector<int> form_of(x.size(), -1);
  for (std::size_t j = 0, length_scale = 0, angle = 0; j < x.size(); ++j) {
    const Role role = parameter_roles[j];
    if (role != Role::LengthScale && role != Role::Angle) continue;
    const int index = static_cast<int>(role == Role::LengthScale ? length_scale++ : angle++);
    if (!slope) continue;
    form_of[j] = static_cast<int>(forms.size());
    forms.push_back(quadratic_form(model, role, index, d));
  }
  std::vector<Matrix> form_products;  // dK/d theta_k [w, v_1..v_s]
  if (!forms.empty()) {
    ready_wv_wu();
    form_products = quadratic_form_products(comm, *slope, system.coordinates(), wv, forms);
  }
  for (std::size_t j = 0; j < x.size(); ++j) {
    double g = 0;
    if (form_of[j] >= 0) {
      g = gradient_from(form_products[form_of[j]]);
    } else if (parameter_roles[j] == Role::Shape && options.exact_derivatives &&
               model.kernel().family == KernelFamily::RationalQuadratic) {
      ready_wv_wu();
      g = gradient_from(shape_product(comm, model, system.coordinates(), wv));
    } else if (parameter_roles[j] == Role::Variance) {
      // dK = K_latent: K w = z - P beta and K v_i = b_i, less the nugget's part.
      g = 0.5 * (estimate.data_fit - nugget * ww) -
          0.5 * mean_over_probes([&](int i) { return ub[i] - nugget * uv[i]; });
    } else if (parameter_roles[j] == Role::Nugget) {
      g = 0.5 * nugget * ww - 0.5 * mean_over_probes([&](int i) { return nugget * uv[i]; });
    } else {
      ready_wv_wu();
      std::vector<double> up(x), down(x);
      up[j] += options.step;
      down[j] -= options.step;
      const Matrix plus = latent_product(comm, model_at(model, which, up), points, wv);
      const Matrix minus = latent_product(comm, model_at(model, which, down), points, wv);
      const double h = 2 * options.step;
      Kokkos::parallel_for(
          "kinterp::likelihood::difference",
          Kokkos::MDRangePolicy<execution_space, Kokkos::Rank<2>>(
              {0, 0}, {static_cast<std::int64_t>(plus.extent(0)),
                       static_cast<std::int64_t>(plus.extent(1))}),
          KOKKOS_LAMBDA(const std::int64_t i, const std::int64_t c) {
            plus(i, c) = (plus(i, c) - minus(i, c)) / h;
          });
      g = gradient_from(plus);
    }
    estimate.gradient.push_back(g);
  }
  return estimate;
}

HyperparameterFitResult fit_hyperparameters(MPI_Comm comm, const CovarianceModel& model,
                                            const Kriging::ConstMatrix& points,
                                            const Kriging::ConstMatrix& values,
                                            const KrigingOptions& kriging,
                                            const HyperparameterFitOptions& options) {
  const double start = MPI_Wtime();
  const FitParameters& which = options.which;
  CovarianceModel initial = model;
  if (which.nugget && initial.nugget == 0) initial.nugget = 1e-2 * initial.variance;
  if (which.angles && initial.angles.empty()) {
    throw_if_any(comm, true,
                 "fitting the angles needs a rotated model to start from (give its angles, 0 "
                 "included)");
  }
  const std::vector<double> x0 = coordinates_of(initial, which);
  throw_if_any(comm, x0.empty(), "no parameter to fit: choose at least one");
  std::vector<double> lower, upper;
  const double log_low = std::log(options.lower_factor), log_high = std::log(options.upper_factor);
  const std::vector<Role> parameter_roles = roles(initial, which);
  for (std::size_t j = 0; j < x0.size(); ++j) {
    if (parameter_roles[j] == Role::Angle) {
      lower.push_back(-two_pi);
      upper.push_back(two_pi);
    } else if (parameter_roles[j] == Role::Nugget) {
      const double v = std::log(initial.variance);
      lower.push_back(std::min(x0[j], v + std::log(options.nugget_lower_factor)));
      upper.push_back(std::max(x0[j], v + log_high));
    } else {
      lower.push_back(x0[j] + log_low);
      upper.push_back(x0[j] + log_high);
    }
  }

  HyperparameterFitResult result;
  double best = std::numeric_limits<double>::infinity();
  std::vector<double> best_x = x0;
  std::string last_failure;
  const auto objective = [&](const std::vector<double>& x, std::vector<double>& gradient) {
    const LikelihoodEstimate e = estimate_log_likelihood(
        comm, model_at(initial, which, x), points, values, kriging, which, options.likelihood);
    if (result.evaluations++ == 0) result.initial_log_likelihood = e.log_likelihood;
    if (!e.converged) {
      last_failure = e.detail;
      return std::numeric_limits<double>::infinity();
    }
    for (std::size_t j = 0; j < x.size(); ++j) gradient[j] = -e.gradient[j];
    if (-e.log_likelihood < best) {
      best = -e.log_likelihood;
      best_x = x;
      result.at_fit = e;
    }
    return -e.log_likelihood;
  };
  detail::BoundedLbfgsOptions lbfgs;
  lbfgs.max_iterations = options.max_iterations;
  lbfgs.ftol = options.ftol;
  const detail::BoundedLbfgsResult run =
      detail::minimise_bounded_lbfgs(objective, x0, lower, upper, lbfgs);
  result.model = model_at(initial, which, best_x);
  result.iterations = run.iterations;
  result.converged = run.converged && std::isfinite(best);
  result.reason = std::isfinite(best)
                      ? run.reason
                      : "CG did not converge at the starting parameters: " + last_failure;
  result.seconds = MPI_Wtime() - start;
  return result;
}

}  // namespace kinterp
