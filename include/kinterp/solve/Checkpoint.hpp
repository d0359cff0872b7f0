#pragma once
/// \file Checkpoint.hpp
/// The CG checkpoint file: the full state of a distributed CG run at the top
/// of an iteration, so that a restarted run (on any number of ranks) continues
/// to the answer and the iteration count of an uninterrupted one.
///
/// Layout (little-endian; offsets in bytes):
///
///     header, 128 bytes
///       0  char[8]  magic "\x89KINTCG\n" (the high byte and the newline catch
///                   7-bit and text-mode transfers)
///       8  uint32   format version (1)
///      12  uint32   item size of the vectors: 8 float64, 4 float32
///      16  int64    N, global rows
///      24  int64    m, columns (right-hand sides)
///      32  int64    V, vectors per row (3: x, r, p)
///      40  int64    iteration at which the state was taken
///      48  int64    restarts from the recomputed residual done so far
///      56  int64    H, residual-history entries (iterations 0 .. iteration)
///      64  uint64   fingerprint of b (fingerprint_rows)
///      72  uint64   fingerprint of the problem (CheckpointOptions::problem_fingerprint)
///      80  float64  the largest Rayleigh quotient p^T A p / p^T p seen
///      88  uint64   checksum (below)
///      96  int64    S, bytes of the scalar section: 8 m (7 + H)
///     104  int64    offset of the rows: 128 + S
///     112  int64    residual replacements done so far
///     120  zeros    reserved
///     scalars, at 128, float64 or int64, m of each:
///       ||b||, r^T z, ||r||, largest ||r|| since the last residual
///       replacement, stagnation mark ||r||, stagnation mark iteration (int64),
///       active (int64 1 / 0), then the history: H times m float64
///     rows, at 128 + S: N rows in global order, each V m values of the item
///       size: x(i, 0..m-1), r(i, 0..m-1), p(i, 0..m-1)
///
/// Checksum: the hash of the header (checksum field zero) and the scalars,
/// plus, modulo 2^64, the sum over global rows i of a hash of (i, row i's
/// bytes). A sum does not depend on which rank holds which rows, so any rank
/// count writes and checks the same number; every step of the row hash is a
/// bijection of the next 8 bytes, so a change confined to one row always
/// changes it.
///
/// Atomicity: every rank writes its rows at their global offset into
/// `<path>.tmp` (MPI-IO, one contiguous block per rank), the file is synced and
/// closed, and only then rank 0 renames it to `<path>`: a job killed while
/// writing leaves the previous checkpoint intact.

#include <kinterp/core/Partition.hpp>
#include <kinterp/core/detail/SplitMix64.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace kinterp {

/// What a checkpoint must match to be resumed.
struct CheckpointProblem {
  int item_size = 8;                      ///< sizeof the vectors' scalar type
  std::int64_t global_rows = 0;           ///< N
  std::int64_t columns = 0;               ///< m
  std::int64_t vectors = 3;               ///< x, r, p
  std::uint64_t rhs_fingerprint = 0;      ///< fingerprint_rows(b)
  std::uint64_t problem_fingerprint = 0;  ///< CheckpointOptions::problem_fingerprint
};

/// A CG run's state at the top of an iteration, as one rank holds it.
struct CheckpointState {
  CheckpointProblem problem;
  std::int64_t iteration = 0;
  std::int64_t restarts = 0;
  std::int64_t replacements = 0;
  double largest_quotient = 0;
  /// Per column (m values each).
  std::vector<double> rhs_norms, rz, residual_norms, replacement_norms, mark_norms;
  std::vector<std::int64_t> mark_iterations, active;
  /// Residual norms of iterations 0 .. iteration, m values each.
  std::vector<std::vector<double>> history;
  /// This rank's global rows, and their bytes: rows.count rows of
  /// vectors * columns values each, x(i, :) then r(i, :) then p(i, :).
  RowBlock rows;
  std::vector<unsigned char> row_bytes;
};

/// Collective. Writes `state` (each rank its rows) to `path` atomically (see
/// the file comment). Throws kinterp::Error on every rank when the file cannot
/// be written; an existing `path` is then left as it was.
void write_checkpoint(MPI_Comm comm, const std::string& path, const CheckpointState& state);

/// Collective. Reads the checkpoint at `path`, each rank the rows `rows` (any
/// partition of the N rows, so the rank count may differ from the writer's).
/// Throws the same kinterp::Error on every rank for a file that cannot be read,
/// is not a checkpoint, is truncated or damaged (checksum), or belongs to
/// another problem than `expected` (N, m, dtype, b or the problem fingerprint).
CheckpointState read_checkpoint(MPI_Comm comm, const std::string& path,
                                const CheckpointProblem& expected, RowBlock rows);

namespace detail {

/// Folds a value into a fingerprint (order matters).
inline std::uint64_t fold(std::uint64_t hash, std::uint64_t value) {
  return mix64(hash ^ mix64(value));
}
inline std::uint64_t fold(std::uint64_t hash, double value) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  return fold(hash, bits);
}
std::uint64_t fold(std::uint64_t hash, const std::string& text);

/// The sum over the rows held here of hash(global row, row bytes): `count`
/// rows of `row_bytes` bytes from global row `first_row`. Not collective.
std::uint64_t hash_rows(std::int64_t first_row, std::int64_t count, const unsigned char* bytes,
                        std::size_t row_bytes);

using kinterp::global_block;

}  // namespace detail

/// Collective. A fingerprint of a distributed matrix (each rank its rows, in
/// rank order) that does not depend on how the rows are spread over the ranks.
template <class View>
std::uint64_t fingerprint_rows(MPI_Comm comm, const View& rows) {
  using T = typename View::non_const_value_type;
  const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), rows);
  const std::int64_t count = static_cast<std::int64_t>(rows.extent(0));
  const std::size_t columns = rows.extent(1);
  std::vector<T> packed(static_cast<std::size_t>(count) * columns);
  for (std::int64_t i = 0; i < count; ++i)
    for (std::size_t c = 0; c < columns; ++c) packed[i * columns + c] = host(i, c);
  const RowBlock block = detail::global_block(comm, count);
  std::uint64_t sums[2] = {
      detail::hash_rows(block.begin, count, reinterpret_cast<const unsigned char*>(packed.data()),
                        columns * sizeof(T)),
      static_cast<std::uint64_t>(count)};
  MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_UINT64_T, MPI_SUM, comm);
  return detail::fold(detail::fold(detail::fold(sums[0], sums[1]), std::uint64_t(columns)),
                      std::uint64_t(sizeof(T)));
}

}  // namespace kinterp
