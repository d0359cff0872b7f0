#include "KernelProduct.hpp"

namespace kinterp {
template RingTimings kernel_product<double>(const RingKernelProduct<double>&, const KernelSpec&,
                                        const RingKernelProduct<double>::ConstMatrix&,
                                        const RingKernelProduct<double>::ConstMatrix&,
                                        const RingKernelProduct<double>::Matrix&);
}  // namespace kinterp
