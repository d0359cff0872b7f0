#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/EnumNames.hpp>
#include <kinterp/dist/DirectKernelProduct.hpp>
#include <kinterp/dist/ProductChoice.hpp>

namespace kinterp {

namespace {
constexpr detail::EnumName<ProductEngine> engine_names[] = {{ProductEngine::Direct, "direct"},
                                                            {ProductEngine::Tree, "tree"},
                                                            {ProductEngine::Auto, "auto"}};
}  // namespace

std::string to_string(ProductEngine engine) {
  return detail::name_in(engine_names, engine, "?");
}

ProductEngine product_engine_from_name(const std::string& name) {
  return detail::value_named(engine_names, name, "product engine");
}

template <class T>
std::shared_ptr<const KernelProduct<T>> make_kernel_product(MPI_Comm comm, const KernelSpec& kernel,
                                                            const LocalMatrix<const T>& sources,
                                                            const ProductOptions& options) {
  const auto direct = [&] {
    return std::make_shared<const DirectKernelProduct<T>>(comm, kernel, sources);
  };
  if (options.engine == ProductEngine::Direct) return direct();
  if (options.engine == ProductEngine::Tree) {
    return std::make_shared<const TreeKernelProduct<T>>(comm, kernel, sources, options.tree);
  }
  // Auto: every rank sees the same counts and d, so every rank decides alike.
  std::int64_t n = static_cast<std::int64_t>(sources.extent(0));
  MPI_Allreduce(MPI_IN_PLACE, &n, 1, MPI_INT64_T, MPI_SUM, comm);
  const int d = static_cast<int>(sources.extent(1));
  if (d < 1 || d > max_tree_dim || n < options.auto_min_sources) return direct();
  auto tree = std::make_shared<const TreeKernelProduct<T>>(comm, kernel, sources, options.tree);
  if (tree->info().sampled_pairs_per_target < static_cast<double>(n) / 3) return tree;
  return direct();
}

template std::shared_ptr<const KernelProduct<float>> make_kernel_product<float>(
    MPI_Comm, const KernelSpec&, const LocalMatrix<const float>&, const ProductOptions&);
template std::shared_ptr<const KernelProduct<double>> make_kernel_product<double>(
    MPI_Comm, const KernelSpec&, const LocalMatrix<const double>&, const ProductOptions&);

}  // namespace kinterp
