# kinterp_add_test(<name> SOURCES <files...> [RANKS <counts...>] [THREADS <counts...>]
#                  [COST <seconds>])
#
# Builds <name> with the shared MPI + Kokkos + GoogleTest main and registers one
# CTest test per (rank count, thread count): <name>_np<R>_t<T>. RANKS defaults
# to 1; tests of distributed code pass RANKS 1 2 3 4 (oversubscribed here).
# COST: about how long a run takes; ctest -j starts the longest first, so that
# they do not run alone at the end (a fresh build has no timings of its own).
#
# In a sanitizer build (KINTERP_SANITIZE) each program runs twice instead:
# at its fewest ranks with 1 thread, and at 3 ranks (or its most, if fewer) with
# its most threads. That covers what memory checking can tell apart (one rank
# and a ring of odd length with uneven blocks, one thread and several) at a
# quarter of the runs; the release suite runs every count.

find_package(GTest REQUIRED)

set(KINTERP_TEST_TIMEOUT 300 CACHE STRING "Seconds before CTest kills a test (catches hangs)")

# Open MPI refuses to start as root and more ranks than cores unless told.
set(_kinterp_mpiexec_flags ${MPIEXEC_PREFLAGS})
set(_kinterp_mpi_env "")
execute_process(COMMAND ${MPIEXEC_EXECUTABLE} --version OUTPUT_VARIABLE _kinterp_mpiexec_version
  ERROR_QUIET RESULT_VARIABLE _kinterp_mpiexec_failed)
if(NOT _kinterp_mpiexec_failed AND _kinterp_mpiexec_version MATCHES "Open MPI|OpenRTE")
  list(APPEND _kinterp_mpiexec_flags --oversubscribe --bind-to none)
  # The tests run on one machine: shared memory only (ob1 over vader). Open
  # MPI's default selection first probes UCX and the network transports,
  # which takes a run of the tool from 0.58 s to 0.37 s at 1 rank, 0.77 to
  # 0.54 s at 3, and the suite starts some thousand runs.
  set(_kinterp_mpi_env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    OMPI_MCA_mpi_yield_when_idle=1 OMPI_MCA_rmaps_base_oversubscribe=1
    OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader OMPI_MCA_osc=sm,pt2pt)
endif()

add_library(kinterp_test_main STATIC ${CMAKE_CURRENT_LIST_DIR}/../tests/TestMain.cpp)
target_link_libraries(kinterp_test_main PUBLIC kinterp GTest::gtest kinterp_private_options)
kinterp_precompiled_headers(kinterp_test_main)

# The sanitizers' run-time options, per test (set here, so that plain `ctest`
# in a sanitizer build uses them too).
#
# LeakSanitizer checks the single-rank runs, which cover the library's
# allocations. Its unwinding on every malloc is full (fast_unwind_on_malloc=0)
# so that the suppressions (tests/sanitizers/lsan.supp) see the frames of Open
# MPI, built without frame pointers, and of the OpenMP runtime, which keep some
# allocations until exit. With the leak scan at exit that makes a run of the
# tool at 3 ranks 4 times slower (6.2 s against 1.6 s), so the multi-rank runs
# and most of the tool's runs check everything but leaks. use_tls=0:
# LeakSanitizer's tracer (GCC 12's runtime) crashes scanning a bogus dynamic
# TLS block ("DTLS 13 at 0x3b2b", then "Tracer caught signal 11", the error
# of a CI flake in a run of the tool), every time for the C API, Fortran and
# heat programs under `mpiexec --bind-to none` on an AMD EPYC machine. Not
# scanning TLS as a root can only add leak reports, never hide one; none
# appears.
if(KINTERP_SANITIZE)
  set(_kinterp_ubsan_env "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  set(KINTERP_SANITIZER_ENV "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1" ${_kinterp_ubsan_env})
  set(KINTERP_SANITIZER_LEAK_ENV
    "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0" ${_kinterp_ubsan_env}
    "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/sanitizers/lsan.supp:print_suppressions=0:use_tls=0")
else()
  set(KINTERP_SANITIZER_ENV "")
  set(KINTERP_SANITIZER_LEAK_ENV "")
endif()

# Open MPI 4.1 crashes in MPI_Finalize about once in 1000 launches; with a
# Python 3, each MPI test runs through tests/mpi_exit_crash.py, which runs
# again, once and saying so, a run that shows exactly that crash.
if(EXISTS /usr/bin/python3)
  set(_kinterp_mpi_launcher /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/mpi_exit_crash.py)
else()
  find_program(_kinterp_launcher_python NAMES python3)
  if(_kinterp_launcher_python)
    set(_kinterp_mpi_launcher ${_kinterp_launcher_python} ${PROJECT_SOURCE_DIR}/tests/mpi_exit_crash.py)
  else()
    set(_kinterp_mpi_launcher "")
  endif()
endif()

function(kinterp_add_test name)
  cmake_parse_arguments(ARG "" "COST" "SOURCES;RANKS;THREADS;LIBRARIES" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE kinterp_test_main ${ARG_LIBRARIES} kinterp_private_options)
  kinterp_precompiled_headers(${name})
  kinterp_add_mpi_tests(${name} RANKS ${ARG_RANKS} THREADS ${ARG_THREADS} COST ${ARG_COST})
endfunction()

# kinterp_add_mpi_tests(<target> [RANKS <counts...>] [THREADS <counts...>] [COST <seconds>])
#
# Registers <target>_np<R>_t<T> for an executable that is not a GoogleTest
# program (the C and Fortran API tests): it passes when it exits with 0.
function(kinterp_add_mpi_tests name)
  cmake_parse_arguments(ARG "" "COST" "RANKS;THREADS" ${ARGN})
  if(NOT ARG_COST)
    set(ARG_COST 0)
  endif()
  if(NOT ARG_RANKS)
    set(ARG_RANKS 1)
  endif()
  if(NOT ARG_THREADS)
    set(ARG_THREADS 1)
  endif()
  set(variants "")
  foreach(ranks IN LISTS ARG_RANKS)
    foreach(threads IN LISTS ARG_THREADS)
      list(APPEND variants "${ranks} ${threads}")
    endforeach()
  endforeach()
  if(KINTERP_SANITIZE)
    list(SORT ARG_RANKS COMPARE NATURAL)
    list(SORT ARG_THREADS COMPARE NATURAL)
    list(GET ARG_RANKS 0 fewest_ranks)
    list(GET ARG_THREADS 0 fewest_threads)
    list(GET ARG_THREADS -1 most_threads)
    set(odd_ranks ${fewest_ranks})
    foreach(ranks IN LISTS ARG_RANKS)
      if(ranks LESS_EQUAL 3)
        set(odd_ranks ${ranks})
      endif()
    endforeach()
    set(variants "${fewest_ranks} ${fewest_threads}" "${odd_ranks} ${most_threads}")
    list(REMOVE_DUPLICATES variants)
  endif()
  foreach(variant IN LISTS variants)
    separate_arguments(variant)
    list(GET variant 0 ranks)
    list(GET variant 1 threads)
    set(test ${name}_np${ranks}_t${threads})
    set(sanitizer_env ${KINTERP_SANITIZER_ENV})
    if(ranks EQUAL 1)
      set(sanitizer_env ${KINTERP_SANITIZER_LEAK_ENV})
    endif()
    add_test(NAME ${test}
      COMMAND ${_kinterp_mpi_launcher} ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${ranks}
              ${_kinterp_mpiexec_flags} $<TARGET_FILE:${name}> ${MPIEXEC_POSTFLAGS})
    set_tests_properties(${test} PROPERTIES
      TIMEOUT ${KINTERP_TEST_TIMEOUT}
      PROCESSORS ${ranks}
      COST ${ARG_COST}
      # Passive OpenMP waits: with more threads than cores, spinning threads
      # starve the ones doing work (a 2-thread x 4-rank solve: 140 s -> 1 s).
      ENVIRONMENT "OMP_NUM_THREADS=${threads};OMP_PROC_BIND=false;OMP_WAIT_POLICY=passive;${_kinterp_mpi_env};${sanitizer_env}")
  endforeach()
endfunction()
