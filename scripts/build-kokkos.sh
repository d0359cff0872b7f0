#!/usr/bin/env bash
# Builds Kokkos and Kokkos Kernels (3.4.1, OpenMP + Serial backends) from the
# sources in Debian's trilinos source package and installs them into $1.
# Called by setup.sh when no Kokkos install is given. Needs a deb-src entry:
# when the machine has none, one is derived from its own apt sources.
set -euo pipefail

install=${1:?usage: build-kokkos.sh <install-prefix>}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work="$root/.deps/src"
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
# BLAS-1 routines it uses itself, and the library builds in seconds.
say "building Kokkos Kernels into $install"
eti_off=()
for option in DOUBLE LAYOUTLEFT LAYOUTRIGHT OFFSET_INT OFFSET_SIZE_T ORDINAL_INT; do
  eti_off+=(-DKokkosKernels_INST_$option=OFF)
done
cmake -S trilinos/packages/kokkos-kernels -B build-kokkos-kernels "${common[@]}" \
  -DKokkos_ROOT="$install" "${eti_off[@]}" >/dev/null
cmake --build build-kokkos-kernels -j "$jobs" >/dev/null
cmake --install build-kokkos-kernels >/dev/null
touch "$install/.kinterp-complete"
