#pragma once
/// \file Parser.hpp
/// Recursive-descent parsing of formulas and aliases.
///
/// formula  := sum End
/// sum      := product (('+' | '-') product)*
/// product  := unary (('*' | '/') unary)*
/// unary    := '-' unary | primary
/// primary  := Number | Name | Name '(' [sum (',' sum)*] ')'
///           | ('Vi' | 'Vj' | 'Pm') '(' Integer ',' Integer ')'
///           | '(' sum ')' | '(' sum '|' sum ')'
/// alias    := Name '=' ('Vi' | 'Vj' | 'Pm') '(' Integer [',' Integer] ')' End

#include "Diagnostics.hpp"
#include "Expr.hpp"

#include <kinterp/formula/Formula.hpp>

#include <memory>

namespace kinterp::detail {

/// The syntax tree of a formula. Names are not resolved and dimensions not
/// known yet, except for positional variables (see check()).
std::unique_ptr<Expr> parse_formula(const Source& source);

/// The variable an alias declares; `position` is the alias's place in the
/// list, its argument index unless the alias gives one.
Variable parse_alias(const Source& source, int position);

/// "Vi", "Vj" or "Pm".
const char* category_name(Variable::Category category);

}  // namespace kinterp::detail
