#pragma once
/// \file ArrayShape.hpp
/// The shape and element size of an array of rows in a file, whatever its
/// format (.npy, HDF5, CSV).

#include <cstdint>
#include <string>

namespace kinterp::io {

struct ArrayShape {
  std::int64_t rows = 0;     ///< N
  std::int64_t columns = 1;  ///< d, or 1 for shape (N,)
  int ndim = 2;              ///< 1: shape (N,); 2: shape (N, d)
  int item_size = 8;         ///< bytes per element in the file: 8 (float64) or 4 (float32)
};

/// "(N,)" or "(N, d)", for messages.
inline std::string shape_text(const ArrayShape& shape) {
  return shape.ndim == 1
             ? "(" + std::to_string(shape.rows) + ",)"
             : "(" + std::to_string(shape.rows) + ", " + std::to_string(shape.columns) + ")";
}

}  // namespace kinterp::io
