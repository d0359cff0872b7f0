#pragma once
/// \file CovarianceModel.hpp
/// A covariance model as geostatistics names it: a family, its variance (sill),
/// length scales (range) per axis with rotation angles, and a nugget.
///
/// Anisotropy is a change of coordinates: u = S^-1 R^T x, with R the rotation
/// by `angles` and S = diag(length_scales); the family then runs isotropically
/// at unit length scale on u. So every compiled kernel, the ring product and
/// the Nystrom preconditioner serve anisotropic models unchanged.

#include <kinterp/kernels/KernelSpec.hpp>

#include <Kokkos_Core.hpp>

#include <string>
#include <vector>

namespace kinterp {

/// C(x, y) = variance * phi(|S^-1 R^T (x - y)|), plus `nugget` on the diagonal
/// of the training covariance only (scikit-learn's `alpha`): predictions and
/// their variance are those of the latent field.
struct CovarianceModel {
  /// A name of KernelSpec::from_name: gaussian exp(-r^2/2), exponential
  /// (= matern12, laplacian) exp(-r), matern32, matern52, matern (general nu
  /// = shape), spherical, rq (rational quadratic, alpha = shape), cauchy, imq;
  /// r is the distance in units of the length scales.
  std::string family = "gaussian";
  double variance = 1;  ///< the sill (partial sill without the nugget)
  /// One (isotropic) or one per axis, in the rotated frame.
  std::vector<double> length_scales = {1};
  /// Radians; none (no rotation), 1 in 2D: the first axis of the rotated frame
  /// at this angle counterclockwise from x; 3 in 3D: R = R_z(a0) R_y(a1) R_x(a2)
  /// (yaw, pitch, roll; GSTools' convention).
  std::vector<double> angles;
  double shape = 0;   ///< Matern's nu, or the rational quadratic's alpha
  double nugget = 0;  ///< added to the diagonal of the training covariance

  /// Throws kinterp::Error unless the model is usable for points of
  /// `dimension` coordinates (positive finite variance and length scales,
  /// nugget >= 0, a length scale per axis or one, angles only in 2D and 3D,
  /// the shape a family needs), saying what to change.
  void check(int dimension) const;
  /// Whether coordinates need a transform (several length scales or a rotation).
  bool anisotropic() const;
  /// The family at unit length scale on the transformed coordinates, with the
  /// variance: the compiled kernel of KernelSum, KernelSolve, the preconditioner.
  KernelSpec kernel() const;
  /// The d x d matrix M = S^-1 R^T (row-major) with u = M x.
  std::vector<double> transform_matrix(int dimension) const;
  /// G (d x d, row-major) with du / d angles[angle] = G u: how the model's
  /// coordinates turn with one angle (the likelihood's exact derivatives).
  std::vector<double> angle_derivative(int dimension, int angle) const;
  /// For logs: "matern (nu 1.5), variance 1, length scales 0.1, nugget 1e-4".
  std::string description() const;

  using Matrix = Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::DefaultExecutionSpace>;
  using ConstMatrix =
      Kokkos::View<const double**, Kokkos::LayoutRight, Kokkos::DefaultExecutionSpace>;
  /// The rows of `points` (n x d) in the model's coordinates, u = M x, on the device.
  Matrix transform(const ConstMatrix& points) const;
};

}  // namespace kinterp
