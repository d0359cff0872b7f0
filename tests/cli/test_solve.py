#!/usr/bin/env python3
"""End-to-end tests of `kinterp solve`: its weights against numpy's dense solve.

Every kernel path and precision, fewer points than ranks, the not-converged exits, the
monitor's lines, the preconditioner, mixed precision and the checkpoints.

    python3 tests/cli/test_solve.py --kinterp build/apps/kinterp --ranks 3 \
        --mpiexec mpiexec --numproc-flag=-n --preflag=--oversubscribe

The options, the helpers and the numpy references: cli_support.py.
"""

import os
import re

import numpy as np

from cli_support import (CONFIG, SAFETY, EXIT_ERROR, EXIT_NOT_CONVERGED, EXIT_OK, EXIT_USAGE, RTOL,
                         CliTestCase, formula_args, gaussian, gaussian_length_scale, laplacian,
                         laplacian_args, log_view_rows, main, reference_cg, reference_solve)


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


    def test_vecchia_matches_dense_solve(self):
        # Matern 3/2 at a short length scale and a small alpha: where plain CG
        # crawls and a Vecchia factor takes most of the system.
        n, alpha = 1500, 1e-3
        x, b = self.rng.random((n, 2)), self.rng.standard_normal((n, 1))
        self.save("pv_x.npy", x)
        self.save("pv_b.npy", b)
        length = 0.05
        g = np.sqrt(3) / length
        r = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
        K = (1 + g * r) * np.exp(-g * r)
        reference = np.linalg.solve(K + alpha * np.eye(n), b)
        lambda_max = np.linalg.eigvalsh(K)[-1]
        common = ["solve", "--points", "pv_x.npy", "--values", "pv_b.npy", "--kernel",
                  "matern32", "--length-scale", length, "--alpha", alpha, "--rtol", RTOL]
        run = self.run_kinterp(*common, "--precond", "vecchia", "--neighbors", 20,
                               "--out", "pv_a.npy")
        self.assertConverged(run)
        self.assertRegex(run.stdout, r"preconditioner: Vecchia, 20 neighbors \([0-9.]+ on average")
        # Over several ranks the sets reach other ranks' points: the halo is reported.
        if CONFIG.ranks > 1:
            self.assertRegex(run.stdout, r"levels, a halo of [1-9][0-9]* points\)")
        else:
            self.assertNotIn("halo", run.stdout)
        self.assertSolution("pv_a.npy", reference, alpha, b, lambda_max)
        # Plain CG needs over 1000 iterations here; the factor, 11 on 1-4 ranks.
        self.assertLess(iterations_of(run), 40, run.describe())

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


class TreeSolveTest(CliTestCase):
    """--product tree: the solve meets rtol within the bound it reports on its products."""

    def test_tree_solve_meets_rtol_within_its_reported_bound(self):
        n, alpha, s = 2500, 0.5, 0.05
        x, b = self.rng.random((n, 2)), self.rng.standard_normal(n)
        self.save("tree_x.npy", x)
        self.save("tree_b.npy", b)
        run = self.run_kinterp("solve", "--points", "tree_x.npy", "--values", "tree_b.npy",
                               "--kernel", "gaussian", "--length-scale", s, "--alpha", alpha,
                               "--rtol", RTOL, "--product", "tree", "--product-tolerance", 1e-12,
                               "--out", "tree_a.npy", "--log-view")
        self.assertConverged(run)
        # --log-view splits the tree's computing into readying the blocks and the sums.
        rows = log_view_rows(run.stdout)
        average = {phase: rows[phase][2] for phase in (
            "computing", "proxy charges, passing targets", "near and far fields")}
        self.assertAlmostEqual(average["computing"], average["near and far fields"] +
                               average["proxy charges, passing targets"], delta=2e-3)
        self.assertIn("kernel products: tree (eps 1e-12", run.stdout)
        found = re.search(r"the exact one is within ([0-9.e+-]+) of it", run.stdout)
        self.assertIsNotNone(found, "no bound on the residual\n" + run.describe())
        a = np.load(self.path("tree_a.npy"))
        exact = np.linalg.norm(b - alpha * a - gaussian_length_scale(s)(x, x) @ a)
        self.assertLessEqual(exact / np.linalg.norm(b), SAFETY * RTOL + float(found.group(1)),
                             run.describe())

    def test_auto_takes_direct_below_its_threshold(self):
        x, b = self.rng.random((300, 2)), self.rng.standard_normal(300)
        self.save("auto_x.npy", x)
        self.save("auto_b.npy", b)
        run = self.run_kinterp("solve", "--points", "auto_x.npy", "--values", "auto_b.npy",
                               "--kernel", "gaussian", "--length-scale", 0.1, "--alpha", 1,
                               "--out", "auto_a.npy")
        self.assertConverged(run)
        self.assertIn("kernel products: direct\n", run.stdout)


if __name__ == "__main__":
    main(globals())
