#include "TreeKernels.hpp"

namespace kinterp {
template class TreeKernelProduct<double>;
}  // namespace kinterp
