#pragma once
/// \file Kriging.hpp
/// Simple, ordinary and universal kriging (Gaussian process regression),
/// matrix-free and distributed: the mean at targets and the kriging variance,
/// with memory linear in the number of points.
///
/// With K the training covariance (nugget on the diagonal), z the values and
/// P the drift basis at the points (ordinary: the constant; universal:
/// monomials up to a degree; simple: none, the mean is known):
///   beta = (P^T K^-1 P)^-1 P^T K^-1 z  (generalised least squares),
///   w = K^-1 (z - P beta),  mean(t) = p(t)^T beta + k_t^T w,
///   var(t) = C(t, t) - k_t^T K^-1 k_t + u^T (P^T K^-1 P)^-1 u,  u = p(t) - P^T K^-1 k_t.
/// The fit is one CG solve with 1 + q right-hand sides [z, P]; the variance
/// solves K V = [k_t1 ... k_tB] for batches of B targets, one multi-column CG
/// per batch, sharing one Nystrom preconditioner with the fit.

#include <kinterp/KernelSolve.hpp>
#include <kinterp/dist/ProductChoice.hpp>
#include <kinterp/kriging/CovarianceModel.hpp>

#include <mpi.h>

#include <memory>
#include <vector>

namespace kinterp {

enum class KrigingKind {
  Simple,     ///< known mean (KrigingOptions::mean)
  Ordinary,   ///< unknown constant mean, estimated (GLS)
  Universal,  ///< polynomial drift of KrigingOptions::drift_degree, estimated (GLS)
};

/// "simple", "ordinary", "universal"
std::string to_string(KrigingKind kind);
/// The inverse of to_string; throws kinterp::Error (with a suggestion) otherwise.
KrigingKind kriging_kind_from_name(const std::string& name);

struct KrigingOptions {
  KrigingKind kind = KrigingKind::Simple;
  double mean = 0;       ///< simple kriging's known mean
  int drift_degree = 1;  ///< universal kriging: monomials of total degree <= this
  /// CG's stopping rule for the fit and for every variance batch.
  SolveOptions solve = default_solve();
  /// The Nystrom preconditioner, built once (rank 0 and no budget: plain CG).
  NystromOptions preconditioner;
  /// Or the Vecchia preconditioner (neighbors > 0; points of 1-3
  /// coordinates), built once: memory bounded per point at any N. Not both;
  /// approximate variances need the Nystrom one.
  VecchiaOptions vecchia;
  /// The engine of the kriging system's products (the fit, the mean, the
  /// variances; direct by default). The likelihood's products are direct.
  ProductOptions product;
  int variance_batch = 64;  ///< targets per variance solve (memory: ~6 n_r x batch doubles)
  /// With a nugget > 0, each variance's CG stops once the error of k_t^T
  /// K^-1 k_t is provably below variance_tolerance * variance (|r|^2 / nugget,
  /// see Kriging::variance), or at solve's rtol, whichever comes first;
  /// without a nugget, at solve's rtol.
  double variance_tolerance = 1e-6;

  static SolveOptions default_solve() {
    SolveOptions options;
    options.rtol = 1e-8;
    options.max_iterations = 10000;
    return options;
  }
};

/// What the variance computation did.
struct KrigingVarianceInfo {
  int batches = 0;
  int max_iterations = 0;     ///< the most CG iterations of a batch
  double worst_residual = 0;  ///< the largest relative residual of a batch
  bool converged = true;      ///< every batch's CG converged
  std::string detail;         ///< why a batch did not converge
  std::int64_t clamped = 0;   ///< negative variances (rounding) set to 0, over all ranks
  /// The bound on |computed - exact| of the k_t^T K^-1 k_t term, max over
  /// targets (see Kriging::variance); 0 when unknown (no nugget).
  double error_bound = 0;
  double seconds = 0;
};

/// A kriging model fitted to this rank's points and values (double precision).
class Kriging {
 public:
  using Matrix = Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::DefaultExecutionSpace>;
  using ConstMatrix =
      Kokkos::View<const double**, Kokkos::LayoutRight, Kokkos::DefaultExecutionSpace>;

  /// Collective over `comm`: fits the model. `points` n_r x d, `values` n_r x 1.
  /// Throws kinterp::Error on every rank for a bad model or options, bad input,
  /// a drift with more terms than points, or a singular drift (P^T K^-1 P not
  /// positive definite: e.g. points on a line for a 2D linear drift).
  /// A fit whose CG does not converge does not throw: fit_result() says so.
  Kriging(MPI_Comm comm, const CovarianceModel& model, const ConstMatrix& points,
          const ConstMatrix& values, const KrigingOptions& options = {});
  ~Kriging();
  Kriging(Kriging&&) noexcept;

  /// Collective: fits new values (n_r x 1) at the same points with the same
  /// model, keeping the set-up (the products' tree, the preconditioner): a
  /// simulation that refits every time step pays it once. Throws
  /// kinterp::Error on every rank for a wrong shape.
  void refit(const ConstMatrix& values);

  /// The fit's CG (1 + q columns: the values and the drift terms).
  const KernelSolveResult& fit_result() const;
  /// beta: simple kriging's mean, ordinary kriging's estimated mean, or the
  /// drift's coefficients (on the points' coordinates centred and scaled to
  /// [-1, 1] by their bounding box).
  const std::vector<double>& drift_coefficients() const;
  /// This rank's rows of w = K^-1 (z - P beta) (n_r x 1).
  Matrix weights() const;

  /// Collective: out (n_t x 1) = the kriging mean at this rank's targets.
  void mean(const ConstMatrix& targets, const Matrix& out) const;

  /// Collective: out (n_t x d) = the gradient of the kriging mean at this
  /// rank's targets: the kernel part through the family's slope kernel
  /// (KernelGradient.hpp) in the model's coordinates u = S^-1 R^T t, mapped
  /// back (grad_t = (S^-1 R^T)^T grad_u), plus the drift's. Throws
  /// kinterp::Error on every rank for a family without a slope kernel
  /// (spherical, general matern), for the exponential at a target on a point
  /// (it has no gradient there), and for shapes that do not fit.
  void mean_gradient(const ConstMatrix& targets, const Matrix& out) const;

  /// Collective: out (n_t x 1) = the kriging variance of the latent field at
  /// this rank's targets (>= 0: rounding below 0 is clamped and counted).
  /// approximate = false: batched CG solves to the fit's tolerance (see
  /// KrigingOptions::variance_tolerance); from the solution x and one more
  /// kernel product, k^T K^-1 k is taken as 2 k^T x - x^T K x, which is below
  /// it by r^T K^-1 r <= |r|^2 / nugget (r = k - K x) whatever CG's rounding:
  /// so for simple kriging the variance is from above, within that bound
  /// (reported as error_bound).
  /// approximate = true (needs the preconditioner): K^-1 replaced by
  /// (F F^T + nugget I)^-1, no CG. Since F F^T <= K - nugget I (Nystrom), the
  /// approximate k_t^T K^-1 k_t is at least the exact one: for simple kriging
  /// the approximate variance is a lower bound, below the exact one by at most
  /// |k_t|^2 e / (a (a + e)), e = tr(K - F F^T), a the preconditioner's ridge
  /// (reported as error_bound).
  KrigingVarianceInfo variance(const ConstMatrix& targets, const Matrix& out,
                               bool approximate = false) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace kinterp
