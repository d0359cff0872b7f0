#pragma once
// Random numbers that depend only on (seed, counter): every rank draws the same
// sequence, whatever the number of ranks, so the pivots do too.

#include <kinterp/core/detail/SplitMix64.hpp>

#include <cstdint>

namespace kinterp::detail {

/// A uniform number in [0, 1) from (seed, counter): two rounds of the splitmix64
/// finaliser (Steele, Lea, Flood 2014), statistically strong for this use.
inline double counter_uniform01(std::uint64_t seed, std::uint64_t counter) {
  const std::uint64_t z = splitmix64_finalise(splitmix64_finalise(seed + 0x6A09E667F3BCC909ull) +
                                              counter * 0x9E3779B97F4A7C15ull);
  return unit_interval(z);
}

/// The draws of one factorisation, in order; the same on every rank as long as
/// every rank draws the same number of times.
class CounterStream {
 public:
  explicit CounterStream(std::uint64_t seed) : seed_(seed) {}
  double operator()() { return counter_uniform01(seed_, next_++); }

 private:
  std::uint64_t seed_;
  std::uint64_t next_ = 0;
};

}  // namespace kinterp::detail
