#pragma once
/// \file Builder.hpp
/// Builds checked expressions for the calls that check() expands into the
/// other functions of the language (derivatives, TensorDot).

#include "Diagnostics.hpp"
#include "Expr.hpp"
#include "Functions.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace kinterp::detail {

/// Makes checked nodes placed at a call that check() expands (a derivative,
/// TensorDot), for messages, each distinct node once, and the algebra on them
/// with zero (nullptr) and the constants folded. `what` names the expansion
/// in messages ("derivative").
class Builder {
 public:
  using Kind = Expr::Kind;
  using Node = std::shared_ptr<Expr>;

  /// The most nodes one expansion may create, and the most nodes its result
  /// may have when read as a tree (shared nodes counted each time they are
  /// used): the later passes walk it as a tree.
  static constexpr long kMaxNewNodes = 100000;
  static constexpr double kMaxTreeSize = 1e6;

  Builder(const Expr& call, const Source& source, std::string what)
      : call_(call), source_(source), what_(std::move(what)) {}

  Node number(double value) {
    Expr expr;
    expr.kind = Kind::Number;
    expr.number = value;
    expr.integer = value == std::floor(value) && std::fabs(value) <= kMaxDimension;
    expr.dimension = 1;
    return make(std::move(expr));
  }

  // A call of the function `name` (a row of the table).
  Node call(std::string_view name, std::vector<Node> args, int dimension) {
    Expr expr;
    expr.kind = Kind::Call;
    expr.function = find_function(name);
    expr.name = std::string(name);
    expr.args = std::move(args);
    expr.dimension = dimension;
    return make(std::move(expr));
  }

  // `like`, a call, with other arguments.
  Node call_like(const Expr& like, std::vector<Node> args) {
    return call(like.function->name, std::move(args), like.dimension);
  }

  Node unary(std::string_view name, const Node& a) { return call(name, {a}, a->dimension); }

  // 0 of dimension `dimension` where `x` is zero.
  Node or_zero(const Node& x, int dimension) {
    if (x) return x;
    if (dimension == 1) return number(0);
    return call("Zero", {number(dimension)}, dimension);
  }

  // x with dimension `dimension`, broadcasting a scalar.
  Node widen(const Node& x, int dimension) {
    if (!x || x->dimension == dimension) return x;
    return binary(Kind::Add, x, or_zero(nullptr, dimension));
  }

  // e_l, the l-th unit vector of dimension `dimension`.
  Node unit(int l, int dimension) {
    if (dimension == 1) return number(1);
    return call("OneHot", {number(l), number(dimension)}, dimension);
  }

  Node add(const Node& x, const Node& y) {
    if (!x) return y;
    if (!y) return x;
    if (is_number(*x) && is_number(*y)) return number(x->number + y->number);
    return binary(Kind::Add, x, y);
  }

  Node sub(const Node& x, const Node& y) {
    if (!y) return x;
    if (!x) return neg(y);
    if (is_number(*x) && is_number(*y)) return number(x->number - y->number);
    return binary(Kind::Subtract, x, y);
  }

  Node neg(const Node& x) {
    if (!x) return nullptr;
    if (is_number(*x)) return number(-x->number);
    if (x->kind == Kind::Negate) return x->args[0];
    return make_node(Kind::Negate, {x}, x->dimension);
  }

  Node mul(const Node& x, const Node& y) {
    if (!x || !y || is_number(*x, 0) || is_number(*y, 0)) return nullptr;
    if (is_number(*x) && is_number(*y)) return number(x->number * y->number);
    if (is_number(*x, 1)) return y;  // a number has dimension 1
    if (is_number(*y, 1)) return x;
    if (is_number(*x, -1)) return neg(y);
    if (is_number(*y, -1)) return neg(x);
    return binary(Kind::Multiply, x, y);
  }

  Node div(const Node& x, const Node& y) {
    if (!x) return nullptr;
    if (is_number(*y, 1)) return x;
    return binary(Kind::Divide, x, y);
  }

  // (x|y) for vectors of equal dimension.
  Node dot(const Node& x, const Node& y) {
    if (!x || !y) return nullptr;
    if (x->dimension == 1) return mul(x, y);
    int l = 0;
    if (is_unit(*y, l)) return elem(x, l);
    if (is_unit(*x, l)) return elem(y, l);
    return make_node(Kind::ScalarProduct, {x, y}, 1);
  }

  Node sum(const Node& x) {
    if (!x || x->dimension == 1) return x;
    return call("Sum", {x}, 1);
  }

  Node elem(const Node& x, int m) {
    if (!x || x->dimension == 1) return x;
    int l = 0;
    if (is_unit(*x, l)) return number(l == m ? 1 : 0);
    return call("Elem", {x, number(m)}, 1);
  }

  // x / |x|, the derivative of the norm |x| = `norm`, and 0 at x = 0: the
  // norm has no derivative there, and 0 is its smallest subgradient. It makes
  // the derivatives of kernels that are smooth at r = 0 through Norm2(x - y)
  // (Matern 3/2, 5/2) exact at coinciding points, where x / |x| would be 0/0.
  Node unit_or_zero(const Node& x, const Node& norm) {
    return call("IfElse", {neg(norm), number(0), div(x, norm)}, x->dimension);
  }

  // Components [start, start + length) of x.
  Node extract(const Node& x, int start, int length) {
    if (length == x->dimension) return x;
    if (length == 1) return elem(x, start);
    return call("Extract", {x, number(start), number(length)}, length);
  }

  // x placed at component `start` of a vector of dimension `dimension`, zeros around.
  Node embed(const Node& x, int start, int dimension) {
    if (!x || x->dimension == dimension) return x;
    if (x->dimension == 1) return mul(x, unit(start, dimension));
    std::vector<Node> parts;
    if (start > 0) parts.push_back(or_zero(nullptr, start));
    parts.push_back(x);
    const int rest = dimension - start - x->dimension;
    if (rest > 0) parts.push_back(or_zero(nullptr, rest));
    return concat(parts, 0, parts.size());
  }

  // The parts side by side, in a balanced tree of Concat.
  Node concat(const std::vector<Node>& parts, std::size_t begin, std::size_t end) {
    if (end - begin == 1) return parts[begin];
    const std::size_t middle = begin + (end - begin) / 2;
    const Node left = concat(parts, begin, middle), right = concat(parts, middle, end);
    return call("Concat", {left, right}, left->dimension + right->dimension);
  }

  /// `result`, unless read as a tree it has more than kMaxTreeSize nodes.
  Expr finish(const Node& result) const {
    std::unordered_map<const Expr*, double> sizes;
    if (tree_size(*result, sizes) > kMaxTreeSize) {
      fail("the " + what_ + " has more than " + std::to_string(long(kMaxTreeSize)) + " terms; " +
           smaller());
    }
    return *result;
  }

  [[noreturn]] void fail(const std::string& message) const {
    detail::fail(source_, call_.position, "in " + text_of(source_, call_) + ", " + message);
  }

 private:
  // The number of nodes of `node` read as a tree, up to about kMaxTreeSize.
  static double tree_size(const Expr& node, std::unordered_map<const Expr*, double>& sizes) {
    const auto found = sizes.find(&node);
    if (found != sizes.end()) return found->second;
    double size = 1;
    for (const auto& arg : node.args) {
      size += tree_size(*arg, sizes);
      if (size > kMaxTreeSize) break;
    }
    sizes.emplace(&node, size);
    return size;
  }

  static bool is_number(const Expr& x) { return x.kind == Kind::Number; }
  static bool is_number(const Expr& x, double value) { return is_number(x) && x.number == value; }

  // OneHot(l, d) with an integer literal l in 0..d-1.
  static bool is_unit(const Expr& x, int& l) {
    if (x.kind != Kind::Call || x.function->id != FunctionId::OneHot) return false;
    const Expr& index = *x.args[0];
    if (!is_number(index) || index.number != std::floor(index.number) || index.number < 0 ||
        index.number >= x.dimension) {
      return false;
    }
    l = static_cast<int>(index.number);
    return true;
  }

  // + - * / with KeOps' broadcasting of a scalar.
  Node binary(Kind kind, const Node& x, const Node& y) {
    return make_node(kind, {x, y}, std::max(x->dimension, y->dimension));
  }

  Node make_node(Kind kind, std::vector<Node> args, int dimension) {
    Expr expr;
    expr.kind = kind;
    expr.args = std::move(args);
    expr.dimension = dimension;
    return make(std::move(expr));
  }

  // The node equal to `expr` made before, or a new one.
  Node make(Expr expr) {
    std::string key(reinterpret_cast<const char*>(&expr.kind), sizeof expr.kind);
    key.append(reinterpret_cast<const char*>(&expr.number), sizeof expr.number);
    key.append(reinterpret_cast<const char*>(&expr.dimension), sizeof expr.dimension);
    key += expr.name;
    key += '(';
    for (const auto& arg : expr.args) {
      const Expr* pointer = arg.get();
      key.append(reinterpret_cast<const char*>(&pointer), sizeof pointer);
    }
    const auto found = made_.find(key);
    if (found != made_.end()) return found->second;
    if (++created_ > kMaxNewNodes) {
      fail("the " + what_ + " needs more than " + std::to_string(kMaxNewNodes) + " operations; " +
           smaller());
    }
    expr.position = call_.position;
    expr.begin = call_.begin;
    expr.end = call_.end;
    for (const auto& arg : expr.args) expr.height = std::max(expr.height, arg->height + 1);
    if (expr.height > kMaxHeight) {
      fail("the " + what_ + "'s expression tree is more than " + std::to_string(kMaxHeight) +
           " levels deep; " + smaller());
    }
    Node node = std::make_shared<Expr>(std::move(expr));
    made_.emplace(std::move(key), node);
    return node;
  }

  std::string smaller() const {
    return what_ == "derivative" ? "differentiate a smaller formula, or fewer times"
                                 : "write a smaller " + what_;
  }

  const Expr& call_;
  const Source& source_;
  std::string what_;
  std::map<std::string, Node> made_;
  long created_ = 0;
};

}  // namespace kinterp::detail
