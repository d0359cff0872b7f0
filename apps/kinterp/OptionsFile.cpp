#include "OptionsFile.hpp"

#include "CommandLine.hpp"

#include <algorithm>
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
    if (!file) {
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

std::vector<std::string> parse_options_file(const std::string& text, const std::string& path) {
  std::vector<std::string> arguments;
  std::istringstream lines(text);
  std::string list_name;  // the option of a YAML block list being read
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
      continue;
    }
    list_name.clear();
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
    value = unquote(value);
    if (value.empty() && separator == ':') {
      list_name = name;  // "var:" starts a block list (or is a flag, if no items follow)
      arguments.push_back("--" + name);
      continue;
    }
    if (value.empty() || value == "true" || value == "yes" || value == "on") {
      arguments.push_back("--" + name);
    } else if (value == "false" || value == "no" || value == "off") {
      // A switched-off flag: leave it out.
    } else {
      arguments.push_back("--" + name + "=" + value);
    }
  }
  // "var:" followed by items is a list, not a flag.
  std::vector<std::string> result;
  for (std::size_t k = 0; k < arguments.size(); ++k) {
    const bool bare = arguments[k].find('=') == std::string::npos;
    if (bare && k + 1 < arguments.size() && arguments[k + 1].rfind(arguments[k] + "=", 0) == 0) {
      continue;
    }
    result.push_back(arguments[k]);
  }
  return result;
}

std::vector<std::string> expand_options_files(MPI_Comm comm,
                                              const std::vector<std::string>& arguments) {
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
      const auto options = parse_options_file(read_file(comm, path), path);
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
