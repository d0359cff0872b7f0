#pragma once
/// \file DenseCholesky.hpp
/// Small dense Cholesky factorisation and solves in double, on the host, for
/// the small systems beside a distributed solve: the Nystrom preconditioner's
/// k x k Woodbury core, replicated on every rank (k is at most a few thousand,
/// so O(k^3 / 3) once and O(k^2 m) per application are cheap next to the
/// O(n_r k) work on the rows), and kriging's drift systems. Row-major with
/// leading dimension `ld`.

#include <cmath>

namespace kinterp::detail {

/// In place: the lower triangle of the n x n matrix `a` becomes L with L L^T = a
/// (the upper triangle is not read). Returns -1 on success, else the first row
/// whose pivot is not positive (a is then partly overwritten).
inline int cholesky_lower(double* a, int n, int ld) {
  for (int i = 0; i < n; ++i) {
    double* row_i = a + static_cast<long>(i) * ld;
    for (int j = 0; j <= i; ++j) {
      const double* row_j = a + static_cast<long>(j) * ld;
      double sum = 0;
      for (int l = 0; l < j; ++l) sum += row_i[l] * row_j[l];  // contiguous: vectorises
      const double s = row_i[j] - sum;
      if (j < i) {
        row_i[j] = s / row_j[j];
      } else {
        if (!(s > 0)) return i;
        row_i[i] = std::sqrt(s);
      }
    }
  }
  return -1;
}

/// b (n x m, row-major, leading dimension m) := (L L^T)^{-1} b.
inline void cholesky_solve(const double* L, int n, int ld, double* b, int m) {
  // L y = b, one row at a time.
  for (int i = 0; i < n; ++i) {
    const double* row = L + static_cast<long>(i) * ld;
    for (int c = 0; c < m; ++c) {
      double sum = 0;
      for (int l = 0; l < i; ++l) sum += row[l] * b[static_cast<long>(l) * m + c];
      b[static_cast<long>(i) * m + c] = (b[static_cast<long>(i) * m + c] - sum) / row[i];
    }
  }
  // L^T x = y from the last row up: row i of L is column i of L^T, so each solved
  // entry is subtracted from the ones above it along a contiguous row.
  for (int i = n - 1; i >= 0; --i) {
    const double* row = L + static_cast<long>(i) * ld;
    for (int c = 0; c < m; ++c) {
      const double x = b[static_cast<long>(i) * m + c] / row[i];
      b[static_cast<long>(i) * m + c] = x;
      for (int l = 0; l < i; ++l) b[static_cast<long>(l) * m + c] -= row[l] * x;
    }
  }
}

}  // namespace kinterp::detail
