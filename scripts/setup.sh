#!/usr/bin/env bash
# Sets kinterp up on Debian 12 from a fresh clone, and is safe to re-run:
#   1. installs the Debian packages it needs, if any is missing (apt-get);
#   2. finds Kokkos + Kokkos Kernels: an install named by Kokkos_ROOT,
#      KokkosKernels_ROOT or CMAKE_PREFIX_PATH is used as it is; otherwise they
#      are built, with the OpenMP backend and OpenBLAS, from Debian's trilinos
#      source package into .deps/install (git-ignored), and reused afterwards
#      until build-kokkos.sh's configuration changes;
#   3. configures and builds kinterp (default build/, Release, -march=native).
#
# Environment: KINTERP_BUILD_DIR (build), KINTERP_SANITIZE (e.g.
# address,undefined: a checking build) and KINTERP_NO_SANITIZE (checks left
# out of those, e.g. alignment), KINTERP_CMAKE_ARGS (extra arguments
# for kinterp's cmake), KINTERP_JOBS (parallel build jobs, default: all cores).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
deps="$root/.deps"
build_dir=${KINTERP_BUILD_DIR:-$root/build}
jobs=${KINTERP_JOBS:-$(nproc)}

log_tag=setup
# shellcheck source=common.sh
source "$root/scripts/common.sh"

# --- 1. Debian packages --------------------------------------------------------
# libopenblas-openmp-dev: the BLAS behind KokkosBlas::gemm in the Kokkos Kernels
# that build-kokkos.sh builds (OpenMP threads, so it follows OMP_NUM_THREADS).
# gfortran: the Fortran module and its test (skipped where no Fortran compiler is).
# libhdf5-openmpi-dev: parallel HDF5 for FILE.h5:/DATASET files (kinterp builds
# without it, refusing such files); python3-h5py: the CLI tests' HDF5 reference;
# python3-sklearn (with scipy): the kriging tests' peer reference and the README's
# comparison with scikit-learn's GaussianProcessRegressor.
packages=(cmake make ninja-build g++ gfortran libopenmpi-dev openmpi-bin libgtest-dev libbenchmark-dev
          liblapack-dev libblas-dev libopenblas-openmp-dev libhdf5-openmpi-dev
          python3-numpy python3-matplotlib python3-h5py python3-scipy python3-sklearn)
missing=()
for p in "${packages[@]}"; do
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  install_packages "${missing[@]}"
fi

# --- 2. Kokkos and Kokkos Kernels ----------------------------------------------
prefix_path=${CMAKE_PREFIX_PATH:-}
if [[ -n ${Kokkos_ROOT:-}${KokkosKernels_ROOT:-}${CMAKE_PREFIX_PATH:-} ]]; then
  say "using the Kokkos given by Kokkos_ROOT / KokkosKernels_ROOT / CMAKE_PREFIX_PATH"
else
  install="$deps/install"
  # Built once, and again when build-kokkos.sh's configuration has changed
  # since (an older install, or one from before the BLAS was installed).
  wanted=$("$root/scripts/build-kokkos.sh" --config)
  if [[ $(cat "$install/.kinterp-deps" 2>/dev/null) != "$wanted" ]]; then
    [[ -d $install ]] && say "rebuilding .deps/install for: $wanted"
    "$root/scripts/build-kokkos.sh" "$install"
  fi
  prefix_path=$install
fi

# --- 3. kinterp -----------------------------------------------------------------
cmake_args=(-DCMAKE_BUILD_TYPE=Release -DKINTERP_ARCH_NATIVE=ON)
if [[ -n ${KINTERP_SANITIZE:-} ]]; then
  # -O1 and line tables only: what the sanitizers' reports need, and half the
  # compile time of -O2 -g on the kernel-sum templates. No benchmarks or
  # examples: the checking build needs what its tests run, nothing more. No
  # precompiled headers: there they made the build slower (1073 CPU-seconds
  # against 946), where the release build gains from them.
  cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
              -DKINTERP_SANITIZE="$KINTERP_SANITIZE" "-DKINTERP_NO_SANITIZE=${KINTERP_NO_SANITIZE:-}"
              -DKINTERP_ENABLE_PERF=OFF
              -DKINTERP_ENABLE_EXAMPLES=OFF -DKINTERP_PRECOMPILE_HEADERS=OFF)
fi
# Ninja for a new build directory (it schedules the long template compiles
# better than make); an existing one keeps the generator it was made with.
if [[ ! -e $build_dir/CMakeCache.txt ]] && command -v ninja >/dev/null; then
  cmake_args+=(-G Ninja)
fi
[[ -n $prefix_path ]] && cmake_args+=(-DCMAKE_PREFIX_PATH="$prefix_path")
# shellcheck disable=SC2206
cmake_args+=(${KINTERP_CMAKE_ARGS:-})
say "building kinterp in $build_dir"
cmake -S "$root" -B "$build_dir" "${cmake_args[@]}" >/dev/null
cmake --build "$build_dir" -j "$jobs"
