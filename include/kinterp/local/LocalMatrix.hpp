#pragma once
/// \file LocalMatrix.hpp
/// A rank's rows (rows x columns, row-major) on Kokkos' default execution
/// space: what the library's compiled sums, products and solvers take.

#include <Kokkos_Core.hpp>

namespace kinterp {

template <class T>
using LocalMatrix =
    Kokkos::View<T**, Kokkos::LayoutRight, Kokkos::DefaultExecutionSpace::memory_space>;

}  // namespace kinterp
