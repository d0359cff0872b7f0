#pragma once
// The reference of the solver tests: (K + D) a = b solved by LAPACK's dense
// Cholesky (dposv), all columns, with K from the long double reference kernel.

#include "KernelReference.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <vector>

extern "C" void dposv_(const char* uplo, const int* n, const int* nrhs, double* a, const int* lda,
                       double* b, const int* ldb, int* info);

namespace kinterp::test {

/// a with (K_xx + diag(diagonal(i))) a = b, for `diagonal` a callable of the row.
template <class Diagonal>
HostMatrix<double> dense_kernel_solve(const KernelSpec& spec, const HostMatrix<double>& x,
                                      const HostMatrix<double>& b, Diagonal&& diagonal) {
  const int n = static_cast<int>(x.rows), m = static_cast<int>(b.cols);
  std::vector<double> A(std::size_t(n) * n);  // column-major; symmetric anyway
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      long double r2 = 0;
      for (int k = 0; k < x.cols; ++k) r2 += (x(i, k) - x(j, k)) * (long double)(x(i, k) - x(j, k));
      A[std::size_t(j) * n + i] =
          static_cast<double>(reference_kernel(spec, std::sqrt(r2))) + (i == j ? diagonal(i) : 0.0);
    }
  }
  std::vector<double> rhs(std::size_t(n) * m);
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < m; ++c) rhs[std::size_t(c) * n + i] = b(i, c);
  int info = 0;
  dposv_("L", &n, &m, A.data(), &n, rhs.data(), &n, &info);
  EXPECT_EQ(info, 0) << "dense Cholesky failed";
  HostMatrix<double> a(n, m);
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < m; ++c) a(i, c) = rhs[std::size_t(c) * n + i];
  return a;
}

}  // namespace kinterp::test
