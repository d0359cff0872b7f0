#include "CompiledKernels.hpp"

namespace kinterp {
template class DirectKernelProduct<double>;
template void local_kernel_sum_of<double>(const Kokkos::DefaultExecutionSpace&, const KernelSpec&,
                                          const LocalMatrix<const double>&,
                                          const LocalMatrix<const double>&,
                                          const LocalMatrix<const double>&,
                                          const LocalMatrix<double>&);
}  // namespace kinterp
