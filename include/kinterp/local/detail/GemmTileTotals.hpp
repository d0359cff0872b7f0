#pragma once
/// \file GemmTileTotals.hpp
/// The GEMM kernel sum's accumulation (GemmKernelSum.hpp): tile products into
/// double totals, totals into the output.

#include <Kokkos_Core.hpp>

namespace kinterp::detail::gemm_sum {

/// totals(i, c) += products(i, c): a tile's sums, from T into the double totals.
template <class Products, class Totals>
struct AddProducts {
  Products products;
  Totals totals;
  KOKKOS_INLINE_FUNCTION void operator()(int i) const {
    for (int c = 0; c < static_cast<int>(totals.extent(1)); ++c) totals(i, c) += products(i, c);
  }
};

/// out(begin + i, c) += scale * totals(i, c).
template <class Out, class Totals>
struct AddTotals {
  using T = typename Out::non_const_value_type;
  Out out;
  Totals totals;
  T scale;
  int begin;
  KOKKOS_INLINE_FUNCTION void operator()(int i) const {
    for (int c = 0; c < static_cast<int>(totals.extent(1)); ++c)
      out(begin + i, c) += scale * static_cast<T>(totals(i, c));
  }
};

}  // namespace kinterp::detail::gemm_sum
