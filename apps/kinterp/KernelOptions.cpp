#include "KernelOptions.hpp"

#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/NumberText.hpp>

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace kinterp::cli {

using detail::join;
using detail::number_text;

namespace {

/// The items of a "; "-separated list, trimmed, without empty ones.
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ';');) {
    const auto first = item.find_first_not_of(" \t"), last = item.find_last_not_of(" \t");
    if (first != std::string::npos) items.push_back(item.substr(first, last - first + 1));
  }
  return items;
}

}  // namespace

std::vector<OptionSpec> kernel_options(bool mixed) {
  // Chosen here rather than with `mixed ? OptionSpec{...} : OptionSpec{...}` inside the
  // list below: that conditional crashes the CUDA 13.0 device front end (cicc, a
  // segmentation fault), though this file has no device code of its own.
  OptionSpec precision{"precision", "double|float", "arithmetic precision (default: double)"};
  if (mixed) {
    precision.value_name = "double|float|mixed";
    precision.help =
        "arithmetic precision (default: double); mixed: kernel products\n"
        "in float, CG in double, refined with double residuals until\n"
        "rtol is met (the accuracy of double, the products of float);\n"
        "the weights are written in float64";
  }
  return {
      {"formula", "F",
       "the kernel as a KeOps formula F(X, Y, A), e.g. \"Exp(-G*SqDist(X,Y))*A\",\n"
       "linear in the weights' j-variable A (see below)"},
      {"var", "ALIAS", "a formula variable, e.g. \"X=Vi(2)\"; repeat for each", true},
      {"unknown", "NAME",
       "the weights' variable A of --formula (default: the one j-variable the\n"
       "formula is linear in), as KeOps' KernelSolve(formula, aliases, \"A\")"},
      {"param", "NAME=V[,V...]", "a formula parameter's value, e.g. G=50; repeat for each", true},
      {"kernel", "NAME",
       "instead of --formula: gaussian exp(-r^2/(2s^2)), laplacian (=\n"
       "exponential, matern12) exp(-r/s), matern32, matern52 (g = sqrt(3)/s,\n"
       "sqrt(5)/s), cauchy 1/(1+r^2/s^2), imq 1/sqrt(1+r^2/s^2), spherical\n"
       "(s: the range); rq and matern of any nu: kinterp krige"},
      {"length-scale", "S", "the length scale s of --kernel"},
      precision,
  };
}

extern const char kernels_help[] =
    "Kernels. A formula F(X, Y, A) is linear in A, with X = Vi(d) the targets, Y = Vj(d)\n"
    "the points, A = Vj(m) the weights, G = Pm(...) parameters. The compiled kernel\n"
    "families are recognised in any spelling, with r = Norm2(X-Y) and r^2 = SqDist(X,Y):\n"
    "  Gaussian  Exp(-G*SqDist(X,Y))*A      Laplacian  Exp(-G*Norm2(X-Y))*A\n"
    "  Matern32  (1+G*r)*Exp(-G*r)*A        Matern52   (1+G*r+G*G*r*r/3)*Exp(-G*r)*A\n"
    "  Cauchy    Inv(1+G*SqDist(X,Y))*A     IMQ        Rsqrt(1+G*SqDist(X,Y))*A\n"
    "and constant factors. Any other formula runs through the generic evaluator (1.3-3.5x\n"
    "slower; solve: plain CG, the operator must be symmetric, which is checked). Its\n"
    "further variables take rows per point with solve's --input NAME=FILE, e.g. a noise\n"
    "variance S = Vj(1) in \"Exp(-G*SqDist(X,Y))*A + (SqDist(X,Y)==0)*S*A\"; predict\n"
    "refuses such a formula (evaluate it with kinterp reduce).\n";

std::map<std::string, std::vector<double>> parse_params(const std::vector<std::string>& texts) {
  std::map<std::string, std::vector<double>> params;
  for (const auto& text : texts) {
    const auto equals = text.find('=');
    if (equals == std::string::npos || equals == 0) {
      throw UsageError{"--param takes NAME=VALUE[,VALUE...], got '" + text + "'"};
    }
    const std::string name = text.substr(0, equals);
    std::vector<double> values;
    std::stringstream list(text.substr(equals + 1));
    for (std::string item; std::getline(list, item, ',');) {
      char* end = nullptr;
      const double value = std::strtod(item.c_str(), &end);
      if (item.empty() || *end != '\0' || !std::isfinite(value)) {
        throw UsageError{"--param " + name + ": '" + item + "' is not a finite number"};
      }
      values.push_back(value);
    }
    if (values.empty()) throw UsageError{"--param " + name + " has no value"};
    if (!params.emplace(name, values).second)
      throw UsageError{"--param " + name + " is given twice"};
  }
  return params;
}

KernelModel resolve_kernel(const CommandLine& command) {
  if (command.has("formula") == command.has("kernel")) {
    throw UsageError{
        "give either --formula (with --var and --param) or --kernel with --length-scale"};
  }
  if (command.has("kernel")) {
    if (command.has("var") || command.has("param") || command.has("unknown")) {
      throw UsageError{"--var, --param and --unknown belong to --formula, not --kernel"};
    }
    if (!command.has("length-scale")) throw UsageError{"--kernel needs --length-scale"};
    const std::string name = command.required("kernel");
    if (name == "rq" || name == "matern") {
      throw UsageError{"--kernel " + name +
                       " has a shape parameter that solve and predict do not take: use kinterp "
                       "krige (--nu, --rq-alpha), or matern32/matern52/exponential"};
    }
    return KernelModel::named(command.required("kernel"), command.number("length-scale", 0));
  }
  if (command.has("length-scale")) throw UsageError{"--length-scale belongs to --kernel"};
  return KernelModel::from_formula(command.required("formula"), command.all("var"),
                                   parse_params(command.all("param")),
                                   command.optional("unknown").value_or(""));
}

// ---- The kernel and points recorded on HDF5 weights -------------------------------------

io::Attributes kernel_attributes(const CommandLine& command) {
  io::Attributes attributes;
  if (command.has("kernel")) {
    attributes["kernel"] = command.required("kernel");
    attributes["length_scale"] = number_text(command.number("length-scale", 0));
    return attributes;
  }
  attributes["formula"] = command.required("formula");
  attributes["vars"] = join(command.all("var"), "; ");
  std::vector<std::string> params;
  for (const auto& [name, values] : parse_params(command.all("param"))) {
    std::string text = name + "=";
    for (std::size_t i = 0; i < values.size(); ++i) text += (i ? "," : "") + number_text(values[i]);
    params.push_back(text);
  }
  attributes["params"] = join(params, "; ");
  if (const auto unknown = command.optional("unknown")) attributes["unknown"] = *unknown;
  return attributes;
}

std::optional<KernelModel> recorded_kernel(const io::Attributes& attributes,
                                           const std::string& weights) {
  const auto get = [&](const char* name) -> std::optional<std::string> {
    const auto found = attributes.find(name);
    if (found == attributes.end()) return std::nullopt;
    return found->second;
  };
  const std::string failure = "--weights " + weights + " records a kernel kinterp cannot use (";
  const std::string fix = "); give the kernel with --formula or --kernel";
  try {
    if (const auto name = get("kernel")) {
      const std::string scale = get("length_scale").value_or("");
      char* end = nullptr;
      const double length_scale = std::strtod(scale.c_str(), &end);
      if (scale.empty() || *end != '\0') {
        throw Error("its 'length_scale' attribute is '" + scale + "', not a number");
      }
      return KernelModel::named(*name, length_scale);
    }
    if (const auto formula = get("formula")) {
      return KernelModel::from_formula(*formula, split_list(get("vars").value_or("")),
                                       parse_params(split_list(get("params").value_or(""))),
                                       get("unknown").value_or(""));
    }
  } catch (const Error& e) {
    throw Error(failure + e.what() + fix);
  } catch (const UsageError& e) {
    throw Error(failure + e.message + fix);
  }
  return std::nullopt;
}

/// What predict evaluates: the kernel and the points, from the options or else

}  // namespace kinterp::cli
