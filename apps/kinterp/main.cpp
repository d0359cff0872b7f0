// kinterp: distributed kernel interpolation from the command line.
//   mpirun -np 4 kinterp solve --points x.npy --values b.npy --kernel gaussian
//       --length-scale 0.1 --alpha 1 --out a.npy
//   mpirun -np 4 kinterp predict --points x.npy --weights a.npy --targets t.npy
//       --kernel gaussian --length-scale 0.1 --out y.npy
//   mpirun -np 4 kinterp reduce --formula "SqDist(X,Y)" --var "X=Vi(3)" --var "Y=Vj(3)"
//       --reduction ArgKMin --k 5 --input X=t.npy --input Y=x.npy --out knn.npy
// See `kinterp --help`.

#include <kinterp/core/Environment.hpp>

#include "Commands.hpp"

int main(int argc, char** argv) {
  kinterp::Environment environment(argc, argv);
  return kinterp::cli::run(MPI_COMM_WORLD, std::vector<std::string>(argv + 1, argv + argc),
                           environment.argument_error());
}
