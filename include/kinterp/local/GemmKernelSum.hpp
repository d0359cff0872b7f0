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

#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/local/detail/ExecutionTraits.hpp>
#include <kinterp/local/detail/GemmTilePlan.hpp>
#include <kinterp/local/detail/GemmTiledSum.hpp>

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cstddef>
#include <type_traits>

namespace kinterp {

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
  if (targets.extent(0) == 0 || sources.extent(0) == 0 || weights.extent(1) == 0) return;
  const detail::ScopedRegion region("kinterp::local_kernel_sum_gemm");
  detail::gemm_sum::tiled_sum(space, kernel, scale, targets, sources, weights, out, workspace);
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
