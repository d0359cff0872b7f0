#include <kinterp/Genred.hpp>
#include <kinterp/core/Collective.hpp>
#include <kinterp/core/detail/ScopedRegion.hpp>

#include <string>

namespace kinterp {

template <class T>
Genred<T>::Genred(MPI_Comm comm, const Formula& formula,
                  const std::map<std::string, std::vector<double>>& parameters,
                  const Reduction& reduction, int axis, const ConstMatrix& sources)
    : program_(formula.compile(parameters, axis)),
      reduction_(reduction),
      layout_(reduction, program_.dimension),
      device_program_(program_),
      comm_(comm),
      ring_(comm_, sources) {
  const bool wrong = static_cast<int>(sources.extent(1)) != program_.source_width;
  throw_if_any(comm_.get(), wrong,
               "reduction: the source rows have " + std::to_string(sources.extent(1)) +
                   " columns but the formula's " + (axis == 1 ? "j" : "i") + "-variables need " +
                   std::to_string(program_.source_width));
}

template <class T>
RingTimings Genred<T>::operator()(const ConstMatrix& targets, const Output& out) const {
  const detail::ScopedRegion region("kinterp::Genred");
  std::string problem;
  if (static_cast<int>(targets.extent(1)) != program_.target_width) {
    problem = "the target rows have " + std::to_string(targets.extent(1)) +
              " columns but the formula's target variables need " +
              std::to_string(program_.target_width);
  } else if (out.extent(0) != targets.extent(0) ||
             static_cast<int>(out.extent(1)) != layout_.columns) {
    problem = "the output is " + std::to_string(out.extent(0)) + " x " +
              std::to_string(out.extent(1)) + " but must be " + std::to_string(targets.extent(0)) +
              " x " + std::to_string(layout_.columns);
  }
  throw_if_any(comm_.get(), !problem.empty(), "reduction: " + problem);
  return ring_.apply(execution_space(), device_program_, layout_, targets, out);
}

template class Genred<float>;
template class Genred<double>;

}  // namespace kinterp
