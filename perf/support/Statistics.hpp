#pragma once
// Summaries of timings: over the timed runs of a case (median, fastest,
// slowest) and over the ranks (a distributed call takes as long as its
// slowest rank).

#include <kinterp/core/Partition.hpp>

#include <mpi.h>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace kinterp::bench {

struct Stats {
  double median = 0, min = 0, max = 0;
};

inline Stats stats(std::vector<double> values) {
  Stats s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  s.median = n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
  s.min = values.front();
  s.max = values.back();
  return s;
}

inline double max_over_ranks(MPI_Comm comm, double value) {
  MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_DOUBLE, MPI_MAX, comm);
  return value;
}

/// Every rank's `value`, on every rank.
inline std::vector<double> all_ranks(MPI_Comm comm, double value) {
  std::vector<double> all(static_cast<std::size_t>(size_of(comm)));
  MPI_Allgather(&value, 1, MPI_DOUBLE, all.data(), 1, MPI_DOUBLE, comm);
  return all;
}

}  // namespace kinterp::bench
