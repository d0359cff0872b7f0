#pragma once
/// \file SimdPack.hpp
/// A small SIMD layer for the host kernel sum: `Pack<T, W>` holds W lanes of T
/// in one register, on GCC/Clang vector extensions, so that the same source
/// compiles to AVX-512, AVX2 or SSE/NEON code (the width follows the target's
/// macros) and to plain scalars (W = 1) elsewhere. Arithmetic is the vector
/// extensions' own; fma, min and sqrt go through x86 intrinsics where there
/// are some, because compilers do not fuse or pattern-match them reliably
/// (a fused multiply-add needs -ffp-contract, a vector min needs
/// -ffinite-math-only). Host code only. CUDA and HIP translation units get
/// W = 1 in both passes (their host compilers' front ends need not know the
/// vector extensions or the AVX-512 headers; the device takes the team kernel
/// sum anyway).

#include <kinterp/core/detail/BitCast.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#if defined(__GNUC__) && !defined(__CUDACC__) && !defined(__HIPCC__) && !defined(__CUDA_ARCH__) && \
    !defined(__HIP_DEVICE_COMPILE__)
#define KINTERP_SIMD_VECTOR_EXTENSIONS 1
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KINTERP_SIMD_X86 1
#endif
#endif

namespace kinterp::detail::simd {

/// Bytes of the widest vector registers the target has (0: no vector extensions).
#if !defined(KINTERP_SIMD_VECTOR_EXTENSIONS)
inline constexpr int native_bytes = 0;
#elif defined(__AVX512F__)
inline constexpr int native_bytes = 64;
#elif defined(__AVX2__)
inline constexpr int native_bytes = 32;
#else
inline constexpr int native_bytes = 16;  // SSE2 on x86-64, NEON, ...
#endif

/// Lanes of T in a native register; 1 where there are no vector extensions.
template <class T>
inline constexpr int native_width = native_bytes >= int(sizeof(T)) ? native_bytes / sizeof(T) : 1;

/// Vector registers the compiler can allocate (register blocking budget).
#if defined(__AVX512F__)
inline constexpr int native_registers = 32;
#else
inline constexpr int native_registers = 16;
#endif

/// The unsigned integer of the same size as T (exponent-field arithmetic).
template <class T>
using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

template <class T, int W>
struct VectorOf {
#if defined(KINTERP_SIMD_VECTOR_EXTENSIONS)
  typedef T type __attribute__((vector_size(sizeof(T) * W)));
  /// The same in memory at any address of a T, aliasing T (as _mm512_loadu_ps).
  typedef T unaligned __attribute__((vector_size(sizeof(T) * W), aligned(sizeof(T)), may_alias));
#endif
};
template <class T>
struct VectorOf<T, 1> {
  using type = T;
  using unaligned = T;
};

/// W lanes of T. An aggregate: Pack<T, W>{vector}.
template <class T, int W>
struct Pack {
  using value_type = T;
  using vector_type = typename VectorOf<T, W>::type;
  static constexpr int width = W;
  vector_type v;
};

template <class P>
inline P broadcast(typename P::value_type s) {
  if constexpr (P::width == 1) {
    return P{s};
  } else {
    // Scalar - vector broadcasts the scalar; s - 0 is s, including -0.
    return P{s - typename P::vector_type{}};
  }
}

/// Load and store at any address of a T (vmovups on x86).
template <class P>
inline P load(const typename P::value_type* p) {
  using Unaligned = typename VectorOf<typename P::value_type, P::width>::unaligned;
  return P{*reinterpret_cast<const Unaligned*>(p)};
}
template <class T, int W>
inline void store(T* p, const Pack<T, W>& a) {
  *reinterpret_cast<typename VectorOf<T, W>::unaligned*>(p) = a.v;
}

/// The lanes of a converted to U (float to double: exact).
template <class U, class T, int W>
inline Pack<U, W> convert(const Pack<T, W>& a) {
  if constexpr (W == 1) {
    return {static_cast<U>(a.v)};
  } else {
    Pack<U, W> r;
    for (int i = 0; i < W; ++i) r.v[i] = static_cast<U>(a.v[i]);  // vcvtps2pd
    return r;
  }
}

template <class T, int W>
inline Pack<T, W> operator+(const Pack<T, W>& a, const Pack<T, W>& b) {
  return {a.v + b.v};
}
template <class T, int W>
inline Pack<T, W> operator-(const Pack<T, W>& a, const Pack<T, W>& b) {
  return {a.v - b.v};
}
template <class T, int W>
inline Pack<T, W> operator*(const Pack<T, W>& a, const Pack<T, W>& b) {
  return {a.v * b.v};
}
template <class T, int W>
inline Pack<T, W> operator/(const Pack<T, W>& a, const Pack<T, W>& b) {
  return {a.v / b.v};
}

/// x86 instructions for what vector extensions do not express, where the
/// target has registers of W lanes of T (`available`) and FMA (`has_fma`).
template <class T, int W>
struct Native {
  static constexpr bool available = false;
  static constexpr bool has_fma = false;
};

/// Whether Native<T, W> has AVX-512's 14-bit reciprocal square root
/// (used in double only: see sqrt_of_distance).
template <class T, int W>
inline constexpr bool has_rsqrt14 = false;

#if defined(KINTERP_SIMD_X86)
#if defined(__FMA__)
inline constexpr bool x86_fma = true;
#else
inline constexpr bool x86_fma = false;
#endif

#if defined(__AVX512F__)
// The masked forms with every lane set: GCC 12's unmasked min, max and sqrt
// pass _mm512_undefined_ps() and trip -Wmaybe-uninitialized (GCC bug 105593).
template <>
struct Native<float, 16> {
  static constexpr bool available = true, has_fma = true;
  static __m512 min(__m512 a, __m512 b) { return _mm512_mask_min_ps(a, 0xFFFF, a, b); }
  static __m512 max(__m512 a, __m512 b) { return _mm512_mask_max_ps(a, 0xFFFF, a, b); }
  static __m512 sqrt(__m512 a) { return _mm512_mask_sqrt_ps(a, 0xFFFF, a); }
  static __m512 fma(__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); }
};
template <>
struct Native<double, 8> {
  static constexpr bool available = true, has_fma = true;
  static __m512d min(__m512d a, __m512d b) { return _mm512_mask_min_pd(a, 0xFF, a, b); }
  static __m512d max(__m512d a, __m512d b) { return _mm512_mask_max_pd(a, 0xFF, a, b); }
  static __m512d sqrt(__m512d a) { return _mm512_mask_sqrt_pd(a, 0xFF, a); }
  static __m512d fma(__m512d a, __m512d b, __m512d c) { return _mm512_fmadd_pd(a, b, c); }
  static __m512d rsqrt14(__m512d a) { return _mm512_mask_rsqrt14_pd(a, 0xFF, a); }
};
template <>
inline constexpr bool has_rsqrt14<double, 8> = true;
#endif

#if defined(__AVX__)
template <>
struct Native<float, 8> {
  static constexpr bool available = true, has_fma = x86_fma;
  static __m256 min(__m256 a, __m256 b) { return _mm256_min_ps(a, b); }
  static __m256 max(__m256 a, __m256 b) { return _mm256_max_ps(a, b); }
  static __m256 sqrt(__m256 a) { return _mm256_sqrt_ps(a); }
#if defined(__FMA__)
  static __m256 fma(__m256 a, __m256 b, __m256 c) {
    return _mm256_fmadd_ps(a, b, c);
  }
#endif
};
template <>
struct Native<double, 4> {
  static constexpr bool available = true, has_fma = x86_fma;
  static __m256d min(__m256d a, __m256d b) { return _mm256_min_pd(a, b); }
  static __m256d max(__m256d a, __m256d b) { return _mm256_max_pd(a, b); }
  static __m256d sqrt(__m256d a) { return _mm256_sqrt_pd(a); }
#if defined(__FMA__)
  static __m256d fma(__m256d a, __m256d b, __m256d c) {
    return _mm256_fmadd_pd(a, b, c);
  }
#endif
};
#endif

template <>
struct Native<float, 4> {
  static constexpr bool available = true, has_fma = x86_fma;
  static __m128 min(__m128 a, __m128 b) { return _mm_min_ps(a, b); }
  static __m128 max(__m128 a, __m128 b) { return _mm_max_ps(a, b); }
  static __m128 sqrt(__m128 a) { return _mm_sqrt_ps(a); }
#if defined(__FMA__)
  static __m128 fma(__m128 a, __m128 b, __m128 c) {
    return _mm_fmadd_ps(a, b, c);
  }
#endif
};
template <>
struct Native<double, 2> {
  static constexpr bool available = true, has_fma = x86_fma;
  static __m128d min(__m128d a, __m128d b) { return _mm_min_pd(a, b); }
  static __m128d max(__m128d a, __m128d b) { return _mm_max_pd(a, b); }
  static __m128d sqrt(__m128d a) { return _mm_sqrt_pd(a); }
#if defined(__FMA__)
  static __m128d fma(__m128d a, __m128d b, __m128d c) {
    return _mm_fmadd_pd(a, b, c);
  }
#endif
};
#endif  // KINTERP_SIMD_X86

/// a * b + c, rounded once where the target has FMA.
template <class T, int W>
inline Pack<T, W> fma(const Pack<T, W>& a, const Pack<T, W>& b, const Pack<T, W>& c) {
  if constexpr (Native<T, W>::has_fma) {
    return {Native<T, W>::fma(a.v, b.v, c.v)};
  } else {
    return {a.v * b.v + c.v};
  }
}

/// a < b ? a : b (b where a is NaN).
template <class T, int W>
inline Pack<T, W> min(const Pack<T, W>& a, const Pack<T, W>& b) {
  if constexpr (Native<T, W>::available) {
    return {Native<T, W>::min(a.v, b.v)};
  } else {
    return {a.v < b.v ? a.v : b.v};
  }
}

/// a > b ? a : b (b where a is NaN).
template <class T, int W>
inline Pack<T, W> max(const Pack<T, W>& a, const Pack<T, W>& b) {
  if constexpr (Native<T, W>::available) {
    return {Native<T, W>::max(a.v, b.v)};
  } else {
    return {a.v > b.v ? a.v : b.v};
  }
}

/// Correctly rounded square root.
template <class T, int W>
inline Pack<T, W> sqrt(const Pack<T, W>& a) {
  if constexpr (Native<T, W>::available) {
    return {Native<T, W>::sqrt(a.v)};
  } else if constexpr (W == 1) {
    return {std::sqrt(a.v)};
  } else {
    Pack<T, W> r;
    for (int i = 0; i < W; ++i) r.v[i] = std::sqrt(a.v[i]);
    return r;
  }
}

/// c - a * b, rounded once where the target has FMA.
template <class T, int W>
inline Pack<T, W> fnma(const Pack<T, W>& a, const Pack<T, W>& b, const Pack<T, W>& c) {
  return fma(Pack<T, W>{-a.v}, b, c);
}

/// sqrt(a) for a in [0, +inf], to about 1 ulp, for kernels of the distance.
/// In double with AVX-512 the square-root unit is their bottleneck (a zmm
/// vsqrtpd occupies it as long as ~30 FMAs take; measured: the Laplacian sum
/// is 15% faster without it), so this starts from the 14-bit reciprocal
/// square root r ~ 1/sqrt(a) and refines y = a r, h = r / 2 by two coupled
/// Newton steps e = 1/2 - y h, y += y e, h += h e (the error squares each
/// step). Elsewhere, float included (vsqrtps keeps up): sqrt(a).
template <class T, int W>
inline Pack<T, W> sqrt_of_distance(const Pack<T, W>& a) {
  if constexpr (has_rsqrt14<T, W>) {
    using P = Pack<T, W>;
    // 0 and +inf have no finite reciprocal square root: clamp to the normal
    // range (sqrt(DBL_MIN) ~ 1e-154 is 0 to a kernel of the distance).
    const P x = min(max(a, broadcast<P>(std::numeric_limits<T>::min())),
                    broadcast<P>(std::numeric_limits<T>::max()));
    const P r{Native<T, W>::rsqrt14(x.v)};
    const P half = broadcast<P>(T(0.5));
    P y = x * r, h = half * r;
    P e = fnma(y, h, half);
    y = fma(y, e, y);
    h = fma(h, e, h);
    e = fnma(y, h, half);
    return fma(y, e, y);
  } else {
    return sqrt(a);
  }
}

/// The bits of every lane shifted left by `shift`, read back as T: builds
/// 2^n from an integer n sitting in the low bits of a float's mantissa.
template <int shift, class T, int W>
inline Pack<T, W> shift_bits_left(const Pack<T, W>& a) {
  using Vector = typename Pack<T, W>::vector_type;
  using BitsVector = typename VectorOf<Bits<T>, W>::type;
  if constexpr (W == 1) {
    return {bit_cast<T>(bit_cast<Bits<T>>(a.v) << shift)};
  } else {
    return {(Vector)((BitsVector)a.v << shift)};  // vector casts reinterpret the bits
  }
}

/// Lane i of a (for reductions outside the hot loops).
template <class T, int W>
inline T lane(const Pack<T, W>& a, int i) {
  if constexpr (W == 1) {
    return a.v;
  } else {
    return a.v[i];
  }
}

}  // namespace kinterp::detail::simd
