#pragma once
/// \file LocalReduction.hpp
/// The on-node generic reduction: for each target row t_i, fold the formula's
/// value at (t_i, s_j) for every source row s_j of one block into the row's
/// reduction state (detail/ReductionState.hpp). The formula runs as a
/// Program through the interpreter: on CPUs a thread takes a target and meets
/// the sources 16 at a time, one SIMD lane each; on GPUs a thread takes a
/// target and meets the sources one by one. Nothing is allocated per pair.

#include <kinterp/formula/Program.hpp>
#include <kinterp/formula/detail/Interpreter.hpp>
#include <kinterp/local/detail/ExecutionTraits.hpp>
#include <kinterp/local/detail/ReductionState.hpp>

#include <Kokkos_Core.hpp>

#include <cstdint>
#include <string>
#include <type_traits>

namespace kinterp {

/// A Program copied to the memory of `ExecutionSpace`, with its constants in T.
template <class T, class ExecutionSpace = Kokkos::DefaultExecutionSpace>
class DeviceProgram {
 public:
  using memory_space = typename ExecutionSpace::memory_space;

  DeviceProgram() = default;
  explicit DeviceProgram(const Program& program)
      : code_("kinterp::DeviceProgram::code", program.code.size()),
        constants_("kinterp::DeviceProgram::constants", program.constants.size()),
        target_begin_(program.target_begin),
        pair_begin_(program.pair_begin),
        end_(static_cast<int>(program.code.size())),
        result_(program.result),
        dimension_(program.dimension),
        target_width_(program.target_width),
        source_width_(program.source_width) {
    auto code = Kokkos::create_mirror_view(code_);
    auto constants = Kokkos::create_mirror_view(constants_);
    for (std::size_t k = 0; k < program.code.size(); ++k) code(k) = program.code[k];
    for (std::size_t k = 0; k < program.constants.size(); ++k) {
      constants(k) = static_cast<T>(program.constants[k]);
    }
    Kokkos::deep_copy(code_, code);
    Kokkos::deep_copy(constants_, constants);
  }

  int dimension() const { return dimension_; }
  int target_width() const { return target_width_; }
  int source_width() const { return source_width_; }

  // The interpreter's view of the program (device-copyable members).
  Kokkos::View<Instruction*, memory_space> code_;
  Kokkos::View<T*, memory_space> constants_;
  int target_begin_ = 0, pair_begin_ = 0, end_ = 0, result_ = 0, dimension_ = 1;
  int target_width_ = 0, source_width_ = 0;
};

namespace detail {

template <int Lanes, class T, class ExecutionSpace>
struct LocalReductionFunctor {
  using memory_space = typename ExecutionSpace::memory_space;
  DeviceProgram<T, ExecutionSpace> program;
  ReductionLayout layout;
  const T* targets;  // n_t x target_width, row-major
  const T* sources;  // n_s x source_width, row-major
  std::int64_t source_count, first_index;
  Kokkos::View<double**, Kokkos::LayoutRight, memory_space> values;
  Kokkos::View<std::int64_t**, Kokkos::LayoutRight, memory_space> indices;

  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i) const {
    T reg[Program::max_registers * Lanes];
    const Instruction* code = program.code_.data();
    const T* constants = program.constants_.data();
    const int stride = program.source_width_, dim = program.dimension_;
    PairRows<T> rows{targets + i * program.target_width_, sources, stride, 1};
    interpret<Lanes>(code, 0, program.pair_begin_, reg, constants, rows);
    double* state = &values(i, 0);
    std::int64_t* index_state = indices.extent(1) ? &indices(i, 0) : nullptr;
    const T* result = reg + program.result_ * Lanes;

    if (layout.kind == ReductionKind::Sum) {
      // Per-lane partial sums in double, added to the state once per block.
      double partial[Program::max_registers * Lanes];
      for (int k = 0; k < dim * Lanes; ++k) partial[k] = 0;
      for (std::int64_t j = 0; j < source_count; j += Lanes) {
        rows.source = sources + j * stride;
        rows.valid = source_count - j < Lanes ? static_cast<int>(source_count - j) : Lanes;
        interpret<Lanes>(code, program.pair_begin_, program.end_, reg, constants, rows);
        for (int k = 0; k < dim; ++k) {
          for (int l = 0; l < Lanes; ++l) {
            partial[k * Lanes + l] += l < rows.valid ? double(result[k * Lanes + l]) : 0.0;
          }
        }
      }
      for (int k = 0; k < dim; ++k) {
        double sum = 0;
        for (int l = 0; l < Lanes; ++l) sum += partial[k * Lanes + l];
        state[k] += sum;
      }
      return;
    }
    for (std::int64_t j = 0; j < source_count; j += Lanes) {
      rows.source = sources + j * stride;
      rows.valid = source_count - j < Lanes ? static_cast<int>(source_count - j) : Lanes;
      interpret<Lanes>(code, program.pair_begin_, program.end_, reg, constants, rows);
      for (int l = 0; l < rows.valid; ++l) {
        reduction_update(layout, state, index_state, result + l, Lanes, first_index + j + l);
      }
    }
  }
};

}  // namespace detail

/// Folds the block `sources` (n_s x program.source_width(), its first row
/// having global index `first_index`) into the reduction state of every
/// target row (targets: n_t x program.target_width()). `values` and
/// `indices` are n_t x layout.values and n_t x layout.indices, initialised
/// with detail::reduction_initialise. Not collective; asynchronous.
template <class T, class ExecutionSpace, class Targets, class Sources>
void local_reduction(const ExecutionSpace& space, const DeviceProgram<T, ExecutionSpace>& program,
                     const detail::ReductionLayout& layout, const Targets& targets,
                     const Sources& sources, std::int64_t first_index,
                     const Kokkos::View<double**, Kokkos::LayoutRight,
                                        typename ExecutionSpace::memory_space>& values,
                     const Kokkos::View<std::int64_t**, Kokkos::LayoutRight,
                                        typename ExecutionSpace::memory_space>& indices) {
  static_assert(std::is_same<typename Targets::array_layout, Kokkos::LayoutRight>::value &&
                    std::is_same<typename Sources::array_layout, Kokkos::LayoutRight>::value,
                "local_reduction reads rows: the Views must be LayoutRight");
  const std::int64_t n_t = targets.extent(0), n_s = sources.extent(0);
  if (n_t == 0 || n_s == 0) return;
  const auto launch = [&](auto lanes) {
    constexpr int Lanes = decltype(lanes)::value;
    Kokkos::parallel_for(
        "kinterp::local_reduction",
        Kokkos::RangePolicy<ExecutionSpace, Kokkos::IndexType<std::int64_t>>(space, 0, n_t),
        detail::LocalReductionFunctor<Lanes, T, ExecutionSpace>{
            program, layout, targets.data(), sources.data(), n_s, first_index, values, indices});
  };
  if constexpr (detail::runs_on_host<ExecutionSpace>()) {
    launch(std::integral_constant<int, 16>{});
  } else {
    launch(std::integral_constant<int, 1>{});
  }
}

}  // namespace kinterp
