#!/usr/bin/env bash
# Builds kinterp (running setup.sh first, so it works from a fresh clone) and
# runs the whole test suite with CTest: unit tests, MPI tests at 1-4 ranks
# (oversubscribed where there are fewer cores), 1 and 2 OpenMP threads.
#
#   scripts/test.sh              the suite, Release build in build/
#   scripts/test.sh --sanitize   the suite under AddressSanitizer + UndefinedBehaviorSanitizer
#                                (a second build in build-sanitize/)
#   scripts/test.sh --ci         what CI (.ci/run) runs: the suite, the suite under the
#                                sanitizers, then 60 s of fuzzing the formula parser
#                                (scripts/fuzz.sh 60), with each step's time
# Extra arguments go to ctest (e.g. -R kernel_solve). KINTERP_TEST_JOBS: how
# many ranks run at once (default: twice the cores).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [[ ${1:-} == --ci ]]; then
  if (($# > 1)); then
    echo "scripts/test.sh --ci takes no other arguments (got: ${*:2})" >&2
    exit 2
  fi
  # Each step's time is printed at the end, also when a step fails, so a
  # change that slows CI is seen at once.
  steps=()
  report() {
    local status=$?
    printf '\n[kinterp ci] step times:\n'
    local line
    for line in "${steps[@]}"; do printf '[kinterp ci]   %s\n' "$line"; done
    printf '[kinterp ci]   total %d s (%s)\n' "$SECONDS" \
      "$([[ $status == 0 ]] && echo passed || echo "failed, status $status")"
  }
  trap report EXIT
  step() {
    local name=$1 start=$SECONDS status=0
    shift
    printf '\n[kinterp ci] %s: %s\n' "$name" "$*"
    steps+=("$name: started")
    "$@" || status=$?
    if ((status != 0)); then
      steps[-1]="$name: failed after $((SECONDS - start)) s"
      exit "$status"
    fi
    steps[-1]="$name: $((SECONDS - start)) s"
  }
  step "release build and suite" "$root/scripts/test.sh"
  step "sanitizer build and suite" "$root/scripts/test.sh" --sanitize
  step "fuzzing" "$root/scripts/fuzz.sh" 60
  exit 0
fi

if [[ ${1:-} == --sanitize ]]; then
  shift
  export KINTERP_BUILD_DIR=${KINTERP_BUILD_DIR:-$root/build-sanitize}
  export KINTERP_SANITIZE=address,undefined
  # Less UBSan's per-access checks: null, object-size and alignment are
  # emitted at every load and store, pointer-overflow at every pointer
  # addition: they more than doubled the compile of the kernel-sum templates
  # (CompiledKernelsFloat.cpp: 130 s with them, 53 s without, about ASan's
  # alone), in a build that was a third of CI. ASan reports the null and out-of-bounds
  # accesses they would at the access itself; misaligned pointers (no fault on
  # x86) go unchecked. The rest of UBSan (signed overflow, shifts, bounds of
  # arrays, bool and enum values, vptr, ...) stays.
  export KINTERP_NO_SANITIZE=${KINTERP_NO_SANITIZE-pointer-overflow,alignment,null,object-size}
  # The sanitizers' run-time options are set per test by the build
  # (cmake/kinterpTestHarness.cmake), so plain ctest there uses them too.
fi
build_dir=${KINTERP_BUILD_DIR:-$root/build}

start=$SECONDS
"$root/scripts/setup.sh"
built=$SECONDS
cd "$build_dir"
# Tests run side by side: most are short MPI jobs that wait on process
# start-up more than they compute. Each declares its ranks (PROCESSORS), and
# ctest keeps at most this many ranks running at once.
jobs=${KINTERP_TEST_JOBS:-$((2 * $(nproc)))}
status=0
ctest --output-on-failure --timeout 600 -j "$jobs" "$@" || status=$?
printf '[kinterp test] set-up and build %d s, tests %d s (%s)\n' "$((built - start))" \
  "$((SECONDS - built))" "$build_dir"
exit "$status"
