#include "CommandLine.hpp"

#include <kinterp/core/detail/Spelling.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace kinterp::cli {

CommandLine::CommandLine(std::vector<OptionSpec> specs, const std::vector<std::string>& arguments)
    : specs_(std::move(specs)) {
  std::vector<std::string> names;
  for (const auto& spec : specs_) names.push_back(spec.name);
  for (std::size_t k = 0; k < arguments.size(); ++k) {
    const std::string& argument = arguments[k];
    if (argument.rfind("--", 0) != 0) {
      throw UsageError{"unexpected argument '" + argument + "': options start with --"};
    }
    std::string name = argument.substr(2), value;
    const auto equals = name.find('=');
    const bool inline_value = equals != std::string::npos;
    if (inline_value) {
      value = name.substr(equals + 1);
      name = name.substr(0, equals);
    }
    const auto spec = std::find_if(specs_.begin(), specs_.end(),
                                   [&](const OptionSpec& s) { return s.name == name; });
    if (spec == specs_.end()) {
      std::string message = "unknown option --" + name;
      const std::string guess = detail::closest(name, names);
      if (!guess.empty()) message += "; did you mean --" + guess + "?";
      throw UsageError{message};
    }
    if (spec->value_name.empty()) {
      if (inline_value) throw UsageError{"--" + name + " is a flag and takes no value"};
    } else if (!inline_value) {
      // "--alpha --out a.npy": the next option is not --alpha's value.
      if (k + 1 >= arguments.size() || arguments[k + 1].rfind("--", 0) == 0) {
        throw UsageError{"--" + name + " needs a value (" + spec->value_name + ")"};
      }
      value = arguments[++k];
    }
    auto& slot = values_[name];
    if (!slot.empty() && !spec->repeatable) {
      throw UsageError{"--" + name + " is given twice; give it once"};
    }
    slot.push_back(value);
  }
}

const std::string& CommandLine::required(const std::string& name) const {
  const auto found = values_.find(name);
  if (found == values_.end()) throw UsageError{"--" + name + " is required"};
  return found->second.front();
}

std::optional<std::string> CommandLine::optional(const std::string& name) const {
  const auto found = values_.find(name);
  if (found == values_.end()) return std::nullopt;
  return found->second.front();
}

std::vector<std::string> CommandLine::all(const std::string& name) const {
  const auto found = values_.find(name);
  return found == values_.end() ? std::vector<std::string>{} : found->second;
}

double CommandLine::number(const std::string& name, double fallback) const {
  const auto text = optional(name);
  if (!text) return fallback;
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text->c_str(), &end);
  if (text->empty() || *end != '\0' || errno == ERANGE || !std::isfinite(value)) {
    throw UsageError{"--" + name + " takes a finite number, got '" + *text + "'"};
  }
  return value;
}

long CommandLine::integer(const std::string& name, long fallback, long lowest, long highest) const {
  const auto text = optional(name);
  if (!text) return fallback;
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text->c_str(), &end, 10);
  if (text->empty() || *end != '\0' || errno == ERANGE || value < lowest || value > highest) {
    throw UsageError{"--" + name + " takes an integer from " + std::to_string(lowest) + " to " +
                     std::to_string(highest) + ", got '" + *text + "'"};
  }
  return value;
}

std::string CommandLine::help(const std::vector<OptionSpec>& specs) {
  std::ostringstream out;
  for (const auto& spec : specs) {
    std::string left = "  --" + spec.name + (spec.value_name.empty() ? "" : " " + spec.value_name);
    if (left.size() < 28)
      left.resize(28, ' ');
    else
      left += "\n" + std::string(28, ' ');
    // Continuation lines of the help text line up with its first line.
    std::string text = spec.help;
    for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 1)) {
      text.insert(at + 1, std::string(28, ' '));
    }
    out << left << text << "\n";
  }
  return out.str();
}

}  // namespace kinterp::cli
