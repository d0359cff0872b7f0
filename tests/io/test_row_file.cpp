// The dispatch on a file spec: "x.npy", "x.csv", "x.h5:/dataset". Each format
// is written and read back through read_rows / write_rows and checked against
// values known in closed form; the parsing of specs against the expected parts.

#include <kinterp/core/Error.hpp>
#include <kinterp/io/RowFile.hpp>

#include "IoTestSupport.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <string>
#include <vector>

namespace {

using kinterp::block_partition;
using kinterp::RowBlock;
using kinterp::io::ArrayShape;
using kinterp::io::Attributes;
using kinterp::io::FileFormat;
using kinterp::io::FileSpec;
using kinterp::io::LocalRows;
using kinterp::io::read_attributes;
using kinterp::io::read_rows;
using kinterp::io::read_shape;
using kinterp::io::write_rows;
using namespace kinterp::test;  // IoTestSupport.hpp: the scratch directory, arrays, checks

[[maybe_unused]] ::testing::Environment* const scratch =
    ::testing::AddGlobalTestEnvironment(new ScratchDirectory("kinterp_test_row_file"));

void expect_spec(const std::string& text, FileFormat format, const std::string& path,
                 const std::string& dataset) {
  SCOPED_TRACE(text);
  const FileSpec spec = FileSpec::parse(text);
  EXPECT_EQ(spec.format, format);
  EXPECT_EQ(spec.path, path);
  EXPECT_EQ(spec.dataset, dataset);
  EXPECT_EQ(spec.text, text);
}

void expect_spec_error(const std::string& text, const std::string& fragment) {
  std::string message = "(no exception)";
  try {
    FileSpec::parse(text);
  } catch (const kinterp::Error& e) {
    message = e.what();
  }
  EXPECT_EQ(message.rfind(text + ": ", 0), 0u) << message;
  EXPECT_NE(message.find(fragment), std::string::npos) << message;
}

TEST(FileSpec, FormatFromTheExtension) {
  expect_spec("x.npy", FileFormat::Npy, "x.npy", "");
  expect_spec("dir.h5/x", FileFormat::Npy, "dir.h5/x", "");
  expect_spec("no_extension", FileFormat::Npy, "no_extension", "");
  expect_spec("data/x.csv", FileFormat::Csv, "data/x.csv", "");
  expect_spec("X.CSV", FileFormat::Csv, "X.CSV", "");
  expect_spec("x.h5:/points", FileFormat::Hdf5, "x.h5", "/points");
  expect_spec("run/out.hdf5:/group/w", FileFormat::Hdf5, "run/out.hdf5", "/group/w");
  expect_spec("X.H5:/a", FileFormat::Hdf5, "X.H5", "/a");
  expect_spec("x.h5:points", FileFormat::Hdf5, "x.h5", "points");
  expect_spec("x.h5:/a:b", FileFormat::Hdf5, "x.h5", "/a:b");
}

TEST(FileSpec, Hdf5NeedsADataset) {
  expect_spec_error("x.h5", "x.h5:/DATASET");
  expect_spec_error("dir/x.HDF5", "dir/x.HDF5:/DATASET");
  expect_spec_error("x.h5:", "no dataset after the ':'");
  expect_spec_error("x.h5:/", "no dataset after the ':'");
}

TEST(RowFile, EachFormatRoundTrips) {
  struct Case {
    std::string matrix, vector;
  };
  const auto file = &ScratchDirectory::file;
  std::vector<Case> cases = {{file("x.npy"), file("v.npy")}, {file("x.csv"), file("v.csv")}};
  if (kinterp::io::hdf5_available()) {
    cases.push_back({file("x.h5") + ":/g/x", file("x.h5") + ":/v"});
    cases.push_back({file("x.hdf5") + ":x", file("x.hdf5") + ":v"});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.matrix);
    write_rows(MPI_COMM_WORLD, c.matrix, make_rows(9, 3, 2));
    const ArrayShape shape = read_shape(MPI_COMM_WORLD, c.matrix);
    EXPECT_EQ(shape.rows, 9);
    EXPECT_EQ(shape.columns, 3);
    EXPECT_EQ(shape.ndim, 2);
    EXPECT_EQ(shape.item_size, 8);
    expect_rows(read_rows<double>(MPI_COMM_WORLD, c.matrix), block_partition(9, MPI_COMM_WORLD), 9,
                3, 2);
    const RowBlock block{world_rank() % 9, 1};
    expect_rows(read_rows<float>(MPI_COMM_WORLD, c.matrix, block), block, 9, 3, 2);
    EXPECT_EQ(read_attributes(MPI_COMM_WORLD, c.matrix), Attributes{});

    // float32 in .npy and HDF5 (CSV prints digits either way).
    write_rows(MPI_COMM_WORLD, c.vector, make_rows(5, 1, 1), 4);
    EXPECT_EQ(read_shape(MPI_COMM_WORLD, c.vector).ndim, 1);
    expect_rows(read_rows<float>(MPI_COMM_WORLD, c.vector), block_partition(5, MPI_COMM_WORLD), 5,
                1, 1);
  }
}

TEST(RowFile, AttributesOnHdf5Only) {
  const Attributes attributes = {{"kernel", "gaussian"}, {"length_scale", "0.5"}};
  const std::string npy = ScratchDirectory::file("a.npy");
  write_rows(MPI_COMM_WORLD, npy, make_rows(4, 2, 2), 8, attributes);
  EXPECT_EQ(read_attributes(MPI_COMM_WORLD, npy), Attributes{});
  expect_rows(read_rows<double>(MPI_COMM_WORLD, npy), block_partition(4, MPI_COMM_WORLD), 4, 2, 2);

  const std::string h5 = ScratchDirectory::file("a.h5") + ":/weights";
  if (!kinterp::io::hdf5_available()) {
    expect_collective_error(
        [&] { write_rows(MPI_COMM_WORLD, h5, make_rows(4, 2, 2)); }, ScratchDirectory::file("a.h5"),
        {"kinterp was built without parallel HDF5", "install libhdf5-openmpi-dev and rebuild"});
    expect_collective_error([&] { read_rows<double>(MPI_COMM_WORLD, h5); },
                            ScratchDirectory::file("a.h5"),
                            {"kinterp was built without parallel HDF5"});
    return;
  }
  write_rows(MPI_COMM_WORLD, h5, make_rows(4, 2, 2), 8, attributes);
  EXPECT_EQ(read_attributes(MPI_COMM_WORLD, h5), attributes);
}

}  // namespace
