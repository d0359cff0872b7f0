#include "KernelProduct.hpp"

namespace kinterp {
template RingTimings kernel_product<float>(const RingKernelProduct<float>&, const KernelSpec&,
                                        const RingKernelProduct<float>::ConstMatrix&,
                                        const RingKernelProduct<float>::ConstMatrix&,
                                        const RingKernelProduct<float>::Matrix&);
}  // namespace kinterp
