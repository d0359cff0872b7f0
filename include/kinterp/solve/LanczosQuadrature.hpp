#pragma once
/// \file LanczosQuadrature.hpp
/// Stochastic Lanczos quadrature from CG's own coefficients (as GPyTorch's
/// BBMM does): z^T f(A) z, and log det A, for the operator of a CG solve at
/// no extra operator application. Host-only, plain C++.
///
/// CG on A x = b, preconditioned by M (z = M^-1 r), started from r_0 (= b
/// when x_0 = 0), is the Lanczos process on S = M^-1/2 A M^-1/2 started from
/// v_1 = M^-1/2 r_0 / sqrt(r_0^T z_0) (Lanczos vector v_j = +-M^-1/2 r_{j-1} /
/// sqrt(r_{j-1}^T z_{j-1})). After k iterations with steps alpha_j and
/// beta_j = r_j^T z_j / r_{j-1}^T z_{j-1} (SolveOptions::lanczos_coefficients),
/// its k x k tridiagonal matrix is
///   T_11 = 1/alpha_1,  T_jj = 1/alpha_j + beta_{j-1}/alpha_{j-1},
///   T_{j,j+1} = T_{j+1,j} = sqrt(beta_j)/alpha_j,
/// and the k-point Gauss quadrature of the spectral measure of S seen from v_1
/// is e_1^T f(T) e_1 = sum_i tau_i^2 f(theta_i) (theta_i the eigenvalues of T,
/// tau_i the first components of its unit eigenvectors), so that
///   r_0^T M^-1/2 f(S) M^-1/2 r_0  ~=  (r_0^T M^-1 r_0) * e_1^T f(T) e_1,
/// with equality for polynomials f of degree < 2k, and for any f once k reaches
/// the number of distinct eigenvalues of S that v_1 sees. Without a preconditioner (M = I):
///   r_0^T f(A) r_0  ~=  ||r_0||^2 * e_1^T f(T) e_1.
/// The functions here return e_1^T f(T) e_1; the caller multiplies by
/// r_0^T M^-1 r_0 (||b||^2 without a preconditioner, SolveResult::rhs_norms
/// squared).
///
/// log det A: log det A = log det M + tr log S, and tr log S = E[g^T log(S) g]
/// for probes g ~ N(0, I) (or Rademacher). Solve with the right-hand sides
/// b = M^1/2 g, or any b ~ N(0, M) (b = L g with M = L L^T: the estimate is
/// then of tr log(L^-1 A L^-T), the same trace), for which b^T M^-1 b = g^T g:
///   log det A ~= log det M + (1/s) sum_{probes} (g^T g) * e_1^T log(T_g) e_1.
/// With f(x) = 1/x the quadrature is CG's energy: ||r_0||^2 e_1^T T^-1 e_1 =
/// b^T x_k (x_0 = 0, M = I), and with M, (b^T M^-1 b) e_1^T T^-1 e_1 = b^T x_k.

#include <kinterp/core/Error.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

namespace kinterp {

/// The signature of SolveOptions::lanczos_coefficients.
using LanczosCallback =
    std::function<void(int iteration, const std::vector<double>& step,
                       const std::vector<double>& beta, const std::vector<bool>& active)>;

/// A symmetric tridiagonal matrix of size k.
struct LanczosTridiagonal {
  std::vector<double> diagonal;      ///< T_jj, k entries
  std::vector<double> off_diagonal;  ///< T_{j,j+1}, k - 1 entries (none when k <= 1)
  /// Whether CG coefficients after the first k were left out because a step
  /// or beta was not positive and finite (CG stopped at a breakdown or an
  /// indefinite preconditioner), or an entry of T overflowed.
  bool truncated = false;

  int size() const { return static_cast<int>(diagonal.size()); }
};

/// The Lanczos matrix T of CG's coefficients (formula in the file comment):
/// alpha_1..alpha_k from `steps` and beta_1..beta_{k-1} from `betas` (a
/// further beta_k, from the last iteration, is not needed), with k the
/// largest number for which all of these are positive and finite, and so are
/// T's entries; k = steps.size() unless `truncated`.
inline LanczosTridiagonal lanczos_tridiagonal(const std::vector<double>& steps,
                                              const std::vector<double>& betas) {
  LanczosTridiagonal t;
  const auto usable = [](double v) { return v > 0 && std::isfinite(v); };
  for (std::size_t j = 0; j < steps.size(); ++j) {
    const double alpha = steps[j];
    if (!usable(alpha)) break;
    double diagonal = 1 / alpha, off = 0;
    if (j > 0) {
      const double beta = j - 1 < betas.size() ? betas[j - 1] : -1.0;
      if (!usable(beta)) break;
      diagonal += beta / steps[j - 1];
      off = std::sqrt(beta) / steps[j - 1];
    }
    if (!std::isfinite(diagonal) || !std::isfinite(off)) break;
    t.diagonal.push_back(diagonal);
    if (j > 0) t.off_diagonal.push_back(off);
  }
  t.truncated = t.diagonal.size() < steps.size();
  return t;
}

/// A Gauss quadrature rule: sum_i weights[i] * f(nodes[i]).
struct GaussQuadrature {
  std::vector<double> nodes;    ///< theta_i, the eigenvalues of T, ascending (after clamping)
  std::vector<double> weights;  ///< tau_i^2; they sum to 1 up to rounding (none when k = 0)
  /// Nodes that came out non-positive (T is positive definite when the
  /// coefficients are positive, so only by rounding, for a nearly singular T)
  /// and were raised to `floor` = k * eps * (largest node), so that f = log
  /// or 1/x stays finite. 0 normally; more means the smallest eigenvalue is
  /// below what T resolves, and such estimates are unreliable.
  int clamped = 0;
  double floor = 0;

  /// sum_i tau_i^2 f(theta_i) = e_1^T f(T) e_1; 0 for the empty rule (k = 0).
  template <class F>
  double operator()(F&& f) const {
    double sum = 0;
    for (std::size_t i = 0; i < nodes.size(); ++i) sum += weights[i] * f(nodes[i]);
    return sum;
  }
};

/// Golub-Welsch: the eigenvalues of T and the squared first components of its
/// unit eigenvectors, by the implicit QL algorithm with Wilkinson shifts that
/// rotates only the first row of the eigenvector matrix (O(k^2) work, O(k)
/// memory). Throws kinterp::Error for a T with a non-finite entry or when QL
/// does not converge (60 sweeps for some eigenvalue: not seen in practice).
inline GaussQuadrature gauss_quadrature(const LanczosTridiagonal& t) {
  const int k = t.size();
  GaussQuadrature q;
  if (k == 0) return q;
  if (static_cast<int>(t.off_diagonal.size()) != k - 1) {
    throw Error("gauss_quadrature: a tridiagonal matrix of size " + std::to_string(k) + " needs " +
                std::to_string(k - 1) + " off-diagonal entries, not " +
                std::to_string(t.off_diagonal.size()));
  }
  std::vector<double> d = t.diagonal;
  std::vector<double> e(k, 0.0);  // e[i] = T_{i,i+1} (0-based), e[k-1] = 0
  std::copy(t.off_diagonal.begin(), t.off_diagonal.end(), e.begin());
  for (int i = 0; i < k; ++i) {
    if (!std::isfinite(d[i]) || !std::isfinite(e[i])) {
      throw Error("gauss_quadrature: the Lanczos matrix has a non-finite entry in row " +
                  std::to_string(i + 1));
    }
  }
  std::vector<double> z(k, 0.0);  // the first row of the eigenvector matrix
  z[0] = 1;
  constexpr double eps = std::numeric_limits<double>::epsilon();
  constexpr int max_sweeps = 60;
  for (int l = 0; l < k; ++l) {
    for (int sweeps = 0;; ++sweeps) {
      int m = l;  // the first negligible off-diagonal entry from l on: T splits there
      for (; m < k - 1; ++m) {
        if (std::abs(e[m]) <= eps * (std::abs(d[m]) + std::abs(d[m + 1]))) break;
      }
      if (m == l) break;  // d[l] is an eigenvalue
      if (sweeps == max_sweeps) {
        throw Error("gauss_quadrature: the QL iteration did not converge for eigenvalue " +
                    std::to_string(l + 1) + " of a Lanczos matrix of size " + std::to_string(k));
      }
      // Wilkinson shift from the leading 2 x 2 block, then chase the bulge up from m.
      double g = (d[l + 1] - d[l]) / (2 * e[l]);
      double r = std::hypot(g, 1.0);
      g = d[m] - d[l] + e[l] / (g + std::copysign(r, g));
      double s = 1, c = 1, p = 0;
      bool deflated = false;
      for (int i = m - 1; i >= l; --i) {
        double f = s * e[i];
        const double b = c * e[i];
        r = std::hypot(f, g);
        e[i + 1] = r;
        if (r == 0) {  // underflow: T splits at i + 1
          d[i + 1] -= p;
          e[m] = 0;
          deflated = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        f = z[i + 1];
        z[i + 1] = s * z[i] + c * f;
        z[i] = c * z[i] - s * f;
      }
      if (deflated) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
  std::vector<int> order(k);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return d[a] < d[b]; });
  q.nodes.resize(k);
  q.weights.resize(k);
  for (int i = 0; i < k; ++i) {
    q.nodes[i] = d[order[i]];
    q.weights[i] = z[order[i]] * z[order[i]];
  }
  q.floor = k * eps * std::max(q.nodes.back(), 0.0);
  if (!(q.floor > 0)) q.floor = std::numeric_limits<double>::min();
  for (double& theta : q.nodes) {
    if (theta <= 0) {
      theta = q.floor;
      ++q.clamped;
    }
  }
  return q;
}

/// The k-point Gauss quadrature of CG's coefficients: see lanczos_tridiagonal.
inline GaussQuadrature gauss_quadrature(const std::vector<double>& steps,
                                        const std::vector<double>& betas) {
  return gauss_quadrature(lanczos_tridiagonal(steps, betas));
}

/// Collects, per column, CG's coefficients while the column is active, to be
/// turned into Gauss quadratures afterwards:
///
///   kinterp::LanczosRecorder recorder(b.extent(1));
///   options.lanczos_coefficients = recorder.callback();
///   const auto result = kinterp::conjugate_gradient(A, M, b, x, options);
///   const double r0Mr0 = ...;  // r_0^T M^-1 r_0 of column c (||b_c||^2 with M = I)
///   const double zlogz = r0Mr0 * recorder.quadrature(c, [](double t) { return std::log(t); });
///
/// The callback refers to the recorder, which must outlive the solve. Every
/// rank records the same numbers (CG's dot products are global). A solve
/// whose first iteration is recorded (iteration 1) starts the record afresh,
/// so one recorder serves consecutive solves; each solve's record is the
/// Lanczos process of its first pass only (see SolveOptions::lanczos_coefficients).
class LanczosRecorder {
 public:
  explicit LanczosRecorder(int columns)
      : alphas_(static_cast<std::size_t>(std::max(columns, 0))),
        betas_(static_cast<std::size_t>(std::max(columns, 0))) {
    if (columns < 0) throw Error("LanczosRecorder: a negative number of columns");
  }

  /// For SolveOptions::lanczos_coefficients; calls record on this recorder.
  LanczosCallback callback() {
    return [this](int iteration, const std::vector<double>& step, const std::vector<double>& beta,
                  const std::vector<bool>& active) { record(iteration, step, beta, active); };
  }

  /// Appends alpha_j and beta_j of the columns active in iteration j. Throws
  /// kinterp::Error when the vectors do not have one entry per column, or
  /// when iteration j does not follow the last one recorded (nor is 1).
  void record(int iteration, const std::vector<double>& step, const std::vector<double>& beta,
              const std::vector<bool>& active) {
    const std::size_t m = alphas_.size();
    if (step.size() != m || beta.size() != m || active.size() != m) {
      throw Error("LanczosRecorder: " + std::to_string(step.size()) + " steps, " +
                  std::to_string(beta.size()) + " betas and " + std::to_string(active.size()) +
                  " activity flags for a recorder of " + std::to_string(m) + " columns");
    }
    if (iteration == 1) {
      clear();
    } else if (iteration != iterations_ + 1) {
      throw Error("LanczosRecorder: CG iteration " + std::to_string(iteration) +
                  " after iteration " + std::to_string(iterations_) +
                  ": the Lanczos record has a gap");
    }
    iterations_ = iteration;
    for (std::size_t c = 0; c < m; ++c) {
      if (!active[c]) continue;
      alphas_[c].push_back(step[c]);
      betas_[c].push_back(beta[c]);
    }
  }

  /// Forgets everything recorded.
  void clear() {
    for (auto& a : alphas_) a.clear();
    for (auto& b : betas_) b.clear();
    iterations_ = 0;
  }

  int columns() const { return static_cast<int>(alphas_.size()); }
  /// The last CG iteration recorded (0: none).
  int iterations() const { return iterations_; }
  /// The number of iterations in which `column` was active: the size k of its
  /// Lanczos matrix (unless that is truncated, see lanczos_tridiagonal).
  int steps(int column) const { return static_cast<int>(alphas_.at(column).size()); }
  /// alpha_1..alpha_k and beta_1..beta_k of `column`.
  const std::vector<double>& alphas(int column) const { return alphas_.at(column); }
  const std::vector<double>& betas(int column) const { return betas_.at(column); }

  /// The Lanczos matrix T of `column` (k x k; empty when k = 0).
  LanczosTridiagonal tridiagonal(int column) const {
    return lanczos_tridiagonal(alphas(column), betas(column));
  }
  /// The Gauss quadrature rule of T: nodes theta_i, weights tau_i^2.
  GaussQuadrature quadrature(int column) const { return gauss_quadrature(tridiagonal(column)); }
  /// e_1^T f(T) e_1 = sum_i tau_i^2 f(theta_i) for `column`; 0 when k = 0 (the
  /// column converged at iteration 0). Times r_0^T M^-1 r_0 it estimates
  /// r_0^T M^-1/2 f(M^-1/2 A M^-1/2) M^-1/2 r_0 (r_0^T f(A) r_0 when M = I).
  template <class F>
  double quadrature(int column, F&& f) const {
    return quadrature(column)(std::forward<F>(f));
  }
  /// e_1^T log(T) e_1: quadrature(column, log), the log det term.
  double log_quadrature(int column) const {
    return quadrature(column, [](double theta) { return std::log(theta); });
  }

 private:
  std::vector<std::vector<double>> alphas_, betas_;
  int iterations_ = 0;
};

}  // namespace kinterp
