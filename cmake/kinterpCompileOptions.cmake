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
  target_compile_options(kinterp_private_options INTERFACE
    -fsanitize=${KINTERP_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(kinterp_private_options INTERFACE -fsanitize=${KINTERP_SANITIZE})
endif()
