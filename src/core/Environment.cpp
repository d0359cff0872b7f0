#include <kinterp/core/Environment.hpp>

#include <mpi.h>

#include <Kokkos_Core.hpp>
#if defined(_OPENMP)
#include <omp.h>
#endif

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <vector>

namespace kinterp {

namespace {

/// Why `argument` (a --kokkos-* one) must not reach Kokkos, or "".
std::string kokkos_argument_error(const std::string& argument) {
  const auto equals = argument.find('=');
  const std::string name = argument.substr(0, equals);
  const bool threads = name == "--kokkos-threads" || name == "--kokkos-num-threads";
  const bool count = threads || name == "--kokkos-numa" || name == "--kokkos-device-id";
  if (!count) return "";
  if (equals == std::string::npos) return name + " takes its value after '=', e.g. " + name + "=4";
  const std::string value = argument.substr(equals + 1);
  char* end = nullptr;
  errno = 0;
  const long number = std::strtol(value.c_str(), &end, 10);
  const long lowest = threads ? 1 : 0;
  if (value.empty() || *end != '\0' || errno == ERANGE || number < lowest || number > 1 << 20) {
    return name + " takes an integer of at least " + std::to_string(lowest) + ", got '" + value +
           "'";
  }
  return "";
}

/// Kokkos advises on OMP_PROC_BIND when it is not set; the OpenMP runtime has
/// already read the environment by then, so setting it here only says what the
/// runtime does without it: bind when OMP_PLACES (or GOMP_CPU_AFFINITY) is set.
void quiet_proc_bind_advice() {
  if (std::getenv("OMP_PROC_BIND") != nullptr) return;
  const bool places =
      std::getenv("OMP_PLACES") != nullptr || std::getenv("GOMP_CPU_AFFINITY") != nullptr;
  setenv("OMP_PROC_BIND", places ? "true" : "false", 0);
}

}  // namespace

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
      if (std::strncmp(argv[k], "--kokkos-", 9) != 0) {
        argv[kept++] = argv[k];
        continue;
      }
      const std::string error = kokkos_argument_error(argv[k]);
      if (error.empty()) {
        kokkos_argv.push_back(argv[k]);
      } else if (argument_error_.empty()) {
        argument_error_ = error;
      }
    }
    argc = kept;
    argv[argc] = nullptr;
    int kokkos_argc = static_cast<int>(kokkos_argv.size());
    kokkos_argv.push_back(nullptr);
    char** kokkos_args = kokkos_argv.data();
    quiet_proc_bind_advice();
    Kokkos::initialize(kokkos_argc, kokkos_args);
    finalize_kokkos_ = true;
  }
}

Environment::~Environment() {
  if (finalize_kokkos_) Kokkos::finalize();
  if (finalize_mpi_) MPI_Finalize();
}

std::string thread_binding() {
#if defined(_OPENMP) && defined(KOKKOS_ENABLE_OPENMP)
  if (!std::is_same_v<Kokkos::DefaultHostExecutionSpace, Kokkos::OpenMP>) return "";
  switch (omp_get_proc_bind()) {
    case omp_proc_bind_false:
      return "threads not bound";
    case omp_proc_bind_true:
      return "threads bound";
    case omp_proc_bind_master:
      return "threads bound (master)";
    case omp_proc_bind_close:
      return "threads bound (close)";
    case omp_proc_bind_spread:
      return "threads bound (spread)";
  }
#endif
  return "";
}

}  // namespace kinterp
