! The kinterp Fortran 2008 module: the C API (include/kinterp/kinterp.h) through
! iso_c_binding. Arrays are Fortran's natural layout for it: points(d, n),
! values(m, n), one column per point, this rank's points only. Every function
! returns a status (KINTERP_SUCCESS or an error code) and
! kinterp_error_message(model) says what went wrong. The communicator is an
! MPI handle as `use mpi` gives it (with `use mpi_f08`, pass comm%MPI_VAL).
module kinterp
  use, intrinsic :: iso_c_binding, only: c_ptr, c_null_ptr, c_int, c_int64_t, c_double, &
                                         c_char, c_null_char, c_associated, c_f_pointer, c_size_t
  implicit none
  private

  integer, parameter, public :: KINTERP_SUCCESS = 0
  integer, parameter, public :: KINTERP_ERROR_INVALID_ARGUMENT = 1
  integer, parameter, public :: KINTERP_ERROR_NOT_CONVERGED = 2
  integer, parameter, public :: KINTERP_ERROR_STATE = 3
  integer, parameter, public :: KINTERP_ERROR_INTERNAL = 4

  !> A model handle; kinterp_create fills it, kinterp_destroy frees it.
  !> Or them together for kinterp_kriging_estimate's `which`.
  integer, parameter, public :: KINTERP_FIT_VARIANCE = 1
  integer, parameter, public :: KINTERP_FIT_LENGTH_SCALES = 2
  integer, parameter, public :: KINTERP_FIT_NUGGET = 4
  integer, parameter, public :: KINTERP_FIT_SHAPE = 8
  integer, parameter, public :: KINTERP_FIT_ANGLES = 16

  type, public :: kinterp_model
    type(c_ptr) :: handle = c_null_ptr
  end type kinterp_model

  type, public :: kinterp_kriging
    type(c_ptr) :: handle = c_null_ptr
  end type kinterp_kriging

  public :: kinterp_initialize, kinterp_finalize, kinterp_create, kinterp_destroy, &
            kinterp_error_message, kinterp_set_kernel, kinterp_set_formula, &
            kinterp_set_parameter, kinterp_set_unknown, kinterp_set_input, kinterp_set_alpha, &
            kinterp_set_tolerances, kinterp_set_preconditioner, kinterp_set_vecchia, &
            kinterp_set_mixed_precision, &
            kinterp_set_product, kinterp_fit, kinterp_fit_result, kinterp_fit_product, &
            kinterp_weights, kinterp_predict, kinterp_predict_gradient, &
            kinterp_predict_laplacian
  public :: kinterp_kriging_create, kinterp_kriging_destroy, kinterp_kriging_error_message, &
            kinterp_kriging_set_model, kinterp_kriging_set_kind, kinterp_kriging_set_tolerances, &
            kinterp_kriging_set_preconditioner, kinterp_kriging_set_vecchia, &
            kinterp_kriging_set_product, kinterp_kriging_fit, kinterp_kriging_refit, &
            kinterp_kriging_fit_result, kinterp_kriging_mean, kinterp_kriging_mean_gradient, &
            kinterp_kriging_variance, kinterp_kriging_estimate, kinterp_kriging_get_model

  interface
    integer(c_int) function c_initialize(argc, argv) bind(C, name="kinterp_initialize")
      import :: c_int, c_ptr
      type(c_ptr), value :: argc, argv
    end function
    integer(c_int) function c_finalize() bind(C, name="kinterp_finalize")
      import :: c_int
    end function
    integer(c_int) function c_create_f(comm, model) bind(C, name="kinterp_create_f")
      import :: c_int, c_ptr
      integer(c_int), value :: comm
      type(c_ptr) :: model
    end function
    integer(c_int) function c_destroy(model) bind(C, name="kinterp_destroy")
      import :: c_int, c_ptr
      type(c_ptr) :: model
    end function
    type(c_ptr) function c_error_message(model) bind(C, name="kinterp_error_message")
      import :: c_ptr
      type(c_ptr), value :: model
    end function
    integer(c_size_t) function c_strlen(text) bind(C, name="strlen")
      import :: c_size_t, c_ptr
      type(c_ptr), value :: text
    end function
    integer(c_int) function c_set_kernel(model, name, length_scale) &
        bind(C, name="kinterp_set_kernel")
      import :: c_int, c_ptr, c_char, c_double
      type(c_ptr), value :: model
      character(kind=c_char), intent(in) :: name(*)
      real(c_double), value :: length_scale
    end function
    integer(c_int) function c_set_formula(model, formula, aliases) &
        bind(C, name="kinterp_set_formula")
      import :: c_int, c_ptr, c_char
      type(c_ptr), value :: model
      character(kind=c_char), intent(in) :: formula(*), aliases(*)
    end function
    integer(c_int) function c_set_parameter(model, name, values, count) &
        bind(C, name="kinterp_set_parameter")
      import :: c_int, c_ptr, c_char, c_double
      type(c_ptr), value :: model
      character(kind=c_char), intent(in) :: name(*)
      real(c_double), intent(in) :: values(*)
      integer(c_int), value :: count
    end function
    integer(c_int) function c_set_unknown(model, name) bind(C, name="kinterp_set_unknown")
      import :: c_int, c_ptr, c_char
      type(c_ptr), value :: model
      character(kind=c_char), intent(in) :: name(*)
    end function
    integer(c_int) function c_set_input(model, name, local_rows, columns, rows) &
        bind(C, name="kinterp_set_input")
      import :: c_int, c_int64_t, c_ptr, c_char, c_double
      type(c_ptr), value :: model
      character(kind=c_char), intent(in) :: name(*)
      integer(c_int64_t), value :: local_rows
      integer(c_int), value :: columns
      real(c_double), intent(in) :: rows(*)
    end function
    integer(c_int) function c_set_alpha(model, alpha) bind(C, name="kinterp_set_alpha")
      import :: c_int, c_ptr, c_double
      type(c_ptr), value :: model
      real(c_double), value :: alpha
    end function
    integer(c_int) function c_set_tolerances(model, rtol, atol, max_iterations) &
        bind(C, name="kinterp_set_tolerances")
      import :: c_int, c_ptr, c_double
      type(c_ptr), value :: model
      real(c_double), value :: rtol, atol
      integer(c_int), value :: max_iterations
    end function
    integer(c_int) function c_set_preconditioner(model, rank) &
        bind(C, name="kinterp_set_preconditioner")
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int), value :: rank
    end function
    integer(c_int) function c_set_vecchia(model, neighbors) &
        bind(C, name="kinterp_set_vecchia")
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int), value :: neighbors
    end function
    integer(c_int) function c_set_mixed_precision(model, enabled) &
        bind(C, name="kinterp_set_mixed_precision")
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int), value :: enabled
    end function
    integer(c_int) function c_set_product(model, engine, tolerance) &
        bind(C, name="kinterp_set_product")
      import :: c_int, c_ptr, c_char, c_double
      type(c_ptr), value :: model
      character(kind=c_char), intent(in) :: engine(*)
      real(c_double), value :: tolerance
    end function
    integer(c_int) function c_fit(model, local_rows, dimension, points, columns, values, &
                                  caller_error) bind(C, name="kinterp_fit_checked")
      import :: c_int, c_int64_t, c_ptr, c_double, c_char
      type(c_ptr), value :: model
      integer(c_int64_t), value :: local_rows
      integer(c_int), value :: dimension, columns
      real(c_double), intent(in) :: points(*), values(*)
      character(kind=c_char), intent(in) :: caller_error(*)
    end function
    integer(c_int) function c_fit_result(model, iterations, relative_residual) &
        bind(C, name="kinterp_fit_result")
      import :: c_int, c_ptr, c_double
      type(c_ptr), value :: model
      integer(c_int), intent(out) :: iterations
      real(c_double), intent(out) :: relative_residual
    end function
    integer(c_int) function c_fit_product(model, tolerance, residual_bound) &
        bind(C, name="kinterp_fit_product")
      import :: c_int, c_ptr, c_double
      type(c_ptr), value :: model
      real(c_double), intent(out) :: tolerance, residual_bound
    end function
    integer(c_int) function c_weights(model, local_rows, columns, weights) &
        bind(C, name="kinterp_weights")
      import :: c_int, c_int64_t, c_ptr, c_double
      type(c_ptr), value :: model
      integer(c_int64_t), value :: local_rows
      integer(c_int), value :: columns
      real(c_double), intent(inout) :: weights(*)
    end function
    integer(c_int) function c_predict(model, local_targets, dimension, targets, columns, values, &
                                      caller_error) bind(C, name="kinterp_predict_checked")
      import :: c_int, c_int64_t, c_ptr, c_double, c_char
      type(c_ptr), value :: model
      integer(c_int64_t), value :: local_targets
      integer(c_int), value :: dimension, columns
      real(c_double), intent(in) :: targets(*)
      real(c_double), intent(inout) :: values(*)
      character(kind=c_char), intent(in) :: caller_error(*)
    end function
    integer(c_int) function c_predict_gradient(model, local_targets, dimension, targets, columns, &
                                               gradients, caller_error) &
        bind(C, name="kinterp_predict_gradient_checked")
      import :: c_int, c_int64_t, c_ptr, c_double, c_char
      type(c_ptr), value :: model
      integer(c_int64_t), value :: local_targets
      integer(c_int), value :: dimension, columns
      real(c_double), intent(in) :: targets(*)
      real(c_double), intent(inout) :: gradients(*)
      character(kind=c_char), intent(in) :: caller_error(*)
    end function
    integer(c_int) function c_predict_laplacian(model, local_targets, dimension, targets, &
                                                columns, laplacians, caller_error) &
        bind(C, name="kinterp_predict_laplacian_checked")
      import :: c_int, c_int64_t, c_ptr, c_double, c_char
      type(c_ptr), value :: model
      integer(c_int64_t), value :: local_targets
      integer(c_int), value :: dimension, columns
      real(c_double), intent(in) :: targets(*)
      real(c_double), intent(inout) :: laplacians(*)
      character(kind=c_char), intent(in) :: caller_error(*)
    end function
    integer(c_int) function ck_create_f(comm, kriging) bind(C, name="kinterp_kriging_create_f")
      import :: c_int, c_ptr
      integer(c_int), value :: comm
      type(c_ptr) :: kriging
    end function
    integer(c_int) function ck_destroy(kriging) bind(C, name="kinterp_kriging_destroy")
      import :: c_int, c_ptr
      type(c_ptr) :: kriging
    end function
    type(c_ptr) function ck_error_message(kriging) bind(C, name="kinterp_kriging_error_message")
      import :: c_ptr
      type(c_ptr), value :: kriging
    end function
    integer(c_int) function ck_set_model(kriging, family, variance, length_scale_count, &
                                         length_scales, angle_count, angles, shape, nugget) &
        bind(C, name="kinterp_kriging_set_model")
      import :: c_int, c_ptr, c_char, c_double
      type(c_ptr), value :: kriging
      character(kind=c_char), intent(in) :: family(*)
      real(c_double), value :: variance, shape, nugget
      integer(c_int), value :: length_scale_count, angle_count
      real(c_double), intent(in) :: length_scales(*), angles(*)
    end function
    integer(c_int) function ck_set_kind(kriging, kind, mean, drift_degree) &
        bind(C, name="kinterp_kriging_set_kind")
      import :: c_int, c_ptr, c_char, c_double
      type(c_ptr), value :: kriging
      character(kind=c_char), intent(in) :: kind(*)
      real(c_double), value :: mean
      integer(c_int), value :: drift_degree
    end function
    integer(c_int) function ck_set_tolerances(kriging, rtol, max_iterations) &
        bind(C, name="kinterp_kriging_set_tolerances")
      import :: c_int, c_ptr, c_double
      type(c_ptr), value :: kriging
      real(c_double), value :: rtol
      integer(c_int), value :: max_iterations
    end function
    integer(c_int) function ck_set_preconditioner(kriging, rank) &
        bind(C, name="kinterp_kriging_set_preconditioner")
      import :: c_int, c_ptr
      type(c_ptr), value :: kriging
      integer(c_int), value :: rank
    end function
    integer(c_int) function ck_set_vecchia(kriging, neighbors) &
        bind(C, name="kinterp_kriging_set_vecchia")
      import :: c_int, c_ptr
      type(c_ptr), value :: kriging
      integer(c_int), value :: neighbors
    end function
    integer(c_int) function ck_set_product(kriging, engine, tolerance) &
        bind(C, name="kinterp_kriging_set_product")
      import :: c_int, c_ptr, c_char, c_double
      type(c_ptr), value :: kriging
      character(kind=c_char), intent(in) :: engine(*)
      real(c_double), value :: tolerance
    end function
    integer(c_int) function ck_fit(kriging, local_rows, dimension, points, values, caller_error) &
        bind(C, name="kinterp_kriging_fit_checked")
      import :: c_int, c_int64_t, c_ptr, c_double, c_char
      type(c_ptr), value :: kriging
      integer(c_int64_t), value :: local_rows
      integer(c_int), value :: dimension
      real(c_double), intent(in) :: points(*), values(*)
      character(kind=c_char), intent(in) :: caller_error(*)
    end function
    integer(c_int) function ck_refit(kriging, local_rows, values, caller_error) &
        bind(C, name="kinterp_kriging_refit_checked")
      import :: c_int, c_int64_t, c_ptr, c_double, c_char
      type(c_ptr), value :: kriging
      integer(c_int64_t), value :: local_rows
      real(c_double), intent(in) :: values(*)
      character(kind=c_char), intent(in) :: caller_error(*)
    end function
    integer(c_int) function ck_fit_result(kriging, iterations, relative_residual) &
        bind(C, name="kinterp_kriging_fit_result")
      import :: c_int, c_ptr, c_double
      type(c_ptr), value :: kriging
      integer(c_int), intent(out) :: iterations
      real(c_double), intent(out) :: relative_residual
    end function
    integer(c_int) function ck_mean(kriging, local_targets, dimension, targets, mean, &
                                    caller_error) bind(C, name="kinterp_kriging_mean_checked")
      import :: c_int, c_int64_t, c_ptr, c_double, c_char
      type(c_ptr), value :: kriging
      integer(c_int64_t), value :: local_targets
      integer(c_int), value :: dimension
      real(c_double), intent(in) :: targets(*)
      real(c_double), intent(inout) :: mean(*)
      character(kind=c_char), intent(in) :: caller_error(*)
    end function
    integer(c_int) function ck_mean_gradient(kriging, local_targets, dimension, targets, &
                                             gradient, caller_error) &
        bind(C, name="kinterp_kriging_mean_gradient_checked")
      import :: c_int, c_int64_t, c_ptr, c_double, c_char
      type(c_ptr), value :: kriging
      integer(c_int64_t), value :: local_targets
      integer(c_int), value :: dimension
      real(c_double), intent(in) :: targets(*)
      real(c_double), intent(inout) :: gradient(*)
      character(kind=c_char), intent(in) :: caller_error(*)
    end function
    integer(c_int) function ck_variance(kriging, local_targets, dimension, targets, variance, &
                                        caller_error) bind(C, name="kinterp_kriging_variance_checked")
      import :: c_int, c_int64_t, c_ptr, c_double, c_char
      type(c_ptr), value :: kriging
      integer(c_int64_t), value :: local_targets
      integer(c_int), value :: dimension
      real(c_double), intent(in) :: targets(*)
      real(c_double), intent(inout) :: variance(*)
      character(kind=c_char), intent(in) :: caller_error(*)
    end function
    integer(c_int) function ck_estimate(kriging, local_rows, dimension, points, values, which, &
                                        max_iterations, log_likelihood, caller_error) &
        bind(C, name="kinterp_kriging_estimate_checked")
      import :: c_int, c_int64_t, c_ptr, c_double, c_char
      type(c_ptr), value :: kriging
      integer(c_int64_t), value :: local_rows
      integer(c_int), value :: dimension, which, max_iterations
      real(c_double), intent(in) :: points(*), values(*)
      real(c_double), intent(out) :: log_likelihood
      character(kind=c_char), intent(in) :: caller_error(*)
    end function
    integer(c_int) function ck_get_model(kriging, variance, length_scale_count, length_scales, &
                                         length_scales_held, nugget, shape) &
        bind(C, name="kinterp_kriging_get_model")
      import :: c_int, c_ptr, c_double
      type(c_ptr), value :: kriging
      real(c_double), intent(out) :: variance, nugget, shape
      integer(c_int), value :: length_scale_count
      real(c_double), intent(inout) :: length_scales(*)
      integer(c_int), intent(out) :: length_scales_held
    end function
  end interface

contains

  !> Fortran text as a NUL-terminated C string (trailing blanks dropped).
  pure function c_string(text) result(c_text)
    character(len=*), intent(in) :: text
    character(kind=c_char, len=:), allocatable :: c_text
    c_text = trim(text) // c_null_char
  end function

  !> Initialises MPI and Kokkos, each only if not yet running (no arguments
  !> reach Kokkos from Fortran: use KOKKOS_* environment variables).
  integer function kinterp_initialize() result(status)
    status = c_initialize(c_null_ptr, c_null_ptr)
  end function

  !> Finalises what kinterp_initialize started.
  integer function kinterp_finalize() result(status)
    status = c_finalize()
  end function

  !> Collective over comm (an MPI handle from `use mpi`).
  integer function kinterp_create(comm, model) result(status)
    integer, intent(in) :: comm
    type(kinterp_model), intent(out) :: model
    status = c_create_f(int(comm, c_int), model%handle)
  end function

  integer function kinterp_destroy(model) result(status)
    type(kinterp_model), intent(inout) :: model
    status = c_destroy(model%handle)
  end function

  !> The last error of `model` (of kinterp_create or kinterp_initialize when
  !> the model was never created); "" when there was none.
  function kinterp_error_message(model) result(message)
    type(kinterp_model), intent(in) :: model
    character(len=:), allocatable :: message
    message = fortran_text(c_error_message(model%handle))
  end function

  integer function kinterp_set_kernel(model, name, length_scale) result(status)
    type(kinterp_model), intent(in) :: model
    character(len=*), intent(in) :: name
    real(c_double), intent(in) :: length_scale
    status = c_set_kernel(model%handle, c_string(name), length_scale)
  end function

  !> aliases separated by ';', as "X = Vi(2); Y = Vj(2); B = Vj(1); G = Pm(1)".
  integer function kinterp_set_formula(model, formula, aliases) result(status)
    type(kinterp_model), intent(in) :: model
    character(len=*), intent(in) :: formula, aliases
    status = c_set_formula(model%handle, c_string(formula), c_string(aliases))
  end function

  integer function kinterp_set_parameter(model, name, values) result(status)
    type(kinterp_model), intent(in) :: model
    character(len=*), intent(in) :: name
    real(c_double), intent(in), contiguous :: values(:)
    status = c_set_parameter(model%handle, c_string(name), values, int(size(values), c_int))
  end function

  integer function kinterp_set_unknown(model, name) result(status)
    type(kinterp_model), intent(in) :: model
    character(len=*), intent(in) :: name
    status = c_set_unknown(model%handle, c_string(name))
  end function

  !> rows(k, n): this rank's rows of a formula variable besides the points and
  !> the weights, one column per point, as the points of kinterp_fit.
  integer function kinterp_set_input(model, name, rows) result(status)
    type(kinterp_model), intent(in) :: model
    character(len=*), intent(in) :: name
    real(c_double), intent(in), contiguous :: rows(:, :)
    status = c_set_input(model%handle, c_string(name), int(size(rows, 2), c_int64_t), &
                         int(size(rows, 1), c_int), rows)
  end function

  integer function kinterp_set_alpha(model, alpha) result(status)
    type(kinterp_model), intent(in) :: model
    real(c_double), intent(in) :: alpha
    status = c_set_alpha(model%handle, alpha)
  end function

  integer function kinterp_set_tolerances(model, rtol, atol, max_iterations) result(status)
    type(kinterp_model), intent(in) :: model
    real(c_double), intent(in) :: rtol, atol
    integer, intent(in) :: max_iterations
    status = c_set_tolerances(model%handle, rtol, atol, int(max_iterations, c_int))
  end function

  integer function kinterp_set_preconditioner(model, rank) result(status)
    type(kinterp_model), intent(in) :: model
    integer, intent(in) :: rank
    status = c_set_preconditioner(model%handle, int(rank, c_int))
  end function

  integer function kinterp_set_vecchia(model, neighbors) result(status)
    type(kinterp_model), intent(in) :: model
    integer, intent(in) :: neighbors
    status = c_set_vecchia(model%handle, int(neighbors, c_int))
  end function

  integer function kinterp_set_mixed_precision(model, enabled) result(status)
    type(kinterp_model), intent(in) :: model
    logical, intent(in) :: enabled
    integer(c_int) :: flag
    flag = 0
    if (enabled) flag = 1
    status = c_set_mixed_precision(model%handle, flag)
  end function

  !> Collective. points(d, n) and values(m, n): this rank's n points and the
  !> values b at them; solves (alpha I + K) a = b.
  integer function kinterp_fit(model, points, values) result(status)
    type(kinterp_model), intent(in) :: model
    real(c_double), intent(in), contiguous :: points(:, :), values(:, :)
    status = c_fit(model%handle, int(size(points, 2), c_int64_t), int(size(points, 1), c_int), &
                   points, int(size(values, 1), c_int), values, &
                   c_string(columns_mismatch("kinterp_fit", "points", size(points, 2), &
                                             "values", size(values, 2))))
  end function

  integer function kinterp_set_product(model, engine, tolerance) result(status)
    type(kinterp_model), intent(in) :: model
    character(len=*), intent(in) :: engine
    real(c_double), intent(in) :: tolerance
    status = c_set_product(model%handle, c_string(engine), tolerance)
  end function
  integer function kinterp_fit_product(model, tolerance, residual_bound) result(status)
    type(kinterp_model), intent(in) :: model
    real(c_double), intent(out) :: tolerance, residual_bound
    status = c_fit_product(model%handle, tolerance, residual_bound)
  end function
  integer function kinterp_fit_result(model, iterations, relative_residual) result(status)
    type(kinterp_model), intent(in) :: model
    integer, intent(out) :: iterations
    real(c_double), intent(out) :: relative_residual
    integer(c_int) :: count
    status = c_fit_result(model%handle, count, relative_residual)
    iterations = count
  end function

  !> weights(m, n): this rank's weights a of the last fit.
  integer function kinterp_weights(model, weights) result(status)
    type(kinterp_model), intent(in) :: model
    real(c_double), intent(inout), contiguous :: weights(:, :)
    status = c_weights(model%handle, int(size(weights, 2), c_int64_t), &
                       int(size(weights, 1), c_int), weights)
  end function

  !> Collective. values(m, n_t) = the fitted model at this rank's targets(d, n_t).
  integer function kinterp_predict(model, targets, values) result(status)
    type(kinterp_model), intent(in) :: model
    real(c_double), intent(in), contiguous :: targets(:, :)
    real(c_double), intent(inout), contiguous :: values(:, :)
    status = c_predict(model%handle, int(size(targets, 2), c_int64_t), &
                       int(size(targets, 1), c_int), targets, int(size(values, 1), c_int), &
                       values, c_string(columns_mismatch("kinterp_predict", "targets", &
                                                          size(targets, 2), "values", &
                                                          size(values, 2))))
  end function

  !> Collective. gradients(d m, n_t): the gradient of the fitted model at this
  !> rank's targets(d, n_t); gradients(k d + l + 1, i) is d/dt_l of value k
  !> (0-based k, l), as kinterp_predict_gradient in kinterp.h.
  integer function kinterp_predict_gradient(model, targets, gradients) result(status)
    type(kinterp_model), intent(in) :: model
    real(c_double), intent(in), contiguous :: targets(:, :)
    real(c_double), intent(inout), contiguous :: gradients(:, :)
    integer :: d
    character(len=:), allocatable :: problem
    d = size(targets, 1)
    problem = columns_mismatch("kinterp_predict_gradient", "targets", size(targets, 2), &
                               "gradients", size(gradients, 2))
    if (len(problem) == 0 .and. mod(size(gradients, 1), max(d, 1)) /= 0) then
      problem = "kinterp_predict_gradient: gradients needs d m rows, a multiple of the " // &
                "targets' dimension"
    end if
    status = c_predict_gradient(model%handle, int(size(targets, 2), c_int64_t), &
                                int(d, c_int), targets, int(size(gradients, 1) / max(d, 1), c_int), &
                                gradients, c_string(problem))
  end function

  !> Collective. laplacians(m, n_t): the Laplacian of the fitted model at this
  !> rank's targets(d, n_t), as kinterp_predict_laplacian in kinterp.h.
  integer function kinterp_predict_laplacian(model, targets, laplacians) result(status)
    type(kinterp_model), intent(in) :: model
    real(c_double), intent(in), contiguous :: targets(:, :)
    real(c_double), intent(inout), contiguous :: laplacians(:, :)
    status = c_predict_laplacian(model%handle, int(size(targets, 2), c_int64_t), &
                                 int(size(targets, 1), c_int), targets, &
                                 int(size(laplacians, 1), c_int), laplacians, &
                                 c_string(columns_mismatch("kinterp_predict_laplacian", "targets", &
                                                           size(targets, 2), "laplacians", &
                                                           size(laplacians, 2))))
  end function

  ! ---- Kriging (see kinterp.h) ----

  integer function kinterp_kriging_create(comm, kriging) result(status)
    integer, intent(in) :: comm
    type(kinterp_kriging), intent(out) :: kriging
    status = ck_create_f(int(comm, c_int), kriging%handle)
  end function

  integer function kinterp_kriging_destroy(kriging) result(status)
    type(kinterp_kriging), intent(inout) :: kriging
    status = ck_destroy(kriging%handle)
  end function

  function kinterp_kriging_error_message(kriging) result(message)
    type(kinterp_kriging), intent(in) :: kriging
    character(len=:), allocatable :: message
    message = fortran_text(ck_error_message(kriging%handle))
  end function

  !> length_scales: one (isotropic) or one per axis; angles (radians): none,
  !> 1 in 2D, 3 in 3D; shape: Matern's nu or the rational quadratic's alpha.
  integer function kinterp_kriging_set_model(kriging, family, variance, length_scales, nugget, &
                                             shape, angles) result(status)
    type(kinterp_kriging), intent(in) :: kriging
    character(len=*), intent(in) :: family
    real(c_double), intent(in) :: variance, nugget
    real(c_double), intent(in), contiguous :: length_scales(:)
    real(c_double), intent(in), optional :: shape
    real(c_double), intent(in), optional, contiguous :: angles(:)
    real(c_double) :: shape_value, no_angles(1)
    shape_value = 0
    if (present(shape)) shape_value = shape
    if (present(angles)) then
      status = ck_set_model(kriging%handle, c_string(family), variance, &
                            int(size(length_scales), c_int), length_scales, &
                            int(size(angles), c_int), angles, shape_value, nugget)
    else
      no_angles = 0
      status = ck_set_model(kriging%handle, c_string(family), variance, &
                            int(size(length_scales), c_int), length_scales, 0_c_int, no_angles, &
                            shape_value, nugget)
    end if
  end function

  !> kind: "simple" (with mean), "ordinary" or "universal" (with drift_degree).
  integer function kinterp_kriging_set_kind(kriging, kind, mean, drift_degree) result(status)
    type(kinterp_kriging), intent(in) :: kriging
    character(len=*), intent(in) :: kind
    real(c_double), intent(in), optional :: mean
    integer, intent(in), optional :: drift_degree
    real(c_double) :: mean_value
    integer(c_int) :: degree
    mean_value = 0
    degree = 1
    if (present(mean)) mean_value = mean
    if (present(drift_degree)) degree = int(drift_degree, c_int)
    status = ck_set_kind(kriging%handle, c_string(kind), mean_value, degree)
  end function

  integer function kinterp_kriging_set_tolerances(kriging, rtol, max_iterations) result(status)
    type(kinterp_kriging), intent(in) :: kriging
    real(c_double), intent(in) :: rtol
    integer, intent(in) :: max_iterations
    status = ck_set_tolerances(kriging%handle, rtol, int(max_iterations, c_int))
  end function

  integer function kinterp_kriging_set_preconditioner(kriging, rank) result(status)
    type(kinterp_kriging), intent(in) :: kriging
    integer, intent(in) :: rank
    status = ck_set_preconditioner(kriging%handle, int(rank, c_int))
  end function

  integer function kinterp_kriging_set_vecchia(kriging, neighbors) result(status)
    type(kinterp_kriging), intent(in) :: kriging
    integer, intent(in) :: neighbors
    status = ck_set_vecchia(kriging%handle, int(neighbors, c_int))
  end function

  integer function kinterp_kriging_set_product(kriging, engine, tolerance) result(status)
    type(kinterp_kriging), intent(in) :: kriging
    character(len=*), intent(in) :: engine
    real(c_double), intent(in) :: tolerance
    status = ck_set_product(kriging%handle, c_string(engine), tolerance)
  end function

  !> Collective. points(d, n) and values(n): this rank's points and values.
  integer function kinterp_kriging_fit(kriging, points, values) result(status)
    type(kinterp_kriging), intent(in) :: kriging
    real(c_double), intent(in), contiguous :: points(:, :), values(:)
    status = ck_fit(kriging%handle, int(size(points, 2), c_int64_t), int(size(points, 1), c_int), &
                    points, values, &
                    c_string(columns_mismatch("kinterp_kriging_fit", "points", size(points, 2), &
                                              "values", size(values))))
  end function

  !> Collective. New values(n) at the fit's points, keeping its set-up.
  integer function kinterp_kriging_refit(kriging, values) result(status)
    type(kinterp_kriging), intent(in) :: kriging
    real(c_double), intent(in), contiguous :: values(:)
    status = ck_refit(kriging%handle, int(size(values), c_int64_t), values, c_string(""))
  end function

  integer function kinterp_kriging_fit_result(kriging, iterations, relative_residual) &
      result(status)
    type(kinterp_kriging), intent(in) :: kriging
    integer, intent(out) :: iterations
    real(c_double), intent(out) :: relative_residual
    integer(c_int) :: count
    status = ck_fit_result(kriging%handle, count, relative_residual)
    iterations = count
  end function

  !> Collective. mean(n_t) at this rank's targets(d, n_t).
  integer function kinterp_kriging_mean(kriging, targets, mean) result(status)
    type(kinterp_kriging), intent(in) :: kriging
    real(c_double), intent(in), contiguous :: targets(:, :)
    real(c_double), intent(inout), contiguous :: mean(:)
    status = ck_mean(kriging%handle, int(size(targets, 2), c_int64_t), &
                     int(size(targets, 1), c_int), targets, mean, &
                     c_string(columns_mismatch("kinterp_kriging_mean", "targets", &
                                               size(targets, 2), "mean", size(mean))))
  end function

  !> Collective. gradient(d, n_t): the gradient of the kriging mean at this
  !> rank's targets(d, n_t).
  integer function kinterp_kriging_mean_gradient(kriging, targets, gradient) result(status)
    type(kinterp_kriging), intent(in) :: kriging
    real(c_double), intent(in), contiguous :: targets(:, :)
    real(c_double), intent(inout), contiguous :: gradient(:, :)
    character(len=:), allocatable :: problem
    problem = columns_mismatch("kinterp_kriging_mean_gradient", "targets", size(targets, 2), &
                               "gradient", size(gradient, 2))
    if (len(problem) == 0 .and. size(gradient, 1) /= size(targets, 1)) then
      problem = "kinterp_kriging_mean_gradient: gradient needs as many rows as the targets' " // &
                "dimension"
    end if
    status = ck_mean_gradient(kriging%handle, int(size(targets, 2), c_int64_t), &
                              int(size(targets, 1), c_int), targets, gradient, c_string(problem))
  end function

  !> Collective. variance(n_t) at this rank's targets(d, n_t).
  integer function kinterp_kriging_variance(kriging, targets, variance) result(status)
    type(kinterp_kriging), intent(in) :: kriging
    real(c_double), intent(in), contiguous :: targets(:, :)
    real(c_double), intent(inout), contiguous :: variance(:)
    status = ck_variance(kriging%handle, int(size(targets, 2), c_int64_t), &
                         int(size(targets, 1), c_int), targets, variance, &
                         c_string(columns_mismatch("kinterp_kriging_variance", "targets", &
                                                   size(targets, 2), "variance", size(variance))))
  end function

  !> Collective. Fits the parameters `which` (KINTERP_FIT_* or-ed together)
  !> by maximum likelihood and makes the result the model.
  integer function kinterp_kriging_estimate(kriging, points, values, which, max_iterations, &
                                            log_likelihood) result(status)
    type(kinterp_kriging), intent(in) :: kriging
    real(c_double), intent(in), contiguous :: points(:, :), values(:)
    integer, intent(in) :: which, max_iterations
    real(c_double), intent(out) :: log_likelihood
    status = ck_estimate(kriging%handle, int(size(points, 2), c_int64_t), &
                         int(size(points, 1), c_int), points, values, int(which, c_int), &
                         int(max_iterations, c_int), log_likelihood, &
                         c_string(columns_mismatch("kinterp_kriging_estimate", "points", &
                                                   size(points, 2), "values", size(values))))
  end function

  !> The model's variance, nugget, shape and length scales (as many as
  !> length_scales holds; held: how many the model has).
  integer function kinterp_kriging_get_model(kriging, variance, length_scales, held, nugget, &
                                             shape) result(status)
    type(kinterp_kriging), intent(in) :: kriging
    real(c_double), intent(out) :: variance, nugget, shape
    real(c_double), intent(inout), contiguous :: length_scales(:)
    integer, intent(out) :: held
    integer(c_int) :: count
    status = ck_get_model(kriging%handle, variance, int(size(length_scales), c_int), &
                          length_scales, count, nugget, shape)
    held = count
  end function

  !> A C string as a Fortran one.
  function fortran_text(text) result(message)
    type(c_ptr), intent(in) :: text
    character(len=:), allocatable :: message
    character(kind=c_char), pointer :: chars(:)
    integer :: k, length
    length = int(c_strlen(text))
    call c_f_pointer(text, chars, [length])
    allocate(character(len=length) :: message)
    do k = 1, length
      message(k:k) = chars(k)
    end do
  end function

  !> "" when two arrays have the same number of columns (points), else why not.
  function columns_mismatch(call, first, first_columns, second, second_columns) result(message)
    character(len=*), intent(in) :: call, first, second
    integer, intent(in) :: first_columns, second_columns
    character(len=:), allocatable :: message
    character(len=24) :: a, b
    message = ""
    if (first_columns == second_columns) return
    write (a, "(i0)") first_columns
    write (b, "(i0)") second_columns
    message = call // ": " // first // " has " // trim(a) // " columns (points) but " // &
              second // " has " // trim(b) // " on this rank: give one column per point to both"
  end function

end module kinterp
