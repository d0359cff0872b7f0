#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/core/detail/FiniteRows.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/kernels/RadialKernels.hpp>
#include <kinterp/precond/VecchiaPreconditioner.hpp>

#include "Checks.hpp"
#include "ConditioningSets.hpp"
#include "Halo.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <sstream>

namespace kinterp {

/// The factor's rows for this rank's block of n points. Columns index the
/// block's points, then the halo's copies of other ranks' points.
template <class T>
struct VecchiaPreconditioner<T>::Storage {
  using Offsets = Kokkos::View<std::int64_t*, memory_space>;
  using Columns = Kokkos::View<std::int32_t*, memory_space>;
  using Values = Kokkos::View<T*, memory_space>;
  /// B's rows: b_i on c(i) (B = I - these), and the same entries by column
  /// (n + halo columns).
  Offsets offsets, transpose_offsets;
  Columns columns, transpose_columns;
  Values values, transpose_values;
  Values inverse_d;
  detail::Halo halo;
  std::vector<std::int64_t> global_rows;  // of the block's points and the halo's
  std::vector<std::int32_t> order;        // the block's points in the order
  std::vector<int> level;                 // of the block's points
};

namespace {

/// Not collective: what is wrong with the parameters, or "".
std::string check_parameters(const KernelSpec& kernel, double alpha, const VecchiaOptions& options,
                             int d) {
  const std::string common = detail::kernel_and_ridge_problem(kernel, alpha, "Vecchia");
  if (!common.empty()) return common;
  std::ostringstream problem;
  if (options.neighbors < 1) {
    problem << "VecchiaOptions::neighbors (the most points each conditional is taken on) must be "
               ">= 1, got "
            << options.neighbors << " (30 is a good start)";
  } else if (d < 1 || d > 3) {
    problem
        << "the Vecchia preconditioner orders points on grids in 1-3 dimensions, but the points "
           "have "
        << d << " coordinates: use the Nystrom preconditioner (--precond rpcholesky)";
  }
  return problem.str();
}

/// b_i and d_i for every point of the block from its set (nearest first);
/// a set is cut where Theta(c, c) stops being numerically positive definite
/// (repeated points at a tiny alpha), so sets[i] may shrink. Host, threads.
template <class Points>
std::vector<double> conditionals(const KernelSpec& kernel, double alpha, const Points& x, int d,
                                 detail::ConditioningSets& sets, std::vector<double>& b) {
  using host = Kokkos::DefaultHostExecutionSpace;
  const std::int64_t n = static_cast<std::int64_t>(sets.offsets.size()) - 1;
  std::vector<double> conditional(n);
  std::vector<std::int64_t> kept(n);
  b.assign(sets.members.size(), 0.0);
  visit_kernel<double, true>(kernel, [&](const auto phi) {
    const double variance = kernel.variance;
    const auto theta = [&](std::int64_t i, std::int64_t j) {
      double r2 = 0;
      for (int a = 0; a < d; ++a) {
        const double diff = x(i, a) - x(j, a);
        r2 += diff * diff;
      }
      return variance * phi(r2) + (i == j ? alpha : 0.0);
    };
    const std::int64_t chunks = (n + 63) / 64;
    Kokkos::parallel_for("kinterp::Vecchia::conditionals", Kokkos::RangePolicy<host>(0, chunks),
                         [&](const std::int64_t chunk) {
                           std::vector<double> L, rhs;
                           for (std::int64_t i = 64 * chunk; i < std::min(n, 64 * (chunk + 1));
                                ++i) {
                             const std::int64_t first = sets.offsets[i];
                             const int size = static_cast<int>(sets.offsets[i + 1] - first);
                             const std::int32_t* c = &sets.members[first];
                             L.assign(std::size_t(size) * size, 0.0);
                             rhs.resize(size);
                             // Cholesky of Theta(c, c) column by column, stopping at a pivot
                             // lost to rounding.
                             int m = 0;
                             for (; m < size; ++m) {
                               for (int q = 0; q <= m; ++q) {
                                 double v = theta(c[m], c[q]);
                                 for (int p = 0; p < q; ++p) v -= L[m * size + p] * L[q * size + p];
                                 if (q < m) {
                                   L[m * size + q] = v / L[q * size + q];
                                 } else if (v > 1e-12 * theta(c[m], c[m])) {
                                   L[m * size + m] = std::sqrt(v);
                                 } else {
                                   L[m * size + m] = 0;
                                 }
                               }
                               if (L[m * size + m] == 0) break;
                             }
                             // b = Theta(c, c)^-1 Theta(c, i) on the kept m; d = Theta(i, i) - b .
                             // Theta(c, i).
                             for (int p = 0; p < m; ++p) rhs[p] = theta(c[p], i);
                             double* out = &b[first];
                             for (int p = 0; p < m; ++p) {
                               double v = rhs[p];
                               for (int q = 0; q < p; ++q) v -= L[p * size + q] * out[q];
                               out[p] = v / L[p * size + p];
                             }
                             double dot = 0;
                             for (int p = 0; p < m; ++p) dot += out[p] * out[p];
                             for (int p = m - 1; p >= 0; --p) {
                               double v = out[p];
                               for (int q = p + 1; q < m; ++q) v -= L[q * size + p] * out[q];
                               out[p] = v / L[p * size + p];
                             }
                             // Theta(i,i) - |L^-1 rhs|^2, kept above rounding.
                             const double own = theta(i, i);
                             conditional[i] = std::max(own - dot, 1e-12 * own);
                             kept[i] = m;
                           }
                         });
  });
  // Drop what the cut sets lost.
  std::int64_t write = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t first = sets.offsets[i];
    sets.offsets[i] = write;
    for (std::int64_t p = 0; p < kept[i]; ++p, ++write) {
      sets.members[write] = sets.members[first + p];
      b[write] = b[first + p];
    }
  }
  sets.offsets[n] = write;
  sets.members.resize(write);
  b.resize(write);
  return conditional;
}

/// {low_0, .., low_2, -high_0, .., -high_2} of the rows (infinite when
/// there are none): boxes that one MIN combines.
template <class Rows>
std::array<double, 6> lows_and_negated_highs(const Rows& x, std::int64_t n, int d) {
  std::array<double, 6> box;
  box.fill(std::numeric_limits<double>::infinity());
  for (std::int64_t i = 0; i < n; ++i) {
    for (int a = 0; a < d; ++a) {
      box[a] = std::min(box[a], x(i, a));
      box[3 + a] = std::min(box[3 + a], -x(i, a));
    }
  }
  return box;
}

/// For every other rank, the block's points its sets may reach: a point of
/// level l goes to the ranks whose boxes lie within twice its level's
/// spacing (coarse points far, fine ones to the neighbours only), and at
/// least within the radius that holds about 2^d k points at the mean
/// density.
template <class Rows>
std::vector<std::vector<std::int32_t>> halo_requests(const Rows& x, std::int64_t n,
                                                     const detail::CoarseToFine& order,
                                                     const detail::GridBox& box,
                                                     const std::vector<double>& boxes, int k,
                                                     std::int64_t global_points, int rank) {
  const int d = box.d, size = static_cast<int>(boxes.size() / 6);
  const double volume = std::pow(box.width, d);
  const double reach =
      2 * std::pow(k * volume / double(std::max<std::int64_t>(global_points, 1)), 1.0 / d);
  std::vector<std::vector<std::int32_t>> wanted(size);
  for (std::int64_t j = 0; j < n; ++j) {
    const double limit = std::max(reach, 2 * std::sqrt(double(d)) * box.spacing(order.level[j]));
    for (int q = 0; q < size; ++q) {
      const double* other = &boxes[std::size_t(q) * 6];
      if (q == rank || !(other[0] < std::numeric_limits<double>::infinity())) continue;
      double gap2 = 0;
      for (int a = 0; a < d; ++a) {
        const double gap = std::max({other[a] - x(j, a), x(j, a) + other[3 + a], 0.0});
        gap2 += gap * gap;
      }
      if (gap2 <= limit * limit) wanted[q].push_back(static_cast<std::int32_t>(j));
    }
  }
  return wanted;
}

}  // namespace

template <class T>
VecchiaPreconditioner<T>::VecchiaPreconditioner(MPI_Comm comm, const KernelSpec& kernel,
                                                const ConstMatrix& points, double alpha,
                                                const VecchiaOptions& options)
    : comm_(comm), alpha_(alpha), local_rows_(static_cast<std::int64_t>(points.extent(0))) {
  const double start = MPI_Wtime();
  const detail::ScopedRegion region("kinterp::VecchiaPreconditioner::setup");
  const MPI_Comm c = comm_.get();
  const int d = static_cast<int>(points.extent(1));
  int widths[2] = {d, -d};
  MPI_Allreduce(MPI_IN_PLACE, widths, 2, MPI_INT, MPI_MAX, c);
  throw_if_any(c, widths[0] != -widths[1],
               "the points have between " + std::to_string(-widths[1]) + " and " +
                   std::to_string(widths[0]) +
                   " coordinates on different ranks: every rank must pass rows of the same width");
  const std::string problem = check_parameters(kernel, alpha, options, d);
  throw_if_any(c, !problem.empty(), problem);
  detail::require_finite(c, points, "points");
  const int k = options.neighbors;
  info_.neighbors = k;

  // The block of the spatial partition: its points and their global rows.
  using HostDoubles = SpatialPartition::HostRows<double>;
  using HostRowIds = SpatialPartition::HostRows<std::int64_t>;
  const auto mine = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), points);
  HostDoubles coordinates("kinterp::Vecchia::coordinates", local_rows_, d);
  HostRowIds rows("kinterp::Vecchia::rows", local_rows_, 1);
  const std::int64_t first_row = global_block(c, local_rows_).begin;
  for (std::int64_t i = 0; i < local_rows_; ++i) {
    for (int a = 0; a < d; ++a) coordinates(i, a) = static_cast<double>(mine(i, a));
    rows(i, 0) = first_row + i;
  }
  partition_ = std::make_unique<SpatialPartition>(comm_, coordinates, local_rows_, d);
  const std::int64_t n = partition_->local_count();
  HostDoubles block("kinterp::Vecchia::block", n, d);
  HostRowIds block_rows("kinterp::Vecchia::block_rows", n, 1);
  partition_->forward<double>(coordinates, block);
  partition_->forward<std::int64_t>(rows, block_rows);

  // Every block's box; the grids' box, their union; the block's order.
  const int size = comm_.size(), rank = comm_.rank();
  std::vector<double> boxes(std::size_t(size) * 6);
  const std::array<double, 6> mine_box = lows_and_negated_highs(block, n, d);
  MPI_Allgather(mine_box.data(), 6, MPI_DOUBLE, boxes.data(), 6, MPI_DOUBLE, c);
  detail::GridBox box;
  box.d = d;
  {
    double width = 0;
    for (int a = 0; a < d; ++a) {
      double low = std::numeric_limits<double>::infinity(), high = -low;
      for (int q = 0; q < size; ++q) {
        low = std::min(low, boxes[q * 6 + a]);
        high = std::max(high, -boxes[q * 6 + 3 + a]);
      }
      box.low[a] = low;
      width = std::max(width, high - low);
    }
    box.width = width > 0 ? width : 1;
  }
  const detail::CoarseToFine order = detail::coarse_to_fine(block, n, box);
  std::int64_t global_points = n;
  MPI_Allreduce(MPI_IN_PLACE, &global_points, 1, MPI_INT64_T, MPI_SUM, c);
  const auto wanted = halo_requests(block, n, order, box, boxes, k, global_points, rank);
  storage_ = std::make_unique<Storage>();
  Storage& s = *storage_;
  s.halo = detail::Halo(c, wanted);
  const std::int64_t h = s.halo.size(), total = n + h;
  throw_if_any(c, total > std::numeric_limits<std::int32_t>::max(),
               "the Vecchia preconditioner indexes a rank's points and halo with 32 bits, but a "
               "rank holds " +
                   std::to_string(total) + ": use more ranks");
  // The block's points, then the copies: coordinates, level, key, row.
  const int fields = d + 3;
  std::vector<double> own(std::size_t(n) * fields), copies(std::size_t(h) * fields);
  for (std::int64_t i = 0; i < n; ++i) {
    for (int a = 0; a < d; ++a) own[i * fields + a] = block(i, a);
    own[i * fields + d] = order.level[i];
    own[i * fields + d + 1] = static_cast<double>(order.place[i]);
    own[i * fields + d + 2] = static_cast<double>(block_rows(i, 0));
  }
  s.halo.gather(own.data(), fields, copies.data());
  HostDoubles points_all("kinterp::Vecchia::points_and_halo", total, d);
  std::vector<int> level(total);
  std::vector<std::uint64_t> key(total);
  s.global_rows.resize(total);
  for (std::int64_t i = 0; i < total; ++i) {
    const bool in_block = i < n;
    const double* row = in_block ? &own[i * fields] : &copies[(i - n) * fields];
    for (int a = 0; a < d; ++a) points_all(i, a) = row[a];
    level[i] = static_cast<int>(row[d]);
    key[i] = detail::order_key(level[i], in_block ? rank : s.halo.source(i - n),
                               static_cast<std::int64_t>(row[d + 1]));
    s.global_rows[i] = static_cast<std::int64_t>(row[d + 2]);
  }

  detail::ConditioningSets sets =
      detail::conditioning_sets(points_all, n, total, box, level, key, order.levels, k);
  std::vector<double> b;
  const std::vector<double> conditional = conditionals(kernel, alpha, points_all, d, sets, b);

  // B by rows and by columns, and D^-1, on the device.
  const std::int64_t entries = static_cast<std::int64_t>(sets.members.size());
  auto offsets =
      Kokkos::View<std::int64_t*, Kokkos::HostSpace>("kinterp::Vecchia::offsets_host", n + 1);
  auto columns =
      Kokkos::View<std::int32_t*, Kokkos::HostSpace>("kinterp::Vecchia::columns_host", entries);
  auto values = Kokkos::View<T*, Kokkos::HostSpace>("kinterp::Vecchia::values_host", entries);
  auto transpose_offsets =
      Kokkos::View<std::int64_t*, Kokkos::HostSpace>("kinterp::Vecchia::t_offsets_host", total + 1);
  auto transpose_columns =
      Kokkos::View<std::int32_t*, Kokkos::HostSpace>("kinterp::Vecchia::t_columns_host", entries);
  auto transpose_values =
      Kokkos::View<T*, Kokkos::HostSpace>("kinterp::Vecchia::t_values_host", entries);
  auto inverse_d = Kokkos::View<T*, Kokkos::HostSpace>("kinterp::Vecchia::inverse_d_host", n);
  double log_det = 0;
  for (std::int64_t i = 0; i <= n; ++i) offsets(i) = sets.offsets[i];
  for (std::int64_t p = 0; p < entries; ++p) {
    columns(p) = sets.members[p];
    values(p) = static_cast<T>(b[p]);
    ++transpose_offsets(sets.members[p] + 1);
  }
  for (std::int64_t j = 0; j < total; ++j) transpose_offsets(j + 1) += transpose_offsets(j);
  {
    std::vector<std::int64_t> next(transpose_offsets.data(), transpose_offsets.data() + total);
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t p = sets.offsets[i]; p < sets.offsets[i + 1]; ++p) {
        const std::int64_t slot = next[sets.members[p]]++;
        transpose_columns(slot) = static_cast<std::int32_t>(i);
        transpose_values(slot) = values(p);
      }
      inverse_d(i) = static_cast<T>(1 / conditional[i]);
      log_det += std::log(conditional[i]);
    }
  }
  const auto to_device = [](const auto& host) {
    return Kokkos::create_mirror_view_and_copy(memory_space(), host);
  };
  s.offsets = to_device(offsets);
  s.columns = to_device(columns);
  s.values = to_device(values);
  s.transpose_offsets = to_device(transpose_offsets);
  s.transpose_columns = to_device(transpose_columns);
  s.transpose_values = to_device(transpose_values);
  s.inverse_d = to_device(inverse_d);
  s.order.resize(n);
  for (std::int64_t i = 0; i < n; ++i) s.order[order.place[i]] = static_cast<std::int32_t>(i);
  s.level = order.level;

  double totals[2] = {log_det, static_cast<double>(entries)};
  MPI_Allreduce(MPI_IN_PLACE, totals, 2, MPI_DOUBLE, MPI_SUM, c);
  std::int64_t global_rows = local_rows_;
  MPI_Allreduce(MPI_IN_PLACE, &global_rows, 1, MPI_INT64_T, MPI_SUM, c);
  MPI_Allreduce(&order.levels, &info_.levels, 1, MPI_INT, MPI_MAX, c);
  MPI_Allreduce(&h, &info_.halo_points, 1, MPI_INT64_T, MPI_SUM, c);
  log_determinant_ = totals[0];
  info_.mean_set_size = global_rows > 0 ? totals[1] / static_cast<double>(global_rows) : 0;
  info_.bytes_per_rank = std::size_t(entries) * 2 * (sizeof(std::int32_t) + sizeof(T)) +
                         std::size_t(n + 1 + total + 1) * sizeof(std::int64_t) +
                         std::size_t(n) * (sizeof(T) + 2 * sizeof(std::int32_t)) +
                         std::size_t(total) * sizeof(std::int64_t) +
                         s.halo.sent().size() * sizeof(std::int32_t) +
                         std::size_t(local_rows_) * sizeof(std::int64_t);
  info_.setup_seconds = MPI_Wtime() - start;
}

template <class T>
VecchiaPreconditioner<T>::~VecchiaPreconditioner() = default;

template <class T>
void VecchiaPreconditioner<T>::apply(const ConstMatrix& r, const Matrix& z) const {
  const detail::ScopedRegion region("kinterp::VecchiaPreconditioner::apply");
  detail::require_preconditioner_shapes(comm_.get(), "Vecchia preconditioner", local_rows_, r, z);
  const int m = static_cast<int>(r.extent(1));
  const std::int64_t n = partition_->local_count();
  const Storage& s = *storage_;
  const std::int64_t total = n + s.halo.size();
  using HostRows = SpatialPartition::HostRows<T>;

  // r at the block's points and at the halo's copies.
  const auto r_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), r);
  HostRows extended(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::Vecchia::r"), total,
                    m);
  partition_->forward<T>(
      r_host, Kokkos::subview(extended, std::make_pair(std::int64_t(0), n), Kokkos::ALL));
  s.halo.gather(extended.data(), m, extended.data() + n * m);
  const auto r_all = Kokkos::create_mirror_view_and_copy(memory_space(), extended);

  // y = D^-1 B r on the block; t = (B - I)^T y at every column, block and halo.
  Matrix y(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::Vecchia::y"), n, m);
  const auto offsets = s.offsets;
  const auto columns = s.columns;
  const auto values = s.values;
  const auto inverse_d = s.inverse_d;
  Kokkos::parallel_for(
      "kinterp::VecchiaPreconditioner::B", Kokkos::RangePolicy<execution_space>(0, n),
      KOKKOS_LAMBDA(const std::int64_t i) {
        for (int c = 0; c < m; ++c) {
          T v = r_all(i, c);
          for (std::int64_t p = offsets(i); p < offsets(i + 1); ++p)
            v -= values(p) * r_all(columns(p), c);
          y(i, c) = inverse_d(i) * v;
        }
      });
  const auto t_offsets = s.transpose_offsets;
  const auto t_columns = s.transpose_columns;
  const auto t_values = s.transpose_values;
  const Matrix t(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::Vecchia::t"), total, m);
  Kokkos::parallel_for(
      "kinterp::VecchiaPreconditioner::B_transpose", Kokkos::RangePolicy<execution_space>(0, total),
      KOKKOS_LAMBDA(const std::int64_t j) {
        for (int c = 0; c < m; ++c) {
          T v = j < n ? y(j, c) : T(0);
          for (std::int64_t p = t_offsets(j); p < t_offsets(j + 1); ++p)
            v -= t_values(p) * y(t_columns(p), c);
          t(j, c) = v;
        }
      });
  // The halo's sums go back to their owners, added in a fixed order.
  const auto t_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), t);
  const std::vector<T> back = s.halo.return_to_owners(t_host.data() + n * m, m);
  const std::vector<std::int32_t>& sent = s.halo.sent();
  for (std::size_t e = 0; e < sent.size(); ++e)
    for (int c = 0; c < m; ++c) t_host(sent[e], c) += back[e * m + c];
  const auto z_host = Kokkos::create_mirror_view(Kokkos::HostSpace(), z);
  partition_->backward<T>(Kokkos::subview(t_host, std::make_pair(std::int64_t(0), n), Kokkos::ALL),
                          z_host);
  Kokkos::deep_copy(z, z_host);
}

template <class T>
void VecchiaPreconditioner<T>::correlate(const ConstMatrix& g, const Matrix& b) const {
  const detail::ScopedRegion region("kinterp::VecchiaPreconditioner::correlate");
  detail::require_preconditioner_shapes(comm_.get(), "Vecchia preconditioner", local_rows_, g, b);
  const int m = static_cast<int>(g.extent(1));
  const std::int64_t n = partition_->local_count();
  const Storage& s = *storage_;
  using HostRows = SpatialPartition::HostRows<T>;
  const auto g_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), g);
  HostRows x("kinterp::Vecchia::x", n + s.halo.size(), m);
  partition_->forward<T>(g_host,
                         Kokkos::subview(x, std::make_pair(std::int64_t(0), n), Kokkos::ALL));
  const auto offsets = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.offsets);
  const auto columns = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.columns);
  const auto values = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.values);
  const auto inverse_d = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.inverse_d);
  // B x = D^1/2 g along the order (level, rank, place): level by level, rank
  // by rank, each rank's turn followed by a halo update, so that every x_j
  // of a set is final when it is used.
  std::size_t next = 0;  // into s.order, whose levels ascend
  for (int level = 0; level < info_.levels; ++level) {
    for (int turn = 0; turn < comm_.size(); ++turn) {
      if (turn == comm_.rank()) {
        for (; next < s.order.size() && s.level[s.order[next]] == level; ++next) {
          const std::int32_t i = s.order[next];
          const T root = static_cast<T>(1 / std::sqrt(static_cast<double>(inverse_d(i))));
          for (int c = 0; c < m; ++c) {
            T v = root * x(i, c);
            for (std::int64_t p = offsets(i); p < offsets(i + 1); ++p)
              v += values(p) * x(columns(p), c);
            x(i, c) = v;
          }
        }
      }
      s.halo.gather(x.data(), m, x.data() + n * m);
    }
  }
  const auto b_host = Kokkos::create_mirror_view(Kokkos::HostSpace(), b);
  partition_->backward<T>(Kokkos::subview(x, std::make_pair(std::int64_t(0), n), Kokkos::ALL),
                          b_host);
  Kokkos::deep_copy(b, b_host);
}

template <class T>
typename VecchiaPreconditioner<T>::HostFactor VecchiaPreconditioner<T>::factor() const {
  const Storage& s = *storage_;
  HostFactor f;
  f.rows.assign(s.global_rows.begin(), s.global_rows.begin() + s.inverse_d.extent(0));
  const auto offsets = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.offsets);
  const auto columns = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.columns);
  const auto values = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.values);
  const auto inverse_d = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), s.inverse_d);
  f.offsets.assign(offsets.data(), offsets.data() + offsets.extent(0));
  for (std::size_t p = 0; p < columns.extent(0); ++p) {
    f.set.push_back(s.global_rows[columns(p)]);
    f.b.push_back(values(p));
  }
  for (std::size_t i = 0; i < inverse_d.extent(0); ++i) f.d.push_back(1 / double(inverse_d(i)));
  return f;
}

template class VecchiaPreconditioner<float>;
template class VecchiaPreconditioner<double>;

}  // namespace kinterp
