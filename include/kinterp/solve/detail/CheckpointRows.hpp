#pragma once
/// \file CheckpointRows.hpp
/// The rows section of a checkpoint (Checkpoint.hpp) to and from the vectors
/// of a CG run: row i holds vectors[0](i, :), vectors[1](i, :), ... as raw
/// bytes of the vectors' scalar type.

#include <Kokkos_Core.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace kinterp::detail {

/// The bytes of this rank's rows of `vectors` (each n_r x m), in the
/// checkpoint's row layout (CheckpointState::row_bytes).
template <class Matrix, std::size_t V>
std::vector<unsigned char> pack_checkpoint_rows(const Matrix (&vectors)[V]) {
  using T = typename Matrix::non_const_value_type;
  const std::int64_t rows = static_cast<std::int64_t>(vectors[0].extent(0));
  const std::int64_t m = static_cast<std::int64_t>(vectors[0].extent(1));
  std::vector<unsigned char> bytes(static_cast<std::size_t>(rows * V * m) * sizeof(T));
  for (std::size_t v = 0; v < V; ++v) {
    const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), vectors[v]);
    for (std::int64_t i = 0; i < rows; ++i) {
      for (std::int64_t c = 0; c < m; ++c) {
        const T value = host(i, c);
        std::memcpy(&bytes[((i * V + v) * m + c) * sizeof(T)], &value, sizeof(T));
      }
    }
  }
  return bytes;
}

/// The inverse of pack_checkpoint_rows: fills `vectors` from `bytes`.
template <class Matrix, std::size_t V>
void unpack_checkpoint_rows(const std::vector<unsigned char>& bytes, const Matrix (&vectors)[V]) {
  using T = typename Matrix::non_const_value_type;
  const std::int64_t rows = static_cast<std::int64_t>(vectors[0].extent(0));
  const std::int64_t m = static_cast<std::int64_t>(vectors[0].extent(1));
  for (std::size_t v = 0; v < V; ++v) {
    auto host = Kokkos::create_mirror_view(Kokkos::HostSpace(), vectors[v]);
    for (std::int64_t i = 0; i < rows; ++i) {
      for (std::int64_t c = 0; c < m; ++c) {
        T value;
        std::memcpy(&value, &bytes[((i * V + v) * m + c) * sizeof(T)], sizeof(T));
        host(i, c) = value;
      }
    }
    Kokkos::deep_copy(vectors[v], host);
  }
}

}  // namespace kinterp::detail
