#pragma once
/// \file ExpNonPositive.hpp
/// exp(x) for x <= 0 (the kernels), and for any x (the generic evaluator),
/// written so that compilers vectorise the loops that call them.
/// The C library's exp is a scalar call (glibc only offers vector variants
/// under -ffast-math), which keeps a kernel-sum loop from vectorising at all.

#include <kinterp/core/detail/BitCast.hpp>
#include <kinterp/core/detail/KokkosCompat.hpp>

#include <cstdint>
#include <limits>

namespace kinterp::detail {

#if !defined(__CUDA_ARCH__) && !defined(__HIP_DEVICE_COMPILE__)
/// exp(x) for x already clamped to where 2^n stays a normal number: Cody-Waite
/// reduction x = n ln2 + r, |r| <= ln2/2, a Taylor polynomial for exp(r)
/// (degree 12, relative error below 1e-15; degree 7 in float, about 1e-7),
/// and 2^n built in the exponent field.
inline double exp_in_range(double x) {
  constexpr double log2e = 1.4426950408889634;
  constexpr double ln2_hi = 6.93147180369123816490e-01;  // 32 bits: n * ln2_hi is exact
  constexpr double ln2_lo = 1.90821492927058770002e-10;
  constexpr double round_magic = 0x1.8p52;  // adding it rounds to an integer
  const double shifted = x * log2e + round_magic;
  const double n = shifted - round_magic;
  const double r = (x - n * ln2_hi) - n * ln2_lo;

  double p = 1.0 / 479001600;
  p = p * r + 1.0 / 39916800;
  p = p * r + 1.0 / 3628800;
  p = p * r + 1.0 / 362880;
  p = p * r + 1.0 / 40320;
  p = p * r + 1.0 / 5040;
  p = p * r + 1.0 / 720;
  p = p * r + 1.0 / 120;
  p = p * r + 1.0 / 24;
  p = p * r + 1.0 / 6;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;

  const std::int64_t exponent =
      bit_cast<std::int64_t>(shifted) - bit_cast<std::int64_t>(round_magic) + 1023;
  return p * bit_cast<double>(exponent << 52);
}

inline float exp_in_range(float x) {
  constexpr float log2e = 1.44269504f;
  constexpr float ln2_hi = 0.693145751953125f;  // 16 bits: n * ln2_hi is exact
  constexpr float ln2_lo = 1.428606765330187045e-06f;
  constexpr float round_magic = 0x1.8p23f;
  const float shifted = x * log2e + round_magic;
  const float n = shifted - round_magic;
  const float r = (x - n * ln2_hi) - n * ln2_lo;

  float p = 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;

  const std::int32_t exponent =
      bit_cast<std::int32_t>(shifted) - bit_cast<std::int32_t>(round_magic) + 127;
  return p * bit_cast<float>(exponent << 23);
}

/// The range exp_in_range covers: exp(lowest) is still a normal number and
/// 2^n at highest does not overflow.
template <class T>
struct ExpRange;
template <>
struct ExpRange<double> {
  using Bits = std::uint64_t;
  static constexpr double lowest = -708.0, highest = 709.0;
};
template <>
struct ExpRange<float> {
  using Bits = std::uint32_t;
  static constexpr float lowest = -87.0f, highest = 88.0f;
};
#endif

/// exp(x) for x <= 0 (x > 0 is not supported), with flush to zero below the
/// smallest normal number. The clamp of x compares the bit patterns as
/// integers: a floating-point compare could trap, which stops GCC from
/// vectorising the select.
template <class T>
KOKKOS_INLINE_FUNCTION T exp_nonpositive(T x) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  return math::exp(x);
#else
  using Bits = typename ExpRange<T>::Bits;
  const Bits x_bits = bit_cast<Bits>(x);
  const Bits lowest_bits = bit_cast<Bits>(ExpRange<T>::lowest);
  // For x <= 0 the larger bit pattern is the more negative number (+0 is 0).
  const bool underflows = x_bits > lowest_bits;
  const T value = exp_in_range(bit_cast<T>(underflows ? lowest_bits : x_bits));
  return underflows ? T(0) : value;
#endif
}

/// exp(x) for x <= 0 or NaN, which it returns unchanged (exp_nonpositive
/// takes a NaN with the sign bit set for a very negative number, and builds
/// 2^n from the others' bits): the generic evaluator's Exp where the
/// compiler proved the argument <= 0.
template <class T>
KOKKOS_INLINE_FUNCTION T exp_nonpositive_or_nan(T x) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  return math::exp(x);
#else
  using Bits = typename ExpRange<T>::Bits;
  constexpr Bits sign = Bits(1) << (8 * sizeof(T) - 1);
  const Bits x_bits = bit_cast<Bits>(x);
  const bool nan = (x_bits & ~sign) > bit_cast<Bits>(std::numeric_limits<T>::infinity());
  const T value = exp_nonpositive(nan ? T(0) : x);
  return nan ? x : value;
#endif
}

/// exp(x) for any x, vectorisable on CPUs like exp_nonpositive: 0 below the
/// smallest normal result, +inf above exp(highest) (for double, 709 < x <=
/// 709.78 also gives +inf rather than the last finite values), NaN for NaN.
template <class T>
KOKKOS_INLINE_FUNCTION T exp_any(T x) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  return math::exp(x);
#else
  // Selects on bit patterns only: GCC vectorises those, not float compares.
  using Bits = typename ExpRange<T>::Bits;
  constexpr Bits sign = Bits(1) << (8 * sizeof(T) - 1);
  const Bits x_bits = bit_cast<Bits>(x);
  const Bits lowest = bit_cast<Bits>(ExpRange<T>::lowest);
  const Bits highest = bit_cast<Bits>(ExpRange<T>::highest);
  const Bits infinity = bit_cast<Bits>(std::numeric_limits<T>::infinity());
  const Bits magnitude = x_bits & ~sign;
  const bool negative = x_bits > magnitude;
  const bool underflows = negative && x_bits > lowest;
  const bool overflows = !negative && x_bits > highest;
  const bool nan = magnitude > infinity;
  Bits clamped = underflows ? lowest : x_bits;
  clamped = overflows ? highest : clamped;
  clamped = nan ? Bits(0) : clamped;
  Bits result = bit_cast<Bits>(exp_in_range(bit_cast<T>(clamped)));
  result = underflows ? Bits(0) : result;
  result = overflows ? infinity : result;
  result = nan ? x_bits : result;
  return bit_cast<T>(result);
#endif
}

}  // namespace kinterp::detail
