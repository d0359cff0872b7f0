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
  type, public :: kinterp_model
    type(c_ptr) :: handle = c_null_ptr
  end type kinterp_model

  public :: kinterp_initialize, kinterp_finalize, kinterp_create, kinterp_destroy, &
            kinterp_error_message, kinterp_set_kernel, kinterp_set_formula, &
            kinterp_set_parameter, kinterp_set_unknown, kinterp_set_alpha, &
            kinterp_set_tolerances, kinterp_set_preconditioner, kinterp_set_vecchia, &
            kinterp_set_mixed_precision, &
            kinterp_set_product, kinterp_fit, kinterp_fit_result, kinterp_fit_product, &
            kinterp_weights, kinterp_predict

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
    type(c_ptr) :: text
    character(kind=c_char), pointer :: chars(:)
    integer :: k, length
    text = c_error_message(model%handle)
    length = int(c_strlen(text))
    call c_f_pointer(text, chars, [length])
    allocate(character(len=length) :: message)
    do k = 1, length
      message(k:k) = chars(k)
    end do
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
