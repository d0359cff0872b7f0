#!/usr/bin/env python3
"""End-to-end tests of `kinterp reduce`: KeOps' Genred from the command line, against numpy.

    python3 tests/cli/test_reduce.py --kinterp build/apps/kinterp --ranks 3 \
        --mpiexec mpiexec --numproc-flag=-n --preflag=--oversubscribe

The options, the helpers and the numpy references: cli_support.py.
"""

import os

import numpy as np

from cli_support import (EXIT_ERROR, EXIT_OK, EXIT_USAGE, GAUSSIAN, CliTestCase, gaussian,
                         log_view_rows, main, squared_distances)


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

    def test_kernel_sums_run_on_the_kernel_products(self):
        # A compiled family times a j-variable (two columns here): direct is exact to
        # rounding, the tree within eps sum_j |k||v_j| per column; other formulas and
        # reductions say they ran on the generic evaluator.
        sums = ("reduce", "--formula", "Exp(-G*SqDist(X,Y))*V", "--var", "X = Vi(3)", "--var",
                "Y = Vj(3)", "--var", "V = Vj(2)", "--var", "G = Pm(1)", "--param", "G=20",
                "--input", "X=r_x.npy", "--input", "Y=r_y.npy", "--input", "V=r_v.npy")
        K = gaussian(20)(self.x, self.y)
        run = self.run_kinterp(*sums, "--product", "direct", "--out", "r_kd.npy")
        self.result(run, 2, name="r_kd.npy")
        self.assertIn("kernel products: direct", run.stdout)
        self.assertPrediction("r_kd.npy", K, self.v)
        eps = 1e-9
        run = self.run_kinterp(*sums, "--product", "tree", "--product-tolerance", eps, "--out",
                               "r_kt.npy", "--log-view")
        out = self.result(run, 2, name="r_kt.npy")
        self.assertIn("kernel products: tree (eps %g" % eps, run.stdout)
        self.assertIn("proxy charges, passing targets", log_view_rows(run.stdout))
        excess = np.abs(out - K @ self.v) / (eps * (np.abs(K) @ np.abs(self.v)))
        self.assertLessEqual(excess.max(), 1.0, "worst error %.3g times the bound" % excess.max())
        run = self.reduce("SqDist(X,Y)", "Sum", out="r_gen.npy")
        self.result(run, 1, name="r_gen.npy")
        self.assertIn("kernel products: generic evaluator", run.stdout)

    def test_the_tree_takes_kernel_sums_only(self):
        for formula, reduction in (("SqDist(X,Y)", "Sum"), ("Exp(-SqDist(X,Y))*A", "Min")):
            run = self.run_kinterp("reduce", "--formula", formula, "--var", "X = Vi(3)",
                                   "--var", "Y = Vj(3)", "--var", "A = Vj(1)", "--reduction",
                                   reduction, "--input", "X=r_x.npy", "--input", "Y=r_y.npy",
                                   "--input", "A=r_a.npy", "--product", "tree", "--out",
                                   "r_bad.npy")
            self.assertFails(run, EXIT_USAGE, "--product tree takes a Sum (axis 1) of a "
                             "compiled kernel family")

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

    def test_log_sum_exp_weight(self):
        """KeOps' LogSumExpWeight and its state Max_SumShiftExpWeight, scores whose
        exp overflows double: log sum_j exp(f) g, and (m, sum_j exp(f - m) g)."""
        args = ("--formula2", "1+Square(V)", "--var", "V = Vj(2)", "--var", "G = Pm(1)",
                "--param", "G=2000", "--input", "V=r_v.npy")
        f = 1000 - 2000 * squared_distances(self.x, self.y)
        g = 1 + self.v ** 2
        top = f.max(axis=1, keepdims=True)
        shifted = np.exp(f - top) @ g
        out = self.result(self.reduce("1000-G*SqDist(X,Y)", "LogSumExpWeight", *args), 2)
        np.testing.assert_allclose(out, top + np.log(shifted), rtol=1e-12)
        out = self.result(self.reduce("1000-G*SqDist(X,Y)", "Max_SumShiftExpWeight", *args), 3)
        np.testing.assert_allclose(out[:, :1], top, rtol=1e-13)
        np.testing.assert_allclose(out[:, 1:], shifted, rtol=1e-11)
        self.assertFails(self.reduce("1000-G*SqDist(X,Y)", "LogSumExp", *args), EXIT_USAGE,
                         "--formula2 belongs", "LogSumExpWeight")

    def test_sum_schemes(self):
        """KeOps' sum_scheme and dtype_acc: a kernel sum the kernel products would
        take runs on the generic evaluator with them, to the same sums."""
        a_args = ("--var", "A = Vj(1)", "--var", "G = Pm(1)", "--param", "G=5", "--input",
                  "A=r_a.npy")
        want = np.exp(-5 * squared_distances(self.x, self.y)) @ self.a
        for scheme in (("--sum-scheme", "kahan_scheme"), ("--sum-scheme", "direct_sum"),
                       ("--dtype-acc", "float64", "--precision", "float")):
            run = self.reduce(GAUSSIAN, "Sum", *a_args, *scheme)
            out = self.result(run, 1)
            self.assertIn("generic evaluator", run.stdout, run.describe())
            rtol = 1e-5 if "float" in scheme else 1e-12
            np.testing.assert_allclose(out[:, 0], want, rtol=rtol, atol=rtol * np.abs(want).max())
        self.assertFails(self.reduce(GAUSSIAN, "Sum", *a_args, "--sum-scheme", "kahan"),
                         EXIT_USAGE, "unknown sum_scheme 'kahan'", "kahan_scheme")
        self.assertFails(self.reduce("SqDist(X,Y)", "Min", "--sum-scheme", "kahan_scheme"),
                         EXIT_USAGE, "applies to the Sum reduction only")

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


if __name__ == "__main__":
    main(globals())
