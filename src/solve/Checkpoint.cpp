#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/io/detail/MpiFile.hpp>
#include <kinterp/solve/Checkpoint.hpp>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

// The file is written byte for byte from memory, and is little-endian.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "kinterp's checkpoint I/O assumes a little-endian host"
#endif

namespace kinterp {

namespace detail {

std::uint64_t fold(std::uint64_t hash, const std::string& text) {
  hash = fold(hash, std::uint64_t(text.size()));
  for (unsigned char c : text) hash = fold(hash, std::uint64_t(c));
  return hash;
}

namespace {
/// Hash of `n` bytes from `seed`: one bijective step per 8-byte word (the last
/// one zero-padded), the length folded in first.
std::uint64_t hash_bytes(std::uint64_t seed, const unsigned char* bytes, std::size_t n) {
  std::uint64_t h = mix64(seed ^ mix64(n));
  std::size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    std::uint64_t word;
    std::memcpy(&word, bytes + k, 8);
    h = mix64(h ^ word);
  }
  if (k < n) {
    std::uint64_t word = 0;
    std::memcpy(&word, bytes + k, n - k);
    h = mix64(h ^ word);
  }
  return h;
}
}  // namespace

std::uint64_t hash_rows(std::int64_t first_row, std::int64_t count, const unsigned char* bytes,
                        std::size_t row_bytes) {
  std::uint64_t sum = 0;
  for (std::int64_t i = 0; i < count; ++i) {
    sum += hash_bytes(mix64(static_cast<std::uint64_t>(first_row + i)), bytes + i * row_bytes,
                      row_bytes);
  }
  return sum;
}

}  // namespace detail

namespace {

constexpr char magic[8] = {'\x89', 'K', 'I', 'N', 'T', 'C', 'G', '\n'};
constexpr std::uint32_t format_version = 1;
constexpr std::int64_t header_bytes = 128;
constexpr std::size_t checksum_at = 88;
/// Per column in the scalar section: ||b||, r.z, ||r||, largest ||r|| since the
/// last replacement, stagnation mark norm and iteration, active.
constexpr std::int64_t scalars_per_column = 7;
/// Bytes per MPI-IO call: far below the 2 GiB where int counts overflow.
constexpr std::int64_t chunk_bytes = std::int64_t(1) << 27;

std::int64_t row_size(const CheckpointProblem& p) {
  return p.vectors * p.columns * p.item_size;
}

// ---- The header and scalar section, as bytes ----

class Bytes {
 public:
  explicit Bytes(std::size_t size) : data_(size, 0) {}
  explicit Bytes(std::vector<unsigned char> data) : data_(std::move(data)) {}

  template <class V>
  void put(std::size_t at, V value) {
    std::memcpy(data_.data() + at, &value, sizeof value);
  }
  template <class V>
  V get(std::size_t at) const {
    V value;
    std::memcpy(&value, data_.data() + at, sizeof value);
    return value;
  }
  std::vector<unsigned char>& data() { return data_; }
  const std::vector<unsigned char>& data() const { return data_; }

 private:
  std::vector<unsigned char> data_;
};

std::int64_t scalar_bytes(std::int64_t columns, std::int64_t history) {
  return 8 * columns * (scalars_per_column + history);
}

/// The scalar section: m values per vector, in this order (encode and decode
/// walk the same list). State is CheckpointState, const or not.
template <class State, class Doubles, class Integers>
void for_each_column_vector(State& s, const Doubles& doubles, const Integers& integers) {
  doubles(s.rhs_norms);
  doubles(s.rz);
  doubles(s.residual_norms);
  doubles(s.replacement_norms);
  doubles(s.mark_norms);
  integers(s.mark_iterations);
  integers(s.active);
  for (auto& norms : s.history) doubles(norms);
}

/// Header and scalars of `state`, checksum field zero.
Bytes encode_head(const CheckpointState& s) {
  const CheckpointProblem& p = s.problem;
  const std::int64_t m = p.columns, h = static_cast<std::int64_t>(s.history.size());
  const std::int64_t scalars = scalar_bytes(m, h);
  Bytes b(static_cast<std::size_t>(header_bytes + scalars));
  std::memcpy(b.data().data(), magic, sizeof magic);
  b.put<std::uint32_t>(8, format_version);
  b.put<std::uint32_t>(12, static_cast<std::uint32_t>(p.item_size));
  b.put<std::int64_t>(16, p.global_rows);
  b.put<std::int64_t>(24, m);
  b.put<std::int64_t>(32, p.vectors);
  b.put<std::int64_t>(40, s.iteration);
  b.put<std::int64_t>(48, s.restarts);
  b.put<std::int64_t>(56, h);
  b.put<std::uint64_t>(64, p.rhs_fingerprint);
  b.put<std::uint64_t>(72, p.problem_fingerprint);
  b.put<double>(80, s.largest_quotient);
  b.put<std::uint64_t>(checksum_at, 0);
  b.put<std::int64_t>(96, scalars);
  b.put<std::int64_t>(104, header_bytes + scalars);
  b.put<std::int64_t>(112, s.replacements);
  std::size_t at = header_bytes;
  const auto doubles = [&](const std::vector<double>& v) {
    for (std::int64_t c = 0; c < m; ++c, at += 8) b.put<double>(at, v[c]);
  };
  const auto integers = [&](const std::vector<std::int64_t>& v) {
    for (std::int64_t c = 0; c < m; ++c, at += 8) b.put<std::int64_t>(at, v[c]);
  };
  for_each_column_vector(s, doubles, integers);
  return b;
}

/// The header's sizes, or a message saying why they cannot be right.
struct HeadLayout {
  CheckpointState state;  ///< everything but the rows
  std::int64_t data_offset = 0;
  std::uint64_t checksum = 0;
  std::string problem;
};

/// Reads the header fields (the first 128 bytes of `b`) and checks that they
/// describe a file of `file_bytes` bytes.
HeadLayout decode_header(const Bytes& b, std::int64_t file_bytes, const std::string& path) {
  HeadLayout head;
  CheckpointState& s = head.state;
  CheckpointProblem& p = s.problem;
  const auto fail = [&](const std::string& why) {
    head.problem = path + ": " + why;
    return head;
  };
  if (file_bytes < static_cast<std::int64_t>(sizeof magic) ||
      std::memcmp(b.data().data(), magic, sizeof magic) != 0) {
    return fail(
        "not a kinterp checkpoint (it does not begin with \"\\x89KINTCG\\n\"); pass a file "
        "written by --checkpoint / CheckpointOptions::path");
  }
  if (file_bytes < header_bytes) {
    return fail("the checkpoint is truncated: " + std::to_string(file_bytes) +
                " bytes, less than its 128-byte header; use an earlier checkpoint or start "
                "afresh");
  }
  const auto version = b.get<std::uint32_t>(8);
  if (version != format_version) {
    return fail("checkpoint format version " + std::to_string(version) + ", this kinterp reads " +
                std::to_string(format_version));
  }
  p.item_size = static_cast<int>(b.get<std::uint32_t>(12));
  p.global_rows = b.get<std::int64_t>(16);
  p.columns = b.get<std::int64_t>(24);
  p.vectors = b.get<std::int64_t>(32);
  s.iteration = b.get<std::int64_t>(40);
  s.restarts = b.get<std::int64_t>(48);
  const auto history = b.get<std::int64_t>(56);
  p.rhs_fingerprint = b.get<std::uint64_t>(64);
  p.problem_fingerprint = b.get<std::uint64_t>(72);
  s.largest_quotient = b.get<double>(80);
  head.checksum = b.get<std::uint64_t>(checksum_at);
  const auto scalars = b.get<std::int64_t>(96);
  head.data_offset = b.get<std::int64_t>(104);
  s.replacements = b.get<std::int64_t>(112);
  const std::int64_t limit = std::int64_t(1) << 40;  // sizes beyond this are damage
  const bool sane =
      (p.item_size == 4 || p.item_size == 8) && p.global_rows >= 0 && p.global_rows < limit &&
      p.columns > 0 && p.columns < (1 << 20) && p.vectors > 0 && p.vectors < 16 && history >= 0 &&
      history < (1 << 30) && s.iteration >= 0 && s.restarts >= 0 && s.replacements >= 0 &&
      scalars == scalar_bytes(p.columns, history) && head.data_offset == header_bytes + scalars;
  if (!sane) {
    return fail(
        "the checkpoint's header is damaged (its sizes are inconsistent); use an earlier "
        "checkpoint or start afresh");
  }
  const std::int64_t expected = head.data_offset + p.global_rows * row_size(p);
  if (file_bytes != expected) {
    return fail("the checkpoint is " +
                std::string(file_bytes < expected ? "truncated" : "too long") +
                ": its header says " + std::to_string(expected) + " bytes, the file has " +
                std::to_string(file_bytes) +
                " (a job killed while copying it?); use an earlier checkpoint or start afresh");
  }
  s.history.assign(static_cast<std::size_t>(history), {});
  return head;
}

/// Fills the scalar section of head.state from `b` (header + scalars).
void decode_scalars(const Bytes& b, CheckpointState& s) {
  const std::int64_t m = s.problem.columns;
  std::size_t at = header_bytes;
  const auto doubles = [&](std::vector<double>& v) {
    v.resize(m);
    for (std::int64_t c = 0; c < m; ++c, at += 8) v[c] = b.get<double>(at);
  };
  const auto integers = [&](std::vector<std::int64_t>& v) {
    v.resize(m);
    for (std::int64_t c = 0; c < m; ++c, at += 8) v[c] = b.get<std::int64_t>(at);
  };
  for_each_column_vector(s, doubles, integers);
}

/// checksum = hash(header with checksum 0, scalars) + sum of the row hashes.
std::uint64_t checksum_of(Bytes head, std::uint64_t row_hash_sum) {
  head.put<std::uint64_t>(checksum_at, 0);
  return detail::hash_bytes(0x6B696E7465727031ull, head.data().data(), head.data().size()) +
         row_hash_sum;
}

// ---- MPI-IO ----

/// Moves `bytes` bytes at file offset `offset` in chunks, with one collective
/// call per chunk on every rank (as many rounds as the rank with most to move).
template <class Call>
void for_each_chunk(MPI_Comm comm, std::int64_t bytes, Call&& call) {
  std::int64_t rounds = (bytes + chunk_bytes - 1) / chunk_bytes;
  MPI_Allreduce(MPI_IN_PLACE, &rounds, 1, MPI_INT64_T, MPI_MAX, comm);
  for (std::int64_t round = 0; round < rounds; ++round) {
    const std::int64_t first = std::min(bytes, round * chunk_bytes);
    call(first, std::min(chunk_bytes, bytes - first));
  }
}

}  // namespace

void write_checkpoint(MPI_Comm comm, const std::string& path, const CheckpointState& state) {
  const detail::ScopedRegion region("kinterp::write_checkpoint");
  const CheckpointProblem& p = state.problem;
  const int rank = rank_of(comm);
  const std::int64_t row = row_size(p);
  throw_if_any(comm,
               state.rows.count < 0 ||
                   static_cast<std::int64_t>(state.row_bytes.size()) != state.rows.count * row,
               path + ": checkpoint rows on rank " + std::to_string(rank) +
                   " do not match their block (a kinterp bug)");

  std::uint64_t rows_hash = detail::hash_rows(
      state.rows.begin, state.rows.count, state.row_bytes.data(), static_cast<std::size_t>(row));
  MPI_Allreduce(MPI_IN_PLACE, &rows_hash, 1, MPI_UINT64_T, MPI_SUM, comm);
  Bytes head = encode_head(state);
  head.put<std::uint64_t>(checksum_at, checksum_of(head, rows_hash));
  const std::int64_t data_offset = static_cast<std::int64_t>(head.data().size());

  const std::string temporary = path + ".tmp";
  {
    detail::MpiFile file(
        comm, temporary, MPI_MODE_WRONLY | MPI_MODE_CREATE,
        "cannot create the checkpoint file; check that its directory exists and is "
        "writable");
    detail::MpiFailures failures(temporary + ": rank " + std::to_string(rank) + ": ");
    // Setting the size also cuts a longer file left by a killed run.
    failures.check(MPI_File_set_size(file.get(), data_offset + p.global_rows * row),
                   "setting the file's size");
    if (rank == 0) {
      MPI_Status status;
      const int rc = MPI_File_write_at(file.get(), 0, head.data().data(),
                                       static_cast<int>(head.data().size()), MPI_BYTE, &status);
      failures.check(rc, "writing the header", status, MPI_BYTE, data_offset);
    }
    const MPI_Offset offset = data_offset + state.rows.begin * row;
    for_each_chunk(comm, static_cast<std::int64_t>(state.row_bytes.size()),
                   [&](std::int64_t first, std::int64_t count) {
                     MPI_Status status;
                     const int rc = MPI_File_write_at_all(
                         file.get(), offset + first, state.row_bytes.data() + first,
                         static_cast<int>(count), MPI_BYTE, &status);
                     failures.check(rc, "writing at byte " + std::to_string(offset + first), status,
                                    MPI_BYTE, count);
                   });
    failures.check(MPI_File_sync(file.get()), "syncing the file");
    failures.check(file.close(), "closing the file");
    failures.throw_if_any(comm);
  }
  std::string failure;
  if (rank == 0 && std::rename(temporary.c_str(), path.c_str()) != 0) {
    failure = "cannot rename " + temporary + " to " + path + " (" + std::strerror(errno) + ")";
  }
  throw_if_any(comm, !failure.empty(), failure);
}

CheckpointState read_checkpoint(MPI_Comm comm, const std::string& path,
                                const CheckpointProblem& expected, RowBlock rows) {
  const detail::ScopedRegion region("kinterp::read_checkpoint");
  const int rank = rank_of(comm);
  detail::MpiFile file(comm, path, MPI_MODE_RDONLY, "cannot open the checkpoint for reading");

  // Rank 0 reads the header and scalars; every rank then parses the same bytes,
  // so every rank reaches the same verdict.
  std::vector<unsigned char> head_bytes;
  std::int64_t file_bytes = 0;
  std::string failure;
  if (rank == 0) {
    MPI_Offset size = 0;
    detail::MpiFailures failures(path + ": ");
    failures.check(MPI_File_get_size(file.get(), &size), "getting the file's size");
    file_bytes = size;
    head_bytes.assign(static_cast<std::size_t>(header_bytes), 0);
    const std::int64_t first = std::min<std::int64_t>(file_bytes, header_bytes);
    MPI_Status status;
    if (!failures.failed() && first > 0) {
      failures.check(MPI_File_read_at(file.get(), 0, head_bytes.data(), static_cast<int>(first),
                                      MPI_BYTE, &status),
                     "reading the header", status, MPI_BYTE, first);
    }
    if (!failures.failed()) {
      const HeadLayout head = decode_header(Bytes(head_bytes), file_bytes, path);
      failure = head.problem;
      if (failure.empty()) {
        head_bytes.resize(static_cast<std::size_t>(head.data_offset));
        const std::int64_t more = head.data_offset - header_bytes;
        if (more > INT_MAX) {
          failure = path + ": the checkpoint's residual history is too long to read";
        } else if (more > 0) {
          failures.check(
              MPI_File_read_at(file.get(), header_bytes, head_bytes.data() + header_bytes,
                               static_cast<int>(more), MPI_BYTE, &status),
              "reading the scalars", status, MPI_BYTE, more);
        }
      }
    }
    if (failure.empty()) failure = failures.message();
  }
  throw_if_any(comm, !failure.empty(), failure);
  std::int64_t sizes[2] = {static_cast<std::int64_t>(head_bytes.size()), file_bytes};
  MPI_Bcast(sizes, 2, MPI_INT64_T, 0, comm);
  head_bytes.resize(static_cast<std::size_t>(sizes[0]));
  MPI_Bcast(head_bytes.data(), static_cast<int>(sizes[0]), MPI_BYTE, 0, comm);
  const Bytes head(head_bytes);
  HeadLayout layout = decode_header(head, sizes[1], path);
  CheckpointState state = std::move(layout.state);
  decode_scalars(head, state);
  const CheckpointProblem& p = state.problem;

  // Shapes first: the rows can only be read for the same N and m.
  const auto mismatch = [&](const std::string& what, const std::string& found,
                            const std::string& wanted) {
    throw Error(path + ": the checkpoint belongs to another problem: its " + what + " is " + found +
                ", this solve's is " + wanted +
                "; restart with the data, kernel and options it was written with");
  };
  const auto dtype = [](int item_size) {
    return std::string(item_size == 8 ? "float64" : "float32");
  };
  if (p.item_size != expected.item_size) {
    mismatch("precision", dtype(p.item_size), dtype(expected.item_size));
  }
  if (p.global_rows != expected.global_rows) {
    mismatch("number of points N", std::to_string(p.global_rows),
             std::to_string(expected.global_rows));
  }
  if (p.columns != expected.columns) {
    mismatch("number of right-hand sides m", std::to_string(p.columns),
             std::to_string(expected.columns));
  }
  if (p.vectors != expected.vectors) {
    mismatch("number of vectors per row", std::to_string(p.vectors),
             std::to_string(expected.vectors));
  }
  throw_if_any(comm, rows.begin < 0 || rows.count < 0 || rows.begin > p.global_rows - rows.count,
               path + ": rank " + std::to_string(rank) + " asks for rows outside the checkpoint");

  const std::int64_t row = row_size(p);
  state.rows = rows;
  state.row_bytes.assign(static_cast<std::size_t>(rows.count * row), 0);
  detail::MpiFailures failures(path + ": rank " + std::to_string(rank) + ": ");
  const MPI_Offset offset = layout.data_offset + rows.begin * row;
  // The blocks do not overlap, so collective reads are safe (Open MPI 4.1's
  // ompio can return zeros for overlapping ones).
  for_each_chunk(comm, static_cast<std::int64_t>(state.row_bytes.size()),
                 [&](std::int64_t first, std::int64_t count) {
                   MPI_Status status;
                   const int rc = MPI_File_read_at_all(file.get(), offset + first,
                                                       state.row_bytes.data() + first,
                                                       static_cast<int>(count), MPI_BYTE, &status);
                   failures.check(rc, "reading at byte " + std::to_string(offset + first), status,
                                  MPI_BYTE, count);
                 });
  failures.throw_if_any(comm);

  std::uint64_t rows_hash = detail::hash_rows(rows.begin, rows.count, state.row_bytes.data(),
                                              static_cast<std::size_t>(row));
  MPI_Allreduce(MPI_IN_PLACE, &rows_hash, 1, MPI_UINT64_T, MPI_SUM, comm);
  if (checksum_of(head, rows_hash) != layout.checksum) {
    throw Error(path +
                ": the checkpoint is damaged: its checksum does not match its contents (a "
                "disk or copy error?); use an earlier checkpoint or start afresh");
  }
  if (p.rhs_fingerprint != expected.rhs_fingerprint) {
    throw Error(path +
                ": the checkpoint belongs to another problem: it was written for other "
                "right-hand side values b; restart with the values it was written with");
  }
  if (p.problem_fingerprint != expected.problem_fingerprint) {
    throw Error(path +
                ": the checkpoint belongs to another problem: the points, kernel (with a "
                "formula's inputs), alpha, precision or preconditioner differ from those it was "
                "written with; restart "
                "with the same ones");
  }
  return state;
}

}  // namespace kinterp
