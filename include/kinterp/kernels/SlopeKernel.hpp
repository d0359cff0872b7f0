#pragma once
/// \file SlopeKernel.hpp
/// phi'(r) / r of a compiled radial family as another compiled family: the
/// kernel behind a fitted model's gradient (grad_t phi(|t - x|) = phi'(r)/r
/// (t - x)) and behind the derivative of a kernel in its length scale
/// (d phi(r / l) / d log l = -r^2 phi'(r)/r at l = 1).

#include <kinterp/kernels/KernelSpec.hpp>

#include <optional>

namespace kinterp {

/// variance * phi'(r) / r = factor * psi(r), psi a compiled family of variance 1.
struct SlopeKernel {
  KernelSpec psi;
  double factor = 0;
};

/// The slope kernel of `phi`: Gaussian -> Gaussian, Laplacian -> exp(-g r)/r
/// (infinite at r = 0, where the Laplacian kernel has no slope), Matern 3/2 ->
/// Laplacian, Matern 5/2 -> Matern 3/2, Cauchy, inverse multiquadric and
/// rational quadratic -> rational quadratic with shape + 1; none for the
/// spherical kernel (a kink at its range) and the general Matern kernel.
std::optional<SlopeKernel> slope_kernel(const KernelSpec& phi);

}  // namespace kinterp
