// `kinterp reduce`: any KeOps formula and reduction, as Genred.

#include <kinterp/Genred.hpp>
#include <kinterp/KernelSum.hpp>
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
#include "ProductFlags.hpp"

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <climits>
#include <map>
#include <optional>

namespace kinterp::cli {

namespace {

std::vector<OptionSpec> reduce_options() {
  std::vector<OptionSpec> options = {
      {"formula", "F", "the formula F to reduce, as in KeOps, e.g. \"SqDist(X,Y)\""},
      {"formula2", "G",
       "the weights G of SumSoftMaxWeight, LogSumExpWeight and\n"
       "Max_SumShiftExpWeight (KeOps' formula2): Concat(F, G) is reduced, F\n"
       "must be scalar"},
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
      {"sum-scheme", "NAME",
       "how Sum adds its terms, as KeOps' sum_scheme: block_sum (default: tiles\n"
       "of 128 pairs, then a double total), direct_sum (each term into the\n"
       "double total), kahan_scheme (a compensated double total)"},
      {"dtype-acc", "NAME",
       "KeOps' dtype_acc: float64 sums block_sum's tiles of float data in\n"
       "double (default auto: in the data's precision); totals are double"},
  };
  for (auto& option : product_options()) options.push_back(option);
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
    "  Max_SumShiftExp           2D: m = max_j F, then s = sum_j exp(F - m), per component\n"
    "  SumSoftMaxWeight          D-1: sum_j exp(F) G / sum_j exp(F) for --formula F\n"
    "                            --formula2 G (or a formula Concat(F, G), F scalar)\n"
    "  LogSumExpWeight           D-1: log sum_j exp(F) G (G > 0), max-shifted; F, G as above\n"
    "  Max_SumShiftExpWeight     D: m = max_j F, then sum_j exp(F - m) G; F, G as above\n"
    "Variables of the category reduced over (Vj for axis 1) are the sources, the others\n"
    "the targets; each needs an --input, read by blocks of rows on every rank.\n"
    "A Sum (axis 1) of a compiled kernel family times a j-variable, the formulas solve's\n"
    "--formula takes (see kinterp solve --help), runs on the kernel products: --product\n"
    "auto (default) takes the tree from 20000 j-rows in 1-3 dimensions where it pays,\n"
    "within --product-tolerance (default 1e-6) times sum_j |k(x_i, y_j)| |b_j|; direct is\n"
    "exact to rounding. Other formulas and reductions run on the generic evaluator.\n";

/// Copies the rows of `from` into columns [offset, offset + from.columns) of
/// `packed` (the same rows): one variable of the rows a formula reads.
template <class T>
void place_columns(const io::LocalRows<T>& from, io::LocalRows<T>& packed, std::int64_t offset) {
  for (std::int64_t r = 0; r < packed.block.count; ++r) {
    std::copy_n(from.values.data() + r * from.columns, from.columns,
                packed.values.data() + r * packed.columns + offset);
  }
}

/// A Sum over j of a compiled kernel family times a j-variable (Formula::bind
/// recognises it), and where its variables sit in the packed rows: the
/// kernel products compute it.
struct KernelSumForm {
  KernelSpec kernel;
  int points_offset = 0, dim = 0;  ///< the j-points y in the source rows
  int weight_offset = 0, columns = 0;
};

/// What `reduce` computes, from the command line alone (before any file is read).
struct ReduceSettings {
  Formula formula;
  std::map<std::string, std::vector<double>> params;
  Reduction reduction;
  int axis = 1;
  Program layout;  ///< the compiled formula: where each variable sits in a packed row
  /// The file of each packed variable, by its name in layout.targets / sources.
  std::map<std::string, std::string> inputs;
  std::optional<KernelSumForm> kernel_sum;  ///< where the kernel products take it
  ProductOptions product;
};

/// The form above, where the formula is one with exactly these variables.
std::optional<KernelSumForm> kernel_sum_form(const ReduceSettings& s) {
  // The kernel products sum as block_sum does: another scheme takes the
  // generic evaluator.
  const bool default_sum = s.reduction.kind == ReductionKind::Sum &&
                           s.reduction.sum_scheme == SumScheme::Block && !s.reduction.double_tiles;
  if (!default_sum || s.axis != 1) return std::nullopt;
  RadialKernelProduct bound;
  try {
    bound = s.formula.bind(s.params);
  } catch (const Error&) {
    return std::nullopt;  // not a compiled family: the generic evaluator takes it
  }
  const Program& layout = s.layout;
  if (layout.targets.size() != 1 || layout.targets[0].name != bound.target->name ||
      layout.sources.size() != 2) {
    return std::nullopt;
  }
  KernelSumForm form{bound.kernel};
  for (const auto& v : layout.sources) {
    if (v.name == bound.source->name) {
      form.points_offset = v.offset;
      form.dim = v.dimension;
    } else if (v.name == bound.weight->name) {
      form.weight_offset = v.offset;
      form.columns = v.dimension;
    }
  }
  if (form.dim != layout.targets[0].dimension || form.columns == 0) return std::nullopt;
  return form;
}

std::string variables_text(const Formula& formula) {
  std::vector<std::string> aliases;
  for (const auto& v : formula.variables()) aliases.push_back(alias_text(v));
  return detail::join(aliases);
}

Formula reduce_formula(const CommandLine& command, const Reduction& reduction) {
  const std::string text = command.required("formula");
  const std::vector<std::string> aliases = command.all("var");
  const auto weights = command.optional("formula2");
  if (!weights) return Formula(text, aliases);
  if (!reduction.weighted()) {
    throw UsageError{
        "--formula2 belongs to --reduction SumSoftMaxWeight, LogSumExpWeight and "
        "Max_SumShiftExpWeight" +
        std::string(reduction.kind == ReductionKind::LogSumExp
                        ? " (KeOps' LogSumExp with a weight is LogSumExpWeight)"
                        : "")};
  }
  // KeOps' reduction of (F, G) is what the library reduces as Concat(F, G).
  const Formula f(text, aliases);
  if (f.dimension() != 1) {
    throw Error(reduction.name() + " needs a scalar --formula, but \"" + text +
                "\" has dimension " + std::to_string(f.dimension()));
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
  try {
    reduction.set_accumulation(command.optional("sum-scheme").value_or("auto"),
                               command.optional("dtype-acc").value_or("auto"));
  } catch (const Error& e) {
    throw UsageError{std::string("--sum-scheme / --dtype-acc: ") + e.what()};
  }
  const int axis = static_cast<int>(command.integer("axis", 1, 0, 1));
  auto params = parse_params(command.all("param"));
  if (command.all("input").empty()) throw UsageError{"--input NAME=FILE is required"};

  // Formula errors are bad input (exit 1), as for solve's --formula.
  Formula formula = reduce_formula(command, reduction);
  Program layout = formula.compile(params, axis);
  ReduceSettings s{std::move(formula), std::move(params),
                   reduction,          axis,
                   std::move(layout),  {},
                   std::nullopt,       {}};
  s.reduction.output_columns(s.layout.dimension);  // throws when the formula does not fit

  // Each --input names a packed variable (or an alias sharing its index).
  std::map<int, std::string> packed;  // variable index -> name in the layout
  for (const auto* list : {&s.layout.targets, &s.layout.sources}) {
    for (const auto& v : *list) packed[s.formula.find(v.name)->index] = v.name;
  }
  for (const auto& [name, path] : named_files(command, "input")) {
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
  s.kernel_sum = kernel_sum_form(s);
  s.product = resolve_product(command, 1e-6);
  if (!s.kernel_sum && s.product.engine == ProductEngine::Tree) {
    throw UsageError{
        "--product tree takes a Sum (axis 1) of a compiled kernel family times a "
        "j-variable, such as \"Exp(-G*SqDist(X,Y))*B\"; this "
        "reduction runs on the generic evaluator (drop --product tree)"};
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
       (s.reduction.takes_k() ? " (K = " + std::to_string(s.reduction.k) + ")" : std::string()) +
       (s.reduction.kind == ReductionKind::Sum
            ? " (" + s.reduction.sum_scheme_name() +
                  (s.reduction.double_tiles ? ", dtype_acc float64" : "") + ")"
            : std::string()))
          .c_str(),
      over, s.formula.text().c_str(), layout.dimension, static_cast<long long>(targets.global_rows),
      s.axis == 1 ? "i" : "j", static_cast<long long>(sources.global_rows),
      sizeof(T) == 8 ? "double precision" : "float precision", machine(comm).c_str());
  using Rows = LocalMatrix<T>;
  LocalMatrix<double> out;
  RingTimings timings;
  double setup_seconds = -1;
  std::string engine = "generic evaluator";
  if (s.kernel_sum) {
    const KernelSumForm& form = *s.kernel_sum;
    const auto columns = [&](int offset, int count, const char* label) {
      io::LocalRows<T> part{sources.global_rows, count, 2, sources.block, {}};
      part.values.resize(sources.block.count * count);
      for (std::int64_t r = 0; r < sources.block.count; ++r) {
        std::copy_n(sources.values.data() + r * sources.columns + offset, count,
                    part.values.data() + r * count);
      }
      return io::to_view<Rows>(part, label);
    };
    const double setup_start = MPI_Wtime();
    const KernelSum<T> sum(comm, form.kernel,
                           columns(form.points_offset, form.dim, "kinterp::points"), s.product);
    setup_seconds = MPI_Wtime() - setup_start;
    engine = sum.product().description();
    Rows result("kinterp::reduced", targets.block.count, form.columns);
    timings = sum(io::to_view<Rows>(targets, "kinterp::targets"),
                  columns(form.weight_offset, form.columns, "kinterp::weights"), result);
    const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), result);
    out = LocalMatrix<double>("kinterp::reduced", result.extent(0), result.extent(1));
    const auto host_out = Kokkos::create_mirror_view(out);
    for (std::size_t i = 0; i < host.extent(0); ++i)
      for (std::size_t c = 0; c < host.extent(1); ++c) host_out(i, c) = host(i, c);
    Kokkos::deep_copy(out, host_out);
  } else {
    const Genred<T> genred(comm, s.formula, s.params, s.reduction, s.axis,
                           io::to_view<Rows>(sources, "kinterp::sources"));
    out = LocalMatrix<double>("kinterp::reduced", targets.block.count, genred.output_columns());
    timings = genred(io::to_view<Rows>(targets, "kinterp::targets"), out);
  }

  const double write_start = MPI_Wtime();
  io::write_rows(comm, out_path,
                 io::to_local_rows<double>(out, targets.global_rows, targets.block, 2), 8);
  const double write_seconds = MPI_Wtime() - write_start;
  report.print(
      "time: %.3f s in all (read %.3f, reduce %.3f, write %.3f); waiting for messages %.3f s\n",
      report.max(MPI_Wtime() - start), report.max(read_seconds), report.max(timings.total),
      report.max(write_seconds), report.max(timings.wait));
  report.print("kernel products: %s\n", engine.c_str());
  report.print("%lld x %d result written to %s\n", static_cast<long long>(targets.global_rows),
               static_cast<int>(out.extent(1)), out_path.c_str());
  if (command.flag("log-view")) {
    log_read_run_write(comm, read_seconds, setup_seconds, "reduction", timings, engine,
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
