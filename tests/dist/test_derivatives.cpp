// The derivatives of formulas (Grad, Diff, Divergence, Laplacian, GradMatrix)
// under a Sum over j, at 1-4 ranks, against two independent references:
// - fourth-order central differences of the same formula, evaluated by the
//   generic evaluator at shifted data (the derivative code plays no part in
//   them), for every smooth function of the language;
// - closed forms in long double: the kinked and piecewise-constant functions,
//   whose central differences would straddle the kinks, and the kernels
//   (Gaussian gradient and Laplacian, Matern 3/2 gradient).
// A shift of a j-variable or a parameter moves it for every j at once, so its
// differences give the sum over j of the partial derivatives, which is what
// the derivative under the Sum is.

#include <kinterp/Genred.hpp>

#include "../DistributedData.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <string>

namespace {

using namespace kinterp::test;
using kinterp::Formula;
using kinterp::Genred;
using kinterp::Reduction;
using L = long double;
using Parameters = std::map<std::string, std::vector<double>>;

constexpr std::int64_t kTargets = 19, kSources = 37;

// Targets: X (columns 0-2), U (3-5). Sources: Y (0-2), A (3), M (4-12).
const std::vector<std::string> kAliases = {"X = Vi(0,3)", "U = Vi(1,3)", "Y = Vj(2,3)",
                                           "A = Vj(3,1)", "M = Vj(4,9)", "G = Pm(5,1)",
                                           "P = Pm(6,3)", "S = Pm(7,9)"};
const Parameters kParameters = {
    {"G", {0.7}}, {"P", {0.5, 1.5, 2.0}}, {"S", {2.0, 0.3, 0.1, 0.3, 1.5, -0.2, 0.1, -0.2, 1.0}}};

// Where each variable's components live: target or source columns, or a parameter.
struct Place {
  enum { Target, Source, Parameter } where;
  int first;
};
const std::map<std::string, Place> kPlaces = {
    {"X", {Place::Target, 0}},    {"U", {Place::Target, 3}},   {"Y", {Place::Source, 0}},
    {"A", {Place::Source, 3}},    {"M", {Place::Source, 4}},   {"G", {Place::Parameter, 0}},
    {"P", {Place::Parameter, 0}}, {"S", {Place::Parameter, 0}}};

struct Data {
  HostMatrix<double> targets = global_matrix<double>(kTargets, 6, 31, 0.2, 1.5);
  HostMatrix<double> sources = global_matrix<double>(kSources, 13, 32, 0.2, 1.5);
  Parameters parameters = kParameters;

  // The data with component l of `variable` moved by `delta` (for every row).
  Data shifted(const std::string& variable, int l, double delta) const {
    Data data = *this;
    const Place place = kPlaces.at(variable);
    if (place.where == Place::Parameter) {
      data.parameters[variable][l] += delta;
      return data;
    }
    auto& m = place.where == Place::Target ? data.targets : data.sources;
    for (std::int64_t i = 0; i < m.rows; ++i) m(i, place.first + l) += delta;
    return data;
  }

  // X moved by delta * U, row by row.
  Data along_u(double delta) const {
    Data data = *this;
    for (std::int64_t i = 0; i < targets.rows; ++i)
      for (int k = 0; k < 3; ++k) data.targets(i, k) += delta * targets(i, 3 + k);
    return data;
  }
};

// This rank's rows of the Sum over j of `formula`.
template <class T>
HostMatrix<L> sum_over_j(const std::string& formula, const Data& data) {
  HostMatrix<T> targets(data.targets.rows, data.targets.cols);
  HostMatrix<T> sources(data.sources.rows, data.sources.cols);
  for (std::size_t k = 0; k < targets.values.size(); ++k)
    targets.values[k] = data.targets.values[k];
  for (std::size_t k = 0; k < sources.values.size(); ++k)
    sources.values[k] = data.sources.values[k];
  const Formula parsed(formula, kAliases);
  const Genred<T> genred(MPI_COMM_WORLD, parsed, data.parameters, Reduction{}, 1,
                         rows_on_device(sources, my_block(sources.rows)));
  const auto block = my_block(targets.rows);
  typename Genred<T>::Output out("out", block.count, genred.output_columns());
  genred(rows_on_device(targets, block), out);
  const auto host = on_host(out);
  HostMatrix<L> result(block.count, genred.output_columns());
  for (std::int64_t i = 0; i < result.rows; ++i)
    for (std::int64_t c = 0; c < result.cols; ++c) result(i, c) = host(i, c);
  return result;
}

// |got - expected| <= tolerance * max(1, max |expected|) on every rank's rows,
// with the scale taken over all ranks so that every rank count meets one bound.
void expect_close(const HostMatrix<L>& got, const HostMatrix<L>& expected, double tolerance) {
  ASSERT_EQ(got.rows, expected.rows);
  ASSERT_EQ(got.cols, expected.cols);
  double scale = 1;
  for (L v : expected.values) scale = std::max(scale, static_cast<double>(std::fabs(v)));
  scale = global_max(scale);
  const auto block = my_block(kTargets);
  for (std::int64_t i = 0; i < got.rows; ++i)
    for (std::int64_t c = 0; c < got.cols; ++c)
      EXPECT_LE(std::fabs(got(i, c) - expected(i, c)), tolerance * scale)
          << "row " << block.begin + i << " column " << c << ": got " << double(got(i, c))
          << ", expected " << double(expected(i, c));
}

// d/dt g(data moved by t) at t = 0, from g at t = +-h, +-2h (error O(h^4)).
HostMatrix<L> first_difference(const std::function<HostMatrix<L>(double)>& g, double h) {
  const auto p1 = g(h), m1 = g(-h), p2 = g(2 * h), m2 = g(-2 * h);
  HostMatrix<L> d = p1;
  for (std::size_t k = 0; k < d.values.size(); ++k) {
    d.values[k] = (8 * (p1.values[k] - m1.values[k]) - (p2.values[k] - m2.values[k])) / (12 * h);
  }
  return d;
}

// d^2/dt^2 g at t = 0, from g at 0, +-h, +-2h (error O(h^4)).
HostMatrix<L> second_difference(const std::function<HostMatrix<L>(double)>& g, double h) {
  const auto zero = g(0), p1 = g(h), m1 = g(-h), p2 = g(2 * h), m2 = g(-2 * h);
  HostMatrix<L> d = zero;
  for (std::size_t k = 0; k < d.values.size(); ++k) {
    d.values[k] =
        (16 * (p1.values[k] + m1.values[k]) - (p2.values[k] + m2.values[k]) - 30 * zero.values[k]) /
        (12 * h * h);
  }
  return d;
}

constexpr double kStep = 1e-3, kSecondStep = 1e-2;

// Column `l` of the first differences of `formula` along component l of `v`.
HostMatrix<L> difference_along(const std::string& formula, const std::string& v, int l) {
  const Data data;
  return first_difference(
      [&](double t) { return sum_over_j<double>(formula, data.shifted(v, l, t)); }, kStep);
}

// Places the columns of `part` at column `first` of `m` (sized on first use).
void put(HostMatrix<L>& m, int columns, int first, const HostMatrix<L>& part) {
  if (m.cols == 0) m = HostMatrix<L>(part.rows, columns);
  for (std::int64_t i = 0; i < part.rows; ++i)
    for (std::int64_t c = 0; c < part.cols; ++c) m(i, first + c) = part(i, c);
}

// Grad(f, v, e) against the differences of (f|e), component by component;
// e must not depend on v. In T, against the differences in double.
template <class T = double>
void check_grad(const std::string& f, const std::string& v, int dv, const std::string& e,
                double tolerance) {
  SCOPED_TRACE("Grad(" + f + ", " + v + ", " + e + ")" + (sizeof(T) == 4 ? " float" : ""));
  HostMatrix<L> expected;
  for (int l = 0; l < dv; ++l) {
    put(expected, dv, l, difference_along("((" + f + ")|(" + e + "))", v, l));
  }
  expect_close(sum_over_j<T>("Grad(" + f + "," + v + "," + e + ")", Data{}), expected, tolerance);
}

TEST(Derivatives, GradOfEveryFunctionMatchesCentralDifferences) {
  // Smooth at the data (values in [0.2, 1.5]): every differentiable function.
  const char* scalars[] = {
      "Exp(-G*SqDist(X,Y))*A",
      "Log(Sum(X*Y)+1)+Sqrt(SqNorm2(X-Y)+1)-Rsqrt(SqNorm2(X-Y)+1)",
      "Inv(Norm2(X-Y)+1)+Exp(-Norm2(X-Y))",
      "Sum(Square(X-Y)*Sin(X*Y)*Cos(X-Y))",
      "Sum(Atan(X-Y)+Asin((X-Y)/4)+Acos((X-Y)/4))",
      "Sum(XLogX(X*Y)+SinXDivX(3*(X-Y)))",
      "Sum(Pow(X-Y,3)+Pow(X,-2)+Powf(X,Y)+Atan2(X-Y,A)+Atan2(A,X+Y))+Sum(X**1.5)",
      "(Normalize(X-Y+3)|Y)",
      "WeightedSqNorm(P,X-Y)+WeightedSqDist(S,X,Y)+WeightedSqNorm(G,X)+WeightedSqNorm(M,X*Y)",
      "(MatVecMult(M,X)|Y)+(VecMatMult(X,M)|X)+Sum(TensorProd(X,Y-A))",
      "Elem(X*Y,1)+Sum(Extract(Concat(X,Y*A),2,3))+(X|Y)/Sum(X)-Minus(Elem(X,0))",
      "Sum(IfElse(A-0.5,X*X,Y*X)+Clamp(X,-9,9)+Mod(X,7,-7)+ClampInt(X*Y,-9,9))",
      "Sum(ExtractT(X*Y,1,5)*SumT(Elem(X,0),5))+Elem(ElemT(Elem(X,1)*A,3,2),2)*Elem(Var(0,3,0),2)",
      "Sum(TensorDot(TensorProd(X,Y),M*Elem(X,0),(3,3),(3,3),(1,),(0,),(1,0)))",
  };
  const Data data;
  for (const char* f : scalars) {
    check_grad(f, "X", 3, "A", 1e-8);          // a target variable
    check_grad(f, "Y", 3, "IntCst(2)", 1e-8);  // a source variable
    // Forward mode: Diff(f, X, U) along each target's own direction u_i.
    SCOPED_TRACE(std::string("Diff(") + f + ", X, U)");
    expect_close(
        sum_over_j<double>(std::string("Diff(") + f + ",X,U)", data),
        first_difference([&](double t) { return sum_over_j<double>(f, data.along_u(t)); }, kStep),
        1e-8);
  }
  check_grad("Exp(-G*SqDist(X,Y))*A", "A", 1, "Elem(X,0)", 1e-8);
  check_grad("Exp(-G*SqDist(X,Y))*A+WeightedSqNorm(G,X)", "G", 1, "A", 1e-8);  // a parameter
  check_grad("WeightedSqDist(S,X,Y)+WeightedSqNorm(P,X-Y)", "S", 9, "A", 1e-8);
  check_grad("(MatVecMult(M,X)|Y)+(VecMatMult(Y,M)|X)+WeightedSqNorm(M,X)", "M", 9, "Elem(X,0)",
             1e-8);
  // A vector f, with e of its dimension.
  check_grad("Exp(-G*SqDist(X,Y))*Y", "X", 3, "Y*A", 1e-8);
  check_grad("Exp(-G*SqDist(X,Y))*X", "Y", 3, "X*X", 1e-8);
  // Float, against the differences in double.
  check_grad<float>("Exp(-G*SqDist(X,Y))*A", "X", 3, "A", 2e-5);
  check_grad<float>("Sum(Pow(X-Y,3)+Powf(X,Y))", "Y", 3, "IntCst(1)", 2e-5);
}

TEST(Derivatives, DiffDivergenceGradMatrixAndLaplacianMatchCentralDifferences) {
  const Data data;
  const std::string f = "Exp(-G*SqDist(X,Y))*Y*A+Sin(X)*Sum(Y)";  // dimension 3
  // Diff(f, X, U): along each target's own direction u_i.
  expect_close(
      sum_over_j<double>("Diff(" + f + ",X,U)", data),
      first_difference([&](double t) { return sum_over_j<double>(f, data.along_u(t)); }, kStep),
      1e-8);
  // GradMatrix: column k * 3 + l is d f_k / d x_l.
  HostMatrix<L> matrix, divergence(my_block(kTargets).count, 1);
  for (int l = 0; l < 3; ++l) {
    const auto column = difference_along(f, "X", l);
    for (std::int64_t i = 0; i < column.rows; ++i) {
      divergence(i, 0) += column(i, l);
      if (matrix.cols == 0) matrix = HostMatrix<L>(column.rows, 9);
      for (int k = 0; k < 3; ++k) matrix(i, k * 3 + l) = column(i, k);
    }
  }
  expect_close(sum_over_j<double>("GradMatrix(" + f + ",X)", data), matrix, 1e-8);
  expect_close(sum_over_j<double>("Divergence(" + f + ",X)", data), divergence, 1e-8);

  // Laplacian: the sum of second differences along each component, also as
  // the divergence of the gradient (a derivative of a derivative).
  for (const std::string scalar :
       {"Exp(-G*SqDist(X,Y))*A", "Inv(SqNorm2(X-Y)+1)*Sum(Sin(X*Y))", "Exp(-Norm2(X-Y+2))"}) {
    SCOPED_TRACE(scalar);
    HostMatrix<L> laplacian(my_block(kTargets).count, 1);
    for (int l = 0; l < 3; ++l) {
      const auto d2 = second_difference(
          [&](double t) { return sum_over_j<double>(scalar, data.shifted("X", l, t)); },
          kSecondStep);
      for (std::int64_t i = 0; i < d2.rows; ++i) laplacian(i, 0) += d2(i, 0);
    }
    expect_close(sum_over_j<double>("Laplacian(" + scalar + ",X)", data), laplacian, 1e-7);
    expect_close(sum_over_j<double>("Divergence(Grad(" + scalar + ",X,IntCst(1)),X)", data),
                 laplacian, 1e-7);
  }
}

// Closed forms: sum over j of a per-pair value, in long double.
using PairValue = std::function<std::vector<L>(const L* x, const L* u, const L* y, L a)>;

HostMatrix<L> closed_form(const PairValue& value) {
  const Data data;
  const auto block = my_block(kTargets);
  HostMatrix<L> result;
  for (std::int64_t i = 0; i < block.count; ++i) {
    L x[3], u[3], y[3];
    for (int k = 0; k < 3; ++k) {
      x[k] = data.targets(block.begin + i, k);
      u[k] = data.targets(block.begin + i, 3 + k);
    }
    for (std::int64_t j = 0; j < kSources; ++j) {
      for (int k = 0; k < 3; ++k) y[k] = data.sources(j, k);
      const auto v = value(x, u, y, data.sources(j, 3));
      if (result.cols == 0) result = HostMatrix<L>(block.count, static_cast<int>(v.size()));
      for (std::size_t c = 0; c < v.size(); ++c) result(i, c) += v[c];
    }
  }
  return result;
}

TEST(Derivatives, KinkedFunctionsMatchClosedForms) {
  // Abs, ReLU, Clamp, IfElse on x - y, Max, Min; the piecewise constant ones
  // (Round, Floor, Sign, Step, OneHot) have derivative 0 where it exists.
  const std::string f =
      "Sum(Abs(X-Y)+ReLU(X-Y)+Clamp(X-Y,-0.2,0.3)+IfElse(X-Y,X*X,Y*X)+Round(X*Y,2)+Floor(3*X)"
      "+Sign(X-Y)+Step(X-Y)+ClampInt(3*(X-Y),-1,2)+(X<Y)+(X==Y)+(X>=Y))+Max(X*Y)+Min(X-Y)"
      "+Sum(OneHot(Elem(X,0)*3,4))";
  // The gradient times a, and (gradient|u).
  const auto gradient = [](const L* x, const L* y) {
    int high = 0, low = 0;
    for (int k = 1; k < 3; ++k) {
      if (x[k] * y[k] > x[high] * y[high]) high = k;
      if (x[k] - y[k] < x[low] - y[low]) low = k;
    }
    std::vector<L> g(3);
    for (int k = 0; k < 3; ++k) {
      const L d = x[k] - y[k];
      g[k] = (d > 0 ? 1 : -1) + (d > 0 ? 1 : 0) + (d >= -0.2L && d <= 0.3L ? 1 : 0) +
             (d >= 0 ? 2 * x[k] : y[k]) + (k == high ? y[k] : 0) + (k == low ? 1 : 0) +
             (3 * d >= -1 && 3 * d <= 2 ? 3 : 0);
    }
    return g;
  };
  const auto grad = closed_form([&](const L* x, const L*, const L* y, L a) {
    auto g = gradient(x, y);
    for (auto& c : g) c *= a;
    return g;
  });
  expect_close(sum_over_j<double>("Grad(" + f + ",X,A)", Data{}), grad, 1e-13);
  const auto diff = closed_form([&](const L* x, const L* u, const L* y, L) {
    const auto g = gradient(x, y);
    return std::vector<L>{g[0] * u[0] + g[1] * u[1] + g[2] * u[2]};
  });
  expect_close(sum_over_j<double>("Diff(" + f + ",X,U)", Data{}), diff, 1e-13);
}

TEST(Derivatives, KernelsMatchClosedForms) {
  const L g = kParameters.at("G")[0];
  // Gaussian exp(-g r^2): gradient -2 g (x - y) k, Laplacian (4 g^2 r^2 - 6 g) k in 3D.
  const auto gaussian = [g](const L* x, const L* y, L a, bool laplacian) {
    L r2 = 0;
    for (int k = 0; k < 3; ++k) r2 += (x[k] - y[k]) * (x[k] - y[k]);
    const L kernel = std::exp(-g * r2) * a;
    if (laplacian) return std::vector<L>{(4 * g * g * r2 - 6 * g) * kernel};
    std::vector<L> v(3);
    for (int k = 0; k < 3; ++k) v[k] = -2 * g * (x[k] - y[k]) * kernel;
    return v;
  };
  const std::string kernel = "Exp(-G*SqDist(X,Y))*A";
  for (bool laplacian : {false, true}) {
    const auto expected = closed_form(
        [&](const L* x, const L*, const L* y, L a) { return gaussian(x, y, a, laplacian); });
    const std::string formula =
        laplacian ? "Laplacian(" + kernel + ",X)" : "Grad(" + kernel + ",X,IntCst(1))";
    expect_close(sum_over_j<double>(formula, Data{}), expected, 1e-13);
    expect_close(sum_over_j<float>(formula, Data{}), expected, 2e-6);
  }
  // Matern 3/2 with length scale 1/G: (1 + c r) exp(-c r), c = sqrt(3) G;
  // gradient -c^2 (x - y) exp(-c r).
  const L c = std::sqrt(3.0L) * g;
  const auto expected = closed_form([c](const L* x, const L*, const L* y, L a) {
    L r2 = 0;
    for (int k = 0; k < 3; ++k) r2 += (x[k] - y[k]) * (x[k] - y[k]);
    std::vector<L> v(3);
    for (int k = 0; k < 3; ++k) v[k] = -c * c * (x[k] - y[k]) * std::exp(-c * std::sqrt(r2)) * a;
    return v;
  });
  expect_close(sum_over_j<double>("Grad((1+Sqrt(IntCst(3))*G*Norm2(X-Y))*Exp(-Sqrt(IntCst(3))*G*"
                                  "Norm2(X-Y))*A,X,IntCst(1))",
                                  Data{}),
               expected, 1e-13);
}

}  // namespace
