# Compiler flags for kinterp's own targets (the library, tools, tests and
# benchmarks). They are never exported to code that links kinterp.

add_library(kinterp_private_options INTERFACE)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(kinterp_private_options INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra>
    # Kernel-sum loops vectorise only when sqrt need not set errno and the
    # `omp simd` reductions are honoured (even in a Serial-only Kokkos build).
    $<$<COMPILE_LANGUAGE:CXX>:-fno-math-errno -fopenmp-simd -ffp-contract=fast>)
  target_compile_definitions(kinterp_private_options INTERFACE KINTERP_OPENMP_SIMD)
  if(KINTERP_ARCH_NATIVE)
    target_compile_options(kinterp_private_options INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-march=native>)
  endif()
endif()
if(KINTERP_SANITIZE)
  target_compile_options(kinterp_private_options INTERFACE
    -fsanitize=${KINTERP_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(kinterp_private_options INTERFACE -fsanitize=${KINTERP_SANITIZE})
endif()
