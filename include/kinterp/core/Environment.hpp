#pragma once
/// \file Environment.hpp
/// Start-up and shut-down of MPI and Kokkos for programs (the kinterp tool, the
/// examples, benchmarks). The library itself never initialises either: code
/// that embeds kinterp keeps doing that itself.

#include <string>

namespace kinterp {

/// Initialises MPI (MPI_THREAD_FUNNELED) and Kokkos unless they already are,
/// and finalises, in reverse order, only what it initialised. The `--kokkos-*`
/// arguments go to Kokkos and are removed from argc/argv; the others stay.
///
/// A thread or device count Kokkos would misread (`--kokkos-threads=0`, `=-1`,
/// `=abc`: a division by zero or an uncaught exception inside Kokkos) is not
/// passed on: argument_error() says what is wrong, for the program to report
/// on every rank. Without OMP_PROC_BIND in the environment, Kokkos' start-up
/// advice on it is not printed; the threads stay as the OpenMP runtime placed
/// them (see thread_binding()).
class Environment {
 public:
  Environment(int& argc, char**& argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  /// What is wrong with a --kokkos-* argument; empty when nothing is.
  const std::string& argument_error() const { return argument_error_; }

 private:
  bool finalize_mpi_ = false;
  bool finalize_kokkos_ = false;
  std::string argument_error_;
};

/// How the host threads are bound, for a run's header: "threads not bound",
/// "threads bound (spread)", ...; empty where the host space is not OpenMP.
std::string thread_binding();

}  // namespace kinterp
