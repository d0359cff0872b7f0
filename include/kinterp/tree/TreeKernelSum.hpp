#pragma once
/// \file TreeKernelSum.hpp
/// The on-node tree product: out(i, :) += scale * sum_j k(t_i, x_j) w(j, :)
/// within FarFieldRule.hpp's bound, for targets batched by one ClusterTree
/// (its leaves) against the sources of another with their ProxyCharges.
///
/// On CPUs a thread takes a batch: it copies the targets into scratch memory
/// and, for each cluster the walk (TreeWalk.hpp) hands it, runs the direct
/// engine's SIMD tiles (local/detail/SimdTileSum.hpp) on the cluster's points
/// or its proxies, both contiguous in the tree's arrays: the near field is
/// the direct engine. On GPUs each thread takes one target and walks for its
/// batch; the threads of a batch make the same choices.

#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/local/detail/ExecutionTraits.hpp>
#include <kinterp/local/detail/SimdTileSum.hpp>
#include <kinterp/tree/TreeWalk.hpp>

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

namespace kinterp {

namespace detail {

/// The batches' boxes, in the form a walk takes.
template <class T, class MemorySpace>
KOKKOS_INLINE_FUNCTION void batch_box(const ClusterTree<T, MemorySpace>& batches, int node,
                                      double* low, double* high) {
  for (int k = 0; k < max_tree_dim; ++k) {
    low[k] = batches.low(node, k);
    high[k] = batches.high(node, k);
  }
}

/// Per batch and weight column, the pool a walk starts with and what it
/// leaves unspent (TreeWalk.hpp); empty Views: none.
template <class MemorySpace>
struct PoolCarry {
  Kokkos::View<const double**, Kokkos::LayoutRight, MemorySpace> carried;
  Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace> unspent;

  template <class Walk>
  KOKKOS_INLINE_FUNCTION const double* carried_at(int batch, const Walk& walk) const {
    return carried.extent(0) > 0 ? &carried(batch, walk.column_begin) : nullptr;
  }
  template <class Walk>
  KOKKOS_INLINE_FUNCTION double* unspent_at(int batch, const Walk& walk) const {
    return unspent.extent(0) > 0 ? &unspent(batch, walk.column_begin) : nullptr;
  }
};

/// CPU: one team (one thread) per batch, SIMD tiles per cluster.
template <class ExecutionSpace, class T, class Kernel, class Out, int Dim>
struct HostTreeSum {
  using MemorySpace = typename ExecutionSpace::memory_space;
  using Tiles = SimdTileSum<Kernel, T, Dim>;
  static constexpr int Lanes = Tiles::Lanes;
  static constexpr int chunk = 128;  ///< sources per call of the tiles (values buffer)
  using Policy = Kokkos::TeamPolicy<ExecutionSpace, Kokkos::Schedule<Kokkos::Dynamic>>;
  using member_type = typename Policy::member_type;

  TreeWalk<T, MemorySpace, Kernel> walk;
  ClusterTree<T, MemorySpace> batches;  ///< the targets' tree
  Kokkos::View<const int*, MemorySpace> leaves;
  Out out;
  Kokkos::View<double* [2], MemorySpace> work;  ///< per batch: near and far pairs
  PoolCarry<MemorySpace> pool;
  T scale;
  int stride;  ///< targets per batch, rounded up to the register block
  int scratch_level;

  static std::size_t scratch_bytes(int stride, int columns) {
    return sizeof(T) * Dim * stride + sizeof(double) * columns * stride +
           sizeof(T) * chunk * Lanes + 3 * 64;
  }

  void operator()(const member_type& team) const {
    const int leaf = leaves(team.league_rank());
    const int first = batches.begin(leaf), count = batches.end(leaf) - first;
    const int columns = walk.columns;
    auto take = [&](std::size_t bytes) {
      return team.team_scratch(scratch_level).get_shmem_aligned((bytes + 63) / 64 * 64, 64);
    };
    TileBuffers<T> b;
    b.stride = stride;
    b.targets = static_cast<T*>(take(sizeof(T) * Dim * stride));
    b.totals = static_cast<double*>(take(sizeof(double) * columns * stride));
    b.values = columns > 1 ? static_cast<T*>(take(sizeof(T) * chunk * Lanes)) : nullptr;
    for (int k = 0; k < Dim; ++k) {
      T* const row = b.targets + k * stride;
      for (int i = 0; i < count; ++i)
        row[i] = batches.points(std::size_t(k) * batches.count + first + i);
      for (int i = count; i < stride; ++i) row[i] = row[0];  // padding: computed, never written
    }
    std::fill(b.totals, b.totals + std::size_t(columns) * stride, 0.0);

    const auto& sources = walk.tree;
    const auto sum = [&](const T* points, const T* weights, std::size_t row, int n) {
      b.tile = static_cast<int>(row);
      for (int j = 0; j < n; j += chunk) {
        b.points = const_cast<T*>(points) + j;
        b.weights = const_cast<T*>(weights) + j;
        const int n_tile = std::min(chunk, n - j);
        for (int i = 0; i < count; i += Lanes) Tiles::sum(walk.kernel, b, i, n_tile, Dim, columns);
      }
    };
    const auto near = [&](int node) {
      const int j = sources.begin(node);
      sum(sources.points.data() + j,
          walk.charges.weights.data() + std::size_t(walk.column_begin) * sources.count + j,
          sources.count, sources.end(node) - j);
    };
    const std::size_t proxy_row = sources.proxy_stride();
    const auto far = [&](int node) {
      const std::size_t j = std::size_t(sources.proxy(node)) * sources.proxies_per_node;
      sum(sources.proxy_points.data() + j,
          walk.charges.charges.data() + walk.column_begin * proxy_row + j, proxy_row,
          sources.proxies_per_node);
    };
    double low[max_tree_dim], high[max_tree_dim];
    batch_box(batches, leaf, low, high);
    const int batch = team.league_rank();
    const WalkWork done =
        walk(low, high, near, far, pool.carried_at(batch, walk), pool.unspent_at(batch, walk));
    work(team.league_rank(), 0) += done.near_points * count;
    work(team.league_rank(), 1) += done.far_points * count;

    for (int c = 0; c < columns; ++c) {
      const double* const total = b.totals + c * stride;
      for (int i = 0; i < count; ++i) {
        out(batches.order(first + i), walk.column_begin + c) += scale * static_cast<T>(total[i]);
      }
    }
  }
};

/// Any execution space: one thread per target, in the targets' tree order.
template <class T, class MemorySpace, class Kernel, class Out>
struct ScalarTreeSum {
  TreeWalk<T, MemorySpace, Kernel> walk;
  ClusterTree<T, MemorySpace> batches;
  Kokkos::View<const int*, MemorySpace> leaf_of;   ///< per target: its batch
  Kokkos::View<const int*, MemorySpace> batch_of;  ///< per tree node: its batch number, leaves only
  Out out;
  Kokkos::View<double* [2], MemorySpace> work;
  PoolCarry<MemorySpace> pool;
  T scale;

  KOKKOS_INLINE_FUNCTION void operator()(const int i) const {
    const int d = batches.dim, columns = walk.columns;
    T t[max_tree_dim] = {0, 0, 0};
    for (int k = 0; k < d; ++k) t[k] = batches.points(std::size_t(k) * batches.count + i);
    double total[max_walk_columns];
    for (int c = 0; c < columns; ++c) total[c] = 0;
    const auto& sources = walk.tree;
    const auto sum = [&](const T* points, const T* weights, std::size_t row, int first, int n) {
      for (int j = first; j < first + n; ++j) {
        T r2 = 0;
        for (int k = 0; k < d; ++k) {
          const T dx = t[k] - points[k * row + j];
          r2 += dx * dx;
        }
        const T value = walk.kernel(r2);
        for (int c = 0; c < columns; ++c) total[c] += double(value * weights[c * row + j]);
      }
    };
    const auto near = [&](int node) {
      sum(sources.points.data(),
          walk.charges.weights.data() + std::size_t(walk.column_begin) * sources.count,
          sources.count, sources.begin(node), sources.end(node) - sources.begin(node));
    };
    const std::size_t proxy_row = sources.proxy_stride();
    const auto far = [&](int node) {
      sum(sources.proxy_points.data(), walk.charges.charges.data() + walk.column_begin * proxy_row,
          proxy_row, sources.proxy(node) * sources.proxies_per_node, sources.proxies_per_node);
    };
    double low[max_tree_dim], high[max_tree_dim];
    const int leaf = leaf_of(i), batch = batch_of(leaf);
    batch_box(batches, leaf, low, high);
    // The targets of a batch walk alike: the first one says what is unspent.
    const WalkWork done = walk(low, high, near, far, pool.carried_at(batch, walk),
                               i == batches.begin(leaf) ? pool.unspent_at(batch, walk) : nullptr);
    Kokkos::atomic_add(&work(batch, 0), done.near_points);
    Kokkos::atomic_add(&work(batch, 1), done.far_points);
    for (int c = 0; c < columns; ++c) {
      out(batches.order(i), walk.column_begin + c) += scale * static_cast<T>(total[c]);
    }
  }
};

}  // namespace detail

/// The leaves of a batch tree, and the leaf of each of its points.
template <class T, class MemorySpace>
struct TreeBatches {
  ClusterTree<T, MemorySpace> tree;
  Kokkos::View<int*, MemorySpace> leaves, leaf_of;
  Kokkos::View<int*, MemorySpace> batch_of;  ///< per node: its place in `leaves` (leaves only)
  int largest = 0;                           ///< targets in the largest batch

  template <class Rows>
  static TreeBatches build(const Rows& rows, int n, int d, int batch_size) {
    TreeBatches b;
    b.tree = ClusterTree<T, MemorySpace>::build(rows, n, d, batch_size, 0);
    auto begin = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), b.tree.begin);
    auto end = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), b.tree.end);
    auto child = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), b.tree.first_child);
    std::vector<int> leaves;
    auto leaf_of = Kokkos::View<int*, Kokkos::HostSpace>("kinterp::TreeBatches::leaf_of", n);
    auto batch_of =
        Kokkos::View<int*, Kokkos::HostSpace>("kinterp::TreeBatches::batch_of", b.tree.node_count);
    for (int i = 0; i < b.tree.node_count; ++i) {
      if (child(i) >= 0) continue;
      batch_of(i) = static_cast<int>(leaves.size());
      leaves.push_back(i);
      b.largest = std::max(b.largest, end(i) - begin(i));
      for (int j = begin(i); j < end(i); ++j) leaf_of(j) = i;
    }
    b.leaves = Kokkos::View<int*, MemorySpace>("kinterp::TreeBatches::leaves", leaves.size());
    Kokkos::deep_copy(b.leaves,
                      Kokkos::View<const int*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(
                          leaves.data(), leaves.size()));
    b.leaf_of = Kokkos::create_mirror_view_and_copy(MemorySpace(), leaf_of);
    b.batch_of = Kokkos::create_mirror_view_and_copy(MemorySpace(), batch_of);
    return b;
  }

  /// The batches (places in `leaves`) in the tree's order of their targets,
  /// and their sizes: with tree.points, what unpack takes back.
  struct Packing {
    std::vector<int> batches, sizes;
  };
  Packing packing() const {
    const auto begin = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), tree.begin);
    const auto end = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), tree.end);
    const auto leaf = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), leaves);
    Packing p;
    p.batches.resize(leaf.extent(0));
    std::iota(p.batches.begin(), p.batches.end(), 0);
    std::sort(p.batches.begin(), p.batches.end(),
              [&](int a, int b) { return begin(leaf(a)) < begin(leaf(b)); });
    for (const int b : p.batches) p.sizes.push_back(end(leaf(b)) - begin(leaf(b)));
    return p;
  }

  /// Batches of another rank's targets, as packing() and tree.points packed
  /// them (`sizes`: `count` values; `points`: n x d, [k * n + j]), without
  /// a copy of the points: the batches' boxes are computed here, and the
  /// targets' order is the packed one.
  template <class ExecutionSpace>
  static TreeBatches unpack(const ExecutionSpace& space, const T* sizes, int count, const T* points,
                            int n, int d) {
    TreeBatches b;
    ClusterTree<T, MemorySpace>& t = b.tree;
    t.dim = d;
    t.count = n;
    t.node_count = count;
    t.points = Kokkos::View<T*, MemorySpace>(const_cast<T*>(points), std::size_t(n) * d);
    using IndexView = typename ClusterTree<T, MemorySpace>::IndexView;
    using BoxView = typename ClusterTree<T, MemorySpace>::BoxView;
    const auto alloc = [](const char* label) {
      return Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(label));
    };
    const IndexView begin(alloc("kinterp::TreeBatches::begin"), count),
        end(alloc("kinterp::TreeBatches::end"), count),
        order(alloc("kinterp::TreeBatches::order"), n),
        leaves(alloc("kinterp::TreeBatches::leaves"), count),
        leaf_of(alloc("kinterp::TreeBatches::leaf_of"), n);
    const BoxView low("kinterp::TreeBatches::low", count),
        high("kinterp::TreeBatches::high", count);
    Kokkos::parallel_scan(
        "kinterp::TreeBatches::unpack::begin", Kokkos::RangePolicy<ExecutionSpace>(space, 0, count),
        KOKKOS_LAMBDA(const int i, int& first, const bool last) {
          const int size = static_cast<int>(sizes[i]);
          if (last) {
            begin(i) = first;
            end(i) = first + size;
          }
          first += size;
        });
    Kokkos::parallel_for(
        "kinterp::TreeBatches::unpack::boxes", Kokkos::RangePolicy<ExecutionSpace>(space, 0, count),
        KOKKOS_LAMBDA(const int i) {
          leaves(i) = i;
          for (int j = begin(i); j < end(i); ++j) {
            order(j) = j;
            leaf_of(j) = i;
          }
          for (int k = 0; k < d; ++k) {
            double lo = points[std::size_t(k) * n + begin(i)], hi = lo;
            for (int j = begin(i) + 1; j < end(i); ++j) {
              const double x = points[std::size_t(k) * n + j];
              lo = x < lo ? x : lo;
              hi = x > hi ? x : hi;
            }
            low(i, k) = lo;
            high(i, k) = hi;
          }
        });
    int largest = 0;
    Kokkos::parallel_reduce(
        "kinterp::TreeBatches::unpack::largest",
        Kokkos::RangePolicy<ExecutionSpace>(space, 0, count),
        KOKKOS_LAMBDA(const int i, int& most) {
          most = end(i) - begin(i) > most ? end(i) - begin(i) : most;
        },
        Kokkos::Max<int>(largest));
    t.begin = begin;
    t.end = end;
    t.order = order;
    t.low = low;
    t.high = high;
    b.leaves = leaves;
    b.leaf_of = leaf_of;
    b.batch_of = leaves;  // batch i is node i
    b.largest = largest;
    return b;
  }
};

namespace detail {
/// The walks for each group of up to 16 columns of `charges`.
template <class T, class MemorySpace, class Kernel, class Launch>
void for_each_column_group(const Kernel& kernel, const FarFieldRule& rule,
                           const ClusterTree<T, MemorySpace>& tree,
                           const ProxyCharges<T, MemorySpace>& charges, const Launch& launch) {
  for (int first = 0; first < charges.columns; first += max_walk_columns) {
    launch(TreeWalk<T, MemorySpace, Kernel>{tree, charges, rule, kernel, first,
                                            std::min(max_walk_columns, charges.columns - first)});
  }
}
}  // namespace detail

/// The devices' path of tree_kernel_sum (one thread per target), on any
/// execution space: tree_kernel_sum takes it where the space is not the
/// host's; tests call it on the CPU.
template <class ExecutionSpace, class T, class MemorySpace, class Kernel, class Out>
void thread_per_target_tree_kernel_sum(const ExecutionSpace& space, const Kernel& kernel, T scale,
                                       const FarFieldRule& rule,
                                       const TreeBatches<T, MemorySpace>& batches,
                                       const ClusterTree<T, MemorySpace>& tree,
                                       const ProxyCharges<T, MemorySpace>& charges, const Out& out,
                                       const Kokkos::View<double* [2], MemorySpace>& work,
                                       const detail::PoolCarry<MemorySpace>& pool = {}) {
  const detail::ScopedRegion region("kinterp::tree_kernel_sum");
  if (batches.tree.count == 0 || tree.count == 0) return;
  detail::for_each_column_group(kernel, rule, tree, charges, [&](const auto& walk) {
    Kokkos::parallel_for(
        "kinterp::tree_kernel_sum",
        Kokkos::RangePolicy<ExecutionSpace>(space, 0, batches.tree.count),
        detail::ScalarTreeSum<T, MemorySpace, Kernel, Out>{
            walk, batches.tree, batches.leaf_of, batches.batch_of, out, work, pool, scale});
  });
}

/// out(i, c) += scale * (K w)(t_i, c) within `rule`'s bound, for the targets
/// of `batches` and the sources of `tree` with `charges` (ProxyCharges of w).
/// work(b, 0) and work(b, 1) (one row per batch) gain the batch's target-point
/// and target-proxy pairs, summed over the column groups of 16. `pool`
/// (batch x column) carries unspent pools from one walk of the batches to
/// the next (TreeWalk.hpp). Not
/// collective; asynchronous on `space`. On the host a thread takes a batch
/// and runs SIMD tiles; elsewhere thread_per_target_tree_kernel_sum.
template <class ExecutionSpace, class T, class MemorySpace, class Kernel, class Out>
void tree_kernel_sum(const ExecutionSpace& space, const Kernel& kernel, T scale,
                     const FarFieldRule& rule, const TreeBatches<T, MemorySpace>& batches,
                     const ClusterTree<T, MemorySpace>& tree,
                     const ProxyCharges<T, MemorySpace>& charges, const Out& out,
                     const Kokkos::View<double* [2], MemorySpace>& work,
                     const detail::PoolCarry<MemorySpace>& pool = {}) {
  if constexpr (!detail::runs_on_host<ExecutionSpace>()) {
    thread_per_target_tree_kernel_sum(space, kernel, scale, rule, batches, tree, charges, out, work,
                                      pool);
  } else {
    const detail::ScopedRegion region("kinterp::tree_kernel_sum");
    if (batches.tree.count == 0 || tree.count == 0) return;
    detail::for_each_column_group(kernel, rule, tree, charges, [&](const auto& walk) {
      const auto launch = [&](auto dim_constant) {
        constexpr int Dim = decltype(dim_constant)::value;
        using Functor = detail::HostTreeSum<ExecutionSpace, T, Kernel, Out, Dim>;
        const int stride = (batches.largest + Functor::Lanes - 1) / Functor::Lanes * Functor::Lanes;
        typename Functor::Policy policy(space, static_cast<int>(batches.leaves.extent(0)), 1);
        // Level 0 (about L1) holds 32 KiB on OpenMP; more goes to level 1.
        const std::size_t bytes = Functor::scratch_bytes(stride, walk.columns);
        const int level = bytes <= std::size_t(Functor::Policy::scratch_size_max(0)) ? 0 : 1;
        Kokkos::parallel_for(
            "kinterp::tree_kernel_sum", policy.set_scratch_size(level, Kokkos::PerTeam(bytes)),
            Functor{walk, batches.tree, batches.leaves, out, work, pool, scale, stride, level});
      };
      switch (tree.dim) {
        case 1:
          launch(std::integral_constant<int, 1>{});
          break;
        case 2:
          launch(std::integral_constant<int, 2>{});
          break;
        default:
          launch(std::integral_constant<int, 3>{});
          break;
      }
    });
  }
}

}  // namespace kinterp
