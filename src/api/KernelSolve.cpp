#include <kinterp/FormulaSolve.hpp>
#include <kinterp/KernelSolve.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/solve/Checkpoint.hpp>
#include <kinterp/solve/ConjugateGradient.hpp>

#include <KokkosBlas1_axpby.hpp>
#include <KokkosBlas1_dot.hpp>

#include "SourceRows.hpp"
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
    counter.add(kernel_product(product, spec, product.sources(), x, y), false);
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
    counter.add(kernel_product(product32, spec, product32.sources(), x32, y32), true);
    Kokkos::parallel_for("kinterp::KernelSolve::add_ridge", rows, AddRidge{y, y32, x, alpha});
  }

  void apply_accurately(const ConstMatrix& x, const Matrix& y) const {
    counter.add(kernel_product(product64, spec, product64.sources(), x, y), false);
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
  // Only where used, so that checkpoints of the shape-less families stay valid.
  if (spec.shape != 0) h = fold(h, spec.shape);
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
  return solve_with(b, a, alpha, options, how, nullptr);
}

template <class T>
KernelSolveResult KernelSolve<T>::solve(const ConstMatrix& b, const Matrix& a, double alpha,
                                        const SolveOptions& options,
                                        const NystromPreconditioner<T>& preconditioner) const {
  KernelSolveOptions how;
  how.preconditioner.rank = preconditioner.info().rank;
  return solve_with(b, a, alpha, options, how, &preconditioner);
}

template <class T>
KernelSolveResult KernelSolve<T>::solve_with(const ConstMatrix& b, const Matrix& a, double alpha,
                                             const SolveOptions& options,
                                             const KernelSolveOptions& how,
                                             const NystromPreconditioner<T>* prebuilt) const {
  const detail::ScopedRegion region("kinterp::KernelSolve");
  const auto& product = sum_.product();
  const MPI_Comm comm = product.communicator().get();
  check_solve_parameters(alpha, options);  // the same on every rank
  if (how.mixed_precision && !std::is_same_v<T, double>) {
    throw Error(
        "mixed precision (float kernel products, double vectors) is a KernelSolve<double> "
        "option; KernelSolve<float> computes in float throughout");
  }

  detail::require_solve_shapes(comm, product.local_count(), b, a, options);

  const KernelSpec& spec = sum_.kernel();
  SolveOptions cg = options;
  if (cg.checkpoint.writes() || cg.checkpoint.restarts()) {
    cg.checkpoint.problem_fingerprint = problem_fingerprint(
        comm, product.sources(), spec, alpha, how, options.checkpoint.problem_fingerprint);
  }
  if (how.mixed_precision) cg.max_restarts = std::max(cg.max_restarts, 10);

  KernelSolveResult result;
  ProductCounter counter;
  std::optional<NystromPreconditioner<T>> built;
  if (how.preconditioned() && !prebuilt) {
    // The preconditioner inverts F F^T + alpha I: at alpha = 0 it takes a ridge
    // just above the rounding level instead.
    const double ridge =
        alpha > 0 ? alpha : std::sqrt(std::numeric_limits<T>::epsilon()) * spec.variance;
    built.emplace(comm, spec, product.sources(), ridge, how.preconditioner);
  }
  const NystromPreconditioner<T>* preconditioner =
      prebuilt ? prebuilt : (built ? &*built : nullptr);
  if (preconditioner) {
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

// ---------------------------------------------------------------------------
// FormulaSolve: the same CG over the generic evaluator

namespace {

/// y = (alpha I + K) x with K from the formula. The unknown's m components
/// may be coupled (a vector-valued kernel), so CG sees one column of n_r * m
/// rows, not m independent columns.
template <class T>
struct RegularizedFormulaOperator {
  using execution_space = kinterp::execution_space;
  using Matrix = typename FormulaSolve<T>::Matrix;
  using ConstMatrix = typename FormulaSolve<T>::ConstMatrix;

  const FormulaSolve<T>& solver;
  MPI_Comm communicator;
  std::int64_t rows;
  int m;
  T alpha;
  ProductCounter& counter;

  MPI_Comm comm() const { return communicator; }

  void apply(const ConstMatrix& x, const Matrix& y) const {
    counter.add(solver.apply(ConstMatrix(x.data(), rows, m), Matrix(y.data(), rows, m)), false);
    if (alpha != 0) KokkosBlas::axpy(alpha, x, y);
  }
};

/// The Program of F(X, Y, A), after checking the shape FormulaSolve needs.
Program solve_program(const Formula& formula,
                      const std::map<std::string, std::vector<double>>& parameters,
                      const std::string& unknown, int point_dimension) {
  const Variable* a_variable = formula.find(unknown);
  if (a_variable && a_variable->category != Variable::Category::J) {
    throw FormulaError("the unknown " + unknown + " must be a j-variable (Vj): KernelSolve " +
                       "solves for the weights summed over j (KeOps' axis = 1)");
  }
  formula.require_linear_in(unknown);  // also: the unknown is a variable of the formula
  const Variable& a = *a_variable;
  Program program = formula.compile(parameters, 1);
  const std::string shape = "; FormulaSolve takes F(X, Y, " + unknown + ") with X = Vi(" +
                            std::to_string(point_dimension) + ") and Y = Vj(" +
                            std::to_string(point_dimension) + "), both the points, and " + unknown +
                            " = Vj(m)";
  if (program.targets.size() != 1 || program.targets[0].dimension != point_dimension) {
    throw FormulaError("the formula has " + std::to_string(program.targets.size()) +
                       " i-variable(s)" +
                       (program.targets.size() == 1
                            ? " of dimension " + std::to_string(program.targets[0].dimension)
                            : std::string()) +
                       shape);
  }
  if (program.sources.size() != 2) {
    throw FormulaError("the formula has " + std::to_string(program.sources.size()) +
                       " j-variable(s)" + shape);
  }
  for (const auto& source : program.sources) {
    if (source.name != a.name && source.dimension != point_dimension) {
      throw FormulaError("the j-variable " + source.name + " has dimension " +
                         std::to_string(source.dimension) + " but the points have " +
                         std::to_string(point_dimension) + shape);
    }
  }
  if (program.dimension != a.dimension) {
    throw FormulaError("the formula has dimension " + std::to_string(program.dimension) +
                       " but the unknown " + unknown + " has " + std::to_string(a.dimension) +
                       ": (alpha I + K) " + unknown + " = b needs them equal");
  }
  return program;
}

std::uint64_t formula_fingerprint(const Formula& formula,
                                  const std::map<std::string, std::vector<double>>& parameters,
                                  const std::string& unknown) {
  std::uint64_t h = detail::fold(detail::fold(0, formula.text()), unknown);
  for (const auto& variable : formula.variables()) {
    h = detail::fold(detail::fold(h, variable.name), std::uint64_t(variable.category));
    h = detail::fold(detail::fold(h, std::uint64_t(variable.index)),
                     std::uint64_t(variable.dimension));
  }
  for (const auto& [name, values] : parameters) {
    h = detail::fold(h, name);
    for (double value : values) h = detail::fold(h, value);
  }
  return h;
}

/// A reproducible value in [-1, 1) for (seed, global index), on any rank count.
double probe_value(std::uint64_t seed, std::uint64_t index) {
  return static_cast<double>(detail::mix64(detail::fold(seed, index)) >> 11) * 0x1p-52 - 1;
}

}  // namespace

template <class T>
FormulaSolve<T>::FormulaSolve(MPI_Comm comm, const Formula& formula,
                              const std::map<std::string, std::vector<double>>& parameters,
                              const std::string& unknown, const ConstMatrix& points)
    : program_(solve_program(formula, parameters, unknown, static_cast<int>(points.extent(1)))),
      unknown_(unknown),
      fingerprint_(formula_fingerprint(formula, parameters, unknown)),
      device_program_(program_),
      comm_(comm),
      points_(points),
      sources_("kinterp::FormulaSolve::sources", points.extent(0), program_.source_width),
      ring_(comm_, sources_),
      out_("kinterp::FormulaSolve::out", points.extent(0), program_.dimension) {
  detail::require_finite(comm_.get(), points, "points");
  // Conjugate gradient needs a symmetric operator: measure u.Kv against v.Ku.
  const std::int64_t n = points.extent(0);
  const int m = columns();
  const RowBlock block = detail::global_block(comm_.get(), n);
  Matrix u("kinterp::FormulaSolve::u", n, m), v("kinterp::FormulaSolve::v", n, m);
  Matrix ku("kinterp::FormulaSolve::Ku", n, m), kv("kinterp::FormulaSolve::Kv", n, m);
  {
    const auto hu = Kokkos::create_mirror_view(u), hv = Kokkos::create_mirror_view(v);
    for (std::int64_t i = 0; i < n; ++i) {
      for (int c = 0; c < m; ++c) {
        const std::uint64_t index = std::uint64_t(block.begin + i) * m + c;
        hu(i, c) = static_cast<T>(probe_value(1, index));
        hv(i, c) = static_cast<T>(probe_value(2, index));
      }
    }
    Kokkos::deep_copy(u, hu);
    Kokkos::deep_copy(v, hv);
  }
  apply(u, ku);
  apply(v, kv);
  // This rank's sum over all entries of x .* y.
  const auto dot = [](const Matrix& x, const Matrix& y) {
    using Flat = Kokkos::View<const T*, memory_space, Kokkos::MemoryUnmanaged>;
    return static_cast<double>(KokkosBlas::dot(Flat(x.data(), x.size()), Flat(y.data(), y.size())));
  };
  double all[6] = {dot(u, kv), dot(v, ku), dot(u, u), dot(v, v), dot(kv, kv), dot(ku, ku)};
  MPI_Allreduce(MPI_IN_PLACE, all, 6, MPI_DOUBLE, MPI_SUM, comm_.get());
  const double scale = std::sqrt(all[2] * all[4]) + std::sqrt(all[3] * all[5]);
  asymmetry_ = scale > 0 ? std::fabs(all[0] - all[1]) / scale : 0;
  const double tolerance = std::sqrt(std::numeric_limits<T>::epsilon());
  if (!(asymmetry_ <= tolerance)) {
    std::ostringstream text;
    text << "the operator of \"" << formula.text() << "\" is not symmetric: for random u, v, "
         << "|u.Kv - v.Ku| / (|u||Kv| + |v||Ku|) = " << asymmetry_ << " (rounding allows "
         << tolerance << "); conjugate gradient (like KeOps' KernelSolve) needs a symmetric, "
         << "positive semi-definite K, such as F(X, Y) = F(Y, X) times " << unknown;
    throw Error(text.str());
  }
}

template <class T>
RingTimings FormulaSolve<T>::apply(const ConstMatrix& x, const Matrix& y) const {
  const detail::ScopedRegion region("kinterp::FormulaSolve::apply");
  const execution_space space;
  detail::pack_source_rows(space, sources_, points_, x, detail::source_offsets(program_, unknown_));
  ring_.set_sources(space, sources_);
  const RingTimings timings =
      ring_.apply(space, device_program_, detail::ReductionLayout(Reduction{}, program_.dimension),
                  points_, out_);
  detail::copy_from_double(space, out_, y);
  space.fence();
  return timings;
}

template <class T>
KernelSolveResult FormulaSolve<T>::solve(const ConstMatrix& b, const Matrix& a, double alpha,
                                         const SolveOptions& options) const {
  const detail::ScopedRegion region("kinterp::FormulaSolve");
  const MPI_Comm comm = comm_.get();
  check_solve_parameters(alpha, options);
  detail::require_solve_shapes(comm, ring_.local_count(), b, a, options);
  if (static_cast<int>(b.extent(1)) != columns()) {
    throw Error("b has " + std::to_string(b.extent(1)) + " columns but the unknown " + unknown_ +
                " has dimension " + std::to_string(columns()));
  }
  SolveOptions cg = options;
  if (cg.checkpoint.writes() || cg.checkpoint.restarts()) {
    std::uint64_t h = detail::fold(fingerprint_rows(comm, points_), fingerprint_);
    cg.checkpoint.problem_fingerprint =
        detail::fold(detail::fold(h, alpha), options.checkpoint.problem_fingerprint);
  }
  // One column of n_r * m rows (see RegularizedFormulaOperator); b and a are
  // contiguous, so these are the same numbers.
  const std::int64_t rows = b.extent(0);
  const int m = columns();
  Matrix a_column(a.data(), rows * m, 1);
  const ConstMatrix b_column(b.data(), rows * m, 1);
  KernelSolveResult result;
  ProductCounter counter;
  static_cast<SolveResult&>(result) = conjugate_gradient(
      RegularizedFormulaOperator<T>{*this, comm, rows, m, static_cast<T>(alpha), counter}, b_column,
      a_column, cg);
  result.alpha = alpha;
  result.products = counter.products;
  result.product = counter.timings;
  if (!result.converged()) result.detail += hint(alpha, 1, result.reason);
  return result;
}

template class FormulaSolve<float>;
template class FormulaSolve<double>;

}  // namespace kinterp
