#!/usr/bin/env python3
"""The runs of the tool that cli_np1_leaks checks under LeakSanitizer: the command line
names a few tests of the command files, whose classes this file gathers.

    python3 tests/cli/test_leaks.py --kinterp build/apps/kinterp --ranks 1 \
        --mpiexec mpiexec --numproc-flag=-n PredictTest.test_solve_then_predict

The options: cli_support.py.
"""

from cli_support import main
# The classes of the tests that tests/cli/CMakeLists.txt names (imported, so that main()
# finds them here).
from test_input_output import BadInputTest  # noqa: F401
from test_krige import KrigeTest  # noqa: F401
from test_predict import PredictTest  # noqa: F401
from test_reduce import ReduceTest  # noqa: F401

if __name__ == "__main__":
    main(globals())
