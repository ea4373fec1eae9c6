#include "base/check.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#include "base/logging.h"

namespace fdb::check_internal {

// Written at warning level, which only `loglevel nothing` hides: the abort that follows is the
// last thing the process does, and the line is what says why. It goes to standard error too,
// where a supervisor, a terminal or a death test sees it whatever `logfile` says.
void CheckFailed(const char* file, int line, const char* cond) {
  LogPrintf(LogLevel::kWarning, "check failed at %s:%d: %s", file, line, cond);
  fprintf(stderr, "fdb: check failed at %s:%d: %s\n", file, line, cond);
  abort();
}

void CheckFailedMsg(const char* file, int line, const char* cond, const char* fmt, ...) {
  char msg[kMaxLogMessage];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  LogPrintf(LogLevel::kWarning, "check failed at %s:%d: %s: %s", file, line, cond, msg);
  fprintf(stderr, "fdb: check failed at %s:%d: %s: %s\n", file, line, cond, msg);
  abort();
}

}  // namespace fdb::check_internal
