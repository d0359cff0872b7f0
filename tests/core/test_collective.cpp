#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/Partition.hpp>

#include "../DistributedData.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using kinterp::test::world_rank;
using kinterp::test::world_size;

TEST(BlockPartition, CoversAllRowsInOrderWithSizesDifferingByAtMostOne) {
  for (std::int64_t rows : {0, 1, 3, 7, 100, 1001}) {
    for (int size : {1, 2, 3, 4, 7}) {
      std::int64_t next = 0, smallest = rows, largest = 0;
      for (int rank = 0; rank < size; ++rank) {
        const auto block = kinterp::block_partition(rows, rank, size);
        EXPECT_EQ(block.begin, next) << rows << " rows over " << size;
        next += block.count;
        smallest = std::min(smallest, block.count);
        largest = std::max(largest, block.count);
      }
      EXPECT_EQ(next, rows);
      EXPECT_LE(largest - smallest, 1);
    }
  }
}

TEST(ThrowIfAny, EveryRankThrowsTheLowestFailingRanksMessage) {
  const int rank = world_rank(), size = world_size();
  const int failing = size - 1;  // the last rank fails, with its own message
  try {
    kinterp::throw_if_any(MPI_COMM_WORLD, rank >= failing,
                          "bad row on rank " + std::to_string(rank));
    FAIL() << "no exception on rank " << rank;
  } catch (const kinterp::Error& e) {
    EXPECT_EQ(std::string(e.what()), "bad row on rank " + std::to_string(failing));
  }
}

TEST(ThrowIfAny, ReturnsWhenNoRankFails) {
  EXPECT_NO_THROW(kinterp::throw_if_any(MPI_COMM_WORLD, false, "unused"));
}

TEST(AgreeOnErrors, AnExceptionOnOneRankReachesAll) {
  const int rank = world_rank();
  EXPECT_THROW(kinterp::agree_on_errors(MPI_COMM_WORLD,
                                        [&] {
                                          if (rank == 0) throw kinterp::Error("only rank 0");
                                        }),
               kinterp::Error);
}

}  // namespace
