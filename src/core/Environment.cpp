#include <kinterp/core/Environment.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

namespace kinterp {

Environment::Environment(int& argc, char**& argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    finalize_mpi_ = true;
  }
  if (!Kokkos::is_initialized()) {
    Kokkos::initialize(argc, argv);
    finalize_kokkos_ = true;
  }
}

Environment::~Environment() {
  if (finalize_kokkos_) Kokkos::finalize();
  if (finalize_mpi_) MPI_Finalize();
}

}  // namespace kinterp
