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

/// How a Sum adds its terms up (KeOps' sum_scheme; the output is double).
enum class SumScheme {
  Block,   ///< block_sum: tiles of 128 pairs summed in the accumulator type, then in double
  Direct,  ///< direct_sum: each term added to the double total
  Kahan,   ///< kahan_scheme: each term added to a compensated (Neumaier) double total
};

/// A reduction and, for the KMin family, its K; for Sum, how it adds.
struct Reduction {
  ReductionKind kind = ReductionKind::Sum;
  int k = 1;
  SumScheme sum_scheme = SumScheme::Block;
  /// KeOps' dtype_acc for float data: Block's tiles summed in double rather
  /// than float. Double data always accumulate in double.
  bool double_tiles = false;

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
  /// fit the reduction (a weighted one of dimension 1, K < 1), or the
  /// sum_scheme does not (set_accumulation).
  int output_columns(int dimension) const;

  /// Whether the output holds indices (global, 0-based, as exact doubles).
  bool has_indices() const;

  /// Whether it is of the KMin family, which takes K.
  bool takes_k() const;

  /// Sets sum_scheme from KeOps' names ("block_sum", "direct_sum",
  /// "kahan_scheme"; "auto" is block_sum) and double_tiles from dtype_acc
  /// ("auto", "float32", "float64"). Throws kinterp::Error for an unknown
  /// name, and for a scheme other than block_sum on a reduction other than
  /// Sum (its state is exact enough already: a max, a shifted sum).
  void set_accumulation(const std::string& sum_scheme, const std::string& dtype_acc);

  /// KeOps' name of sum_scheme.
  std::string sum_scheme_name() const;

  /// Whether it reduces Concat(f, g), a scalar f and weights g (KeOps'
  /// formula2): SumSoftMaxWeight, LogSumExpWeight, MaxSumShiftExpWeight.
  bool weighted() const;

 private:
  void require_scheme_fits() const;
};

}  // namespace kinterp
