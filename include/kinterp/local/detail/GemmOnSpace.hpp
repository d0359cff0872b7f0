#pragma once
/// \file GemmOnSpace.hpp
/// KokkosBlas::gemm ordered on an execution space instance, whatever the
/// Kokkos Kernels version.

#include <KokkosBlas3_gemm.hpp>
#include <Kokkos_Core.hpp>

namespace kinterp::detail::gemm_sum {

/// C = alpha op(A) op(B) + beta C, ordered after the work already on `space`.
/// Kokkos Kernels 3.6 added the gemm that takes an execution space instance;
/// before it, gemm runs on the default instance (or in the host BLAS), so the
/// call is fenced on both sides.
template <class ExecutionSpace, class AView, class BView, class CView>
void gemm_on(const ExecutionSpace& space, const char* trans_a, const char* trans_b,
             typename CView::const_value_type alpha, const AView& a, const BView& b,
             typename CView::const_value_type beta, const CView& c) {
#if defined(KOKKOSKERNELS_VERSION) && KOKKOSKERNELS_VERSION >= 30600
  KokkosBlas::gemm(space, trans_a, trans_b, alpha, a, b, beta, c);
#else
  space.fence();
  KokkosBlas::gemm(trans_a, trans_b, alpha, a, b, beta, c);
  ExecutionSpace().fence();
#endif
}

}  // namespace kinterp::detail::gemm_sum
