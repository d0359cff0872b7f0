#!/usr/bin/env bash
# The seed's two examples (KeOps' plot_RBF_interpolation_torch): 1D Gaussian
# and 2D Laplacian RBF interpolation of 10000 noisy samples, under
# `mpirun -np 2` (runs setup.sh first, so it works from a fresh clone).
# Prints the timing lines and writes results/*.npy and the two figures
# results/rbf_interpolation_1d.png and results/rbf_interpolation_2d.png.
#
# Environment: KINTERP_NP (ranks, default 2), KINTERP_RESULTS (default results),
# OMP_NUM_THREADS (threads per rank; default: cores / ranks).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ranks=${KINTERP_NP:-2}
results=${KINTERP_RESULTS:-$root/results}
build_dir=${KINTERP_BUILD_DIR:-$root/build}

"$root/scripts/setup.sh"

cores=$(nproc)
threads=${OMP_NUM_THREADS:-$(( cores / ranks > 0 ? cores / ranks : 1 ))}
mpirun_flags=()
if mpirun --version 2>/dev/null | grep -q "Open MPI"; then
  if [[ $(id -u) -eq 0 ]]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
  # One core per thread where the ranks fit on the machine; no binding otherwise.
  if (( ranks * threads <= cores )); then
    mpirun_flags+=(--map-by "slot:PE=$threads" --bind-to core)
  else
    mpirun_flags+=(--oversubscribe --bind-to none)
  fi
fi
export OMP_NUM_THREADS=$threads OMP_PROC_BIND=spread OMP_PLACES=threads

echo "[kinterp] mpirun -np $ranks, $threads OpenMP thread(s) per rank"
mpirun -np "$ranks" "${mpirun_flags[@]}" "$build_dir/examples/seed/rbf_interpolation" --out-dir "$results"
/usr/bin/python3 "$root/examples/seed/plot_rbf_interpolation.py" "$results"
