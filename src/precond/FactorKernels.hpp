#pragma once
// The loops over a rank's rows of the Nystrom factor F, as Kokkos functors
// (not lambdas: nvcc rejects extended lambdas in private member functions).
//
// F is stored in panels: rows in blocks of `factor_row_block` (8), each block's
// columns one after the other (panel(block, p, w) = F(8 block + w, p), rows past
// n_r zero). A work item takes a block, or a group of columns over all blocks,
// and every loop reads memory in order, 8 rows of one column at a time as one
// SIMD vector: the packed layout of a GEMM, kept as the storage so that neither
// the set-up nor the application has to repack F. Column-major storage would
// put each column of an 8-row block on its own page, and the loops would be
// bound by cache and TLB misses (measured at N = 20000, k = 500: set-up 1.4x
// and application 1.25x slower).
//
// Every sum over columns runs in the same order for every row whatever the
// number of ranks or threads, so F and the residual diagonal of a row do not
// depend on how the rows are distributed: greedy pivots are exactly the same
// on 1 or 4 ranks.

#include <Kokkos_Core.hpp>

#include <cstdint>

namespace kinterp::detail {

/// Rows per block: 8 doubles are one AVX-512 vector (two AVX2 vectors).
constexpr int factor_row_block = 8;
/// Columns of F are allocated in eights (the column groups of the loops below).
constexpr int factor_column_group = 8;
/// The most pivots one block step may add (the per-row-block scratch is
/// max_step_pivots x factor_row_block doubles).
constexpr int max_step_pivots = 128;
/// New columns computed per pass over the old ones: 8 accumulator vectors.
constexpr int factor_column_block = 8;

/// panel(block, p, w) = F(factor_row_block * block + w, p).
template <class T, class MemorySpace>
using FactorPanels = Kokkos::View<T***, Kokkos::LayoutRight, MemorySpace>;
template <class MemorySpace>
using DoubleMatrix = Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace>;

/// d(i) = K(x_i, x_i) for this rank's rows, 0 for the padding rows.
template <class Kernel, class MemorySpace>
struct InitialResidual {
  Kokkos::View<double*, MemorySpace> d;
  Kernel kernel;
  double variance;
  std::int64_t n;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i) const {
    d(i) = i < n ? variance * kernel(0.0) : 0.0;
  }
};

/// What a block step needs to know of each candidate, in one row of `buffer`:
/// [global row, residual d, coordinates (dim), F row (k)]. Only the owner of a
/// candidate writes its row; the others leave zeros, so a sum over the ranks
/// (MPI_Allreduce) hands every rank every candidate.
template <class T, class MemorySpace>
struct PackCandidates {
  Kokkos::View<const std::int64_t* [2], MemorySpace> owned;  // (slot, local row)
  Kokkos::View<const T**, Kokkos::LayoutRight, MemorySpace> points;
  FactorPanels<T, MemorySpace> factor;
  Kokkos::View<double*, MemorySpace> d;
  Kokkos::View<double*, MemorySpace> buffer;
  std::int64_t first_global_row;
  int width, dim, columns;
  KOKKOS_INLINE_FUNCTION void operator()(const int o) const {
    const std::int64_t slot = owned(o, 0), i = owned(o, 1);
    double* row = &buffer(slot * width);
    row[0] = static_cast<double>(first_global_row + i);
    row[1] = d(i);
    for (int c = 0; c < dim; ++c) row[2 + c] = static_cast<double>(points(i, c));
    const std::int64_t block = i / factor_row_block;
    const int w = static_cast<int>(i % factor_row_block);
    for (int p = 0; p < columns; ++p) row[2 + dim + p] = static_cast<double>(factor(block, p, w));
  }
};

/// One block step of the pivoted Cholesky on a block of rows: with S the t
/// accepted pivots, R (t x t, lower) the Cholesky factor of the residual
/// K(S, S) - F(S, :) F(S, :)^T, and k the columns so far,
///   F(:, k:k+t) = (K(:, S) - F(:, 0:k) F(S, 0:k)^T) R^{-T},
///   d -= row sums of squares of the new columns (of their values rounded to T,
///        so that d stays tr(K - F F^T) for the stored F).
/// Kernel columns, the product with the old columns, the triangular solve and
/// the residual update are fused: each block of rows of F is read once per 8
/// new columns and the t new values of a row stay in scratch.
template <class T, class Kernel, class MemorySpace>
struct ExtendFactor {
  static constexpr int W = factor_row_block;
  static constexpr int J = factor_column_block;

  FactorPanels<T, MemorySpace> factor;
  Kokkos::View<const T**, Kokkos::LayoutRight, MemorySpace> points;
  Kokkos::View<double*, MemorySpace> d;
  Kokkos::View<const double**, Kokkos::LayoutRight, MemorySpace> pivot_points;  // t x dim
  Kokkos::View<const double**, Kokkos::LayoutRight, MemorySpace> pivot_rows;  // k x t_pad: F(S,:)^T
  Kokkos::View<const double**, Kokkos::LayoutRight, MemorySpace> R;           // t x t
  Kernel kernel;
  double variance;
  std::int64_t n;
  int dim, k, t;

  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t block) const {
    const std::int64_t i0 = block * W;
    T* panel = &factor(block, 0, 0);
    double g[max_step_pivots][W];
    // Kernel columns: squared distances one coordinate at a time, then the
    // kernel on whole rows of 8 (vectorised). Padding rows repeat the last row.
    for (int j = 0; j < t; ++j)
      for (int w = 0; w < W; ++w) g[j][w] = 0;
    for (int c = 0; c < dim; ++c) {
      double x[W];
      for (int w = 0; w < W; ++w)
        x[w] = static_cast<double>(points(i0 + w < n ? i0 + w : n - 1, c));
      for (int j = 0; j < t; ++j) {
        const double s = pivot_points(j, c);
        for (int w = 0; w < W; ++w) g[j][w] += (x[w] - s) * (x[w] - s);
      }
    }
    for (int j = 0; j < t; ++j)
      for (int w = 0; w < W; ++w) g[j][w] = variance * kernel(g[j][w]);
    // Minus the old columns times F(S, :)^T, J new columns per pass.
    for (int jb = 0; jb < t; jb += J) {
      double acc[J][W];
      for (int jj = 0; jj < J; ++jj)
        for (int w = 0; w < W; ++w) acc[jj][w] = 0;
      for (int p = 0; p < k; ++p) {
        double f[W];
        for (int w = 0; w < W; ++w) f[w] = static_cast<double>(panel[p * W + w]);
        const double* s = &pivot_rows(p, jb);
        for (int jj = 0; jj < J; ++jj)
          for (int w = 0; w < W; ++w) acc[jj][w] += f[w] * s[jj];
      }
      const int jn = t - jb < J ? t - jb : J;
      for (int jj = 0; jj < jn; ++jj)
        for (int w = 0; w < W; ++w) g[jb + jj][w] -= acc[jj][w];
    }
    // Solve F_new R^T = G by forward substitution over the new columns.
    for (int j = 0; j < t; ++j) {
      for (int l = 0; l < j; ++l) {
        const double r = R(j, l);
        for (int w = 0; w < W; ++w) g[j][w] -= r * g[l][w];
      }
      const double inverse = 1 / R(j, j);
      for (int w = 0; w < W; ++w) g[j][w] *= inverse;
    }
    double sum[W];
    for (int w = 0; w < W; ++w) sum[w] = 0;
    for (int j = 0; j < t; ++j) {
      for (int w = 0; w < W; ++w) {
        const T value = i0 + w < n ? static_cast<T>(g[j][w]) : T(0);
        panel[(k + j) * W + w] = value;
        sum[w] += static_cast<double>(value) * static_cast<double>(value);
      }
    }
    for (int w = 0; w < W; ++w) {
      const double residual = d(i0 + w) - sum[w];
      d(i0 + w) = residual > 0 ? residual : 0.0;  // rounding may leave it just below 0
    }
  }
};

/// d(row) = 0 for the pivots this rank owns: a pivot is never drawn again.
template <class MemorySpace>
struct ZeroEntries {
  Kokkos::View<double*, MemorySpace> d;
  Kokkos::View<const std::int64_t*, MemorySpace> rows;
  KOKKOS_INLINE_FUNCTION void operator()(const int j) const { d(rows(j)) = 0; }
};

/// gram(p0:p0+4, q0:q0+4) += F(rows, p0:p0+4)^T F(rows, q0:q0+4) for the tile
/// pairs (p0 <= q0) listed in `tiles`, over the row blocks [begin, end).
/// Launched once per chunk of blocks, so the chunk stays in cache while every
/// tile reads it. Half a block (V = 4 rows) at a time: 16 accumulators of 4
/// doubles, what the registers of AVX2/AVX-512 hold next to the 8 operands.
template <class T, class MemorySpace>
struct GramTiles {
  static constexpr int W = factor_row_block;
  static constexpr int V = 4;
  FactorPanels<const T, MemorySpace> factor;
  Kokkos::View<const int* [2], MemorySpace> tiles;
  DoubleMatrix<MemorySpace> gram;
  std::int64_t begin, end;

  KOKKOS_INLINE_FUNCTION void operator()(const int tile) const {
    const int p0 = 4 * tiles(tile, 0), q0 = 4 * tiles(tile, 1);
    double acc[4][4][V];
    for (int a = 0; a < 4; ++a)
      for (int b = 0; b < 4; ++b)
        for (int v = 0; v < V; ++v) acc[a][b][v] = 0;
    for (std::int64_t block = begin; block < end; ++block) {
      const T* x = &factor(block, p0, 0);
      const T* y = &factor(block, q0, 0);
      for (int h = 0; h < W; h += V) {
        for (int a = 0; a < 4; ++a)
          for (int b = 0; b < 4; ++b)
            for (int v = 0; v < V; ++v)
              acc[a][b][v] +=
                  static_cast<double>(x[a * W + h + v]) * static_cast<double>(y[b * W + h + v]);
      }
    }
    for (int a = 0; a < 4; ++a) {
      for (int b = 0; b < 4; ++b) {
        double s = 0;
        for (int v = 0; v < V; ++v) s += acc[a][b][v];
        gram(p0 + a, q0 + b) += s;
      }
    }
  }
};

/// u(p, c) = sum over this rank's rows of F(i, p) r(i, c), in double, for a
/// group of 8 columns p over all blocks: each block's 8 x 8 piece of the panel
/// is 512 contiguous bytes, and the sums stay in registers.
template <class T, class MemorySpace>
struct FactorTransposeTimes {
  static constexpr int W = factor_row_block;
  static constexpr int G = factor_column_group;
  FactorPanels<const T, MemorySpace> factor;
  Kokkos::View<const T**, Kokkos::LayoutRight, MemorySpace> r;
  DoubleMatrix<MemorySpace> u;
  std::int64_t n;
  int k, columns;

  KOKKOS_INLINE_FUNCTION void operator()(const int group) const {
    const int p0 = group * G;
    const std::int64_t blocks = static_cast<std::int64_t>(factor.extent(0));
    for (int c = 0; c < columns; ++c) {
      double acc[G][W];
      for (int a = 0; a < G; ++a)
        for (int w = 0; w < W; ++w) acc[a][w] = 0;
      for (std::int64_t block = 0; block < blocks; ++block) {
        double x[W];
        for (int w = 0; w < W; ++w) {
          const std::int64_t i = block * W + w;
          x[w] = i < n ? static_cast<double>(r(i, c)) : 0.0;
        }
        const T* piece = &factor(block, p0, 0);
        for (int a = 0; a < G; ++a)
          for (int w = 0; w < W; ++w) acc[a][w] += static_cast<double>(piece[a * W + w]) * x[w];
      }
      for (int a = 0; a < G && p0 + a < k; ++a) {
        double sum = 0;
        for (int w = 0; w < W; ++w) sum += acc[a][w];
        u(p0 + a, c) = sum;
      }
    }
  }
};

/// z = (r - F v) / alpha on a block of W rows (v: k x m, in double). Each row
/// of z is written after its row of r is read, so z may be r.
template <class T, class MemorySpace>
struct WoodburyCorrection {
  static constexpr int W = factor_row_block;
  FactorPanels<const T, MemorySpace> factor;
  Kokkos::View<const T**, Kokkos::LayoutRight, MemorySpace> r;
  Kokkos::View<T**, Kokkos::LayoutRight, MemorySpace> z;
  Kokkos::View<const double**, Kokkos::LayoutRight, MemorySpace> v;
  double inverse_alpha;
  std::int64_t n;
  int k, columns;

  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t block) const {
    const std::int64_t i0 = block * W;
    const T* panel = &factor(block, 0, 0);
    for (int c = 0; c < columns; ++c) {
      double acc[W];
      for (int w = 0; w < W; ++w) acc[w] = 0;
      for (int p = 0; p < k; ++p) {
        const double vp = v(p, c);
        for (int w = 0; w < W; ++w) acc[w] += static_cast<double>(panel[p * W + w]) * vp;
      }
      for (int w = 0; w < W && i0 + w < n; ++w) {
        z(i0 + w, c) = static_cast<T>((static_cast<double>(r(i0 + w, c)) - acc[w]) * inverse_alpha);
      }
    }
  }
};

}  // namespace kinterp::detail
