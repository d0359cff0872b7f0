#pragma once
/// \file SpatialPartition.hpp
/// Points re-partitioned by space: rank r of P receives the points whose
/// places along a Hilbert curve over the global bounding box (ties broken by
/// the global row number) rank within block_partition(N, r, P), so every
/// rank's block is one compact region and holds N / P points, within one.
/// The tree product keeps its sources this way, so that a rank's targets
/// meet most other ranks' sources as far clusters. Rows move with one
/// MPI_Alltoallv:
/// forward, from the caller's distribution to the partition's (the points
/// themselves, a product's weights), and back (results at the sources).

#include <kinterp/core/Communicator.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/MpiTraits.hpp>
#include <kinterp/core/Partition.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace kinterp {

class SpatialPartition {
 public:
  template <class T>
  using HostRows = Kokkos::View<T**, Kokkos::LayoutRight, Kokkos::HostSpace>;

  /// Collective. `rows`: this rank's n x d points, any host-accessible rows(i, k)
  /// (1 <= d <= 3, the same d on every rank; the caller checks).
  template <class Rows>
  SpatialPartition(const Communicator& comm, const Rows& rows, std::int64_t n, int d)
      : comm_(comm) {
    const int size = comm.size();
    const MPI_Comm c = comm.get();
    // The global box: one MIN over the lows and the negated highs.
    double box[2 * 3];
    std::fill(box, box + 6, std::numeric_limits<double>::infinity());
    for (std::int64_t i = 0; i < n; ++i) {
      for (int k = 0; k < d; ++k) {
        box[k] = std::min(box[k], static_cast<double>(rows(i, k)));
        box[3 + k] = std::min(box[3 + k], -static_cast<double>(rows(i, k)));
      }
    }
    MPI_Allreduce(MPI_IN_PLACE, box, 6, MPI_DOUBLE, MPI_MIN, c);
    const std::int64_t first = global_block(c, n).begin;
    std::int64_t total = n;
    MPI_Allreduce(MPI_IN_PLACE, &total, 1, MPI_INT64_T, MPI_SUM, c);

    // Keys: d coordinates of 63 / d bits each, turned into the transpose of
    // their Hilbert index, then interleaved.
    const int bits = 63 / d;
    const double cells = std::ldexp(1.0, bits) - 1;
    std::vector<Key> keys(n);
    for (std::int64_t i = 0; i < n; ++i) {
      std::uint64_t q[3] = {0, 0, 0};
      for (int k = 0; k < d; ++k) {
        const double width = -box[3 + k] - box[k];
        const double u = width > 0 ? (static_cast<double>(rows(i, k)) - box[k]) / width : 0;
        q[k] = static_cast<std::uint64_t>(std::clamp(u, 0.0, 1.0) * cells);
      }
      if (d > 1) hilbert_transpose(q, bits, d);
      std::uint64_t key = 0;
      for (int b = bits - 1; b >= 0; --b)
        for (int k = 0; k < d; ++k) key = key << 1 | (q[k] >> b & 1);
      keys[i] = {key, static_cast<std::uint64_t>(first + i)};
    }
    std::vector<Key> sorted = keys;
    std::sort(sorted.begin(), sorted.end());
    const std::vector<Key> splitters = find_splitters(c, sorted, total, size);

    // Where each row goes: past how many splitters its key lies.
    std::vector<int> destination(n);
    send_counts_.assign(size, 0);
    for (std::int64_t i = 0; i < n; ++i) {
      destination[i] = static_cast<int>(
          std::upper_bound(splitters.begin(), splitters.end(), keys[i]) - splitters.begin());
      ++send_counts_[destination[i]];
    }
    recv_counts_.assign(size, 0);
    MPI_Alltoall(send_counts_.data(), 1, MPI_INT64_T, recv_counts_.data(), 1, MPI_INT64_T, c);
    send_offsets_.assign(size + 1, 0);
    recv_offsets_.assign(size + 1, 0);
    for (int r = 0; r < size; ++r) {
      send_offsets_[r + 1] = send_offsets_[r] + send_counts_[r];
      recv_offsets_[r + 1] = recv_offsets_[r] + recv_counts_[r];
    }
    // Rows in send order: grouped by destination, in their order within each.
    send_order_.resize(n);
    std::vector<std::int64_t> next(send_offsets_.begin(), send_offsets_.end() - 1);
    for (std::int64_t i = 0; i < n; ++i) send_order_[next[destination[i]]++] = i;

    // The most rows any rank holds, either way: every rank sees the same, so
    // a move too large for MPI's int counts is refused on all of them.
    std::int64_t largest[2] = {recv_offsets_.back(), std::max(n, recv_offsets_.back())};
    MPI_Allreduce(MPI_IN_PLACE, largest, 2, MPI_INT64_T, MPI_MAX, c);
    imbalance_ =
        total > 0 ? static_cast<double>(largest[0]) * size / static_cast<double>(total) : 1;
    largest_rows_ = largest[1];
  }

  /// Rows this rank holds in the partition.
  std::int64_t local_count() const { return recv_offsets_.empty() ? 0 : recv_offsets_.back(); }
  /// The largest rank's rows over the mean (1: perfect balance).
  double imbalance() const { return imbalance_; }

  /// Collective. to (local_count() x m) = this partition's rows of `from`
  /// (this rank's rows in the caller's distribution, n x m).
  template <class T>
  void forward(const HostRows<const T>& from, const HostRows<T>& to) const {
    exchange(from, to, send_order_, send_counts_, send_offsets_, recv_counts_, recv_offsets_,
             false);
  }
  /// Collective. The reverse of forward: to (n x m) from this partition's rows.
  template <class T>
  void backward(const HostRows<const T>& from, const HostRows<T>& to) const {
    exchange(from, to, send_order_, recv_counts_, recv_offsets_, send_counts_, send_offsets_, true);
  }

 private:
  using Key = std::pair<std::uint64_t, std::uint64_t>;  // (curve key, global row)

  /// The cell q (d coordinates of `bits` bits) becomes the transpose of its
  /// index along the Hilbert curve (J. Skilling, "Programming the Hilbert
  /// curve", AIP Conf. Proc. 707, 2004): interleaving its bits gives the
  /// index. Unlike Morton's, the curve never jumps, so every rank's stretch
  /// of it is one connected region.
  static void hilbert_transpose(std::uint64_t* q, int bits, int d) {
    const std::uint64_t top = std::uint64_t(1) << (bits - 1);
    for (std::uint64_t bit = top; bit > 1; bit >>= 1) {
      const std::uint64_t below = bit - 1;
      for (int k = 0; k < d; ++k) {
        if (q[k] & bit) {
          q[0] ^= below;  // invert
        } else {
          const std::uint64_t t = (q[0] ^ q[k]) & below;  // exchange
          q[0] ^= t;
          q[k] ^= t;
        }
      }
    }
    for (int k = 1; k < d; ++k) q[k] ^= q[k - 1];  // Gray encode
    std::uint64_t t = 0;
    for (std::uint64_t bit = top; bit > 1; bit >>= 1)
      if (q[d - 1] & bit) t ^= bit - 1;
    for (int k = 0; k < d; ++k) q[k] ^= t;
  }

  /// The keys of global ranks block_partition(total, r, size).begin for r =
  /// 1 .. size - 1, exactly, by bisection over the key and then the row
  /// number (every rank counts its keys below a guess; one allreduce for all
  /// splitters per step).
  static std::vector<Key> find_splitters(MPI_Comm comm, const std::vector<Key>& sorted,
                                         std::int64_t total, int size) {
    const int count = size - 1;
    std::vector<std::int64_t> wanted(count);
    for (int k = 0; k < count; ++k) wanted[k] = block_partition(total, k + 1, size).begin;
    // Counts, summed over the ranks, of keys for which below(k, key) holds.
    std::vector<std::int64_t> counts(count);
    const auto count_below = [&](const auto& below) {
      for (int k = 0; k < count; ++k) {
        counts[k] = std::partition_point(sorted.begin(), sorted.end(),
                                         [&](const Key& key) { return below(k, key); }) -
                    sorted.begin();
      }
      MPI_Allreduce(MPI_IN_PLACE, counts.data(), count, MPI_INT64_T, MPI_SUM, comm);
    };
    // The smallest key with more than wanted[k] keys at or below it.
    std::vector<std::uint64_t> low(count, 0), high(count, ~std::uint64_t(0));
    for (int step = 0; step < 64; ++step) {
      std::vector<std::uint64_t> middle(count);
      for (int k = 0; k < count; ++k) middle[k] = low[k] + (high[k] - low[k]) / 2;
      count_below([&](int k, const Key& key) { return key.first <= middle[k]; });
      for (int k = 0; k < count; ++k) {
        if (counts[k] > wanted[k]) {
          high[k] = middle[k];
        } else {
          low[k] = middle[k] + 1;
        }
      }
    }
    // Within that key, the smallest row with enough rows at or below it.
    std::vector<std::uint64_t> row_low(count, 0),
        row_high(count, static_cast<std::uint64_t>(std::max<std::int64_t>(total, 1) - 1));
    for (int step = 0; step < 64; ++step) {
      std::vector<std::uint64_t> middle(count);
      for (int k = 0; k < count; ++k) middle[k] = row_low[k] + (row_high[k] - row_low[k]) / 2;
      count_below([&](int k, const Key& key) { return key <= Key{low[k], middle[k]}; });
      for (int k = 0; k < count; ++k) {
        if (counts[k] > wanted[k]) {
          row_high[k] = middle[k];
        } else {
          row_low[k] = middle[k] + 1;
        }
      }
      if (std::equal(row_low.begin(), row_low.end(), row_high.begin())) break;
    }
    std::vector<Key> splitters(count);
    for (int k = 0; k < count; ++k) splitters[k] = {low[k], row_low[k]};
    return splitters;
  }

  template <class T>
  void exchange(const HostRows<const T>& from, const HostRows<T>& to,
                const std::vector<std::int64_t>& order, const std::vector<std::int64_t>& counts,
                const std::vector<std::int64_t>& offsets,
                const std::vector<std::int64_t>& other_counts,
                const std::vector<std::int64_t>& other_offsets, bool reverse) const {
    const int size = comm_.size();
    const int m = static_cast<int>(from.extent(1));
    // m is the same on every rank (the callers check), so all ranks agree.
    if (largest_rows_ * m > INT_MAX) {
      throw Error("spatial partition: " + std::to_string(largest_rows_) + " rows of " +
                  std::to_string(m) + " values exceed one MPI message; use more ranks");
    }
    std::vector<int> send_counts(size), send_offsets(size), recv_counts(size), recv_offsets(size);
    for (int r = 0; r < size; ++r) {
      send_counts[r] = static_cast<int>(counts[r] * m);
      send_offsets[r] = static_cast<int>(offsets[r] * m);
      recv_counts[r] = static_cast<int>(other_counts[r] * m);
      recv_offsets[r] = static_cast<int>(other_offsets[r] * m);
    }
    std::vector<T> send(std::size_t(offsets.back()) * m),
        received(std::size_t(other_offsets.back()) * m);
    // Forward: the caller's rows are gathered in send order; back: the
    // partition's rows are sent as they are and scattered by that order.
    for (std::int64_t j = 0; j < offsets.back(); ++j) {
      const std::int64_t row = reverse ? j : order[j];
      for (int c = 0; c < m; ++c) send[std::size_t(j) * m + c] = from(row, c);
    }
    MPI_Alltoallv(send.data(), send_counts.data(), send_offsets.data(), MpiTraits<T>::type(),
                  received.data(), recv_counts.data(), recv_offsets.data(), MpiTraits<T>::type(),
                  comm_.get());
    for (std::int64_t j = 0; j < other_offsets.back(); ++j) {
      const std::int64_t row = reverse ? order[j] : j;
      for (int c = 0; c < m; ++c) to(row, c) = received[std::size_t(j) * m + c];
    }
  }

  Communicator comm_;
  std::vector<std::int64_t> send_order_;  // send position -> the caller's row
  std::vector<std::int64_t> send_counts_, send_offsets_, recv_counts_, recv_offsets_;
  double imbalance_ = 1;
  std::int64_t largest_rows_ = 0;  // on any rank, before or after the move
};

}  // namespace kinterp
