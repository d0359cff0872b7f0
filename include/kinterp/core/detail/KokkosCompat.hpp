#pragma once
/// \file KokkosCompat.hpp
/// Everything that differs between Kokkos 3.4 (Debian) and Kokkos 4.x, in one place.

#include <Kokkos_Core.hpp>

namespace kinterp::detail::math {

// Kokkos 3.7 moved the math functions from Kokkos::Experimental to Kokkos
// (and Kokkos 4 dropped the old names).
#if KOKKOS_VERSION >= 30700
using Kokkos::acos;
using Kokkos::asin;
using Kokkos::atan;
using Kokkos::atan2;
using Kokkos::cos;
using Kokkos::exp;
using Kokkos::fabs;
using Kokkos::floor;
using Kokkos::log;
using Kokkos::pow;
using Kokkos::sin;
using Kokkos::sqrt;
#else
using Kokkos::Experimental::acos;
using Kokkos::Experimental::asin;
using Kokkos::Experimental::atan;
using Kokkos::Experimental::atan2;
using Kokkos::Experimental::cos;
using Kokkos::Experimental::exp;
using Kokkos::Experimental::fabs;
using Kokkos::Experimental::floor;
using Kokkos::Experimental::log;
using Kokkos::Experimental::pow;
using Kokkos::Experimental::sin;
using Kokkos::Experimental::sqrt;
#endif

}  // namespace kinterp::detail::math

// `#pragma omp simd reduction(...)` on the host where the compiler understands
// it (OpenMP, or -fopenmp-simd with KINTERP_OPENMP_SIMD); nothing on devices.
#define KINTERP_PRAGMA(text) _Pragma(#text)
#if (defined(_OPENMP) || defined(KINTERP_OPENMP_SIMD)) && !defined(__CUDA_ARCH__) && \
    !defined(__HIP_DEVICE_COMPILE__)
#define KINTERP_SIMD_REDUCTION(...) KINTERP_PRAGMA(omp simd reduction(__VA_ARGS__))
#else
#define KINTERP_SIMD_REDUCTION(...)
#endif
