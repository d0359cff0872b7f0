#include <kinterp/KernelSolve.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/kernels/RadialKernels.hpp>
#include <kinterp/solve/Checkpoint.hpp>
#include <kinterp/solve/ConjugateGradient.hpp>

#include <KokkosBlas1_axpby.hpp>

#include "Validation.hpp"

#include <cmath>
#include <limits>
#include <optional>
#include <sstream>
#include <type_traits>

namespace kinterp {

namespace {

using execution_space = Kokkos::DefaultExecutionSpace;

/// Kernel products and their time, over a solve.
struct ProductCounter {
  RingTimings timings;
  int products = 0;
  int float_products = 0;

  void add(const RingTimings& t, bool in_float) {
    timings.total += t.total;
    timings.compute += t.compute;
    timings.wait += t.wait;
    ++products;
    if (in_float) ++float_products;
  }
};

/// y = K_xx x in T (the kernel's variance included).
template <class T>
RingTimings kernel_product(const RingKernelProduct<T>& product, const KernelSpec& spec,
                           const typename KernelSum<T>::ConstMatrix& x,
                           const typename KernelSum<T>::Matrix& y) {
  return visit_kernel<T>(spec, [&](const auto& kernel) {
    return product.apply(execution_space(), kernel, static_cast<T>(spec.variance),
                         product.sources(), x, y);
  });
}

/// y = (alpha I + K_xx) x, the operator CG sees.
template <class T>
struct RegularizedKernelOperator {
  using execution_space = kinterp::execution_space;
  using Matrix = typename KernelSolve<T>::Matrix;
  using ConstMatrix = typename KernelSolve<T>::ConstMatrix;

  const RingKernelProduct<T>& product;
  KernelSpec spec;
  T alpha;
  ProductCounter& counter;

  MPI_Comm comm() const { return product.communicator().get(); }

  void apply(const ConstMatrix& x, const Matrix& y) const {
    counter.add(kernel_product(product, spec, x, y), false);
    if (alpha != 0) KokkosBlas::axpy(alpha, x, y);
  }
};

using DoubleMatrix = KernelSolve<double>::Matrix;
using DoubleConstMatrix = KernelSolve<double>::ConstMatrix;
using FloatMatrix = KernelSolve<float>::Matrix;
using FloatConstMatrix = KernelSolve<float>::ConstMatrix;

/// to = from, rounded to float.
struct RoundToFloat {
  FloatMatrix to;
  DoubleConstMatrix from;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i) const {
    for (std::size_t c = 0; c < to.extent(1); ++c) to(i, c) = static_cast<float>(from(i, c));
  }
};

/// y = Kx (float) + alpha x, in double.
struct AddRidge {
  DoubleMatrix y;
  FloatConstMatrix kx;
  DoubleConstMatrix x;
  double alpha;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i) const {
    for (std::size_t c = 0; c < y.extent(1); ++c) {
      y(i, c) = static_cast<double>(kx(i, c)) + alpha * x(i, c);
    }
  }
};

/// (alpha I + K_xx) with CG's products in float and its recomputed residual in
/// double (apply_accurately): the restarts of CG become iterative refinement.
struct MixedPrecisionOperator {
  using execution_space = kinterp::execution_space;
  using Matrix = DoubleMatrix;
  using ConstMatrix = DoubleConstMatrix;

  const RingKernelProduct<float>& product32;
  const RingKernelProduct<double>& product64;
  KernelSpec spec;
  double alpha;
  FloatMatrix x32, y32;  ///< n_r x m scratch
  ProductCounter& counter;

  MPI_Comm comm() const { return product64.communicator().get(); }

  void apply(const ConstMatrix& x, const Matrix& y) const {
    const Kokkos::RangePolicy<execution_space> rows(0, x.extent(0));
    Kokkos::parallel_for("kinterp::KernelSolve::round_to_float", rows, RoundToFloat{x32, x});
    counter.add(kernel_product(product32, spec, x32, y32), true);
    Kokkos::parallel_for("kinterp::KernelSolve::add_ridge", rows, AddRidge{y, y32, x, alpha});
  }

  void apply_accurately(const ConstMatrix& x, const Matrix& y) const {
    counter.add(kernel_product(product64, spec, x, y), false);
    if (alpha != 0) KokkosBlas::axpy(alpha, x, y);
  }
};

/// A preconditioner that times its applications.
template <class Preconditioner>
struct TimedPreconditioner {
  const Preconditioner& preconditioner;
  double& seconds;

  template <class ConstMatrix, class Matrix>
  void apply(const ConstMatrix& r, const Matrix& z) const {
    const double start = MPI_Wtime();
    preconditioner.apply(r, z);
    seconds += MPI_Wtime() - start;
  }
};

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
  h = fold(h, std::uint64_t(how.mixed_precision));
  h = fold(h, std::uint64_t(how.preconditioned()));
  if (how.preconditioned()) {
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

/// What to try when CG stops without converging.
std::string hint(double alpha, double variance, StopReason reason) {
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

}  // namespace

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
KernelSolve<T>::KernelSolve(MPI_Comm comm, const KernelSpec& kernel, const ConstMatrix& points)
    : sum_(comm, kernel, points) {}

template <class T>
KernelSolveResult KernelSolve<T>::solve(const ConstMatrix& b, const Matrix& a, double alpha,
                                        const SolveOptions& options,
                                        const KernelSolveOptions& how) const {
  const detail::ScopedRegion region("kinterp::KernelSolve");
  const auto& product = sum_.product();
  const MPI_Comm comm = product.communicator().get();
  check_solve_parameters(alpha, options);  // the same on every rank
  if (how.mixed_precision && !std::is_same_v<T, double>) {
    throw Error(
        "mixed precision (float kernel products, double vectors) is a KernelSolve<double> "
        "option; KernelSolve<float> computes in float throughout");
  }

  std::ostringstream problem;
  if (static_cast<std::int64_t>(b.extent(0)) != product.local_count()) {
    problem << "b has " << b.extent(0) << " rows on a rank that holds " << product.local_count()
            << " points: pass the right-hand side's rows that match this rank's points";
  } else if (b.extent(1) == 0) {
    problem << "b has no columns";
  } else if (a.extent(0) != b.extent(0) || a.extent(1) != b.extent(1)) {
    problem << "the solution is " << a.extent(0) << " x " << a.extent(1) << " but b is "
            << b.extent(0) << " x " << b.extent(1) << ": they must have the same shape";
  }
  throw_if_any(comm, !problem.str().empty(), problem.str());
  int columns[2] = {static_cast<int>(b.extent(1)), -static_cast<int>(b.extent(1))};
  MPI_Allreduce(MPI_IN_PLACE, columns, 2, MPI_INT, MPI_MAX, comm);
  if (columns[0] != -columns[1]) {
    throw Error("b has between " + std::to_string(-columns[1]) + " and " +
                std::to_string(columns[0]) +
                " columns on different ranks; it must have the same "
                "number everywhere");
  }
  detail::require_finite(comm, b, "right-hand side values");
  if (options.use_initial_guess) detail::require_finite(comm, a, "initial guess");

  const KernelSpec& spec = sum_.kernel();
  SolveOptions cg = options;
  if (cg.checkpoint.writes() || cg.checkpoint.restarts()) {
    cg.checkpoint.problem_fingerprint = problem_fingerprint(
        comm, product.sources(), spec, alpha, how, options.checkpoint.problem_fingerprint);
  }
  if (how.mixed_precision) cg.max_restarts = std::max(cg.max_restarts, 10);

  KernelSolveResult result;
  ProductCounter counter;
  std::optional<NystromPreconditioner<T>> preconditioner;
  if (how.preconditioned()) {
    // The preconditioner inverts F F^T + alpha I: at alpha = 0 it takes a ridge
    // just above the rounding level instead.
    const double ridge =
        alpha > 0 ? alpha : std::sqrt(std::numeric_limits<T>::epsilon()) * spec.variance;
    preconditioner.emplace(comm, spec, product.sources(), ridge, how.preconditioner);
    result.preconditioned = true;
    result.preconditioner = preconditioner->info();
  }
  const auto run = [&](const auto& op) {
    if (preconditioner) {
      const TimedPreconditioner<NystromPreconditioner<T>> timed{*preconditioner,
                                                                result.preconditioner_seconds};
      static_cast<SolveResult&>(result) = conjugate_gradient(op, timed, b, a, cg);
    } else {
      static_cast<SolveResult&>(result) = conjugate_gradient(op, b, a, cg);
    }
  };
  if constexpr (std::is_same_v<T, double>) {
    if (how.mixed_precision) {
      // Float copies of the points and a ring over them, for this solve.
      const auto& points = product.sources();
      FloatMatrix points32(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::points32"),
                           points.extent(0), points.extent(1));
      Kokkos::parallel_for("kinterp::KernelSolve::points_to_float",
                           Kokkos::RangePolicy<execution_space>(0, points.extent(0)),
                           RoundToFloat{points32, points});
      const RingKernelProduct<float> product32(Communicator(comm), points32);
      const std::size_t rows = b.extent(0), m = b.extent(1);
      const MixedPrecisionOperator op{product32,
                                      product,
                                      spec,
                                      alpha,
                                      FloatMatrix("kinterp::KernelSolve::x32", rows, m),
                                      FloatMatrix("kinterp::KernelSolve::y32", rows, m),
                                      counter};
      run(op);
      result.mixed_precision = true;
    }
  }
  if (!result.mixed_precision) {
    run(RegularizedKernelOperator<T>{product, spec, static_cast<T>(alpha), counter});
  }
  result.alpha = alpha;
  result.products = counter.products;
  result.float_products = counter.float_products;
  result.product = counter.timings;
  if (!result.converged()) result.detail += hint(alpha, spec.variance, result.reason);
  return result;
}

template class KernelSolve<float>;
template class KernelSolve<double>;

}  // namespace kinterp
