#pragma once
// Keeps stdout for the JSON lines while MPI and Kokkos start.

#include <kinterp/core/Environment.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

#include <unistd.h>  // dup, dup2

namespace kinterp::bench {

/// Sends what is written to stdout to stderr while it lives. Kokkos 3.4 prints
/// its start-up warnings (such as "OMP_PROC_BIND environment variable not set")
/// on stdout, which would spoil the JSON there.
class StdoutToStderr {
 public:
  StdoutToStderr() {
    std::fflush(stdout);
    saved_ = dup(STDOUT_FILENO);
    if (saved_ >= 0) dup2(STDERR_FILENO, STDOUT_FILENO);
  }
  ~StdoutToStderr() {
    std::cout.flush();
    std::fflush(stdout);
    if (saved_ >= 0) {
      dup2(saved_, STDOUT_FILENO);
      close(saved_);
    }
  }
  StdoutToStderr(const StdoutToStderr&) = delete;
  StdoutToStderr& operator=(const StdoutToStderr&) = delete;

 private:
  int saved_ = -1;
};

/// MPI and Kokkos, started with stdout sent to stderr meanwhile.
inline std::unique_ptr<Environment> start_quietly(int& argc, char**& argv) {
  const StdoutToStderr startup;
  return std::make_unique<Environment>(argc, argv);
}

}  // namespace kinterp::bench
