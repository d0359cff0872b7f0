#pragma once
/// \file Parser.hpp
/// Recursive-descent parsing of formulas and aliases.
///
/// formula  := compare End
/// compare  := sum [('==' | '!=' | '<' | '<=' | '>' | '>=') sum]
/// sum      := product (('+' | '-') product)*
/// product  := unary (('*' | '/') unary)*
/// unary    := '-' unary | power
/// power    := primary ['**' unary]     (right to left; -x**2 is -(x**2))
/// primary  := Number | Name | Name '(' [compare (',' compare)*] ')'
///           | ('Vi' | 'Vj' | 'Pm') '(' Integer ',' Integer ')'
///           | 'Var' '(' Integer ',' Integer ',' Integer ')'
///           | '(' compare ')' | '(' compare '|' compare ')'
///
/// As in KeOps' LazyTensors, f ** n with an integer literal n is Pow(f, n),
/// f ** 0.5 is Sqrt(f), f ** -0.5 Rsqrt(f), any other exponent Powf(f, g);
/// Scalprod(f, g) is (f|g). Comparisons are KeOps' Equal, NotEqual, LessThan
/// and LessOrEqual (f > g is LessThan(g, f)); Var(k, d, c) is Vi(k, d),
/// Vj(k, d) or Pm(k, d) for c = 0, 1, 2.
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
