#include <kinterp/KernelSolve.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/dist/ProductChoice.hpp>
#include <kinterp/solve/Checkpoint.hpp>
#include <kinterp/solve/ConjugateGradient.hpp>

#include "SolveOperators.hpp"
#include "Validation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <sstream>
#include <type_traits>
#include <vector>

namespace kinterp {

namespace {

using execution_space = Kokkos::DefaultExecutionSpace;

/// Identifies the operator and preconditioner of a solve for its checkpoints
/// (b is fingerprinted by CG). Collective.
template <class ConstMatrix>
std::uint64_t problem_fingerprint(MPI_Comm comm, const ConstMatrix& points, const KernelSpec& spec,
                                  double alpha, const KernelSolveOptions& how,
                                  std::uint64_t callers) {
  using detail::fold;
  std::uint64_t h = fingerprint_rows(comm, points);
  h = fold(h, static_cast<std::uint64_t>(spec.family));
  h = fold(fold(fold(h, spec.g), spec.variance), alpha);
  // Only where used, so that checkpoints of the shape-less families stay valid.
  if (spec.shape != 0) h = fold(h, spec.shape);
  h = fold(h, std::uint64_t(how.mixed_precision));
  h = fold(h, std::uint64_t(how.preconditioned()));
  if (how.vecchia.neighbors > 0) h = fold(h, static_cast<std::uint64_t>(how.vecchia.neighbors));
  if (how.nystrom()) {
    const NystromOptions& p = how.preconditioner;
    h = fold(h, static_cast<std::uint64_t>(p.pivots));
    h = fold(h, static_cast<std::uint64_t>(p.rank));
    h = fold(h, static_cast<std::uint64_t>(p.memory_budget_bytes));
    h = fold(h, p.seed);
    h = fold(h, static_cast<std::uint64_t>(p.block_size));
    h = fold(h, p.tolerance);
  }
  return fold(h, callers);
}

/// eps || |K| |a| || / ||b|| (the worst column): how far the residual that
/// products within eps give can be from the exact one. Collective.
template <class T, class Matrix>
double product_residual_bound(const KernelProduct<T>& product, const Matrix& a,
                              const std::vector<double>& rhs_norms) {
  const std::size_t rows = a.extent(0), m = a.extent(1);
  LocalMatrix<T> magnitude(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::abs_a"), rows,
                           m);
  LocalMatrix<T> image(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::K_abs_a"), rows,
                       m);
  Kokkos::parallel_for(
      "kinterp::KernelSolve::abs", Kokkos::RangePolicy<execution_space>(0, rows),
      KOKKOS_LAMBDA(const std::size_t i) {
        for (std::size_t c = 0; c < m; ++c) magnitude(i, c) = a(i, c) < 0 ? -a(i, c) : a(i, c);
      });
  product.apply_at_sources(execution_space(), magnitude, image);
  const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), image);
  std::vector<double> squares(m, 0.0);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t c = 0; c < m; ++c) squares[c] += double(host(i, c)) * double(host(i, c));
  MPI_Allreduce(MPI_IN_PLACE, squares.data(), static_cast<int>(m), MPI_DOUBLE, MPI_SUM,
                product.communicator().get());
  double worst = 0;
  for (std::size_t c = 0; c < m; ++c) {
    const double norm = c < rhs_norms.size() && rhs_norms[c] > 0 ? rhs_norms[c] : 1;
    worst = std::max(worst, product.tolerance() * std::sqrt(squares[c]) / norm);
  }
  return worst;
}

}  // namespace

std::string detail::not_converged_hint(double alpha, double variance, StopReason reason) {
  if (alpha == 0) {
    return ". With alpha = 0, K_xx is singular when points repeat and ill-conditioned when they "
           "nearly do: use alpha > 0 (a small ridge such as 1e-6) or remove duplicate points";
  }
  if (alpha < 1e-6 * variance) {
    std::ostringstream text;
    text << ". alpha = " << alpha;
    return text.str() +
           " is tiny next to the kernel's scale, which makes (alpha I + K_xx) nearly singular: "
           "a larger alpha (e.g. 1e-6 or more) converges faster and more reliably";
  }
  if (reason == StopReason::DivergedMaxIterations) {
    return ". Allow more iterations, loosen rtol, or increase alpha (better conditioned)";
  }
  return "";
}

void check_solve_parameters(double alpha, const SolveOptions& options) {
  std::ostringstream problem;
  const CheckpointOptions& checkpoint = options.checkpoint;
  if (!(alpha >= 0) || !std::isfinite(alpha)) {
    problem << "alpha must be a finite number >= 0 (the ridge added to the diagonal), got "
            << alpha;
  } else if (!(options.rtol >= 0) || !(options.atol >= 0)) {
    problem << "rtol and atol must be >= 0, got rtol = " << options.rtol
            << ", atol = " << options.atol;
  } else if (options.rtol == 0 && options.atol == 0) {
    problem << "rtol and atol are both 0, so the solve could only stop at max_iterations: "
               "give rtol > 0 (e.g. 1e-6) or atol > 0";
  } else if (options.max_iterations < 0) {
    problem << "max_iterations must be >= 0, got " << options.max_iterations;
  } else if (!(options.dtol > 1)) {
    problem << "dtol must be > 1, got " << options.dtol;
  } else if (options.stagnation_window < 0) {
    problem << "stagnation_window must be >= 0 (0: no stagnation check), got "
            << options.stagnation_window;
  } else if (!(options.stagnation_factor > 0 && options.stagnation_factor < 1)) {
    problem << "stagnation_factor must be between 0 and 1 (the reduction a window must "
               "achieve), got "
            << options.stagnation_factor;
  } else if (options.max_restarts < 0) {
    problem << "max_restarts must be >= 0, got " << options.max_restarts;
  } else if (!(options.residual_replacement >= 0 && options.residual_replacement < 1)) {
    problem << "residual_replacement must be in [0, 1) (0: no reliable updates), got "
            << options.residual_replacement;
  } else if (checkpoint.writes() && checkpoint.every <= 0) {
    problem << "checkpoints every " << checkpoint.every
            << " iterations: give a positive number of iterations between checkpoints";
  }
  if (!problem.str().empty()) throw Error(problem.str());
}

template <class T>
KernelSolve<T>::KernelSolve(MPI_Comm comm, const KernelSpec& kernel, const ConstMatrix& points,
                            const ProductOptions& product)
    : sum_(comm, kernel, points, product), product_options_(product) {}

template <class T>
KernelSolveResult KernelSolve<T>::solve(const ConstMatrix& b, const Matrix& a, double alpha,
                                        const SolveOptions& options,
                                        const KernelSolveOptions& how) const {
  return solve_with(b, a, alpha, options, how, {});
}

template <class T>
KernelSolveResult KernelSolve<T>::solve(const ConstMatrix& b, const Matrix& a, double alpha,
                                        const SolveOptions& options,
                                        const NystromPreconditioner<T>& preconditioner) const {
  KernelSolveOptions how;
  how.preconditioner.rank = preconditioner.info().rank;
  return solve_with(b, a, alpha, options, how, {&preconditioner, nullptr});
}

template <class T>
KernelSolveResult KernelSolve<T>::solve(const ConstMatrix& b, const Matrix& a, double alpha,
                                        const SolveOptions& options,
                                        const VecchiaPreconditioner<T>& preconditioner) const {
  KernelSolveOptions how;
  how.vecchia.neighbors = preconditioner.info().neighbors;
  return solve_with(b, a, alpha, options, how, {nullptr, &preconditioner});
}

template <class T>
KernelSolveResult KernelSolve<T>::solve_with(const ConstMatrix& b, const Matrix& a, double alpha,
                                             const SolveOptions& options,
                                             const KernelSolveOptions& how,
                                             Prebuilt prebuilt) const {
  const detail::ScopedRegion region("kinterp::KernelSolve");
  const auto& product = sum_.product();
  const MPI_Comm comm = product.communicator().get();
  check_solve_parameters(alpha, options);  // the same on every rank
  if (how.nystrom() && how.vecchia.neighbors > 0) {
    throw Error(
        "KernelSolveOptions asks for both the Nystrom (preconditioner) and the Vecchia "
        "(vecchia) preconditioner: choose one");
  }
  if (how.mixed_precision && !std::is_same_v<T, double>) {
    throw Error(
        "mixed precision (float kernel products, double vectors) is a KernelSolve<double> "
        "option; KernelSolve<float> computes in float throughout");
  }

  detail::require_solve_shapes(comm, product.local_count(), b, a, options);

  const KernelSpec& spec = sum_.kernel();
  SolveOptions cg = options;
  if (cg.checkpoint.writes() || cg.checkpoint.restarts()) {
    // A tree product's tolerance changes the operator; direct ones fold
    // nothing, so that their checkpoints stay valid.
    std::uint64_t callers = options.checkpoint.problem_fingerprint;
    if (product.tolerance() > 0) callers = detail::fold(callers, product.tolerance());
    cg.checkpoint.problem_fingerprint =
        problem_fingerprint(comm, product.sources(), spec, alpha, how, callers);
  }
  if (how.mixed_precision) cg.max_restarts = std::max(cg.max_restarts, 10);

  KernelSolveResult result;
  detail::ProductCounter counter;
  // The preconditioners invert alpha I + their approximation of K: at alpha
  // = 0 they take a ridge just above the rounding level instead.
  const double ridge =
      alpha > 0 ? alpha : std::sqrt(std::numeric_limits<T>::epsilon()) * spec.variance;
  std::optional<NystromPreconditioner<T>> nystrom;
  std::optional<VecchiaPreconditioner<T>> vecchia;
  if (how.nystrom() && !prebuilt.nystrom) {
    nystrom.emplace(comm, spec, product.sources(), ridge, how.preconditioner);
    prebuilt.nystrom = &*nystrom;
  }
  if (how.vecchia.neighbors > 0 && !prebuilt.vecchia) {
    vecchia.emplace(comm, spec, product.sources(), ridge, how.vecchia);
    prebuilt.vecchia = &*vecchia;
  }
  if (prebuilt.nystrom) result.preconditioner = prebuilt.nystrom->info();
  if (prebuilt.vecchia) result.vecchia = prebuilt.vecchia->info();
  result.preconditioned = prebuilt.nystrom || prebuilt.vecchia;
  const auto run_with = [&](const auto& op, const auto& preconditioner) {
    using Preconditioner = std::decay_t<decltype(preconditioner)>;
    const detail::TimedPreconditioner<Preconditioner> timed{preconditioner,
                                                            result.preconditioner_seconds};
    static_cast<SolveResult&>(result) = conjugate_gradient(op, timed, b, a, cg);
  };
  const auto run = [&](const auto& op) {
    if (prebuilt.nystrom) {
      run_with(op, *prebuilt.nystrom);
    } else if (prebuilt.vecchia) {
      run_with(op, *prebuilt.vecchia);
    } else {
      static_cast<SolveResult&>(result) = conjugate_gradient(op, b, a, cg);
    }
  };
  if constexpr (std::is_same_v<T, double>) {
    if (how.mixed_precision) {
      // Float copies of the points and a ring over them, for this solve.
      const auto& points = product.sources();
      detail::FloatMatrix points32(
          Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::points32"), points.extent(0),
          points.extent(1));
      Kokkos::parallel_for("kinterp::KernelSolve::points_to_float",
                           Kokkos::RangePolicy<execution_space>(0, points.extent(0)),
                           detail::RoundToFloat{points32, points});
      ProductOptions options32 = product_options_;
      options32.tree.tolerance =
          std::max(options32.tree.tolerance, FarFieldRule::smallest_tolerance<float>());
      const auto product32 = make_kernel_product<float>(comm, spec, points32, options32);
      const std::size_t rows = b.extent(0), m = b.extent(1);
      const detail::MixedPrecisionOperator op{
          *product32,
          product,
          alpha,
          detail::FloatMatrix("kinterp::KernelSolve::x32", rows, m),
          detail::FloatMatrix("kinterp::KernelSolve::y32", rows, m),
          counter};
      run(op);
      result.mixed_precision = true;
    }
  }
  if (!result.mixed_precision) {
    run(detail::RegularizedOperator<T>{product, static_cast<T>(alpha), counter});
  }
  result.alpha = alpha;
  result.product_engine = product.description();
  result.product_tolerance = product.tolerance();
  if (result.product_tolerance > 0) {
    result.product_residual_bound = product_residual_bound(product, a, result.rhs_norms);
    ++counter.products;
  }
  result.products = counter.products;
  result.float_products = counter.float_products;
  result.product = counter.timings;
  if (!result.converged()) {
    result.detail += detail::not_converged_hint(alpha, spec.variance, result.reason);
  }
  return result;
}

template class KernelSolve<float>;
template class KernelSolve<double>;

}  // namespace kinterp
