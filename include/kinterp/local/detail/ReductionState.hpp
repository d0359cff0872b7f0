#pragma once
/// \file ReductionState.hpp
/// What a reduction keeps for one output row while sources stream past, how a
/// value joins it, and how it becomes the output. The state of a row is
/// `values` doubles and `indices` global source indices; it outlives one
/// block of sources, so the blocks of all ranks can pass through it in any
/// order. Ties go to the smaller index and NaN wins every comparison, so the
/// result does not depend on that order and a NaN is never hidden.

#include <kinterp/core/detail/KokkosCompat.hpp>
#include <kinterp/formula/Reduction.hpp>

#include <Kokkos_Core.hpp>

#include <cstdint>

namespace kinterp::detail {

struct ReductionLayout {
  ReductionKind kind = ReductionKind::Sum;
  SumScheme sum_scheme = SumScheme::Block;
  bool double_tiles = false;
  int k = 1;
  int dimension = 1;  ///< of the formula
  int values = 1;     ///< doubles of state per row
  int indices = 0;    ///< indices of state per row
  int columns = 1;    ///< output columns

  ReductionLayout() = default;
  ReductionLayout(const Reduction& reduction, int formula_dimension)
      : kind(reduction.kind),
        sum_scheme(reduction.sum_scheme),
        double_tiles(reduction.double_tiles),
        k(reduction.k),
        dimension(formula_dimension) {
    columns = reduction.output_columns(formula_dimension);
    switch (kind) {
      case ReductionKind::Sum:  // Kahan: the sums, then their compensations
        values = sum_scheme == SumScheme::Kahan ? 2 * dimension : dimension;
        break;
      case ReductionKind::LogSumExp:
      case ReductionKind::MaxSumShiftExp:
        values = 2 * dimension;  // running max, then sum of exp(value - max)
        break;
      case ReductionKind::SumSoftMaxWeight:
      case ReductionKind::LogSumExpWeight:
      case ReductionKind::MaxSumShiftExpWeight:
        values = dimension + 1;  // max of f, sum of exp(f - max), then the weighted sums
        break;
      case ReductionKind::KMin:
      case ReductionKind::ArgKMin:
      case ReductionKind::KMinArgKMin:
        values = indices = k * dimension;  // per component, K sorted ascending
        break;
      default:
        values = indices = dimension;
        break;
    }
  }

  KOKKOS_INLINE_FUNCTION bool maximum() const {
    return kind == ReductionKind::Max || kind == ReductionKind::ArgMax ||
           kind == ReductionKind::MaxArgMax;
  }
};

KOKKOS_INLINE_FUNCTION bool is_nan(double x) {
  return x != x;
}

/// Whether (v, i) goes before (w, j): NaN first, then the smaller value (the
/// larger one for a maximum), then the smaller index.
KOKKOS_INLINE_FUNCTION bool precedes(double v, std::int64_t i, double w, std::int64_t j,
                                     bool maximum) {
  if (is_nan(v) || is_nan(w)) return is_nan(v) && (!is_nan(w) || i < j);
  if (v != w) return maximum ? v > w : v < w;
  return i < j;
}

KOKKOS_INLINE_FUNCTION void reduction_initialise(const ReductionLayout& layout, double* values,
                                                 std::int64_t* indices) {
  const double infinity = Kokkos::Experimental::infinity<double>::value;
  for (int c = 0; c < layout.values; ++c) values[c] = 0;
  for (int c = 0; c < layout.indices; ++c) indices[c] = -1;
  switch (layout.kind) {
    case ReductionKind::Sum:
      break;
    case ReductionKind::LogSumExp:
    case ReductionKind::MaxSumShiftExp:
      for (int c = 0; c < layout.dimension; ++c) values[c] = -infinity;
      break;
    case ReductionKind::SumSoftMaxWeight:
    case ReductionKind::LogSumExpWeight:
    case ReductionKind::MaxSumShiftExpWeight:
      values[0] = -infinity;
      break;
    default:
      for (int c = 0; c < layout.values; ++c) values[c] = layout.maximum() ? -infinity : infinity;
      break;
  }
}

/// exp(a - b) for a <= b, with exp(-inf - -inf) taken as 1 (an empty state).
KOKKOS_INLINE_FUNCTION double exp_difference(double a, double b) {
  return a == b ? 1.0 : math::exp(a - b);
}

/// sum + x into sum, with the rounding error into `compensation` (Neumaier's
/// form of Kahan's summation: exact to double's rounding of the total).
KOKKOS_INLINE_FUNCTION void compensated_add(double& sum, double& compensation, double x) {
  const double total = sum + x;
  const bool larger = (sum < 0 ? -sum : sum) >= (x < 0 ? -x : x);
  compensation += larger ? (sum - total) + x : (x - total) + sum;
  sum = total;
}

/// Adds the pair value f (component c at f[c * stride]) of source `index`.
template <class T>
KOKKOS_INLINE_FUNCTION void reduction_update(const ReductionLayout& layout, double* values,
                                             std::int64_t* indices, const T* f, int stride,
                                             std::int64_t index) {
  const double infinity = Kokkos::Experimental::infinity<double>::value;
  switch (layout.kind) {
    case ReductionKind::Sum:
      for (int c = 0; c < layout.dimension; ++c) {
        if (layout.sum_scheme == SumScheme::Kahan) {
          compensated_add(values[c], values[layout.dimension + c], f[c * stride]);
        } else {
          values[c] += f[c * stride];
        }
      }
      break;
    case ReductionKind::LogSumExp:
    case ReductionKind::MaxSumShiftExp:
      for (int c = 0; c < layout.dimension; ++c) {
        const double v = f[c * stride];
        double &max = values[c], &sum = values[layout.dimension + c];
        if (v == -infinity && !is_nan(max)) continue;  // adds exp(-inf) = 0
        if (is_nan(v) || v > max) {
          sum = sum * exp_difference(max, v) + 1;
          max = v;
        } else {
          sum += exp_difference(v, max);
        }
      }
      break;
    case ReductionKind::SumSoftMaxWeight:
    case ReductionKind::LogSumExpWeight:
    case ReductionKind::MaxSumShiftExpWeight: {
      const double v = f[0];
      double &max = values[0], &sum = values[1];
      if (v == -infinity && !is_nan(max)) break;
      double scale = 1, weight = 1;
      if (is_nan(v) || v > max) {
        scale = exp_difference(max, v);
        max = v;
      } else {
        weight = exp_difference(v, max);
      }
      sum = sum * scale + weight;
      for (int c = 1; c < layout.dimension; ++c) {
        values[1 + c] = values[1 + c] * scale + weight * f[c * stride];
      }
      break;
    }
    case ReductionKind::KMin:
    case ReductionKind::ArgKMin:
    case ReductionKind::KMinArgKMin:
      for (int c = 0; c < layout.dimension; ++c) {
        double* v = values + c * layout.k;
        std::int64_t* i = indices + c * layout.k;
        const double x = f[c * stride];
        int r = layout.k - 1;
        if (!precedes(x, index, v[r], i[r], false)) continue;
        for (; r > 0 && precedes(x, index, v[r - 1], i[r - 1], false); --r) {
          v[r] = v[r - 1];
          i[r] = i[r - 1];
        }
        v[r] = x;
        i[r] = index;
      }
      break;
    default:  // Min, Max and their Arg forms
      for (int c = 0; c < layout.dimension; ++c) {
        const double x = f[c * stride];
        if (precedes(x, index, values[c], indices[c], layout.maximum())) {
          values[c] = x;
          indices[c] = index;
        }
      }
      break;
  }
}

/// The output row (layout.columns doubles) from a row's state.
KOKKOS_INLINE_FUNCTION void reduction_finalise(const ReductionLayout& layout, const double* values,
                                               const std::int64_t* indices, double* out) {
  const int d = layout.dimension, n = layout.indices;
  switch (layout.kind) {
    case ReductionKind::Sum:
      for (int c = 0; c < d; ++c) {
        out[c] = values[c] + (layout.sum_scheme == SumScheme::Kahan ? values[d + c] : 0.0);
      }
      break;
    case ReductionKind::Min:
    case ReductionKind::Max:
    case ReductionKind::KMin:
      for (int c = 0; c < layout.columns; ++c) out[c] = values[c];
      break;
    case ReductionKind::ArgMin:
    case ReductionKind::ArgMax:
    case ReductionKind::ArgKMin:
      for (int c = 0; c < layout.columns; ++c) out[c] = static_cast<double>(indices[c]);
      break;
    case ReductionKind::MinArgMin:
    case ReductionKind::MaxArgMax:
    case ReductionKind::KMinArgKMin:
      for (int c = 0; c < n; ++c) {
        out[c] = values[c];
        out[n + c] = static_cast<double>(indices[c]);
      }
      break;
    case ReductionKind::LogSumExp:
      for (int c = 0; c < d; ++c) out[c] = values[c] + math::log(values[d + c]);
      break;
    case ReductionKind::MaxSumShiftExp:
      for (int c = 0; c < 2 * d; ++c) out[c] = values[c];
      break;
    case ReductionKind::SumSoftMaxWeight:
      for (int c = 1; c < d; ++c) out[c - 1] = values[1 + c] / values[1];
      break;
    case ReductionKind::LogSumExpWeight:
      for (int c = 1; c < d; ++c) out[c - 1] = values[0] + math::log(values[1 + c]);
      break;
    case ReductionKind::MaxSumShiftExpWeight:
      out[0] = values[0];
      for (int c = 1; c < d; ++c) out[c] = values[1 + c];
      break;
  }
}

}  // namespace kinterp::detail
