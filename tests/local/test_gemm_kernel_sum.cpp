// The GEMM path of the on-node kernel sum (d >= 16) against a plain long double
// loop: every kernel family, float and double, d = 16, 32, 100, m = 1, 3 (the
// fused loop) and 16 (the second GEMM), sizes that are not multiples of the
// tiles, clustered near-duplicate points where the GEMM form cancels, any
// View layout, and empty blocks.
//
// Tolerance, per output entry: the error bound of the header's comment,
// summed over the pairs. Pair j's kernel value is off by at most
//   |k w| (|d ln phi / d ln r2| delta + (n_tile + 16) u)
// where delta = (16 (d + 2) + 8) u bounds the relative error of r2, the
// second term covers the tile's sum in T (n_tile terms) and the kernel's own
// rounding, and the output's final rounding adds u (1 + |out|).

#include <kinterp/kernels/RadialKernels.hpp>
#include <kinterp/local/GemmKernelSum.hpp>

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

/// `clusters` centres uniform in [-50, 50]^d, each point a centre plus an
/// offset uniform in [-spread, spread]^d: pairs in a cluster have r2 about
/// 1e-10 of |t - c|^2 + |x - c|^2 for spread 1e-3, where the GEMM form is
/// useless and must be recomputed.
template <class T>
HostMatrix<T> clustered_matrix(std::int64_t rows, std::int64_t dim, int clusters, double spread,
                               std::uint64_t seed) {
  const auto centres = random_matrix<double>(clusters, dim, seed, -50, 50);
  HostMatrix<T> m(rows, dim);
  for (std::int64_t i = 0; i < rows; ++i) {
    const std::int64_t q = static_cast<std::int64_t>(
        clusters * kinterp::test::uniform01(seed + 1, static_cast<std::uint64_t>(i)));
    for (std::int64_t k = 0; k < dim; ++k) {
      const double offset = spread * (2 * kinterp::test::uniform01(seed + 2, i * dim + k) - 1);
      m(i, k) = static_cast<T>(centres(q, k) + offset);
    }
  }
  return m;
}

/// |d ln phi / d ln r2| at r: how a relative error of r2 shows in phi.
long double sensitivity(const KernelSpec& spec, long double r) {
  const long double g = spec.g, gr = g * r, r2 = r * r;
  switch (spec.family) {
    case KernelFamily::Gaussian:
      return g * r2;
    case KernelFamily::Laplacian:
      return gr / 2;
    case KernelFamily::ExponentialOverDistance:
      return (gr + 1) / 2;
    case KernelFamily::Matern32:
      return gr * gr / (2 * (1 + gr));
    case KernelFamily::Matern52:
      return gr * gr * (1 + gr) / (6 * (1 + gr + gr * gr / 3));
    case KernelFamily::Cauchy:
      return g * r2 / (1 + g * r2);
    case KernelFamily::InverseMultiquadric:
      return g * r2 / (2 * (1 + g * r2));
    case KernelFamily::Spherical:  // 0 where phi is 0
      return gr < 1 ? 0.75L * gr * (1 + gr) / ((1 - gr) * (1 + gr / 2)) : 0;
    case KernelFamily::RationalQuadratic:
      return spec.shape * g * r2 / (1 + g * r2);
    case KernelFamily::Matern:  // x K_nu-1(x) / (2 K_nu(x)), x = g r
      return gr == 0 ? 0
                     : gr * kinterp::test::bessel_k_quadrature(std::fabs(spec.shape - 1), gr) /
                           (2 * kinterp::test::bessel_k_quadrature(spec.shape, gr));
  }
  return 0;
}

/// The reference sums (variance included) and, per entry, the bound of the
/// file comment.
template <class T>
void reference_with_bound(const KernelSpec& spec, const HostMatrix<T>& targets,
                          const HostMatrix<T>& sources, const HostMatrix<T>& weights,
                          HostMatrix<long double>& expected, HostMatrix<long double>& bound) {
  const long double u = std::numeric_limits<T>::epsilon() / 2;
  const long double d = static_cast<long double>(targets.cols);
  const long double delta = (16 * (d + 2) + 8) * u;
  const int tile = kinterp::detail::gemm_sum::plan_tiles(Kokkos::DefaultExecutionSpace()).sources;
  const long double n_tile = static_cast<long double>(std::min<std::int64_t>(tile, sources.rows));
  expected = HostMatrix<long double>(targets.rows, weights.cols);
  bound = HostMatrix<long double>(targets.rows, weights.cols);
  for (std::int64_t i = 0; i < targets.rows; ++i) {
    for (std::int64_t j = 0; j < sources.rows; ++j) {
      const long double r = kinterp::test::reference_distance(targets, i, sources, j);
      const long double value = kinterp::test::reference_kernel(spec, r);
      const long double relative = sensitivity(spec, r) * delta + (n_tile + 16) * u;
      for (std::int64_t c = 0; c < weights.cols; ++c) {
        expected(i, c) += value * weights(j, c);
        bound(i, c) += std::fabs(value * weights(j, c)) * relative;
      }
    }
  }
  for (std::int64_t k = 0; k < expected.rows * expected.cols; ++k)
    bound.values[k] += u * (1 + std::fabs(expected.values[k]));
}

/// out starts at 1, so the test also sees that the sum is added, not assigned.
/// Returns the largest error in units of its bound (<= 1 passes).
template <class T, class Targets, class Sources, class Weights>
double check(const KernelSpec& spec, const HostMatrix<T>& targets, const HostMatrix<T>& sources,
             const HostMatrix<T>& weights, const Targets& device_targets,
             const Sources& device_sources, const Weights& device_weights) {
  HostMatrix<long double> expected, bound;
  reference_with_bound(spec, targets, sources, weights, expected, bound);
  DeviceMatrix<T> out("out", targets.rows, weights.cols);
  Kokkos::deep_copy(out, T(1));
  kinterp::visit_kernel<T>(spec, [&](auto kernel) {
    kinterp::local_kernel_sum_gemm(Kokkos::DefaultExecutionSpace(), kernel, T(spec.variance),
                                   device_targets, device_sources, device_weights, out);
  });
  const auto result = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
  double worst = 0;
  for (std::int64_t i = 0; i < targets.rows; ++i) {
    for (std::int64_t c = 0; c < weights.cols; ++c) {
      const long double error =
          std::fabs(static_cast<long double>(result(i, c)) - 1 - expected(i, c));
      const long double allowed = bound(i, c) + 1e-30L;
      EXPECT_LE(error, allowed) << "at target " << i << " column " << c << ": got "
                                << result(i, c) - 1 << ", expected "
                                << static_cast<double>(expected(i, c));
      worst = std::max(worst, static_cast<double>(error / allowed));
    }
  }
  return worst;
}

template <class T>
double check(const KernelSpec& spec, const HostMatrix<T>& targets, const HostMatrix<T>& sources,
             const HostMatrix<T>& weights) {
  return check(spec, targets, sources, weights, to_device(targets), to_device(sources),
               to_device(weights));
}

/// Length scales for U[0, 1]^d data, where r2 is about d / 6: g r2 of order one.
KernelSpec spread_out_kernel(KernelFamily family, int dim) {
  const double r2 = dim / 6.0;
  switch (family) {
    case KernelFamily::Gaussian:
    case KernelFamily::Cauchy:
    case KernelFamily::InverseMultiquadric:
      return {family, 1.0 / r2, 1.5};
    case KernelFamily::Laplacian:
    case KernelFamily::Matern32:
    case KernelFamily::Matern52:
    case KernelFamily::ExponentialOverDistance:
      return {family, 1.0 / std::sqrt(r2), 0.5};
    case KernelFamily::Spherical:  // range at the typical distance
      return {family, 1.0 / std::sqrt(r2), 1.0};
    case KernelFamily::RationalQuadratic:
      return {family, 1.0 / r2, 1.5, 1.7};
    case KernelFamily::Matern:
      return {family, 1.0 / std::sqrt(r2), 0.5, 1.2};
  }
  return {};
}

constexpr KernelFamily all_families[] = {
    KernelFamily::Gaussian,  KernelFamily::Laplacian,
    KernelFamily::Matern32,  KernelFamily::Matern52,
    KernelFamily::Cauchy,    KernelFamily::InverseMultiquadric,
    KernelFamily::Spherical, KernelFamily::RationalQuadratic,
    KernelFamily::Matern,    KernelFamily::ExponentialOverDistance};

template <class T>
void spread_out_cases() {
  struct Case {
    KernelFamily family;
    int dim, columns;
  };
  std::vector<Case> cases;
  for (KernelFamily family : all_families) {
    cases.push_back({family, 32, 1});
    cases.push_back({family, 16, 3});
  }
  cases.push_back({KernelFamily::Gaussian, 100, 1});
  cases.push_back({KernelFamily::Laplacian, 100, 3});
  cases.push_back({KernelFamily::Gaussian, 32, 16});
  cases.push_back({KernelFamily::Matern52, 16, 16});
  cases.push_back({KernelFamily::InverseMultiquadric, 100, 16});
  double worst = 0;
  for (const Case& c : cases) {
    const KernelSpec spec = spread_out_kernel(c.family, c.dim);
    SCOPED_TRACE(::testing::Message()
                 << to_string(c.family) << " d=" << c.dim << " m=" << c.columns);
    // 300 x 700: two target tiles and two source tiles, neither full. The
    // general Matern's reference takes three quadratures per pair (K_nu for
    // the value, K_nu and K_nu-1 for the bound): 60 targets, one tile, keep it
    // to a second; the other families cover the target tiles.
    const std::int64_t n_targets = c.family == KernelFamily::Matern ? 60 : 300;
    const auto targets = random_matrix<T>(n_targets, c.dim, 11, 0, 1);
    const auto sources = random_matrix<T>(700, c.dim, 12, 0, 1);
    const auto weights = random_matrix<T>(700, c.columns, 13, -1, 1);
    worst = std::max(worst, check(spec, targets, sources, weights));
  }
  std::printf("  largest error / bound: %.2e\n", worst);
}

TEST(GemmKernelSum, DoubleMatchesLongDoubleLoop) {
  spread_out_cases<double>();
}

TEST(GemmKernelSum, FloatMatchesLongDoubleLoop) {
  spread_out_cases<float>();
}

/// Targets = sources (a solve's product): exact duplicates on the diagonal and
/// near-duplicates in clusters far from the origin. Without recomputing the
/// pairs that cancel, the error is of order one in float and 1e-5 in double.
template <class T>
void clustered_cases() {
  double worst = 0;
  for (const int dim : {16, 100}) {
    const auto points = clustered_matrix<T>(400, dim, 5, 1e-3, 21);
    const double cluster_r2 = dim * 1e-6 / 3;  // mean |x - y|^2 within a cluster
    for (const int columns : {1, 16}) {
      const auto weights = random_matrix<T>(400, columns, 22, 0, 1);
      for (const KernelSpec& spec :
           {KernelSpec{KernelFamily::Gaussian, 1 / cluster_r2, 1.0},
            KernelSpec{KernelFamily::Laplacian, 1 / std::sqrt(cluster_r2), 1.0}}) {
        SCOPED_TRACE(::testing::Message()
                     << to_string(spec.family) << " d=" << dim << " m=" << columns);
        worst = std::max(worst, check(spec, points, points, weights));
      }
    }
  }
  std::printf("  largest error / bound: %.2e\n", worst);
}

TEST(GemmKernelSum, DoubleRecomputesNearDuplicates) {
  clustered_cases<double>();
}

TEST(GemmKernelSum, FloatRecomputesNearDuplicates) {
  clustered_cases<float>();
}

/// Points far from the origin (|x| about 1e3 sqrt(d)): the centring keeps the
/// GEMM form accurate there.
TEST(GemmKernelSum, PointsFarFromTheOrigin) {
  const auto targets = random_matrix<float>(100, 32, 31, 1000, 1001);
  const auto sources = random_matrix<float>(600, 32, 32, 1000, 1001);
  const auto weights = random_matrix<float>(600, 2, 33, -1, 1);
  check(spread_out_kernel(KernelFamily::Gaussian, 32), targets, sources, weights);
}

/// LayoutLeft and strided Views (columns of wider matrices), as the caller
/// may pass them, and one workspace reused for calls of different shapes.
TEST(GemmKernelSum, AnyLayoutAndAReusedWorkspace) {
  const int dim = 20;
  const auto targets = random_matrix<double>(90, dim, 41, 0, 1);
  const auto sources = random_matrix<double>(530, dim, 42, 0, 1);
  const auto weights = random_matrix<double>(530, 5, 43, -1, 1);
  const KernelSpec spec = spread_out_kernel(KernelFamily::Matern32, dim);

  const auto left_targets = to_device<Kokkos::LayoutLeft>(targets);
  HostMatrix<double> wide_sources(sources.rows, dim + 3), wide_weights(weights.rows, 9);
  for (std::int64_t j = 0; j < sources.rows; ++j) {
    for (int k = 0; k < dim; ++k) wide_sources(j, k + 3) = sources(j, k);
    for (int c = 0; c < 5; ++c) wide_weights(j, 2 * c) = weights(j, c);
  }
  const auto device_wide_sources = to_device(wide_sources);
  const auto device_wide_weights = to_device(wide_weights);
  // Columns 3.. of the wider sources (rows not contiguous with each other),
  // and every other column of the wider weights (LayoutStride).
  const auto strided_sources =
      Kokkos::subview(device_wide_sources, Kokkos::ALL, std::make_pair(3, 3 + dim));
  const Kokkos::View<const double**, Kokkos::LayoutStride> even_weights(
      device_wide_weights.data(), Kokkos::LayoutStride(weights.rows, 9, 5, 2));
  check(spec, targets, sources, weights, left_targets, strided_sources, even_weights);

  // The workspace grows from a small call to a larger one, then serves a smaller one.
  kinterp::GemmKernelSumWorkspace<double, Kokkos::DefaultExecutionSpace> workspace;
  for (const int n : {50, 900, 70}) {
    const auto t = random_matrix<double>(n, dim, 51 + n, 0, 1);
    const auto w = random_matrix<double>(530, 1 + n % 7, 52 + n, -1, 1);
    HostMatrix<long double> expected, bound;
    reference_with_bound(spec, t, sources, w, expected, bound);
    DeviceMatrix<double> out("out", n, w.cols);
    kinterp::local_kernel_sum_gemm(Kokkos::DefaultExecutionSpace(),
                                   kinterp::Matern32Kernel<double>{spec.g}, spec.variance,
                                   to_device(t), to_device(sources), to_device(w), out, workspace);
    const auto result = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
    for (int i = 0; i < n; ++i)
      for (int c = 0; c < w.cols; ++c)
        ASSERT_LE(std::fabs(result(i, c) - expected(i, c)), bound(i, c)) << "n=" << n;
  }
}

/// No targets, no sources or no columns: nothing to add. No coordinates
/// (d = 0): every r2 is 0, so out += scale * k(0) * sum_j w(j, :).
TEST(GemmKernelSum, EmptyBlocksAndZeroDimensions) {
  const kinterp::GaussianKernel<double> kernel{3.0};
  for (auto [n_t, n_s, m] : {std::tuple{0, 10, 2}, std::tuple{10, 0, 2}, std::tuple{10, 10, 0}}) {
    DeviceMatrix<double> targets("t", n_t, 16), sources("s", n_s, 16), weights("w", n_s, m);
    DeviceMatrix<double> out("out", n_t, m);
    Kokkos::deep_copy(out, 1.0);
    kinterp::local_kernel_sum_gemm(Kokkos::DefaultExecutionSpace(), kernel, 1.0, targets, sources,
                                   weights, out);
    const auto result = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
    for (int i = 0; i < n_t; ++i)
      for (int c = 0; c < m; ++c) EXPECT_EQ(result(i, c), 1.0);
  }

  const auto weights = random_matrix<double>(33, 3, 61, -1, 1);
  DeviceMatrix<double> targets("t", 7, 0), sources("s", 33, 0), out("out", 7, 3);
  kinterp::local_kernel_sum_gemm(Kokkos::DefaultExecutionSpace(), kernel, 2.0, targets, sources,
                                 to_device(weights), out);
  const auto result = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
  for (int c = 0; c < 3; ++c) {
    long double sum = 0;
    for (int j = 0; j < 33; ++j) sum += weights(j, c);
    for (int i = 0; i < 7; ++i) EXPECT_NEAR(result(i, c), 2 * sum, 1e-14);
  }
}

}  // namespace
