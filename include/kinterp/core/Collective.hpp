#pragma once
/// \file Collective.hpp
/// Agreeing on errors across ranks, so that no rank is left waiting in a
/// collective while another one throws.

#include <mpi.h>

#include <string>

namespace kinterp {

/// Collective over `comm`. If `failed` is true on any rank, every rank throws a
/// kinterp::Error carrying the message of the lowest failing rank (so messages
/// should name global rows, not local ones). Otherwise returns.
void throw_if_any(MPI_Comm comm, bool failed, const std::string& message);

/// Collective over `comm`: whether `failed` is true on any rank. If it is, every
/// rank's `message` and `code` become those of the lowest failing rank (for a
/// caller that has more to agree on than a message, such as a status code).
bool agree_on_failure(MPI_Comm comm, bool failed, std::string& message, int& code);

/// Collective over `comm`: whether `text` (say, settings that every rank must
/// give alike) is the same on every rank, compared by a hash.
bool same_on_every_rank(MPI_Comm comm, const std::string& text);

/// Collective. Runs `body` and turns a kinterp::Error (or any std::exception)
/// thrown on some ranks into the same Error on all ranks. `body` must not itself
/// call collectives after the point where it may throw on only some ranks.
template <class Body>
void agree_on_errors(MPI_Comm comm, Body&& body) {
  std::string message;
  bool failed = false;
  try {
    body();
  } catch (const std::exception& e) {
    failed = true;
    message = e.what();
  }
  throw_if_any(comm, failed, message);
}

}  // namespace kinterp
