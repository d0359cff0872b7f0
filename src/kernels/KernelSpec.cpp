#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/Spelling.hpp>
#include <kinterp/kernels/KernelSpec.hpp>

#include <cmath>
#include <sstream>

namespace kinterp {

namespace {

struct NamedFamily {
  const char* name;
  KernelFamily family;
};

constexpr NamedFamily named_families[] = {
    {"gaussian", KernelFamily::Gaussian}, {"laplacian", KernelFamily::Laplacian},
    {"matern32", KernelFamily::Matern32}, {"matern52", KernelFamily::Matern52},
    {"cauchy", KernelFamily::Cauchy},     {"imq", KernelFamily::InverseMultiquadric},
};

std::string number(double value) {
  std::ostringstream out;
  out.precision(17);
  out << value;
  return out.str();
}

}  // namespace

std::string to_string(KernelFamily family) {
  for (const auto& named : named_families) {
    if (named.family == family) return named.name;
  }
  return "unknown";
}

std::vector<std::string> KernelSpec::names() {
  std::vector<std::string> names;
  for (const auto& named : named_families) names.emplace_back(named.name);
  return names;
}

KernelSpec KernelSpec::from_name(const std::string& name, double length_scale) {
  if (!(length_scale > 0) || !std::isfinite(length_scale)) {
    throw Error("the length scale must be a positive finite number, got " + number(length_scale) +
                " (set it with --length-scale)");
  }
  const double s = length_scale;
  KernelSpec spec;
  if (name == "gaussian") {
    spec = {KernelFamily::Gaussian, 1 / (2 * s * s)};
  } else if (name == "laplacian") {
    spec = {KernelFamily::Laplacian, 1 / s};
  } else if (name == "matern32") {
    spec = {KernelFamily::Matern32, std::sqrt(3.0) / s};
  } else if (name == "matern52") {
    spec = {KernelFamily::Matern52, std::sqrt(5.0) / s};
  } else if (name == "cauchy") {
    spec = {KernelFamily::Cauchy, 1 / (s * s)};
  } else if (name == "imq") {
    spec = {KernelFamily::InverseMultiquadric, 1 / (s * s)};
  } else {
    std::string known;
    for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
    const std::string guess = detail::closest(name, names());
    throw Error("unknown kernel '" + name + "'" +
                (guess.empty() ? "" : "; did you mean '" + guess + "'?") +
                " The kernels are: " + known);
  }
  return spec;
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
  }
  return (variance == 1 ? "" : number(variance) + "*") + phi + "*A";
}

}  // namespace kinterp
