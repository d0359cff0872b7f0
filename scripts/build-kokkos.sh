#!/usr/bin/env bash
# Builds Kokkos and Kokkos Kernels (3.4.1, OpenMP + Serial backends) from the
# sources in Debian's trilinos source package and installs them into $1.
# Called by setup.sh when no Kokkos install is given. Needs a deb-src entry:
# when the machine has none, one is derived from its own apt sources.
#
# Kokkos Kernels is linked to OpenBLAS (OpenMP flavour, Debian's
# libopenblas-openmp-dev) where it is installed: KokkosBlas::gemm then calls
# the BLAS, which kinterp's kernel sum for d >= 16 relies on (Kokkos Kernels'
# own GEMM is about ten times slower).
#
#   build-kokkos.sh <install-prefix>   build and install; writes <prefix>/.kinterp-deps
#   build-kokkos.sh --config           print the configuration this machine gets
#                                      (setup.sh rebuilds an install whose
#                                      .kinterp-deps differs)
#
# Environment: KINTERP_DEPS_SRC (where sources are unpacked and built, default
# .deps/src), KINTERP_OPENBLAS_DIR (the directory of libopenblas.so, default
# Debian's /usr/lib/<multiarch>/openblas-openmp), KINTERP_JOBS (parallel build
# jobs, default: all cores).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Bump when the options below change, so that existing installs are rebuilt.
config_version=2
multiarch=$(gcc -print-multiarch 2>/dev/null || true)
openblas_dir=${KINTERP_OPENBLAS_DIR:-/usr/lib/${multiarch:-x86_64-linux-gnu}/openblas-openmp}
if [[ -e $openblas_dir/libopenblas.so ]]; then
  blas=openblas-openmp
else
  blas=none
fi
config="kinterp-deps $config_version: kokkos 3.4.1 openmp+serial, kokkos-kernels eti=off blas=$blas"
if [[ ${1:-} == --config ]]; then
  printf '%s\n' "$config"
  exit 0
fi

install=${1:?usage: build-kokkos.sh <install-prefix> | --config}
work=${KINTERP_DEPS_SRC:-$root/.deps/src}
jobs=${KINTERP_JOBS:-$(nproc)}

say() { printf '[kinterp setup] %s\n' "$*"; }
die() { printf '[kinterp setup] error: %s\n' "$*" >&2; exit 1; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

has_deb_src() {
  grep -qsE '^\s*deb-src\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list ||
    grep -qsE '^\s*Types:.*\bdeb-src\b' /etc/apt/sources.list.d/*.sources
}

add_deb_src() {
  # The same archives as the machine's binary entries, for sources.
  local deb822 oneline
  deb822=$(for f in /etc/apt/sources.list.d/*.sources; do
             [[ -f $f ]] && sed -E 's/^(\s*Types:.*)\bdeb\b/\1deb-src/' "$f" && echo
           done)
  oneline=$(grep -hsE '^\s*deb\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
            sed -E 's/^\s*deb\s/deb-src /' || true)
  [[ -n $deb822$oneline ]] || die "no apt sources found to derive a deb-src entry from"
  say "adding deb-src entries derived from this machine's apt sources"
  [[ -n $deb822 ]] && printf '%s\n' "$deb822" | as_root tee /etc/apt/sources.list.d/kinterp-deb-src.sources >/dev/null
  [[ -n $oneline ]] && printf '%s\n' "$oneline" | as_root tee /etc/apt/sources.list.d/kinterp-deb-src.list >/dev/null
  as_root apt-get update -qq
}

# An interrupted build leaves no stamp, so the next setup.sh builds again.
rm -f "$install/.kinterp-deps" "$install/.kinterp-complete"
mkdir -p "$work"
cd "$work"
if ! ls trilinos_*.orig.tar.* >/dev/null 2>&1; then
  has_deb_src || add_deb_src
  say "downloading Debian's trilinos source package"
  apt-get source --download-only trilinos 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
  ls trilinos_*.orig.tar.* >/dev/null 2>&1 || die "apt-get source trilinos failed"
fi
if [[ ! -d trilinos/packages/kokkos-kernels ]]; then
  say "unpacking packages/kokkos and packages/kokkos-kernels"
  rm -rf trilinos && mkdir trilinos
  tar -xf trilinos_*.orig.tar.* -C trilinos --strip-components=1 \
    --wildcards '*/packages/kokkos/*' '*/packages/kokkos-kernels/*'
fi

common=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_STANDARD=17 -DCMAKE_INSTALL_PREFIX="$install"
        -DBUILD_SHARED_LIBS=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=ON)
say "building Kokkos (OpenMP) into $install"
cmake -S trilinos/packages/kokkos -B build-kokkos "${common[@]}" \
  -DKokkos_ENABLE_OPENMP=ON -DKokkos_ENABLE_SERIAL=ON >/dev/null
cmake --build build-kokkos -j "$jobs" >/dev/null
cmake --install build-kokkos >/dev/null

# Kokkos Kernels without explicit instantiations: kinterp instantiates the few
# routines it uses itself, and the library builds in seconds.
say "building Kokkos Kernels into $install (BLAS: $blas)"
eti_off=()
for option in DOUBLE LAYOUTLEFT LAYOUTRIGHT OFFSET_INT OFFSET_SIZE_T ORDINAL_INT; do
  eti_off+=(-DKokkosKernels_INST_$option=OFF)
done
# The BLAS by its full path (the OpenMP flavour, whichever BLAS the system's
# libblas.so alternative points to); F77_BLAS_MANGLE given, so that no Fortran
# compiler is needed to find it out; no LAPACK (kinterp does not use it here).
blas_options=(-DKokkosKernels_ENABLE_TPL_BLAS=OFF)
if [[ $blas != none ]]; then
  blas_options=(-DKokkosKernels_ENABLE_TPL_BLAS=ON -DKokkosKernels_ENABLE_TPL_LAPACK=OFF
                -DBLAS_LIBRARIES=openblas -DBLAS_LIBRARY_DIRS="$openblas_dir"
                "-DF77_BLAS_MANGLE=(name,NAME) name ## _")
fi
cmake -S trilinos/packages/kokkos-kernels -B build-kokkos-kernels "${common[@]}" \
  -DKokkos_ROOT="$install" "${eti_off[@]}" "${blas_options[@]}" >/dev/null
cmake --build build-kokkos-kernels -j "$jobs" >/dev/null
cmake --install build-kokkos-kernels >/dev/null
printf '%s\n' "$config" > "$install/.kinterp-deps"
