#include <kinterp/core/detail/Spelling.hpp>

#include <algorithm>
#include <cctype>

namespace kinterp::detail {

namespace {

int edit_distance(std::string_view a, std::string_view b) {
  std::vector<int> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    int diagonal = row[0];
    row[0] = static_cast<int>(i);
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      const int next = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = row[j];
      row[j] = next;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string closest(std::string_view name, const std::vector<std::string>& candidates) {
  std::string best;
  // A typo changes one character of a short name, and up to a third of a
  // longer one (two characters at least: a swap of neighbours costs two).
  const int length = static_cast<int>(std::min<std::size_t>(name.size(), 30));
  int best_distance = length <= 3 ? 1 : std::max(2, length / 3);
  for (const auto& candidate : candidates) {
    const int distance = edit_distance(name.substr(0, 64), candidate);
    if (distance <= best_distance && (best.empty() || distance < best_distance)) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace kinterp::detail
