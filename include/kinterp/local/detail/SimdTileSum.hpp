#pragma once
/// \file SimdTileSum.hpp
/// The hot loops of the host kernel sum: one register block of targets
/// against one tile of sources, both in scratch memory in
/// structure-of-arrays order. They see raw buffers only, so one
/// instantiation per (kernel, T, dimension) serves every View type.
///
/// `Blocks` SIMD packs of targets (a register block) meet one source at a
/// time: its coordinates and weights are broadcast, and the Blocks independent
/// dependency chains keep the FMA pipes busy. The kernel takes packs of r2
/// (`kernel(Pack)`, RadialKernels.hpp). With one right-hand side the kernel
/// values go straight into accumulators; with m > 1 the block's kernel values
/// for the tile are stored once and applied to the m weight columns, four at
/// a time, so the exponential is computed once per pair whatever m is. The
/// partial sums of a tile are in T; they are added to totals in double.

#include <kinterp/core/detail/SimdPack.hpp>

#include <type_traits>
#include <utility>

namespace kinterp::detail {

/// Kernels that evaluate SIMD packs of r2 (`kernel(Pack<T, W>)`, as the
/// functors of RadialKernels.hpp do) take the SIMD path on the host.
template <class Kernel, class T, class = void>
struct has_simd_form : std::false_type {};
template <class Kernel, class T>
struct has_simd_form<Kernel, T,
                     std::void_t<decltype(std::declval<const Kernel&>()(
                         std::declval<simd::Pack<T, simd::native_width<T>>>()))>> : std::true_type {
};

/// SIMD packs of targets per register block: enough independent chains per
/// source to fill the FMA pipes, few enough that the targets' coordinates,
/// the accumulators and the exponential's temporaries stay in registers.
template <class T, int Dim>
constexpr int register_blocks() {
  if constexpr (simd::native_registers >= 32) {
    return Dim > 0 && Dim <= 3 ? 4 : 2;
  } else {
    return 2;
  }
}

/// A team's scratch buffers, structure of arrays.
template <class T>
struct TileBuffers {
  T* targets;      ///< [k * stride + i]: the team's targets
  double* totals;  ///< [c * stride + i]: their sums over the tiles so far
  T* points;       ///< [k * tile + j]: the tile's sources
  T* weights;      ///< [c * tile + j]: their weights
  T* values;       ///< [j * Lanes + lane]: kernel values of a register block (m > 1)
  int stride;      ///< targets per team, a multiple of the register block
  int tile;        ///< sources per tile (row length of points and weights)
};

/// Register blocks of targets against a tile of sources, for a kernel in
/// precision T; Dim > 0 fixes the dimension at compile time (the targets'
/// coordinates then stay in registers), Dim = 0 takes it at run time.
template <class Kernel, class T, int Dim>
struct SimdTileSum {
  using Total = double;
  static constexpr int W = simd::native_width<T>;
  static constexpr int Blocks = register_blocks<T, Dim>();
  static constexpr int Lanes = W * Blocks;  ///< targets per register block
  static constexpr int ColumnBlock = 4;     ///< weight columns per accumulation pass
  using P = simd::Pack<T, W>;

  /// totals of targets [i, i + Lanes) += the sum over the tile's first
  /// n_tile sources of kernel(r2) times their weights, for `columns` columns.
  static void sum(const Kernel& kernel, const TileBuffers<T>& b, int i, int n_tile, int dim,
                  int columns) {
    if (columns == 1) {
      sum_fused(kernel, b, i, n_tile, dim);
    } else {
      sum_buffered(kernel, b, i, n_tile, dim, columns);
    }
  }

 private:
  /// Calls sink(j, values) with the kernel values of the register block of
  /// targets starting at `i` against each source j < n_tile of the tile.
  template <class Sink>
  static void evaluate(const Kernel& kernel, const TileBuffers<T>& b, int i, int n_tile, int dim,
                       Sink&& sink) {
    using simd::broadcast;
    using simd::fma;
    using simd::load;
    const int stride = b.stride, tile = b.tile;
    const T* const x = b.targets + i;
    const T* const y = b.points;
    // A local copy: stores through T* cannot alias it, so the kernel's
    // constants stay in registers across the loop.
    const Kernel phi = kernel;
    if constexpr (Dim > 0) {
      P xr[Dim][Blocks];
      for (int k = 0; k < Dim; ++k)
        for (int u = 0; u < Blocks; ++u) xr[k][u] = load<P>(x + k * stride + u * W);
      for (int j = 0; j < n_tile; ++j) {
        P r2[Blocks];
        const P y0 = broadcast<P>(y[j]);
        for (int u = 0; u < Blocks; ++u) {
          const P dx = xr[0][u] - y0;
          r2[u] = dx * dx;
        }
        for (int k = 1; k < Dim; ++k) {
          const P yk = broadcast<P>(y[k * tile + j]);
          for (int u = 0; u < Blocks; ++u) {
            const P dx = xr[k][u] - yk;
            r2[u] = fma(dx, dx, r2[u]);
          }
        }
        P value[Blocks];
        for (int u = 0; u < Blocks; ++u) value[u] = phi(r2[u]);
        sink(j, value);
      }
    } else {
      for (int j = 0; j < n_tile; ++j) {
        P r2[Blocks];
        for (int u = 0; u < Blocks; ++u) r2[u] = broadcast<P>(T(0));
        for (int k = 0; k < dim; ++k) {
          const P yk = broadcast<P>(y[k * tile + j]);
          for (int u = 0; u < Blocks; ++u) {
            const P dx = load<P>(x + k * stride + u * W) - yk;
            r2[u] = fma(dx, dx, r2[u]);
          }
        }
        P value[Blocks];
        for (int u = 0; u < Blocks; ++u) value[u] = phi(r2[u]);
        sink(j, value);
      }
    }
  }

  /// One weight column: kernel values go straight into the accumulators.
  static void sum_fused(const Kernel& kernel, const TileBuffers<T>& b, int i, int n_tile, int dim) {
    P sum[Blocks];
    for (int u = 0; u < Blocks; ++u) sum[u] = simd::broadcast<P>(T(0));
    evaluate(kernel, b, i, n_tile, dim, [&](int j, const P* value) {
      const P w = simd::broadcast<P>(b.weights[j]);
      for (int u = 0; u < Blocks; ++u) sum[u] = simd::fma(value[u], w, sum[u]);
    });
    add_to_totals(b.totals + i, sum);
  }

  /// Several weight columns: the kernel values of the tile are computed once,
  /// stored, and applied to ColumnBlock columns at a time.
  static void sum_buffered(const Kernel& kernel, const TileBuffers<T>& b, int i, int n_tile,
                           int dim, int columns) {
    T* const values = b.values;
    evaluate(kernel, b, i, n_tile, dim, [values](int j, const P* value) {
      for (int u = 0; u < Blocks; ++u) simd::store(values + j * Lanes + u * W, value[u]);
    });
    int c = 0;
    for (; c + ColumnBlock <= columns; c += ColumnBlock) apply<ColumnBlock>(b, i, n_tile, c);
    switch (columns - c) {
      case 3:
        apply<3>(b, i, n_tile, c);
        break;
      case 2:
        apply<2>(b, i, n_tile, c);
        break;
      case 1:
        apply<1>(b, i, n_tile, c);
        break;
    }
  }

  /// Totals of weight columns [c0, c0 + C) += the stored kernel values times
  /// the weights, in registers over the tile.
  template <int C>
  static void apply(const TileBuffers<T>& b, int i, int n_tile, int c0) {
    const int stride = b.stride, tile = b.tile;
    P sum[C][Blocks];
    for (int c = 0; c < C; ++c)
      for (int u = 0; u < Blocks; ++u) sum[c][u] = simd::broadcast<P>(T(0));
    const T* const w = b.weights + c0 * tile;
    for (int j = 0; j < n_tile; ++j) {
      P value[Blocks];
      for (int u = 0; u < Blocks; ++u) value[u] = simd::load<P>(b.values + j * Lanes + u * W);
      for (int c = 0; c < C; ++c) {
        const P wc = simd::broadcast<P>(w[c * tile + j]);
        for (int u = 0; u < Blocks; ++u) sum[c][u] = simd::fma(value[u], wc, sum[c][u]);
      }
    }
    for (int c = 0; c < C; ++c) add_to_totals(b.totals + (c0 + c) * stride + i, sum[c]);
  }

  /// total[lane] += sum (a tile's partial sums, in T) in double.
  static void add_to_totals(Total* total, const P* sum) {
    using Totals = simd::Pack<Total, W>;
    for (int u = 0; u < Blocks; ++u) {
      Total* const t = total + u * W;
      simd::store(t, simd::load<Totals>(t) + simd::convert<Total>(sum[u]));
    }
  }
};

}  // namespace kinterp::detail
