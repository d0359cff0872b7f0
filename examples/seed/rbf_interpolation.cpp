// KeOps' "Kernel interpolation" example (plot_RBF_interpolation_torch) with
// kinterp: 1D Gaussian and 2D Laplacian RBF interpolation of 10000 noisy
// samples, solved by the distributed matrix-free CG and evaluated on the
// seed's grids (1001 points; 101 x 101). Prints the seed's timing lines and
// writes the samples, weights and fitted values as .npy for the plot script
// (plot_rbf_interpolation.py).
//
//   mpirun -np 2 rbf_interpolation [--out-dir results] [--n 10000] [--precision double|float]
//       [--product direct|tree|auto]

#include <kinterp/KernelSolve.hpp>
#include <kinterp/core/Environment.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/formula/Formula.hpp>
#include <kinterp/io/LocalRowsView.hpp>
#include <kinterp/io/Npy.hpp>

#include "SeedProblems.hpp"

#include <Kokkos_Core.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

using kinterp::RowBlock;

struct Settings {
  std::string out_dir = "results";
  std::int64_t n = 10000;
  std::string precision = "double";
  kinterp::ProductEngine product = kinterp::ProductEngine::Direct;
};

template <class T>
typename kinterp::KernelSum<T>::Matrix to_device(const std::vector<double>& values,
                                                 std::int64_t rows, int columns,
                                                 const std::string& label) {
  typename kinterp::KernelSum<T>::Matrix view(label, rows, columns);
  auto host = Kokkos::create_mirror_view(view);
  for (std::int64_t i = 0; i < rows; ++i)
    for (int k = 0; k < columns; ++k) host(i, k) = static_cast<T>(values[i * columns + k]);
  Kokkos::deep_copy(view, host);
  return view;
}

/// Solves one seed problem, prints its timing line, writes its arrays; returns
/// whether the solve converged.
template <class T>
bool run(MPI_Comm comm, const kinterp::seed::SeedProblem& problem, const Settings& settings) {
  const int d = problem.dim;
  const RowBlock block = kinterp::block_partition(settings.n, comm);
  std::vector<double> x, b;
  kinterp::seed::samples(problem, settings.n, block, x, b);

  const kinterp::Formula formula(problem.formula, problem.aliases);
  const kinterp::KernelSpec kernel = formula.bind({{"G", {problem.g}}}).kernel;
  const auto points = to_device<T>(x, block.count, d, "points");
  const auto values = to_device<T>(b, block.count, 1, "values");

  kinterp::SolveOptions options;
  options.rtol = 1e-6;
  kinterp::ProductOptions product;
  product.engine = settings.product;
  product.tree.tolerance = kinterp::solve_product_tolerance<T>(options.rtol);
  typename kinterp::KernelSum<T>::Matrix weights("weights", block.count, 1);
  // The time counts the products' set-up (a tree's), as KeOps' counts its own.
  MPI_Barrier(comm);
  const double start = MPI_Wtime();
  const kinterp::KernelSolve<T> solver(comm, kernel, points, product);
  const auto result = solver.solve(values, weights, problem.alpha, options);
  MPI_Barrier(comm);
  const double seconds = MPI_Wtime() - start;

  // The fitted model on the seed's grid, spread over the ranks like the samples.
  std::int64_t grid_size = 1;
  for (int k = 0; k < d; ++k) grid_size *= problem.grid;
  const RowBlock grid_block = kinterp::block_partition(grid_size, comm);
  const auto grid =
      to_device<T>(kinterp::seed::grid_points(problem, grid_block), grid_block.count, d, "grid");
  typename kinterp::KernelSum<T>::Matrix fit("fit", grid_block.count, 1);
  solver.kernel_sum()(grid, weights, fit);

  if (kinterp::rank_of(comm) == 0) {
    std::printf("Time to perform an RBF interpolation with %lld samples in %s: %.5fs\n",
                static_cast<long long>(settings.n), problem.name.c_str(), seconds);
    std::printf("  %s, %s after %d iterations, relative residual %.2e, %s products\n",
                kernel.formula().c_str(), to_string(result.reason).c_str(), result.iterations,
                result.relative_residual(), result.product_engine.c_str());
    if (!result.converged()) std::printf("  %s\n", result.detail.c_str());
    std::fflush(stdout);
  }
  const std::string prefix = settings.out_dir + "/rbf_" + (d == 1 ? "1d" : "2d") + "_";
  const auto write = [&](const std::string& name, const auto& view, std::int64_t global_rows,
                         RowBlock rows, int ndim) {
    kinterp::io::write_npy(comm, prefix + name,
                           kinterp::io::to_local_rows<T>(view, global_rows, rows, ndim), sizeof(T));
  };
  write("points.npy", points, settings.n, block, 2);
  write("values.npy", values, settings.n, block, 1);
  write("weights.npy", weights, settings.n, block, 1);
  write("grid.npy", grid, grid_size, grid_block, 2);
  write("fit.npy", fit, grid_size, grid_block, 1);
  return result.converged();
}

Settings parse(int argc, char** argv) {
  Settings settings;
  for (int k = 1; k < argc; ++k) {
    const std::string option = argv[k];
    const bool has_value = k + 1 < argc;
    if (option == "--out-dir" && has_value) {
      settings.out_dir = argv[++k];
    } else if (option == "--n" && has_value) {
      settings.n = std::atoll(argv[++k]);
    } else if (option == "--precision" && has_value) {
      settings.precision = argv[++k];
    } else if (option == "--product" && has_value) {
      settings.product = kinterp::product_engine_from_name(argv[++k]);
    } else {
      throw kinterp::Error(
          "usage: rbf_interpolation [--out-dir DIR] [--n N] [--precision double|float] "
          "[--product direct|tree|auto]"
          " (got '" +
          option + "')");
    }
  }
  if (settings.n < 1) throw kinterp::Error("--n must be a positive number of samples");
  if (settings.precision != "double" && settings.precision != "float") {
    throw kinterp::Error("--precision is double or float");
  }
  return settings;
}

}  // namespace

int main(int argc, char** argv) {
  kinterp::Environment environment(argc, argv);
  const MPI_Comm comm = MPI_COMM_WORLD;
  try {
    const Settings settings = parse(argc, argv);
    if (kinterp::rank_of(comm) == 0) std::filesystem::create_directories(settings.out_dir);
    MPI_Barrier(comm);
    bool converged = true;
    for (const auto& problem : {kinterp::seed::gaussian_1d(), kinterp::seed::laplacian_2d()}) {
      converged &= settings.precision == "float" ? run<float>(comm, problem, settings)
                                                 : run<double>(comm, problem, settings);
    }
    return converged ? 0 : 3;
  } catch (const kinterp::Error& e) {
    if (kinterp::rank_of(comm) == 0) std::fprintf(stderr, "rbf_interpolation: %s\n", e.what());
    return 1;
  }
}
