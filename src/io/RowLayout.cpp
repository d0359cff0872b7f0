#include "RowLayout.hpp"

#include <kinterp/core/Error.hpp>

#include <algorithm>

namespace kinterp::io::detail {
namespace {

// What is wrong with the layout of the array to write, or "". Every rank holds
// every rank's fields, so all reach the same verdict without more communication.
std::string layout_problem(const std::vector<std::int64_t>& fields, int size) {
  struct Layout {
    std::int64_t begin, count, rows, columns, ndim, item_size, values;
  };
  const auto layout = [&](int rank) {
    const std::int64_t* f = &fields[7 * static_cast<std::size_t>(rank)];
    return Layout{f[0], f[1], f[2], f[3], f[4], f[5], f[6]};
  };
  const auto str = [](std::int64_t x) { return std::to_string(x); };
  const Layout first = layout(0);
  if (first.item_size != 4 && first.item_size != 8) {
    return "cannot write item_size " + str(first.item_size) + "; pass 8 (float64) or 4 (float32)";
  }
  if (first.ndim != 1 && first.ndim != 2) {
    return "cannot write ndim " + str(first.ndim) + "; pass 1 for shape (N,) or 2 for (N, d)";
  }
  if (first.ndim == 1 && first.columns != 1) {
    return "ndim is 1 but columns is " + str(first.columns) +
           "; a 1-D array has one column: set ndim to 2 to write shape (N, d)";
  }
  if (first.rows < 0 || first.columns < 0) {
    return "global_rows " + str(first.rows) + " and columns " + str(first.columns) +
           " must not be negative";
  }
  std::int64_t next = 0;
  for (int rank = 0; rank < size; ++rank) {
    const Layout l = layout(rank);
    const std::string who = "rank " + std::to_string(rank);
    if (l.rows != first.rows || l.columns != first.columns || l.ndim != first.ndim ||
        l.item_size != first.item_size) {
      return who + " writes global_rows " + str(l.rows) + ", columns " + str(l.columns) +
             ", ndim " + str(l.ndim) + ", item_size " + str(l.item_size) + " but rank 0 " +
             str(first.rows) + ", " + str(first.columns) + ", " + str(first.ndim) + ", " +
             str(first.item_size) + "; pass the same on every rank";
    }
    if (l.count < 0 || l.begin != next) {
      return who + "'s block of " + str(l.count) + " rows from row " + str(l.begin) +
             " should begin at row " + str(next) +
             "; blocks must be contiguous and ordered by rank, as block_partition(global_rows, "
             "rank, size) makes them";
    }
    if (l.values != l.count * l.columns) {
      return who + " holds " + str(l.values) + " values but its block of " + str(l.count) +
             " rows of " + str(l.columns) + " columns needs " + str(l.count * l.columns);
    }
    next += l.count;
  }
  if (next != first.rows) {
    return "the blocks cover " + str(next) + " rows but global_rows is " + str(first.rows) +
           "; the blocks must cover every row exactly once";
  }
  return "";
}

}  // namespace

std::vector<std::int64_t> gather_everywhere(MPI_Comm comm, const std::vector<std::int64_t>& mine) {
  const int count = static_cast<int>(mine.size());
  std::vector<std::int64_t> all(mine.size() * static_cast<std::size_t>(size_of(comm)));
  MPI_Allgather(mine.data(), count, MPI_INT64_T, all.data(), count, MPI_INT64_T, comm);
  return all;
}

void check_layout(MPI_Comm comm, const std::string& path, RowBlock block, std::int64_t global_rows,
                  std::int64_t columns, int ndim, int item_size, std::size_t values) {
  const std::vector<std::int64_t> fields =
      gather_everywhere(comm, {block.begin, block.count, global_rows, columns, ndim, item_size,
                               static_cast<std::int64_t>(values)});
  const std::string problem = layout_problem(fields, size_of(comm));
  if (!problem.empty()) throw Error(path + ": " + problem);
}

// Throws on every rank if a rank asks for rows outside [0, rows); says whether
// any two ranks' blocks overlap.
bool check_blocks(MPI_Comm comm, const std::string& path, RowBlock block, std::int64_t rows) {
  const std::vector<std::int64_t> fields = gather_everywhere(comm, {block.begin, block.count});
  std::vector<RowBlock> blocks;
  for (std::size_t rank = 0; rank < fields.size() / 2; ++rank) {
    const RowBlock b{fields[2 * rank], fields[2 * rank + 1]};
    if (b.begin < 0 || b.count < 0 || b.begin > rows - b.count) {
      throw Error(path + ": rank " + std::to_string(rank) + " asked for " +
                  std::to_string(b.count) + " rows from row " + std::to_string(b.begin) +
                  ", outside the array's " + std::to_string(rows) +
                  " rows; ask for a block within rows [0, " + std::to_string(rows) + ")");
    }
    if (b.count > 0) blocks.push_back(b);
  }
  std::sort(blocks.begin(), blocks.end(),
            [](const RowBlock& a, const RowBlock& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < blocks.size(); ++i) {
    if (blocks[i - 1].begin + blocks[i - 1].count > blocks[i].begin) return true;
  }
  return false;
}

ArrayShape broadcast_shape(MPI_Comm comm, const ArrayShape& shape) {
  std::int64_t fields[4] = {shape.rows, shape.columns, shape.ndim, shape.item_size};
  MPI_Bcast(fields, 4, MPI_INT64_T, 0, comm);
  ArrayShape out;
  out.rows = fields[0];
  out.columns = fields[1];
  out.ndim = static_cast<int>(fields[2]);
  out.item_size = static_cast<int>(fields[3]);
  return out;
}

}  // namespace kinterp::io::detail
