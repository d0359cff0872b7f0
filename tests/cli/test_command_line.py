#!/usr/bin/env python3
"""End-to-end tests of the `kinterp` command line, whatever the command.

The help and usage texts, the exit-status rule (2 for the command line, 1 for the data),
wrong uses of the solver's options, and --options-file.

    python3 tests/cli/test_command_line.py --kinterp build/apps/kinterp --ranks 3 \
        --mpiexec mpiexec --numproc-flag=-n --preflag=--oversubscribe

The options, the helpers and the numpy references: cli_support.py.
"""

import os
import re

import numpy as np

from cli_support import (EXIT_ERROR, EXIT_OK, EXIT_USAGE, CliTestCase, formula_args, gaussian,
                         laplacian_args, log_view_rows, main, reference_solve)


class HelpTest(CliTestCase):
    """Item 6: --help of each command lists every option the command accepts."""

    SOLVE = {"points", "values", "out", "alpha", "rtol", "atol", "max-it", "initial-guess",
             "monitor", "formula", "var", "param", "kernel", "length-scale", "precision", "help",
             "precond", "rank", "precond-seed", "checkpoint", "checkpoint-every", "restart",
             "stagnation-window", "precond-memory", "neighbors", "input"}
    PREDICT = {"points", "weights", "targets", "out", "formula", "var", "param", "kernel",
               "length-scale", "precision", "help"}
    REDUCE = {"formula", "formula2", "var", "param", "reduction", "k", "axis", "input", "out",
              "precision", "help"}
    KRIGE = {"points", "values", "targets", "out", "variance-out", "model", "variance",
             "length-scale", "angles", "nu", "rq-alpha", "nugget", "kriging", "mean",
             "drift-degree", "approximate-variance", "variance-batch", "variance-tolerance",
             "rtol", "atol", "max-it", "precond", "rank", "neighbors", "fit", "probes", "cv",
             "help"}

    def listed_options(self, text):
        # kinterp's option lines are indented by two spaces (Kokkos' own, if any, by more).
        return set(re.findall(r"^  --([a-z][a-z0-9-]*)", text, re.M))

    def check_help(self, command, expected):
        run = self.run_kinterp(command, "--help")
        self.assertExit(run, EXIT_OK)
        listed = self.listed_options(run.stdout)
        self.assertLessEqual(expected, listed, "missing from `kinterp %s --help`: %s\n%s" %
                             (command, sorted(expected - listed), run.describe()))
        return run

    def test_solve_help(self):
        self.check_help("solve", self.SOLVE)

    def test_predict_help(self):
        self.check_help("predict", self.PREDICT)

    def test_reduce_help(self):
        run = self.check_help("reduce", self.REDUCE)
        for name in ("Sum", "ArgMin", "KMin_ArgKMin", "LogSumExp", "SumSoftMaxWeight"):
            self.assertIn(name, run.stdout)

    def test_krige_help(self):
        run = self.check_help("krige", self.KRIGE)
        for name in ("matern", "spherical", "rq", "ordinary", "universal"):
            self.assertIn(name, run.stdout)

    def test_tool_help(self):
        run = self.run_kinterp("--help")
        self.assertExit(run, EXIT_OK)
        for word in ("solve", "predict", "reduce", "krige", "--formula", "--kernel",
                     "Exit status"):
            self.assertIn(word, run.stdout)
        run = self.run_kinterp()
        self.assertExit(run, EXIT_USAGE)
        self.assertIn("Usage:", run.stdout)

    def test_help_is_printed_once(self):
        # Asked for help, the tool answers once, not once per rank.
        run = self.run_kinterp("solve", "--help")
        self.assertExit(run, EXIT_OK)
        self.assertEqual(run.stdout.count("Usage: mpirun -np P kinterp solve"), 1, run.describe())
        self.assertLessEqual(run.output.count("Kokkos command line arguments"), 1,
                             "`kinterp solve --help` prints Kokkos' help once per rank\n" +
                             run.describe())


class NewOptionUsageTest(CliTestCase):
    """Wrong uses of the preconditioner, checkpoint and precision options: exit 2."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        np.save(os.path.join(cls.dir, "x.npy"), cls.rng.random((50, 1)))
        np.save(os.path.join(cls.dir, "b.npy"), cls.rng.standard_normal(50))

    def solve(self, *arguments):
        return self.run_kinterp("solve", "--points", "x.npy", "--values", "b.npy",
                                *formula_args(1, 1, 50), "--alpha", 1, "--out", "out.npy",
                                *arguments)

    def test_usage_errors(self):
        cases = [
            (("--precond", "rpcholeski"), ["--precond", "did you mean 'rpcholesky'"]),
            (("--rank", 10), ["--rank", "--precond"]),
            (("--precond-seed", 3), ["--precond-seed", "--precond"]),
            (("--precond", "greedy", "--rank", 0), ["--rank"]),
            (("--precond", "greedy", "--rank", "many"), ["--rank", "'many'"]),
            (("--neighbors", 10), ["--neighbors", "--precond vecchia"]),
            (("--precond", "vecchia", "--rank", 10), ["--rank", "Nystrom"]),
            (("--precond", "vecchia", "--neighbors", 0), ["--neighbors"]),
            (("--checkpoint-every", 5), ["--checkpoint-every", "--checkpoint FILE"]),
            (("--checkpoint", "c.ckpt", "--checkpoint-every", 0), ["--checkpoint-every"]),
            (("--restart", "c.ckpt", "--initial-guess", "b.npy"), ["--restart", "--initial-guess"]),
            (("--precision", "half"), ["--precision", "mixed", "'half'"]),
        ]
        for arguments, fragments in cases:
            with self.subTest(arguments=arguments):
                self.assertFails(self.solve(*arguments), EXIT_USAGE, *fragments)
        run = self.run_kinterp("predict", "--points", "x.npy", "--weights", "b.npy", "--targets",
                               "x.npy", *formula_args(1, 1, 50), "--precision", "mixed",
                               "--out", "y.npy")
        self.assertFails(run, EXIT_USAGE, "--precision", "'mixed'")


class CommandLineRuleTest(CliTestCase):
    """One exit-status rule: 2 for whatever is wrong on the command line (whichever layer
    finds it), 1 for the data and the run; messages that point at the real mistake."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        np.save(os.path.join(cls.dir, "c_x.npy"), cls.rng.random((30, 1)))
        np.save(os.path.join(cls.dir, "c_b.npy"), cls.rng.standard_normal(30))

    def solve(self, *arguments, kernel=None, points="c_x.npy", values="c_b.npy"):
        kernel = laplacian_args(0.2) if kernel is None else kernel
        return self.run_kinterp("solve", "--points", points, "--values", values, *kernel,
                                *arguments)

    def test_wrong_option_values_exit_2(self):
        formula = formula_args(1, 1, 50)
        cases = [
            (["--alpha", -1], None, ["alpha", "-1"]),
            (["--rtol", -1], None, ["rtol", "-1"]),
            (["--alpha", "nan"], None, ["--alpha takes a finite number"]),
            (["--max-it", -1], None, ["--max-it"]),
            (["--precond", "rpcholesy"], None, ["did you mean 'rpcholesky'"]),
            ([], ["--kernel", "gausian", "--length-scale", 0.2], ["did you mean 'gaussian'"]),
            ([], ["--kernel", "rq", "--length-scale", 0.2], ["kinterp krige"]),
            ([], ["--kernel", "gaussian", "--length-scale", 1e300],
             ["the length scale", "out of double precision's range"]),
            ([], formula[:-1] + ["G=nan"], ["--param G", "'nan' is not a finite number"]),
            ([], formula[:-1] + ["G=inf"], ["'inf' is not a finite number"]),
            ([], ["--formula", "Exp(-G*SqDist(X,Y)", "--var", "X = Vi(1)", "--var",
                  "Y = Vj(1)", "--var", "G = Pm(1)", "--param", "G=1"], ["Exp(-G"]),
            ([], ["--formula", "Exp(-SqDist(X,Y)*A)", "--var", "X = Vi(1)", "--var",
                  "Y = Vj(1)", "--var", "A = Vj(1)"], ["linear in none of its j-variables"]),
            (["--alpha", "--out", "c_a.npy"], None, ["--alpha needs a value (A)"]),
            (["--kokkos-threads=0"], None, ["--kokkos-threads takes an integer of at least 1",
                                            "'0'"]),
            (["--kokkos-threads=-1"], None, ["'-1'"]),
            (["--kokkos-threads=abc"], None, ["'abc'"]),
        ]
        for arguments, kernel, fragments in cases:
            with self.subTest(arguments=arguments, kernel=kernel):
                run = self.solve(*arguments, *([] if "--out" in arguments else
                                               ["--out", "c_a.npy"]), kernel=kernel)
                self.assertFails(run, EXIT_USAGE, *fragments)
                self.assertNotIn("0.000000", run.stdout)
                self.assertNotIn("--unknown", run.stdout)
                self.assertNotIn("Floating point exception", run.output)

    def test_options_file_mistakes_name_the_file_and_line(self):
        with open(self.path("c_opts.yaml"), "w") as f:
            f.write("points: c_x.npy\nalpha\nout: c_a.npy\n")
        run = self.solve("--options-file", "c_opts.yaml", kernel=[], points="c_x.npy")
        self.assertFails(run, EXIT_USAGE, "c_opts.yaml, line 2: alpha needs a value")
        with open(self.path("c_typo.yaml"), "w") as f:
            f.write("alpah: 1\n")
        self.assertFails(self.solve("--options-file", "c_typo.yaml", "--out", "c_a.npy"),
                         EXIT_USAGE, "c_typo.yaml, line 1: unknown option --alpah",
                         "did you mean --alpha")
        os.mkdir(self.path("c_dir"))
        self.assertFails(self.solve("--options-file", "c_dir", "--out", "c_a.npy"), EXIT_USAGE,
                         "c_dir is a directory")

    def test_data_mistakes_exit_1_and_say_what_is_wrong(self):
        self.save("c_big.npy", np.full((30, 1), 1e50))
        self.save("c_huge_b.npy", np.full(30, 1e300))
        self.save("c_no_columns.npy", np.zeros((30, 0)))
        self.save("c_empty.npy", np.zeros((0, 1)))
        self.save("c_empty_b.npy", np.zeros(0))
        cases = [
            (self.solve("--precision", "float", "--out", "c_a.npy", points="c_big.npy"),
             ["c_big.npy: row 0 holds 1e+50, beyond float's range", "--precision double"]),
            (self.solve("--out", "c_a.npy", values="c_huge_b.npy"),
             ["reach 1e+300", "would overflow double"]),
            (self.solve("--out", "c_a.npy", points="c_no_columns.npy"),
             ["has shape (30, 0), rows without values"]),
            (self.run_kinterp("reduce", "--formula", "SqDist(X,Y)", "--var", "X = Vi(1)",
                              "--var", "Y = Vj(1)", "--reduction", "ArgMin", "--input",
                              "X=c_x.npy", "--input", "Y=c_empty.npy", "--out", "c_r.npy"),
             ["--input Y c_empty.npy has no rows"]),
            (self.run_kinterp("krige", "--points", "c_empty.npy", "--values", "c_empty_b.npy",
                              "--targets", "c_x.npy", "--model", "gaussian", "--length-scale",
                              0.2, "--out", "c_m.npy"),
             ["--points c_empty.npy has no rows"]),
        ]
        for run, fragments in cases:
            with self.subTest(command=" ".join(run.command[-10:])):
                self.assertFails(run, EXIT_ERROR, *fragments)
                self.assertNotIn("NaN or Inf", run.stdout)
                self.assertNotIn("drift", run.stdout)

    def test_one_point_reads_as_english_and_no_kokkos_advice(self):
        self.save("c_x1.npy", np.array([[0.5]]))
        self.save("c_b1.npy", np.array([2.0]))
        env = {k: v for k, v in os.environ.items() if k not in ("OMP_PROC_BIND", "OMP_PLACES")}
        run = self.run_kinterp("solve", "--points", "c_x1.npy", "--values", "c_b1.npy",
                               *laplacian_args(0.2), "--alpha", 1, "--out", "c_a1.npy", env=env)
        self.assertConverged(run)
        self.assertIn("kinterp solve: 1 point in 1D, 1 right-hand side,", run.stdout)
        self.assertNotRegex(run.stdout, r"\b1 (points|kernel products|ranks|\w+ threads)\b")
        self.assertNotIn("OMP_PROC_BIND", run.output)
        if "OpenMP" in run.stdout:
            self.assertIn("threads not bound", run.stdout)
        np.testing.assert_allclose(np.load(self.path("c_a1.npy")), [1.0], rtol=1e-12)


class OptionsFileTest(CliTestCase):
    """--options-file (the formats, the command line winning, the errors),
    --log-view's table and --progress's argument."""

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)

    def test_file_gives_the_command_line_answer(self):
        n, d, alpha = 400, 2, 0.5
        x, b = self.rng.random((n, d)), self.rng.standard_normal(n)
        self.save("of_x.npy", x)
        self.save("of_b.npy", b)
        # Every form: YAML with a block list and quotes, name = value, name value,
        # --name value, a flag, a switched-off flag, comments.
        self.write("of.yaml", "\n".join([
            "# a kinterp solve",
            "points: of_x.npy",
            "values: 'of_b.npy'   # quoted",
            "formula: \"Exp(- G * SqDist(X,Y) ) * A\"",
            "var:",
            "  - X = Vi(2)",
            "  - Y = Vj(2)",
            "  - A = Vj(1)",
            "  - G = Pm(1)",
            "param = G=50",
            "alpha 7",
            "--rtol 1e-10",
            "monitor: false",
            "log-view: true",
            ""]))
        run = self.run_kinterp("solve", "--options-file", "of.yaml", "--alpha", alpha,
                               "--out", "of_a.npy")
        self.assertConverged(run)
        self.assertIn("alpha = 0.5", run.stdout)  # the command line's, not the file's 7
        self.assertNotIn("iteration ", run.stdout)  # monitor: false
        reference, lambda_max = reference_solve(gaussian(50), x, b, alpha)
        self.assertSolution("of_a.npy", reference, alpha, b, lambda_max)
        # --log-view: one row per phase, min <= avg <= max, the total last.
        rows = log_view_rows(run.stdout)
        for phase in ("read input", "conjugate gradient", "kernel products",
                      "waiting for messages", "write output", "total"):
            self.assertIn(phase, rows, run.describe())
            low, high, average, _ = rows[phase]
            self.assertLessEqual(low, average + 1e-4)
            self.assertLessEqual(average, high + 1e-4)
        self.assertGreaterEqual(rows["total"][1], rows["conjugate gradient"][1])

    def test_errors(self):
        self.assertFails(self.run_kinterp("solve", "--options-file", "of_missing.yaml"),
                         EXIT_USAGE, "cannot read the options file of_missing.yaml")
        self.write("of_nested.yaml", "options-file: other.yaml\n")
        self.assertFails(self.run_kinterp("solve", "--options-file", "of_nested.yaml"),
                         EXIT_USAGE, "of_nested.yaml, line 1", "cannot name another")
        self.write("of_item.yaml", "# nothing above\n- X = Vi(2)\n")
        self.assertFails(self.run_kinterp("solve", "--options-file", "of_item.yaml"),
                         EXIT_USAGE, "of_item.yaml, line 2", "without a name")
        self.write("of_typo.yaml", "alpah: 1\n")
        self.assertFails(self.run_kinterp("solve", "--options-file", "of_typo.yaml"),
                         EXIT_USAGE, "unknown option --alpah", "did you mean --alpha")
        self.save("of_small_x.npy", self.rng.random((10, 1)))
        self.save("of_small_b.npy", self.rng.random(10))
        self.assertFails(self.run_kinterp("solve", "--points", "of_small_x.npy", "--values",
                                          "of_small_b.npy", "--kernel", "gaussian",
                                          "--length-scale", "0.1", "--out", "of_small_a.npy",
                                          "--progress", "0"),
                         EXIT_USAGE, "--progress takes a positive number")


if __name__ == "__main__":
    main(globals())
