#pragma once
/// \file TargetRing.hpp
/// The ring turned round, for a product whose sources stay where they are (a
/// tree product's: its tree and proxy charges are made once per product, not
/// once per passing block): each rank's block of targets travels once around
/// the ranks (SourceRing.hpp), every rank sums its own sources for the block
/// in hand into a partial result, and the partial goes straight back to the
/// block's owner while the next block is summed. A rank holds two blocks and
/// four partials at a time.

#include <kinterp/dist/SourceRing.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace kinterp {

template <class T, class ExecutionSpace>
class TargetRing {
 public:
  using memory_space = typename ExecutionSpace::memory_space;
  using Buffer = typename SourceRing<T, ExecutionSpace>::Buffer;
  using Matrix = Kokkos::View<T**, Kokkos::LayoutRight, memory_space>;

  /// Collective. This rank has `targets` targets, packed into a block of
  /// `block_values` values; partials have `columns` columns (the same on
  /// every rank). `tag` and tag + 1 keep its messages apart.
  TargetRing(const Communicator& comm, std::int64_t targets, std::int64_t block_values, int columns,
             int tag)
      : blocks_(comm, block_values, 1, "target blocks", "values", tag),
        targets_(comm.size()),
        columns_(columns),
        tag_(tag + 1) {
    MPI_Allgather(&targets, 1, MPI_INT64_T, targets_.data(), 1, MPI_INT64_T, comm.get());
    for (int r = 0; r < comm.size(); ++r) {
      SourceRing<T, ExecutionSpace>::require_one_message(
          blocks_.count(r), "tree product: a block of " + std::to_string(targets_[r]) + " targets");
      SourceRing<T, ExecutionSpace>::require_one_message(
          targets_[r] * columns, "tree product: the partial sums of a block of " +
                                     std::to_string(targets_[r]) + " targets");
    }
  }

  std::int64_t targets(int rank) const { return targets_[rank]; }
  /// The values of rank r's block.
  std::int64_t values(int rank) const { return blocks_.count(rank); }

  /// Collective. `pack(block)` writes this rank's block into the Buffer;
  /// `visit(origin, block, partial)` sums this rank's sources for rank
  /// origin's targets: for origin == this rank, block is nullptr and partial
  /// empty (the caller adds its own sums where it likes), else the block's
  /// values in the memory space and a zeroed targets(origin) x columns
  /// partial to add to. `receive(partial)` adds another rank's partial for
  /// this rank's targets, in the block's order. All launch on `space`.
  template <class Pack, class Visit, class Receive>
  RingTimings circulate(const ExecutionSpace& space, const Pack& pack, const Visit& visit,
                        const Receive& receive) const {
    const Communicator& comm = blocks_.communicator();
    const int size = comm.size(), rank = comm.rank();
    reserve();
    double waited = 0;
    MPI_Request requests[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
    int pending = -1;  // the partial buffer whose messages are in flight
    // Completes the messages of the last step and adds what came back.
    const auto complete = [&] {
      if (pending < 0) return;
      const double start = MPI_Wtime();
      MPI_Waitall(2, requests, MPI_STATUSES_IGNORE);
      waited += MPI_Wtime() - start;
      if constexpr (!host_accessible) {
        Kokkos::deep_copy(space, received_[pending], host_received_[pending]);
      }
      // The message fills the first rows (row-major).
      receive(Kokkos::subview(received_[pending],
                              Kokkos::make_pair(std::int64_t(0), targets_[rank]), Kokkos::ALL));
      pending = -1;
    };
    int step = 0;
    RingTimings timings = blocks_.circulate(
        space, [&](int r) { return blocks_.count(r); }, pack,
        [&](int origin, const T* block) {
          if (!block) {
            visit(origin, block, Matrix());
            return;
          }
          ++step;
          const int slot = step % 2;
          const auto rows = Kokkos::make_pair(std::int64_t(0), targets_[origin]);
          const Matrix partial = Kokkos::subview(sent_[slot], rows, Kokkos::ALL);
          Kokkos::deep_copy(space, partial, T(0));
          visit(origin, block, partial);
          space.fence();  // MPI reads the partial next
          if constexpr (!host_accessible) Kokkos::deep_copy(host_sent_[slot], sent_[slot]);
          complete();
          const int from = (rank + step) % size;
          MPI_Irecv(host_received_[slot].data(), static_cast<int>(targets_[rank] * columns_),
                    MpiTraits<T>::type(), from, tag_, comm.get(), &requests[0]);
          MPI_Isend(host_sent_[slot].data(), static_cast<int>(targets_[origin] * columns_),
                    MpiTraits<T>::type(), origin, tag_, comm.get(), &requests[1]);
          pending = slot;
        });
    complete();
    space.fence();
    timings.compute -= waited;
    timings.wait += waited;
    return timings;
  }

 private:
  using HostMatrix = typename Matrix::HostMirror;
  static constexpr bool host_accessible =
      Kokkos::SpaceAccessibility<Kokkos::HostSpace, memory_space>::accessible;

  void reserve() const {
    std::int64_t largest = 0;
    for (const std::int64_t n : targets_) largest = std::max(largest, n);
    if (blocks_.communicator().size() == 1 || sent_[0].extent(0) >= std::size_t(largest)) return;
    for (int b = 0; b < 2; ++b) {
      const auto alloc = [](const char* label) {
        return Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(label));
      };
      sent_[b] = Matrix(alloc("kinterp::TargetRing::sent"), largest, columns_);
      received_[b] = Matrix(alloc("kinterp::TargetRing::received"), largest, columns_);
      host_sent_[b] = Kokkos::create_mirror_view(sent_[b]);
      host_received_[b] = Kokkos::create_mirror_view(received_[b]);
    }
  }

  SourceRing<T, ExecutionSpace> blocks_;
  std::vector<std::int64_t> targets_;
  int columns_;
  int tag_;
  mutable Matrix sent_[2], received_[2];
  mutable HostMatrix host_sent_[2], host_received_[2];
};

}  // namespace kinterp
