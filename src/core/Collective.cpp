#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>

#include <functional>
#include <vector>

namespace kinterp {

bool agree_on_failure(MPI_Comm comm, bool failed, std::string& message, int& code) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  // The lowest failing rank speaks for all: its code and message are broadcast.
  int candidate = failed ? rank : size;
  int speaker = size;
  MPI_Allreduce(&candidate, &speaker, 1, MPI_INT, MPI_MIN, comm);
  if (speaker == size) return false;

  int header[2] = {rank == speaker ? static_cast<int>(message.size()) : 0, code};
  MPI_Bcast(header, 2, MPI_INT, speaker, comm);
  std::vector<char> text(message.begin(), message.end());
  text.resize(header[0]);
  MPI_Bcast(text.data(), header[0], MPI_CHAR, speaker, comm);
  message.assign(text.begin(), text.end());
  code = header[1];
  return true;
}

bool same_on_every_rank(MPI_Comm comm, const std::string& text) {
  const unsigned long long hash = std::hash<std::string>{}(text);
  unsigned long long extremes[2] = {hash, ~hash};  // the largest hash and the smallest
  MPI_Allreduce(MPI_IN_PLACE, extremes, 2, MPI_UNSIGNED_LONG_LONG, MPI_MAX, comm);
  return extremes[0] == hash && extremes[1] == ~hash;
}

void throw_if_any(MPI_Comm comm, bool failed, const std::string& message) {
  std::string agreed = message;
  int code = 0;
  if (agree_on_failure(comm, failed, agreed, code)) throw Error(agreed);
}

}  // namespace kinterp
