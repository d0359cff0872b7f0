#pragma once
/// \file Genred.hpp
/// KeOps' Genred(formula, aliases, reduction_op, axis) for any formula, with
/// the target and source rows spread over MPI ranks: the formula is compiled
/// to a Program and interpreted on the device (formula/Program.hpp).

#include <kinterp/dist/RingReduction.hpp>
#include <kinterp/formula/Formula.hpp>
#include <kinterp/formula/Reduction.hpp>
#include <kinterp/local/LocalMatrix.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kinterp {

/// out_i = Reduction_j F(t_i, s_j) over all ranks' source rows s_j. The
/// variables of the formula are packed: a target row is the concatenation of
/// the target variables (Vi for axis 1, Vj for axis 0) in argument order,
/// a source row that of the others (program().targets / sources say where
/// each variable sits). Compiled for T = float and double on Kokkos' default
/// execution space; the output is in double (indices are exact).
template <class T>
class Genred {
 public:
  using execution_space = Kokkos::DefaultExecutionSpace;
  using ConstMatrix = LocalMatrix<const T>;
  using Output = LocalMatrix<double>;
  using memory_space = execution_space::memory_space;

  /// Collective over `comm` (duplicated inside). `sources`: this rank's
  /// packed source rows (any count, 0 included). Throws FormulaError for a
  /// parameter that is missing or wrongly sized, kinterp::Error for a formula
  /// the reduction does not fit or rows of the wrong width, on every rank.
  Genred(MPI_Comm comm, const Formula& formula,
         const std::map<std::string, std::vector<double>>& parameters, const Reduction& reduction,
         int axis, const ConstMatrix& sources);

  /// Collective. out (n_t x output_columns()) for this rank's packed target
  /// rows (n_t x program().target_width). Throws kinterp::Error on every rank
  /// for rows or output of the wrong shape.
  RingTimings operator()(const ConstMatrix& targets, const Output& out) const;

  const Program& program() const { return program_; }
  const Reduction& reduction() const { return reduction_; }
  int output_columns() const { return layout_.columns; }
  /// The number of source rows over all ranks.
  std::int64_t source_count() const { return ring_.global_count(); }

 private:
  Program program_;
  Reduction reduction_;
  detail::ReductionLayout layout_;
  DeviceProgram<T, execution_space> device_program_;
  Communicator comm_;
  RingReduction<T, execution_space> ring_;
};

extern template class Genred<float>;
extern template class Genred<double>;

}  // namespace kinterp
