#pragma once
/// \file Communicator.hpp
/// kinterp's own duplicate of the caller's communicator, so that its messages
/// never mix with the host code's.

#include <mpi.h>

#include <memory>

namespace kinterp {

/// Holds MPI_Comm_dup(comm); freed when the last copy goes (unless MPI has been
/// finalized by then). Construction is collective over `comm`.
class Communicator {
 public:
  explicit Communicator(MPI_Comm comm);

  MPI_Comm get() const { return *comm_; }
  int rank() const { return rank_; }
  int size() const { return size_; }

 private:
  std::shared_ptr<MPI_Comm> comm_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace kinterp
