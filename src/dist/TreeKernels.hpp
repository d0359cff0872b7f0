#pragma once
// TreeKernelProduct's definitions, instantiated once per precision in
// TreeKernelsFloat.cpp and TreeKernelsDouble.cpp (the nine families' tree
// sums in three dimensions are a long compile).

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/dist/TargetRing.hpp>
#include <kinterp/dist/TreeKernelProduct.hpp>
#include <kinterp/kernels/RadialKernels.hpp>
#include <kinterp/tree/ProxyCharges.hpp>

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <type_traits>
#include <vector>

namespace kinterp {

namespace detail {
/// Targets per batch: a few SIMD register blocks; small enough that the
/// batch's box stays tight.
inline constexpr int tree_batch_size = 128;

/// The rows of a rank-2 View on the host, read as rows(i, k): the View itself
/// where it is in host memory, else a copy.
template <class View>
auto host_rows(const View& rows) {
  return Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), rows);
}
/// out(order(j), :) += partial(j, :): another rank's sums for this rank's
/// targets, in their tree order. A functor, not a KOKKOS_LAMBDA: nvcc rejects
/// extended lambdas in private member functions.
template <class T, class MemorySpace, class Partial>
struct AddPartial {
  LocalMatrix<T> out;
  Kokkos::View<int*, MemorySpace> order;
  Partial partial;
  int columns;
  KOKKOS_INLINE_FUNCTION void operator()(const int j) const {
    for (int c = 0; c < columns; ++c) out(order(j), c) += partial(j, c);
  }
};

/// carried(b, c) = block[b * columns + c]: the pools another rank's batches
/// carry, widened to double.
template <class T, class MemorySpace>
struct ReadCarried {
  Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace> carried;
  const T* block;
  int columns;
  KOKKOS_INLINE_FUNCTION void operator()(const int b) const {
    for (int c = 0; c < columns; ++c) carried(b, c) = block[std::size_t(b) * columns + c];
  }
};
}  // namespace detail

template <class T>
template <class Rows>
TreeBatches<T, typename TreeKernelProduct<T>::MemorySpace> TreeKernelProduct<T>::target_batches(
    const Rows& rows) const {
  const auto host = detail::host_rows(rows);
  return TreeBatches<T, MemorySpace>::build(host, static_cast<int>(rows.extent(0)),
                                            static_cast<int>(rows.extent(1)), info_.batch_size);
}

template <class T>
TreeKernelProduct<T>::TreeKernelProduct(MPI_Comm comm, const KernelSpec& kernel,
                                        const LocalMatrix<const T>& sources,
                                        const TreeOptions& options)
    : kernel_(kernel), comm_(comm), sources_(sources) {
  const double start = MPI_Wtime();
  const MPI_Comm own = comm_.get();
  const int d = static_cast<int>(sources.extent(1));
  int dims[2] = {d, -d};
  MPI_Allreduce(MPI_IN_PLACE, dims, 2, MPI_INT, MPI_MAX, own);
  if (dims[0] != -dims[1]) {
    throw Error("tree product: the source points have between " + std::to_string(-dims[1]) +
                " and " + std::to_string(dims[0]) +
                " coordinates on different ranks; every rank must pass the same number");
  }
  // The settings first (the same on every rank), then the points.
  agree_on_errors(own, [&] {
    rule_ = FarFieldRule::make<T>(kernel, options.tolerance, std::clamp(d, 1, max_tree_dim),
                                  options.degree);
    if (options.leaf_size < 0 || options.batch_size < 0) {
      throw Error("tree product: the leaf and batch sizes must be positive (or 0: chosen)");
    }
    if (d < 1 || d > max_tree_dim) {
      throw Error("tree product: the points have " + std::to_string(d) +
                  " coordinates; the tree takes 1, 2 or 3 (use the direct product)");
    }
  });
  int proxies = 1;
  for (int k = 0; k < d; ++k) proxies *= rule_.degree + 1;
  info_.tolerance = options.tolerance;
  info_.degree = rule_.degree;
  info_.leaf_size = options.leaf_size > 0 ? options.leaf_size : std::clamp(proxies, 32, 512);
  info_.batch_size = options.batch_size > 0 ? options.batch_size : detail::tree_batch_size;
  // This rank's block of the spatial partition, on the host: it serves the
  // tree, the batches and the sample below.
  SpatialPartition::HostRows<const T> points = detail::host_rows(sources);
  if (comm_.size() > 1) {
    partition_.emplace(comm_, points, static_cast<std::int64_t>(sources.extent(0)), d);
    SpatialPartition::HostRows<T> moved(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::TreeKernelProduct::points"),
        partition_->local_count(), d);
    partition_->forward<T>(points, moved);
    points = moved;
  }
  const int n = static_cast<int>(points.extent(0));
  tree_ = ClusterTree<T, MemorySpace>::build(points, n, d, info_.leaf_size, rule_.degree);
  at_sources_ = TreeBatches<T, MemorySpace>::build(points, n, d, info_.batch_size);
  info_.depth = tree_.depth;
  info_.bytes = tree_.bytes() + at_sources_.tree.bytes();
  info_.setup_seconds = MPI_Wtime() - start;

  // The work per target, from a product at a sample of the sources: whole
  // batches (every k-th), so that the sample's batches are as compact as
  // the solve's.
  std::vector<int> picked;
  {
    const auto begin =
        Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), at_sources_.tree.begin);
    const auto end = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), at_sources_.tree.end);
    const auto leaves =
        Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), at_sources_.leaves);
    const auto order =
        Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), at_sources_.tree.order);
    const int count = n > 0 ? static_cast<int>(leaves.extent(0)) : 0;
    const int step = std::max(1, count * info_.batch_size / 1024);
    for (int b = 0; b < count; b += step) {
      for (int j = begin(leaves(b)); j < end(leaves(b)); ++j) picked.push_back(order(j));
    }
  }
  const auto sampled = static_cast<std::int64_t>(picked.size());
  LocalMatrix<T> rows(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::TreeKernelProduct::sample"),
      sampled, d);
  {
    const auto host = Kokkos::create_mirror_view(rows);
    for (std::int64_t i = 0; i < sampled; ++i)
      for (int k = 0; k < d; ++k) host(i, k) = points(picked[i], k);
    Kokkos::deep_copy(rows, host);
  }
  LocalMatrix<T> ones("kinterp::TreeKernelProduct::ones", sources.extent(0), 1),
      out("kinterp::TreeKernelProduct::out", sampled, 1);
  Kokkos::deep_copy(ones, T(1));
  apply(Kokkos::DefaultExecutionSpace(), rows, ones, out);
  info_.sampled_pairs_per_target = last_work_.pairs_per_target();
  info_.imbalance = last_work_.imbalance();
}

template <class T>
std::string TreeKernelProduct<T>::description() const {
  char text[200];
  std::snprintf(text, sizeof text,
                "tree (eps %g, degree %d, leaves of %d, %.3g kernel values per target at set-up",
                info_.tolerance, info_.degree, info_.leaf_size, info_.sampled_pairs_per_target);
  std::string description = text;
  if (comm_.size() > 1) {
    std::snprintf(text, sizeof text, ", work imbalance %.2f over %d ranks", info_.imbalance,
                  comm_.size());
    description += text;
  }
  return description + ")";
}

template <class T>
RingTimings TreeKernelProduct<T>::apply(const Kokkos::DefaultExecutionSpace& space,
                                        const LocalMatrix<const T>& targets,
                                        const LocalMatrix<const T>& weights,
                                        const LocalMatrix<T>& out) const {
  const detail::ScopedRegion region("kinterp::TreeKernelProduct::apply");
  const double start = MPI_Wtime();
  const int columns = detail::check_product_shapes(comm_, static_cast<int>(sources_.extent(1)),
                                                   this->local_count(), targets, weights, out);
  // The targets' batches: kept for the sources, built for other targets.
  const bool at_sources =
      targets.data() == sources_.data() && targets.extent(0) == sources_.extent(0);
  std::optional<TreeBatches<T, MemorySpace>> own_batches;
  if (!at_sources) own_batches = target_batches(targets);
  const TreeBatches<T, MemorySpace>& batches = at_sources ? at_sources_ : *own_batches;
  if (!partition_) return apply_batches(space, batches, weights, out);

  // On more ranks the weights go where the tree holds their sources, and
  // sums at the sources come back from there.
  const auto move = [&](const auto& from, const LocalMatrix<T>& to, bool forward) {
    const auto host_from = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), from);
    const auto host_to = Kokkos::create_mirror_view(to);
    if (forward) {
      partition_->forward<T>(host_from, host_to);
    } else {
      partition_->backward<T>(host_from, host_to);
    }
    Kokkos::deep_copy(to, host_to);
  };
  const std::int64_t held = partition_->local_count();
  const auto alloc = [](const char* label) {
    return Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(label));
  };
  const LocalMatrix<T> moved(alloc("kinterp::TreeKernelProduct::weights"), held, columns);
  move(weights, moved, true);
  double moving = MPI_Wtime() - start;
  RingTimings timings;
  if (at_sources) {
    const LocalMatrix<T> sums(alloc("kinterp::TreeKernelProduct::sums"), held, columns);
    timings = apply_batches(space, batches, moved, sums);
    const double back = MPI_Wtime();
    move(sums, out, false);
    moving += MPI_Wtime() - back;
  } else {
    timings = apply_batches(space, batches, moved, out);
  }
  timings.wait += moving;
  timings.total = MPI_Wtime() - start;
  return timings;
}

template <class T>
RingTimings TreeKernelProduct<T>::apply_batches(const Kokkos::DefaultExecutionSpace& space,
                                                const TreeBatches<T, MemorySpace>& batches,
                                                const LocalMatrix<const T>& weights,
                                                const LocalMatrix<T>& out) const {
  using ExecutionSpace = Kokkos::DefaultExecutionSpace;
  const double start = MPI_Wtime();
  const int d = static_cast<int>(sources_.extent(1));
  const int columns = static_cast<int>(weights.extent(1));
  Kokkos::deep_copy(space, out, T(0));
  const auto charges = make_proxy_charges(space, tree_, weights);
  space.fence();  // so that the charges' time is theirs, not the sums'
  const double charged = MPI_Wtime() - start;
  double prepare = charged;

  // This rank's block: the batches' sizes, the pools they carry (below),
  // then their points, in tree order.
  const int targets = batches.tree.count;
  const auto packing =
      targets > 0 ? batches.packing() : typename TreeBatches<T, MemorySpace>::Packing{};
  const auto batch_count = static_cast<std::int64_t>(packing.batches.size());
  const auto length = [&](std::int64_t points, std::int64_t count) {
    return count * (1 + columns) + points * d;
  };
  const TargetRing<T, ExecutionSpace> ring(comm_, targets, length(targets, batch_count), columns,
                                           2);
  const auto batches_of = [&](int rank) {
    return static_cast<int>((ring.values(rank) - length(ring.targets(rank), 0)) / (1 + columns));
  };
  int most = 0;
  for (int r = 0; r < comm_.size(); ++r) most = std::max(most, batches_of(r));
  Kokkos::View<double* [2], MemorySpace> work("kinterp::TreeKernelProduct::work", most);
  const auto sum = [&](const TreeBatches<T, MemorySpace>& b, const LocalMatrix<T>& into,
                       const detail::PoolCarry<MemorySpace>& pool) {
    if (b.tree.count == 0 || tree_.count == 0) return;
    visit_kernel<T>(kernel_, [&](const auto& k) {
      tree_kernel_sum(space, k, static_cast<T>(kernel_.variance), rule_, b, tree_, charges, into,
                      work, pool);
    });
  };

  // This rank's sums first: what their pools leave unspent is shared out
  // among the other ranks' walks of the same targets, which then may leave
  // out far clusters against the targets' whole sum (TreeWalk.hpp).
  const int others = comm_.size() - 1;
  detail::PoolCarry<MemorySpace> own_pool;
  own_pool.unspent = decltype(own_pool.unspent)("kinterp::TreeKernelProduct::unspent",
                                                others > 0 ? batch_count : 0, columns);
  sum(batches, out, own_pool);
  space.fence();
  const double own_seconds = MPI_Wtime() - start - charged;
  std::vector<T> head(std::size_t(batch_count) * (1 + columns));
  if (others > 0 && batch_count > 0) {
    const auto unspent = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), own_pool.unspent);
    for (std::int64_t i = 0; i < batch_count; ++i) {
      head[i] = static_cast<T>(packing.sizes[i]);
      for (int c = 0; c < columns; ++c) {
        // Rounded down: no walk may spend more than was left.
        const double share = unspent(packing.batches[i], c) / others;
        T value = static_cast<T>(share);
        if (value > share) value = std::nextafter(value, T(0));
        head[batch_count + i * columns + c] = value;
      }
    }
  }
  using Buffer = typename TargetRing<T, ExecutionSpace>::Buffer;
  const auto pack = [&](const Buffer& block) {
    const auto count = static_cast<std::int64_t>(head.size());
    Kokkos::deep_copy(space, Kokkos::subview(block, Kokkos::make_pair(std::int64_t(0), count)),
                      Kokkos::View<const T*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(
                          head.data(), head.size()));
    Kokkos::deep_copy(
        space, Kokkos::subview(block, Kokkos::make_pair(count, length(targets, batch_count))),
        batches.tree.points);
  };
  const auto visit = [&](int origin, const T* block, const LocalMatrix<T>& partial) {
    const int n = static_cast<int>(ring.targets(origin));
    if (!block || n == 0) return;
    const double unpacking = MPI_Wtime();
    const int count = batches_of(origin);
    const auto passing = TreeBatches<T, MemorySpace>::unpack(
        space, block, count, block + std::int64_t(count) * (1 + columns), n, d);
    detail::PoolCarry<MemorySpace> pool;
    const Kokkos::View<double**, Kokkos::LayoutRight, MemorySpace> carried(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::TreeKernelProduct::carried"),
        count, columns);
    Kokkos::parallel_for("kinterp::TreeKernelProduct::carried",
                         Kokkos::RangePolicy<ExecutionSpace>(space, 0, count),
                         detail::ReadCarried<T, MemorySpace>{carried, block + count, columns});
    pool.carried = carried;
    space.fence();
    prepare += MPI_Wtime() - unpacking;
    sum(passing, partial, pool);
    space.fence();  // the passing batches are freed next
  };
  const auto receive = [&](const auto& partial) {
    Kokkos::parallel_for("kinterp::TreeKernelProduct::receive",
                         Kokkos::RangePolicy<ExecutionSpace>(space, 0, targets),
                         detail::AddPartial<T, MemorySpace, std::decay_t<decltype(partial)>>{
                             out, batches.tree.order, partial, columns});
  };
  RingTimings timings = ring.circulate(space, pack, visit, receive);
  timings.prepare = prepare;
  timings.compute += charged + own_seconds;
  timings.total = MPI_Wtime() - start;

  double totals[3] = {static_cast<double>(targets), 0, 0};
  const auto per_batch = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), work);
  for (int b = 0; b < most; ++b) {
    totals[1] += per_batch(b, 0);
    totals[2] += per_batch(b, 1);
  }
  double busiest = totals[1] + totals[2];
  MPI_Allreduce(MPI_IN_PLACE, totals, 3, MPI_DOUBLE, MPI_SUM, comm_.get());
  MPI_Allreduce(MPI_IN_PLACE, &busiest, 1, MPI_DOUBLE, MPI_MAX, comm_.get());
  last_work_ = {totals[0], totals[1], totals[2], busiest, comm_.size()};
  return timings;
}

}  // namespace kinterp
