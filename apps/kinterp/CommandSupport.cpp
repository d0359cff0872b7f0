#include "CommandSupport.hpp"

#include <kinterp/core/Environment.hpp>
#include <kinterp/core/Partition.hpp>
#include <kinterp/core/detail/Spelling.hpp>
#include <kinterp/io/OutputFile.hpp>

#include <algorithm>
#include <climits>
#include <cstdio>

namespace kinterp::cli {

void add_run_options(std::vector<OptionSpec>& options) {
  options.push_back({"options-file", "FILE",
                     "more options from FILE, one per line: name value, name = value, or\n"
                     "YAML name: value (lists as '- item' lines); the command line wins"});
  options.push_back(
      {"log-view", "", "print where the time went: a row per phase, min/max/avg over ranks"});
  options.push_back({"help", "", "print this help"});
}

std::vector<std::pair<std::string, std::string>> named_files(const CommandLine& command,
                                                             const std::string& option) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& text : command.all(option)) {
    const auto equals = text.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == text.size()) {
      throw UsageError{"--" + option + " takes NAME=FILE, got '" + text + "'"};
    }
    const std::string name = text.substr(0, equals);
    for (const auto& file : files) {
      if (file.first == name) throw UsageError{"--" + option + " " + name + " is given twice"};
    }
    files.emplace_back(name, text.substr(equals + 1));
  }
  return files;
}

void print_vecchia(const Reporter& report, const VecchiaInfo& info) {
  const double seconds = report.max(info.setup_seconds);
  const double megabytes = report.max(static_cast<double>(info.bytes_per_rank)) / 1e6;
  // The halo: other ranks' points the sets reach (none on one rank).
  char halo[64] = "";
  if (info.halo_points > 0) {
    std::snprintf(halo, sizeof halo, ", a halo of %lld points",
                  static_cast<long long>(info.halo_points));
  }
  report.print(
      "preconditioner: Vecchia, %d neighbors (%.1f on average, %d levels%s), set-up %.3f s, "
      "%.1f MB per rank\n",
      info.neighbors, info.mean_set_size, info.levels, halo, seconds, megabytes);
}

SolveSettings solve_settings(const CommandLine& command, bool mixed,
                             const std::string& default_precond) {
  SolveSettings s;
  s.alpha = command.number("alpha", s.alpha);
  s.options.rtol = command.number("rtol", s.options.rtol);
  s.options.atol = command.number("atol", s.options.atol);
  s.options.max_iterations =
      static_cast<int>(command.integer("max-it", s.options.max_iterations, 0, INT_MAX));
  s.options.stagnation_window = static_cast<int>(
      command.integer("stagnation-window", s.options.stagnation_window, 0, INT_MAX));

  s.precond = command.optional("precond").value_or(default_precond);
  const std::vector<std::string> preconds = {"none", "rpcholesky", "greedy", "uniform", "vecchia"};
  if (std::find(preconds.begin(), preconds.end(), s.precond) == preconds.end()) {
    std::string message =
        "--precond is none, rpcholesky, greedy, uniform or vecchia, got '" + s.precond + "'";
    const std::string guess = detail::closest(s.precond, preconds);
    if (!guess.empty()) message += "; did you mean '" + guess + "'?";
    throw UsageError{message};
  }
  const bool nystrom = s.precond != "none" && s.precond != "vecchia";
  for (const char* option : {"rank", "precond-seed", "precond-memory"}) {
    if (!nystrom && command.has(option)) {
      throw UsageError{std::string("--") + option +
                       " belongs to a Nystrom preconditioner: add --precond rpcholesky (or "
                       "greedy, uniform)"};
    }
  }
  if (s.precond != "vecchia" && command.has("neighbors")) {
    throw UsageError{"--neighbors belongs to the Vecchia preconditioner: add --precond vecchia"};
  }
  if (s.precond == "vecchia") {
    s.how.vecchia.neighbors = static_cast<int>(command.integer("neighbors", 30, 1, 1000));
  } else if (nystrom) {
    s.how.preconditioner.pivots = pivot_rule_from_name(s.precond);
    const bool budget = command.has("precond-memory");
    if (budget) {
      const double megabytes = command.number("precond-memory", 0);
      if (!(megabytes > 0 && megabytes < 1e12)) {
        throw UsageError{"--precond-memory is a positive number of megabytes per rank"};
      }
      s.how.preconditioner.memory_budget_bytes = static_cast<std::size_t>(megabytes * 1e6);
    }
    // Only a budget given: k is what it allows.
    const long default_rank = budget ? 0 : 500;
    s.how.preconditioner.rank = static_cast<int>(
        command.has("rank") ? command.integer("rank", 500, 1, INT_MAX) : default_rank);
    s.how.preconditioner.seed =
        static_cast<std::uint64_t>(command.integer("precond-seed", 0, 0, LONG_MAX));
  }

  if (command.has("checkpoint-every") && !command.has("checkpoint")) {
    throw UsageError{"--checkpoint-every needs --checkpoint FILE"};
  }
  if (const auto path = command.optional("checkpoint")) {
    s.options.checkpoint.path = *path;
    s.options.checkpoint.every =
        static_cast<int>(command.integer("checkpoint-every", 100, 1, INT_MAX));
  }
  if (const auto path = command.optional("restart")) {
    if (command.has("initial-guess")) {
      throw UsageError{"--restart and --initial-guess both say where CG starts: give one"};
    }
    s.options.checkpoint.restart_path = *path;
  }
  s.how.mixed_precision = mixed;
  check_solve_parameters(s.alpha, s.options);
  return s;
}

void check_files(MPI_Comm comm, const std::vector<FileOption>& inputs,
                 const std::vector<FileOption>& outputs) {
  for (const FileOption& output : outputs) {
    try {
      if (output.plain) {
        io::require_writable(comm, output.spec);
      } else {
        io::require_output(comm, output.spec);
      }
    } catch (const Error& e) {
      throw Error(output.option + " " + e.what());  // thrown on every rank alike
    }
  }
  const auto text = [](const FileOption& file) { return file.option + " " + file.spec; };
  const auto file = [](const FileOption& f) {
    return f.plain ? f.spec : io::FileSpec::parse(f.spec).path;
  };
  const auto same = [&](const FileOption& a, const FileOption& b) {
    if (!a.plain && !b.plain) return io::same_data(a.spec, b.spec);
    return io::same_file(file(a), file(b));
  };
  agree_on_errors(comm, [&] {
    if (rank_of(comm) != 0) return;
    for (std::size_t k = 0; k < outputs.size(); ++k) {
      for (const FileOption& input : inputs) {
        // A checkpoint replaces the one it restarts from: that is what it is for.
        if (outputs[k].plain && input.plain) continue;
        if (same(outputs[k], input)) {
          throw Error(text(outputs[k]) + " would overwrite the input " + text(input) +
                      ": kinterp never writes over its inputs; choose another name");
        }
        // Outputs are first written whole under this name (OutputFile.hpp).
        const std::string temporary = io::temporary_path(file(outputs[k]));
        if (io::same_file(temporary, file(input))) {
          throw Error(text(outputs[k]) + " is written as " + temporary +
                      " before it takes its name, and that is the input " + text(input) +
                      ": choose another output name");
        }
      }
      for (std::size_t j = 0; j < k; ++j) {
        if (same(outputs[k], outputs[j])) {
          throw Error(text(outputs[j]) + " and " + text(outputs[k]) +
                      " are the same file: give each output its own");
        }
      }
    }
  });
}

std::string machine(MPI_Comm comm) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  const std::string binding = thread_binding();
  return count_text(size, "rank") + " x " +
         count_text(Kokkos::DefaultExecutionSpace().concurrency(),
                    std::string(Kokkos::DefaultExecutionSpace::name()) + " thread") +
         (binding.empty() ? "" : ", " + binding);
}

void add_product_rows(LogView& log, const std::string& name, const RingTimings& timings, int depth,
                      const std::string& engine) {
  log.add(name, timings.total, depth);
  log.add("computing", timings.compute, depth + 1);
  if (engine.rfind("tree", 0) == 0) {
    log.add("proxy charges, passing targets", timings.prepare, depth + 2);
    log.add("near and far fields", timings.compute - timings.prepare, depth + 2);
  }
  log.add("waiting for messages", timings.wait, depth + 1);
}

void log_read_run_write(MPI_Comm comm, double read_seconds, double setup_seconds,
                        const std::string& name, const RingTimings& timings,
                        const std::string& engine, double write_seconds, double total) {
  LogView log;
  log.add("read input", read_seconds);
  if (setup_seconds >= 0) log.add("set-up (kernel product)", setup_seconds);
  add_product_rows(log, name, timings, 0, engine);
  log.add("write output", write_seconds);
  log.print(comm, total);
}

}  // namespace kinterp::cli
