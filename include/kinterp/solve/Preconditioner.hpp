#pragma once
/// \file Preconditioner.hpp
/// What preconditioned CG asks of a preconditioner M (an approximation of the
/// operator A whose inverse is cheap to apply):
///
///   void apply(const ConstMatrix& r, const Matrix& z) const;  // z = M^-1 r, collective
///
/// with the operator's Matrix / ConstMatrix types (this rank's rows, n_r x m,
/// each column on its own). M must be symmetric positive definite and the same
/// at every application; CG stops with DivergedIndefinitePreconditioner when
/// r^T M^-1 r is not positive, and with DivergedStagnation when it stalls (as
/// it does for a non-symmetric or changing M).

#include <Kokkos_Core.hpp>

#include <type_traits>

namespace kinterp {

/// M = I: plain CG. conjugate_gradient recognises it and never calls apply, so
/// that plain CG does no extra copy or product.
struct IdentityPreconditioner {
  /// z = r. Collective (trivially).
  template <class ConstMatrix, class Matrix>
  void apply(const ConstMatrix& r, const Matrix& z) const {
    Kokkos::deep_copy(z, r);
  }
};

template <class Preconditioner>
inline constexpr bool is_identity_preconditioner_v =
    std::is_same_v<std::decay_t<Preconditioner>, IdentityPreconditioner>;

}  // namespace kinterp
