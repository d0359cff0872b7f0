#pragma once
/// \file TreeWalk.hpp
/// How a batch of targets (a box of them) meets a source tree: from the root
/// down, nearer child first, each cluster is left out, stood in for by its
/// proxies, summed point by point (a leaf), or opened, by FarFieldRule.hpp.
/// The walk is the same on CPUs and GPUs; what "sum" means belongs to the
/// caller (SIMD tiles on the host, one thread per target on a device).

#include <kinterp/core/detail/KokkosCompat.hpp>
#include <kinterp/tree/ClusterTree.hpp>
#include <kinterp/tree/FarFieldRule.hpp>
#include <kinterp/tree/ProxyCharges.hpp>

#include <Kokkos_Core.hpp>

namespace kinterp::detail {

/// The deepest tree a walk takes (its stack); ClusterTree's median splits
/// stay far below it.
inline constexpr int max_walk_depth = 60;
/// Weight columns per walk: the left-out budget is kept per column.
inline constexpr int max_walk_columns = 16;

/// What a walk handed out: source points summed directly and proxies.
struct WalkWork {
  double near_points = 0, far_points = 0;
};

template <class T, class MemorySpace, class Kernel>
struct TreeWalk {
  ClusterTree<T, MemorySpace> tree;
  ProxyCharges<T, MemorySpace> charges;
  FarFieldRule rule;
  Kernel kernel;
  int column_begin, columns;

  /// Calls far(node) for clusters to take by their proxies and near(node)
  /// for leaves to sum point by point, for targets in [low, high]; returns
  /// how many points and proxies each target of the batch meets. The pool
  /// starts at `carried[c]` for each of the walk's columns where given: what
  /// an earlier walk of the same targets over other sources left unspent of
  /// its own (FarFieldRule.hpp), so that a walk over far sources may leave
  /// them out against the targets' whole sum, not its own small part. Where
  /// `unspent` is given, what is left of the pool at the end goes there.
  template <class Near, class Far>
  KOKKOS_INLINE_FUNCTION WalkWork operator()(const double* low, const double* high,
                                             const Near& near, const Far& far,
                                             const double* carried = nullptr,
                                             double* unspent = nullptr) const {
    WalkWork done;
    double bound[max_walk_columns], spent[max_walk_columns];
    for (int c = 0; c < columns; ++c) {
      bound[c] = 0;
      spent[c] = carried ? -carried[c] : 0;
    }
    int stack[max_walk_depth + 2];
    int top = 0;
    stack[top++] = 0;
    const int d = tree.dim;
    while (top > 0) {
      const int node = stack[--top];
      // Box to box: the nearest and farthest distances. Box to the centre:
      // the nearest and farthest targets, and the cluster's radius.
      double r2_near = 0, r2_far = 0, d2_near = 0, d2_far = 0, radius2 = 0;
      for (int k = 0; k < d; ++k) {
        const double a = tree.low(node, k), b = tree.high(node, k);
        const double gap = low[k] > b ? low[k] - b : (a > high[k] ? a - high[k] : 0);
        const double span = high[k] - a > b - low[k] ? high[k] - a : b - low[k];
        r2_near += gap * gap;
        r2_far += span * span;
        const double centre = 0.5 * (a + b);
        const double to_centre =
            centre < low[k] ? low[k] - centre : (centre > high[k] ? centre - high[k] : 0);
        const double across =
            centre - low[k] > high[k] - centre ? centre - low[k] : high[k] - centre;
        d2_near += to_centre * to_centre;
        d2_far += across * across;
        radius2 += tree.half(node, k) * tree.half(node, k);  // the proxies' box
      }
      const double k_near = kernel(static_cast<T>(r2_near));
      const double k_far = kernel(static_cast<T>(r2_far));
      // Left out while the pool allows: the error is at most k_near * |w|_C.
      bool leave_out = true;
      for (int c = 0; c < columns && leave_out; ++c) {
        leave_out = k_near * charges.magnitude(node, column_begin + c) <=
                    rule.pool_share() * bound[c] - spent[c];
      }
      if (leave_out) {
        for (int c = 0; c < columns; ++c) {
          const double magnitude = charges.magnitude(node, column_begin + c);
          spent[c] += k_near * magnitude;
          bound[c] += k_far * magnitude;
        }
        continue;
      }
      const int child = tree.first_child(node);
      bool by_proxies = false;
      if (tree.proxy(node) >= 0) {
        const double rho = detail::math::sqrt(radius2);
        const double d_near = detail::math::sqrt(d2_near), d_far = detail::math::sqrt(d2_far);
        const auto at = [&](double r) { return double(kernel(static_cast<T>(r * r))); };
        const double error = d_near > rho ? rule.interpolation_error(
                                                d_near, d_far, rho, at(d_near - rho),
                                                at(d_near + rho), at(d_far - rho), at(d_far + rho))
                                          : 1e300;
        // Within the cluster's own share, or the pool takes the rest.
        by_proxies = true;
        for (int c = 0; c < columns && by_proxies; ++c) {
          const double magnitude = charges.magnitude(node, column_begin + c);
          const double beyond = (error - rule.own_share() * k_far) * magnitude;
          by_proxies = beyond <= 0 || beyond <= rule.pool_share() * bound[c] - spent[c];
        }
        if (by_proxies) {
          for (int c = 0; c < columns; ++c) {
            const double beyond =
                (error - rule.own_share() * k_far) * charges.magnitude(node, column_begin + c);
            if (beyond > 0) spent[c] += beyond;
          }
        }
      }
      if (by_proxies || child < 0) {
        if (by_proxies) {
          far(node);
          done.far_points += tree.proxies_per_node;
        } else {
          near(node);
          done.near_points += tree.end(node) - tree.begin(node);
        }
        for (int c = 0; c < columns; ++c)
          bound[c] += k_far * charges.magnitude(node, column_begin + c);
        continue;
      }
      // The nearer child on top, so it is met first and raises the bound.
      double distance[2];
      for (int h = 0; h < 2; ++h) {
        double r2 = 0;
        for (int k = 0; k < d; ++k) {
          const double centre = 0.5 * (tree.low(child + h, k) + tree.high(child + h, k));
          const double middle = 0.5 * (low[k] + high[k]);
          r2 += (centre - middle) * (centre - middle);
        }
        distance[h] = r2;
      }
      const int nearer = distance[1] < distance[0] ? 1 : 0;
      stack[top++] = child + 1 - nearer;
      stack[top++] = child + nearer;
    }
    for (int c = 0; c < columns && unspent; ++c) {
      const double left = rule.pool_share() * bound[c] - spent[c];
      unspent[c] = left > 0 ? left : 0;
    }
    return done;
  }
};

}  // namespace kinterp::detail
