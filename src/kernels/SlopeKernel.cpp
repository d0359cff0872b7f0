#include <kinterp/kernels/SlopeKernel.hpp>

namespace kinterp {

std::optional<SlopeKernel> slope_kernel(const KernelSpec& phi) {
  const double g = phi.g;
  KernelSpec psi;
  psi.g = g;
  switch (phi.family) {
    case KernelFamily::Gaussian:  // exp(-g r^2)
      return SlopeKernel{psi, -2 * g * phi.variance};
    case KernelFamily::Laplacian:  // e^(-g r): -g e^(-g r) / r
      psi.family = KernelFamily::ExponentialOverDistance;
      return SlopeKernel{psi, -g * phi.variance};
    case KernelFamily::Matern32:  // (1 + g r) e^(-g r): -g^2 r e^(-g r)
      psi.family = KernelFamily::Laplacian;
      return SlopeKernel{psi, -g * g * phi.variance};
    case KernelFamily::Matern52:  // -(g^2 r / 3)(1 + g r) e^(-g r)
      psi.family = KernelFamily::Matern32;
      return SlopeKernel{psi, -g * g / 3 * phi.variance};
    case KernelFamily::Cauchy:  // (1 + g r^2)^-1: -2 g r (1 + g r^2)^-2
    case KernelFamily::InverseMultiquadric:
    case KernelFamily::RationalQuadratic: {  // (1 + g r^2)^-a: -2 a g r (1 + g r^2)^-(a+1)
      const double a = phi.family == KernelFamily::Cauchy                ? 1
                       : phi.family == KernelFamily::InverseMultiquadric ? 0.5
                                                                         : phi.shape;
      psi.family = KernelFamily::RationalQuadratic;
      psi.shape = a + 1;
      return SlopeKernel{psi, -2 * a * g * phi.variance};
    }
    default:  // spherical (a kink at its range), general Matern, exp(-g r)/r itself
      return std::nullopt;
  }
}

}  // namespace kinterp
