#!/usr/bin/python3
"""kinterp krige next to scikit-learn's GaussianProcessRegressor on the same data.

  /usr/bin/python3 apps/kriging/compare_with_sklearn.py [--kinterp build/apps/kinterp]
                   [--n 1000] [--targets 200] [--np 2]

1. Fixed kernel (variance * Matern(length_scale, nu=1.5), nugget = sklearn's alpha):
   the largest differences of the mean and the standard deviation at the targets.
2. Fitted kernel (variance, length scale and nugget from the same start): the log
   marginal likelihood of each fit, both evaluated by scikit-learn's exact (Cholesky)
   log_marginal_likelihood, and the fitted parameters.
Times are wall-clock seconds of each program (kinterp through mpirun, with its start-up).
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kinterp", default="build/apps/kinterp")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--targets", type=int, default=200)
    parser.add_argument("--np", type=int, default=2)
    options = parser.parse_args()
    rng = np.random.default_rng(7)
    x = rng.random((options.n, 2))
    z = np.sin(6 * x[:, 0]) * np.cos(4 * x[:, 1]) + 0.05 * rng.standard_normal(options.n)
    t = rng.random((options.targets, 2))
    folder = tempfile.mkdtemp(prefix="kinterp-sklearn-")
    for name, array in (("x", x), ("z", z), ("t", t)):
        np.save(os.path.join(folder, name + ".npy"), array)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMP_NUM_THREADS="1", OMP_PROC_BIND="false", OMP_WAIT_POLICY="passive")

    def krige(*arguments):
        command = ["mpirun", "--oversubscribe", "-np", str(options.np),
                   os.path.abspath(options.kinterp), "krige", "--points", "x.npy",
                   "--values", "z.npy", "--targets", "t.npy", "--out", "m.npy",
                   "--variance-out", "v.npy", "--model", "matern32", "--kriging", "simple",
                   *map(str, arguments)]
        start = time.perf_counter()
        run = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if run.returncode != 0:
            sys.exit("kinterp failed:\n" + run.stdout + run.stderr)
        return run.stdout, seconds, np.load(os.path.join(folder, "m.npy")), np.load(
            os.path.join(folder, "v.npy"))

    print("N = %d points in 2D, %d targets; kinterp on %d ranks" %
          (options.n, options.targets, options.np))
    # 1. Fixed kernel.
    kernel = ConstantKernel(1.0, "fixed") * Matern(0.2, "fixed", nu=1.5)
    start = time.perf_counter()
    gp = GaussianProcessRegressor(kernel, alpha=1e-3, optimizer=None).fit(x, z)
    mean, std = gp.predict(t, return_std=True)
    sk_seconds = time.perf_counter() - start
    _, seconds, m, v = krige("--variance", 1, "--length-scale", 0.2, "--nugget", 1e-3,
                             "--rtol", 1e-10, "--variance-tolerance", 1e-10)
    print("fixed kernel: max |mean difference| %.1e, max |std difference| %.1e "
          "(kinterp %.2f s, scikit-learn %.2f s)" %
          (np.max(np.abs(m - mean)), np.max(np.abs(np.sqrt(v) - std)), seconds, sk_seconds))
    # 2. Fitted kernel, from the same start.
    kernel = ConstantKernel(1.0) * Matern(0.3, nu=1.5) + WhiteKernel(1e-2)
    start = time.perf_counter()
    fitted = GaussianProcessRegressor(kernel, alpha=0).fit(x, z)
    sk_seconds = time.perf_counter() - start
    out, seconds, _, _ = krige("--variance", 1, "--length-scale", 0.3, "--nugget", 1e-2,
                               "--fit", "all")
    found = re.search(r"fitted: variance ([0-9.e+-]+), length scale ([0-9.e+-]+), "
                      r"nugget ([0-9.e+-]+)", out)
    ours = np.array([float(value) for value in found.groups()])
    theta = fitted.kernel_.theta  # log of variance, length scale, noise
    print("fitted kernel, log marginal likelihood by scikit-learn's exact computation:")
    print("  kinterp      %.4f  (variance %.4g, length scale %.4g, nugget %.4g; %.2f s)" %
          (fitted.log_marginal_likelihood(np.log(ours)), *ours, seconds))
    print("  scikit-learn %.4f  (variance %.4g, length scale %.4g, nugget %.4g; %.2f s)" %
          (fitted.log_marginal_likelihood_value_, *np.exp(theta), sk_seconds))


if __name__ == "__main__":
    main()
