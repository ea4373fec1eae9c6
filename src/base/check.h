// Invariant checks.
//
// FDB_CHECK(cond) and FDB_CHECK_MSG(cond, fmt, ...) stay on in every build: when the condition
// is false they log file:line, the condition and the message at warning level (base/logging.h)
// and abort. Use them where going on would write wrong data or hand out corrupt memory (record
// framing, sizes of buffers about to be written, state machines of the log writer): a crash with
// a message is recoverable from the log, a corrupt log is not. Their cost is one predictable
// branch.
//
// FDB_DCHECK(cond) is checked only in builds without NDEBUG (Debug and the ASan build), for
// preconditions on hot paths whose violation is a programming error caught by the tests. In
// release builds the condition is not evaluated (but still compiled, so it cannot rot).
//
// Operating errors (I/O, corruption found on disk, bad input) are never checks: they are
// Status results (STYLE.md: assertions for programmer errors, statuses for operating errors).
#pragma once

namespace fdb::check_internal {

// Log the failure and abort. Out of line and cold so the checks stay small at their call site.
[[noreturn]] void CheckFailed(const char* file, int line, const char* cond)
    __attribute__((cold, noinline));
[[noreturn]] void CheckFailedMsg(const char* file, int line, const char* cond, const char* fmt, ...)
    __attribute__((cold, noinline, format(printf, 4, 5)));

}  // namespace fdb::check_internal

#define FDB_CHECK(cond)                                              \
  do {                                                               \
    if (__builtin_expect(!(cond), 0))                                \
      ::fdb::check_internal::CheckFailed(__FILE__, __LINE__, #cond); \
  } while (0)

// fmt and its arguments are evaluated only when the check fails.
#define FDB_CHECK_MSG(cond, ...)                                                     \
  do {                                                                               \
    if (__builtin_expect(!(cond), 0))                                                \
      ::fdb::check_internal::CheckFailedMsg(__FILE__, __LINE__, #cond, __VA_ARGS__); \
  } while (0)

#ifdef NDEBUG
#define FDB_DCHECK(cond)   \
  do {                     \
    if (false && (cond)) { \
    }                      \
  } while (0)
#else
#define FDB_DCHECK(cond) FDB_CHECK(cond)
#endif
