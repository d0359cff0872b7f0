#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/dist/FormulaKernelProduct.hpp>

#include <cstdint>
#include <utility>
#include <vector>

namespace kinterp {

namespace {

/// out = sums, rounded to out's type (the generic evaluator accumulates in double).
template <class Out, class Sums>
struct RoundSums {
  Out out;
  Sums sums;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i) const {
    using T = typename Out::non_const_value_type;
    for (std::size_t c = 0; c < out.extent(1); ++c) out(i, c) = static_cast<T>(sums(i, c));
  }
};

/// The columns [offset, offset + dimension) of packed rows.
template <class T>
auto columns_of(const LocalMatrix<T>& rows, int offset, int dimension) {
  return Kokkos::subview(rows, Kokkos::ALL, std::make_pair(offset, offset + dimension));
}

/// Rows of width `width` holding each variable's rows at its offset, except `skip`'s.
template <class T>
LocalMatrix<T> pack(const char* label, const std::vector<PackedVariable>& variables, int width,
                    const std::string& skip, const LocalMatrix<const T>& points,
                    const VariableRows<T>& inputs) {
  LocalMatrix<T> rows(std::string(label), points.extent(0), width);
  for (const auto& v : variables) {
    if (v.name == skip) continue;
    const auto input = inputs.find(v.name);
    Kokkos::deep_copy(columns_of(rows, v.offset, v.dimension),
                      input == inputs.end() ? points : input->second);
  }
  return rows;
}

}  // namespace

template <class T>
FormulaKernelProduct<T>::FormulaKernelProduct(MPI_Comm comm, const Program& program,
                                              const std::string& weights,
                                              const LocalMatrix<const T>& points,
                                              const VariableRows<T>& inputs)
    : program_(program),
      device_program_(program_),
      targets_at_points_(program_.targets.size() == 1 && inputs.count(program_.targets[0].name) == 0
                             ? points
                             : pack<T>("kinterp::FormulaKernelProduct::targets_at_points",
                                       program_.targets, program_.target_width, "", points,
                                       inputs)),
      rows_(pack<T>("kinterp::FormulaKernelProduct::rows", program_.sources, program_.source_width,
                    weights, points, inputs)),
      ring_(Communicator(comm), rows_) {
  for (const auto& source : program_.sources) {
    if (source.name == weights) {
      weights_at_ = source.offset;
      weights_dimension_ = source.dimension;
    }
  }
}

template <class T>
RingTimings FormulaKernelProduct<T>::apply(const execution_space& space,
                                           const LocalMatrix<const T>& targets,
                                           const LocalMatrix<const T>& weights,
                                           const LocalMatrix<T>& out) const {
  const detail::ScopedRegion region("kinterp::FormulaKernelProduct::apply");
  Kokkos::deep_copy(space, columns_of(rows_, weights_at_, weights_dimension_), weights);
  ring_.set_sources(space, rows_);
  if (sums_.extent(0) != targets.extent(0) || sums_.extent(1) != out.extent(1)) {
    sums_ = LocalMatrix<double>("kinterp::FormulaKernelProduct::sums", targets.extent(0),
                                out.extent(1));
  }
  const RingTimings timings =
      ring_.apply(space, device_program_, detail::ReductionLayout(Reduction{}, program_.dimension),
                  targets, sums_);
  Kokkos::parallel_for("kinterp::FormulaKernelProduct::round",
                       Kokkos::RangePolicy<execution_space>(space, 0, out.extent(0)),
                       RoundSums<LocalMatrix<T>, LocalMatrix<double>>{out, sums_});
  space.fence();
  return timings;
}

template class FormulaKernelProduct<float>;
template class FormulaKernelProduct<double>;

}  // namespace kinterp
