#pragma once
// The solvers' collective check of b and the solution: the same
// kinterp::Error on every rank, naming global rows.

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/FiniteRows.hpp>

#include <mpi.h>

#include <cstdint>
#include <string>

namespace kinterp::detail {

/// Collective: b (n_r x m, n_r = `local_count`, the same m > 0 on every rank)
/// and a solution of its shape, finite values (a too when it is the initial
/// guess); one error on every rank otherwise.
template <class ConstMatrix, class Matrix, class Options>
void require_solve_shapes(MPI_Comm comm, std::int64_t local_count, const ConstMatrix& b,
                          const Matrix& a, const Options& options) {
  std::string problem;
  if (static_cast<std::int64_t>(b.extent(0)) != local_count) {
    problem = "b has " + std::to_string(b.extent(0)) + " rows on a rank that holds " +
              std::to_string(local_count) +
              " points: pass the right-hand side's rows that match this rank's points";
  } else if (b.extent(1) == 0) {
    problem = "b has no columns";
  } else if (a.extent(0) != b.extent(0) || a.extent(1) != b.extent(1)) {
    problem = "the solution is " + std::to_string(a.extent(0)) + " x " +
              std::to_string(a.extent(1)) + " but b is " + std::to_string(b.extent(0)) + " x " +
              std::to_string(b.extent(1)) + ": they must have the same shape";
  }
  throw_if_any(comm, !problem.empty(), problem);
  int columns[2] = {static_cast<int>(b.extent(1)), -static_cast<int>(b.extent(1))};
  MPI_Allreduce(MPI_IN_PLACE, columns, 2, MPI_INT, MPI_MAX, comm);
  if (columns[0] != -columns[1]) {
    throw Error("b has between " + std::to_string(-columns[1]) + " and " +
                std::to_string(columns[0]) +
                " columns on different ranks; it must have the same number everywhere");
  }
  require_finite(comm, b, "right-hand side values");
  require_norm_in_range(comm, b, "right-hand side values");
  if (options.use_initial_guess) require_finite(comm, a, "initial guess");
}

}  // namespace kinterp::detail
