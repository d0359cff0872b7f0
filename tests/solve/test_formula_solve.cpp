// FormulaSolve over 1-4 ranks against LAPACK's dense Cholesky of the same
// system built in the test: a Gaussian the recogniser does not catch, a
// vector-valued kernel that is no radial family, and formulas with per-point
// inputs (noise, bandwidths); and its refusals (not linear, not symmetric,
// wrong shapes, misplaced inputs), on every rank.

#include <kinterp/FormulaSolve.hpp>

#include "../DenseKernelSolve.hpp"
#include "../DistributedData.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace {

using namespace kinterp::test;
using kinterp::Formula;
using kinterp::FormulaSolve;

constexpr std::int64_t kPoints = 60;

template <class T>
HostMatrix<T> rounded(const HostMatrix<double>& m) {
  HostMatrix<T> r(m.rows, m.cols);
  for (std::size_t k = 0; k < m.values.size(); ++k) r.values[k] = static_cast<T>(m.values[k]);
  return r;
}

template <class T>
HostMatrix<double> solve(const std::string& formula, const std::vector<std::string>& aliases,
                         const std::map<std::string, std::vector<double>>& parameters,
                         const HostMatrix<double>& x, const HostMatrix<double>& b, double alpha,
                         double rtol,
                         const std::map<std::string, HostMatrix<double>>& inputs = {}) {
  const auto block = my_block(x.rows);
  const HostMatrix<T> bt = rounded<T>(b);
  kinterp::VariableRows<T> rows;
  for (const auto& [name, values] : inputs)
    rows.emplace(name, rows_on_device(rounded<T>(values), block));
  const FormulaSolve<T> solver(MPI_COMM_WORLD, Formula(formula, aliases), parameters, "A",
                               rows_on_device(rounded<T>(x), block), rows);
  EXPECT_LT(solver.asymmetry(), 1e-5);
  DeviceMatrix<T> a("a", block.count, b.cols);
  kinterp::SolveOptions options;
  options.rtol = rtol;
  const auto result = solver.solve(rows_on_device(bt, block), a, alpha, options);
  EXPECT_TRUE(result.converged()) << result.detail;
  const auto host = on_host(a);
  HostMatrix<double> mine(block.count, b.cols);
  for (std::int64_t i = 0; i < block.count; ++i)
    for (std::int64_t c = 0; c < b.cols; ++c) mine(i, c) = host(i, c);
  return mine;
}

void expect_rows_near(const HostMatrix<double>& mine, const HostMatrix<double>& expected,
                      double tolerance) {
  const auto block = my_block(expected.rows);
  double scale = 0;
  for (double v : expected.values) scale = std::max(scale, std::fabs(v));
  for (std::int64_t i = 0; i < block.count; ++i)
    for (std::int64_t c = 0; c < expected.cols; ++c)
      EXPECT_NEAR(mine(i, c), expected(block.begin + i, c), tolerance * scale)
          << "row " << block.begin + i << " column " << c;
}

/// What FormulaSolve's constructor throws for these arguments, or "(no error)".
std::string refusal(const Formula& formula, const std::string& unknown,
                    const DeviceMatrix<double>& points,
                    const kinterp::VariableRows<double>& rows = {}) {
  try {
    FormulaSolve<double>(MPI_COMM_WORLD, formula, {}, unknown, points, rows);
  } catch (const kinterp::Error& e) {
    return e.what();
  }
  return "(no error)";
}

void expect_in(const std::string& text, const std::string& fragment) {
  EXPECT_NE(text.find(fragment), std::string::npos) << text;
}

TEST(FormulaSolve, GaussianTheRecogniserDoesNotCatchMatchesTheDenseSolve) {
  const auto x = global_matrix<double>(kPoints, 2, 31, 0, 1);
  const auto b = global_matrix<double>(kPoints, 1, 32, -1, 1);
  const double g = 3, alpha = 0.1;
  kinterp::KernelSpec spec;
  spec.family = kinterp::KernelFamily::Gaussian;
  spec.g = g;
  const auto expected = dense_kernel_solve(spec, x, b, [&](std::int64_t) { return alpha; });
  const std::vector<std::string> aliases = {"X = Vi(2)", "Y = Vj(2)", "A = Vj(1)", "G = Pm(1)"};
  expect_rows_near(
      solve<double>("Exp(-G*Sum(Square(X-Y)))*A", aliases, {{"G", {g}}}, x, b, alpha, 1e-10),
      expected, 1e-8);
  expect_rows_near(
      solve<float>("Exp(-G*Sum(Square(X-Y)))*A", aliases, {{"G", {g}}}, x, b, alpha, 1e-5),
      expected, 1e-4);
}

TEST(FormulaSolve, AVectorValuedKernelMatchesTheDenseBlockSolve) {
  // K(x, y) = exp(-|x-y|^2) (I + x y^T) / 4: symmetric positive definite (a
  // Gaussian times I plus a rank-one kernel), no radial family, and its
  // components mix.
  const auto x = global_matrix<double>(kPoints, 2, 33, 0, 1);
  const auto b = global_matrix<double>(kPoints, 2, 34, -1, 1);
  const double alpha = 0.5;
  const auto expected = dense_block_solve(b, [&](int i, int c, int j, int e) {
    long double r2 = 0;
    for (int k = 0; k < 2; ++k) r2 += (x(i, k) - x(j, k)) * (long double)(x(i, k) - x(j, k));
    const long double m = (c == e) + x(i, c) * (long double)x(j, e);
    return static_cast<double>(std::exp(-r2) * m / 4) + (i == j && c == e ? alpha : 0.0);
  });
  const std::vector<std::string> aliases = {"X = Vi(2)", "Y = Vj(2)", "A = Vj(2)"};
  expect_rows_near(
      solve<double>("Exp(-SqDist(X,Y)) * (A + X*(Y|A)) / 4", aliases, {}, x, b, alpha, 1e-10),
      expected, 1e-8);
}

TEST(FormulaSolve, RefusesWhatConjugateGradientCannotSolve) {
  const auto block = my_block(kPoints);
  const auto x = rows_on_device(global_matrix<double>(kPoints, 2, 35, 0, 1), block);
  const std::vector<std::string> aliases = {"X = Vi(2)", "Y = Vj(2)", "A = Vj(1)", "B = Vj(1)"};
  const auto message = [&](const std::string& formula, const std::string& unknown) {
    return refusal(Formula(formula, aliases), unknown, x);
  };
  expect_in(message("Exp(-SqDist(X,Y))*A*A", "A"), "multiplies two terms that both contain A");
  expect_in(message("Exp(-SqDist(X,Y))*A + 1", "A"), "the map is affine");
  expect_in(message("Exp(-SqDist(X,Y))*Exp(A)", "A"), "applies Exp, which is not linear, to A");
  expect_in(message("Exp(-SqDist(X,Y))*B", "A"), "does not contain A");
  expect_in(message("Exp(-SqDist(X,Y))*A", "Z"), "the unknown Z is not a variable");
  expect_in(message("Exp(-SqDist(X,Y))*X", "X"), "must be a j-variable");
  // B is neither the points nor given rows.
  expect_in(message("Exp(-SqDist(X,Y))*A*B", "A"), "needs its rows as an input");
  // k(x_i, x_j) y_j0: linear, but K_ij != K_ji.
  const std::vector<std::string> three = {"X = Vi(2)", "Y = Vj(2)", "A = Vj(1)"};
  expect_in(refusal(Formula("Exp(-SqDist(X,Y))*Elem(Y,0)*A", three), "A", x), "is not symmetric");
}

TEST(FormulaSolve, PerPointNoiseAsAJVariableMatchesTheDenseSolve) {
  // (alpha I + K + diag(s)) a = b: a noise variance per point, as KeOps users
  // pass it, as a j-variable that counts where the points coincide.
  const auto x = global_matrix<double>(kPoints, 2, 36, 0, 1);
  const auto b = global_matrix<double>(kPoints, 1, 37, -1, 1);
  const auto s = global_matrix<double>(kPoints, 1, 38, 0.05, 0.5);
  const double alpha = 1e-3;
  const auto expected = dense_block_solve(b, [&](int i, int, int j, int) {
    long double r2 = 0;
    for (int k = 0; k < 2; ++k) r2 += (x(i, k) - x(j, k)) * (long double)(x(i, k) - x(j, k));
    return static_cast<double>(std::exp(-2 * r2)) + (i == j ? alpha + s(j, 0) : 0.0);
  });
  const std::vector<std::string> aliases = {"X = Vi(2)", "Y = Vj(2)", "A = Vj(1)", "S = Vj(1)"};
  const std::string formula = "Exp(-2*SqDist(X,Y))*A + (SqDist(X,Y) == 0)*S*A";
  expect_rows_near(solve<double>(formula, aliases, {}, x, b, alpha, 1e-11, {{"S", s}}), expected,
                   1e-8);
  expect_rows_near(solve<float>(formula, aliases, {}, x, b, alpha, 1e-5, {{"S", s}}), expected,
                   1e-3);
}

TEST(FormulaSolve, BandwidthsAsIAndJVariablesMatchTheDenseSolve) {
  // Gibbs' kernel of a bandwidth l per point, in 2D: 2 l_i l_j / (l_i^2 + l_j^2)
  // exp(-|x_i - x_j|^2 / (l_i^2 + l_j^2)), symmetric positive definite when the
  // i-variable L and its j-twin M hold the same rows.
  const auto x = global_matrix<double>(kPoints, 2, 39, 0, 1);
  const auto b = global_matrix<double>(kPoints, 1, 40, -1, 1);
  const auto l = global_matrix<double>(kPoints, 1, 41, 0.1, 0.4);
  const double alpha = 0.05;
  const auto expected = dense_block_solve(b, [&](int i, int, int j, int) {
    long double r2 = 0;
    for (int k = 0; k < 2; ++k) r2 += (x(i, k) - x(j, k)) * (long double)(x(i, k) - x(j, k));
    const long double li = l(i, 0), lj = l(j, 0), q = li * li + lj * lj;
    return static_cast<double>(2 * li * lj / q * std::exp(-r2 / q)) + (i == j ? alpha : 0.0);
  });
  const std::vector<std::string> aliases = {"X = Vi(2)", "Y = Vj(2)", "A = Vj(1)", "L = Vi(1)",
                                            "M = Vj(1)"};
  const std::string formula = "2*L*M/(L*L+M*M) * Exp(-SqDist(X,Y)/(L*L+M*M)) * A";
  expect_rows_near(solve<double>(formula, aliases, {}, x, b, alpha, 1e-11, {{"L", l}, {"M", l}}),
                   expected, 1e-8);
  expect_rows_near(solve<float>(formula, aliases, {}, x, b, alpha, 1e-5, {{"L", l}, {"M", l}}),
                   expected, 1e-3);
}

TEST(FormulaSolve, RefusesMisplacedInputsOnEveryRank) {
  const auto block = my_block(kPoints);
  const auto x = rows_on_device(global_matrix<double>(kPoints, 2, 42, 0, 1), block);
  const auto l = global_matrix<double>(kPoints, 1, 43, 0.1, 0.4);
  HostMatrix<double> twice = l;
  for (double& v : twice.values) v *= 2;
  const std::vector<std::string> aliases = {"X = Vi(2)", "Y = Vj(2)", "A = Vj(1)", "L = Vi(1)",
                                            "M = Vj(1)"};
  const std::string gibbs = "2*L*M/(L*L+M*M) * Exp(-SqDist(X,Y)/(L*L+M*M)) * A";
  const auto message = [&](const std::string& formula, const kinterp::VariableRows<double>& rows) {
    return refusal(Formula(formula, aliases), "A", x, rows);
  };
  const auto on_device = [&](const HostMatrix<double>& m) -> DeviceMatrix<double> {
    return rows_on_device(m, block);
  };
  expect_in(message(gibbs, {{"L", on_device(l)}}), "M = Vj(1) has dimension 1");
  expect_in(message(gibbs, {{"L", on_device(l)}, {"M", on_device(l)}, {"A", on_device(l)}}),
            "takes no input");
  expect_in(message(gibbs, {{"L", on_device(l)}, {"M", on_device(l)}, {"Q", on_device(l)}}),
            "no i- or j-variable");
  expect_in(message(gibbs, {{"L", on_device(l)}, {"M", x}}), "the input M has 2 columns");
  // Rank 0 alone has one row too many: every rank throws, none hangs.
  const HostMatrix<double> more = global_matrix<double>(kPoints + 1, 1, 43, 0.1, 0.4);
  const DeviceMatrix<double> rows =
      world_rank() == 0 ? rows_on_device(more, {block.begin, block.count + 1}) : on_device(l);
  expect_in(message(gibbs, {{"L", rows}, {"M", on_device(l)}}), "rows on a rank that holds");
  // Rank 0 alone names no input (the points would do for L and M, of the
  // points' dimension here): every rank throws, none hangs.
  const std::vector<std::string> square = {"X = Vi(2)", "Y = Vj(2)", "A = Vj(1)", "L = Vi(2)",
                                           "M = Vj(2)"};
  const kinterp::VariableRows<double> named = {{"L", x}, {"M", x}};
  if (world_size() > 1) {
    expect_in(refusal(Formula("(L|M)*Exp(-SqDist(X,Y))*A", square), "A", x,
                      world_rank() == 0 ? kinterp::VariableRows<double>{} : named),
              "the inputs' names differ between ranks");
  }
  // L and M must be twins: with M = 2 L, K_ij != K_ji.
  expect_in(message(gibbs, {{"L", on_device(l)}, {"M", on_device(twice)}}), "is not symmetric");
}

}  // namespace
