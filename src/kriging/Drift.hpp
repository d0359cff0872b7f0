#pragma once
// The polynomial drift of universal kriging (degree 0: ordinary kriging's
// constant): the monomials of total degree <= p in the points' coordinates,
// centred and scaled to [-1, 1] by the points' global bounding box so that
// P^T K^-1 P stays well conditioned whatever the units.

#include <kinterp/core/Error.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace kinterp::detail {

class Drift {
 public:
  using Matrix = Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::DefaultExecutionSpace>;
  using ConstMatrix =
      Kokkos::View<const double**, Kokkos::LayoutRight, Kokkos::DefaultExecutionSpace>;

  /// Collective: the bounding box of all ranks' points.
  Drift(MPI_Comm comm, const ConstMatrix& points, int degree) : d_(points.extent(1)) {
    std::vector<int> exponent(d_, 0);
    add_monomials(exponent, 0, degree);
    std::vector<double> low(d_, 0), high(d_, 0);
    const auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), points);
    for (int k = 0; k < d_; ++k) {
      low[k] = std::numeric_limits<double>::infinity();
      high[k] = -low[k];
      for (std::size_t i = 0; i < host.extent(0); ++i) {
        low[k] = std::min(low[k], host(i, k));
        high[k] = std::max(high[k], host(i, k));
      }
      low[k] = -low[k];  // one MPI_MAX for both
    }
    std::vector<double> both(low);
    both.insert(both.end(), high.begin(), high.end());
    MPI_Allreduce(MPI_IN_PLACE, both.data(), 2 * d_, MPI_DOUBLE, MPI_MAX, comm);
    centre_.resize(d_);
    inverse_half_width_.resize(d_);
    for (int k = 0; k < d_; ++k) {
      const double lo = -both[k], hi = both[d_ + k];
      centre_[k] = std::isfinite(lo) ? 0.5 * (lo + hi) : 0.0;
      inverse_half_width_[k] = std::isfinite(lo) && hi > lo ? 2 / (hi - lo) : 1.0;
    }
  }

  int terms() const { return static_cast<int>(exponents_.size() / std::max(d_, 1)); }

  /// The drift terms at `points` (n x d): n x terms().
  Matrix evaluate(const ConstMatrix& points) const { return terms_or_gradient(points, {}); }

  /// The gradient of the drift sum_t beta_t p_t at `points` (n x d): n x d.
  Matrix gradient(const ConstMatrix& points, const std::vector<double>& beta) const {
    return terms_or_gradient(points, beta);
  }

 private:
  /// The terms (no `beta`), or the gradient of their combination by `beta`:
  /// d/dx_k of prod_l s_l^e_l, s_l = (x_l - c_l) h_l, is e_k s_k^(e_k - 1) h_k
  /// times the other factors.
  Matrix terms_or_gradient(const ConstMatrix& points, const std::vector<double>& beta) const {
    const int d = d_, q = terms();
    const bool gradient = !beta.empty();
    Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::HostSpace> scaling("kinterp::drift_scaling",
                                                                           2, d);
    Kokkos::View<int**, Kokkos::LayoutRight, Kokkos::HostSpace> exponents(
        "kinterp::drift_exponents", q, d);
    for (int k = 0; k < d; ++k) {
      scaling(0, k) = centre_[k];
      scaling(1, k) = inverse_half_width_[k];
    }
    for (int t = 0; t < q; ++t) {
      for (int k = 0; k < d; ++k) exponents(t, k) = exponents_[t * d + k];
    }
    Kokkos::View<double*, Kokkos::HostSpace> coefficients("kinterp::drift_coefficients", q);
    for (int t = 0; t < q && gradient; ++t) coefficients(t) = beta[t];
    using Space = Kokkos::DefaultExecutionSpace::memory_space;
    const auto s = Kokkos::create_mirror_view_and_copy(Space(), scaling);
    const auto e = Kokkos::create_mirror_view_and_copy(Space(), exponents);
    const auto b = Kokkos::create_mirror_view_and_copy(Space(), coefficients);
    Matrix out("kinterp::drift", points.extent(0), gradient ? d : q);
    Kokkos::parallel_for(
        "kinterp::Drift::evaluate",
        Kokkos::RangePolicy<Kokkos::DefaultExecutionSpace>(0, points.extent(0)),
        KOKKOS_LAMBDA(const std::int64_t i) {
          for (int t = 0; t < q; ++t) {
            // Component `along` of the term's gradient (-1: the term itself).
            for (int along = gradient ? 0 : -1; along < (gradient ? d : 0); ++along) {
              double term = 1;
              for (int k = 0; k < d; ++k) {
                const double u = (points(i, k) - s(0, k)) * s(1, k);
                const int power = e(t, k) - (k == along ? 1 : 0);
                if (power < 0) term = 0;
                if (k == along) term *= e(t, k) * s(1, k);
                for (int p = 0; p < power; ++p) term *= u;
              }
              if (gradient) {
                out(i, along) += b(t) * term;
              } else {
                out(i, t) = term;
              }
            }
          }
        });
    return out;
  }

  /// Every exponent vector with entries from axis `axis` on summing to <= left.
  void add_monomials(std::vector<int>& exponent, int axis, int left) {
    if (axis == d_) {
      exponents_.insert(exponents_.end(), exponent.begin(), exponent.end());
      return;
    }
    for (int p = 0; p <= left; ++p) {
      exponent[axis] = p;
      add_monomials(exponent, axis + 1, left - p);
    }
    exponent[axis] = 0;
  }

  int d_;
  std::vector<int> exponents_;  // terms x d
  std::vector<double> centre_, inverse_half_width_;
};

}  // namespace kinterp::detail
