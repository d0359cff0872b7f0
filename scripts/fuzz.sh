#!/usr/bin/env bash
# Fuzzes the formula parser with libFuzzer (Debian's clang) under ASan + UBSan
# for a bounded time, starting from the seeds in tests/fuzz/corpus/:
#
#   scripts/fuzz.sh [seconds]   default 60; builds build-fuzz/fuzz_formula
#
# The input's first line is the formula, the further lines its aliases;
# tests/fuzz/formula.dict lists the language's words for the mutations.
# The formula layer needs neither Kokkos nor MPI, so the target is compiled
# straight from its sources, without CMake. The repository's corpus is copied
# to a scratch directory so that a run never changes it. Exits non-zero on a
# crash, a sanitizer report, a leak or a timeout, and prints the input's path;
# add that input to tests/fuzz/corpus/ as a regression seed once it is fixed.
#
# Environment: KINTERP_FUZZ_ARGS (extra libFuzzer flags, e.g. -fork=4).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-60}
build_dir="$root/build-fuzz"

log_tag=fuzz
# shellcheck source=common.sh
source "$root/scripts/common.sh"

[[ $seconds =~ ^[1-9][0-9]*$ ]] || die "usage: scripts/fuzz.sh [seconds], got '$seconds'"

# libFuzzer ships with Debian's clang package (libclang-rt-dev comes with it).
if ! command -v clang++ >/dev/null; then
  install_packages clang
fi

# The formula layer and what it calls: the kernel specs it binds to and the
# "did you mean" spelling helper.
sources=("$root"/src/formula/*.cpp "$root/src/core/Spelling.cpp" "$root/src/kernels/KernelSpec.cpp")
target="$build_dir/fuzz_formula"
mkdir -p "$build_dir/objects"
say "building $target"
# One compile per file, as many at once as there are cores; libFuzzer's main
# comes in at the link.
flags=(-std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
       -fno-sanitize-recover=all -I"$root/include")
objects=()
pids=()
for source in "$root/tests/fuzz/fuzz_formula.cpp" "${sources[@]}"; do
  object="$build_dir/objects/$(basename "${source%.cpp}").o"
  objects+=("$object")
  clang++ "${flags[@]}" -c "$source" -o "$object" &
  pids+=($!)
  if ((${#pids[@]} >= $(nproc))); then
    wait "${pids[0]}" || die "compiling for the fuzzer failed"
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || die "compiling for the fuzzer failed"; done
clang++ -fsanitize=fuzzer,address,undefined "${objects[@]}" -o "$target"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/kinterp-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/corpus" "$scratch/artifacts"
cp "$root"/tests/fuzz/corpus/* "$scratch/corpus/"

# -max_len keeps inputs formula-sized; -timeout flags a parse that hangs;
# -rss_limit_mb catches runaway allocation (an input-sized dimension, say).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
say "fuzzing for ${seconds}s, seeds from tests/fuzz/corpus/"
status=0
# shellcheck disable=SC2086
(cd "$scratch" && "$target" -max_total_time="$seconds" -max_len=512 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -dict="$root/tests/fuzz/formula.dict" \
  -artifact_prefix="$scratch/artifacts/" \
  ${KINTERP_FUZZ_ARGS:-} "$scratch/corpus") || status=$?

shopt -s nullglob
artifacts=("$scratch"/artifacts/*)
if ((status != 0 || ${#artifacts[@]})); then
  # The scratch directory goes on exit: keep the inputs that failed in build-fuzz/.
  mkdir -p "$build_dir/artifacts"
  for a in "${artifacts[@]}"; do
    cp "$a" "$build_dir/artifacts/"
    say "failing input: $build_dir/artifacts/$(basename "$a") (reproduce: $target <input>)"
  done
  die "libFuzzer exited with status $status"
fi
say "no crash in ${seconds}s"
