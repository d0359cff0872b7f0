#pragma once
/// \file KernelGradient.hpp
/// The gradient in the targets of a kernel sum of a compiled family,
///   grad_t sum_j k(|t - x_j|) w_j = c sum_j psi(|t - x_j|) (t - x_j) w_j
///                                 = c ((t - o) S_0(t) - S_1(t)),
///   S_0 = sum_j psi w_j,   S_1 = sum_j psi w_j (x_j - o),
/// with psi the family's slope kernel (phi'(r)/r = c psi, kernels/SlopeKernel.hpp)
/// and o the points' mean, so that t - o and x_j - o stay of the data's size:
/// one product with (d + 1) m weight columns on the tuned engines, direct or
/// tree (whose eps then bounds the error relative to
/// sum_j |phi'(r)/r| |w_j| (|t - o| + |x_j - o|)).

#include <kinterp/KernelSum.hpp>
#include <kinterp/kernels/KernelSpec.hpp>

#include <mpi.h>

#include <string>

namespace kinterp {

struct KernelGradientRun {
  RingTimings timings;
  std::string description;  ///< the slope kernel, the columns and the product that ran
  double setup_seconds = 0;
};

/// Whether kernel_gradient takes `kernel` (it has a slope kernel).
bool has_kernel_gradient(const KernelSpec& kernel);

/// Collective: out (n_t x d m), column k d + l = d/dt_l sum_j k(t_i, x_j) w_jk
/// for this rank's targets, the points and weights spread over the ranks.
/// Throws kinterp::Error on every rank for a kernel without a slope kernel,
/// for the laplacian kernel when a target coincides with a point (it has no
/// gradient there), and for shapes that do not fit.
template <class T>
KernelGradientRun kernel_gradient(MPI_Comm comm, const KernelSpec& kernel,
                                  const LocalMatrix<const T>& points,
                                  const LocalMatrix<const T>& weights,
                                  const LocalMatrix<const T>& targets, const LocalMatrix<T>& out,
                                  const ProductOptions& product = {});

}  // namespace kinterp
