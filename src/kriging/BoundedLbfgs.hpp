#pragma once
// Minimisation in a box by projected L-BFGS with an Armijo backtracking line
// search: few parameters (a covariance model's), each evaluation costly (a
// distributed CG), the gradient an estimate. Deterministic, so every rank
// that evaluates the same f takes the same steps.

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace kinterp::detail {

struct BoundedLbfgsOptions {
  int max_iterations = 50;
  int memory = 6;
  /// Converged when an iteration lowers f by less than ftol * max(|f|, 1)...
  double ftol = 1e-7;
  /// ... or the projected gradient's largest entry is below gtol.
  double gtol = 1e-5;
};

struct BoundedLbfgsResult {
  std::vector<double> x, gradient;
  double f = 0;
  int iterations = 0, evaluations = 0;
  bool converged = false;
  std::string reason;
};

/// f(x, gradient) returns f and writes its gradient. x0 must lie in [lower, upper].
inline BoundedLbfgsResult minimise_bounded_lbfgs(
    const std::function<double(const std::vector<double>&, std::vector<double>&)>& f,
    std::vector<double> x, const std::vector<double>& lower, const std::vector<double>& upper,
    const BoundedLbfgsOptions& options) {
  const std::size_t n = x.size();
  const auto project = [&](std::vector<double> v) {
    for (std::size_t i = 0; i < n; ++i) v[i] = std::min(upper[i], std::max(lower[i], v[i]));
    return v;
  };
  const auto dot = [](const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
  };
  BoundedLbfgsResult result;
  std::vector<double> g(n);
  double fx = f(x, g);
  result.evaluations = 1;
  std::deque<std::pair<std::vector<double>, std::vector<double>>> history;  // (s, y)
  for (;;) {
    // Variables held at a bound by the gradient are fixed for this step.
    std::vector<bool> free(n);
    double projected = 0;
    for (std::size_t i = 0; i < n; ++i) {
      free[i] = !((x[i] <= lower[i] && g[i] > 0) || (x[i] >= upper[i] && g[i] < 0));
      if (free[i]) projected = std::max(projected, std::abs(g[i]));
    }
    if (!std::isfinite(fx)) {
      result.reason = "the objective is not finite at the starting point";
      break;
    }
    if (projected <= options.gtol) {
      result.converged = true;
      result.reason = "the projected gradient is below gtol";
      break;
    }
    if (result.iterations == options.max_iterations) {
      result.reason = "the iteration limit was reached";
      break;
    }
    // Two-loop recursion on the free variables.
    std::vector<double> d(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) d[i] = free[i] ? -g[i] : 0.0;
    std::vector<double> alphas(history.size());
    for (std::size_t k = history.size(); k-- > 0;) {
      const auto& [s, y] = history[k];
      alphas[k] = dot(s, d) / dot(s, y);
      for (std::size_t i = 0; i < n; ++i) d[i] -= alphas[k] * y[i];
    }
    if (!history.empty()) {
      const auto& [s, y] = history.back();
      const double scale = dot(s, y) / dot(y, y);
      for (double& v : d) v *= scale;
    }
    for (std::size_t k = 0; k < history.size(); ++k) {
      const auto& [s, y] = history[k];
      const double beta = dot(y, d) / dot(s, y);
      for (std::size_t i = 0; i < n; ++i) d[i] += (alphas[k] - beta) * s[i];
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!free[i]) d[i] = 0;
    }
    if (!(dot(d, g) < 0)) {  // not a descent direction: start the memory afresh
      history.clear();
      for (std::size_t i = 0; i < n; ++i) d[i] = free[i] ? -g[i] : 0.0;
    }
    // The first step moves no coordinate by more than 1 (log scales: a factor e).
    double step = 1;
    if (history.empty()) {
      double largest = 0;
      for (double v : d) largest = std::max(largest, std::abs(v));
      step = std::min(1.0, 1 / largest);
    }
    std::vector<double> x_new, g_new(n);
    double f_new = fx;
    bool accepted = false;
    for (int tries = 0; tries < 30 && !accepted; ++tries, step *= 0.5) {
      std::vector<double> trial(n);
      for (std::size_t i = 0; i < n; ++i) trial[i] = x[i] + step * d[i];
      x_new = project(trial);
      std::vector<double> move(n);
      for (std::size_t i = 0; i < n; ++i) move[i] = x_new[i] - x[i];
      f_new = f(x_new, g_new);
      ++result.evaluations;
      accepted = std::isfinite(f_new) && f_new <= fx + 1e-4 * dot(g, move);
    }
    ++result.iterations;
    if (!accepted) {
      result.reason =
          "the line search found no decrease along the estimated gradient (its noise floor: "
          "more probes or a tighter rtol resolve it)";
      result.converged = true;  // a stationary point to the resolution of the estimates
      break;
    }
    std::vector<double> s(n), y(n);
    for (std::size_t i = 0; i < n; ++i) {
      s[i] = x_new[i] - x[i];
      y[i] = g_new[i] - g[i];
    }
    if (dot(s, y) > 1e-12 * std::sqrt(dot(s, s) * dot(y, y))) {
      history.emplace_back(s, y);
      if (static_cast<int>(history.size()) > options.memory) history.pop_front();
    }
    const double decrease = fx - f_new;
    x = x_new;
    g = g_new;
    fx = f_new;
    if (decrease <= options.ftol * std::max(std::abs(fx), 1.0)) {
      result.converged = true;
      result.reason = "the relative decrease of f is below ftol";
      break;
    }
  }
  result.x = x;
  result.gradient = g;
  result.f = fx;
  return result;
}

}  // namespace kinterp::detail
