#pragma once
// What every preconditioner checks: its kernel and ridge at set-up, the
// shapes of apply(r, z).

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/kernels/KernelSpec.hpp>

#include <mpi.h>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>

namespace kinterp::detail {

/// Not collective: what is wrong with the kernel or the ridge alpha of a
/// preconditioner of alpha I + K (`name`: "Nystrom", "Vecchia"), or "".
inline std::string kernel_and_ridge_problem(const KernelSpec& kernel, double alpha,
                                            const std::string& name) {
  try {
    kernel.require_valid();
  } catch (const Error& e) {
    return e.what();
  }
  if (!(alpha > 0) || !std::isfinite(alpha)) {
    std::ostringstream problem;
    problem << "the " << name
            << " preconditioner needs a finite alpha > 0 (the ridge of the alpha I + K it "
               "approximates), got "
            << alpha
            << "; to precondition an interpolation problem (alpha = 0), build it with a small "
               "alpha such as 1e-8 times the kernel's variance";
    return problem.str();
  }
  return "";
}

/// Collective. Throws kinterp::Error on every rank (the message starting with
/// `name`) unless r has `rows` rows on every rank, z has r's shape, and r's
/// columns are the same on every rank.
template <class ConstMatrix, class Matrix>
void require_preconditioner_shapes(MPI_Comm comm, const std::string& name, std::int64_t rows,
                                   const ConstMatrix& r, const Matrix& z) {
  const int m = static_cast<int>(r.extent(1));
  std::string problem;
  if (static_cast<std::int64_t>(r.extent(0)) != rows) {
    problem = "the vectors have " + std::to_string(r.extent(0)) + " rows on a rank that holds " +
              std::to_string(rows) + " points";
  } else if (z.extent(0) != r.extent(0) || z.extent(1) != r.extent(1)) {
    problem = "the output is " + std::to_string(z.extent(0)) + " x " + std::to_string(z.extent(1)) +
              " but the input " + std::to_string(r.extent(0)) + " x " + std::to_string(r.extent(1));
  }
  // One small message checks both the shapes and that m agrees.
  int flags[3] = {problem.empty() ? 0 : 1, m, -m};
  MPI_Allreduce(MPI_IN_PLACE, flags, 3, MPI_INT, MPI_MAX, comm);
  if (flags[0] != 0) throw_if_any(comm, !problem.empty(), name + ": " + problem);
  if (flags[1] != -flags[2]) {
    throw Error(name + ": the vectors have between " + std::to_string(-flags[2]) + " and " +
                std::to_string(flags[1]) +
                " columns on different ranks; every rank must pass the same number");
  }
}

}  // namespace kinterp::detail
