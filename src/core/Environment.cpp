#include <kinterp/core/Environment.hpp>

#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <cstring>
#include <vector>

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
    // Kokkos sees only its own --kokkos-* arguments (Kokkos 3 would also take
    // the program's --help as its own), and they are removed from argv.
    std::vector<char*> kokkos_argv = {argv[0]};
    int kept = 1;
    for (int k = 1; k < argc; ++k) {
      if (std::strncmp(argv[k], "--kokkos-", 9) == 0) {
        kokkos_argv.push_back(argv[k]);
      } else {
        argv[kept++] = argv[k];
      }
    }
    argc = kept;
    argv[argc] = nullptr;
    int kokkos_argc = static_cast<int>(kokkos_argv.size());
    kokkos_argv.push_back(nullptr);
    char** kokkos_args = kokkos_argv.data();
    Kokkos::initialize(kokkos_argc, kokkos_args);
    finalize_kokkos_ = true;
  }
}

Environment::~Environment() {
  if (finalize_kokkos_) Kokkos::finalize();
  if (finalize_mpi_) MPI_Finalize();
}

}  // namespace kinterp
