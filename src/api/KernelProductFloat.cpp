#include "KernelProduct.hpp"

namespace kinterp {
template RingTimings kernel_product<float>(const RingKernelProduct<float>&, const KernelSpec&,
                                           const RingKernelProduct<float>::ConstMatrix&,
                                           const RingKernelProduct<float>::ConstMatrix&,
                                           const RingKernelProduct<float>::Matrix&);
template void local_kernel_sum_of<float>(const Kokkos::DefaultExecutionSpace&, const KernelSpec&,
                                         const LocalMatrix<const float>&,
                                         const LocalMatrix<const float>&,
                                         const LocalMatrix<const float>&,
                                         const LocalMatrix<float>&);
}  // namespace kinterp
