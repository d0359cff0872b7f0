#include "LogView.hpp"

#include <cstdio>

namespace kinterp::cli {

void LogView::print(MPI_Comm comm, double total) const {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  std::vector<double> seconds;
  for (const auto& row : rows_) seconds.push_back(row.seconds);
  seconds.push_back(total);
  const int n = static_cast<int>(seconds.size());
  std::vector<double> low(n), high(n), sum(n);
  MPI_Reduce(seconds.data(), low.data(), n, MPI_DOUBLE, MPI_MIN, 0, comm);
  MPI_Reduce(seconds.data(), high.data(), n, MPI_DOUBLE, MPI_MAX, 0, comm);
  MPI_Reduce(seconds.data(), sum.data(), n, MPI_DOUBLE, MPI_SUM, 0, comm);
  if (rank != 0) return;
  std::printf("\n--- log view: seconds over %d rank%s ---\n", size, size == 1 ? "" : "s");
  std::printf("%-36s %10s %10s %10s %7s\n", "phase", "min", "max", "avg", "max %");
  for (int k = 0; k < n; ++k) {
    const bool is_total = k == n - 1;
    const std::string phase =
        is_total ? "total" : std::string(2 * rows_[k].depth, ' ') + rows_[k].phase;
    std::printf("%-36s %10.4f %10.4f %10.4f %6.1f%%\n", phase.c_str(), low[k], high[k],
                sum[k] / size, high[n - 1] > 0 ? 100 * high[k] / high[n - 1] : 0.0);
  }
  std::fflush(stdout);
}

}  // namespace kinterp::cli
