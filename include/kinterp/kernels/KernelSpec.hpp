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
};

/// k(x, y) = variance * phi_family(g, |x - y|).
struct KernelSpec {
  KernelFamily family = KernelFamily::Gaussian;
  double g = 1;
  double variance = 1;

  /// The short names of the command line (`gaussian`, `laplacian`, `matern32`,
  /// `matern52`, `cauchy`, `imq`) with a length scale s: Gaussian
  /// exp(-r^2 / (2 s^2)), Laplacian exp(-r / s), Matern nu = 3/2 and 5/2 with
  /// g = sqrt(3)/s and sqrt(5)/s (scikit-learn's convention), Cauchy
  /// 1 / (1 + r^2 / s^2), inverse multiquadric 1 / sqrt(1 + r^2 / s^2).
  /// Throws kinterp::Error for an unknown name or a length scale that is not
  /// positive and finite.
  static KernelSpec from_name(const std::string& name, double length_scale);

  /// The names `from_name` accepts.
  static std::vector<std::string> names();

  /// The same kernel as a KeOps formula over `X = Vi(d)`, `Y = Vj(d)`,
  /// `A = Vj(m)`, with the numbers written in: for messages and logs.
  std::string formula() const;
};

/// "gaussian", "laplacian", ... (the names of `KernelSpec::from_name`).
std::string to_string(KernelFamily family);

}  // namespace kinterp
