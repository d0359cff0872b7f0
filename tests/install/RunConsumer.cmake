# cmake -P script for the install_consumer test (see CMakeLists.txt here).

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE failed OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(failed)
    message(FATAL_ERROR "install_consumer: ${what} failed (${failed}):\n${ARGN}\n${out}")
  endif()
  message(STATUS "${what}: ok\n${out}")
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

set(configure ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/build
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix}
  -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
if(FORTRAN)
  list(APPEND configure -DCONSUMER_FORTRAN=ON -DCMAKE_Fortran_COMPILER=${Fortran_COMPILER})
endif()
if(SANITIZE)
  # The installed library was built with sanitizers; so must the program be.
  list(APPEND configure "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=${SANITIZE}")
endif()
run("configure the consumer" ${configure})
run("build the consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)

set(programs consumer_cxx consumer_c)
if(FORTRAN)
  list(APPEND programs consumer_fortran)
endif()
foreach(program IN LISTS programs)
  run("${program} on 2 ranks" ${MPIEXEC} -n 2 ${MPIEXEC_FLAGS} ${WORK_DIR}/build/${program})
endforeach()
