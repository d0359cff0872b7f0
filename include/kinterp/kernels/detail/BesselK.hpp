#pragma once
/// \file BesselK.hpp
/// The modified Bessel function of the second kind K_nu(x) of real order
/// nu > 0, and the Matern correlation 2^(1-nu)/Gamma(nu) x^nu K_nu(x) built
/// on it, in double, callable on devices. The classical `bessik` algorithm
/// (Temme 1975; Press et al., Numerical Recipes, 6.7): the order reduced to
/// mu = nu - n with |mu| <= 1/2, K_mu and K_mu+1 from Temme's series for
/// x <= 2 and from Steed's continued fraction CF2 for x > 2, then the upward
/// recurrence to K_nu (stable for K). What depends on nu alone (the Gamma
/// values of Temme's series, the Matern normalisation) is computed once on
/// the host by BesselKOrder::make, so that device code needs no tgamma/lgamma.

#include <kinterp/core/detail/KokkosCompat.hpp>

#include <cmath>

namespace kinterp::detail {

/// The constants of order nu that Temme's series and the Matern kernel need.
struct BesselKOrder {
  double nu = 0.5;
  double mu = -0.5;             ///< nu - n, in [-1/2, 1/2)
  int n = 1;                    ///< recurrence steps from mu to nu
  double gam1 = 0, gam2 = 0;    ///< (1/G(1-mu) -+ 1/G(1+mu)) / (2 mu), / 2
  double gampl = 1, gammi = 1;  ///< 1/Gamma(1+mu), 1/Gamma(1-mu)
  double pimu_over_sin = 1;     ///< pi mu / sin(pi mu)
  double log_norm = 0;          ///< log(2^(1-nu) / Gamma(nu))
  double norm = 1;              ///< 2^(1-nu) / Gamma(nu) (0 where it underflows)

  /// Host only: nu > 0 and finite (KernelSpec::from_name checks).
  static BesselKOrder make(double nu) {
    BesselKOrder c;
    c.nu = nu;
    c.n = static_cast<int>(std::floor(nu + 0.5));
    c.mu = nu - c.n;
    const long double mu = c.mu;
    const long double gampl = 1 / std::tgamma(1 + mu), gammi = 1 / std::tgamma(1 - mu);
    c.gampl = static_cast<double>(gampl);
    c.gammi = static_cast<double>(gammi);
    c.gam2 = static_cast<double>((gammi + gampl) / 2);
    // (gammi - gampl) / (2 mu) cancels for small mu: the Taylor series of
    // 1/Gamma(1+z) (Abramowitz & Stegun 6.1.34) gives -(c2 + c4 mu^2 + c6 mu^4).
    if (std::fabs(c.mu) < 1e-3) {
      const long double m2 = mu * mu;
      c.gam1 = static_cast<double>(-(0.5772156649015328606L - 0.0420026350340952355L * m2 -
                                     0.0421977345555443367L * m2 * m2));
    } else {
      c.gam1 = static_cast<double>((gammi - gampl) / (2 * mu));
    }
    const long double pimu = 3.141592653589793238462643383279502884L * mu;
    c.pimu_over_sin = c.mu == 0 ? 1.0 : static_cast<double>(pimu / std::sin(pimu));
    const long double nu_l = nu;
    c.log_norm = static_cast<double>((1 - nu_l) * std::log(2.0L) - std::lgamma(nu_l));
    c.norm = std::exp(c.log_norm);
    return c;
  }
};

/// sinh(e) / e, accurate near e = 0.
KOKKOS_INLINE_FUNCTION double sinh_over(double e) {
  if (math::fabs(e) < 0.5) {
    double sum = 1, term = 1;
    const double e2 = e * e;
    for (int k = 1; k < 12; ++k) {
      term *= e2 / ((2 * k) * (2 * k + 1));
      sum += term;
    }
    return sum;
  }
  return (math::exp(e) - math::exp(-e)) / (2 * e);
}

/// K_mu(x) and K_mu+1(x) for x > 0, times e^x when `scaled` (x > 2 only:
/// CF2 gives them so, and e^x would overflow later). Returns scaled.
KOKKOS_INLINE_FUNCTION bool bessel_k_mu(const BesselKOrder& c, double x, double& k_mu,
                                        double& k_mu1) {
  constexpr double eps = 1e-17;
  constexpr int max_iterations = 500;
  const double mu = c.mu, mu2 = mu * mu;
  if (x <= 2) {
    // Temme's series.
    const double x2 = 0.5 * x;
    const double d = -math::log(x2);
    const double e = mu * d;
    const double ee = math::exp(e);
    const double cosh_e = 0.5 * (ee + 1 / ee);
    double ff = c.pimu_over_sin * (c.gam1 * cosh_e + c.gam2 * sinh_over(e) * d);
    double sum = ff;
    double p = 0.5 * ee / c.gampl;
    double q = 0.5 / (ee * c.gammi);
    double cc = 1;
    const double dd = x2 * x2;
    double sum1 = p;
    for (int i = 1; i < max_iterations; ++i) {
      ff = (i * ff + p + q) / (i * double(i) - mu2);
      cc *= dd / i;
      p /= i - mu;
      q /= i + mu;
      const double del = cc * ff;
      sum += del;
      sum1 += cc * (p - i * ff);
      if (math::fabs(del) < math::fabs(sum) * eps) break;
    }
    k_mu = sum;
    k_mu1 = sum1 * 2 / x;
    return false;
  }
  // Steed's algorithm for CF2 (Thompson & Barnett), with e^-x left out.
  double b = 2 * (1 + x);
  double d = 1 / b;
  double h = d, delh = d;
  double q1 = 0, q2 = 1;
  const double a1 = 0.25 - mu2;
  double q = a1, cc = a1;
  double a = -a1;
  double s = 1 + q * delh;
  for (int i = 2; i < max_iterations; ++i) {
    a -= 2 * (i - 1);
    cc = -a * cc / i;
    const double qnew = (q1 - b * q2) / a;
    q1 = q2;
    q2 = qnew;
    q += cc * qnew;
    b += 2;
    d = 1 / (b + a * d);
    delh = (b * d - 1) * delh;
    h += delh;
    const double dels = q * delh;
    s += dels;
    if (math::fabs(dels) < math::fabs(s) * eps) break;
  }
  h = a1 * h;
  k_mu = math::sqrt(1.5707963267948966192 / x) / s;
  k_mu1 = k_mu * (mu + x + 0.5 - h) / x;
  return true;
}

/// K_nu(x) for x > 0 (overflows to +inf for very small x, as K does).
KOKKOS_INLINE_FUNCTION double bessel_k(const BesselKOrder& c, double x) {
  double k0, k1;
  const bool scaled = bessel_k_mu(c, x, k0, k1);
  for (int i = 1; i <= c.n; ++i) {
    const double next = 2 * (c.mu + i) / x * k1 + k0;
    k0 = k1;
    k1 = next;
  }
  return scaled ? k0 * math::exp(-x) : k0;
}

/// The Matern correlation 2^(1-nu)/Gamma(nu) x^nu K_nu(x) for x = g r >= 0:
/// 1 at x = 0 (and at most 1 anywhere), 0 once it is below 1e-300 (x = +inf
/// included), never NaN.
/// x^nu K_nu is formed as x^(mu+1) K_mu+1 times the ratios
/// R_k = x K_mu+k / K_mu+k-1 (R_k+1 = x^2 / R_k + 2 (mu + k)), so that
/// neither x^nu nor K_nu overflows on its own.
KOKKOS_INLINE_FUNCTION double matern_correlation(const BesselKOrder& c, double x) {
  if (!(x > 0)) return x == 0 ? 1.0 : x;  // NaN stays NaN
  if (x > 1e5) return 0;
  // Below 1e-150, 1 - phi < (x/2)^(2 min(nu, 1)) is below roundoff for any
  // nu > 0.06; above it, x^2 and K_mu+1(x) ~ x^-3/2 stay in range.
  if (x < 1e-150) x = 1e-150;
  // phi ~ norm x^(nu - 1/2) sqrt(pi/2) e^-x for large x: 0 below 1e-300.
  if (x > 600 && c.log_norm + (c.nu - 0.5) * math::log(x) + 0.2257913526447274 - x < -690.7755) {
    return 0;
  }
  double k0, k1;
  const bool scaled = bessel_k_mu(c, x, k0, k1);
  double p;
  if (c.n == 0) {
    p = math::pow(x, c.mu) * k0;  // mu = nu > 0
  } else {
    p = math::pow(x, c.mu + 1) * k1;
    double ratio = x * k1 / k0;
    for (int k = 1; k < c.n; ++k) {
      ratio = x * x / ratio + 2 * (c.mu + k);
      p *= ratio;
    }
  }
  p *= c.norm;
  if (scaled) {
    const double half = math::exp(-0.5 * x);  // twice: e^-x alone underflows past x = 745
    p = p * half * half;
  }
  // At tiny x, e^(mu log(2/x)) in Temme's series and x^mu round apart by up
  // to ~|mu log x| u: phi may come out a few ulp above its maximum 1.
  return p < 1 ? p : 1.0;
}

}  // namespace kinterp::detail
