// Genred over 1-4 ranks against plain loops in long double: every operation of
// the formula language under a Sum over j, every reduction (with ties and
// NaN), both axes, float and double. Each rank checks its own output rows
// against the reference for the global data, so all rank counts meet the same
// bound and agree with each other to rounding.

#include <kinterp/Genred.hpp>
#include <kinterp/core/detail/SplitMix64.hpp>

#include "../DistributedData.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <numeric>

namespace {

using namespace kinterp::test;
using kinterp::Formula;
using kinterp::Genred;
using kinterp::Reduction;
using kinterp::ReductionKind;
using L = long double;

constexpr std::int64_t kTargets = 23, kSources = 41;

// X = Vi(3); Y = Vj(3), A = Vj(1), M = Vj(9); parameters G, P (3), S (9).
const std::vector<std::string> kAliases = {"X = Vi(3)", "Y = Vj(3)", "A = Vj(1)", "M = Vj(9)",
                                           "G = Pm(1)", "P = Pm(3)", "S = Pm(9)"};
const std::vector<double> kG = {0.7}, kP = {0.5, 1.5, 2.0};
// A symmetric positive definite weight, as WeightedSqDist expects.
const std::vector<double> kS = {2.0, 0.3, 0.1, 0.3, 1.5, -0.2, 0.1, -0.2, 1.0};
const std::map<std::string, std::vector<double>> kParameters = {{"G", kG}, {"P", kP}, {"S", kS}};

struct Pair {
  std::array<L, 3> x, y;
  L a;
  std::array<L, 9> m;
};
using Reference = std::function<std::vector<L>(const Pair&)>;

template <class T>
struct Data {
  HostMatrix<T> targets = global_matrix<T>(kTargets, 3, 21, 0.2, 1.5);
  HostMatrix<T> sources = global_matrix<T>(kSources, 13, 22, 0.2, 1.5);  // Y, A, M
  Pair pair(std::int64_t i, std::int64_t j) const {
    Pair p;
    for (int k = 0; k < 3; ++k) p.x[k] = targets(i, k), p.y[k] = sources(j, k);
    p.a = sources(j, 3);
    for (int k = 0; k < 9; ++k) p.m[k] = sources(j, 4 + k);
    return p;
  }
};

// This rank's output of the reduction, as a host matrix of its rows.
template <class T>
HostMatrix<double> run(const std::string& formula, const Reduction& reduction, int axis,
                       const HostMatrix<T>& targets, const HostMatrix<T>& sources) {
  const Formula parsed(formula, kAliases);
  const auto source_block = my_block(sources.rows), target_block = my_block(targets.rows);
  const Genred<T> genred(MPI_COMM_WORLD, parsed, kParameters, reduction, axis,
                         rows_on_device(sources, source_block));
  typename Genred<T>::Output out("out", target_block.count, genred.output_columns());
  genred(rows_on_device(targets, target_block), out);
  const auto host = on_host(out);
  HostMatrix<double> result(target_block.count, genred.output_columns());
  for (std::int64_t i = 0; i < result.rows; ++i)
    for (std::int64_t c = 0; c < result.cols; ++c) result(i, c) = host(i, c);
  return result;
}

void expect_near_rows(const HostMatrix<double>& got, const std::vector<std::vector<L>>& expected,
                      const std::vector<std::vector<L>>& magnitude, double tolerance) {
  const auto block = my_block(static_cast<std::int64_t>(expected.size()));
  ASSERT_EQ(got.rows, block.count);
  for (std::int64_t i = 0; i < got.rows; ++i) {
    const auto& want = expected[block.begin + i];
    ASSERT_EQ(got.cols, static_cast<std::int64_t>(want.size()));
    for (std::int64_t c = 0; c < got.cols; ++c) {
      const L bound = tolerance * (magnitude[block.begin + i][c] + 1e-300L);
      if (std::isnan(static_cast<double>(want[c]))) {
        EXPECT_TRUE(std::isnan(got(i, c))) << "row " << block.begin + i << " column " << c;
      } else {
        EXPECT_LE(std::fabs(static_cast<L>(got(i, c)) - want[c]), bound)
            << "row " << block.begin + i << " column " << c << ": got " << got(i, c)
            << ", expected " << static_cast<double>(want[c]);
      }
    }
  }
}

// Sum over j of the formula against the reference, in double.
void check_sum(const std::string& formula, const Reference& reference) {
  SCOPED_TRACE(formula);
  const Data<double> data;
  std::vector<std::vector<L>> expected(kTargets), magnitude(kTargets);
  for (std::int64_t i = 0; i < kTargets; ++i) {
    for (std::int64_t j = 0; j < kSources; ++j) {
      const auto value = reference(data.pair(i, j));
      expected[i].resize(value.size()), magnitude[i].resize(value.size());
      for (std::size_t c = 0; c < value.size(); ++c) {
        expected[i][c] += value[c];
        magnitude[i][c] += std::fabs(value[c]);
      }
    }
  }
  expect_near_rows(run<double>(formula, Reduction{}, 1, data.targets, data.sources), expected,
                   magnitude, 1e-13);
}

std::vector<L> each(const std::array<L, 3>& u, const std::function<L(L, int)>& f) {
  return {f(u[0], 0), f(u[1], 1), f(u[2], 2)};
}
std::array<L, 3> minus(const Pair& p) {
  return {p.x[0] - p.y[0], p.x[1] - p.y[1], p.x[2] - p.y[2]};
}
L dot(const std::array<L, 3>& u, const std::array<L, 3>& v) {
  return u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
}

TEST(Genred, WeightsFoldIntoTheSumInEveryShape) {
  // A Sum of f * w, w a j-variable, folds w into its accumulation: a scalar f
  // with a vector w (either order), a vector f with a scalar or vector w, an
  // f that is a target variable, and more columns than the sums hold.
  using P = const Pair&;
  const auto gaussian = [](P p) { return std::exp(-0.7L * dot(minus(p), minus(p))); };
  check_sum("Y*Exp(-G*SqDist(X,Y))",
            [&](P p) { return each(p.y, [&](L y, int) { return y * gaussian(p); }); });
  check_sum("(X-Y)*A", [](P p) { return each(minus(p), [&](L u, int) { return u * p.a; }); });
  check_sum("Exp(-G*SqDist(X,Y))*Y*Y",
            [&](P p) { return each(p.y, [&](L y, int) { return gaussian(p) * y * y; }); });
  check_sum("X*Y", [](P p) { return each(p.x, [&](L x, int k) { return x * p.y[k]; }); });
  // Nine columns: the block sum holds eight across tiles, the ninth per tile.
  check_sum("Exp(-G*SqDist(X,Y))*M", [&](P p) {
    std::vector<L> v(9);
    for (int k = 0; k < 9; ++k) v[k] = gaussian(p) * p.m[k];
    return v;
  });
  check_sum("TensorProd(X,Y)", [](P p) {
    std::vector<L> v(9);
    for (int k = 0; k < 9; ++k) v[k] = p.x[k / 3] * p.y[k % 3];
    return v;
  });
}

TEST(Genred, ElementwiseOperations) {
  using P = const Pair&;
  check_sum("Exp(-G*SqDist(X,Y))*A",
            [](P p) { return std::vector<L>{std::exp(-0.7L * dot(minus(p), minus(p))) * p.a}; });
  check_sum("Log(X+Y)",
            [](P p) { return each(p.x, [&](L x, int k) { return std::log(x + p.y[k]); }); });
  check_sum("Sqrt(X*Y)",
            [](P p) { return each(p.x, [&](L x, int k) { return std::sqrt(x * p.y[k]); }); });
  check_sum("Rsqrt(X+Y)",
            [](P p) { return each(p.x, [&](L x, int k) { return 1 / std::sqrt(x + p.y[k]); }); });
  check_sum("Inv(X-Y+3)",
            [](P p) { return each(p.x, [&](L x, int k) { return 1 / (x - p.y[k] + 3); }); });
  check_sum("Square(X-Y)", [](P p) { return each(minus(p), [](L d, int) { return d * d; }); });
  check_sum("Abs(X-Y)", [](P p) { return each(minus(p), [](L d, int) { return std::fabs(d); }); });
  check_sum("Sign(X-Y)",
            [](P p) { return each(minus(p), [](L d, int) { return L(d > 0) - L(d < 0); }); });
  check_sum("Step(X-Y)", [](P p) { return each(minus(p), [](L d, int) { return L(d >= 0); }); });
  check_sum("ReLU(X-Y)",
            [](P p) { return each(minus(p), [](L d, int) { return d > 0 ? d : 0; }); });
  check_sum("Sin(X*Y)",
            [](P p) { return each(p.x, [&](L x, int k) { return std::sin(x * p.y[k]); }); });
  check_sum("Cos(X-Y)", [](P p) { return each(minus(p), [](L d, int) { return std::cos(d); }); });
  check_sum("Atan(X-Y)", [](P p) { return each(minus(p), [](L d, int) { return std::atan(d); }); });
  check_sum("Asin((X-Y)/2)",
            [](P p) { return each(minus(p), [](L d, int) { return std::asin(d / 2); }); });
  check_sum("Acos((X-Y)/2)",
            [](P p) { return each(minus(p), [](L d, int) { return std::acos(d / 2); }); });
  check_sum("XLogX(X*Y)", [](P p) {
    return each(p.x, [&](L x, int k) { return x * p.y[k] * std::log(x * p.y[k]); });
  });
  // At 0 (X - X): the limits, 0 and 1.
  check_sum("XLogX(X-X)+SinXDivX(X-X)", [](P p) { return each(p.x, [](L, int) { return 1; }); });
  check_sum("SinXDivX(3*(X-Y))",
            [](P p) { return each(minus(p), [](L d, int) { return std::sin(3 * d) / (3 * d); }); });
  // '**' as KeOps' LazyTensors read it: Pow, Sqrt, Rsqrt or Powf by the exponent,
  // tighter than unary minus and right to left.
  check_sum("(X-Y)**2", [](P p) { return each(minus(p), [](L d, int) { return d * d; }); });
  check_sum("-X**-2+X**0.5*Y**-0.5", [](P p) {
    return each(p.x, [&](L x, int k) { return -1 / (x * x) + std::sqrt(x / p.y[k]); });
  });
  check_sum("X**Y**A", [](P p) {
    return each(p.x, [&](L x, int k) { return std::pow(x, std::pow(p.y[k], p.a)); });
  });
  check_sum("Floor(3*X*Y)",
            [](P p) { return each(p.x, [&](L x, int k) { return std::floor(3 * x * p.y[k]); }); });
  check_sum("Minus(X)+2*Y",
            [](P p) { return each(p.x, [&](L x, int k) { return -x + 2 * p.y[k]; }); });
  check_sum("-X/Y", [](P p) { return each(p.x, [&](L x, int k) { return -x / p.y[k]; }); });
  check_sum("Pow(X-Y,3)", [](P p) { return each(minus(p), [](L d, int) { return d * d * d; }); });
  check_sum("Pow(X,-2)", [](P p) { return each(p.x, [](L x, int) { return 1 / (x * x); }); });
  check_sum("Powf(X,Y)",
            [](P p) { return each(p.x, [&](L x, int k) { return std::pow(x, p.y[k]); }); });
  check_sum("Atan2(X-Y,A)",
            [](P p) { return each(minus(p), [&](L d, int) { return std::atan2(d, p.a); }); });
  check_sum("Clamp(X-Y,-0.2,0.3)", [](P p) {
    return each(minus(p), [](L d, int) { return std::min(std::max(d, -0.2L), 0.3L); });
  });
  check_sum("IfElse(X-Y,X,Y*A)", [](P p) {
    return each(p.x, [&](L x, int k) { return x - p.y[k] >= 0 ? x : p.y[k] * p.a; });
  });
  check_sum("Mod(X+Y,0.7,0.1)", [](P p) {
    return each(p.x, [&](L x, int k) {
      return x + p.y[k] - 0.7L * std::floor((x + p.y[k] - 0.1L) / 0.7L);
    });
  });
  check_sum("Round(X*Y,2)", [](P p) {
    return each(p.x, [&](L x, int k) { return std::round(x * p.y[k] * 100) / 100; });
  });
  check_sum("P*X+IntCst(3)+Zero(3)",
            [](P p) { return each(p.x, [&](L x, int k) { return L(kP[k]) * x + 3; }); });
  check_sum("X*IntInv(-4)", [](P p) { return each(p.x, [](L x, int) { return x / -4; }); });
  check_sum("ClampInt(3*(X-Y),-1,2)", [](P p) {
    return each(minus(p), [](L d, int) { return std::min<L>(2, std::max<L>(-1, 3 * d)); });
  });
  check_sum("(X<Y)+(X<=Y)*2+(X>Y)*4+(X>=Y)*8+(X==X)*16+(X!=Y)*32+Equal(Round(X,0),1)*64", [](P p) {
    return each(p.x, [&](L x, int k) {
      const L y = p.y[k];
      return L(x < y) + 2 * L(x <= y) + 4 * L(x > y) + 8 * L(x >= y) + 16 + 32 * L(x != y) +
             64 * L(std::round(x) == 1);
    });
  });
  check_sum("LessThan(A,Elem(X,0))+LessOrEqual(X,A)+NotEqual(A,A)",
            [](P p) { return each(p.x, [&](L x, int) { return L(p.a < p.x[0]) + L(x <= p.a); }); });
  check_sum("Var(0,3,0)*Var(2,1,1)",
            [](P p) { return each(p.x, [&](L x, int) { return x * p.a; }); });
}

TEST(Genred, VectorOperations) {
  using P = const Pair&;
  check_sum("(X|Y)*A", [](P p) { return std::vector<L>{dot(p.x, p.y) * p.a}; });
  check_sum("Scalprod(X,Y)*A", [](P p) { return std::vector<L>{dot(p.x, p.y) * p.a}; });
  check_sum("SqNorm2(X-Y)", [](P p) { return std::vector<L>{dot(minus(p), minus(p))}; });
  check_sum("Norm2(X-Y)", [](P p) { return std::vector<L>{std::sqrt(dot(minus(p), minus(p)))}; });
  check_sum("Normalize(X-Y)", [](P p) {
    const L n = std::sqrt(dot(minus(p), minus(p)));
    return each(minus(p), [&](L d, int) { return d / n; });
  });
  check_sum("Sum(X*Y)", [](P p) { return std::vector<L>{dot(p.x, p.y)}; });
  check_sum("Max(X-Y)", [](P p) {
    const auto d = minus(p);
    return std::vector<L>{std::max({d[0], d[1], d[2]})};
  });
  check_sum("Min(X-Y)", [](P p) {
    const auto d = minus(p);
    return std::vector<L>{std::min({d[0], d[1], d[2]})};
  });
  check_sum("WeightedSqNorm(G,X-Y)",
            [](P p) { return std::vector<L>{0.7L * dot(minus(p), minus(p))}; });
  check_sum("WeightedSqNorm(P,X-Y)", [](P p) {
    const auto d = minus(p);
    return std::vector<L>{kP[0] * d[0] * d[0] + kP[1] * d[1] * d[1] + kP[2] * d[2] * d[2]};
  });
  check_sum("WeightedSqDist(S,X,Y)", [](P p) {
    const auto d = minus(p);
    L sum = 0;
    for (int k = 0; k < 3; ++k)
      for (int l = 0; l < 3; ++l) sum += d[k] * L(kS[3 * k + l]) * d[l];
    return std::vector<L>{sum};
  });
  check_sum("Elem(X-Y,2)", [](P p) { return std::vector<L>{p.x[2] - p.y[2]}; });
  check_sum("Extract(Concat(X,Y*A),2,3)", [](P p) {
    return std::vector<L>{p.x[2], p.y[0] * p.a, p.y[1] * p.a};
  });
  check_sum("OneHot(A*3,4)", [](P p) {
    std::vector<L> v(4);
    const long k = std::lround(static_cast<double>(p.a * 3));
    if (k >= 0 && k < 4) v[k] = 1;
    return v;
  });
  // KeOps: the matrix is column-major.
  check_sum("MatVecMult(M,X)", [](P p) {
    std::vector<L> v(3);
    for (int r = 0; r < 3; ++r)
      for (int k = 0; k < 3; ++k) v[r] += p.m[r + 3 * k] * p.x[k];
    return v;
  });
  check_sum("VecMatMult(X,M)", [](P p) {
    std::vector<L> v(3);
    for (int r = 0; r < 3; ++r)
      for (int k = 0; k < 3; ++k) v[r] += p.x[k] * p.m[k + 3 * r];
    return v;
  });
  check_sum("ElemT(A,4,2)+ExtractT(X,1,4)+SumT(Elem(Y,0),4)", [](P p) {
    return std::vector<L>{p.y[0], p.x[0] + p.y[0], p.a + p.x[1] + p.y[0], p.x[2] + p.y[0]};
  });
  check_sum("TensorProd(X,Y-A)", [](P p) {
    std::vector<L> v(9);
    for (int k = 0; k < 3; ++k)
      for (int l = 0; l < 3; ++l) v[3 * k + l] = p.x[k] * (p.y[l] - p.a);
    return v;
  });
}

// Sum's schemes on terms that cancel: +-(1 + u/1000), so |sum| ~ 0.1 while
// sum |terms| = N. Each scheme against its bound and the exact sum of the
// terms as T holds them (long double).
template <class T>
void check_sum_schemes() {
  const std::int64_t n = 30000;
  HostMatrix<T> targets(3, 3), sources(n, 13);  // rows Y, A, M: A in column 3
  for (std::int64_t i = 0; i < 3; ++i)
    for (int k = 0; k < 3; ++k) targets(i, k) = T(1 << i);  // 1, 2, 4: exact products
  L exact = 0, magnitude = 0;
  for (std::int64_t j = 0; j < n; ++j) {
    const double u = kinterp::detail::unit_interval(kinterp::detail::mix64(std::uint64_t(j)));
    sources(j, 3) = static_cast<T>((j % 2 ? -1 : 1) * (1 + u / 1000));
    exact += sources(j, 3), magnitude += std::fabs(L(sources(j, 3)));
  }
  const auto run_scheme = [&](const char* scheme, const char* dtype_acc) {
    Reduction sum;
    sum.set_accumulation(scheme, dtype_acc);
    const auto got = run<T>("A*Elem(X,0)", sum, 1, targets, sources);
    const auto block = my_block(3);
    L worst = 0;
    for (std::int64_t i = 0; i < got.rows; ++i) {
      const L scale = L(1 << (block.begin + i));
      worst = std::max(worst, std::fabs(got(i, 0) - exact * scale) / scale);
    }
    return static_cast<double>(worst);
  };
  constexpr double u = std::numeric_limits<double>::epsilon() / 2;
  const double kahan = run_scheme("kahan_scheme", "auto"),
               direct = run_scheme("direct_sum", "auto"),
               double_tiles = run_scheme("block_sum", "float64"),
               block = run_scheme("block_sum", "auto");
  if (world_rank() == 0) {
    std::printf(
        "  sum of %lld terms +-(1 + u/1000) in %s, error / sum |terms|: kahan %.1e, "
        "direct %.1e, block with dtype_acc float64 %.1e, block %.1e\n",
        static_cast<long long>(n), sizeof(T) == 4 ? "float" : "double", kahan / double(magnitude),
        direct / double(magnitude), double_tiles / double(magnitude), block / double(magnitude));
  }
  // Kahan (Neumaier): 2u |sum| + O(n u^2) sum |terms|, whatever T.
  EXPECT_LE(kahan, 4 * u * std::fabs(double(exact)) + 1e-20);
  // Each term into a double total: n u sum |terms| at worst.
  EXPECT_LE(direct, n * u * double(magnitude));
  // Tiles of 128 in double (dtype_acc float64; double data anyway), then the
  // total over n / 128 tiles.
  EXPECT_LE(double_tiles, (128 + n / 128.0) * u * double(magnitude));
  // The default: tiles in T.
  const double unit = std::numeric_limits<T>::epsilon() / 2;
  EXPECT_LE(block, (128 * unit + n / 128.0 * u) * double(magnitude));
}

TEST(Genred, SumSchemesMeetTheirBounds) {
  check_sum_schemes<double>();
  check_sum_schemes<float>();
  Reduction min = Reduction::parse("Min");
  EXPECT_THROW(min.set_accumulation("kahan_scheme", "auto"), kinterp::Error);
  EXPECT_THROW(Reduction{}.set_accumulation("kahan", "auto"), kinterp::Error);
  EXPECT_THROW(Reduction{}.set_accumulation("block_sum", "float16"), kinterp::Error);
}

// A formula holding 729 values at once: more registers than a device keeps
// on its stack (Program::device_stack_registers), so a device takes them
// from global memory; on the host, the per-thread buffer grows.
TEST(Genred, FormulasOfManyRegisters) {
  check_sum("TensorProd(TensorProd(M,M*A),M-Elem(X,1))", [](const Pair& p) {
    std::vector<L> v(729);
    for (int i = 0; i < 9; ++i)
      for (int j = 0; j < 9; ++j)
        for (int k = 0; k < 9; ++k)
          v[81 * i + 9 * j + k] = p.m[i] * p.m[j] * p.a * (p.m[k] - p.x[1]);
    return v;
  });
}

// TensorDot reads M (Vj(9)) row-major: M[r][c] = m[3 r + c].
TEST(Genred, TensorDot) {
  using P = const Pair&;
  check_sum("TensorDot(M,X,Ind(3,3),Ind(3),Ind(1),Ind(0))", [](P p) {  // M x
    std::vector<L> v(3);
    for (int r = 0; r < 3; ++r)
      for (int k = 0; k < 3; ++k) v[r] += p.m[3 * r + k] * p.x[k];
    return v;
  });
  check_sum("TensorDot(X,M,(3,),(3,3),(0,),(0,))", [](P p) {  // x^T M, keopscore's tuples
    std::vector<L> v(3);
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 3; ++k) v[c] += p.x[k] * p.m[3 * k + c];
    return v;
  });
  check_sum("TensorDot(M,M*A,Ind(3,3),Ind(3,3),Ind(1,0),Ind(0,1))", [](P p) {  // trace(M M^T a)
    L t = 0;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) t += p.m[3 * i + j] * p.a * p.m[3 * j + i];
    return std::vector<L>{t};
  });
  // No contraction; the permutation moves x's axis to output axis 1.
  check_sum("TensorDot(X,Y,Ind(3),Ind(3),Ind(),Ind(),Ind(1,0))", [](P p) {
    std::vector<L> v(9);
    for (int k = 0; k < 3; ++k)
      for (int l = 0; l < 3; ++l) v[3 * l + k] = p.x[k] * p.y[l];
    return v;
  });
  // M's axis 0 against axis 1 of T = x y^T; kept (M's c, T's k) swapped.
  check_sum("TensorDot(M,TensorProd(X,Y),Ind(3,3),Ind(3,3),Ind(0),Ind(1),Ind(1,0))", [](P p) {
    std::vector<L> v(9);
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 3; ++k)
        for (int i = 0; i < 3; ++i) v[3 * k + c] += p.m[3 * i + c] * p.x[k] * p.y[i];
    return v;
  });
}

// The reference of every reduction from the values f(i, j) (n_out x n_in x D).
std::vector<std::vector<L>> reduce(const Reduction& reduction,
                                   const std::vector<std::vector<std::vector<L>>>& f) {
  std::vector<std::vector<L>> out;
  for (const auto& row : f) {
    const int d = static_cast<int>(row[0].size());
    const std::int64_t n = static_cast<std::int64_t>(row.size());
    std::vector<L> values, indices;
    for (int c = 0; c < d; ++c) {
      std::vector<std::int64_t> order(n);
      std::iota(order.begin(), order.end(), 0);
      const bool maximum = reduction.kind == ReductionKind::Max ||
                           reduction.kind == ReductionKind::ArgMax ||
                           reduction.kind == ReductionKind::MaxArgMax;
      // NaN first, then by value; stable, so ties keep the smaller index.
      std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
        const L u = row[a][c], v = row[b][c];
        if (std::isnan(u) || std::isnan(v)) return std::isnan(u) && !std::isnan(v);
        return maximum ? u > v : u < v;
      });
      const int k = reduction.kind == ReductionKind::KMin ||
                            reduction.kind == ReductionKind::ArgKMin ||
                            reduction.kind == ReductionKind::KMinArgKMin
                        ? reduction.k
                        : 1;
      for (int r = 0; r < k; ++r) values.push_back(row[order[r]][c]), indices.push_back(order[r]);
    }
    std::vector<L> result;
    switch (reduction.kind) {
      case ReductionKind::Sum:
        for (int c = 0; c < d; ++c) {
          L s = 0;
          for (const auto& v : row) s += v[c];
          result.push_back(s);
        }
        break;
      case ReductionKind::LogSumExp:
        for (int c = 0; c < d; ++c) {
          L max = -std::numeric_limits<L>::infinity(), s = 0;
          for (const auto& v : row) max = std::max(max, v[c]);
          for (const auto& v : row) s += std::exp(v[c] - max);
          result.push_back(max + std::log(s));
        }
        break;
      case ReductionKind::MaxSumShiftExp:
        for (int c = 0; c < d; ++c) {
          L max = -std::numeric_limits<L>::infinity();
          for (const auto& v : row) max = std::max(max, v[c]);
          result.push_back(max);
        }
        for (int c = 0; c < d; ++c) {
          L s = 0;
          for (const auto& v : row) s += std::exp(v[c] - result[c]);
          result.push_back(s);
        }
        break;
      case ReductionKind::SumSoftMaxWeight:
      case ReductionKind::LogSumExpWeight:
      case ReductionKind::MaxSumShiftExpWeight: {
        // In long double, exp(f) of these tests' f stays in range: no shift.
        L max = -std::numeric_limits<L>::infinity();
        for (const auto& v : row) max = std::max(max, v[0]);
        if (reduction.kind == ReductionKind::MaxSumShiftExpWeight) result.push_back(max);
        for (int c = 1; c < d; ++c) {
          L num = 0, den = 0;
          for (const auto& v : row) num += std::exp(v[0]) * v[c], den += std::exp(v[0]);
          result.push_back(reduction.kind == ReductionKind::SumSoftMaxWeight ? num / den
                           : reduction.kind == ReductionKind::LogSumExpWeight
                               ? std::log(num)
                               : num / std::exp(max));
        }
        break;
      }
      case ReductionKind::Min:
      case ReductionKind::Max:
      case ReductionKind::KMin:
        result = values;
        break;
      case ReductionKind::ArgMin:
      case ReductionKind::ArgMax:
      case ReductionKind::ArgKMin:
        result = indices;
        break;
      default:
        result = values;
        result.insert(result.end(), indices.begin(), indices.end());
        break;
    }
    out.push_back(result);
  }
  return out;
}

template <class T>
void check_reduction(const std::string& formula, const Reduction& reduction, int axis,
                     const std::function<std::vector<L>(const Pair&)>& reference,
                     double tolerance) {
  SCOPED_TRACE(formula + " " + reduction.name() + " K=" + std::to_string(reduction.k) +
               " axis=" + std::to_string(axis) + (sizeof(T) == 4 ? " float" : " double"));
  const Data<T> data;
  const std::int64_t n_out = axis == 1 ? kTargets : kSources;
  const std::int64_t n_in = axis == 1 ? kSources : kTargets;
  std::vector<std::vector<std::vector<L>>> f(n_out, std::vector<std::vector<L>>(n_in));
  for (std::int64_t o = 0; o < n_out; ++o)
    for (std::int64_t r = 0; r < n_in; ++r)
      f[o][r] = reference(axis == 1 ? data.pair(o, r) : data.pair(r, o));
  const auto expected = reduce(reduction, f);
  // Values are bounded by their own size; indices must be exact.
  auto magnitude = expected;
  for (auto& row : magnitude)
    for (auto& m : row) m = std::max<L>(std::fabs(m), 1);
  const auto got = axis == 1 ? run<T>(formula, reduction, 1, data.targets, data.sources)
                             : run<T>(formula, reduction, 0, data.sources, data.targets);
  expect_near_rows(got, expected, magnitude, tolerance);
}

TEST(Genred, EveryReductionBothAxes) {
  // Two components, so that each is reduced on its own.
  const std::string formula = "Concat(SqDist(X,Y), A-Elem(X,0))";
  const auto reference = [](const Pair& p) {
    return std::vector<L>{dot(minus(p), minus(p)), p.a - p.x[0]};
  };
  for (const auto& name : Reduction::names()) {
    if (Reduction::parse(name, 3).weighted()) continue;
    for (int axis : {1, 0}) {
      check_reduction<double>(formula, Reduction::parse(name, 3), axis, reference, 1e-13);
      check_reduction<float>(formula, Reduction::parse(name, 3), axis, reference, 2e-6);
    }
  }
  // Soft-max weights (the attention form): a scalar score, then the weights.
  const auto softmax = [](const Pair& p) {
    return std::vector<L>{-dot(minus(p), minus(p)), p.y[0], p.y[1] * p.a};
  };
  for (int axis : {1, 0}) {
    check_reduction<double>("Concat(-SqDist(X,Y), Concat(Elem(Y,0), Elem(Y,1)*A))",
                            Reduction::parse("SumSoftMaxWeight"), axis, softmax, 1e-13);
  }
  // Positive weights for LogSumExpWeight (the log of a weighted sum), and
  // scores large enough that exp(f) alone would overflow in float.
  const auto positive = [](const Pair& p) {
    return std::vector<L>{100 - 10 * dot(minus(p), minus(p)), std::exp(p.y[0]), 1 + p.a * p.a};
  };
  for (const char* name : {"SumSoftMaxWeight", "LogSumExpWeight", "Max_SumShiftExpWeight"}) {
    for (int axis : {1, 0}) {
      const std::string formula = "Concat(100-10*SqDist(X,Y), Concat(Exp(Elem(Y,0)), 1+Square(A)))";
      check_reduction<double>(formula, Reduction::parse(name), axis, positive, 1e-12);
      check_reduction<float>(formula, Reduction::parse(name), axis, positive, 3e-5);
    }
  }
}

TEST(Genred, TiesGoToTheSmallestGlobalIndex) {
  // Round(A, 0) takes a few values only: many ties, whose order must not
  // depend on the rank count.
  const auto reference = [](const Pair& p) { return std::vector<L>{std::round(p.a)}; };
  for (const char* name : {"ArgMin", "ArgMax", "Min_ArgMin", "ArgKMin"}) {
    check_reduction<double>("Round(A,0)", Reduction::parse(name, 5), 1, reference, 0);
  }
}

TEST(Genred, NaNIsNeverHidden) {
  // Log of a negative number on some pairs: every reduction reports NaN there.
  const auto reference = [](const Pair& p) {
    return std::vector<L>{p.x[0] - p.y[0] < -0.5L ? std::numeric_limits<L>::quiet_NaN()
                                                  : p.x[0] - p.y[0]};
  };
  for (const char* name : {"Sum", "Min", "Max", "LogSumExp", "KMin"}) {
    check_reduction<double>("IfElse(Elem(X-Y,0)+0.5, Elem(X-Y,0), Log(Elem(X,0)-5))",
                            Reduction::parse(name, 2), 1, reference, 1e-13);
  }
}

TEST(Genred, ShapeErrorsReachEveryRank) {
  const Formula formula("SqDist(X,Y)", kAliases);
  const auto wrong =
      rows_on_device(global_matrix<double>(kSources, 5, 1, 0, 1), my_block(kSources));
  EXPECT_THROW(Genred<double>(MPI_COMM_WORLD, formula, kParameters, Reduction{}, 1, wrong),
               kinterp::Error);
  const auto right =
      rows_on_device(global_matrix<double>(kSources, 13, 1, 0, 1), my_block(kSources));
  EXPECT_THROW(Genred<double>(MPI_COMM_WORLD, Formula("Exp(-G*SqDist(X,Y))", kAliases), {},
                              Reduction{}, 1, right),
               kinterp::FormulaError);
  EXPECT_THROW(Genred<double>(MPI_COMM_WORLD, formula, kParameters,
                              Reduction::parse("SumSoftMaxWeight"), 1, right),
               kinterp::Error);
  EXPECT_THROW(Reduction::parse("ArgKmin"), kinterp::Error);
  try {
    Reduction::parse("LogSumExpp");
    FAIL() << "no error";
  } catch (const kinterp::Error& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'LogSumExp'"), std::string::npos)
        << e.what();
  }
}

TEST(Genred, KeOpsGalleryFormulas) {
  using P = const Pair&;
  const auto r2 = [](P p) { return dot(minus(p), minus(p)); };
  check_sum("Exp(-G*Norm2(X-Y))*A",
            [&](P p) { return std::vector<L>{std::exp(-0.7L * std::sqrt(r2(p))) * p.a}; });
  check_sum("Inv(1+G*SqDist(X,Y))*A",
            [&](P p) { return std::vector<L>{p.a / (1 + 0.7L * r2(p))}; });
  check_sum("Rsqrt(1+G*SqDist(X,Y))*A",
            [&](P p) { return std::vector<L>{p.a / std::sqrt(1 + 0.7L * r2(p))}; });
  // Matern 3/2 written out, with a vector of weights.
  check_sum("(1+G*Norm2(X-Y))*Exp(-G*Norm2(X-Y))*Y", [&](P p) {
    const L r = std::sqrt(r2(p));
    return each(p.y, [&](L y, int) { return (1 + 0.7L * r) * std::exp(-0.7L * r) * y; });
  });
  // Soft-min of distances (Sinkhorn's C-transform): -eps log sum_j exp(-|x-y|^2 / eps).
  const auto cost = [&](P p) { return std::vector<L>{-r2(p) / 0.7L}; };
  check_reduction<double>("-SqDist(X,Y)/G", Reduction::parse("LogSumExp"), 1, cost, 1e-13);
  // k nearest neighbours under an anisotropic metric.
  check_reduction<double>(
      "WeightedSqDist(P,X,Y)", Reduction::parse("ArgKMin", 4), 1,
      [](P p) {
        const auto d = minus(p);
        return std::vector<L>{kP[0] * d[0] * d[0] + kP[1] * d[1] * d[1] + kP[2] * d[2] * d[2]};
      },
      0);
}

}  // namespace
