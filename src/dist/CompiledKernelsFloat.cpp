#include "CompiledKernels.hpp"

namespace kinterp {
template class DirectKernelProduct<float>;
template void local_kernel_sum_of<float>(const Kokkos::DefaultExecutionSpace&, const KernelSpec&,
                                         const LocalMatrix<const float>&,
                                         const LocalMatrix<const float>&,
                                         const LocalMatrix<const float>&,
                                         const LocalMatrix<float>&);
}  // namespace kinterp
