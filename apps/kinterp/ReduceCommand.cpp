// `kinterp reduce`: any KeOps formula and reduction, as Genred.

#include <kinterp/Genred.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/core/detail/NumberText.hpp>
#include <kinterp/core/detail/Spelling.hpp>
#include <kinterp/formula/Formula.hpp>
#include <kinterp/io/LocalRowsView.hpp>
#include <kinterp/io/RowFile.hpp>

#include "Command.hpp"
#include "CommandLine.hpp"
#include "CommandSupport.hpp"
#include "KernelOptions.hpp"

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <climits>
#include <map>

namespace kinterp::cli {

namespace {

std::vector<OptionSpec> reduce_options() {
  std::vector<OptionSpec> options = {
      {"formula", "F", "the formula F to reduce, as in KeOps, e.g. \"SqDist(X,Y)\""},
      {"formula2", "G",
       "SumSoftMaxWeight's weights G (KeOps' formula2): Concat(F, G) is\n"
       "reduced, F must be scalar"},
      {"var", "ALIAS", "a formula variable, e.g. \"X=Vi(3)\"; repeat for each", true},
      {"param", "NAME=V[,V...]",
       "a parameter's value, e.g. G=50, or its values, S=2,0.5,1.5; repeat\nfor each", true},
      {"reduction", "NAME", "the reduction (default: Sum); see below"},
      {"k", "K", "K of KMin, ArgKMin and KMin_ArgKMin (required there)"},
      {"axis", "1|0",
       "1 (default): reduce over j, a row per i; 0: reduce over i, a row\nper j (as KeOps)"},
      {"input", "NAME=FILE",
       "the rows of the variable NAME, shape (N, dim), or (N,) for dim 1;\n"
       "one for each i- and j-variable (those of a category share N)",
       true},
      {"out", "FILE", "where to write the result, float64, one row per output index"},
      {"precision", "double|float",
       "arithmetic precision (default: double); the output is float64"},
  };
  add_run_options(options);
  return options;
}

const char reductions_help[] =
    "Reductions, as KeOps' Genred. With --axis 1, out_i = Reduction_j F(x_i, y_j), one\n"
    "row per i; for a formula of dimension D the columns are:\n"
    "  Sum, Min, Max, LogSumExp  D, per component (LogSumExp: log sum_j exp F, max-shifted)\n"
    "  ArgMin, ArgMax            D: the global 0-based index j of the min / max\n"
    "  Min_ArgMin, Max_ArgMax    2D: the D values, then the D indices\n"
    "  KMin, ArgKMin             K*D: for component c, columns c*K .. c*K+K-1, ascending\n"
    "  KMin_ArgKMin              2*K*D: the K*D values, then the K*D indices\n"
    "  SumSoftMaxWeight          D-1: sum_j exp(F) G / sum_j exp(F) for --formula F\n"
    "                            --formula2 G (or a formula Concat(F, G), F scalar)\n"
    "Variables of the category reduced over (Vj for axis 1) are the sources, the others\n"
    "the targets; each needs an --input, read by blocks of rows on every rank.\n";

/// Copies the rows of `from` into columns [offset, offset + from.columns) of
/// `packed` (the same rows): one variable of the rows a formula reads.
template <class T>
void place_columns(const io::LocalRows<T>& from, io::LocalRows<T>& packed, std::int64_t offset) {
  for (std::int64_t r = 0; r < packed.block.count; ++r) {
    std::copy_n(from.values.data() + r * from.columns, from.columns,
                packed.values.data() + r * packed.columns + offset);
  }
}

/// What `reduce` computes, from the command line alone (before any file is read).
struct ReduceSettings {
  Formula formula;
  std::map<std::string, std::vector<double>> params;
  Reduction reduction;
  int axis = 1;
  Program layout;  ///< the compiled formula: where each variable sits in a packed row
  /// The file of each packed variable, by its name in layout.targets / sources.
  std::map<std::string, std::string> inputs;
};

std::string variables_text(const Formula& formula) {
  std::vector<std::string> aliases;
  for (const auto& v : formula.variables()) aliases.push_back(alias_text(v));
  return detail::join(aliases);
}

Formula reduce_formula(const CommandLine& command, ReductionKind kind) {
  const std::string text = command.required("formula");
  const std::vector<std::string> aliases = command.all("var");
  const auto weights = command.optional("formula2");
  if (!weights) return Formula(text, aliases);
  if (kind != ReductionKind::SumSoftMaxWeight) {
    throw UsageError{"--formula2 belongs to --reduction SumSoftMaxWeight"};
  }
  // KeOps' SumSoftMaxWeight(F, G) is what the library reduces as Concat(F, G).
  const Formula f(text, aliases);
  if (f.dimension() != 1) {
    throw Error("SumSoftMaxWeight needs a scalar --formula, but \"" + text + "\" has dimension " +
                std::to_string(f.dimension()));
  }
  static_cast<void>(Formula(*weights, aliases));  // alone first: its errors then point into G
  return Formula("Concat(" + text + "," + *weights + ")", aliases);
}

ReduceSettings reduce_settings(const CommandLine& command) {
  const std::string name = command.optional("reduction").value_or("Sum");
  Reduction reduction;
  try {
    reduction = Reduction::parse(name, 1);
  } catch (const Error& e) {
    throw UsageError{std::string("--reduction: ") + e.what()};
  }
  if (reduction.takes_k()) {
    if (!command.has("k")) throw UsageError{"--reduction " + name + " needs --k K"};
    reduction = Reduction::parse(name, static_cast<int>(command.integer("k", 1, 1, INT_MAX)));
  } else if (command.has("k")) {
    throw UsageError{"--k belongs to KMin, ArgKMin and KMin_ArgKMin, not " + name};
  }
  const int axis = static_cast<int>(command.integer("axis", 1, 0, 1));
  auto params = parse_params(command.all("param"));
  if (command.all("input").empty()) throw UsageError{"--input NAME=FILE is required"};

  // Formula errors are bad input (exit 1), as for solve's --formula.
  Formula formula = reduce_formula(command, reduction.kind);
  Program layout = formula.compile(params, axis);
  ReduceSettings s{std::move(formula), std::move(params), reduction, axis, std::move(layout), {}};
  s.reduction.output_columns(s.layout.dimension);  // throws when the formula does not fit

  // Each --input names a packed variable (or an alias sharing its index).
  std::map<int, std::string> packed;  // variable index -> name in the layout
  for (const auto* list : {&s.layout.targets, &s.layout.sources}) {
    for (const auto& v : *list) packed[s.formula.find(v.name)->index] = v.name;
  }
  for (const auto& text : command.all("input")) {
    const auto equals = text.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == text.size()) {
      throw UsageError{"--input takes NAME=FILE, got '" + text + "'"};
    }
    const std::string name = text.substr(0, equals), path = text.substr(equals + 1);
    const Variable* variable = s.formula.find(name);
    if (variable == nullptr) {
      std::vector<std::string> names;
      for (const auto& v : s.formula.variables()) names.push_back(v.name);
      std::string message = "--input " + name + ": the formula has no variable " + name;
      const std::string guess = detail::closest(name, names);
      if (!guess.empty()) message += "; did you mean '" + guess + "'?";
      throw UsageError{message + " (its variables: " + variables_text(s.formula) + ")"};
    }
    if (variable->category == Variable::Category::Parameter) {
      throw UsageError{"--input " + name + ": " + alias_text(*variable) +
                       " is a parameter: give its value with --param " + name + "=V[,V...]"};
    }
    if (!s.inputs.emplace(packed.at(variable->index), path).second) {
      throw UsageError{"--input " + name + ": variable " + packed.at(variable->index) +
                       " is given twice"};
    }
  }
  for (const auto* list : {&s.layout.targets, &s.layout.sources}) {
    for (const auto& v : *list) {
      if (s.inputs.count(v.name) == 0) {
        throw UsageError{"no --input for " + alias_text(*s.formula.find(v.name)) +
                         ": add --input " + v.name + "=FILE.npy"};
      }
    }
  }
  const char* target_category = s.axis == 1 ? "Vi" : "Vj";
  const char* source_category = s.axis == 1 ? "Vj" : "Vi";
  // Without a variable of a category nothing says how many rows it has.
  if (s.layout.targets.empty() || s.layout.sources.empty()) {
    throw Error("the formula needs at least one " +
                std::string(s.layout.targets.empty() ? target_category : source_category) +
                " variable: its --input gives the number of " +
                (s.layout.targets.empty() ? "output rows" : "rows reduced over") +
                " (declare one with --var even if the formula does not use it)");
  }
  return s;
}

/// This rank's block of the packed rows of `variables`, each read from its
/// --input file; all files must have the same number of rows.
template <class T>
io::LocalRows<T> read_packed(MPI_Comm comm, const ReduceSettings& s,
                             const std::vector<PackedVariable>& variables, int width) {
  io::LocalRows<T> packed;
  std::string first;  // the file that fixed the row count
  for (const auto& v : variables) {
    const std::string& path = s.inputs.at(v.name);
    const io::ArrayShape header = io::read_shape(comm, path);
    const std::string alias = alias_text(*s.formula.find(v.name));
    if (header.columns != v.dimension) {
      throw Error("--input " + v.name + ": " + alias + " needs a file with " +
                  std::to_string(v.dimension) + (v.dimension == 1 ? " column" : " columns") + ", " +
                  path + " has " + std::to_string(header.columns));
    }
    if (first.empty()) {
      first = path;
      packed.global_rows = header.rows;
      packed.columns = width;
      packed.block = block_partition(header.rows, comm);
      packed.values.resize(packed.block.count * width);
    } else if (header.rows != packed.global_rows) {
      throw Error("--input " + v.name + ": " + path + " has " + std::to_string(header.rows) +
                  " rows but " + first + " has " + std::to_string(packed.global_rows) +
                  ": variables of the same category need one row per index");
    }
    const io::LocalRows<T> rows = io::read_rows<T>(comm, path, packed.block);
    place_columns(rows, packed, v.offset);
  }
  return packed;
}

template <class T>
int reduce(MPI_Comm comm, const Reporter& report, const CommandLine& command) {
  const double start = MPI_Wtime();
  const std::string out_path = command.required("out");
  const ReduceSettings s = from_command_line([&] { return reduce_settings(command); });
  std::vector<FileOption> inputs;
  for (const auto& [name, path] : s.inputs) inputs.push_back({"--input " + name, path});
  check_files(comm, inputs, {{"--out", out_path}});
  const Program& layout = s.layout;
  const io::LocalRows<T> targets = read_packed<T>(comm, s, layout.targets, layout.target_width);
  const io::LocalRows<T> sources = read_packed<T>(comm, s, layout.sources, layout.source_width);
  require_rows(
      "--input " + layout.sources.front().name + " " + s.inputs.at(layout.sources.front().name),
      sources.global_rows);
  const double read_seconds = MPI_Wtime() - start;
  // Past the row count the K smallest are padded with inf: most likely a mistake.
  if (s.reduction.takes_k() && s.reduction.k > sources.global_rows) {
    throw Error("--k " + std::to_string(s.reduction.k) + " is more than the " +
                std::to_string(sources.global_rows) + " " + (s.axis == 1 ? "j" : "i") +
                "-rows reduced over");
  }

  const char* over = s.axis == 1 ? "j" : "i";
  report.print(
      "kinterp reduce: %s over %s of \"%s\" (dimension %d), %lld %s-rows against %lld, %s, %s\n",
      (s.reduction.name() +
       (s.reduction.takes_k() ? " (K = " + std::to_string(s.reduction.k) + ")" : std::string()))
          .c_str(),
      over, s.formula.text().c_str(), layout.dimension, static_cast<long long>(targets.global_rows),
      s.axis == 1 ? "i" : "j", static_cast<long long>(sources.global_rows),
      sizeof(T) == 8 ? "double precision" : "float precision", machine(comm).c_str());
  using Genred = kinterp::Genred<T>;
  using Rows = Kokkos::View<T**, Kokkos::LayoutRight, typename Genred::memory_space>;
  const Genred genred(comm, s.formula, s.params, s.reduction, s.axis,
                      io::to_view<Rows>(sources, "kinterp::sources"));
  typename Genred::Output out("kinterp::reduced", targets.block.count, genred.output_columns());
  const RingTimings timings = genred(io::to_view<Rows>(targets, "kinterp::targets"), out);

  const double write_start = MPI_Wtime();
  io::write_rows(comm, out_path,
                 io::to_local_rows<double>(out, targets.global_rows, targets.block, 2), 8);
  const double write_seconds = MPI_Wtime() - write_start;
  report.print(
      "time: %.3f s in all (read %.3f, reduce %.3f, write %.3f); waiting for messages %.3f s\n",
      report.max(MPI_Wtime() - start), report.max(read_seconds), report.max(timings.total),
      report.max(write_seconds), report.max(timings.wait));
  report.print("%lld x %d result written to %s\n", static_cast<long long>(targets.global_rows),
               genred.output_columns(), out_path.c_str());
  if (command.flag("log-view")) {
    log_read_run_write(comm, read_seconds, -1, "reduction", timings, "generic evaluator",
                       write_seconds, MPI_Wtime() - start);
  }
  return exit_ok;
}

int run(MPI_Comm comm, const Reporter& report, const CommandLine& command) {
  return with_precision(command, false, [&](auto zero, bool) {
    return reduce<decltype(zero)>(comm, report, command);
  });
}

}  // namespace

const Command reduce_command = {"reduce", reduce_options, reductions_help, run};

}  // namespace kinterp::cli
