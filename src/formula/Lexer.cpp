#include "Lexer.hpp"

#include <cmath>
#include <locale>
#include <sstream>
#include <string>

namespace kinterp::detail {

namespace {

bool digit(char c) {
  return c >= '0' && c <= '9';
}
bool letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

constexpr std::string_view kSymbols = "+-*/|,()=<>!";

// The end of the number starting at `k`, or throws where it is malformed.
std::size_t scan_number(const Source& source, std::size_t k, bool& integer) {
  const std::string_view text = source.text;
  const std::size_t begin = k;
  integer = true;
  while (k < text.size() && digit(text[k])) ++k;
  if (k < text.size() && text[k] == '.') {
    integer = false;
    ++k;
    while (k < text.size() && digit(text[k])) ++k;
    if (k == begin + 1) fail(source, begin, "expected a digit before or after '.'");
  }
  if (k < text.size() && (text[k] == 'e' || text[k] == 'E')) {
    integer = false;
    const std::size_t e = k++;
    if (k < text.size() && (text[k] == '+' || text[k] == '-')) ++k;
    if (k == text.size() || !digit(text[k])) {
      fail(source, e,
           "malformed number: the exponent after '" + std::string(1, text[e]) +
               "' needs digits, e.g. 1e-3");
    }
    while (k < text.size() && digit(text[k])) ++k;
  }
  return k;
}

double read_number(const Source& source, std::size_t begin, std::string_view text) {
  // The "C" locale, whatever the host program set: '.' is the decimal point.
  std::istringstream in{std::string(text)};
  in.imbue(std::locale::classic());
  double value = 0;
  in >> value;
  if (!in || !std::isfinite(value)) {
    fail(source, begin, "the number " + std::string(text.substr(0, 40)) + " is out of range");
  }
  return value;
}

}  // namespace

std::vector<Token> tokenize(const Source& source) {
  const std::string_view text = source.text;
  std::vector<Token> tokens;
  std::size_t k = 0;
  while (true) {
    while (k < text.size() && space(text[k])) ++k;
    Token token;
    token.begin = k;
    if (k == text.size()) {
      token.end = k;
      tokens.push_back(token);
      return tokens;
    }
    const char c = text[k];
    if (letter(c)) {
      token.kind = Token::Kind::Identifier;
      while (k < text.size() && (letter(text[k]) || digit(text[k]))) ++k;
    } else if (digit(c) || c == '.') {
      token.kind = Token::Kind::Number;
      k = scan_number(source, k, token.integer);
    } else if (kSymbols.find(c) != std::string_view::npos) {
      token.kind = Token::Kind::Symbol;
      ++k;
    } else {
      // Show a whole UTF-8 character, not its first byte.
      std::size_t next = k + 1;
      while (next < text.size() && (static_cast<unsigned char>(text[next]) & 0xc0) == 0x80 &&
             next < k + 4) {
        ++next;
      }
      std::string hint;
      if (c == '^') hint = "; write powers as Pow(x, n) or Square(x)";
      if (c == '[' || c == '{') hint = "; group with '(' and ')'";
      fail(source, k,
           "unexpected character " + quoted(text.substr(k, next - k)) +
               "; a formula has names, numbers, + - * / | , ( )" + hint);
    }
    token.end = k;
    token.text = text.substr(token.begin, k - token.begin);
    if (token.kind == Token::Kind::Number)
      token.value = read_number(source, token.begin, token.text);
    tokens.push_back(token);
  }
}

std::string describe(const Token& token, const Source& source) {
  switch (token.kind) {
    case Token::Kind::End:
      return "end of " + source.what.substr(0, source.what.find(' '));
    case Token::Kind::Number:
      return "number " + std::string(token.text.substr(0, 40));
    default:
      return quoted(token.text);
  }
}

}  // namespace kinterp::detail
