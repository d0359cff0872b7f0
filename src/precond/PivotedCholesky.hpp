#pragma once
// The distributed block pivoted Cholesky factorisation K ~ F F^T behind the
// Nystrom preconditioner.
//
// Each block step (Chen, Epperly, Tropp, Webber 2023; the rejection step of
// Epperly, Tropp, Webber 2024, "Embrace rejection"):
//  1. every rank sums its residual diagonal d = diag(K - F F^T) (one
//     MPI_Allgather of two numbers per rank);
//  2. b candidate rows are drawn from the same counter-based random stream on
//     every rank: in proportion to d (randomly pivoted Cholesky), uniformly
//     among the rows not yet in the span of the pivots, or the b largest d
//     (greedy; one MPI_Allgather of each rank's top b + 1);
//  3. the owners of the candidates hand out their points, d and rows of F (one
//     MPI_Allreduce of b rows, zeros from the non-owners);
//  4. every rank runs the same small Cholesky on the candidates' residual
//     matrix, accepting or rejecting them in turn: randomly pivoted Cholesky
//     accepts candidate j with probability (its residual given the pivots
//     accepted before it) / d_j, which makes the accepted pivots exactly those
//     of one-at-a-time randomly pivoted Cholesky; duplicates and residuals at
//     the rounding level are rejected. Greedy accepts the largest residual
//     while it is at least the largest d outside the candidates (then it is the
//     one-at-a-time greedy pivot too);
//  5. every rank extends its rows of F by the t accepted columns at once
//     (FactorKernels.hpp: O(n_r k t) flops in one fused pass).
// All randomness and all decisions come from replicated data, so every rank
// agrees without further messages, and the pivots do not depend on the number
// of ranks (except where rounding in the sum of d moves a draw across a row
// boundary, probability ~1e-16 per draw).

#include <kinterp/core/Partition.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/precond/NystromPreconditioner.hpp>

#include "CounterRandom.hpp"
#include "FactorKernels.hpp"

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

namespace kinterp::detail {

inline std::int64_t padded_rows(std::int64_t n) {
  return (n + factor_row_block - 1) / factor_row_block * factor_row_block;
}
/// Columns of F are allocated in groups of 8 (at least one).
inline int padded_columns(int k) {
  return std::max(1, (k + factor_column_group - 1) / factor_column_group) * factor_column_group;
}

struct PivotedCholeskyOptions {
  int rank = 0;  ///< columns wanted (already clamped to the number of points)
  PivotRule rule = PivotRule::RandomlyPivotedCholesky;
  std::uint64_t seed = 0;
  int block_size = 64;
  double tolerance = 0;  ///< relative: see NystromOptions::tolerance
};

template <class T, class MemorySpace>
struct PivotedCholeskyResult {
  FactorPanels<T, MemorySpace> factor;  ///< padded_rows(n_r) / 8 x padded_columns(rank) x 8
  int rank = 0;
  std::vector<std::int64_t> pivots;
  double trace = 0, residual_trace = 0;
  int steps = 0;
  std::int64_t candidates = 0;
};

template <class T, class Kernel, class ExecutionSpace>
class PivotedCholesky {
 public:
  using memory_space = typename ExecutionSpace::memory_space;
  using ConstMatrix = Kokkos::View<const T**, Kokkos::LayoutRight, memory_space>;
  using Result = PivotedCholeskyResult<T, memory_space>;

  /// `counts`: the number of rows of every rank (the global order is rank 0's rows first).
  PivotedCholesky(MPI_Comm comm, const Kernel& kernel, double variance, const ConstMatrix& points,
                  const std::vector<std::int64_t>& counts)
      : comm_(comm),
        rank_(rank_of(comm)),
        size_(size_of(comm)),
        kernel_(kernel),
        variance_(variance),
        points_(points),
        n_(static_cast<std::int64_t>(points.extent(0))),
        n_pad_(padded_rows(n_)),
        dim_(static_cast<int>(points.extent(1))),
        offsets_(counts.size() + 1, 0) {
    std::partial_sum(counts.begin(), counts.end(), offsets_.begin() + 1);
  }

  /// Collective.
  Result run(const PivotedCholeskyOptions& options) {
    const ScopedRegion region("kinterp::NystromPreconditioner::pivoted_cholesky");
    Result result;
    const int capacity = padded_columns(options.rank);
    factor_ = FactorPanels<T, memory_space>("kinterp::NystromPreconditioner::factor",
                                            n_pad_ / factor_row_block, capacity, factor_row_block);
    d_ = Kokkos::View<double*, memory_space>("kinterp::NystromPreconditioner::residual", n_pad_);
    d_host_ = Kokkos::create_mirror_view(d_);
    Kokkos::parallel_for("kinterp::NystromPreconditioner::initial_residual",
                         Kokkos::RangePolicy<ExecutionSpace>(space_, 0, n_pad_),
                         InitialResidual<Kernel, memory_space>{d_, kernel_, variance_, n_});

    // The largest K_ii is K(x, x) = variance * phi(0) for a radial kernel.
    const double pivot_floor = options.tolerance * variance_ * kernel_(0.0);
    CounterStream stream(options.seed);
    Masses masses = residual_masses(options.rule, pivot_floor);
    result.trace = sum(masses.residual);
    int k = 0, empty_steps = 0;
    while (k < options.rank) {
      const double residual = sum(masses.residual);
      if (!(residual > options.tolerance * result.trace)) break;  // numerically of rank k
      if (options.rule != PivotRule::Greedy && !(sum(masses.sampling) > 0)) break;

      Candidates candidates = draw(options, masses.sampling, stream);
      exchange(candidates, k);
      result.candidates += candidates.count;
      const Selection selection =
          select(options.rule, candidates, k, std::min(options.rank - k, max_step_pivots),
                 pivot_floor, stream);
      if (selection.slots.empty()) {
        // Every candidate was rejected (rare: all near the pivots so far); draw
        // again, unless this keeps happening, which means the residual left is
        // all rounding error.
        if (++empty_steps == 8) break;
        continue;
      }
      empty_steps = 0;
      extend(candidates, selection, k);
      for (int slot : selection.slots) result.pivots.push_back(candidates.global_row(slot));
      k += static_cast<int>(selection.slots.size());
      ++result.steps;
      masses = residual_masses(options.rule, pivot_floor);
    }
    result.rank = k;
    result.residual_trace = sum(masses.residual);
    result.factor = factor_;
    if (padded_columns(k) < capacity) {  // stopped early: give the unused columns back
      result.factor = FactorPanels<T, memory_space>(
          Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::NystromPreconditioner::factor"),
          n_pad_ / factor_row_block, padded_columns(k), factor_row_block);
      Kokkos::deep_copy(
          space_, result.factor,
          Kokkos::subview(factor_, Kokkos::ALL, std::make_pair(0, padded_columns(k)), Kokkos::ALL));
    }
    space_.fence();
    factor_ = {};
    return result;
  }

 private:
  /// One block step's candidates: where they live, then (after exchange) their
  /// data, replicated. Row `slot` of `data` is [global row, d, point, F row].
  struct Candidates {
    int count = 0;
    std::vector<int> owner;
    std::vector<std::int64_t> global;  ///< greedy: the global row
    std::vector<double> mass_offset;   ///< drawn: where the draw falls on the owner
    double outside = -1;               ///< greedy: the largest d not among the candidates,
    std::int64_t outside_row = std::numeric_limits<std::int64_t>::max();  ///< and its row
    int width = 0;
    std::vector<double> data;

    std::int64_t global_row(int slot) const {
      return static_cast<std::int64_t>(data[std::size_t(slot) * width]);
    }
    double residual(int slot) const { return data[std::size_t(slot) * width + 1]; }
    const double* point(int slot) const { return &data[std::size_t(slot) * width + 2]; }
  };

  /// The accepted candidates and the Cholesky factor R of their residual matrix.
  struct Selection {
    std::vector<int> slots;
    std::vector<double> R;  ///< t x t, row-major, lower
  };

  static double sum(const std::vector<double>& values) {
    return std::accumulate(values.begin(), values.end(), 0.0);
  }

  int owner_of(std::int64_t global_row) const {
    return static_cast<int>(std::upper_bound(offsets_.begin() + 1, offsets_.end(), global_row) -
                            (offsets_.begin() + 1));
  }

  /// Every rank's sum of d, and of the weights candidates are drawn with:
  /// d for randomly pivoted Cholesky, 1 for each row whose d is above the pivot
  /// floor for uniform (landmarks uniform among the rows not yet in the span:
  /// no draws wasted on pivots or their duplicates).
  struct Masses {
    std::vector<double> residual, sampling;
  };

  /// Collective (one MPI_Allgather). The same on every rank, summed in rank
  /// order. Also leaves d on the host, and the running sum of the weights.
  Masses residual_masses(PivotRule rule, double floor) {
    Kokkos::deep_copy(space_, d_host_, d_);
    space_.fence();
    double mine[2] = {0, 0};
    const bool sampled = rule != PivotRule::Greedy;
    if (sampled) cumulative_.resize(n_);
    for (std::int64_t i = 0; i < n_; ++i) {
      mine[0] += d_host_(i);
      if (!sampled) continue;
      mine[1] += rule == PivotRule::Uniform ? (d_host_(i) > floor ? 1.0 : 0.0) : d_host_(i);
      cumulative_[i] = mine[1];
    }
    std::vector<double> all(2 * std::size_t(size_));
    MPI_Allgather(mine, 2, MPI_DOUBLE, all.data(), 2, MPI_DOUBLE, comm_);
    Masses masses;
    for (int r = 0; r < size_; ++r) {
      masses.residual.push_back(all[2 * r]);
      masses.sampling.push_back(all[2 * r + 1]);
    }
    return masses;
  }

  /// Replicated: where the step's candidates are (every rank draws the same).
  Candidates draw(const PivotedCholeskyOptions& options, const std::vector<double>& masses,
                  CounterStream& stream) const {
    Candidates c;
    c.count = options.block_size;
    c.owner.resize(c.count);
    c.global.assign(c.count, -1);
    c.mass_offset.assign(c.count, 0.0);
    if (options.rule == PivotRule::Greedy) {
      draw_largest(c);
      return c;
    }
    // The rank whose share of the total weight the draw falls in; the owner
    // finds the row in its running sum (exchange).
    std::vector<double> prefix(size_ + 1, 0.0);
    std::partial_sum(masses.begin(), masses.end(), prefix.begin() + 1);
    int last = size_ - 1;  // the last rank with any weight, for draws rounded past the end
    while (last > 0 && !(masses[last] > 0)) --last;
    for (int j = 0; j < c.count; ++j) {
      const double target = stream() * prefix.back();
      int r = static_cast<int>(std::upper_bound(prefix.begin() + 1, prefix.end(), target) -
                               (prefix.begin() + 1));
      if (r >= size_) r = last;
      c.owner[j] = r;
      c.mass_offset[j] = std::max(target - prefix[r], 0.0);
    }
    return c;
  }

  /// Greedy: the count largest d over all ranks (ties: the lower global row), and
  /// the largest one after them.
  void draw_largest(Candidates& c) const {
    const int wanted = c.count + 1;
    using Entry = std::pair<double, std::int64_t>;  // (d, global row)
    auto before = [](const Entry& a, const Entry& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    std::vector<Entry> local;
    local.reserve(n_);
    for (std::int64_t i = 0; i < n_; ++i) {
      if (d_host_(i) > 0) local.emplace_back(d_host_(i), offsets_[rank_] + i);
    }
    const std::size_t keep = std::min<std::size_t>(local.size(), wanted);
    std::partial_sort(local.begin(), local.begin() + keep, local.end(), before);
    std::vector<double> mine(2 * wanted, -1.0), all(2 * std::size_t(wanted) * size_);
    for (std::size_t e = 0; e < keep; ++e) {
      mine[2 * e] = local[e].first;
      mine[2 * e + 1] = static_cast<double>(local[e].second);
    }
    MPI_Allgather(mine.data(), 2 * wanted, MPI_DOUBLE, all.data(), 2 * wanted, MPI_DOUBLE, comm_);
    std::vector<Entry> merged;
    for (std::size_t e = 0; e < all.size(); e += 2) {
      if (all[e] > 0) merged.emplace_back(all[e], static_cast<std::int64_t>(all[e + 1]));
    }
    std::sort(merged.begin(), merged.end(), before);
    c.count = std::min<int>(c.count, static_cast<int>(merged.size()));
    c.owner.resize(c.count);
    c.global.resize(c.count);
    for (int j = 0; j < c.count; ++j) {
      c.global[j] = merged[j].second;
      c.owner[j] = owner_of(c.global[j]);
    }
    if (static_cast<int>(merged.size()) > c.count) {
      c.outside = merged[c.count].first;
      c.outside_row = merged[c.count].second;
    } else {
      c.outside = 0;  // nothing left outside the candidates
    }
  }

  /// Collective: every rank gets every candidate's row of data.
  void exchange(Candidates& c, int k) {
    c.width = 2 + dim_ + k;
    using Owned = Kokkos::View<std::int64_t* [2], memory_space>;
    std::vector<std::pair<std::int64_t, std::int64_t>> mine;  // (slot, local row)
    for (int j = 0; j < c.count; ++j) {
      if (c.owner[j] != rank_) continue;
      std::int64_t local = 0;
      if (c.global[j] >= 0) {
        local = c.global[j] - offsets_[rank_];
      } else {
        // The first row whose running sum of weights passes the draw.
        local = std::upper_bound(cumulative_.begin(), cumulative_.end(), c.mass_offset[j]) -
                cumulative_.begin();
        while (local > 0 &&
               (local >= n_ || !(cumulative_[local] > (local ? cumulative_[local - 1] : 0))))
          --local;
      }
      mine.emplace_back(j, local);
    }
    Owned owned(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::NystromPreconditioner::owned"),
        mine.size());
    auto owned_host = Kokkos::create_mirror_view(owned);
    for (std::size_t o = 0; o < mine.size(); ++o) {
      owned_host(o, 0) = mine[o].first;
      owned_host(o, 1) = mine[o].second;
    }
    Kokkos::deep_copy(space_, owned, owned_host);
    Kokkos::View<double*, memory_space> buffer("kinterp::NystromPreconditioner::candidates",
                                               std::size_t(c.count) * c.width);
    Kokkos::parallel_for(
        "kinterp::NystromPreconditioner::pack_candidates",
        Kokkos::RangePolicy<ExecutionSpace>(space_, 0, static_cast<int>(mine.size())),
        PackCandidates<T, memory_space>{owned, points_, factor_, d_, buffer, offsets_[rank_],
                                        c.width, dim_, k});
    auto buffer_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), buffer);
    c.data.assign(buffer_host.data(), buffer_host.data() + buffer_host.extent(0));
    MPI_Allreduce(MPI_IN_PLACE, c.data.data(), static_cast<int>(c.data.size()), MPI_DOUBLE, MPI_SUM,
                  comm_);
  }

  /// K(x_a, x_b) - F(a, :) F(b, :)^T for two candidates.
  double residual_entry(const Candidates& c, int a, int b, int k) const {
    double r2 = 0;
    for (int e = 0; e < dim_; ++e) {
      const double diff = c.point(a)[e] - c.point(b)[e];
      r2 += diff * diff;
    }
    const double* fa = c.point(a) + dim_;
    const double* fb = c.point(b) + dim_;
    double dot = 0;
    for (int p = 0; p < k; ++p) dot += fa[p] * fb[p];
    return variance_ * kernel_(r2) - dot;
  }

  /// Replicated (no messages): accept candidates in turn while keeping the
  /// Cholesky factor of the accepted ones' residual matrix, at most `cap`.
  Selection select(PivotRule rule, const Candidates& c, int k, int cap, double floor,
                   CounterStream& stream) const {
    Selection s;
    const int b = c.count;
    // Column a of `L` is the Cholesky column of the a-th accepted candidate, for
    // every candidate; `h` the candidates' residuals given the accepted ones.
    std::vector<double> L(std::size_t(b) * cap, 0.0), h(b);
    for (int j = 0; j < b; ++j) h[j] = c.residual(j);
    std::vector<bool> taken(b, false);
    auto accept = [&](int j) {
      const int a = static_cast<int>(s.slots.size());
      const double pivot = std::sqrt(h[j]);
      for (int i = 0; i < b; ++i) {
        double value = 0;
        if (i == j) {
          value = pivot;
        } else if (!taken[i]) {
          value = residual_entry(c, i, j, k);
          for (int e = 0; e < a; ++e) value -= L[i * cap + e] * L[j * cap + e];
          value /= pivot;
        }
        L[i * cap + a] = value;
        h[i] -= value * value;
      }
      taken[j] = true;
      s.slots.push_back(j);
    };
    auto is_duplicate = [&](int j) {
      for (int i : s.slots)
        if (c.global_row(i) == c.global_row(j)) return true;
      return false;
    };

    if (rule == PivotRule::Greedy) {
      while (static_cast<int>(s.slots.size()) < cap) {
        int best = -1;
        for (int j = 0; j < b; ++j) {
          if (taken[j]) continue;
          if (best < 0 || h[j] > h[best] ||
              (h[j] == h[best] && c.global_row(j) < c.global_row(best)))
            best = j;
        }
        if (best < 0 || !(h[best] > floor)) break;
        // The one-at-a-time greedy pivot only if no row outside can beat it:
        // their residuals are at most what they were, at most `outside`.
        const bool beats_outside =
            h[best] > c.outside || (h[best] == c.outside && c.global_row(best) < c.outside_row);
        if (!beats_outside) break;
        accept(best);
      }
    } else {
      for (int j = 0; j < b && static_cast<int>(s.slots.size()) < cap; ++j) {
        const double u = rule == PivotRule::RandomlyPivotedCholesky ? stream() : 0.0;
        if (is_duplicate(j) || !(h[j] > floor)) continue;
        if (rule == PivotRule::RandomlyPivotedCholesky && !(u * c.residual(j) < h[j])) continue;
        accept(j);
      }
    }
    const int t = static_cast<int>(s.slots.size());
    s.R.assign(std::size_t(t) * t, 0.0);
    for (int a = 0; a < t; ++a)
      for (int e = 0; e <= a; ++e) s.R[a * t + e] = L[s.slots[a] * cap + e];
    return s;
  }

  /// Appends the t accepted columns to this rank's rows of F and updates d.
  void extend(const Candidates& c, const Selection& s, int k) {
    using Matrix = Kokkos::View<double**, Kokkos::LayoutRight, memory_space>;
    const int t = static_cast<int>(s.slots.size());
    const int t_pad = (t + factor_column_block - 1) / factor_column_block * factor_column_block;
    Matrix points("kinterp::NystromPreconditioner::pivot_points", t, dim_);
    Matrix rows("kinterp::NystromPreconditioner::pivot_rows", k, t_pad);
    Matrix R("kinterp::NystromPreconditioner::pivot_cholesky", t, t);
    auto points_host = Kokkos::create_mirror_view(points);
    auto rows_host = Kokkos::create_mirror_view(rows);
    auto R_host = Kokkos::create_mirror_view(R);
    std::vector<std::int64_t> owned_pivots;
    for (int a = 0; a < t; ++a) {
      const int slot = s.slots[a];
      for (int e = 0; e < dim_; ++e) points_host(a, e) = c.point(slot)[e];
      for (int p = 0; p < k; ++p) rows_host(p, a) = c.point(slot)[dim_ + p];
      for (int e = 0; e <= a; ++e) R_host(a, e) = s.R[a * t + e];
      if (c.owner[slot] == rank_) owned_pivots.push_back(c.global_row(slot) - offsets_[rank_]);
    }
    Kokkos::deep_copy(space_, points, points_host);
    Kokkos::deep_copy(space_, rows, rows_host);
    Kokkos::deep_copy(space_, R, R_host);
    Kokkos::parallel_for(
        "kinterp::NystromPreconditioner::extend_factor",
        Kokkos::RangePolicy<ExecutionSpace>(space_, 0, n_pad_ / factor_row_block),
        ExtendFactor<T, Kernel, memory_space>{factor_, points_, d_, points, rows, R, kernel_,
                                              variance_, n_, dim_, k, t});
    Kokkos::View<std::int64_t*, memory_space> zero("kinterp::NystromPreconditioner::pivots",
                                                   owned_pivots.size());
    auto zero_host = Kokkos::create_mirror_view(zero);
    for (std::size_t j = 0; j < owned_pivots.size(); ++j) zero_host(j) = owned_pivots[j];
    Kokkos::deep_copy(space_, zero, zero_host);
    Kokkos::parallel_for(
        "kinterp::NystromPreconditioner::zero_pivot_residuals",
        Kokkos::RangePolicy<ExecutionSpace>(space_, 0, static_cast<int>(owned_pivots.size())),
        ZeroEntries<memory_space>{d_, zero});
    space_.fence();  // the host mirrors copied from go out of scope here
  }

  MPI_Comm comm_;
  int rank_, size_;
  ExecutionSpace space_;
  Kernel kernel_;
  double variance_;
  ConstMatrix points_;
  std::int64_t n_, n_pad_;
  int dim_;
  std::vector<std::int64_t> offsets_;  ///< global row of every rank's first row; last: N
  FactorPanels<T, memory_space> factor_;
  Kokkos::View<double*, memory_space> d_;
  typename Kokkos::View<double*, memory_space>::HostMirror d_host_;
  std::vector<double> cumulative_;
};

}  // namespace kinterp::detail
