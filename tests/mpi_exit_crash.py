#!/usr/bin/env python3
"""Open MPI 4.1's crash in MPI_Finalize (open-mpi/ompi#10117, openpmix/openpmix#2508): about
one launch in 1000, a rank dies on SIGSEGV inside or after MPI_Finalize. Told apart from a
crash in the program by Open MPI's signal handler printing no stack frames: its backtrace
component, which prints them, is closed by then. A crash in the program's own code prints
frames ("[ 0] ...") and is never run again.

As a module: crashed_in_mpi_finalize(returncode, stderr) (the CLI tests' harness). As a
script, the MPI tests' launcher (cmake/kinterpTestHarness.cmake):

    python3 tests/mpi_exit_crash.py mpiexec -n 3 build/tests/tree/test_tree_product

runs the command, passes its output and exit status through, and runs it once more, saying
so on stderr, when the first run shows that crash.
"""

import re
import subprocess
import sys


def crashed_in_mpi_finalize(returncode, stderr):
    return (returncode != 0 and "*** Process received signal ***" in stderr and
            "Signal: Segmentation fault" in stderr and
            re.search(r"\] \[ *\d+\] ", stderr) is None)


def run(command):
    run = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sys.stdout.write(run.stdout)
    sys.stderr.write(run.stderr)
    return run


def main(command):
    first = run(command)
    if not crashed_in_mpi_finalize(first.returncode, first.stderr):
        return first.returncode
    sys.stderr.write("\n[mpi_exit_crash.py] the run above died on SIGSEGV after Open MPI had "
                     "closed its backtrace component (open-mpi/ompi#10117); running it once "
                     "more\n")
    return run(command).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
