#pragma once
/// \file Lexer.hpp
/// Splits a formula or alias string into tokens.

#include "Diagnostics.hpp"

#include <cstddef>
#include <string_view>
#include <vector>

namespace kinterp::detail {

struct Token {
  enum class Kind { Identifier, Number, Symbol, End };
  Kind kind = Kind::End;
  std::size_t begin = 0, end = 0;  ///< [begin, end) in the source text
  std::string_view text;
  double value = 0;      ///< Number
  bool integer = false;  ///< Number written with digits only

  bool is(char symbol) const { return kind == Kind::Symbol && text[0] == symbol; }
};

/// The tokens of `source.text`, ending with an End token at text.size().
/// Identifiers are [A-Za-z_][A-Za-z0-9_]*; numbers are 12, 0.5, .5, 2., 1e-3;
/// symbols are + - * / | , ( ) = < > !. Throws FormulaError at anything else.
std::vector<Token> tokenize(const Source& source);

/// How a token reads in a message: "'X'", "number 2.5", "end of formula".
std::string describe(const Token& token, const Source& source);

}  // namespace kinterp::detail
