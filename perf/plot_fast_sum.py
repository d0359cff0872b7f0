#!/usr/bin/env python3
"""Time against N of the tree and direct products, from kinterp-bench-fast-sum's lines.

    /usr/bin/python3 perf/plot_fast_sum.py results.jsonl [...] --out doc/fast_sum.png

Each line with "product_seconds" is a tree point (one series per kernel, dtype and
distribution); lines with "direct_seconds" add measured direct points, and the direct
series is extended as c N^2 from its largest measured point (dashed).
"""

import argparse
import json
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    tree, direct = defaultdict(dict), defaultdict(dict)
    for name in args.files:
        with open(name) as lines:
            for line in lines:
                if not line.startswith("{"):
                    continue
                row = json.loads(line)
                if "product_seconds" not in row:
                    continue
                key = "%s, %s, %s" % (row["kernel"], row["dtype"], row["distribution"])
                tree[key][row["n"]] = row["product_seconds"]
                if row.get("direct_seconds") is not None:
                    direct[row["dtype"]][row["n"]] = row["direct_seconds"]
    figure, axes = plt.subplots(figsize=(6.5, 4.5))
    for key, points in sorted(tree.items()):
        n = sorted(points)
        axes.loglog(n, [points[k] for k in n], "o-", label="tree: " + key)
    everything = sorted({n for points in tree.values() for n in points})
    for dtype, points in sorted(direct.items()):
        n = sorted(points)
        axes.loglog(n, [points[k] for k in n], "ks-" if dtype == "float" else "k^-",
                    label="direct, %s (measured)" % dtype)
        last = n[-1]
        beyond = [k for k in everything if k >= last]
        if len(beyond) > 1:
            axes.loglog(beyond, [points[last] * (k / last) ** 2 for k in beyond], "k--",
                        label="direct, %s (c N^2 beyond)" % dtype)
    axes.set_xlabel("N (points = targets)")
    axes.set_ylabel("seconds per product")
    axes.set_title("One kernel product in 2D, eps = 1e-6, 2 cores")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(args.out, dpi=120)


if __name__ == "__main__":
    main()
