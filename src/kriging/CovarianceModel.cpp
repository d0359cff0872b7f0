#include <kinterp/core/Error.hpp>
#include <kinterp/kriging/CovarianceModel.hpp>

#include <cmath>
#include <sstream>

namespace kinterp {

namespace {

bool positive_finite(double x) {
  return x > 0 && std::isfinite(x);
}

std::string list_text(const std::vector<double>& values) {
  std::ostringstream text;
  for (std::size_t i = 0; i < values.size(); ++i) text << (i ? "," : "") << values[i];
  return text.str();
}

/// Row-major R (d x d) for the angles (none: identity).
std::vector<double> rotation(const std::vector<double>& angles, int d) {
  std::vector<double> r(d * d, 0.0);
  for (int i = 0; i < d; ++i) r[i * d + i] = 1;
  if (angles.empty()) return r;
  if (d == 2) {
    const double c = std::cos(angles[0]), s = std::sin(angles[0]);
    return {c, -s, s, c};
  }
  // 3D: R_z(a0) R_y(a1) R_x(a2).
  const double cz = std::cos(angles[0]), sz = std::sin(angles[0]);
  const double cy = std::cos(angles[1]), sy = std::sin(angles[1]);
  const double cx = std::cos(angles[2]), sx = std::sin(angles[2]);
  return {cz * cy,
          cz * sy * sx - sz * cx,
          cz * sy * cx + sz * sx,
          sz * cy,
          sz * sy * sx + cz * cx,
          sz * sy * cx - cz * sx,
          -sy,
          cy * sx,
          cy * cx};
}

}  // namespace

void CovarianceModel::check(int dimension) const {
  std::ostringstream problem;
  const std::size_t d = static_cast<std::size_t>(dimension);
  if (!positive_finite(variance)) {
    problem << "the variance (sill) must be a positive finite number, got " << variance;
  } else if (!(nugget >= 0) || !std::isfinite(nugget)) {
    problem << "the nugget must be a finite number >= 0, got " << nugget;
  } else if (length_scales.empty() || (length_scales.size() != 1 && length_scales.size() != d)) {
    problem << "give one length scale or one per axis (" << d << " for these points), got "
            << length_scales.size() << " (" << list_text(length_scales) << ")";
  } else if (!angles.empty() &&
             !((d == 2 && angles.size() == 1) || (d == 3 && angles.size() == 3))) {
    problem << "rotation angles: 1 in 2D, 3 in 3D (yaw, pitch, roll), none otherwise; got "
            << angles.size() << " for points in " << d << "D";
  } else {
    for (double l : length_scales) {
      if (!positive_finite(l)) {
        problem << "the length scales must be positive finite numbers, got "
                << list_text(length_scales);
        break;
      }
    }
    for (double a : angles) {
      if (!std::isfinite(a)) {
        problem << "the rotation angles must be finite, got " << list_text(angles);
        break;
      }
    }
  }
  if (!problem.str().empty()) throw Error(problem.str());
  kernel();  // the family's name and shape
}

bool CovarianceModel::anisotropic() const {
  return length_scales.size() > 1 || !angles.empty();
}

KernelSpec CovarianceModel::kernel() const {
  KernelSpec spec = KernelSpec::from_name(family, 1.0, shape);
  spec.variance = variance;
  return spec;
}

std::vector<double> CovarianceModel::transform_matrix(int d) const {
  const std::vector<double> r = rotation(angles, d);
  std::vector<double> m(d * d);
  for (int i = 0; i < d; ++i) {
    const double scale = length_scales.size() == 1 ? length_scales[0] : length_scales[i];
    for (int j = 0; j < d; ++j) m[i * d + j] = r[j * d + i] / scale;  // (S^-1 R^T)_ij
  }
  return m;
}

std::string CovarianceModel::description() const {
  std::ostringstream text;
  text << family;
  if (shape > 0) text << " (" << (family == "rq" ? "alpha " : "nu ") << shape << ")";
  text << ", variance " << variance << ", length scale" << (length_scales.size() > 1 ? "s " : " ")
       << list_text(length_scales);
  if (!angles.empty()) text << ", angles " << list_text(angles) << " rad";
  text << ", nugget " << nugget;
  return text.str();
}

CovarianceModel::Matrix CovarianceModel::transform(const ConstMatrix& points) const {
  const int d = static_cast<int>(points.extent(1));
  const std::vector<double> m = transform_matrix(d);
  Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::HostSpace> host("kinterp::transform", d, d);
  for (int i = 0; i < d * d; ++i) host.data()[i] = m[i];
  const auto device = Kokkos::create_mirror_view_and_copy(Matrix::memory_space(), host);
  Matrix out(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::model_coordinates"),
             points.extent(0), d);
  Kokkos::parallel_for(
      "kinterp::CovarianceModel::transform",
      Kokkos::RangePolicy<Kokkos::DefaultExecutionSpace>(0, points.extent(0)),
      KOKKOS_LAMBDA(const std::int64_t row) {
        for (int i = 0; i < d; ++i) {
          double sum = 0;
          for (int j = 0; j < d; ++j) sum += device(i, j) * points(row, j);
          out(row, i) = sum;
        }
      });
  return out;
}

}  // namespace kinterp
