#include <kinterp/KernelGradient.hpp>
#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Communicator.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/EnumNames.hpp>
#include <kinterp/kernels/RadialKernels.hpp>
#include <kinterp/kriging/Kriging.hpp>
#include <kinterp/solve/detail/DenseCholesky.hpp>

#include <KokkosBlas1_dot.hpp>

#include "KrigingSystem.hpp"
#include "Reductions.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <sstream>

namespace kinterp {

namespace {

using execution_space = Kokkos::DefaultExecutionSpace;
using Matrix = Kriging::Matrix;
using ConstMatrix = Kriging::ConstMatrix;
using detail::column_dots;
using detail::cross_products;
using detail::RowBlocks;

Matrix uninitialised(const std::string& label, std::size_t rows, std::size_t cols) {
  return Matrix(Kokkos::view_alloc(Kokkos::WithoutInitializing, label), rows, cols);
}

/// out(i, j) = C(u_i, t_j): the covariance columns of a batch of targets.
void covariance_columns(const KernelSpec& spec, const ConstMatrix& u, const ConstMatrix& t,
                        const Matrix& out) {
  visit_kernel<double, true>(spec, [&](const auto phi) {
    const double variance = spec.variance;
    const int d = static_cast<int>(u.extent(1));
    Kokkos::parallel_for(
        "kinterp::kriging::covariance_columns",
        Kokkos::MDRangePolicy<execution_space, Kokkos::Rank<2>>(
            {0, 0},
            {static_cast<std::int64_t>(u.extent(0)), static_cast<std::int64_t>(t.extent(0))}),
        KOKKOS_LAMBDA(const std::int64_t i, const std::int64_t j) {
          double r2 = 0;
          for (int k = 0; k < d; ++k) {
            const double delta = u(i, k) - t(j, k);
            r2 += delta * delta;
          }
          out(i, j) = variance * phi(r2);
        });
  });
}

/// rows(i, :) -= sum_k columns(i, k) * coefficients[k]
void subtract_combination(const Matrix& rows, int column, const ConstMatrix& columns,
                          const std::vector<double>& coefficients) {
  Kokkos::View<double*, execution_space::memory_space> c("kinterp::kriging::coefficients",
                                                         coefficients.size());
  Kokkos::deep_copy(
      c, Kokkos::View<const double*, Kokkos::HostSpace>(coefficients.data(), coefficients.size()));
  const int q = static_cast<int>(coefficients.size());
  Kokkos::parallel_for(
      "kinterp::kriging::subtract_combination",
      Kokkos::RangePolicy<execution_space>(0, rows.extent(0)), KOKKOS_LAMBDA(const std::int64_t i) {
        double sum = 0;
        for (int k = 0; k < q; ++k) sum += columns(i, k) * c(k);
        rows(i, column) -= sum;
      });
}

constexpr detail::EnumName<KrigingKind> kriging_kind_names[] = {
    {KrigingKind::Simple, "simple"},
    {KrigingKind::Ordinary, "ordinary"},
    {KrigingKind::Universal, "universal"}};

}  // namespace

std::string to_string(KrigingKind kind) {
  return detail::name_in(kriging_kind_names, kind, "simple");
}

KrigingKind kriging_kind_from_name(const std::string& name) {
  return detail::value_named(kriging_kind_names, name, "kriging");
}

namespace detail {

KrigingSystem::KrigingSystem(MPI_Comm comm, const CovarianceModel& model,
                             const ConstKrigingMatrix& points, const ConstKrigingMatrix& values,
                             const KrigingOptions& options)
    : comm_(comm), model_(model), options_(options) {
  int d = static_cast<int>(points.extent(1));
  MPI_Allreduce(MPI_IN_PLACE, &d, 1, MPI_INT, MPI_MAX, comm);
  agree_on_errors(comm, [&] {
    model.check(d);
    check_values(points.extent(0), values);
    if (options.kind == KrigingKind::Universal && options.drift_degree < 0) {
      throw Error("the drift degree of universal kriging must be >= 0, got " +
                  std::to_string(options.drift_degree));
    }
    if (!(options.variance_batch > 0)) {
      throw Error("the variance batch must be a positive number of targets, got " +
                  std::to_string(options.variance_batch));
    }
    if (!(options.variance_tolerance >= 0) || !std::isfinite(options.variance_tolerance)) {
      throw Error("the variance tolerance must be a finite number >= 0, got " +
                  std::to_string(options.variance_tolerance));
    }
    if (options.kind == KrigingKind::Simple && !std::isfinite(options.mean)) {
      throw Error("the mean of simple kriging must be finite");
    }
  });
  spec_ = model.kernel();
  if (options.kind != KrigingKind::Simple) {
    drift_.emplace(comm, points, options.kind == KrigingKind::Ordinary ? 0 : options.drift_degree);
  }
  const RowBlocks blocks(comm, points.extent(0));
  global_rows_ = blocks.total();
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  first_row_ = blocks.offsets[rank];
  const int q = drift_terms();
  throw_if_any(comm, q > global_rows_,
               "the drift has " + std::to_string(q) + " terms but there are only " +
                   std::to_string(global_rows_) + " points: lower the drift degree");

  coordinates_ = model.transform(points);
  solver_.emplace(comm, spec_, coordinates_, options.product);
  const bool nystrom =
      options.preconditioner.rank > 0 || options.preconditioner.memory_budget_bytes > 0;
  throw_if_any(comm, nystrom && options.vecchia.neighbors > 0,
               "KrigingOptions asks for both the Nystrom (preconditioner) and the Vecchia "
               "(vecchia) preconditioner: choose one");
  const double ridge = model.nugget > 0
                           ? model.nugget
                           : std::sqrt(std::numeric_limits<double>::epsilon()) * model.variance;
  if (nystrom) preconditioner_.emplace(comm, spec_, coordinates_, ridge, options.preconditioner);
  if (options.vecchia.neighbors > 0)
    vecchia_.emplace(comm, spec_, coordinates_, ridge, options.vecchia);
  centred_values_ = uninitialised("kinterp::kriging::values", points.extent(0), 1);
  centre(values);
  if (q > 0) basis_ = drift_->evaluate(points);
}

void KrigingSystem::check_values(std::size_t points, const ConstKrigingMatrix& values) {
  if (values.extent(1) != 1 || values.extent(0) != points) {
    std::ostringstream problem;
    problem << "kriging takes one value per point: values of shape (" << points
            << ", 1) on this rank, got (" << values.extent(0) << ", " << values.extent(1) << ")";
    throw Error(problem.str());
  }
}

void KrigingSystem::set_values(const ConstKrigingMatrix& values) {
  agree_on_errors(comm_, [&] { check_values(centred_values_.extent(0), values); });
  centre(values);
}

void KrigingSystem::centre(const ConstKrigingMatrix& values) {
  const double mean = options_.kind == KrigingKind::Simple ? options_.mean : 0.0;
  const KrigingMatrix centred = centred_values_;
  Kokkos::parallel_for(
      "kinterp::kriging::centre_values", Kokkos::RangePolicy<execution_space>(0, centred.extent(0)),
      KOKKOS_LAMBDA(const std::int64_t i) { centred(i, 0) = values(i, 0) - mean; });
}

KernelSolveResult KrigingSystem::solve_columns(const ConstKrigingMatrix& b, const KrigingMatrix& x,
                                               const SolveOptions& options) const {
  if (preconditioner_) return solver_->solve(b, x, model_.nugget, options, *preconditioner_);
  if (vecchia_) return solver_->solve(b, x, model_.nugget, options, *vecchia_);
  return solver_->solve(b, x, model_.nugget, options);
}

GlsSolution KrigingSystem::solve(const ConstKrigingMatrix& extra,
                                 const LanczosCallback& lanczos) const {
  const int q = drift_terms(), s = static_cast<int>(extra.extent(1));
  const std::size_t rows = coordinates_.extent(0);
  const auto columns = [](int first, int count) { return std::make_pair(first, first + count); };
  const Matrix rhs = uninitialised("kinterp::kriging::rhs", rows, 1 + q + s);
  Kokkos::deep_copy(Kokkos::subview(rhs, Kokkos::ALL, columns(0, 1)), centred_values_);
  if (q > 0) Kokkos::deep_copy(Kokkos::subview(rhs, Kokkos::ALL, columns(1, q)), basis_);
  if (s > 0) Kokkos::deep_copy(Kokkos::subview(rhs, Kokkos::ALL, columns(1 + q, s)), extra);
  const Matrix solution("kinterp::kriging::solution", rows, 1 + q + s);
  GlsSolution out;
  SolveOptions options = options_.solve;
  if (lanczos) options.lanczos_coefficients = lanczos;
  out.solve = solve_columns(rhs, solution, options);
  if (s > 0) {
    out.extra = uninitialised("kinterp::kriging::extra", rows, s);
    Kokkos::deep_copy(out.extra, Kokkos::subview(solution, Kokkos::ALL, columns(1 + q, s)));
  }
  out.weights = uninitialised("kinterp::kriging::weights", rows, 1);
  Kokkos::deep_copy(out.weights, Kokkos::subview(solution, Kokkos::ALL, columns(0, 1)));
  if (q == 0) {
    out.beta = {options_.kind == KrigingKind::Simple ? options_.mean : 0.0};
    return out;
  }
  const auto solved = Kokkos::subview(solution, Kokkos::ALL, columns(0, 1 + q));
  const std::vector<double> cross = cross_products(comm_, basis_, solved);  // q x (1 + q)
  out.gram_factor.assign(q * q, 0.0);
  out.beta.resize(q);
  for (int k = 0; k < q; ++k) {
    out.beta[k] = cross[k * (1 + q)];
    for (int l = 0; l < q; ++l) {
      // Symmetrised: P^T K^-1 P is symmetric up to CG's tolerance.
      out.gram_factor[k * q + l] = 0.5 * (cross[k * (1 + q) + 1 + l] + cross[l * (1 + q) + 1 + k]);
    }
  }
  const int bad = cholesky_lower(out.gram_factor.data(), q, q);
  if (bad >= 0) {
    throw Error(
        "the drift is singular at these points (P^T K^-1 P is not positive definite at term " +
        std::to_string(bad) + " of " + std::to_string(q) +
        "): the points do not determine a polynomial of degree " +
        std::to_string(options_.kind == KrigingKind::Ordinary ? 0 : options_.drift_degree) +
        " (e.g. collinear points in 2D for a linear drift); lower the degree");
  }
  cholesky_solve(out.gram_factor.data(), q, q, out.beta.data(), 1);
  subtract_combination(out.weights, 0, Kokkos::subview(solution, Kokkos::ALL, columns(1, q)),
                       out.beta);
  return out;
}

}  // namespace detail

struct Kriging::State {
  detail::KrigingSystem system;
  detail::GlsSolution fit;
  State(MPI_Comm comm, const CovarianceModel& model, const ConstMatrix& points,
        const ConstMatrix& values, const KrigingOptions& options)
      : system(comm, model, points, values, options), fit(system.solve()) {}
};

Kriging::Kriging(MPI_Comm comm, const CovarianceModel& model, const ConstMatrix& points,
                 const ConstMatrix& values, const KrigingOptions& options)
    : state_(std::make_unique<State>(comm, model, points, values, options)) {}

void Kriging::refit(const ConstMatrix& values) {
  state_->system.set_values(values);
  state_->fit = state_->system.solve();
}

Kriging::~Kriging() = default;
Kriging::Kriging(Kriging&&) noexcept = default;

const KernelSolveResult& Kriging::fit_result() const {
  return state_->fit.solve;
}
const std::vector<double>& Kriging::drift_coefficients() const {
  return state_->fit.beta;
}
Kriging::Matrix Kriging::weights() const {
  return state_->fit.weights;
}

void Kriging::mean(const ConstMatrix& targets, const Matrix& out) const {
  const detail::KrigingSystem& system = state_->system;
  const detail::GlsSolution& fit = state_->fit;
  system.solver().kernel_sum()(system.model().transform(targets), fit.weights, out);
  if (!system.drift()) {
    const double mean = fit.beta[0];
    Kokkos::parallel_for(
        "kinterp::kriging::add_mean", Kokkos::RangePolicy<execution_space>(0, out.extent(0)),
        KOKKOS_LAMBDA(const std::int64_t i) { out(i, 0) += mean; });
    return;
  }
  const Matrix basis = system.drift()->evaluate(targets);
  std::vector<double> minus_beta(fit.beta);
  for (double& b : minus_beta) b = -b;
  subtract_combination(out, 0, basis, minus_beta);
}

void Kriging::mean_gradient(const ConstMatrix& targets, const Matrix& out) const {
  const detail::KrigingSystem& system = state_->system;
  const detail::GlsSolution& fit = state_->fit;
  const MPI_Comm c = system.comm();
  const int d = static_cast<int>(system.coordinates().extent(1));
  throw_if_any(c,
               targets.extent(1) != std::size_t(d) || out.extent(0) != targets.extent(0) ||
                   out.extent(1) != std::size_t(d),
               "the gradient's targets must have the points' " + std::to_string(d) +
                   " coordinates, and the output a row of " + std::to_string(d) + " per target");
  const Matrix along_u("kinterp::kriging::gradient_in_model_coordinates", targets.extent(0), d);
  kernel_gradient<double>(c, system.spec(), system.coordinates(), fit.weights,
                          system.model().transform(targets), along_u, system.options().product);
  // grad_t = A^T grad_u with A = S^-1 R^T, row-major in transform_matrix.
  const std::vector<double> a = system.model().transform_matrix(d);
  Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::HostSpace> a_host("kinterp::kriging::a", d,
                                                                        d);
  for (int k = 0; k < d * d; ++k) a_host.data()[k] = a[k];
  const auto transform =
      Kokkos::create_mirror_view_and_copy(execution_space::memory_space(), a_host);
  const Matrix drift = system.drift() ? system.drift()->gradient(targets, fit.beta) : Matrix();
  Kokkos::parallel_for(
      "kinterp::kriging::mean_gradient", Kokkos::RangePolicy<execution_space>(0, out.extent(0)),
      KOKKOS_LAMBDA(const std::int64_t i) {
        for (int l = 0; l < d; ++l) {
          double sum = drift.extent(0) ? drift(i, l) : 0.0;
          for (int k = 0; k < d; ++k) sum += transform(k, l) * along_u(i, k);
          out(i, l) = sum;
        }
      });
  Kokkos::fence();
}

KrigingVarianceInfo Kriging::variance(const ConstMatrix& targets, const Matrix& out,
                                      bool approximate) const {
  const detail::KrigingSystem& system = state_->system;
  const detail::GlsSolution& fit = state_->fit;
  const MPI_Comm c = system.comm();
  const auto* preconditioner = system.preconditioner();
  const double start = MPI_Wtime();
  throw_if_any(c, approximate && !preconditioner,
               "approximate variances come from the Nystrom preconditioner: build the model "
               "with one (KrigingOptions::preconditioner, --precond rpcholesky)");
  const int d = static_cast<int>(system.coordinates().extent(1));
  throw_if_any(
      c, targets.extent(1) != static_cast<std::size_t>(d) || out.extent(0) != targets.extent(0),
      "the targets must have the points' " + std::to_string(d) +
          " coordinates, and the output a row per target");
  const int q = system.drift_terms();
  // Each target's model coordinates and drift terms, one row of d + q.
  const std::size_t local = targets.extent(0);
  const Matrix rows = uninitialised("kinterp::kriging::target_rows", local, d + q);
  Kokkos::deep_copy(Kokkos::subview(rows, Kokkos::ALL, std::make_pair(0, d)),
                    system.model().transform(targets));
  if (q > 0) {
    Kokkos::deep_copy(Kokkos::subview(rows, Kokkos::ALL, std::make_pair(d, d + q)),
                      system.drift()->evaluate(targets));
  }
  const auto host_rows = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), rows);
  const auto host_out = Kokkos::create_mirror_view(out);
  const RowBlocks blocks(c, static_cast<std::int64_t>(local));
  int rank = 0;
  MPI_Comm_rank(c, &rank);
  const std::int64_t mine = blocks.offsets[rank];

  KrigingVarianceInfo info;
  const double ridge = preconditioner ? preconditioner->alpha() : 0.0;
  const double residual_trace = preconditioner ? preconditioner->info().residual_trace : 0.0;
  const std::int64_t batch_size = system.options().variance_batch;
  // CG's k^T x_j approaches k^T K^-1 k from below with error r^T K^-1 r <=
  // |r|^2 / nugget: stopping at |r| <= sqrt(tolerance * variance * nugget)
  // bounds the variance's error by tolerance * variance.
  SolveOptions solve = system.options().solve;
  const CovarianceModel& model = system.model();
  if (model.nugget > 0) {
    solve.atol = std::max(
        solve.atol, std::sqrt(system.options().variance_tolerance * model.variance * model.nugget));
  }
  const int width = d + q;
  for (std::int64_t first = 0; first < blocks.total(); first += batch_size) {
    const std::int64_t last = std::min(blocks.total(), first + batch_size);
    const int b = static_cast<int>(last - first);
    // Gather the batch's rows from the ranks that hold them.
    std::vector<int> counts(blocks.offsets.size() - 1), displacements(counts.size());
    for (std::size_t r = 0; r < counts.size(); ++r) {
      const std::int64_t lo = std::max(first, blocks.offsets[r]),
                         hi = std::min(last, blocks.offsets[r + 1]);
      counts[r] = static_cast<int>(std::max<std::int64_t>(0, hi - lo) * width);
      displacements[r] = static_cast<int>((std::max(lo, first) - first) * width);
    }
    const std::int64_t my_lo = std::max(first, mine);
    std::vector<double> batch(static_cast<std::size_t>(b) * width);
    MPI_Allgatherv(counts[rank] > 0 ? host_rows.data() + (my_lo - mine) * width : nullptr,
                   counts[rank], MPI_DOUBLE, batch.data(), counts.data(), displacements.data(),
                   MPI_DOUBLE, c);
    Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::HostSpace> batch_host("kinterp::batch", b,
                                                                              d);
    for (int j = 0; j < b; ++j) {
      for (int k = 0; k < d; ++k) batch_host(j, k) = batch[j * width + k];
    }
    const auto batch_targets =
        Kokkos::create_mirror_view_and_copy(execution_space::memory_space(), batch_host);

    const Matrix columns =
        uninitialised("kinterp::kriging::covariance", system.coordinates().extent(0), b);
    covariance_columns(system.spec(), system.coordinates(), batch_targets, columns);
    const Matrix solved("kinterp::kriging::solved", system.coordinates().extent(0), b);
    if (approximate) {
      preconditioner->apply(columns, solved);
    } else {
      const KernelSolveResult result = system.solve_columns(columns, solved, solve);
      info.max_iterations = std::max(info.max_iterations, result.iterations);
      info.worst_residual = std::max(info.worst_residual, result.relative_residual());
      if (!result.converged() && info.converged) {
        info.converged = false;
        info.detail = "targets " + std::to_string(first) + " to " + std::to_string(last - 1) +
                      ": " + to_string(result.reason) + ", " + result.detail;
      }
    }
    std::vector<double> explained = column_dots(c, columns, solved);
    if (!approximate) {
      // k^T K^-1 k = 2 k^T x - x^T A x + r^T A^-1 r for any x (A = K + nugget I,
      // r = k - A x): the first two terms from below, the gap at most
      // |r|^2 / nugget, however CG's rounding went.
      const Matrix product("kinterp::kriging::product", columns.extent(0), b);
      system.solver().kernel_sum()(system.coordinates(), solved, product);
      const double nugget = model.nugget;
      Kokkos::parallel_for(
          "kinterp::kriging::residual",
          Kokkos::MDRangePolicy<execution_space, Kokkos::Rank<2>>(
              {0, 0}, {static_cast<std::int64_t>(columns.extent(0)), std::int64_t(b)}),
          KOKKOS_LAMBDA(const std::int64_t i, const std::int64_t j) {
            product(i, j) += nugget * solved(i, j);  // A x
            columns(i, j) -= product(i, j);          // r = k - A x (k is not needed again)
          });
      const std::vector<double> curvature = column_dots(c, solved, product);
      const std::vector<double> residual = column_dots(c, columns, columns);
      for (int j = 0; j < b; ++j) {
        explained[j] = 2 * explained[j] - curvature[j];
        if (nugget > 0) info.error_bound = std::max(info.error_bound, residual[j] / nugget);
      }
    }
    std::vector<double> drift_part;
    if (q > 0) drift_part = cross_products(c, system.basis(), solved);  // P^T K^-1 k_t, q x b
    std::vector<double> norms;
    if (approximate) norms = column_dots(c, columns, columns);
    for (int j = 0; j < b; ++j) {
      double variance = system.model().variance - explained[j];
      if (q > 0) {
        std::vector<double> u(q);
        for (int k = 0; k < q; ++k) u[k] = batch[j * width + d + k] - drift_part[k * b + j];
        std::vector<double> g(u);
        detail::cholesky_solve(fit.gram_factor.data(), q, q, g.data(), 1);
        for (int k = 0; k < q; ++k) variance += u[k] * g[k];
      }
      if (approximate) {
        const double e = residual_trace;
        info.error_bound = std::max(info.error_bound, norms[j] * e / (ridge * (ridge + e)));
      }
      const std::int64_t global = first + j;
      if (global >= mine && global < mine + static_cast<std::int64_t>(local)) {
        if (variance < 0) {
          ++info.clamped;
          variance = 0;
        }
        host_out(global - mine, 0) = variance;
      }
    }
    ++info.batches;
  }
  Kokkos::deep_copy(out, host_out);
  MPI_Allreduce(MPI_IN_PLACE, &info.clamped, 1, MPI_INT64_T, MPI_SUM, c);
  info.seconds = MPI_Wtime() - start;
  return info;
}

}  // namespace kinterp
