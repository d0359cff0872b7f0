#pragma once
// TreeKernelProduct's definitions, instantiated once per precision in
// TreeKernelsFloat.cpp and TreeKernelsDouble.cpp (the nine families' tree
// sums in three dimensions are a long compile).

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/dist/TreeKernelProduct.hpp>
#include <kinterp/kernels/RadialKernels.hpp>
#include <kinterp/tree/ProxyCharges.hpp>

#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <optional>
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
}  // namespace detail

template <class T>
template <class Rows>
ClusterTree<T, typename TreeKernelProduct<T>::MemorySpace> TreeKernelProduct<T>::source_tree(
    const Rows& rows) const {
  const auto host = detail::host_rows(rows);
  return ClusterTree<T, MemorySpace>::build(host, static_cast<int>(rows.extent(0)),
                                            static_cast<int>(rows.extent(1)), info_.leaf_size,
                                            rule_.degree);
}

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
    : kernel_(kernel), ring_(Communicator(comm), sources) {
  const double start = MPI_Wtime();
  const MPI_Comm own = ring_.communicator().get();
  // The settings first (the same on every rank), then the points.
  agree_on_errors(own, [&] {
    const int d = static_cast<int>(sources.extent(1));
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
  for (std::size_t k = 0; k < sources.extent(1); ++k) proxies *= rule_.degree + 1;
  info_.tolerance = options.tolerance;
  info_.degree = rule_.degree;
  info_.leaf_size = options.leaf_size > 0 ? options.leaf_size : std::clamp(proxies, 32, 512);
  info_.batch_size = options.batch_size > 0 ? options.batch_size : detail::tree_batch_size;
  // One host copy of the points (none where the memory space is the host's)
  // serves the tree, the batches and the sample below.
  const auto host_sources = detail::host_rows(sources);
  tree_ = source_tree(host_sources);
  at_sources_ = target_batches(host_sources);
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
    const int count = static_cast<int>(leaves.extent(0));
    const int step = std::max(1, count * info_.batch_size / 1024);
    for (int b = 0; b < count; b += step) {
      for (int j = begin(leaves(b)); j < end(leaves(b)); ++j) picked.push_back(order(j));
    }
  }
  const auto sampled = static_cast<std::int64_t>(picked.size());
  const int d = static_cast<int>(sources.extent(1));
  LocalMatrix<T> rows(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::TreeKernelProduct::sample"),
      sampled, d);
  {
    const auto host = Kokkos::create_mirror_view(rows);
    for (std::int64_t i = 0; i < sampled; ++i)
      for (int k = 0; k < d; ++k) host(i, k) = host_sources(picked[i], k);
    Kokkos::deep_copy(rows, host);
  }
  const std::int64_t n = static_cast<std::int64_t>(sources.extent(0));
  LocalMatrix<T> ones("kinterp::TreeKernelProduct::ones", n, 1),
      out("kinterp::TreeKernelProduct::out", sampled, 1);
  Kokkos::deep_copy(ones, T(1));
  apply(Kokkos::DefaultExecutionSpace(), rows, ones, out);
  info_.sampled_pairs_per_target = last_work_.pairs_per_target();
}

template <class T>
std::string TreeKernelProduct<T>::description() const {
  char text[160];
  std::snprintf(text, sizeof text,
                "tree (eps %g, degree %d, leaves of %d, %.3g kernel values per target at set-up)",
                info_.tolerance, info_.degree, info_.leaf_size, info_.sampled_pairs_per_target);
  return text;
}

template <class T>
RingTimings TreeKernelProduct<T>::apply(const Kokkos::DefaultExecutionSpace& space,
                                        const LocalMatrix<const T>& targets,
                                        const LocalMatrix<const T>& weights,
                                        const LocalMatrix<T>& out) const {
  const detail::ScopedRegion region("kinterp::TreeKernelProduct::apply");
  // The targets' batches: kept for the sources, built for other targets
  // (none when there are no targets, or the shapes are wrong: the ring's
  // check then throws on every rank).
  const bool at_sources =
      targets.data() == sources().data() && targets.extent(0) == sources().extent(0);
  std::optional<TreeBatches<T, MemorySpace>> own_batches;
  if (!at_sources && targets.extent(0) > 0 && targets.extent(1) == sources().extent(1)) {
    own_batches = target_batches(targets);
  }
  const TreeBatches<T, MemorySpace>* batches =
      at_sources ? &at_sources_ : (own_batches ? &*own_batches : nullptr);
  const int batch_count = batches ? static_cast<int>(batches->leaves.extent(0)) : 0;
  const int rank = communicator().rank();
  Kokkos::View<double* [2], MemorySpace> work("kinterp::TreeKernelProduct::work", batch_count);
  double prepare = 0;
  RingTimings timings = ring_.apply_blocks(
      space, targets, weights, out, [&](int origin, const auto& points, const auto& w) {
        if (!batches || points.extent(0) == 0) return;
        const double start = MPI_Wtime();
        std::optional<ClusterTree<T, MemorySpace>> passing;
        if (origin != rank) passing = source_tree(points);
        const ClusterTree<T, MemorySpace>& tree = origin == rank ? tree_ : *passing;
        const auto charges = make_proxy_charges(space, tree, w);
        space.fence();  // so that the charges' time is theirs, not the sums'
        prepare += MPI_Wtime() - start;
        visit_kernel<T>(kernel_, [&](const auto& k) {
          tree_kernel_sum(space, k, static_cast<T>(kernel_.variance), rule_, *batches, tree,
                          charges, out, work);
        });
        space.fence();  // the passing tree and the charges are freed next
      });
  timings.prepare = prepare;
  double totals[3] = {static_cast<double>(targets.extent(0)), 0, 0};
  const auto per_batch = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), work);
  for (int b = 0; b < batch_count; ++b) {
    totals[1] += per_batch(b, 0);
    totals[2] += per_batch(b, 1);
  }
  MPI_Allreduce(MPI_IN_PLACE, totals, 3, MPI_DOUBLE, MPI_SUM, communicator().get());
  last_work_ = {totals[0], totals[1], totals[2]};
  return timings;
}

}  // namespace kinterp
