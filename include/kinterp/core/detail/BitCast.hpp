#pragma once
/// \file BitCast.hpp
/// std::bit_cast for C++17: the exponent-field tricks of the vectorised exp
/// read and write the bits of floating-point numbers and SIMD packs.

#include <cstring>

namespace kinterp::detail {

template <class To, class From>
inline To bit_cast(const From& from) {
  static_assert(sizeof(To) == sizeof(From), "bit_cast between types of different sizes");
  To to;
  std::memcpy(&to, &from, sizeof(To));
  return to;
}

}  // namespace kinterp::detail
