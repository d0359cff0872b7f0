#pragma once
/// \file Reduction.hpp
/// KeOps' reduction operations (Genred's reduction_op), what each one keeps
/// while it runs and what it outputs.

#include <string>
#include <vector>

namespace kinterp {

enum class ReductionKind {
  Sum,
  Min,
  Max,
  ArgMin,
  ArgMax,
  MinArgMin,
  MaxArgMax,
  LogSumExp,         ///< log sum_j exp(f_ij), per component, max-shifted
  SumSoftMaxWeight,  ///< sum_j exp(f_ij) g_ij / sum_j exp(f_ij); the formula is Concat(f, g)
  LogSumExpWeight,   ///< log sum_j exp(f_ij) g_ij, per component of g; Concat(f, g)
  /// m = max_j f_ij and s = sum_j exp(f_ij - m), per component: the state
  /// LogSumExp keeps, for the caller to combine (KeOps' Max_SumShiftExp)
  MaxSumShiftExp,
  /// m = max_j f_ij and s = sum_j exp(f_ij - m) g_ij; Concat(f, g)
  MaxSumShiftExpWeight,
  KMin,         ///< the K smallest values per component, ascending
  ArgKMin,      ///< their indices
  KMinArgKMin,  ///< both
};

/// A reduction and, for the KMin family, its K.
struct Reduction {
  ReductionKind kind = ReductionKind::Sum;
  int k = 1;

  /// "Sum", "Min_ArgMin", ... as KeOps writes them ("MinArgMin" is accepted
  /// too). Throws kinterp::Error naming the closest known reduction.
  static Reduction parse(const std::string& name, int k = 1);

  /// Every name parse() knows, for help texts.
  static std::vector<std::string> names();

  /// KeOps' name.
  std::string name() const;

  /// Output columns for a formula of dimension `dimension`: the values (and
  /// indices) of each component; K of each for the KMin family; m and s of
  /// each for MaxSumShiftExp; for the weighted reductions of Concat(f, g),
  /// dim g (SumSoftMaxWeight, LogSumExpWeight) or m and dim g sums
  /// (MaxSumShiftExpWeight). Throws kinterp::Error when the formula does not
  /// fit the reduction (a weighted one of dimension 1, K < 1).
  int output_columns(int dimension) const;

  /// Whether the output holds indices (global, 0-based, as exact doubles).
  bool has_indices() const;

  /// Whether it is of the KMin family, which takes K.
  bool takes_k() const;

  /// Whether it reduces Concat(f, g), a scalar f and weights g (KeOps'
  /// formula2): SumSoftMaxWeight, LogSumExpWeight, MaxSumShiftExpWeight.
  bool weighted() const;
};

}  // namespace kinterp
