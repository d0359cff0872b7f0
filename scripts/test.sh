#!/usr/bin/env bash
# Builds kinterp (running setup.sh first, so it works from a fresh clone) and
# runs the whole test suite with CTest: unit tests, MPI tests at 1-4 ranks
# (oversubscribed where there are fewer cores), 1 and 2 OpenMP threads.
#
#   scripts/test.sh              the suite, Release build in build/
#   scripts/test.sh --sanitize   the suite under AddressSanitizer + UndefinedBehaviorSanitizer
#                                (a second build in build-sanitize/)
# Extra arguments go to ctest (e.g. -R kernel_solve).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [[ ${1:-} == --sanitize ]]; then
  shift
  export KINTERP_BUILD_DIR=${KINTERP_BUILD_DIR:-$root/build-sanitize}
  export KINTERP_SANITIZE=address,undefined
  # Open MPI and the OpenMP runtime keep some allocations until exit; leaks
  # inside kinterp's own code are still reported. Full stack unwinding lets the
  # suppressions see Open MPI's frames (it is built without frame pointers).
  export LSAN_OPTIONS="suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
build_dir=${KINTERP_BUILD_DIR:-$root/build}

"$root/scripts/setup.sh"
cd "$build_dir"
ctest --output-on-failure --timeout 600 "$@"
