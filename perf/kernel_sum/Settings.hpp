#pragma once
// kinterp-bench-kernel-sum's command line: which modes run, on which cases.

#include <cstdint>
#include <string>
#include <vector>

namespace kinterp::bench {

struct Settings {
  std::vector<std::string> modes = {"sum", "seed"};
  std::int64_t n = 20000;
  int reps = 7;
  std::vector<int> dims = {1, 2, 3};
  bool dims_given = false;
  std::vector<std::string> types = {"float", "double"};
  std::vector<std::string> kernels = {"gaussian", "laplacian"};
  std::vector<int> columns = {1};
  std::int64_t seed_n = 10000;
  std::vector<std::string> seed_types = {"float", "double"};
  int seed_reps = 3;
  std::int64_t solve_n = 20000;
  int solve_dim = 2;
  std::vector<std::string> solve_types = {"double"};
  int solve_reps = 1;
  std::int64_t gemm_n = 4096;
  int gemm_reps = 3;
  bool help = false;

  bool runs(const std::string& mode) const;
  /// The gemm mode is about d >= 16: its own dimensions unless --dims is given.
  std::vector<int> gemm_dims() const { return dims_given ? dims : std::vector<int>{32, 128, 512}; }
};

/// The settings of the command line (after Kokkos took its own options), the
/// environment's KINTERP_BENCH_N and KINTERP_BENCH_REPS under them; throws
/// kinterp::Error on a bad one.
Settings parse_settings(int argc, char** argv);

/// The --help text.
extern const char* const usage;

}  // namespace kinterp::bench
