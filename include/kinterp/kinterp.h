/* kinterp.h: the C API of kinterp, for simulation codes in C (and, through the
 * kinterp Fortran module, Fortran) that fit a kernel model to their scattered
 * data and evaluate it.
 *
 * A model lives on the caller's communicator. Each rank passes its own rows
 * (any count, 0 included), row-major: point i of this rank is
 * points[i * dimension + k], k < dimension. Fortran arrays points(dimension, n)
 * have exactly this layout.
 *
 *   kinterp_model model;
 *   kinterp_create(MPI_COMM_WORLD, &model);
 *   kinterp_set_kernel(model, "gaussian", 0.1);
 *   kinterp_set_alpha(model, 1e-4);
 *   kinterp_fit(model, n_local, 2, points, 1, values);
 *   kinterp_predict(model, n_targets, targets, predicted);
 *   kinterp_destroy(&model);
 *
 * Every function returns a kinterp_status; on an error,
 * kinterp_error_message(model) says what is wrong and how to fix it. The
 * set-up functions (kinterp_set_*) are local. kinterp_create, kinterp_fit and
 * kinterp_predict are collective: every rank of the communicator calls them,
 * and they return the same status and message on every rank (no rank is left
 * waiting when another one's input is wrong). Ranks must agree on the settings;
 * kinterp_fit checks that they do.
 *
 * kinterp never initialises MPI or Kokkos behind the caller's back: call
 * MPI_Init and Kokkos::initialize yourself, or kinterp_initialize, which starts
 * only what is not yet running, before kinterp_create. Computation is in
 * double precision (kinterp_set_mixed_precision: kernel products in float). */
#ifndef KINTERP_KINTERP_H
#define KINTERP_KINTERP_H

#include <mpi.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What each call returns. */
typedef enum kinterp_status {
  KINTERP_SUCCESS = 0,
  /** Bad input: an unknown kernel, a formula error, a negative count, a NULL
   *  array, shapes that disagree, NaN or Inf data, ranks that disagree. */
  KINTERP_ERROR_INVALID_ARGUMENT = 1,
  /** kinterp_fit stopped before the tolerance was met (the message says why:
   *  iterations, breakdown, stagnation...). The weights hold the last iterate
   *  and kinterp_predict uses them. */
  KINTERP_ERROR_NOT_CONVERGED = 2,
  /** Called out of order: MPI or Kokkos not initialised, no kernel set,
   *  predict before fit, finalize with models alive. */
  KINTERP_ERROR_STATE = 3,
  /** Out of memory, or an MPI or Kokkos failure. */
  KINTERP_ERROR_INTERNAL = 4
} kinterp_status;

/** An opaque model handle. */
typedef struct kinterp_model_s* kinterp_model;

/** "0.1.0". */
const char* kinterp_version(void);

/** Initialises MPI (MPI_THREAD_FUNNELED) and Kokkos, each only if it is not
 *  yet initialised; the --kokkos-* arguments go to Kokkos. argc and argv may be
 *  NULL. */
int kinterp_initialize(int* argc, char*** argv);
/** Finalises what kinterp_initialize started, in reverse order, once per
 *  process (neither can start again). Fails with KINTERP_ERROR_STATE while
 *  models are alive. */
int kinterp_finalize(void);

/** Collective over comm (duplicated inside). On failure *model is NULL and
 *  kinterp_error_message(NULL) says why. */
int kinterp_create(MPI_Comm comm, kinterp_model* model);
/** As kinterp_create, for a Fortran communicator handle (MPI_Comm_f2c). */
int kinterp_create_f(MPI_Fint comm, kinterp_model* model);
/** Frees the model and sets *model to NULL; NULL is ignored. */
int kinterp_destroy(kinterp_model* model);

/** The last error of `model`, "" when there was none. With model NULL: the
 *  last error of kinterp_initialize, kinterp_finalize or kinterp_create on this
 *  thread. The text stays valid until the next call on the same model. */
const char* kinterp_error_message(kinterp_model model);

/* ---- Settings (local; kinterp_fit checks that all ranks agree) ---- */

/** A compiled kernel by name: gaussian exp(-r^2/(2 s^2)), laplacian exp(-r/s),
 *  matern32, matern52, cauchy 1/(1 + r^2/s^2), imq 1/sqrt(1 + r^2/s^2), with
 *  length scale s > 0. Replaces any formula. */
int kinterp_set_kernel(kinterp_model model, const char* name, double length_scale);
/** A KeOps formula with its aliases separated by ';', such as
 *  "Exp(-G*SqDist(X,Y)) * B" with "X = Vi(2); Y = Vj(2); B = Vj(1); G = Pm(1)".
 *  Formulas of a compiled family run compiled; others, linear in the weights,
 *  on the generic evaluator. Parameters set earlier are cleared. */
int kinterp_set_formula(kinterp_model model, const char* formula, const char* aliases);
/** The value(s) of a formula parameter (a Pm variable). */
int kinterp_set_parameter(kinterp_model model, const char* name, const double* values, int count);
/** Names the weights' variable of a formula linear in more than one. */
int kinterp_set_unknown(kinterp_model model, const char* name);
/** This rank's rows of a formula variable other than the points and the
 *  weights (per-point noise, weights, bandwidths): one row per point of the
 *  next kinterp_fit, local_rows x columns, row-major; copied. Variables
 *  without an input take the points. An i-variable and its j-twin must get
 *  the same rows, as the operator must stay symmetric (kinterp_fit checks).
 *  kinterp_predict refuses such a model: the variables' rows at the targets
 *  are unknown to it. kinterp_set_formula and kinterp_set_kernel clear the
 *  inputs. */
int kinterp_set_input(kinterp_model model, const char* name, int64_t local_rows, int columns,
                      const double* rows);
/** alpha >= 0 in (alpha I + K) a = b (default 0: interpolation). */
int kinterp_set_alpha(kinterp_model model, double alpha);
/** CG stops when ||r|| <= max(rtol ||b||, atol) or after max_iterations
 *  (defaults 1e-6, 0, 1000). */
int kinterp_set_tolerances(kinterp_model model, double rtol, double atol, int max_iterations);
/** A Nystrom preconditioner of `rank` landmarks (0: none, the default); for
 *  small alpha, where plain CG needs many iterations. Compiled kernels only. */
int kinterp_set_preconditioner(kinterp_model model, int rank);
/** The Vecchia preconditioner (a sparse inverse Cholesky factor, each point
 *  conditioned on `neighbors` nearby ones, such as 30; 0: none): memory
 *  bounded per point at any N, for points of 1-3 coordinates and short
 *  length scales. Compiled kernels only. The last of this and
 *  kinterp_set_preconditioner with a nonzero value is the one used. */
int kinterp_set_vecchia(kinterp_model model, int neighbors);
/** Nonzero: kernel products in float, CG in double (about twice as fast).
 *  Compiled kernels only. */
int kinterp_set_mixed_precision(kinterp_model model, int enabled);

/** Which engine computes the kernel products of kinterp_fit and
 *  kinterp_predict: "direct" (the default: every pair, exact to rounding),
 *  "tree" (points of 1-3 coordinates: each product's error in row i is at
 *  most tolerance * sum_j |k(x_i, x_j)| |a_j|, at about N log N work instead
 *  of N^2), or "auto" (the tree from 20000 points in 1-3 dimensions where it
 *  does less than a third of the direct work, else direct). tolerance: in
 *  [1e-12, 0.1], or 0 for the default: a hundredth of rtol (at most 1e-6) in
 *  fits, 1e-6 in predictions; 0 with "direct". Mixed precision's float
 *  products take at least 1e-6. Compiled kernels only: with a generic formula
 *  kinterp_fit refuses "tree", and "auto" takes direct. */
int kinterp_set_product(kinterp_model model, const char* engine, double tolerance);

/* ---- Fit and predict (collective) ---- */

/** Solves (alpha I + K) a = b for this rank's points (local_rows x dimension)
 *  and values b (local_rows x columns), and keeps copies of the points and the
 *  weights a for kinterp_predict. */
int kinterp_fit(kinterp_model model, int64_t local_rows, int dimension, const double* points,
                int columns, const double* values);
/** The last fit: CG iterations and max over columns of ||b - (alpha I + K) a|| / ||b||. */
int kinterp_fit_result(kinterp_model model, int* iterations, double* relative_residual);
/** The last fit's products: their tolerance (0: exact to rounding, the
 *  direct engine) and how far the exact relative residual can be from the
 *  one kinterp_fit_result reports, which is computed with these products. */
int kinterp_fit_product(kinterp_model model, double* tolerance, double* residual_bound);
/** Copies this rank's weights (local_rows x columns, as in the last fit)
 *  into `weights`; the shape is checked. */
int kinterp_weights(kinterp_model model, int64_t local_rows, int columns, double* weights);
/** values (local_targets x columns) = sum_j k(t_i, x_j) a_j for this rank's
 *  targets (local_targets x dimension), over all ranks' points. dimension and
 *  columns must be those of the fit (they are checked, so that no array is
 *  overrun). */
int kinterp_predict(kinterp_model model, int64_t local_targets, int dimension,
                    const double* targets, int columns, double* values);
/** gradients (local_targets x dimension * columns) = the gradient of the
 *  fitted model at this rank's targets: entry (i, k * dimension + l) is
 *  d/dt_l of value column k (KeOps' GradMatrix layout). gaussian, laplacian,
 *  matern32, matern52, cauchy, imq and rq run one product with the kernel
 *  phi'(r)/r (kinterp_set_product applies); other kernels and formulas are
 *  differentiated symbolically, with direct products. laplacian and
 *  spherical models, whose kernel has a cusp at r = 0, refuse targets that
 *  coincide with points; the general Matern kernel has no gradient. */
int kinterp_predict_gradient(kinterp_model model, int64_t local_targets, int dimension,
                             const double* targets, int columns, double* gradients);
/** laplacians (local_targets x columns) = the Laplacian of the fitted model at
 *  this rank's targets. gaussian, matern32, matern52, cauchy, imq and rq use
 *  their closed form, exact at the points too; other kernels and formulas
 *  their symbolic Laplacian. Direct products; refusals as for the gradient. */
int kinterp_predict_laplacian(kinterp_model model, int64_t local_targets, int dimension,
                              const double* targets, int columns, double* laplacians);

/* For the Fortran module: as kinterp_fit, kinterp_predict,
 * kinterp_predict_gradient and kinterp_predict_laplacian, with an error
 * the caller found in its own arguments (NULL or "": none), which every rank
 * then reports. */
int kinterp_fit_checked(kinterp_model model, int64_t local_rows, int dimension,
                        const double* points, int columns, const double* values,
                        const char* caller_error);
int kinterp_predict_checked(kinterp_model model, int64_t local_targets, int dimension,
                            const double* targets, int columns, double* values,
                            const char* caller_error);
int kinterp_predict_gradient_checked(kinterp_model model, int64_t local_targets, int dimension,
                                     const double* targets, int columns, double* gradients,
                                     const char* caller_error);
int kinterp_predict_laplacian_checked(kinterp_model model, int64_t local_targets, int dimension,
                                      const double* targets, int columns, double* laplacians,
                                      const char* caller_error);

/* ---- Kriging (Gaussian process regression) ----
 *
 * A kriging object keeps a covariance model, its settings and, after
 * kinterp_kriging_fit, the fitted system: the points, the kernel products'
 * set-up (the tree) and the preconditioner. kinterp_kriging_refit fits new
 * values at the same points with the same model and keeps all of that, so a
 * simulation that refits every time step pays the set-up once.
 *
 *   kinterp_kriging kriging;
 *   kinterp_kriging_create(MPI_COMM_WORLD, &kriging);
 *   double length_scale = 0.02;
 *   kinterp_kriging_set_model(kriging, "matern32", 1.0, 1, &length_scale, 0, NULL, 0, 1e-3);
 *   kinterp_kriging_set_vecchia(kriging, 30);
 *   kinterp_kriging_fit(kriging, n_local, 2, points, values);
 *   kinterp_kriging_mean(kriging, n_targets, 2, targets, mean);
 *   kinterp_kriging_variance(kriging, n_targets, 2, targets, variance);
 *   kinterp_kriging_refit(kriging, n_local, new_values);
 *   kinterp_kriging_destroy(&kriging);
 *
 * The set-up calls (kinterp_kriging_set_*) are local and check what they can;
 * the others are collective, as for models. Values are one per point. A fit
 * keeps the settings it was made with: later set-up calls and
 * kinterp_kriging_estimate take effect at the next kinterp_kriging_fit. */

/** An opaque kriging handle. */
typedef struct kinterp_kriging_s* kinterp_kriging;

/** Collective: a kriging object on `comm` (MPI and Kokkos must be running).
 *  Its defaults: a Gaussian model of variance 1, length scale 1, no nugget;
 *  ordinary kriging; CG to rtol 1e-8 within 10000 iterations; no
 *  preconditioner; direct products. */
int kinterp_kriging_create(MPI_Comm comm, kinterp_kriging* kriging);
/** kinterp_kriging_create with a Fortran communicator. */
int kinterp_kriging_create_f(MPI_Fint comm, kinterp_kriging* kriging);
/** Frees it and sets *kriging to NULL (NULL or a NULL handle: nothing to do). */
int kinterp_kriging_destroy(kinterp_kriging* kriging);
/** The last error on this handle ("" after a success); for a NULL handle,
 *  the last error of a call without one. */
const char* kinterp_kriging_error_message(kinterp_kriging kriging);

/** The covariance model: C(x, y) = variance * phi(|S^-1 R^T (x - y)|), with
 *  `nugget` on the training diagonal. family: gaussian, exponential
 *  (= matern12, laplacian), matern32, matern52, matern (nu = shape),
 *  spherical, rq (alpha = shape), cauchy, imq. length_scales: 1 (isotropic)
 *  or one per axis; angles (radians): none, 1 in 2D, 3 in 3D (yaw, pitch,
 *  roll). shape: 0 unless the family takes one. */
int kinterp_kriging_set_model(kinterp_kriging kriging, const char* family, double variance,
                              int length_scale_count, const double* length_scales, int angle_count,
                              const double* angles, double shape, double nugget);
/** kind: "simple" (known `mean`), "ordinary" (the default: a constant mean,
 *  estimated) or "universal" (a polynomial drift of total degree
 *  `drift_degree`, estimated); the other two numbers are ignored. */
int kinterp_kriging_set_kind(kinterp_kriging kriging, const char* kind, double mean,
                             int drift_degree);
/** CG's relative tolerance and iteration limit, for the fit and each
 *  variance batch (defaults 1e-8 and 10000). */
int kinterp_kriging_set_tolerances(kinterp_kriging kriging, double rtol, int max_iterations);
/** A Nystrom preconditioner of `rank` landmarks (0: none). */
int kinterp_kriging_set_preconditioner(kinterp_kriging kriging, int rank);
/** The Vecchia preconditioner with `neighbors` per point (0: none): memory
 *  bounded per point, for 1-3 coordinates and short length scales. The last
 *  of this and kinterp_kriging_set_preconditioner with a nonzero value wins. */
int kinterp_kriging_set_vecchia(kinterp_kriging kriging, int neighbors);
/** As kinterp_set_product: "direct", "tree" or "auto", and the tree's
 *  tolerance (0: a hundredth of rtol, at most 1e-6). */
int kinterp_kriging_set_product(kinterp_kriging kriging, const char* engine, double tolerance);

/** Collective: fits the model to this rank's points (local_rows x dimension)
 *  and values (local_rows), building the products' set-up and the
 *  preconditioner. KINTERP_ERROR_NOT_CONVERGED: CG stopped early (the
 *  message says why); the fit is kept. */
int kinterp_kriging_fit(kinterp_kriging kriging, int64_t local_rows, int dimension,
                        const double* points, const double* values);
/** Collective: new values (local_rows, as in the fit) at the same points,
 *  with the same model and set-up. */
int kinterp_kriging_refit(kinterp_kriging kriging, int64_t local_rows, const double* values);
/** The last fit: CG iterations and its relative residual. */
int kinterp_kriging_fit_result(kinterp_kriging kriging, int* iterations, double* relative_residual);
/** Collective: mean (local_targets) = the kriging mean at this rank's targets
 *  (local_targets x dimension, the fit's dimension). */
int kinterp_kriging_mean(kinterp_kriging kriging, int64_t local_targets, int dimension,
                         const double* targets, double* mean);
/** Collective: gradient (local_targets x dimension, row-major) = the gradient
 *  of the kriging mean at this rank's targets (Kriging::mean_gradient):
 *  gaussian, exponential (not at a target on a point), matern32, matern52,
 *  cauchy, imq and rq models, anisotropic ones included. */
int kinterp_kriging_mean_gradient(kinterp_kriging kriging, int64_t local_targets, int dimension,
                                  const double* targets, double* gradient);
/** Collective: variance (local_targets) = the kriging variance of the latent
 *  field at the targets, by CG solves in batches of 64 targets.
 *  KINTERP_ERROR_NOT_CONVERGED: a batch's CG stopped early. */
int kinterp_kriging_variance(kinterp_kriging kriging, int64_t local_targets, int dimension,
                             const double* targets, double* variance);

/** Which parameters kinterp_kriging_estimate fits (or them together). */
enum {
  KINTERP_FIT_VARIANCE = 1,
  KINTERP_FIT_LENGTH_SCALES = 2,
  KINTERP_FIT_NUGGET = 4,
  KINTERP_FIT_SHAPE = 8, /**< matern's nu or rq's alpha */
  KINTERP_FIT_ANGLES = 16
};
/** Collective: maximises the (estimated) log likelihood of the points and
 *  values over the parameters `which` selects, from the model set, by
 *  L-BFGS within max_iterations (such as 50), and makes the result the model
 *  (read it with kinterp_kriging_get_model; kinterp_kriging_fit then fits
 *  with it). log_likelihood (NULL: not wanted) receives its value at the
 *  result. KINTERP_ERROR_NOT_CONVERGED: the optimiser stopped early; the
 *  model is updated anyway. */
int kinterp_kriging_estimate(kinterp_kriging kriging, int64_t local_rows, int dimension,
                             const double* points, const double* values, int which,
                             int max_iterations, double* log_likelihood);
/** The model set or estimated: its variance, up to length_scale_count length
 *  scales (how many it has: *length_scales_held), nugget and shape (NULL: not
 *  wanted). */
int kinterp_kriging_get_model(kinterp_kriging kriging, double* variance, int length_scale_count,
                              double* length_scales, int* length_scales_held, double* nugget,
                              double* shape);

/* For the Fortran module: the collective kriging calls with an error the
 * caller found in its own arguments (NULL or "": none). */
int kinterp_kriging_fit_checked(kinterp_kriging kriging, int64_t local_rows, int dimension,
                                const double* points, const double* values,
                                const char* caller_error);
int kinterp_kriging_refit_checked(kinterp_kriging kriging, int64_t local_rows, const double* values,
                                  const char* caller_error);
int kinterp_kriging_mean_checked(kinterp_kriging kriging, int64_t local_targets, int dimension,
                                 const double* targets, double* mean, const char* caller_error);
int kinterp_kriging_mean_gradient_checked(kinterp_kriging kriging, int64_t local_targets,
                                          int dimension, const double* targets, double* gradient,
                                          const char* caller_error);
int kinterp_kriging_variance_checked(kinterp_kriging kriging, int64_t local_targets, int dimension,
                                     const double* targets, double* variance,
                                     const char* caller_error);
int kinterp_kriging_estimate_checked(kinterp_kriging kriging, int64_t local_rows, int dimension,
                                     const double* points, const double* values, int which,
                                     int max_iterations, double* log_likelihood,
                                     const char* caller_error);

#ifdef __cplusplus
}
#endif

#endif /* KINTERP_KINTERP_H */
