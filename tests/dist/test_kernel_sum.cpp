// KernelSum over 1-4 ranks against a long double loop over the global data:
// every family, float and double, several dimensions and right-hand sides (up
// to 16), more ranks than points, and targets distributed unlike the sources.
// Every rank count meets the same bound, so they agree with each other to
// rounding. Tolerances relative to the sum of |terms|: see
// tests/local/test_local_kernel_sum.cpp (a few u per term, float partial sums
// over tiles of <= 256 sources).

#include <kinterp/KernelSum.hpp>

#include "../DistributedData.hpp"

#include <gtest/gtest.h>

namespace {

using namespace kinterp::test;
using kinterp::KernelFamily;
using kinterp::KernelSpec;

template <class T>
void check(const KernelSpec& spec, std::int64_t n_sources, std::int64_t n_targets, int dim,
           int columns, double tolerance) {
  SCOPED_TRACE(::testing::Message()
               << to_string(spec.family) << " sources=" << n_sources << " targets=" << n_targets
               << " dim=" << dim << " columns=" << columns << " ranks=" << world_size());
  const auto sources = global_matrix<T>(n_sources, dim, 11, 0, 1);
  const auto weights = global_matrix<T>(n_sources, columns, 12, -1, 1);
  const auto targets = global_matrix<T>(n_targets, dim, 13, -0.2, 1.2);
  HostMatrix<long double> expected, magnitude;
  reference_kernel_sum(spec, targets, sources, weights, expected, magnitude);

  const auto source_block = my_block(n_sources);
  // Targets are split the other way round: the last rank gets the most.
  auto target_block =
      kinterp::block_partition(n_targets, world_size() - 1 - world_rank(), world_size());
  target_block.begin = 0;
  for (int r = 0; r < world_rank(); ++r)
    target_block.begin +=
        kinterp::block_partition(n_targets, world_size() - 1 - r, world_size()).count;

  const kinterp::KernelSum<T> sum(MPI_COMM_WORLD, spec, rows_on_device(sources, source_block));
  DeviceMatrix<T> out("out", target_block.count, columns);
  sum(rows_on_device(targets, target_block), rows_on_device(weights, source_block), out);
  const auto result = on_host(out);
  for (std::int64_t i = 0; i < target_block.count; ++i) {
    for (int c = 0; c < columns; ++c) {
      const std::int64_t global = target_block.begin + i;
      ASSERT_LE(std::fabs(result(i, c) - expected(global, c)), tolerance * magnitude(global, c))
          << "target row " << global << " column " << c;
    }
  }
}

TEST(KernelSum, EveryFamilyMatchesTheLongDoubleLoop) {
  const KernelSpec specs[] = {
      {KernelFamily::Gaussian, 50.0, 1.0},  {KernelFamily::Laplacian, 10.0, 1.0},
      {KernelFamily::Matern32, 7.0, 2.0},   {KernelFamily::Matern52, 3.0, 1.0},
      {KernelFamily::Cauchy, 20.0, 1.0},    {KernelFamily::InverseMultiquadric, 5.0, 0.5},
      {KernelFamily::Spherical, 1.6, 1.0},  {KernelFamily::RationalQuadratic, 5.0, 1.0, 1.7},
      {KernelFamily::Matern, 6.0, 1.0, 1.2}};
  for (const auto& spec : specs) {
    check<double>(spec, 700, 301, 2, 1, 1e-13);
    check<double>(spec, 333, 100, 3, 3, 1e-13);
    check<float>(spec, 700, 301, 2, 1, 2e-6);
  }
}

TEST(KernelSum, DimensionsAndColumnCounts) {
  const KernelSpec gaussian{KernelFamily::Gaussian, 5.0, 1.0};
  for (int dim : {1, 2, 3, 4, 7}) {
    for (int columns : {1, 2, 5}) check<double>(gaussian, 257, 63, dim, columns, 1e-13);
  }
}

TEST(KernelSum, UpToSixteenRightHandSidesAndHighDimensions) {
  // Every weight column computed from one evaluation of each kernel value, in
  // compile-time (3) and runtime (5, 16) dimensions.
  const KernelSpec gaussian{KernelFamily::Gaussian, 5.0, 1.0};
  const KernelSpec laplacian{KernelFamily::Laplacian, 3.0, 2.0};
  for (const auto& spec : {gaussian, laplacian}) {
    check<double>(spec, 300, 77, 3, 16, 1e-13);
    check<double>(spec, 300, 77, 16, 5, 1e-13);
    check<float>(spec, 300, 77, 5, 16, 2e-6);
  }
}

TEST(KernelSum, FewerPointsThanRanksAndEmptyRanks) {
  const KernelSpec laplacian{KernelFamily::Laplacian, 2.0, 1.0};
  check<double>(laplacian, 1, 5, 2, 1, 1e-13);
  check<double>(laplacian, 3, 2, 1, 2, 1e-13);
  check<double>(laplacian, 0, 4, 2, 1, 0);  // no sources: the sum is 0
  check<double>(laplacian, 5, 0, 2, 1, 0);  // no targets anywhere
}

TEST(KernelSum, NanInOneRanksWeightsIsReportedOnEveryRank) {
  const std::int64_t n = 40;
  const auto points = global_matrix<double>(n, 2, 1, 0, 1);
  auto weights = global_matrix<double>(n, 1, 2, 0, 1);
  weights(n - 1, 0) = std::nan("");  // owned by the last rank only
  const auto block = my_block(n);
  const kinterp::KernelSum<double> sum(MPI_COMM_WORLD, {KernelFamily::Gaussian, 1.0, 1.0},
                                       rows_on_device(points, block));
  DeviceMatrix<double> out("out", block.count, 1);
  try {
    sum(rows_on_device(points, block), rows_on_device(weights, block), out);
    FAIL() << "no error";
  } catch (const kinterp::Error& e) {
    EXPECT_NE(std::string(e.what()).find("NaN or Inf in the weights (first in row 39"),
              std::string::npos)
        << e.what();
  }
}

TEST(KernelSum, MismatchedWeightRowsAreReportedOnEveryRank) {
  const std::int64_t n = 10;
  const auto points = global_matrix<double>(n, 1, 1, 0, 1);
  const auto block = my_block(n);
  const kinterp::KernelSum<double> sum(MPI_COMM_WORLD, {KernelFamily::Gaussian, 1.0, 1.0},
                                       rows_on_device(points, block));
  // Rank 0 passes one weight row too many.
  kinterp::RowBlock wrong = block;
  if (world_rank() == 0) wrong.count += 1;
  const auto weights = global_matrix<double>(n + 1, 1, 2, 0, 1);
  DeviceMatrix<double> out("out", block.count, 1);
  EXPECT_THROW(sum(rows_on_device(points, block), rows_on_device(weights, wrong), out),
               kinterp::Error);
}

TEST(KernelSum, RanksThatDisagreeOnTheDimensionGetOneMessage) {
  if (world_size() == 1) GTEST_SKIP() << "needs two ranks";
  const int dim = world_rank() == world_size() - 1 ? 3 : 2;
  const auto points = global_matrix<double>(8, dim, 1, 0, 1);
  try {
    kinterp::KernelSum<double>(MPI_COMM_WORLD, {KernelFamily::Gaussian, 1.0, 1.0},
                               rows_on_device(points, my_block(8)));
    FAIL() << "no error";
  } catch (const kinterp::Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "the source points have 3 coordinates on rank " + std::to_string(world_size() - 1) +
                  " but 2 on rank 0: every rank must pass rows of the same width");
  }
}

TEST(KernelSum, InvalidKernelScaleIsRefused) {
  const auto points = global_matrix<double>(4, 1, 1, 0, 1);
  EXPECT_THROW(kinterp::KernelSum<double>(MPI_COMM_WORLD, {KernelFamily::Gaussian, -1.0, 1.0},
                                          rows_on_device(points, my_block(4))),
               kinterp::Error);
}

}  // namespace
