#pragma once
/// \file GemmTilePlan.hpp
/// The tile sizes of the GEMM kernel sum (GemmKernelSum.hpp).

#include <kinterp/local/detail/ExecutionTraits.hpp>

#include <algorithm>

namespace kinterp::detail::gemm_sum {

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

}  // namespace kinterp::detail::gemm_sum
