#!/usr/bin/env python3
"""End-to-end tests of the `kinterp` tool.

Runs `mpiexec -n P kinterp ...` on small problems written as .npy files and
checks what it writes against numpy in float64: a dense solve of
(alpha I + K) a = b, and K(t, x) @ a for predictions. Because every rank count
is checked against the same numpy numbers, passing for P = 1, 3 and 4 means the rank
counts agree. Bad input must give the documented exit status and a message
that says what is wrong, and every run has a time limit, so a hang fails.

    python3 test_kinterp_cli.py --kinterp build/apps/kinterp --ranks 3 \
        --mpiexec mpiexec --numproc-flag=-n --preflag=--oversubscribe

Only the standard library and numpy; h5py, when /usr/bin/python3 has it, for the
HDF5 files (FileFormatTest is skipped without it or a kinterp built with HDF5).
"""

import argparse
import importlib.util
import os
import re
import signal
import subprocess
import sys
import tempfile
import unittest

import numpy as np

try:
    import h5py
except ImportError:  # the HDF5 tests are skipped
    h5py = None

# Imported by the one test that compares with it (the import takes a second);
# the comparison is skipped where scikit-learn is not installed.
has_scikit_learn = importlib.util.find_spec("sklearn") is not None

try:
    from scipy.special import gamma as gamma_function, kv as bessel_kv
except ImportError:  # the general Matern's reference is skipped
    bessel_kv = None

# Filled in by main() from the command line.
CONFIG = argparse.Namespace(kinterp=None, ranks=1, mpiexec="mpiexec", numproc_flag="-n",
                            preflags=[], postflags=[], timeout=120.0)

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NOT_CONVERGED = 0, 1, 2, 3

GAUSSIAN = "Exp(- G * SqDist(X,Y) ) * A"
RTOL = 1e-10  # double solves: tight enough that the bound below is a sharp check
# ||a - a*|| <= ||b - A a|| / alpha; the recurrence residual the solver stops on
# and the true residual agree to rounding, so allow a factor 2 over rtol.
SAFETY = 2.0


# ---- Running the tool -------------------------------------------------------------------


class Run:
    def __init__(self, command, returncode, stdout, stderr):
        self.command, self.returncode, self.stdout, self.stderr = command, returncode, stdout, stderr

    @property
    def output(self):
        return self.stdout + self.stderr

    def describe(self):
        return ("command: %s\nexit status: %s\n--- stdout ---\n%s\n--- stderr ---\n%s" %
                (" ".join(self.command), self.returncode, self.stdout, self.stderr[-4000:]))


def kinterp(*arguments, cwd, ranks=None, timeout=None, env=None):
    """Runs kinterp under mpiexec (in `env`, default this process's environment); a run past
    the time limit is killed and fails the test."""
    ranks = CONFIG.ranks if ranks is None else ranks
    command = ([CONFIG.mpiexec, CONFIG.numproc_flag, str(ranks)] + CONFIG.preflags +
               [CONFIG.kinterp] + CONFIG.postflags + [str(a) for a in arguments])
    # A session of its own, so that a hang can be ended with every rank it started.
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, text=True, start_new_session=True,
                               env=env)
    try:
        stdout, stderr = process.communicate(timeout=timeout or CONFIG.timeout)
    except subprocess.TimeoutExpired:
        stdout, stderr = stop(process)
        raise AssertionError("kinterp did not finish within %s s (a hang?)\n%s" %
                             (timeout or CONFIG.timeout,
                              Run(command, None, stdout, stderr).describe()))
    return Run(command, process.returncode, stdout, stderr)


def stop(process):
    """Ends a hung run: SIGTERM to mpiexec, which takes its ranks down; failing that,
    SIGKILL to every process of the run's session (ranks get process groups of their own)."""
    process.terminate()
    try:
        return process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if entry.isdigit() and int(fields[3]) == process.pid:  # fields[3]: session id
                os.kill(int(entry), signal.SIGKILL)
        except (OSError, IndexError, ValueError):
            continue
    process.kill()
    return process.communicate()


def hdf5_built():
    """Whether this kinterp reads and writes HDF5 (its --version says); asked once."""
    if not hasattr(hdf5_built, "answer"):
        with tempfile.TemporaryDirectory(prefix="kinterp-cli-") as scratch:
            version = kinterp("--version", cwd=scratch, ranks=1)
        if version.returncode != EXIT_OK:
            raise AssertionError("kinterp --version failed\n" + version.describe())
        hdf5_built.answer = "parallel HDF5" in version.stdout
    return hdf5_built.answer


def formula_args(d, m, g):
    return ["--formula", GAUSSIAN, "--var", "X = Vi(%d)" % d, "--var", "Y = Vj(%d)" % d,
            "--var", "A = Vj(%d)" % m, "--var", "G = Pm(1)", "--param", "G=%r" % g]


def laplacian_args(length_scale):
    return ["--kernel", "laplacian", "--length-scale", repr(length_scale)]


# ---- The numpy reference, in float64 --------------------------------------------------------


def squared_distances(t, x):
    t, x = np.asarray(t, np.float64), np.asarray(x, np.float64)
    return ((t[:, None, :] - x[None, :, :]) ** 2).sum(axis=2)


def gaussian(g):
    return lambda t, x: np.exp(-g * squared_distances(t, x))


def laplacian(s):
    return lambda t, x: np.exp(-np.sqrt(squared_distances(t, x)) / s)


def gaussian_length_scale(s):
    """`--kernel gaussian --length-scale s`: exp(-r^2 / (2 s^2))."""
    return gaussian(1.0 / (2.0 * s * s))


def reference_solve(kernel, x, b, alpha):
    """a* = (alpha I + K_xx)^-1 b, and the largest eigenvalue bound of K (Gershgorin)."""
    K = kernel(x, x)
    a = np.linalg.solve(alpha * np.eye(len(x)) + K, np.asarray(b, np.float64))
    return a, np.abs(K).sum(axis=1).max()


def reference_cg(A, b, iterations):
    """Plain conjugate gradient from 0, one column, `iterations` steps."""
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = r @ r
    for _ in range(iterations):
        Ap = A @ p
        step = rr / (p @ Ap)
        x += step * p
        r -= step * Ap
        rr, rr_old = r @ r, rr
        p = r + (rr / rr_old) * p
    return x


def columns(v):
    return v.reshape(len(v), -1)


# ---- Tests --------------------------------------------------------------------------------------


class CliTestCase(unittest.TestCase):
    """Shared set-up: a scratch folder and a fixed random stream."""

    @classmethod
    def setUpClass(cls):
        cls._scratch = tempfile.TemporaryDirectory(prefix="kinterp-cli-")
        cls.dir = cls._scratch.name
        cls.rng = np.random.default_rng(20240611)

    @classmethod
    def tearDownClass(cls):
        cls._scratch.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def save(self, name, array):
        np.save(self.path(name), array)
        return name

    def run_kinterp(self, *arguments, **options):
        return kinterp(*arguments, cwd=self.dir, **options)

    def assertExit(self, run, status):
        self.assertEqual(run.returncode, status, "wrong exit status\n" + run.describe())

    def assertFails(self, run, status, *fragments):
        self.assertExit(run, status)
        for fragment in fragments:
            self.assertIn(fragment, run.output, "the message does not say '%s'\n%s" %
                          (fragment, run.describe()))
        # Rank 0 speaks for all: the message is printed once, whatever the rank count.
        message = [line for line in run.stdout.splitlines() if line.startswith("kinterp ")]
        self.assertEqual(len([m for m in message if "error" in m or "(see kinterp" in m]), 1,
                         "the error message is not printed exactly once\n" + run.describe())

    def assertConverged(self, run):
        self.assertExit(run, EXIT_OK)
        self.assertRegex(run.stdout, re.compile(r"^converged \(\w+\) after \d+ iterations", re.M),
                         "no line reports convergence\n" + run.describe())

    def assertSolution(self, name, reference, alpha, b, lambda_max, rtol=RTOL,
                       dtype=np.float64):
        """The weights in `name` have the shape of b, the dtype, and are within the
        CG bound of the dense solve, column by column."""
        a = np.load(self.path(name))
        self.assertEqual(a.dtype, np.dtype(dtype), name)
        self.assertEqual(a.shape, np.shape(b), name)
        eps = np.finfo(dtype).eps
        # ||a - a*|| <= ||b - A a|| / alpha <= rtol ||b|| / alpha, plus what rounding adds:
        # a few eps per kernel value and sum perturb A by ~ eps ||K||, which moves the
        # solution by ~ eps cond(A) ||a*||, cond(A) <= 1 + lambda_max / alpha.
        for c, (got, want, rhs) in enumerate(zip(columns(a).T.astype(np.float64),
                                                 columns(reference).T, columns(b).T)):
            error = np.linalg.norm(got - want)
            bound = (SAFETY * rtol * np.linalg.norm(rhs) / alpha +
                     8 * eps * (1 + lambda_max / alpha) * np.linalg.norm(want))
            self.assertLessEqual(error, bound, "%s column %d: ||a - a*|| = %.3e > %.3e" %
                                 (name, c, error, bound))
        return a

    def assertPrediction(self, name, K, a, dtype=np.float64, shape=None):
        """Each y_i within the summation bound (N + 8) eps sum_j |K_ij| |a_j| of K @ a."""
        y = np.load(self.path(name))
        self.assertEqual(y.dtype, np.dtype(dtype), name)
        a = np.asarray(a, np.float64)
        want = K @ a
        self.assertEqual(y.shape, shape or want.shape, name)
        eps = np.finfo(dtype).eps
        # In double this is ~1e-13 relative for N = 1500: the "1e-12 relative" check.
        scale = np.abs(K) @ np.abs(a)
        bound = (K.shape[1] + 8) * eps * scale + np.finfo(np.float64).tiny
        excess = np.abs(y.astype(np.float64) - want) / bound
        self.assertLessEqual(excess.max(), 1.0, "%s: worst error %.3g times the bound at %s" %
                             (name, excess.max(), np.unravel_index(excess.argmax(), excess.shape)))
        return y


class SolveTest(CliTestCase):
    """Item 1 and 3: the weights match numpy's dense solve for every rank count."""

    def solve_case(self, tag, d, m, kernel_args, kernel, alpha, precision="double",
                   file_dtype=np.float64, n=1500):
        x = self.rng.random((n, d))
        b = self.rng.standard_normal((n,) if m == 1 else (n, m))
        self.save(tag + "_x.npy", x.astype(file_dtype))
        self.save(tag + "_b.npy", b.astype(file_dtype))
        x, b = x.astype(file_dtype).astype(np.float64), b.astype(file_dtype).astype(np.float64)
        rtol = RTOL if precision == "double" else 1e-5
        run = self.run_kinterp("solve", "--points", tag + "_x.npy", "--values", tag + "_b.npy",
                               *kernel_args, "--alpha", alpha, "--rtol", rtol,
                               "--precision", precision, "--out", tag + "_a.npy")
        self.assertConverged(run)
        self.assertEqual(run.stdout.count("kinterp solve:"), 1, "rank 0 alone reports\n" +
                         run.describe())
        reference, lambda_max = reference_solve(kernel, x, b, alpha)
        dtype = np.float64 if precision == "double" else np.float32
        return self.assertSolution(tag + "_a.npy", reference, alpha, b, lambda_max, rtol, dtype)

    def test_gaussian_formula_1d_one_rhs(self):
        self.solve_case("g1", d=1, m=1, kernel_args=formula_args(1, 1, 50), kernel=gaussian(50),
                        alpha=1)

    def test_gaussian_formula_2d_three_rhs(self):
        self.solve_case("g2", d=2, m=3, kernel_args=formula_args(2, 3, 50), kernel=gaussian(50),
                        alpha=10)

    def test_laplacian_2d_one_rhs(self):
        self.solve_case("l2", d=2, m=1, kernel_args=laplacian_args(0.1), kernel=laplacian(0.1),
                        alpha=1)

    def test_laplacian_1d_three_rhs(self):
        self.solve_case("l1", d=1, m=3, kernel_args=laplacian_args(0.1), kernel=laplacian(0.1),
                        alpha=10)

    def test_float_precision_writes_float32(self):
        self.solve_case("f2", d=2, m=3, kernel_args=formula_args(2, 3, 50), kernel=gaussian(50),
                        alpha=1, precision="float")

    def test_float32_files_in_float_precision(self):
        self.solve_case("f1", d=1, m=1, kernel_args=laplacian_args(0.1), kernel=laplacian(0.1),
                        alpha=1, precision="float", file_dtype=np.float32)

    def test_initial_guess_and_every_solve_option(self):
        # Every option `solve --help` lists that can go with --kernel, in one run.
        n, alpha = 800, 1.0
        x, b = self.rng.random((n, 2)), self.rng.standard_normal((n, 2))
        kernel = laplacian(0.1)
        reference, lambda_max = reference_solve(kernel, x, b, alpha)
        guess = reference + 1e-3 * self.rng.standard_normal(reference.shape)
        self.save("ig_x.npy", x)
        self.save("ig_b.npy", b)
        self.save("ig_guess.npy", guess)
        run = self.run_kinterp("solve", "--points", "ig_x.npy", "--values", "ig_b.npy",
                               "--initial-guess", "ig_guess.npy", "--kernel", "laplacian",
                               "--length-scale", "0.1", "--alpha", alpha, "--rtol", RTOL,
                               "--atol", 0, "--max-it", 500, "--precision", "double",
                               "--monitor", "--out", "ig_a.npy")
        self.assertConverged(run)
        self.assertSolution("ig_a.npy", reference, alpha, b, lambda_max)
        # Starting next to the solution, the initial residual is ||b - A guess||, not ||b||.
        first = re.search(r"^\s*iteration\s+0\s+residual\s+(\S+)", run.stdout, re.M)
        self.assertIsNotNone(first, run.describe())
        A = alpha * np.eye(n) + kernel(x, x)
        initial = np.linalg.norm(b - A @ guess, axis=0).max()
        self.assertAlmostEqual(float(first.group(1)) / initial, 1.0, delta=1e-5)


class PredictTest(CliTestCase):
    """Item 2: predictions match K(t, x) @ a."""

    def test_solve_then_predict(self):
        n, m, d, alpha = 1500, 3, 2, 1.0
        x, b, t = self.rng.random((n, d)), self.rng.standard_normal((n, m)), self.rng.random((
            700, d))
        for name, array in (("sp_x.npy", x), ("sp_b.npy", b), ("sp_t.npy", t)):
            self.save(name, array)
        kernel_args = formula_args(d, m, 50)
        run = self.run_kinterp("solve", "--points", "sp_x.npy", "--values", "sp_b.npy",
                               *kernel_args, "--alpha", alpha, "--rtol", RTOL, "--out",
                               "sp_a.npy")
        self.assertConverged(run)
        reference, lambda_max = reference_solve(gaussian(50), x, b, alpha)
        a = self.assertSolution("sp_a.npy", reference, alpha, b, lambda_max)
        run = self.run_kinterp("predict", "--points", "sp_x.npy", "--weights", "sp_a.npy",
                               "--targets", "sp_t.npy", *kernel_args, "--out", "sp_y.npy")
        self.assertExit(run, EXIT_OK)
        K = gaussian(50)(t, x)
        y = self.assertPrediction("sp_y.npy", K, a)
        # And the model fitted by numpy predicts the same to the solve's accuracy.
        fitted = K @ reference
        self.assertLess(np.abs(y - fitted).max(), 1e-8 * np.abs(fitted).max())

    def predict_case(self, tag, n, mt, d, m, kernel_args, kernel, precision="double"):
        x, t = self.rng.random((n, d)), self.rng.random((mt, d))
        a = self.rng.standard_normal((n,) if m == 1 else (n, m))
        for suffix, array in (("_x.npy", x), ("_a.npy", a), ("_t.npy", t)):
            self.save(tag + suffix, array)
        run = self.run_kinterp("predict", "--points", tag + "_x.npy", "--weights",
                               tag + "_a.npy", "--targets", tag + "_t.npy", *kernel_args,
                               "--precision", precision, "--out", tag + "_y.npy")
        self.assertExit(run, EXIT_OK)
        if precision == "float":  # the tool computes with the numbers rounded to float
            x, t, a = (v.astype(np.float32).astype(np.float64) for v in (x, t, a))
        dtype = np.float64 if precision == "double" else np.float32
        return self.assertPrediction(tag + "_y.npy", kernel(t, x), a, dtype,
                                     (mt,) if m == 1 else (mt, m))

    def test_laplacian_one_column(self):
        self.predict_case("pl", n=1500, mt=600, d=2, m=1, kernel_args=laplacian_args(0.1),
                          kernel=laplacian(0.1))

    def test_gaussian_formula_1d(self):
        self.predict_case("pg", n=1200, mt=900, d=1, m=3, kernel_args=formula_args(1, 3, 50),
                          kernel=gaussian(50))

    def test_float_precision(self):
        self.predict_case("pf", n=1500, mt=500, d=2, m=2, kernel_args=formula_args(2, 2, 50),
                          kernel=gaussian(50), precision="float")

    def test_one_target(self):
        self.predict_case("p1", n=500, mt=1, d=2, m=1, kernel_args=laplacian_args(0.1),
                          kernel=laplacian(0.1))


class GenericFormulaTest(CliTestCase):
    """Formulas outside the compiled families: solve and predict through the generic
    evaluator match numpy; what CG cannot solve is refused."""

    # A Cauchy-Gaussian mixture: symmetric positive definite, no compiled family.
    FORMULA = "(Exp(-G*SqDist(X,Y)) + Inv(1 + G*SqDist(X,Y)))*A"
    ALIASES = ["--var", "X = Vi(2)", "--var", "Y = Vj(2)", "--var", "A = Vj(1)",
               "--var", "G = Pm(1)", "--param", "G=20"]

    @staticmethod
    def kernel(t, x):
        r2 = squared_distances(t, x)
        return np.exp(-20 * r2) + 1 / (1 + 20 * r2)

    def test_solve_then_predict(self):
        n, alpha = 400, 0.5
        x, b, t = self.rng.random((n, 2)), self.rng.standard_normal(n), self.rng.random((150, 2))
        for name, array in (("gf_x.npy", x), ("gf_b.npy", b), ("gf_t.npy", t)):
            self.save(name, array)
        formula = ["--formula", self.FORMULA] + self.ALIASES
        run = self.run_kinterp("solve", "--points", "gf_x.npy", "--values", "gf_b.npy",
                               *formula, "--alpha", alpha, "--rtol", RTOL, "--out", "gf_a.npy")
        self.assertConverged(run)
        self.assertIn("generic evaluator", run.stdout, run.describe())
        reference, lambda_max = reference_solve(self.kernel, x, b, alpha)
        a = self.assertSolution("gf_a.npy", reference, alpha, b, lambda_max)
        run = self.run_kinterp("predict", "--points", "gf_x.npy", "--weights", "gf_a.npy",
                               "--targets", "gf_t.npy", *formula, "--out", "gf_y.npy")
        self.assertExit(run, EXIT_OK)
        self.assertPrediction("gf_y.npy", self.kernel(t, x), a)

    def test_refusals(self):
        x, b = self.rng.random((50, 2)), self.rng.standard_normal(50)
        self.save("gr_x.npy", x)
        self.save("gr_b.npy", b)
        solve = ["solve", "--points", "gr_x.npy", "--values", "gr_b.npy", "--alpha", "1",
                 "--out", "gr_a.npy"]
        aliases = ["--var", "X = Vi(2)", "--var", "Y = Vj(2)", "--var", "A = Vj(1)"]
        self.assertFails(self.run_kinterp(*solve, "--formula", "Exp(-SqDist(X,Y))*A*A",
                                          *aliases), EXIT_USAGE, "linear in none")
        self.assertFails(self.run_kinterp(*solve, "--formula", "Exp(-SqDist(X,Y))*Elem(Y,0)*A",
                                          *aliases), EXIT_ERROR, "is not symmetric")
        self.assertFails(self.run_kinterp(*solve, "--formula", "Exp(-Sum(Square(X-Y)))*A",
                                          *aliases, "--precond", "rpcholesky"),
                         EXIT_ERROR, "need a compiled kernel family")


class FewPointsTest(CliTestCase):
    """Item 4: fewer points than ranks (some ranks hold none)."""

    def few_points(self, n):
        alpha, s = 1.0, 0.5
        x, b = self.rng.random((n, 2)), self.rng.standard_normal((n, 1))  # (N, 1) stays 2-D
        self.save("n%d_x.npy" % n, x)
        self.save("n%d_b.npy" % n, b)
        run = self.run_kinterp("solve", "--points", "n%d_x.npy" % n, "--values", "n%d_b.npy" % n,
                               "--kernel", "gaussian", "--length-scale", s, "--alpha", alpha,
                               "--rtol", RTOL, "--out", "n%d_a.npy" % n)
        self.assertConverged(run)
        reference, lambda_max = reference_solve(gaussian_length_scale(s), x, b, alpha)
        a = self.assertSolution("n%d_a.npy" % n, reference, alpha, b, lambda_max)
        # Predict at the points themselves, with as few targets as points.
        run = self.run_kinterp("predict", "--points", "n%d_x.npy" % n, "--weights",
                               "n%d_a.npy" % n, "--targets", "n%d_x.npy" % n, "--kernel",
                               "gaussian", "--length-scale", s, "--out", "n%d_y.npy" % n)
        self.assertExit(run, EXIT_OK)
        self.assertPrediction("n%d_y.npy" % n, gaussian_length_scale(s)(x, x), a)

    def test_one_point(self):
        self.few_points(1)

    def test_two_points(self):
        self.few_points(2)

    def test_three_points(self):
        self.few_points(3)


class NotConvergedTest(CliTestCase):
    """Exit status 3: the reason is printed and the last iterate is still written."""

    def test_max_it_too_small(self):
        n, alpha, iterations = 1500, 1.0, 4
        x, b = self.rng.random((n, 1)), self.rng.standard_normal(n)
        self.save("mi_x.npy", x)
        self.save("mi_b.npy", b)
        run = self.run_kinterp("solve", "--points", "mi_x.npy", "--values", "mi_b.npy",
                               *formula_args(1, 1, 50), "--alpha", alpha, "--rtol", RTOL,
                               "--max-it", iterations, "--out", "mi_a.npy")
        self.assertExit(run, EXIT_NOT_CONVERGED)
        self.assertRegex(run.stdout, r"did not converge|not converged|diverged")
        self.assertIn("maximum iterations", run.stdout)
        self.assertIn("after %d iterations" % iterations, run.stdout)
        self.assertTrue(os.path.exists(self.path("mi_a.npy")), "the last iterate is not written")
        A = alpha * np.eye(n) + gaussian(50)(x, x)
        want = reference_cg(A, b, iterations)
        a = np.load(self.path("mi_a.npy"))
        self.assertEqual((a.shape, a.dtype), (b.shape, np.float64))
        self.assertLess(np.linalg.norm(a - want), 1e-10 * np.linalg.norm(want),
                        "the written weights are not CG's iterate %d" % iterations)
        # The reported true residual is that of the written weights.
        reported = re.search(r"\(recomputed: (\S+)\)", run.stdout)
        self.assertIsNotNone(reported, run.describe())
        actual = np.linalg.norm(b - A @ a) / np.linalg.norm(b)
        self.assertAlmostEqual(float(reported.group(1)) / actual, 1.0, delta=1e-3)

    def test_repeated_points_without_ridge(self):
        x = self.rng.random((30, 1))
        x = np.concatenate([x, x[:10]])  # 10 points twice: K_xx is singular
        b = self.rng.standard_normal(len(x))
        self.save("dup_x.npy", x)
        self.save("dup_b.npy", b)
        run = self.run_kinterp("solve", "--points", "dup_x.npy", "--values", "dup_b.npy",
                               "--kernel", "gaussian", "--length-scale", 0.1, "--alpha", 0,
                               "--max-it", 300, "--out", "dup_a.npy")
        self.assertExit(run, EXIT_NOT_CONVERGED)
        self.assertRegex(run.stdout, r"(?i)repeat|duplicate")
        self.assertRegex(run.stdout, r"alpha > 0")
        self.assertTrue(os.path.exists(self.path("dup_a.npy")), "the last iterate is not written")


class MonitorTest(CliTestCase):

    def test_monitor_prints_one_line_per_iteration(self):
        n, alpha = 1500, 1.0
        x, b = self.rng.random((n, 2)), self.rng.standard_normal((n, 2))
        self.save("mo_x.npy", x)
        self.save("mo_b.npy", b)
        run = self.run_kinterp("solve", "--points", "mo_x.npy", "--values", "mo_b.npy",
                               *laplacian_args(0.1), "--alpha", alpha, "--rtol", 1e-8,
                               "--monitor", "--out", "mo_a.npy")
        self.assertConverged(run)
        iterations = int(re.search(r"after (\d+) iterations", run.stdout).group(1))
        lines = re.findall(r"^\s*iteration\s+(\d+)\s+residual\s+(\S+)\s*$", run.stdout, re.M)
        self.assertEqual([int(k) for k, _ in lines], list(range(iterations + 1)),
                         "one line per iteration, 0 (the initial residual) to the last, "
                         "printed once\n" + run.describe())
        residuals = np.array([float(r) for _, r in lines])
        # From 0 the initial residual is b: the monitor shows the worst column.
        self.assertAlmostEqual(residuals[0] / np.linalg.norm(b, axis=0).max(), 1.0, delta=1e-6)
        self.assertLessEqual(residuals[-1], 1e-8 * np.linalg.norm(b, axis=0).max())
        self.assertGreater(residuals[-2], 1e-8 * np.linalg.norm(b, axis=0).min())


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


class ReduceTest(CliTestCase):
    """`kinterp reduce`: KeOps' Genred from the command line, against numpy. Uneven row
    counts (203 i, 197 j), so that the blocks differ between ranks."""

    M, N = 203, 197

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.x = cls.rng.random((cls.M, 3))
        cls.y = cls.rng.random((cls.N, 3))
        cls.a = cls.rng.standard_normal(cls.N)
        cls.v = cls.rng.standard_normal((cls.N, 2))
        for name in ("x", "y", "a", "v"):
            np.save(os.path.join(cls.dir, "r_%s.npy" % name), getattr(cls, name))
        np.save(os.path.join(cls.dir, "r_x2.npy"), cls.x[:, :2])
        np.save(os.path.join(cls.dir, "r_y2.npy"), cls.y[:, :2])
        np.save(os.path.join(cls.dir, "r_a_short.npy"), cls.a[:-5])

    def reduce(self, formula, reduction, *arguments, dim=3, out="r_out.npy"):
        suffix = "" if dim == 3 else str(dim)
        return self.run_kinterp("reduce", "--formula", formula, "--var", "X = Vi(%d)" % dim,
                                "--var", "Y = Vj(%d)" % dim, "--reduction", reduction,
                                "--input", "X=r_x%s.npy" % suffix,
                                "--input", "Y=r_y%s.npy" % suffix, *arguments,
                                "--out", out)

    def result(self, run, columns, rows=None, name="r_out.npy"):
        self.assertExit(run, EXIT_OK)
        self.assertRegex(run.stdout, r"kinterp reduce: .* over [ij] of", run.describe())
        self.assertIn("written to " + name, run.stdout)
        out = np.load(self.path(name))
        self.assertEqual(out.dtype, np.float64)
        self.assertEqual(out.shape, (self.M if rows is None else rows, columns), run.describe())
        return out

    def test_gaussian_sum(self):
        # As predict: sum_j exp(-G |x_i - y_j|^2) a_j, with a 1-D file for A = Vj(1).
        run = self.run_kinterp("reduce", "--formula", GAUSSIAN, "--var", "X = Vi(3)", "--var",
                               "Y = Vj(3)", "--var", "A = Vj(1)", "--var", "G = Pm(1)",
                               "--param", "G=5", "--input", "X=r_x.npy", "--input", "Y=r_y.npy",
                               "--input", "A=r_a.npy", "--out", "r_sum.npy")
        self.result(run, 1, name="r_sum.npy")
        self.assertPrediction("r_sum.npy", gaussian(5)(self.x, self.y), self.a[:, None])

    def test_min_argmin_and_nearest_neighbours(self):
        d2 = squared_distances(self.x, self.y)
        out = self.result(self.reduce("SqDist(X,Y)", "Min_ArgMin"), 2)
        np.testing.assert_allclose(out[:, 0], d2.min(axis=1), rtol=1e-13, atol=1e-15)
        np.testing.assert_array_equal(out[:, 1], d2.argmin(axis=1))
        # The 3 nearest neighbours, global 0-based indices, nearest first.
        out = self.result(self.reduce("SqDist(X,Y)", "ArgKMin", "--k", 3), 3)
        np.testing.assert_array_equal(out, np.argsort(d2, axis=1)[:, :3])
        # KMin of a 2-component formula: K columns per component, ascending.
        out = self.result(self.reduce("Square(X-Y)", "KMin", "--k", 3, dim=2), 6)
        for c in range(2):
            diff = (self.x[:, None, c] - self.y[None, :, c]) ** 2
            np.testing.assert_allclose(out[:, 3 * c:3 * c + 3], np.sort(diff, axis=1)[:, :3],
                                       rtol=1e-13, atol=1e-15)

    def test_axis_0_argmin(self):
        # Over i: one row per j, the index of its nearest i.
        run = self.reduce("SqDist(X,Y)", "ArgMin", "--axis", 0)
        out = self.result(run, 1, rows=self.N)
        np.testing.assert_array_equal(out[:, 0], squared_distances(self.x, self.y).argmin(axis=0))

    def test_log_sum_exp(self):
        # exp(-1000 r^2) underflows for most pairs: only a max-shifted sum gets this right.
        run = self.reduce("-G*SqDist(X,Y)", "LogSumExp", "--var", "G = Pm(1)", "--param",
                          "G=1000")
        out = self.result(run, 1)
        f = -1000 * squared_distances(self.x, self.y)
        top = f.max(axis=1)
        want = top + np.log(np.exp(f - top[:, None]).sum(axis=1))
        np.testing.assert_allclose(out[:, 0], want, rtol=1e-12)

    def test_vector_parameter(self):
        run = self.reduce("WeightedSqDist(S,X,Y)", "Min", "--var", "S = Pm(3)", "--param",
                          "S=2,0.5,1.5")
        out = self.result(run, 1)
        s = np.array([2, 0.5, 1.5])
        want = ((self.x[:, None, :] - self.y[None, :, :]) ** 2 * s).sum(axis=2).min(axis=1)
        np.testing.assert_allclose(out[:, 0], want, rtol=1e-13, atol=1e-15)

    def test_sum_soft_max_weight(self):
        run = self.reduce("-G*SqDist(X,Y)", "SumSoftMaxWeight", "--formula2", "V", "--var",
                          "V = Vj(2)", "--var", "G = Pm(1)", "--param", "G=20", "--input",
                          "V=r_v.npy")
        out = self.result(run, 2)
        f = -20 * squared_distances(self.x, self.y)
        w = np.exp(f - f.max(axis=1, keepdims=True))
        np.testing.assert_allclose(out, (w @ self.v) / w.sum(axis=1, keepdims=True),
                                   rtol=1e-11, atol=1e-13)

    def test_float_precision(self):
        out = self.result(self.reduce("SqDist(X,Y)", "Min", "--precision", "float"), 1)
        np.testing.assert_allclose(out[:, 0], squared_distances(self.x, self.y).min(axis=1),
                                   rtol=1e-5, atol=1e-6)

    def test_bad_input(self):
        # A missing input, a wrong column count, rows that disagree, an input for a
        # parameter, an unknown variable: each says what is expected.
        run = self.run_kinterp("reduce", "--formula", "SqDist(X,Y)", "--var", "X = Vi(3)",
                               "--var", "Y = Vj(3)", "--input", "X=r_x.npy", "--out", "o.npy")
        self.assertFails(run, EXIT_USAGE, "no --input for Y = Vj(3)", "--input Y=FILE.npy")
        run = self.run_kinterp("reduce", "--formula", "SqDist(X,Y)", "--var", "X = Vi(3)",
                               "--var", "Y = Vj(3)", "--input", "X=r_x2.npy", "--input",
                               "Y=r_y.npy", "--out", "o.npy")
        self.assertFails(run, EXIT_ERROR, "X = Vi(3) needs a file with 3 columns",
                         "r_x2.npy has 2")
        run = self.run_kinterp("reduce", "--formula", "SqDist(X,Y)*A", "--var", "X = Vi(3)",
                               "--var", "Y = Vj(3)", "--var", "A = Vj(1)", "--input", "X=r_x.npy",
                               "--input", "Y=r_y.npy", "--input", "A=r_a_short.npy", "--out",
                               "o.npy")
        self.assertFails(run, EXIT_ERROR, "r_a_short.npy has %d rows" % (self.N - 5),
                         "r_y.npy has %d" % self.N)
        run = self.reduce("-G*SqDist(X,Y)", "Sum", "--var", "G = Pm(1)", "--param", "G=1",
                          "--input", "G=r_a.npy")
        self.assertFails(run, EXIT_USAGE, "G = Pm(1) is a parameter", "--param G=")
        self.assertFails(self.reduce("SqDist(X,Y)", "Sum", "--input", "Z=r_a.npy"), EXIT_USAGE,
                         "no variable Z", "X = Vi(3), Y = Vj(3)")
        self.assertFails(self.reduce("SqDist(X,Y)", "KMin", "--k", 500), EXIT_ERROR,
                         "--k 500 is more than the %d j-rows" % self.N)

    def test_bad_command_line(self):
        self.assertFails(self.reduce("SqDist(X,Y)", "Argmn"), EXIT_USAGE,
                         "unknown reduction 'Argmn'", "did you mean 'ArgMin'?")
        self.assertFails(self.reduce("SqDist(X,Y)", "KMin"), EXIT_USAGE, "KMin needs --k")
        self.assertFails(self.reduce("SqDist(X,Y)", "Min", "--k", 2), EXIT_USAGE, "--k belongs")
        self.assertFails(self.reduce("SqDist(X,Y)", "Min", "--formula2", "Y"), EXIT_USAGE,
                         "--formula2", "SumSoftMaxWeight")


class HelpTest(CliTestCase):
    """Item 6: --help of each command lists every option the command accepts."""

    SOLVE = {"points", "values", "out", "alpha", "rtol", "atol", "max-it", "initial-guess",
             "monitor", "formula", "var", "param", "kernel", "length-scale", "precision", "help",
             "precond", "rank", "precond-seed", "checkpoint", "checkpoint-every", "restart",
             "stagnation-window", "precond-memory"}
    PREDICT = {"points", "weights", "targets", "out", "formula", "var", "param", "kernel",
               "length-scale", "precision", "help"}
    REDUCE = {"formula", "formula2", "var", "param", "reduction", "k", "axis", "input", "out",
              "precision", "help"}
    KRIGE = {"points", "values", "targets", "out", "variance-out", "model", "variance",
             "length-scale", "angles", "nu", "rq-alpha", "nugget", "kriging", "mean",
             "drift-degree", "approximate-variance", "variance-batch", "variance-tolerance",
             "rtol", "atol", "max-it", "precond", "rank", "fit", "probes", "cv", "help"}

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


def iterations_of(run):
    found = re.search(r"after (\d+) iterations", run.stdout)
    assert found, run.describe()
    return int(found.group(1))


class PreconditionerTest(CliTestCase):
    """--precond: the Nystrom-preconditioned solve matches numpy's dense solve, in fewer
    iterations than plain CG."""

    def test_every_pivot_rule_matches_dense_solve(self):
        n, alpha = 1200, 1e-2
        x, b = self.rng.random((n, 2)), self.rng.standard_normal((n, 2))
        self.save("pc_x.npy", x)
        self.save("pc_b.npy", b)
        reference, lambda_max = reference_solve(gaussian(50), x, b, alpha)
        common = ["solve", "--points", "pc_x.npy", "--values", "pc_b.npy", *formula_args(2, 2, 50),
                  "--alpha", alpha, "--rtol", RTOL]
        plain = self.run_kinterp(*common, "--out", "pc_plain.npy")
        self.assertConverged(plain)
        for rule in ("rpcholesky", "greedy", "uniform"):
            out = "pc_%s.npy" % rule
            run = self.run_kinterp(*common, "--precond", rule, "--rank", 150, "--precond-seed", 7,
                                   "--out", out)
            self.assertConverged(run)
            self.assertRegex(run.stdout, r"preconditioner: Nystrom, \d+ landmarks \(%s, seed 7\)"
                             % rule)
            self.assertSolution(out, reference, alpha, b, lambda_max)
            self.assertLess(iterations_of(run), iterations_of(plain),
                            "plain:\n%s\npreconditioned:\n%s" % (plain.stdout, run.stdout))


    def test_memory_budget_bounds_the_rank(self):
        n, alpha = 1200, 1e-2
        x, b = self.rng.random((n, 2)), self.rng.standard_normal((n, 1))
        self.save("pm_x.npy", x)
        self.save("pm_b.npy", b)
        reference, lambda_max = reference_solve(gaussian(50), x, b, alpha)
        run = self.run_kinterp("solve", "--points", "pm_x.npy", "--values", "pm_b.npy",
                               *formula_args(2, 1, 50), "--alpha", alpha, "--rtol", RTOL,
                               "--precond", "rpcholesky", "--precond-memory", 0.5,
                               "--out", "pm_a.npy")
        self.assertConverged(run)
        found = re.search(r"Nystrom, (\d+) landmarks .* ([0-9.]+) MB per rank", run.stdout)
        self.assertIsNotNone(found, run.describe())
        landmarks, megabytes = int(found.group(1)), float(found.group(2))
        # F's rows on the fullest rank (8 bytes each, k of them) plus the k x k core.
        rows = -(-n // CONFIG.ranks)
        self.assertLessEqual(8 * landmarks * (rows + landmarks), 0.5e6, run.describe())
        self.assertLessEqual(megabytes, 0.5, run.describe())
        self.assertGreater(landmarks, 10, run.describe())
        self.assertSolution("pm_a.npy", reference, alpha, b, lambda_max)

    def test_memory_budget_needs_a_preconditioner(self):
        run = self.run_kinterp("solve", "--points", "pm_x.npy", "--values", "pm_b.npy",
                               "--kernel", "gaussian", "--length-scale", 0.1,
                               "--precond-memory", 10, "--out", "pm_none.npy")
        self.assertFails(run, EXIT_USAGE, "--precond-memory", "--precond rpcholesky")


class MixedPrecisionTest(CliTestCase):
    """--precision mixed: float products, the accuracy of double (float64 weights)."""

    def test_mixed_precision_meets_a_double_tolerance(self):
        n, alpha = 1500, 1.0
        x, b = self.rng.random((n, 1)), self.rng.standard_normal((n, 2))
        self.save("mx_x.npy", x)
        self.save("mx_b.npy", b)
        run = self.run_kinterp("solve", "--points", "mx_x.npy", "--values", "mx_b.npy",
                               *formula_args(1, 2, 50), "--alpha", alpha, "--rtol", RTOL,
                               "--precision", "mixed", "--out", "mx_a.npy")
        self.assertConverged(run)
        self.assertIn("mixed precision", run.stdout)
        self.assertRegex(run.stdout, r"mixed precision: \d+ kernel products in float, \d+ in double")
        reference, lambda_max = reference_solve(gaussian(50), x, b, alpha)
        self.assertSolution("mx_a.npy", reference, alpha, b, lambda_max)

    def test_unreachable_float_tolerance_prints_both_residuals(self):
        n, alpha = 1000, 1.0
        x, b = self.rng.random((n, 2)), self.rng.standard_normal(n)
        self.save("ft_x.npy", x)
        self.save("ft_b.npy", b)
        run = self.run_kinterp("solve", "--points", "ft_x.npy", "--values", "ft_b.npy",
                               *laplacian_args(0.1), "--alpha", alpha, "--rtol", 1e-12,
                               "--precision", "float", "--out", "ft_a.npy")
        self.assertExit(run, EXIT_NOT_CONVERGED)
        found = re.search(r"relative residual (\S+) \(recomputed: (\S+)\)", run.stdout)
        self.assertIsNotNone(found, run.describe())
        recurrence, recomputed = float(found.group(1)), float(found.group(2))
        self.assertGreater(recomputed, 1e-12)
        self.assertIn("note: the recurrence's residual and the recomputed", run.stdout)
        # The reported residual is that of the written weights (up to float products).
        a = np.load(self.path("ft_a.npy")).astype(np.float64)
        xf = x.astype(np.float32).astype(np.float64)
        bf = b.astype(np.float32).astype(np.float64)
        A = alpha * np.eye(n) + laplacian(0.1)(xf, xf)
        actual = np.linalg.norm(bf - A @ a) / np.linalg.norm(bf)
        self.assertLess(abs(np.log(recomputed / actual)), np.log(2.0), run.describe())
        self.assertLess(recurrence, recomputed)


class CheckpointTest(CliTestCase):
    """--checkpoint / --restart: a restarted run gives the answer and iteration count of an
    uninterrupted one; damaged or foreign checkpoints are refused with exit 1."""

    N = 1200

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        n = cls.N
        cls.x, cls.b = cls.rng.random((n, 2)), cls.rng.standard_normal((n, 2))
        np.save(os.path.join(cls.dir, "ck_x.npy"), cls.x)
        np.save(os.path.join(cls.dir, "ck_b.npy"), cls.b)
        other = cls.b.copy()
        other[5, 1] += 1e-6
        np.save(os.path.join(cls.dir, "ck_b_other.npy"), other)

    def solve(self, *arguments, values="ck_b.npy", ranks=None):
        return self.run_kinterp("solve", "--points", "ck_x.npy", "--values", values,
                                *laplacian_args(0.1), "--alpha", 0.1, "--rtol", RTOL,
                                "--precond", "rpcholesky", "--rank", 40, *arguments, ranks=ranks)

    def interrupted(self, name, iterations=15):
        run = self.solve("--max-it", iterations, "--checkpoint", name, "--checkpoint-every", 4,
                         "--out", "ck_partial.npy")
        self.assertExit(run, EXIT_NOT_CONVERGED)
        self.assertIn("checkpoints written to %s" % name, run.stdout)
        self.assertTrue(os.path.exists(self.path(name)))
        self.assertFalse(os.path.exists(self.path(name + ".tmp")), "the temporary file remains")
        return name

    def test_restart_gives_the_uninterrupted_answer(self):
        full = self.solve("--out", "ck_full.npy")
        self.assertConverged(full)
        ckpt = self.interrupted("ck_run.ckpt")
        resumed = self.solve("--restart", ckpt, "--out", "ck_resumed.npy")
        self.assertConverged(resumed)
        self.assertIn("resumed from %s at iteration 15" % ckpt, resumed.stdout)
        self.assertEqual(iterations_of(resumed), iterations_of(full))
        want, got = np.load(self.path("ck_full.npy")), np.load(self.path("ck_resumed.npy"))
        self.assertLess(np.abs(got - want).max(), 1e-13 * np.abs(want).max())
        # On another number of ranks: the same answer to the solve's accuracy.
        reference, lambda_max = reference_solve(laplacian(0.1), self.x, self.b, 0.1)
        other = self.solve("--restart", ckpt, "--out", "ck_other.npy",
                           ranks=max(1, CONFIG.ranks - 1) if CONFIG.ranks > 1 else 2)
        self.assertConverged(other)
        self.assertLessEqual(abs(iterations_of(other) - iterations_of(full)), 1)
        self.assertSolution("ck_other.npy", reference, 0.1, self.b, lambda_max)

    def test_damaged_or_foreign_checkpoints_are_refused(self):
        ckpt = self.interrupted("ck_good.ckpt", iterations=6)
        with open(self.path(ckpt), "rb") as f:
            whole = bytearray(f.read())
        with open(self.path("ck_truncated.ckpt"), "wb") as f:
            f.write(whole[:-100])
        flipped = bytearray(whole)
        flipped[len(flipped) // 2] ^= 0x20
        with open(self.path("ck_flipped.ckpt"), "wb") as f:
            f.write(flipped)
        self.assertFails(self.solve("--restart", "ck_truncated.ckpt", "--out", "o.npy"),
                         EXIT_ERROR, "ck_truncated.ckpt", "truncated")
        self.assertFails(self.solve("--restart", "ck_flipped.ckpt", "--out", "o.npy"),
                         EXIT_ERROR, "ck_flipped.ckpt", "damaged")
        self.assertFails(self.solve("--restart", "ck_x.npy", "--out", "o.npy"),
                         EXIT_ERROR, "not a kinterp checkpoint")
        self.assertFails(self.solve("--restart", "no_such.ckpt", "--out", "o.npy"),
                         EXIT_ERROR, "no_such.ckpt", "cannot open")
        self.assertFails(self.solve("--restart", ckpt, "--out", "o.npy", values="ck_b_other.npy"),
                         EXIT_ERROR, "another problem", "right-hand side")
        # Another alpha, another preconditioner seed, another precision.
        run = self.run_kinterp("solve", "--points", "ck_x.npy", "--values", "ck_b.npy",
                               *laplacian_args(0.1), "--alpha", 0.2, "--rtol", RTOL,
                               "--precond", "rpcholesky", "--rank", 40, "--restart", ckpt,
                               "--out", "o.npy")
        self.assertFails(run, EXIT_ERROR, "another problem")
        self.assertFails(self.solve("--restart", ckpt, "--precond-seed", 1, "--out", "o.npy"),
                         EXIT_ERROR, "another problem")
        self.assertFails(self.solve("--restart", ckpt, "--precision", "float", "--out", "o.npy"),
                         EXIT_ERROR, "another problem", "float32")


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
        rows = {}
        for line in run.stdout.split("log view")[1].splitlines()[2:]:
            fields = line.rsplit(None, 4)
            if len(fields) == 5:
                rows[fields[0].strip()] = [float(v.rstrip("%")) for v in fields[1:]]
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


# ---- krige ---------------------------------------------------------------------------------

def matern32_anisotropic(variance, length_scales, angle):
    """C(x, y) for the 2D anisotropic Matern 3/2 with the first axis at `angle` radians."""
    c, s = np.cos(angle), np.sin(angle)
    rotation = np.array([[c, -s], [s, c]])

    def covariance(a, b):
        ua, ub = a @ rotation / length_scales, b @ rotation / length_scales
        r = np.sqrt(np.maximum(squared_distances(ua, ub), 0))
        return variance * (1 + np.sqrt(3) * r) * np.exp(-np.sqrt(3) * r)
    return covariance


def reference_kriging(covariance, nugget, x, z, t, drift=None, mean=0.0):
    """The kriging equations solved densely: mean and variance at t (drift: None for
    simple kriging with `mean`, else a function of the points giving P)."""
    K = covariance(x, x) + nugget * np.eye(len(x))
    k = covariance(x, t)
    if drift is None:
        w = np.linalg.solve(K, z - mean)
        return mean + k.T @ w, covariance(t[:1], t[:1])[0, 0] - np.sum(k * np.linalg.solve(K, k), 0)
    P, Pt = drift(x), drift(t)
    Ki_z, Ki_P, Ki_k = np.linalg.solve(K, z), np.linalg.solve(K, P), np.linalg.solve(K, k)
    G = P.T @ Ki_P
    beta = np.linalg.solve(G, P.T @ Ki_z)
    m = Pt @ beta + k.T @ (Ki_z - Ki_P @ beta)
    u = Pt.T - P.T @ Ki_k
    v = covariance(t[:1], t[:1])[0, 0] - np.sum(k * Ki_k, 0) + np.sum(u * np.linalg.solve(G, u), 0)
    return m, v


class KrigeTest(CliTestCase):
    """kinterp krige: mean and variance against numpy's dense kriging equations and
    scikit-learn's GaussianProcessRegressor; hyperparameters against scikit-learn."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.x = cls.rng.random((400, 2))
        cls.z = (np.sin(5 * cls.x[:, 0]) * np.cos(3 * cls.x[:, 1]) + 2 * cls.x[:, 0] +
                 0.05 * cls.rng.standard_normal(400))
        cls.t = cls.rng.random((70, 2)) * 1.2 - 0.1
        for name, array in (("x", cls.x), ("z", cls.z), ("t", cls.t)):
            np.save(os.path.join(cls.dir, "k%s.npy" % name), array)

    def krige(self, *options, name="k"):
        return self.run_kinterp("krige", "--points", "kx.npy", "--values", "kz.npy",
                                "--targets", "kt.npy", "--out", name + "_mean.npy",
                                "--variance-out", name + "_var.npy", *options)

    def assertKriging(self, name, mean, variance, tolerance):
        got_mean, got_variance = (np.load(self.path(name + s)) for s in ("_mean.npy", "_var.npy"))
        self.assertEqual(got_mean.shape, (len(self.t),))
        self.assertEqual(got_variance.shape, (len(self.t),))
        np.testing.assert_allclose(got_mean, mean, rtol=0, atol=tolerance)
        np.testing.assert_allclose(got_variance, variance, rtol=0, atol=tolerance)

    def test_simple_ordinary_and_universal_kriging_match_the_dense_equations(self):
        covariance = matern32_anisotropic(2.0, np.array([0.3, 0.1]), np.radians(30))
        model = ["--model", "matern32", "--variance", 2, "--length-scale", "0.3,0.1",
                 "--angles", 30, "--nugget", 1e-3, "--rtol", 1e-11, "--variance-tolerance", 0,
                 "--variance-batch", 16]
        linear = lambda p: np.column_stack([np.ones(len(p)), p])
        for kind, extra, drift in (("simple", ["--mean", 1.5], None),
                                   ("ordinary", [], lambda p: np.ones((len(p), 1))),
                                   ("universal", ["--drift-degree", 1], linear)):
            run = self.krige(*model, "--kriging", kind, *extra, name="k_" + kind)
            self.assertExit(run, EXIT_OK)
            mean, variance = reference_kriging(covariance, 1e-3, self.x, self.z, self.t, drift,
                                               mean=1.5)
            self.assertKriging("k_" + kind, mean, variance, 1e-7)

    def test_approximate_variance_is_a_lower_bound_within_the_printed_gap(self):
        common = ["--model", "gaussian", "--length-scale", 0.2, "--nugget", 1e-2, "--rank", 30]
        self.assertExit(self.krige(*common, name="k_exact"), EXIT_OK)
        run = self.krige(*common, "--approximate-variance", name="k_approx")
        self.assertExit(run, EXIT_OK)
        gap = float(re.search(r"by at most ([0-9.e+-]+)", run.stdout).group(1))
        exact, approx = (np.load(self.path(n)) for n in ("k_exact_var.npy", "k_approx_var.npy"))
        self.assertTrue(np.all(approx <= exact + 1e-9), run.describe())
        self.assertLessEqual(np.max(exact - approx), gap * (1 + 1e-3), run.describe())
        self.assertGreater(np.max(exact - approx), 0, run.describe())

    @unittest.skipIf(bessel_kv is None, "scipy is not installed")
    def test_matern_of_any_nu_matches_scipy_bessel(self):
        nu, length_scale = 1.2, 0.2

        def covariance(a, b):
            r = np.sqrt(np.maximum(squared_distances(a, b), 0)) * np.sqrt(2 * nu) / length_scale
            with np.errstate(invalid="ignore"):
                c = 2 ** (1 - nu) / gamma_function(nu) * r ** nu * bessel_kv(nu, r)
            return np.where(r == 0, 1.0, c)
        run = self.krige("--model", "matern", "--nu", nu, "--length-scale", length_scale,
                         "--nugget", 1e-3, "--kriging", "ordinary", "--rtol", 1e-11,
                         "--variance-tolerance", 0, name="k_nu")
        self.assertExit(run, EXIT_OK)
        mean, variance = reference_kriging(covariance, 1e-3, self.x, self.z, self.t,
                                           lambda p: np.ones((len(p), 1)))
        self.assertKriging("k_nu", mean, variance, 1e-7)

    def test_cross_validation_matches_numpy_refits(self):
        common = ["--length-scale", 0.2, "--nugget", 1e-3, "--kriging", "ordinary", "--cv", 4]
        closed = self.krige("--model", "matern32", *common, name="k_m32")
        self.assertExit(closed, EXIT_OK)
        # The cross-validation RMSE of 4 folds by refits, against numpy's.
        covariance = matern32_anisotropic(1.0, np.array([0.2, 0.2]), 0.0)
        errors = []
        for f in range(4):
            held = np.arange(len(self.x)) % 4 == f
            m, _ = reference_kriging(covariance, 1e-3, self.x[~held], self.z[~held], self.x[held],
                                     lambda p: np.ones((len(p), 1)))
            errors.append(self.z[held] - m)
        rmse = float(re.search(r"RMSE ([0-9.e+-]+)", closed.stdout).group(1))
        self.assertAlmostEqual(rmse, np.sqrt(np.mean(np.concatenate(errors) ** 2)), delta=1e-5)

    @unittest.skipUnless(has_scikit_learn, "scikit-learn is not installed")
    def test_agrees_with_scikit_learn(self):
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        # Fixed kernel: the same mean and standard deviation (simple kriging, mean 0).
        kernel = ConstantKernel(1.5, "fixed") * Matern(0.25, "fixed", nu=1.5)
        gp = GaussianProcessRegressor(kernel, alpha=1e-2, optimizer=None).fit(self.x, self.z)
        mean, std = gp.predict(self.t, return_std=True)
        run = self.krige("--model", "matern32", "--variance", 1.5, "--length-scale", 0.25,
                         "--nugget", 1e-2, "--kriging", "simple", "--rtol", 1e-11,
                         "--variance-tolerance", 0, name="k_sk")
        self.assertExit(run, EXIT_OK)
        self.assertKriging("k_sk", mean, std ** 2, 1e-7)
        # Fitted kernel: kinterp's fitted parameters have a likelihood, by scikit-learn's
        # own exact computation, at least as high as scikit-learn's optimum (to 1e-3).
        kernel = ConstantKernel(1.0) * Matern(0.3, nu=1.5) + WhiteKernel(1e-2)
        fitted = GaussianProcessRegressor(kernel, alpha=0).fit(self.x, self.z)
        run = self.krige("--model", "matern32", "--length-scale", 0.3, "--nugget", 1e-2,
                         "--kriging", "simple", "--fit", "all", name="k_fit")
        self.assertExit(run, EXIT_OK)
        found = re.search(r"fitted: variance ([0-9.e+-]+), length scale ([0-9.e+-]+), "
                          r"nugget ([0-9.e+-]+)", run.stdout)
        self.assertIsNotNone(found, run.describe())
        theta = np.log([float(v) for v in found.groups()])
        ours = fitted.log_marginal_likelihood(theta)
        best = fitted.log_marginal_likelihood_value_
        self.assertGreaterEqual(ours, best - 1e-3 * abs(best),
                                "kinterp %s vs scikit-learn %s\n%s" % (ours, best, run.stdout))

    def test_bad_input_is_reported(self):
        cases = [
            (["--model", "matern", "--length-scale", 0.1], EXIT_USAGE, ["--nu"]),
            (["--model", "gaussian", "--length-scale", 0.1, "--mean", 1], EXIT_USAGE,
             ["--kriging simple"]),
            (["--model", "gaussian", "--length-scale", "0.1,0.2,0.3"], EXIT_USAGE,
             ["one length scale or one per axis (2 for these points)"]),
            (["--model", "gaussian", "--length-scale", 0.1, "--kriging", "ordinay"], EXIT_USAGE,
             ["did you mean 'ordinary'"]),
            (["--model", "gaussian", "--length-scale", 0.1, "--fit", "sill"], EXIT_USAGE,
             ["--fit takes a list"]),
            (["--model", "gaussian", "--length-scale", 0.1, "--nugget", -1], EXIT_USAGE,
             ["nugget must be a finite number >= 0"]),
        ]
        for options, status, fragments in cases:
            self.assertFails(self.krige(*options, name="k_bad"), status, *fragments)
        np.save(self.path("kt3.npy"), np.zeros((5, 3)))
        run = self.run_kinterp("krige", "--points", "kx.npy", "--values", "kz.npy", "--targets",
                               "kt3.npy", "--model", "gaussian", "--length-scale", 0.1,
                               "--out", "k_bad.npy")
        self.assertFails(run, EXIT_ERROR, "3 coordinates per point but --points has 2")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kinterp", required=True, help="the kinterp executable")
    parser.add_argument("--ranks", type=int, default=1)
    parser.add_argument("--mpiexec", default="mpiexec")
    parser.add_argument("--numproc-flag", default="-n")
    parser.add_argument("--preflag", dest="preflags", action="append", default=[],
                        help="an mpiexec flag before the executable (repeat)")
    parser.add_argument("--postflag", dest="postflags", action="append", default=[],
                        help="an mpiexec flag after the executable (repeat)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds before one run of kinterp counts as hung")
    parser.add_argument("--shard", default="1/1", metavar="K/N",
                        help="run the K-th of N shares of the test classes (each class whole, "
                             "so its set-up runs once); the N shares together run every class")
    parser.add_argument("--skip", action="append", default=[], metavar="CLASS[.TEST]",
                        help="leave out this test class or test (repeat)")
    options, rest = parser.parse_known_args()
    vars(CONFIG).update(vars(options))
    CONFIG.kinterp = os.path.abspath(CONFIG.kinterp)
    try:
        shard, shards = (int(part) for part in options.shard.split("/"))
        if not 1 <= shard <= shards:
            raise ValueError
    except ValueError:
        parser.error("--shard takes K/N with 1 <= K <= N, got '%s'" % options.shard)
    classes = sorted(name for name, value in globals().items()
                     if isinstance(value, type) and issubclass(value, CliTestCase) and
                     value is not CliTestCase)
    tests = {name: ["%s.%s" % (name, test) for test in
                    unittest.defaultTestLoader.getTestCaseNames(globals()[name])]
             for name in classes}
    unknown = set(options.skip) - set(classes) - {t for names in tests.values() for t in names}
    if unknown:
        parser.error("--skip: no test class or test %s" % ", ".join(sorted(unknown)))
    mine = [name for name in classes if name not in options.skip][shard - 1::shards]
    selected = [t for name in mine for t in tests[name] if t not in options.skip]
    if not selected:  # unittest.main would then run every test
        parser.error("--shard %s --skip ...: this share has no test left" % options.shard)
    print("kinterp CLI tests: %s on %d rank(s) via %s; %s" % (
        CONFIG.kinterp, CONFIG.ranks, CONFIG.mpiexec, ", ".join(mine)), flush=True)
    # Without --shard or --skip, unittest's own arguments (test names, -k) select as usual.
    narrowed = shards > 1 or options.skip
    unittest.main(argv=[sys.argv[0]] + rest + (selected if narrowed else []), verbosity=2)


if __name__ == "__main__":
    main()
