#include <kinterp/io/Csv.hpp>

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/core/detail/NumberText.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/io/OutputFile.hpp>

#include "RowLayout.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <vector>

namespace kinterp::io {
namespace {

using detail::allocate_rows;
using detail::broadcast_shape;
using detail::check_blocks;
using detail::check_layout;
using detail::gather_everywhere;
using kinterp::detail::count_text;

// The whole file, as rank 0 parses it.
struct Table {
  ArrayShape shape;
  std::vector<double> values;  // row-major
};

std::string trim(const std::string& text) {
  const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  const auto first = std::find_if_not(text.begin(), text.end(), space);
  const auto last = std::find_if_not(text.rbegin(), text.rend(), space).base();
  return first < last ? std::string(first, last) : std::string();
}

// A line's fields: split at commas when it has one, else at spaces and tabs.
std::vector<std::string> fields_of(const std::string& line) {
  std::vector<std::string> fields;
  if (line.find(',') != std::string::npos) {
    std::size_t start = 0;
    while (true) {
      const std::size_t comma = line.find(',', start);
      fields.push_back(trim(line.substr(start, comma - start)));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  } else {
    std::size_t start = 0;
    while (true) {
      start = line.find_first_not_of(" \t", start);
      if (start == std::string::npos) break;
      const std::size_t end = line.find_first_of(" \t", start);
      fields.push_back(line.substr(start, end - start));
      start = end;
    }
  }
  return fields;
}

std::optional<double> number(const std::string& field) {
  if (field.empty()) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(field.c_str(), &end);
  if (end != field.c_str() + field.size()) return std::nullopt;
  return value;
}

Table parse(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw Error(path + ": is a directory, not a CSV file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(path + ": cannot open the file for reading (" + std::strerror(errno) +
                "); check the path and the file's permissions");
  }
  Table table;
  std::size_t columns = 0;
  std::size_t first_row_line = 0, header_line = 0, header_fields = 0;
  std::int64_t rows = 0;
  std::string line;
  for (std::size_t number_of_line = 1; std::getline(in, line); ++number_of_line) {
    const std::string at = path + ", line " + std::to_string(number_of_line);
    const std::size_t hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    line = trim(line);
    if (line.empty()) continue;
    const std::vector<std::string> fields = fields_of(line);
    std::vector<double> row;
    std::size_t bad = fields.size();  // the first field that is not a number
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const auto value = number(fields[i]);
      if (!value) {
        bad = std::min(bad, i);
      } else {
        row.push_back(*value);
      }
    }
    const bool first_line = rows == 0 && header_line == 0;
    if (first_line && row.empty() &&
        std::none_of(fields.begin(), fields.end(),
                     [](const std::string& f) { return f.empty(); })) {
      header_line = number_of_line;  // names only: a header
      header_fields = fields.size();
      continue;
    }
    if (bad < fields.size()) {
      throw Error(at + ", field " + std::to_string(bad + 1) + ": " +
                  (fields[bad].empty() ? std::string("empty field")
                                       : "'" + fields[bad] + "' is not a number") +
                  "; every field after the optional header line must be a number (comments "
                  "start with '#')");
    }
    if (rows == 0) {
      columns = fields.size();
      first_row_line = number_of_line;
      if (header_line != 0 && header_fields != columns) {
        throw Error(at + ": " + count_text(columns, "value") + " but the header on line " +
                    std::to_string(header_line) + " has " + count_text(header_fields, "name") +
                    "; give one name per column");
      }
    } else if (fields.size() != columns) {
      throw Error(at + ": " + count_text(fields.size(), "value") + " but line " +
                  std::to_string(first_row_line) + " has " + std::to_string(columns) +
                  "; every row needs the same number of values");
    }
    table.values.insert(table.values.end(), row.begin(), row.end());
    ++rows;
  }
  if (in.bad()) throw Error(path + ": cannot read the file (" + std::strerror(errno) + ")");
  if (rows == 0 && header_line == 0) {
    throw Error(path + ": no rows of numbers (the file is empty or only comments)");
  }
  if (rows == 0) columns = header_fields;
  table.shape.rows = rows;
  table.shape.columns = static_cast<std::int64_t>(columns);
  table.shape.ndim = columns == 1 ? 1 : 2;
  table.shape.item_size = 8;
  return table;
}

// Point-to-point messages of at most INT_MAX doubles: CSV is for small data.
void check_message_size(MPI_Comm comm, const std::string& path, std::int64_t values) {
  throw_if_any(comm, values > INT_MAX,
               path + ": rank " + std::to_string(rank_of(comm)) + " would get " +
                   std::to_string(values) +
                   " values, too many for CSV, which goes through rank 0; use .npy or HDF5");
}

template <class T>
LocalRows<T> read(MPI_Comm comm, const std::string& path,
                  const std::optional<RowBlock>& requested) {
  const kinterp::detail::ScopedRegion region("kinterp::io::read_csv");
  const int rank = rank_of(comm);
  Table table;
  agree_on_errors(comm, [&] {
    if (rank == 0) table = parse(path);
  });
  const ArrayShape shape = broadcast_shape(comm, table.shape);
  const RowBlock block = requested ? *requested : block_partition(shape.rows, comm);
  check_blocks(comm, path, block, shape.rows);
  check_message_size(comm, path, block.count * shape.columns);

  LocalRows<T> local = allocate_rows<T>(comm, path, block, shape.rows, shape.columns, shape.ndim);
  std::vector<double> mine;
  if (rank == 0) {
    // Each rank's block (any blocks, overlapping or not) from rank 0's table.
    const std::vector<std::int64_t> blocks = gather_everywhere(comm, {block.begin, block.count});
    for (int to = 1; to < size_of(comm); ++to) {
      const std::int64_t begin = blocks[2 * to], count = blocks[2 * to + 1];
      MPI_Send(table.values.data() + begin * shape.columns, static_cast<int>(count * shape.columns),
               MPI_DOUBLE, to, 0, comm);
    }
    const auto first = table.values.begin() + block.begin * shape.columns;
    mine.assign(first, first + block.count * shape.columns);
  } else {
    gather_everywhere(comm, {block.begin, block.count});
    mine.resize(static_cast<std::size_t>(block.count * shape.columns));
    MPI_Recv(mine.data(), static_cast<int>(mine.size()), MPI_DOUBLE, 0, 0, comm, MPI_STATUS_IGNORE);
  }
  std::transform(mine.begin(), mine.end(), local.values.begin(),
                 [](double x) { return static_cast<T>(x); });
  return local;
}

}  // namespace

ArrayShape read_csv_shape(MPI_Comm comm, const std::string& path) {
  Table table;
  agree_on_errors(comm, [&] {
    if (rank_of(comm) == 0) table = parse(path);
  });
  return broadcast_shape(comm, table.shape);
}

template <class T>
LocalRows<T> read_csv(MPI_Comm comm, const std::string& path) {
  return read<T>(comm, path, std::nullopt);
}

template <class T>
LocalRows<T> read_csv(MPI_Comm comm, const std::string& path, RowBlock block) {
  return read<T>(comm, path, block);
}

template <class T>
void write_csv(MPI_Comm comm, const std::string& path, const LocalRows<T>& local) {
  const kinterp::detail::ScopedRegion region("kinterp::io::write_csv");
  check_layout(comm, path, local, 8);
  const int rank = rank_of(comm), size = size_of(comm);
  check_message_size(comm, path, rank == 0 ? local.global_rows * local.columns : 0);

  // The blocks are contiguous and ordered by rank (checked): gather them in order.
  const std::vector<std::int64_t> counts64 =
      gather_everywhere(comm, {static_cast<std::int64_t>(local.values.size())});
  std::vector<int> counts(size), offsets(size);
  for (int r = 0, offset = 0; r < size; ++r) {
    counts[r] = static_cast<int>(counts64[r]);
    offsets[r] = offset;
    offset += counts[r];
  }
  std::vector<double> mine(local.values.begin(), local.values.end());
  std::vector<double> all(rank == 0 ? static_cast<std::size_t>(local.global_rows * local.columns)
                                    : 0);
  MPI_Gatherv(mine.data(), static_cast<int>(mine.size()), MPI_DOUBLE, all.data(), counts.data(),
              offsets.data(), MPI_DOUBLE, 0, comm);

  // Written whole under a temporary name, then renamed (OutputFile.hpp).
  const std::string temporary = temporary_path(path);
  agree_on_errors(comm, [&] {
    if (rank != 0) return;
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(temporary.c_str(), "w"),
                                                               &std::fclose);
    if (!file) {
      throw Error(path + ": cannot create the output file (as " + temporary + ": " +
                  std::strerror(errno) + "); check that its directory exists and is writable");
    }
    bool ok = true;
    for (std::int64_t row = 0; row < local.global_rows; ++row) {
      for (std::int64_t column = 0; column < local.columns; ++column) {
        ok = ok && std::fprintf(file.get(), column == 0 ? "%.17g" : ",%.17g",
                                all[row * local.columns + column]) > 0;
      }
      ok = ok && std::fputc('\n', file.get()) != EOF;
    }
    if (!ok || std::fflush(file.get()) != 0 || ::fsync(::fileno(file.get())) != 0) {
      throw Error(path + ": writing the file failed (" + std::strerror(errno) +
                  "); check that the file system is not full");
    }
  });
  detail::commit_output(comm, temporary, path);
}

#define KINTERP_CSV_INSTANTIATE(T)                                           \
  template LocalRows<T> read_csv<T>(MPI_Comm, const std::string&);           \
  template LocalRows<T> read_csv<T>(MPI_Comm, const std::string&, RowBlock); \
  template void write_csv<T>(MPI_Comm, const std::string&, const LocalRows<T>&);
KINTERP_CSV_INSTANTIATE(float)
KINTERP_CSV_INSTANTIATE(double)
#undef KINTERP_CSV_INSTANTIATE

}  // namespace kinterp::io
