// The spherical, rational quadratic and general Matern kernels against
// independent references: closed forms, and for Matern of any order K_nu by
// quadrature in long double (KernelReference.hpp), not the Temme/Steed code.

#include <kinterp/core/Error.hpp>
#include <kinterp/kernels/RadialKernels.hpp>

#include "../KernelReference.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace {

using kinterp::KernelFamily;
using kinterp::KernelSpec;
using kinterp::MaternKernel;
using kinterp::test::matern_reference;

/// r / l log-spaced over [1e-6, 30].
std::vector<double> distances() {
  std::vector<double> r;
  for (int k = 0; k <= 400; ++k) r.push_back(1e-6 * std::pow(3e7, k / 400.0));
  return r;
}

long double relative(long double value, long double exact) {
  return std::fabs(value - exact) / std::fabs(exact);
}

TEST(MaternGeneral, MatchesTheClosedFormsAtHalfIntegers) {
  for (double nu : {0.5, 1.5, 2.5}) {
    const KernelFamily closed = nu == 0.5   ? KernelFamily::Laplacian
                                : nu == 1.5 ? KernelFamily::Matern32
                                            : KernelFamily::Matern52;
    const double g = std::sqrt(2 * nu);  // l = 1
    const auto kernel = MaternKernel<double>::make(g, nu);
    long double worst = 0;
    for (double r : distances()) {
      const long double exact = kinterp::test::reference_kernel({closed, g}, r);
      worst = std::max(worst, relative(kernel(r * r), exact));
    }
    EXPECT_LE(worst, 1e-13) << "nu = " << nu;
  }
}

TEST(MaternGeneral, MatchesQuadratureForAnyOrder) {
  for (double nu : {0.3, 0.75, 1.2, 3.7, 7.5}) {
    const double g = std::sqrt(2 * nu);
    const auto kernel = MaternKernel<double>::make(g, nu);
    const auto kernel_float = MaternKernel<float>::make(g, nu);
    long double worst = 0, worst_float = 0;
    for (double r : distances()) {
      const long double exact = matern_reference(nu, g * static_cast<long double>(r));
      worst = std::max(worst, relative(kernel(r * r), exact));
      // Float: the reference at the float r2 the kernel sees; 0 where it underflows float.
      const float r2 = static_cast<float>(r * r);
      const long double exact_float = matern_reference(nu, g * std::sqrt((long double)r2));
      if (exact_float > 1e-30L) {
        worst_float = std::max(worst_float, relative(kernel_float(r2), exact_float));
      } else {
        EXPECT_LE(kernel_float(r2), 1e-29f);
      }
    }
    EXPECT_LE(worst, 1e-12) << "nu = " << nu;
    EXPECT_LE(worst_float, 1e-5) << "nu = " << nu;
  }
}

TEST(MaternGeneral, BesselKAcrossTheSeriesAndContinuedFraction) {
  for (double nu : {0.1, 0.5, 1.0, 2.3, 7.5}) {
    const auto order = kinterp::detail::BesselKOrder::make(nu);
    for (double x : {1e-3, 0.1, 1.0, 1.999, 2.0, 2.001, 5.0, 40.0, 300.0}) {
      const long double exact = kinterp::test::bessel_k_quadrature(nu, x);
      EXPECT_LE(relative(kinterp::detail::bessel_k(order, x), exact), 1e-13)
          << "nu = " << nu << " x = " << x;
    }
  }
}

TEST(MaternGeneral, EdgesAreFiniteOneAtZeroAndZeroFarAway) {
  for (double nu : {0.05, 0.3, 1.2, 7.5, 40.0, 100.0}) {
    const auto kernel = MaternKernel<double>::make(1.0, nu);
    const auto kernel_float = MaternKernel<float>::make(1.0, nu);
    EXPECT_EQ(kernel(0.0), 1.0);
    EXPECT_EQ(kernel_float(0.0f), 1.0f);
    for (double r2 : {1e-320, 1e-300, 1e-200, 1e-40}) {
      const double phi = kernel(r2);
      EXPECT_TRUE(phi > 0.9 && phi <= 1) << "nu = " << nu << " r2 = " << r2 << ": " << phi;
    }
    const float tiny = std::numeric_limits<float>::denorm_min();
    EXPECT_TRUE(kernel_float(tiny) > 0.9f && kernel_float(tiny) <= 1.0f) << nu;
    for (double r2 : {1e6, 1e12, 1e300, std::numeric_limits<double>::infinity()}) {
      EXPECT_EQ(kernel(r2), 0.0) << "nu = " << nu << " r2 = " << r2;
    }
    EXPECT_EQ(kernel_float(std::numeric_limits<float>::infinity()), 0.0f);
    // Through the cut-off at 1e-300: finite, non-negative, non-increasing.
    double previous = 1;
    for (double x = 500; x < 2000; x += 0.5) {
      const double phi = kernel(x * x);
      ASSERT_TRUE(std::isfinite(phi) && phi >= 0 && phi <= previous) << nu << " " << x;
      previous = phi;
    }
  }
}

/// The pack operator, lane by lane or SIMD, against the scalar one.
template <class T, class Kernel>
void expect_pack_matches_scalar(const Kernel& kernel, double range, double bound) {
  constexpr int W = kinterp::detail::simd::native_width<T>;
  using Pack = kinterp::detail::simd::Pack<T, W>;
  std::vector<T> r2(1000 * W);
  for (std::size_t k = 0; k < r2.size(); ++k) {
    const double r = range * k / r2.size();
    r2[k] = static_cast<T>(r * r);
  }
  r2[1] = std::numeric_limits<T>::infinity();
  for (std::size_t k = 0; k < r2.size(); k += W) {
    const Pack values = kernel(kinterp::detail::simd::load<Pack>(r2.data() + k));
    for (int lane = 0; lane < W; ++lane) {
      const T scalar = kernel(r2[k + lane]);
      EXPECT_NEAR(kinterp::detail::simd::lane(values, lane), scalar, bound)
          << "r2 = " << r2[k + lane];
    }
  }
}

template <class T>
void pack_forms() {
  const T eps = std::numeric_limits<T>::epsilon();
  expect_pack_matches_scalar<T>(kinterp::SphericalKernel<T>{T(0.5)}, 3.0, 4 * eps);
  expect_pack_matches_scalar<T>(kinterp::RationalQuadraticKernel<T>{0.7, 1.3}, 10.0, 0);
  expect_pack_matches_scalar<T>(MaternKernel<T>::make(2.0, 1.2), 20.0, 0);
  expect_pack_matches_scalar<T>(MaternKernel<T>::make(0.3, 0.4), 200.0, 0);
}

TEST(PackForms, AgreeWithTheScalarForms) {
  pack_forms<float>();
  pack_forms<double>();
}

TEST(Spherical, ClosedFormInsideZeroBeyondContinuousAtTheRange) {
  const double range = 2.5;
  const kinterp::SphericalKernel<double> kernel{1 / range};
  const KernelSpec spec{KernelFamily::Spherical, 1 / range};
  for (double s = 0; s < 1; s += 0.001) {
    const double r = s * range;
    const long double exact = 1 - 1.5L * s + 0.5L * s * s * s;
    // Absolute: the rounding of g r costs up to |dphi/ds| u = 1.5 (1 - s^2) u.
    EXPECT_NEAR(kernel(r * r), exact, 4e-16) << "s = " << s;
    EXPECT_NEAR(kernel(r * r), kinterp::test::reference_kernel(spec, r), 4e-16);
  }
  EXPECT_EQ(kernel(range * range), 0.0);
  for (double r : {range * (1 + 1e-15), range * 1.01, 2 * range, 1e150}) {
    EXPECT_EQ(kernel(r * r), 0.0) << r;
  }
  EXPECT_EQ(kernel(std::numeric_limits<double>::infinity()), 0.0);
  // Continuous (and flat, phi ~ 3/2 (1 - s)^2) at the range.
  for (double delta : {1e-2, 1e-4, 1e-6}) {
    const double r = range * (1 - delta);
    EXPECT_NEAR(kernel(r * r), 1.5 * delta * delta, 2 * delta * delta * delta + 1e-16) << delta;
  }
  EXPECT_EQ(kernel(0.0), 1.0);
}

TEST(RationalQuadratic, MatchesTheClosedForm) {
  for (double alpha : {0.1, 0.5, 2.0, 17.3}) {
    for (double l : {0.2, 1.0, 3.0}) {
      const KernelSpec spec = KernelSpec::from_name("rq", l, alpha);
      kinterp::visit_kernel<double>(spec, [&](auto kernel) {
        for (double r : distances()) {
          const long double x = r * l;
          const long double exact = std::pow(1 + x * x / (2 * alpha * l * l), -(long double)alpha);
          EXPECT_LE(relative(kernel(double(x * x)), exact), 1e-14 * (1 + alpha))
              << "alpha = " << alpha << " r = " << x;
        }
      });
    }
  }
}

TEST(FromName, NewNamesAndTheirParameters) {
  const auto names = KernelSpec::names();
  for (const char* name : {"exponential", "matern12", "spherical", "rq", "matern"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
  for (const char* name : {"exponential", "matern12"}) {
    const KernelSpec spec = KernelSpec::from_name(name, 0.25);
    EXPECT_EQ(spec.family, KernelFamily::Laplacian);
    EXPECT_EQ(spec.g, 4.0);
  }
  const KernelSpec spherical = KernelSpec::from_name("spherical", 4.0);
  EXPECT_EQ(spherical.family, KernelFamily::Spherical);
  EXPECT_EQ(spherical.g, 0.25);
  const KernelSpec rq = KernelSpec::from_name("rq", 2.0, 3.0);
  EXPECT_EQ(rq.family, KernelFamily::RationalQuadratic);
  EXPECT_DOUBLE_EQ(rq.g, 1.0 / 24);
  EXPECT_EQ(rq.shape, 3.0);
  const KernelSpec matern = KernelSpec::from_name("matern", 2.0, 1.2);
  EXPECT_EQ(matern.family, KernelFamily::Matern);
  EXPECT_DOUBLE_EQ(matern.g, std::sqrt(2.4) / 2);
  EXPECT_EQ(matern.shape, 1.2);
  // The half-integer orders take the faster closed forms.
  const struct {
    double nu;
    const char* name;
  } closed[] = {{0.5, "laplacian"}, {1.5, "matern32"}, {2.5, "matern52"}};
  for (const auto& c : closed) {
    const KernelSpec spec = KernelSpec::from_name("matern", 0.7, c.nu);
    const KernelSpec expected = KernelSpec::from_name(c.name, 0.7);
    EXPECT_EQ(spec.family, expected.family) << c.nu;
    EXPECT_DOUBLE_EQ(spec.g, expected.g) << c.nu;
    EXPECT_DOUBLE_EQ(spec.g, std::sqrt(2 * c.nu) / 0.7) << c.nu;
    EXPECT_EQ(spec.shape, 0.0);
  }
  // The shape is ignored by the families without one.
  EXPECT_EQ(KernelSpec::from_name("gaussian", 1.0, 3.0).shape, 0.0);
}

std::string error_of(const std::string& name, double length_scale, double shape) {
  try {
    KernelSpec::from_name(name, length_scale, shape);
  } catch (const kinterp::Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(FromName, ErrorsSayWhatToSet) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (double alpha : {0.0, -1.0, nan, inf}) {
    EXPECT_NE(error_of("rq", 1.0, alpha).find("alpha > 0"), std::string::npos);
    EXPECT_NE(error_of("rq", 1.0, alpha).find("--rq-alpha"), std::string::npos) << alpha;
  }
  for (double nu : {0.0, -0.5, nan, inf}) {
    EXPECT_NE(error_of("matern", 1.0, nu).find("nu > 0"), std::string::npos);
    EXPECT_NE(error_of("matern", 1.0, nu).find("--nu"), std::string::npos) << nu;
  }
  EXPECT_NE(error_of("matern", 1.0, 150).find("at most 100"), std::string::npos);
  EXPECT_NE(error_of("spherical", 0.0, 0).find("--length-scale"), std::string::npos);
  EXPECT_NE(error_of("rq", -1.0, 2).find("--length-scale"), std::string::npos);
  EXPECT_NE(error_of("spherica", 1.0, 0).find("did you mean 'spherical'"), std::string::npos);
}

TEST(Formula, WrittenWhereTheLanguageCanExpressIt) {
  EXPECT_EQ((KernelSpec{KernelFamily::Spherical, 0.5}.formula()),
            "Square(ReLU(1-0.5*Norm2(X-Y)))*(1+0.25*Norm2(X-Y))*A");
  EXPECT_EQ((KernelSpec{KernelFamily::RationalQuadratic, 0.5, 2, 1.5}.formula()),
            "2*Powf(1+0.5*SqDist(X,Y),-1.5)*A");
  const std::string matern = KernelSpec{KernelFamily::Matern, 0.5, 1, 1.2}.formula();
  EXPECT_NE(matern.find("Matern(nu=1.2"), std::string::npos) << matern;
  EXPECT_NE(matern.find("K_nu"), std::string::npos) << matern;
}

}  // namespace
