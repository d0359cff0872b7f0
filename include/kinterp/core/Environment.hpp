#pragma once
/// \file Environment.hpp
/// Start-up and shut-down of MPI and Kokkos for programs (the kinterp tool, the
/// examples, benchmarks). The library itself never initialises either: code
/// that embeds kinterp keeps doing that itself.

namespace kinterp {

/// Initialises MPI (MPI_THREAD_FUNNELED) and Kokkos unless they already are,
/// and finalises, in reverse order, only what it initialised. The `--kokkos-*`
/// arguments go to Kokkos and are removed from argc/argv; the others stay.
class Environment {
 public:
  Environment(int& argc, char**& argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

 private:
  bool finalize_mpi_ = false;
  bool finalize_kokkos_ = false;
};

}  // namespace kinterp
