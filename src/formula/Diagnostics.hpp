#pragma once
/// \file Diagnostics.hpp
/// Error messages of the formula layer: where, what was found, what was expected.

#include "Expr.hpp"

#include <kinterp/core/detail/NumberText.hpp>  // join, for the lists in messages
#include <kinterp/core/detail/Spelling.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace kinterp::detail {

/// The string an error is about: `what` is "formula" or "alias 2", say.
struct Source {
  std::string what;
  std::string_view text;
};

/// Throws FormulaError(`in <what> "<text>" at position <p>: <message>`, p),
/// followed by the text (or the part of it near p) with a caret under p.
/// Without a position (npos) the message has no place and no caret.
[[noreturn]] void fail(const Source& source, std::size_t position, const std::string& message);

/// The text `expr` was parsed from, shortened if long: for messages.
std::string text_of(const Source& source, const Expr& expr);

/// `text` in single quotes, non-printable bytes escaped and long text shortened.
std::string quoted(std::string_view text);

/// The shortest text that reads back as `value`.
std::string number(double value);

}  // namespace kinterp::detail
