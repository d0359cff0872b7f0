#pragma once
/// \file ClusterTree.hpp
/// A binary space-partitioning tree over one rank's points (d <= 3): each
/// node is a cluster of points, contiguous in the tree's order, with its tight
/// bounding box. A node holding more than `leaf_size` points is split at the
/// median along its box's longest side, so the depth is about
/// log2(n / leaf_size) for any distribution (clustered points, points on a
/// line, duplicates). Nodes of more points than proxies carry (degree + 1)^d
/// Chebyshev proxy points on their box (ChebyshevBasis.hpp): the far field of
/// the tree product. Built on the host, once per set of points; the arrays
/// live in MemorySpace.

#include <kinterp/core/Error.hpp>
#include <kinterp/tree/ChebyshevBasis.hpp>

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

namespace kinterp {

/// The largest point dimension a tree takes.
inline constexpr int max_tree_dim = 3;

template <class T, class MemorySpace = Kokkos::DefaultExecutionSpace::memory_space>
struct ClusterTree {
  using IndexView = Kokkos::View<int*, MemorySpace>;
  using BoxView = Kokkos::View<double* [max_tree_dim], MemorySpace>;

  int dim = 0;
  int count = 0;             ///< points
  int degree = 0;            ///< of the proxies' interpolation; 0: no proxies
  int proxies_per_node = 0;  ///< (degree + 1)^dim, or 0
  int node_count = 0;
  int proxy_node_count = 0;
  int depth = 0;  ///< edges on the longest root-to-leaf path

  IndexView order;  ///< order(j): the original row of the j-th point in tree order
  Kokkos::View<T*, MemorySpace> points;  ///< tree order, [k * count + j]
  IndexView begin, end;                  ///< per node: its points [begin, end) in tree order
  IndexView first_child;  ///< per node: children first_child and first_child + 1; -1: leaf
  IndexView proxy;        ///< per node: its proxies' block, or -1 when it has none
  BoxView low, high;      ///< per node: the tight bounding box
  BoxView centre, half;   ///< per node with proxies: the proxies' box (no side of width 0)
  /// [k * (proxy_node_count * proxies_per_node) + block * proxies_per_node + s]
  Kokkos::View<T*, MemorySpace> proxy_points;
  /// Host: the nodes with proxies, deepest level last (the upward pass walks
  /// them backwards), and where each level starts in it.
  std::vector<int> proxy_nodes_by_level, proxy_level_begin;

  /// Builds the tree of `rows` (n x d, any host-accessible 2D View or
  /// accessor rows(i, k)), 1 <= d <= 3.
  template <class Rows>
  static ClusterTree build(const Rows& rows, int n, int d, int leaf_size, int degree) {
    if (d < 1 || d > max_tree_dim) {
      throw Error("tree product: the points have " + std::to_string(d) +
                  " coordinates; the tree takes 1, 2 or 3 (use the direct product)");
    }
    ClusterTree tree;
    tree.dim = d;
    tree.count = n;
    tree.degree = degree;
    int per_node = degree > 0 ? 1 : 0;
    for (int k = 0; degree > 0 && k < d; ++k) per_node *= degree + 1;
    tree.proxies_per_node = per_node;

    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    struct Node {
      int begin, end, first_child = -1, level = 0;
      double low[max_tree_dim] = {0, 0, 0}, high[max_tree_dim] = {0, 0, 0};
      int middle = -1;  ///< where it splits, or -1: a leaf
    };
    std::vector<Node> nodes;
    nodes.push_back({0, n});
    // Level by level, breadth first: children are consecutive, and parents
    // come before them. A level's nodes own disjoint ranges of `order`, so
    // the host's threads take them apart; the tree is the same for any
    // thread count.
    const auto split = [&](Node& node) {
      for (int k = 0; k < d; ++k) {
        node.low[k] = node.end > node.begin ? rows(order[node.begin], k) : 0;
        node.high[k] = node.low[k];
      }
      for (int j = node.begin; j < node.end; ++j) {
        for (int k = 0; k < d; ++k) {
          const double x = rows(order[j], k);
          node.low[k] = std::min(node.low[k], x);
          node.high[k] = std::max(node.high[k], x);
        }
      }
      if (node.end - node.begin <= leaf_size) return;
      int axis = 0;
      for (int k = 1; k < d; ++k) {
        if (node.high[k] - node.low[k] > node.high[axis] - node.low[axis]) axis = k;
      }
      node.middle = node.begin + (node.end - node.begin) / 2;
      // Equal coordinates along the longest side (all points equal): any
      // split by index is a median one.
      if (node.high[axis] > node.low[axis]) {
        std::nth_element(order.begin() + node.begin, order.begin() + node.middle,
                         order.begin() + node.end,
                         [&](int a, int b) { return rows(a, axis) < rows(b, axis); });
      }
    };
    for (std::size_t first = 0; first < nodes.size();) {
      const std::size_t last = nodes.size();
      Kokkos::parallel_for(
          "kinterp::ClusterTree::build",
          Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace, Kokkos::Schedule<Kokkos::Dynamic>>(
              first, last),
          [&](const std::size_t i) { split(nodes[i]); });
      for (std::size_t i = first; i < last; ++i) {
        const Node node = nodes[i];
        if (node.middle < 0) continue;
        nodes[i].first_child = static_cast<int>(nodes.size());
        nodes.push_back({node.begin, node.middle, -1, node.level + 1});
        nodes.push_back({node.middle, node.end, -1, node.level + 1});
        tree.depth = std::max(tree.depth, node.level + 1);
      }
      first = last;
    }

    const int node_count = static_cast<int>(nodes.size());
    tree.node_count = node_count;
    auto make_index = [&](const char* label) { return IndexView(std::string(label), node_count); };
    tree.begin = make_index("kinterp::ClusterTree::begin");
    tree.end = make_index("kinterp::ClusterTree::end");
    tree.first_child = make_index("kinterp::ClusterTree::first_child");
    tree.proxy = make_index("kinterp::ClusterTree::proxy");
    tree.low = BoxView("kinterp::ClusterTree::low", node_count);
    tree.high = BoxView("kinterp::ClusterTree::high", node_count);
    tree.centre = BoxView("kinterp::ClusterTree::centre", node_count);
    tree.half = BoxView("kinterp::ClusterTree::half", node_count);
    auto begin = Kokkos::create_mirror_view(tree.begin);
    auto end = Kokkos::create_mirror_view(tree.end);
    auto first_child = Kokkos::create_mirror_view(tree.first_child);
    auto proxy = Kokkos::create_mirror_view(tree.proxy);
    auto low = Kokkos::create_mirror_view(tree.low);
    auto high = Kokkos::create_mirror_view(tree.high);
    auto centre = Kokkos::create_mirror_view(tree.centre);
    auto half = Kokkos::create_mirror_view(tree.half);
    std::vector<std::vector<int>> levels;
    for (int i = 0; i < node_count; ++i) {
      const Node& node = nodes[i];
      begin(i) = node.begin;
      end(i) = node.end;
      first_child(i) = node.first_child;
      proxy(i) = -1;
      double widest = 0;
      for (int k = 0; k < max_tree_dim; ++k) {
        low(i, k) = node.low[k];
        high(i, k) = node.high[k];
        centre(i, k) = 0.5 * (node.low[k] + node.high[k]);
        half(i, k) = 0.5 * (node.high[k] - node.low[k]);
        widest = std::max(widest, half(i, k));
      }
      // A side of width 0 (points on a line, equal points) gets a small one:
      // the basis needs distinct nodes, and an interpolant's error there
      // shrinks like the width to the power degree + 1.
      for (int k = 0; k < d; ++k) {
        const double floor = widest > 0 ? 1e-3 * widest : 1e-8 * (1 + std::fabs(centre(i, k)));
        half(i, k) = std::max(half(i, k), floor);
      }
      if (per_node > 0 && node.end - node.begin > per_node) {
        proxy(i) = tree.proxy_node_count++;
        if (static_cast<int>(levels.size()) <= node.level) levels.resize(node.level + 1);
        levels[node.level].push_back(i);
      }
    }
    for (const auto& level : levels) {
      tree.proxy_level_begin.push_back(static_cast<int>(tree.proxy_nodes_by_level.size()));
      tree.proxy_nodes_by_level.insert(tree.proxy_nodes_by_level.end(), level.begin(), level.end());
    }
    tree.proxy_level_begin.push_back(static_cast<int>(tree.proxy_nodes_by_level.size()));

    tree.order = IndexView(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::ClusterTree::order"), n);
    tree.points = Kokkos::View<T*, MemorySpace>(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::ClusterTree::points"),
        std::size_t(n) * d);
    auto order_host = Kokkos::create_mirror_view(tree.order);
    auto points_host = Kokkos::create_mirror_view(tree.points);
    Kokkos::parallel_for(
        "kinterp::ClusterTree::sort",
        Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, n), [&](const int j) {
          order_host(j) = order[j];
          for (int k = 0; k < d; ++k)
            points_host(std::size_t(k) * n + j) = static_cast<T>(rows(order[j], k));
        });

    const std::size_t stride = std::size_t(tree.proxy_node_count) * per_node;
    tree.proxy_points = Kokkos::View<T*, MemorySpace>(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::ClusterTree::proxy_points"),
        stride * d);
    auto proxy_points = Kokkos::create_mirror_view(tree.proxy_points);
    for (int i = 0; i < node_count; ++i) {
      if (proxy(i) < 0) continue;
      for (int s = 0; s < per_node; ++s) {
        int rest = s;
        for (int k = 0; k < d; ++k) {
          const int a = rest % (degree + 1);
          rest /= degree + 1;
          proxy_points(k * stride + std::size_t(proxy(i)) * per_node + s) =
              static_cast<T>(centre(i, k) + half(i, k) * ChebyshevBasis::node(a, degree));
        }
      }
    }

    Kokkos::deep_copy(tree.begin, begin);
    Kokkos::deep_copy(tree.end, end);
    Kokkos::deep_copy(tree.first_child, first_child);
    Kokkos::deep_copy(tree.proxy, proxy);
    Kokkos::deep_copy(tree.low, low);
    Kokkos::deep_copy(tree.high, high);
    Kokkos::deep_copy(tree.centre, centre);
    Kokkos::deep_copy(tree.half, half);
    Kokkos::deep_copy(tree.order, order_host);
    Kokkos::deep_copy(tree.points, points_host);
    Kokkos::deep_copy(tree.proxy_points, proxy_points);
    return tree;
  }

  /// Values of the proxies' arrays per coordinate or weight column.
  KOKKOS_INLINE_FUNCTION std::size_t proxy_stride() const {
    return std::size_t(proxy_node_count) * proxies_per_node;
  }
  /// Bytes the tree holds beyond the points it sorts.
  std::size_t bytes() const {
    return sizeof(int) * (std::size_t(count) + 4 * node_count) +
           sizeof(double) * 4 * max_tree_dim * node_count + sizeof(T) * proxy_stride() * dim;
  }
};

}  // namespace kinterp
