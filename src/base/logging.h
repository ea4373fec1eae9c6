// Logging: Redis's log levels, line format and destinations, for the server, engine and storage.
//
// The model is Redis's serverLog(): a message below the configured level (`loglevel`: debug,
// verbose, notice, warning, nothing) is dropped before it is formatted, and a kept one becomes
// one line
//
//   pid:M dd Mon yyyy hh:mm:ss.mmm L message
//
// where L is '.' (debug), '-' (verbose), '*' (notice) or '#' (warning), written to the file named
// by `logfile`, or to standard output when that is empty (as Redis: its own test suite and
// tools look for log lines there; under systemd both streams reach the journal). The role is
// always M (a replica's lines too: FDB has no forked children, and tools match the format). As in
// Redis, a message is cut at kMaxLogMessage bytes. With `syslog-enabled`, each kept message also
// goes to the system logger (syslog(3)), as in Redis.
//
// Thread-safe, without a lock: the line is formatted into a buffer on the caller's stack (no
// allocation) and written with one write(2) to a descriptor opened with O_APPEND, so lines of
// several threads never interleave (a regular file's appends are atomic on Linux, and a pipe's
// writes up to PIPE_BUF are). Logging is for events, not for every request: a line costs a
// localtime_r() and a system call, and a write to a slow destination (a full pipe) blocks the
// thread that logs, as in Redis. Redis reopens the file for every line so logrotate can move it;
// FDB keeps it open (alternative rejected for now: reopening costs an open/close per line), so
// logrotate must rotate it with `copytruncate` (packaging/fdb.logrotate); O_APPEND makes the
// next line land at the start of the truncated file.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace fdb {

enum class LogLevel : int { kDebug = 0, kVerbose = 1, kNotice = 2, kWarning = 3, kNothing = 4 };

// Bytes of a message kept in a line (Redis's LOG_MAX_LEN); the rest is cut off.
inline constexpr size_t kMaxLogMessage = 1024;

// Parses a `loglevel` value (case-insensitive, as Redis's config enums). false: not a level.
bool ParseLogLevel(std::string_view name, LogLevel* out);

// The process-wide level: messages below it are dropped. Takes effect for the next message.
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Whether a message of `level` would be written (so callers can skip building its arguments).
bool LogEnabled(LogLevel level);

// Sends the lines to `path` from now on (appending; created with mode 0644), or to stdout when
// `path` is empty. Call at startup, before other threads log: the previous file is closed.
// IOError (with errno's text) when the file cannot be opened; the destination is then unchanged.
[[nodiscard]] Status OpenLogFile(const std::string& path);

// Also sends every kept message to the system logger from now on (Redis's syslog-enabled):
// openlog(3) with `ident`, the pid in each message and `facility` (LOG_USER, LOG_LOCAL0...), each
// message at its level's priority (debug: LOG_DEBUG, verbose: LOG_INFO, notice: LOG_NOTICE,
// warning: LOG_WARNING), without the line's own pid and date (the logger adds its own). The line
// still goes to the log file or stdout. Without a system logger (/dev/log absent) the messages
// are dropped by syslog(3), silently. Call at startup, before other threads log.
void OpenSyslog(const std::string& ident, int facility);

// Writes one line at `level` if the level is enabled. printf-style.
void LogPrintf(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace fdb

// The level test happens before the arguments are evaluated.
#define FDB_LOG(level, ...)                                             \
  do {                                                                  \
    if (::fdb::LogEnabled(level)) ::fdb::LogPrintf(level, __VA_ARGS__); \
  } while (0)
#define FDB_LOG_DEBUG(...) FDB_LOG(::fdb::LogLevel::kDebug, __VA_ARGS__)
#define FDB_LOG_VERBOSE(...) FDB_LOG(::fdb::LogLevel::kVerbose, __VA_ARGS__)
#define FDB_LOG_NOTICE(...) FDB_LOG(::fdb::LogLevel::kNotice, __VA_ARGS__)
#define FDB_LOG_WARNING(...) FDB_LOG(::fdb::LogLevel::kWarning, __VA_ARGS__)
