#include <kinterp/io/RowFile.hpp>

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/NumberText.hpp>
#include <kinterp/io/Csv.hpp>
#include <kinterp/io/OutputFile.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <sstream>
#include <type_traits>
#include <vector>

namespace kinterp::io {
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool ends_with(const std::string& text, const std::string& end) {
  return text.size() >= end.size() && text.compare(text.size() - end.size(), end.size(), end) == 0;
}

}  // namespace

FileSpec FileSpec::parse(const std::string& spec) {
  FileSpec parsed;
  parsed.text = spec;
  parsed.path = spec;
  const std::string folded = lower(spec);
  // The first ".h5:" or ".hdf5:" ends the file's name; the dataset follows.
  std::size_t split = std::string::npos;
  for (const std::string extension : {".h5:", ".hdf5:"}) {
    const std::size_t at = folded.find(extension);
    if (at != std::string::npos) split = std::min(split, at + extension.size() - 1);
  }
  if (split != std::string::npos) {
    parsed.format = FileFormat::Hdf5;
    parsed.path = spec.substr(0, split);
    parsed.dataset = spec.substr(split + 1);
    if (parsed.dataset.find_first_not_of('/') == std::string::npos) {
      throw Error(spec + ": no dataset after the ':'; name the HDF5 dataset by its path in the " +
                  "file, e.g. " + parsed.path + ":/points");
    }
    return parsed;
  }
  if (ends_with(folded, ".h5") || ends_with(folded, ".hdf5")) {
    throw Error(spec + ": an HDF5 file needs the dataset's name too: " + spec + ":/DATASET (e.g. " +
                spec + ":/points, or " + spec + ":/group/points)");
  }
  if (ends_with(folded, ".csv")) parsed.format = FileFormat::Csv;
  return parsed;
}

namespace {

/// Every rank alike (the shape is the file's): rows of no values are no data.
void require_columns(const std::string& spec, std::int64_t rows, std::int64_t columns) {
  if (columns == 0) {
    throw Error(spec + ": has shape (" + std::to_string(rows) +
                ", 0), rows without values; write an array of shape (N, d) with d >= 1");
  }
}

ArrayShape shape_of(MPI_Comm comm, const FileSpec& file) {
  switch (file.format) {
    case FileFormat::Hdf5:
      return read_hdf5_shape(comm, file.path, file.dataset);
    case FileFormat::Csv:
      return read_csv_shape(comm, file.path);
    case FileFormat::Npy:
      break;
  }
  const NpyHeader header = read_npy_header(comm, file.path);
  ArrayShape shape;
  shape.rows = header.rows;
  shape.columns = header.columns;
  shape.ndim = header.ndim;
  shape.item_size = header.item_size;
  return shape;
}

}  // namespace

ArrayShape read_shape(MPI_Comm comm, const std::string& spec) {
  const ArrayShape shape = shape_of(comm, FileSpec::parse(spec));
  require_columns(spec, shape.rows, shape.columns);
  return shape;
}

namespace {

template <class T>
LocalRows<T> read_as(MPI_Comm comm, const FileSpec& file, const std::optional<RowBlock>& block) {
  switch (file.format) {
    case FileFormat::Hdf5:
      return block ? read_hdf5<T>(comm, file.path, file.dataset, *block)
                   : read_hdf5<T>(comm, file.path, file.dataset);
    case FileFormat::Csv:
      return block ? read_csv<T>(comm, file.path, *block) : read_csv<T>(comm, file.path);
    case FileFormat::Npy:
      break;
  }
  return block ? read_npy<T>(comm, file.path, *block) : read_npy<T>(comm, file.path);
}

/// Collective. `rows` in float; a finite value beyond float's range is an
/// error that says so (rather than an Inf that later reads as bad data).
LocalRows<float> narrowed(MPI_Comm comm, const FileSpec& file, const LocalRows<double>& rows) {
  LocalRows<float> out;
  out.global_rows = rows.global_rows;
  out.columns = rows.columns;
  out.ndim = rows.ndim;
  out.block = rows.block;
  out.values.resize(rows.values.size());
  constexpr double largest = std::numeric_limits<float>::max();
  std::size_t first = rows.values.size();
  for (std::size_t k = 0; k < rows.values.size(); ++k) {
    const double value = rows.values[k];
    if (std::isfinite(value) && std::abs(value) > largest && first == rows.values.size()) {
      first = k;
    }
    out.values[k] = static_cast<float>(value);
  }
  const bool overflow = first < rows.values.size();
  throw_if_any(comm, overflow,
               overflow ? file.text + ": row " +
                              std::to_string(rows.block.begin +
                                             static_cast<std::int64_t>(first) / rows.columns) +
                              " holds " + kinterp::detail::number_text(rows.values[first]) +
                              ", beyond float's range (magnitudes up to 3.4e38): compute in "
                              "double precision (--precision double) or rescale the data"
                        : std::string());
  return out;
}

template <class T>
LocalRows<T> read_spec(MPI_Comm comm, const std::string& spec,
                       const std::optional<RowBlock>& block) {
  const FileSpec file = FileSpec::parse(spec);
  LocalRows<T> rows;
  if constexpr (std::is_same_v<T, float>) {
    rows = narrowed(comm, file, read_as<double>(comm, file, block));
  } else {
    rows = read_as<T>(comm, file, block);
  }
  require_columns(spec, rows.global_rows, rows.columns);
  return rows;
}

}  // namespace

template <class T>
LocalRows<T> read_rows(MPI_Comm comm, const std::string& spec) {
  return read_spec<T>(comm, spec, std::nullopt);
}

template <class T>
LocalRows<T> read_rows(MPI_Comm comm, const std::string& spec, RowBlock block) {
  return read_spec<T>(comm, spec, block);
}

template <class T>
void write_rows(MPI_Comm comm, const std::string& spec, const LocalRows<T>& local, int item_size,
                const Attributes& attributes) {
  const FileSpec file = FileSpec::parse(spec);
  switch (file.format) {
    case FileFormat::Hdf5:
      return write_hdf5(comm, file.path, file.dataset, local, item_size, attributes);
    case FileFormat::Csv:
      return write_csv(comm, file.path, local);
    case FileFormat::Npy:
      break;
  }
  write_npy(comm, file.path, local, item_size);
}

void require_output(MPI_Comm comm, const std::string& spec) {
  const FileSpec file = FileSpec::parse(spec);
  if (file.format == FileFormat::Hdf5) require_hdf5(file.path);
  require_writable(comm, file.path);
  if (file.format != FileFormat::Hdf5) return;
  agree_on_errors(comm, [&] {
    std::error_code ec;
    if (rank_of(comm) == 0 && std::filesystem::exists(file.path, ec) && !is_hdf5_file(file.path)) {
      throw Error(file.path +
                  ": exists and is not an HDF5 file, so kinterp does not add a dataset to it; "
                  "remove it or choose another name");
    }
  });
}

bool same_data(const std::string& a, const std::string& b) {
  const FileSpec x = FileSpec::parse(a), y = FileSpec::parse(b);
  if (!same_file(x.path, y.path)) return false;
  if (x.format != FileFormat::Hdf5 || y.format != FileFormat::Hdf5) return true;
  // Dataset paths compared by their components.
  const auto components = [](const std::string& dataset) {
    std::vector<std::string> parts;
    std::stringstream path(dataset);
    for (std::string part; std::getline(path, part, '/');) {
      if (!part.empty()) parts.push_back(part);
    }
    return parts;
  };
  return components(x.dataset) == components(y.dataset);
}

Attributes read_attributes(MPI_Comm comm, const std::string& spec) {
  const FileSpec file = FileSpec::parse(spec);
  if (file.format != FileFormat::Hdf5) return {};
  return read_hdf5_attributes(comm, file.path, file.dataset);
}

#define KINTERP_ROW_FILE_INSTANTIATE(T)                                               \
  template LocalRows<T> read_rows<T>(MPI_Comm, const std::string&);                   \
  template LocalRows<T> read_rows<T>(MPI_Comm, const std::string&, RowBlock);         \
  template void write_rows<T>(MPI_Comm, const std::string&, const LocalRows<T>&, int, \
                              const Attributes&);
KINTERP_ROW_FILE_INSTANTIATE(float)
KINTERP_ROW_FILE_INSTANTIATE(double)
#undef KINTERP_ROW_FILE_INSTANTIATE

}  // namespace kinterp::io
