#pragma once
/// \file ExpNonPositive.hpp
/// exp(x) for x <= 0, written so that compilers vectorise the loops that call it.
/// The C library's exp is a scalar call (glibc only offers vector variants
/// under -ffast-math), which keeps a kernel-sum loop from vectorising at all.

#include <kinterp/core/detail/BitCast.hpp>
#include <kinterp/core/detail/KokkosCompat.hpp>

#include <cstdint>

namespace kinterp::detail {

/// exp(x) for x <= 0 (x > 0 is not supported), with flush to zero below the
/// smallest normal number. Host: Cody-Waite reduction x = n ln2 + r, |r| <=
/// ln2/2, a Taylor polynomial for exp(r) (degree 12, relative error below 1e-15;
/// degree 7 in float, about 1e-7), and 2^n built in the exponent field. The
/// clamp of x compares the bit patterns as integers: a floating-point compare
/// could trap, which stops GCC from vectorising the select.
KOKKOS_INLINE_FUNCTION double exp_nonpositive(double x) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  return math::exp(x);
#else
  constexpr double lowest = -708.0;  // exp(lowest) is still a normal double
  const std::uint64_t x_bits = bit_cast<std::uint64_t>(x);
  const std::uint64_t lowest_bits = bit_cast<std::uint64_t>(lowest);
  // For x <= 0 the larger bit pattern is the more negative number (+0 is 0).
  const bool underflows = x_bits > lowest_bits;
  x = bit_cast<double>(underflows ? lowest_bits : x_bits);

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
  const std::int64_t scale_bits = underflows ? std::int64_t(0) : exponent << 52;
  return p * bit_cast<double>(scale_bits);
#endif
}

KOKKOS_INLINE_FUNCTION float exp_nonpositive(float x) {
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
  return math::exp(x);
#else
  constexpr float lowest = -87.0f;
  const std::uint32_t x_bits = bit_cast<std::uint32_t>(x);
  const std::uint32_t lowest_bits = bit_cast<std::uint32_t>(lowest);
  const bool underflows = x_bits > lowest_bits;
  x = bit_cast<float>(underflows ? lowest_bits : x_bits);

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
  const std::int32_t scale_bits = underflows ? std::int32_t(0) : exponent << 23;
  return p * bit_cast<float>(scale_bits);
#endif
}

}  // namespace kinterp::detail
