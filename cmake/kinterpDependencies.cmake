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

# Parallel HDF5, optional. KINTERP_ENABLE_HDF5 is AUTO (use it when found), ON
# (required) or OFF; the installed config sets ON when kinterp was built with
# it (the static library needs it at link time) and OFF otherwise, and the
# libraries found then in KINTERP_HDF5_LINK_LIBRARIES, which it links without
# searching again. Sets
# KINTERP_HAVE_HDF5 and, when ON, the imported target kinterp::hdf5 that the
# library links privately (built from FindHDF5's variables: CMake 3.16's
# FindHDF5 has no targets).
if(NOT DEFINED KINTERP_ENABLE_HDF5)
  set(KINTERP_ENABLE_HDF5 AUTO)
endif()
string(TOUPPER "${KINTERP_ENABLE_HDF5}" _kinterp_hdf5_mode)
set(KINTERP_HAVE_HDF5 OFF)
if(_kinterp_hdf5_mode STREQUAL "OFF")
  message(STATUS "kinterp: without HDF5 I/O (KINTERP_ENABLE_HDF5=OFF)")
elseif(KINTERP_HDF5_LINK_LIBRARIES)
  # The installed config: the HDF5 libraries kinterp was built with.
  set(KINTERP_HAVE_HDF5 ON)
  if(NOT TARGET kinterp::hdf5)
    add_library(kinterp::hdf5 INTERFACE IMPORTED)
    set_target_properties(kinterp::hdf5 PROPERTIES
      INTERFACE_LINK_LIBRARIES "${KINTERP_HDF5_LINK_LIBRARIES}")
  endif()
else()
  set(HDF5_PREFER_PARALLEL TRUE)
  find_package(HDF5 QUIET COMPONENTS C)
  if(HDF5_FOUND AND HDF5_IS_PARALLEL)
    set(KINTERP_HAVE_HDF5 ON)
    if(NOT TARGET kinterp::hdf5)
      add_library(kinterp::hdf5 INTERFACE IMPORTED)
      set_target_properties(kinterp::hdf5 PROPERTIES
        INTERFACE_INCLUDE_DIRECTORIES "${HDF5_C_INCLUDE_DIRS}"
        INTERFACE_LINK_LIBRARIES "${HDF5_C_LIBRARIES}")
      set(_kinterp_hdf5_definitions "")
      separate_arguments(_kinterp_hdf5_flags UNIX_COMMAND "${HDF5_C_DEFINITIONS}")
      foreach(_kinterp_flag IN LISTS _kinterp_hdf5_flags)
        string(REGEX REPLACE "^-D" "" _kinterp_flag "${_kinterp_flag}")
        list(APPEND _kinterp_hdf5_definitions "${_kinterp_flag}")
      endforeach()
      if(_kinterp_hdf5_definitions)
        set_target_properties(kinterp::hdf5 PROPERTIES
          INTERFACE_COMPILE_DEFINITIONS "${_kinterp_hdf5_definitions}")
      endif()
    endif()
    set(KINTERP_HDF5_LINK_LIBRARIES "${HDF5_C_LIBRARIES}")
    message(STATUS "kinterp: parallel HDF5 ${HDF5_VERSION} (${HDF5_C_INCLUDE_DIRS})")
  else()
    if(HDF5_FOUND)
      set(_kinterp_hdf5_why "the HDF5 found (${HDF5_C_INCLUDE_DIRS}) is serial")
    else()
      set(_kinterp_hdf5_why "no HDF5 found")
    endif()
    if(_kinterp_hdf5_mode STREQUAL "ON")
      message(FATAL_ERROR "kinterp: parallel HDF5 is required (KINTERP_ENABLE_HDF5=ON) but "
        "${_kinterp_hdf5_why}; install libhdf5-openmpi-dev (Debian) or an HDF5 built with MPI, "
        "or point HDF5_ROOT at one")
    endif()
    message(STATUS "kinterp: without HDF5 I/O: ${_kinterp_hdf5_why} (install "
      "libhdf5-openmpi-dev for .h5 files)")
  endif()
endif()
