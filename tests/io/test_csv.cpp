// CSV files read on rank 0 and scattered by blocks of rows, written by
// gathering them: checked against text written here and values known in closed
// form or as literals, and the file text written against snprintf("%.17g").

#include <kinterp/core/Error.hpp>
#include <kinterp/io/Csv.hpp>

#include "IoTestSupport.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

using kinterp::RowBlock;
using kinterp::io::ArrayShape;
using kinterp::io::LocalRows;
using kinterp::io::read_csv;
using kinterp::io::read_csv_shape;
using kinterp::io::write_csv;
using namespace kinterp::test;  // IoTestSupport.hpp: the scratch directory, arrays, checks

[[maybe_unused]] ::testing::Environment* const scratch =
    ::testing::AddGlobalTestEnvironment(new ScratchDirectory("kinterp_test_csv"));

std::string g17(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", x);
  return text;
}

// value(i, j) as text, `separator` between columns, exact with %.17g.
std::string table_text(std::int64_t rows, std::int64_t columns, const std::string& separator) {
  std::string text;
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t j = 0; j < columns; ++j) text += (j ? separator : "") + g17(value(i, j));
    text += "\n";
  }
  return text;
}

// Checks that `local` holds rows `block` of `expected` (row-major, `columns` wide).
template <class T>
void expect_rows(const LocalRows<T>& local, RowBlock block, const std::vector<double>& expected,
                 std::int64_t columns, int ndim) {
  EXPECT_EQ(local.global_rows, static_cast<std::int64_t>(expected.size()) / columns);
  EXPECT_EQ(local.columns, columns);
  EXPECT_EQ(local.ndim, ndim);
  EXPECT_EQ(local.block.begin, block.begin);
  EXPECT_EQ(local.block.count, block.count);
  ASSERT_EQ(local.values.size(), static_cast<std::size_t>(block.count * columns));
  for (std::int64_t k = 0; k < block.count * columns; ++k) {
    EXPECT_EQ(local.values[k], static_cast<T>(expected[block.begin * columns + k]))
        << "row " << block.begin + k / columns << ", column " << k % columns;
  }
}

std::vector<double> closed_form(std::int64_t rows, std::int64_t columns) {
  std::vector<double> values;
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t j = 0; j < columns; ++j) values.push_back(value(i, j));
  }
  return values;
}

std::string write_csv_text(const std::string& name, const std::string& text) {
  const std::string path = ScratchDirectory::file(name);
  write_file(path, text);
  return path;
}

// ---- Reading ----

TEST(ReadCsv, CommaSeparatedWithHeaderCommentsAndBlankLines) {
  std::string text = "# sensor positions\n\n  x, y ,z  # names\n";
  text += table_text(3, 3, ",");
  text += "\r\n# a comment between rows\n";
  text += g17(value(3, 0)) + " , " + g17(value(3, 1)) + "," + g17(value(3, 2)) + "  # row 3\r\n";
  text += table_text(11, 3, ",").substr(table_text(4, 3, ",").size());
  const std::string path = write_csv_text("header.csv", text);

  expect_rows(read_csv<double>(MPI_COMM_WORLD, path), default_block(11), closed_form(11, 3), 3, 2);
  expect_rows(read_csv<float>(MPI_COMM_WORLD, path), default_block(11), closed_form(11, 3), 3, 2);
  const ArrayShape shape = read_csv_shape(MPI_COMM_WORLD, path);
  EXPECT_EQ(shape.rows, 11);
  EXPECT_EQ(shape.columns, 3);
  EXPECT_EQ(shape.ndim, 2);
  EXPECT_EQ(shape.item_size, 8);
}

TEST(ReadCsv, WhitespaceSeparatedLiterals) {
  const std::string path =
      write_csv_text("spaces.csv", "1 2.5\t-3\n  0.125\t\t1e3   -2E-2\n+4 .5 6.\n0x10 inf -0\n");
  const std::vector<double> expected = {1, 2.5, -3, 0.125, 1000,     -0.02,
                                        4, 0.5, 6,  16,    HUGE_VAL, -0.0};
  expect_rows(read_csv<double>(MPI_COMM_WORLD, path), default_block(4), expected, 3, 2);
}

TEST(ReadCsv, OneColumnIsAVector) {
  const std::string path = write_csv_text("column.csv", "b\n" + table_text(7, 1, ","));
  expect_rows(read_csv<double>(MPI_COMM_WORLD, path), default_block(7), closed_form(7, 1), 1, 1);
  EXPECT_EQ(read_csv_shape(MPI_COMM_WORLD, path).ndim, 1);
}

TEST(ReadCsv, ExplicitBlocksFewRowsAndHeaderOnly) {
  const std::string path = write_csv_text("blocks.csv", table_text(10, 2, ", "));
  const int rank = world_rank();
  const RowBlock nested{rank, 10 - 2 * rank};
  expect_rows(read_csv<double>(MPI_COMM_WORLD, path, nested), nested, closed_form(10, 2), 2, 2);
  const RowBlock at_end{10, 0};
  expect_rows(read_csv<float>(MPI_COMM_WORLD, path, at_end), at_end, closed_form(10, 2), 2, 2);

  const std::string two = write_csv_text("two.csv", table_text(2, 4, ","));
  expect_rows(read_csv<double>(MPI_COMM_WORLD, two), default_block(2), closed_form(2, 4), 4, 2);

  const std::string header = write_csv_text("header_only.csv", "x,y,z\n# no rows yet\n");
  const auto empty = read_csv<double>(MPI_COMM_WORLD, header);
  EXPECT_EQ(empty.global_rows, 0);
  EXPECT_EQ(empty.columns, 3);
  EXPECT_TRUE(empty.values.empty());
}

// ---- Errors, the same on every rank, with the line ----

void expect_csv_error(const std::string& name, const std::string& text, const std::string& where,
                      std::initializer_list<std::string> fragments) {
  SCOPED_TRACE(name);
  const std::string path = write_csv_text(name, text);
  const std::string prefix = where.empty() ? path : path + ", " + where;
  expect_collective_error([&] { read_csv<double>(MPI_COMM_WORLD, path); }, prefix, fragments);
  expect_collective_error([&] { read_csv_shape(MPI_COMM_WORLD, path); }, prefix, fragments);
}

TEST(CsvErrors, NotANumberNamesLineAndField) {
  expect_csv_error("word.csv", "x,y\n1,2\n# c\n3,abc\n", "line 4, field 2",
                   {"'abc' is not a number"});
  // A first line with some numbers is data, not a header.
  expect_csv_error("half_header.csv", "1,abc\n2,3\n", "line 1, field 2", {"'abc' is not a number"});
  expect_csv_error("empty_field.csv", "1,,2\n", "line 1, field 2", {"empty field"});
  expect_csv_error("trailing_comma.csv", "1,2,\n", "line 1, field 3", {"empty field"});
  expect_csv_error("second_header.csv", "x,y\na,b\n", "line 2, field 1", {"'a' is not a number"});
}

TEST(CsvErrors, RaggedRows) {
  expect_csv_error("ragged.csv", "1,2,3\n4,5,6\n\n7,8\n", "line 4",
                   {"2 values but line 1 has 3", "same number of values"});
  expect_csv_error("ragged_spaces.csv", "# c\n1 2\n3 4 5\n", "line 3",
                   {"3 values but line 2 has 2"});
  expect_csv_error("header_width.csv", "x,y,z\n1,2\n", "line 2",
                   {"2 values but the header on line 1 has 3 names"});
}

TEST(CsvErrors, MissingEmptyOrDirectory) {
  const std::string missing = ScratchDirectory::file("missing.csv");
  expect_collective_error([&] { read_csv<double>(MPI_COMM_WORLD, missing); }, missing,
                          {"cannot open the file for reading", "No such file"});
  expect_csv_error("empty.csv", "", "", {"no rows of numbers"});
  expect_csv_error("comments.csv", "# nothing\n\n   \n", "", {"no rows of numbers"});
  const std::string directory = ScratchDirectory::path().string();
  expect_collective_error([&] { read_csv<double>(MPI_COMM_WORLD, directory); }, directory,
                          {"is a directory"});
}

TEST(CsvErrors, BlockOutsideTheArray) {
  const std::string path = write_csv_text("small.csv", table_text(4, 2, ","));
  const RowBlock outside{world_rank() == world_size() - 1 ? 3 : 0, 2};
  expect_collective_error([&] { read_csv<double>(MPI_COMM_WORLD, path, outside); }, path,
                          {"asked for 2 rows from row 3", "outside the array's 4 rows"});
}

// ---- Writing ----

TEST(WriteCsv, RowsGatheredInOrderWithSeventeenDigits) {
  const std::string path = ScratchDirectory::file("written.csv");
  write_csv(MPI_COMM_WORLD, path, make_rows<double>(13, 3, 2));
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_EQ(file_contents(path), table_text(13, 3, ","));
  expect_rows(read_csv<double>(MPI_COMM_WORLD, path), default_block(13), closed_form(13, 3), 3, 2);

  const std::string vector = ScratchDirectory::file("vector.csv");
  write_csv(MPI_COMM_WORLD, vector, make_rows<double>(5, 1, 1));
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_EQ(file_contents(vector), table_text(5, 1, ","));

  // float rows: each value the float's exact decimal expansion to 17 digits.
  const std::string floats = ScratchDirectory::file("floats.csv");
  write_csv(MPI_COMM_WORLD, floats, make_rows<float>(3, 2, 2));
  MPI_Barrier(MPI_COMM_WORLD);
  std::string expected;
  for (int i = 0; i < 3; ++i) {
    expected +=
        g17(static_cast<float>(value(i, 0))) + "," + g17(static_cast<float>(value(i, 1))) + "\n";
  }
  EXPECT_EQ(file_contents(floats), expected);

  const std::string empty = ScratchDirectory::file("empty_out.csv");
  write_csv(MPI_COMM_WORLD, empty, make_rows<double>(0, 2, 2));
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_EQ(file_contents(empty), "");
}

TEST(WriteCsv, Errors) {
  const std::string nowhere = ScratchDirectory::file("no/such/dir/x.csv");
  expect_collective_error([&] { write_csv(MPI_COMM_WORLD, nowhere, make_rows<double>(4, 2, 2)); },
                          nowhere, {"cannot create the output file", "No such file"});
  auto bad = make_rows<double>(4, 2, 2);
  bad.columns = 3;
  const std::string path = ScratchDirectory::file("bad.csv");
  expect_collective_error([&] { write_csv(MPI_COMM_WORLD, path, bad); }, path, {"holds"});
}

}  // namespace
