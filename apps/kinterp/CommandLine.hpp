#pragma once
// A small command-line parser: options declared with their help, `--name value`
// or `--name=value`, repeatable options, flags; mistakes get a clear message
// with the closest known option.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kinterp::cli {

/// A wrong command line (exit status 2 and a pointer to --help).
struct UsageError {
  std::string message;
};

struct OptionSpec {
  std::string name;        ///< without the leading "--"
  std::string value_name;  ///< empty for a flag
  std::string help;
  bool repeatable = false;
};

class CommandLine {
 public:
  CommandLine(std::vector<OptionSpec> specs, const std::vector<std::string>& arguments);

  bool flag(const std::string& name) const { return values_.count(name) > 0; }
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  /// The value of a required option; UsageError when absent.
  const std::string& required(const std::string& name) const;
  std::optional<std::string> optional(const std::string& name) const;
  /// Every value of a repeatable option, in order.
  std::vector<std::string> all(const std::string& name) const;

  double number(const std::string& name, double fallback) const;
  /// An integer in [lowest, highest]; UsageError otherwise.
  long integer(const std::string& name, long fallback, long lowest, long highest) const;

  /// The options' help, one per line, aligned.
  static std::string help(const std::vector<OptionSpec>& specs);

 private:
  std::vector<OptionSpec> specs_;
  std::map<std::string, std::vector<std::string>> values_;
};

}  // namespace kinterp::cli
