#!/usr/bin/env python3
"""End-to-end tests of `kinterp predict`: its values against K(t, x) @ a.

Also solve and predict through the generic evaluator (formulas outside the compiled
families).

    python3 tests/cli/test_predict.py --kinterp build/apps/kinterp --ranks 3 \
        --mpiexec mpiexec --numproc-flag=-n --preflag=--oversubscribe

The options, the helpers and the numpy references: cli_support.py.
"""

import os

import numpy as np

from cli_support import (EXIT_ERROR, EXIT_OK, EXIT_USAGE, RTOL, CliTestCase, formula_args,
                         gaussian, gaussian_length_scale, laplacian, laplacian_args, log_view_rows,
                         main, reference_solve, squared_distances)


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


class GradientTest(CliTestCase):
    """Issue 17: `predict --gradient` against numpy's derivative of the model
    sum_j k(t, x_j) a_j, column k d + l = d/dt_l of output k."""

    def gradient_case(self, tag, x, a, t, kernel_args, slope, expect=EXIT_OK):
        """slope(t, x, r) is k'(r) / r: the kernel's gradient is slope * (t - x)."""
        for suffix, array in (("_x.npy", x), ("_a.npy", a), ("_t.npy", t)):
            self.save(tag + suffix, array)
        run = self.run_kinterp("predict", "--points", tag + "_x.npy", "--weights",
                               tag + "_a.npy", "--targets", tag + "_t.npy", *kernel_args,
                               "--gradient", "--out", tag + "_g.npy")
        if expect != EXIT_OK:
            return run
        self.assertExit(run, EXIT_OK)
        self.assertIn("gradients written", run.stdout, run.describe())
        got = np.load(self.path(tag + "_g.npy"))
        d, a2 = x.shape[1], a.reshape(len(x), -1)
        self.assertEqual(got.shape, (len(t), d * a2.shape[1]))
        r = np.sqrt(squared_distances(t, x))
        s = slope(t, x, r)
        for k in range(a2.shape[1]):
            for l in range(d):
                terms = s * (t[:, l:l + 1] - x[:, l][None, :])
                expected = terms @ a2[:, k]
                bound = 1e-12 * (np.abs(terms) @ np.abs(a2[:, k])).max()
                error = np.abs(got[:, k * d + l] - expected).max()
                self.assertLessEqual(error, bound, f"{tag}: column {k * d + l}")
        return got

    def test_seed_model_gradient(self):
        """A fitted 2D Gaussian model (the seed's kind), on a grid of targets."""
        n, s, alpha = 800, 0.1, 1.0
        x, b = self.rng.random((n, 2)), self.rng.standard_normal(n)
        grid = np.stack(np.meshgrid(np.linspace(0, 1, 21), np.linspace(0, 1, 21)), -1)
        t = grid.reshape(-1, 2)
        self.save("gs_x.npy", x)
        self.save("gs_b.npy", b)
        kernel_args = ["--kernel", "gaussian", "--length-scale", repr(s)]
        run = self.run_kinterp("solve", "--points", "gs_x.npy", "--values", "gs_b.npy",
                               *kernel_args, "--alpha", alpha, "--rtol", RTOL, "--out",
                               "gs_a.npy")
        self.assertConverged(run)
        a = np.load(self.path("gs_a.npy"))
        slope = lambda t, x, r: -np.exp(-r * r / (2 * s * s)) / (s * s)  # noqa: E731
        got = self.gradient_case("gs", x, a, t, kernel_args, slope)
        # numpy's derivative of the dense interpolant, to the solve's accuracy.
        dense, _ = reference_solve(gaussian_length_scale(s), x, b, alpha)
        r = np.sqrt(squared_distances(t, x))
        for l in range(2):
            want = (slope(t, x, r) * (t[:, l:l + 1] - x[:, l][None, :])) @ dense
            self.assertLess(np.abs(got[:, l] - want).max(), 1e-6 * np.abs(want).max())

    def test_matern32_at_the_points(self):
        """Matern 3/2 is smooth at r = 0: its gradient at the points themselves is exact."""
        n, s = 500, 0.2
        x, a = self.rng.random((n, 3)), self.rng.standard_normal((n, 2))
        t = np.vstack([self.rng.random((100, 3)), x[:50]])
        c = np.sqrt(3) / s
        self.gradient_case("gm", x, a, t, ["--kernel", "matern32", "--length-scale", repr(s)],
                           lambda t, x, r: -c * c * np.exp(-c * r))

    def test_laplacian_off_and_on_the_points(self):
        n, s = 400, 0.3
        x, a = self.rng.random((n, 2)), self.rng.standard_normal(n)
        t = self.rng.random((150, 2)) + 2  # away from every point
        self.gradient_case("gl", x, a, t, laplacian_args(s),
                           lambda t, x, r: -np.exp(-r / s) / (s * r))
        run = self.gradient_case("gl2", x, a, np.vstack([t, x[:3]]), laplacian_args(s), None,
                                 expect=EXIT_ERROR)
        self.assertFails(run, EXIT_ERROR, "cusp at r = 0", "3 target(s) coincide")

    def test_generic_formula(self):
        n = 300
        x, a = self.rng.random((n, 2)), self.rng.standard_normal(n)
        t = self.rng.random((120, 2))

        def slope(t, x, r):
            r2 = r * r
            return -40 * np.exp(-20 * r2) - 40 / (1 + 20 * r2) ** 2

        self.gradient_case("gg", x, a, t,
                           ["--formula", GenericFormulaTest.FORMULA] + GenericFormulaTest.ALIASES,
                           slope)

    def test_float(self):
        """Float data: within 1e-5 of sum_j |d/dt_l k(t, x_j)| |a_j| (measured 7e-7)."""
        n, s = 2000, 0.05
        x, a, t = self.rng.random((n, 2)), self.rng.standard_normal(n), self.rng.random((200, 2))
        for suffix, array in (("_x.npy", x), ("_a.npy", a), ("_t.npy", t)):
            self.save("gf32" + suffix, array)
        run = self.run_kinterp("predict", "--points", "gf32_x.npy", "--weights", "gf32_a.npy",
                               "--targets", "gf32_t.npy", "--kernel", "gaussian",
                               "--length-scale", repr(s), "--precision", "float", "--gradient",
                               "--out", "gf32_g.npy")
        self.assertExit(run, EXIT_OK)
        got = np.load(self.path("gf32_g.npy"))
        self.assertEqual(got.dtype, np.float32)
        x, a, t = (v.astype(np.float32).astype(np.float64) for v in (x, a, t))
        psi = np.exp(-squared_distances(t, x) / (2 * s * s)) / (s * s)
        for l in range(2):
            terms = -psi * (t[:, l:l + 1] - x[:, l][None, :])
            error = np.abs(got[:, l] - terms @ a) / (np.abs(terms) @ np.abs(a))
            self.assertLessEqual(error.max(), 1e-5)

    def compiled_case(self, tag, kernel, s, slope, precision, extra=()):
        """The compiled route (phi'(r)/r = slope(r) a compiled family) on targets
        among the points: returns the gradient, the expected one and the scale of
        its rounding, sum_j |slope| |a_j| (|t - o| + |x_j - o|) (o the points' mean)."""
        n = 4000
        x, a, t = self.rng.random((n, 2)), self.rng.standard_normal(n), self.rng.random((300, 2))
        dtype = np.float32 if precision == "float" else np.float64
        for suffix, array in (("_x.npy", x), ("_a.npy", a), ("_t.npy", t)):
            self.save(tag + suffix, array.astype(dtype))
        run = self.run_kinterp("predict", "--points", tag + "_x.npy", "--weights", tag + "_a.npy",
                               "--targets", tag + "_t.npy", "--kernel", kernel, "--length-scale",
                               repr(s), "--precision", precision, *extra, "--gradient", "--out",
                               tag + "_g.npy")
        self.assertExit(run, EXIT_OK)
        self.assertIn("gradient through the", run.stdout, run.describe())
        got = np.load(self.path(tag + "_g.npy")).astype(np.float64)
        x, a, t = (v.astype(dtype).astype(np.float64) for v in (x, a, t))
        slopes = slope(np.sqrt(squared_distances(t, x)))
        o = x.mean(axis=0)
        want = np.stack([(slopes * (t[:, l:l + 1] - x[:, l][None, :])) @ a for l in range(2)], 1)
        scale = np.stack([np.abs(slopes) @ np.abs(a) * np.abs(t[:, l] - o[l]) +
                          np.abs(slopes) @ np.abs(a * (x[:, l] - o[l])) for l in range(2)], 1)
        return run, got, want, scale

    def test_tree_product(self):
        """The compiled route takes the tree: within its bound."""
        s, eps = 0.05, 1e-9
        for kernel, slope in (("gaussian", lambda r: -np.exp(-r * r / (2 * s * s)) / (s * s)),
                              ("laplacian", lambda r: -np.exp(-r / s) / (s * r))):
            run, got, want, scale = self.compiled_case(
                "gtr_" + kernel, kernel, s, slope, "double",
                ["--product", "tree", "--product-tolerance", repr(eps)])
            self.assertIn("tree", run.stdout, run.describe())
            self.assertLessEqual((np.abs(got - want) / scale).max(), 2 * eps, kernel)

    def test_laplacian_kernel_among_the_points(self):
        """The laplacian kernel's phi'(r)/r = -exp(-r/s) / (s r) is large near a
        point: S_0 and S_1 cancel, and the error is float's rounding of
        sum_j |psi| |a_j| (|t - o| + |x_j - o|), up to eps |t - o| / r of the
        nearest term (as much as rounding the coordinates to float moves it)."""
        s = 0.1
        for precision, unit in (("double", 2.0**-53), ("float", 2.0**-24)):
            _, got, want, scale = self.compiled_case(
                "glp_" + precision, "laplacian", s, lambda r: -np.exp(-r / s) / (s * r), precision)
            self.assertLessEqual((np.abs(got - want) / scale).max(), 16 * unit, precision)

    def test_refusals(self):
        x, a = self.rng.random((30, 2)), self.rng.standard_normal(30)
        run = self.gradient_case("gt", x, a, x + 2,
                                 ["--kernel", "spherical", "--length-scale", "0.5", "--product",
                                  "tree"], None, expect=EXIT_ERROR)
        self.assertFails(run, EXIT_ERROR, "runs on the generic evaluator", "drop the tree")


class LaplacianTest(CliTestCase):
    """Issue 17: `predict --laplacian` against fourth-order central differences of
    the model sum_j k(t, x_j) a_j in numpy."""

    def laplacian_case(self, tag, x, a, t, kernel_args, kernel, h, rtol, expect=EXIT_OK):
        for suffix, array in (("_x.npy", x), ("_a.npy", a), ("_t.npy", t)):
            self.save(tag + suffix, array)
        run = self.run_kinterp("predict", "--points", tag + "_x.npy", "--weights",
                               tag + "_a.npy", "--targets", tag + "_t.npy", *kernel_args,
                               "--laplacian", "--out", tag + "_l.npy")
        if expect != EXIT_OK:
            return run
        self.assertExit(run, EXIT_OK)
        got = np.load(self.path(tag + "_l.npy"))
        self.assertEqual(got.shape, (len(t),) + a.shape[1:])
        model = lambda u: kernel(u, x) @ a  # noqa: E731
        want = 0
        for l in range(x.shape[1]):
            e = np.zeros(x.shape[1])
            e[l] = h
            want = want + (16 * (model(t + e) + model(t - e)) - model(t + 2 * e) -
                           model(t - 2 * e) - 30 * model(t)) / (12 * h * h)
        scale = np.abs(want).max()
        self.assertLessEqual(np.abs(got - want).max(), rtol * scale, tag)
        return run

    def test_smooth_kernels_off_and_on_the_points(self):
        n, s = 600, 0.2
        x = self.rng.random((n, 2))
        a = self.rng.standard_normal((n, 2))
        # Beside the points (at least 0.05 away), where the differences are smooth.
        off = self.rng.random((80, 2)) * [0.3, 1] + [1.05, 0]
        c3, c5 = np.sqrt(3) / s, np.sqrt(5) / s

        def matern32(t, x):
            r = np.sqrt(squared_distances(t, x)) * c3
            return (1 + r) * np.exp(-r)

        def matern52(t, x):
            r = np.sqrt(squared_distances(t, x)) * c5
            return (1 + r + r * r / 3) * np.exp(-r)

        def cauchy(t, x):
            return 1 / (1 + squared_distances(t, x) / (s * s))

        cases = (("gaussian", gaussian_length_scale(s)), ("matern32", matern32),
                 ("matern52", matern52), ("cauchy", cauchy))
        for name, kernel in cases:
            args = ["--kernel", name, "--length-scale", repr(s)]
            run = self.laplacian_case("lo" + name, x, a, off, args, kernel, 1e-3, 1e-7)
            self.assertIn("closed form", run.stdout, run.describe())
            # At the points themselves (the kernels are twice differentiable at 0;
            # Matern's r^3 term costs the differences O(h)).
            self.laplacian_case("lp" + name, x, a, x[:40], args, kernel, 1e-4, 2e-3)

    def test_laplacian_kernel_and_formula(self):
        n, s = 400, 0.3
        x, a = self.rng.random((n, 2)), self.rng.standard_normal(n)
        t = self.rng.random((60, 2)) + 2
        run = self.laplacian_case("ll", x, a, t, laplacian_args(s), laplacian(s), 1e-3, 1e-7)
        self.assertIn("symbolic", run.stdout, run.describe())
        run = self.laplacian_case("ll2", x, a, x[:2], laplacian_args(s), None, 0, 0,
                                  expect=EXIT_ERROR)
        self.assertFails(run, EXIT_ERROR, "no Laplacian at its points", "2 target(s)")
        self.laplacian_case("lf", x, a, self.rng.random((60, 2)),
                            ["--formula", GenericFormulaTest.FORMULA] + GenericFormulaTest.ALIASES,
                            GenericFormulaTest.kernel, 1e-3, 1e-7)
        run = self.run_kinterp("predict", "--points", "ll_x.npy", "--weights", "ll_a.npy",
                               "--targets", "ll_t.npy", *laplacian_args(s), "--laplacian",
                               "--gradient", "--out", "ll_b.npy")
        self.assertFails(run, EXIT_USAGE, "choose one")


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

    def test_per_point_inputs_solve_and_reduce_predicts(self):
        # Gibbs' kernel of a bandwidth per point, an i-variable L and its j-twin M
        # given the same rows: 2 l_i l_j / (l_i^2 + l_j^2) exp(-r^2 / (l_i^2 + l_j^2)).
        n, alpha = 400, 0.1
        x, b, t = self.rng.random((n, 2)), self.rng.standard_normal(n), self.rng.random((150, 2))
        l, lt = 0.1 + 0.3 * self.rng.random(n), 0.1 + 0.3 * self.rng.random(150)
        for name, array in (("gi_x.npy", x), ("gi_b.npy", b), ("gi_t.npy", t),
                            ("gi_l.npy", l), ("gi_lt.npy", lt)):
            self.save(name, array)

        def gibbs(li, lj):
            q = li[:, None] ** 2 + lj[None, :] ** 2
            return lambda t, x: 2 * np.outer(li, lj) / q * np.exp(-squared_distances(t, x) / q)

        formula = ["--formula", "2*L*M/(L*L+M*M) * Exp(-SqDist(X,Y)/(L*L+M*M)) * A",
                   "--var", "X = Vi(2)", "--var", "Y = Vj(2)", "--var", "A = Vj(1)",
                   "--var", "L = Vi(1)", "--var", "M = Vj(1)"]
        solve = ["solve", "--points", "gi_x.npy", "--values", "gi_b.npy", *formula,
                 "--alpha", alpha, "--rtol", RTOL]
        run = self.run_kinterp(*solve, "--input", "L=gi_l.npy", "--input", "M=gi_l.npy",
                               "--out", "gi_a.npy")
        self.assertConverged(run)
        reference, lambda_max = reference_solve(gibbs(l, l), x, b, alpha)
        a = self.assertSolution("gi_a.npy", reference, alpha, b, lambda_max)
        # predict cannot know L at the targets; Genred (reduce) takes it.
        run = self.run_kinterp("predict", "--points", "gi_x.npy", "--weights", "gi_a.npy",
                               "--targets", "gi_t.npy", *formula, "--out", "gi_y.npy")
        self.assertFails(run, EXIT_ERROR, "it also takes L, M", "kinterp reduce")
        run = self.run_kinterp("reduce", *formula, "--input", "X=gi_t.npy", "--input",
                               "Y=gi_x.npy", "--input", "A=gi_a.npy", "--input", "L=gi_lt.npy",
                               "--input", "M=gi_l.npy", "--out", "gi_y.npy")
        self.assertExit(run, EXIT_OK)
        self.assertPrediction("gi_y.npy", gibbs(lt, l)(t, x), a.reshape(-1, 1))
        # What does not fit, each refused with what to do.
        self.assertFails(self.run_kinterp(*solve, "--input", "L=gi_l.npy", "--out", "gi_a2.npy"),
                         EXIT_ERROR, "M = Vj(1) has dimension 1", "--input M=FILE")
        self.assertFails(self.run_kinterp(*solve, "--input", "L=gi_l.npy", "--input",
                                          "M=gi_lt.npy", "--out", "gi_a2.npy"),
                         EXIT_ERROR, "--input M gi_lt.npy has 150 rows")
        self.assertFails(self.run_kinterp(*solve, "--input", "L=gi_l.npy", "--input",
                                          "M=gi_x.npy", "--out", "gi_a2.npy"),
                         EXIT_ERROR, "the input M has 2 columns")
        self.assertFails(self.run_kinterp(*solve, "--input", "L=gi_l.npy", "--input",
                                          "M=gi_l.npy", "--input", "L=gi_l.npy",
                                          "--out", "gi_a2.npy"),
                         EXIT_USAGE, "--input L is given twice")
        self.assertFails(self.run_kinterp("solve", "--points", "gi_x.npy", "--values", "gi_b.npy",
                                          *laplacian_args(0.1), "--input", "L=gi_l.npy",
                                          "--out", "gi_a2.npy"),
                         EXIT_USAGE, "--input gives a --formula variable's rows")
        self.assertFalse(os.path.exists(self.path("gi_a2.npy")), "a refused solve wrote output")

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


class TreePredictTest(CliTestCase):
    """--product tree: every prediction within eps sum_j |k(t_i, x_j)| |a_j| of K @ a."""

    def test_tree_predictions_meet_the_bound(self):
        x, t = self.rng.random((3000, 2)), self.rng.random((500, 2))
        a = self.rng.standard_normal(3000)
        for name, array in (("tp_x.npy", x), ("tp_a.npy", a), ("tp_t.npy", t)):
            self.save(name, array)
        for eps in (1e-4, 1e-9):
            run = self.run_kinterp("predict", "--points", "tp_x.npy", "--weights", "tp_a.npy",
                                   "--targets", "tp_t.npy", "--kernel", "matern32",
                                   "--length-scale", 0.05, "--product", "tree",
                                   "--product-tolerance", eps, "--out", "tp_y.npy",
                                   "--log-view")
            self.assertExit(run, EXIT_OK)
            rows = log_view_rows(run.stdout)
            for phase in ("set-up (kernel product)", "proxy charges, passing targets",
                          "near and far fields"):
                self.assertIn(phase, rows, run.describe())
            self.assertIn("kernel products: tree (eps %g" % eps, run.stdout)
            r = np.sqrt(squared_distances(t, x)) * np.sqrt(3) / 0.05
            K = (1 + r) * np.exp(-r)
            y = np.load(self.path("tp_y.npy"))
            excess = np.abs(y - K @ a) / (eps * (np.abs(K) @ np.abs(a)))
            self.assertLessEqual(excess.max(), 1.0, "eps %g: worst error %.3g times the bound"
                                 % (eps, excess.max()))

    def test_bad_product_options_are_refused(self):
        x, a = self.rng.random((20, 4)), self.rng.standard_normal(20)
        self.save("bp_x.npy", x)
        self.save("bp_a.npy", a)
        common = ("predict", "--points", "bp_x.npy", "--weights", "bp_a.npy", "--targets",
                  "bp_x.npy", "--kernel", "gaussian", "--length-scale", 0.5, "--out",
                  "bp_y.npy")
        self.assertFails(self.run_kinterp(*common, "--product", "tre"), EXIT_USAGE,
                         "unknown product engine 'tre'", "did you mean 'tree'")
        self.assertFails(self.run_kinterp(*common, "--product", "direct",
                                          "--product-tolerance", 1e-6),
                         EXIT_USAGE, "--product-tolerance belongs to the tree product")
        self.assertFails(self.run_kinterp(*common, "--product", "tree",
                                          "--product-tolerance", 0),
                         EXIT_ERROR, "the tolerance is 0")
        self.assertFails(self.run_kinterp(*common, "--product", "tree"), EXIT_ERROR,
                         "the tree takes 1, 2 or 3")


if __name__ == "__main__":
    main(globals())
