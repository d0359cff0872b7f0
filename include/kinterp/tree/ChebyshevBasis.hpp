#pragma once
/// \file ChebyshevBasis.hpp
/// Tensor-product Lagrange interpolation at Chebyshev-Lobatto points, in
/// barycentric form: what a cluster's proxy points and proxy charges are
/// built on. In one dimension the nodes on [c - h, c + h] are
/// c + h cos(a pi / p), a = 0..p, with barycentric weights (-1)^a (halved at
/// both ends); the basis is evaluated stably in double, exactly 1 at a node.

#include <kinterp/core/detail/KokkosCompat.hpp>

#include <Kokkos_Core.hpp>

namespace kinterp {

/// The largest interpolation degree a tree product uses (the proxies of a
/// cluster number (degree + 1)^d).
inline constexpr int max_tree_degree = 24;

struct ChebyshevBasis {
  /// The a-th of the p + 1 nodes on [-1, 1].
  KOKKOS_INLINE_FUNCTION static double node(int a, int p) {
    return detail::math::cos(a * 3.14159265358979323846 / p);
  }

  /// nodes[a] = node(a, p), a = 0..p: the table evaluate takes.
  KOKKOS_INLINE_FUNCTION static void nodes(int p, double* nodes) {
    for (int a = 0; a <= p; ++a) nodes[a] = node(a, p);
  }

  /// l[a] = the a-th Lagrange basis polynomial of degree p (p >= 1) at u in
  /// units of the interval, u = (y - c) / h; `nodes` as nodes() fills it.
  KOKKOS_INLINE_FUNCTION static void evaluate(double u, int p, const double* nodes, double* l) {
    double total = 0;
    for (int a = 0; a <= p; ++a) {
      const double difference = u - nodes[a];
      if (difference == 0) {  // on a node: the basis is the unit vector
        for (int b = 0; b <= p; ++b) l[b] = b == a ? 1 : 0;
        return;
      }
      const double weight = ((a & 1) ? -1.0 : 1.0) * ((a == 0 || a == p) ? 0.5 : 1.0);
      l[a] = weight / difference;
      total += l[a];
    }
    for (int a = 0; a <= p; ++a) l[a] /= total;
  }
};

}  // namespace kinterp
