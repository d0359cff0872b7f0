#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/EnumNames.hpp>
#include <kinterp/core/detail/FiniteRows.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/kernels/RadialKernels.hpp>
#include <kinterp/precond/NystromPreconditioner.hpp>
#include <kinterp/solve/detail/DenseCholesky.hpp>

#include "Checks.hpp"
#include "FactorKernels.hpp"
#include "PivotedCholesky.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace kinterp {

namespace {
constexpr detail::EnumName<PivotRule> pivot_rule_names[] = {
    {PivotRule::RandomlyPivotedCholesky, "rpcholesky"},
    {PivotRule::Greedy, "greedy"},
    {PivotRule::Uniform, "uniform"}};
}  // namespace

std::string to_string(PivotRule rule) {
  return detail::name_in(pivot_rule_names, rule, "rpcholesky");
}

PivotRule pivot_rule_from_name(const std::string& name) {
  return detail::value_named(pivot_rule_names, name, "pivot rule");
}

namespace {

/// Not collective: what is wrong with the parameters, or "".
std::string check_parameters(const KernelSpec& kernel, double alpha,
                             const NystromOptions& options) {
  const std::string common = detail::kernel_and_ridge_problem(kernel, alpha, "Nystrom");
  if (!common.empty()) return common;
  std::ostringstream problem;
  if (options.rank < 0) {
    problem << "NystromOptions::rank (the number of landmarks) must be >= 0, got " << options.rank
            << " (0: as many as memory_budget_bytes allows)";
  } else if (options.rank == 0 && options.memory_budget_bytes == 0) {
    problem << "the Nystrom preconditioner needs NystromOptions::rank (the number of landmarks, "
               "e.g. 500) or memory_budget_bytes (bytes per rank for the factor)";
  } else if (options.block_size < 0 || options.block_size > detail::max_step_pivots) {
    problem << "NystromOptions::block_size must be between 0 (automatic) and "
            << detail::max_step_pivots << ", got " << options.block_size;
  } else if (!(options.tolerance >= 0 && options.tolerance < 1)) {
    problem << "NystromOptions::tolerance must be in [0, 1) (0: automatic), got "
            << options.tolerance;
  }
  return problem.str();
}

/// Bytes per rank of a factor of rank k: the padded rows of F and the k x k core.
std::size_t factor_bytes(std::int64_t padded_rows, int k, std::size_t value_size) {
  return std::size_t(padded_rows) * detail::padded_columns(k) * value_size +
         std::size_t(k) * k * sizeof(double);
}

}  // namespace

template <class T>
NystromPreconditioner<T>::NystromPreconditioner(MPI_Comm comm, const KernelSpec& kernel,
                                                const ConstMatrix& points, double alpha,
                                                const NystromOptions& options)
    : comm_(comm), alpha_(alpha), local_rows_(static_cast<std::int64_t>(points.extent(0))) {
  const double start = MPI_Wtime();
  const detail::ScopedRegion region("kinterp::NystromPreconditioner::setup");
  const MPI_Comm c = comm_.get();
  const std::string problem = check_parameters(kernel, alpha, options);
  throw_if_any(c, !problem.empty(), problem);

  // Every rank's (rows, d): the global order of the rows, and one width.
  const std::int64_t mine[2] = {local_rows_, static_cast<std::int64_t>(points.extent(1))};
  std::vector<std::int64_t> table(2 * std::size_t(comm_.size()));
  MPI_Allgather(mine, 2, MPI_INT64_T, table.data(), 2, MPI_INT64_T, c);
  std::vector<std::int64_t> counts(comm_.size());
  std::int64_t global_rows = 0, largest_padded = 0;
  for (int r = 0; r < comm_.size(); ++r) {
    counts[r] = table[2 * r];
    global_rows += counts[r];
    largest_padded = std::max(largest_padded, detail::padded_rows(counts[r]));
    if (table[2 * r + 1] != table[1]) {  // the same table everywhere: the same error everywhere
      throw Error("the points have " + std::to_string(table[2 * r + 1]) + " coordinates on rank " +
                  std::to_string(r) + " but " + std::to_string(table[1]) +
                  " on rank 0: every rank must pass rows of the same width");
    }
  }
  detail::require_finite(c, points, "points");
  global_rows_ = global_rows;

  // k: the rank asked for, at most N, at most what the budget holds.
  int k = static_cast<int>(std::min<std::int64_t>(
      global_rows, options.rank > 0 ? options.rank : std::numeric_limits<int>::max()));
  if (options.memory_budget_bytes > 0) {
    int low = 0, high = k;  // the largest k within the budget on the rank with the most rows
    while (low < high) {
      const int middle = low + (high - low + 1) / 2;
      if (factor_bytes(largest_padded, middle, sizeof(T)) <= options.memory_budget_bytes) {
        low = middle;
      } else {
        high = middle - 1;
      }
    }
    if (low == 0 && k > 0) {
      throw Error(
          "NystromOptions::memory_budget_bytes = " + std::to_string(options.memory_budget_bytes) +
          " does not hold one column of the Nystrom factor (" +
          std::to_string(factor_bytes(largest_padded, 1, sizeof(T))) +
          " bytes on the rank with the most points): raise it or set rank");
    }
    k = low;
  }
  // The k x k core is replicated on every rank (and sent as one message).
  constexpr int largest_rank = 32768;
  if (k > largest_rank) {
    throw Error("the Nystrom preconditioner supports up to " + std::to_string(largest_rank) +
                " landmarks (its k x k core is replicated on every rank), but " +
                std::to_string(k) + " were asked for" +
                (options.rank > 0 ? "" : " by memory_budget_bytes") + ": set a smaller rank");
  }
  info_.requested_rank = k;

  detail::PivotedCholeskyOptions factor_options;
  factor_options.rank = k;
  factor_options.rule = options.pivots;
  factor_options.seed = options.seed;
  factor_options.block_size = options.block_size > 0 ? options.block_size : 128;
  factor_options.tolerance =
      options.tolerance > 0 ? options.tolerance : 100 * std::numeric_limits<T>::epsilon();
  // Kernel values and everything accumulated from them in double; F stored in T.
  auto factorisation = visit_kernel<double, true>(kernel, [&](const auto& phi) {
    using Kernel = std::decay_t<decltype(phi)>;
    return detail::PivotedCholesky<T, Kernel, execution_space>(c, phi, kernel.variance, points,
                                                               counts)
        .run(factor_options);
  });
  factor_ = factorisation.factor;
  info_.rank = factorisation.rank;
  info_.pivots = std::move(factorisation.pivots);
  info_.trace = factorisation.trace;
  info_.residual_trace = factorisation.residual_trace;
  info_.steps = factorisation.steps;
  info_.candidates = factorisation.candidates;
  k = info_.rank;

  // The Woodbury core alpha I + F^T F and its Cholesky factor, replicated.
  //
  // Why this form: P^{-1} = (I - F (alpha I + F^T F)^{-1} F^T) / alpha. The
  // shift alpha bounds the core's condition number by 1 + ||F||^2 / alpha, and
  // the rounding of F^T F (about eps ||F||^2) only perturbs P^{-1} by a relative
  // O(eps ||F||^2 / alpha): harmless down to alpha ~ 1e-13 ||K|| in double. The
  // eigendecomposition form of Frangella, Tropp, Udell (U (S^2 + alpha)^{-1} U^T
  // + (I - U U^T) / alpha, with U = F V S^{-1} from the same Gram matrix) is the
  // same operator with the same rounding (U inherits the Gram matrix's error),
  // at ~10x the cost of this O(k^3 / 3) Cholesky; a well-conditioned U would
  // need a QR of F: two more passes over F, costlier than the whole set-up.
  // Below that alpha the Cholesky fails and says so.
  {
    const detail::ScopedRegion gram_region("kinterp::NystromPreconditioner::gram");
    const int k_pad = static_cast<int>(factor_.extent(1));
    const int tile_count = k_pad / 4;
    Kokkos::View<int* [2], memory_space> tiles("kinterp::NystromPreconditioner::gram_tiles",
                                               tile_count * (tile_count + 1) / 2);
    auto tiles_host = Kokkos::create_mirror_view(tiles);
    int next = 0;
    for (int p = 0; p < tile_count; ++p)
      for (int q = p; q < tile_count; ++q) {
        tiles_host(next, 0) = p;
        tiles_host(next, 1) = q;
        ++next;
      }
    Kokkos::deep_copy(tiles, tiles_host);
    detail::DoubleMatrix<memory_space> gram("kinterp::NystromPreconditioner::gram", k_pad, k_pad);
    // Chunks of row blocks that stay in cache (~1 MiB) while every tile reads them.
    const std::int64_t blocks = static_cast<std::int64_t>(factor_.extent(0));
    const std::int64_t chunk = std::max<std::int64_t>(
        1, (1 << 20) / (std::int64_t(k_pad) * detail::factor_row_block * sizeof(T)));
    const execution_space space;
    for (std::int64_t begin = 0; begin < blocks; begin += chunk) {
      Kokkos::parallel_for("kinterp::NystromPreconditioner::gram",
                           Kokkos::RangePolicy<execution_space>(space, 0, next),
                           detail::GramTiles<T, memory_space>{factor_, tiles, gram, begin,
                                                              std::min(begin + chunk, blocks)});
    }
    auto gram_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), gram);
    core_ = HostMatrix("kinterp::NystromPreconditioner::core", k, k);
    for (int p = 0; p < k; ++p)
      for (int q = 0; q <= p; ++q) core_(p, q) = gram_host(q, p);  // tiles hold q <= p
    MPI_Allreduce(MPI_IN_PLACE, core_.data(), k * k, MPI_DOUBLE, MPI_SUM, c);
    double largest = 0;
    for (int p = 0; p < k; ++p) {
      largest = std::max(largest, core_(p, p));
      core_(p, p) += alpha;
    }
    const int failed = detail::cholesky_lower(core_.data(), k, k);
    std::ostringstream why;
    why << "alpha = " << alpha << " is below the rounding level of the Nystrom factor: alpha I + "
        << "F^T F is not positive definite in double (largest diagonal of F^T F: " << largest
        << "); use alpha >= " << 1e-13 * largest << " or a smaller rank";
    throw_if_any(c, failed >= 0, why.str());
  }
  info_.bytes_per_rank = factor_.span() * sizeof(T) + core_.span() * sizeof(double);
  info_.setup_seconds = MPI_Wtime() - start;
}

namespace {

/// out(i, p) = F(i, p) from the panels.
template <class T, class MemorySpace>
struct UnpackFactor {
  detail::FactorPanels<const T, MemorySpace> factor;
  Kokkos::View<T**, Kokkos::LayoutRight, MemorySpace> out;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i) const {
    for (std::size_t p = 0; p < out.extent(1); ++p)
      out(i, p) = factor(i / detail::factor_row_block, p, i % detail::factor_row_block);
  }
};

}  // namespace

template <class T>
double NystromPreconditioner<T>::log_determinant() const {
  // det(alpha I_N + F F^T) = alpha^(N - k) det(alpha I_k + F^T F), the core.
  const int k = info_.rank;
  double sum = static_cast<double>(global_rows_ - k) * std::log(alpha_);
  for (int p = 0; p < k; ++p) sum += 2 * std::log(core_(p, p));
  return sum;
}

template <class T>
typename NystromPreconditioner<T>::Matrix NystromPreconditioner<T>::factor() const {
  Matrix out(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::NystromPreconditioner::F"),
             local_rows_, info_.rank);
  Kokkos::parallel_for("kinterp::NystromPreconditioner::unpack_factor",
                       Kokkos::RangePolicy<execution_space>(0, local_rows_),
                       UnpackFactor<T, memory_space>{factor_, out});
  execution_space().fence();
  return out;
}

template <class T>
void NystromPreconditioner<T>::apply(const ConstMatrix& r, const Matrix& z) const {
  const detail::ScopedRegion region("kinterp::NystromPreconditioner::apply");
  const MPI_Comm c = comm_.get();
  detail::require_preconditioner_shapes(c, "Nystrom preconditioner", local_rows_, r, z);
  const int m = static_cast<int>(r.extent(1));

  const int k = info_.rank;
  const execution_space space;
  detail::DoubleMatrix<memory_space> v(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::NystromPreconditioner::v"), k, m);
  if (k > 0) {
    // v = (alpha I + F^T F)^{-1} F^T r: a local product, one sum over the ranks.
    const int groups = (k + detail::factor_column_group - 1) / detail::factor_column_group;
    Kokkos::parallel_for(
        "kinterp::NystromPreconditioner::factor_transpose_times",
        Kokkos::RangePolicy<execution_space>(space, 0, groups),
        detail::FactorTransposeTimes<T, memory_space>{factor_, r, v, local_rows_, k, m});
    auto v_host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
    MPI_Allreduce(MPI_IN_PLACE, v_host.data(), k * m, MPI_DOUBLE, MPI_SUM, c);
    detail::cholesky_solve(core_.data(), k, k, v_host.data(), m);
    Kokkos::deep_copy(v, v_host);  // not asynchronous: v_host goes out of scope
  }
  // z = (r - F v) / alpha
  Kokkos::parallel_for(
      "kinterp::NystromPreconditioner::woodbury_correction",
      Kokkos::RangePolicy<execution_space>(space, 0, static_cast<std::int64_t>(factor_.extent(0))),
      detail::WoodburyCorrection<T, memory_space>{factor_, r, z, v, 1 / alpha_, local_rows_, k, m});
  space.fence();
}

template class NystromPreconditioner<float>;
template class NystromPreconditioner<double>;

}  // namespace kinterp
