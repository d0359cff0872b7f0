#include <kinterp/core/detail/ScopedRegion.hpp>
#include <kinterp/dist/FormulaKernelProduct.hpp>

#include <cstdint>

namespace kinterp {

namespace {

/// rows(i, :) = [points(i, :) at points_at, weights(i, :) at weights_at]. A
/// functor: nvcc rejects extended lambdas in constructors and private members.
template <class Rows, class ConstRows>
struct PackSourceRows {
  Rows rows;
  ConstRows points, weights;
  int points_at, weights_at;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i) const {
    for (std::size_t k = 0; k < points.extent(1); ++k) rows(i, points_at + k) = points(i, k);
    for (std::size_t c = 0; c < weights.extent(1); ++c) rows(i, weights_at + c) = weights(i, c);
  }
};

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

}  // namespace

template <class T>
FormulaKernelProduct<T>::FormulaKernelProduct(MPI_Comm comm, const Program& program,
                                              const std::string& weights,
                                              const LocalMatrix<const T>& sources)
    : program_(program),
      device_program_(program_),
      points_(sources),
      rows_("kinterp::FormulaKernelProduct::rows", sources.extent(0), program_.source_width),
      ring_(Communicator(comm), rows_) {
  for (const auto& source : program_.sources) {
    (source.name == weights ? weights_at_ : points_at_) = source.offset;
  }
}

template <class T>
RingTimings FormulaKernelProduct<T>::apply(const execution_space& space,
                                           const LocalMatrix<const T>& targets,
                                           const LocalMatrix<const T>& weights,
                                           const LocalMatrix<T>& out) const {
  const detail::ScopedRegion region("kinterp::FormulaKernelProduct::apply");
  Kokkos::parallel_for("kinterp::FormulaKernelProduct::pack",
                       Kokkos::RangePolicy<execution_space>(space, 0, points_.extent(0)),
                       PackSourceRows<LocalMatrix<T>, LocalMatrix<const T>>{
                           rows_, points_, weights, points_at_, weights_at_});
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
