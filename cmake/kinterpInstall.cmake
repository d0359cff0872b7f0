# `cmake --install` puts the headers, the libraries, the kinterp tool and a
# CMake package under the prefix; code then uses kinterp with
#   find_package(kinterp REQUIRED)
#   target_link_libraries(app PRIVATE kinterp::kinterp)   # C++ and C
#   target_link_libraries(app PRIVATE kinterp::kinterp_fortran)   # Fortran
include(CMakePackageConfigHelpers)

set(KINTERP_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/kinterp)
set(_kinterp_installed_targets kinterp)
if(KINTERP_ENABLE_FORTRAN)
  list(APPEND _kinterp_installed_targets kinterp_fortran)
  install(DIRECTORY ${PROJECT_BINARY_DIR}/src/fortran/modules/
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kinterp/fortran)
endif()
install(TARGETS ${_kinterp_installed_targets} EXPORT kinterpTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/kinterp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT kinterpTargets NAMESPACE kinterp:: DESTINATION ${KINTERP_INSTALL_CMAKEDIR})

# The config finds MPI, Kokkos and Kokkos Kernels again, by default the same
# installs kinterp was built with.
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/kinterpConfig.cmake.in
  ${PROJECT_BINARY_DIR}/kinterpConfig.cmake INSTALL_DESTINATION ${KINTERP_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/kinterpConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/kinterpConfig.cmake
              ${PROJECT_BINARY_DIR}/kinterpConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/kinterpDependencies.cmake
        DESTINATION ${KINTERP_INSTALL_CMAKEDIR})
