/* What the C API's tests share: CHECK, which prints a failed check with its
 * rank and line and counts it, and expect_status, which checks a call's
 * status and message and that every rank reports the same message. */
#ifndef KINTERP_TESTS_C_CHECKS_H
#define KINTERP_TESTS_C_CHECKS_H

#include <mpi.h>
#include <stdio.h>
#include <string.h>

static int rank = 0, size = 1, failures = 0;

#define CHECK(condition, ...)                                                \
  do {                                                                       \
    if (!(condition)) {                                                      \
      ++failures;                                                            \
      fprintf(stderr, "rank %d, line %d: %s: ", rank, __LINE__, #condition); \
      fprintf(stderr, __VA_ARGS__);                                          \
      fprintf(stderr, "\n");                                                 \
    }                                                                        \
  } while (0)

/* Every rank got `expected`, and the same `message`, containing `text`. */
static void expect_status(int status, int expected, const char* message, const char* text) {
  CHECK(status == expected, "status %d, expected %d (%s)", status, expected, message);
  CHECK(strstr(message, text) != NULL, "the message \"%s\" does not say \"%s\"", message, text);
  unsigned long hash = 5381, low, high;
  for (const char* c = message; *c; ++c) hash = hash * 33 + (unsigned char)*c;
  MPI_Allreduce(&hash, &low, 1, MPI_UNSIGNED_LONG, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&hash, &high, 1, MPI_UNSIGNED_LONG, MPI_MAX, MPI_COMM_WORLD);
  CHECK(low == high, "the ranks report different messages (this one: %s)", message);
}

#endif
