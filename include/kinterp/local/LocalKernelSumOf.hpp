#pragma once
/// \file LocalKernelSumOf.hpp
/// The on-node kernel sum of a compiled family given by its KernelSpec,
/// precompiled in the library for float and double: local_kernel_sum
/// (LocalKernelSum.hpp) without instantiating its engines again.

#include <kinterp/kernels/KernelSpec.hpp>
#include <kinterp/local/LocalMatrix.hpp>

#include <Kokkos_Core.hpp>

namespace kinterp {

/// out(i, c) += spec.variance * sum_j k(|t_i - x_j|^2) w(j, c) for the
/// compiled family `spec` names (visit_kernel<T>), on the default execution
/// space; T is float or double, given explicitly. The library compiles these
/// engines once, beside the distributed product that instantiates the same
/// ones: a caller holding a KernelSpec links them instead of compiling them
/// again (every family and dimension is about a minute of compile per
/// precision). Not collective; asynchronous as any Kokkos launch on `space`.
template <class T>
void local_kernel_sum_of(const Kokkos::DefaultExecutionSpace& space, const KernelSpec& spec,
                         const LocalMatrix<const T>& targets, const LocalMatrix<const T>& sources,
                         const LocalMatrix<const T>& weights, const LocalMatrix<T>& out);

extern template void local_kernel_sum_of<float>(const Kokkos::DefaultExecutionSpace&,
                                                const KernelSpec&, const LocalMatrix<const float>&,
                                                const LocalMatrix<const float>&,
                                                const LocalMatrix<const float>&,
                                                const LocalMatrix<float>&);
extern template void local_kernel_sum_of<double>(
    const Kokkos::DefaultExecutionSpace&, const KernelSpec&, const LocalMatrix<const double>&,
    const LocalMatrix<const double>&, const LocalMatrix<const double>&, const LocalMatrix<double>&);

}  // namespace kinterp
