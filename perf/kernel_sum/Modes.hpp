#pragma once
// kinterp-bench-kernel-sum's modes (--only): each prints its table's header on
// stderr, then runs its cases, one JSON line each (collective).

#include "Settings.hpp"

#include <mpi.h>

namespace kinterp::bench {

void run_sum_mode(MPI_Comm comm, const Settings& s);
void run_generic_mode(MPI_Comm comm, const Settings& s);
void run_seed_mode(MPI_Comm comm, const Settings& s);
void run_solve_mode(MPI_Comm comm, const Settings& s);
void run_gemm_mode(MPI_Comm comm, const Settings& s);
void run_derivative_mode(MPI_Comm comm, const Settings& s);

}  // namespace kinterp::bench
