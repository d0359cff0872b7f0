#pragma once
/// \file SourceRing.hpp
/// The ring every distributed sum over sources uses: each rank's block of
/// source rows travels once around the ranks. While a rank works on the block
/// in hand, the next one is already in flight (MPI_Isend/MPI_Irecv), so
/// communication hides behind computation, and a rank never holds more than
/// two blocks: memory stays linear in N. What a block holds and what is done
/// with it belong to the caller (RingKernelProduct, RingReduction).

#include <kinterp/core/Communicator.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/MpiTraits.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <vector>

namespace kinterp {

/// Seconds one rank spent in a distributed product.
struct RingTimings {
  double total = 0;    ///< the whole product
  double compute = 0;  ///< local sums
  double wait = 0;     ///< waiting for blocks to arrive (communication not hidden)
  /// Of compute: readying the sums (a tree product's proxy charges and the
  /// passing targets' batches; 0 for the direct product).
  double prepare = 0;

  RingTimings& operator+=(const RingTimings& other) {
    total += other.total;
    compute += other.compute;
    wait += other.wait;
    prepare += other.prepare;
    return *this;
  }
};

template <class T, class ExecutionSpace>
class SourceRing {
 public:
  using memory_space = typename ExecutionSpace::memory_space;
  using Buffer = Kokkos::View<T*, memory_space>;

  /// Collective. This rank holds `local_rows` source rows of `width` values;
  /// the width must be the same on every rank (one Error on every rank
  /// otherwise, naming the `rows` and the `unit` of their width: "source
  /// points", "coordinates"). `tag` keeps the messages of different rings on
  /// one communicator apart.
  SourceRing(const Communicator& comm, std::int64_t local_rows, int width, const char* rows,
             const char* unit, int tag)
      : comm_(comm), tag_(tag), counts_(comm.size()), offsets_(comm.size() + 1, 0) {
    const std::int64_t mine[2] = {local_rows, width};
    std::vector<std::int64_t> all(2 * comm_.size());
    MPI_Allgather(mine, 2, MPI_INT64_T, all.data(), 2, MPI_INT64_T, comm_.get());
    for (int r = 0; r < comm_.size(); ++r) {
      counts_[r] = all[2 * r];
      offsets_[r + 1] = offsets_[r] + counts_[r];
      // Every rank sees the same table, so every rank throws the same error.
      if (all[2 * r + 1] != all[1]) {
        throw Error(std::string("the ") + rows + " have " + std::to_string(all[2 * r + 1]) + " " +
                    unit + " on rank " + std::to_string(r) + " but " + std::to_string(all[1]) +
                    " on rank 0: every rank must pass rows of the same width");
      }
    }
  }

  const Communicator& communicator() const { return comm_; }
  std::int64_t count(int rank) const { return counts_[rank]; }
  std::int64_t local_count() const { return counts_[comm_.rank()]; }
  std::int64_t largest_count() const { return *std::max_element(counts_.begin(), counts_.end()); }
  /// The global index of rank r's first row: rows are numbered rank by rank.
  std::int64_t offset(int rank) const { return offsets_[rank]; }
  std::int64_t global_count() const { return offsets_.back(); }

  /// Collective. Sends every rank's block around the ring. `length(r)` is the
  /// number of values in rank r's block (the same function on every rank);
  /// `pack(block)` writes this rank's block into the device buffer `block`;
  /// `visit(origin, block)` works on rank origin's block: block is nullptr for
  /// the rank's own (its data is where the caller keeps it), else the block's
  /// values in the memory space. Both launch their work on `space`, which the
  /// ring fences after each of them (so a visit's kernels count as compute
  /// time, and MPI never reads a block still being written). Returns this
  /// rank's timings.
  template <class Length, class Pack, class Visit>
  RingTimings circulate(const ExecutionSpace& space, const Length& length, const Pack& pack,
                        const Visit& visit) const {
    const double start = MPI_Wtime();
    RingTimings timings;
    const int size = comm_.size(), rank = comm_.rank();
    int current = 0;  // the block in hand
    if (size > 1) {
      reserve(length);
      pack(blocks_[current]);
      if constexpr (!host_accessible)
        Kokkos::deep_copy(space, host_blocks_[current], blocks_[current]);
      space.fence();  // MPI reads the block next
    }
    for (int step = 0; step < size; ++step) {
      const int origin = (rank - step + size) % size;  // whose rows are in hand
      MPI_Request requests[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
      if (step + 1 < size) {
        const int next_origin = (origin - 1 + size) % size;
        const int left = (rank - 1 + size) % size, right = (rank + 1) % size;
        MPI_Irecv(host_blocks_[1 - current].data(), static_cast<int>(length(next_origin)),
                  MpiTraits<T>::type(), left, tag_, comm_.get(), &requests[0]);
        MPI_Isend(host_blocks_[current].data(), static_cast<int>(length(origin)),
                  MpiTraits<T>::type(), right, tag_, comm_.get(), &requests[1]);
      }
      const double compute_start = MPI_Wtime();
      visit(origin, step == 0 ? static_cast<const T*>(nullptr) : blocks_[current].data());
      space.fence();
      timings.compute += MPI_Wtime() - compute_start;

      const double wait_start = MPI_Wtime();
      MPI_Waitall(2, requests, MPI_STATUSES_IGNORE);
      timings.wait += MPI_Wtime() - wait_start;
      if (step + 1 < size) {
        current = 1 - current;
        if constexpr (!host_accessible)
          Kokkos::deep_copy(space, blocks_[current], host_blocks_[current]);
      }
    }
    timings.total = MPI_Wtime() - start;
    return timings;
  }

  /// Not collective (every rank has the same counts): throws unless the
  /// largest block, of `values` values, fits one MPI message (an int count).
  static void require_one_message(std::int64_t values, const std::string& what) {
    if (values > INT_MAX) throw Error(what + " is too large for one MPI message; use more ranks");
  }

 private:
  using HostBuffer = typename Buffer::HostMirror;
  static constexpr bool host_accessible =
      Kokkos::SpaceAccessibility<Kokkos::HostSpace, memory_space>::accessible;

  template <class Length>
  void reserve(const Length& length) const {
    std::size_t largest = 0;
    for (int r = 0; r < comm_.size(); ++r) largest = std::max<std::size_t>(largest, length(r));
    if (blocks_[0].extent(0) >= largest) return;
    for (int b = 0; b < 2; ++b) {
      blocks_[b] = Buffer(
          Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::SourceRing::block"), largest);
      host_blocks_[b] = Kokkos::create_mirror_view(blocks_[b]);
    }
  }

  Communicator comm_;
  int tag_;
  std::vector<std::int64_t> counts_, offsets_;
  mutable Buffer blocks_[2];
  mutable HostBuffer host_blocks_[2];
};

}  // namespace kinterp
