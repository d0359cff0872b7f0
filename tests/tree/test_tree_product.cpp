// The tree product against a long double loop over the global data, on 1-4
// ranks: the contract |(K~ w - K w)_i| <= eps * sum_j |k(t_i, x_j)| |w_j| for
// every target and column (tree/FarFieldRule.hpp), for every kernel family,
// float and double, 1-3 dimensions, uniform and clustered points, and the
// degenerate inputs a tree must survive; bad tolerances refused on every rank.

#include <kinterp/dist/TreeKernelProduct.hpp>

#include "../DistributedData.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

namespace {

using namespace kinterp::test;
using kinterp::KernelFamily;
using kinterp::KernelSpec;

/// n points of `dim` coordinates; `place(i, k, u)` maps the uniform value u
/// of entry (i, k) to the coordinate.
template <class T>
HostMatrix<T> points(std::int64_t n, int dim, std::uint64_t seed,
                     const std::function<double(std::int64_t, int, double)>& place) {
  HostMatrix<T> m(n, dim);
  for (std::int64_t i = 0; i < n; ++i)
    for (int k = 0; k < dim; ++k)
      m(i, k) = static_cast<T>(place(i, k, uniform01(seed, i * dim + k)));
  return m;
}

double uniform(std::int64_t, int, double u) {
  return u;
}
/// Ten tight clusters (Gaussian-like spread 0.01) at random centres.
double clustered(std::int64_t i, int k, double u) {
  const double centre = uniform01(99, (i % 10) * 3 + k);
  return centre + 0.02 * (u - 0.5) * (u - 0.5) * (u < 0.5 ? -4 : 4);
}

/// Rows of `m` whose index is a multiple of `step`: the rows the reference
/// is computed for (the long double loop is the test's cost).
template <class T>
HostMatrix<T> every(const HostMatrix<T>& m, std::int64_t step) {
  HostMatrix<T> rows((m.rows + step - 1) / step, m.cols);
  for (std::int64_t i = 0; i < rows.rows; ++i)
    for (std::int64_t k = 0; k < m.cols; ++k) rows(i, k) = m(i * step, k);
  return rows;
}

/// Asserts the bound on the rows of `result` (this rank's, from global row
/// `begin`) that the reference has (global rows that are multiples of `step`).
template <class T>
void expect_within(const HostMatrix<long double>& exact, const HostMatrix<long double>& magnitude,
                   std::int64_t step, const T& result, std::int64_t begin, double tolerance,
                   const char* where) {
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(result.extent(0)); ++i) {
    const std::int64_t global = begin + i;
    if (global % step != 0) continue;
    for (std::int64_t c = 0; c < exact.cols; ++c) {
      ASSERT_LE(std::fabs(result(i, c) - exact(global / step, c)),
                tolerance * magnitude(global / step, c))
          << where << " row " << global << " column " << c << ": " << result(i, c) << " vs "
          << static_cast<double>(exact(global / step, c));
    }
  }
}

struct Case {
  std::int64_t sources = 2500, targets = 400;
  int dim = 2, columns = 1;
  std::function<double(std::int64_t, int, double)> place = uniform;
  const char* what = "uniform";
  bool far_field = true;  ///< whether the proxies must have been used
  /// Small clusters of a low degree: the far field with few points, and the
  /// acceptance's estimates at a degree where they matter.
  int degree = 6, leaf_size = 24;
};

/// Checks the bound at targets (split the other way round from the sources)
/// and at the sources themselves (the solve's product), and returns the work.
template <class T>
kinterp::TreeWork check(const KernelSpec& spec, double tolerance, const Case& c) {
  SCOPED_TRACE(::testing::Message()
               << c.what << " " << to_string(spec.family) << (sizeof(T) == 4 ? " float" : " double")
               << " eps=" << tolerance << " sources=" << c.sources << " targets=" << c.targets
               << " dim=" << c.dim << " columns=" << c.columns << " ranks=" << world_size());
  const auto sources = points<T>(c.sources, c.dim, 11, c.place);
  const auto targets = points<T>(c.targets, c.dim, 13, c.place);
  const auto weights = global_matrix<T>(c.sources, c.columns, 12, -1, 1);
  const std::int64_t step = c.sources > 1000 ? 7 : 1;
  HostMatrix<long double> expected, magnitude, at_sources, at_magnitude;
  reference_kernel_sum(spec, every(targets, step), sources, weights, expected, magnitude);
  reference_kernel_sum(spec, every(sources, step), sources, weights, at_sources, at_magnitude);

  const auto source_block = my_block(c.sources);
  const auto target_block =
      kinterp::block_partition(c.targets, world_size() - 1 - world_rank(), world_size());
  std::int64_t target_begin = 0;
  for (int r = 0; r < world_rank(); ++r)
    target_begin += kinterp::block_partition(c.targets, world_size() - 1 - r, world_size()).count;

  const kinterp::TreeKernelProduct<T> product(
      MPI_COMM_WORLD, spec, rows_on_device(sources, source_block),
      kinterp::TreeOptions{tolerance, c.degree, c.leaf_size, 32});
  const auto my_weights = rows_on_device(weights, source_block);
  DeviceMatrix<T> out("out", target_block.count, c.columns);
  product.apply(Kokkos::DefaultExecutionSpace(),
                rows_to_device(targets, target_begin, target_block.count), my_weights, out);
  const kinterp::TreeWork work = product.last_work();
  expect_within(expected, magnitude, step, on_host(out), target_begin, tolerance, "target");

  DeviceMatrix<T> out_sources("out_sources", source_block.count, c.columns);
  product.apply_at_sources(Kokkos::DefaultExecutionSpace(), my_weights, out_sources);
  expect_within(at_sources, at_magnitude, step, on_host(out_sources), source_block.begin, tolerance,
                "source");
  if (c.far_field) {
    EXPECT_GT(work.far_pairs, 0) << "the far field was not used";
  }
  return work;
}

const KernelSpec every_family[] = {
    {KernelFamily::Gaussian, 200.0, 1.0},  {KernelFamily::Laplacian, 10.0, 1.0},
    {KernelFamily::Matern32, 30.0, 2.0},   {KernelFamily::Matern52, 20.0, 1.0},
    {KernelFamily::Cauchy, 100.0, 1.0},    {KernelFamily::InverseMultiquadric, 50.0, 0.5},
    {KernelFamily::Spherical, 5.0, 1.0},   {KernelFamily::RationalQuadratic, 100.0, 1.0, 1.7},
    {KernelFamily::Matern, 30.0, 1.0, 1.2}};

TEST(TreeProduct, EveryFamilyMeetsTheBoundInTwoDimensions) {
  for (const auto& spec : every_family) {
    check<double>(spec, 1e-4, {});
    check<double>(spec, 1e-9, {2500, 300, 2, 2, clustered, "clustered", false, 12, 64});
    check<float>(spec, 1e-5, {});
  }
}

}  // namespace
