#pragma once
// Device-side packing for formulas F(X, Y, A) on the generic evaluator, shared
// by FormulaSolve (sources at the points) and KernelModel::predict (the
// fitted model at other targets).

#include <kinterp/formula/Program.hpp>

#include <Kokkos_Core.hpp>

#include <cstdint>
#include <string>

namespace kinterp::detail {

/// Where the points (Y) and the unknown (A) sit in a source row of `program`.
struct SourceOffsets {
  int points = 0, unknown = 0;
};

inline SourceOffsets source_offsets(const Program& program, const std::string& unknown) {
  SourceOffsets offsets;
  for (const auto& source : program.sources) {
    (source.name == unknown ? offsets.unknown : offsets.points) = source.offset;
  }
  return offsets;
}

/// sources(i, :) = [points(i, :) at offsets.points, x(i, :) at offsets.unknown].
template <class Space, class Sources, class Rows>
void pack_source_rows(const Space& space, const Sources& sources, const Rows& points, const Rows& x,
                      const SourceOffsets offsets) {
  Kokkos::parallel_for(
      "kinterp::pack_source_rows", Kokkos::RangePolicy<Space>(space, 0, points.extent(0)),
      KOKKOS_LAMBDA(const std::int64_t i) {
        for (std::size_t k = 0; k < points.extent(1); ++k)
          sources(i, offsets.points + k) = points(i, k);
        for (std::size_t c = 0; c < x.extent(1); ++c) sources(i, offsets.unknown + c) = x(i, c);
      });
}

/// y = out, rounded to y's type (the generic evaluator accumulates in double).
template <class Space, class Out, class Y>
void copy_from_double(const Space& space, const Out& out, const Y& y) {
  using T = typename Y::non_const_value_type;
  Kokkos::parallel_for(
      "kinterp::copy_from_double", Kokkos::RangePolicy<Space>(space, 0, y.extent(0)),
      KOKKOS_LAMBDA(const std::int64_t i) {
        for (std::size_t c = 0; c < y.extent(1); ++c) y(i, c) = static_cast<T>(out(i, c));
      });
}

}  // namespace kinterp::detail
