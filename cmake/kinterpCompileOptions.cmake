# Compiler flags for kinterp's own targets (the library, tools, tests and
# benchmarks). They are never exported to code that links kinterp.

add_library(kinterp_private_options INTERFACE)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(kinterp_private_options INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra>
    # Kernel-sum loops vectorise only when sqrt need not set errno (the
    # `omp simd` reductions come with the kinterp target, src/CMakeLists.txt).
    $<$<COMPILE_LANGUAGE:CXX>:-fno-math-errno -ffp-contract=fast>)
  if(KINTERP_ARCH_NATIVE)
    target_compile_options(kinterp_private_options INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-march=native>)
    # The generic evaluator's loops are vectorised by the compiler, which
    # prefers 256-bit vectors even where AVX-512 exists; the compiled kernels
    # use 512-bit vectors explicitly already. 1.2-1.5x on the generic path.
    include(CheckCXXCompilerFlag)
    check_cxx_compiler_flag(-mprefer-vector-width=512 KINTERP_HAS_PREFER_VECTOR_WIDTH)
    if(KINTERP_HAS_PREFER_VECTOR_WIDTH)
      target_compile_options(kinterp_private_options INTERFACE
        $<$<COMPILE_LANGUAGE:CXX>:-mprefer-vector-width=512>)
    endif()
  endif()
endif()
if(KINTERP_SANITIZE)
  set(_kinterp_sanitize_flags -fsanitize=${KINTERP_SANITIZE})
  if(KINTERP_NO_SANITIZE)
    list(APPEND _kinterp_sanitize_flags -fno-sanitize=${KINTERP_NO_SANITIZE})
  endif()
  target_compile_options(kinterp_private_options INTERFACE
    ${_kinterp_sanitize_flags} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(kinterp_private_options INTERFACE ${_kinterp_sanitize_flags})
endif()

# Kokkos_Core.hpp and mpi.h take about 2 s of every C++ file's compile, most
# of a test's. The library precompiles them for its own files; kinterp's
# programs reuse a copy made with only the flags they all share (GCC refuses a
# precompiled header made with a macro the user does not define, such as the
# library's KINTERP_HAVE_HDF5). Never for tests/headers, which checks that each
# header includes what it uses.
option(KINTERP_PRECOMPILE_HEADERS "Precompile Kokkos_Core.hpp and mpi.h for kinterp's own targets" ON)
set(_kinterp_pch_headers
  "$<$<COMPILE_LANGUAGE:CXX>:<Kokkos_Core.hpp$<ANGLE-R>>" "$<$<COMPILE_LANGUAGE:CXX>:<mpi.h$<ANGLE-R>>")
function(kinterp_precompiled_headers target)
  if(NOT KINTERP_PRECOMPILE_HEADERS)
    return()
  endif()
  if(target STREQUAL "kinterp")
    target_precompile_headers(kinterp PRIVATE ${_kinterp_pch_headers})
    return()
  endif()
  if(NOT TARGET kinterp_pch)
    file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/kinterp_pch.cpp CONTENT "// precompiled headers only\n")
    add_library(kinterp_pch OBJECT ${PROJECT_BINARY_DIR}/kinterp_pch.cpp)
    target_link_libraries(kinterp_pch PRIVATE kinterp kinterp_private_options)
    target_precompile_headers(kinterp_pch PRIVATE ${_kinterp_pch_headers})
  endif()
  target_precompile_headers(${target} REUSE_FROM kinterp_pch)
endfunction()
