#pragma once
/// \file Program.hpp
/// A formula compiled for the generic evaluator: a flat list of instructions
/// over a file of scalar registers, interpreted on the device for each
/// (target, source) pair (formula/detail/Interpreter.hpp). Parameters are
/// numbers by then. The list comes in three stages, so that work is done as
/// rarely as it can be: constants once per thread, what depends on the target
/// variables only once per target, and the rest once per pair.

#include <string>
#include <vector>

namespace kinterp {

/// The operations of the generic evaluator. Operands are register ranges;
/// an operand of dimension 1 broadcasts against a longer one.
enum class Opcode : int {
  LoadTarget,  ///< out[k] = target_row[n + k]
  Constant,    ///< out[k] = constants[n + k]
  Zero,        ///< out[k] = 0
  Negate,
  Add,
  Subtract,
  Multiply,
  Divide,
  Exp,
  Log,
  Sqrt,
  Rsqrt,
  Inv,
  Square,
  Abs,
  Sign,
  Step,
  ReLU,
  Sin,
  Cos,
  Atan,
  Asin,
  Acos,
  XLogX,     ///< x log x, 0 at 0
  SinXDivX,  ///< sin x / x, 1 at 0
  Floor,
  Pow,    ///< out = a^n, integer n
  Round,  ///< to n decimals
  Powf,
  Atan2,
  Clamp,
  IfElse,
  Mod,  ///< a - b floor((a - c) / b)
  Dot,  ///< (a|b)
  SqDist,
  SqNorm2,
  Norm2,
  Normalize,
  Sum,
  Max,
  Min,
  WeightedSqNorm,  ///< s = a (dimension 1, d or d*d), f = b
  WeightedSqDist,  ///< s = a, f = b, g = c
  Extract,         ///< out[k] = a[n + k] (Elem is Extract of one)
  Concat,
  OneHot,
  MatVecMult,  ///< a: (dim x db) column-major, b: db
  VecMatMult,  ///< a: da, b: (da x dim) column-major
  TensorProd,  ///< out[k * db + l] = a[k] b[l]
  Equal,       ///< 1 where a == b, else 0
  NotEqual,
  LessThan,  ///< 1 where a < b, else 0
  LessOrEqual,
  Inject,          ///< out = 0, then out[n + k] = a[k] (ElemT, ExtractT)
  ExpNonPositive,  ///< Exp of a value the compiler proved <= 0 (or NaN): no overflow to guard
  ExpOfProduct,    ///< ExpNonPositive of a * b, a Multiply folded in: exp(-g r^2) in one pass
};

/// One operation. An operand r >= 0 is registers [r, r + dimension); r < 0
/// is the source variable at column -r - 1 of the source row, which the
/// interpreter reads in place rather than copying it into registers.
struct Instruction {
  Opcode op = Opcode::Zero;
  int out = 0, dim = 1;     ///< result registers [out, out + dim)
  int a = 0, b = 0, c = 0;  ///< the operands
  int da = 0, db = 0, dc = 0;
  int n = 0;  ///< offset of a load, start of an Extract, Pow's exponent, Round's decimals
};

/// Which index a variable runs over in a reduction: the targets are the rows
/// of the output, the sources are reduced over. For a reduction over j (KeOps
/// axis = 1) the targets are the Vi variables; over i (axis = 0), the Vj ones.
struct PackedVariable {
  std::string name;
  int offset = 0;     ///< first column in the packed target or source row
  int dimension = 1;  ///< columns
};

class Program {
 public:
  /// The most scalar registers a program may use. On the host they live in
  /// a buffer per thread (Lanes values each); on a device, in each thread's
  /// stack up to device_stack_registers, and in global memory beyond.
  static constexpr int max_registers = 16384;
  static constexpr int device_stack_registers = 256;

  std::vector<Instruction> code;                 ///< constants, then target stage, then pair stage
  int target_begin = 0;                          ///< first instruction of the target stage
  int pair_begin = 0;                            ///< first instruction of the pair stage
  int registers = 0;                             ///< scalar registers used
  int result = 0;                                ///< first register of the value
  int dimension = 1;                             ///< the formula's dimension
  std::vector<double> constants;                 ///< numbers and parameter values
  std::vector<PackedVariable> targets, sources;  ///< in argument-index order
  int target_width = 0, source_width = 0;        ///< columns of a packed row
};

}  // namespace kinterp
