#pragma once
/// \file KernelSum.hpp
/// KeOps' Genred(formula, aliases, reduction_op="Sum", axis=1) for the compiled
/// kernels, with targets and sources spread over MPI ranks.

#include <kinterp/dist/RingKernelProduct.hpp>
#include <kinterp/kernels/KernelSpec.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

namespace kinterp {

/// out_i = sum_j k(t_i, x_j) a_j over all ranks' sources x_j (KernelSpec's
/// variance included). Compiled for T = float and double on Kokkos' default
/// execution space. Every rank passes its own rows (any count, 0 included).
template <class T>
class KernelSum {
 public:
  using execution_space = Kokkos::DefaultExecutionSpace;
  using memory_space = execution_space::memory_space;
  using Matrix = Kokkos::View<T**, Kokkos::LayoutRight, memory_space>;
  using ConstMatrix = Kokkos::View<const T**, Kokkos::LayoutRight, memory_space>;

  /// Collective over `comm` (duplicated inside). `sources`: this rank's points,
  /// n_r x d. Throws kinterp::Error on every rank for an invalid kernel, NaN or
  /// Inf coordinates, or ranks that disagree on d.
  KernelSum(MPI_Comm comm, const KernelSpec& kernel, const ConstMatrix& sources);

  /// Collective. out (n_t x m) = the sum for this rank's targets (n_t x d), with
  /// `weights` this rank's rows of a (n_r x m, m the same on every rank).
  /// Throws kinterp::Error on every rank for mismatched shapes or NaN/Inf input.
  RingTimings operator()(const ConstMatrix& targets, const ConstMatrix& weights,
                         const Matrix& out) const;

  const KernelSpec& kernel() const { return kernel_; }
  const RingKernelProduct<T>& product() const { return product_; }

 private:
  KernelSpec kernel_;
  RingKernelProduct<T> product_;
};

extern template class KernelSum<float>;
extern template class KernelSum<double>;

/// out = K(targets, every rank's sources of `product`) weights for the compiled
/// kernel `kernel`, its variance included: RingKernelProduct::apply dispatched
/// on kernel.family. Compiled once in the library for float and double, so that
/// KernelSum, KernelSolve and tests share one instantiation of the nine kernels
/// (the library's longest compile). Collective; validates nothing (see
/// KernelSum::operator() for the checked call).
template <class T>
RingTimings kernel_product(const RingKernelProduct<T>& product, const KernelSpec& kernel,
                           const typename RingKernelProduct<T>::ConstMatrix& targets,
                           const typename RingKernelProduct<T>::ConstMatrix& weights,
                           const typename RingKernelProduct<T>::Matrix& out);

extern template RingTimings kernel_product<float>(const RingKernelProduct<float>&, const KernelSpec&,
                                                  const RingKernelProduct<float>::ConstMatrix&,
                                                  const RingKernelProduct<float>::ConstMatrix&,
                                                  const RingKernelProduct<float>::Matrix&);
extern template RingTimings kernel_product<double>(const RingKernelProduct<double>&, const KernelSpec&,
                                                  const RingKernelProduct<double>::ConstMatrix&,
                                                  const RingKernelProduct<double>::ConstMatrix&,
                                                  const RingKernelProduct<double>::Matrix&);

}  // namespace kinterp
