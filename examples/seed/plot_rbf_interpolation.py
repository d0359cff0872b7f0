#!/usr/bin/python3
"""The two figures of KeOps' "Kernel interpolation" example, from the arrays
that rbf_interpolation wrote: noisy samples with the fitted curve (1D), and
samples over the fitted surface (2D).

    /usr/bin/python3 examples/seed/plot_rbf_interpolation.py results
writes results/rbf_interpolation_1d.png and results/rbf_interpolation_2d.png.
"""
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def load(directory, name):
    return np.load(directory / name)


def plot_1d(directory):
    x, b = load(directory, "rbf_1d_points.npy")[:, 0], load(directory, "rbf_1d_values.npy")
    t, fit = load(directory, "rbf_1d_grid.npy")[:, 0], load(directory, "rbf_1d_fit.npy")
    plt.figure(figsize=(8, 6))
    plt.scatter(x, b, s=100 / len(x), label="noisy samples")
    plt.plot(t, fit, "r", label="kernel interpolation (Gaussian, sigma = 0.1, alpha = 1)")
    plt.axis([0, 1, 0, 1])
    plt.legend(loc="upper left")
    plt.title(f"{len(x)} samples in 1D")
    plt.tight_layout()
    out = directory / "rbf_interpolation_1d.png"
    plt.savefig(out, dpi=100)
    plt.close()
    return out


def plot_2d(directory):
    x, b = load(directory, "rbf_2d_points.npy"), load(directory, "rbf_2d_values.npy")
    grid, fit = load(directory, "rbf_2d_grid.npy"), load(directory, "rbf_2d_fit.npy")
    side = int(round(np.sqrt(len(grid))))
    # grid row i * side + j is the point (t_i, t_j): the first coordinate runs
    # slowest, so fit[i, j] belongs at x = t_i, y = t_j.
    surface = fit.reshape(side, side)
    plt.figure(figsize=(8, 8))
    plt.scatter(x[:, 0], x[:, 1], c=b, s=25000 / len(x), cmap="bwr")
    plt.imshow(surface.T, origin="lower", interpolation="bilinear", extent=[0, 1, 0, 1],
               cmap="coolwarm")
    plt.axis([0, 1, 0, 1])
    plt.title(f"{len(x)} samples in 2D (Laplacian kernel, sigma = 0.1, alpha = 10)")
    plt.tight_layout()
    out = directory / "rbf_interpolation_2d.png"
    plt.savefig(out, dpi=100)
    plt.close()
    return out


def main():
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "results")
    for plot in (plot_1d, plot_2d):
        print(f"wrote {plot(directory)}")


if __name__ == "__main__":
    main()
