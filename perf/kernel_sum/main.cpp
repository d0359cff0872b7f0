// kinterp-bench-kernel-sum: how fast kinterp runs on this machine. Modes
// (--only, a list; default sum,seed):
//
//   sum    the distributed kernel sum out_i = sum_j k(x_i, x_j) w_j (targets =
//          sources) through kinterp::KernelSum<T>: pairs per second, time spent
//          waiting for ring messages, peak memory (SumMode.cpp);
//   seed   the seed's two solves (1D Gaussian, 2D Laplacian, N = 10000, rtol
//          1e-6): time, iterations, time per kernel product (SolveModes.cpp);
//   solve  a seed-like Gaussian solve at scale (alpha = 1, sigma = 0.1, i.e.
//          exp(-50 r^2), --solve-n points in --solve-dim dimensions): time,
//          iterations, residual, peak memory per rank (SolveModes.cpp);
//   generic the generic evaluator (kinterp::Genred) on the Gaussian and
//          Laplacian written so that the recogniser does not catch them
//          (Exp(-G*Sum(Square(X-Y)))*A), next to the compiled path (KernelSum)
//          on the same data in the same run: the ratio of their times
//          (GenericMode.cpp);
//   derivatives the gradient and Laplacian of a fitted model next to its
//          values (KernelModel), the seed's 2D problem at 101 x 101 targets
//          (DerivativeMode.cpp);
//   gemm   the on-node GEMM path for d >= 16 (local_kernel_sum_gemm) next to a
//          bare KokkosBlas::gemm of the shapes it multiplies, and next to
//          local_kernel_sum as dispatched (GemmMode.cpp).
//
//   OMP_NUM_THREADS=1 kinterp-bench-kernel-sum --kernel gaussian --dtype float --dim 3 --n 20000
//   mpirun -np 2 kinterp-bench-kernel-sum --only solve --solve-n 200000 --solve-dim 2
//   kinterp-bench-kernel-sum --only gemm --dims 32,128,512
//
// One JSON object per line on stdout (rank 0; the first line describes the
// run), a readable summary on stderr. It reports and never passes or fails on
// time; perf/README.md describes the fields.

#include "Context.hpp"
#include "Modes.hpp"
#include "Settings.hpp"
#include "support/JsonLine.hpp"
#include "support/StdoutToStderr.hpp"

#include <kinterp/core/Environment.hpp>
#include <kinterp/core/Partition.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <cstdio>
#include <exception>
#include <memory>

namespace {

using namespace kinterp::bench;

void run(MPI_Comm comm, const Settings& s) {
  emit(comm, context(comm));
  if (kinterp::rank_of(comm) == 0) {
    std::fprintf(stderr, "%s: %d rank(s) x %d thread(s) on %s, Kokkos %s, gemm: %s\n", program,
                 kinterp::size_of(comm), threads_per_rank(), Kokkos::DefaultExecutionSpace::name(),
                 kokkos_version().c_str(), gemm_backend().c_str());
  }
  // In this order, whatever the order of --only.
  if (s.runs("sum")) run_sum_mode(comm, s);
  if (s.runs("generic")) run_generic_mode(comm, s);
  if (s.runs("derivatives")) run_derivative_mode(comm, s);
  if (s.runs("seed")) run_seed_mode(comm, s);
  if (s.runs("solve")) run_solve_mode(comm, s);
  if (s.runs("gemm")) run_gemm_mode(comm, s);
}

}  // namespace

int main(int argc, char** argv) {
  const auto environment = kinterp::bench::start_quietly(argc, argv);
  const MPI_Comm comm = MPI_COMM_WORLD;
  try {
    const Settings settings = parse_settings(argc, argv);
    if (settings.help) {
      if (kinterp::rank_of(comm) == 0) std::fputs(usage, stdout);
      return 0;
    }
    run(comm, settings);
    return 0;
  } catch (const std::exception& e) {
    // kinterp's collective calls throw on every rank; a bad option does too
    // (every rank parses the same command line).
    if (kinterp::rank_of(comm) == 0) std::fprintf(stderr, "%s: %s\n%s", program, e.what(), usage);
    return 1;
  }
}
