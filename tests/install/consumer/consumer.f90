! The same problem as consumer.cpp through the Fortran module.
program consumer_fortran
  use, intrinsic :: iso_c_binding, only: c_double
  use mpi
  use kinterp
  implicit none
  real(c_double), parameter :: alpha = 0.1d0, scale = 0.3d0
  real(c_double) :: x(1, 3), b(1, 3), a(1, 3), residual
  integer :: rank, ranks, i, ierr, iterations, status
  type(kinterp_model) :: model
  status = kinterp_initialize()
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, ranks, ierr)
  do i = 1, 3
    x(1, i) = real(3 * rank + i - 1, c_double) / (3 * ranks)
    b(1, i) = cos(3 * x(1, i))
  end do
  if (status == KINTERP_SUCCESS) status = kinterp_create(MPI_COMM_WORLD, model)
  if (status == KINTERP_SUCCESS) status = kinterp_set_kernel(model, "gaussian", scale)
  if (status == KINTERP_SUCCESS) status = kinterp_set_alpha(model, alpha)
  if (status == KINTERP_SUCCESS) status = kinterp_set_tolerances(model, 1d-12, 0d0, 100)
  if (status == KINTERP_SUCCESS) status = kinterp_fit(model, x, b)
  if (status == KINTERP_SUCCESS) status = kinterp_weights(model, a)
  if (status == KINTERP_SUCCESS) status = kinterp_fit_result(model, iterations, residual)
  if (status /= KINTERP_SUCCESS) then
    print *, "consumer_fortran: ", kinterp_error_message(model)
    stop 1
  end if
  if (rank == 0) print "(a, i0, a, es9.2)", "consumer_fortran: ", iterations, &
                                            " iterations, relative residual ", residual
  status = kinterp_destroy(model)
  status = kinterp_finalize()
  if (residual > 1d-11) stop 1
end program consumer_fortran
