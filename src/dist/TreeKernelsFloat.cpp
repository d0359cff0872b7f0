#include "TreeKernels.hpp"

namespace kinterp {
template class TreeKernelProduct<float>;
}  // namespace kinterp
