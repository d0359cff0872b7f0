#include <kinterp/core/Communicator.hpp>
#include <kinterp/core/Error.hpp>

namespace kinterp {

Communicator::Communicator(MPI_Comm comm) {
  if (comm == MPI_COMM_NULL)
    throw Error("kinterp needs a valid MPI communicator, got MPI_COMM_NULL");
  auto* duplicate = new MPI_Comm(MPI_COMM_NULL);
  MPI_Comm_dup(comm, duplicate);
  comm_ = std::shared_ptr<MPI_Comm>(duplicate, [](MPI_Comm* c) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized && *c != MPI_COMM_NULL) MPI_Comm_free(c);
    delete c;
  });
  MPI_Comm_rank(*comm_, &rank_);
  MPI_Comm_size(*comm_, &size_);
}

}  // namespace kinterp
