#pragma once
/// \file GemmKernelSum.hpp
/// The on-node kernel sum for many features (d of tens to thousands, the
/// machine-learning case): out(i, :) += scale * sum_j k(|t_i - x_j|^2) w(j, :),
/// with the squared distances of a tile of targets against a tile of sources
/// taken from one matrix product,
///
///     r2(i, j) = |t_i|^2 + |x_j|^2 - 2 t_i . x_j     (KokkosBlas::gemm),
///
/// then the kernel applied elementwise and the tile's sum formed either in a
/// fused loop (m <= 4 on the host) or by a second product K_tile * W_tile. The
/// product runs in the vendor BLAS where Kokkos Kernels has one (BLAS TPL on
/// the host, cuBLAS on GPUs), which keeps the d multiply-adds of a pair at
/// GEMM speed; use_gemm_kernel_sum says when that beats the direct sum.
/// Memory: the workspace of one tile pair (a few MB), whatever N.
///
/// Accuracy. The GEMM form cancels when r2 is small next to |t|^2 + |x|^2, so:
///  1. Both tiles are shifted by a common centre c (the mean of a sample of
///     the sources) before the product: r2 is unchanged, and
///     S = |t'|^2 + |x'|^2 (t' = t - c, x' = x - c) measures the spread of
///     the data, not its distance from the origin.
///  2. With u the unit roundoff, the computed rho = |t'|^2 + |x'|^2 - 2 t'.x'
///     is within (2d + 4) u S of the exact |t' - x'|^2 (dot products of length
///     d in any order are within gamma_d = d u of theirs; two additions). A
///     pair with rho < S / 8 is recomputed directly from the original
///     coordinates (relative error (d + 2) u). Every other pair has r2 >= S / 8
///     (to first order in u), hence relative error <= 8 (2d + 4) u =
///     16 (d + 2) u; the rounding of the shift adds at most
///     2 u (|t'| + |x'|) / |t - x| <= 8 u.
///  So every r2 is within 16 (d + 2) u + 8 u of the truth, relatively: the
///  direct formula's bound times 16. A kernel value then has relative error
///  |d ln phi / d ln r2| times that, as from any rounded r2 (g r2 for the
///  Gaussian, g r / 2 for the Laplacian, at most 1 for Cauchy). Tile sums
///  (<= tile length terms) are formed in T, totals over tiles in double.
///  (On GPUs this assumes cuBLAS computes float products in float, not TF32:
///  its default unless NVIDIA_TF32_OVERRIDE=1.)

#include <kinterp/core/detail/KokkosCompat.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/local/detail/ExecutionTraits.hpp>

#include <KokkosBlas3_gemm.hpp>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cstddef>
#include <type_traits>

namespace kinterp {

/// Internals of the GEMM path.
namespace detail::gemm_sum {

/// Pairs with computed r2 below this fraction of |t'|^2 + |x'|^2 are
/// recomputed directly (see the file comment for the bound it gives).
constexpr double recompute_fraction = 0.125;

/// Widest m that the host sums in the fused loop; wider goes through a GEMM.
constexpr int fused_columns = 4;

/// Tile sizes of the GEMM path.
struct TilePlan {
  int targets = 256;  ///< target rows per tile
  int sources = 512;  ///< sources per tile
};

/// Host: a distance tile of 256 x 512 (1 MB in double) stays in L2, and more
/// target rows when there are more threads to share them. GPU: tiles large
/// enough to fill the device (8 MB in double).
template <class ExecutionSpace>
TilePlan plan_tiles(const ExecutionSpace& space) {
  TilePlan plan;
  if constexpr (runs_on_host<ExecutionSpace>()) {
    plan.targets = std::clamp(16 * space.concurrency(), 256, 2048);
    plan.sources = 512;
  } else {
    plan.targets = 1024;
    plan.sources = 1024;
  }
  return plan;
}

/// C = alpha op(A) op(B) + beta C, ordered after the work already on `space`.
/// Kokkos Kernels 3.6 added the gemm that takes an execution space instance;
/// before it, gemm runs on the default instance (or in the host BLAS), so the
/// call is fenced on both sides.
template <class ExecutionSpace, class AView, class BView, class CView>
void gemm_on(const ExecutionSpace& space, const char* trans_a, const char* trans_b,
             typename CView::const_value_type alpha, const AView& a, const BView& b,
             typename CView::const_value_type beta, const CView& c) {
#if defined(KOKKOSKERNELS_VERSION) && KOKKOSKERNELS_VERSION >= 30600
  KokkosBlas::gemm(space, trans_a, trans_b, alpha, a, b, beta, c);
#else
  space.fence();
  KokkosBlas::gemm(trans_a, trans_b, alpha, a, b, beta, c);
  ExecutionSpace().fence();
#endif
}

/// center(k) = mean of coordinate k over every stride-th source (one team per
/// coordinate). Any centre is correct; one inside the data keeps S small, and
/// a sample of about a tile of sources costs next to nothing.
template <class ExecutionSpace, class Sources, class Center>
struct SourceMean {
  using member_type = typename Kokkos::TeamPolicy<ExecutionSpace>::member_type;
  using T = typename Center::non_const_value_type;
  Sources sources;
  Center center;
  int stride;
  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const int k = team.league_rank();
    const int count = (static_cast<int>(sources.extent(0)) + stride - 1) / stride;
    double sum = 0;
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, count),
        [&](int j, double& partial) { partial += sources(j * stride, k); }, sum);
    Kokkos::single(Kokkos::PerTeam(team), [&] { center(k) = static_cast<T>(sum / count); });
  }
};

/// packed(i, :) = points(begin + i, :) - center and norms(i) = |packed(i, :)|^2,
/// from the rounded shifted values that the GEMM will see.
template <class Points, class Packed, class Center, class Norms>
struct PackCentred {
  using T = typename Packed::non_const_value_type;
  Points points;
  Packed packed;
  Center center;
  Norms norms;
  int begin;
  KOKKOS_INLINE_FUNCTION void operator()(int i) const {
    T norm = 0;
    for (int k = 0; k < static_cast<int>(packed.extent(1)); ++k) {
      const T value = points(begin + i, k) - center(k);
      packed(i, k) = value;
      norm += value * value;
    }
    norms(i) = norm;
  }
};

/// packed(j, c) = weights(begin + j, c), zero in the padding columns c >= m.
template <class Weights, class Packed>
struct PackWeights {
  Weights weights;
  Packed packed;
  int begin;
  KOKKOS_INLINE_FUNCTION void operator()(int j) const {
    const int m = static_cast<int>(weights.extent(1));
    for (int c = 0; c < static_cast<int>(packed.extent(1)); ++c)
      packed(j, c) = c < m ? weights(begin + j, c) : 0;
  }
};

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

/// totals(i, c) += products(i, c): a tile's sums, from T into the double totals.
template <class Products, class Totals>
struct AddProducts {
  Products products;
  Totals totals;
  KOKKOS_INLINE_FUNCTION void operator()(int i) const {
    for (int c = 0; c < static_cast<int>(totals.extent(1)); ++c) totals(i, c) += products(i, c);
  }
};

/// out(begin + i, c) += scale * totals(i, c).
template <class Out, class Totals>
struct AddTotals {
  using T = typename Out::non_const_value_type;
  Out out;
  Totals totals;
  T scale;
  int begin;
  KOKKOS_INLINE_FUNCTION void operator()(int i) const {
    for (int c = 0; c < static_cast<int>(totals.extent(1)); ++c)
      out(begin + i, c) += scale * static_cast<T>(totals(i, c));
  }
};

}  // namespace detail::gemm_sum

/// The buffers of the GEMM path: the shifted tiles and their norms, the
/// distance tile, the packed weights, the tile's products and the double
/// totals of a target tile (a few MB, whatever N). They grow on demand and can
/// be kept between calls, e.g. by a distributed product, so that a call need
/// not allocate. Not for concurrent calls.
template <class T, class ExecutionSpace>
class GemmKernelSumWorkspace {
 public:
  using memory_space = typename ExecutionSpace::memory_space;
  /// GEMM operands: rows contiguous on the host (the elementwise pass walks a
  /// row), columns on a GPU (coalesced). All share one layout, which the BLAS
  /// back ends of Kokkos Kernels require.
  using Layout = std::conditional_t<detail::runs_on_host<ExecutionSpace>(), Kokkos::LayoutRight,
                                    Kokkos::LayoutLeft>;
  using Device = Kokkos::Device<ExecutionSpace, memory_space>;
  using Unmanaged = Kokkos::MemoryTraits<Kokkos::Unmanaged>;
  using Matrix = Kokkos::View<T**, Layout, Device, Unmanaged>;
  using ColumnMajor = Kokkos::View<T**, Kokkos::LayoutLeft, Device, Unmanaged>;
  using Vector = Kokkos::View<T*, Device, Unmanaged>;
  using Totals = Kokkos::View<double**, Kokkos::LayoutRight, Device, Unmanaged>;

  /// Lays the buffers out for tiles of `plan`, `dim` coordinates and
  /// `columns` weights, allocating only when they grow.
  void prepare(const detail::gemm_sum::TilePlan& plan, int dim, int columns) {
    const std::size_t bt = plan.targets, bs = plan.sources;
    dim_ = dim;
    columns_ = columns;
    // Each buffer starts on a 64-byte boundary (aligned vector loads).
    constexpr std::size_t align = 64 / sizeof(T);
    std::size_t next = 0;
    const auto take = [&next](std::size_t length) {
      const std::size_t start = (next + align - 1) / align * align;
      next = start + length;
      return start;
    };
    center_ = take(dim);
    target_points_ = take(bt * dim);
    source_points_ = take(bs * dim);
    target_norms_ = take(bt);
    source_norms_ = take(bs);
    distances_ = take(bt * bs);
    weights_ = take(bs * std::max(columns, detail::gemm_sum::fused_columns));
    products_ = take(bt * columns);
    grow(values_, next);
    grow(totals_, bt * columns);
  }

  // Views of exactly the requested extents, so that each is contiguous (a
  // BLAS operand) whatever the size of the tile. prepare() first.
  Vector center() const { return Vector(values_.data() + center_, dim_); }
  Matrix target_points(int n) const { return Matrix(values_.data() + target_points_, n, dim_); }
  Matrix source_points(int n) const { return Matrix(values_.data() + source_points_, n, dim_); }
  Vector target_norms(int n) const { return Vector(values_.data() + target_norms_, n); }
  Vector source_norms(int n) const { return Vector(values_.data() + source_norms_, n); }
  Matrix distances(int n_i, int n_j) const { return Matrix(values_.data() + distances_, n_i, n_j); }
  /// Weights for the fused loop (column-major, `columns` wide with padding).
  ColumnMajor fused_weights(int n, int columns) const {
    return ColumnMajor(values_.data() + weights_, n, columns);
  }
  /// The same memory as the right operand of the second GEMM.
  Matrix gemm_weights(int n) const { return Matrix(values_.data() + weights_, n, columns_); }
  Matrix products(int n) const { return Matrix(values_.data() + products_, n, columns_); }
  Totals totals(int n) const { return Totals(totals_.data(), n, columns_); }

 private:
  template <class Buffer>
  static void grow(Buffer& buffer, std::size_t length) {
    if (buffer.extent(0) >= length) return;
    buffer = Buffer(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::GemmKernelSumWorkspace::buffer"),
        length);
  }

  Kokkos::View<T*, memory_space> values_;
  Kokkos::View<double*, memory_space> totals_;
  int dim_ = 0, columns_ = 0;
  std::size_t center_ = 0, target_points_ = 0, source_points_ = 0, target_norms_ = 0,
              source_norms_ = 0, distances_ = 0, weights_ = 0, products_ = 0;
};

/// Whether KokkosBlas::gemm on ExecutionSpace calls a vendor GEMM (BLAS/MKL
/// on the host, cuBLAS/rocBLAS on GPUs). Without one the GEMM path is never
/// taken (Kokkos Kernels' own GEMM made it 0.1-0.5x the direct sum).
template <class ExecutionSpace>
constexpr bool has_vendor_gemm() {
  if constexpr (detail::runs_on_host<ExecutionSpace>()) {
#if defined(KOKKOSKERNELS_ENABLE_TPL_BLAS) || defined(KOKKOSKERNELS_ENABLE_TPL_MKL)
    return true;
#else
    return false;
#endif
  } else {
#if defined(KOKKOSKERNELS_ENABLE_TPL_CUBLAS) || defined(KOKKOSKERNELS_ENABLE_TPL_ROCBLAS)
    return true;
#else
    return false;
#endif
  }
}

/// Whether local_kernel_sum takes the GEMM path for points of `dim`
/// coordinates on `ExecutionSpace`: with a vendor GEMM, on the host from
/// d = 48. Against the direct sum on one core (OpenBLAS, AVX-512, float and
/// double) it ran 0.6-0.7x at d = 16, 0.8-1.5x at 32, 1.1-1.4x at 48 and
/// 1.4-2.9x at 64-512. On GPUs from d = 16 (not measured yet).
template <class ExecutionSpace>
constexpr bool use_gemm_kernel_sum(int dim) {
  if constexpr (!has_vendor_gemm<ExecutionSpace>()) {
    static_cast<void>(dim);
    return false;
  } else {
    return dim >= (detail::runs_on_host<ExecutionSpace>() ? 48 : 16);
  }
}

/// out(i, c) += scale * sum_j kernel(|t_i - x_j|^2) * w(j, c), on `space`, with
/// the distances of each tile pair from a GEMM (see the file comment for the
/// accuracy): the same contract as local_kernel_sum, faster for many
/// coordinates (see use_gemm_kernel_sum).
/// targets: n_t x d, sources: n_s x d, weights: n_s x m, out: n_t x m, all
/// accessible from `space` (any layout). Not collective. `workspace` may be
/// reused across calls.
template <class ExecutionSpace, class Kernel, class Targets, class Sources, class Weights,
          class Out>
void local_kernel_sum_gemm(
    const ExecutionSpace& space, const Kernel& kernel, typename Out::non_const_value_type scale,
    const Targets& targets, const Sources& sources, const Weights& weights, const Out& out,
    GemmKernelSumWorkspace<typename Out::non_const_value_type, ExecutionSpace>& workspace) {
  namespace impl = detail::gemm_sum;
  using T = typename Out::non_const_value_type;
  using Workspace = GemmKernelSumWorkspace<T, ExecutionSpace>;
  static_assert(Kokkos::is_view<Targets>::value && Kokkos::is_view<Sources>::value &&
                    Kokkos::is_view<Weights>::value && Kokkos::is_view<Out>::value,
                "local_kernel_sum_gemm takes Kokkos Views");
  static_assert(Targets::rank == 2 && Sources::rank == 2 && Weights::rank == 2 && Out::rank == 2,
                "local_kernel_sum_gemm takes rank-2 Views (rows x columns)");
  static_assert(
      Kokkos::SpaceAccessibility<ExecutionSpace, typename Targets::memory_space>::accessible &&
          Kokkos::SpaceAccessibility<ExecutionSpace, typename Sources::memory_space>::accessible &&
          Kokkos::SpaceAccessibility<ExecutionSpace, typename Weights::memory_space>::accessible &&
          Kokkos::SpaceAccessibility<ExecutionSpace, typename Out::memory_space>::accessible,
      "local_kernel_sum_gemm: the Views must be accessible from the execution space");
  const int n_targets = static_cast<int>(targets.extent(0));
  const int n_sources = static_cast<int>(sources.extent(0));
  const int dim = static_cast<int>(targets.extent(1));
  const int m = static_cast<int>(weights.extent(1));
  if (n_targets == 0 || n_sources == 0 || m == 0) return;
  const detail::ScopedRegion region("kinterp::local_kernel_sum_gemm");

  using Matrix = typename Workspace::Matrix;
  using Vector = typename Workspace::Vector;
  using Range = Kokkos::RangePolicy<ExecutionSpace>;
  constexpr bool host = detail::runs_on_host<ExecutionSpace>();
  // The host sums a few columns in the elementwise pass; a GPU, or many
  // columns, go through a second GEMM.
  const bool fused = host && m <= impl::fused_columns;
  const int fused_columns = m == 1 ? 1 : impl::fused_columns;
  const impl::TilePlan plan = impl::plan_tiles(space);
  workspace.prepare(plan, dim, m);

  const Vector center = workspace.center();
  if (dim > 0) {
    Kokkos::parallel_for("kinterp::local_kernel_sum_gemm::center",
                         Kokkos::TeamPolicy<ExecutionSpace>(space, dim, Kokkos::AUTO),
                         impl::SourceMean<ExecutionSpace, Sources, Vector>{
                             sources, center, std::max(1, n_sources / plan.sources)});
  }

  const int source_tiles = (n_sources + plan.sources - 1) / plan.sources;
  for (int i_begin = 0; i_begin < n_targets; i_begin += plan.targets) {
    const int n_i = std::min(plan.targets, n_targets - i_begin);
    const Matrix target_points = workspace.target_points(n_i);
    const Vector target_norms = workspace.target_norms(n_i);
    const auto totals = workspace.totals(n_i);
    Kokkos::parallel_for("kinterp::local_kernel_sum_gemm::pack_targets", Range(space, 0, n_i),
                         impl::PackCentred<Targets, Matrix, Vector, Vector>{
                             targets, target_points, center, target_norms, i_begin});
    Kokkos::deep_copy(space, totals, 0.0);

    for (int j_begin = 0; j_begin < n_sources; j_begin += plan.sources) {
      const int n_j = std::min(plan.sources, n_sources - j_begin);
      const Matrix source_points = workspace.source_points(n_j);
      const Vector source_norms = workspace.source_norms(n_j);
      const auto fused_weights = workspace.fused_weights(n_j, fused_columns);
      const Matrix gemm_weights = workspace.gemm_weights(n_j);
      // With a single source tile, its packed copy serves every target tile.
      if (i_begin == 0 || source_tiles > 1) {
        Kokkos::parallel_for("kinterp::local_kernel_sum_gemm::pack_sources", Range(space, 0, n_j),
                             impl::PackCentred<Sources, Matrix, Vector, Vector>{
                                 sources, source_points, center, source_norms, j_begin});
        if (fused) {
          Kokkos::parallel_for("kinterp::local_kernel_sum_gemm::pack_weights", Range(space, 0, n_j),
                               impl::PackWeights<Weights, std::decay_t<decltype(fused_weights)>>{
                                   weights, fused_weights, j_begin});
        } else {
          Kokkos::parallel_for("kinterp::local_kernel_sum_gemm::pack_weights", Range(space, 0, n_j),
                               impl::PackWeights<Weights, Matrix>{weights, gemm_weights, j_begin});
        }
      }

      const Matrix distances = workspace.distances(n_i, n_j);
      if (dim > 0) {
        impl::gemm_on(space, "N", "T", T(1), target_points, source_points, T(0), distances);
      } else {
        Kokkos::deep_copy(space, distances, T(0));  // gemm leaves C alone when d = 0
      }

      const auto elementwise = [&](auto columns) {
        using Values = impl::KernelValues<Kernel, Targets, Sources, Matrix, Vector,
                                          std::decay_t<decltype(fused_weights)>,
                                          std::decay_t<decltype(totals)>, decltype(columns)::value>;
        const Values values{kernel,       targets,       sources, distances, target_norms,
                            source_norms, fused_weights, totals,  i_begin,   j_begin};
        if constexpr (host) {
          if (fused) {
            Kokkos::parallel_for(
                "kinterp::local_kernel_sum_gemm::fused_sum",
                Kokkos::RangePolicy<ExecutionSpace, typename Values::Fused>(space, 0, n_i), values);
          } else {
            Kokkos::parallel_for(
                "kinterp::local_kernel_sum_gemm::kernel_values",
                Kokkos::RangePolicy<ExecutionSpace, typename Values::Rows>(space, 0, n_i), values);
          }
        } else {
          Kokkos::parallel_for(
              "kinterp::local_kernel_sum_gemm::kernel_values",
              Kokkos::RangePolicy<ExecutionSpace, typename Values::Pairs>(space, 0, n_i * n_j),
              values);
        }
      };
      if (fused && m == 1) {
        elementwise(std::integral_constant<int, 1>{});
      } else {
        elementwise(std::integral_constant<int, impl::fused_columns>{});
      }

      if (!fused) {
        const Matrix products = workspace.products(n_i);
        impl::gemm_on(space, "N", "N", T(1), distances, gemm_weights, T(0), products);
        Kokkos::parallel_for(
            "kinterp::local_kernel_sum_gemm::add_products", Range(space, 0, n_i),
            impl::AddProducts<Matrix, std::decay_t<decltype(totals)>>{products, totals});
      }
    }
    Kokkos::parallel_for(
        "kinterp::local_kernel_sum_gemm::add_totals", Range(space, 0, n_i),
        impl::AddTotals<Out, std::decay_t<decltype(totals)>>{out, totals, scale, i_begin});
  }
}

/// The same, with a workspace of its own (allocated for this call).
template <class ExecutionSpace, class Kernel, class Targets, class Sources, class Weights,
          class Out>
void local_kernel_sum_gemm(const ExecutionSpace& space, const Kernel& kernel,
                           typename Out::non_const_value_type scale, const Targets& targets,
                           const Sources& sources, const Weights& weights, const Out& out) {
  GemmKernelSumWorkspace<typename Out::non_const_value_type, ExecutionSpace> workspace;
  local_kernel_sum_gemm(space, kernel, scale, targets, sources, weights, out, workspace);
}

}  // namespace kinterp
