#include "base/logging.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>

namespace fdb {

namespace {

// Process-wide, as the standard output it replaces: every thread of every layer logs to one
// destination at one level, and passing a logger to each of them would buy nothing.
std::atomic<int> g_level{static_cast<int>(LogLevel::kNotice)};
std::atomic<int> g_fd{STDOUT_FILENO};
std::atomic<bool> g_syslog{false};
// openlog(3) keeps the pointer it is given, so the ident lives here for the process's life.
std::string* g_syslog_ident = nullptr;

constexpr char kLevelChars[] = {'.', '-', '*', '#'};
// Redis's syslogLevelMap.
constexpr int kSyslogPriorities[] = {LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARNING};

}  // namespace

bool ParseLogLevel(std::string_view name, LogLevel* out) {
  static constexpr struct {
    const char* name;
    LogLevel level;
  } kNames[] = {{"debug", LogLevel::kDebug},
                {"verbose", LogLevel::kVerbose},
                {"notice", LogLevel::kNotice},
                {"warning", LogLevel::kWarning},
                {"nothing", LogLevel::kNothing}};
  for (const auto& n : kNames) {
    if (name.size() == strlen(n.name) && strncasecmp(name.data(), n.name, name.size()) == 0) {
      *out = n.level;
      return true;
    }
  }
  return false;
}

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }

LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed)); }

bool LogEnabled(LogLevel level) {
  return level != LogLevel::kNothing &&
         static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

Status OpenLogFile(const std::string& path) {
  int fd = STDOUT_FILENO;  // logfile "": standard output, as redis-server
  if (!path.empty()) {
    fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return Status::IOError("Can't open the log file: " + std::string(strerror(errno)));
  }
  int old = g_fd.exchange(fd);
  if (old != STDOUT_FILENO && old != fd) close(old);
  return Status::OK();
}

void OpenSyslog(const std::string& ident, int facility) {
  if (g_syslog_ident == nullptr) g_syslog_ident = new std::string();
  *g_syslog_ident = ident;
  // LOG_NDELAY: connect now, while the process may still reach /dev/log (a sandbox may close it
  // later); no LOG_CONS, so a missing logger never sends lines to the console.
  openlog(g_syslog_ident->c_str(), LOG_PID | LOG_NDELAY, facility);
  g_syslog.store(true);
}

void LogPrintf(LogLevel level, const char* fmt, ...) {
  if (!LogEnabled(level)) return;
  // Header (at most ~40 bytes), message, newline: well under PIPE_BUF, so one atomic write.
  char line[kMaxLogMessage + 64];
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  struct tm tm;
  localtime_r(&tv.tv_sec, &tm);
  char date[32];
  size_t d = strftime(date, sizeof(date), "%d %b %Y %H:%M:%S", &tm);
  date[d] = '\0';
  int n = snprintf(line, sizeof(line), "%d:M %s.%03d %c ", static_cast<int>(getpid()), date,
                   static_cast<int>(tv.tv_usec / 1000), kLevelChars[static_cast<int>(level)]);
  if (n < 0) return;
  size_t len = static_cast<size_t>(n);
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + len, kMaxLogMessage, fmt, ap);
  va_end(ap);
  if (m > 0) len += static_cast<size_t>(m) < kMaxLogMessage ? m : kMaxLogMessage - 1;
  line[len] = '\0';
  if (g_syslog.load(std::memory_order_relaxed)) {
    // glibc's syslog(3) takes its own lock: safe from any thread.
    syslog(kSyslogPriorities[static_cast<int>(level)], "%s", line + n);
  }
  line[len++] = '\n';
  int fd = g_fd.load(std::memory_order_relaxed);
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, line + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // nowhere to report a failure to log; the line is lost
    off += static_cast<size_t>(w);
  }
}

}  // namespace fdb
