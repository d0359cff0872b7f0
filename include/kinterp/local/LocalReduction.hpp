#pragma once
/// \file LocalReduction.hpp
/// The on-node generic reduction: for each target row t_i, fold the formula's
/// value at (t_i, s_j) for every source row s_j of one block into the row's
/// reduction state (detail/ReductionState.hpp). The formula runs as a
/// Program through the interpreter: on CPUs a thread takes a target and meets
/// the sources 128 at a time, one SIMD lane each; on GPUs a thread takes a
/// target and meets the sources one by one. Nothing is allocated per pair.

#include <kinterp/formula/Program.hpp>
#include <kinterp/formula/detail/Interpreter.hpp>
#include <kinterp/local/detail/ExecutionTraits.hpp>
#include <kinterp/local/detail/ReductionState.hpp>

#include <Kokkos_Core.hpp>

#include <cstdint>
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
        pair_begin_(program.pair_begin),
        end_(static_cast<int>(program.code.size())),
        result_(program.result),
        dimension_(program.dimension),
        registers_(program.registers),
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
    // f * w last, w a source variable (a kernel sum's weights): a Sum folds
    // the product into its accumulation instead, saving a pass over the lanes.
    const Instruction last = end_ > pair_begin_ ? program.code.back() : Instruction{};
    if (last.op == Opcode::Multiply && last.out == result_ && (last.a < 0) != (last.b < 0)) {
      const bool weight_first = last.a < 0;
      factor_ = weight_first ? last.b : last.a;
      factor_dimension_ = weight_first ? last.db : last.da;
      weight_column_ = -1 - (weight_first ? last.a : last.b);
      weight_dimension_ = weight_first ? last.da : last.db;
    }
  }

  /// Whether the value is f * w as above; f is then in registers from
  /// factor_ after the pair stage less its last instruction.
  KOKKOS_INLINE_FUNCTION bool weighted() const { return weight_column_ >= 0; }

  // The interpreter's view of the program (device-copyable members).
  Kokkos::View<Instruction*, memory_space> code_;
  Kokkos::View<T*, memory_space> constants_;
  int pair_begin_ = 0, end_ = 0, result_ = 0, dimension_ = 1, registers_ = 0;
  int target_width_ = 0, source_width_ = 0;
  int factor_ = 0, factor_dimension_ = 0, weight_column_ = -1, weight_dimension_ = 1;
};

/// Source rows stored component-major, as the interpreter reads them:
/// component k of source j is data[k * stride + j]. The stride is the count
/// rounded up to a multiple of kSourcePadding, and the padding repeats the
/// last source, so a full tile of lanes always reads finite, valid data.
constexpr std::int64_t kSourcePadding = 256;

inline std::int64_t padded_source_count(std::int64_t count) {
  return (count + kSourcePadding - 1) / kSourcePadding * kSourcePadding;
}

namespace detail {

template <class Buffer, class Rows>
struct ToComponentMajor {
  Buffer buffer;
  Rows rows;
  std::int64_t count, stride;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t j) const {
    const std::int64_t row = j < count ? j : count - 1;
    for (std::size_t k = 0; k < rows.extent(1); ++k) buffer(k * stride + j) = rows(row, k);
  }
};

/// One target against a block of sources. Host: Lanes sources at a time,
/// registers in a per-thread buffer (`scratch`, one slot per UniqueToken);
/// devices: one source at a time, registers on the thread's stack, or in
/// `scratch` for a program with more than Program::device_stack_registers.
template <int Lanes, class T, class ExecutionSpace>
struct LocalReductionFunctor {
  using memory_space = typename ExecutionSpace::memory_space;
  static constexpr bool kHost = Lanes > 1;
  DeviceProgram<T, ExecutionSpace> program;
  ReductionLayout layout;
  const T* targets;  // n_t x target_width, row-major
  const T* sources;  // component-major, see kSourcePadding
  std::int64_t source_count, source_stride, first_index;
  Kokkos::View<double**, Kokkos::LayoutRight, memory_space> values;
  Kokkos::View<std::int64_t**, Kokkos::LayoutRight, memory_space> indices;
  Kokkos::View<T*, memory_space> scratch;
  Kokkos::Experimental::UniqueToken<ExecutionSpace> token;

  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i) const {
    if (kHost || program.registers_ > Program::device_stack_registers) {
      const int slot = token.acquire();
      run(i, scratch.data() + std::int64_t(slot) * program.registers_ * Lanes);
      token.release(slot);
    } else {
      T reg[Program::device_stack_registers];
      run(i, reg);
    }
  }

  KOKKOS_INLINE_FUNCTION void run(const std::int64_t i, T* reg) const {
    const Instruction* code = program.code_.data();
    const T* constants = program.constants_.data();
    PairRows<T> rows{targets + i * program.target_width_, sources, source_stride};
    interpret<Lanes>(code, 0, program.pair_begin_, reg, constants, rows);
    double* state = &values(i, 0);
    std::int64_t* index_state = indices.extent(1) ? &indices(i, 0) : nullptr;
    const T* result = reg + program.result_ * Lanes;

    if (layout.kind == ReductionKind::Sum && layout.sum_scheme == SumScheme::Block) {
      // f * w folds w into the sums (DeviceProgram::weighted).
      const bool weighted = program.weighted();
      if (layout.double_tiles) {
        weighted ? block_sums<double, true>(reg, rows, state)
                 : block_sums<double, false>(reg, rows, state);
      } else {
        weighted ? block_sums<T, true>(reg, rows, state) : block_sums<T, false>(reg, rows, state);
      }
      return;
    }
    for (std::int64_t j = 0; j < source_count; j += Lanes) {
      rows.source = sources + j;
      const int valid = source_count - j < Lanes ? static_cast<int>(source_count - j) : Lanes;
      interpret<Lanes>(code, program.pair_begin_, program.end_, reg, constants, rows);
      for (int l = 0; l < valid; ++l) {
        reduction_update(layout, state, index_state, result + l, Lanes, first_index + j + l);
      }
    }
  }

  // Block sums, as the compiled kernels do: each tile's terms summed in Tile
  // (T, or double for dtype_acc) as kWidth partial sums per column, which
  // are held in double across tiles and summed once per block: a tile's
  // horizontal sum cost as much as the rest of a Gaussian's pair. Columns
  // past kMaxColumns take theirs per tile.
  static constexpr int kWidth = Lanes < 16 ? Lanes : 16;
  static constexpr int kMaxColumns = 8;

  template <class Tile, bool Weighted>
  KOKKOS_INLINE_FUNCTION void block_sums(T* reg, PairRows<T> rows, double* state) const {
    const int dim = program.dimension_;
    const int end = Weighted ? program.end_ - 1 : program.end_;
    const T* terms = reg + (Weighted ? program.factor_ : program.result_) * Lanes;
    const std::int64_t st = Weighted && program.factor_dimension_ == 1 ? 0 : Lanes;
    const std::int64_t sw = program.weight_dimension_ == 1 ? 0 : source_stride;
    double held[kMaxColumns][kWidth] = {};
    for (std::int64_t j = 0; j < source_count; j += Lanes) {
      rows.source = sources + j;
      const int valid = source_count - j < Lanes ? static_cast<int>(source_count - j) : Lanes;
      interpret<Lanes>(program.code_.data(), program.pair_begin_, end, reg,
                       program.constants_.data(), rows);
      const T* weight = Weighted ? rows.source + program.weight_column_ * source_stride : nullptr;
      for (int k = 0; k < dim; ++k) {
        Tile part[kWidth] = {};
        for (int first = 0; first < Lanes; first += kWidth) {
          for (int w = 0; w < kWidth; ++w) {
            const int l = first + w;
            const T term = Weighted ? terms[k * st + l] * weight[k * sw + l] : terms[k * st + l];
            part[w] += l < valid ? Tile(term) : Tile(0);
          }
        }
        if (k < kMaxColumns) {
          for (int w = 0; w < kWidth; ++w) held[k][w] += double(part[w]);
        } else {
          double tile = 0;
          for (int w = 0; w < kWidth; ++w) tile += double(part[w]);
          state[k] += tile;
        }
      }
    }
    for (int k = 0; k < dim && k < kMaxColumns; ++k) {
      double sum = 0;
      for (int w = 0; w < kWidth; ++w) sum += held[k][w];
      state[k] += sum;
    }
  }
};

}  // namespace detail

/// Copies source rows (n_s x width, row-major) into `buffer`, in the
/// component-major layout local_reduction reads (padded_source_count(n_s)
/// columns per component; see kSourcePadding).
template <class ExecutionSpace, class Rows, class Buffer>
void to_component_major(const ExecutionSpace& space, const Rows& rows, const Buffer& buffer) {
  const std::int64_t count = rows.extent(0), stride = padded_source_count(count);
  Kokkos::parallel_for(
      "kinterp::to_component_major",
      Kokkos::RangePolicy<ExecutionSpace, Kokkos::IndexType<std::int64_t>>(space, 0, stride),
      detail::ToComponentMajor<Buffer, Rows>{buffer, rows, count, stride});
}

/// The same in a new buffer.
template <class ExecutionSpace, class Rows>
Kokkos::View<typename Rows::non_const_value_type*, typename ExecutionSpace::memory_space>
component_major_sources(const ExecutionSpace& space, const Rows& rows) {
  using T = typename Rows::non_const_value_type;
  Kokkos::View<T*, typename ExecutionSpace::memory_space> buffer(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::sources"),
      padded_source_count(rows.extent(0)) * rows.extent(1));
  to_component_major(space, rows, buffer);
  return buffer;
}

/// Folds a block of `source_count` sources (component-major with stride
/// padded_source_count(source_count), see component_major_sources; the first
/// has global index `first_index`) into the reduction state of every target
/// row (targets: n_t x the program's target_width, row-major). `values` and
/// `indices` are n_t x layout.values and n_t x layout.indices, initialised
/// with detail::reduction_initialise. Not collective; asynchronous.
template <class T, class ExecutionSpace, class Targets>
void local_reduction(const ExecutionSpace& space, const DeviceProgram<T, ExecutionSpace>& program,
                     const detail::ReductionLayout& layout, const Targets& targets,
                     const T* sources, std::int64_t source_count, std::int64_t first_index,
                     const Kokkos::View<double**, Kokkos::LayoutRight,
                                        typename ExecutionSpace::memory_space>& values,
                     const Kokkos::View<std::int64_t**, Kokkos::LayoutRight,
                                        typename ExecutionSpace::memory_space>& indices) {
  static_assert(std::is_same<typename Targets::array_layout, Kokkos::LayoutRight>::value,
                "local_reduction reads target rows: the View must be LayoutRight");
  const std::int64_t n_t = targets.extent(0);
  if (n_t == 0 || source_count == 0) return;
  const auto launch = [&](auto lanes) {
    constexpr int Lanes = decltype(lanes)::value;
    using Functor = detail::LocalReductionFunctor<Lanes, T, ExecutionSpace>;
    Kokkos::Experimental::UniqueToken<ExecutionSpace> token(space);
    Kokkos::View<T*, typename ExecutionSpace::memory_space> scratch;
    if (Lanes > 1 || program.registers_ > Program::device_stack_registers) {
      scratch = decltype(scratch)(
          Kokkos::view_alloc(Kokkos::WithoutInitializing, "kinterp::local_reduction::registers"),
          std::size_t(token.size()) * program.registers_ * Lanes);
    }
    Kokkos::parallel_for(
        "kinterp::local_reduction",
        Kokkos::RangePolicy<ExecutionSpace, Kokkos::IndexType<std::int64_t>>(space, 0, n_t),
        Functor{program, layout, targets.data(), sources, source_count,
                padded_source_count(source_count), first_index, values, indices, scratch, token});
  };
  // 128 lanes: the cost of decoding an instruction is shared by 8 to 16
  // vectors, and a program's registers still fit in L1.
  if constexpr (detail::runs_on_host<ExecutionSpace>()) {
    launch(std::integral_constant<int, 128>{});
  } else {
    launch(std::integral_constant<int, 1>{});
  }
}

}  // namespace kinterp
