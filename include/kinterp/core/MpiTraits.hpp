#pragma once
/// \file MpiTraits.hpp
/// C++ scalar types to MPI datatypes, in one place.

#include <mpi.h>

#include <cstdint>

namespace kinterp {

template <class T>
struct MpiTraits;

template <>
struct MpiTraits<double> {
  static MPI_Datatype type() { return MPI_DOUBLE; }
};
template <>
struct MpiTraits<float> {
  static MPI_Datatype type() { return MPI_FLOAT; }
};
template <>
struct MpiTraits<int> {
  static MPI_Datatype type() { return MPI_INT; }
};
template <>
struct MpiTraits<std::int64_t> {
  static MPI_Datatype type() { return MPI_INT64_T; }
};

}  // namespace kinterp
