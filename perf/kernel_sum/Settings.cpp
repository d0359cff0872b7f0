#include "Settings.hpp"

#include "support/BenchArguments.hpp"

#include <kinterp/core/Error.hpp>

#include <cstdlib>

namespace kinterp::bench {

const char* const usage =
    "usage: kinterp-bench-kernel-sum [options]\n"
    "  --only LIST        modes to run: sum, seed, solve, generic, gemm, derivatives\n"
    "                     (default sum,seed)\n"
    "  --kernel K, --kernels LIST    gaussian, laplacian (default both)\n"
    "  --dtype T, --types LIST       float, double (default both)\n"
    "  --dim D, --dims LIST          point dimensions (default 1,2,3; gemm: 32,128,512)\n"
    "  --m M, --columns LIST         right-hand sides (default 1)\n"
    "  --n N              points of the kernel sum, targets = sources (default 20000,\n"
    "                     or $KINTERP_BENCH_N)\n"
    "  --reps R           timed runs per case, after one warm-up (default 7,\n"
    "                     or $KINTERP_BENCH_REPS; gemm and solve: see below)\n"
    "  --seed-n N         samples of the seed problems (default 10000)\n"
    "  --seed-types LIST  float,double (default; the seed itself runs float)\n"
    "  --seed-reps R      timed solves per seed problem (default 3)\n"
    "  --solve-n N        points of the scale solve (default 20000)\n"
    "  --solve-dim D      their dimension (default 2)\n"
    "  --solve-types LIST precisions of the scale solve (default double)\n"
    "  --solve-reps R     timed scale solves (default 1)\n"
    "  --gemm-n N         targets = sources of the gemm mode (default 4096)\n"
    "  --gemm-reps R      timed calls per gemm case (default 3)\n"
    "Kokkos takes its own --kokkos-* options (e.g. --kokkos-threads=2).\n";

bool Settings::runs(const std::string& mode) const {
  return contains(modes, mode);
}

Settings parse_settings(int argc, char** argv) {
  Settings s;
  if (const char* n = std::getenv("KINTERP_BENCH_N")) s.n = parse_integer(n, "KINTERP_BENCH_N");
  if (const char* reps = std::getenv("KINTERP_BENCH_REPS")) {
    s.reps = static_cast<int>(parse_integer(reps, "KINTERP_BENCH_REPS"));
  }
  const std::vector<std::string> types = {"float", "double"};
  const std::vector<std::string> kernels = {"gaussian", "laplacian"};
  BenchArguments arguments(argc, argv);
  // The single-value forms are lists of one; a comma list works for either.
  while (arguments.next()) {
    if (arguments.is("--help", "-h")) {
      s.help = true;
    } else if (arguments.is("--only")) {
      s.modes = arguments.names({"sum", "seed", "solve", "generic", "gemm", "derivatives"});
    } else if (arguments.is("--n")) {
      s.n = arguments.integer();
    } else if (arguments.is("--reps")) {
      s.reps = static_cast<int>(arguments.integer());
    } else if (arguments.is("--dims", "--dim")) {
      s.dims = arguments.integers();
      s.dims_given = true;
    } else if (arguments.is("--types", "--dtype")) {
      s.types = arguments.names(types);
    } else if (arguments.is("--kernels", "--kernel")) {
      s.kernels = arguments.names(kernels);
    } else if (arguments.is("--columns", "--m")) {
      s.columns = arguments.integers();
    } else if (arguments.is("--seed-n")) {
      s.seed_n = arguments.integer();
    } else if (arguments.is("--seed-types")) {
      s.seed_types = arguments.names(types);
    } else if (arguments.is("--seed-reps")) {
      s.seed_reps = static_cast<int>(arguments.integer());
    } else if (arguments.is("--solve-n")) {
      s.solve_n = arguments.integer();
    } else if (arguments.is("--solve-dim")) {
      s.solve_dim = static_cast<int>(arguments.integer());
    } else if (arguments.is("--solve-types")) {
      s.solve_types = arguments.names(types);
    } else if (arguments.is("--solve-reps")) {
      s.solve_reps = static_cast<int>(arguments.integer());
    } else if (arguments.is("--gemm-n")) {
      s.gemm_n = arguments.integer();
    } else if (arguments.is("--gemm-reps")) {
      s.gemm_reps = static_cast<int>(arguments.integer());
    } else {
      arguments.unknown();
    }
  }
  if (s.solve_dim < 2) {
    throw Error("--solve-dim must be at least 2 (the seed's ring problem)");
  }
  return s;
}

}  // namespace kinterp::bench
