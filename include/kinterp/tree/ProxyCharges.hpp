#pragma once
/// \file ProxyCharges.hpp
/// A product's weights as a source tree needs them: in the tree's order, the
/// sum of |w| over each cluster (for the left-out bound of FarFieldRule.hpp)
/// and each cluster's proxy charges q_s = sum_{j in C} L_s(x_j) w_j, the
/// weights that make its proxies stand in for its points. A cluster's charges
/// come from its children's proxies where they have some (the upward pass,
/// deepest level first), else from its points; they are summed in double.

#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/tree/ClusterTree.hpp>

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cstddef>
#include <utility>

namespace kinterp {

template <class T, class MemorySpace>
struct ProxyCharges {
  int columns = 0;
  Kokkos::View<T*, MemorySpace> weights;          ///< tree order, [c * count + j]
  Kokkos::View<double**, MemorySpace> magnitude;  ///< (node, c): sum of |w| over the node
  Kokkos::View<T*, MemorySpace> charges;          ///< [c * proxy_stride + block * per_node + s]

  std::size_t bytes() const {
    return sizeof(T) * (weights.size() + charges.size()) + sizeof(double) * magnitude.size();
  }
};

namespace detail {

/// One cluster's charges, from its children's proxies or its own points.
template <class T, class MemorySpace>
struct ChargeCluster {
  static constexpr int max_nodes = max_tree_degree + 1;

  ClusterTree<T, MemorySpace> tree;
  Kokkos::View<const int*, MemorySpace> nodes;  ///< the level's clusters
  Kokkos::View<const T*, MemorySpace> weights;  ///< tree order
  Kokkos::View<double*, MemorySpace> sums;      ///< [c * stride + block * per_node + s]
  int columns;

  /// Adds the basis at the point y times its values to the cluster's sums.
  KOKKOS_INLINE_FUNCTION void add_point(int node, const double* chebyshev, const double* y,
                                        const double* value, double* sum_base,
                                        std::size_t stride) const {
    const int p = tree.degree, n1 = p + 1, d = tree.dim;
    double basis[max_tree_dim][max_nodes];
    for (int k = 0; k < max_tree_dim; ++k) {
      if (k < d) {
        ChebyshevBasis::evaluate((y[k] - tree.centre(node, k)) / tree.half(node, k), p, chebyshev,
                                 basis[k]);
      } else {
        basis[k][0] = 1;
      }
    }
    const int n_y = d > 1 ? n1 : 1, n_z = d > 2 ? n1 : 1;
    for (int c = 0; c < columns; ++c) {
      if (value[c] == 0) continue;
      double* const sum = sum_base + c * stride;
      for (int az = 0; az < n_z; ++az) {
        for (int ay = 0; ay < n_y; ++ay) {
          const double outer = basis[2][az] * basis[1][ay] * value[c];
          double* const row = sum + (az * n_y + ay) * n1;
          for (int ax = 0; ax < n1; ++ax) row[ax] += basis[0][ax] * outer;
        }
      }
    }
  }

  /// Adds child h's proxy charges, interpolated to the cluster's proxies, to
  /// the cluster's sums. The map is a tensor product of one matrix per
  /// dimension (the cluster's basis at the child's nodes), applied one
  /// dimension at a time: d (p+1)^(d+1) operations, not (p+1)^(2d).
  KOKKOS_INLINE_FUNCTION void add_child(int node, int h, const double* chebyshev, double* sum_base,
                                        std::size_t stride) const {
    const int p = tree.degree, n1 = p + 1, d = tree.dim;
    double map[max_tree_dim][max_nodes][max_nodes];  // map[k][a][b]: basis b at child node a
    for (int k = 0; k < d; ++k) {
      for (int a = 0; a < n1; ++a) {
        const double y = tree.centre(h, k) + tree.half(h, k) * chebyshev[a];
        ChebyshevBasis::evaluate((y - tree.centre(node, k)) / tree.half(node, k), p, chebyshev,
                                 map[k][a]);
      }
    }
    const int n_y = d > 1 ? n1 : 1, n_z = d > 2 ? n1 : 1;
    const double* const child = sums.data() + std::size_t(tree.proxy(h)) * tree.proxies_per_node;
    for (int c = 0; c < columns; ++c) {
      const double* const from = child + c * stride;
      double* const to = sum_base + c * stride;
      for (int az = 0; az < n_z; ++az) {
        double plane[max_nodes * max_nodes] = {};  // (by, bx), this az
        for (int ay = 0; ay < n_y; ++ay) {
          double row[max_nodes] = {};  // bx, this (az, ay)
          const double* const line = from + (az * n_y + ay) * n1;
          for (int ax = 0; ax < n1; ++ax) {
            if (line[ax] == 0) continue;
            for (int bx = 0; bx < n1; ++bx) row[bx] += line[ax] * map[0][ax][bx];
          }
          for (int by = 0; by < n_y; ++by) {
            const double wy = d > 1 ? map[1][ay][by] : 1;
            if (wy == 0) continue;
            for (int bx = 0; bx < n1; ++bx) plane[by * n1 + bx] += wy * row[bx];
          }
        }
        for (int bz = 0; bz < n_z; ++bz) {
          const double wz = d > 2 ? map[2][az][bz] : 1;
          if (wz == 0) continue;
          for (int b = 0; b < n_y * n1; ++b) to[bz * n_y * n1 + b] += wz * plane[b];
        }
      }
    }
  }

  KOKKOS_INLINE_FUNCTION void operator()(int i) const {
    const int node = nodes(i);
    const int per_node = tree.proxies_per_node, d = tree.dim;
    const std::size_t stride = tree.proxy_stride();
    double chebyshev[max_nodes];
    ChebyshevBasis::nodes(tree.degree, chebyshev);
    double* const base = sums.data() + std::size_t(tree.proxy(node)) * per_node;
    for (int c = 0; c < columns; ++c)
      for (int s = 0; s < per_node; ++s) base[c * stride + s] = 0;
    const auto from_points = [&](int first, int last) {
      double y[max_tree_dim] = {0, 0, 0};
      double value[16];
      for (int j = first; j < last; ++j) {
        for (int k = 0; k < d; ++k) y[k] = tree.points(std::size_t(k) * tree.count + j);
        for (int c = 0; c < columns; ++c) value[c] = weights(std::size_t(c) * tree.count + j);
        add_point(node, chebyshev, y, value, base, stride);
      }
    };
    const int child = tree.first_child(node);
    if (child < 0) {
      from_points(tree.begin(node), tree.end(node));
      return;
    }
    for (int h = child; h < child + 2; ++h) {
      if (tree.proxy(h) < 0) {
        from_points(tree.begin(h), tree.end(h));
      } else {
        add_child(node, h, chebyshev, base, stride);
      }
    }
  }
};

}  // namespace detail

/// The charges of `weights` (n x m, rows in the tree's points' original
/// order; any m, taken 16 columns at a time), computed on `space`.
template <class ExecutionSpace, class T, class MemorySpace, class Weights>
ProxyCharges<T, MemorySpace> make_proxy_charges(const ExecutionSpace& space,
                                                const ClusterTree<T, MemorySpace>& tree,
                                                const Weights& weights) {
  const detail::ScopedRegion region("kinterp::make_proxy_charges");
  const int n = tree.count, m = static_cast<int>(weights.extent(1));
  ProxyCharges<T, MemorySpace> q;
  q.columns = m;
  q.weights = Kokkos::View<T*, MemorySpace>(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::ProxyCharges::weights"),
      std::size_t(n) * m);
  q.magnitude = Kokkos::View<double**, MemorySpace>(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::ProxyCharges::magnitude"),
      tree.node_count, m);
  const auto order = tree.order;
  const auto sorted = q.weights;
  Kokkos::parallel_for(
      "kinterp::make_proxy_charges::sort", Kokkos::RangePolicy<ExecutionSpace>(space, 0, n),
      KOKKOS_LAMBDA(const int j) {
        for (int c = 0; c < m; ++c) sorted(std::size_t(c) * n + j) = weights(order(j), c);
      });
  const auto begin = tree.begin, end = tree.end;
  const auto magnitude = q.magnitude;
  Kokkos::parallel_for(
      "kinterp::make_proxy_charges::magnitude",
      Kokkos::RangePolicy<ExecutionSpace>(space, 0, tree.node_count), KOKKOS_LAMBDA(const int i) {
        for (int c = 0; c < m; ++c) {
          double total = 0;
          for (int j = begin(i); j < end(i); ++j) {
            const T w = sorted(std::size_t(c) * n + j);
            total += w < 0 ? -double(w) : double(w);
          }
          magnitude(i, c) = total;
        }
      });

  const std::size_t stride = tree.proxy_stride();
  q.charges = Kokkos::View<T*, MemorySpace>(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::ProxyCharges::charges"),
      stride * m);
  if (stride == 0) return q;
  Kokkos::View<double*, MemorySpace> sums(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::ProxyCharges::sums"), stride * m);
  Kokkos::View<int*, MemorySpace> nodes("kinterp::ProxyCharges::nodes",
                                        tree.proxy_nodes_by_level.size());
  Kokkos::deep_copy(space, nodes,
                    Kokkos::View<const int*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(
                        tree.proxy_nodes_by_level.data(), tree.proxy_nodes_by_level.size()));
  for (int first = 0; first < m; first += 16) {
    const int columns = std::min(16, m - first);
    const auto column_sums =
        Kokkos::subview(sums, std::make_pair(first * stride, (first + columns) * stride));
    const auto column_weights = Kokkos::subview(
        sorted, std::make_pair(std::size_t(first) * n, std::size_t(first + columns) * n));
    for (int level = static_cast<int>(tree.proxy_level_begin.size()) - 2; level >= 0; --level) {
      const int a = tree.proxy_level_begin[level], b = tree.proxy_level_begin[level + 1];
      Kokkos::parallel_for(
          "kinterp::make_proxy_charges::upward",
          Kokkos::RangePolicy<ExecutionSpace>(space, 0, b - a),
          detail::ChargeCluster<T, MemorySpace>{tree, Kokkos::subview(nodes, std::make_pair(a, b)),
                                                column_weights, column_sums, columns});
    }
  }
  const auto charges = q.charges;
  Kokkos::parallel_for(
      "kinterp::make_proxy_charges::round",
      Kokkos::RangePolicy<ExecutionSpace>(space, 0, stride * m),
      KOKKOS_LAMBDA(const std::size_t i) { charges(i) = static_cast<T>(sums(i)); });
  return q;
}

}  // namespace kinterp
