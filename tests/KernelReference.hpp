#pragma once
// Independent references for the tests: kernels in closed form and kernel sums
// by a plain loop in long double.

#include <kinterp/core/detail/SplitMix64.hpp>
#include <kinterp/kernels/KernelSpec.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace kinterp::test {

/// K_nu(x) = integral_0^inf exp(-x cosh t) cosh(nu t) dt by the trapezoid rule
/// in long double: the integrand is analytic in a strip about the real axis
/// and decays double-exponentially, so the error falls exponentially in 1/h:
/// like exp(-7.5/h) for x <~ 25, exp(-2 pi^2 / (h^2 x)) for larger x (the
/// peak's width is 1/sqrt(x)); h = min(0.1, 0.5/sqrt(x)) keeps it below
/// long double roundoff. Independent of the Temme/Steed code under test.
inline long double bessel_k_quadrature(long double nu, long double x) {
  const long double h = std::min(0.1L, 0.5L / std::sqrt(x));
  // The integrand peaks where sinh t = nu / x; stop well past it.
  const long double peak = std::asinh(nu / x);
  long double sum = 0.5L * std::exp(-x);
  for (int k = 1;; ++k) {
    const long double t = k * h;
    const long double term = std::exp(-x * std::cosh(t)) * std::cosh(nu * t);
    sum += term;
    if (t > peak && term < 1e-24L * sum) break;
  }
  return h * sum;
}

/// The Matern correlation 2^(1-nu)/Gamma(nu) x^nu K_nu(x), 1 at x = 0.
inline long double matern_reference(long double nu, long double x) {
  if (x == 0) return 1;
  // In logarithms: x^nu and K_nu(x) overflow apart for small x and large nu.
  const long double k = bessel_k_quadrature(nu, x);
  if (k == 0) return 0;
  return std::exp((1 - nu) * std::log(2.0L) - std::lgamma(nu) + nu * std::log(x) + std::log(k));
}

/// variance * phi(r) in long double, straight from the definitions.
inline long double reference_kernel(const KernelSpec& spec, long double r) {
  const long double g = spec.g;
  long double phi = 0;
  switch (spec.family) {
    case KernelFamily::Gaussian:
      phi = std::exp(-g * r * r);
      break;
    case KernelFamily::Laplacian:
      phi = std::exp(-g * r);
      break;
    case KernelFamily::Matern32:
      phi = (1 + g * r) * std::exp(-g * r);
      break;
    case KernelFamily::Matern52:
      phi = (1 + g * r + g * g * r * r / 3) * std::exp(-g * r);
      break;
    case KernelFamily::Cauchy:
      phi = 1 / (1 + g * r * r);
      break;
    case KernelFamily::InverseMultiquadric:
      phi = 1 / std::sqrt(1 + g * r * r);
      break;
    case KernelFamily::Spherical: {
      const long double s = g * r;
      phi = s < 1 ? 1 - 1.5L * s + 0.5L * s * s * s : 0;
      break;
    }
    case KernelFamily::RationalQuadratic:
      phi = std::pow(1 + g * r * r, -static_cast<long double>(spec.shape));
      break;
    case KernelFamily::Matern:
      phi = matern_reference(spec.shape, g * r);
      break;
    case KernelFamily::ExponentialOverDistance:
      phi = std::exp(-g * r) / r;
      break;
  }
  return spec.variance * phi;
}

/// Row-major host matrix.
template <class T>
struct HostMatrix {
  std::int64_t rows = 0, cols = 0;
  std::vector<T> values;
  HostMatrix() = default;
  HostMatrix(std::int64_t r, std::int64_t c) : rows(r), cols(c), values(r * c) {}
  T& operator()(std::int64_t i, std::int64_t j) { return values[i * cols + j]; }
  const T& operator()(std::int64_t i, std::int64_t j) const { return values[i * cols + j]; }
};

/// |t_i - x_j| in long double.
template <class T>
long double reference_distance(const HostMatrix<T>& targets, std::int64_t i,
                               const HostMatrix<T>& sources, std::int64_t j) {
  long double r2 = 0;
  for (std::int64_t k = 0; k < targets.cols; ++k) {
    const long double diff = static_cast<long double>(targets(i, k)) - sources(j, k);
    r2 += diff * diff;
  }
  return std::sqrt(r2);
}

/// The same matrix in another scalar type.
template <class To, class From>
HostMatrix<To> converted(const HostMatrix<From>& m) {
  HostMatrix<To> out(m.rows, m.cols);
  for (std::size_t k = 0; k < m.values.size(); ++k) out.values[k] = static_cast<To>(m.values[k]);
  return out;
}

/// out(i, c) = sum_j k(t_i, x_j) w(j, c), and the sum of |terms| (for error bounds).
template <class T>
void reference_kernel_sum(const KernelSpec& spec, const HostMatrix<T>& targets,
                          const HostMatrix<T>& sources, const HostMatrix<T>& weights,
                          HostMatrix<long double>& out, HostMatrix<long double>& magnitude) {
  out = HostMatrix<long double>(targets.rows, weights.cols);
  magnitude = HostMatrix<long double>(targets.rows, weights.cols);
  for (std::int64_t i = 0; i < targets.rows; ++i) {
    for (std::int64_t j = 0; j < sources.rows; ++j) {
      const long double value = reference_kernel(spec, reference_distance(targets, i, sources, j));
      for (std::int64_t c = 0; c < weights.cols; ++c) {
        out(i, c) += value * weights(j, c);
        magnitude(i, c) += std::fabs(value * weights(j, c));
      }
    }
  }
}

/// A reproducible pseudo-random number in [0, 1) for (seed, index): the same
/// value whichever rank asks for it.
inline double uniform01(std::uint64_t seed, std::uint64_t index) {
  return kinterp::detail::unit_interval(kinterp::detail::splitmix64_finalise(
      seed * 0x9E3779B97F4A7C15ull + index + 0x632BE59BD9B4E019ull));
}

/// A rows x cols matrix of uniform01 values scaled to [lo, hi).
template <class T>
HostMatrix<T> random_matrix(std::int64_t rows, std::int64_t cols, std::uint64_t seed, double lo,
                            double hi) {
  HostMatrix<T> m(rows, cols);
  for (std::int64_t k = 0; k < rows * cols; ++k) {
    m.values[k] = static_cast<T>(lo + (hi - lo) * uniform01(seed, std::uint64_t(k)));
  }
  return m;
}

}  // namespace kinterp::test
