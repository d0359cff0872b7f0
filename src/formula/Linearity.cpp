// Whether a formula is linear in one of its variables, read off the tree: a
// node is free of the variable, linear in it, or neither, and each operation
// says what it makes of its operands' kinds. Sufficient, not necessary: a
// formula that is linear only after simplification (A*A/A) is refused.

#include "Linearity.hpp"

#include "Functions.hpp"

#include <string>

namespace kinterp::detail {

namespace {

using Kind = Expr::Kind;

enum class Degree { Free, Linear };

class LinearityCheck {
 public:
  LinearityCheck(const Source& source, int index, const std::string& name)
      : source_(source), index_(index), name_(name) {}

  Degree visit(const Expr& expr) {
    switch (expr.kind) {
      case Kind::Number:
        return Degree::Free;
      case Kind::Variable:
        return expr.index == index_ ? Degree::Linear : Degree::Free;
      case Kind::Negate:
        return visit(*expr.args[0]);
      case Kind::Add:
      case Kind::Subtract: {
        const Degree a = visit(*expr.args[0]), b = visit(*expr.args[1]);
        if (a != b) {
          refuse(expr, "adds a term without " + name_ + " to one with it (the map is affine)");
        }
        return a;
      }
      case Kind::Multiply:
      case Kind::ScalarProduct: {
        const Degree a = visit(*expr.args[0]), b = visit(*expr.args[1]);
        if (a == Degree::Linear && b == Degree::Linear) {
          refuse(expr, "multiplies two terms that both contain " + name_);
        }
        return a == Degree::Linear || b == Degree::Linear ? Degree::Linear : Degree::Free;
      }
      case Kind::Divide: {
        const Degree a = visit(*expr.args[0]);
        if (visit(*expr.args[1]) == Degree::Linear) refuse(expr, "divides by " + name_);
        return a;
      }
      case Kind::Call:
        return call(expr);
    }
    return Degree::Free;
  }

 private:
  [[noreturn]] void refuse(const Expr& expr, const std::string& why) const {
    fail(source_, expr.position,
         "the formula must be linear in " + name_ + ", but " + text_of(source_, expr) + " " + why);
  }

  Degree call(const Expr& expr) {
    const FunctionInfo& function = *expr.function;
    int linear = 0;
    std::vector<Degree> degrees;
    for (std::size_t k = 0; k < expr.args.size(); ++k) {
      if (function.integer_arguments >> k & 1u) {
        degrees.push_back(Degree::Free);
        continue;
      }
      degrees.push_back(visit(*expr.args[k]));
      linear += degrees.back() == Degree::Linear;
    }
    if (linear == 0) return Degree::Free;
    switch (function.id) {
      case FunctionId::Minus:
      case FunctionId::Sum:
      case FunctionId::Elem:
      case FunctionId::Extract:
      case FunctionId::ElemT:
      case FunctionId::ExtractT:
      case FunctionId::SumT:
        return Degree::Linear;
      case FunctionId::Concat:
        if (linear == 2) return Degree::Linear;
        refuse(expr, "joins a part without " + name_ + " to one with it (the map is affine)");
      case FunctionId::MatVecMult:
      case FunctionId::VecMatMult:
      case FunctionId::TensorProd:
        if (linear == 1) return Degree::Linear;
        refuse(expr, "multiplies two terms that both contain " + name_);
      case FunctionId::IfElse:
        if (degrees[0] == Degree::Free && degrees[1] == Degree::Linear &&
            degrees[2] == Degree::Linear) {
          return Degree::Linear;
        }
        refuse(expr, "is linear in " + name_ +
                         " only when its condition is free of it and both branches contain it");
      default:
        refuse(expr,
               "applies " + std::string(function.name) + ", which is not linear, to " + name_);
    }
  }

  const Source& source_;
  int index_;
  const std::string& name_;
};

}  // namespace

void require_linear(const Expr& root, const Source& source, const Variable& variable) {
  if (LinearityCheck(source, variable.index, variable.name).visit(root) == Degree::Free) {
    fail(source, std::string::npos,
         "the formula does not contain " + variable.name + ", so it is not linear in it");
  }
}

}  // namespace kinterp::detail
