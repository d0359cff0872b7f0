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

/// Row-major d x d: the rotation by `angle` from axis p towards axis q, the
/// other axis fixed, or with `derivative` its derivative in the angle.
std::vector<double> plane_rotation(int d, int p, int q, double angle, bool derivative) {
  const double c = std::cos(angle), s = std::sin(angle);
  std::vector<double> r(d * d, 0.0);
  if (!derivative) {
    for (int i = 0; i < d; ++i) r[i * d + i] = 1;
  }
  r[p * d + p] = r[q * d + q] = derivative ? -s : c;
  r[p * d + q] = derivative ? -c : -s;
  r[q * d + p] = derivative ? c : s;
  return r;
}

std::vector<double> product(const std::vector<double>& a, const std::vector<double>& b, int d) {
  std::vector<double> ab(d * d, 0.0);
  for (int i = 0; i < d; ++i)
    for (int k = 0; k < d; ++k)
      for (int j = 0; j < d; ++j) ab[i * d + j] += a[i * d + k] * b[k * d + j];
  return ab;
}

/// Row-major R (d x d) for the angles (none: identity); with `derivative` =
/// k, dR / d angles[k] instead. 2D: the rotation from x towards y; 3D:
/// R_z(a0) R_y(a1) R_x(a2).
std::vector<double> rotation(const std::vector<double>& angles, int d, int derivative = -1) {
  if (angles.empty()) {
    std::vector<double> identity(d * d, 0.0);
    for (int i = 0; i < d; ++i) identity[i * d + i] = 1;
    return identity;
  }
  if (d == 2) return plane_rotation(2, 0, 1, angles[0], derivative == 0);
  return product(product(plane_rotation(3, 0, 1, angles[0], derivative == 0),
                         plane_rotation(3, 2, 0, angles[1], derivative == 1), 3),
                 plane_rotation(3, 1, 2, angles[2], derivative == 2), 3);
}

double scale_of(const std::vector<double>& length_scales, int axis) {
  return length_scales.size() == 1 ? length_scales[0] : length_scales[axis];
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
    for (int j = 0; j < d; ++j)
      m[i * d + j] = r[j * d + i] / scale_of(length_scales, i);  // (S^-1 R^T)_ij
  }
  return m;
}

std::vector<double> CovarianceModel::angle_derivative(int d, int angle) const {
  // u = S^-1 R^T x, so du = S^-1 dR^T x = S^-1 dR^T R S u.
  const std::vector<double> r = rotation(angles, d), dr = rotation(angles, d, angle);
  std::vector<double> g(d * d, 0.0);
  for (int i = 0; i < d; ++i) {
    for (int j = 0; j < d; ++j) {
      for (int l = 0; l < d; ++l) g[i * d + j] += dr[l * d + i] * r[l * d + j];
      g[i * d + j] *= scale_of(length_scales, j) / scale_of(length_scales, i);
    }
  }
  return g;
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
