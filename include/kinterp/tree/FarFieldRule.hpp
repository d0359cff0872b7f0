#pragma once
/// \file FarFieldRule.hpp
/// When a tree product may replace a cluster's points by its proxies, or
/// leave the cluster out, so that every target's error stays within
///   |(K~ w - K w)_i| <= eps * sum_j |k(t_i, x_j)| |w_j| =: eps * S_i     (*)
/// for each weight column. The walk (TreeWalk.hpp) keeps, for its batch of
/// targets, a lower bound B <= S_i of every target in it (the smallest kernel
/// value between the batch's box and a cluster's box times the cluster's
/// sum of |w|, over the clusters met so far, nearest first) and spends:
///
/// * a pool of 0.4 eps B on clusters left out: one may be, while its largest
///   kernel value times its sum of |w| (the most it can add) fits in what is
///   left of the pool. This part of (*) is a proof, for any kernel that
///   decreases with distance, as all the compiled families do;
/// * on each interpolated cluster (its proxies stand in for its points: the
///   Chebyshev interpolant of degree p of y -> k(t, y) over its box), an error
///   of at most 0.4 eps times its own least contribution to S_i, or, beyond
///   that, what is left of the pool;
/// * 0.2 eps on rounding.
///
/// Over several ranks a target's sources are split into blocks, one tree
/// each. Its own rank's walk comes first; what its pool leaves unspent, U, is
/// shared out among the other walks, each starting with U / (P - 1) besides
/// 0.4 eps of its own B. The spends then add up to at most 0.4 eps times the
/// sum of the walks' B, which is at most S_i.
///
/// The interpolation error is estimated, relative to the kernel's largest
/// value over the cluster, by the two ways a kernel resists interpolation:
/// its variation over the cluster seen from a target, Delta = log(k(d - rho)
/// / k(d + rho)) (d: distance from the target to the cluster's centre, rho:
/// the cluster's radius; about 4 (Delta/4)^(p+1) / (p+1)! e^(-Delta/2), from
/// the Chebyshev coefficients of an exponential), and, unless the kernel is analytic
/// everywhere (the Gaussian), its singularity at r = 0, at d / rho
/// (2 tau^-p / (tau - 1), tau = d/rho + sqrt((d/rho)^2 - 1), the Bernstein
/// ellipse). Where that singularity is a branch point k ~ r^(2 nu) (the
/// exponential and spherical kernels nu = 1/2, Matern nu), the function of a
/// coordinate y_k there is ~ (y_k - z)^nu, whose Chebyshev coefficients
/// fall like tau^-p times (p + 1)^-(nu + 1) (Trefethen, Approximation Theory
/// and Approximation Practice, ch. 7-8); the rule takes a further
/// (p + 1)^-nu, one power to spare: at degree 14, 0.017 for Matern 3/2.
/// The kernels whose singularities are poles or branch points off the real
/// line (Cauchy, inverse multiquadric, rational quadratic) keep the plain
/// ellipse bound at r = 0, which lies nearer than their own. The tests check
/// (*) for every family.

#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/KokkosCompat.hpp>
#include <kinterp/core/detail/NumberText.hpp>
#include <kinterp/kernels/KernelSpec.hpp>
#include <kinterp/tree/ChebyshevBasis.hpp>

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace kinterp {

struct FarFieldRule {
  double tolerance = 0;   ///< eps of (*)
  int degree = 0;         ///< p
  bool analytic = false;  ///< no singularity at r = 0 (the Gaussian)
  /// The kernel is 0 from this distance on (spherical); +inf otherwise. A
  /// box across it is never interpolated (the kernel has a kink there).
  double support = std::numeric_limits<double>::infinity();
  double log_factorial = 0;  ///< log((p + 1)!)
  /// (p + 1)^-nu: a branch point's further decay (above); 1 for the others.
  double branch_decay = 1;

  /// The parts of eps: the pool (left out and interpolation beyond its own
  /// share) and each interpolated cluster's own share.
  KOKKOS_INLINE_FUNCTION double pool_share() const { return 0.4 * tolerance; }
  KOKKOS_INLINE_FUNCTION double own_share() const { return 0.4 * tolerance; }

  /// The smallest and largest tolerance a product of T takes: below the
  /// smallest, rounding (float) or the largest degree (double) would break (*).
  template <class T>
  static constexpr double smallest_tolerance() {
    return sizeof(T) < sizeof(double) ? 1e-6 : 1e-12;
  }
  static constexpr double largest_tolerance = 0.1;

  /// Not collective. Throws kinterp::Error for a tolerance outside
  /// [smallest_tolerance<T>(), 0.1] (NaN included), saying why.
  template <class T>
  static void check_tolerance(double tolerance) {
    const double smallest = smallest_tolerance<T>();
    if (!(tolerance >= smallest && tolerance <= largest_tolerance)) {
      throw Error("tree product: the tolerance is " + detail::number_text(tolerance) +
                  "; it must lie in [" + detail::number_text(smallest) + ", 0.1] for " +
                  (sizeof(T) < sizeof(double) ? "float (rounding limits it)" : "double") +
                  " (use the direct product for exact sums)");
    }
  }

  /// Not collective. The rule for `kernel` at `tolerance` (check_tolerance's
  /// errors) in `dim` dimensions. `degree` > 0 fixes the degree (the
  /// acceptance adapts to it: the bound holds at any degree, the speed does
  /// not); 0 chooses it.
  template <class T>
  static FarFieldRule make(const KernelSpec& kernel, double tolerance, int dim, int degree = 0) {
    check_tolerance<T>(tolerance);
    FarFieldRule rule;
    rule.tolerance = tolerance;
    rule.analytic = kernel.family == KernelFamily::Gaussian;
    if (kernel.family == KernelFamily::Spherical) rule.support = 1 / kernel.g;
    // The degree at which a cluster at twice its radius from the targets
    // meets its own share, then what ran fastest at that accuracy
    // (kinterp-bench-fast-sum, 1e5 points, eps 1e-6: degrees 5..20 tried):
    // in 2D a higher degree, whose larger clusters leave less to the near
    // field, in 1D and 3D a lower one, whose proxies cost less.
    if (degree < 0 || degree > max_tree_degree) {
      throw Error("tree product: the degree is " + std::to_string(degree) +
                  "; it must lie in [1, " + std::to_string(max_tree_degree) +
                  "] (or 0: chosen from the tolerance)");
    }
    const double nu = branch_order(kernel);
    if (degree > 0) {
      rule.degree = degree;
    } else {
      int base = 2;
      for (; base < max_tree_degree; ++base) {
        rule.degree = base;
        rule.branch_decay = std::pow(base + 1.0, -nu);
        if (rule.branch_decay * rule.estimate_singular(2) <= rule.own_share()) break;
      }
      rule.degree = std::clamp(dim == 2 ? base + 5 : base - 4, 4, max_tree_degree);
    }
    rule.branch_decay = std::pow(rule.degree + 1.0, -nu);
    rule.log_factorial = std::lgamma(rule.degree + 2.0);
    return rule;
  }

  /// The interpolation error over a cluster of radius rho per unit of |w|,
  /// for targets at distances from d_near to d_far from its centre, given the
  /// kernel at d_near -+ rho and d_far -+ rho; +inf where it must not be
  /// interpolated (a target within its radius, the kernel 0 over part of it).
  KOKKOS_INLINE_FUNCTION double interpolation_error(double d_near, double d_far, double rho,
                                                    double k_near_in, double k_near_out,
                                                    double k_far_in, double k_far_out) const {
    constexpr double never = 1e300;
    if (!(d_near > rho) || !(k_near_out > 0) || !(k_far_out > 0) || d_far + rho >= support)
      return never;
    const double singular = analytic ? 0 : branch_decay * estimate_singular(d_near / rho);
    const double near = (estimate_variation(k_near_in / k_near_out) + singular) * k_near_in;
    const double far = (estimate_variation(k_far_in / k_far_out) + singular) * k_far_in;
    return near > far ? near : far;
  }

 private:
  /// nu of the kernel's branch point k ~ r^(2 nu) at r = 0; 0 where there is
  /// none on the real line.
  static double branch_order(const KernelSpec& kernel) {
    switch (kernel.family) {
      case KernelFamily::Laplacian:
      case KernelFamily::Spherical:
        return 0.5;
      case KernelFamily::Matern32:
        return 1.5;
      case KernelFamily::Matern52:
        return 2.5;
      case KernelFamily::Matern:
        return kernel.shape;
      default:
        return 0;
    }
  }
  /// 4 I_(p+1)(a) e^-a with a = Delta/2, bounded by I_n(a) <= (a/2)^n / n!
  /// e^(a^2 / (4 (n + 1))): twice the first neglected Chebyshev coefficient
  /// of e^(a t) on [-1, 1], relative to its largest value.
  KOKKOS_INLINE_FUNCTION double estimate_variation(double ratio) const {
    const double delta = detail::math::log(ratio);
    if (!(delta > 0)) return 0;
    return detail::math::exp(1.3862943611198906 + (degree + 1) * detail::math::log(0.25 * delta) -
                             log_factorial - 0.5 * delta + delta * delta / (16.0 * (degree + 2)));
  }
  KOKKOS_INLINE_FUNCTION double estimate_singular(double ratio) const {
    const double tau = ratio + detail::math::sqrt(ratio * ratio - 1);
    return 2 * detail::math::exp(-degree * detail::math::log(tau)) / (tau - 1);
  }
};

}  // namespace kinterp
