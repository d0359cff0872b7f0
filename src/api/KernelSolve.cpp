#include <kinterp/KernelSolve.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/kernels/RadialKernels.hpp>
#include <kinterp/solve/ConjugateGradient.hpp>

#include <KokkosBlas1_axpby.hpp>

#include "Validation.hpp"

#include <cmath>
#include <sstream>

namespace kinterp {

namespace {

/// y = (alpha I + K_xx) x, the operator CG sees; counts its kernel products.
template <class T, class Kernel>
struct RegularizedKernelOperator {
  using execution_space = Kokkos::DefaultExecutionSpace;
  using Matrix = typename KernelSolve<T>::Matrix;
  using ConstMatrix = typename KernelSolve<T>::ConstMatrix;

  const RingKernelProduct<T>& product;
  Kernel kernel;
  T variance;
  T alpha;
  mutable RingTimings timings;
  mutable int products = 0;

  MPI_Comm comm() const { return product.communicator().get(); }

  void apply(const ConstMatrix& x, const Matrix& y) const {
    const RingTimings t =
        product.apply(execution_space(), kernel, variance, product.sources(), x, y);
    timings.total += t.total;
    timings.compute += t.compute;
    timings.wait += t.wait;
    ++products;
    if (alpha != 0) KokkosBlas::axpy(alpha, x, y);
  }
};

/// What to try when CG stops without converging.
std::string hint(double alpha, double variance, StopReason reason) {
  if (alpha == 0) {
    return ". With alpha = 0, K_xx is singular when points repeat and ill-conditioned when they "
           "nearly do: use alpha > 0 (a small ridge such as 1e-6) or remove duplicate points";
  }
  if (alpha < 1e-6 * variance) {
    std::ostringstream text;
    text << ". alpha = " << alpha;
    return text.str() +
           " is tiny next to the kernel's scale, which makes (alpha I + K_xx) nearly singular: "
           "a larger alpha (e.g. 1e-6 or more) converges faster and more reliably";
  }
  if (reason == StopReason::DivergedMaxIterations) {
    return ". Allow more iterations, loosen rtol, or increase alpha (better conditioned)";
  }
  return "";
}

}  // namespace

void check_solve_parameters(double alpha, const SolveOptions& options) {
  std::ostringstream problem;
  if (!(alpha >= 0) || !std::isfinite(alpha)) {
    problem << "alpha must be a finite number >= 0 (the ridge added to the diagonal), got "
            << alpha;
  } else if (!(options.rtol >= 0) || !(options.atol >= 0)) {
    problem << "rtol and atol must be >= 0, got rtol = " << options.rtol
            << ", atol = " << options.atol;
  } else if (options.rtol == 0 && options.atol == 0) {
    problem << "rtol and atol are both 0, so the solve could only stop at max_iterations: "
               "give rtol > 0 (e.g. 1e-6) or atol > 0";
  } else if (options.max_iterations < 0) {
    problem << "max_iterations must be >= 0, got " << options.max_iterations;
  } else if (!(options.dtol > 1)) {
    problem << "dtol must be > 1, got " << options.dtol;
  }
  if (!problem.str().empty()) throw Error(problem.str());
}

template <class T>
KernelSolve<T>::KernelSolve(MPI_Comm comm, const KernelSpec& kernel, const ConstMatrix& points)
    : sum_(comm, kernel, points) {}

template <class T>
KernelSolveResult KernelSolve<T>::solve(const ConstMatrix& b, const Matrix& a, double alpha,
                                        const SolveOptions& options) const {
  const detail::ScopedRegion region("kinterp::KernelSolve");
  const auto& product = sum_.product();
  const MPI_Comm comm = product.communicator().get();
  check_solve_parameters(alpha, options);  // the same on every rank

  std::ostringstream problem;
  if (static_cast<std::int64_t>(b.extent(0)) != product.local_count()) {
    problem << "b has " << b.extent(0) << " rows on a rank that holds " << product.local_count()
            << " points: pass the right-hand side's rows that match this rank's points";
  } else if (b.extent(1) == 0) {
    problem << "b has no columns";
  } else if (a.extent(0) != b.extent(0) || a.extent(1) != b.extent(1)) {
    problem << "the solution is " << a.extent(0) << " x " << a.extent(1) << " but b is "
            << b.extent(0) << " x " << b.extent(1) << ": they must have the same shape";
  }
  throw_if_any(comm, !problem.str().empty(), problem.str());
  int columns[2] = {static_cast<int>(b.extent(1)), -static_cast<int>(b.extent(1))};
  MPI_Allreduce(MPI_IN_PLACE, columns, 2, MPI_INT, MPI_MAX, comm);
  if (columns[0] != -columns[1]) {
    throw Error("b has between " + std::to_string(-columns[1]) + " and " +
                std::to_string(columns[0]) +
                " columns on different ranks; it must have the same "
                "number everywhere");
  }
  detail::require_finite(comm, b, "right-hand side values");
  if (options.use_initial_guess) detail::require_finite(comm, a, "initial guess");

  const KernelSpec& spec = sum_.kernel();
  return visit_kernel<T>(spec, [&](const auto& kernel) {
    using Kernel = std::decay_t<decltype(kernel)>;
    const RegularizedKernelOperator<T, Kernel> op{
        product, kernel, static_cast<T>(spec.variance), static_cast<T>(alpha), {}, 0};
    KernelSolveResult result;
    static_cast<SolveResult&>(result) = conjugate_gradient(op, b, a, options);
    result.alpha = alpha;
    result.products = op.products;
    result.product = op.timings;
    if (!result.converged()) result.detail += hint(alpha, spec.variance, result.reason);
    return result;
  });
}

template class KernelSolve<float>;
template class KernelSolve<double>;

}  // namespace kinterp
