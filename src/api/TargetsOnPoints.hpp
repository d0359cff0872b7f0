#pragma once
// Refusing the derivatives of a kernel with a cusp at r = 0 at targets that
// coincide with a point, on every rank.

#include <kinterp/core/Error.hpp>
#include <kinterp/kernels/KernelSpec.hpp>
#include <kinterp/local/LocalMatrix.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <cstdint>
#include <string>

namespace kinterp::detail {

/// The number of rows with a value in columns [begin, end) that is positive
/// (`positive`) or not finite (otherwise).
template <class T>
struct CountRows {
  LocalMatrix<const T> sums;
  std::int64_t begin, end;
  bool positive;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i, double& count) const {
    bool found = false;
    for (std::int64_t k = begin; k < end; ++k) {
      const T v = sums(i, k);
      found = found || (positive ? v > 0 : !(v - v == 0));  // v - v: NaN for inf and NaN
    }
    count += found ? 1 : 0;
  }
};

/// Throws on every rank when any rank's `sums` has a row CountRows finds:
/// targets on the points of a kernel with a cusp at r = 0.
template <class T>
void refuse_targets_on_points(MPI_Comm comm, const KernelSpec& kernel, const std::string& what,
                              const CountRows<T>& rows) {
  double on_points = 0;
  Kokkos::parallel_reduce(
      "kinterp::derivative::on_points",
      Kokkos::RangePolicy<Kokkos::DefaultExecutionSpace>(0, rows.sums.extent(0)), rows, on_points);
  MPI_Allreduce(MPI_IN_PLACE, &on_points, 1, MPI_DOUBLE, MPI_SUM, comm);
  if (on_points > 0) {
    throw Error("the " + to_string(kernel.family) + " kernel has a cusp at r = 0, so the model " +
                "has no " + what + " at its points, and " +
                std::to_string(static_cast<long long>(on_points)) +
                " target(s) coincide with points: move them off the points, or fit a kernel "
                "that is smooth at 0 (gaussian, matern32, matern52, cauchy, imq, rq)");
  }
}

}  // namespace kinterp::detail
