// bench_kernel_sum: how fast kinterp's public front ends run on this machine.
//
//   1. the kernel sum out_i = sum_j k(x_i, x_j) w_j (targets = sources) through
//      kinterp::KernelSum<T>, in pairs per second, for d = 1, 2, 3, float and
//      double, Gaussian and Laplacian kernels, m = 1 (and 4 on request);
//   2. the seed's two solves (1D Gaussian, 2D Laplacian, N = 10000, rtol 1e-6):
//      wall time, iterations, time per kernel product and time spent waiting
//      on messages.
//
//   OMP_NUM_THREADS=1 bench_kernel_sum > sum.json
//   mpirun -np 2 -x OMP_NUM_THREADS=1 bench_kernel_sum --n 40000 --only sum
//   bench_kernel_sum --help
//
// JSON on stdout (rank 0), a readable summary on stderr. It reports and never
// passes or fails on time; perf/README.md describes the fields.

#include <kinterp/KernelSolve.hpp>
#include <kinterp/KernelSum.hpp>
#include <kinterp/core/Environment.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/formula/Formula.hpp>

#include <seed/SeedProblems.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>  // dup, dup2: start-up messages to stderr

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
using kinterp::RowBlock;
using kinterp::rank_of;
using kinterp::size_of;

constexpr const char* usage =
    "usage: bench_kernel_sum [options]\n"
    "  --n N             points of the kernel sum, targets = sources (default 20000,\n"
    "                    or $KINTERP_BENCH_N)\n"
    "  --reps R          timed kernel sums per case, after one warm-up (default 7,\n"
    "                    or $KINTERP_BENCH_REPS)\n"
    "  --dims LIST       point dimensions, e.g. 1,2,3 (default)\n"
    "  --types LIST      float,double (default)\n"
    "  --kernels LIST    gaussian,laplacian (default)\n"
    "  --columns LIST    right-hand sides m, 1 (default) or e.g. 1,4\n"
    "  --seed-n N        samples of the seed problems (default 10000)\n"
    "  --seed-types LIST float,double (default; the seed itself runs float)\n"
    "  --seed-reps R     timed solves per seed problem (default 3)\n"
    "  --only WHAT       sum or seed: run one part only\n"
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

struct Settings {
  std::int64_t n = 20000;
  int reps = 7;
  std::vector<int> dims = {1, 2, 3};
  std::vector<std::string> types = {"float", "double"};
  std::vector<std::string> kernels = {"gaussian", "laplacian"};
  std::vector<int> columns = {1};
  std::int64_t seed_n = 10000;
  std::vector<std::string> seed_types = {"float", "double"};
  int seed_reps = 3;
  bool run_sum = true;
  bool run_seed = true;
  bool help = false;
};

Settings parse(int argc, char** argv) {
  Settings s;
  if (const char* n = std::getenv("KINTERP_BENCH_N")) s.n = positive_integer(n, "KINTERP_BENCH_N");
  if (const char* reps = std::getenv("KINTERP_BENCH_REPS")) {
    s.reps = static_cast<int>(positive_integer(reps, "KINTERP_BENCH_REPS"));
  }
  const std::vector<std::string> types = {"float", "double"};
  for (int k = 1; k < argc; ++k) {
    const std::string option = argv[k];
    if (option == "--help" || option == "-h") {
      s.help = true;
      continue;
    }
    if (k + 1 >= argc) throw kinterp::Error("unknown option or missing value: '" + option + "'");
    const std::string value = argv[++k];
    if (option == "--n") {
      s.n = positive_integer(value, "--n");
    } else if (option == "--reps") {
      s.reps = static_cast<int>(positive_integer(value, "--reps"));
    } else if (option == "--dims") {
      s.dims = integer_list(value, "--dims");
    } else if (option == "--types") {
      s.types = name_list(value, types, "--types");
    } else if (option == "--kernels") {
      s.kernels = name_list(value, {"gaussian", "laplacian"}, "--kernels");
    } else if (option == "--columns") {
      s.columns = integer_list(value, "--columns");
    } else if (option == "--seed-n") {
      s.seed_n = positive_integer(value, "--seed-n");
    } else if (option == "--seed-types") {
      s.seed_types = name_list(value, types, "--seed-types");
    } else if (option == "--seed-reps") {
      s.seed_reps = static_cast<int>(positive_integer(value, "--seed-reps"));
    } else if (option == "--only") {
      if (value != "sum" && value != "seed") throw kinterp::Error("--only takes sum or seed");
      s.run_sum = value == "sum";
      s.run_seed = value == "seed";
    } else {
      throw kinterp::Error("unknown option '" + option + "'");
    }
  }
  return s;
}

// ---------------------------------------------------------------------------
// A small JSON writer: objects and arrays in order, numbers with 6 significant
// digits (NaN and Inf as null), strings escaped.

class JsonWriter {
 public:
  void begin_object(const std::string& key = "") { open(key, '{'); }
  void end_object() { close('}'); }
  void begin_array(const std::string& key = "") { open(key, '['); }
  void end_array() { close(']'); }

  void field(const std::string& key, const std::string& value) { item(key) += quoted(value); }
  void field(const std::string& key, const char* value) { field(key, std::string(value)); }
  void field(const std::string& key, bool value) { item(key) += value ? "true" : "false"; }
  void field(const std::string& key, int value) { item(key) += std::to_string(value); }
  void field(const std::string& key, std::int64_t value) { item(key) += std::to_string(value); }
  void field(const std::string& key, double value) {
    char text[32] = "null";
    if (std::isfinite(value)) std::snprintf(text, sizeof text, "%.6g", value);
    item(key) += text;
  }
  void field(const std::string& key, const std::vector<double>& values) {
    begin_array(key);
    for (double v : values) field("", v);
    end_array();
  }
  void field(const std::string& key, const std::vector<std::string>& values) {
    begin_array(key);
    for (const auto& v : values) field("", v);
    end_array();
  }

  const std::string& text() const { return out_; }

 private:
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

  std::string& item(const std::string& key) {
    if (!first_.empty()) {
      if (!first_.back()) out_ += ',';
      first_.back() = false;
      out_ += '\n' + std::string(2 * first_.size(), ' ');
    }
    if (!key.empty()) out_ += quoted(key) + ": ";
    return out_;
  }
  void open(const std::string& key, char bracket) {
    item(key) += bracket;
    first_.push_back(true);
  }
  void close(char bracket) {
    const bool empty = first_.back();
    first_.pop_back();
    if (!empty) out_ += '\n' + std::string(2 * first_.size(), ' ');
    out_ += bracket;
  }

  std::string out_;
  std::vector<bool> first_;
};

// ---------------------------------------------------------------------------
// Timing and MPI helpers

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

void write_stats(JsonWriter& json, const std::string& key, const Stats& s) {
  json.begin_object(key);
  json.field("median", s.median);
  json.field("min", s.min);
  json.field("max", s.max);
  json.end_object();
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
// Context

std::string kokkos_version() {
  return std::to_string(KOKKOS_VERSION / 10000) + "." + std::to_string(KOKKOS_VERSION / 100 % 100) +
         "." + std::to_string(KOKKOS_VERSION % 100);
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

void write_context(JsonWriter& json, MPI_Comm comm, const Settings& s) {
  const std::vector<std::string> host_names = hosts(comm);
  json.begin_object("context");
  json.field("program", "bench_kernel_sum");
  json.field("kinterp_version", KINTERP_VERSION);
  json.field("date", utc_date());
  json.field("host", host_names.front());
  json.field("hosts", host_names);
  json.field("ranks", size_of(comm));
  json.field("threads_per_rank", threads_per_rank());
  json.field("execution_space", Kokkos::DefaultExecutionSpace::name());
  json.field("kokkos_version", kokkos_version());
  json.field("compiler", compiler());
  json.field("build_type", KINTERP_BUILD_TYPE);
  json.field("arch_native", KINTERP_ARCH_NATIVE != 0);
  json.field("mpi_library", mpi_library());
  json.begin_object("environment");
  for (const char* name : {"OMP_NUM_THREADS", "OMP_PROC_BIND", "OMP_PLACES"}) {
    if (const char* value = std::getenv(name)) json.field(name, value);
  }
  json.end_object();
  json.begin_object("settings");
  json.field("n", s.n);
  json.field("reps", s.reps);
  json.field("seed_n", s.seed_n);
  json.field("seed_reps", s.seed_reps);
  json.end_object();
  json.end_object();
}

// ---------------------------------------------------------------------------
// 1. Kernel sum rate

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
/// (the same as the reference kernel_sum).
KernelSpec bench_kernel(const std::string& name) {
  KernelSpec spec;
  if (name == "laplacian") {
    spec.family = KernelFamily::Laplacian;
    spec.g = kinterp::seed::laplacian_2d().g;
  } else {
    spec.family = KernelFamily::Gaussian;
    spec.g = kinterp::seed::gaussian_1d().g;
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

struct SumLine {
  std::string kernel, dtype;
  int d, m;
  double pairs_per_second, per_thread, seconds, error;
};

template <class T>
SumLine bench_sum(MPI_Comm comm, const Settings& s, const std::string& kernel_name, int d, int m,
                  JsonWriter& json) {
  const int rank = rank_of(comm), size = size_of(comm);
  const RowBlock block = kinterp::block_partition(s.n, rank, size);
  const KernelSpec spec = bench_kernel(kernel_name);
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
  std::vector<double> seconds, compute, wait, rank_seconds;
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
  }

  const auto host_out = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), out);
  const double error = rank == 0 ? max_relative_error<T>(spec, s.n, d, m, block, host_out) : 0.0;

  const Stats time = stats(seconds);
  const std::vector<double> per_rank_seconds = all_ranks(comm, stats(rank_seconds).median);
  const double pairs = static_cast<double>(s.n) * static_cast<double>(s.n);
  const int threads = threads_per_rank();
  const double rate = pairs / time.median;

  json.begin_object();
  json.field("name", kernel_name + "/" + type_name<T>() + "/d=" + std::to_string(d) +
                         "/m=" + std::to_string(m));
  json.field("kernel", kernel_name);
  json.field("g", spec.g);
  json.field("dtype", type_name<T>());
  json.field("d", d);
  json.field("m", m);
  json.field("n_targets", s.n);
  json.field("n_sources", s.n);
  json.field("pairs", pairs);
  json.field("repetitions", s.reps);
  write_stats(json, "seconds", time);
  json.field("pairs_per_second", rate);
  json.field("pairs_per_second_best", pairs / time.min);
  json.field("pairs_per_second_worst", pairs / time.max);
  json.field("pairs_per_second_per_rank", rate / size);
  json.field("pairs_per_second_per_thread", rate / (size * threads));
  json.field("compute_seconds", stats(compute).median);
  json.field("wait_seconds", stats(wait).median);
  json.field("seconds_per_rank", per_rank_seconds);
  json.field("max_relative_error", error);
  json.end_object();
  return {kernel_name, type_name<T>(), d, m, rate, rate / (size * threads), time.median, error};
}

// ---------------------------------------------------------------------------
// 2. The seed's solves

struct SolveLine {
  std::string problem, dtype;
  double seconds, seconds_per_product, wait, relative_residual;
  int iterations;
  bool converged;
};

template <class T>
SolveLine bench_seed(MPI_Comm comm, const Settings& s, const kinterp::seed::SeedProblem& problem,
                     JsonWriter& json) {
  const int d = problem.dim;
  const RowBlock block = kinterp::block_partition(s.seed_n, comm);
  std::vector<double> x, b;
  kinterp::seed::samples(problem, s.seed_n, block, x, b);
  const auto points = make_matrix<T>("bench::seed_points", block.count, d,
                                     [&](std::int64_t i, int k) { return x[i * d + k]; });
  const auto values = make_matrix<T>("bench::seed_values", block.count, 1,
                                     [&](std::int64_t i, int) { return b[i]; });
  Matrix<T> a("bench::seed_weights", block.count, 1);

  const kinterp::Formula formula(problem.formula, problem.aliases);
  const KernelSpec kernel = formula.bind({{"G", {problem.g}}}).kernel;
  kinterp::SolveOptions options;
  options.rtol = 1e-6;

  MPI_Barrier(comm);
  const double setup_start = MPI_Wtime();
  const kinterp::KernelSolve<T> solver(comm, kernel, points);
  MPI_Barrier(comm);
  const double setup_seconds = MPI_Wtime() - setup_start;

  std::vector<double> seconds, per_product, compute, wait;
  kinterp::KernelSolveResult result;
  for (int rep = 0; rep < s.seed_reps; ++rep) {
    Kokkos::deep_copy(a, T(0));
    MPI_Barrier(comm);
    const double start = MPI_Wtime();
    result = solver.solve(values, a, problem.alpha, options);
    MPI_Barrier(comm);
    seconds.push_back(MPI_Wtime() - start);
    const int products = std::max(result.products, 1);
    per_product.push_back(max_over_ranks(comm, result.product.total / products));
    compute.push_back(max_over_ranks(comm, result.product.compute));
    wait.push_back(max_over_ranks(comm, result.product.wait));
  }
  const Stats time = stats(seconds);
  const double per_product_median = stats(per_product).median;
  const double wait_median = stats(wait).median;
  const double pairs = static_cast<double>(s.seed_n) * static_cast<double>(s.seed_n);

  json.begin_object();
  json.field("name", "seed/" + problem.name + "/" + type_name<T>());
  json.field("problem", problem.name);
  json.field("formula", problem.formula);
  json.field("aliases", problem.aliases);
  json.field("kernel", kernel.formula());
  json.field("dtype", type_name<T>());
  json.field("n", s.seed_n);
  json.field("alpha", problem.alpha);
  json.field("rtol", options.rtol);
  json.field("repetitions", s.seed_reps);
  json.field("setup_seconds", setup_seconds);
  write_stats(json, "seconds", time);
  json.field("solver_seconds", result.seconds);
  json.field("iterations", result.iterations);
  json.field("products", result.products);
  json.field("seconds_per_product", per_product_median);
  json.field("product_pairs_per_second", pairs / per_product_median);
  json.field("product_compute_seconds", stats(compute).median);
  json.field("product_wait_seconds", wait_median);
  json.field("product_wait_seconds_per_rank", all_ranks(comm, result.product.wait));
  json.field("converged", result.converged());
  json.field("reason", to_string(result.reason));
  json.field("relative_residual", result.relative_residual());
  json.end_object();
  return {problem.name,       type_name<T>(),    time.median,
          per_product_median, wait_median,       result.relative_residual(),
          result.iterations,  result.converged()};
}

// ---------------------------------------------------------------------------

int run(MPI_Comm comm, const Settings& s) {
  const bool root = rank_of(comm) == 0;
  JsonWriter json;
  json.begin_object();
  write_context(json, comm, s);
  if (root) {
    std::fprintf(stderr, "bench_kernel_sum: %d rank(s) x %d thread(s) on %s, Kokkos %s\n",
                 size_of(comm), threads_per_rank(), Kokkos::DefaultExecutionSpace::name(),
                 kokkos_version().c_str());
  }

  if (s.run_sum) {
    json.begin_array("kernel_sum");
    if (root) {
      std::fprintf(stderr, "\nkernel sum, N = M = %lld, median of %d\n",
                   static_cast<long long>(s.n), s.reps);
      std::fprintf(stderr, "  %-10s %-6s %2s %2s %12s %16s %10s %9s\n", "kernel", "dtype", "d", "m",
                   "pairs/s", "pairs/s/thread", "seconds", "max rel");
    }
    for (const auto& kernel : s.kernels) {
      for (int d : s.dims) {
        for (const auto& type : s.types) {
          for (int m : s.columns) {
            const SumLine line = type == "float" ? bench_sum<float>(comm, s, kernel, d, m, json)
                                                 : bench_sum<double>(comm, s, kernel, d, m, json);
            if (root) {
              std::fprintf(stderr, "  %-10s %-6s %2d %2d %12.3e %16.3e %10.4g %9.1e\n",
                           line.kernel.c_str(), line.dtype.c_str(), line.d, line.m,
                           line.pairs_per_second, line.per_thread, line.seconds, line.error);
            }
          }
        }
      }
    }
    json.end_array();
  }

  if (s.run_seed) {
    json.begin_array("seed_solve");
    if (root) {
      std::fprintf(stderr, "\nseed solves, N = %lld, rtol 1e-6, median of %d\n",
                   static_cast<long long>(s.seed_n), s.seed_reps);
      std::fprintf(stderr, "  %-4s %-6s %10s %6s %12s %10s %10s %s\n", "", "dtype", "seconds",
                   "iters", "s/product", "wait s", "rel res", "");
    }
    for (const auto& problem : {kinterp::seed::gaussian_1d(), kinterp::seed::laplacian_2d()}) {
      for (const auto& type : s.seed_types) {
        const SolveLine line = type == "float" ? bench_seed<float>(comm, s, problem, json)
                                               : bench_seed<double>(comm, s, problem, json);
        if (root) {
          std::fprintf(stderr, "  %-4s %-6s %10.4g %6d %12.3e %10.2e %10.2e %s\n",
                       line.problem.c_str(), line.dtype.c_str(), line.seconds, line.iterations,
                       line.seconds_per_product, line.wait, line.relative_residual,
                       line.converged ? "" : "NOT CONVERGED");
        }
      }
    }
    json.end_array();
  }

  json.end_object();
  if (root) {
    std::printf("%s\n", json.text().c_str());
    std::fflush(stdout);
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
    if (rank_of(comm) == 0) std::fprintf(stderr, "bench_kernel_sum: %s\n%s", e.what(), usage);
    return 1;
  }
}
