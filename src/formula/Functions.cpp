#include "Functions.hpp"

#include <cmath>

namespace kinterp::detail {

namespace {

using Rule = DimensionRule;
using Id = FunctionId;

constexpr unsigned kFirst = 1, kSecond = 2, kThird = 4;  // integer-literal arguments

double exp_(double x) {
  return std::exp(x);
}
double log_(double x) {
  return std::log(x);
}
double sqrt_(double x) {
  return std::sqrt(x);
}
double rsqrt_(double x) {
  return 1 / std::sqrt(x);
}
double inv_(double x) {
  return 1 / x;
}
double square_(double x) {
  return x * x;
}
double abs_(double x) {
  return std::fabs(x);
}
double sign_(double x) {
  return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0;
}
double step_(double x) {
  return x < 0 ? 0.0 : 1.0;
}
double relu_(double x) {
  return x < 0 ? 0.0 : x;
}
double sin_(double x) {
  return std::sin(x);
}
double cos_(double x) {
  return std::cos(x);
}
double atan_(double x) {
  return std::atan(x);
}
double minus_(double x) {
  return -x;
}

// Signatures follow KeOps' documentation; f, g are formulas, n, d integers.
const FunctionInfo kFunctions[] = {
    {Id::Exp, "Exp", "Exp(f)", 1, Rule::Elementwise, 0, exp_},
    {Id::Log, "Log", "Log(f)", 1, Rule::Elementwise, 0, log_},
    {Id::Sqrt, "Sqrt", "Sqrt(f)", 1, Rule::Elementwise, 0, sqrt_},
    {Id::Rsqrt, "Rsqrt", "Rsqrt(f)", 1, Rule::Elementwise, 0, rsqrt_},
    {Id::Inv, "Inv", "Inv(f)", 1, Rule::Elementwise, 0, inv_},
    {Id::Square, "Square", "Square(f)", 1, Rule::Elementwise, 0, square_},
    {Id::Abs, "Abs", "Abs(f)", 1, Rule::Elementwise, 0, abs_},
    {Id::Sign, "Sign", "Sign(f)", 1, Rule::Elementwise, 0, sign_},
    {Id::Step, "Step", "Step(f)", 1, Rule::Elementwise, 0, step_},
    {Id::ReLU, "ReLU", "ReLU(f)", 1, Rule::Elementwise, 0, relu_},
    {Id::Sin, "Sin", "Sin(f)", 1, Rule::Elementwise, 0, sin_},
    {Id::Cos, "Cos", "Cos(f)", 1, Rule::Elementwise, 0, cos_},
    {Id::Atan, "Atan", "Atan(f)", 1, Rule::Elementwise, 0, atan_},
    {Id::Minus, "Minus", "Minus(f)", 1, Rule::Elementwise, 0, minus_},
    {Id::Normalize, "Normalize", "Normalize(f)", 1, Rule::Elementwise, 0, nullptr},
    {Id::Pow, "Pow", "Pow(f, n) with an integer n", 2, Rule::Elementwise, kSecond, nullptr},
    {Id::Round, "Round", "Round(f, d) with an integer number of decimals d", 2, Rule::Elementwise,
     kSecond, nullptr},
    {Id::Powf, "Powf", "Powf(f, g)", 2, Rule::Broadcast, 0, nullptr},
    {Id::Atan2, "Atan2", "Atan2(f, g)", 2, Rule::Broadcast, 0, nullptr},
    {Id::Clamp, "Clamp", "Clamp(f, a, b)", 3, Rule::Broadcast, 0, nullptr},
    {Id::IfElse, "IfElse", "IfElse(f, a, b)", 3, Rule::Broadcast, 0, nullptr},
    {Id::Mod, "Mod", "Mod(f, n, d)", 3, Rule::Broadcast, 0, nullptr},
    {Id::SqDist, "SqDist", "SqDist(a, b)", 2, Rule::EqualScalar, 0, nullptr},
    {Id::Norm2, "Norm2", "Norm2(a)", 1, Rule::Scalar, 0, nullptr},
    {Id::SqNorm2, "SqNorm2", "SqNorm2(a)", 1, Rule::Scalar, 0, nullptr},
    {Id::Sum, "Sum", "Sum(a)", 1, Rule::Scalar, 0, nullptr},
    {Id::Max, "Max", "Max(a)", 1, Rule::Scalar, 0, nullptr},
    {Id::Min, "Min", "Min(a)", 1, Rule::Scalar, 0, nullptr},
    {Id::IntCst, "IntCst", "IntCst(n) with an integer n", 1, Rule::Scalar, kFirst, nullptr},
    {Id::WeightedSqNorm, "WeightedSqNorm", "WeightedSqNorm(s, f)", 2, Rule::Special, 0, nullptr},
    {Id::WeightedSqDist, "WeightedSqDist", "WeightedSqDist(s, f, g)", 3, Rule::Special, 0, nullptr},
    {Id::Elem, "Elem", "Elem(f, m) with an integer index m", 2, Rule::Special, kSecond, nullptr},
    {Id::Extract, "Extract", "Extract(f, m, d) with integers start m and dimension d", 3,
     Rule::Special, kSecond | kThird, nullptr},
    {Id::Concat, "Concat", "Concat(f, g)", 2, Rule::Special, 0, nullptr},
    {Id::OneHot, "OneHot", "OneHot(f, d) with a scalar f and an integer dimension d", 2,
     Rule::Special, kSecond, nullptr},
    {Id::MatVecMult, "MatVecMult", "MatVecMult(f, g)", 2, Rule::Special, 0, nullptr},
    {Id::VecMatMult, "VecMatMult", "VecMatMult(f, g)", 2, Rule::Special, 0, nullptr},
    {Id::TensorProd, "TensorProd", "TensorProd(f, g)", 2, Rule::Special, 0, nullptr},
    {Id::Zero, "Zero", "Zero(d) with an integer dimension d", 1, Rule::Special, kFirst, nullptr},
};

}  // namespace

const FunctionInfo* find_function(std::string_view name) {
  for (const auto& function : kFunctions) {
    if (function.name == name) return &function;
  }
  return nullptr;
}

std::vector<std::string> function_names() {
  std::vector<std::string> names;
  for (const auto& function : kFunctions) names.emplace_back(function.name);
  return names;
}

}  // namespace kinterp::detail
