#include "Functions.hpp"

#include <cmath>

namespace kinterp::detail {

namespace {

using Rule = DimensionRule;
using Id = FunctionId;
using Op = Opcode;

constexpr unsigned kFirst = 1, kSecond = 2, kThird = 4;  // integer-literal arguments

// Signatures follow KeOps' documentation; f, g are formulas, n, d integers.
const FunctionInfo kFunctions[] = {
    {Id::Exp, "Exp", "Exp(f)", 1, Rule::Elementwise, 0, Op::Exp,
     [](double x) { return std::exp(x); }},
    {Id::Other, "Log", "Log(f)", 1, Rule::Elementwise, 0, Op::Log,
     [](double x) { return std::log(x); }},
    {Id::Sqrt, "Sqrt", "Sqrt(f)", 1, Rule::Elementwise, 0, Op::Sqrt,
     [](double x) { return std::sqrt(x); }},
    {Id::Rsqrt, "Rsqrt", "Rsqrt(f)", 1, Rule::Elementwise, 0, Op::Rsqrt,
     [](double x) { return 1 / std::sqrt(x); }},
    {Id::Inv, "Inv", "Inv(f)", 1, Rule::Elementwise, 0, Op::Inv, [](double x) { return 1 / x; }},
    {Id::Square, "Square", "Square(f)", 1, Rule::Elementwise, 0, Op::Square,
     [](double x) { return x * x; }},
    {Id::Abs, "Abs", "Abs(f)", 1, Rule::Elementwise, 0, Op::Abs,
     [](double x) { return std::fabs(x); }},
    {Id::Other, "Sign", "Sign(f)", 1, Rule::Elementwise, 0, Op::Sign,
     [](double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }},
    {Id::Other, "Step", "Step(f)", 1, Rule::Elementwise, 0, Op::Step,
     [](double x) { return x < 0 ? 0.0 : 1.0; }},
    {Id::Other, "ReLU", "ReLU(f)", 1, Rule::Elementwise, 0, Op::ReLU,
     [](double x) { return x < 0 ? 0.0 : x; }},
    {Id::Other, "Sin", "Sin(f)", 1, Rule::Elementwise, 0, Op::Sin,
     [](double x) { return std::sin(x); }},
    {Id::Other, "Cos", "Cos(f)", 1, Rule::Elementwise, 0, Op::Cos,
     [](double x) { return std::cos(x); }},
    {Id::Other, "Atan", "Atan(f)", 1, Rule::Elementwise, 0, Op::Atan,
     [](double x) { return std::atan(x); }},
    {Id::Other, "Asin", "Asin(f)", 1, Rule::Elementwise, 0, Op::Asin,
     [](double x) { return std::asin(x); }},
    {Id::Other, "Acos", "Acos(f)", 1, Rule::Elementwise, 0, Op::Acos,
     [](double x) { return std::acos(x); }},
    {Id::Other, "XLogX", "XLogX(f)", 1, Rule::Elementwise, 0, Op::XLogX,
     [](double x) { return x == 0 ? 0.0 : x * std::log(x); }},
    {Id::Other, "SinXDivX", "SinXDivX(f)", 1, Rule::Elementwise, 0, Op::SinXDivX,
     [](double x) { return x == 0 ? 1.0 : std::sin(x) / x; }},
    {Id::Other, "Floor", "Floor(f)", 1, Rule::Elementwise, 0, Op::Floor,
     [](double x) { return std::floor(x); }},
    {Id::Minus, "Minus", "Minus(f)", 1, Rule::Elementwise, 0, Op::Negate,
     [](double x) { return -x; }},
    {Id::Other, "Normalize", "Normalize(f)", 1, Rule::Elementwise, 0, Op::Normalize, nullptr},
    {Id::Pow, "Pow", "Pow(f, n) with an integer n", 2, Rule::Elementwise, kSecond, Op::Pow,
     nullptr},
    {Id::Round, "Round", "Round(f, d) with an integer number of decimals d", 2, Rule::Elementwise,
     kSecond, Op::Round, nullptr},
    {Id::Other, "Powf", "Powf(f, g)", 2, Rule::Broadcast, 0, Op::Powf, nullptr},
    {Id::Other, "Atan2", "Atan2(f, g)", 2, Rule::Broadcast, 0, Op::Atan2, nullptr},
    {Id::Other, "Clamp", "Clamp(f, a, b)", 3, Rule::Broadcast, 0, Op::Clamp, nullptr},
    {Id::IfElse, "IfElse", "IfElse(f, a, b)", 3, Rule::Broadcast, 0, Op::IfElse, nullptr},
    {Id::Other, "Mod", "Mod(f, n, d)", 3, Rule::Broadcast, 0, Op::Mod, nullptr},
    {Id::ClampInt, "ClampInt", "ClampInt(f, a, b) with integers a <= b", 3, Rule::Elementwise,
     kSecond | kThird, Op::Clamp, nullptr},
    // Comparisons: 1 where they hold, else 0; also written f == g, f != g,
    // f < g, f <= g, f > g (LessThan(g, f)), f >= g (LessOrEqual(g, f)).
    {Id::Other, "Equal", "Equal(f, g)", 2, Rule::Broadcast, 0, Op::Equal, nullptr},
    {Id::Other, "NotEqual", "NotEqual(f, g)", 2, Rule::Broadcast, 0, Op::NotEqual, nullptr},
    {Id::Other, "LessThan", "LessThan(f, g)", 2, Rule::Broadcast, 0, Op::LessThan, nullptr},
    {Id::Other, "LessOrEqual", "LessOrEqual(f, g)", 2, Rule::Broadcast, 0, Op::LessOrEqual,
     nullptr},
    {Id::SqDist, "SqDist", "SqDist(a, b)", 2, Rule::EqualScalar, 0, Op::SqDist, nullptr},
    {Id::Norm2, "Norm2", "Norm2(a)", 1, Rule::Scalar, 0, Op::Norm2, nullptr},
    {Id::SqNorm2, "SqNorm2", "SqNorm2(a)", 1, Rule::Scalar, 0, Op::SqNorm2, nullptr},
    {Id::Sum, "Sum", "Sum(a)", 1, Rule::Scalar, 0, Op::Sum, nullptr},
    {Id::Max, "Max", "Max(a)", 1, Rule::Scalar, 0, Op::Max, nullptr},
    {Id::Min, "Min", "Min(a)", 1, Rule::Scalar, 0, Op::Min, nullptr},
    {Id::IntCst, "IntCst", "IntCst(n) with an integer n", 1, Rule::Scalar, kFirst, Op::Zero,
     nullptr},
    {Id::IntInv, "IntInv", "IntInv(n) with an integer n other than 0: 1/n", 1, Rule::Scalar, kFirst,
     Op::Zero, nullptr},
    {Id::WeightedSqNorm, "WeightedSqNorm", "WeightedSqNorm(s, f)", 2, Rule::Special, 0,
     Op::WeightedSqNorm, nullptr},
    {Id::WeightedSqDist, "WeightedSqDist", "WeightedSqDist(s, f, g)", 3, Rule::Special, 0,
     Op::WeightedSqDist, nullptr},
    {Id::Elem, "Elem", "Elem(f, m) with an integer index m", 2, Rule::Special, kSecond, Op::Extract,
     nullptr},
    {Id::Extract, "Extract", "Extract(f, m, d) with integers start m and dimension d", 3,
     Rule::Special, kSecond | kThird, Op::Extract, nullptr},
    {Id::Concat, "Concat", "Concat(f, g)", 2, Rule::Special, 0, Op::Concat, nullptr},
    {Id::OneHot, "OneHot", "OneHot(f, d) with a scalar f and an integer dimension d", 2,
     Rule::Special, kSecond, Op::OneHot, nullptr},
    {Id::MatVecMult, "MatVecMult", "MatVecMult(f, g)", 2, Rule::Special, 0, Op::MatVecMult,
     nullptr},
    {Id::VecMatMult, "VecMatMult", "VecMatMult(f, g)", 2, Rule::Special, 0, Op::VecMatMult,
     nullptr},
    {Id::TensorProd, "TensorProd", "TensorProd(f, g)", 2, Rule::Special, 0, Op::TensorProd,
     nullptr},
    {Id::Zero, "Zero", "Zero(d) with an integer dimension d", 1, Rule::Special, kFirst, Op::Zero,
     nullptr},
    {Id::ElemT, "ElemT", "ElemT(f, n, m): a scalar f at index m of a vector of dimension n", 3,
     Rule::Special, kSecond | kThird, Op::Inject, nullptr},
    {Id::ExtractT, "ExtractT", "ExtractT(f, m, d): f at index m of a vector of dimension d", 3,
     Rule::Special, kSecond | kThird, Op::Inject, nullptr},
    {Id::SumT, "SumT", "SumT(f, d): a scalar f in each of d components", 2, Rule::Special, kSecond,
     Op::Add, nullptr},
    // Checked and expanded apart (TensorDot.hpp): the row names it in messages.
    {Id::TensorDot, "TensorDot",
     "TensorDot(f, g, Ind(dims of f), Ind(dims of g), Ind(axes of f), Ind(axes of g))", 6,
     Rule::Special, 0, Op::Zero, nullptr},
    // Derivatives with respect to a variable v; they compile to what they expand to.
    {Id::Grad, "Grad", "Grad(f, v, e): the gradient of (f|e) with respect to the variable v", 3,
     Rule::Special, 0, Op::Zero, nullptr},
    {Id::Diff, "Diff", "Diff(f, v, u): the derivative of f with respect to the variable v along u",
     3, Rule::Special, 0, Op::Zero, nullptr},
    {Id::Divergence, "Divergence",
     "Divergence(f, v): the divergence of f with respect to the variable v", 2, Rule::Special, 0,
     Op::Zero, nullptr},
    {Id::Laplacian, "Laplacian",
     "Laplacian(f, v): the Laplacian of a scalar f with respect to the variable v", 2,
     Rule::Special, 0, Op::Zero, nullptr},
    {Id::GradMatrix, "GradMatrix",
     "GradMatrix(f, v): the matrix of the derivatives of f with respect to the variable v", 2,
     Rule::Special, 0, Op::Zero, nullptr},
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
