#include "Diagnostics.hpp"

#include <kinterp/core/Error.hpp>
#include <kinterp/core/detail/NumberText.hpp>

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

std::string number(double value) {
  return number_text(value);
}

}  // namespace kinterp::detail
