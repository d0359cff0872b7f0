// The on-node kernel sum against a plain long double loop, for every kernel
// family, float and double, compile-time and runtime dimensions, one and
// several right-hand sides, and sizes that are not multiples of any tile.

#include <kinterp/kernels/RadialKernels.hpp>
#include <kinterp/local/LocalKernelSum.hpp>

#include "../KernelReference.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace {

using kinterp::KernelFamily;
using kinterp::KernelSpec;
using kinterp::test::HostMatrix;

template <class T>
using DeviceMatrix = Kokkos::View<T**, Kokkos::LayoutRight>;

template <class T>
HostMatrix<T> random_matrix(std::int64_t rows, std::int64_t cols, std::uint64_t seed, double lo,
                            double hi) {
  HostMatrix<T> m(rows, cols);
  for (std::int64_t k = 0; k < rows * cols; ++k) {
    m.values[k] = static_cast<T>(lo + (hi - lo) * kinterp::test::uniform01(seed, k));
  }
  return m;
}

template <class T>
DeviceMatrix<T> to_device(const HostMatrix<T>& m) {
  DeviceMatrix<T> view("m", m.rows, m.cols);
  auto host = Kokkos::create_mirror_view(view);
  for (std::int64_t i = 0; i < m.rows; ++i)
    for (std::int64_t j = 0; j < m.cols; ++j) host(i, j) = m(i, j);
  Kokkos::deep_copy(view, host);
  return view;
}

struct Case {
  KernelSpec spec;
  int n_targets, n_sources, dim, columns;
};

template <class T>
void check_against_reference(const Case& c, double tolerance) {
  SCOPED_TRACE(::testing::Message()
               << to_string(c.spec.family) << " g=" << c.spec.g << " targets=" << c.n_targets
               << " sources=" << c.n_sources << " dim=" << c.dim << " columns=" << c.columns);
  const auto targets = random_matrix<T>(c.n_targets, c.dim, 1, 0, 1);
  const auto sources = random_matrix<T>(c.n_sources, c.dim, 2, 0, 1);
  const auto weights = random_matrix<T>(c.n_sources, c.columns, 3, -1, 1);
  HostMatrix<long double> expected, magnitude;
  kinterp::test::reference_kernel_sum(c.spec, targets, sources, weights, expected, magnitude);

  // out starts at 1 to check that the sum is added, not assigned.
  DeviceMatrix<T> out("out", c.n_targets, c.columns);
  Kokkos::deep_copy(out, T(1));
  kinterp::visit_kernel<T>(c.spec, [&](auto kernel) {
    kinterp::local_kernel_sum(Kokkos::DefaultExecutionSpace(), kernel, T(c.spec.variance),
                              to_device(targets), to_device(sources), to_device(weights), out);
  });
  auto result = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
  for (int i = 0; i < c.n_targets; ++i) {
    for (int k = 0; k < c.columns; ++k) {
      const long double error = std::fabs(result(i, k) - 1 - expected(i, k));
      ASSERT_LE(error, tolerance * (magnitude(i, k) + 1)) << "at target " << i << " column " << k;
    }
  }
}

std::vector<Case> cases() {
  std::vector<Case> all;
  const KernelSpec specs[] = {
      {KernelFamily::Gaussian, 50.0, 1.0}, {KernelFamily::Laplacian, 10.0, 2.5},
      {KernelFamily::Matern32, 7.0, 1.0},  {KernelFamily::Matern52, 3.0, 0.5},
      {KernelFamily::Cauchy, 20.0, 1.0},   {KernelFamily::InverseMultiquadric, 5.0, 1.0}};
  for (const auto& spec : specs) {
    all.push_back({spec, 37, 1000, 1, 1});
    all.push_back({spec, 301, 517, 2, 1});
    all.push_back({spec, 65, 300, 3, 3});
    all.push_back({spec, 20, 129, 5, 6});
  }
  return all;
}

TEST(LocalKernelSum, DoubleMatchesLongDoubleLoop) {
  for (const auto& c : cases()) check_against_reference<double>(c, 1e-13);
}

TEST(LocalKernelSum, FloatMatchesLongDoubleLoop) {
  for (const auto& c : cases()) check_against_reference<float>(c, 2e-6);
}

TEST(LocalKernelSum, EmptyBlocksLeaveTheOutputUnchanged) {
  for (auto [targets, sources] : {std::pair{0, 10}, std::pair{10, 0}}) {
    check_against_reference<double>({{KernelFamily::Gaussian, 1.0, 1.0}, targets, sources, 2, 2},
                                    0);
  }
}

TEST(ExpNonPositive, MatchesLibmAcrossTheRangeAndFlushesBelowIt) {
  double worst = 0;
  for (double x = -707.9; x <= 0; x += 0.01234) {
    const double exact = std::exp(x);
    worst = std::max(worst, std::fabs(kinterp::detail::exp_nonpositive(x) - exact) / exact);
  }
  EXPECT_LE(worst, 4e-15);
  float worst_float = 0;
  for (float x = -86.9f; x <= 0; x += 0.00731f) {
    const double exact = std::exp(static_cast<double>(x));
    worst_float = std::max(
        worst_float,
        static_cast<float>(std::fabs(kinterp::detail::exp_nonpositive(x) - exact) / exact));
  }
  EXPECT_LE(worst_float, 3e-7f);
  EXPECT_EQ(kinterp::detail::exp_nonpositive(-1e300), 0.0);
  EXPECT_EQ(kinterp::detail::exp_nonpositive(-std::numeric_limits<double>::infinity()), 0.0);
  EXPECT_EQ(kinterp::detail::exp_nonpositive(-1e30f), 0.0f);
  EXPECT_EQ(kinterp::detail::exp_nonpositive(0.0), 1.0);
  EXPECT_EQ(kinterp::detail::exp_nonpositive(-0.0), 1.0);
}

}  // namespace
