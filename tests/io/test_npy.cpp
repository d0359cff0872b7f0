// The parallel .npy reader and writer, checked against files whose bytes are
// written here the way numpy.save lays them out (and against numpy itself when
// /usr/bin/python3 has it).

#include "NpyDetail.hpp"

#include <kinterp/core/Error.hpp>
#include <kinterp/io/Npy.hpp>

#include "IoTestSupport.hpp"

#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using kinterp::RowBlock;
using kinterp::io::LocalRows;
using kinterp::io::read_npy;
using kinterp::io::write_npy;

using namespace kinterp::test;  // IoTestSupport.hpp: the scratch directory, arrays, checks

[[maybe_unused]] ::testing::Environment* const scratch =
    ::testing::AddGlobalTestEnvironment(new ScratchDirectory("kinterp_test_npy"));

// Exactly representable in float32, so every conversion must reproduce it exactly.
double value(std::int64_t row, std::int64_t column) {
  return 0.25 * row - 3.0 * column + 0.5;
}

// The shared writer and check (IoTestSupport.hpp), on this file's array.
template <class T>
LocalRows<T> make_rows(std::int64_t rows, std::int64_t columns, int ndim, RowBlock block) {
  return kinterp::test::make_rows<T>(rows, columns, ndim, block, value);
}
template <class T>
void expect_rows(const LocalRows<T>& local, RowBlock block, std::int64_t rows, std::int64_t columns,
                 int ndim) {
  kinterp::test::expect_rows(local, block, rows, columns, ndim, value);
}

template <class F>
std::string data_bytes(std::int64_t rows, std::int64_t columns) {
  std::string bytes;
  for (std::int64_t row = 0; row < rows; ++row) {
    for (std::int64_t column = 0; column < columns; ++column) {
      const F x = static_cast<F>(value(row, column));
      bytes.append(reinterpret_cast<const char*>(&x), sizeof x);
    }
  }
  return bytes;
}

// A .npy file as numpy.save lays it out: magic, version, little-endian header
// length (2 bytes in version 1, 4 after), the dict padded with spaces and '\n' so
// that the data starts at a multiple of 64 bytes, then the data.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1) {
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  std::string text = dict;
  text.append((64 - (8 + length_bytes + text.size() + 1) % 64) % 64, ' ');
  text += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += {static_cast<char>(major), '\0'};
  for (std::size_t i = 0; i < length_bytes; ++i) {
    bytes += static_cast<char>((text.size() >> (8 * i)) & 0xff);
  }
  return bytes + text + data;
}

// ---- Reading files written by hand ----

TEST(ReadNpy, Float64MatrixGivesEachRankItsBlock) {
  const std::string path = ScratchDirectory::file("f8_7x3.npy");
  write_file(path, npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (7, 3), }",
                             data_bytes<double>(7, 3)));
  expect_rows(read_npy<double>(MPI_COMM_WORLD, path), default_block(7), 7, 3, 2);
  expect_rows(read_npy<float>(MPI_COMM_WORLD, path), default_block(7), 7, 3, 2);

  const auto header = kinterp::io::read_npy_header(MPI_COMM_WORLD, path);
  EXPECT_EQ(header.rows, 7);
  EXPECT_EQ(header.columns, 3);
  EXPECT_EQ(header.ndim, 2);
  EXPECT_EQ(header.item_size, 8);
  EXPECT_EQ(header.data_offset, 128);
}

TEST(ReadNpy, Float32VectorIsConvertedOnRead) {
  const std::string path = ScratchDirectory::file("f4_9.npy");
  write_file(path, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (9,), }",
                             data_bytes<float>(9, 1)));
  expect_rows(read_npy<double>(MPI_COMM_WORLD, path), default_block(9), 9, 1, 1);
  expect_rows(read_npy<float>(MPI_COMM_WORLD, path), default_block(9), 9, 1, 1);
}

TEST(ReadNpy, Float64NarrowedToFloat32RoundsLikeACast) {
  const std::string path = ScratchDirectory::file("f8_inexact.npy");
  std::string data;
  for (int row = 0; row < 6; ++row) {
    const double x = 0.1 * row + 1e-12;
    data.append(reinterpret_cast<const char*>(&x), sizeof x);
  }
  write_file(path, npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", data));
  const auto local = read_npy<float>(MPI_COMM_WORLD, path);
  ASSERT_EQ(local.values.size(), static_cast<std::size_t>(local.block.count));
  for (std::int64_t k = 0; k < local.block.count; ++k) {
    EXPECT_EQ(local.values[k], static_cast<float>(0.1 * (local.block.begin + k) + 1e-12));
  }
}

TEST(ReadNpy, FewerRowsThanRanksLeavesSomeRanksEmpty) {
  for (std::int64_t rows : {1, 2}) {
    const std::string path = ScratchDirectory::file("few_" + std::to_string(rows) + ".npy");
    write_file(path, npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (" +
                                   std::to_string(rows) + ", 4), }",
                               data_bytes<double>(rows, 4)));
    expect_rows(read_npy<double>(MPI_COMM_WORLD, path), default_block(rows), rows, 4, 2);
  }
}

TEST(ReadNpy, EmptyArrays) {
  const std::string vector = ScratchDirectory::file("empty_vector.npy");
  write_file(vector, npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }", ""));
  expect_rows(read_npy<double>(MPI_COMM_WORLD, vector), RowBlock{0, 0}, 0, 1, 1);

  const std::string matrix = ScratchDirectory::file("empty_matrix.npy");
  write_file(matrix, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", ""));
  expect_rows(read_npy<float>(MPI_COMM_WORLD, matrix), RowBlock{0, 0}, 0, 3, 2);
}

TEST(ReadNpy, ToleratesHeaderVariants) {
  const std::string numpy_dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (6, 2), }";
  const std::string data = data_bytes<double>(6, 2);
  const std::vector<std::string> files = {
      npy_bytes("{'shape': (6, 2), 'fortran_order': False, 'descr': '<f8'}", data),
      npy_bytes("{ \"descr\" :\"<f8\",'fortran_order':False,'shape':( 6 ,2 , ) , }", data),
      npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (6L, 2L), }", data),
      npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': [6, 2], 'x': [1, ('a',)]}",
                data),
      npy_bytes(numpy_dict, data, 2),
      npy_bytes(numpy_dict, data, 3),
  };
  for (std::size_t i = 0; i < files.size(); ++i) {
    SCOPED_TRACE("variant " + std::to_string(i));
    const std::string path = ScratchDirectory::file("variant_" + std::to_string(i) + ".npy");
    write_file(path, files[i]);
    expect_rows(read_npy<double>(MPI_COMM_WORLD, path), default_block(6), 6, 2, 2);
  }
}

TEST(ReadNpy, ExplicitBlocksMayOverlapOrBeEmpty) {
  const std::string path = ScratchDirectory::file("blocks.npy");
  write_file(path, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (10, 2), }",
                             data_bytes<float>(10, 2)));
  const int rank = world_rank();
  // Nested blocks, rows [rank, 10 - rank): Open MPI 4.1's collective reads get these wrong.
  const RowBlock overlapping{rank, 10 - 2 * rank};
  expect_rows(read_npy<double>(MPI_COMM_WORLD, path, overlapping), overlapping, 10, 2, 2);
  const RowBlock everything{0, 10};
  expect_rows(read_npy<float>(MPI_COMM_WORLD, path, everything), everything, 10, 2, 2);
  const RowBlock at_end{10, 0};
  expect_rows(read_npy<double>(MPI_COMM_WORLD, path, at_end), at_end, 10, 2, 2);
}

// Chunks of one or a few elements make ranks with more rows make more MPI-IO
// rounds than others; the rounds must still match, as for counts above INT_MAX.
TEST(ReadNpy, ChunkedReadsWithDifferentRoundsPerRank) {
  const std::int64_t rows = 23;
  const RowBlock block = uneven_block(rows, world_rank(), world_size());
  for (const char* descr : {"<f8", "<f4"}) {
    SCOPED_TRACE(descr);
    const std::string path = ScratchDirectory::file(std::string("chunked_") + descr[2] + ".npy");
    const std::string data =
        descr[2] == '8' ? data_bytes<double>(rows, 3) : data_bytes<float>(rows, 3);
    write_file(path, npy_bytes("{'descr': '" + std::string(descr) +
                                   "', 'fortran_order': False, 'shape': (23, 3), }",
                               data));
    for (std::int64_t chunk_bytes : {1, 4, 8, 20}) {
      SCOPED_TRACE("chunk_bytes " + std::to_string(chunk_bytes));
      expect_rows(kinterp::io::detail::read_npy<double>(MPI_COMM_WORLD, path, block, chunk_bytes),
                  block, rows, 3, 2);
      expect_rows(kinterp::io::detail::read_npy<float>(MPI_COMM_WORLD, path, block, chunk_bytes),
                  block, rows, 3, 2);
    }
  }
}

// ---- Writing ----

template <class T>
void expect_round_trip(int item_size, int ndim) {
  const std::int64_t rows = 13, columns = ndim == 1 ? 1 : 3;
  const std::string path =
      ScratchDirectory::file("round_trip_" + std::to_string(sizeof(T)) + std::to_string(item_size) +
                             std::to_string(ndim) + ".npy");
  write_npy(MPI_COMM_WORLD, path, make_rows<T>(rows, columns, ndim, default_block(rows)),
            item_size);
  EXPECT_EQ(fs::file_size(path), static_cast<std::uintmax_t>(128 + rows * columns * item_size));
  const RowBlock block = uneven_block(rows, world_rank(), world_size());
  expect_rows(read_npy<double>(MPI_COMM_WORLD, path, block), block, rows, columns, ndim);
  expect_rows(read_npy<float>(MPI_COMM_WORLD, path, block), block, rows, columns, ndim);
  EXPECT_EQ(kinterp::io::read_npy_header(MPI_COMM_WORLD, path).item_size, item_size);
}

TEST(WriteNpy, RoundTripsThroughAnotherDistribution) {
  for (int item_size : {8, 4}) {
    for (int ndim : {2, 1}) {
      SCOPED_TRACE("item_size " + std::to_string(item_size) + ", ndim " + std::to_string(ndim));
      expect_round_trip<double>(item_size, ndim);
      expect_round_trip<float>(item_size, ndim);
    }
  }
}

TEST(WriteNpy, ChunkedWritesWithDifferentRoundsPerRank) {
  const std::int64_t rows = 19;
  const RowBlock block = uneven_block(rows, world_rank(), world_size());
  for (int item_size : {8, 4}) {
    for (std::int64_t chunk_bytes : {1, 8, 12}) {
      SCOPED_TRACE("item_size " + std::to_string(item_size) + ", chunk_bytes " +
                   std::to_string(chunk_bytes));
      const std::string path = ScratchDirectory::file("chunked_write.npy");
      kinterp::io::detail::write_npy(MPI_COMM_WORLD, path, make_rows<double>(rows, 2, 2, block),
                                     item_size, chunk_bytes);
      expect_rows(read_npy<double>(MPI_COMM_WORLD, path), default_block(rows), rows, 2, 2);
    }
  }
}

TEST(WriteNpy, WritesNumpysHeaderBytes) {
  struct Case {
    std::int64_t rows, columns;
    int ndim, item_size;
    std::string header;
  };
  // 10 bytes of magic, version 1.0 and header length 118 (0x76), then the dict
  // padded to 128 bytes, exactly as numpy 1.24 writes these shapes.
  const std::string prefix("\x93NUMPY\x01\x00\x76\x00", 10);
  const std::vector<Case> cases = {
      {5, 3, 2, 8,
       prefix + "{'descr': '<f8', 'fortran_order': False, 'shape': (5, 3), }" +
           std::string(58, ' ') + "\n"},
      {7, 1, 1, 4,
       prefix + "{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }" + std::string(60, ' ') +
           "\n"},
  };
  for (const Case& c : cases) {
    const std::string path = ScratchDirectory::file("header.npy");
    write_npy(MPI_COMM_WORLD, path,
              make_rows<double>(c.rows, c.columns, c.ndim, default_block(c.rows)), c.item_size);
    const std::string bytes = file_contents(path);
    const std::string data = c.item_size == 8 ? data_bytes<double>(c.rows, c.columns)
                                              : data_bytes<float>(c.rows, c.columns);
    ASSERT_EQ(c.header.size(), 128u);
    EXPECT_EQ(bytes.substr(0, 128), c.header);
    EXPECT_TRUE(bytes.substr(128) == data) << "the data after the header differs";
    MPI_Barrier(MPI_COMM_WORLD);  // everyone has looked before the next case rewrites it
  }
}

TEST(WriteNpy, ReplacesALongerFile) {
  const std::string path = ScratchDirectory::file("replaced.npy");
  write_npy(MPI_COMM_WORLD, path, make_rows<double>(40, 2, 2, default_block(40)));
  write_npy(MPI_COMM_WORLD, path, make_rows<double>(3, 2, 2, default_block(3)));
  EXPECT_EQ(fs::file_size(path), 128u + 3 * 2 * 8);
  expect_rows(read_npy<double>(MPI_COMM_WORLD, path), default_block(3), 3, 2, 2);
}

TEST(WriteNpy, EmptyArraysAndRanksWithoutRows) {
  for (std::int64_t rows : {0, 1}) {
    SCOPED_TRACE(std::to_string(rows) + " rows");
    const std::string path = ScratchDirectory::file("small_" + std::to_string(rows) + ".npy");
    write_npy(MPI_COMM_WORLD, path, make_rows<float>(rows, 3, 2, default_block(rows)), 4);
    EXPECT_EQ(fs::file_size(path), static_cast<std::uintmax_t>(128 + rows * 3 * 4));
    expect_rows(read_npy<double>(MPI_COMM_WORLD, path), default_block(rows), rows, 3, 2);
  }
}

// numpy itself is the reference for the format, when it is installed.
TEST(WriteNpy, NumpyReadsOursAndWeReadNumpys) {
  int available = 0;
  if (world_rank() == 0) {
    available = std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
  }
  MPI_Bcast(&available, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (!available) GTEST_SKIP() << "/usr/bin/python3 with numpy is not available";

  const std::string ours = ScratchDirectory::file("ours.npy");
  const std::string theirs = ScratchDirectory::file("theirs.npy");
  const std::string ours_f4 = ScratchDirectory::file("ours_f4.npy");
  const std::string script = ScratchDirectory::file("check.py");
  write_npy(MPI_COMM_WORLD, ours, make_rows<double>(6, 3, 2, default_block(6)));
  write_npy(MPI_COMM_WORLD, ours_f4, make_rows<double>(6, 3, 2, default_block(6)), 4);
  int status = 0;
  if (world_rank() == 0) {
    std::ofstream(script) << "import sys, numpy as np\n"
                             "i, j = np.arange(6)[:, None], np.arange(3)[None, :]\n"
                             "expected = 0.25 * i - 3.0 * j + 0.5\n"
                             "a = np.load(sys.argv[1])\n"
                             "ok = a.dtype == np.float64 and np.array_equal(a, expected)\n"
                             "np.save(sys.argv[2], expected.astype(np.float32))\n"
                             "sys.exit(0 if ok else 1)\n";
    status = std::system(("/usr/bin/python3 " + script + " " + ours + " " + theirs).c_str());
  }
  MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
  EXPECT_EQ(status, 0) << "numpy.load did not give the array written";
  expect_rows(read_npy<double>(MPI_COMM_WORLD, theirs), default_block(6), 6, 3, 2);
  EXPECT_TRUE(file_contents(ours_f4) == file_contents(theirs))
      << "our float32 file differs from numpy.save's";
}

// ---- Errors ----

void expect_read_error(const std::string& name, const std::string& bytes,
                       std::initializer_list<std::string> fragments) {
  SCOPED_TRACE(name);
  const std::string path = ScratchDirectory::file(name);
  write_file(path, bytes);
  expect_collective_error([&] { read_npy<double>(MPI_COMM_WORLD, path); }, path, fragments);
  expect_collective_error([&] { kinterp::io::read_npy_header(MPI_COMM_WORLD, path); }, path,
                          fragments);
}

TEST(NpyErrors, MissingFileOrDirectory) {
  const std::string missing = ScratchDirectory::file("missing.npy");
  expect_collective_error([&] { read_npy<double>(MPI_COMM_WORLD, missing); }, missing,
                          {"cannot open the file", "No such file"});
  const std::string directory = ScratchDirectory::path().string();
  expect_collective_error([&] { read_npy<float>(MPI_COMM_WORLD, directory); }, directory,
                          {"is a directory"});
}

TEST(NpyErrors, NotANpyFile) {
  const std::string not_npy = "not a .npy file, just text\n";
  expect_read_error("text.npy", not_npy, {"not a NumPy .npy file", "numpy.save"});
  expect_read_error("empty.npy", "", {"not a NumPy .npy file"});
  const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
  expect_read_error("version4.npy", npy_bytes(dict, data_bytes<double>(2, 1), 4),
                    {"unsupported .npy format version 4.0"});
  expect_read_error("garbled.npy", npy_bytes("{'descr': '<f8', 'shape': (2,) 'x'", ""),
                    {"cannot parse the .npy header", "numpy.save"});
  expect_read_error("no_shape.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False}", ""),
                    {"no 'shape' entry"});
}

TEST(NpyErrors, UnsupportedDtype) {
  expect_read_error(
      "int64.npy",
      npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", std::string(24, '\0')),
      {"unsupported dtype '<i8'", "x.astype(np.float64)"});
  expect_read_error(
      "big_endian.npy",
      npy_bytes("{'descr': '>f8', 'fortran_order': False, 'shape': (3,), }", std::string(24, '\0')),
      {"unsupported dtype '>f8'", "x.astype(np.float64)"});
  expect_read_error("structured.npy",
                    npy_bytes("{'descr': [('x', '<f8')], 'fortran_order': False, 'shape': (3,), }",
                              std::string(24, '\0')),
                    {"unsupported dtype [('x', '<f8')]"});
}

TEST(NpyErrors, FortranOrder) {
  expect_read_error("fortran.npy",
                    npy_bytes("{'descr': '<f8', 'fortran_order': True, 'shape': (3, 2), }",
                              data_bytes<double>(3, 2)),
                    {"Fortran", "np.ascontiguousarray(x)"});
}

TEST(NpyErrors, MoreThanTwoDimensions) {
  expect_read_error("three_dims.npy",
                    npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3, 4), }",
                              std::string(2 * 3 * 4 * 8, '\0')),
                    {"shape (2, 3, 4)", "more than 2 dimensions", "reshape"});
}

TEST(NpyErrors, TruncatedFile) {
  // 128 header bytes and 5 * 3 * 8 = 120 data bytes expected; 100 present.
  const std::string full = npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (5, 3), }",
                                     data_bytes<double>(5, 3));
  expect_read_error("truncated.npy", full.substr(0, 228),
                    {"truncated", "248 bytes", "228 bytes", "write it again"});
  expect_read_error("truncated_header.npy", full.substr(0, 40),
                    {"truncated inside its .npy header", "128 bytes expected, 40 present"});
}

TEST(NpyErrors, BlockOutsideTheArray) {
  const std::string path = ScratchDirectory::file("outside.npy");
  write_file(path, npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (8, 2), }",
                             data_bytes<double>(8, 2)));
  const int rank = world_rank(), last = world_size() - 1;
  const RowBlock too_far = rank == last ? RowBlock{7, 2} : RowBlock{0, 1};
  expect_collective_error(
      [&] { read_npy<double>(MPI_COMM_WORLD, path, too_far); }, path,
      {"rank " + std::to_string(last) + " asked for 2 rows from row 7", "outside", "[0, 8)"});
  const RowBlock negative = rank == last ? RowBlock{-1, 1} : RowBlock{0, 1};
  expect_collective_error([&] { read_npy<double>(MPI_COMM_WORLD, path, negative); }, path,
                          {"from row -1", "outside"});
}

TEST(NpyErrors, CannotCreateTheOutputFile) {
  const std::string path = ScratchDirectory::file("no_such_directory/out.npy");
  expect_collective_error(
      [&] { write_npy(MPI_COMM_WORLD, path, make_rows<double>(4, 2, 2, default_block(4))); }, path,
      {"cannot create the output file", "directory exists"});
}

TEST(NpyErrors, InconsistentBlocksToWrite) {
  const std::string path = ScratchDirectory::file("inconsistent.npy");
  const int rank = world_rank(), last = world_size() - 1;
  const std::int64_t rows = 9;
  const auto expect_write_error = [&](const LocalRows<double>& local,
                                      std::initializer_list<std::string> fragments,
                                      int item_size = 8) {
    expect_collective_error([&] { write_npy(MPI_COMM_WORLD, path, local, item_size); }, path,
                            fragments);
  };

  LocalRows<double> gap = make_rows<double>(rows, 2, 2, default_block(rows));
  if (rank == last) gap = make_rows<double>(rows, 2, 2, {gap.block.begin + 1, gap.block.count - 1});
  expect_write_error(gap, {"rank " + std::to_string(last) + "'s block", "contiguous"});

  LocalRows<double> short_sum = make_rows<double>(rows, 2, 2, default_block(rows));
  short_sum.global_rows = rows + 1;
  expect_write_error(short_sum, {"cover 9 rows but global_rows is 10"});

  LocalRows<double> extra_value = make_rows<double>(rows, 2, 2, default_block(rows));
  if (rank == last) extra_value.values.push_back(0.0);
  expect_write_error(extra_value, {"rank " + std::to_string(last) + " holds"});

  expect_write_error(make_rows<double>(rows, 2, 1, default_block(rows)),
                     {"ndim is 1 but columns is 2"});
  expect_write_error(make_rows<double>(rows, 2, 2, default_block(rows)), {"item_size 2"}, 2);

  if (world_size() > 1) {
    LocalRows<double> disagree = make_rows<double>(rows, 2, 2, default_block(rows));
    if (rank == last) disagree.ndim = 1;
    expect_write_error(disagree, {"but rank 0", "pass the same on every rank"});
  }
}

}  // namespace
