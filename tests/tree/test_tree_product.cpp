// The tree product against a long double loop over the global data, on 1-4
// ranks: the contract |(K~ w - K w)_i| <= eps * sum_j |k(t_i, x_j)| |w_j| for
// every target and column (tree/FarFieldRule.hpp), for every kernel family,
// float and double, 1-3 dimensions, uniform and clustered points, and the
// degenerate inputs a tree must survive; bad tolerances refused on every rank.

#include <kinterp/dist/TreeKernelProduct.hpp>
#include <kinterp/kernels/RadialKernels.hpp>

#include "../DistributedData.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>

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

/// ASan and UBSan make these loops ~15x slower: the sanitizer build checks
/// memory and undefined behaviour on fewer and smaller cases.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif

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
  bool far_field = true;  ///< whether the proxies must have been used (1 rank)
  /// Small clusters of a low degree: the far field with few points, and the
  /// acceptance's estimates at a degree where they matter.
  int degree = 6, leaf_size = 24;
  /// Weights in [0, 1] rather than [-1, 1]: no error cancels, the bound's
  /// hard case.
  bool positive_weights = false;
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
  const auto weights = global_matrix<T>(c.sources, c.columns, 12, c.positive_weights ? 0 : -1, 1);
  // The general Matern kernel's reference (a quadrature per value) is slow:
  // fewer rows of it.
  const std::int64_t rows = spec.family == KernelFamily::Matern ? 30 : 300;
  const std::int64_t step = c.sources > 1000 ? c.sources / rows : 1;
  HostMatrix<long double> expected, magnitude;
  reference_kernel_sum(spec, every(targets, step), sources, weights, expected, magnitude);

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

  // exp(-g r) / r is infinite at the sources themselves.
  if (spec.family != KernelFamily::ExponentialOverDistance) {
    HostMatrix<long double> at_sources, at_magnitude;
    reference_kernel_sum(spec, every(sources, step), sources, weights, at_sources, at_magnitude);
    DeviceMatrix<T> out_sources("out_sources", source_block.count, c.columns);
    product.apply_at_sources(Kokkos::DefaultExecutionSpace(), my_weights, out_sources);
    expect_within(at_sources, at_magnitude, step, on_host(out_sources), source_block.begin,
                  tolerance, "source");
  }
  // On more ranks each block is smaller, its tree shallower: the far field
  // is a property of the sizes, checked where they were chosen (1 rank).
  if (c.far_field && world_size() == 1) {
    EXPECT_GT(work.far_pairs, 0) << "the far field was not used";
  }
  return work;
}

const KernelSpec every_family[] = {
    {KernelFamily::Gaussian, 50.0, 1.0},
    {KernelFamily::Laplacian, 10.0, 1.0},
    {KernelFamily::Matern32, 30.0, 2.0},
    {KernelFamily::Matern52, 20.0, 1.0},
    {KernelFamily::Cauchy, 100.0, 1.0},
    {KernelFamily::InverseMultiquadric, 50.0, 0.5},
    {KernelFamily::Spherical, 1.0, 1.0},
    {KernelFamily::RationalQuadratic, 100.0, 1.0, 1.7},
    {KernelFamily::Matern, 30.0, 1.0, 1.2},
    {KernelFamily::ExponentialOverDistance, 10.0, 1.0}};  // the laplacian kernel's gradient

TEST(TreeProduct, EveryFamilyMeetsTheBoundInTwoDimensions) {
  for (const auto& spec : every_family) {
    // The kernels evaluated lane by lane (a Bessel function, a power) are
    // slow: fewer points for them.
    const bool slow =
        spec.family == KernelFamily::Matern || spec.family == KernelFamily::RationalQuadratic;
    const std::int64_t n = sanitized ? (slow ? 400 : 1000) : (slow ? 1200 : 2500);
    check<double>(spec, 1e-4, {n, 400, 2, 1, uniform, "uniform", !sanitized, 6, slow ? 12 : 24});
    if (sanitized) continue;
    check<double>(spec, 1e-9, {n, 300, 2, 2, clustered, "clustered", false, 12, 64});
    check<double>(spec, 1e-6,
                  {n, 300, 2, 1, uniform, "positive weights", false, 10, 32, /*positive=*/true});
    check<float>(spec, 1e-5, {n, 400, 2, 1, uniform, "uniform", true, 6, slow ? 12 : 24});
  }
}

TEST(TreeProduct, OneAndThreeDimensionsAndManyColumns) {
  const KernelSpec gaussian{KernelFamily::Gaussian, 50.0, 1.0};
  const KernelSpec matern32{KernelFamily::Matern32, 20.0, 1.0};
  for (const auto& spec : {gaussian, matern32}) {
    check<double>(spec, 1e-7, {3000, 300, 1, 2, uniform, "uniform", true, 10, 24});
  }
  // 20 columns: two groups of 16 and 4, each with its own left-out budget.
  check<double>(gaussian, 1e-4,
                {sanitized ? 800 : 2500, 200, 2, 20, uniform, "uniform", !sanitized});
  if (sanitized) return;
  // In 3D, kernels wide enough that clusters of a few hundred points have a
  // far field.
  const KernelSpec wide_gaussian{KernelFamily::Gaussian, 3.0, 1.0};
  const KernelSpec wide_matern32{KernelFamily::Matern32, 4.0, 1.0};
  for (const auto& spec : {wide_gaussian, wide_matern32}) {
    check<double>(spec, 1e-4, {20000, 300, 3, 1, uniform, "uniform", true, 4, 24});
    check<float>(spec, 1e-4, {20000, 300, 3, 1, clustered, "clustered", true, 4, 24});
  }
}

TEST(TreeProduct, DegenerateInputs) {
  const auto equal = [](std::int64_t, int k, double) { return k == 0 ? 0.3 : 0.7; };
  const auto on_a_line = [](std::int64_t, int k, double u) { return k == 0 ? u : 0.5; };
  const auto far_cluster = [](std::int64_t i, int, double u) {
    return i % 10 == 0 ? 1000 + 0.01 * u : u;
  };
  const auto duplicates = [](std::int64_t i, int k, double) {
    return uniform01(7, (i / 3) * 2 + k);
  };
  const auto offset = [](std::int64_t, int, double u) { return 1e6 + u; };
  const KernelSpec kernels[] = {{KernelFamily::Gaussian, 100.0, 1.0},
                                {KernelFamily::Laplacian, 20.0, 1.0},
                                {KernelFamily::Cauchy, 50.0, 1.0}};
  for (const auto& spec : kernels) {
    if (sanitized && spec.family != KernelFamily::Laplacian) continue;
    check<double>(spec, 1e-6, {600, 50, 2, 1, equal, "all points equal", false});
    check<double>(spec, 1e-6, {2000, 200, 2, 1, on_a_line, "points on a line", false});
    check<double>(spec, 1e-6, {2000, 200, 2, 1, far_cluster, "one far cluster", false});
    check<double>(spec, 1e-6, {10, 7, 2, 1, uniform, "fewer points than a leaf", false});
    check<double>(spec, 1e-6, {2, 3, 2, 1, uniform, "empty ranks", false});
    check<double>(spec, 1e-6, {1500, 200, 2, 2, duplicates, "duplicate points", false});
    check<double>(spec, 1e-6, {2000, 200, 2, 1, offset, "offset by 1e6", false});
    check<float>(spec, 1e-5, {2000, 200, 2, 1, on_a_line, "points on a line", false});
  }
}

TEST(TreeProduct, TheDevicesPathMeetsTheBoundOnTheHost) {
  // One thread per target (what a GPU runs), here on the CPU, one rank.
  if (world_size() > 1) GTEST_SKIP() << "a local sum";
  using T = double;
  using Space = Kokkos::DefaultExecutionSpace;
  using MemorySpace = Space::memory_space;
  const double tolerance = 1e-4;
  // Two families (the walk does not depend on the family; the kernels are
  // the direct engine's), each compiled here for the devices' path only.
  const auto check_family = [&](const KernelSpec& spec, const auto& kernel) {
    const auto sources = points<T>(3000, 2, 11, uniform);
    const auto targets = points<T>(300, 2, 13, uniform);
    const auto weights = global_matrix<T>(3000, 2, 12, -1, 1);
    HostMatrix<long double> expected, magnitude;
    reference_kernel_sum(spec, targets, sources, weights, expected, magnitude);
    const auto host_sources = on_host(rows_on_device(sources, {0, 3000}));
    const auto host_targets = on_host(rows_on_device(targets, {0, 300}));
    const auto tree = kinterp::ClusterTree<T, MemorySpace>::build(host_sources, 3000, 2, 24, 6);
    const auto batches = kinterp::TreeBatches<T, MemorySpace>::build(host_targets, 300, 2, 32);
    const auto charges =
        kinterp::make_proxy_charges(Space(), tree, rows_on_device(weights, {0, 3000}));
    const auto rule = kinterp::FarFieldRule::make<T>(spec, tolerance, 2, 6);
    DeviceMatrix<T> out("out", 300, 2);
    Kokkos::View<double* [2], MemorySpace> work("work", batches.leaves.extent(0));
    kinterp::thread_per_target_tree_kernel_sum(Space(), kernel, T(spec.variance), rule, batches,
                                               tree, charges, out, work);
    Space().fence();
    expect_within(expected, magnitude, 1, on_host(out), 0, tolerance, "target");
    double far = 0;
    const auto per_batch = on_host(work);
    for (std::size_t b = 0; b < per_batch.extent(0); ++b) far += per_batch(b, 1);
    EXPECT_GT(far, 0) << "the far field was not used";
  };
  check_family({KernelFamily::Gaussian, 50.0, 1.0}, kinterp::GaussianKernel<T>{T(50.0)});
  check_family({KernelFamily::Matern32, 20.0, 1.0}, kinterp::Matern32Kernel<T>{T(20.0)});
}

TEST(SpatialPartition, BalancedAndReversible) {
  // Half the points duplicated (equal keys: the row breaks the tie), the
  // rest uniform; rows carry their global number through the move.
  const std::int64_t n = 1003;
  const auto all =
      points<double>(n, 2, 31, [](std::int64_t i, int, double u) { return i % 2 == 0 ? 0.25 : u; });
  const auto block = my_block(n);
  kinterp::SpatialPartition::HostRows<double> mine("mine", block.count, 3);
  for (std::int64_t i = 0; i < block.count; ++i) {
    for (int k = 0; k < 2; ++k) mine(i, k) = all(block.begin + i, k);
    mine(i, 2) = static_cast<double>(block.begin + i);
  }
  const kinterp::Communicator comm(MPI_COMM_WORLD);
  const kinterp::SpatialPartition partition(comm, mine, block.count, 2);
  EXPECT_EQ(partition.local_count(), kinterp::block_partition(n, world_rank(), world_size()).count);
  EXPECT_LE(partition.imbalance(), 1.0 + world_size() / static_cast<double>(n));
  kinterp::SpatialPartition::HostRows<double> moved("moved", partition.local_count(), 3);
  partition.forward<double>(mine, moved);
  double numbers = 0;
  for (std::int64_t i = 0; i < partition.local_count(); ++i) {
    const auto row = static_cast<std::int64_t>(moved(i, 2));
    for (int k = 0; k < 2; ++k) ASSERT_EQ(moved(i, k), all(row, k)) << "row " << row;
    numbers += moved(i, 2);
  }
  MPI_Allreduce(MPI_IN_PLACE, &numbers, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_EQ(numbers, 0.5 * n * (n - 1)) << "every row arrives once";
  kinterp::SpatialPartition::HostRows<double> back("back", block.count, 3);
  partition.backward<double>(moved, back);
  for (std::int64_t i = 0; i < block.count; ++i)
    for (int k = 0; k < 3; ++k) ASSERT_EQ(back(i, k), mine(i, k)) << "row " << i;
}

TEST(TreeProduct, MoreRanksDoNotAddWork) {
  // The sources are partitioned by space, so each rank's targets meet the
  // other ranks' blocks mostly as far clusters: the kernel values per target
  // stay near one rank's. (Blocks of the caller's rows, spread over the
  // whole square, would need about P times as many.)
  const std::int64_t n = sanitized ? 4000 : 20000;
  const auto all = points<double>(n, 2, 21, uniform);
  const auto weights = global_matrix<double>(n, 1, 22, -1, 1);
  const KernelSpec spec{KernelFamily::Gaussian, 400.0, 1.0};
  const kinterp::TreeOptions options{1e-6};
  const auto work_at_sources = [&](MPI_Comm comm, kinterp::RowBlock block) {
    const kinterp::TreeKernelProduct<double> product(comm, spec, rows_on_device(all, block),
                                                     options);
    DeviceMatrix<double> out("out", block.count, 1);
    product.apply_at_sources(Kokkos::DefaultExecutionSpace(), rows_on_device(weights, block), out);
    return product.last_work();
  };
  const kinterp::TreeWork spread = work_at_sources(MPI_COMM_WORLD, my_block(n));
  const kinterp::TreeWork alone = work_at_sources(MPI_COMM_SELF, {0, n});
  std::printf("kernel values per target: %.4g on %d ranks (work imbalance %.3f), %.4g on one\n",
              spread.pairs_per_target(), world_size(), spread.imbalance(),
              alone.pairs_per_target());
  EXPECT_LE(spread.pairs_per_target(), 1.3 * alone.pairs_per_target());
  // The square cut into equal counts: the ranks' work within 20% of each other.
  EXPECT_LE(spread.imbalance(), 1.2);
  EXPECT_EQ(alone.imbalance(), 1.0);
}

TEST(TreeProduct, BadSettingsAreRefusedOnEveryRank) {
  const auto block = my_block(100);
  const auto sources = rows_on_device(global_matrix<double>(100, 2, 1, 0, 1), block);
  const KernelSpec gaussian{KernelFamily::Gaussian, 10.0, 1.0};
  const auto refused = [&](const kinterp::TreeOptions& options, const char* words) {
    try {
      kinterp::TreeKernelProduct<double> product(MPI_COMM_WORLD, gaussian, sources, options);
      ADD_FAILURE() << "accepted tolerance " << options.tolerance << " degree " << options.degree;
    } catch (const kinterp::Error& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  for (double eps : {0.0, -1.0, 0.5, 1e-13, std::numeric_limits<double>::quiet_NaN(),
                     std::numeric_limits<double>::infinity()}) {
    refused({eps}, "the tolerance is");
  }
  refused({1e-6, 30}, "the degree is");
  refused({1e-6, 0, -1}, "leaf and batch sizes");
  // Float: rounding alone reaches 1e-7.
  const auto sources32 = rows_on_device(global_matrix<float>(100, 2, 1, 0, 1), block);
  EXPECT_THROW(kinterp::TreeKernelProduct<float>(MPI_COMM_WORLD, gaussian, sources32,
                                                 kinterp::TreeOptions{1e-7}),
               kinterp::Error);
  // Four coordinates: the tree takes 1-3.
  const auto sources4 = rows_on_device(global_matrix<double>(100, 4, 1, 0, 1), block);
  try {
    kinterp::TreeKernelProduct<double> product(MPI_COMM_WORLD, gaussian, sources4, {});
    ADD_FAILURE() << "accepted 4 coordinates";
  } catch (const kinterp::Error& e) {
    EXPECT_NE(std::string(e.what()).find("the tree takes 1, 2 or 3"), std::string::npos);
  }
}

}  // namespace
