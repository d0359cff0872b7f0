// kinterp-bench-kernel-sum: how fast kinterp runs on this machine. Modes
// (--only, a list; default sum,seed):
//
//   sum    the distributed kernel sum out_i = sum_j k(x_i, x_j) w_j (targets =
//          sources) through kinterp::KernelSum<T>: pairs per second, time spent
//          waiting for ring messages, peak memory;
//   seed   the seed's two solves (1D Gaussian, 2D Laplacian, N = 10000, rtol
//          1e-6): time, iterations, time per kernel product;
//   solve  a seed-like Gaussian solve at scale (alpha = 1, sigma = 0.1, i.e.
//          exp(-50 r^2), --solve-n points in --solve-dim dimensions): time,
//          iterations, residual, peak memory per rank;
//   generic the generic evaluator (kinterp::Genred) on the Gaussian and
//          Laplacian written so that the recogniser does not catch them
//          (Exp(-G*Sum(Square(X-Y)))*A), next to the compiled path (KernelSum)
//          on the same data in the same run: the ratio of their times;
//   gemm   the on-node GEMM path for d >= 16 (local_kernel_sum_gemm) next to a
//          bare KokkosBlas::gemm of the shapes it multiplies, and next to
//          local_kernel_sum as dispatched.
//
//   OMP_NUM_THREADS=1 kinterp-bench-kernel-sum --kernel gaussian --dtype float --dim 3 --n 20000
//   mpirun -np 2 kinterp-bench-kernel-sum --only solve --solve-n 200000 --solve-dim 2
//   kinterp-bench-kernel-sum --only gemm --dims 32,128,512
//
// One JSON object per line on stdout (rank 0; the first line describes the
// run), a readable summary on stderr. It reports and never passes or fails on
// time; perf/README.md describes the fields.

#include <kinterp/Genred.hpp>
#include <kinterp/KernelSolve.hpp>
#include <kinterp/KernelSum.hpp>
#include <kinterp/core/Environment.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/formula/Formula.hpp>
#include <kinterp/kernels/RadialKernels.hpp>
#include <kinterp/local/GemmKernelSum.hpp>
#include <kinterp/local/LocalKernelSum.hpp>
#include <kinterp/local/LocalKernelSumOf.hpp>

#include <SeedProblems.hpp>

#include <mpi.h>
#include <KokkosBlas3_gemm.hpp>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <sys/resource.h>  // getrusage: peak resident memory
#include <unistd.h>        // dup, dup2: start-up messages to stderr; sysconf

#ifndef KINTERP_VERSION
#define KINTERP_VERSION "unknown"
#endif
#ifndef KINTERP_BUILD_TYPE
#define KINTERP_BUILD_TYPE "unknown"
#endif
#ifndef KINTERP_ARCH_NATIVE
#define KINTERP_ARCH_NATIVE 0
#endif

namespace {

using kinterp::KernelFamily;
using kinterp::KernelSpec;
using kinterp::rank_of;
using kinterp::RowBlock;
using kinterp::size_of;

constexpr const char* program = "kinterp-bench-kernel-sum";

constexpr const char* usage =
    "usage: kinterp-bench-kernel-sum [options]\n"
    "  --only LIST        modes to run: sum, seed, solve, generic, gemm (default sum,seed)\n"
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

// ---------------------------------------------------------------------------
// Settings

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> items;
  std::string item;
  for (char c : list + ",") {
    if (c == ',') {
      if (!item.empty()) items.push_back(item);
      item.clear();
    } else if (c != ' ') {
      item += c;
    }
  }
  return items;
}

std::int64_t positive_integer(const std::string& text, const std::string& what) {
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < 1) {
    throw kinterp::Error(what + " must be a positive integer, got '" + text + "'");
  }
  return value;
}

std::vector<int> integer_list(const std::string& text, const std::string& what) {
  std::vector<int> values;
  for (const auto& item : split(text))
    values.push_back(static_cast<int>(positive_integer(item, what)));
  if (values.empty()) throw kinterp::Error(what + " must name at least one value");
  return values;
}

std::vector<std::string> name_list(const std::string& text, const std::vector<std::string>& allowed,
                                   const std::string& what) {
  std::vector<std::string> names = split(text);
  for (const auto& name : names) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string choices;
      for (const auto& a : allowed) choices += (choices.empty() ? "" : ", ") + a;
      throw kinterp::Error(what + ": unknown '" + name + "' (choose from " + choices + ")");
    }
  }
  if (names.empty()) throw kinterp::Error(what + " must name at least one value");
  return names;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

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

  bool runs(const std::string& mode) const { return contains(modes, mode); }
  /// The gemm mode is about d >= 16: its own dimensions unless --dims is given.
  std::vector<int> gemm_dims() const { return dims_given ? dims : std::vector<int>{32, 128, 512}; }
};

Settings parse(int argc, char** argv) {
  Settings s;
  if (const char* n = std::getenv("KINTERP_BENCH_N")) s.n = positive_integer(n, "KINTERP_BENCH_N");
  if (const char* reps = std::getenv("KINTERP_BENCH_REPS")) {
    s.reps = static_cast<int>(positive_integer(reps, "KINTERP_BENCH_REPS"));
  }
  const std::vector<std::string> types = {"float", "double"};
  const std::vector<std::string> kernels = {"gaussian", "laplacian"};
  for (int k = 1; k < argc; ++k) {
    const std::string option = argv[k];
    if (option == "--help" || option == "-h") {
      s.help = true;
      continue;
    }
    if (k + 1 >= argc) throw kinterp::Error("unknown option or missing value: '" + option + "'");
    const std::string value = argv[++k];
    // The single-value forms are lists of one; a comma list works for either.
    if (option == "--only") {
      s.modes = name_list(value, {"sum", "seed", "solve", "generic", "gemm"}, "--only");
    } else if (option == "--n") {
      s.n = positive_integer(value, "--n");
    } else if (option == "--reps") {
      s.reps = static_cast<int>(positive_integer(value, "--reps"));
    } else if (option == "--dims" || option == "--dim") {
      s.dims = integer_list(value, option);
      s.dims_given = true;
    } else if (option == "--types" || option == "--dtype") {
      s.types = name_list(value, types, option);
    } else if (option == "--kernels" || option == "--kernel") {
      s.kernels = name_list(value, kernels, option);
    } else if (option == "--columns" || option == "--m") {
      s.columns = integer_list(value, option);
    } else if (option == "--seed-n") {
      s.seed_n = positive_integer(value, option);
    } else if (option == "--seed-types") {
      s.seed_types = name_list(value, types, option);
    } else if (option == "--seed-reps") {
      s.seed_reps = static_cast<int>(positive_integer(value, option));
    } else if (option == "--solve-n") {
      s.solve_n = positive_integer(value, option);
    } else if (option == "--solve-dim") {
      s.solve_dim = static_cast<int>(positive_integer(value, option));
    } else if (option == "--solve-types") {
      s.solve_types = name_list(value, types, option);
    } else if (option == "--solve-reps") {
      s.solve_reps = static_cast<int>(positive_integer(value, option));
    } else if (option == "--gemm-n") {
      s.gemm_n = positive_integer(value, option);
    } else if (option == "--gemm-reps") {
      s.gemm_reps = static_cast<int>(positive_integer(value, option));
    } else {
      throw kinterp::Error("unknown option '" + option + "'");
    }
  }
  if (s.solve_dim < 2) {
    throw kinterp::Error("--solve-dim must be at least 2 (the seed's ring problem)");
  }
  return s;
}

// ---------------------------------------------------------------------------
// One JSON object on one line: fields in order, numbers with 6 significant
// digits (NaN and Inf as null), strings escaped.

class JsonLine {
 public:
  JsonLine& add(const std::string& key, const std::string& value) {
    return raw(key, quoted(value));
  }
  JsonLine& add(const std::string& key, const char* value) { return add(key, std::string(value)); }
  JsonLine& add(const std::string& key, bool value) { return raw(key, value ? "true" : "false"); }
  JsonLine& add(const std::string& key, int value) { return raw(key, std::to_string(value)); }
  JsonLine& add(const std::string& key, std::int64_t value) {
    return raw(key, std::to_string(value));
  }
  JsonLine& add(const std::string& key, double value) { return raw(key, number(value)); }
  JsonLine& add(const std::string& key, const std::vector<double>& values) {
    std::string list;
    for (double v : values) list += (list.empty() ? "" : ",") + number(v);
    return raw(key, "[" + list + "]");
  }
  JsonLine& add(const std::string& key, const std::vector<std::string>& values) {
    std::string list;
    for (const auto& v : values) list += (list.empty() ? "" : ",") + quoted(v);
    return raw(key, "[" + list + "]");
  }
  /// A nested object, already written as JSON.
  JsonLine& add_object(const std::string& key, const JsonLine& object) {
    return raw(key, object.text());
  }
  std::string text() const { return "{" + body_ + "}"; }

 private:
  static std::string number(double value) {
    char text[32] = "null";
    if (std::isfinite(value)) std::snprintf(text, sizeof text, "%.6g", value);
    return text;
  }
  static std::string quoted(const std::string& s) {
    std::string q = "\"";
    for (unsigned char c : s) {
      if (c == '"' || c == '\\') {
        q += '\\';
        q += static_cast<char>(c);
      } else if (c < 0x20) {
        char escape[8];
        std::snprintf(escape, sizeof escape, "\\u%04x", c);
        q += escape;
      } else {
        q += static_cast<char>(c);
      }
    }
    return q + "\"";
  }
  JsonLine& raw(const std::string& key, const std::string& value) {
    body_ += (body_.empty() ? "" : ", ") + quoted(key) + ": " + value;
    return *this;
  }
  std::string body_;
};

/// Rank 0 writes the line to stdout at once, so that a long run that is
/// stopped still leaves the cases it finished.
void emit(MPI_Comm comm, const JsonLine& line) {
  if (rank_of(comm) != 0) return;
  std::printf("%s\n", line.text().c_str());
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------
// Timing, memory and MPI helpers

struct Stats {
  double median = 0, min = 0, max = 0;
};

Stats stats(std::vector<double> values) {
  Stats s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  s.median = n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
  s.min = values.front();
  s.max = values.back();
  return s;
}

double max_over_ranks(MPI_Comm comm, double value) {
  MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_MAX, comm);
  return value;
}

/// Every rank's `value`, on every rank.
std::vector<double> all_ranks(MPI_Comm comm, double value) {
  std::vector<double> all(size_of(comm));
  MPI_Allgather(&value, 1, MPI_DOUBLE, all.data(), 1, MPI_DOUBLE, comm);
  return all;
}

int threads_per_rank() {
  return Kokkos::DefaultExecutionSpace().concurrency();
}

/// Peak resident memory of this process (getrusage; Linux reports KiB).
double peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return 1024.0 * static_cast<double>(usage.ru_maxrss);
}

/// Resident memory now (Linux: /proc/self/statm), 0 where unknown.
double current_rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  double pages = 0, resident = 0;
  if (!(statm >> pages >> resident)) return 0;
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE));
}

/// Linux (>= 4.0) resets the peak that getrusage reports when "5" is written
/// to /proc/self/clear_refs; then a case's peak is its own, not the largest of
/// the run so far. Returns whether it worked.
bool reset_peak_rss() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  if (!clear_refs) return false;
  clear_refs << "5";
  clear_refs.close();
  return !clear_refs.fail();
}

/// Memory of one case: call start() before allocating its data and finish()
/// after it ran (collective).
class MemoryProbe {
 public:
  explicit MemoryProbe(MPI_Comm comm) : comm_(comm) {}
  void start() {
    reset_ = reset_peak_rss();
    before_ = current_rss_bytes();
  }
  /// peak_rss_bytes: max over ranks of the peak resident memory (since
  /// start() where the reset works, else since the program started);
  /// bytes_per_point: max over ranks of (peak - resident memory at start())
  /// per point of that rank.
  void finish(JsonLine& line, std::int64_t local_points) const {
    const double peak = peak_rss_bytes();
    const double per_point =
        local_points > 0 ? (peak - before_) / static_cast<double>(local_points) : 0.0;
    int reset_everywhere = reset_ ? 1 : 0;
    MPI_Allreduce(MPI_IN_PLACE, &reset_everywhere, 1, MPI_INT, MPI_MIN, comm_);
    line.add("peak_rss_bytes", max_over_ranks(comm_, peak))
        .add("peak_rss_bytes_per_rank", all_ranks(comm_, peak))
        .add("bytes_per_point", max_over_ranks(comm_, per_point))
        .add("peak_rss_since_case_start", reset_everywhere == 1);
  }

 private:
  MPI_Comm comm_;
  bool reset_ = false;
  double before_ = 0;
};

template <class T>
const char* type_name() {
  return sizeof(T) == sizeof(float) ? "float" : "double";
}

template <class T>
using Matrix = typename kinterp::KernelSum<T>::Matrix;

/// A device matrix (rows x columns) filled on the host by value(row, column).
template <class T, class Value>
Matrix<T> make_matrix(const std::string& label, std::int64_t rows, int columns,
                      const Value& value) {
  Matrix<T> view(Kokkos::view_alloc(Kokkos::WithoutInitializing, label), rows, columns);
  const auto host = Kokkos::create_mirror_view(view);
  for (std::int64_t i = 0; i < rows; ++i)
    for (int k = 0; k < columns; ++k) host(i, k) = static_cast<T>(value(i, k));
  Kokkos::deep_copy(view, host);
  return view;
}

// ---------------------------------------------------------------------------
// Context: the first line

std::string kokkos_version() {
  return std::to_string(KOKKOS_VERSION / 10000) + "." + std::to_string(KOKKOS_VERSION / 100 % 100) +
         "." + std::to_string(KOKKOS_VERSION % 100);
}

/// What KokkosBlas::gemm calls on the host: the vendor BLAS when Kokkos
/// Kernels was built with it, else its own (much slower) kernel.
std::string gemm_backend() {
#if defined(KOKKOSKERNELS_ENABLE_TPL_MKL)
  return "MKL";
#elif defined(KOKKOSKERNELS_ENABLE_TPL_BLAS)
  return "BLAS TPL";
#else
  return "Kokkos Kernels (no BLAS TPL)";
#endif
}

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

/// The fields every case line starts with.
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

// ---------------------------------------------------------------------------
// Data and the long double check

/// Point coordinates and weights as functions of the global row, so that every
/// rank count sums exactly the same data: x ~ U[0, 1]^d, w ~ U[0, 1] (positive,
/// so that relative errors are well defined).
double coordinate(std::int64_t row, int k) {
  return kinterp::seed::uniform01(101 + k, row);
}
double weight(std::int64_t row, int column) {
  return kinterp::seed::uniform01(201 + column, row);
}

/// The seed's scales: Gaussian g = 0.5 / 0.1^2 = 50, Laplacian g = 1 / 0.1 = 10
/// (the same as the reference kernel_sum). With `dim` above 3 the scale
/// follows the typical distance of U[0, 1]^d points (r^2 about d / 6), so that
/// the kernel neither vanishes nor flattens: g r^2 (Gaussian) or g r
/// (Laplacian) is 5 at that distance.
KernelSpec bench_kernel(const std::string& name, int dim) {
  KernelSpec spec;
  const double typical_r2 = dim / 6.0;
  if (name == "laplacian") {
    spec.family = KernelFamily::Laplacian;
    spec.g = dim <= 3 ? kinterp::seed::laplacian_2d().g : 5 / std::sqrt(typical_r2);
  } else {
    spec.family = KernelFamily::Gaussian;
    spec.g = dim <= 3 ? kinterp::seed::gaussian_1d().g : 5 / typical_r2;
  }
  return spec;
}

/// The largest relative error of `out` (this rank's rows from `block`) against
/// a long double loop over all n sources, on a few spread-out rows.
template <class T, class HostOut>
double max_relative_error(const KernelSpec& spec, std::int64_t n, int d, int m, RowBlock block,
                          const HostOut& out) {
  const int checked_rows = 8;
  double worst = 0;
  for (int r = 0; r < checked_rows && block.count > 0; ++r) {
    const std::int64_t local = r * (block.count - 1) / std::max(checked_rows - 1, 1);
    const std::int64_t i = block.begin + local;
    std::vector<long double> sum(m, 0.0L);
    for (std::int64_t j = 0; j < n; ++j) {
      long double r2 = 0;
      for (int k = 0; k < d; ++k) {
        const long double diff = static_cast<long double>(static_cast<T>(coordinate(i, k))) -
                                 static_cast<T>(coordinate(j, k));
        r2 += diff * diff;
      }
      const long double g = spec.g;
      const long double kij =
          spec.family == KernelFamily::Laplacian ? std::exp(-g * std::sqrt(r2)) : std::exp(-g * r2);
      for (int c = 0; c < m; ++c) sum[c] += kij * static_cast<T>(weight(j, c));
    }
    for (int c = 0; c < m; ++c) {
      const long double error = std::fabs(static_cast<long double>(out(local, c)) - sum[c]);
      worst = std::max(worst, static_cast<double>(error / std::fabs(sum[c])));
    }
  }
  return worst;
}

// ---------------------------------------------------------------------------
// sum: the distributed kernel sum

template <class T>
void bench_sum(MPI_Comm comm, const Settings& s, const std::string& kernel_name, int d, int m) {
  const int rank = rank_of(comm), size = size_of(comm);
  MemoryProbe memory(comm);
  memory.start();
  const RowBlock block = kinterp::block_partition(s.n, rank, size);
  const KernelSpec spec = bench_kernel(kernel_name, d);
  const auto points = make_matrix<T>("bench::points", block.count, d, [&](std::int64_t i, int k) {
    return coordinate(block.begin + i, k);
  });
  const auto weights = make_matrix<T>("bench::weights", block.count, m, [&](std::int64_t i, int c) {
    return weight(block.begin + i, c);
  });
  Matrix<T> out("bench::out", block.count, m);
  const kinterp::KernelSum<T> sum(comm, spec, points);

  sum(points, weights, out);  // warm-up: first touch, ring buffers
  Kokkos::fence();
  std::vector<double> seconds, compute, wait, wait_fraction, rank_seconds;
  for (int rep = 0; rep < s.reps; ++rep) {
    MPI_Barrier(comm);
    const double start = MPI_Wtime();
    const kinterp::RingTimings timings = sum(points, weights, out);
    Kokkos::fence();
    const double elapsed = MPI_Wtime() - start;
    rank_seconds.push_back(elapsed);
    // The distributed product takes as long as its slowest rank.
    seconds.push_back(max_over_ranks(comm, elapsed));
    compute.push_back(max_over_ranks(comm, timings.compute));
    wait.push_back(max_over_ranks(comm, timings.wait));
    wait_fraction.push_back(
        max_over_ranks(comm, timings.total > 0 ? timings.wait / timings.total : 0.0));
  }

  const auto host_out = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
  const double error = rank == 0 ? max_relative_error<T>(spec, s.n, d, m, block, host_out) : 0.0;

  const Stats time = stats(seconds);
  const std::vector<double> per_rank_seconds = all_ranks(comm, stats(rank_seconds).median);
  const double pairs = static_cast<double>(s.n) * static_cast<double>(s.n);
  const double rate = pairs / time.median;

  JsonLine line = case_line(comm, "kernel_sum", kernel_name, type_name<T>(), d, s.n, m);
  line.add("g", spec.g)
      .add("reps", s.reps)
      .add("seconds", time.median)
      .add("seconds_min", time.min)
      .add("seconds_max", time.max)
      .add("pairs", pairs)
      .add("pairs_per_second", rate)
      .add("pairs_per_second_per_thread", rate / (size * threads_per_rank()))
      .add("compute_seconds", stats(compute).median)
      .add("wait_seconds", stats(wait).median)
      .add("wait_fraction", stats(wait_fraction).median)
      .add("seconds_per_rank", per_rank_seconds)
      .add("max_rel_error", error);
  memory.finish(line, block.count);
  emit(comm, line);
  if (rank == 0) {
    std::fprintf(stderr, "  %-10s %-6s %4d %3d %12.3e %16.3e %10.4g %8.1f%% %9.1e\n",
                 kernel_name.c_str(), type_name<T>(), d, m, rate,
                 rate / (size * threads_per_rank()), time.median, 100 * stats(wait_fraction).median,
                 error);
  }
}

// ---------------------------------------------------------------------------
// generic: the interpreted formula against the compiled kernel

template <class T>
void bench_generic(MPI_Comm comm, const Settings& s, const std::string& kernel_name, int d) {
  const int rank = rank_of(comm), size = size_of(comm);
  const RowBlock block = kinterp::block_partition(s.n, rank, size);
  const KernelSpec spec = bench_kernel(kernel_name, d);
  const auto points = make_matrix<T>("bench::points", block.count, d, [&](std::int64_t i, int k) {
    return coordinate(block.begin + i, k);
  });
  // The generic path's source rows: the point, then its weight.
  const auto rows = make_matrix<T>("bench::rows", block.count, d + 1, [&](std::int64_t i, int k) {
    return k < d ? coordinate(block.begin + i, k) : weight(block.begin + i, 0);
  });
  const auto weights = Kokkos::subview(rows, Kokkos::ALL, std::make_pair(d, d + 1));
  Matrix<T> weights_copy("bench::weights", block.count, 1);
  Kokkos::deep_copy(weights_copy, weights);
  const std::string distance = "Sum(Square(X-Y))";
  const std::string formula = kernel_name == "laplacian" ? "Exp(-G*Sqrt(" + distance + "))*A"
                                                         : "Exp(-G*" + distance + ")*A";
  const std::string dim = std::to_string(d);
  const kinterp::Formula parsed(
      formula, {"X = Vi(" + dim + ")", "Y = Vj(" + dim + ")", "A = Vj(1)", "G = Pm(1)"});
  const kinterp::Genred<T> generic(comm, parsed, {{"G", {spec.g}}}, kinterp::Reduction{}, 1, rows);
  const kinterp::KernelSum<T> compiled(comm, spec, points);
  Matrix<T> out("bench::out", block.count, 1);
  typename kinterp::Genred<T>::Output generic_out("bench::generic_out", block.count, 1);

  const auto time = [&](const auto& call) {
    call();  // warm-up
    Kokkos::fence();
    std::vector<double> seconds;
    for (int rep = 0; rep < s.reps; ++rep) {
      MPI_Barrier(comm);
      const double start = MPI_Wtime();
      call();
      Kokkos::fence();
      seconds.push_back(max_over_ranks(comm, MPI_Wtime() - start));
    }
    return stats(seconds).median;
  };
  // Alternate, so that both see the same machine state.
  const double compiled_seconds = time([&] { compiled(points, weights_copy, out); });
  const double generic_seconds = time([&] { generic(points, generic_out); });

  // The two paths against each other, on every row of this rank.
  const auto a = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
  const auto b = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), generic_out);
  double difference = 0;
  for (std::int64_t i = 0; i < block.count; ++i) {
    difference = std::max(
        difference, std::fabs(double(a(i, 0)) - b(i, 0)) / std::max(std::fabs(b(i, 0)), 1e-300));
  }
  difference = max_over_ranks(comm, difference);

  const double pairs = static_cast<double>(s.n) * static_cast<double>(s.n);
  JsonLine line = case_line(comm, "generic", kernel_name, type_name<T>(), d, s.n, 1);
  line.add("formula", formula)
      .add("reps", s.reps)
      .add("generic_seconds", generic_seconds)
      .add("compiled_seconds", compiled_seconds)
      .add("generic_pairs_per_second", pairs / generic_seconds)
      .add("compiled_pairs_per_second", pairs / compiled_seconds)
      .add("generic_over_compiled_time", generic_seconds / compiled_seconds)
      .add("max_rel_difference", difference);
  emit(comm, line);
  if (rank == 0) {
    std::fprintf(stderr, "  %-10s %-6s %4d %12.3e %12.3e %10.2f %10.1e\n", kernel_name.c_str(),
                 type_name<T>(), d, pairs / generic_seconds, pairs / compiled_seconds,
                 generic_seconds / compiled_seconds, difference);
  }
}

// ---------------------------------------------------------------------------
// seed and solve: kinterp::KernelSolve on the seed's data model

struct SolveCase {
  std::string record;  ///< "seed_solve" or "solve"
  kinterp::seed::SeedProblem problem;
  std::int64_t n;
  int reps;
};

/// The scale check's problem: the seed's 2D data model (a ring, noise,
/// outliers) in `dim` dimensions, with the 1D problem's Gaussian kernel,
/// sigma = 0.1 (exp(-50 r^2)) and alpha = 1.
kinterp::seed::SeedProblem scale_problem(int dim) {
  const std::string d = std::to_string(dim);
  return {"gaussian-" + d + "D",
          dim,
          "Exp(- G * SqDist(X,Y) ) * A",
          {"X = Vi(" + d + ")", "Y = Vj(" + d + ")", "A = Vj(1)", "G = Pm(1)"},
          0.1,
          0.5 / (0.1 * 0.1),
          1.0,
          0};
}

template <class T>
void bench_solve(MPI_Comm comm, const SolveCase& c) {
  const kinterp::seed::SeedProblem& problem = c.problem;
  const int d = problem.dim;
  MemoryProbe memory(comm);
  memory.start();
  const RowBlock block = kinterp::block_partition(c.n, comm);
  std::vector<double> x, b;
  kinterp::seed::samples(problem, c.n, block, x, b);
  const auto points = make_matrix<T>("bench::solve_points", block.count, d,
                                     [&](std::int64_t i, int k) { return x[i * d + k]; });
  const auto values = make_matrix<T>("bench::solve_values", block.count, 1,
                                     [&](std::int64_t i, int) { return b[i]; });
  Matrix<T> a("bench::solve_weights", block.count, 1);

  const kinterp::Formula formula(problem.formula, problem.aliases);
  const KernelSpec kernel = formula.bind({{"G", {problem.g}}}).kernel;
  kinterp::SolveOptions options;
  options.rtol = 1e-6;

  MPI_Barrier(comm);
  const double setup_start = MPI_Wtime();
  const kinterp::KernelSolve<T> solver(comm, kernel, points);
  MPI_Barrier(comm);
  const double setup_seconds = MPI_Wtime() - setup_start;

  std::vector<double> seconds, per_product, wait, wait_fraction;
  kinterp::KernelSolveResult result;
  for (int rep = 0; rep < c.reps; ++rep) {
    Kokkos::deep_copy(a, T(0));
    MPI_Barrier(comm);
    const double start = MPI_Wtime();
    result = solver.solve(values, a, problem.alpha, options);
    MPI_Barrier(comm);
    seconds.push_back(MPI_Wtime() - start);
    const int products = std::max(result.products, 1);
    per_product.push_back(max_over_ranks(comm, result.product.total / products));
    wait.push_back(max_over_ranks(comm, result.product.wait));
    wait_fraction.push_back(max_over_ranks(
        comm, result.product.total > 0 ? result.product.wait / result.product.total : 0.0));
  }
  const Stats time = stats(seconds);
  const double per_product_median = stats(per_product).median;
  const double pairs = static_cast<double>(c.n) * static_cast<double>(c.n);

  const std::string kernel_name =
      kernel.family == KernelFamily::Laplacian ? "laplacian" : "gaussian";
  JsonLine line = case_line(comm, c.record, kernel_name, type_name<T>(), d, c.n, 1);
  line.add("problem", problem.name)
      .add("formula", problem.formula)
      .add("aliases", problem.aliases)
      .add("g", problem.g)
      .add("alpha", problem.alpha)
      .add("rtol", options.rtol)
      .add("reps", c.reps)
      .add("setup_seconds", setup_seconds)
      .add("seconds", time.median)
      .add("seconds_min", time.min)
      .add("seconds_max", time.max)
      .add("solver_seconds", result.seconds)
      .add("iterations", result.iterations)
      .add("products", result.products)
      .add("seconds_per_product", per_product_median)
      .add("pairs_per_second", pairs / per_product_median)
      .add("wait_seconds", stats(wait).median)
      .add("wait_fraction", stats(wait_fraction).median)
      .add("wait_seconds_per_rank", all_ranks(comm, result.product.wait))
      .add("converged", result.converged())
      .add("reason", to_string(result.reason))
      .add("relative_residual", result.relative_residual());
  memory.finish(line, block.count);
  emit(comm, line);
  if (rank_of(comm) == 0) {
    std::fprintf(stderr, "  %-14s %-6s %9lld %10.4g %6d %12.3e %8.1f%% %10.2e %10.3g %s\n",
                 problem.name.c_str(), type_name<T>(), static_cast<long long>(c.n), time.median,
                 result.iterations, per_product_median, 100 * stats(wait_fraction).median,
                 result.relative_residual(), max_over_ranks(comm, peak_rss_bytes()) / 1048576.0,
                 result.converged() ? "" : "NOT CONVERGED");
  } else {
    max_over_ranks(comm, peak_rss_bytes());
  }
}

// ---------------------------------------------------------------------------
// gemm: the on-node GEMM path against a bare GEMM of its shapes

/// Seconds of `call` (fenced), the slowest rank's, median over `reps` after a
/// warm-up; every rank runs its own copy at the same time.
double time_call(MPI_Comm comm, int reps, const std::function<void()>& call) {
  call();
  Kokkos::fence();
  std::vector<double> seconds;
  for (int rep = 0; rep < reps; ++rep) {
    MPI_Barrier(comm);
    const double start = MPI_Wtime();
    call();
    Kokkos::fence();
    seconds.push_back(max_over_ranks(comm, MPI_Wtime() - start));
  }
  return stats(seconds).median;
}

template <class T>
void bench_gemm(MPI_Comm comm, const Settings& s, const std::string& kernel_name, int d, int m) {
  using Space = Kokkos::DefaultExecutionSpace;
  const Space space;
  const std::int64_t n = s.gemm_n;
  const KernelSpec spec = bench_kernel(kernel_name, d);
  const RowBlock all{0, n};
  const auto points = make_matrix<T>("bench::gemm_points", n, d,
                                     [&](std::int64_t i, int k) { return coordinate(i, k); });
  const auto weights = make_matrix<T>("bench::gemm_weights", n, m,
                                      [&](std::int64_t i, int c) { return weight(i, c); });
  Matrix<T> out("bench::gemm_out", n, m);

  // kinterp's GEMM path, with a workspace kept across calls as a caller would.
  kinterp::GemmKernelSumWorkspace<T, Space> workspace;
  const auto gemm_path = [&] {
    Kokkos::deep_copy(space, out, T(0));
    kinterp::visit_kernel<T>(spec, [&](auto kernel) {
      kinterp::local_kernel_sum_gemm(space, kernel, T(1), points, points, weights, out, workspace);
    });
  };
  const double path_seconds = time_call(comm, s.gemm_reps, gemm_path);
  const auto host_out = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
  const double error =
      rank_of(comm) == 0 ? max_relative_error<T>(spec, n, d, m, all, host_out) : 0.0;

  // The bare GEMM of the path's tile shape: (targets x d) (sources x d)^T,
  // in the layout the path uses. Rate = its pairs (targets x sources) per second.
  using Tile = typename kinterp::GemmKernelSumWorkspace<T, Space>::Matrix;
  const auto plan = kinterp::detail::gemm_sum::plan_tiles(space);
  const int bt = static_cast<int>(std::min<std::int64_t>(plan.targets, n));
  const int bs = static_cast<int>(std::min<std::int64_t>(plan.sources, n));
  Kokkos::View<T*, Space::memory_space> storage("bench::gemm_tiles",
                                                std::size_t(bt + bs) * d + std::size_t(bt) * bs);
  const Tile a(storage.data(), bt, d), b(storage.data() + std::size_t(bt) * d, bs, d);
  const Tile c(storage.data() + std::size_t(bt + bs) * d, bt, bs);
  Kokkos::deep_copy(storage, T(0.5));
  const std::int64_t tile_calls = std::max<std::int64_t>(1, (n / bt) * (n / bs));
  const double gemm_seconds = time_call(comm, s.gemm_reps, [&] {
    for (std::int64_t call = 0; call < tile_calls; ++call)
      kinterp::detail::gemm_sum::gemm_on(space, "N", "T", T(1), a, b, T(0), c);
  });
  const double gemm_pairs = double(tile_calls) * bt * bs;

  // local_kernel_sum as the library dispatches it for this d, on a slice of
  // the targets (it may be much slower).
  const std::int64_t slice = std::min<std::int64_t>(n, 1024);
  const auto some_points =
      Kokkos::subview(points, std::make_pair<std::int64_t>(0, slice), Kokkos::ALL);
  const auto some_out = Kokkos::subview(out, std::make_pair<std::int64_t>(0, slice), Kokkos::ALL);
  const double dispatch_seconds = time_call(comm, s.gemm_reps, [&] {
    kinterp::local_kernel_sum_of<T>(space, spec, some_points, points, weights, some_out);
  });

  const int ranks = size_of(comm);
  const double pairs = double(n) * double(n);
  const double rate = ranks * pairs / path_seconds;
  const double gemm_rate = ranks * gemm_pairs / gemm_seconds;
  const double dispatch_rate = ranks * double(slice) * double(n) / dispatch_seconds;
  const double flops_per_pair = 2.0 * d;  // the GEMM's multiply-adds
  JsonLine line = case_line(comm, "gemm", kernel_name, type_name<T>(), d, n, m);
  line.add("g", spec.g)
      .add("reps", s.gemm_reps)
      .add("gemm_backend", gemm_backend())
      .add("tile_targets", bt)
      .add("tile_sources", bs)
      .add("seconds", path_seconds)
      .add("pairs_per_second", rate)
      .add("gflops", rate * flops_per_pair * 1e-9)
      .add("gemm_seconds", gemm_seconds)
      .add("gemm_pairs_per_second", gemm_rate)
      .add("gemm_gflops", gemm_rate * flops_per_pair * 1e-9)
      .add("fraction_of_gemm", rate / gemm_rate)
      .add("local_kernel_sum_pairs_per_second", dispatch_rate)
      .add("speedup_over_local_kernel_sum", rate / dispatch_rate)
      .add("use_gemm_kernel_sum", kinterp::use_gemm_kernel_sum<Space>(d))
      .add("max_rel_error", error);
  emit(comm, line);
  if (rank_of(comm) == 0) {
    std::fprintf(stderr,
                 "  %-10s %-6s %4d %3d %11.3e %8.2f %11.3e %8.2f %7.2f %11.3e %8.1fx %9.1e\n",
                 kernel_name.c_str(), type_name<T>(), d, m, rate, rate * flops_per_pair * 1e-9,
                 gemm_rate, gemm_rate * flops_per_pair * 1e-9, rate / gemm_rate, dispatch_rate,
                 rate / dispatch_rate, error);
  }
}

// ---------------------------------------------------------------------------

template <class Case>
void for_each_type(const std::string& type, const Case& run) {
  if (type == "float") {
    run(float{});
  } else {
    run(double{});
  }
}

int run(MPI_Comm comm, const Settings& s) {
  const bool root = rank_of(comm) == 0;
  emit(comm, context(comm));
  if (root) {
    std::fprintf(stderr, "%s: %d rank(s) x %d thread(s) on %s, Kokkos %s, gemm: %s\n", program,
                 size_of(comm), threads_per_rank(), Kokkos::DefaultExecutionSpace::name(),
                 kokkos_version().c_str(), gemm_backend().c_str());
  }

  if (s.runs("sum")) {
    if (root) {
      std::fprintf(stderr, "\nkernel sum, N = M = %lld, median of %d\n",
                   static_cast<long long>(s.n), s.reps);
      std::fprintf(stderr, "  %-10s %-6s %4s %3s %12s %16s %10s %9s %9s\n", "kernel", "dtype", "d",
                   "m", "pairs/s", "pairs/s/thread", "seconds", "wait", "max rel");
    }
    for (const auto& kernel : s.kernels)
      for (int d : s.dims)
        for (const auto& type : s.types)
          for (int m : s.columns)
            for_each_type(type, [&](auto t) { bench_sum<decltype(t)>(comm, s, kernel, d, m); });
  }

  if (s.runs("generic")) {
    if (root) {
      std::fprintf(stderr,
                   "\ngeneric evaluator vs compiled kernel, N = M = %lld, m = 1, median of %d\n",
                   static_cast<long long>(s.n), s.reps);
      std::fprintf(stderr, "  %-10s %-6s %4s %12s %12s %10s %10s\n", "kernel", "dtype", "d",
                   "generic p/s", "compiled p/s", "time ratio", "max diff");
    }
    for (const auto& kernel : s.kernels)
      for (int d : s.dims)
        for (const auto& type : s.types)
          for_each_type(type, [&](auto t) { bench_generic<decltype(t)>(comm, s, kernel, d); });
  }

  const auto solve_header = [&](const char* title) {
    if (root) {
      std::fprintf(stderr, "\n%s, rtol 1e-6\n", title);
      std::fprintf(stderr, "  %-14s %-6s %9s %10s %6s %12s %9s %10s %10s\n", "problem", "dtype",
                   "N", "seconds", "iters", "s/product", "wait", "rel res", "peak MiB");
    }
  };
  if (s.runs("seed")) {
    solve_header("seed solves");
    for (const auto& problem : {kinterp::seed::gaussian_1d(), kinterp::seed::laplacian_2d()}) {
      for (const auto& type : s.seed_types) {
        const SolveCase c{"seed_solve", problem, s.seed_n, s.seed_reps};
        for_each_type(type, [&](auto t) { bench_solve<decltype(t)>(comm, c); });
      }
    }
  }
  if (s.runs("solve")) {
    solve_header("scale solve: Gaussian exp(-50 r^2), alpha = 1");
    for (const auto& type : s.solve_types) {
      const SolveCase c{"solve", scale_problem(s.solve_dim), s.solve_n, s.solve_reps};
      for_each_type(type, [&](auto t) { bench_solve<decltype(t)>(comm, c); });
    }
  }

  if (s.runs("gemm")) {
    if (root) {
      std::fprintf(stderr,
                   "\nGEMM path (d >= 16), N = M = %lld, median of %d; GFLOP/s count the GEMM's "
                   "2d flops per pair\n",
                   static_cast<long long>(s.gemm_n), s.gemm_reps);
      std::fprintf(stderr, "  %-10s %-6s %4s %3s %11s %8s %11s %8s %7s %11s %9s %9s\n", "kernel",
                   "dtype", "d", "m", "pairs/s", "GFLOP/s", "gemm p/s", "GFLOP/s", "of gemm",
                   "dispatch", "speedup", "max rel");
    }
    for (const auto& kernel : s.kernels)
      for (int d : s.gemm_dims())
        for (const auto& type : s.types)
          for (int m : s.columns)
            for_each_type(type, [&](auto t) { bench_gemm<decltype(t)>(comm, s, kernel, d, m); });
  }
  return 0;
}

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

}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<kinterp::Environment> environment;
  {
    const StdoutToStderr startup;
    environment = std::make_unique<kinterp::Environment>(argc, argv);
  }
  const MPI_Comm comm = MPI_COMM_WORLD;
  try {
    const Settings settings = parse(argc, argv);
    if (settings.help) {
      if (rank_of(comm) == 0) std::fputs(usage, stdout);
      return 0;
    }
    return run(comm, settings);
  } catch (const std::exception& e) {
    // kinterp's collective calls throw on every rank; a bad option does too
    // (every rank parses the same command line).
    if (rank_of(comm) == 0) std::fprintf(stderr, "%s: %s\n%s", program, e.what(), usage);
    return 1;
  }
}
