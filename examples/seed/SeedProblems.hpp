#pragma once
// The two problems of KeOps' "Kernel interpolation" example
// (plot_RBF_interpolation_torch): the same data model, formulas, sigma and
// alpha. Random numbers come from a counter-based generator keyed by the
// global row, so every rank count produces exactly the same data set.

#include <kinterp/core/Partition.hpp>
#include <kinterp/core/detail/SplitMix64.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace kinterp::seed {

/// splitmix64 of (stream, index) mapped to [0, 1).
inline double uniform01(std::uint64_t stream, std::uint64_t index) {
  return detail::unit_interval(detail::splitmix64_finalise(
      stream * 0x9E3779B97F4A7C15ull + index * 0xD1B54A32D192ED03ull + 0x632BE59BD9B4E019ull));
}

/// A standard normal number (Box-Muller) for (stream, index).
inline double normal(std::uint64_t stream, std::uint64_t index) {
  const double u1 = 1.0 - uniform01(stream, 2 * index);  // in (0, 1]
  const double u2 = uniform01(stream, 2 * index + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

struct SeedProblem {
  std::string name;  ///< "1D" or "2D"
  int dim;
  std::string formula;  ///< the seed's KeOps formula and aliases
  std::vector<std::string> aliases;
  double sigma, g, alpha;
  int grid;  ///< evaluation grid points per axis (1001 in 1D, 101 x 101 in 2D)
};

/// 1D: Gaussian kernel, sigma = 0.1 (G = 0.5 / sigma^2), alpha = 1.
inline SeedProblem gaussian_1d() {
  return {"1D",
          1,
          "Exp(- G * SqDist(X,Y) ) * A",
          {"X = Vi(1)", "Y = Vj(1)", "A = Vj(1)", "G = Pm(1)"},
          0.1,
          0.5 / (0.1 * 0.1),
          1.0,
          1001};
}

/// 2D: Laplacian (exponential) kernel, sigma = 0.1 (G = 1 / sigma), alpha = 10.
inline SeedProblem laplacian_2d() {
  return {"2D",
          2,
          "Exp(- G * Norm2(X-Y) ) * A",
          {"X = Vi(2)", "Y = Vj(2)", "A = Vj(1)", "G = Pm(1)"},
          0.1,
          1.0 / 0.1,
          10.0,
          101};
}

/// Rows `block` of the samples: x (count x dim) and b (count), row-major.
inline void samples(const SeedProblem& problem, std::int64_t n, RowBlock block,
                    std::vector<double>& x, std::vector<double>& b) {
  const int d = problem.dim;
  x.resize(block.count * d);
  b.resize(block.count);
  const std::uint64_t stream = 1000 * d;
  for (std::int64_t r = 0; r < block.count; ++r) {
    const std::int64_t i = block.begin + r;
    for (int k = 0; k < d; ++k) x[r * d + k] = uniform01(stream + k, i);
    const double noise = 0.05 * normal(stream + 10, i);
    if (d == 1) {
      // b = x + .5 * sin(6x) + .1 * sin(20x) + .05 * randn
      const double t = x[r];
      b[r] = t + 0.5 * std::sin(6 * t) + 0.1 * std::sin(20 * t) + noise;
    } else {
      // A ring: 1 where .3^2 <= |x - .5|^2 <= .4^2, else 0; noise; the last
      // quarter of the samples replaced by uniform outliers.
      double r2 = 0;
      for (int k = 0; k < d; ++k) r2 += (x[r * d + k] - 0.5) * (x[r * d + k] - 0.5);
      b[r] = (r2 >= 0.3 * 0.3 && r2 <= 0.4 * 0.4 ? 1.0 : 0.0) + noise;
      if (i >= n - n / 4) b[r] = uniform01(stream + 20, i);
    }
  }
}

/// Rows `block` of the evaluation grid (grid^dim points, row-major): the seed's
/// linspace(0, 1, grid) in 1D and its meshgrid (first coordinate slowest) in 2D.
inline std::vector<double> grid_points(const SeedProblem& problem, RowBlock block) {
  const int d = problem.dim, g = problem.grid;
  std::vector<double> t(block.count * d);
  for (std::int64_t r = 0; r < block.count; ++r) {
    std::int64_t i = block.begin + r;
    for (int k = d - 1; k >= 0; --k) {
      t[r * d + k] = static_cast<double>(i % g) / (g - 1);
      i /= g;
    }
  }
  return t;
}

}  // namespace kinterp::seed
