#pragma once
/// \file RadialKernels.hpp
/// The compiled kernel families as device-callable functors of the squared
/// distance r2 = |x - y|^2, and the dispatch from a runtime KernelSpec to them.
///
/// Each functor takes r2 as a scalar (device code, the reference form) or as
/// a SIMD pack (host code: detail::simd::Pack, the host kernel sum), where the
/// exponential is 2^(-(g log2 e) t) with the rate folded into its range
/// reduction (detail::exp2_negative). The rational quadratic and the general
/// Matern kernel have no closed SIMD form: their packs are evaluated lane by
/// lane in double (several times slower than the closed forms).

#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/KokkosCompat.hpp>
#include <kinterp/core/detail/SimdPack.hpp>
#include <kinterp/kernels/KernelSpec.hpp>
#include <kinterp/kernels/detail/BesselK.hpp>
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

/// (1 - s)^2 (1 + s / 2) = 1 - 3/2 s + 1/2 s^3 with s = min(g r, 1): the
/// factored form keeps its relative accuracy towards the range 1/g.
template <class T>
struct SphericalKernel {
  T g;
  KOKKOS_INLINE_FUNCTION T operator()(T r2) const {
    const T gr = g * detail::math::sqrt(r2);
    const T s = gr < T(1) ? gr : T(1);
    const T t = 1 - s;
    return t * t * (1 + T(0.5) * s);
  }
  template <int W>
  detail::simd::Pack<T, W> operator()(const detail::simd::Pack<T, W>& r2) const {
    using P = detail::simd::Pack<T, W>;
    using detail::simd::broadcast;
    const P one = broadcast<P>(T(1));
    // +inf (r2 overflowed) gives s = 1, phi = 0.
    const P s = detail::simd::min(broadcast<P>(g) * detail::simd::sqrt_of_distance(r2), one);
    const P t = one - s;
    return t * t * detail::simd::fma(broadcast<P>(T(0.5)), s, one);
  }
};

/// exp(-g r) / r: +inf at r = 0 (IEEE), so that a target on a point shows
/// in the sum (ExponentialOverDistance).
template <class T>
struct ExponentialOverDistanceKernel {
  T g;
  KOKKOS_INLINE_FUNCTION T operator()(T r2) const {
    const T r = detail::math::sqrt(r2);
    return detail::exp_nonpositive(-g * r) / r;
  }
  template <int W>
  detail::simd::Pack<T, W> operator()(const detail::simd::Pack<T, W>& r2) const {
    // The correctly rounded sqrt, not sqrt_of_distance: its clamp would make
    // 1 / r finite at r = 0.
    const detail::simd::Pack<T, W> r = detail::simd::sqrt(r2);
    return detail::exp2_negative(T(detail::log2e * g), r) / r;
  }
};

namespace detail {
/// kernel(Pack) as kernel(scalar) on each lane: for kernels without a SIMD form.
template <class T, int W, class Kernel>
simd::Pack<T, W> lane_by_lane(const Kernel& kernel, const simd::Pack<T, W>& r2) {
  T lanes[W];
  simd::store(lanes, r2);
  for (int i = 0; i < W; ++i) lanes[i] = kernel(lanes[i]);
  return simd::load<simd::Pack<T, W>>(lanes);
}
}  // namespace detail

/// (1 + g r^2)^(-alpha), in double.
template <class T>
struct RationalQuadraticKernel {
  double g, alpha;
  KOKKOS_INLINE_FUNCTION T operator()(T r2) const {
    return static_cast<T>(detail::math::pow(1 + g * static_cast<double>(r2), -alpha));
  }
  /// Lane by lane (no SIMD log in SimdPack).
  template <int W>
  detail::simd::Pack<T, W> operator()(const detail::simd::Pack<T, W>& r2) const {
    return detail::lane_by_lane(*this, r2);
  }
};

/// 2^(1-nu)/Gamma(nu) (g r)^nu K_nu(g r) for any order nu > 0, in double
/// (detail::matern_correlation). Use the closed forms for nu = 1/2, 3/2, 5/2.
template <class T>
struct MaternKernel {
  double g;
  detail::BesselKOrder order;
  /// Host only: the Gamma values of order nu.
  static MaternKernel make(double g, double nu) { return {g, detail::BesselKOrder::make(nu)}; }
  KOKKOS_INLINE_FUNCTION T operator()(T r2) const {
    return static_cast<T>(
        detail::matern_correlation(order, g * detail::math::sqrt(static_cast<double>(r2))));
  }
  /// Lane by lane: Temme's series or Steed's continued fraction per lane,
  /// tens of times slower than the closed-form Matern kernels.
  template <int W>
  detail::simd::Pack<T, W> operator()(const detail::simd::Pack<T, W>& r2) const {
    return detail::lane_by_lane(*this, r2);
  }
};

/// Calls `visitor(kernel)` with the functor of `spec.family` in precision T
/// (spec.variance is not part of the functor: callers scale the sum by it).
/// covariances_only: the covariance families alone (exp(-g r)/r, a
/// gradient's kernel, throws kinterp::Error), for the callers that need a
/// covariance (preconditioners, kriging): one instantiation fewer to compile.
template <class T, bool covariances_only = false, class Visitor>
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
    case KernelFamily::Spherical:
      return visitor(SphericalKernel<T>{g});
    case KernelFamily::RationalQuadratic:
      return visitor(RationalQuadraticKernel<T>{spec.g, spec.shape});
    case KernelFamily::Matern:
      return visitor(MaternKernel<T>::make(spec.g, spec.shape));
    case KernelFamily::ExponentialOverDistance:
      if constexpr (covariances_only) {
        throw Error("exp(-g r)/r, a gradient's kernel, is not a covariance");
      } else {
        return visitor(ExponentialOverDistanceKernel<T>{g});
      }
    case KernelFamily::Gaussian:
      break;
  }
  return visitor(GaussianKernel<T>{g});
}

}  // namespace kinterp
