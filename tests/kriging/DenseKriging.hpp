#pragma once
// The reference of the kriging tests: the kriging equations solved densely by
// Cholesky in long double, with the covariance typed from its definition and
// the drift as raw monomials (mean and variance do not depend on the basis).

#include <kinterp/kriging/CovarianceModel.hpp>

#include "../KernelReference.hpp"

#include <cmath>
#include <functional>
#include <vector>

namespace kinterp::test {

using LongMatrix = std::vector<std::vector<long double>>;

/// In place: a = L L^T, lower triangle; false if not positive definite.
inline bool dense_cholesky(LongMatrix& a) {
  const std::size_t n = a.size();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j <= i; ++j) {
      long double s = a[i][j];
      for (std::size_t k = 0; k < j; ++k) s -= a[i][k] * a[j][k];
      if (i == j) {
        if (!(s > 0)) return false;
        a[i][i] = std::sqrt(s);
      } else {
        a[i][j] = s / a[j][j];
      }
    }
  }
  return true;
}

/// (L L^T)^-1 b
inline std::vector<long double> dense_solve(const LongMatrix& l, std::vector<long double> b) {
  const std::size_t n = l.size();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < i; ++k) b[i] -= l[i][k] * b[k];
    b[i] /= l[i][i];
  }
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t k = i + 1; k < n; ++k) b[i] -= l[k][i] * b[k];
    b[i] /= l[i][i];
  }
  return b;
}

inline long double dot(const std::vector<long double>& a, const std::vector<long double>& b) {
  long double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

struct DenseKrigingResult {
  std::vector<long double> mean, variance, beta;
  long double log_likelihood = 0;  ///< log N(z; P beta, K), at the GLS beta
};

/// cov(i, j): the covariance of two rows (nugget excluded); drift(x): the
/// drift terms of a point (empty: simple kriging with `known_mean`).
inline DenseKrigingResult dense_kriging(
    const HostMatrix<double>& x, const std::vector<double>& z, const HostMatrix<double>& t,
    const std::function<long double(const double*, const double*)>& cov, long double nugget,
    const std::function<std::vector<long double>(const double*)>& drift, long double known_mean) {
  const std::size_t n = x.rows, m = t.rows;
  LongMatrix k(n, std::vector<long double>(n));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) k[i][j] = cov(&x(i, 0), &x(j, 0)) + (i == j ? nugget : 0);
  LongMatrix l = k;
  dense_cholesky(l);
  std::vector<std::vector<long double>> p(n);  // p[i] = drift terms of point i
  for (std::size_t i = 0; i < n; ++i) p[i] = drift ? drift(&x(i, 0)) : std::vector<long double>{};
  const std::size_t q = p.empty() ? 0 : p[0].size();
  std::vector<long double> zc(n);
  for (std::size_t i = 0; i < n; ++i) zc[i] = z[i] - (q == 0 ? known_mean : 0);
  const std::vector<long double> ki_z = dense_solve(l, zc);
  std::vector<std::vector<long double>> ki_p(q);  // columns K^-1 P(:, a)
  for (std::size_t a = 0; a < q; ++a) {
    std::vector<long double> column(n);
    for (std::size_t i = 0; i < n; ++i) column[i] = p[i][a];
    ki_p[a] = dense_solve(l, column);
  }
  LongMatrix g(q, std::vector<long double>(q));
  std::vector<long double> rhs(q);
  for (std::size_t a = 0; a < q; ++a) {
    for (std::size_t i = 0; i < n; ++i) rhs[a] += p[i][a] * ki_z[i];
    for (std::size_t b = 0; b < q; ++b)
      for (std::size_t i = 0; i < n; ++i) g[a][b] += p[i][a] * ki_p[b][i];
  }
  DenseKrigingResult out;
  LongMatrix gl = g;
  if (q > 0) {
    dense_cholesky(gl);
    out.beta = dense_solve(gl, rhs);
  } else {
    out.beta = {known_mean};
  }
  std::vector<long double> w = ki_z;
  for (std::size_t a = 0; a < q; ++a)
    for (std::size_t i = 0; i < n; ++i) w[i] -= ki_p[a][i] * out.beta[a];
  std::vector<long double> residual = zc;  // z - P beta
  for (std::size_t a = 0; a < q; ++a)
    for (std::size_t i = 0; i < n; ++i) residual[i] -= p[i][a] * out.beta[a];
  long double log_det = 0;
  for (std::size_t i = 0; i < n; ++i) log_det += 2 * std::log(l[i][i]);
  out.log_likelihood = -0.5L * dot(residual, w) - 0.5L * log_det -
                       0.5L * n * std::log(2 * 3.14159265358979323846264338327950288L);
  for (std::size_t j = 0; j < m; ++j) {
    std::vector<long double> kt(n);
    for (std::size_t i = 0; i < n; ++i) kt[i] = cov(&x(i, 0), &t(j, 0));
    const std::vector<long double> pt = drift ? drift(&t(j, 0)) : std::vector<long double>{};
    long double mean = q == 0 ? known_mean : 0;
    for (std::size_t a = 0; a < q; ++a) mean += pt[a] * out.beta[a];
    out.mean.push_back(mean + dot(kt, w));
    const std::vector<long double> ki_kt = dense_solve(l, kt);
    long double variance = cov(&t(j, 0), &t(j, 0)) - dot(kt, ki_kt);
    if (q > 0) {
      std::vector<long double> u(q);
      for (std::size_t a = 0; a < q; ++a) {
        u[a] = pt[a];
        for (std::size_t i = 0; i < n; ++i) u[a] -= p[i][a] * ki_kt[i];
      }
      variance += dot(u, dense_solve(gl, u));
    }
    out.variance.push_back(variance);
  }
  return out;
}

/// The anisotropic distance |S^-1 R^T (x - y)| in 2D, from its definition.
inline long double distance(const CovarianceModel& model, const double* x, const double* y) {
  const long double dx = x[0] - y[0], dy = x[1] - y[1];
  const long double a = model.angles.empty() ? 0 : model.angles[0];
  const long double along = std::cos(a) * dx + std::sin(a) * dy;
  const long double across = -std::sin(a) * dx + std::cos(a) * dy;
  const long double l0 = model.length_scales[0];
  const long double l1 = model.length_scales.size() > 1 ? model.length_scales[1] : l0;
  return std::sqrt((along / l0) * (along / l0) + (across / l1) * (across / l1));
}

inline std::function<long double(const double*, const double*)> covariance(
    const CovarianceModel& model) {
  return [model](const double* x, const double* y) -> long double {
    const long double r = distance(model, x, y), s3 = std::sqrt(3.0L) * r, s5 = std::sqrt(5.0L) * r;
    long double phi = 0;
    if (model.family == "gaussian") phi = std::exp(-r * r / 2);
    if (model.family == "matern32") phi = (1 + s3) * std::exp(-s3);
    if (model.family == "matern52") phi = (1 + s5 + s5 * s5 / 3) * std::exp(-s5);
    return model.variance * phi;
  };
}

}  // namespace kinterp::test
