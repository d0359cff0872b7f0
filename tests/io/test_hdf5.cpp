// Parallel HDF5 datasets and attributes, checked against the serial HDF5
// library called directly on rank 0 (files it writes, read by kinterp at every
// rank count; files kinterp writes, read back by it) and against values known in
// closed form, x_ij = i + j / 10.

#include "Hdf5Detail.hpp"

#include <kinterp/core/Error.hpp>
#include <kinterp/io/Hdf5.hpp>

#include "IoTestSupport.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <mpi.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace {

using kinterp::RowBlock;
using kinterp::io::ArrayShape;
using kinterp::io::Attributes;
using kinterp::io::LocalRows;
using kinterp::io::read_hdf5;
using kinterp::io::read_hdf5_attributes;
using kinterp::io::read_hdf5_shape;
using kinterp::io::write_hdf5;
using kinterp::io::write_hdf5_attributes;
using namespace kinterp::test;  // IoTestSupport.hpp: the scratch directory, arrays, checks

[[maybe_unused]] ::testing::Environment* const scratch =
    ::testing::AddGlobalTestEnvironment(new ScratchDirectory("kinterp_test_hdf5"));

// ---- The reference: the serial HDF5 library, on rank 0 ----

// Rank 0 creates `path` (or opens it, when it exists) with the default (serial)
// driver and adds the dataset `name` of shape `dims` and file type `type`
// holding value(i, j); every rank returns once it is written.
void reference_write(const std::string& path, const std::string& name,
                     const std::vector<hsize_t>& dims, hid_t type) {
  if (world_rank() == 0) {
    const bool exists = std::filesystem::exists(path);
    const hid_t file = exists ? H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)
                              : H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t links = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(links, 1);
    const hid_t space = dims.empty()
                            ? H5Screate(H5S_SCALAR)
                            : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t data = H5Dcreate2(file, name.c_str(), type, space, links, H5P_DEFAULT, H5P_DEFAULT);
    const std::int64_t rows = dims.empty() ? 1 : static_cast<std::int64_t>(dims[0]);
    std::int64_t columns = 1;
    for (std::size_t k = 1; k < dims.size(); ++k) columns *= static_cast<std::int64_t>(dims[k]);
    std::vector<double> values;
    for (std::int64_t i = 0; i < rows; ++i) {
      for (std::int64_t j = 0; j < columns; ++j) values.push_back(value(i, j));
    }
    EXPECT_GE(H5Dwrite(data, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0);
    H5Dclose(data);
    H5Sclose(space);
    H5Pclose(links);
    H5Fclose(file);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// Rank 0 adds a group.
void reference_group(const std::string& path, const std::string& name) {
  if (world_rank() == 0) {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    H5Gclose(H5Gcreate2(file, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Fclose(file);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// What the serial library reads of a dataset (on rank 0): its dims, type and values.
struct Reference {
  std::vector<hsize_t> dims;
  H5T_class_t type_class = H5T_NO_CLASS;
  std::size_t type_size = 0;
  std::vector<double> values;
};

Reference reference_read(const std::string& path, const std::string& name) {
  Reference r;
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t data = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
  const hid_t space = H5Dget_space(data), type = H5Dget_type(data);
  r.dims.resize(static_cast<std::size_t>(H5Sget_simple_extent_ndims(space)));
  H5Sget_simple_extent_dims(space, r.dims.data(), nullptr);
  r.type_class = H5Tget_class(type);
  r.type_size = H5Tget_size(type);
  r.values.resize(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
  if (!r.values.empty()) {
    H5Dread(data, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, r.values.data());
  }
  H5Tclose(type);
  H5Sclose(space);
  H5Dclose(data);
  H5Fclose(file);
  return r;
}

// The attribute `name` of a dataset read as a variable-length string by the
// serial library (rank 0).
std::string reference_attribute(const std::string& path, const std::string& dataset,
                                const std::string& name) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t attribute =
      H5Aopen_by_name(file, dataset.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  char* text = nullptr;
  const herr_t rc = H5Aread(attribute, type, &text);
  std::string value = rc >= 0 && text != nullptr ? text : "(unreadable)";
  H5free_memory(text);
  H5Tclose(type);
  H5Aclose(attribute);
  H5Fclose(file);
  return value;
}

// ---- Checks ----

// On rank 0: the serial library finds `name` of shape `dims`, float of
// `size` bytes, holding value(i, j) rounded to float when `size` is 4 or
// `rounded` (float rows written as float64).
void expect_written(const std::string& path, const std::string& name,
                    const std::vector<hsize_t>& dims, std::size_t size, bool rounded = false) {
  if (world_rank() != 0) return;
  SCOPED_TRACE(path + ":" + name);
  const Reference r = reference_read(path, name);
  EXPECT_EQ(r.dims, dims);
  EXPECT_EQ(r.type_class, H5T_FLOAT);
  EXPECT_EQ(r.type_size, size);
  const std::int64_t columns = dims.size() == 2 ? static_cast<std::int64_t>(dims[1]) : 1;
  ASSERT_EQ(r.values.size(), static_cast<std::size_t>(dims[0] * columns));
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(dims[0]); ++i) {
    for (std::int64_t j = 0; j < columns; ++j) {
      const double expected =
          size == 4 || rounded ? static_cast<double>(static_cast<float>(value(i, j))) : value(i, j);
      EXPECT_EQ(r.values[i * columns + j], expected) << "row " << i << ", column " << j;
    }
  }
}

// ---- Reading what the serial library wrote ----

TEST(ReadHdf5, EachRankGetsItsBlockOfASerialFile) {
  const std::string path = ScratchDirectory::file("serial.h5");
  reference_write(path, "/points", {11, 3}, H5T_IEEE_F64LE);
  reference_write(path, "/values", {11}, H5T_IEEE_F64LE);
  reference_write(path, "/group/sub/deep", {5, 2}, H5T_IEEE_F64BE);

  expect_rows(read_hdf5<double>(MPI_COMM_WORLD, path, "/points"), default_block(11), 11, 3, 2);
  expect_rows(read_hdf5<float>(MPI_COMM_WORLD, path, "/points"), default_block(11), 11, 3, 2);
  expect_rows(read_hdf5<double>(MPI_COMM_WORLD, path, "values"), default_block(11), 11, 1, 1);
  // Big-endian in the file: HDF5 converts.
  expect_rows(read_hdf5<double>(MPI_COMM_WORLD, path, "/group/sub/deep"), default_block(5), 5, 2,
              2);
  expect_rows(read_hdf5<double>(MPI_COMM_WORLD, path, "//group/sub//deep/"), default_block(5), 5, 2,
              2);

  const ArrayShape shape = read_hdf5_shape(MPI_COMM_WORLD, path, "/points");
  EXPECT_EQ(shape.rows, 11);
  EXPECT_EQ(shape.columns, 3);
  EXPECT_EQ(shape.ndim, 2);
  EXPECT_EQ(shape.item_size, 8);
  const ArrayShape vector = read_hdf5_shape(MPI_COMM_WORLD, path, "/values");
  EXPECT_EQ(vector.rows, 11);
  EXPECT_EQ(vector.columns, 1);
  EXPECT_EQ(vector.ndim, 1);
}

TEST(ReadHdf5, Float32DatasetsAreConverted) {
  const std::string path = ScratchDirectory::file("float32.h5");
  reference_write(path, "/x", {9, 2}, H5T_IEEE_F32LE);
  reference_write(path, "/v", {9}, H5T_IEEE_F32LE);
  EXPECT_EQ(read_hdf5_shape(MPI_COMM_WORLD, path, "/x").item_size, 4);

  // The file holds float(value): read as float it is exactly that, as double its widening.
  const auto as_float = read_hdf5<float>(MPI_COMM_WORLD, path, "/x");
  expect_rows(as_float, default_block(9), 9, 2, 2);
  const auto as_double = read_hdf5<double>(MPI_COMM_WORLD, path, "/x");
  const RowBlock block = default_block(9);
  ASSERT_EQ(as_double.values.size(), static_cast<std::size_t>(block.count * 2));
  for (std::int64_t k = 0; k < block.count; ++k) {
    for (std::int64_t j = 0; j < 2; ++j) {
      EXPECT_EQ(as_double.values[k * 2 + j],
                static_cast<double>(static_cast<float>(value(block.begin + k, j))));
    }
  }
  expect_rows(read_hdf5<float>(MPI_COMM_WORLD, path, "/v"), default_block(9), 9, 1, 1);
}

TEST(ReadHdf5, EmptyDatasetsAndFewerRowsThanRanks) {
  const std::string path = ScratchDirectory::file("small.h5");
  reference_write(path, "/empty_vector", {0}, H5T_IEEE_F64LE);
  reference_write(path, "/empty_matrix", {0, 3}, H5T_IEEE_F32LE);
  reference_write(path, "/one", {1, 4}, H5T_IEEE_F64LE);
  reference_write(path, "/two", {2}, H5T_IEEE_F64LE);
  expect_rows(read_hdf5<double>(MPI_COMM_WORLD, path, "/empty_vector"), RowBlock{0, 0}, 0, 1, 1);
  expect_rows(read_hdf5<float>(MPI_COMM_WORLD, path, "/empty_matrix"), RowBlock{0, 0}, 0, 3, 2);
  expect_rows(read_hdf5<double>(MPI_COMM_WORLD, path, "/one"), default_block(1), 1, 4, 2);
  expect_rows(read_hdf5<double>(MPI_COMM_WORLD, path, "/two"), default_block(2), 2, 1, 1);
}

TEST(ReadHdf5, ExplicitBlocksMayOverlapOrBeEmpty) {
  const std::string path = ScratchDirectory::file("blocks.h5");
  reference_write(path, "/x", {10, 2}, H5T_IEEE_F64LE);
  const int rank = world_rank();
  const RowBlock nested{rank, 10 - 2 * rank};
  expect_rows(read_hdf5<double>(MPI_COMM_WORLD, path, "/x", nested), nested, 10, 2, 2);
  const RowBlock everything{0, 10};
  expect_rows(read_hdf5<float>(MPI_COMM_WORLD, path, "/x", everything), everything, 10, 2, 2);
  const RowBlock at_end{10, 0};
  expect_rows(read_hdf5<double>(MPI_COMM_WORLD, path, "/x", at_end), at_end, 10, 2, 2);
}

// ---- Writing what the serial library reads ----

TEST(WriteHdf5, SerialHdf5ReadsWhatAllRanksWrote) {
  const std::string path = ScratchDirectory::file("written.h5");
  write_hdf5(MPI_COMM_WORLD, path, "/w", make_rows<double>(13, 4, 2, default_block(13)));
  write_hdf5(MPI_COMM_WORLD, path, "/v", make_rows<double>(13, 1, 1, default_block(13)));
  write_hdf5(MPI_COMM_WORLD, path, "/w32", make_rows<double>(13, 4, 2, default_block(13)), 4);
  write_hdf5(MPI_COMM_WORLD, path, "/from/float", make_rows<float>(7, 3, 2, default_block(7)), 4);
  write_hdf5(MPI_COMM_WORLD, path, "/a/b/c", make_rows<float>(6, 2, 2, default_block(6)), 8);
  write_hdf5(MPI_COMM_WORLD, path, "/e", make_rows<double>(0, 1, 1, RowBlock{0, 0}));
  MPI_Barrier(MPI_COMM_WORLD);
  expect_written(path, "/w", {13, 4}, 8);
  expect_written(path, "/v", {13}, 8);
  expect_written(path, "/w32", {13, 4}, 4);
  expect_written(path, "/from/float", {7, 3}, 4);
  // float values widened to float64.
  expect_written(path, "/a/b/c", {6, 2}, 8, true);
  expect_written(path, "/e", {0}, 8);
}

TEST(WriteHdf5, ReplacesADatasetAndKeepsTheOthers) {
  const std::string path = ScratchDirectory::file("replace.h5");
  write_hdf5(MPI_COMM_WORLD, path, "/a", make_rows<double>(20, 5, 2, default_block(20)));
  write_hdf5(MPI_COMM_WORLD, path, "/b", make_rows<double>(8, 2, 2, default_block(8)));
  write_hdf5(MPI_COMM_WORLD, path, "/a", make_rows<double>(3, 1, 1, default_block(3)), 4);
  MPI_Barrier(MPI_COMM_WORLD);
  expect_written(path, "/a", {3}, 4);
  expect_written(path, "/b", {8, 2}, 8);
  expect_rows(read_hdf5<double>(MPI_COMM_WORLD, path, "/b"), default_block(8), 8, 2, 2);
}

// Every count of writing ranks against every count of reading ranks up to the
// run's: sub-communicators of the first k ranks write, of the first m read.
TEST(WriteHdf5, WrittenOnSomeRanksReadOnOthers) {
  const int size = world_size(), rank = world_rank();
  for (int writers = 1; writers <= size; ++writers) {
    const std::string path = ScratchDirectory::file("by_" + std::to_string(writers) + "_ranks.h5");
    MPI_Comm write_comm = MPI_COMM_NULL;
    MPI_Comm_split(MPI_COMM_WORLD, rank < writers ? 0 : MPI_UNDEFINED, rank, &write_comm);
    if (write_comm != MPI_COMM_NULL) {
      write_hdf5(write_comm, path, "/x",
                 make_rows<double>(23, 3, 2, default_block(23, write_comm)));
      write_hdf5(write_comm, path, "/x32",
                 make_rows<double>(17, 1, 1, default_block(17, write_comm)), 4);
      MPI_Comm_free(&write_comm);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    for (int readers = 1; readers <= size; ++readers) {
      SCOPED_TRACE("written by " + std::to_string(writers) + " ranks, read by " +
                   std::to_string(readers));
      MPI_Comm read_comm = MPI_COMM_NULL;
      MPI_Comm_split(MPI_COMM_WORLD, rank < readers ? 0 : MPI_UNDEFINED, rank, &read_comm);
      if (read_comm != MPI_COMM_NULL) {
        expect_rows(read_hdf5<double>(read_comm, path, "/x"), default_block(23, read_comm), 23, 3,
                    2);
        expect_rows(read_hdf5<float>(read_comm, path, "/x32"), default_block(17, read_comm), 17, 1,
                    1);
        MPI_Comm_free(&read_comm);
      }
      MPI_Barrier(MPI_COMM_WORLD);
    }
  }
}

// Transfers of one or a few rows make ranks with more rows make more HDF5
// calls than others; the collective calls must still match.
TEST(WriteHdf5, ChunkedTransfersWithDifferentRoundsPerRank) {
  const std::int64_t rows = 23;
  const RowBlock block = uneven_block(rows, world_rank(), world_size());
  for (int item_size : {8, 4}) {
    for (std::int64_t chunk_bytes : {1, 24, 100}) {
      SCOPED_TRACE("item size " + std::to_string(item_size) + ", chunk " +
                   std::to_string(chunk_bytes) + " bytes");
      const std::string path = ScratchDirectory::file("chunked_" + std::to_string(item_size) + "_" +
                                                      std::to_string(chunk_bytes) + ".h5");
      kinterp::io::detail::write_hdf5(MPI_COMM_WORLD, path, "/x",
                                      make_rows<double>(rows, 3, 2, block), item_size, {},
                                      chunk_bytes);
      MPI_Barrier(MPI_COMM_WORLD);
      expect_written(path, "/x", {23, 3}, static_cast<std::size_t>(item_size));
      expect_rows(
          kinterp::io::detail::read_hdf5<float>(MPI_COMM_WORLD, path, "/x", block, chunk_bytes),
          block, rows, 3, 2);
      if (item_size == 8) {
        expect_rows(
            kinterp::io::detail::read_hdf5<double>(MPI_COMM_WORLD, path, "/x", block, chunk_bytes),
            block, rows, 3, 2);
      }
    }
  }
}

// ---- Attributes ----

TEST(Hdf5Attributes, RoundTripAndWhatSerialHdf5Reads) {
  const std::string path = ScratchDirectory::file("attributes.h5");
  const Attributes attributes = {
      {"kernel", "gaussian"},
      {"formula", "Exp(-G*SqDist(X,Y))*A"},
      {"params", "G=50; S=2,0.5,1.5"},
      {"empty", ""},
      {"utf8", "\xcf\x83 = 0.1 \xe2\x80\x93 \xc3\xbc"},
      {"long", std::string(5000, 'x')},
  };
  write_hdf5(MPI_COMM_WORLD, path, "/weights", make_rows<double>(5, 2, 2, default_block(5)), 8,
             attributes);
  EXPECT_EQ(read_hdf5_attributes(MPI_COMM_WORLD, path, "/weights"), attributes);
  if (world_rank() == 0) {
    for (const auto& [name, text] : attributes) {
      EXPECT_EQ(reference_attribute(path, "/weights", name), text) << name;
    }
  }
  expect_rows(read_hdf5<double>(MPI_COMM_WORLD, path, "/weights"), default_block(5), 5, 2, 2);

  // Added later: same names replaced, the others kept.
  write_hdf5_attributes(MPI_COMM_WORLD, path, "/weights", {{"kernel", "laplacian"}, {"new", "1"}});
  Attributes expected = attributes;
  expected["kernel"] = "laplacian";
  expected["new"] = "1";
  EXPECT_EQ(read_hdf5_attributes(MPI_COMM_WORLD, path, "/weights"), expected);

  // Replacing the dataset replaces its attributes.
  write_hdf5(MPI_COMM_WORLD, path, "/weights", make_rows<double>(5, 2, 2, default_block(5)), 8,
             {{"only", "this"}});
  EXPECT_EQ(read_hdf5_attributes(MPI_COMM_WORLD, path, "/weights"), (Attributes{{"only", "this"}}));
}

TEST(Hdf5Attributes, RankZerosAreWritten) {
  const std::string path = ScratchDirectory::file("rank_attributes.h5");
  write_hdf5(MPI_COMM_WORLD, path, "/x", make_rows<double>(4, 1, 1, default_block(4)), 8,
             {{"rank", std::to_string(world_rank())}});
  EXPECT_EQ(read_hdf5_attributes(MPI_COMM_WORLD, path, "/x"), (Attributes{{"rank", "0"}}));
}

TEST(Hdf5Attributes, NumbersAndFixedLengthStringsFromOtherWriters) {
  const std::string path = ScratchDirectory::file("other_attributes.h5");
  reference_write(path, "/x", {3}, H5T_IEEE_F64LE);
  if (world_rank() == 0) {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hid_t data = H5Dopen2(file, "/x", H5P_DEFAULT);
    const hid_t scalar = H5Screate(H5S_SCALAR);
    const auto put = [&](const char* name, hid_t file_type, hid_t memory_type, const void* v) {
      const hid_t a = H5Acreate2(data, name, file_type, scalar, H5P_DEFAULT, H5P_DEFAULT);
      H5Awrite(a, memory_type, v);
      H5Aclose(a);
    };
    const double alpha = 0.1;
    const long long iterations = 42;
    put("alpha", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &alpha);
    put("iterations", H5T_STD_I64LE, H5T_NATIVE_LLONG, &iterations);
    const hid_t fixed = H5Tcopy(H5T_C_S1);
    H5Tset_size(fixed, 8);
    H5Tset_strpad(fixed, H5T_STR_NULLPAD);
    const char padded[8] = {'m', 'a', 't', 'e', 'r', 'n', '\0', '\0'};
    put("kernel", fixed, fixed, padded);
    H5Tclose(fixed);
    const hsize_t two = 2;
    const hid_t pair = H5Screate_simple(1, &two, nullptr);
    const double values[2] = {1, 2};
    const hid_t a = H5Acreate2(data, "pair", H5T_IEEE_F64LE, pair, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_DOUBLE, values);
    H5Aclose(a);
    H5Sclose(pair);
    H5Sclose(scalar);
    H5Dclose(data);
    H5Fclose(file);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  // Arrays are left out; numbers become text that reads back to the same value.
  EXPECT_EQ(
      read_hdf5_attributes(MPI_COMM_WORLD, path, "/x"),
      (Attributes{{"alpha", "0.10000000000000001"}, {"iterations", "42"}, {"kernel", "matern"}}));
}

// ---- Errors, the same on every rank ----

// A file with datasets /points (4, 2), /values (4,), /cube (2, 3, 4), /scalar,
// /labels (int64) and an empty group /g.
std::string error_file() {
  const std::string path = ScratchDirectory::file("errors.h5");
  static bool made = false;  // alike on every rank: they run the same tests
  if (!made) {
    made = true;
    reference_write(path, "/points", {4, 2}, H5T_IEEE_F64LE);
    reference_write(path, "/values", {4}, H5T_IEEE_F64LE);
    reference_write(path, "/cube", {2, 3, 4}, H5T_IEEE_F64LE);
    reference_write(path, "/scalar", {}, H5T_IEEE_F64LE);
    reference_write(path, "/labels", {4}, H5T_STD_I64LE);
    reference_group(path, "/g");
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return path;
}

// Every reader of `path`:`dataset` throws the same error.
void expect_read_errors(const std::string& path, const std::string& dataset,
                        const std::string& prefix, std::initializer_list<std::string> fragments,
                        bool attributes_too = true) {
  SCOPED_TRACE(path + ":" + dataset);
  expect_collective_error([&] { read_hdf5<double>(MPI_COMM_WORLD, path, dataset); }, prefix,
                          fragments);
  expect_collective_error(
      [&] {
        read_hdf5<float>(MPI_COMM_WORLD, path, dataset, RowBlock{0, 0});
      },
      prefix, fragments);
  expect_collective_error([&] { read_hdf5_shape(MPI_COMM_WORLD, path, dataset); }, prefix,
                          fragments);
  if (attributes_too) {
    expect_collective_error([&] { read_hdf5_attributes(MPI_COMM_WORLD, path, dataset); }, prefix,
                            fragments);
  }
}

TEST(Hdf5Errors, MissingFileDirectoryOrNotHdf5) {
  const std::string missing = ScratchDirectory::file("missing.h5");
  expect_read_errors(missing, "/x", missing, {"no such file", "check the path"});
  const std::string directory = ScratchDirectory::path().string();
  expect_read_errors(directory, "/x", directory, {"is a directory"});
  const std::string text = ScratchDirectory::file("text.h5");
  kinterp::test::write_file(text, "x,y\n1,2\n");
  expect_read_errors(text, "/x", text, {"not an HDF5 file", "h5py"});
}

TEST(Hdf5Errors, MissingDatasetListsWhatIsThere) {
  const std::string path = error_file();
  expect_read_errors(path, "/weights", path + ":/weights",
                     {"no dataset /weights in the file", "the root group holds ",
                      "points (dataset)", "values (dataset)", "g (group)", "cube (dataset)"});
  expect_read_errors(path, "/nothere/x", path + ":/nothere/x",
                     {"no group /nothere in the file", "points (dataset)"});
  expect_read_errors(path, "/g/x", path + ":/g/x", {"no dataset /g/x", "group /g is empty"});
  expect_read_errors(path, "/points/x", path + ":/points/x", {"/points is a dataset, not a group"});
  expect_read_errors(path, "/g", path + ":/g", {"/g is a group, not a dataset"});
  expect_read_errors(path, "/", path, {"names no dataset", ":/points"});
}

TEST(Hdf5Errors, WrongRankOrType) {
  const std::string path = error_file();
  expect_read_errors(path, "/cube", path + ":/cube",
                     {"shape (2, 3, 4)", "3 dimensions", "(N,) or (N, d)"}, false);
  expect_read_errors(path, "/scalar", path + ":/scalar", {"scalar", "(N,) or (N, d)"}, false);
  expect_read_errors(path, "/labels", path + ":/labels",
                     {"type is int64", "float64 or float32", "astype(np.float64)"}, false);
  // Attributes are read whatever the dataset's shape and type.
  EXPECT_EQ(read_hdf5_attributes(MPI_COMM_WORLD, path, "/cube"), Attributes{});
}

TEST(Hdf5Errors, BlockOutsideTheDataset) {
  const std::string path = error_file();
  const RowBlock outside{world_rank() == world_size() - 1 ? 3 : 0, 2};
  expect_collective_error(
      [&] { read_hdf5<double>(MPI_COMM_WORLD, path, "/points", outside); }, path + ":/points",
      {"rank " + std::to_string(world_size() - 1) + " asked for 2 rows from row 3",
       "outside the array's 4 rows"});
}

TEST(Hdf5Errors, Writes) {
  const std::string path = error_file();
  const auto rows = make_rows<double>(4, 2, 2, default_block(4));
  expect_collective_error([&] { write_hdf5(MPI_COMM_WORLD, path, "/points/x", rows); },
                          path + ":/points/x", {"/points is a dataset, not a group"});
  expect_collective_error([&] { write_hdf5(MPI_COMM_WORLD, path, "/g", rows); }, path + ":/g",
                          {"/g is a group, not a dataset"});
  expect_collective_error([&] { write_hdf5(MPI_COMM_WORLD, path, "", rows); }, path,
                          {"names no dataset"});

  const std::string text = ScratchDirectory::file("keep_me.h5");
  kinterp::test::write_file(text, "not HDF5\n");
  expect_collective_error([&] { write_hdf5(MPI_COMM_WORLD, text, "/x", rows); }, text,
                          {"exists and is not an HDF5 file", "remove it or choose another name"});
  EXPECT_EQ(kinterp::test::file_contents(text), "not HDF5\n");

  const std::string nowhere = ScratchDirectory::file("no/such/dir/x.h5");
  expect_collective_error([&] { write_hdf5(MPI_COMM_WORLD, nowhere, "/x", rows); }, nowhere,
                          {"directory", "does not exist"});

  auto bad = rows;
  bad.global_rows = 5;
  expect_collective_error([&] { write_hdf5(MPI_COMM_WORLD, path, "/bad", bad); }, path + ":/bad",
                          {"cover 4 rows but global_rows is 5"});
  expect_collective_error(
      [&] {
        write_hdf5_attributes(MPI_COMM_WORLD, path, "/missing", {{"a", "b"}});
      },
      path + ":/missing", {"no dataset /missing"});
  // Nothing was written by the refused calls.
  expect_read_errors(path, "/bad", path + ":/bad", {"no dataset /bad"});
}

}  // namespace
