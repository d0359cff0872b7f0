#include "Functions.hpp"

#include <cmath>

namespace kinterp::detail {

namespace {

using Rule = DimensionRule;

constexpr unsigned kSecondIsInteger = 2, kFirstIsInteger = 1;

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
double sin_(double x) {
  return std::sin(x);
}
double cos_(double x) {
  return std::cos(x);
}
double minus_(double x) {
  return -x;
}

const FunctionInfo kFunctions[] = {
    {FunctionId::Exp, "Exp", "Exp(f)", 1, Rule::Elementwise, 0, exp_},
    {FunctionId::Log, "Log", "Log(f)", 1, Rule::Elementwise, 0, log_},
    {FunctionId::Sqrt, "Sqrt", "Sqrt(f)", 1, Rule::Elementwise, 0, sqrt_},
    {FunctionId::Rsqrt, "Rsqrt", "Rsqrt(f)", 1, Rule::Elementwise, 0, rsqrt_},
    {FunctionId::Inv, "Inv", "Inv(f)", 1, Rule::Elementwise, 0, inv_},
    {FunctionId::Square, "Square", "Square(f)", 1, Rule::Elementwise, 0, square_},
    {FunctionId::Abs, "Abs", "Abs(f)", 1, Rule::Elementwise, 0, abs_},
    {FunctionId::Sin, "Sin", "Sin(f)", 1, Rule::Elementwise, 0, sin_},
    {FunctionId::Cos, "Cos", "Cos(f)", 1, Rule::Elementwise, 0, cos_},
    {FunctionId::Minus, "Minus", "Minus(f)", 1, Rule::Elementwise, 0, minus_},
    {FunctionId::Pow, "Pow", "Pow(f, n) with an integer n", 2, Rule::Elementwise, kSecondIsInteger,
     nullptr},
    {FunctionId::SqDist, "SqDist", "SqDist(a, b)", 2, Rule::EqualScalar, 0, nullptr},
    {FunctionId::Norm2, "Norm2", "Norm2(a)", 1, Rule::Scalar, 0, nullptr},
    {FunctionId::SqNorm2, "SqNorm2", "SqNorm2(a)", 1, Rule::Scalar, 0, nullptr},
    {FunctionId::Sum, "Sum", "Sum(a)", 1, Rule::Scalar, 0, nullptr},
    {FunctionId::IntCst, "IntCst", "IntCst(n) with an integer n", 1, Rule::Scalar, kFirstIsInteger,
     nullptr},
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
