#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/NumberText.hpp>
#include <kinterp/core/detail/Spelling.hpp>
#include <kinterp/kernels/KernelSpec.hpp>

#include <cmath>

namespace kinterp {

namespace {

struct NamedFamily {
  const char* name;
  KernelFamily family;
};

constexpr NamedFamily named_families[] = {
    // The first name of a family is its to_string.
    {"gaussian", KernelFamily::Gaussian},     {"laplacian", KernelFamily::Laplacian},
    {"exponential", KernelFamily::Laplacian}, {"matern12", KernelFamily::Laplacian},
    {"matern32", KernelFamily::Matern32},     {"matern52", KernelFamily::Matern52},
    {"cauchy", KernelFamily::Cauchy},         {"imq", KernelFamily::InverseMultiquadric},
    {"spherical", KernelFamily::Spherical},   {"rq", KernelFamily::RationalQuadratic},
    {"matern", KernelFamily::Matern},
};

std::string number(double value) {
  return detail::number_text(value);
}

/// The shape of `name` (rq's alpha, matern's nu): positive and finite.
void require_shape(const std::string& name, const char* what, const std::string& how,
                   double shape) {
  if (shape > 0 && std::isfinite(shape)) return;
  throw Error("the " + name + " kernel needs its " + what + " > 0, got " + number(shape) + " (" +
              how + ")");
}

}  // namespace

std::string to_string(KernelFamily family) {
  for (const auto& named : named_families) {
    if (named.family == family) return named.name;
  }
  if (family == KernelFamily::ExponentialOverDistance) return "exp(-g r)/r";
  return "unknown";
}

std::vector<std::string> KernelSpec::names() {
  std::vector<std::string> names;
  for (const auto& named : named_families) names.emplace_back(named.name);
  return names;
}

KernelSpec KernelSpec::from_name(const std::string& name, double length_scale, double shape) {
  if (!(length_scale > 0) || !std::isfinite(length_scale)) {
    throw Error("the length scale must be a positive finite number, got " + number(length_scale) +
                " (set it with --length-scale)");
  }
  const double s = length_scale;
  KernelSpec spec;
  if (name == "gaussian") {
    spec = {KernelFamily::Gaussian, 1 / (2 * s * s)};
  } else if (name == "laplacian" || name == "exponential" || name == "matern12") {
    spec = {KernelFamily::Laplacian, 1 / s};
  } else if (name == "matern32") {
    spec = {KernelFamily::Matern32, std::sqrt(3.0) / s};
  } else if (name == "matern52") {
    spec = {KernelFamily::Matern52, std::sqrt(5.0) / s};
  } else if (name == "cauchy") {
    spec = {KernelFamily::Cauchy, 1 / (s * s)};
  } else if (name == "imq") {
    spec = {KernelFamily::InverseMultiquadric, 1 / (s * s)};
  } else if (name == "spherical") {
    spec = {KernelFamily::Spherical, 1 / s};
  } else if (name == "rq") {
    require_shape(name, "alpha", "set it with --rq-alpha", shape);
    spec = {KernelFamily::RationalQuadratic, 1 / (2 * shape * s * s), 1, shape};
  } else if (name == "matern") {
    require_shape(name, "order nu", "set it with --nu, or use matern12, matern32 or matern52",
                  shape);
    if (shape > max_matern_nu) {
      throw Error("the matern kernel's order nu must be at most " + number(max_matern_nu) +
                  ", got " + number(shape) + " (use the gaussian kernel for so smooth a one)");
    }
    if (shape == 0.5) return from_name("laplacian", s);
    if (shape == 1.5) return from_name("matern32", s);
    if (shape == 2.5) return from_name("matern52", s);
    spec = {KernelFamily::Matern, std::sqrt(2 * shape) / s, 1, shape};
  } else {
    std::string known;
    for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
    const std::string guess = detail::closest(name, names());
    throw Error("unknown kernel '" + name + "'" +
                (guess.empty() ? "" : "; did you mean '" + guess + "'?") +
                " The kernels are: " + known);
  }
  if (!(spec.g > 0) || !std::isfinite(spec.g)) {
    throw Error("the length scale " + number(s) + " is out of double precision's range for the " +
                name + " kernel (its scale parameter becomes " + number(spec.g) +
                "); rescale the coordinates");
  }
  return spec;
}

void KernelSpec::require_valid() const {
  if (!(g > 0) || !std::isfinite(g)) {
    throw Error("the kernel's scale must be positive and finite, got " + number(g) + " (" +
                formula() + ")");
  }
  if (!(variance > 0) || !std::isfinite(variance)) {
    throw Error("the kernel's constant factor must be positive and finite, got " +
                number(variance));
  }
  const bool shaped = family == KernelFamily::RationalQuadratic || family == KernelFamily::Matern;
  if (shaped && !(shape > 0 && std::isfinite(shape))) {
    throw Error("the " + to_string(family) + " kernel's shape (alpha of rq, nu of matern) " +
                "must be positive and finite, got " + number(shape));
  }
  if (family == KernelFamily::Matern && shape > KernelSpec::max_matern_nu) {
    throw Error("the matern kernel's order nu must be at most " +
                std::to_string(int(KernelSpec::max_matern_nu)) + ", got " + number(shape) +
                " (use the gaussian kernel for so smooth a one)");
  }
}

std::string KernelSpec::formula() const {
  const std::string g_ = number(g);
  std::string phi;
  switch (family) {
    case KernelFamily::Gaussian:
      phi = "Exp(-" + g_ + "*SqDist(X,Y))";
      break;
    case KernelFamily::Laplacian:
      phi = "Exp(-" + g_ + "*Norm2(X-Y))";
      break;
    case KernelFamily::Matern32:
      phi = "(1+" + g_ + "*Norm2(X-Y))*Exp(-" + g_ + "*Norm2(X-Y))";
      break;
    case KernelFamily::Matern52:
      phi = "(1+" + g_ + "*Norm2(X-Y)+" + number(g * g / 3) + "*SqDist(X,Y))*Exp(-" + g_ +
            "*Norm2(X-Y))";
      break;
    case KernelFamily::Cauchy:
      phi = "Inv(1+" + g_ + "*SqDist(X,Y))";
      break;
    case KernelFamily::InverseMultiquadric:
      phi = "Rsqrt(1+" + g_ + "*SqDist(X,Y))";
      break;
    case KernelFamily::Spherical:
      // (1 - s)^2 (1 + s/2), s = g r; ReLU makes it 0 beyond the range.
      phi = "Square(ReLU(1-" + g_ + "*Norm2(X-Y)))*(1+" + number(g / 2) + "*Norm2(X-Y))";
      break;
    case KernelFamily::RationalQuadratic:
      phi = "Powf(1+" + g_ + "*SqDist(X,Y)," + number(-shape) + ")";
      break;
    case KernelFamily::ExponentialOverDistance:
      phi = "Exp(-" + g_ + "*Norm2(X-Y))/Norm2(X-Y)";
      break;
    case KernelFamily::Matern:
      // No Bessel function in the formula language: a description, not a formula.
      phi = "Matern(nu=" + number(shape) + ",g=" + g_ + ")";
      break;
  }
  std::string text = (variance == 1 ? "" : number(variance) + "*") + phi + "*A";
  if (family == KernelFamily::Matern) {
    text += " with Matern(nu,g) = 2^(1-nu)/Gamma(nu) (g r)^nu K_nu(g r), r = Norm2(X-Y)";
  }
  return text;
}

}  // namespace kinterp
