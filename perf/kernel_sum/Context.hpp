#pragma once
// What every line of kinterp-bench-kernel-sum starts with: the run's context
// (its first line) and the fields common to every case.

#include "support/JsonLine.hpp"

#include <mpi.h>

#include <cstdint>
#include <string>

namespace kinterp::bench {

inline constexpr const char* program = "kinterp-bench-kernel-sum";

int threads_per_rank();
std::string kokkos_version();
/// What KokkosBlas::gemm calls on the host: the vendor BLAS when Kokkos
/// Kernels was built with it, else its own (much slower) kernel.
std::string gemm_backend();

/// The first line: program, build, machine, MPI and OpenMP settings (collective).
JsonLine context(MPI_Comm comm);

/// The fields every case line starts with.
JsonLine case_line(MPI_Comm comm, const std::string& record, const std::string& kernel,
                   const std::string& dtype, int dim, std::int64_t n, int m);

}  // namespace kinterp::bench
