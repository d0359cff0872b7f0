# kinterp_add_test(<name> SOURCES <files...> [RANKS <counts...>] [THREADS <counts...>])
#
# Builds <name> with the shared MPI + Kokkos + GoogleTest main and registers one
# CTest test per (rank count, thread count): <name>_np<R>_t<T>. RANKS defaults
# to 1; tests of distributed code pass RANKS 1 2 3 4 (oversubscribed here).

find_package(GTest REQUIRED)

set(KINTERP_TEST_TIMEOUT 300 CACHE STRING "Seconds before CTest kills a test (catches hangs)")

# Open MPI refuses to start as root and more ranks than cores unless told.
set(_kinterp_mpiexec_flags ${MPIEXEC_PREFLAGS})
set(_kinterp_mpi_env "")
execute_process(COMMAND ${MPIEXEC_EXECUTABLE} --version OUTPUT_VARIABLE _kinterp_mpiexec_version
  ERROR_QUIET RESULT_VARIABLE _kinterp_mpiexec_failed)
if(NOT _kinterp_mpiexec_failed AND _kinterp_mpiexec_version MATCHES "Open MPI|OpenRTE")
  list(APPEND _kinterp_mpiexec_flags --oversubscribe --bind-to none)
  set(_kinterp_mpi_env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    OMPI_MCA_mpi_yield_when_idle=1 OMPI_MCA_rmaps_base_oversubscribe=1)
endif()

add_library(kinterp_test_main STATIC ${CMAKE_CURRENT_LIST_DIR}/../tests/TestMain.cpp)
target_link_libraries(kinterp_test_main PUBLIC kinterp GTest::gtest kinterp_private_options)

function(kinterp_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;RANKS;THREADS;LIBRARIES" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE kinterp_test_main ${ARG_LIBRARIES} kinterp_private_options)
  kinterp_add_mpi_tests(${name} RANKS ${ARG_RANKS} THREADS ${ARG_THREADS})
endfunction()

# kinterp_add_mpi_tests(<target> [RANKS <counts...>] [THREADS <counts...>])
#
# Registers <target>_np<R>_t<T> for an executable that is not a GoogleTest
# program (the C and Fortran API tests): it passes when it exits with 0.
function(kinterp_add_mpi_tests name)
  cmake_parse_arguments(ARG "" "" "RANKS;THREADS" ${ARGN})
  if(NOT ARG_RANKS)
    set(ARG_RANKS 1)
  endif()
  if(NOT ARG_THREADS)
    set(ARG_THREADS 1)
  endif()
  foreach(ranks IN LISTS ARG_RANKS)
    foreach(threads IN LISTS ARG_THREADS)
      set(test ${name}_np${ranks}_t${threads})
      add_test(NAME ${test}
        COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${ranks} ${_kinterp_mpiexec_flags}
                $<TARGET_FILE:${name}> ${MPIEXEC_POSTFLAGS})
      set_tests_properties(${test} PROPERTIES
        TIMEOUT ${KINTERP_TEST_TIMEOUT}
        PROCESSORS ${ranks}
        # Passive OpenMP waits: with more threads than cores, spinning threads
        # starve the ones doing work (a 2-thread x 4-rank solve: 140 s -> 1 s).
        ENVIRONMENT "OMP_NUM_THREADS=${threads};OMP_PROC_BIND=false;OMP_WAIT_POLICY=passive;${_kinterp_mpi_env}")
    endforeach()
  endforeach()
endfunction()
