#include <kinterp/io/RowFile.hpp>

#include <kinterp/core/Error.hpp>
#include <kinterp/io/Csv.hpp>

#include <algorithm>
#include <cctype>

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

ArrayShape read_shape(MPI_Comm comm, const std::string& spec) {
  const FileSpec file = FileSpec::parse(spec);
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

template <class T>
LocalRows<T> read_rows(MPI_Comm comm, const std::string& spec) {
  const FileSpec file = FileSpec::parse(spec);
  switch (file.format) {
    case FileFormat::Hdf5:
      return read_hdf5<T>(comm, file.path, file.dataset);
    case FileFormat::Csv:
      return read_csv<T>(comm, file.path);
    case FileFormat::Npy:
      break;
  }
  return read_npy<T>(comm, file.path);
}

template <class T>
LocalRows<T> read_rows(MPI_Comm comm, const std::string& spec, RowBlock block) {
  const FileSpec file = FileSpec::parse(spec);
  switch (file.format) {
    case FileFormat::Hdf5:
      return read_hdf5<T>(comm, file.path, file.dataset, block);
    case FileFormat::Csv:
      return read_csv<T>(comm, file.path, block);
    case FileFormat::Npy:
      break;
  }
  return read_npy<T>(comm, file.path, block);
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
