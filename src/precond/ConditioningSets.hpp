#pragma once
// The ordering and the conditioning sets of a Vecchia factor, for one rank's
// block of points in 1-3 dimensions, on grids over a box that all ranks share.
//
// Coarse to fine: level l puts one of the block's points into every cell of
// the 2^l grid that holds none of the points taken at coarser levels, so the
// points of levels <= l lie about h_l = box / 2^l apart (a maximin-like
// ordering: Schaefer, Katzfuss and Owhadi 2021). Within a level they follow
// the Morton curve. Across ranks the order is (level, rank, place): a
// point's set may hold other ranks' points (the halo) that come before it.
// A point's set: up to k of the points before it, nearest first, among those
// in the 3^d block of cells around it on a grid coarse enough to offer about
// 4k of them. Early points see far through few, spread-out neighbours; late
// ones a small neighbourhood.

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

namespace kinterp::detail {

/// The grids' common box: a cube, so that cells are cubes.
struct GridBox {
  double low[3] = {0, 0, 0};
  double width = 1;
  int d = 1;
  /// Bits per coordinate of the finest grid (d * bits < 64).
  int bits() const { return d == 1 ? 62 : 63 / d; }
  /// The point's cell in the finest grid, coordinate by coordinate.
  template <class Points>
  void cell(const Points& x, std::int64_t i, std::uint64_t* q) const {
    const int b = bits();
    const double top = std::ldexp(1.0, b);
    for (int c = 0; c < d; ++c) {
      const double u = std::ldexp((static_cast<double>(x(i, c)) - low[c]) / width, b);
      q[c] = u >= top ? (std::uint64_t(1) << b) - 1 : u > 0 ? static_cast<std::uint64_t>(u) : 0;
    }
  }
  /// The Morton key of a finest cell.
  std::uint64_t morton(const std::uint64_t* q) const {
    std::uint64_t z = 0;
    for (int b = bits() - 1; b >= 0; --b)
      for (int c = 0; c < d; ++c) z = z << 1 | (q[c] >> b & 1);
    return z;
  }
  /// The spacing of the points of levels <= l.
  double spacing(int level) const { return std::ldexp(width, -level); }
};

/// The block's coarse-to-fine order: each point's level, and its place in
/// the order of the block (by level, then along the curve).
struct CoarseToFine {
  std::vector<int> level;
  std::vector<std::int64_t> place;
  int levels = 0;
};

template <class Points>
CoarseToFine coarse_to_fine(const Points& x, std::int64_t n, const GridBox& box) {
  const int d = box.d, bits = box.bits();
  std::vector<std::uint64_t> key(n);
  for (std::int64_t i = 0; i < n; ++i) {
    std::uint64_t q[3] = {0, 0, 0};
    box.cell(x, i, q);
    key[i] = box.morton(q);
  }
  std::vector<std::int64_t> sorted(n);
  std::iota(sorted.begin(), sorted.end(), std::int64_t(0));
  std::sort(sorted.begin(), sorted.end(), [&](std::int64_t a, std::int64_t b) {
    return key[a] != key[b] ? key[a] < key[b] : a < b;
  });
  const auto prefix = [&](std::int64_t i, int l) {
    return l == 0 ? std::uint64_t(0) : key[i] >> (d * (bits - l));
  };
  // A point for every cell that has none yet; past the finest grid, all that
  // is left (points sharing a finest cell).
  CoarseToFine order;
  order.level.assign(n, -1);
  std::int64_t placed = 0;
  int l = 0;
  for (; placed < n && l <= bits; ++l) {
    for (std::int64_t begin = 0; begin < n;) {
      std::int64_t end = begin + 1;
      bool taken = order.level[sorted[begin]] >= 0;
      while (end < n && prefix(sorted[end], l) == prefix(sorted[begin], l))
        taken |= order.level[sorted[end++]] >= 0;
      if (!taken) {
        order.level[sorted[begin]] = l;
        ++placed;
      }
      begin = end;
    }
  }
  if (placed < n) {
    for (std::int64_t i = 0; i < n; ++i)
      if (order.level[i] < 0) order.level[i] = l;
    ++l;
  }
  order.levels = l;
  std::vector<std::int64_t> per_level(l + 1, 0);
  for (std::int64_t i = 0; i < n; ++i) ++per_level[order.level[i] + 1];
  std::partial_sum(per_level.begin(), per_level.end(), per_level.begin());
  order.place.resize(n);
  for (const std::int64_t i : sorted) order.place[i] = per_level[order.level[i]]++;
  return order;
}

/// A point's rank in the order over all ranks: (level, rank, place).
inline std::uint64_t order_key(int level, int rank, std::int64_t place) {
  return std::uint64_t(level) << 57 | std::uint64_t(rank) << 33 | std::uint64_t(place);
}

struct ConditioningSets {
  /// offsets[i] .. offsets[i + 1]: target i's set in `members` (nearest
  /// first), as indices of the points given (the block's, then the halo's).
  std::vector<std::int64_t> offsets;
  std::vector<std::int32_t> members;
};

namespace conditioning {

/// Open addressing from a cell's d coordinates to the run of points in it.
class CellTable {
 public:
  struct Run {
    std::int64_t begin = 0, end = 0;
  };
  explicit CellTable(std::size_t entries) {
    std::size_t size = 16;
    while (size < 2 * entries) size *= 2;
    keys_.assign(size, empty);
    runs_.resize(size);
    mask_ = size - 1;
  }
  void insert(std::uint64_t key, Run run) {
    std::size_t slot = hash(key) & mask_;
    while (keys_[slot] != empty) slot = (slot + 1) & mask_;
    keys_[slot] = key;
    runs_[slot] = run;
  }
  Run find(std::uint64_t key) const {
    for (std::size_t slot = hash(key) & mask_; keys_[slot] != empty; slot = (slot + 1) & mask_)
      if (keys_[slot] == key) return runs_[slot];
    return {};
  }
  /// The cell's d coordinates of `bits` bits each packed (d * bits < 64).
  static std::uint64_t key_of(const std::uint64_t* cell, int d, int bits) {
    std::uint64_t key = 0;
    for (int k = 0; k < d; ++k) key = key << bits | cell[k];
    return key;
  }

 private:
  static constexpr std::uint64_t empty = ~std::uint64_t(0);
  static std::size_t hash(std::uint64_t x) {  // SplitMix64's finaliser
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return static_cast<std::size_t>(x ^ (x >> 31));
  }
  std::vector<std::uint64_t> keys_;
  std::vector<Run> runs_;
  std::size_t mask_ = 0;
};

}  // namespace conditioning

/// `x(i, c)`: `total` host rows of d <= 3 finite coordinates, the first
/// `targets` of them this rank's block, the rest its halo; `level` and `key`
/// (order_key) of each. k >= 1. The sets of the targets.
template <class Points>
ConditioningSets conditioning_sets(const Points& x, std::int64_t targets, std::int64_t total,
                                   const GridBox& box, const std::vector<int>& level,
                                   const std::vector<std::uint64_t>& key, int levels, int k) {
  using conditioning::CellTable;
  using host = Kokkos::DefaultHostExecutionSpace;
  const int d = box.d, bits = box.bits();
  ConditioningSets sets;
  sets.offsets.assign(targets + 1, 0);
  std::vector<std::uint64_t> cell(std::size_t(total) * d), morton(total);
  for (std::int64_t i = 0; i < total; ++i) {
    box.cell(x, i, &cell[std::size_t(i) * d]);
    morton[i] = box.morton(&cell[std::size_t(i) * d]);
  }
  std::vector<std::int64_t> sorted(total);
  std::iota(sorted.begin(), sorted.end(), std::int64_t(0));
  std::sort(sorted.begin(), sorted.end(), [&](std::int64_t a, std::int64_t b) {
    return morton[a] != morton[b] ? morton[a] < morton[b] : a < b;
  });
  const auto prefix = [&](std::int64_t i, int s) {
    return s == 0 ? std::uint64_t(0) : morton[i] >> (d * (bits - s));
  };

  std::vector<std::int32_t> found(std::size_t(targets) * k);
  std::vector<int> count(targets, 0);
  const std::int64_t scan_limit = 64 * std::int64_t(k);
  int blocks = 1;
  for (int c = 0; c < d; ++c) blocks *= 3;
  std::vector<std::int64_t> earlier, current;
  for (int lv = 0; lv < levels; ++lv) {
    // The points of levels <= lv along the curve, and this level's targets.
    earlier.clear();
    current.clear();
    for (const std::int64_t i : sorted) {
      if (level[i] <= lv) earlier.push_back(i);
      if (level[i] == lv && i < targets) current.push_back(i);
    }
    if (current.empty()) continue;
    const std::int64_t e = static_cast<std::int64_t>(earlier.size());
    // The search grid: the finest level s <= lv whose cells hold enough of
    // them for a 3^d block to offer about 4k (the distinct cells at each
    // level counted where neighbours along the curve differ).
    const int finest = std::min(lv, bits);
    std::vector<std::int64_t> cells(finest + 2, 0);
    cells[0] = 1;
    for (std::int64_t a = 1; a < e; ++a) {
      const std::uint64_t diff = morton[earlier[a - 1]] ^ morton[earlier[a]];
      const int common = diff == 0 ? bits : (__builtin_clzll(diff) - (64 - d * bits)) / d;
      if (common < finest) ++cells[common + 1];  // a new cell at every finer level
    }
    std::partial_sum(cells.begin(), cells.end(), cells.begin());
    int s = finest;
    while (s > 0 && double(e) / double(cells[s]) * blocks < 4.0 * k) --s;
    CellTable table(static_cast<std::size_t>(cells[s]));
    for (std::int64_t begin = 0; begin < e;) {
      std::int64_t end = begin + 1;
      while (end < e && prefix(earlier[end], s) == prefix(earlier[begin], s)) ++end;
      std::uint64_t c[3] = {0, 0, 0};
      for (int a = 0; a < d; ++a) c[a] = cell[std::size_t(earlier[begin]) * d + a] >> (bits - s);
      table.insert(CellTable::key_of(c, d, bits), {begin, end});
      begin = end;
    }
    const std::int64_t side = std::int64_t(1) << s;
    const std::int64_t chunks = (static_cast<std::int64_t>(current.size()) + 63) / 64;
    Kokkos::parallel_for(
        "kinterp::Vecchia::conditioning_sets", Kokkos::RangePolicy<host>(0, chunks),
        [&](const std::int64_t chunk) {
          std::vector<double> distance(k);  // of best[0 .. kept), ascending
          const std::int64_t last =
              std::min<std::int64_t>(64 * (chunk + 1), static_cast<std::int64_t>(current.size()));
          for (std::int64_t t = 64 * chunk; t < last; ++t) {
            const std::int64_t i = current[t];
            std::int32_t* best = &found[std::size_t(i) * k];
            int kept = 0;
            std::int64_t scanned = 0;
            std::int64_t home[3] = {0, 0, 0};
            for (int a = 0; a < d; ++a)
              home[a] = static_cast<std::int64_t>(cell[std::size_t(i) * d + a] >> (bits - s));
            for (int o = 0; o < blocks && scanned < scan_limit; ++o) {
              std::uint64_t c[3] = {0, 0, 0};
              bool inside = true;
              for (int a = 0, code = o; a < d; ++a, code /= 3) {
                const std::int64_t v = home[a] + code % 3 - 1;
                inside &= v >= 0 && v < side;
                c[a] = static_cast<std::uint64_t>(v);
              }
              if (!inside) continue;
              const CellTable::Run run = table.find(CellTable::key_of(c, d, bits));
              for (std::int64_t r = run.begin; r < run.end && scanned < scan_limit;
                   ++r, ++scanned) {
                const std::int64_t j = earlier[r];
                if (key[j] >= key[i]) continue;
                double r2 = 0;
                for (int a = 0; a < d; ++a) {
                  const double diff = static_cast<double>(x(i, a)) - static_cast<double>(x(j, a));
                  r2 += diff * diff;
                }
                if (kept == k && r2 >= distance[k - 1]) continue;
                int at = kept < k ? kept++ : k - 1;
                for (; at > 0 && distance[at - 1] > r2; --at) {
                  distance[at] = distance[at - 1];
                  best[at] = best[at - 1];
                }
                distance[at] = r2;
                best[at] = static_cast<std::int32_t>(j);
              }
            }
            count[i] = kept;
          }
        });
  }
  for (std::int64_t i = 0; i < targets; ++i) sets.offsets[i + 1] = sets.offsets[i] + count[i];
  sets.members.resize(sets.offsets[targets]);
  for (std::int64_t i = 0; i < targets; ++i)
    std::copy_n(&found[std::size_t(i) * k], count[i], &sets.members[sets.offsets[i]]);
  return sets;
}

}  // namespace kinterp::detail
