#pragma once
/// \file GemmKernelValues.hpp
/// The elementwise pass of the GEMM kernel sum (GemmKernelSum.hpp, whose file
/// comment derives the accuracy that the recomputation threshold gives).

#include <kinterp/core/detail/KokkosCompat.hpp>

#include <Kokkos_Core.hpp>

namespace kinterp::detail::gemm_sum {

/// Pairs with computed r2 below this fraction of |t'|^2 + |x'|^2 are
/// recomputed directly (see the file comment for the bound it gives).
constexpr double recompute_fraction = 0.125;

/// The elementwise pass over a distance tile: turns G(i, j) = t'_i . x'_j into
/// r2 (recomputing the pairs that cancel) and then into kernel values, which
/// it either sums against the weights (fused, tag Fused) or stores back into G
/// for a second GEMM (tags Rows on the host, Pairs on a GPU).
template <class Kernel, class Targets, class Sources, class Tile, class Vector, class Weights,
          class Totals, int Columns>
struct KernelValues {
  using T = typename Tile::non_const_value_type;
  struct Fused {};
  struct Rows {};
  struct Pairs {};

  Kernel kernel;
  Targets targets;  ///< the caller's coordinates, for recomputed pairs
  Sources sources;
  Tile distances;  ///< n_i x n_j: dot products in, r2 or kernel values out
  Vector target_norms, source_norms;
  Weights weights;  ///< n_j x Columns, column-major (Fused only)
  Totals totals;    ///< n_i x m, row-major, double (Fused only)
  int i_begin, j_begin;

  KOKKOS_INLINE_FUNCTION int dim() const { return static_cast<int>(targets.extent(1)); }

  KOKKOS_INLINE_FUNCTION T direct_r2(int i, int j) const {
    T r2 = 0;
    for (int k = 0; k < dim(); ++k) {
      const T diff = targets(i_begin + i, k) - sources(j_begin + j, k);
      r2 += diff * diff;
    }
    return r2;
  }

  /// Whether r2 = s - 2 t'.x' (s = |t'|^2 + |x'|^2) cancels and must be
  /// recomputed: below the fraction of s, which takes in every negative value
  /// (so no max(0, r2) is needed after it).
  KOKKOS_INLINE_FUNCTION static bool cancels(T s, T r2) { return r2 < T(recompute_fraction) * s; }

  /// Row i of the tile (contiguous, LayoutRight): G(i, :) <- r2. The first loop
  /// vectorises (the flag is a local and an | reduction: reading g[j] back,
  /// or summing ints, made GCC's code three to five times slower); the
  /// recomputations (rare for spread-out data) come after it.
  KOKKOS_INLINE_FUNCTION void distances_of_row(int i, T* g, int n) const {
    const T target_norm = target_norms(i);
    const T* const source_norm = source_norms.data();
    int cancelled = 0;
    KINTERP_SIMD_REDUCTION(| : cancelled)
    for (int j = 0; j < n; ++j) {
      const T s = target_norm + source_norm[j];
      const T r2 = s - 2 * g[j];
      const bool recompute = cancels(s, r2);
      g[j] = recompute ? T(-1) : r2;
      cancelled |= recompute ? 1 : 0;
    }
    if (cancelled != 0) {
      for (int j = 0; j < n; ++j)
        if (g[j] < 0) g[j] = direct_r2(i, j);
    }
  }

  KOKKOS_INLINE_FUNCTION void operator()(Rows, int i) const {
    const int n = static_cast<int>(distances.extent(1));
    T* const g = &distances(i, 0);
    distances_of_row(i, g, n);
    for (int j = 0; j < n; ++j) g[j] = kernel(g[j]);
  }

  /// The partial sums are named scalars: GCC reduces an array section in
  /// order, one lane at a time.
  KOKKOS_INLINE_FUNCTION void operator()(Fused, int i) const {
    const int n = static_cast<int>(distances.extent(1));
    const int m = static_cast<int>(totals.extent(1));
    T* const g = &distances(i, 0);
    distances_of_row(i, g, n);
    const T* const w = weights.data();
    const int ld = static_cast<int>(weights.extent(0));
    if constexpr (Columns == 1) {
      T a0 = 0;
      KINTERP_SIMD_REDUCTION(+ : a0)
      for (int j = 0; j < n; ++j) a0 += kernel(g[j]) * w[j];
      totals(i, 0) += a0;
    } else {
      static_assert(Columns == 4, "fused column blocks are 1 or 4 wide");
      T a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      KINTERP_SIMD_REDUCTION(+ : a0, a1, a2, a3)
      for (int j = 0; j < n; ++j) {
        const T value = kernel(g[j]);
        a0 += value * w[j];
        a1 += value * w[ld + j];
        a2 += value * w[2 * ld + j];
        a3 += value * w[3 * ld + j];
      }
      const T a[4] = {a0, a1, a2, a3};
      for (int c = 0; c < m; ++c) totals(i, c) += a[c];
    }
  }

  /// One pair per thread (GPU; the tile is LayoutLeft, so consecutive threads
  /// touch consecutive memory).
  KOKKOS_INLINE_FUNCTION void operator()(Pairs, int index) const {
    const int n_i = static_cast<int>(distances.extent(0));
    const int i = index % n_i, j = index / n_i;
    const T s = target_norms(i) + source_norms(j);
    T r2 = s - 2 * distances(i, j);
    if (cancels(s, r2)) r2 = direct_r2(i, j);
    distances(i, j) = kernel(r2);
  }
};

}  // namespace kinterp::detail::gemm_sum
