#pragma once
/// \file Spelling.hpp
/// "Did you mean ...?" for names of functions, options, commands and kernels.

#include <string>
#include <string_view>
#include <vector>

namespace kinterp::detail {

/// The candidate closest to `name` by edit distance (ignoring case), or "" when
/// none is close enough to be a plausible typo.
std::string closest(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace kinterp::detail
