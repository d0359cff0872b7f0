#pragma once
/// \file GemmTilePacking.hpp
/// The GEMM kernel sum's operands (GemmKernelSum.hpp): the common centre,
/// the shifted points with their squared norms, and the packed weights.

#include <Kokkos_Core.hpp>

namespace kinterp::detail::gemm_sum {

/// center(k) = mean of coordinate k over every stride-th source (one team per
/// coordinate). Any centre is correct; one inside the data keeps S small, and
/// a sample of about a tile of sources costs next to nothing.
template <class ExecutionSpace, class Sources, class Center>
struct SourceMean {
  using member_type = typename Kokkos::TeamPolicy<ExecutionSpace>::member_type;
  using T = typename Center::non_const_value_type;
  Sources sources;
  Center center;
  int stride;
  KOKKOS_INLINE_FUNCTION void operator()(const member_type& team) const {
    const int k = team.league_rank();
    const int count = (static_cast<int>(sources.extent(0)) + stride - 1) / stride;
    double sum = 0;
    Kokkos::parallel_reduce(
        Kokkos::TeamThreadRange(team, count),
        [&](int j, double& partial) { partial += sources(j * stride, k); }, sum);
    Kokkos::single(Kokkos::PerTeam(team), [&] { center(k) = static_cast<T>(sum / count); });
  }
};

/// packed(i, :) = points(begin + i, :) - center and norms(i) = |packed(i, :)|^2,
/// from the rounded shifted values that the GEMM will see.
template <class Points, class Packed, class Center, class Norms>
struct PackCentred {
  using T = typename Packed::non_const_value_type;
  Points points;
  Packed packed;
  Center center;
  Norms norms;
  int begin;
  KOKKOS_INLINE_FUNCTION void operator()(int i) const {
    T norm = 0;
    for (int k = 0; k < static_cast<int>(packed.extent(1)); ++k) {
      const T value = points(begin + i, k) - center(k);
      packed(i, k) = value;
      norm += value * value;
    }
    norms(i) = norm;
  }
};

/// packed(j, c) = weights(begin + j, c), zero in the padding columns c >= m.
template <class Weights, class Packed>
struct PackWeights {
  Weights weights;
  Packed packed;
  int begin;
  KOKKOS_INLINE_FUNCTION void operator()(int j) const {
    const int m = static_cast<int>(weights.extent(1));
    for (int c = 0; c < static_cast<int>(packed.extent(1)); ++c)
      packed(j, c) = c < m ? weights(begin + j, c) : 0;
  }
};

}  // namespace kinterp::detail::gemm_sum
