# Finds MPI, Kokkos and Kokkos Kernels. An existing Kokkos install is taken from
# Kokkos_ROOT / KokkosKernels_ROOT / CMAKE_PREFIX_PATH (Spack, modules, or the
# one scripts/setup.sh builds into .deps/install). Installed beside
# kinterpConfig.cmake, it finds them again for code that uses kinterp.

if(NOT KINTERP_MPI_COMPONENTS)
  set(KINTERP_MPI_COMPONENTS C CXX)
  if(KINTERP_ENABLE_FORTRAN)
    list(APPEND KINTERP_MPI_COMPONENTS Fortran)
  endif()
endif()
find_package(MPI REQUIRED COMPONENTS ${KINTERP_MPI_COMPONENTS})
find_package(Kokkos REQUIRED)
find_package(KokkosKernels REQUIRED)

# Standalone Kokkos Kernels exports Kokkos::kokkoskernels; a Trilinos build (such
# as Debian's libtrilinos-kokkos-kernels-dev) exports trilinos_kokkoskernels.
if(TARGET Kokkos::kokkoskernels)
  set(KINTERP_KOKKOSKERNELS_TARGET Kokkos::kokkoskernels)
elseif(TARGET trilinos_kokkoskernels)
  set(KINTERP_KOKKOSKERNELS_TARGET trilinos_kokkoskernels)
else()
  message(FATAL_ERROR "kinterp: Kokkos Kernels was found in ${KokkosKernels_DIR} "
    "but defines neither Kokkos::kokkoskernels nor trilinos_kokkoskernels")
endif()

# Debian's Trilinos packages export Kokkos::kokkos with the include directory
# /usr/lib/include, which does not exist (CMake then refuses the target), and
# trilinos_kokkoskernels with none. Drop what does not exist and add the
# directories the package configs name in <Package>_INCLUDE_DIRS.
function(kinterp_repair_include_dirs target extra_dirs)
  get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
  if(NOT dirs)
    set(dirs "")
  endif()
  set(repaired "")
  foreach(dir IN LISTS dirs extra_dirs)
    if(dir MATCHES "^\\$<" OR IS_DIRECTORY "${dir}")
      get_filename_component(dir "${dir}" REALPATH)
      list(APPEND repaired "${dir}")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES repaired)
  if(NOT "${repaired}" STREQUAL "${dirs}")
    message(STATUS "kinterp: include directories of ${target} repaired: ${repaired}")
    set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${repaired}")
  endif()
endfunction()
kinterp_repair_include_dirs(Kokkos::kokkos "${Kokkos_INCLUDE_DIRS}")
kinterp_repair_include_dirs(${KINTERP_KOKKOSKERNELS_TARGET} "${KokkosKernels_INCLUDE_DIRS}")

message(STATUS "kinterp: Kokkos ${Kokkos_VERSION} (${Kokkos_DEVICES}) from ${Kokkos_DIR}")
message(STATUS "kinterp: Kokkos Kernels ${KokkosKernels_VERSION} from ${KokkosKernels_DIR}")
