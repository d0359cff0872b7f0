#pragma once
// --log-view: where the time went, as PETSc's -log_view prints it: one row per
// phase with the minimum, maximum and average over the ranks, and the
// maximum's share of the total. Rows added with a depth are indented under
// the row above them (parts of it).

#include <mpi.h>

#include <string>
#include <vector>

namespace kinterp::cli {

class LogView {
 public:
  void add(const std::string& phase, double seconds, int depth = 0) {
    rows_.push_back({phase, seconds, depth});
  }

  /// Collective: the table on rank 0's stdout; `total` is this rank's total.
  void print(MPI_Comm comm, double total) const;

 private:
  struct Row {
    std::string phase;
    double seconds;
    int depth;
  };
  std::vector<Row> rows_;
};

}  // namespace kinterp::cli
