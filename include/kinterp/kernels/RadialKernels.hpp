#pragma once
/// \file RadialKernels.hpp
/// The compiled kernel families as device-callable functors of the squared
/// distance r2 = |x - y|^2, and the dispatch from a runtime KernelSpec to them.

#include <kinterp/core/detail/KokkosCompat.hpp>
#include <kinterp/kernels/KernelSpec.hpp>
#include <kinterp/kernels/detail/ExpNonPositive.hpp>

#include <utility>

namespace kinterp {

/// exp(-g r^2)
template <class T>
struct GaussianKernel {
  T g;
  KOKKOS_INLINE_FUNCTION T operator()(T r2) const { return detail::exp_nonpositive(-g * r2); }
};

/// exp(-g r)
template <class T>
struct LaplacianKernel {
  T g;
  KOKKOS_INLINE_FUNCTION T operator()(T r2) const {
    return detail::exp_nonpositive(-g * detail::math::sqrt(r2));
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
};

/// (1 + g r + g^2 r^2 / 3) exp(-g r)
template <class T>
struct Matern52Kernel {
  T g;
  KOKKOS_INLINE_FUNCTION T operator()(T r2) const {
    const T gr = g * detail::math::sqrt(r2);
    return (1 + gr + gr * gr * T(1.0 / 3)) * detail::exp_nonpositive(-gr);
  }
};

/// 1 / (1 + g r^2)
template <class T>
struct CauchyKernel {
  T g;
  KOKKOS_INLINE_FUNCTION T operator()(T r2) const { return 1 / (1 + g * r2); }
};

/// 1 / sqrt(1 + g r^2)
template <class T>
struct InverseMultiquadricKernel {
  T g;
  KOKKOS_INLINE_FUNCTION T operator()(T r2) const { return 1 / detail::math::sqrt(1 + g * r2); }
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
