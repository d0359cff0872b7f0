#pragma once
// The operators the solvers hand to conjugate_gradient, over the KernelProduct
// seam (dist/KernelProduct.hpp): whichever engine computes K x, CG sees
// (alpha I + K), and the products' time is summed for the solve's report.

#include <kinterp/dist/KernelProduct.hpp>
#include <kinterp/solve/SolveResult.hpp>

#include <mpi.h>
#include <KokkosBlas1_axpby.hpp>
#include <Kokkos_Core.hpp>

#include <cstdint>
#include <string>

namespace kinterp::detail {

/// Kernel products and their time, over a solve.
struct ProductCounter {
  RingTimings timings;
  int products = 0;
  int float_products = 0;

  void add(const RingTimings& t, bool in_float) {
    timings += t;
    ++products;
    if (in_float) ++float_products;
  }
};

/// y = (alpha I + K_xx) x. A product whose weights have `coupled` > 0
/// columns that K mixes (a vector-valued formula) makes CG see one column of
/// n_r * coupled rows, not independent columns: x and y are those numbers.
template <class T>
struct RegularizedOperator {
  using execution_space = typename KernelProduct<T>::execution_space;
  using Matrix = typename KernelProduct<T>::Matrix;
  using ConstMatrix = typename KernelProduct<T>::ConstMatrix;

  const KernelProduct<T>& product;
  T alpha;
  ProductCounter& counter;
  int coupled = 0;

  MPI_Comm comm() const { return product.communicator().get(); }

  void apply(const ConstMatrix& x, const Matrix& y) const {
    const execution_space space;
    if (coupled > 0) {
      const std::int64_t rows = product.local_count();
      counter.add(product.apply_at_sources(space, ConstMatrix(x.data(), rows, coupled),
                                           Matrix(y.data(), rows, coupled)),
                  false);
    } else {
      counter.add(product.apply_at_sources(space, x, y), false);
    }
    if (alpha != 0) KokkosBlas::axpy(alpha, x, y);
  }
};

using DoubleMatrix = KernelProduct<double>::Matrix;
using DoubleConstMatrix = KernelProduct<double>::ConstMatrix;
using FloatMatrix = KernelProduct<float>::Matrix;
using FloatConstMatrix = KernelProduct<float>::ConstMatrix;

/// to = from, rounded to float.
struct RoundToFloat {
  FloatMatrix to;
  DoubleConstMatrix from;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i) const {
    for (std::size_t c = 0; c < to.extent(1); ++c) to(i, c) = static_cast<float>(from(i, c));
  }
};

/// y = Kx (float) + alpha x, in double.
struct AddRidge {
  DoubleMatrix y;
  FloatConstMatrix kx;
  DoubleConstMatrix x;
  double alpha;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i) const {
    for (std::size_t c = 0; c < y.extent(1); ++c) {
      y(i, c) = static_cast<double>(kx(i, c)) + alpha * x(i, c);
    }
  }
};

/// (alpha I + K_xx) with CG's products in float and its recomputed residual in
/// double (apply_accurately): the restarts of CG become iterative refinement.
struct MixedPrecisionOperator {
  using execution_space = KernelProduct<double>::execution_space;
  using Matrix = DoubleMatrix;
  using ConstMatrix = DoubleConstMatrix;

  const KernelProduct<float>& product32;
  const KernelProduct<double>& product64;
  double alpha;
  FloatMatrix x32, y32;  ///< n_r x m scratch
  ProductCounter& counter;

  MPI_Comm comm() const { return product64.communicator().get(); }

  void apply(const ConstMatrix& x, const Matrix& y) const {
    const execution_space space;
    const Kokkos::RangePolicy<execution_space> rows(space, 0, x.extent(0));
    Kokkos::parallel_for("kinterp::KernelSolve::round_to_float", rows, RoundToFloat{x32, x});
    counter.add(product32.apply_at_sources(space, x32, y32), true);
    Kokkos::parallel_for("kinterp::KernelSolve::add_ridge", rows, AddRidge{y, y32, x, alpha});
  }

  void apply_accurately(const ConstMatrix& x, const Matrix& y) const {
    RegularizedOperator<double>{product64, alpha, counter}.apply(x, y);
  }
};

/// A preconditioner that times its applications.
template <class Preconditioner>
struct TimedPreconditioner {
  const Preconditioner& preconditioner;
  double& seconds;

  template <class ConstMatrix, class Matrix>
  void apply(const ConstMatrix& r, const Matrix& z) const {
    const double start = MPI_Wtime();
    preconditioner.apply(r, z);
    seconds += MPI_Wtime() - start;
  }
};

/// What to try when CG stops without converging, appended to its detail.
std::string not_converged_hint(double alpha, double variance, StopReason reason);

}  // namespace kinterp::detail
