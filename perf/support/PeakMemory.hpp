#pragma once
// Resident memory of a benchmark case: the process's peak (getrusage), reset
// before the case where Linux allows it, and what the case added per point.

#include "JsonLine.hpp"
#include "Statistics.hpp"

#include <mpi.h>

#include <cstdint>
#include <fstream>

#include <sys/resource.h>  // getrusage: peak resident memory
#include <unistd.h>        // sysconf: the page size

namespace kinterp::bench {

/// Peak resident memory of this process (getrusage; Linux reports KiB).
inline double peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return 1024.0 * static_cast<double>(usage.ru_maxrss);
}

/// Resident memory now (Linux: /proc/self/statm), 0 where unknown.
inline double current_rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  double pages = 0, resident = 0;
  if (!(statm >> pages >> resident)) return 0;
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE));
}

/// Linux (>= 4.0) resets the peak that getrusage reports when "5" is written
/// to /proc/self/clear_refs; then a case's peak is its own, not the largest of
/// the run so far. Returns whether it worked.
inline bool reset_peak_rss() {
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

}  // namespace kinterp::bench
