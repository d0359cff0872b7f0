// Recognition works on the kernel part of the formula (the product without the
// weight A) as a function of r = |X - Y| only. Every subexpression becomes a
// Term: a polynomial in r, times Exp(polynomial in r), times powers of
// polynomials with half-integer exponents (for Inv, Sqrt and Rsqrt). Parameters
// are numbers by then, so constants fold, and the families are read off the
// shape of the product: which powers of r occur where.

#include "Recognise.hpp"

#include "Check.hpp"
#include "Functions.hpp"
#include "Parameters.hpp"
#include "Parser.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

namespace kinterp::detail {

namespace {

using Kind = Expr::Kind;

constexpr int kMaxDegree = 8;  // far more than any compiled family needs
constexpr double kTolerance = 1e-12;

const char* const kSupported =
    "supported: Gaussian Exp(-G*SqDist(X,Y))*A, Laplacian Exp(-G*Norm2(X-Y))*A, "
    "Matern32 (1+G*Norm2(X-Y))*Exp(-G*Norm2(X-Y))*A, "
    "Matern52 (1+G*Norm2(X-Y)+G*G*SqDist(X,Y)/3)*Exp(-G*Norm2(X-Y))*A, "
    "Cauchy Inv(1+G*SqDist(X,Y))*A, InverseMultiquadric Rsqrt(1+G*SqDist(X,Y))*A, "
    "each times a positive constant; other formulas run through the generic evaluator "
    "(kinterp::Genred, kinterp::FormulaSolve)";

/// A polynomial in r. `terms` records which powers the formula writes, even
/// when their coefficient is 0, so that G = 0 is reported as a bad g rather
/// than as a kernel without a distance.
struct Poly {
  std::array<double, kMaxDegree + 1> c{};
  unsigned terms = 0;  ///< bit k: the r^k term

  static Poly constant(double value) {
    Poly p;
    p.c[0] = value;
    p.terms = 1;
    return p;
  }
  static Poly power(int k) {
    Poly p;
    p.c[k] = 1;
    p.terms = 1u << k;
    return p;
  }
  bool has(int k) const { return terms >> k & 1u; }
  bool is_constant() const { return terms == 1; }
  int degree() const {
    int k = kMaxDegree;
    while (k > 0 && !has(k)) --k;
    return k;
  }
  bool operator==(const Poly& other) const { return terms == other.terms && c == other.c; }
};

Poly operator+(Poly a, const Poly& b) {
  for (int k = 0; k <= kMaxDegree; ++k) a.c[k] += b.c[k];
  a.terms |= b.terms;
  return a;
}

Poly scaled(Poly a, double factor) {
  for (double& coefficient : a.c) coefficient *= factor;
  return a;
}

// "1 + 2*r - r^2"
std::string to_string(const Poly& p) {
  std::string out;
  for (int k = 0; k <= kMaxDegree; ++k) {
    if (!p.has(k)) continue;
    double c = p.c[k];
    if (!out.empty()) {
      out += std::signbit(c) ? " - " : " + ";
      c = std::fabs(c);
    }
    if (k == 0) {
      out += number(c);
    } else {
      out += c == 1 ? "" : c == -1 ? "-" : number(c) + "*";
      out += k == 1 ? "r" : "r^" + std::to_string(k);
    }
  }
  return out.empty() ? "0" : out;
}

/// base^(half_powers / 2).
struct Root {
  Poly base;
  int half_powers = 0;
};

/// factor * Exp(exponent) * product of roots.
struct Term {
  Poly factor = Poly::constant(1);
  Poly exponent;  ///< no terms: no Exp
  std::vector<Root> roots;

  static Term constant(double value) {
    Term t;
    t.factor = Poly::constant(value);
    return t;
  }
  static Term polynomial(const Poly& p) {
    Term t;
    t.factor = p;
    return t;
  }
  bool is_polynomial() const { return exponent.terms == 0 && roots.empty(); }
  bool is_constant() const { return is_polynomial() && factor.is_constant(); }
};

std::string to_string(const Term& t) {
  const Poly& f = t.factor;
  std::string out = f == Poly::constant(1)      ? ""
                    : (f.terms & (f.terms - 1)) ? "(" + to_string(f) + ")"
                                                : to_string(f);
  auto append = [&out](const std::string& part) { out += (out.empty() ? "" : "*") + part; };
  if (t.exponent.terms) append("Exp(" + to_string(t.exponent) + ")");
  for (const auto& root : t.roots) {
    const bool whole = root.half_powers % 2 == 0;
    append("(" + to_string(root.base) + ")^" +
           (whole ? std::to_string(root.half_powers / 2)
                  : "(" + std::to_string(root.half_powers) + "/2)"));
  }
  return out.empty() ? "1" : out;
}

bool nearly_equal(double a, double b) {
  return std::fabs(a - b) <= kTolerance * std::max(std::fabs(a), std::fabs(b));
}

class Recogniser {
 public:
  Recogniser(const Source& source, const std::vector<Variable>& variables,
             const std::map<std::string, std::vector<double>>& parameters)
      : source_(source), variables_(variables), parameters_(parameters) {}

  RadialKernelProduct run(const Expr& root) {
    check_parameter_names(source_, variables_, parameters_);
    count_uses(root);
    flatten(root, false);
    const Expr* weight = find_weight();
    Term kernel = Term::constant(sign_);
    for (const auto& [factor, inverse] : factors_) {
      if (factor == weight) continue;
      const Term term = analyse(*factor);
      kernel = multiply(kernel, inverse ? reciprocal(term, *factor) : term, *factor);
    }
    if (!target_) {
      fail(std::string::npos,
           "the formula has no distance between an i-variable and a j-variable, such as "
           "SqDist(X,Y) or Norm2(X-Y); " +
               std::string(kSupported));
    }
    RadialKernelProduct result;
    result.kernel = classify(kernel);
    result.target = variable_at(variables_, target_->index);
    result.source = variable_at(variables_, source_variable_->index);
    result.weight = variable_at(variables_, weight->index);
    return result;
  }

 private:
  [[noreturn]] void fail(std::size_t position, const std::string& message) const {
    detail::fail(source_, position, message);
  }

  [[noreturn]] void unsupported(std::size_t position, const std::string& what) const {
    fail(position, what + " is not part of a compiled kernel family; " + kSupported);
  }
  [[noreturn]] void unsupported(const Expr& expr, const std::string& what) const {
    unsupported(expr.position, what);
  }

  // --- parameters and the weight ---

  double parameter_value(const Expr& expr) const {
    const auto& values = parameter_values(source_, variables_, parameters_, expr);
    if (expr.dimension != 1) {
      unsupported(expr, "the vector parameter " + expr.name + " = Pm(" +
                            std::to_string(expr.dimension) +
                            ") (only scalar parameters may appear in a kernel for now)");
    }
    return values[0];
  }

  void count_uses(const Expr& expr) {
    if (expr.kind == Kind::Variable) ++uses_[expr.index];
    for (const auto& arg : expr.args) count_uses(*arg);
  }

  // The factors of the top-level product, with `inverse` for those divided by.
  void flatten(const Expr& expr, bool inverse) {
    switch (expr.kind) {
      case Kind::Multiply:
        flatten(*expr.args[0], inverse);
        flatten(*expr.args[1], inverse);
        break;
      case Kind::Divide:
        flatten(*expr.args[0], inverse);
        flatten(*expr.args[1], !inverse);
        break;
      case Kind::Negate:
        sign_ = -sign_;
        flatten(*expr.args[0], inverse);
        break;
      default:
        factors_.emplace_back(&expr, inverse);
    }
  }

  // The one bare j-variable factor that appears nowhere else: A in "... * A".
  const Expr* find_weight() const {
    const Expr* weight = nullptr;
    for (const auto& [factor, inverse] : factors_) {
      if (inverse || factor->kind != Kind::Variable || factor->category != Variable::Category::J ||
          uses_.at(factor->index) != 1) {
        continue;
      }
      if (weight) {
        fail(factor->position, "the formula is linear in both " + weight->name + " and " +
                                   factor->name +
                                   "; a compiled kernel is linear in exactly one j-variable");
      }
      weight = factor;
    }
    if (!weight) {
      fail(std::string::npos,
           "the formula must be linear in a j-variable, e.g. '... * A' with A = Vj(m) used "
           "nowhere else");
    }
    return weight;
  }

  // --- distances ---

  // Records X and Y of a distance between the variables `a` and `b`; every
  // distance in the formula must be between the same two.
  void distance(const Expr& expr, const Expr& a, const Expr& b) {
    const std::string where = "in " + text_of(source_, expr) + ", ";
    if (a.kind != Kind::Variable || b.kind != Kind::Variable) {
      unsupported(expr, where + "a distance that is not between two variables");
    }
    if (a.category == b.category || a.category == Variable::Category::Parameter ||
        b.category == Variable::Category::Parameter) {
      fail(expr.position, where + "the distance must be between an i-variable (Vi) and a " +
                              "j-variable (Vj), but " + a.name + " is " +
                              category_name(a.category) + " and " + b.name + " is " +
                              category_name(b.category));
    }
    const Expr& x = a.category == Variable::Category::I ? a : b;
    const Expr& y = a.category == Variable::Category::I ? b : a;
    if (x.dimension != y.dimension) {
      fail(expr.position, where + x.name + " has dimension " + std::to_string(x.dimension) +
                              " but " + y.name + " has dimension " + std::to_string(y.dimension) +
                              "; a radial kernel needs points of the same dimension");
    }
    if (!target_) {
      target_ = &x;
      source_variable_ = &y;
    } else if (target_->index != x.index || source_variable_->index != y.index) {
      fail(expr.position, where + "the distance is between " + x.name + " and " + y.name +
                              ", but elsewhere between " + target_->name + " and " +
                              source_variable_->name + "; a radial kernel has one distance");
    }
  }

  // X - Y or Y - X, inside Norm2, SqNorm2 or a scalar product: whether the
  // i-variable comes first.
  bool difference(const Expr& expr, const Expr& operand) {
    if (operand.kind != Kind::Subtract) {
      unsupported(expr, text_of(source_, expr) + " (not of a difference X-Y)");
    }
    distance(expr, *operand.args[0], *operand.args[1]);
    return operand.args[0]->category == Variable::Category::I;
  }

  // --- the algebra of terms ---

  Poly multiply(const Poly& a, const Poly& b, std::size_t position) const {
    Poly p;
    for (int i = 0; i <= kMaxDegree; ++i) {
      for (int j = 0; j <= kMaxDegree; ++j) {
        if (!a.has(i) || !b.has(j)) continue;
        if (i + j > kMaxDegree) {
          unsupported(position, "a polynomial of degree above " + std::to_string(kMaxDegree) +
                                    " in the distance");
        }
        p.c[i + j] += a.c[i] * b.c[j];
        p.terms |= 1u << (i + j);
      }
    }
    return p;
  }

  static void add_root(Term& t, const Poly& base, int half_powers) {
    for (auto root = t.roots.begin(); root != t.roots.end(); ++root) {
      if (root->base == base) {
        root->half_powers += half_powers;
        if (root->half_powers == 0) t.roots.erase(root);
        return;
      }
    }
    t.roots.push_back({base, half_powers});
  }

  Term multiply(const Term& a, const Term& b, const Expr& where) const {
    Term t;
    t.factor = multiply(a.factor, b.factor, where.position);
    t.exponent = a.exponent + b.exponent;
    t.roots = a.roots;
    for (const auto& root : b.roots) add_root(t, root.base, root.half_powers);
    return t;
  }

  Term reciprocal(const Term& a, const Expr& where) const {
    Term t;
    if (a.factor.is_constant()) {
      if (a.factor.c[0] == 0)
        fail(where.position, "division by zero in " + text_of(source_, where));
      t.factor = Poly::constant(1 / a.factor.c[0]);
    } else {
      add_root(t, a.factor, -2);
    }
    t.exponent = scaled(a.exponent, -1);
    for (const auto& root : a.roots) add_root(t, root.base, -root.half_powers);
    return t;
  }

  Term square_root(const Term& a, const Expr& where) const {
    Term t;
    const Poly& p = a.factor;
    const int degree = p.degree();
    if (p.terms == 1u << degree && degree % 2 == 0) {
      // c r^(2k): the square root of a monomial is a monomial (Sqrt(SqDist(X,Y)) = r).
      if (p.c[degree] < 0) {
        fail(where.position, text_of(source_, where) + " is the square root of " + to_string(p) +
                                 ", which is negative");
      }
      t.factor = scaled(Poly::power(degree / 2), std::sqrt(p.c[degree]));
    } else {
      add_root(t, p, 1);
    }
    t.exponent = scaled(a.exponent, 0.5);
    for (const auto& root : a.roots) {
      if (root.half_powers % 2 != 0) unsupported(where, "a fourth root");
      add_root(t, root.base, root.half_powers / 2);
    }
    return t;
  }

  Term power(const Term& a, double exponent, const Expr& where) const {
    if (std::fabs(exponent) > kMaxDegree) {
      unsupported(where, "Pow with an exponent above " + std::to_string(kMaxDegree));
    }
    const int n = static_cast<int>(exponent);
    Term t;
    for (int k = 0; k < std::abs(n); ++k) t = multiply(t, a, where);
    return n < 0 ? reciprocal(t, where) : t;
  }

  Term add(const Term& a, const Term& b, const Expr& where) const {
    if (!a.is_polynomial() || !b.is_polynomial()) {
      unsupported(where, "the sum " + text_of(source_, where) +
                             " (a sum involving Exp, Inv or Sqrt of the distance)");
    }
    return Term::polynomial(a.factor + b.factor);
  }

  // --- the walk ---

  Term analyse(const Expr& expr) {
    switch (expr.kind) {
      case Kind::Number:
        return Term::constant(expr.number);
      case Kind::Variable:
        if (expr.category != Variable::Category::Parameter) {
          unsupported(expr, expr.name +
                                " outside a distance (a compiled kernel uses the points "
                                "only through SqDist(X,Y), Norm2(X-Y), SqNorm2(X-Y) or "
                                "Sqrt(SqDist(X,Y)), and is linear in one j-variable)");
        }
        return Term::constant(parameter_value(expr));
      case Kind::Negate:
        return multiply(Term::constant(-1), analyse(*expr.args[0]), expr);
      case Kind::Call:
        return call(expr);
      case Kind::ScalarProduct:
        if (expr.args[0]->kind == Kind::Subtract && expr.args[1]->kind == Kind::Subtract) {
          // (X-Y|X-Y) = r^2 and (X-Y|Y-X) = -r^2
          const bool first = difference(expr, *expr.args[0]);
          const bool second = difference(expr, *expr.args[1]);
          return Term::polynomial(scaled(Poly::power(2), first == second ? 1 : -1));
        }
        if (expr.args[0]->dimension != 1) unsupported(expr, "a scalar product of vectors");
        break;
      default:
        break;
    }
    // Left to right, so that the first problem in the text is the one reported.
    const Term a = analyse(*expr.args[0]);
    const Term b = analyse(*expr.args[1]);
    if (expr.kind == Kind::Add) return add(a, b, expr);
    if (expr.kind == Kind::Subtract) return add(a, multiply(Term::constant(-1), b, expr), expr);
    if (expr.kind == Kind::Divide) return multiply(a, reciprocal(b, expr), expr);
    return multiply(a, b, expr);  // a * b, or (a|b) of scalars
  }

  Term call(const Expr& expr) {
    const FunctionInfo& function = *expr.function;
    const auto& args = expr.args;
    switch (function.id) {
      case FunctionId::SqDist:
        distance(expr, *args[0], *args[1]);
        return Term::polynomial(Poly::power(2));
      case FunctionId::SqNorm2:
        difference(expr, *args[0]);
        return Term::polynomial(Poly::power(2));
      case FunctionId::Norm2:
        difference(expr, *args[0]);
        return Term::polynomial(Poly::power(1));
      case FunctionId::Sum:
        if (args[0]->dimension != 1) unsupported(expr, "Sum of a vector");
        return analyse(*args[0]);
      case FunctionId::IntCst:
        return analyse(*args[0]);
      case FunctionId::IntInv:
        return Term::constant(1.0 / literal(*args[0]));
      case FunctionId::Pow:
        return power(analyse(*args[0]), literal(*args[1]), expr);
      default:
        break;
    }
    const Term arg = analyse(*args[0]);
    if (function.scalar && arg.is_constant()) {
      const double value = function.scalar(arg.factor.c[0]);
      if (!std::isfinite(value)) {
        fail(expr.position, text_of(source_, expr) + " evaluates to " + number(value));
      }
      return Term::constant(value);
    }
    switch (function.id) {
      case FunctionId::Exp: {
        if (!arg.is_polynomial()) unsupported(expr, "Exp of Exp, Inv or Sqrt of the distance");
        Term t;
        t.exponent = arg.factor;
        return t;
      }
      case FunctionId::Inv:
        return reciprocal(arg, expr);
      case FunctionId::Sqrt:
        return square_root(arg, expr);
      case FunctionId::Rsqrt:
        return reciprocal(square_root(arg, expr), expr);
      case FunctionId::Square:
        return multiply(arg, arg, expr);
      case FunctionId::Minus:
        return multiply(Term::constant(-1), arg, expr);
      case FunctionId::Abs: {
        // r >= 0, so a polynomial with nonnegative coefficients is its own Abs.
        bool nonnegative = arg.is_polynomial();
        for (double coefficient : arg.factor.c) nonnegative = nonnegative && coefficient >= 0;
        if (!nonnegative) unsupported(expr, "Abs(...) of a quantity that may be negative");
        return arg;
      }
      default:
        unsupported(expr, std::string(function.name) + "(...)");
    }
  }

  static double literal(const Expr& expr) {
    return expr.kind == Kind::Negate ? -literal(*expr.args[0]) : expr.number;
  }

  // --- the families ---

  KernelSpec classify(Term t) const {
    // Even positive powers of roots are polynomials: Sqrt(b)*Sqrt(b) = b.
    for (std::size_t k = 0; k < t.roots.size();) {  // (erases as it goes)
      const Root root = t.roots[k];
      if (root.half_powers > 0 && root.half_powers % 2 == 0) {
        t.roots.erase(t.roots.begin() + static_cast<std::ptrdiff_t>(k));
        for (int p = 0; p < root.half_powers / 2; ++p) {
          t.factor = multiply(t.factor, root.base, std::string::npos);
        }
      } else {
        ++k;
      }
    }
    const std::string found = "the kernel is " + to_string(t) + " with r = |" + target_->name +
                              " - " + source_variable_->name + "|";
    Poly& e = t.exponent;
    const Poly& n = t.factor;
    double variance = 1;
    if (e.has(0)) {  // Exp(c + ...) = exp(c) Exp(...)
      variance *= std::exp(e.c[0]);
      e.c[0] = 0;
      e.terms &= ~1u;
    }
    if (!n.has(0))
      fail(std::string::npos, found + ", which is not a compiled family; " + kSupported);
    variance *= n.c[0];

    KernelSpec spec;
    std::string shape;
    const unsigned r1 = 2, r2 = 4;
    if (t.roots.empty() && e.terms == r2 && n.terms == 1) {
      spec.family = KernelFamily::Gaussian;
      spec.g = 0.0 - e.c[2];  // not -0 for G = 0
      shape = "Gaussian Exp(-g*r^2)";
    } else if (t.roots.empty() && e.terms == r1 &&
               (n.terms == 1 || n.terms == (1 | r1) || n.terms == (1 | r1 | r2))) {
      spec.g = 0.0 - e.c[1];
      spec.family = n.terms == 1 ? KernelFamily::Laplacian
                    : n.has(2)   ? KernelFamily::Matern52
                                 : KernelFamily::Matern32;
      shape = n.terms == 1 ? "Laplacian Exp(-g*r)"
              : n.has(2)   ? "Matern 5/2 (1 + g*r + g^2*r^2/3)*Exp(-g*r)"
                           : "Matern 3/2 (1 + g*r)*Exp(-g*r)";
    } else if (e.terms == 0 && n.terms == 1 && t.roots.size() == 1 &&
               t.roots[0].base.terms == (1 | r2) &&
               (t.roots[0].half_powers == -2 || t.roots[0].half_powers == -1)) {
      const Root& root = t.roots[0];
      const double b0 = root.base.c[0];
      spec.g = root.base.c[2] / b0;
      variance *= std::pow(b0, root.half_powers / 2.0);
      spec.family =
          root.half_powers == -2 ? KernelFamily::Cauchy : KernelFamily::InverseMultiquadric;
      shape = root.half_powers == -2 ? "Cauchy 1/(1 + g*r^2)"
                                     : "inverse multiquadric "
                                       "1/Sqrt(1 + g*r^2)";
    } else {
      fail(std::string::npos, found + ", which is not a compiled family; " + kSupported);
    }
    if (!(spec.g > 0) || !std::isfinite(spec.g)) {
      fail(std::string::npos, found + ": the " + shape +
                                  " kernel needs g > 0 and finite, got g = " + number(spec.g) +
                                  " (check the parameter values)");
    }
    if (!(variance > 0) || !std::isfinite(variance)) {
      fail(std::string::npos, found +
                                  ": the kernel's constant factor (its variance) must be "
                                  "positive and finite, got " +
                                  number(variance));
    }
    spec.variance = variance;
    const double a1 = n.c[1] / n.c[0], a2 = n.c[2] / n.c[0];
    if ((n.has(1) && !nearly_equal(a1, spec.g)) ||
        (n.has(2) && !nearly_equal(a2, spec.g * spec.g / 3))) {
      fail(std::string::npos,
           found + ", which has the shape of the " + shape +
               " kernel but not its coefficients: " + "with g = " + number(spec.g) +
               " from Exp, the polynomial must be 1 + " + number(spec.g) + "*r" +
               (n.has(2) ? " + " + number(spec.g * spec.g / 3) + "*r^2" : std::string()) +
               " (relative tolerance 1e-12), got " + to_string(scaled(n, 1 / n.c[0])));
    }
    return spec;
  }

  const Source& source_;
  const std::vector<Variable>& variables_;
  const std::map<std::string, std::vector<double>>& parameters_;
  std::map<int, int> uses_;  // by argument index
  std::vector<std::pair<const Expr*, bool>> factors_;
  double sign_ = 1;
  const Expr* target_ = nullptr;  // the variables X and Y of the distance
  const Expr* source_variable_ = nullptr;
};

}  // namespace

RadialKernelProduct recognise(const Expr& root, const Source& source,
                              const std::vector<Variable>& variables,
                              const std::map<std::string, std::vector<double>>& parameters) {
  return Recogniser(source, variables, parameters).run(root);
}

}  // namespace kinterp::detail
