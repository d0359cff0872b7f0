#pragma once
/// \file OutputFile.hpp
/// Outputs that appear whole or not at all. Every writer of kinterp (.npy,
/// CSV, HDF5, checkpoints) writes under a temporary name beside the output and
/// gives the output its name, by rename, only once the data are complete and
/// synced: a job killed while writing (a time limit, a node failure) leaves
/// the previous file, or none, never one that reads as a plausible result.
/// Front ends call require_writable before long work, so that an output that
/// cannot be written fails at once, not after the solve.

#include <mpi.h>

#include <string>

namespace kinterp::io {

/// "<path>.tmp": the name an output is written under until it is complete.
std::string temporary_path(const std::string& path);

/// Collective. Fails with the same kinterp::Error on every rank unless a file
/// can be written at `path`: its directory exists and is writable, and `path`
/// is not a directory or a read-only file. Checked by rank 0 (outputs live on
/// a file system shared by all ranks).
void require_writable(MPI_Comm comm, const std::string& path);

/// Whether `a` and `b` are the same file (by file identity when both exist:
/// links and relative paths see through; else by their normalised paths).
bool same_file(const std::string& a, const std::string& b);

namespace detail {

/// Collective, after every rank has written and closed `temporary`: rank 0
/// renames it to `path` (replacing an older file); the same Error on every
/// rank if that fails.
void commit_output(MPI_Comm comm, const std::string& temporary, const std::string& path);

/// For tests of the above: a process started with KINTERP_TEST_FAULT=`point`
/// in its environment kills itself here with SIGKILL, as a job killed by its
/// scheduler at that moment would be. Points: "output-before-rename".
void fault_point(const char* point);

}  // namespace detail

}  // namespace kinterp::io
