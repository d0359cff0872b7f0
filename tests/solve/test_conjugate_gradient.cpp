// conjugate_gradient with and without a preconditioner over 1-4 ranks against a
// dense Cholesky solve (LAPACK dposv); stagnation and an indefinite
// preconditioner stopping with their reasons; checkpoints that restart to the
// answer and iteration count of an uninterrupted run (also on fewer ranks), and
// damaged or foreign checkpoints refused with one message on every rank.

#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/KokkosCompat.hpp>
#include <kinterp/dist/DirectKernelProduct.hpp>
#include <kinterp/kernels/RadialKernels.hpp>
#include <kinterp/solve/ConjugateGradient.hpp>

#include "../DenseKernelSolve.hpp"
#include "../DistributedData.hpp"
#include "../ScratchDirectory.hpp"

#include <gtest/gtest.h>
#include <KokkosBlas1_scal.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>

namespace {

namespace fs = std::filesystem;
using namespace kinterp::test;
using kinterp::KernelFamily;
using kinterp::KernelSpec;
using kinterp::StopReason;

using Matrix = kinterp::LocalMatrix<double>;
using ConstMatrix = kinterp::LocalMatrix<const double>;
using Vector = Kokkos::View<double*, Matrix::memory_space>;

[[maybe_unused]] ::testing::Environment* const scratch =
    ::testing::AddGlobalTestEnvironment(new ScratchDirectory("kinterp_test_cg"));

/// The diagonal shift of global row i: spread over [1, 1000], so that Jacobi
/// preconditioning pays.
double shift(std::int64_t i) {
  return std::pow(1000.0, uniform01(31, static_cast<std::uint64_t>(i)));
}

/// A = K + D: a kernel matrix plus a positive diagonal (SPD, smallest
/// eigenvalue >= min D), over the rows `block` of the problem on `comm`.
struct ShiftedKernelOperator {
  using execution_space = Kokkos::DefaultExecutionSpace;
  using Matrix = ::Matrix;
  using ConstMatrix = ::ConstMatrix;

  ShiftedKernelOperator(MPI_Comm comm, const KernelSpec& kernel, const HostMatrix<double>& x,
                        kinterp::RowBlock block)
      : points(rows_on_device(x, block)),
        product(comm, kernel, points),
        diagonal("diagonal", block.count) {
    auto host = Kokkos::create_mirror_view(diagonal);
    for (std::int64_t i = 0; i < block.count; ++i) host(i) = shift(block.begin + i);
    Kokkos::deep_copy(diagonal, host);
  }

  MPI_Comm comm() const { return product.communicator().get(); }

  void apply(const ConstMatrix& x, const Matrix& y) const {
    ++products;
    product.apply(execution_space(), points, x, y);
    const Vector d = diagonal;
    const int m = static_cast<int>(x.extent(1));
    Kokkos::parallel_for(
        "test::shift", Kokkos::RangePolicy<execution_space>(0, x.extent(0)),
        KOKKOS_LAMBDA(const std::int64_t i) {
          for (int c = 0; c < m; ++c) y(i, c) += d(i) * x(i, c);
        });
  }

  ConstMatrix points;
  kinterp::DirectKernelProduct<double> product;
  Vector diagonal;
  mutable int products = 0;
};

/// Jacobi: z = r / diag(A), diag(A) = variance + D. Symmetric positive definite.
struct JacobiPreconditioner {
  Vector diagonal;
  double variance;
  void apply(const ConstMatrix& r, const Matrix& z) const {
    const Vector d = diagonal;
    const double v = variance;
    const int m = static_cast<int>(r.extent(1));
    Kokkos::parallel_for(
        "test::jacobi", Kokkos::RangePolicy<>(0, r.extent(0)), KOKKOS_LAMBDA(const std::int64_t i) {
          for (int c = 0; c < m; ++c) z(i, c) = r(i, c) / (v + d(i));
        });
  }
};

/// z = -r: negative definite.
struct NegativePreconditioner {
  void apply(const ConstMatrix& r, const Matrix& z) const { KokkosBlas::scal(z, -1.0, r); }
};

/// A positive diagonal scaling that changes at every application (keyed by the
/// global row and the call): r^T z > 0 always, but the CG recurrences assume
/// a fixed M, and the iteration makes no progress.
struct ChangingPreconditioner {
  std::int64_t first_row;
  mutable std::uint64_t calls = 0;
  void apply(const ConstMatrix& r, const Matrix& z) const {
    const std::uint64_t call = ++calls;
    const std::int64_t first = first_row;
    const int m = static_cast<int>(r.extent(1));
    Kokkos::parallel_for(
        "test::changing", Kokkos::RangePolicy<>(0, r.extent(0)),
        KOKKOS_LAMBDA(const std::int64_t i) {
          std::uint64_t h = (call << 40) ^ static_cast<std::uint64_t>(first + i);
          h = kinterp::detail::mix64(h);
          const double u = static_cast<double>(h >> 11) * 0x1.0p-53;  // [0, 1)
          for (int c = 0; c < m; ++c) z(i, c) = r(i, c) * kinterp::detail::math::exp(6 * u - 3);
        });
  }
};

/// The solution of (K + D) a = b by dense Cholesky, all columns.
HostMatrix<double> dense_solve(const KernelSpec& spec, const HostMatrix<double>& x,
                               const HostMatrix<double>& b) {
  return kinterp::test::dense_kernel_solve(spec, x, b, [](int i) { return shift(i); });
}

const KernelSpec gaussian{KernelFamily::Gaussian, 30.0, 1.0};

struct Problem {
  HostMatrix<double> x, b;
};

Problem make_problem(std::int64_t n, int dim, int columns, std::uint64_t seed = 40) {
  return {global_matrix<double>(n, dim, seed, 0, 1),
          global_matrix<double>(n, columns, seed + 1, -1, 1)};
}

/// ||x - x*|| <= ||b - A x|| / lambda_min(A), lambda_min >= min D >= 1, per column.
void expect_close_to_dense(const Problem& p, kinterp::RowBlock block, MPI_Comm comm,
                           const Matrix& x, const kinterp::SolveResult& result) {
  const auto expected = dense_solve(gaussian, p.x, p.b);
  const auto got = on_host(x);
  for (int c = 0; c < p.b.cols; ++c) {
    double error2 = 0;
    for (std::int64_t i = 0; i < block.count; ++i) {
      error2 += std::pow(got(i, c) - expected(block.begin + i, c), 2);
    }
    MPI_Allreduce(MPI_IN_PLACE, &error2, 1, MPI_DOUBLE, MPI_SUM, comm);
    EXPECT_LE(std::sqrt(error2), 1.01 * result.true_residual_norms[c] + 1e-12 * result.rhs_norms[c])
        << "column " << c;
    EXPECT_LE(result.true_residual_norms[c], 1.01e-10 * result.rhs_norms[c]) << "column " << c;
  }
}

/// make_problem(n, dim, columns) with this rank's rows: its operator and
/// right-hand sides.
struct SpreadProblem {
  SpreadProblem(std::int64_t n, int dim, int columns)
      : p(make_problem(n, dim, columns)),
        block(my_block(n)),
        A(MPI_COMM_WORLD, gaussian, p.x, block),
        b(rows_on_device(p.b, block)) {}
  const Problem p;
  const kinterp::RowBlock block;
  const ShiftedKernelOperator A;
  const DeviceMatrix<double> b;
};

kinterp::SolveOptions tight() {
  kinterp::SolveOptions options;
  options.rtol = 1e-10;
  return options;
}

TEST(PreconditionedCG, IdentityAndJacobiReachTheDenseSolution) {
  const SpreadProblem problem(300, 2, 2);
  const auto& [p, block, A, b] = problem;

  Matrix plain("plain", block.count, 2);
  const auto cg = kinterp::conjugate_gradient(A, b, plain, tight());
  ASSERT_EQ(cg.reason, StopReason::ConvergedRtol) << cg.detail;
  expect_close_to_dense(p, block, MPI_COMM_WORLD, plain, cg);
  // Plain CG: one product per iteration and one for the final check.
  EXPECT_EQ(A.products, cg.iterations + 1);

  Matrix identity("identity", block.count, 2);
  const auto same =
      kinterp::conjugate_gradient(A, kinterp::IdentityPreconditioner(), b, identity, tight());
  EXPECT_EQ(same.iterations, cg.iterations);
  EXPECT_EQ(same.history, cg.history);

  Matrix jacobi("jacobi", block.count, 2);
  const JacobiPreconditioner M{A.diagonal, gaussian.variance};
  const auto pcg = kinterp::conjugate_gradient(A, M, b, jacobi, tight());
  ASSERT_EQ(pcg.reason, StopReason::ConvergedRtol) << pcg.detail;
  expect_close_to_dense(p, block, MPI_COMM_WORLD, jacobi, pcg);
  EXPECT_LT(pcg.iterations, cg.iterations) << "Jacobi should pay for a diagonal spread 1..1000";
}

TEST(PreconditionedCG, IndefinitePreconditionerStopsWithItsReason) {
  const SpreadProblem problem(100, 1, 1);
  const auto& [p, block, A, b] = problem;
  Matrix x("x", block.count, 1);
  const auto result = kinterp::conjugate_gradient(A, NegativePreconditioner(), b, x, tight());
  EXPECT_EQ(result.reason, StopReason::DivergedIndefinitePreconditioner) << result.detail;
  EXPECT_EQ(result.iterations, 0);
  EXPECT_NE(result.detail.find("not positive definite"), std::string::npos) << result.detail;
}

TEST(PreconditionedCG, StagnationIsDetectedAndCanBeTurnedOff) {
  const SpreadProblem problem(200, 2, 1);
  const auto& [p, block, A, b] = problem;
  Matrix x("x", block.count, 1);
  kinterp::SolveOptions options = tight();
  options.max_iterations = 400;
  options.stagnation_window = 25;
  const auto stalled =
      kinterp::conjugate_gradient(A, ChangingPreconditioner{block.begin}, b, x, options);
  EXPECT_EQ(stalled.reason, StopReason::DivergedStagnation)
      << to_string(stalled.reason) << ": " << stalled.detail;
  EXPECT_LT(stalled.iterations, options.max_iterations);
  EXPECT_GE(stalled.iterations, options.stagnation_window);
  EXPECT_NE(stalled.detail.find("not making progress"), std::string::npos) << stalled.detail;
  // The best residual of the last window is above 0.9 x the best before it.
  const auto& h = stalled.history;
  const std::size_t window_start = h.size() - options.stagnation_window;
  double before = INFINITY, within = INFINITY;
  for (std::size_t k = 0; k < h.size(); ++k) {
    (k < window_start ? before : within) = std::min(k < window_start ? before : within, h[k][0]);
  }
  EXPECT_GT(within, 0.9 * before);

  options.stagnation_window = 0;
  options.max_iterations = 60;
  const auto unchecked =
      kinterp::conjugate_gradient(A, ChangingPreconditioner{block.begin}, b, x, options);
  EXPECT_EQ(unchecked.reason, StopReason::DivergedMaxIterations) << unchecked.detail;
  EXPECT_EQ(unchecked.iterations, 60);
}

// ---- Checkpoints --------------------------------------------------------------------------

/// Every rank of `comm` caught the same kinterp::Error, and it says `fragment`.
void expect_refused_everywhere(MPI_Comm comm, const std::function<void()>& call,
                               const std::string& fragment) {
  std::string message = "no error";
  try {
    call();
  } catch (const kinterp::Error& e) {
    message = e.what();
  }
  EXPECT_NE(message.find(fragment), std::string::npos) << message;
  // One message: the same text on every rank.
  int length = static_cast<int>(message.size());
  MPI_Bcast(&length, 1, MPI_INT, 0, comm);
  std::string first(length, '\0');
  if (kinterp::rank_of(comm) == 0) first = message;
  MPI_Bcast(first.data(), length, MPI_CHAR, 0, comm);
  EXPECT_EQ(message, first) << "rank " << kinterp::rank_of(comm);
}

/// The solve of one problem on `comm` with given options: x and result.
struct Solve {
  MPI_Comm comm;
  Problem problem;
  kinterp::RowBlock block;
  ShiftedKernelOperator A;
  JacobiPreconditioner M;
  Matrix b;

  Solve(MPI_Comm c, const Problem& p)
      : comm(c),
        problem(p),
        block(kinterp::block_partition(p.x.rows, c)),
        A(c, gaussian, p.x, block),
        M{A.diagonal, gaussian.variance},
        b(rows_on_device(p.b, block)) {}

  std::pair<HostMatrix<double>, kinterp::SolveResult> run(const kinterp::SolveOptions& options) {
    Matrix x("x", block.count, problem.b.cols);
    const auto result = kinterp::conjugate_gradient(A, M, b, x, options);
    // The whole solution on every rank, for comparisons across rank counts.
    HostMatrix<double> all(problem.b.rows, problem.b.cols);
    const auto host = on_host(x);
    for (std::int64_t i = 0; i < block.count; ++i)
      for (std::int64_t c = 0; c < all.cols; ++c) all(block.begin + i, c) = host(i, c);
    MPI_Allreduce(MPI_IN_PLACE, all.values.data(), static_cast<int>(all.values.size()), MPI_DOUBLE,
                  MPI_SUM, comm);
    return {all, result};
  }
};

double norm(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x * x;
  return std::sqrt(sum);
}

/// ||got - want|| <= bound (2-norm over all columns).
void expect_same_solution(const HostMatrix<double>& got, const HostMatrix<double>& want,
                          double bound) {
  std::vector<double> difference(want.values.size());
  for (std::size_t k = 0; k < want.values.size(); ++k) {
    difference[k] = got.values[k] - want.values[k];
  }
  EXPECT_LE(norm(difference), bound) << "||x|| = " << norm(want.values);
}

TEST(Checkpoint, RestartGivesTheAnswerAndIterationsOfAnUninterruptedRun) {
  Solve solve(MPI_COMM_WORLD, make_problem(250, 2, 2));
  const auto [reference, uninterrupted] = solve.run(tight());
  ASSERT_TRUE(uninterrupted.converged()) << uninterrupted.detail;
  ASSERT_GT(uninterrupted.iterations, 12);

  // A run "killed" after iteration 12 (max_iterations), writing every 5
  // iterations; the monitor keeps the file of iteration 10 as it stands at 11.
  kinterp::SolveOptions options = tight();
  options.max_iterations = 12;
  options.checkpoint.path = ScratchDirectory::file("run.ckpt");
  options.checkpoint.every = 5;
  options.monitor = [&](int iteration, const std::vector<double>&) {
    if (iteration == 11 && world_rank() == 0) {
      fs::copy_file(options.checkpoint.path, ScratchDirectory::file("at10.ckpt"),
                    fs::copy_options::overwrite_existing);
    }
  };
  const auto killed = solve.run(options).second;
  EXPECT_EQ(killed.reason, StopReason::DivergedMaxIterations);
  EXPECT_EQ(killed.checkpoints_written, 3);  // at 5, 10 and 12
  MPI_Barrier(MPI_COMM_WORLD);
  if (world_rank() == 0) {
    EXPECT_FALSE(fs::exists(options.checkpoint.path + ".tmp")) << "the temporary file remains";
  }

  for (const auto& [file, iteration] :
       {std::pair{std::string("run.ckpt"), 12}, std::pair{std::string("at10.ckpt"), 10}}) {
    kinterp::SolveOptions again = tight();
    again.checkpoint.restart_path = ScratchDirectory::file(file);
    const auto [x, resumed] = solve.run(again);
    EXPECT_EQ(resumed.resumed_from, iteration);
    EXPECT_EQ(resumed.reason, uninterrupted.reason) << resumed.detail;
    EXPECT_EQ(resumed.iterations, uninterrupted.iterations);
    EXPECT_EQ(resumed.history.size(), uninterrupted.history.size());
    // Same ranks, same threads: the same arithmetic.
    expect_same_solution(x, reference, 1e-14 * norm(reference.values));
  }
}

TEST(Checkpoint, WrittenOnThreeRanksRestartsOnTwo) {
  // Writer: the first min(P, 3) ranks; reader: one rank fewer (at least 1).
  const int writers = std::min(world_size(), 3), readers = std::max(1, writers - 1);
  const auto problem = make_problem(211, 2, 1);
  const std::string path = ScratchDirectory::file("ranks.ckpt");
  HostMatrix<double> reference;
  int iterations = 0;
  for (const bool writing : {true, false}) {
    const int ranks = writing ? writers : readers;
    MPI_Comm comm;
    MPI_Comm_split(MPI_COMM_WORLD, world_rank() < ranks ? 0 : MPI_UNDEFINED, world_rank(), &comm);
    if (comm != MPI_COMM_NULL) {
      Solve solve(comm, problem);
      if (writing) {
        const auto run = solve.run(tight());
        reference = run.first;
        iterations = run.second.iterations;
        kinterp::SolveOptions options = tight();
        options.max_iterations = 9;
        options.checkpoint.path = path;
        options.checkpoint.every = 100;
        solve.run(options);
      } else {
        kinterp::SolveOptions options = tight();
        options.checkpoint.restart_path = path;
        const auto [x, resumed] = solve.run(options);
        EXPECT_EQ(resumed.resumed_from, 9);
        EXPECT_EQ(resumed.reason, StopReason::ConvergedRtol) << resumed.detail;
        // Other sums, other rounding: the iteration count may differ by one.
        EXPECT_NEAR(resumed.iterations, iterations, 1);
        // Both within ||b - A x|| / lambda_min <= 1.01e-10 ||b|| of the solution.
        expect_same_solution(x, reference, 2.02e-10 * norm(problem.b.values));
      }
      MPI_Comm_free(&comm);
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
}

/// A copy of `from` with `edit` applied to its bytes, by rank 0.
std::string edited_copy(const std::string& from, const std::string& name,
                        const std::function<void(std::string&)>& edit) {
  const std::string to = ScratchDirectory::file(name);
  if (world_rank() == 0) {
    std::ifstream in(from, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    edit(bytes);
    std::ofstream(to, std::ios::binary | std::ios::trunc) << bytes;
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return to;
}

TEST(Checkpoint, DamagedAndForeignCheckpointsAreRefusedOnEveryRank) {
  const auto problem = make_problem(120, 2, 2);
  Solve solve(MPI_COMM_WORLD, problem);
  const std::string good = ScratchDirectory::file("good.ckpt");
  kinterp::SolveOptions write = tight();
  write.max_iterations = 4;
  write.checkpoint.path = good;
  write.checkpoint.every = 2;
  write.checkpoint.problem_fingerprint = 7;
  solve.run(write);

  kinterp::SolveOptions read = tight();
  read.checkpoint.problem_fingerprint = 7;
  const auto refused = [&](const std::string& path, const std::string& fragment) {
    read.checkpoint.restart_path = path;
    expect_refused_everywhere(
        MPI_COMM_WORLD, [&] { solve.run(read); }, fragment);
  };
  // The good file is accepted.
  read.checkpoint.restart_path = good;
  EXPECT_EQ(solve.run(read).second.resumed_from, 4);

  refused(ScratchDirectory::file("missing.ckpt"), "cannot open the checkpoint");
  refused(edited_copy(good, "truncated.ckpt", [](std::string& b) { b.resize(b.size() - 9); }),
          "truncated");
  refused(edited_copy(good, "header_only.ckpt", [](std::string& b) { b.resize(100); }),
          "truncated");
  refused(edited_copy(good, "not_a.ckpt", [](std::string& b) { b[1] = 'X'; }),
          "not a kinterp checkpoint");
  // One bit in the last row's p, in the middle of the rows, in the scalars.
  refused(edited_copy(good, "flip_end.ckpt", [](std::string& b) { b[b.size() - 3] ^= 0x10; }),
          "damaged");
  refused(edited_copy(good, "flip_rows.ckpt", [](std::string& b) { b[b.size() / 2] ^= 0x01; }),
          "damaged");
  refused(edited_copy(good, "flip_scalars.ckpt", [](std::string& b) { b[130] ^= 0x04; }),
          "damaged");
  refused(edited_copy(good, "flip_header.ckpt", [](std::string& b) { b[81] ^= 0x01; }), "damaged");

  // Another problem: another fingerprint, other b, other m, other N.
  read.checkpoint.problem_fingerprint = 8;
  refused(good, "another problem");
  read.checkpoint.problem_fingerprint = 7;
  auto other_b = problem;
  other_b.b(17, 1) += 1e-9;
  Solve with_other_b(MPI_COMM_WORLD, other_b);
  read.checkpoint.restart_path = good;
  expect_refused_everywhere(
      MPI_COMM_WORLD, [&] { with_other_b.run(read); }, "other right-hand side values b");
  Solve one_column(MPI_COMM_WORLD, make_problem(120, 2, 1));
  expect_refused_everywhere(
      MPI_COMM_WORLD, [&] { one_column.run(read); }, "number of right-hand sides m is 2");
  Solve more_points(MPI_COMM_WORLD, make_problem(121, 2, 2));
  expect_refused_everywhere(
      MPI_COMM_WORLD, [&] { more_points.run(read); }, "number of points N is 120");

  // The file written last is what a restart sees; a failed write keeps it.
  kinterp::SolveOptions unwritable = write;
  unwritable.checkpoint.path = ScratchDirectory::file("no/such/dir/x.ckpt");
  expect_refused_everywhere(
      MPI_COMM_WORLD, [&] { solve.run(unwritable); }, "cannot create the checkpoint file");
}

}  // namespace
