// The compiler from a checked expression tree to a Program for the generic
// evaluator: a post-order walk that gives every node fresh registers, loads
// each target variable once (source variables are read in place), and sorts
// the instructions into the three stages (constant, target, pair) by what
// they depend on.

#include "Compile.hpp"

#include "Check.hpp"
#include "Functions.hpp"
#include "Parser.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>

namespace kinterp::detail {

namespace {

using Kind = Expr::Kind;
using Category = Variable::Category;

enum Stage { kConstant = 0, kTarget = 1, kPair = 2 };

// Registers [first, first + dimension), or no operand at all (dimension 0).
// sign: +1 when every component is known >= 0 (or NaN), -1 when <= 0, else 0.
// nonzero: every component is a nonzero constant. A zero's sign bit may
// disagree with `sign` (sqrt(-0) is -0), which only a division magnifies.
struct Value {
  int first = 0, dimension = 0;
  Stage stage = kConstant;
  int sign = 0;
  bool nonzero = false;
};

// What the signs of an instruction's operands tell of its value's sign.
int sign_of(Opcode op, const Value& a, const Value& b) {
  switch (op) {
    case Opcode::Zero:
    case Opcode::SqDist:
    case Opcode::SqNorm2:
    case Opcode::Norm2:
    case Opcode::Square:
    case Opcode::Abs:
    case Opcode::Exp:
    case Opcode::ExpNonPositive:
    case Opcode::ExpOfProduct:
    case Opcode::Sqrt:
    case Opcode::Rsqrt:
    case Opcode::ReLU:
    case Opcode::Step:
      return 1;
    case Opcode::Negate:
      return -a.sign;
    case Opcode::Sum:
      return a.sign;
    case Opcode::Inv:
      return a.nonzero ? a.sign : 0;
    case Opcode::Multiply:
      return a.sign * b.sign;
    case Opcode::Divide:
      return b.nonzero ? a.sign * b.sign : 0;
    case Opcode::Add:
      return a.sign == b.sign ? a.sign : 0;
    case Opcode::Subtract:
      return a.sign == -b.sign ? a.sign : 0;
    default:
      return 0;
  }
}

// A bound on the registers of a program before reuse_registers(), far above
// what any formula the derivative limits allow needs.
constexpr int kMaxVirtualRegisters = 1 << 24;

// Maps the registers of a program, one fresh range per value as the compiler
// emits them, onto as few as it can: a range is reused once the last
// instruction that reads it has run. A value that a later stage reads, and
// the result, keep theirs for the whole program, since the later stages run
// many times for each run of the earlier ones. An output never shares
// registers with an operand of its own instruction (the interpreter's rule).
// Returns the registers used.
int reuse_registers(Program& program) {
  const int n = static_cast<int>(program.code.size());
  const auto stage_of = [&](int p) {
    return p < program.target_begin ? kConstant : p < program.pair_begin ? kTarget : kPair;
  };
  const auto operands = [](Instruction& in) {
    return std::array<std::pair<int*, int>, 3>{{{&in.a, in.da}, {&in.b, in.db}, {&in.c, in.dc}}};
  };
  // Each value by its virtual first register: its dimension, the instruction
  // that writes it and the last that reads it (n: none before the end).
  std::map<int, int> dimension, writer, last_reader;
  for (int p = 0; p < n; ++p) {
    Instruction& in = program.code[p];
    dimension[in.out] = in.dim;
    writer[in.out] = p;
    last_reader[in.out] = p;
    for (const auto& [r, d] : operands(in)) {
      if (d == 0 || *r < 0) continue;
      const bool later_stage = stage_of(writer.at(*r)) < stage_of(p);
      last_reader[*r] = std::max(last_reader[*r], later_stage ? n : p);
    }
  }
  last_reader[program.result] = n;
  std::vector<std::vector<int>> dying(n);
  for (const auto& [value, p] : last_reader) {
    if (p < n) dying[p].push_back(value);
  }
  std::vector<char> busy;  // physical registers in use
  std::map<int, int> physical;
  int peak = 0;
  for (int p = 0; p < n; ++p) {
    Instruction& in = program.code[p];
    int first = 0, run = 0;  // the lowest free range of in.dim registers
    while (run < in.dim && first + run < static_cast<int>(busy.size())) {
      if (busy[first + run]) {
        first += run + 1, run = 0;
      } else {
        ++run;
      }
    }
    if (first + in.dim > static_cast<int>(busy.size())) busy.resize(first + in.dim, 0);
    std::fill(busy.begin() + first, busy.begin() + first + in.dim, 1);
    peak = std::max(peak, first + in.dim);
    physical[in.out] = first;
    in.out = first;
    for (const auto& [r, d] : operands(in)) {
      if (d == 0) *r = 0;
      if (d > 0 && *r >= 0) *r = physical.at(*r);
    }
    for (const int value : dying[p]) {
      const int at = physical.at(value);
      std::fill(busy.begin() + at, busy.begin() + at + dimension.at(value), 0);
    }
  }
  program.result = physical.at(program.result);
  return peak;
}

double literal(const Expr& expr) {
  return expr.kind == Kind::Negate ? -literal(*expr.args[0]) : expr.number;
}

class Compiler {
 public:
  Compiler(const Source& source, const std::vector<Variable>& variables, const Parameters& values,
           Category target)
      : source_(source), variables_(variables), values_(values), target_(target) {
    for (const auto& variable : variables_) {
      if (variable.category == Category::Parameter ||
          variable_at(variables_, variable.index) != &variable) {
        continue;  // aliases sharing an index are packed once
      }
      const bool is_target = variable.category == target_;
      auto& list = is_target ? program_.targets : program_.sources;
      int& width = is_target ? program_.target_width : program_.source_width;
      list.push_back({variable.name, width, variable.dimension});
      offsets_[variable.index] = width;
      width += variable.dimension;
    }
  }

  Program run(const Expr& root) {
    const Value value = visit(root);
    // The pair stage ends with the value in registers: a formula that does
    // not depend on the source, or is a source variable itself, gets a copy.
    Value result = value;
    if (value.stage != kPair || value.first < 0) {
      result = emit({Opcode::Add}, kPair, value, zero(kConstant));
    }
    remove_dead_code(result.first);
    for (int stage = kConstant; stage <= kPair; ++stage) {
      if (stage == kTarget) program_.target_begin = static_cast<int>(program_.code.size());
      if (stage == kPair) program_.pair_begin = static_cast<int>(program_.code.size());
      program_.code.insert(program_.code.end(), staged_[stage].begin(), staged_[stage].end());
    }
    program_.result = result.first;
    program_.dimension = result.dimension;
    program_.registers = reuse_registers(program_);
    if (program_.registers > Program::max_registers) {
      fail(root.position, "the formula needs more than " + std::to_string(Program::max_registers) +
                              " scalar registers at once in the generic evaluator (" +
                              std::to_string(program_.registers) +
                              "); split it into smaller reductions");
    }
    return std::move(program_);
  }

 private:
  [[noreturn]] void fail(std::size_t position, const std::string& message) const {
    detail::fail(source_, position, message);
  }

  // Drops the instructions whose value nothing reads (a product folded into
  // its Exp): each value has its own registers until reuse_registers, so a
  // value is the first register of its range.
  void remove_dead_code(int result) {
    std::vector<char> read(registers_, 0);
    read[result] = 1;
    for (int stage = kPair; stage >= kConstant; --stage) {
      std::vector<Instruction>& code = staged_[stage];
      std::vector<Instruction> kept;
      for (auto in = code.rbegin(); in != code.rend(); ++in) {
        if (!read[in->out]) continue;
        for (const auto& [r, d] : {std::pair{in->a, in->da}, {in->b, in->db}, {in->c, in->dc}}) {
          if (d > 0 && r >= 0) read[r] = 1;
        }
        kept.push_back(*in);
      }
      code.assign(kept.rbegin(), kept.rend());
    }
  }

  Value allocate(const Expr& expr, int dimension, Stage stage) {
    if (registers_ + dimension > kMaxVirtualRegisters) {
      fail(expr.position, "the formula is too large for the generic evaluator (at " +
                              text_of(source_, expr) + "); split it into smaller reductions");
    }
    Value value{registers_, dimension, stage};
    registers_ += dimension;
    return value;
  }

  // The instruction's value: a new one, or the one an equal instruction
  // (same operation, operands and immediate) already computes, so that a
  // subexpression written twice, as Norm2(X-Y) in Matern kernels, runs once.
  Value emit(Instruction instruction, Stage stage, Value a = {}, Value b = {}, Value c = {},
             const Expr* expr = nullptr, int dimension = -1) {
    if (dimension < 0) dimension = expr ? expr->dimension : a.dimension;
    instruction.dim = dimension;
    instruction.a = a.first, instruction.da = a.dimension;
    instruction.b = b.first, instruction.db = b.dimension;
    instruction.c = c.first, instruction.dc = c.dimension;
    // exp(x <= 0) cannot overflow: the cheaper Exp (the Gaussian's exp(-g r^2)).
    if (instruction.op == Opcode::Exp && a.sign < 0) instruction.op = Opcode::ExpNonPositive;
    // And of a product, one pass over the lanes instead of two; the product,
    // unless read elsewhere, is then dead (remove_dead_code).
    const auto product = products_.find(a.first);
    if (instruction.op == Opcode::ExpNonPositive && product != products_.end()) {
      const Instruction& m = product->second;
      instruction.op = Opcode::ExpOfProduct;
      instruction.a = m.a, instruction.da = m.da;
      instruction.b = m.b, instruction.db = m.db;
    }
    const std::array<int, 10> key = {static_cast<int>(instruction.op),
                                     static_cast<int>(stage),
                                     instruction.dim,
                                     instruction.n,
                                     instruction.a,
                                     instruction.da,
                                     instruction.b,
                                     instruction.db,
                                     instruction.c,
                                     instruction.dc};
    const auto same = emitted_.find(key);
    if (same != emitted_.end() && instruction.op != Opcode::Constant) return same->second;
    const Expr& where = expr ? *expr : *current_;
    Value out = allocate(where, dimension, stage);
    out.sign = sign_of(instruction.op, a, b);
    out.nonzero = instruction.op == Opcode::Negate && a.nonzero;
    instruction.out = out.first;
    staged_[stage].push_back(instruction);
    emitted_.emplace(key, out);
    if (instruction.op == Opcode::Multiply) products_.emplace(out.first, instruction);
    return out;
  }

  Value zero(Stage stage) { return emit({Opcode::Zero}, stage, {}, {}, {}, nullptr, 1); }

  Value constant(const Expr& expr, const std::vector<double>& numbers) {
    std::vector<std::uint64_t> bits(numbers.size());  // NaN has no order; its bits do
    std::memcpy(bits.data(), numbers.data(), numbers.size() * sizeof(double));
    const auto same = constants_.find(bits);
    if (same != constants_.end()) return same->second;
    Instruction load{Opcode::Constant};
    load.n = static_cast<int>(program_.constants.size());
    program_.constants.insert(program_.constants.end(), numbers.begin(), numbers.end());
    Value value = emit(load, kConstant, {}, {}, {}, &expr, static_cast<int>(numbers.size()));
    const auto all = [&](auto holds) { return std::all_of(numbers.begin(), numbers.end(), holds); };
    value.sign = all([](double v) { return v >= 0; })   ? 1
                 : all([](double v) { return v <= 0; }) ? -1
                                                        : 0;
    value.nonzero = all([](double v) { return v != 0; });
    constants_.emplace(std::move(bits), value);
    return value;
  }

  // A node that a derivative shares is computed once.
  Value visit(const Expr& expr) {
    const auto done = computed_.find(&expr);
    if (done != computed_.end()) return done->second;
    const Value value = compute(expr);
    computed_.emplace(&expr, value);
    return value;
  }

  Value compute(const Expr& expr) {
    current_ = &expr;
    switch (expr.kind) {
      case Kind::Number:
        return constant(expr, {expr.number});
      case Kind::Variable:
        return variable(expr);
      default:
        break;
    }
    if (expr.kind == Kind::Call && expr.function->id == FunctionId::IntCst) {
      return constant(expr, {literal(*expr.args[0])});
    }
    if (expr.kind == Kind::Call && expr.function->id == FunctionId::IntInv) {
      return constant(expr, {1.0 / literal(*expr.args[0])});
    }
    if (const Expr* squared = sum_of_squares(expr)) return squared_norm(expr, *squared);
    if (is_call(expr, FunctionId::ClampInt)) {  // Clamp with the bounds as constants
      const Value f = visit(*expr.args[0]);
      const Value low = constant(*expr.args[1], {literal(*expr.args[1])});
      const Value high = constant(*expr.args[2], {literal(*expr.args[2])});
      current_ = &expr;
      return emit({Opcode::Clamp}, f.stage, f, low, high, &expr);
    }
    if (is_call(expr, FunctionId::SumT)) {  // f + 0 of dimension d
      const Value f = visit(*expr.args[0]);
      current_ = &expr;
      const Value zeros = emit({Opcode::Zero}, kConstant, {}, {}, {}, &expr);
      return emit({Opcode::Add}, f.stage, f, zeros, {}, &expr);
    }
    // Operands that are integer literals (Pow's n, Extract's start) are not values.
    Instruction instruction;
    Value operands[3];
    Stage stage = kConstant;
    int count = 0;
    for (std::size_t k = 0; k < expr.args.size(); ++k) {
      if (expr.kind == Kind::Call && (expr.function->integer_arguments >> k & 1u)) continue;
      operands[count] = visit(*expr.args[k]);
      stage = std::max(stage, operands[count].stage);
      ++count;
    }
    current_ = &expr;
    if (is_identity(expr)) return operands[0];
    switch (expr.kind) {
      case Kind::Negate:
        instruction.op = Opcode::Negate;
        break;
      case Kind::Add:
        instruction.op = Opcode::Add;
        break;
      case Kind::Subtract:
        instruction.op = Opcode::Subtract;
        break;
      case Kind::Multiply:
        instruction.op = Opcode::Multiply;
        break;
      case Kind::Divide:
        instruction.op = Opcode::Divide;
        break;
      case Kind::ScalarProduct:
        instruction.op = Opcode::Dot;
        break;
      case Kind::Call: {
        const FunctionId id = expr.function->id;
        instruction.op = expr.function->op;
        if (id == FunctionId::Pow || id == FunctionId::Round || id == FunctionId::Elem ||
            id == FunctionId::Extract || id == FunctionId::ExtractT) {
          instruction.n = static_cast<int>(literal(*expr.args[1]));
        }
        if (id == FunctionId::ElemT) instruction.n = static_cast<int>(literal(*expr.args[2]));
        if (id == FunctionId::Zero) stage = kConstant;
        break;
      }
      default:
        break;
    }
    return emit(instruction, stage, operands[0], operands[1], operands[2], &expr);
  }

  static bool is_call(const Expr& expr, FunctionId id) {
    return expr.kind == Kind::Call && expr.function->id == id;
  }

  // The f of Sum(Square(f)) or SqNorm2(f): one fused pass instead of three
  // over f's components (the squared distance of most kernels).
  static const Expr* sum_of_squares(const Expr& expr) {
    if (is_call(expr, FunctionId::SqNorm2)) return expr.args[0].get();
    if (is_call(expr, FunctionId::Sum) && is_call(*expr.args[0], FunctionId::Square)) {
      return expr.args[0]->args[0].get();
    }
    return nullptr;
  }

  // |f|^2, and |a - b|^2 without forming a - b.
  Value squared_norm(const Expr& expr, const Expr& f) {
    if (f.kind == Kind::Subtract && f.args[0]->dimension == f.args[1]->dimension) {
      const Value a = visit(*f.args[0]), b = visit(*f.args[1]);
      current_ = &expr;
      return emit({Opcode::SqDist}, std::max(a.stage, b.stage), a, b, {}, &expr);
    }
    const Value a = visit(f);
    current_ = &expr;
    return emit({Opcode::SqNorm2}, a.stage, a, {}, {}, &expr);
  }

  // Sum, Max and Min of a scalar, and Extract of all of a vector, are that value.
  static bool is_identity(const Expr& expr) {
    if (expr.kind != Kind::Call) return false;
    const FunctionId id = expr.function->id;
    const int from = expr.args[0]->dimension;
    if (id == FunctionId::Sum || id == FunctionId::Max || id == FunctionId::Min) return from == 1;
    if (id == FunctionId::Elem || id == FunctionId::Extract) return expr.dimension == from;
    return false;
  }

  Value variable(const Expr& expr) {
    const auto cached = loaded_.find(expr.index);
    if (cached != loaded_.end()) return cached->second;
    Value value;
    if (expr.category == Category::Parameter) {
      value = constant(expr, parameter_values(source_, variables_, values_, expr));
    } else if (expr.category == target_) {
      Instruction load{Opcode::LoadTarget};
      load.n = offsets_.at(expr.index);
      value = emit(load, kTarget, {}, {}, {}, &expr);
    } else {
      // Read in place from the source block by the instructions that use it.
      value = Value{-1 - offsets_.at(expr.index), expr.dimension, kPair};
    }
    loaded_[expr.index] = value;
    return value;
  }

  const Source& source_;
  const std::vector<Variable>& variables_;
  const Parameters& values_;
  Category target_;
  Program program_;
  std::vector<Instruction> staged_[3];
  std::map<int, int> offsets_;   // argument index -> column in its packed row
  std::map<int, Value> loaded_;  // argument index -> its registers
  std::map<const Expr*, Value> computed_;
  std::map<std::array<int, 10>, Value> emitted_;           // instruction -> its value
  std::map<int, Instruction> products_;                    // a Multiply's value -> it
  std::map<std::vector<std::uint64_t>, Value> constants_;  // numbers -> their registers
  int registers_ = 0;
  const Expr* current_ = nullptr;
};

}  // namespace

Program compile(const Expr& root, const Source& source, const std::vector<Variable>& variables,
                const Parameters& values, Variable::Category target) {
  check_parameter_names(source, variables, values);
  return Compiler(source, variables, values, target).run(root);
}

}  // namespace kinterp::detail
