#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>

#include <vector>

namespace kinterp {

void throw_if_any(MPI_Comm comm, bool failed, const std::string& message) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  // The lowest failing rank speaks for all: its message is broadcast.
  int candidate = failed ? rank : size;
  int speaker = size;
  MPI_Allreduce(&candidate, &speaker, 1, MPI_INT, MPI_MIN, comm);
  if (speaker == size) return;

  int length = rank == speaker ? static_cast<int>(message.size()) : 0;
  MPI_Bcast(&length, 1, MPI_INT, speaker, comm);
  std::vector<char> text(message.begin(), message.end());
  text.resize(length);
  MPI_Bcast(text.data(), length, MPI_CHAR, speaker, comm);
  throw Error(std::string(text.begin(), text.end()));
}

}  // namespace kinterp
