#include <kinterp/io/OutputFile.hpp>

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/Partition.hpp>

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace kinterp::io {

namespace fs = std::filesystem;

std::string temporary_path(const std::string& path) {
  return path + ".tmp";
}

void require_writable(MPI_Comm comm, const std::string& path) {
  agree_on_errors(comm, [&] {
    if (rank_of(comm) != 0) return;
    std::error_code ec;
    const fs::path file(path);
    if (fs::is_directory(file, ec)) {
      throw Error(path + ": is a directory; name a file in it");
    }
    const fs::path directory = file.parent_path().empty() ? fs::path(".") : file.parent_path();
    if (!fs::is_directory(directory, ec)) {
      throw Error(path + ": the directory " + directory.string() +
                  " does not exist; create it or choose another path");
    }
    // The output is written beside its final name and renamed: the directory
    // must take new files.
    if (::access(directory.c_str(), W_OK | X_OK) != 0) {
      throw Error(path + ": cannot write in the directory " + directory.string() + " (" +
                  std::strerror(errno) + "); choose a directory you may write in");
    }
    if (fs::exists(file, ec) && ::access(file.c_str(), W_OK) != 0) {
      throw Error(path +
                  ": the file exists and is read-only; kinterp does not replace it (make "
                  "it writable or choose another name)");
    }
  });
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) {
    const bool same = fs::equivalent(a, b, ec);
    if (!ec) return same;
  }
  const fs::path x = fs::weakly_canonical(a, ec), y = fs::weakly_canonical(b, ec);
  return (x.empty() ? fs::path(a) : x).lexically_normal() ==
         (y.empty() ? fs::path(b) : y).lexically_normal();
}

void detail::commit_output(MPI_Comm comm, const std::string& temporary, const std::string& path) {
  fault_point("output-before-rename");
  std::string failure;
  if (rank_of(comm) == 0 && std::rename(temporary.c_str(), path.c_str()) != 0) {
    failure = path + ": cannot rename " + temporary + " to it (" + std::strerror(errno) +
              "); the complete output is in " + temporary;
  }
  throw_if_any(comm, !failure.empty(), failure);
}

void detail::fault_point(const char* point) {
  const char* fault = std::getenv("KINTERP_TEST_FAULT");
  if (fault != nullptr && std::strcmp(fault, point) == 0) {
    std::fflush(nullptr);
    std::raise(SIGKILL);
  }
}

}  // namespace kinterp::io
