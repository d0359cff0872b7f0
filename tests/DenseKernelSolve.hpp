#pragma once
// The reference of the solver tests: (K + D) a = b solved by LAPACK's dense
// Cholesky (dposv), all columns, with K from the long double reference kernel.

#include "KernelReference.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

extern "C" void dposv_(const char* uplo, const int* n, const int* nrhs, double* a, const int* lda,
                       double* b, const int* ldb, int* info);

namespace kinterp::test {

/// x with A x = b by LAPACK's dense Cholesky (dposv): A is n x n, column-major
/// (only its lower triangle is read), b is n x m.
inline HostMatrix<double> dense_spd_solve(std::vector<double> A, const HostMatrix<double>& b,
                                          const char* what = "dense Cholesky") {
  const int n = static_cast<int>(b.rows), m = static_cast<int>(b.cols);
  std::vector<double> rhs(std::size_t(n) * m);
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < m; ++c) rhs[std::size_t(c) * n + i] = b(i, c);
  int info = 0;
  dposv_("L", &n, &m, A.data(), &n, rhs.data(), &n, &info);
  EXPECT_EQ(info, 0) << what << " failed";
  HostMatrix<double> x(n, m);
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < m; ++c) x(i, c) = rhs[std::size_t(c) * n + i];
  return x;
}

/// a with (K_xx + diag(diagonal(i))) a = b, for `diagonal` a callable of the row.
template <class Diagonal>
HostMatrix<double> dense_kernel_solve(const KernelSpec& spec, const HostMatrix<double>& x,
                                      const HostMatrix<double>& b, Diagonal&& diagonal) {
  const int n = static_cast<int>(x.rows);
  std::vector<double> A(std::size_t(n) * n);  // column-major; symmetric anyway
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      A[std::size_t(j) * n + i] =
          static_cast<double>(reference_kernel(spec, reference_distance(x, i, x, j))) +
          (i == j ? diagonal(i) : 0.0);
    }
  }
  return dense_spd_solve(std::move(A), b);
}

/// a (n x d) with sum_{j, e} M(i, c, j, e) a(j, e) = b(i, c): the n*d x n*d
/// system of a vector-valued kernel, M symmetric positive definite.
template <class Entry>
HostMatrix<double> dense_block_solve(const HostMatrix<double>& b, Entry&& entry) {
  const int n = static_cast<int>(b.rows), d = static_cast<int>(b.cols), size = n * d;
  std::vector<double> A(std::size_t(size) * size);
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < d; ++c)
      for (int j = 0; j < n; ++j)
        for (int e = 0; e < d; ++e) {
          A[std::size_t(j * d + e) * size + i * d + c] = entry(i, c, j, e);
        }
  HostMatrix<double> stacked(size, 1);  // b row by row: the unknowns' order
  stacked.values = b.values;
  HostMatrix<double> a(n, d);
  a.values = dense_spd_solve(std::move(A), stacked).values;
  return a;
}

}  // namespace kinterp::test
