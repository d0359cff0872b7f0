#include "Context.hpp"

#include <kinterp/core/Partition.hpp>

#include <KokkosKernels_config.h>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <vector>

#ifndef KINTERP_VERSION
#define KINTERP_VERSION "unknown"
#endif
#ifndef KINTERP_BUILD_TYPE
#define KINTERP_BUILD_TYPE "unknown"
#endif
#ifndef KINTERP_ARCH_NATIVE
#define KINTERP_ARCH_NATIVE 0
#endif

namespace kinterp::bench {

int threads_per_rank() {
  return Kokkos::DefaultExecutionSpace().concurrency();
}

std::string kokkos_version() {
  return std::to_string(KOKKOS_VERSION / 10000) + "." + std::to_string(KOKKOS_VERSION / 100 % 100) +
         "." + std::to_string(KOKKOS_VERSION % 100);
}

std::string gemm_backend() {
#if defined(KOKKOSKERNELS_ENABLE_TPL_MKL)
  return "MKL";
#elif defined(KOKKOSKERNELS_ENABLE_TPL_BLAS)
  return "BLAS TPL";
#else
  return "Kokkos Kernels (no BLAS TPL)";
#endif
}

namespace {

std::string compiler() {
#if defined(__clang__)
  return std::string("Clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("GCC ") + __VERSION__;
#else
  return "unknown";
#endif
}

std::string utc_date() {
  const std::time_t now = std::time(nullptr);
  char text[32] = "";
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

std::string mpi_library() {
  char version[MPI_MAX_LIBRARY_VERSION_STRING] = "";
  int length = 0;
  MPI_Get_library_version(version, &length);
  std::string text(version, static_cast<std::size_t>(length));
  const auto end = text.find_first_of(",\n");
  return text.substr(0, end);
}

/// The distinct host names of the ranks, rank 0's first.
std::vector<std::string> hosts(MPI_Comm comm) {
  char mine[MPI_MAX_PROCESSOR_NAME] = "";
  int length = 0;
  MPI_Get_processor_name(mine, &length);
  std::vector<char> all(std::size_t(size_of(comm)) * MPI_MAX_PROCESSOR_NAME);
  MPI_Allgather(mine, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(), MPI_MAX_PROCESSOR_NAME,
                MPI_CHAR, comm);
  std::vector<std::string> names;
  for (int r = 0; r < size_of(comm); ++r) {
    std::string name(&all[std::size_t(r) * MPI_MAX_PROCESSOR_NAME]);
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

}  // namespace

JsonLine context(MPI_Comm comm) {
  const std::vector<std::string> host_names = hosts(comm);
  JsonLine environment;
  for (const char* name : {"OMP_NUM_THREADS", "OMP_PROC_BIND", "OMP_PLACES", "OMP_WAIT_POLICY"}) {
    if (const char* value = std::getenv(name)) environment.add(name, value);
  }
  JsonLine line;
  line.add("record", "context")
      .add("program", program)
      .add("kinterp_version", KINTERP_VERSION)
      .add("date", utc_date())
      .add("host", host_names.front())
      .add("hosts", host_names)
      .add("ranks", size_of(comm))
      .add("threads", threads_per_rank())
      .add("execution_space", Kokkos::DefaultExecutionSpace::name())
      .add("kokkos_version", kokkos_version())
      .add("gemm_backend", gemm_backend())
      .add("compiler", compiler())
      .add("build_type", KINTERP_BUILD_TYPE)
      .add("arch_native", KINTERP_ARCH_NATIVE != 0)
      .add("mpi_library", mpi_library())
      .add_object("environment", environment);
  return line;
}

JsonLine case_line(MPI_Comm comm, const std::string& record, const std::string& kernel,
                   const std::string& dtype, int dim, std::int64_t n, int m) {
  JsonLine line;
  line.add("record", record)
      .add("kernel", kernel)
      .add("dtype", dtype)
      .add("dim", dim)
      .add("n", n)
      .add("m", m)
      .add("threads", threads_per_rank())
      .add("ranks", size_of(comm));
  return line;
}

}  // namespace kinterp::bench
