#pragma once
// A directory for the files of one test program's run, unique per run (rank
// 0's pid) and rank count, made before the tests and removed after them:
//   ::testing::AddGlobalTestEnvironment(new ScratchDirectory("kinterp_test_x"));

#include "DistributedData.hpp"

#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <utility>

namespace kinterp::test {

class ScratchDirectory : public ::testing::Environment {
 public:
  explicit ScratchDirectory(std::string prefix) : prefix_(std::move(prefix)) {}
  void SetUp() override {
    long pid = static_cast<long>(getpid());
    MPI_Bcast(&pid, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    path_ = std::filesystem::temp_directory_path() /
            (prefix_ + "_" + std::to_string(pid) + "_np" + std::to_string(world_size()));
    if (world_rank() == 0) std::filesystem::create_directories(path_);
    MPI_Barrier(MPI_COMM_WORLD);
  }
  void TearDown() override {
    MPI_Barrier(MPI_COMM_WORLD);
    if (world_rank() == 0) std::filesystem::remove_all(path_);
  }
  static const std::filesystem::path& path() { return path_; }
  static std::string file(const std::string& name) { return (path_ / name).string(); }

 private:
  std::string prefix_;
  static inline std::filesystem::path path_;
};

}  // namespace kinterp::test
