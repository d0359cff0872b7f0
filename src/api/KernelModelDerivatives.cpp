// KernelModel::predict_gradient and predict_laplacian: the derivatives of a
// fitted model at targets.
//
// The gradient has two routes. For a radial family whose phi'(r) / r is itself a compiled
// family (up to a constant factor c), the gradient is a kernel product with
// (d + 1) m weight columns on the tuned engines (direct or tree):
//   grad_t sum_j phi(|t - x_j|) w_j = c sum_j psi(|t - x_j|) (t - x_j) w_j
//                                   = c ((t - o) S_0(t) - S_1(t)),
//   S_0 = sum_j psi w_j,   S_1 = sum_j psi w_j (x_j - o),
// with o the points' mean, so that t - o and x_j - o stay of the data's size.
// The laplacian kernel's psi, exp(-g r) / r, is infinite at r = 0, where
// its gradient does not exist: a target on a point makes S_0 infinite, and
// is refused. Every other kernel (spherical, with a cusp at r = 0, the
// general Matern kernel, and any generic formula) has its formula
// differentiated symbolically (GradMatrix, formula/Derivative.hpp) on the
// generic evaluator.
//
// The Laplacian of the families twice differentiable at r = 0 is their
// closed form phi''(r) + (d - 1) phi'(r) / r written as a formula, exact at
// the points themselves (where a symbolic derivative through Norm2 would
// not be); other kernels and formulas take the symbolic Laplacian.

#include <kinterp/KernelGradient.hpp>
#include <kinterp/KernelModel.hpp>
#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/NumberText.hpp>
#include <kinterp/dist/FormulaKernelProduct.hpp>

#include "TargetsOnPoints.hpp"

#include <optional>
#include <string>

namespace kinterp {

namespace {

/// The Laplacian in t of k(|t - x|) in d dimensions as a formula in X and Y,
/// numbers written in, for the families twice differentiable at r = 0;
/// empty for the others (laplacian, spherical: a cusp; matern: no formula).
std::string laplacian_formula(const KernelSpec& k, int d) {
  using detail::number_text;
  const double g = k.g;
  const std::string r = "Norm2(X-Y)", r2 = "SqDist(X,Y)",
                    decay = "Exp(-" + number_text(g) + "*" + r + ")";
  std::string delta;
  switch (k.family) {
    case KernelFamily::Gaussian:  // (4 g^2 r^2 - 2 g d) e^(-g r^2)
      delta = "(" + number_text(4 * g * g) + "*" + r2 + "-" + number_text(2 * g * d) + ")*Exp(-" +
              number_text(g) + "*" + r2 + ")";
      break;
    case KernelFamily::Matern32:  // -g^2 (d - g r) e^(-g r)
      delta = "-" + number_text(g * g) + "*(" + number_text(d) + "-" + number_text(g) + "*" + r +
              ")*" + decay;
      break;
    case KernelFamily::Matern52:  // -(g^2 / 3)(d + d g r - g^2 r^2) e^(-g r)
      delta = "-" + number_text(g * g / 3) + "*(" + number_text(d) + "+" + number_text(d * g) +
              "*" + r + "-" + number_text(g * g) + "*" + r2 + ")*" + decay;
      break;
    case KernelFamily::Cauchy:  // q^-a, q = 1 + g r^2: 4a(a+1) g^2 r^2 q^-(a+2) - 2 a g d q^-(a+1)
    case KernelFamily::InverseMultiquadric:
    case KernelFamily::RationalQuadratic: {
      const double a = k.family == KernelFamily::Cauchy                ? 1
                       : k.family == KernelFamily::InverseMultiquadric ? 0.5
                                                                       : k.shape;
      const std::string q = "(1+" + number_text(g) + "*" + r2 + ")";
      delta = "(" + number_text(4 * a * (a + 1) * g * g) + "*" + r2 + "*Powf(" + q + "," +
              number_text(-a - 2) + ")-" + number_text(2 * a * g * d) + "*Powf(" + q + "," +
              number_text(-a - 1) + "))";
      break;
    }
    default:
      return "";
  }
  return k.variance == 1 ? delta : number_text(k.variance) + "*" + delta;
}

/// Throws on every rank unless the points, weights, targets and output fit:
/// `columns` output columns, as many rows as targets.
template <class T>
void require_shapes(MPI_Comm comm, const std::string& what, const LocalMatrix<const T>& points,
                    const LocalMatrix<const T>& weights, const LocalMatrix<const T>& targets,
                    const LocalMatrix<T>& out, std::int64_t columns) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  const bool misfit = points.extent(0) != weights.extent(0) ||
                      targets.extent(1) != points.extent(1) || out.extent(0) != targets.extent(0) ||
                      std::int64_t(out.extent(1)) != columns;
  throw_if_any(comm, misfit,
               "the " + what + " on rank " + std::to_string(rank) + ": the points (" +
                   std::to_string(points.extent(0)) + " x " + std::to_string(points.extent(1)) +
                   "), weights (" + std::to_string(weights.extent(0)) + " x " +
                   std::to_string(weights.extent(1)) + "), targets (" +
                   std::to_string(targets.extent(0)) + " x " + std::to_string(targets.extent(1)) +
                   ") and output (" + std::to_string(out.extent(0)) + " x " +
                   std::to_string(out.extent(1)) + ") do not fit: the output needs " +
                   std::to_string(columns) + " columns");
}

}  // namespace

template <class T>
ModelPrediction KernelModel::predict_gradient(MPI_Comm comm, const ConstMatrix<T>& points,
                                              const ConstMatrix<T>& weights,
                                              const ConstMatrix<T>& targets, const Matrix<T>& out,
                                              const ProductOptions& product) const {
  const double start = MPI_Wtime();
  const std::int64_t d = points.extent(1), m = weights.extent(1);
  require_shapes(comm, "gradient", points, weights, targets, out, d * m);
  if (generic_ || !has_kernel_gradient(spec_)) {
    return derivative_by_formula<T>(comm, false, points, weights, targets, out, product, start);
  }
  const KernelGradientRun run =
      kernel_gradient(comm, spec_, points, weights, targets, out, product);
  return {run.timings, run.description, run.setup_seconds};
}

template <class T>
ModelPrediction KernelModel::predict_laplacian(MPI_Comm comm, const ConstMatrix<T>& points,
                                               const ConstMatrix<T>& weights,
                                               const ConstMatrix<T>& targets, const Matrix<T>& out,
                                               const ProductOptions& product) const {
  const double start = MPI_Wtime();
  require_shapes(comm, "Laplacian", points, weights, targets, out, weights.extent(1));
  return derivative_by_formula<T>(comm, true, points, weights, targets, out, product, start);
}

template <class T>
ModelPrediction KernelModel::derivative_by_formula(
    MPI_Comm comm, bool laplacian, const ConstMatrix<T>& points, const ConstMatrix<T>& weights,
    const ConstMatrix<T>& targets, const Matrix<T>& out, const ProductOptions& product,
    double start) const {
  using execution_space = Kokkos::DefaultExecutionSpace;
  const std::string what = laplacian ? "Laplacian" : "gradient";
  const std::int64_t d = points.extent(1), m = weights.extent(1);
  if (product.engine == ProductEngine::Tree) {
    throw Error("the " + what + " of " + description_ +
                " runs on the generic evaluator, whose products are direct: drop the tree "
                "product" +
                (laplacian
                     ? std::string()
                     : " (the gradient of gaussian, laplacian, matern32, matern52, cauchy, imq "
                       "and rq takes the tree)"));
  }
  if (!generic_ && spec_.family == KernelFamily::Matern) {
    throw Error("the " + what +
                " of the general Matern kernel is not available (its Bessel function has no "
                "formula to differentiate): fit matern32 or matern52, or a formula");
  }
  // The model as a formula F(X, Y, A) of the target variable X.
  std::string text, target = "X", weight = unknown_;
  std::vector<std::string> aliases;
  if (generic_) {
    text = generic_->text();
    for (const auto& v : generic_->variables()) {
      if (v.name.find('(') == std::string::npos) aliases.push_back(indexed_alias_text(v));
      if (v.category == Variable::Category::I) target = v.name;
    }
  } else {
    text = spec_.formula();
    weight = "A";
    aliases = {"X = Vi(" + std::to_string(d) + ")", "Y = Vj(" + std::to_string(d) + ")",
               "A = Vj(" + std::to_string(m) + ")"};
  }
  const std::string closed_form = generic_ || !laplacian ? "" : laplacian_formula(spec_, int(d));
  std::string formula;
  if (!closed_form.empty()) {
    formula = "(" + closed_form + ")*A";
  } else if (!laplacian) {
    formula = "GradMatrix(" + text + "," + target + ")";
  } else {
    for (std::int64_t k = 0; k < m; ++k) {
      const std::string component = m == 1 ? text : "Elem(" + text + "," + std::to_string(k) + ")";
      const std::string term = "Laplacian(" + component + "," + target + ")";
      formula = k == 0 ? term : "Concat(" + formula + "," + term + ")";
    }
  }
  // A named kernel with a cusp at r = 0 (differentiated symbolically) has no
  // derivative at its points: one more column, in the same pass, counts the
  // targets that coincide with one.
  const bool cusp = !generic_ && closed_form.empty();
  if (cusp) formula = "Concat(" + formula + ",IfElse(-SqDist(X,Y),IntCst(1),IntCst(0)))";
  const Program program = Formula(formula, aliases).compile(parameters_);
  const std::int64_t columns = std::int64_t(out.extent(1)) + (cusp ? 1 : 0);
  require_targets_and_points(program, what, text, weight, columns);
  const FormulaKernelProduct<T> generic(comm, program, weight, points);
  Matrix<T> sums = out;
  if (cusp) sums = Matrix<T>("kinterp::derivative::sums", targets.extent(0), columns);
  const double setup = MPI_Wtime() - start;
  const RingTimings timings = generic.apply(execution_space(), targets, weights, sums);
  if (cusp) {
    detail::refuse_targets_on_points(comm, spec_, what,
                                     detail::CountRows<T>{sums, columns - 1, columns, true});
    Kokkos::deep_copy(
        out, Kokkos::subview(sums, Kokkos::ALL, std::make_pair(std::size_t(0), out.extent(1))));
    Kokkos::fence();
  }
  const std::string how =
      closed_form.empty() ? "the formula's symbolic derivative" : "its closed form";
  return {timings, what + " by " + how + ": " + generic.description(), setup};
}

#define KINTERP_INSTANTIATE_GRADIENT(T)                                              \
  template ModelPrediction KernelModel::predict_gradient<T>(                         \
      MPI_Comm, const ConstMatrix<T>&, const ConstMatrix<T>&, const ConstMatrix<T>&, \
      const Matrix<T>&, const ProductOptions&) const;                                \
  template ModelPrediction KernelModel::predict_laplacian<T>(                        \
      MPI_Comm, const ConstMatrix<T>&, const ConstMatrix<T>&, const ConstMatrix<T>&, \
      const Matrix<T>&, const ProductOptions&) const;
KINTERP_INSTANTIATE_GRADIENT(float)
KINTERP_INSTANTIATE_GRADIENT(double)
#undef KINTERP_INSTANTIATE_GRADIENT

}  // namespace kinterp
