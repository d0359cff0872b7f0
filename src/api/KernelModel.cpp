#include <kinterp/FormulaSolve.hpp>
#include <kinterp/KernelModel.hpp>
#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/NumberText.hpp>
#include <kinterp/dist/FormulaKernelProduct.hpp>

#include <sstream>

namespace kinterp {

namespace {

/// The one j-variable the formula is linear in, or an error asking to name it.
std::string linear_unknown(const Formula& formula) {
  std::vector<std::string> linear;
  std::string why;  // why the first j-variable is not linear
  for (const auto& v : formula.variables()) {
    if (v.category != Variable::Category::J) continue;
    try {
      formula.require_linear_in(v.name);
      linear.push_back(v.name);
    } catch (const FormulaError& e) {
      if (why.empty()) why = e.what();
    }
  }
  if (linear.empty()) {
    // Naming an unknown would not help: the formula is not a kernel times weights.
    throw Error("the formula \"" + formula.text() +
                "\" is linear in none of its j-variables, so it is no kernel applied to "
                "weights (KernelSolve needs F(X, Y, A) linear in A, e.g. "
                "\"Exp(-G*SqDist(X,Y))*A\")" +
                (why.empty() ? std::string() : ": " + why));
  }
  if (linear.size() != 1) {
    throw Error("the formula \"" + formula.text() + "\" is no compiled kernel family, and " +
                (linear.empty() ? std::string("it is linear in none of its j-variables")
                                : "it is linear in " + std::to_string(linear.size()) +
                                      " j-variables (" + detail::join(linear, ", ") + ")") +
                ": name the weights' variable (the tool's --unknown NAME, the C API's "
                "kinterp_set_unknown), as KeOps' KernelSolve takes it");
  }
  return linear[0];
}

}  // namespace

KernelModel KernelModel::named(const std::string& name, double length_scale) {
  KernelModel model;
  model.spec_ = KernelSpec::from_name(name, length_scale);
  std::ostringstream text;
  text << name << ", length scale " << length_scale;
  model.description_ = text.str();
  return model;
}

KernelModel KernelModel::from_formula(const std::string& text,
                                      const std::vector<std::string>& aliases,
                                      const Parameters& parameters, const std::string& unknown) {
  const Formula formula(text, aliases);
  formula.compile(parameters);  // a missing or wrong parameter is an error on either path
  KernelModel model;
  model.parameters_ = parameters;
  try {
    const RadialKernelProduct product = formula.bind(parameters);
    if (!unknown.empty() && product.weight->name != unknown) {
      throw FormulaError("the unknown is not the compiled family's weight");
    }
    model.spec_ = product.kernel;
    model.description_ = "\"" + formula.text() + "\" (" + to_string(product.kernel.family) + ")";
    model.point_alias_ = alias_text(*product.source);
    model.weight_alias_ = alias_text(*product.weight);
    model.point_dimension_ = product.source->dimension;
    model.weight_dimension_ = product.weight->dimension;
    return model;
  } catch (const FormulaError&) {
    // Not a compiled family: the generic evaluator, below.
  }
  model.generic_ = formula;
  model.unknown_ = unknown.empty() ? linear_unknown(formula) : unknown;
  formula.require_linear_in(model.unknown_);
  const Variable& a = *formula.find(model.unknown_);
  model.weight_alias_ = alias_text(a);
  model.weight_dimension_ = a.dimension;
  int others = 0;  // j-variables besides the weights: one is the points
  for (const auto& v : formula.variables()) {
    if (v.category == Variable::Category::J && v.name != a.name && ++others == 1) {
      model.point_alias_ = alias_text(v);
      model.point_dimension_ = v.dimension;
    }
  }
  if (others > 1) model.point_dimension_ = -1;  // FormulaSolve says which variable misfits
  model.description_ = "\"" + formula.text() + "\" (generic evaluator)";
  return model;
}

void KernelModel::check_point_columns(const std::string& what, std::int64_t columns) const {
  if (point_dimension_ >= 0 && columns != point_dimension_) {
    throw Error(what + " has " + std::to_string(columns) +
                " coordinates per point but the formula's " + point_alias_ + " has dimension " +
                std::to_string(point_dimension_) + ": make them agree");
  }
}

void KernelModel::check_weight_columns(const std::string& what, std::int64_t columns) const {
  if (weight_dimension_ >= 0 && columns != weight_dimension_) {
    throw Error(what + " has " + std::to_string(columns) + " columns but the formula's " +
                weight_alias_ + " has dimension " + std::to_string(weight_dimension_) +
                ": make them agree");
  }
}

void KernelModel::require_targets_and_points(const Program& program, const std::string& what,
                                             const std::string& text, const std::string& weights,
                                             std::int64_t dimension) {
  if (program.targets.size() == 1 && program.sources.size() == 2 &&
      program.dimension == dimension) {
    return;
  }
  std::vector<std::string> others;  // the variables besides X, Y and the weights
  for (std::size_t k = 1; k < program.targets.size(); ++k)
    others.push_back(program.targets[k].name);
  int points = 0;
  for (const auto& v : program.sources) {
    if (v.name != weights && ++points > 1) others.push_back(v.name);
  }
  throw Error("the " + what + " needs a formula F(X, Y, " + weights +
              ") of one i-variable X (the targets) and one j-variable Y (the points) besides " +
              weights + ", of the weights' dimension; \"" + text + "\" is not" +
              (others.empty() ? std::string()
                              : ": it also takes " + detail::join(others, ", ") +
                                    ", whose rows at the targets only you know; evaluate it with "
                                    "Genred (the tool's `kinterp reduce`, an --input per "
                                    "variable)"));
}

void KernelModel::require_direct(const ProductOptions& product) const {
  if (generic_ && product.engine == ProductEngine::Tree) {
    throw Error("the tree product needs a compiled kernel family; \"" + generic_->text() +
                "\" runs through the generic evaluator, whose products are direct");
  }
}

template <class T>
KernelSolveResult KernelModel::fit(MPI_Comm comm, const ConstMatrix<T>& points,
                                   const ConstMatrix<T>& values, const Matrix<T>& weights,
                                   double alpha, const SolveOptions& options,
                                   const KernelSolveOptions& how, const ProductOptions& product,
                                   const VariableRows<T>& inputs) const {
  if (!generic_) {
    if (!inputs.empty()) {
      throw Error("the kernel " + description_ +
                  " is a compiled family of the points and the weights only; inputs are for "
                  "a generic formula's other variables");
    }
    return KernelSolve<T>(comm, spec_, points, product).solve(values, weights, alpha, options, how);
  }
  require_direct(product);
  if (how.preconditioned() || how.mixed_precision) {
    throw Error("the preconditioners and mixed precision need a compiled kernel family; \"" +
                generic_->text() +
                "\" runs through the generic evaluator, by plain CG in float or double");
  }
  const FormulaSolve<T> solver(comm, *generic_, parameters_, unknown_, points, inputs);
  return solver.solve(values, weights, alpha, options);
}

template <class T>
ModelPrediction KernelModel::predict(MPI_Comm comm, const ConstMatrix<T>& points,
                                     const ConstMatrix<T>& weights, const ConstMatrix<T>& targets,
                                     const Matrix<T>& out, const ProductOptions& product) const {
  if (!generic_) {
    const double start = MPI_Wtime();
    const KernelSum<T> sum(comm, spec_, points, product);
    const double setup = MPI_Wtime() - start;
    return {sum(targets, weights, out), sum.product().description(), setup};
  }
  require_direct(product);
  const Program layout = generic_->compile(parameters_);
  require_targets_and_points(layout, "prediction", generic_->text(), unknown_, layout.dimension);
  const bool misfit = points.extent(0) != weights.extent(0) ||
                      static_cast<int>(weights.extent(1)) != layout.dimension ||
                      static_cast<int>(targets.extent(1)) != layout.targets[0].dimension ||
                      out.extent(0) != targets.extent(0) || out.extent(1) != weights.extent(1);
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  throw_if_any(comm, misfit,
               "predict on rank " + std::to_string(rank) + ": the points (" +
                   std::to_string(points.extent(0)) + " rows), weights (" +
                   std::to_string(weights.extent(0)) + " x " + std::to_string(weights.extent(1)) +
                   "), targets (" + std::to_string(targets.extent(0)) + " x " +
                   std::to_string(targets.extent(1)) + ") and output (" +
                   std::to_string(out.extent(0)) + " x " + std::to_string(out.extent(1)) +
                   ") do not fit \"" + generic_->text() + "\"");
  const FormulaKernelProduct<T> generic(comm, layout, unknown_, points);
  return {generic.apply(Kokkos::DefaultExecutionSpace(), targets, weights, out),
          generic.description()};
}

#define KINTERP_INSTANTIATE_KERNEL_MODEL(T)                                                      \
  template KernelSolveResult KernelModel::fit<T>(                                                \
      MPI_Comm, const ConstMatrix<T>&, const ConstMatrix<T>&, const Matrix<T>&, double,          \
      const SolveOptions&, const KernelSolveOptions&, const ProductOptions&,                     \
      const VariableRows<T>&) const;                                                             \
  template ModelPrediction KernelModel::predict<T>(MPI_Comm, const ConstMatrix<T>&,              \
                                                   const ConstMatrix<T>&, const ConstMatrix<T>&, \
                                                   const Matrix<T>&, const ProductOptions&) const;
KINTERP_INSTANTIATE_KERNEL_MODEL(float)
KINTERP_INSTANTIATE_KERNEL_MODEL(double)
#undef KINTERP_INSTANTIATE_KERNEL_MODEL

}  // namespace kinterp
