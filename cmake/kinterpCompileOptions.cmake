# Warnings and machine flags for kinterp's own targets (never exported to users).

add_library(kinterp_private_options INTERFACE)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(kinterp_private_options INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra>)
  if(KINTERP_ARCH_NATIVE)
    target_compile_options(kinterp_private_options INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-march=native>)
  endif()
endif()
if(KINTERP_SANITIZE)
  target_compile_options(kinterp_private_options INTERFACE
    -fsanitize=${KINTERP_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(kinterp_private_options INTERFACE -fsanitize=${KINTERP_SANITIZE})
endif()
