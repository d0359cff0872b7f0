#pragma once
/// \file KernelSum.hpp
/// KeOps' Genred(formula, aliases, reduction_op="Sum", axis=1) for the compiled
/// kernels, with targets and sources spread over MPI ranks.

#include <kinterp/dist/KernelProduct.hpp>
#include <kinterp/dist/ProductChoice.hpp>
#include <kinterp/kernels/KernelSpec.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <memory>

namespace kinterp {

/// out_i = sum_j k(t_i, x_j) a_j over all ranks' sources x_j (KernelSpec's
/// variance included). Compiled for T = float and double on Kokkos' default
/// execution space. Every rank passes its own rows (any count, 0 included).
/// The sums run through a KernelProduct (dist/KernelProduct.hpp): the direct
/// product of every target with every source by default, or the tree product
/// within a tolerance (ProductOptions, dist/ProductChoice.hpp).
template <class T>
class KernelSum {
 public:
  using execution_space = typename KernelProduct<T>::execution_space;
  using memory_space = typename KernelProduct<T>::memory_space;
  using Matrix = typename KernelProduct<T>::Matrix;
  using ConstMatrix = typename KernelProduct<T>::ConstMatrix;

  /// Collective over `comm` (duplicated inside). `sources`: this rank's points,
  /// n_r x d. Throws kinterp::Error on every rank for an invalid kernel, NaN or
  /// Inf coordinates, or ranks that disagree on d.
  /// `product` chooses the engine (ProductChoice.hpp; direct by default).
  KernelSum(MPI_Comm comm, const KernelSpec& kernel, const ConstMatrix& sources,
            const ProductOptions& product = {});

  /// Collective. out (n_t x m) = the sum for this rank's targets (n_t x d), with
  /// `weights` this rank's rows of a (n_r x m, m the same on every rank), the
  /// work launched on `space`. Throws kinterp::Error on every rank for
  /// mismatched shapes or NaN/Inf input.
  RingTimings operator()(const execution_space& space, const ConstMatrix& targets,
                         const ConstMatrix& weights, const Matrix& out) const;
  /// The same on a default instance of the execution space.
  RingTimings operator()(const ConstMatrix& targets, const ConstMatrix& weights,
                         const Matrix& out) const {
    return (*this)(execution_space(), targets, weights, out);
  }

  const KernelSpec& kernel() const { return kernel_; }
  const KernelProduct<T>& product() const { return *product_; }

 private:
  KernelSpec kernel_;
  std::shared_ptr<const KernelProduct<T>> product_;
};

extern template class KernelSum<float>;
extern template class KernelSum<double>;

}  // namespace kinterp
