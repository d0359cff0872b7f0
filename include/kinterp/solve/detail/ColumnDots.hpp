#pragma once
/// \file ColumnDots.hpp
/// CG's global dot products, one per column of a multivector.

#include <mpi.h>
#include <KokkosBlas1_dot.hpp>
#include <Kokkos_Core.hpp>

#include <string>
#include <utility>
#include <vector>

namespace kinterp::detail {

/// Global column-wise dot products of multivectors: local KokkosBlas::dot, one
/// MPI_Allreduce for all the products asked for together.
template <class Matrix>
class ColumnDots {
 public:
  using T = typename Matrix::non_const_value_type;
  using Vector = Kokkos::View<T*, typename Matrix::memory_space>;

  ColumnDots(MPI_Comm comm, int columns)
      : comm_(comm), columns_(columns), local_(std::string("kinterp::cg::dots"), 2 * columns) {}

  /// [x1.y1 per column], or [x1.y1 per column, x2.y2 per column].
  template <class X1, class Y1>
  std::vector<double> operator()(const X1& x1, const Y1& y1) const {
    return reduce(1, x1, y1, x1, y1);
  }
  template <class X1, class Y1, class X2, class Y2>
  std::vector<double> operator()(const X1& x1, const Y1& y1, const X2& x2, const Y2& y2) const {
    return reduce(2, x1, y1, x2, y2);
  }

 private:
  template <class X1, class Y1, class X2, class Y2>
  std::vector<double> reduce(int pairs, const X1& x1, const Y1& y1, const X2& x2,
                             const Y2& y2) const {
    const auto first = Kokkos::subview(local_, std::make_pair(0, columns_));
    KokkosBlas::dot(first, x1, y1);
    if (pairs == 2) {
      KokkosBlas::dot(Kokkos::subview(local_, std::make_pair(columns_, 2 * columns_)), x2, y2);
    }
    auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), local_);
    std::vector<double> sums(pairs * columns_);
    for (int k = 0; k < pairs * columns_; ++k) sums[k] = static_cast<double>(host(k));
    MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPI_DOUBLE, MPI_SUM,
                  comm_);
    return sums;
  }

  MPI_Comm comm_;
  int columns_;
  Vector local_;
};

}  // namespace kinterp::detail
