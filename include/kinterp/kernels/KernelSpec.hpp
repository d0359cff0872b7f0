#pragma once
/// \file KernelSpec.hpp
/// Which compiled radial kernel to run, with its parameters: what a formula or a
/// `--kernel` name resolves to.

#include <string>
#include <vector>

namespace kinterp {

/// The compiled radial kernel families, phi(r) with r = |x - y| and scale g > 0.
enum class KernelFamily {
  Gaussian,             ///< exp(-g r^2)
  Laplacian,            ///< exp(-g r)
  Matern32,             ///< (1 + g r) exp(-g r)
  Matern52,             ///< (1 + g r + g^2 r^2 / 3) exp(-g r)
  Cauchy,               ///< 1 / (1 + g r^2)
  InverseMultiquadric,  ///< 1 / sqrt(1 + g r^2)
  /// 1 - 3/2 s + 1/2 s^3, s = min(g r, 1): 0 beyond the range 1/g. Positive
  /// definite in at most 3 dimensions only.
  Spherical,
  RationalQuadratic,  ///< (1 + g r^2)^(-shape), shape = alpha > 0
  /// 2^(1-nu)/Gamma(nu) (g r)^nu K_nu(g r), nu = shape > 0 (K_nu the modified
  /// Bessel function of the second kind); 1 at r = 0.
  Matern,
  /// exp(-g r) / r: not a covariance (infinite at r = 0) and without a name
  /// (from_name never makes it). The laplacian kernel's phi'(r) / r up to
  /// -g, which its gradient sums (KernelModel::predict_gradient).
  ExponentialOverDistance,
};

/// k(x, y) = variance * phi_family(g, |x - y|).
struct KernelSpec {
  KernelFamily family = KernelFamily::Gaussian;
  double g = 1;
  double variance = 1;
  /// The family's extra parameter: alpha of RationalQuadratic, nu of Matern;
  /// 0 (unused) for the other families.
  double shape = 0;

  /// The largest Matern order (beyond it the normalisation 2^(1-nu)/Gamma(nu)
  /// nears underflow, and the kernel is the Gaussian one to plotting accuracy).
  static constexpr double max_matern_nu = 100;

  /// The short names of the command line with a length scale s (scikit-learn's
  /// conventions): `gaussian` exp(-r^2 / (2 s^2)); `laplacian`, `exponential`
  /// and `matern12` exp(-r / s); `matern32`, `matern52` Matern nu = 3/2, 5/2
  /// with g = sqrt(3)/s, sqrt(5)/s; `cauchy` 1 / (1 + r^2 / s^2); `imq`
  /// 1 / sqrt(1 + r^2 / s^2); `spherical` with range s (g = 1/s); `rq`
  /// (1 + r^2 / (2 alpha s^2))^(-alpha) with alpha = shape; `matern` of order
  /// nu = shape with g = sqrt(2 nu)/s (the closed-form families Laplacian,
  /// Matern32, Matern52 when nu is exactly 0.5, 1.5, 2.5: they are faster).
  /// `shape` is ignored by the other names. Throws kinterp::Error for an
  /// unknown name, a length scale that is not positive and finite, or a
  /// missing or invalid shape of `rq` and `matern`.
  static KernelSpec from_name(const std::string& name, double length_scale, double shape = 0);

  /// The names `from_name` accepts.
  static std::vector<std::string> names();

  /// The same kernel as a KeOps formula over `X = Vi(d)`, `Y = Vj(d)`,
  /// `A = Vj(m)`, with the numbers written in: for messages and logs. The
  /// general Matern kernel has no such formula (no Bessel function in the
  /// language): for it, a readable description that is not a formula.
  std::string formula() const;

  /// Throws kinterp::Error unless g, the variance and (for rq and matern) the
  /// shape are positive and finite, and matern's nu is within its limit.
  /// Not collective: the spec is the same on every rank.
  void require_valid() const;
};

/// "gaussian", "laplacian", ... (the names of `KernelSpec::from_name`;
/// "spherical", "rq" and "matern" for the new families).
std::string to_string(KernelFamily family);

}  // namespace kinterp
