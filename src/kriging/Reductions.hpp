#pragma once
// The global reductions of the kriging layer: column dot products and cross
// products of distributed multivectors (local sums, one MPI_Allreduce), and
// where each rank's rows sit in the global order.

#include <mpi.h>
#include <KokkosBlas1_dot.hpp>
#include <Kokkos_Core.hpp>

#include <cstdint>
#include <vector>

namespace kinterp::detail {

using KrigingMatrix = Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::DefaultExecutionSpace>;
using ConstKrigingMatrix =
    Kokkos::View<const double**, Kokkos::LayoutRight, Kokkos::DefaultExecutionSpace>;

/// Global column-wise dot products x(:, c) . y(:, c).
inline std::vector<double> column_dots(MPI_Comm comm, const ConstKrigingMatrix& x,
                                       const ConstKrigingMatrix& y) {
  Kokkos::View<double*, Kokkos::DefaultExecutionSpace::memory_space> local("kinterp::kriging::dots",
                                                                           x.extent(1));
  if (x.extent(1) > 0) KokkosBlas::dot(local, x, y);
  const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), local);
  std::vector<double> sums(host.data(), host.data() + host.extent(0));
  MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPI_DOUBLE, MPI_SUM,
                comm);
  return sums;
}

/// Global a^T b (a: n x p, b: n x r), row-major p x r, on the host.
inline std::vector<double> cross_products(MPI_Comm comm, const ConstKrigingMatrix& a,
                                          const ConstKrigingMatrix& b) {
  const int p = static_cast<int>(a.extent(1)), r = static_cast<int>(b.extent(1));
  Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::DefaultExecutionSpace::memory_space> local(
      "kinterp::kriging::cross", p, r);
  Kokkos::parallel_for(
      "kinterp::kriging::cross_products",
      Kokkos::MDRangePolicy<Kokkos::DefaultExecutionSpace, Kokkos::Rank<2>>({0, 0}, {p, r}),
      KOKKOS_LAMBDA(const int k, const int l) {
        double sum = 0;
        for (std::size_t i = 0; i < a.extent(0); ++i) sum += a(i, k) * b(i, l);
        local(k, l) = sum;
      });
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
