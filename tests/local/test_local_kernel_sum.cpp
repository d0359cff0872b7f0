// The on-node kernel sum against a plain long double loop: every kernel
// family, float and double, compile-time (1-3) and runtime dimensions (4, 5,
// 16), m = 1..5, 16 and 17 right-hand sides, sizes on either side of the SIMD
// width, the register block, the team block and the source tile, layouts other
// than LayoutRight, a kernel without a SIMD form, and the empty cases. Then
// the pieces the host engine is built from: 2^(-t), the square root of
// distances, and the SIMD form of each kernel against its closed form.
//
// Tolerances (relative to the sum of |terms|, which bounds the sum's
// condition): a term's kernel value is within a few units of roundoff u of
// the kernel of the T-valued points (exp2 polynomial ~2 ulp, rounding of r^2
// and of g r^2: (few + g r^2) u), and partial sums run in T over tiles of at
// most 256 (float) sources, totals in double. Double: 1e-13 = 450 u, room
// for g r^2 up to ~100 on the terms that matter. Float: 2e-6 = 34 u, the
// rounding of a tile's partial sum (random signs: ~u sqrt(256) = 16 u) plus
// the terms' own errors.

#include <kinterp/kernels/RadialKernels.hpp>
#include <kinterp/local/LocalKernelSum.hpp>
#include <kinterp/local/LocalKernelSumOf.hpp>

#include "../DeviceMatrix.hpp"
#include "../KernelReference.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

namespace {

using kinterp::KernelFamily;
using kinterp::KernelSpec;
using namespace kinterp::test;
using ExecutionSpace = Kokkos::DefaultExecutionSpace;

constexpr KernelSpec all_families[] = {
    {KernelFamily::Gaussian, 50.0, 1.0},
    {KernelFamily::Laplacian, 10.0, 2.5},
    {KernelFamily::Matern32, 7.0, 1.0},
    {KernelFamily::Matern52, 3.0, 0.5},
    {KernelFamily::Cauchy, 20.0, 1.0},
    {KernelFamily::InverseMultiquadric, 5.0, 1.0},
    {KernelFamily::Spherical, 1.6, 1.0},  // range 0.625: some pairs beyond it
    {KernelFamily::RationalQuadratic, 5.0, 1.5, 1.7},
    {KernelFamily::Matern, 6.0, 1.0, 1.2},
    {KernelFamily::ExponentialOverDistance, 4.0, 1.0},  // the laplacian kernel's gradient
};

template <class T>
double tolerance() {
  return sizeof(T) == sizeof(float) ? 2e-6 : 1e-13;
}

struct Case {
  KernelSpec spec;
  int n_targets, n_sources, dim, columns;
};

/// out = 1 + variance * sum (out starts at 1: the sum is added, not
/// assigned), checked entry by entry against the long double loop.
template <class T>
void expect_matches_reference(const Case& c, const HostMatrix<T>& result,
                              const HostMatrix<T>& targets, const HostMatrix<T>& sources,
                              const HostMatrix<T>& weights) {
  HostMatrix<long double> expected, magnitude;
  kinterp::test::reference_kernel_sum(c.spec, targets, sources, weights, expected, magnitude);
  for (int i = 0; i < c.n_targets; ++i) {
    for (int k = 0; k < c.columns; ++k) {
      const long double error = std::fabs(result(i, k) - 1 - expected(i, k));
      ASSERT_LE(error, tolerance<T>() * (magnitude(i, k) + 1))
          << "at target " << i << " column " << k;
    }
  }
}

template <class T, class Layout>
HostMatrix<T> to_host(const DeviceMatrix<T, Layout>& out) {
  const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
  HostMatrix<T> result(out.extent(0), out.extent(1));
  for (std::int64_t i = 0; i < result.rows; ++i)
    for (std::int64_t k = 0; k < result.cols; ++k) result(i, k) = host(i, k);
  return result;
}

/// 1 + kernel sum of (targets, sources, weights) through Views of `Layout`.
template <class Layout, class T, class Kernel>
HostMatrix<T> sum_with_layout(const Kernel& kernel, T scale, const HostMatrix<T>& targets,
                              const HostMatrix<T>& sources, const HostMatrix<T>& weights) {
  DeviceMatrix<T, Layout> out("out", targets.rows, weights.cols);
  Kokkos::deep_copy(out, T(1));
  kinterp::local_kernel_sum(ExecutionSpace(), kernel, scale, to_device<Layout>(targets),
                            to_device<Layout>(sources), to_device<Layout>(weights), out);
  return to_host(out);
}

/// Every family's sum as the library compiled it (local_kernel_sum_of, the
/// instantiations the distributed product runs), against the long double loop.
template <class T>
void check_against_reference(const Case& c) {
  SCOPED_TRACE(::testing::Message()
               << to_string(c.spec.family) << (sizeof(T) == 4 ? " float" : " double")
               << " targets=" << c.n_targets << " sources=" << c.n_sources << " dim=" << c.dim
               << " columns=" << c.columns);
  const auto targets = random_matrix<T>(c.n_targets, c.dim, 1, 0, 1);
  const auto sources = random_matrix<T>(c.n_sources, c.dim, 2, 0, 1);
  const auto weights = random_matrix<T>(c.n_sources, c.columns, 3, -1, 1);
  DeviceMatrix<T> out("out", c.n_targets, c.columns);
  Kokkos::deep_copy(out, T(1));
  kinterp::local_kernel_sum_of<T>(ExecutionSpace(), c.spec, to_device(targets), to_device(sources),
                                  to_device(weights), out);
  expect_matches_reference(c, to_host(out), targets, sources, weights);
}

/// The host engine's blocking of a sum in 2 dimensions: SIMD lanes x
/// register blocks per block of targets, targets per team, sources per tile.
/// Fixed sizes where the default space is a GPU.
struct Blocking {
  int lanes = 32, targets_per_team = 128, tile = 256;
};

template <class T>
Blocking blocking_2d(int n_targets, int columns) {
  Blocking b;
  if constexpr (kinterp::detail::runs_on_host<ExecutionSpace>()) {
    using View = DeviceMatrix<T>;
    using Functor = kinterp::detail::HostKernelSum<ExecutionSpace, kinterp::GaussianKernel<T>, View,
                                                   View, View, View, 2>;
    const auto plan = Functor::make_plan(ExecutionSpace(), n_targets, 2, columns);
    b.lanes = Functor::Lanes;
    b.targets_per_team = plan.targets_per_team;
    b.tile = plan.tile;
  }
  return b;
}

TEST(LocalKernelSum, EveryFamilyAndDimension) {
  for (const auto& spec : all_families) {
    for (int dim : {1, 2, 3, 4, 5, 16}) {
      const Case c{spec, 41, 263, dim, dim % 2 ? 1 : 3};
      check_against_reference<double>(c);
      check_against_reference<float>(c);
    }
  }
}

/// Sizes around every boundary of the blocking: 1, 7, the SIMD register
/// block +- 1, a team's block + 1, the tile +- 1, two tiles + 1, primes.
template <class T>
void check_boundaries(const KernelSpec& spec, int columns) {
  const Blocking b = blocking_2d<T>(1000, columns);
  const std::vector<int> target_counts = {1,  7, b.lanes - 1, b.lanes + 1, b.targets_per_team + 3,
                                          263};
  const std::vector<int> source_counts = {1, 7, b.tile - 1, b.tile + 1, 2 * b.tile + 1, 509};
  for (int n_targets : target_counts) {
    for (int n_sources : {7, b.tile + 1})
      check_against_reference<T>({spec, n_targets, n_sources, 2, columns});
  }
  for (int n_sources : source_counts) check_against_reference<T>({spec, 29, n_sources, 2, columns});
}

TEST(LocalKernelSum, SizesAroundTheBlocking) {
  for (const auto& spec : {all_families[0], all_families[1]}) {
    for (int columns : {1, 5}) {
      check_boundaries<double>(spec, columns);
      check_boundaries<float>(spec, columns);
    }
  }
}

TEST(LocalKernelSum, RightHandSidesPerPass) {
  // 1..5: the fused column, whole blocks of 4 and remainders; 16: the most in
  // one pass; 17: two passes.
  for (int columns : {1, 2, 3, 4, 5, 16, 17}) {
    check_against_reference<double>({all_families[0], 70, 300, 3, columns});
    check_against_reference<float>({all_families[3], 70, 300, 1, columns});
    check_against_reference<double>({all_families[5], 33, 100, 4, columns});
    check_against_reference<float>({all_families[8], 33, 100, 2, columns});  // lane by lane
  }
}

TEST(LocalKernelSum, OtherLayouts) {
  {
    const Case c{all_families[1], 57, 301, 3, 2};
    const auto targets = random_matrix<double>(c.n_targets, c.dim, 1, 0, 1);
    const auto sources = random_matrix<double>(c.n_sources, c.dim, 2, 0, 1);
    const auto weights = random_matrix<double>(c.n_sources, c.columns, 3, -1, 1);
    const auto result = sum_with_layout<Kokkos::LayoutLeft>(
        kinterp::LaplacianKernel<double>{10.0}, c.spec.variance, targets, sources, weights);
    expect_matches_reference(c, result, targets, sources, weights);
  }

  // Strided views: every other row and column of larger matrices.
  const Case c{all_families[2], 45, 130, 3, 2};
  const auto targets = random_matrix<double>(c.n_targets, c.dim, 1, 0, 1);
  const auto sources = random_matrix<double>(c.n_sources, c.dim, 2, 0, 1);
  const auto weights = random_matrix<double>(c.n_sources, c.columns, 3, -1, 1);
  const auto spread = [](const HostMatrix<double>& m) {
    HostMatrix<double> wide(2 * m.rows, 2 * m.cols);
    for (std::int64_t i = 0; i < m.rows; ++i)
      for (std::int64_t j = 0; j < m.cols; ++j) wide(2 * i, 2 * j) = m(i, j);
    return to_device(wide);
  };
  using Strided = Kokkos::View<double**, Kokkos::LayoutStride>;
  const auto every_other = [](const DeviceMatrix<double>& wide) {
    const Kokkos::LayoutStride layout(wide.extent(0) / 2, 2 * wide.extent(1), wide.extent(1) / 2,
                                      2);
    return Strided(wide.data(), layout);
  };
  const auto wide_targets = spread(targets), wide_sources = spread(sources),
             wide_weights = spread(weights);
  DeviceMatrix<double> out_wide("out", 2 * c.n_targets, 2 * c.columns);
  Kokkos::deep_copy(out_wide, 1.0);
  kinterp::local_kernel_sum(ExecutionSpace(), kinterp::Matern32Kernel<double>{7.0}, c.spec.variance,
                            every_other(wide_targets), every_other(wide_sources),
                            every_other(wide_weights), every_other(out_wide));
  const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out_wide);
  HostMatrix<double> result(c.n_targets, c.columns);
  for (int i = 0; i < c.n_targets; ++i) {
    for (int k = 0; k < c.columns; ++k) {
      result(i, k) = host(2 * i, 2 * k);
      ASSERT_EQ(host(2 * i + 1, 2 * k + 1), 1.0) << "wrote outside the strided view";
    }
  }
  expect_matches_reference(c, result, targets, sources, weights);
}

/// A kernel with only the scalar form kernel(r2): the host takes the
/// one-thread-per-target engine for it.
struct ScalarOnlyKernel {
  double g;
  KOKKOS_INLINE_FUNCTION double operator()(double r2) const { return 1 / (1 + g * r2); }
};

TEST(LocalKernelSum, KernelWithoutSimdForm) {
  static_assert(!kinterp::detail::has_simd_form<ScalarOnlyKernel, double>::value);
  static_assert(kinterp::detail::has_simd_form<kinterp::CauchyKernel<double>, double>::value);
  const Case c{{KernelFamily::Cauchy, 20.0, 1.0}, 50, 333, 2, 3};
  const auto targets = random_matrix<double>(c.n_targets, c.dim, 1, 0, 1);
  const auto sources = random_matrix<double>(c.n_sources, c.dim, 2, 0, 1);
  const auto weights = random_matrix<double>(c.n_sources, c.columns, 3, -1, 1);
  const auto result =
      sum_with_layout<Kokkos::LayoutRight>(ScalarOnlyKernel{20.0}, 1.0, targets, sources, weights);
  expect_matches_reference(c, result, targets, sources, weights);
}

TEST(LocalKernelSum, EmptyBlocksLeaveTheOutputUnchanged) {
  for (auto [targets, sources, columns] :
       {std::tuple{0, 10, 2}, std::tuple{10, 0, 2}, std::tuple{10, 10, 0}, std::tuple{0, 0, 0}}) {
    const Case c{{KernelFamily::Gaussian, 1.0, 1.0}, targets, sources, 3, columns};
    check_against_reference<double>(c);
    check_against_reference<float>(c);
  }
}

/// A float sum over a million sources keeps a relative error of 1e-6: tile
/// partial sums in float, totals in double. (A float running sum would be off
/// by ~1e-4 here.)
TEST(LocalKernelSum, FloatSumOverAMillionSources) {
  const Case c{{KernelFamily::Gaussian, 2.0, 1.0}, 5, 1000000, 3, 1};
  const auto targets = random_matrix<float>(c.n_targets, c.dim, 4, 0, 1);
  const auto sources = random_matrix<float>(c.n_sources, c.dim, 5, 0, 1);
  const auto weights = random_matrix<float>(c.n_sources, c.columns, 6, 0, 1);
  DeviceMatrix<float> out("out", c.n_targets, c.columns);
  kinterp::local_kernel_sum(ExecutionSpace(), kinterp::GaussianKernel<float>{2.0f}, 1.0f,
                            to_device(targets), to_device(sources), to_device(weights), out);
  const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
  HostMatrix<long double> expected, magnitude;
  kinterp::test::reference_kernel_sum(c.spec, targets, sources, weights, expected, magnitude);
  for (int i = 0; i < c.n_targets; ++i) {
    const long double relative = std::fabs(host(i, 0) - expected(i, 0)) / expected(i, 0);
    EXPECT_LE(relative, 1e-6) << "target " << i;
  }
}

// ---------------------------------------------------------------------------
// The pieces of the host engine

template <class T, int W>
using Pack = kinterp::detail::simd::Pack<T, W>;

/// max over x of |f(x) - exact(x)| / max(exact(x), floor), f taking packs of
/// W lanes (floor 1: the absolute error, for a kernel ill-conditioned near a zero).
template <class T, int W, class F, class Exact>
long double worst_relative_error(const std::vector<T>& xs, F&& f, Exact&& exact,
                                 long double floor = 0) {
  long double worst = 0;
  for (std::size_t begin = 0; begin + W <= xs.size(); begin += W) {
    const Pack<T, W> y = f(kinterp::detail::simd::load<Pack<T, W>>(xs.data() + begin));
    for (int lane = 0; lane < W; ++lane) {
      const long double e = exact(static_cast<long double>(xs[begin + lane]));
      const long double value = kinterp::detail::simd::lane(y, lane);
      const long double scale = std::max(e, floor);
      worst = std::max(worst, scale == 0 ? std::fabs(value) : std::fabs(value - e) / scale);
    }
  }
  return worst;
}

template <class T>
std::vector<T> spread_values(double lo, double hi, int count) {
  std::vector<T> xs(count);
  for (int k = 0; k < count; ++k) xs[k] = static_cast<T>(lo + (hi - lo) * k / (count - 1));
  return xs;
}

/// 2^(-rate x): minimax polynomial of degree 5 / 11 (7.5e-8 / 3e-18) plus
/// the rounding of the Horner steps: a few ulp. Native width and the scalar
/// fallback (W = 1). Without hardware FMA, rate x is rounded before the
/// reduction, which adds up to ln2 u t for t = rate x <= 126 / 1022.
template <class T, int W>
void check_exp2_negative(double bound) {
  constexpr double flush = sizeof(T) == sizeof(float) ? 125.5 : 1021.5;
  if (!kinterp::detail::simd::Native<T, W>::has_fma) {
    bound += 0.7 * flush * std::numeric_limits<T>::epsilon() / 2;
  }
  for (const T rate : {T(1), T(50 * 1.4426950408889634), T(0.37)}) {
    const auto xs = spread_values<T>(0, (flush - 0.01) / rate, 200003);
    const long double worst = worst_relative_error<T, W>(
        xs, [&](auto x) { return kinterp::detail::exp2_negative(rate, x); },
        [&](long double x) { return std::exp2(-static_cast<long double>(rate) * x); });
    EXPECT_LE(worst, bound) << "rate " << rate << " width " << W;
  }
  // Flush to +0 below 2^-125.5 / 2^-1021.5 (never a subnormal), +inf included.
  using P = Pack<T, W>;
  using kinterp::detail::simd::broadcast;
  using kinterp::detail::simd::lane;
  for (const T x :
       {T(flush), T(flush + 0.2), T(flush + 1), T(1e30), std::numeric_limits<T>::infinity()}) {
    EXPECT_EQ(lane(kinterp::detail::exp2_negative(T(1), broadcast<P>(x)), 0), T(0)) << x;
  }
  EXPECT_GE(lane(kinterp::detail::exp2_negative(T(1), broadcast<P>(T(flush - 0.01))), 0),
            std::numeric_limits<T>::min());
  // Rate 0: 1 for any x (to the polynomial's accuracy: the minimax fit is not
  // exact at 0).
  EXPECT_NEAR(lane(kinterp::detail::exp2_negative(T(0), broadcast<P>(T(1e30))), 0), T(1), bound);
}

TEST(Exp2Negative, MatchesLongDoubleAndFlushesToZero) {
  using kinterp::detail::simd::native_width;
  check_exp2_negative<float, native_width<float>>(3e-7);
  check_exp2_negative<float, 1>(3e-7);
  check_exp2_negative<double, native_width<double>>(4e-16);
  check_exp2_negative<double, 1>(4e-16);
}

TEST(SqrtOfDistance, WithinTwoUlpFromZeroToInfinity) {
  using kinterp::detail::simd::native_width;
  const auto check = [](auto zero) {
    using T = decltype(zero);
    constexpr int W = native_width<T>;
    std::vector<T> xs;
    for (long double x = 1e-30L; x < 1e30L; x *= 1.001L) xs.push_back(static_cast<T>(x));
    const long double worst = worst_relative_error<T, W>(
        xs, [](auto x) { return kinterp::detail::simd::sqrt_of_distance(x); },
        [](long double x) { return std::sqrt(x); });
    EXPECT_LE(worst, 2 * std::numeric_limits<T>::epsilon());
    using P = Pack<T, W>;
    using kinterp::detail::simd::broadcast;
    using kinterp::detail::simd::lane;
    const T at_zero = lane(kinterp::detail::simd::sqrt_of_distance(broadcast<P>(T(0))), 0);
    EXPECT_LE(at_zero, std::sqrt(std::numeric_limits<T>::min()));
    const T at_infinity = lane(
        kinterp::detail::simd::sqrt_of_distance(broadcast<P>(std::numeric_limits<T>::infinity())),
        0);
    EXPECT_GE(at_infinity, std::sqrt(std::numeric_limits<T>::max()));
  };
  check(0.0f);
  check(0.0);
}

/// kernel(Pack of r2) against the closed form, every family: the same bound
/// as a term of the sums.
template <class T>
void check_simd_forms() {
  constexpr int W = kinterp::detail::simd::native_width<T>;
  for (const auto& spec : all_families) {
    // r from 0 to where the kernel is ~1e-30 (exp families) or beyond;
    // exp(-g r) / r from just above 0, where it is infinite.
    const bool singular = spec.family == KernelFamily::ExponentialOverDistance;
    const auto r2s = spread_values<T>(singular ? 1e-6 / spec.g : 0, 70.0 / spec.g, 40001);
    // Spherical: 1 - s with s = g r rounded loses its relative accuracy at
    // the range; the absolute error stays ~u.
    const long double floor = spec.family == KernelFamily::Spherical ? 1 : 0;
    kinterp::visit_kernel<T>(spec, [&](auto kernel) {
      const long double worst = worst_relative_error<T, W>(
          r2s, [&](auto r2) { return kernel(r2); },
          [&](long double r2) {
            return kinterp::test::reference_kernel(spec, std::sqrt(r2)) / spec.variance;
          },
          floor);
      // Relative error of the exponential's argument ~ u g r grows with it:
      // here g r <= sqrt(70 g) < 60.
      EXPECT_LE(worst, 100 * std::numeric_limits<T>::epsilon()) << to_string(spec.family);
      // Points infinitely far apart (r2 overflowed) give 0, not NaN.
      const auto at_infinity =
          kernel(kinterp::detail::simd::broadcast<Pack<T, W>>(std::numeric_limits<T>::infinity()));
      EXPECT_EQ(kinterp::detail::simd::lane(at_infinity, 0), T(0)) << to_string(spec.family);
      // exp(-g r) / r is +inf at r = 0 in both forms: a target on a point
      // shows in the laplacian kernel's gradient, which refuses it.
      if (singular) {
        const auto at_zero = kernel(kinterp::detail::simd::broadcast<Pack<T, W>>(T(0)));
        EXPECT_EQ(kinterp::detail::simd::lane(at_zero, 0), std::numeric_limits<T>::infinity());
        EXPECT_EQ(kernel(T(0)), std::numeric_limits<T>::infinity());
      }
      // The scalar form agrees with the SIMD form to the same accuracy.
      for (std::size_t k = 0; k < r2s.size(); k += 97) {
        const T scalar = kernel(r2s[k]);
        const T simd = kinterp::detail::simd::lane(
            kernel(kinterp::detail::simd::broadcast<Pack<T, W>>(r2s[k])), 0);
        EXPECT_NEAR(scalar, simd,
                    200 * std::numeric_limits<T>::epsilon() *
                        std::max<long double>(std::fabs(scalar), floor))
            << to_string(spec.family) << " r2 = " << r2s[k];
      }
    });
  }
}

TEST(RadialKernels, SimdFormMatchesTheClosedForm) {
  check_simd_forms<float>();
  check_simd_forms<double>();
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
  // The generic evaluator's variant: the same values, and a NaN of either sign stays NaN.
  for (double x : {-700.0, -3.5, -0.0, -1e300}) {
    EXPECT_EQ(kinterp::detail::exp_nonpositive_or_nan(x), kinterp::detail::exp_nonpositive(x));
    EXPECT_EQ(kinterp::detail::exp_nonpositive_or_nan(float(x)),
              kinterp::detail::exp_nonpositive(float(x)));
  }
  for (double nan :
       {std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_TRUE(std::isnan(kinterp::detail::exp_nonpositive_or_nan(nan)));
    EXPECT_TRUE(std::isnan(kinterp::detail::exp_nonpositive_or_nan(float(nan))));
  }
}

}  // namespace
