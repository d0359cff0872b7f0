#pragma once
/// \file Interpreter.hpp
/// Runs a stage of a Program on `Lanes` (target, source) pairs at once.
/// Register r of lane l is reg[r * Lanes + l]: each instruction is one loop
/// over the lanes, which the compiler vectorises on CPUs (Lanes = 128), so the
/// cost of decoding an instruction is shared by all lanes. GPUs run one pair
/// per thread (Lanes = 1); the threads of a warp decode the same instruction.

#include <kinterp/core/detail/BitCast.hpp>
#include <kinterp/core/detail/KokkosCompat.hpp>
#include <kinterp/formula/Program.hpp>
#include <kinterp/kernels/detail/ExpNonPositive.hpp>

#include <Kokkos_Core.hpp>

#include <cstdint>
#include <type_traits>

namespace kinterp::detail {

template <class T>
KOKKOS_INLINE_FUNCTION T round_half_away(T x) {
  return x < 0 ? -math::floor(-x + T(0.5)) : math::floor(x + T(0.5));
}

template <class T>
KOKKOS_INLINE_FUNCTION T integer_power(T x, int n) {
  // By squaring: at most 2 log2(n) multiplications, whatever n is.
  unsigned m = n < 0 ? 0u - static_cast<unsigned>(n) : static_cast<unsigned>(n);
  T result = 1;
  while (m) {
    if (m & 1u) result *= x;
    x *= x;
    m >>= 1;
  }
  return n < 0 ? T(1) / result : result;
}

/// The pairs' data: the target row, and the sources of the lanes stored
/// component-major: component k of lane l is source[k * source_stride + l].
template <class T>
struct PairRows {
  const T* target;
  const T* source;
  std::int64_t source_stride;
};

/// Where operand `r` of an instruction is: register r, or for r < 0 column
/// -r - 1 of the sources in hand; `stride` is the distance between its components.
template <int Lanes, class T>
KOKKOS_INLINE_FUNCTION const T* operand(int r, const T* reg, const PairRows<T>& rows,
                                        std::int64_t& stride) {
  if (r >= 0) return reg + r * Lanes;
  stride = rows.source_stride;
  return rows.source + (-r - 1) * rows.source_stride;
}

#define KINTERP_LANES for (int l = 0; l < Lanes; ++l)

/// Runs code[begin, end) on `reg` (Program::registers * Lanes values).
template <int Lanes, class T>
KOKKOS_INLINE_FUNCTION void interpret(const Instruction* code, int begin, int end, T* reg,
                                      const T* constants, const PairRows<T>& rows) {
  for (int p = begin; p < end; ++p) {
    const Instruction in = code[p];
    T* KOKKOS_RESTRICT out = reg + in.out * Lanes;  // never overlaps an operand
    // Operands are registers, or source columns read in place (see Instruction).
    std::int64_t ta = Lanes, tb = Lanes, tc = Lanes;
    const T* a = operand<Lanes>(in.a, reg, rows, ta);
    const T* b = operand<Lanes>(in.b, reg, rows, tb);
    const T* c = operand<Lanes>(in.c, reg, rows, tc);
    // Component strides: an operand of dimension 1 broadcasts.
    const std::int64_t sa = in.da == 1 ? 0 : ta, sb = in.db == 1 ? 0 : tb, sc = in.dc == 1 ? 0 : tc;
    const int dim = in.dim;
    switch (in.op) {
      case Opcode::LoadTarget:
        for (int k = 0; k < dim; ++k) {
          const T value = rows.target[in.n + k];
          KINTERP_LANES out[k * Lanes + l] = value;
        }
        break;
      case Opcode::Constant:
        for (int k = 0; k < dim; ++k) {
          const T value = constants[in.n + k];
          KINTERP_LANES out[k * Lanes + l] = value;
        }
        break;
      case Opcode::Zero:
        for (int k = 0; k < dim * Lanes; ++k) out[k] = 0;
        break;
#define KINTERP_UNARY(OP, EXPR)      \
  case Opcode::OP:                   \
    for (int k = 0; k < dim; ++k) {  \
      KINTERP_LANES {                \
        const T x = a[k * sa + l];   \
        out[k * Lanes + l] = (EXPR); \
      }                              \
    }                                \
    break;
#define KINTERP_BINARY(OP, EXPR)                      \
  case Opcode::OP:                                    \
    for (int k = 0; k < dim; ++k) {                   \
      KINTERP_LANES {                                 \
        const T x = a[k * sa + l], y = b[k * sb + l]; \
        out[k * Lanes + l] = (EXPR);                  \
      }                                               \
    }                                                 \
    break;
#define KINTERP_TERNARY(OP, EXPR)                                        \
  case Opcode::OP:                                                       \
    for (int k = 0; k < dim; ++k) {                                      \
      KINTERP_LANES {                                                    \
        const T x = a[k * sa + l], y = b[k * sb + l], z = c[k * sc + l]; \
        out[k * Lanes + l] = (EXPR);                                     \
      }                                                                  \
    }                                                                    \
    break;
        KINTERP_UNARY(Negate, -x)
        KINTERP_UNARY(Exp, exp_any(x))
        KINTERP_UNARY(ExpNonPositive, exp_nonpositive_or_nan(x))
        KINTERP_UNARY(Log, math::log(x))
        KINTERP_UNARY(Sqrt, math::sqrt(x))
        KINTERP_UNARY(Rsqrt, T(1) / math::sqrt(x))
        KINTERP_UNARY(Inv, T(1) / x)
        KINTERP_UNARY(Square, x * x)
        KINTERP_UNARY(Abs, math::fabs(x))
        KINTERP_UNARY(Sign, x > 0 ? T(1) : x < 0 ? T(-1) : T(0))
        KINTERP_UNARY(Step, x < 0 ? T(0) : T(1))
        KINTERP_UNARY(ReLU, x < 0 ? T(0) : x)
        KINTERP_UNARY(Sin, math::sin(x))
        KINTERP_UNARY(Cos, math::cos(x))
        KINTERP_UNARY(Atan, math::atan(x))
        KINTERP_UNARY(Asin, math::asin(x))
        KINTERP_UNARY(Acos, math::acos(x))
        KINTERP_UNARY(XLogX, x == T(0) ? T(0) : x * math::log(x))
        KINTERP_UNARY(SinXDivX, x == T(0) ? T(1) : math::sin(x) / x)
        KINTERP_UNARY(Floor, math::floor(x))
        KINTERP_UNARY(Pow, integer_power(x, in.n))
      case Opcode::Round: {
        const T scale = integer_power(T(10), in.n);
        for (int k = 0; k < dim; ++k) {
          KINTERP_LANES out[k * Lanes + l] = round_half_away(a[k * sa + l] * scale) / scale;
        }
        break;
      }
        KINTERP_BINARY(Add, x + y)
        KINTERP_BINARY(Subtract, x - y)
        KINTERP_BINARY(Multiply, x * y)
        KINTERP_BINARY(Divide, x / y)
        KINTERP_BINARY(Powf, exp_any(y * math::log(x)))
        KINTERP_BINARY(ExpOfProduct, exp_nonpositive_or_nan(x * y))
        KINTERP_BINARY(Atan2, math::atan2(x, y))
        KINTERP_BINARY(Equal, x == y ? T(1) : T(0))
        KINTERP_BINARY(NotEqual, x != y ? T(1) : T(0))
        KINTERP_BINARY(LessThan, x < y ? T(1) : T(0))
        KINTERP_BINARY(LessOrEqual, x <= y ? T(1) : T(0))
        KINTERP_TERNARY(Clamp, x < y ? y : (x > z ? z : x))
        KINTERP_TERNARY(IfElse, x >= 0 ? y : z)
        KINTERP_TERNARY(Mod, x - y * math::floor((x - z) / y))
#undef KINTERP_UNARY
#undef KINTERP_BINARY
#undef KINTERP_TERNARY
        // Sums over components: the first term initialises, so each is one
        // tight loop per component.
#define KINTERP_COMPONENT_SUM(OP, TERM, FINISH)     \
  case Opcode::OP:                                  \
    for (int k = 0; k < in.da; ++k) {               \
      KINTERP_LANES {                               \
        const T x = a[k * sa + l];                  \
        out[l] = (k == 0 ? T(0) : out[l]) + (TERM); \
      }                                             \
    }                                               \
    FINISH;                                         \
    break;
        KINTERP_COMPONENT_SUM(Dot, x * b[k * sb + l], )
        KINTERP_COMPONENT_SUM(SqDist, (x - b[k * sb + l]) * (x - b[k * sb + l]), )
        KINTERP_COMPONENT_SUM(SqNorm2, x * x, )
        KINTERP_COMPONENT_SUM(Norm2, x * x, KINTERP_LANES out[l] = math::sqrt(out[l]))
        KINTERP_COMPONENT_SUM(Sum, x, )
#undef KINTERP_COMPONENT_SUM
      case Opcode::Max:
      case Opcode::Min: {
        KINTERP_LANES out[l] = a[l];
        for (int k = 1; k < in.da; ++k) {
          KINTERP_LANES {
            const T x = a[k * sa + l];
            const bool better = in.op == Opcode::Max ? x > out[l] : x < out[l];
            out[l] = better ? x : out[l];
          }
        }
        break;
      }
      case Opcode::Normalize: {
        T norm2[Lanes];
        KINTERP_LANES norm2[l] = 0;
        for (int k = 0; k < in.da; ++k) KINTERP_LANES norm2[l] += a[k * sa + l] * a[k * sa + l];
        for (int k = 0; k < dim; ++k) {
          KINTERP_LANES out[k * Lanes + l] = a[k * sa + l] / math::sqrt(norm2[l]);
        }
        break;
      }
      case Opcode::WeightedSqNorm:
      case Opcode::WeightedSqDist: {
        // f = b (- c): s of dimension 1 scales |f|^2, of dimension d weighs
        // each f_k^2, of dimension d*d is a symmetric matrix.
        const bool distance = in.op == Opcode::WeightedSqDist;
        const int d = in.db;
        KINTERP_LANES out[l] = 0;
        for (int k = 0; k < d; ++k) {
          for (int m = (in.da == d * d && d > 1) ? 0 : k;
               m < ((in.da == d * d && d > 1) ? d : k + 1); ++m) {
            const int weight = in.da == 1 ? 0 : (in.da == d ? k : k * d + m);
            KINTERP_LANES {
              const T fk = distance ? b[k * tb + l] - c[k * tc + l] : b[k * tb + l];
              const T fm = distance ? b[m * tb + l] - c[m * tc + l] : b[m * tb + l];
              out[l] += a[weight * ta + l] * fk * fm;
            }
          }
        }
        break;
      }
      case Opcode::Extract:
        for (int k = 0; k < dim; ++k) KINTERP_LANES out[k * Lanes + l] = a[(in.n + k) * ta + l];
        break;
      case Opcode::Inject:
        for (int k = 0; k < dim * Lanes; ++k) out[k] = 0;
        for (int k = 0; k < in.da; ++k) KINTERP_LANES out[(in.n + k) * Lanes + l] = a[k * ta + l];
        break;
      case Opcode::Concat:
        for (int k = 0; k < in.da; ++k) KINTERP_LANES out[k * Lanes + l] = a[k * ta + l];
        for (int k = 0; k < in.db; ++k) {
          KINTERP_LANES out[(in.da + k) * Lanes + l] = b[k * tb + l];
        }
        break;
      case Opcode::OneHot:
        for (int k = 0; k < dim; ++k) {
          KINTERP_LANES out[k * Lanes + l] = round_half_away(a[l]) == T(k) ? T(1) : T(0);
        }
        break;
      case Opcode::MatVecMult:  // out_r = sum_k A[r + k * dim] b_k
        for (int r = 0; r < dim; ++r) {
          KINTERP_LANES out[r * Lanes + l] = 0;
          for (int k = 0; k < in.db; ++k) {
            KINTERP_LANES out[r * Lanes + l] += a[(r + k * dim) * ta + l] * b[k * sb + l];
          }
        }
        break;
      case Opcode::VecMatMult:  // out_r = sum_k a_k B[k + r * da]
        for (int r = 0; r < dim; ++r) {
          KINTERP_LANES out[r * Lanes + l] = 0;
          for (int k = 0; k < in.da; ++k) {
            KINTERP_LANES out[r * Lanes + l] += a[k * sa + l] * b[(k + r * in.da) * tb + l];
          }
        }
        break;
      case Opcode::TensorProd:
        for (int k = 0; k < in.da; ++k) {
          for (int m = 0; m < in.db; ++m) {
            KINTERP_LANES out[(k * in.db + m) * Lanes + l] = a[k * ta + l] * b[m * tb + l];
          }
        }
        break;
    }
  }
}

#undef KINTERP_LANES

}  // namespace kinterp::detail
