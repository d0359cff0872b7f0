#include <kinterp/core/Collective.hpp>
#include <kinterp/kriging/CrossValidation.hpp>

#include "Reductions.hpp"

#include <cmath>

namespace kinterp {

namespace {

using Matrix = Kriging::Matrix;
using HostMatrix = Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::HostSpace>;

/// The rows of `from` whose flag is `keep`, on the device.
template <class Rows>
Matrix select_rows(const Rows& from, const std::vector<bool>& held_out, bool keep) {
  std::int64_t count = 0;
  for (bool h : held_out) count += h == keep;
  HostMatrix host("kinterp::cv::rows", count, from.extent(1));
  std::int64_t next = 0;
  for (std::size_t i = 0; i < held_out.size(); ++i) {
    if (held_out[i] != keep) continue;
    for (std::size_t k = 0; k < from.extent(1); ++k) host(next, k) = from(i, k);
    ++next;
  }
  return Kokkos::create_mirror_view_and_copy(Kokkos::DefaultExecutionSpace::memory_space(), host);
}

}  // namespace

CrossValidationResult cross_validate(MPI_Comm comm, const CovarianceModel& model,
                                     const Kriging::ConstMatrix& points,
                                     const Kriging::ConstMatrix& values,
                                     const KrigingOptions& options, int folds) {
  const double start = MPI_Wtime();
  const detail::RowBlocks blocks(comm, points.extent(0));
  throw_if_any(comm, folds < 2 || folds > blocks.total(),
               "cross-validation takes from 2 folds to one per point (" +
                   std::to_string(blocks.total()) + "), got " + std::to_string(folds));
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  const std::int64_t first = blocks.offsets[rank];
  const auto host_points = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), points);
  const auto host_values = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), values);
  CrossValidationResult result;
  result.folds = folds;
  double squares = 0, absolutes = 0;
  for (int f = 0; f < folds; ++f) {
    std::vector<bool> held_out(points.extent(0));
    for (std::size_t i = 0; i < held_out.size(); ++i) {
      held_out[i] = (first + static_cast<std::int64_t>(i)) % folds == f;
    }
    const Kriging kriging(comm, model, select_rows(host_points, held_out, false),
                          select_rows(host_values, held_out, false), options);
    result.converged = result.converged && kriging.fit_result().converged();
    const Matrix targets = select_rows(host_points, held_out, true);
    const Matrix truth = select_rows(host_values, held_out, true);
    Matrix predicted("kinterp::cv::predicted", targets.extent(0), 1);
    kriging.mean(targets, predicted);
    const auto p = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), predicted);
    const auto t = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), truth);
    double sums[3] = {0, 0, static_cast<double>(p.extent(0))};  // squares, absolutes, count
    for (std::size_t i = 0; i < p.extent(0); ++i) {
      const double e = t(i, 0) - p(i, 0);
      sums[0] += e * e;
      sums[1] += std::abs(e);
    }
    MPI_Allreduce(MPI_IN_PLACE, sums, 3, MPI_DOUBLE, MPI_SUM, comm);
    squares += sums[0];
    absolutes += sums[1];
    result.fold_rmse.push_back(std::sqrt(sums[0] / sums[2]));
  }
  const double n = static_cast<double>(blocks.total());
  result.rmse = std::sqrt(squares / n);
  result.mae = absolutes / n;
  result.seconds = MPI_Wtime() - start;
  return result;
}

}  // namespace kinterp
