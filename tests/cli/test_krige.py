#!/usr/bin/env python3
"""End-to-end tests of `kinterp krige`: against the dense kriging equations.

Means and variances against numpy, the general Matern against SciPy's Bessel K,
cross-validation against refits, hyperparameters against scikit-learn's (skipped where
SciPy or scikit-learn is not installed).

    python3 tests/cli/test_krige.py --kinterp build/apps/kinterp --ranks 3 \
        --mpiexec mpiexec --numproc-flag=-n --preflag=--oversubscribe

The options, the helpers and the numpy references: cli_support.py.
"""

import importlib.util
import os
import re
import unittest

import numpy as np

# Imported by the one test that compares with it (the import takes a second);
# the comparison is skipped where scikit-learn is not installed.
has_scikit_learn = importlib.util.find_spec("sklearn") is not None

try:
    from scipy.special import gamma as gamma_function, kv as bessel_kv
except ImportError:  # the general Matern's reference is skipped
    bessel_kv = None

from cli_support import (EXIT_ERROR, EXIT_OK, EXIT_USAGE, CliTestCase, main, squared_distances)


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

    def test_gradient_of_the_mean_matches_the_dense_equations(self):
        """--gradient-out: the kernel part through phi'(r)/r in the rotated, scaled
        coordinates u = M t, mapped back by M^T, and the drift's part."""
        variance, scales, angle = 2.0, np.array([0.3, 0.1]), np.radians(30)
        covariance = matern32_anisotropic(variance, scales, angle)
        c, s = np.cos(angle), np.sin(angle)
        to_u = np.array([[c, -s], [s, c]]) / scales  # u = t @ to_u

        def kernel_gradient(t, x):  # d/dt C(t, x_j) for each t, j: (M, N, 2)
            ut, ux = t @ to_u, x @ to_u
            r = np.sqrt(np.maximum(squared_distances(ut, ux), 0))
            slope = -3 * variance * np.exp(-np.sqrt(3) * r)  # phi'(r) / r
            return (slope[:, :, None] * (ut[:, None, :] - ux[None, :, :])) @ to_u.T

        model = ["--model", "matern32", "--variance", variance, "--length-scale", "0.3,0.1",
                 "--angles", 30, "--nugget", 1e-3, "--rtol", 1e-12]
        linear = lambda p: np.column_stack([np.ones(len(p)), p])  # noqa: E731
        for kind, extra, drift in (("ordinary", [], lambda p: np.ones((len(p), 1))),
                                   ("universal", ["--drift-degree", 1], linear)):
            name = "kg_" + kind
            run = self.run_kinterp("krige", "--points", "kx.npy", "--values", "kz.npy",
                                   "--targets", "kt.npy", "--out", name + "_mean.npy",
                                   "--gradient-out", name + "_grad.npy", *model, "--kriging",
                                   kind, *extra)
            self.assertExit(run, EXIT_OK)
            self.assertIn("gradient of the mean written", run.stdout, run.describe())
            got = np.load(self.path(name + "_grad.npy"))
            self.assertEqual(got.shape, (len(self.t), 2))
            K = covariance(self.x, self.x) + 1e-3 * np.eye(len(self.x))
            P = drift(self.x)
            Ki_z, Ki_P = np.linalg.solve(K, self.z), np.linalg.solve(K, P)
            beta = np.linalg.solve(P.T @ Ki_P, P.T @ Ki_z)
            w = Ki_z - Ki_P @ beta
            want = np.einsum("mnk,n->mk", kernel_gradient(self.t, self.x), w)
            if kind == "universal":
                want += beta[1:]
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-7 * np.abs(want).max())
        # The exponential has no gradient at its points; the spherical none compiled.
        for model_args, message in ((["--model", "exponential", "--length-scale", 0.2],
                                     "coincide with points"),
                                    (["--model", "spherical", "--length-scale", 0.5],
                                     "no compiled gradient")):
            np.save(self.path("kg_on_points.npy"), self.x[:4])
            run = self.run_kinterp("krige", "--points", "kx.npy", "--values", "kz.npy",
                                   "--targets", "kg_on_points.npy", "--out", "kg_bad_mean.npy",
                                   "--gradient-out", "kg_bad_grad.npy", *model_args,
                                   "--nugget", 1e-2)
            self.assertFails(run, EXIT_ERROR, message)
            self.assertFalse(os.path.exists(self.path("kg_bad_mean.npy")))

    def test_vecchia_preconditioner_matches_the_dense_equations(self):
        covariance = matern32_anisotropic(2.0, np.array([0.3, 0.1]), np.radians(30))
        run = self.krige("--model", "matern32", "--variance", 2, "--length-scale", "0.3,0.1",
                         "--angles", 30, "--nugget", 1e-3, "--rtol", 1e-11,
                         "--variance-tolerance", 0, "--precond", "vecchia", "--neighbors", 15,
                         name="k_vecchia")
        self.assertExit(run, EXIT_OK)
        self.assertRegex(run.stdout, r"preconditioner: Vecchia, 15 neighbors")
        mean, variance = reference_kriging(covariance, 1e-3, self.x, self.z, self.t,
                                           lambda p: np.ones((len(p), 1)))
        self.assertKriging("k_vecchia", mean, variance, 1e-7)
        approximate = self.krige("--model", "matern32", "--length-scale", 0.3, "--precond",
                                 "vecchia", "--approximate-variance", name="k_vecchia_approx")
        self.assertFails(approximate, EXIT_USAGE, "--approximate-variance", "--precond rpcholesky")

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


if __name__ == "__main__":
    main(globals())
