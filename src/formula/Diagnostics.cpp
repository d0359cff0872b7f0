#include "Diagnostics.hpp"

#include <kinterp/core/Error.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace kinterp::detail {

namespace {

constexpr std::size_t kShownChars = 100;  // longer texts are shown in part
constexpr std::size_t kContext = 40;      // characters shown either side of a position

// Control characters; bytes of UTF-8 characters are printable.
bool printable(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte >= 0x20 && byte != 0x7f;
}
bool utf8_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xc0) == 0x80;
}

// Non-printable bytes become '?' so that the message stays on its lines.
std::string sanitized(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (!printable(c)) c = '?';
  }
  return out;
}

// The line showing the text near `position`, and the caret line under it.
std::string excerpt(std::string_view text, std::size_t position) {
  std::size_t first = 0, last = text.size();
  if (text.size() > kShownChars) {
    first = position > kContext ? position - kContext : 0;
    last = std::min(text.size(), position + kContext);
    // Do not start or stop inside a UTF-8 character.
    while (first < position && utf8_continuation(text[first])) ++first;
    while (last < text.size() && utf8_continuation(text[last])) ++last;
  }
  std::string line = first > 0 ? "..." : "";
  std::size_t column = line.size();
  for (std::size_t k = first; k < position && k < last; ++k) {
    if (!utf8_continuation(text[k])) ++column;
  }
  line += sanitized(text.substr(first, last - first));
  if (last < text.size()) line += "...";
  return "\n  " + line + "\n  " + std::string(column, ' ') + "^";
}

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

void fail(const Source& source, std::size_t position, const std::string& message) {
  std::string what = "in " + source.what;
  if (source.text.size() <= kShownChars) what += " \"" + sanitized(source.text) + "\"";
  if (position == std::string::npos) throw FormulaError(what + ": " + message);
  position = std::min(position, source.text.size());
  throw FormulaError(what + " at position " + std::to_string(position) + ": " + message +
                         excerpt(source.text, position),
                     position);
}

std::string text_of(const Source& source, const Expr& expr) {
  const std::size_t end = std::min(expr.end, source.text.size());
  const std::size_t begin = std::min(expr.begin, end);
  std::string text = sanitized(source.text.substr(begin, end - begin));
  if (text.size() > kContext) text = text.substr(0, kContext) + "...";
  return text;
}

std::string quoted(std::string_view text) {
  std::string out = "'";
  for (char c : text.substr(0, kContext)) {
    if (printable(c)) {
      out += c;
    } else {
      static const char hex[] = "0123456789abcdef";
      const auto byte = static_cast<unsigned char>(c);
      out += std::string("\\x") + hex[byte >> 4] + hex[byte & 15];
    }
  }
  return out + (text.size() > kContext ? "...'" : "'");
}

std::string closest(std::string_view name, const std::vector<std::string>& candidates) {
  std::string best;
  // A typo changes at most a third of a name (and at least one character).
  int best_distance =
      std::max<int>(1, static_cast<int>(std::min<std::size_t>(name.size(), 30)) / 3);
  for (const auto& candidate : candidates) {
    const int distance = edit_distance(name.substr(0, 64), candidate);
    if (distance <= best_distance && (best.empty() || distance < best_distance)) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

std::string number(double value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

}  // namespace kinterp::detail
