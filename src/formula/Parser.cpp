#include "Parser.hpp"

#include "Functions.hpp"
#include "Lexer.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace kinterp::detail {

namespace {

using Kind = Expr::Kind;

constexpr int kMaxInteger = 1000000000;  // indices and dimensions fit in an int

std::optional<Variable::Category> category_of(std::string_view name) {
  if (name == "Vi") return Variable::Category::I;
  if (name == "Vj") return Variable::Category::J;
  if (name == "Pm") return Variable::Category::Parameter;
  return std::nullopt;
}

class Parser {
 public:
  explicit Parser(const Source& source) : source_(source), tokens_(tokenize(source)) {}

  std::unique_ptr<Expr> formula() {
    auto root = comparison();
    if (peek().kind != Token::Kind::End) {
      fail(peek().begin,
           "expected an operator or the end of the formula, found " + describe(peek(), source_));
    }
    return root;
  }

  Variable alias(int position) {
    const Token& name = take();
    if (name.kind != Token::Kind::Identifier) {
      fail(name.begin, "expected a name, as in \"X = Vi(3)\", found " + describe(name, source_));
    }
    if (category_of(name.text) || find_function(name.text)) {
      fail(name.begin, "the alias name " + quoted(name.text) +
                           " is reserved for a category or function; choose another name");
    }
    expect('=', "after the name " + quoted(name.text));
    const Token& category = take();
    const auto declared = category_of(category.text);
    if (category.kind != Token::Kind::Identifier || !declared) {
      std::string message =
          "expected a category Vi, Vj or Pm, found " + describe(category, source_);
      if (category.kind == Token::Kind::Identifier) {
        const std::string guess = closest(category.text, {"Vi", "Vj", "Pm"});
        message = "unknown category " + quoted(category.text) +
                  (guess.empty() ? "" : "; did you mean '" + guess + "'?") +
                  " (Vi: i-variable, Vj: j-variable, Pm: parameter)";
      }
      fail(category.begin, message);
    }
    Variable variable = declaration(category, *declared, position);
    variable.name = std::string(name.text);
    if (peek().kind != Token::Kind::End) {
      fail(peek().begin, "expected the end of the alias, found " + describe(peek(), source_));
    }
    return variable;
  }

 private:
  // Counts nested parentheses, calls and unary minus, so no input recurses deeply.
  class Nest {
   public:
    Nest(Parser& parser, std::size_t position) : depth_(&parser.depth_) {
      if (++*depth_ > kMaxNesting) {
        parser.fail(position, "the formula is nested more than " + std::to_string(kMaxNesting) +
                                  " levels deep");
      }
    }
    ~Nest() { --*depth_; }
    Nest(const Nest&) = delete;
    Nest& operator=(const Nest&) = delete;

   private:
    int* depth_;
  };

  [[noreturn]] void fail(std::size_t position, const std::string& message) const {
    detail::fail(source_, position, message);
  }

  const Token& peek() const { return tokens_[next_]; }
  const Token& take() { return next_ + 1 < tokens_.size() ? tokens_[next_++] : tokens_.back(); }

  void expect(char symbol, const std::string& context) {
    if (!peek().is(symbol)) {
      fail(peek().begin, std::string("expected '") + symbol + "' " + context + ", found " +
                             describe(peek(), source_));
    }
    take();
  }

  std::unique_ptr<Expr> node(Kind kind, std::size_t position,
                             std::vector<std::unique_ptr<Expr>> args, std::size_t begin,
                             std::size_t end) {
    auto expr = std::make_unique<Expr>();
    expr->kind = kind;
    expr->position = position;
    expr->begin = begin;
    expr->end = end;
    for (auto& arg : args) {
      expr->height = std::max(expr->height, arg->height + 1);
      expr->args.push_back(std::move(arg));
    }
    if (expr->height > kMaxHeight) {
      fail(position, "the formula is too large: its expression tree is more than " +
                         std::to_string(kMaxHeight) + " levels deep");
    }
    return expr;
  }

  std::unique_ptr<Expr> binary(Kind kind, const Token& op, std::unique_ptr<Expr> lhs,
                               std::unique_ptr<Expr> rhs) {
    const std::size_t begin = lhs->begin, end = rhs->end;
    std::vector<std::unique_ptr<Expr>> args;
    args.push_back(std::move(lhs));
    args.push_back(std::move(rhs));
    return node(kind, op.begin, std::move(args), begin, end);
  }

  // A comparison operator at the next token: its function, whether the
  // operands swap (f > g is LessThan(g, f)), and its length in tokens. Two
  // symbols form one operator only when nothing separates them.
  struct Comparison {
    const char* function;
    bool swapped;
    int tokens;
  };
  std::optional<Comparison> comparison_operator() const {
    const Token& first = peek();
    if (!(first.is('<') || first.is('>') || first.is('=') || first.is('!'))) return std::nullopt;
    const bool equals = next_ + 1 < tokens_.size() && tokens_[next_ + 1].is('=') &&
                        tokens_[next_ + 1].begin == first.end;
    if (first.is('<'))
      return Comparison{equals ? "LessOrEqual" : "LessThan", false, equals ? 2 : 1};
    if (first.is('>')) return Comparison{equals ? "LessOrEqual" : "LessThan", true, equals ? 2 : 1};
    if (!equals) {
      fail(first.begin, std::string("expected '") + first.text[0] + "=' (a comparison), found " +
                            describe(first, source_) + " alone");
    }
    return Comparison{first.is('=') ? "Equal" : "NotEqual", false, 2};
  }

  // sum [comparison sum]: KeOps' Equal, NotEqual, LessThan, LessOrEqual, 1
  // where the comparison holds and 0 elsewhere; below + and -, and not chained.
  std::unique_ptr<Expr> comparison() {
    auto lhs = sum();
    const auto op = comparison_operator();
    if (!op) return lhs;
    Nest nest(*this, peek().begin);
    const Token& at = take();
    if (op->tokens == 2) take();
    auto rhs = sum();
    if (comparison_operator()) {
      fail(peek().begin, "comparisons do not chain: write (a < b) * (b < c) for a < b < c");
    }
    const std::size_t begin = lhs->begin, end = rhs->end;
    std::vector<std::unique_ptr<Expr>> args;
    args.push_back(std::move(op->swapped ? rhs : lhs));
    args.push_back(std::move(op->swapped ? lhs : rhs));
    auto expr = node(Kind::Call, at.begin, std::move(args), begin, end);
    expr->name = op->function;
    return expr;
  }

  std::unique_ptr<Expr> sum() {
    Nest nest(*this, peek().begin);
    auto lhs = product();
    while (peek().is('+') || peek().is('-')) {
      const Token& op = take();
      lhs = binary(op.is('+') ? Kind::Add : Kind::Subtract, op, std::move(lhs), product());
    }
    return lhs;
  }

  std::unique_ptr<Expr> product() {
    auto lhs = unary();
    while (peek().is('*') || peek().is('/')) {
      const Token& op = take();
      lhs = binary(op.is('*') ? Kind::Multiply : Kind::Divide, op, std::move(lhs), unary());
    }
    return lhs;
  }

  std::unique_ptr<Expr> unary() {
    if (!peek().is('-')) return power();
    Nest nest(*this, peek().begin);
    const Token& op = take();
    std::vector<std::unique_ptr<Expr>> args;
    args.push_back(unary());
    const std::size_t end = args[0]->end;
    return node(Kind::Negate, op.begin, std::move(args), op.begin, end);
  }

  // '**': two '*' with nothing between them.
  bool at_power() const {
    return peek().is('*') && next_ + 1 < tokens_.size() && tokens_[next_ + 1].is('*') &&
           tokens_[next_ + 1].begin == peek().end;
  }

  std::unique_ptr<Expr> power() {
    auto base = primary();
    if (!at_power()) return base;
    Nest nest(*this, peek().begin);
    const Token& op = take();
    take();  // the second '*'
    auto exponent = unary();
    const std::size_t begin = base->begin, end = exponent->end;
    // The exponent decides the function, as KeOps' LazyTensor.__pow__ does.
    const Expr* magnitude =
        exponent->kind == Kind::Negate ? exponent->args[0].get() : exponent.get();
    const bool literal = magnitude->kind == Kind::Number;
    const bool negative = exponent->kind == Kind::Negate;
    std::string name = "Powf";
    std::vector<std::unique_ptr<Expr>> args;
    args.push_back(std::move(base));
    if (literal && magnitude->integer) {
      name = "Pow";
      args.push_back(std::move(exponent));
    } else if (literal && magnitude->number == 0.5) {
      name = negative ? "Rsqrt" : "Sqrt";
    } else {
      args.push_back(std::move(exponent));
    }
    auto expr = node(Kind::Call, op.begin, std::move(args), begin, end);
    expr->name = name;
    return expr;
  }

  std::unique_ptr<Expr> primary() {
    const Token& token = take();
    if (token.kind == Token::Kind::Number) {
      auto number = node(Kind::Number, token.begin, {}, token.begin, token.end);
      number->number = token.value;
      number->integer = token.integer;
      return number;
    }
    if (token.kind == Token::Kind::Identifier) {
      if (const auto category = category_of(token.text)) return positional(token, *category);
      if (token.text == "Var" && peek().is('(')) return var(token);
      if (peek().is('(')) return call(token);
      auto variable = node(Kind::Variable, token.begin, {}, token.begin, token.end);
      variable->name = std::string(token.text);
      return variable;
    }
    if (token.is('(')) {
      auto inner = comparison();
      if (!peek().is('|')) {
        expect(')', "to close the '(' at position " + std::to_string(token.begin));
        // The parentheses belong to the operand's text in messages.
        inner->begin = token.begin;
        inner->end = tokens_[next_ - 1].end;
        return inner;
      }
      take();  // '|'
      std::vector<std::unique_ptr<Expr>> args;
      args.push_back(std::move(inner));
      args.push_back(comparison());
      expect(')', "to close the scalar product '(' at position " + std::to_string(token.begin));
      return node(Kind::ScalarProduct, token.begin, std::move(args), token.begin,
                  tokens_[next_ - 1].end);
    }
    fail(token.begin, "expected a number, a variable, a function call or '(', found " +
                          describe(token, source_));
  }

  std::unique_ptr<Expr> call(const Token& name) {
    take();  // '('
    std::vector<std::unique_ptr<Expr>> args;
    if (!peek().is(')')) {
      while (true) {
        // TensorDot's shapes and axes may be written as Python tuples, as
        // keopscore's formula strings do: (2, 3), (3,), ().
        const bool tuple = name.text == "TensorDot" && args.size() >= 2 && peek().is('(');
        args.push_back(tuple ? index_tuple() : comparison());
        if (peek().is(')')) break;
        if (!peek().is(',')) {
          fail(peek().begin, "expected ',' or ')' to close '" + std::string(name.text) +
                                 "(' at position " + std::to_string(name.begin) + ", found " +
                                 describe(peek(), source_));
        }
        take();
      }
    }
    const Token& close = take();
    if (name.text == "Scalprod") {  // KeOps' name for (f|g)
      if (args.size() != 2) {
        fail(name.begin, "Scalprod takes 2 arguments, as in Scalprod(f, g), but has " +
                             std::to_string(args.size()));
      }
      return node(Kind::ScalarProduct, name.begin, std::move(args), name.begin, close.end);
    }
    auto expr = node(Kind::Call, name.begin, std::move(args), name.begin, close.end);
    expr->name = std::string(name.text);
    return expr;
  }

  // A tuple of integers (n, ...), (n,) or (), as the call Ind(n, ...).
  std::unique_ptr<Expr> index_tuple() {
    const Token& open = take();  // '('
    std::vector<std::unique_ptr<Expr>> values;
    while (!peek().is(')')) {
      const Token& token = peek();
      const std::size_t at = integer("an integer of a tuple such as (2, 3)").second;
      auto value = node(Kind::Number, at, {}, at, token.end);
      value->number = token.value;
      value->integer = true;
      values.push_back(std::move(value));
      if (peek().is(')')) break;
      expect(',', "between the integers of the tuple at position " + std::to_string(open.begin));
    }
    const Token& close = take();
    auto tuple = node(Kind::Call, open.begin, std::move(values), open.begin, close.end);
    tuple->name = "Ind";
    return tuple;
  }

  // Vi(index, dim) written in the formula itself.
  std::unique_ptr<Expr> positional(const Token& name, Variable::Category category) {
    const Variable declared = declaration(name, category, -1);
    if (declared.index < 0) {
      fail(name.begin, std::string(name.text) +
                           "(dimension) is only for aliases; in a formula write " +
                           std::string(name.text) + "(index, dimension)");
    }
    auto variable = node(Kind::Variable, name.begin, {}, name.begin, tokens_[next_ - 1].end);
    variable->positional = true;
    variable->name = declared.name;
    variable->category = category;
    variable->index = declared.index;
    variable->dimension = declared.dimension;
    return variable;
  }

  // KeOps' Var(index, dimension, category), category 0, 1, 2 for Vi, Vj, Pm.
  std::unique_ptr<Expr> var(const Token& name) {
    take();  // '('
    const int index = integer("an integer index").first;
    expect(',', "after Var's index, as in Var(index, dimension, category)");
    const auto [dimension, dimension_at] = integer("an integer dimension");
    expect(',', "after Var's dimension, as in Var(index, dimension, category)");
    const auto [category, category_at] = integer("a category 0 (Vi), 1 (Vj) or 2 (Pm)");
    expect(')', "to close 'Var('");
    if (dimension < 1) {
      fail(dimension_at, "the dimension must be at least 1, got " + std::to_string(dimension));
    }
    if (category > 2) {
      fail(category_at,
           "Var's category is 0 (Vi), 1 (Vj) or 2 (Pm), got " + std::to_string(category));
    }
    const Variable::Category categories[] = {Variable::Category::I, Variable::Category::J,
                                             Variable::Category::Parameter};
    auto variable = node(Kind::Variable, name.begin, {}, name.begin, tokens_[next_ - 1].end);
    variable->positional = true;
    variable->category = categories[category];
    variable->index = index;
    variable->dimension = dimension;
    variable->name = std::string(category_name(variable->category)) + "(" + std::to_string(index) +
                     "," + std::to_string(dimension) + ")";
    return variable;
  }

  // "(dim)" or "(index, dim)" after a category name; without an index, the
  // variable gets `implicit_index`.
  Variable declaration(const Token& name, Variable::Category category, int implicit_index) {
    expect('(', "after '" + std::string(name.text) + "', as in " + std::string(name.text) +
                    "(index, dimension)");
    const auto [first, first_at] = integer("an integer dimension or index");
    Variable variable;
    variable.category = category;
    variable.index = implicit_index;
    variable.dimension = first;
    std::size_t dimension_at = first_at;
    if (peek().is(',')) {
      take();
      std::tie(variable.dimension, dimension_at) = integer("an integer dimension");
      variable.index = first;
    }
    expect(')', "to close '" + std::string(name.text) + "('");
    if (variable.dimension < 1) {
      fail(dimension_at,
           "the dimension must be at least 1, got " + std::to_string(variable.dimension));
    }
    variable.name = std::string(name.text) + "(" + std::to_string(variable.index) + "," +
                    std::to_string(variable.dimension) + ")";
    return variable;
  }

  std::pair<int, std::size_t> integer(const std::string& what) {
    const Token& token = take();
    if (token.kind != Token::Kind::Number || !token.integer) {
      fail(token.begin, "expected " + what + ", found " + describe(token, source_));
    }
    if (token.value > kMaxInteger) {
      fail(token.begin, "the integer " + std::string(token.text.substr(0, 40)) + " is too large");
    }
    return {static_cast<int>(token.value), token.begin};
  }

  const Source& source_;
  std::vector<Token> tokens_;
  std::size_t next_ = 0;
  int depth_ = 0;
};

}  // namespace

std::unique_ptr<Expr> parse_formula(const Source& source) {
  return Parser(source).formula();
}

Variable parse_alias(const Source& source, int position) {
  return Parser(source).alias(position);
}

const char* category_name(Variable::Category category) {
  switch (category) {
    case Variable::Category::I:
      return "Vi";
    case Variable::Category::J:
      return "Vj";
    case Variable::Category::Parameter:
      return "Pm";
  }
  return "?";
}

}  // namespace kinterp::detail
