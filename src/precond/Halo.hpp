#pragma once
// A rank's halo: copies of other ranks' points that its rows refer to. Each
// rank lists, per other rank, which of its own points that rank needs; one
// MPI_Alltoallv moves their values there (gather), and one moves values
// computed at the copies back to the owners (return_to_owners).

#include <kinterp/core/Error.hpp>
#include <kinterp/core/MpiTraits.hpp>

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <vector>

namespace kinterp::detail {

class Halo {
 public:
  Halo() = default;
  /// Collective. `wanted[q]`: this rank's points that rank q needs, in the
  /// order q will hold them.
  Halo(MPI_Comm comm, const std::vector<std::vector<std::int32_t>>& wanted) : comm_(comm) {
    const int size = static_cast<int>(wanted.size());
    send_counts_.assign(size, 0);
    for (int q = 0; q < size; ++q) {
      send_counts_[q] = static_cast<std::int64_t>(wanted[q].size());
      sent_.insert(sent_.end(), wanted[q].begin(), wanted[q].end());
    }
    receive_counts_.assign(size, 0);
    MPI_Alltoall(send_counts_.data(), 1, MPI_INT64_T, receive_counts_.data(), 1, MPI_INT64_T, comm);
    for (int q = 0; q < size; ++q) {
      for (std::int64_t t = 0; t < receive_counts_[q]; ++t) source_.push_back(q);
    }
    // The most rows any rank moves either way: the same on every rank, so a
    // move too large for MPI's int counts is refused on all of them.
    largest_ = std::max<std::int64_t>(sent_.size(), source_.size());
    MPI_Allreduce(MPI_IN_PLACE, &largest_, 1, MPI_INT64_T, MPI_MAX, comm);
  }

  /// Copies this rank holds (rows after its own).
  std::int64_t size() const { return static_cast<std::int64_t>(source_.size()); }
  /// The owner of copy t.
  int source(std::int64_t t) const { return source_[t]; }
  /// This rank's points as sent, rank by rank.
  const std::vector<std::int32_t>& sent() const { return sent_; }

  /// Collective. copies (size() x m, row-major) = the owners' rows of
  /// `own` (n x m, row-major) for every copy.
  template <class T>
  void gather(const T* own, int m, T* copies) const {
    std::vector<T> send(sent_.size() * std::size_t(m));
    for (std::size_t t = 0; t < sent_.size(); ++t)
      for (int c = 0; c < m; ++c) send[t * m + c] = own[std::size_t(sent_[t]) * m + c];
    exchange(send.data(), send_counts_, copies, receive_counts_, m);
  }

  /// Collective. The reverse: `values` (size() x m) go back to the owners,
  /// which get one row per point sent, in the order of sent().
  template <class T>
  std::vector<T> return_to_owners(const T* values, int m) const {
    std::vector<T> back(sent_.size() * std::size_t(m));
    exchange(values, receive_counts_, back.data(), send_counts_, m);
    return back;
  }

 private:
  template <class T>
  void exchange(const T* send, const std::vector<std::int64_t>& send_counts, T* receive,
                const std::vector<std::int64_t>& receive_counts, int m) const {
    if (largest_ * m > INT_MAX)
      throw Error("a Vecchia halo of " + std::to_string(largest_) + " rows of " +
                  std::to_string(m) + " values exceeds one MPI message: use more ranks");
    const int size = static_cast<int>(send_counts.size());
    std::vector<int> sc(size), so(size), rc(size), ro(size);
    std::int64_t s_offset = 0, r_offset = 0;
    for (int q = 0; q < size; ++q) {
      sc[q] = static_cast<int>(send_counts[q] * m);
      so[q] = static_cast<int>(s_offset * m);
      rc[q] = static_cast<int>(receive_counts[q] * m);
      ro[q] = static_cast<int>(r_offset * m);
      s_offset += send_counts[q];
      r_offset += receive_counts[q];
    }
    MPI_Alltoallv(send, sc.data(), so.data(), MpiTraits<T>::type(), receive, rc.data(), ro.data(),
                  MpiTraits<T>::type(), comm_);
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  std::vector<std::int64_t> send_counts_, receive_counts_;
  std::vector<std::int32_t> sent_;
  std::vector<int> source_;
  std::int64_t largest_ = 0;
};

}  // namespace kinterp::detail
