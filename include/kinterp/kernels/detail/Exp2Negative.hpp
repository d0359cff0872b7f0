#pragma once
/// \file Exp2Negative.hpp
/// 2^(-rate * x) for x >= 0 on SIMD packs: the exponential of the host
/// kernel sum (exp(-g r^2) = 2^(-(g log2 e) r^2)), with no Cody-Waite
/// reduction and no separate multiply by the rate.

#include <kinterp/core/detail/SimdPack.hpp>

namespace kinterp::detail {

/// t = n + h with n = round(t), |h| <= 1/2: 2^(-t) = 2^(-n) * 2^(-h), where
/// 2^(-h) is a minimax polynomial and 2^(-n) is built in the exponent field.
/// The polynomials (coefficients of 2^f, f in [-1/2, 1/2], lowest degree
/// first) are the minimax fits for relative error (Remez exchange): degree 5,
/// 7.5e-8 (float: 2.2e-7 with rounding, about 2 ulp); degree 11, 3.1e-18
/// (double: the rounding of the Horner steps dominates, about 1 ulp).
template <class T>
struct Exp2Constants;

template <>
struct Exp2Constants<float> {
  static constexpr int mantissa_bits = 23;
  static constexpr int degree = 5;
  static constexpr float coefficients[degree + 1] = {
      1.00000007165468481f,   0.693146967064760112f,   0.240221197238401904f,
      0.0555071327349880587f, 0.00967554133444483766f, 0.00132764719922558688f};
  /// Below 2^-125.5 the result flushes to +0: the exponent field of 2^-(n+1)
  /// is 0 at n = 126, so no result is ever subnormal (subnormal results cost
  /// a microcode assist of ~100 cycles on x86).
  static constexpr float flush = 126;
  /// (shift - t) rounds t to an integer n and holds 126 - n in the low
  /// mantissa bits: 1.5 * 2^23 keeps the sum in [2^23, 2^24), one unit per ulp.
  static constexpr float shift = 0x1.8p23f + 126;
};

template <>
struct Exp2Constants<double> {
  static constexpr int mantissa_bits = 52;
  static constexpr int degree = 11;
  static constexpr double coefficients[degree + 1] = {
      0.9999999999999999971004,   0.6931471805599453304615,   0.2402265069591015620471,
      0.05550410866481992147458,  0.009618129107588335039174, 0.001333355814678995257299,
      1.540353046251466849248e-4, 1.525273348995851754611e-5, 1.32154330895671876136e-6,
      1.017819803432093891901e-7, 7.074105630863328977045e-9, 4.435280790456428020751e-10};
  static constexpr double flush = 1022;
  static constexpr double shift = 0x1.8p52 + 1022;
};

/// The x from which on 2^(-rate * x) is 0 (+inf for rate = 0).
template <class T>
inline T exp2_negative_limit(T rate) {
  return Exp2Constants<T>::flush / rate;
}

/// 2^(-rate * x) for rate >= 0 and x >= 0 (NaN and negative x are not
/// supported), +0 below 2^-125.5 (float) or 2^-1021.5 (double). The rate is
/// folded into the range reduction: t = rate * x = n + h with n = round(t) is
/// found by one fused multiply-add against the rounding shift, and h by one
/// more (rounded once), so a kernel's scale costs no operation of its own and
/// the points need no pre-scaling. 7 + degree operations per pack.
template <class T, int W>
inline simd::Pack<T, W> exp2_negative(T rate, simd::Pack<T, W> x) {
  using P = simd::Pack<T, W>;
  using C = Exp2Constants<T>;
  using simd::broadcast;
  using simd::fma;
  x = simd::min(x, broadcast<P>(exp2_negative_limit(rate)));              // rate = 0: no clamp
  const P shifted = fma(broadcast<P>(-rate), x, broadcast<P>(C::shift));  // low bits: 126 - n
  const P minus_n = shifted - broadcast<P>(C::shift);                     // exact
  const P h = fma(broadcast<P>(rate), x, minus_n);                        // t - n, |h| <= 1/2
  // 2 * 2^(-h) by Horner in h: the factor 2 pairs with 2^-(n+1) below, and
  // the odd coefficients change sign because the argument is -h.
  P p = broadcast<P>(T(C::degree % 2 ? -2 : 2) * C::coefficients[C::degree]);
  for (int k = C::degree - 1; k >= 0; --k) {
    p = fma(p, h, broadcast<P>(T(k % 2 ? -2 : 2) * C::coefficients[k]));
  }
  return p * simd::shift_bits_left<C::mantissa_bits>(shifted);  // * 2^-(n+1)
}

}  // namespace kinterp::detail
