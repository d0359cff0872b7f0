#include "KernelProduct.hpp"

namespace kinterp {
template RingTimings kernel_product<double>(const RingKernelProduct<double>&, const KernelSpec&,
                                            const RingKernelProduct<double>::ConstMatrix&,
                                            const RingKernelProduct<double>::ConstMatrix&,
                                            const RingKernelProduct<double>::Matrix&);
template void local_kernel_sum_of<double>(const Kokkos::DefaultExecutionSpace&, const KernelSpec&,
                                          const LocalMatrix<const double>&,
                                          const LocalMatrix<const double>&,
                                          const LocalMatrix<const double>&,
                                          const LocalMatrix<double>&);
}  // namespace kinterp
