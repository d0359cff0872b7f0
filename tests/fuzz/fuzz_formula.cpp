// libFuzzer target for the formula layer (scripts/fuzz.sh builds and runs it).
// The input's first line is the formula, each further line an alias. Parsing,
// binding and compiling may only succeed or throw a kinterp::Error; anything else that
// escapes (another exception, a crash, a sanitizer report) is a bug.

#include <kinterp/core/Error.hpp>
#include <kinterp/formula/Formula.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace {

// Larger parameter vectors only cost memory: the size check is what matters.
constexpr int kMaxParameterDimension = 4096;

[[noreturn]] void bug(const char* what) {
  std::fprintf(stderr, "fuzz_formula: %s\n", what);
  std::abort();
}

// A FormulaError's position is an offset into the formula or one alias.
void check_position(const kinterp::Error& e, std::size_t longest) {
  const auto* formula_error = dynamic_cast<const kinterp::FormulaError*>(&e);
  if (formula_error && formula_error->position() != std::string::npos &&
      formula_error->position() > longest) {
    bug("FormulaError position past the end of every input string");
  }
}

// The pointers bind() returns must point into the formula's own variables.
void check_product(const kinterp::Formula& f, const kinterp::RadialKernelProduct& product) {
  const auto& v = f.variables();
  for (const kinterp::Variable* p : {product.target, product.source, product.weight}) {
    if (p && (v.empty() || p < &v.front() || p > &v.back())) {
      bug("bind() returned a variable outside Formula::variables()");
    }
  }
}

// The generic evaluator's compiler, reducing over j (axis 1) and over i (axis 0).
void compile(const kinterp::Formula& f,
             const std::map<std::string, std::vector<double>>& parameters, std::size_t longest) {
  for (int axis : {1, 0}) {
    try {
      f.compile(parameters, axis);
    } catch (const kinterp::Error& e) {
      check_position(e, longest);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t end; (end = input.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(input.substr(start, end - start));
  }
  lines.push_back(input.substr(start));
  const std::string formula = lines.front();
  const std::vector<std::string> aliases(lines.begin() + 1, lines.end());
  std::size_t longest = 0;
  for (const auto& line : lines) longest = std::max(longest, line.size());

  try {
    const kinterp::Formula f(formula, aliases);
    if (f.dimension() < 1) bug("a parsed formula with dimension < 1");
    // Every parameter with a value of its own dimension (the usual call), then
    // none at all and one value each (the missing and wrongly sized errors).
    std::map<std::string, std::vector<double>> right, scalar;
    for (const auto& variable : f.variables()) {
      if (variable.category != kinterp::Variable::Category::Parameter) continue;
      const int n = variable.dimension;
      right[variable.name].assign(n > 0 && n <= kMaxParameterDimension ? n : 1, 1.0);
      scalar[variable.name].assign(1, 0.5);
    }
    for (const auto* parameters : {&right, &scalar}) {
      try {
        check_product(f, f.bind(*parameters));
      } catch (const kinterp::Error& e) {
        check_position(e, longest);
      }
      compile(f, *parameters, longest);
    }
    try {
      f.bind({});
    } catch (const kinterp::Error& e) {
      check_position(e, longest);
    }
  } catch (const kinterp::Error& e) {
    check_position(e, longest);
  }
  return 0;
}
