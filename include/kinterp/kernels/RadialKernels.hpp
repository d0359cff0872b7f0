#pragma once
/// \file RadialKernels.hpp
/// The compiled kernel families as device-callable functors of the squared
/// distance r2 = |x - y|^2, and the dispatch from a runtime KernelSpec to them.
///
/// Each functor takes r2 as a scalar (device code, the reference form) or as
/// a SIMD pack (host code: detail::simd::Pack, the host kernel sum), where the
/// exponential is 2^(-(g log2 e) t) with the rate folded into its range
/// reduction (detail::exp2_negative).

#include <kinterp/core/detail/KokkosCompat.hpp>
#include <kinterp/core/detail/SimdPack.hpp>
#include <kinterp/kernels/KernelSpec.hpp>
#include <kinterp/kernels/detail/Exp2Negative.hpp>
#include <kinterp/kernels/detail/ExpNonPositive.hpp>

#include <utility>

namespace kinterp {

namespace detail {
inline constexpr double log2e = 1.4426950408889634074;

/// r2 no larger than where exp(-g r) is 0 already, so that a polynomial
/// factor in r stays finite there (r2 = +inf would give inf * 0).
template <class T, int W>
inline simd::Pack<T, W> clamp_r2(T rate, const simd::Pack<T, W>& r2) {
  const T limit = exp2_negative_limit(rate);
  return simd::min(r2, simd::broadcast<simd::Pack<T, W>>(limit * limit));
}
}  // namespace detail

/// exp(-g r^2)
template <class T>
struct GaussianKernel {
  T g;
  KOKKOS_INLINE_FUNCTION T operator()(T r2) const { return detail::exp_nonpositive(-g * r2); }
  template <int W>
  detail::simd::Pack<T, W> operator()(const detail::simd::Pack<T, W>& r2) const {
    return detail::exp2_negative(T(detail::log2e * g), r2);
  }
};

/// exp(-g r)
template <class T>
struct LaplacianKernel {
  T g;
  KOKKOS_INLINE_FUNCTION T operator()(T r2) const {
    return detail::exp_nonpositive(-g * detail::math::sqrt(r2));
  }
  template <int W>
  detail::simd::Pack<T, W> operator()(const detail::simd::Pack<T, W>& r2) const {
    return detail::exp2_negative(T(detail::log2e * g), detail::simd::sqrt_of_distance(r2));
  }
};

/// (1 + g r) exp(-g r)
template <class T>
struct Matern32Kernel {
  T g;
  KOKKOS_INLINE_FUNCTION T operator()(T r2) const {
    const T gr = g * detail::math::sqrt(r2);
    return (1 + gr) * detail::exp_nonpositive(-gr);
  }
  template <int W>
  detail::simd::Pack<T, W> operator()(const detail::simd::Pack<T, W>& r2) const {
    using P = detail::simd::Pack<T, W>;
    using detail::simd::broadcast;
    const T rate = T(detail::log2e * g);
    const P r = detail::simd::sqrt_of_distance(detail::clamp_r2(rate, r2));
    return detail::simd::fma(broadcast<P>(g), r, broadcast<P>(T(1))) *
           detail::exp2_negative(rate, r);
  }
};

/// (1 + g r + g^2 r^2 / 3) exp(-g r)
template <class T>
struct Matern52Kernel {
  T g;
  KOKKOS_INLINE_FUNCTION T operator()(T r2) const {
    const T gr = g * detail::math::sqrt(r2);
    return (1 + gr + gr * gr * T(1.0 / 3)) * detail::exp_nonpositive(-gr);
  }
  template <int W>
  detail::simd::Pack<T, W> operator()(const detail::simd::Pack<T, W>& r2) const {
    using P = detail::simd::Pack<T, W>;
    using detail::simd::broadcast;
    using detail::simd::fma;
    const T rate = T(detail::log2e * g);
    const P r2_clamped = detail::clamp_r2(rate, r2);
    const P r = detail::simd::sqrt_of_distance(r2_clamped);
    const P polynomial = fma(broadcast<P>(T(double(g) * g / 3)), r2_clamped,
                             fma(broadcast<P>(g), r, broadcast<P>(T(1))));
    return polynomial * detail::exp2_negative(rate, r);
  }
};

/// 1 / (1 + g r^2)
template <class T>
struct CauchyKernel {
  T g;
  KOKKOS_INLINE_FUNCTION T operator()(T r2) const { return 1 / (1 + g * r2); }
  template <int W>
  detail::simd::Pack<T, W> operator()(const detail::simd::Pack<T, W>& r2) const {
    using P = detail::simd::Pack<T, W>;
    using detail::simd::broadcast;
    return broadcast<P>(T(1)) / detail::simd::fma(broadcast<P>(g), r2, broadcast<P>(T(1)));
  }
};

/// 1 / sqrt(1 + g r^2)
template <class T>
struct InverseMultiquadricKernel {
  T g;
  KOKKOS_INLINE_FUNCTION T operator()(T r2) const { return 1 / detail::math::sqrt(1 + g * r2); }
  template <int W>
  detail::simd::Pack<T, W> operator()(const detail::simd::Pack<T, W>& r2) const {
    using P = detail::simd::Pack<T, W>;
    using detail::simd::broadcast;
    return broadcast<P>(T(1)) /
           detail::simd::sqrt(detail::simd::fma(broadcast<P>(g), r2, broadcast<P>(T(1))));
  }
};

/// Calls `visitor(kernel)` with the functor of `spec.family` in precision T
/// (spec.variance is not part of the functor: callers scale the sum by it).
template <class T, class Visitor>
decltype(auto) visit_kernel(const KernelSpec& spec, Visitor&& visitor) {
  const T g = static_cast<T>(spec.g);
  switch (spec.family) {
    case KernelFamily::Laplacian:
      return visitor(LaplacianKernel<T>{g});
    case KernelFamily::Matern32:
      return visitor(Matern32Kernel<T>{g});
    case KernelFamily::Matern52:
      return visitor(Matern52Kernel<T>{g});
    case KernelFamily::Cauchy:
      return visitor(CauchyKernel<T>{g});
    case KernelFamily::InverseMultiquadric:
      return visitor(InverseMultiquadricKernel<T>{g});
    case KernelFamily::Gaussian:
      break;
  }
  return visitor(GaussianKernel<T>{g});
}

}  // namespace kinterp
