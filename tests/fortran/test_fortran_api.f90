! The Fortran module: a Gaussian fit checked against the dense residual
! (alpha I + K) a - b and the plain kernel sum at targets, computed here over
! all ranks' data; status codes and messages for bad input. Exits nonzero on
! any failed check.
program test_fortran_api
  use, intrinsic :: iso_c_binding, only: c_double
  use mpi
  use kinterp
  implicit none

  integer, parameter :: n = 150, d = 2, n_targets = 23
  real(c_double), parameter :: scale = 0.25d0, alpha = 1d-3
  real(c_double) :: all_points(d, n), all_values(1, n), all_weights(n), noise(1, n)
  real(c_double), allocatable :: weights(:, :), predicted(:, :), targets(:, :), gradients(:, :)
  real(c_double), allocatable :: laplacians(:, :)
  real(c_double) :: residual, worst, term, magnitude, tolerance, bound
  real(kind=16) :: accumulated
  integer :: rank, ranks, first, last, i, j, t, ierr, status, iterations, failures, total
  integer :: counts(64), displacements(64)
  type(kinterp_model) :: model

  failures = 0
  call check(kinterp_initialize() == KINTERP_SUCCESS, "initialize")
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, ranks, ierr)
  do i = 1, n
    all_points(1, i) = modulo(0.5d0 + i * 0.5698402910d0, 1d0)
    all_points(2, i) = modulo(0.5d0 + i * 0.7548776662d0, 1d0)
    all_values(1, i) = sin(6 * all_points(1, i)) * cos(4 * all_points(2, i))
  end do
  do i = 0, ranks - 1
    displacements(i + 1) = (n * i) / ranks
    counts(i + 1) = (n * (i + 1)) / ranks - displacements(i + 1)
  end do
  first = displacements(rank + 1) + 1
  last = first + counts(rank + 1) - 1

  call check(kinterp_create(MPI_COMM_WORLD, model) == KINTERP_SUCCESS, "create")
  status = kinterp_set_kernel(model, "gausian", scale)
  call check(status == KINTERP_ERROR_INVALID_ARGUMENT, "a misspelt kernel name is refused")
  call check(index(kinterp_error_message(model), "gaussian") > 0, kinterp_error_message(model))
  call check(kinterp_set_kernel(model, "gaussian", scale) == KINTERP_SUCCESS, "set kernel")
  call check(kinterp_set_alpha(model, alpha) == KINTERP_SUCCESS, "set alpha")
  call check(kinterp_set_tolerances(model, 1d-12, 0d0, 2000) == KINTERP_SUCCESS, "tolerances")

  ! Arrays that disagree on one rank: every rank gets the error.
  status = kinterp_fit(model, all_points(:, first:last), all_values(:, first:min(last, n - 1)))
  if (ranks == 1 .or. last == n) then
    call check(status == KINTERP_ERROR_INVALID_ARGUMENT, "mismatched columns are refused")
  end if
  call check(status /= KINTERP_SUCCESS, "mismatch on the last rank reaches every rank")
  call check(index(kinterp_error_message(model), "columns (points)") > 0, kinterp_error_message(model))

  status = kinterp_fit(model, all_points(:, first:last), all_values(:, first:last))
  call check(status == KINTERP_SUCCESS, kinterp_error_message(model))
  call check(kinterp_fit_result(model, iterations, residual) == KINTERP_SUCCESS, "fit result")
  call check(iterations > 0 .and. residual <= 1d-12, "converged to rtol")

  allocate(weights(1, counts(rank + 1)))
  noise = 0
  call check(dense_residual(noise) < 1d-9, "the dense residual is small")

  ! Targets on rank 0 only, against the plain sum.
  allocate(targets(d, merge(n_targets, 0, rank == 0)), predicted(1, merge(n_targets, 0, rank == 0)))
  do t = 1, size(targets, 2)
    targets(1, t) = modulo(0.13d0 + 0.31d0 * t, 1d0)
    targets(2, t) = modulo(0.29d0 + 0.17d0 * t, 1d0)
  end do
  call check(kinterp_predict(model, targets, predicted) == KINTERP_SUCCESS, &
             kinterp_error_message(model))
  worst = 0
  do t = 1, size(targets, 2)
    accumulated = 0
    magnitude = 0
    do j = 1, n
      term = kernel(targets(:, t), all_points(:, j)) * all_weights(j)
      accumulated = accumulated + term
      magnitude = magnitude + abs(term)
    end do
    worst = max(worst, real(abs(accumulated - predicted(1, t)), c_double) / magnitude)
  end do
  call check(worst < 1d-12, "predictions match the plain sum")

  ! Gradients at the same targets: gradients(l, t) = sum_j k'(r)/r (t_l - x_jl) a_j,
  ! with k'(r)/r = -k / scale^2 for the Gaussian.
  allocate(gradients(d, size(targets, 2)))
  call check(kinterp_predict_gradient(model, targets, gradients) == KINTERP_SUCCESS, &
             kinterp_error_message(model))
  worst = 0
  do t = 1, size(targets, 2)
    do i = 1, d
      accumulated = 0
      magnitude = 0
      do j = 1, n
        term = -kernel(targets(:, t), all_points(:, j)) / scale**2 * &
               (targets(i, t) - all_points(i, j)) * all_weights(j)
        accumulated = accumulated + term
        magnitude = magnitude + abs(term)
      end do
      worst = max(worst, real(abs(accumulated - gradients(i, t)), c_double) / magnitude)
    end do
  end do
  call check(worst < 1d-11, "gradients match the plain sum")

  ! And the Laplacian: (r^2 / scale^4 - 2 / scale^2) k in 2D.
  allocate(laplacians(1, size(targets, 2)))
  call check(kinterp_predict_laplacian(model, targets, laplacians) == KINTERP_SUCCESS, &
             kinterp_error_message(model))
  worst = 0
  do t = 1, size(targets, 2)
    accumulated = 0
    magnitude = 0
    do j = 1, n
      term = (sum((targets(:, t) - all_points(:, j))**2) / scale**4 - 2 / scale**2) * &
             kernel(targets(:, t), all_points(:, j)) * all_weights(j)
      accumulated = accumulated + term
      magnitude = magnitude + abs(term)
    end do
    worst = max(worst, real(abs(accumulated - laplacians(1, t)), c_double) / magnitude)
  end do
  call check(worst < 1d-11, "Laplacians match the plain sum")

  ! Wrong target dimension: refused on every rank.
  deallocate(targets)
  allocate(targets(d + 1, 1))
  targets = 0.5d0
  status = kinterp_predict(model, targets, predicted(:, 1:min(1, size(predicted, 2))))
  call check(status == KINTERP_ERROR_INVALID_ARGUMENT, "a wrong target dimension is refused")

  ! The tree product through the binding (its accuracy is test_c_api's):
  ! the engine and tolerance reach the fit, which reports them back.
  status = kinterp_set_product(model, "tre", 0d0)
  call check(status == KINTERP_ERROR_INVALID_ARGUMENT, "a misspelt engine is refused")
  call check(index(kinterp_error_message(model), "did you mean 'tree'") > 0, &
             kinterp_error_message(model))
  call check(kinterp_set_product(model, "tree", 1d-10) == KINTERP_SUCCESS, &
             kinterp_error_message(model))
  status = kinterp_fit(model, all_points(:, first:last), all_values(:, first:last))
  call check(status == KINTERP_SUCCESS, kinterp_error_message(model))
  call check(kinterp_fit_product(model, tolerance, bound) == KINTERP_SUCCESS, "fit product")
  call check(tolerance == 1d-10 .and. bound > 0, "the tree's tolerance and bound are reported")

  ! The Vecchia preconditioner through the binding (its accuracy is test_c_api's).
  call check(kinterp_set_product(model, "direct", 0d0) == KINTERP_SUCCESS, &
             kinterp_error_message(model))
  call check(kinterp_set_vecchia(model, 15) == KINTERP_SUCCESS, kinterp_error_message(model))
  status = kinterp_fit(model, all_points(:, first:last), all_values(:, first:last))
  call check(status == KINTERP_SUCCESS, kinterp_error_message(model))
  call check(kinterp_set_vecchia(model, -1) == KINTERP_ERROR_INVALID_ARGUMENT, &
             "negative neighbors are refused")

  ! Per-point noise through kinterp_set_input: a j-variable S that adds s_i to
  ! the diagonal, against the dense residual.
  call check(kinterp_set_vecchia(model, 0) == KINTERP_SUCCESS, kinterp_error_message(model))
  call check(kinterp_set_formula(model, "Exp(-G*SqDist(X,Y))*B + (SqDist(X,Y) == 0)*S*B", &
                                 "X = Vi(2); Y = Vj(2); B = Vj(1); S = Vj(1); G = Pm(1)") == &
             KINTERP_SUCCESS, kinterp_error_message(model))
  call check(kinterp_set_parameter(model, "G", [1 / (2 * scale**2)]) == KINTERP_SUCCESS, &
             kinterp_error_message(model))
  do i = 1, n
    noise(1, i) = 0.01d0 * (1 + modulo(i, 7))
  end do
  call check(kinterp_set_input(model, "S", noise(:, first:last)) == KINTERP_SUCCESS, &
             kinterp_error_message(model))
  status = kinterp_fit(model, all_points(:, first:last), all_values(:, first:last))
  call check(status == KINTERP_SUCCESS, kinterp_error_message(model))
  call check(dense_residual(noise) < 1d-9, "the dense residual with per-point noise is small")

  call check(kinterp_destroy(model) == KINTERP_SUCCESS, "destroy")
  call check_kriging()
  deallocate(weights, targets, predicted, gradients, laplacians)  ! variables of the main program are never freed
  call MPI_Allreduce(failures, total, 1, MPI_INTEGER, MPI_SUM, MPI_COMM_WORLD, ierr)
  if (rank == 0) print "(a, i0, a, i0, a)", "test_fortran_api: ", ranks, " ranks, ", total, &
                                           " failed checks"
  call check(kinterp_finalize() == KINTERP_SUCCESS, "finalize")
  if (total /= 0 .or. failures /= 0) stop 1

contains

  ! Kriging without a nugget interpolates: at its own points the mean is the
  ! value and the variance 0 (closed forms), after a fit and after a refit.
  subroutine check_kriging()
    type(kinterp_kriging) :: kriging
    real(c_double) :: mean(counts(rank + 1)), variance(counts(rank + 1))
    real(c_double) :: changed(counts(rank + 1)), short(max(counts(rank + 1) - 1, 0))
    real(c_double) :: fitted_variance, fitted_nugget, fitted_shape, length(1)
    real(c_double) :: off(2, counts(rank + 1)), moved(2, counts(rank + 1))
    real(c_double) :: gradient(2, counts(rank + 1)), up(counts(rank + 1)), down(counts(rank + 1))
    real(c_double), parameter :: h = 1d-5
    integer :: held, axis
    call check(kinterp_kriging_create(MPI_COMM_WORLD, kriging) == KINTERP_SUCCESS, "kriging")
    call check(kinterp_kriging_set_model(kriging, "matern32", 2d0, [0.3d0], 0d0) == &
               KINTERP_SUCCESS, kinterp_kriging_error_message(kriging))
    call check(kinterp_kriging_set_tolerances(kriging, 1d-13, 5000) == KINTERP_SUCCESS, &
               kinterp_kriging_error_message(kriging))
    ! Values that disagree with the points on one rank: every rank gets the error.
    status = kinterp_kriging_fit(kriging, all_points(:, first:last), &
                                 all_values(1, first:min(last, n - 1)))
    call check(status == KINTERP_ERROR_INVALID_ARGUMENT, "kriging: mismatched values refused")
    call check(index(kinterp_kriging_error_message(kriging), "columns (points)") > 0, &
               kinterp_kriging_error_message(kriging))
    status = kinterp_kriging_fit(kriging, all_points(:, first:last), all_values(1, first:last))
    call check(status == KINTERP_SUCCESS, kinterp_kriging_error_message(kriging))
    call check(kinterp_kriging_mean(kriging, all_points(:, first:last), mean) == &
               KINTERP_SUCCESS, kinterp_kriging_error_message(kriging))
    call check(kinterp_kriging_variance(kriging, all_points(:, first:last), variance) == &
               KINTERP_SUCCESS, kinterp_kriging_error_message(kriging))
    call check(all(abs(mean - all_values(1, first:last)) < 1d-6), &
               "kriging: the mean at the points is the values")
    call check(all(abs(variance) < 1d-6), "kriging: no variance at the points")
    ! The mean's gradient off the points, (d, n_t) as the targets, against
    ! central differences of the mean (O(h^2), and CG's 1e-13 over h).
    off = all_points(:, first:last) + 0.013d0
    call check(kinterp_kriging_mean_gradient(kriging, off, gradient) == KINTERP_SUCCESS, &
               kinterp_kriging_error_message(kriging))
    do axis = 1, 2
      moved = off
      moved(axis, :) = off(axis, :) + h
      call check(kinterp_kriging_mean(kriging, moved, up) == KINTERP_SUCCESS, "kriging: mean")
      moved(axis, :) = off(axis, :) - h
      call check(kinterp_kriging_mean(kriging, moved, down) == KINTERP_SUCCESS, "kriging: mean")
      call check(all(abs(gradient(axis, :) - (up - down) / (2 * h)) < &
                     1d-5 * (1 + maxval(abs(gradient)))), "kriging: the mean's gradient")
    end do
    call check(kinterp_kriging_mean_gradient(kriging, off, gradient(1:1, :)) == &
               KINTERP_ERROR_INVALID_ARGUMENT, "kriging: a gradient of the wrong shape")
    changed = all_points(1, first:last) - cos(3 * all_points(2, first:last))
    call check(kinterp_kriging_refit(kriging, changed) == KINTERP_SUCCESS, &
               kinterp_kriging_error_message(kriging))
    call check(kinterp_kriging_mean(kriging, all_points(:, first:last), mean) == &
               KINTERP_SUCCESS, kinterp_kriging_error_message(kriging))
    call check(all(abs(mean - changed) < 1d-6), &
               "kriging: the refit's mean at the points is the new values")
    if (rank == ranks - 1) then
      status = kinterp_kriging_refit(kriging, short)
    else
      status = kinterp_kriging_refit(kriging, changed)
    end if
    call check(status == KINTERP_ERROR_INVALID_ARGUMENT, "kriging: a refit of other points")
    call check(kinterp_kriging_get_model(kriging, fitted_variance, length, held, fitted_nugget, &
                                         fitted_shape) == KINTERP_SUCCESS, "get model")
    call check(fitted_variance == 2d0 .and. length(1) == 0.3d0 .and. held == 1, "the model")
    call check(kinterp_kriging_destroy(kriging) == KINTERP_SUCCESS, "kriging destroy")
  end subroutine

  ! max_i |((alpha I + diag(noise) + K) a - b)_i| / max |b| for the last fit's
  ! weights a, gathered from all ranks into all_weights; in quadruple precision.
  real(c_double) function dense_residual(noise)
    real(c_double), intent(in) :: noise(1, n)
    real(kind=16) :: row
    integer :: i, j
    call check(kinterp_weights(model, weights) == KINTERP_SUCCESS, kinterp_error_message(model))
    call MPI_Allgatherv(weights, counts(rank + 1), MPI_DOUBLE_PRECISION, all_weights, counts, &
                        displacements, MPI_DOUBLE_PRECISION, MPI_COMM_WORLD, ierr)
    dense_residual = 0
    do i = 1, n
      row = (alpha + noise(1, i)) * all_weights(i) - all_values(1, i)
      do j = 1, n
        row = row + kernel(all_points(:, i), all_points(:, j)) * all_weights(j)
      end do
      dense_residual = max(dense_residual, real(abs(row), c_double))
    end do
    dense_residual = dense_residual / maxval(abs(all_values))
  end function

  real(c_double) function kernel(x, y)
    real(c_double), intent(in) :: x(:), y(:)
    kernel = exp(-sum_of_squares(x - y) / (2 * scale**2))
  end function

  real(c_double) function sum_of_squares(v)
    real(c_double), intent(in) :: v(:)
    sum_of_squares = dot_product(v, v)
  end function

  subroutine check(condition, what)
    logical, intent(in) :: condition
    character(len=*), intent(in) :: what
    if (.not. condition) then
      failures = failures + 1
      write (*, "(a, i0, 2a)") "rank ", rank, ": failed: ", what
    end if
  end subroutine

end program test_fortran_api
