// kernel_gradient: the gradient of a kernel sum through the family's slope
// kernel (KernelGradient.hpp).

#include <kinterp/KernelGradient.hpp>
#include <kinterp/core/Collective.hpp>
#include <kinterp/kernels/SlopeKernel.hpp>
#include <kinterp/local/ColumnMeans.hpp>

#include "TargetsOnPoints.hpp"

namespace kinterp {

namespace {

/// columns(i, l * m + k) = w(i, k) for l = 0, w(i, k) (x(i, l - 1) - o(l - 1)) after.
template <class T>
struct SpreadWeights {
  LocalMatrix<T> columns;
  LocalMatrix<const T> points, weights;
  Kokkos::View<const double*> origin;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i) const {
    const std::size_t m = weights.extent(1);
    for (std::size_t k = 0; k < m; ++k) {
      columns(i, k) = weights(i, k);
      for (std::size_t l = 0; l < points.extent(1); ++l) {
        columns(i, (l + 1) * m + k) = static_cast<T>(weights(i, k) * (points(i, l) - origin(l)));
      }
    }
  }
};

/// out(i, k d + l) = factor ((t(i, l) - o(l)) S(i, k) - S(i, (l + 1) m + k)).
template <class T>
struct CombineSums {
  LocalMatrix<T> out;
  LocalMatrix<const T> targets, sums;
  Kokkos::View<const double*> origin;
  double factor;
  std::int64_t m;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i) const {
    const std::int64_t d = targets.extent(1);
    for (std::int64_t k = 0; k < m; ++k) {
      for (std::int64_t l = 0; l < d; ++l) {
        const double centred = targets(i, l) - origin(l);
        out(i, k * d + l) =
            static_cast<T>(factor * (centred * sums(i, k) - double(sums(i, (l + 1) * m + k))));
      }
    }
  }
};

}  // namespace

bool has_kernel_gradient(const KernelSpec& kernel) {
  return slope_kernel(kernel).has_value();
}

template <class T>
KernelGradientRun kernel_gradient(MPI_Comm comm, const KernelSpec& kernel,
                                  const LocalMatrix<const T>& points,
                                  const LocalMatrix<const T>& weights,
                                  const LocalMatrix<const T>& targets, const LocalMatrix<T>& out,
                                  const ProductOptions& product) {
  using execution_space = Kokkos::DefaultExecutionSpace;
  const double start = MPI_Wtime();
  const auto slope = slope_kernel(kernel);
  throw_if_any(comm, !slope,
               "the " + to_string(kernel.family) +
                   " kernel has no compiled gradient (gaussian, laplacian, matern32, matern52, "
                   "cauchy, imq and rq have)");
  const std::int64_t d = points.extent(1), m = weights.extent(1);
  throw_if_any(comm,
               points.extent(0) != weights.extent(0) || targets.extent(1) != points.extent(1) ||
                   out.extent(0) != targets.extent(0) || std::int64_t(out.extent(1)) != d * m,
               "kernel_gradient: the points, weights, targets and output do not fit (the output "
               "needs d m columns, a row per target)");
  const auto origin = column_means(comm, points);
  LocalMatrix<T> spread("kinterp::gradient::weights", points.extent(0), (d + 1) * m);
  Kokkos::parallel_for("kinterp::gradient::spread",
                       Kokkos::RangePolicy<execution_space>(0, points.extent(0)),
                       SpreadWeights<T>{spread, points, weights, origin});
  const KernelSum<T> sum(comm, slope->psi, points, product);
  LocalMatrix<T> sums("kinterp::gradient::sums", targets.extent(0), (d + 1) * m);
  KernelGradientRun run;
  run.setup_seconds = MPI_Wtime() - start;
  run.timings = sum(targets, spread, sums);
  // exp(-g r)/r, the laplacian kernel's psi, is infinite at a target on a point.
  if (slope->psi.family == KernelFamily::ExponentialOverDistance) {
    detail::refuse_targets_on_points(comm, kernel, "gradient",
                                     detail::CountRows<T>{sums, 0, m, false});
  }
  Kokkos::parallel_for("kinterp::gradient::combine",
                       Kokkos::RangePolicy<execution_space>(0, targets.extent(0)),
                       CombineSums<T>{out, targets, sums, origin, slope->factor, m});
  Kokkos::fence();
  run.description = "gradient through the " + to_string(slope->psi.family) + " kernel phi'(r)/r, " +
                    std::to_string((d + 1) * m) + " columns: " + sum.product().description();
  return run;
}

#define KINTERP_INSTANTIATE_KERNEL_GRADIENT(T)                                               \
  template KernelGradientRun kernel_gradient<T>(                                             \
      MPI_Comm, const KernelSpec&, const LocalMatrix<const T>&, const LocalMatrix<const T>&, \
      const LocalMatrix<const T>&, const LocalMatrix<T>&, const ProductOptions&);
KINTERP_INSTANTIATE_KERNEL_GRADIENT(float)
KINTERP_INSTANTIATE_KERNEL_GRADIENT(double)
#undef KINTERP_INSTANTIATE_KERNEL_GRADIENT

}  // namespace kinterp
