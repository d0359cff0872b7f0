#pragma once
// The global reductions of the kriging layer: column dot products and cross
// products of distributed multivectors (local sums, one MPI_Allreduce), and
// where each rank's rows sit in the global order.

#include <mpi.h>
#include <kinterp/solve/ConjugateGradient.hpp>

#include <KokkosBlas3_gemm.hpp>
#include <Kokkos_Core.hpp>

#include <cstdint>
#include <vector>

namespace kinterp::detail {

using KrigingMatrix = Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::DefaultExecutionSpace>;
using ConstKrigingMatrix =
    Kokkos::View<const double**, Kokkos::LayoutRight, Kokkos::DefaultExecutionSpace>;

/// Global column-wise dot products x(:, c) . y(:, c) (CG's ColumnDots).
inline std::vector<double> column_dots(MPI_Comm comm, const ConstKrigingMatrix& x,
                                       const ConstKrigingMatrix& y) {
  if (x.extent(1) == 0) return {};
  return ColumnDots<ConstKrigingMatrix>(comm, static_cast<int>(x.extent(1)))(x, y);
}

/// Global a^T b (a: n x p, b: n x r), row-major p x r, on the host: a local
/// GEMM, then one MPI_Allreduce.
inline std::vector<double> cross_products(MPI_Comm comm, const ConstKrigingMatrix& a,
                                          const ConstKrigingMatrix& b) {
  const int p = static_cast<int>(a.extent(1)), r = static_cast<int>(b.extent(1));
  KrigingMatrix local("kinterp::kriging::cross", p, r);
  if (a.extent(0) > 0 && p > 0 && r > 0) KokkosBlas::gemm("T", "N", 1.0, a, b, 0.0, local);
  const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), local);
  std::vector<double> sums(host.data(), host.data() + p * r);
  MPI_Allreduce(MPI_IN_PLACE, sums.data(), p * r, MPI_DOUBLE, MPI_SUM, comm);
  return sums;
}

/// The rows a rank holds, as [offset, offset + count) of the global order.
struct RowBlocks {
  std::vector<std::int64_t> offsets;  // size ranks + 1
  RowBlocks(MPI_Comm comm, std::int64_t count) {
    int ranks = 1;
    MPI_Comm_size(comm, &ranks);
    std::vector<std::int64_t> counts(ranks);
    MPI_Allgather(&count, 1, MPI_INT64_T, counts.data(), 1, MPI_INT64_T, comm);
    offsets.assign(ranks + 1, 0);
    for (int r = 0; r < ranks; ++r) offsets[r + 1] = offsets[r] + counts[r];
  }
  std::int64_t total() const { return offsets.back(); }
};

}  // namespace kinterp::detail
