#include "OptionsFile.hpp"

#include <kinterp/core/detail/Spelling.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace kinterp::cli {

namespace {

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

/// "'x'" or "\"x\"" -> x (YAML's quoting); anything else as it is.
std::string unquote(const std::string& text) {
  if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') &&
      text.back() == text.front()) {
    return text.substr(1, text.size() - 2);
  }
  return text;
}

/// The text before a comment: '#' at the start or after a blank.
std::string without_comment(const std::string& line) {
  for (std::size_t k = 0; k < line.size(); ++k) {
    if (line[k] == '#' && (k == 0 || line[k - 1] == ' ' || line[k - 1] == '\t')) {
      return line.substr(0, k);
    }
  }
  return line;
}

/// The option name of an argument: "--alpha=1" and "--alpha" -> "alpha".
std::string option_name(const std::string& argument) {
  return argument.substr(
      2, argument.find('=') == std::string::npos ? std::string::npos : argument.find('=') - 2);
}

std::string read_file(MPI_Comm comm, const std::string& path) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string text, error;
  if (rank == 0) {
    std::ifstream file(path);
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      error = "the options file " + path + " is a directory; name a file";
    } else if (!file) {
      error = "cannot read the options file " + path + ": check the path";
    } else {
      std::ostringstream content;
      content << file.rdbuf();
      text = content.str();
    }
  }
  // Rank 0 speaks for all: the error (if any) and the text, each as a length then bytes.
  for (std::string* part : {&error, &text}) {
    unsigned long long length = part->size();
    MPI_Bcast(&length, 1, MPI_UNSIGNED_LONG_LONG, 0, comm);
    part->resize(length);
    if (length > 0) MPI_Bcast(part->data(), static_cast<int>(length), MPI_CHAR, 0, comm);
  }
  if (!error.empty()) throw UsageError{error};
  return text;
}

}  // namespace

std::vector<std::string> parse_options_file(const std::string& text, const std::string& path,
                                            const std::vector<OptionSpec>& specs) {
  std::vector<std::string> names;
  for (const auto& spec : specs) names.push_back(spec.name);
  // Each line's option is checked against the command's: an unknown one, a
  // flag with a value or an option without one is reported at its line.
  const auto spec_of = [&](const std::string& name, const std::string& where) {
    const auto spec = std::find_if(specs.begin(), specs.end(),
                                   [&](const OptionSpec& s) { return s.name == name; });
    if (spec == specs.end()) {
      std::string message = where + "unknown option --" + name;
      const std::string guess = detail::closest(name, names);
      if (!guess.empty()) message += "; did you mean --" + guess + "?";
      throw UsageError{message};
    }
    return *spec;
  };
  std::vector<std::string> arguments;
  std::istringstream lines(text);
  std::string list_name, list_where;  // the option of a YAML block list being read
  bool list_items = false;
  const auto end_list = [&] {
    if (!list_name.empty() && !list_items) {
      throw UsageError{list_where + list_name + " needs a value (" +
                       spec_of(list_name, list_where).value_name + ")"};
    }
    list_name.clear();
  };
  int number = 0;
  for (std::string raw; std::getline(lines, raw);) {
    ++number;
    const std::string line = trim(without_comment(raw));
    if (line.empty()) continue;
    const std::string where = path + ", line " + std::to_string(number) + ": ";
    if (line.front() == '-' && (line.size() == 1 || line[1] != '-')) {
      if (list_name.empty())
        throw UsageError{where + "a list item '" + line + "' without a name above it"};
      arguments.push_back("--" + list_name + "=" + unquote(trim(line.substr(1))));
      list_items = true;
      continue;
    }
    end_list();
    std::string body = line.rfind("--", 0) == 0 ? line.substr(2) : line;
    // The name ends at the first blank, '=' or ':' (YAML); the value follows.
    const auto end = body.find_first_of(" \t=:");
    const std::string name = body.substr(0, end);
    std::string value = end == std::string::npos ? "" : trim(body.substr(end));
    char separator = ' ';
    if (!value.empty() && (value.front() == '=' || value.front() == ':')) {
      separator = value.front();
      value = trim(value.substr(1));
    }
    if (name.empty()) throw UsageError{where + "'" + line + "' names no option"};
    if (name == "options-file") throw UsageError{where + "an options file cannot name another one"};
    const OptionSpec spec = spec_of(name, where);
    value = unquote(value);
    if (spec.value_name.empty()) {
      if (value.empty() || value == "true" || value == "yes" || value == "on") {
        arguments.push_back("--" + name);
      } else if (value != "false" && value != "no" && value != "off") {
        throw UsageError{where + name + " is a flag: give '" + name + "', '" + name +
                         ": true' or '" + name + ": false', not '" + value + "'"};
      }
      continue;
    }
    if (value.empty()) {
      if (separator == ':') {  // "var:" starts a block list
        list_name = name;
        list_where = where;
        list_items = false;
        continue;
      }
      throw UsageError{where + name + " needs a value (" + spec.value_name + ")"};
    }
    arguments.push_back("--" + name + "=" + value);
  }
  end_list();
  return arguments;
}

std::vector<std::string> expand_options_files(MPI_Comm comm,
                                              const std::vector<std::string>& arguments,
                                              const std::vector<OptionSpec>& specs) {
  std::vector<std::string> from_files, given;
  for (std::size_t k = 0; k < arguments.size(); ++k) {
    const std::string& argument = arguments[k];
    if (argument == "--options-file" || argument.rfind("--options-file=", 0) == 0) {
      std::string path;
      if (argument == "--options-file") {
        if (k + 1 >= arguments.size()) throw UsageError{"--options-file needs a value (FILE)"};
        path = arguments[++k];
      } else {
        path = argument.substr(std::string("--options-file=").size());
      }
      const auto options = parse_options_file(read_file(comm, path), path, specs);
      from_files.insert(from_files.end(), options.begin(), options.end());
    } else {
      given.push_back(argument);
    }
  }
  if (from_files.empty()) return given;
  std::set<std::string> on_command_line;
  for (const auto& argument : given) {
    if (argument.rfind("--", 0) == 0) on_command_line.insert(option_name(argument));
  }
  std::vector<std::string> expanded;
  for (const auto& argument : from_files) {
    if (!on_command_line.count(option_name(argument))) expanded.push_back(argument);
  }
  expanded.insert(expanded.end(), given.begin(), given.end());
  return expanded;
}

}  // namespace kinterp::cli
