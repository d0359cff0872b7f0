#include "NpyDetail.hpp"

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/MpiTraits.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/io/OutputFile.hpp>
#include <kinterp/io/detail/MpiFile.hpp>

#include "RowLayout.hpp"

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <vector>

// Elements go between file and memory byte for byte, and .npy files here are '<'.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "kinterp's .npy I/O assumes a little-endian host"
#endif

namespace kinterp::io {
namespace {

using detail::allocate;
using detail::check_blocks;
using detail::check_layout;
using detail::for_each_chunk;

constexpr char magic[] = "\x93NUMPY";
constexpr std::size_t magic_size = 6;

// ---- The header: a Python dict literal ----

// A Python literal of the kinds a .npy header holds; `source` is its text, for messages.
struct Literal {
  enum class Kind { String, Bool, Int, Sequence };
  Kind kind = Kind::Int;
  std::string source;
  std::string string;
  bool flag = false;
  std::int64_t integer = 0;
  std::vector<Literal> items;
};

// Parses what numpy writes and what a person might: any key order and spacing,
// trailing commas, either quote, tuples or lists, Python 2's "3L".
class LiteralParser {
 public:
  explicit LiteralParser(std::string_view text) : text_(text) {}

  std::map<std::string, Literal> dict() {
    expect('{');
    std::map<std::string, Literal> entries;
    while (!accept('}')) {
      const Literal key = value();
      if (key.kind != Literal::Kind::String) fail("a key that is not a string");
      expect(':');
      entries[key.string] = value();
      if (!accept(',')) {
        expect('}');
        break;
      }
    }
    skip_space();
    if (pos_ != text_.size()) fail("text after the closing '}'");
    return entries;
  }

 private:
  Literal value() {
    skip_space();
    if (pos_ == text_.size()) fail("the end of the header");
    Literal literal;
    const std::size_t start = pos_;
    const char c = text_[pos_];
    if (c == '\'' || c == '"') {
      const std::size_t end = text_.find(c, pos_ + 1);
      if (end == std::string_view::npos) fail("a string without its closing quote");
      literal.kind = Literal::Kind::String;
      literal.string = std::string(text_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end + 1;
    } else if (c == '(' || c == '[') {
      const char close = c == '(' ? ')' : ']';
      literal.kind = Literal::Kind::Sequence;
      ++pos_;
      while (!accept(close)) {
        literal.items.push_back(value());
        if (!accept(',')) {
          expect(close);
          break;
        }
      }
    } else if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      literal.kind = Literal::Kind::Int;
      literal.integer = integer();
    } else if (text_.compare(pos_, 4, "True") == 0 || text_.compare(pos_, 5, "False") == 0) {
      literal.kind = Literal::Kind::Bool;
      literal.flag = c == 'T';
      pos_ += literal.flag ? 4 : 5;
    } else {
      fail(std::string("'") + c + "'");
    }
    literal.source = std::string(text_.substr(start, pos_ - start));
    return literal;
  }

  std::int64_t integer() {
    const bool negative = text_[pos_] == '-';
    if (negative) ++pos_;
    const std::size_t first_digit = pos_;
    std::int64_t value = 0;
    for (; pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_])); ++pos_) {
      const int digit = text_[pos_] - '0';
      if (value > (std::numeric_limits<std::int64_t>::max() - digit) / 10) fail("a huge integer");
      value = 10 * value + digit;
    }
    if (pos_ == first_digit) fail("'-' without digits");
    if (pos_ < text_.size() && (text_[pos_] == 'L' || text_[pos_] == 'l')) ++pos_;
    return negative ? -value : value;
  }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  bool accept(char c) {
    skip_space();
    if (pos_ == text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  void expect(char c) {
    if (!accept(c)) fail(std::string("no '") + c + "'");
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(what + " at character " + std::to_string(pos_));
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// The header's meaning; data_offset is left to the caller.
NpyHeader interpret_header(const std::string& path, const std::string& text) {
  std::map<std::string, Literal> dict;
  try {
    dict = LiteralParser(text).dict();
  } catch (const std::runtime_error& e) {
    const std::string shown = text.substr(0, text.find_last_not_of(" \n") + 1);
    throw Error(path + ": cannot parse the .npy header \"" + shown + "\" (" + e.what() +
                "); write the file with numpy.save");
  }
  const auto entry = [&](const std::string& key) -> const Literal& {
    const auto found = dict.find(key);
    if (found == dict.end()) {
      throw Error(path + ": the .npy header has no '" + key +
                  "' entry; write the file with numpy.save");
    }
    return found->second;
  };

  NpyHeader header;
  const Literal& descr = entry("descr");
  if (descr.kind != Literal::Kind::String || (descr.string != "<f8" && descr.string != "<f4")) {
    throw Error(path + ": unsupported dtype " + descr.source +
                "; kinterp reads little-endian float64 ('<f8') or float32 ('<f4'): save "
                "x.astype(np.float64) instead");
  }
  header.item_size = descr.string == "<f8" ? 8 : 4;

  const Literal& order = entry("fortran_order");
  if (order.kind != Literal::Kind::Bool) {
    throw Error(path + ": the header's 'fortran_order' is " + order.source +
                ", not True or False; write the file with numpy.save");
  }
  if (order.flag) {
    throw Error(path +
                ": the array is stored in Fortran (column-major) order; kinterp reads C order: "
                "save np.ascontiguousarray(x) instead");
  }

  const Literal& shape = entry("shape");
  const bool valid = shape.kind == Literal::Kind::Sequence &&
                     std::all_of(shape.items.begin(), shape.items.end(), [](const Literal& item) {
                       return item.kind == Literal::Kind::Int && item.integer >= 0;
                     });
  if (!valid) {
    throw Error(path + ": the header's shape " + shape.source +
                " is not a tuple of non-negative integers; write the file with numpy.save");
  }
  if (shape.items.size() > 2) {
    throw Error(path + ": the array has shape " + shape.source +
                ", more than 2 dimensions; kinterp reads shape (N,) or (N, d): save "
                "x.reshape(x.shape[0], -1) instead");
  }
  if (shape.items.empty()) {
    throw Error(path +
                ": the array is a scalar (shape ()); kinterp reads shape (N,) or (N, d): "
                "save np.atleast_1d(x) instead");
  }
  header.ndim = static_cast<int>(shape.items.size());
  header.rows = shape.items[0].integer;
  header.columns = header.ndim == 2 ? shape.items[1].integer : 1;
  return header;
}

// Reads and checks the header with stdio; run on one rank only.
NpyHeader read_header_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw Error(path +
                ": is a directory, not a .npy file; pass the path of a file written by "
                "numpy.save");
  }
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (!file) {
    throw Error(path + ": cannot open the file for reading (" + std::strerror(errno) +
                "); check the path and the file's permissions");
  }
  const auto file_bytes = static_cast<std::int64_t>(std::filesystem::file_size(path, ec));
  if (ec) throw Error(path + ": cannot get the file's size (" + ec.message() + ")");
  const auto read = [&](char* to, std::size_t bytes) {
    if (std::fread(to, 1, bytes, file.get()) != bytes) {
      throw Error(path + ": cannot read the file (" + std::strerror(errno) + ")");
    }
  };
  const auto check_header_present = [&](std::int64_t header_bytes) {
    if (file_bytes < header_bytes) {
      throw Error(path + ": the file is truncated inside its .npy header (" +
                  std::to_string(header_bytes) + " bytes expected, " + std::to_string(file_bytes) +
                  " present); write it again");
    }
  };

  unsigned char prefix[12] = {};
  if (file_bytes >= 8) read(reinterpret_cast<char*>(prefix), 8);
  if (file_bytes < 8 || std::memcmp(prefix, magic, magic_size) != 0) {
    throw Error(path +
                ": not a NumPy .npy file (it does not begin with \"\\x93NUMPY\"); write "
                "the array with numpy.save");
  }
  const int major = prefix[6], minor = prefix[7];
  if (major < 1 || major > 3 || minor != 0) {
    throw Error(path + ": unsupported .npy format version " + std::to_string(major) + "." +
                std::to_string(minor) +
                "; kinterp reads versions 1.0, 2.0 and 3.0: write the file with numpy.save");
  }
  // Version 1.0 has a 2-byte header length, 2.0 and 3.0 a 4-byte one, little-endian.
  const int length_bytes = major == 1 ? 2 : 4;
  check_header_present(8 + length_bytes);
  read(reinterpret_cast<char*>(prefix) + 8, length_bytes);
  std::int64_t text_bytes = 0;
  for (int i = length_bytes - 1; i >= 0; --i) text_bytes = 256 * text_bytes + prefix[8 + i];
  const std::int64_t data_offset = 8 + length_bytes + text_bytes;
  check_header_present(data_offset);
  std::string text(static_cast<std::size_t>(text_bytes), '\0');
  read(text.data(), text.size());

  NpyHeader header = interpret_header(path, text);
  header.data_offset = data_offset;
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  if (header.columns > 0 && header.rows > (max - data_offset) / header.item_size / header.columns) {
    throw Error(path + ": the shape in the .npy header is impossibly large; write the file again");
  }
  const std::int64_t expected = data_offset + header.rows * header.columns * header.item_size;
  if (file_bytes < expected) {
    const std::string shape = header.ndim == 1 ? "(" + std::to_string(header.rows) + ",)"
                                               : "(" + std::to_string(header.rows) + ", " +
                                                     std::to_string(header.columns) + ")";
    throw Error(path + ": the file is truncated: its header says shape " + shape + " of '<f" +
                std::to_string(header.item_size) + "', " + std::to_string(expected) +
                " bytes in all, but the file has " + std::to_string(file_bytes) +
                " bytes; write it again");
  }
  return header;
}

// The header numpy.save writes (format 1.0): the dict, room for shape[0] to grow
// to 21 digits, then spaces and '\n' so that the data starts at a multiple of 64.
std::string npy_header(std::int64_t rows, std::int64_t columns, int ndim, int item_size) {
  const std::string rows_text = std::to_string(rows);
  const std::string shape =
      ndim == 1 ? "(" + rows_text + ",)" : "(" + rows_text + ", " + std::to_string(columns) + ")";
  std::string dict = "{'descr': '<f" + std::to_string(item_size) +
                     "', 'fortran_order': False, 'shape': " + shape + ", }";
  dict.append(21 - rows_text.size(), ' ');
  constexpr std::size_t prefix_bytes = 10, align = 64;
  dict.append(align - (prefix_bytes + dict.size() + 1) % align, ' ');
  dict += '\n';
  std::string header(magic, magic_size);
  header +=
      {'\x01', '\x00', static_cast<char>(dict.size() & 0xff), static_cast<char>(dict.size() >> 8)};
  return header + dict;
}

// ---- MPI-IO ----

std::int64_t chunk_elements(std::int64_t chunk_bytes, std::size_t item_size) {
  return std::clamp<std::int64_t>(chunk_bytes / static_cast<std::int64_t>(item_size), 1, INT_MAX);
}

// Reads n elements of type FileT at byte `offset` into `out`, converting to T;
// with collective MPI-IO calls unless `collective` is false.
template <class FileT, class T>
void read_elements(MPI_Comm comm, MPI_File file, bool collective, MPI_Offset offset, T* out,
                   std::int64_t n, std::int64_t chunk_bytes, const std::string& path,
                   kinterp::detail::MpiFailures& failures) {
  constexpr bool same = std::is_same_v<FileT, T>;
  const auto read = collective ? &MPI_File_read_at_all : &MPI_File_read_at;
  const MPI_Datatype type = MpiTraits<FileT>::type();
  const std::int64_t chunk = chunk_elements(chunk_bytes, sizeof(FileT));
  std::vector<FileT> buffer;
  if (!same) allocate(comm, path, buffer, std::min(n, chunk));
  for_each_chunk(comm, n, chunk, [&](std::int64_t first, std::int64_t count) {
    void* target = same ? static_cast<void*>(out + first) : buffer.data();
    const MPI_Offset at = offset + first * static_cast<MPI_Offset>(sizeof(FileT));
    MPI_Status status;
    const int rc = read(file, at, target, static_cast<int>(count), type, &status);
    failures.check(rc, "reading at byte " + std::to_string(at), status, type, count);
    if (!same) {
      std::transform(buffer.begin(), buffer.begin() + count, out + first,
                     [](FileT x) { return static_cast<T>(x); });
    }
  });
}

// Writes n elements of `in` at byte `offset`, converted to FileT.
template <class FileT, class T>
void write_elements(MPI_Comm comm, MPI_File file, MPI_Offset offset, const T* in, std::int64_t n,
                    std::int64_t chunk_bytes, const std::string& path,
                    kinterp::detail::MpiFailures& failures) {
  constexpr bool same = std::is_same_v<FileT, T>;
  const MPI_Datatype type = MpiTraits<FileT>::type();
  const std::int64_t chunk = chunk_elements(chunk_bytes, sizeof(FileT));
  std::vector<FileT> buffer;
  if (!same) allocate(comm, path, buffer, std::min(n, chunk));
  for_each_chunk(comm, n, chunk, [&](std::int64_t first, std::int64_t count) {
    if (!same) {
      std::transform(in + first, in + first + count, buffer.begin(),
                     [](T x) { return static_cast<FileT>(x); });
    }
    const void* source = same ? static_cast<const void*>(in + first) : buffer.data();
    const MPI_Offset at = offset + first * static_cast<MPI_Offset>(sizeof(FileT));
    MPI_Status status;
    const int rc = MPI_File_write_at_all(file, at, source, static_cast<int>(count), type, &status);
    failures.check(rc, "writing at byte " + std::to_string(at), status, type, count);
  });
}

}  // namespace

NpyHeader read_npy_header(MPI_Comm comm, const std::string& path) {
  NpyHeader header;
  agree_on_errors(comm, [&] {
    if (rank_of(comm) == 0) header = read_header_file(path);
  });
  std::int64_t fields[5] = {header.rows, header.columns, header.ndim, header.item_size,
                            header.data_offset};
  MPI_Bcast(fields, 5, MPI_INT64_T, 0, comm);
  header.rows = fields[0];
  header.columns = fields[1];
  header.ndim = static_cast<int>(fields[2]);
  header.item_size = static_cast<int>(fields[3]);
  header.data_offset = fields[4];
  return header;
}

template <class T>
LocalRows<T> read_npy(MPI_Comm comm, const std::string& path) {
  return detail::read_npy<T>(comm, path, std::nullopt, detail::default_chunk_bytes);
}

template <class T>
LocalRows<T> read_npy(MPI_Comm comm, const std::string& path, RowBlock block) {
  return detail::read_npy<T>(comm, path, block, detail::default_chunk_bytes);
}

template <class T>
void write_npy(MPI_Comm comm, const std::string& path, const LocalRows<T>& local, int item_size) {
  detail::write_npy(comm, path, local, item_size, detail::default_chunk_bytes);
}

template <class T>
LocalRows<T> detail::read_npy(MPI_Comm comm, const std::string& path,
                              const std::optional<RowBlock>& requested, std::int64_t chunk_bytes) {
  const kinterp::detail::ScopedRegion region("kinterp::io::read_npy");
  const NpyHeader header = read_npy_header(comm, path);
  const int rank = rank_of(comm);
  const RowBlock block = requested ? *requested : block_partition(header.rows, rank, size_of(comm));
  // Open MPI 4.1's ompio returns zeros for some overlapping collective reads
  // (e.g. rows [0, 20), [5, 10), [10, 15) on three ranks); independent reads are right.
  const bool collective = !check_blocks(comm, path, block, header.rows);

  LocalRows<T> local =
      allocate_rows<T>(comm, path, block, header.rows, header.columns, header.ndim);

  kinterp::detail::MpiFile file(
      comm, path, MPI_MODE_RDONLY, "cannot open the file with MPI-IO",
      "every rank must see the file: put it on a file system shared by all nodes");
  kinterp::detail::MpiFailures failures(path + ": rank " + std::to_string(rank) + ": ");
  const MPI_Offset offset = header.data_offset + block.begin * header.columns * header.item_size;
  const std::int64_t n = static_cast<std::int64_t>(local.values.size());
  if (header.item_size == 4) {
    read_elements<float>(comm, file.get(), collective, offset, local.values.data(), n, chunk_bytes,
                         path, failures);
  } else {
    read_elements<double>(comm, file.get(), collective, offset, local.values.data(), n, chunk_bytes,
                          path, failures);
  }
  failures.throw_if_any(comm);
  return local;
}

template <class T>
void detail::write_npy(MPI_Comm comm, const std::string& path, const LocalRows<T>& local,
                       int item_size, std::int64_t chunk_bytes) {
  const kinterp::detail::ScopedRegion region("kinterp::io::write_npy");
  check_layout(comm, path, local, item_size);
  const int rank = rank_of(comm);
  // Written whole under a temporary name, then renamed (OutputFile.hpp).
  const std::string temporary = temporary_path(path);
  kinterp::detail::MpiFile file(comm, temporary, MPI_MODE_WRONLY | MPI_MODE_CREATE,
                                "cannot create the output file (as " + temporary + ")",
                                "check that its directory exists and is writable", path);

  kinterp::detail::MpiFailures failures(path + ": rank " + std::to_string(rank) + ": ");
  const std::string header = npy_header(local.global_rows, local.columns, local.ndim, item_size);
  const auto header_bytes = static_cast<MPI_Offset>(header.size());
  // Setting the size also truncates a longer file that was there before.
  failures.check(
      MPI_File_set_size(file.get(), header_bytes + local.global_rows * local.columns * item_size),
      "setting the file's size");
  if (rank == 0) {
    MPI_Status status;
    const int rc = MPI_File_write_at(file.get(), 0, header.data(), static_cast<int>(header.size()),
                                     MPI_CHAR, &status);
    failures.check(rc, "writing the header", status, MPI_CHAR, header_bytes);
  }
  const MPI_Offset offset = header_bytes + local.block.begin * local.columns * item_size;
  const std::int64_t n = static_cast<std::int64_t>(local.values.size());
  if (item_size == 4) {
    write_elements<float>(comm, file.get(), offset, local.values.data(), n, chunk_bytes, path,
                          failures);
  } else {
    write_elements<double>(comm, file.get(), offset, local.values.data(), n, chunk_bytes, path,
                           failures);
  }
  failures.check(MPI_File_sync(file.get()), "syncing the file");
  failures.check(file.close(), "closing the file");
  failures.throw_if_any(comm);
  commit_output(comm, temporary, path);
}

#define KINTERP_NPY_INSTANTIATE(T)                                                           \
  template LocalRows<T> read_npy<T>(MPI_Comm, const std::string&);                           \
  template LocalRows<T> read_npy<T>(MPI_Comm, const std::string&, RowBlock);                 \
  template void write_npy<T>(MPI_Comm, const std::string&, const LocalRows<T>&, int);        \
  template LocalRows<T> detail::read_npy<T>(MPI_Comm, const std::string&,                    \
                                            const std::optional<RowBlock>&, std::int64_t);   \
  template void detail::write_npy<T>(MPI_Comm, const std::string&, const LocalRows<T>&, int, \
                                     std::int64_t);
KINTERP_NPY_INSTANTIATE(float)
KINTERP_NPY_INSTANTIATE(double)
#undef KINTERP_NPY_INSTANTIATE

}  // namespace kinterp::io
