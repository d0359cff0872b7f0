#pragma once
// What the C API's handles (kinterp_c.cpp: kinterp_model;
// kinterp_kriging_c.cpp: kinterp_kriging) share: turning exceptions into a
// status and a message, agreeing on errors across ranks, and copying the
// caller's row-major arrays.

#include <kinterp/kinterp.h>

#include <kinterp/core/Collective.hpp>
#include <kinterp/core/Error.hpp>
#include <kinterp/dist/ProductChoice.hpp>
#include <kinterp/precond/NystromPreconditioner.hpp>
#include <kinterp/precond/VecchiaPreconditioner.hpp>
#include <kinterp/tree/FarFieldRule.hpp>

#include <mpi.h>
#include <Kokkos_Core.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <new>
#include <string>

namespace kinterp::capi {

using Matrix = Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::DefaultExecutionSpace>;
/// The caller's arrays, row-major.
using HostRows =
    Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>;
using ConstHostRows =
    Kokkos::View<const double**, Kokkos::LayoutRight, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>;

/// The message of calls without a handle (kinterp_create...).
extern thread_local std::string global_error;
/// Handles alive (models and kriging objects): kinterp_finalize refuses
/// while there are any.
extern std::atomic<int> live_handles;

/// An error with its status code (kinterp::Error alone is bad input).
struct CodedError : Error {
  CodedError(kinterp_status code, const std::string& what) : Error(what), code(code) {}
  kinterp_status code;
};

inline CodedError state_error(const std::string& what) {
  return {KINTERP_ERROR_STATE, what};
}

inline kinterp_status code_of(const std::exception& e) {
  if (const auto* coded = dynamic_cast<const CodedError*>(&e)) return coded->code;
  if (dynamic_cast<const Error*>(&e)) return KINTERP_ERROR_INVALID_ARGUMENT;
  return KINTERP_ERROR_INTERNAL;
}

inline std::string message_of(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e)) return "out of memory";
  return e.what();
}

/// Runs `body`, turning what it throws into a status and a message in `error`.
template <class Body>
int guarded(std::string& error, Body&& body) {
  error.clear();
  try {
    return body();
  } catch (const std::exception& e) {
    error = message_of(e);
    return code_of(e);
  } catch (...) {
    error = "an unknown exception";
    return KINTERP_ERROR_INTERNAL;
  }
}

/// Runs a call on the object behind `handle` (its `error` member takes the
/// message); a NULL handle is a state error, reported by the global message.
template <class Handle, class Body>
int on_handle(Handle handle, const char* create_call, Body&& body) {
  if (!handle) {
    global_error = std::string("the handle is NULL: create it with ") + create_call + " first";
    return KINTERP_ERROR_STATE;
  }
  return guarded(handle->error, [&] {
    body(*handle);
    return KINTERP_SUCCESS;
  });
}

/// Collective. Runs the local `body` on every rank; if it throws on some
/// ranks, every rank throws the error (code and message) of the lowest one.
template <class Body>
void agree(MPI_Comm comm, Body&& body) {
  bool failed = false;
  int code = KINTERP_SUCCESS;
  std::string message;
  try {
    body();
  } catch (const std::exception& e) {
    failed = true;
    code = code_of(e);
    message = message_of(e);
  }
  if (agree_on_failure(comm, failed, message, code)) {
    throw CodedError(static_cast<kinterp_status>(code), message);
  }
}

/// Collective: throws on every rank unless all ranks gave the same `settings`
/// (a text of everything that must agree); `what` lists them for the message.
inline void require_same_settings(MPI_Comm comm, const std::string& settings,
                                  const std::string& what) {
  if (!same_on_every_rank(comm, settings)) {
    throw Error("the ranks disagree on " + what + ": every rank must make the same settings");
  }
}

/// Checks that MPI and Kokkos run and `comm` is a communicator (the create calls).
void require_running(MPI_Comm comm, const char* call);

/// The create calls: a new Object on `comm` in *handle (NULL after a failure).
template <class Object>
int create_handle(MPI_Comm comm, Object** handle, const char* call) {
  return guarded(global_error, [&] {
    if (!handle) throw Error(std::string(call) + ": the handle's address is NULL");
    *handle = nullptr;
    require_running(comm, call);
    *handle = new Object(comm);
    ++live_handles;
    return KINTERP_SUCCESS;
  });
}

/// The destroy calls: frees *handle and sets it to NULL (NULL: nothing to do).
template <class Object>
int destroy_handle(Object** handle) {
  if (handle && *handle) {
    delete *handle;
    *handle = nullptr;
    --live_handles;
  }
  return KINTERP_SUCCESS;
}

inline std::string require_text(const char* text, const char* what) {
  if (!text) throw Error(std::string(what) + " is NULL: pass a C string");
  return text;
}

/// The set_preconditioner calls: a Nystrom rank (0: none); a nonzero one
/// replaces the Vecchia preconditioner.
inline void choose_nystrom(int rank, NystromOptions& nystrom, VecchiaOptions& vecchia) {
  if (rank < 0) {
    throw Error("the preconditioner's rank (landmarks) is " + std::to_string(rank) +
                ": give 0 (none) or a positive number, such as 500");
  }
  nystrom.rank = rank;
  if (rank > 0) vecchia.neighbors = 0;
}

/// The set_vecchia calls: the neighbors (0: none); nonzero replaces Nystrom.
inline void choose_vecchia(int neighbors, NystromOptions& nystrom, VecchiaOptions& vecchia) {
  if (neighbors < 0) {
    throw Error("the Vecchia preconditioner's neighbors are " + std::to_string(neighbors) +
                ": give 0 (none) or a positive number, such as 30");
  }
  vecchia.neighbors = neighbors;
  if (neighbors > 0) nystrom.rank = 0;
}

/// The set_product calls: the engine by name, with a tolerance in the tree's
/// range (0: the default; only 0 with "direct").
inline ProductEngine checked_product(const char* engine, double tolerance) {
  const auto chosen = product_engine_from_name(require_text(engine, "the engine"));
  if (tolerance != 0) {
    if (chosen == ProductEngine::Direct) {
      throw Error(
          "the direct product is exact to rounding: give tolerance 0 with \"direct\", "
          "or use \"tree\" (or \"auto\")");
    }
    // The range of double products (mixed precision's float ones raise it
    // to their smallest).
    FarFieldRule::check_tolerance<double>(tolerance);
  }
  return chosen;
}

/// A copy of rows x columns doubles at `data` (row-major) in device memory.
inline Matrix to_device(const double* data, std::int64_t rows, int columns, const char* label) {
  if (rows < 0) throw Error(std::string("the number of ") + label + " is negative");
  if (rows > 0 && !data) {
    throw Error(std::string("the ") + label + " array is NULL but " + std::to_string(rows) +
                " rows are given");
  }
  Matrix device(Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string("kinterp::") + label),
                rows, columns);
  if (rows > 0) {
    Kokkos::deep_copy(device, ConstHostRows(data, rows, columns));
  }
  return device;
}

/// Throws unless the caller's output array is there for its `rows` rows.
inline void require_output(std::int64_t rows, const double* data, const char* call,
                           const char* what) {
  if (rows > 0 && !data) throw Error(std::string(call) + ": the " + what + " array is NULL");
}

/// Copies `device` (rows x columns) to the caller's `data`.
inline void to_host(const Matrix& device, double* data) {
  if (device.size() > 0) {
    Kokkos::deep_copy(HostRows(data, device.extent(0), device.extent(1)), device);
  }
}

}  // namespace kinterp::capi
