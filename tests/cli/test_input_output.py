#!/usr/bin/env python3
"""End-to-end tests of what `kinterp` reads and writes, whatever the command.

Bad input (a status, a message, no hang), outputs that never destroy data, and the HDF5
and CSV files (skipped without h5py or a kinterp built with HDF5).

    python3 tests/cli/test_input_output.py --kinterp build/apps/kinterp --ranks 3 \
        --mpiexec mpiexec --numproc-flag=-n --preflag=--oversubscribe

The options, the helpers and the numpy references: cli_support.py.
"""

import os
import re
import unittest

import numpy as np

try:
    import h5py
except ImportError:  # the HDF5 tests are skipped
    h5py = None

from cli_support import (EXIT_ERROR, EXIT_OK, EXIT_USAGE, GAUSSIAN, RTOL, SAFETY, CliTestCase,
                         formula_args, gaussian, gaussian_length_scale, hdf5_built, kinterp,
                         laplacian, laplacian_args, main, reference_solve, squared_distances)


class BadInputTest(CliTestCase):
    """Item 5: a non-zero status, a message saying what is wrong, and no hang."""

    N = 200

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        n = cls.N
        x, b = cls.rng.random((n, 1)), cls.rng.standard_normal(n)
        np.save(os.path.join(cls.dir, "x.npy"), x)
        np.save(os.path.join(cls.dir, "x2.npy"), cls.rng.random((n, 2)))
        np.save(os.path.join(cls.dir, "b.npy"), b)
        np.save(os.path.join(cls.dir, "b_short.npy"), b[:n - 7])
        bad = x.copy()
        bad[123, 0] = np.nan  # on the second rank or later when P > 1
        np.save(os.path.join(cls.dir, "x_nan.npy"), bad)
        bad = b.copy()
        bad[n - 2] = np.inf  # on the last rank
        np.save(os.path.join(cls.dir, "b_inf.npy"), bad)
        with open(os.path.join(cls.dir, "x.npy"), "rb") as f:
            whole = f.read()
        with open(os.path.join(cls.dir, "x_truncated.npy"), "wb") as f:
            f.write(whole[:-13])
        with open(os.path.join(cls.dir, "not_npy.npy"), "w") as f:
            f.write("x,y\n0.1,0.2\n0.3,0.4\n" * 20)

    def solve(self, *arguments, points="x.npy", values="b.npy", kernel=None, out=True):
        kernel = formula_args(1, 1, 50) if kernel is None else kernel
        return self.run_kinterp("solve", "--points", points, "--values", values, *kernel,
                                "--alpha", 1, *(["--out", "out.npy"] if out else []),
                                *arguments)

    def test_nan_in_points(self):
        self.assertFails(self.solve(points="x_nan.npy"), EXIT_ERROR, "NaN or Inf", "row 123")

    def test_inf_in_values(self):
        self.assertFails(self.solve(values="b_inf.npy"), EXIT_ERROR, "NaN or Inf",
                         "row %d" % (self.N - 2))

    def test_values_rows_differ_from_points(self):
        self.assertFails(self.solve(values="b_short.npy"), EXIT_ERROR,
                         "has %d rows" % (self.N - 7), str(self.N))

    def test_unknown_alias_in_formula(self):
        kernel = ["--formula", "Exp(- G * SqDist(X,Z) ) * A", "--var", "X = Vi(1)",
                  "--var", "Y = Vj(1)", "--var", "A = Vj(1)", "--var", "G = Pm(1)",
                  "--param", "G=50"]
        self.assertFails(self.solve(kernel=kernel), EXIT_USAGE, "unknown variable 'Z'")

    def test_formula_dimension_differs_from_points(self):
        # X = Vi(1) but the points have 2 coordinates.
        self.assertFails(self.solve(points="x2.npy"), EXIT_ERROR,
                         "2 coordinates per point", "dimension 1")

    def test_formula_dimensions_disagree(self):
        kernel = ["--formula", GAUSSIAN, "--var", "X = Vi(1)", "--var", "Y = Vj(2)",
                  "--var", "A = Vj(1)", "--var", "G = Pm(1)", "--param", "G=50"]
        self.assertFails(self.solve(kernel=kernel), EXIT_USAGE, "dimension")

    def test_unknown_function_suggests_closest(self):
        kernel = ["--formula", "Expp(- G * SqDist(X,Y) ) * A", "--var", "X = Vi(1)",
                  "--var", "Y = Vj(1)", "--var", "A = Vj(1)", "--var", "G = Pm(1)",
                  "--param", "G=50"]
        self.assertFails(self.solve(kernel=kernel), EXIT_USAGE, "unknown function 'Expp'",
                         "did you mean 'Exp'")

    def test_negative_alpha(self):
        run = self.run_kinterp("solve", "--points", "x.npy", "--values", "b.npy",
                               *formula_args(1, 1, 50), "--alpha", -1, "--out", "out.npy")
        self.assertFails(run, EXIT_USAGE, "alpha must be", ">= 0", "-1")

    def test_missing_file(self):
        self.assertFails(self.solve(points="no_such_file.npy"), EXIT_ERROR,
                         "no_such_file.npy", "cannot open")

    def test_truncated_file(self):
        self.assertFails(self.solve(points="x_truncated.npy"), EXIT_ERROR, "x_truncated.npy",
                         "truncated")

    def test_not_an_npy_file(self):
        self.assertFails(self.solve(points="not_npy.npy"), EXIT_ERROR, "not_npy.npy",
                         "not a NumPy .npy file")

    def test_unknown_option_suggests_closest(self):
        self.assertFails(self.solve("--alpah", "1"), EXIT_USAGE, "unknown option --alpah",
                         "did you mean --alpha?")

    def test_unknown_command_suggests_closest(self):
        self.assertFails(self.run_kinterp("solv", "--points", "x.npy"), EXIT_USAGE,
                         "unknown command 'solv'", "did you mean 'solve'?")

    def test_formula_and_kernel_together(self):
        run = self.solve(kernel=formula_args(1, 1, 50) + laplacian_args(0.1))
        self.assertFails(run, EXIT_USAGE, "--formula", "--kernel")

    def test_missing_out(self):
        self.assertFails(self.solve(out=False), EXIT_USAGE, "--out is required")

    def test_option_value_not_a_number(self):
        self.assertFails(self.solve("--rtol", "tiny"), EXIT_USAGE, "--rtol", "'tiny'")

    def test_max_it_out_of_range(self):
        # 2^32 + 2 must not wrap around to 2 iterations.
        self.assertFails(self.solve("--max-it", 2**32 + 2), EXIT_USAGE, "--max-it")

    def test_nan_in_targets(self):
        t = self.rng.random((9, 1))
        t[7, 0] = np.nan
        self.save("t_nan.npy", t)
        run = self.run_kinterp("predict", "--points", "x.npy", "--weights", "b.npy", "--targets",
                               "t_nan.npy", *laplacian_args(0.1), "--out", "out.npy")
        self.assertFails(run, EXIT_ERROR, "NaN or Inf", "row 7")


class SafeOutputTest(CliTestCase):
    """Outputs never destroy data: one that names an input (or another output) is refused
    before any work and the input stays as it was; one that cannot be written fails before
    the work; a job killed while writing (the writer's fault hook) leaves the previous file,
    or none. Bad targets of krige fail before its fit."""

    N = 60

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.x = cls.rng.random((cls.N, 1))
        cls.b = cls.rng.standard_normal(cls.N)
        cls.t = cls.rng.random((9, 1))
        for name in ("x", "b", "t"):
            np.save(os.path.join(cls.dir, "s_%s.npy" % name), getattr(cls, name))
        with open(os.path.join(cls.dir, "s_b.tmp"), "wb") as f:  # .npy content, another name
            np.save(f, cls.b)
        os.symlink("s_x.npy", os.path.join(cls.dir, "s_x_link.npy"))

    def content(self, name):
        with open(self.path(name), "rb") as f:
            return f.read()

    def solve(self, *arguments):
        return self.run_kinterp("solve", "--points", "s_x.npy", "--values", "s_b.npy",
                                *laplacian_args(0.2), "--alpha", 1, *arguments)

    def predict(self, out, weights="s_b.npy", env=None):
        return self.run_kinterp("predict", "--points", "s_x.npy", "--weights", weights,
                                "--targets", "s_t.npy", *laplacian_args(0.2), "--out", out,
                                env=env)

    def test_outputs_naming_inputs_are_refused(self):
        inputs = ["s_x.npy", "s_b.npy", "s_t.npy", "s_b.tmp"]
        before = {name: self.content(name) for name in inputs}
        cases = [
            (self.solve("--out", "s_x.npy"), "--out s_x.npy would overwrite the input --points"),
            (self.solve("--out", "./s_b.npy"), "would overwrite the input --values s_b.npy"),
            (self.solve("--out", "s_x_link.npy"), "would overwrite the input --points"),
            (self.solve("--out", "s_a.npy", "--checkpoint", "s_x.npy"),
             "--checkpoint s_x.npy would overwrite the input --points"),
            (self.predict("s_t.npy"), "would overwrite the input --targets"),
            (self.run_kinterp("krige", "--points", "s_x.npy", "--values", "s_b.npy",
                              "--targets", "s_t.npy", "--model", "gaussian", "--length-scale",
                              0.2, "--out", "s_m.npy", "--variance-out", "s_m.npy"),
             "--out s_m.npy and --variance-out s_m.npy are the same file"),
            (self.run_kinterp("solve", "--points", "s_x.npy", "--values", "s_b.tmp",
                              *laplacian_args(0.2), "--alpha", 1, "--out", "s_b"),
             "--out s_b is written as s_b.tmp before it takes its name, and that is the input "
             "--values s_b.tmp"),
            (self.run_kinterp("reduce", "--formula", "SqDist(X,Y)", "--var", "X = Vi(1)",
                              "--var", "Y = Vj(1)", "--input", "X=s_t.npy", "--input",
                              "Y=s_x.npy", "--out", "s_x.npy"),
             "--out s_x.npy would overwrite the input --input Y s_x.npy"),
        ]
        for run, fragment in cases:
            with self.subTest(command=" ".join(run.command[-12:])):
                self.assertFails(run, EXIT_ERROR, fragment)
                self.assertNotRegex(run.stdout, r"kinterp \w+: \d", run.describe())
        for name, content in before.items():
            self.assertEqual(self.content(name), content, name + " was changed")
        if h5py is None or not hdf5_built():
            return
        with h5py.File(self.path("s_d.h5"), "w") as f:
            f["points"], f["values"] = self.x, self.b
        run = self.run_kinterp("solve", "--points", "s_d.h5:/points", "--values",
                               "s_d.h5:/values", *laplacian_args(0.2), "--alpha", 1,
                               "--out", "s_d.h5://points")
        self.assertFails(run, EXIT_ERROR, "would overwrite the input --points s_d.h5:/points")
        with h5py.File(self.path("s_d.h5"), "r") as f:
            np.testing.assert_array_equal(f["points"][...], self.x)
        # Another dataset of the same file is another output.
        run = self.run_kinterp("solve", "--points", "s_d.h5:/points", "--values",
                               "s_d.h5:/values", *laplacian_args(0.2), "--alpha", 1,
                               "--out", "s_d.h5:/weights")
        self.assertConverged(run)

    def test_outputs_that_cannot_be_written_fail_before_the_work(self):
        os.mkdir(self.path("s_folder"))
        cases = [("s_missing/a.npy", "the directory s_missing does not exist"),
                 ("s_folder", "s_folder: is a directory")]
        if os.geteuid() != 0:  # root may write anything
            self.save("s_read_only.npy", self.b)
            os.chmod(self.path("s_read_only.npy"), 0o444)
            cases.append(("s_read_only.npy", "read-only"))
        for out, fragment in cases:
            with self.subTest(out=out):
                run = self.solve("--out", out)
                self.assertFails(run, EXIT_ERROR, "--out " + out, fragment)
                self.assertNotRegex(run.stdout, r"kinterp solve: \d", run.describe())
        run = self.solve("--out", "s_a.npy", "--checkpoint", "s_missing/ck")
        self.assertFails(run, EXIT_ERROR, "--checkpoint s_missing/ck", "does not exist")
        # krige: NaN targets before the fit, which may take hours.
        t = self.t.copy()
        t[7, 0] = np.nan
        self.save("s_t_nan.npy", t)
        run = self.run_kinterp("krige", "--points", "s_x.npy", "--values", "s_b.npy",
                               "--targets", "s_t_nan.npy", "--model", "gaussian",
                               "--length-scale", 0.2, "--out", "s_m.npy")
        self.assertFails(run, EXIT_ERROR, "NaN or Inf in --targets s_t_nan.npy", "row 7")
        self.assertNotIn("fit:", run.stdout, run.describe())

    def test_a_killed_write_leaves_the_previous_file_or_none(self):
        fault = dict(os.environ, KINTERP_TEST_FAULT="output-before-rename")
        K = laplacian(0.2)(self.t, self.x)
        b2 = self.rng.standard_normal(self.N)
        self.save("s_b2.npy", b2)
        outs = ["s_p.npy", "s_p.csv"]
        if h5py is not None and hdf5_built():
            outs.append("s_p.h5:/g/y")
        read = {"npy": lambda: np.load(self.path("s_p.npy")),
                "csv": lambda: np.loadtxt(self.path("s_p.csv"), delimiter=","),
                "h5": lambda: h5py.File(self.path("s_p.h5"), "r")["g/y"][...]}
        for out in outs:
            kind = out.split(".")[1].split(":")[0]
            with self.subTest(out=out):
                self.assertExit(self.predict(out), EXIT_OK)
                previous = read[kind]()
                np.testing.assert_allclose(previous, K @ self.b, rtol=1e-12, atol=1e-12)
                # Killed just before the rename: everything written but the commit.
                killed = self.predict(out, weights="s_b2.npy", env=fault)
                self.assertNotEqual(killed.returncode, EXIT_OK, killed.describe())
                np.testing.assert_array_equal(read[kind](), previous)
                self.assertExit(self.predict(out, weights="s_b2.npy"), EXIT_OK)
                np.testing.assert_allclose(read[kind](), K @ b2, rtol=1e-12, atol=1e-12)
        # A new file: none at all after the kill, and no leftover after the next run.
        killed = self.predict("s_new.npy", env=fault)
        self.assertNotEqual(killed.returncode, EXIT_OK, killed.describe())
        self.assertFalse(os.path.exists(self.path("s_new.npy")), killed.describe())
        self.assertExit(self.predict("s_new.npy"), EXIT_OK)
        self.assertFalse(os.path.exists(self.path("s_new.npy.tmp")))
        np.testing.assert_allclose(np.load(self.path("s_new.npy")), K @ self.b, rtol=1e-12,
                                   atol=1e-12)


class FileFormatTest(CliTestCase):
    """HDF5 (FILE.h5:/DATASET) and CSV in the file options; weights solve writes to HDF5
    record the kernel and points, so that predict needs neither. Checked against numpy's
    dense solve and K(t, x) @ a, and against the same runs on .npy files."""

    N, D, S, ALPHA = 400, 2, 0.2, 0.1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if h5py is None:
            raise unittest.SkipTest("h5py is not available (Debian: python3-h5py)")
        version = kinterp("--version", cwd=cls.dir, ranks=1)
        if version.returncode != EXIT_OK:
            raise AssertionError("kinterp --version failed\n" + version.describe())
        if "parallel HDF5" not in version.stdout:
            raise unittest.SkipTest("kinterp was built without HDF5:\n" + version.describe())
        cls.version = re.search(r"kinterp (\S+)", version.stdout).group(1)
        n, d = cls.N, cls.D
        cls.x, cls.t = cls.rng.random((n, d)), cls.rng.random((150, d))
        cls.b = cls.rng.standard_normal((n, 2))
        for name in ("x", "t", "b"):
            np.save(os.path.join(cls.dir, name + ".npy"), getattr(cls, name))
        # Exact in text: numpy prints each float64 with 17 significant digits.
        np.savetxt(os.path.join(cls.dir, "x.csv"), cls.x, fmt="%.17g", delimiter=",",
                   header="x0,x1", comments="")
        np.savetxt(os.path.join(cls.dir, "b.csv"), cls.b, fmt="%.17g")
        with h5py.File(os.path.join(cls.dir, "data.h5"), "w") as f:
            # Chunked and compressed; big-endian: parallel HDF5 reads any layout and order.
            f.create_dataset("inputs/x", data=cls.x, chunks=(64, 1), compression="gzip")
            f["inputs/b"] = cls.b.astype(">f8")
            f["t32"] = cls.t.astype(np.float32)
            f["b_short"] = cls.b[:n - 10]
            f["cube"] = np.zeros((2, 3, 4))
            f["labels"] = np.arange(n)
        with open(os.path.join(cls.dir, "text.h5"), "w") as f:
            f.write("not HDF5\n")
        with open(os.path.join(cls.dir, "bad.csv"), "w") as f:
            f.write("1,2\n3,x\n")
        with open(os.path.join(cls.dir, "ragged.csv"), "w") as f:
            f.write("# two columns\n1 2\n3 4 5\n")

    def dataset(self, spec):
        """The dataset `file.h5:/name` as h5py reads it, and its attributes."""
        name, dataset = spec.split(":", 1)
        with h5py.File(self.path(name), "r") as f:
            return f[dataset][...], dict(f[dataset].attrs)

    def solve_named(self, out, *arguments, points="x.npy", values="b.csv"):
        run = self.run_kinterp("solve", "--points", points, "--values", values, "--kernel",
                               "gaussian", "--length-scale", self.S, "--alpha", self.ALPHA,
                               "--rtol", RTOL, "--out", out, *arguments)
        self.assertConverged(run)
        return run

    def test_solve_to_hdf5_then_predict_without_kernel_options(self):
        self.solve_named("w.h5:/fit/weights")
        a, attributes = self.dataset("w.h5:/fit/weights")
        np.save(self.path("w_from_h5.npy"), a)
        kernel = gaussian_length_scale(self.S)
        reference, lambda_max = reference_solve(kernel, self.x, self.b, self.ALPHA)
        self.assertSolution("w_from_h5.npy", reference, self.ALPHA, self.b, lambda_max)
        self.assertEqual(attributes["kernel"], "gaussian")
        self.assertEqual(float(attributes["length_scale"]), self.S)
        self.assertEqual(float(attributes["alpha"]), self.ALPHA)
        self.assertEqual(attributes["precision"], "double")
        self.assertEqual(attributes["points"], "x.npy")
        self.assertEqual(attributes["values"], "b.csv")
        self.assertEqual(attributes["kinterp_version"], self.version)
        self.assertTrue(attributes["solver_reason"].startswith("converged"), attributes)
        self.assertGreater(int(attributes["solver_iterations"]), 0)
        self.assertLessEqual(float(attributes["solver_relative_residual"]), SAFETY * RTOL)
        self.assertNotIn("formula", attributes)

        # No kernel options, no --points: both from the attributes.
        run = self.run_kinterp("predict", "--weights", "w.h5:/fit/weights", "--targets", "t.npy",
                               "--out", "y.h5:/y")
        self.assertExit(run, EXIT_OK)
        self.assertIn("kernel and points from the attributes of w.h5:/fit/weights", run.stdout)
        y, _ = self.dataset("y.h5:/y")
        np.save(self.path("y_from_h5.npy"), y)
        self.assertPrediction("y_from_h5.npy", kernel(self.t, self.x), a)
        # The same run on .npy files with the options gives the same numbers.
        run = self.run_kinterp("predict", "--points", "x.npy", "--weights", "w_from_h5.npy",
                               "--targets", "t.npy", "--kernel", "gaussian", "--length-scale",
                               self.S, "--out", "y.npy")
        self.assertExit(run, EXIT_OK)
        np.testing.assert_array_equal(np.load(self.path("y.npy")), y)
        # --points overrides the recorded ones (the same points, as CSV).
        run = self.run_kinterp("predict", "--weights", "w.h5:/fit/weights", "--points", "x.csv",
                               "--targets", "t.npy", "--out", "y_csv_points.npy")
        self.assertExit(run, EXIT_OK)
        self.assertIn("kernel from the attributes", run.stdout)
        np.testing.assert_array_equal(np.load(self.path("y_csv_points.npy")), y)
        # Specs with ':' in an options file, YAML style.
        with open(self.path("predict.yaml"), "w") as f:
            f.write("weights: w.h5:/fit/weights\ntargets: t.npy\nout: 'y_options.h5:/y'\n")
        run = self.run_kinterp("predict", "--options-file", "predict.yaml")
        self.assertExit(run, EXIT_OK)
        np.testing.assert_array_equal(self.dataset("y_options.h5:/y")[0], y)

    def test_formula_kernel_and_inputs_from_hdf5_and_csv(self):
        args = formula_args(self.D, 2, 20)
        run = self.run_kinterp("solve", "--points", "data.h5:/inputs/x", "--values",
                               "data.h5:/inputs/b", *args, "--alpha", self.ALPHA, "--rtol", RTOL,
                               "--out", "w.h5:/formula")
        self.assertConverged(run)
        a, attributes = self.dataset("w.h5:/formula")
        np.save(self.path("wf.npy"), a)
        reference, lambda_max = reference_solve(gaussian(20), self.x, self.b, self.ALPHA)
        self.assertSolution("wf.npy", reference, self.ALPHA, self.b, lambda_max)
        self.assertEqual(attributes["formula"], GAUSSIAN)
        self.assertEqual(attributes["vars"], "X = Vi(2); Y = Vj(2); A = Vj(2); G = Pm(1)")
        self.assertEqual(attributes["params"], "G=20")
        self.assertEqual(attributes["points"], "data.h5:/inputs/x")

        run = self.run_kinterp("predict", "--weights", "w.h5:/formula", "--targets",
                               "data.h5:/t32", "--out", "yf.csv")
        self.assertExit(run, EXIT_OK)
        y = np.loadtxt(self.path("yf.csv"), delimiter=",")
        np.save(self.path("yf.npy"), y)
        t32 = self.t.astype(np.float32).astype(np.float64)  # the targets the tool read
        self.assertPrediction("yf.npy", gaussian(20)(t32, self.x), a)

        # reduce takes them too: the nearest point's squared distance, to HDF5.
        run = self.run_kinterp("reduce", "--formula", "SqDist(X,Y)", "--var", "X = Vi(2)",
                               "--var", "Y = Vj(2)", "--reduction", "Min", "--input",
                               "X=data.h5:/t32", "--input", "Y=x.csv", "--out", "r.h5:/min")
        self.assertExit(run, EXIT_OK)
        out, _ = self.dataset("r.h5:/min")
        self.assertEqual(out.shape, (len(self.t), 1))
        np.testing.assert_allclose(out[:, 0], squared_distances(t32, self.x).min(axis=1),
                                   rtol=1e-13, atol=1e-15)

    def test_bad_files(self):
        cases = [
            ("data.h5", ["data.h5:/DATASET"]),
            ("data.h5:/inputs/nope", ["no dataset /inputs/nope", "group /inputs holds",
                                      "x (dataset)", "b (dataset)"]),
            ("data.h5:/cube", ["data.h5:/cube", "3 dimensions"]),
            ("data.h5:/labels", ["data.h5:/labels", "int64", "float64 or float32"]),
            ("text.h5:/x", ["text.h5", "not an HDF5 file"]),
            ("missing.h5:/x", ["missing.h5", "no such file"]),
            ("bad.csv", ["bad.csv, line 2, field 2", "'x' is not a number"]),
            ("ragged.csv", ["ragged.csv, line 3", "same number of values"]),
        ]
        for points, fragments in cases:
            with self.subTest(points=points):
                run = self.run_kinterp("solve", "--points", points, "--values", "b.npy",
                                       *laplacian_args(0.1), "--out", "o.npy")
                self.assertFails(run, EXIT_ERROR, *fragments)
        run = self.run_kinterp("solve", "--points", "x.npy", "--values", "data.h5:/b_short",
                               *laplacian_args(0.1), "--out", "o.npy")
        self.assertFails(run, EXIT_ERROR, "data.h5:/b_short has %d rows" % (self.N - 10))
        # An output without a dataset fails before the solve.
        run = self.run_kinterp("solve", "--points", "x.npy", "--values", "b.npy",
                               *laplacian_args(0.1), "--out", "o.h5")
        self.assertFails(run, EXIT_ERROR, "o.h5:/DATASET")
        self.assertNotIn("iterations", run.stdout)

    def test_weights_without_a_record(self):
        # Weights not written by kinterp solve record no kernel and no points.
        run = self.run_kinterp("predict", "--weights", "data.h5:/inputs/b", "--targets", "t.npy",
                               "--out", "o.npy")
        self.assertFails(run, EXIT_USAGE, "--formula", "--kernel",
                         "data.h5:/inputs/b records no kernel")
        run = self.run_kinterp("predict", "--weights", "data.h5:/inputs/b", "--targets", "t.npy",
                               *laplacian_args(0.1), "--out", "o.npy")
        self.assertFails(run, EXIT_USAGE, "--points is required", "records no points")
        # Recorded points that are gone: the message says where the path came from.
        with h5py.File(self.path("gone.h5"), "w") as f:
            f["w"] = self.b
            f["w"].attrs.update({"kernel": "laplacian", "length_scale": "0.1",
                                 "points": "gone.npy"})
            f["v"] = self.b
            f["v"].attrs.update({"kernel": "laplacien", "length_scale": "0.1",
                                 "points": "x.npy"})
        run = self.run_kinterp("predict", "--weights", "gone.h5:/w", "--targets", "t.npy",
                               "--out", "o.npy")
        self.assertFails(run, EXIT_ERROR, "gone.npy", "recorded by --weights gone.h5:/w",
                         "give --points")
        run = self.run_kinterp("predict", "--weights", "gone.h5:/v", "--targets", "t.npy",
                               "--out", "o.npy")
        self.assertFails(run, EXIT_ERROR, "gone.h5:/v records a kernel kinterp cannot use",
                         "laplacien")


if __name__ == "__main__":
    main(globals())
