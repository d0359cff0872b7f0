"""What the end-to-end tests of the `kinterp` tool share (the test_*.py files here).

Each test file runs `mpiexec -n P kinterp ...` on small problems written as .npy files and
checks what it writes against numpy in float64: a dense solve of (alpha I + K) a = b, and
K(t, x) @ a for predictions. Because every rank count is checked against the same numpy
numbers, passing for P = 1, 3 and 4 means the rank counts agree. Bad input must give the
documented exit status and a message that says what is wrong, and every run has a time
limit, so a hang fails.

Each file runs alone, with the same command line (see main()):

    python3 tests/cli/test_solve.py --kinterp build/apps/kinterp --ranks 3 \
        --mpiexec mpiexec --numproc-flag=-n --preflag=--oversubscribe

Only the standard library and numpy; h5py, when /usr/bin/python3 has it, for the
HDF5 files (test_input_output.py), SciPy and scikit-learn for two references
(test_krige.py); the tests that need them are skipped without them.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
import mpi_exit_crash  # noqa: E402  (tests/, beside this directory)

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
    the time limit is killed and fails the test. A run that shows Open MPI's crash in
    MPI_Finalize (crashed_in_mpi_finalize) is run once more, and says so on stderr."""
    ranks = CONFIG.ranks if ranks is None else ranks
    command = ([CONFIG.mpiexec, CONFIG.numproc_flag, str(ranks)] + CONFIG.preflags +
               [CONFIG.kinterp] + CONFIG.postflags + [str(a) for a in arguments])
    run = run_once(command, cwd, timeout, env)
    if crashed_in_mpi_finalize(run):
        sys.stderr.write("\nkinterp died on SIGSEGV after Open MPI had closed its backtrace "
                         "component (open-mpi/ompi#10117, about 1 launch in 1000 with Open MPI "
                         "4.1); running it once more. The crashed run:\n%s\n" % run.describe())
        run = run_once(command, cwd, timeout, env)
    return run


def crashed_in_mpi_finalize(run):
    """Open MPI 4.1's known exit crash (tests/mpi_exit_crash.py says how it is recognised)."""
    return mpi_exit_crash.crashed_in_mpi_finalize(run.returncode, run.stderr)


def run_once(command, cwd, timeout, env):
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


def log_view_rows(stdout):
    """--log-view's table: {phase: [min, max, average, share]}."""
    rows = {}
    for line in stdout.split("log view")[1].splitlines()[2:]:
        fields = line.rsplit(None, 4)
        if len(fields) == 5:
            rows[fields[0].strip()] = [float(v.rstrip("%")) for v in fields[1:]]
    return rows


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


# ---- The test classes' base -------------------------------------------------------------------


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


# ---- The command line of every test file ---------------------------------------------------


def main(test_file):
    """Runs the CliTestCase classes of `test_file` (the globals() of the file run as a script)
    as its command line asks: the options below, then unittest's (test names, -k)."""
    parser = argparse.ArgumentParser(description=test_file["__doc__"].split("\n\n")[0])
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
    classes = sorted(name for name, value in test_file.items()
                     if isinstance(value, type) and issubclass(value, CliTestCase) and
                     value is not CliTestCase)
    tests = {name: ["%s.%s" % (name, test) for test in
                    unittest.defaultTestLoader.getTestCaseNames(test_file[name])]
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
