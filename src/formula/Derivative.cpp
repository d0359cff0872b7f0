// Symbolic differentiation of checked expressions, in two modes that share
// the builder and the derivatives of the elementwise functions:
// - forward (Tangent): the derivative of each node along one direction of
//   the variable, with the node's dimension;
// - reverse (Adjoint): the gradient of (f|e) with respect to each node, from
//   f down to the variable.
// nullptr stands for a derivative that is zero, so that the terms a variable
// does not reach never become nodes.

#include "Derivative.hpp"

#include "Builder.hpp"
#include "Functions.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace kinterp::detail {

namespace {

using Kind = Expr::Kind;
using Node = std::shared_ptr<Expr>;

double literal(const Expr& expr) {
  return expr.kind == Kind::Negate ? -literal(*expr.args[0]) : expr.number;
}

// Constants (IntCst, IntInv, Zero) and the piecewise constant functions and
// comparisons: their derivative is 0 wherever it exists.
bool constant_almost_everywhere(Opcode op) {
  switch (op) {
    case Opcode::Zero:
    case Opcode::Sign:
    case Opcode::Step:
    case Opcode::Round:
    case Opcode::Floor:
    case Opcode::OneHot:
    case Opcode::Equal:
    case Opcode::NotEqual:
    case Opcode::LessThan:
    case Opcode::LessOrEqual:
      return true;
    default:
      return false;
  }
}

// g times the derivative of `self`, a function of one argument x applied
// to each component (or Normalize, whose Jacobian is symmetric): the same
// product in forward mode (g the tangent of x) and in reverse mode (g the
// adjoint of self).
Node scaled(Builder& b, const Node& self, const Node& g) {
  const Expr& e = *self;
  const Node& x = e.args[0];
  switch (e.function->op) {
    case Opcode::Exp:
      return b.mul(self, g);
    case Opcode::Log:
      return b.div(g, x);
    case Opcode::Sqrt:
      return b.div(g, b.mul(b.number(2), self));
    case Opcode::Rsqrt:
      return b.mul(b.mul(b.number(-0.5), b.div(self, x)), g);
    case Opcode::Inv:
      return b.neg(b.mul(b.unary("Square", self), g));
    case Opcode::Square:
      return b.mul(b.mul(b.number(2), x), g);
    case Opcode::Pow: {
      const double n = literal(*e.args[1]);
      if (n == 0) return nullptr;
      const Node power = n == 1   ? b.number(1)
                         : n == 2 ? x
                                  : b.call("Pow", {x, b.number(n - 1)}, x->dimension);
      return b.mul(b.mul(b.number(n), power), g);
    }
    case Opcode::Abs:
      return b.mul(b.unary("Sign", x), g);
    case Opcode::ReLU:
      return b.mul(b.unary("Step", x), g);
    case Opcode::Sin:
      return b.mul(b.unary("Cos", x), g);
    case Opcode::Cos:
      return b.neg(b.mul(b.unary("Sin", x), g));
    case Opcode::Atan:
      return b.div(g, b.add(b.number(1), b.unary("Square", x)));
    case Opcode::Asin:
    case Opcode::Acos: {
      const Node slope = b.unary("Rsqrt", b.sub(b.number(1), b.unary("Square", x)));
      const Node along = b.mul(slope, g);
      return e.function->op == Opcode::Asin ? along : b.neg(along);
    }
    case Opcode::XLogX:
      return b.mul(b.add(b.unary("Log", x), b.number(1)), g);
    case Opcode::SinXDivX: {  // (cos x - sin x / x) / x, and its limit 0 at x = 0
      const Node slope = b.div(b.sub(b.unary("Cos", x), self), x);
      const Node at_zero = b.neg(b.unary("Abs", x));
      return b.mul(b.call("IfElse", {at_zero, b.number(0), slope}, x->dimension), g);
    }
    case Opcode::Normalize: {  // (g - n (n|g)) / |x|
      const Node along = b.sub(g, b.mul(self, b.dot(self, g)));
      return b.div(along, b.call("Norm2", {x}, 1));
    }
    default:
      b.fail(std::string(e.function->name) + " has no derivative in kinterp yet");
  }
}

// The derivatives of the nodes of a formula along one direction `direction`
// of the variable with argument index `variable`.
class Tangent {
 public:
  Tangent(Builder& builder, int variable, Node direction)
      : b_(builder), variable_(variable), direction_(std::move(direction)) {}

  Node of(const Node& node) {
    const auto found = done_.find(node.get());
    if (found != done_.end()) return found->second;
    Node tangent = rule(node);
    done_.emplace(node.get(), tangent);
    return tangent;
  }

 private:
  Node rule(const Node& self) {
    const Expr& e = *self;
    const auto& a = e.args;
    switch (e.kind) {
      case Kind::Number:
        return nullptr;
      case Kind::Variable:
        return e.index == variable_ ? direction_ : nullptr;
      case Kind::Negate:
        return b_.neg(of(a[0]));
      case Kind::Add:
        return b_.widen(b_.add(of(a[0]), of(a[1])), e.dimension);
      case Kind::Subtract:
        return b_.widen(b_.sub(of(a[0]), of(a[1])), e.dimension);
      case Kind::Multiply:
        return b_.widen(b_.add(b_.mul(of(a[0]), a[1]), b_.mul(a[0], of(a[1]))), e.dimension);
      case Kind::Divide:  // (da - (a/b) db) / b
        return b_.widen(b_.div(b_.sub(of(a[0]), b_.mul(self, of(a[1]))), a[1]), e.dimension);
      case Kind::ScalarProduct:
        return b_.add(b_.dot(of(a[0]), a[1]), b_.dot(a[0], of(a[1])));
      case Kind::Call:
        break;
    }
    if (e.function->id == FunctionId::SumT) {
      const Node d = of(a[0]);
      return d ? b_.call_like(e, {d, a[1]}) : nullptr;
    }
    if (constant_almost_everywhere(e.function->op)) return nullptr;
    switch (e.function->op) {
      case Opcode::Negate:  // Minus
        return b_.neg(of(a[0]));
      case Opcode::Sum:
        return b_.sum(of(a[0]));
      case Opcode::Extract:   // Elem, Extract
      case Opcode::Inject: {  // ElemT, ExtractT
        const Node d = of(a[0]);
        if (!d) return nullptr;
        std::vector<Node> args = a;
        args[0] = d;
        return b_.call_like(e, std::move(args));
      }
      case Opcode::Concat: {
        const Node f = of(a[0]), g = of(a[1]);
        if (!f && !g) return nullptr;
        return b_.call_like(e, {b_.or_zero(f, a[0]->dimension), b_.or_zero(g, a[1]->dimension)});
      }
      case Opcode::IfElse: {
        const Node x = of(a[1]), y = of(a[2]);
        if (!x && !y) return nullptr;
        return b_.call_like(e, {a[0], b_.or_zero(x, 1), b_.or_zero(y, 1)});
      }
      case Opcode::MatVecMult:
      case Opcode::VecMatMult:
      case Opcode::TensorProd:
        return b_.add(bilinear(e, of(a[0]), a[1]), bilinear(e, a[0], of(a[1])));
      case Opcode::Powf: {  // a^b (b log(a))' = a^b (b da / a + log(a) db)
        const Node da = of(a[0]), db = of(a[1]);
        const Node along_a = da ? b_.mul(b_.mul(self, b_.div(a[1], a[0])), da) : nullptr;
        const Node along_b = db ? b_.mul(b_.mul(self, b_.unary("Log", a[0])), db) : nullptr;
        return b_.widen(b_.add(along_a, along_b), e.dimension);
      }
      case Opcode::Atan2: {  // atan2(y, x)' = (x dy - y dx) / (x^2 + y^2)
        const Node dy = of(a[0]), dx = of(a[1]);
        if (!dy && !dx) return nullptr;
        const Node radius = b_.add(b_.unary("Square", a[1]), b_.unary("Square", a[0]));
        return b_.widen(b_.div(b_.sub(b_.mul(a[1], dy), b_.mul(a[0], dx)), radius), e.dimension);
      }
      case Opcode::Clamp: {  // the derivative of whichever of f, lo, hi is the value
        const Node df = of(a[0]), dlo = of(a[1]), dhi = of(a[2]);
        if (!df && !dlo && !dhi) return nullptr;
        const Node below_hi = b_.call(
            "IfElse", {b_.sub(a[2], a[0]), b_.or_zero(df, 1), b_.or_zero(dhi, 1)}, e.dimension);
        return b_.call("IfElse", {b_.sub(a[0], a[1]), below_hi, b_.or_zero(dlo, 1)}, e.dimension);
      }
      case Opcode::Mod: {  // a - n floor((a - c) / n)
        const Node da = of(a[0]), dn = of(a[1]);
        const Node turns = b_.unary("Floor", b_.div(b_.sub(a[0], a[2]), a[1]));
        return b_.widen(b_.sub(da, b_.mul(dn, turns)), e.dimension);
      }
      case Opcode::SqDist:
        return b_.mul(b_.number(2), b_.dot(b_.sub(a[0], a[1]), b_.sub(of(a[0]), of(a[1]))));
      case Opcode::SqNorm2:
        return b_.mul(b_.number(2), b_.dot(a[0], of(a[0])));
      case Opcode::Norm2:
        return b_.dot(b_.unit_or_zero(a[0], self), of(a[0]));
      case Opcode::Max:
      case Opcode::Min: {  // the derivative of the component(s) at the extreme
        const Node d = of(a[0]);
        if (!d) return nullptr;
        const Node gap = e.function->op == Opcode::Max ? b_.sub(a[0], self) : b_.sub(self, a[0]);
        return b_.sum(b_.call("IfElse", {gap, d, b_.number(0)}, a[0]->dimension));
      }
      case Opcode::WeightedSqNorm:
        return quadratic(a[0], of(a[0]), a[1], of(a[1]));
      case Opcode::WeightedSqDist:
        return quadratic(a[0], of(a[0]), b_.sub(a[1], a[2]), b_.sub(of(a[1]), of(a[2])));
      default:
        break;
    }
    const Node d = of(a[0]);
    if (!d) return nullptr;
    return scaled(b_, self, d);
  }

  // The product `like` (MatVecMult, VecMatMult, TensorProd) of x and y.
  Node bilinear(const Expr& like, const Node& x, const Node& y) {
    if (!x || !y) return nullptr;
    return b_.call_like(like, {x, y});
  }

  // (x | S y) for the weight s of WeightedSqNorm: a scalar, a diagonal, or a
  // full matrix of dimension d * d.
  Node form(const Node& s, const Node& x, const Node& y) {
    if (!s || !x || !y) return nullptr;
    const int d = x->dimension;
    if (d > 1 && s->dimension == d * d) {
      return b_.dot(x, b_.call("MatVecMult", {s, y}, d));
    }
    return b_.sum(b_.mul(b_.mul(x, s), y));
  }

  // The derivative of (f | S f).
  Node quadratic(const Node& s, const Node& ds, const Node& f, const Node& df) {
    return b_.add(b_.add(form(ds, f, f), form(s, df, f)), form(s, f, df));
  }

  Builder& b_;
  int variable_;
  Node direction_;
  std::unordered_map<const Expr*, Node> done_;
};

// The gradients of (f|e) with respect to the nodes of f, from f down to the
// variable (KeOps' DiffT): one pass whatever the variable's dimension, in
// vector operations, as a hand-written gradient would be.
class Adjoint {
 public:
  Adjoint(Builder& builder, int variable) : b_(builder), variable_(variable) {}

  // d(f|e)/dv, or nullptr where f does not depend on v.
  Node gradient(const Node& f, const Node& e) {
    std::vector<Node> order;  // every node that depends on v, after its arguments
    depends(f, order);
    if (order.empty()) return nullptr;
    adjoint_[f.get()] = e;
    Node total;
    for (auto node = order.rbegin(); node != order.rend(); ++node) {
      const Node w = adjoint_[node->get()];  // complete: every user came before
      if (!w) continue;
      if ((*node)->kind == Kind::Variable) {
        total = b_.add(total, w);
      } else {
        propagate(*node, w);
      }
    }
    return total;
  }

 private:
  bool depends(const Node& node, std::vector<Node>& order) {
    const auto found = depends_.find(node.get());
    if (found != depends_.end()) return found->second;
    bool result = node->kind == Kind::Variable && node->index == variable_;
    for (const auto& arg : node->args) result = depends(arg, order) || result;
    depends_.emplace(node.get(), result);
    if (result) order.push_back(node);
    return result;
  }

  // Adds g to the adjoint of `arg`, summing what a broadcast spread.
  void send(const Node& arg, Node g) {
    if (!g || !depends_.at(arg.get())) return;
    if (g->dimension > arg->dimension) g = b_.sum(g);
    g = b_.widen(g, arg->dimension);
    Node& adjoint = adjoint_[arg.get()];
    adjoint = b_.add(adjoint, g);
  }

  // The adjoint w of `self` spread over its arguments.
  void propagate(const Node& self, const Node& w) {
    const Expr& e = *self;
    const auto& a = e.args;
    switch (e.kind) {
      case Kind::Negate:
        return send(a[0], b_.neg(w));
      case Kind::Add:
        send(a[0], w);
        return send(a[1], w);
      case Kind::Subtract:
        send(a[0], w);
        return send(a[1], b_.neg(w));
      case Kind::Multiply:
      case Kind::ScalarProduct:
        send(a[0], b_.mul(w, a[1]));
        return send(a[1], b_.mul(w, a[0]));
      case Kind::Divide:
        send(a[0], b_.div(w, a[1]));
        return send(a[1], b_.neg(b_.mul(w, b_.div(self, a[1]))));
      default:
        break;
    }
    const Node zero = b_.number(0);
    if (e.function->id == FunctionId::SumT) return send(a[0], b_.sum(w));
    if (constant_almost_everywhere(e.function->op)) return;
    switch (e.function->op) {
      case Opcode::Negate:
        return send(a[0], b_.neg(w));
      case Opcode::Sum:
        return send(a[0], w);
      case Opcode::Extract:  // Elem(f, m), Extract(f, m, d): w in place, zeros around
        return send(a[0], b_.embed(w, static_cast<int>(literal(*a[1])), a[0]->dimension));
      case Opcode::Inject: {  // ElemT(f, n, m), ExtractT(f, m, d): the part of w at f
        const bool elem = e.function->id == FunctionId::ElemT;
        const int start = static_cast<int>(literal(*a[elem ? 2 : 1]));
        return send(a[0], b_.extract(w, start, a[0]->dimension));
      }
      case Opcode::Concat:
        send(a[0], b_.extract(w, 0, a[0]->dimension));
        return send(a[1], b_.extract(w, a[0]->dimension, a[1]->dimension));
      case Opcode::IfElse:
        send(a[1], b_.call("IfElse", {a[0], w, zero}, e.dimension));
        return send(a[2], b_.call("IfElse", {a[0], zero, w}, e.dimension));
      case Opcode::MatVecMult:
        send(a[0], b_.call("TensorProd", {a[1], w}, a[0]->dimension));
        return send(a[1], b_.call("VecMatMult", {w, a[0]}, a[1]->dimension));
      case Opcode::VecMatMult:
        send(a[0], b_.call("MatVecMult", {a[1], w}, a[0]->dimension));
        return send(a[1], b_.call("TensorProd", {w, a[0]}, a[1]->dimension));
      case Opcode::TensorProd:
        send(a[0], b_.call("VecMatMult", {a[1], w}, a[0]->dimension));
        return send(a[1], b_.call("MatVecMult", {w, a[0]}, a[1]->dimension));
      case Opcode::Powf:  // a^b: b a^b / a and a^b log(a)
        send(a[0], b_.mul(w, b_.mul(self, b_.div(a[1], a[0]))));
        return send(a[1], b_.mul(w, b_.mul(self, b_.unary("Log", a[0]))));
      case Opcode::Atan2: {  // atan2(y, x): x / r^2 and -y / r^2
        const Node radius = b_.add(b_.unary("Square", a[1]), b_.unary("Square", a[0]));
        send(a[0], b_.mul(w, b_.div(a[1], radius)));
        return send(a[1], b_.neg(b_.mul(w, b_.div(a[0], radius))));
      }
      case Opcode::Clamp: {  // to whichever of f, lo, hi is the value
        const Node above_lo = b_.sub(a[0], a[1]), below_hi = b_.sub(a[2], a[0]);
        const int d = e.dimension;
        send(a[0],
             b_.call("IfElse", {above_lo, b_.call("IfElse", {below_hi, w, zero}, d), zero}, d));
        send(a[1], b_.call("IfElse", {above_lo, zero, w}, d));
        return send(a[2], b_.call("IfElse",
                                  {above_lo, b_.call("IfElse", {below_hi, zero, w}, d), zero}, d));
      }
      case Opcode::Mod:  // a - n floor((a - c) / n)
        send(a[0], w);
        return send(a[1], b_.neg(b_.mul(w, b_.unary("Floor", b_.div(b_.sub(a[0], a[2]), a[1])))));
      case Opcode::SqDist: {
        const Node g = b_.mul(b_.mul(b_.number(2), w), b_.sub(a[0], a[1]));
        send(a[0], g);
        return send(a[1], b_.neg(g));
      }
      case Opcode::SqNorm2:
        return send(a[0], b_.mul(b_.mul(b_.number(2), w), a[0]));
      case Opcode::Norm2:
        return send(a[0], b_.mul(w, b_.unit_or_zero(a[0], self)));
      case Opcode::Max:
      case Opcode::Min: {  // to the component(s) at the extreme
        const Node gap = e.function->op == Opcode::Max ? b_.sub(a[0], self) : b_.sub(self, a[0]);
        return send(a[0], b_.call("IfElse", {gap, w, zero}, a[0]->dimension));
      }
      case Opcode::WeightedSqNorm:
        return quadratic(w, a[0], a[1], [&](const Node& g) { send(a[1], g); });
      case Opcode::WeightedSqDist:
        return quadratic(w, a[0], b_.sub(a[1], a[2]), [&](const Node& g) {
          send(a[1], g);
          send(a[2], b_.neg(g));
        });
      default:
        return send(a[0], scaled(b_, self, w));
    }
  }

  // The adjoint w of (f | S f) spread over s (scalar, diagonal or d x d)
  // and, through `to_f`, over f.
  template <class ToF>
  void quadratic(const Node& w, const Node& s, const Node& f, const ToF& to_f) {
    const int d = f->dimension;
    const bool matrix = d > 1 && s->dimension == d * d;
    to_f(matrix
             ? b_.mul(w, b_.add(b_.call("MatVecMult", {s, f}, d), b_.call("VecMatMult", {f, s}, d)))
             : b_.mul(b_.mul(b_.number(2), w), b_.mul(s, f)));
    send(s, matrix                       ? b_.mul(w, b_.call("TensorProd", {f, f}, d * d))
            : s->dimension == d && d > 1 ? b_.mul(w, b_.mul(f, f))
                                         : b_.mul(w, b_.call("SqNorm2", {f}, 1)));
  }

  Builder& b_;
  int variable_;
  std::unordered_map<const Expr*, bool> depends_;
  std::unordered_map<const Expr*, Node> adjoint_;
};

}  // namespace

bool is_derivative(const Expr& call) {
  if (call.kind != Kind::Call) return false;
  switch (call.function->id) {
    case FunctionId::Grad:
    case FunctionId::Diff:
    case FunctionId::Divergence:
    case FunctionId::Laplacian:
    case FunctionId::GradMatrix:
      return true;
    default:
      return false;
  }
}

Expr expand_derivative(const Expr& call, const Source& source) {
  Builder b(call, source, "derivative");
  const Node& f = call.args[0];
  const Expr& v = *call.args[1];
  const int dv = v.dimension;
  const auto along = [&](const Node& direction, const Node& of) {
    return Tangent(b, v.index, direction).of(of);
  };
  const auto gradient = [&](const Node& e) {
    return b.or_zero(Adjoint(b, v.index).gradient(f, e), dv);
  };
  std::vector<Node> parts;
  switch (call.function->id) {
    case FunctionId::Grad:
      parts.push_back(gradient(call.args[2]));
      break;
    case FunctionId::GradMatrix:  // component k * dv + l: df_k/dv_l
      for (int k = 0; k < f->dimension; ++k) parts.push_back(gradient(b.unit(k, f->dimension)));
      break;
    case FunctionId::Diff:
      parts.push_back(b.or_zero(along(call.args[2], f), f->dimension));
      break;
    case FunctionId::Divergence:
    case FunctionId::Laplacian: {  // the trace of the Jacobian of f, or of f's gradient
      const Node field = call.function->id == FunctionId::Divergence ? f : gradient(b.number(1));
      Node total;
      for (int l = 0; l < dv; ++l) total = b.add(total, b.elem(along(b.unit(l, dv), field), l));
      parts.push_back(b.or_zero(total, 1));
      break;
    }
    default:
      b.fail("not a derivative");
  }
  return b.finish(b.concat(parts, 0, parts.size()));
}

}  // namespace kinterp::detail
