#pragma once
/// \file SplitMix64.hpp
/// The splitmix64 mixer (Steele, Lea, Flood 2014), the one hash behind every
/// counter-based random stream and fingerprint in kinterp: streams that depend
/// on (seed, index) alone give the same numbers on any number of ranks. Each
/// caller keeps its own way of combining seed and index into the word it mixes,
/// so that its stream stays the same.

#include <Kokkos_Macros.hpp>

#include <cstdint>

namespace kinterp::detail {

/// splitmix64's finaliser: a bijection of 64-bit words that mixes every bit.
KOKKOS_INLINE_FUNCTION constexpr std::uint64_t splitmix64_finalise(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// One splitmix64 output: the word advanced by the golden-ratio increment, then
/// finalised (also a bijection).
KOKKOS_INLINE_FUNCTION constexpr std::uint64_t mix64(std::uint64_t z) {
  return splitmix64_finalise(z + 0x9E3779B97F4A7C15ull);
}

/// The top 53 bits of a mixed word as a double in [0, 1).
KOKKOS_INLINE_FUNCTION constexpr double unit_interval(std::uint64_t z) {
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

}  // namespace kinterp::detail
