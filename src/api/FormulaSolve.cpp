#include <kinterp/FormulaSolve.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/solve/Checkpoint.hpp>
#include <kinterp/solve/ConjugateGradient.hpp>

#include <KokkosBlas1_dot.hpp>

#include "SolveOperators.hpp"
#include "Validation.hpp"

#include <cmath>
#include <limits>
#include <sstream>

namespace kinterp {

namespace {

/// The Program of F, after checking the shape FormulaSolve needs (see the
/// constructor's contract). Formula errors are the same on every rank; the
/// inputs' rows are checked collectively.
template <class T>
Program solve_program(MPI_Comm comm, const Formula& formula,
                      const std::map<std::string, std::vector<double>>& parameters,
                      const std::string& unknown, const LocalMatrix<const T>& points,
                      const VariableRows<T>& inputs) {
  const Variable* a_variable = formula.find(unknown);
  if (a_variable && a_variable->category != Variable::Category::J) {
    throw FormulaError("the unknown " + unknown + " must be a j-variable (Vj): KernelSolve " +
                       "solves for the weights summed over j (KeOps' axis = 1)");
  }
  formula.require_linear_in(unknown);  // also: the unknown is a variable of the formula
  const Variable& a = *a_variable;
  Program program = formula.compile(parameters, 1);
  if (program.targets.empty()) {
    throw FormulaError(
        "the formula has no i-variable: K_ij = F(x_i, x_j) depends on both "
        "points, so F needs one (X = Vi(d), which takes the points)");
  }
  if (program.dimension != a.dimension) {
    throw FormulaError("the formula has dimension " + std::to_string(program.dimension) +
                       " but the unknown " + unknown + " has " + std::to_string(a.dimension) +
                       ": (alpha I + K) " + unknown + " = b needs them equal");
  }
  // The names decide which collectives follow: a caller that gives other
  // names on some rank gets one error on every rank, not a hang.
  std::string names;
  for (const auto& [name, rows] : inputs) names += name + " ";
  throw_if_any(comm, !same_on_every_rank(comm, names),
               "the inputs' names differ between ranks (this rank's: " +
                   (names.empty() ? std::string("none") : names) +
                   "): give every rank the same names, each with its own rows");
  std::map<std::string, int> dimensions;  // of the variables that take rows
  for (const auto* list : {&program.targets, &program.sources}) {
    for (const auto& v : *list) {
      if (v.name != unknown) dimensions[v.name] = v.dimension;
    }
  }
  for (const auto& [name, rows] : inputs) {
    if (name == unknown) {
      throw Error("the unknown " + unknown + " is what the solve computes and takes no input; " +
                  "its right-hand side is b");
    }
    if (dimensions.count(name) == 0) {
      throw Error("an input is given for " + name + ", which is no i- or j-variable of \"" +
                  formula.text() + "\"");
    }
  }
  const int d = static_cast<int>(points.extent(1));
  for (const auto& [name, dimension] : dimensions) {
    if (inputs.count(name) == 0 && dimension != d) {
      throw Error(alias_text(*formula.find(name)) + " has dimension " + std::to_string(dimension) +
                  " but the points have " + std::to_string(d) +
                  " coordinates: a variable that is not the points needs its rows as an input " +
                  "(the tool's --input " + name + "=FILE), one row per point");
    }
  }
  // Shapes that may differ between ranks: one error on every rank.
  std::string problem;
  for (const auto& [name, rows] : inputs) {
    if (!problem.empty()) break;
    if (rows.extent(0) != points.extent(0)) {
      problem = "the input " + name + " has " + std::to_string(rows.extent(0)) +
                " rows on a rank that holds " + std::to_string(points.extent(0)) +
                " points: give one row per point, spread over the ranks as the points are";
    } else if (static_cast<int>(rows.extent(1)) != dimensions.at(name)) {
      problem = "the input " + name + " has " + std::to_string(rows.extent(1)) + " columns but " +
                alias_text(*formula.find(name)) + " has dimension " +
                std::to_string(dimensions.at(name));
    }
  }
  throw_if_any(comm, !problem.empty(), problem);
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
                              const std::string& unknown, const ConstMatrix& points,
                              const VariableRows<T>& inputs)
    : unknown_(unknown),
      fingerprint_(formula_fingerprint(formula, parameters, unknown)),
      inputs_(inputs),
      product_(comm, solve_program(comm, formula, parameters, unknown, points, inputs), unknown,
               points, inputs) {
  const MPI_Comm c = product_.communicator().get();
  detail::require_finite(c, points, "points");
  for (const auto& [name, rows] : inputs) detail::require_finite(c, rows, "input " + name);
  // Conjugate gradient needs a symmetric operator: measure u.Kv against v.Ku.
  const std::int64_t n = points.extent(0);
  const int m = columns();
  const RowBlock block = global_block(c, n);
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
    using Flat = Kokkos::View<const T*, typename Matrix::memory_space, Kokkos::MemoryUnmanaged>;
    return static_cast<double>(KokkosBlas::dot(Flat(x.data(), x.size()), Flat(y.data(), y.size())));
  };
  double all[6] = {dot(u, kv), dot(v, ku), dot(u, u), dot(v, v), dot(kv, kv), dot(ku, ku)};
  MPI_Allreduce(MPI_IN_PLACE, all, 6, MPI_DOUBLE, MPI_SUM, c);
  const double scale = std::sqrt(all[2] * all[4]) + std::sqrt(all[3] * all[5]);
  asymmetry_ = scale > 0 ? std::fabs(all[0] - all[1]) / scale : 0;
  const double tolerance = std::sqrt(std::numeric_limits<T>::epsilon());
  if (!(asymmetry_ <= tolerance)) {
    std::ostringstream text;
    text << "the operator of \"" << formula.text() << "\" is not symmetric: for random u, v, "
         << "|u.Kv - v.Ku| / (|u||Kv| + |v||Ku|) = " << asymmetry_ << " (rounding allows "
         << tolerance << "); conjugate gradient (like KeOps' KernelSolve) needs a symmetric, "
         << "positive semi-definite K, such as F(X, Y) = F(Y, X) times " << unknown
         << ", with each i-variable and its j-twin given the same rows";
    throw Error(text.str());
  }
}

template <class T>
RingTimings FormulaSolve<T>::apply(const ConstMatrix& x, const Matrix& y) const {
  const detail::ScopedRegion region("kinterp::FormulaSolve::apply");
  return product_.apply_at_sources(Kokkos::DefaultExecutionSpace(), x, y);
}

template <class T>
KernelSolveResult FormulaSolve<T>::solve(const ConstMatrix& b, const Matrix& a, double alpha,
                                         const SolveOptions& options) const {
  const detail::ScopedRegion region("kinterp::FormulaSolve");
  const MPI_Comm comm = product_.communicator().get();
  check_solve_parameters(alpha, options);
  detail::require_solve_shapes(comm, product_.local_count(), b, a, options);
  if (static_cast<int>(b.extent(1)) != columns()) {
    throw Error("b has " + std::to_string(b.extent(1)) + " columns but the unknown " + unknown_ +
                " has dimension " + std::to_string(columns()));
  }
  SolveOptions cg = options;
  if (cg.checkpoint.writes() || cg.checkpoint.restarts()) {
    std::uint64_t h = detail::fold(fingerprint_rows(comm, product_.sources()), fingerprint_);
    for (const auto& [name, rows] : inputs_) {
      h = detail::fold(detail::fold(h, name), fingerprint_rows(comm, rows));
    }
    cg.checkpoint.problem_fingerprint =
        detail::fold(detail::fold(h, alpha), options.checkpoint.problem_fingerprint);
  }
  // The unknown's m components may be coupled (a vector-valued kernel), so CG
  // sees one column of n_r * m rows, not m independent columns; b and a are
  // contiguous, so these are the same numbers.
  const std::int64_t rows = b.extent(0);
  const int m = columns();
  Matrix a_column(a.data(), rows * m, 1);
  const ConstMatrix b_column(b.data(), rows * m, 1);
  KernelSolveResult result;
  detail::ProductCounter counter;
  static_cast<SolveResult&>(result) = conjugate_gradient(
      detail::RegularizedOperator<T>{product_, static_cast<T>(alpha), counter, m}, b_column,
      a_column, cg);
  result.alpha = alpha;
  result.products = counter.products;
  result.product = counter.timings;
  result.product_engine = product_.description();
  if (!result.converged()) result.detail += detail::not_converged_hint(alpha, 1, result.reason);
  return result;
}

template class FormulaSolve<float>;
template class FormulaSolve<double>;

}  // namespace kinterp
