// What the server records about its own commands, for the operator: the slow log (SLOWLOG),
// the latency monitor's events (LATENCY LATEST/HISTORY) and per-command latency histograms
// (LATENCY HISTOGRAM, kept in CommandCounters). Redis 7's semantics and reply shapes.
//
// The dispatcher records every command it times (Dispatcher::ExecuteCommand); both logs take
// a mutex only when a command is slow enough to be recorded, so a command under both
// thresholds costs two relaxed loads of the configuration.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "base/mutex.h"
#include "commands/pubsub.h"
#include "commands/registry.h"
#include "protocol/reply_builder.h"

namespace fdb {

struct ClientState;

class SlowLog {
 public:
  // At most this many arguments and bytes of each are kept, as Redis (the rest is summarized
  // as "... (N more arguments)" / "... (N more bytes)").
  static constexpr size_t kMaxArgs = 32;
  static constexpr size_t kMaxArgBytes = 128;

  struct Entry {
    uint64_t id;
    int64_t time_s;  // Unix time when the command was recorded
    int64_t duration_us;
    std::vector<std::string> args;  // trimmed and redacted
    std::string addr;               // the client's "ip:port"
    std::string name;               // the client's name, possibly empty
  };

  // Records a command that took `duration_us`, keeping the newest `max_len` entries.
  // Secrets (AUTH's password, CONFIG SET masterauth's value, ...) are logged as "(redacted)".
  void Record(CmdArgs args, const CommandSpec& spec, int64_t duration_us, ClientState& client,
              size_t max_len);
  // The newest `count` entries, newest first (count < 0: all).
  std::vector<Entry> Get(int64_t count) const;
  size_t Len() const;
  void Reset();

  // The argument list as it is logged (exposed for tests).
  static std::vector<std::string> LoggedArgs(CmdArgs args, const CommandSpec& spec);
  // Which arguments hold secrets, as Redis's redactClientCommandArgument calls (also MONITOR's).
  static std::vector<bool> SecretArgs(CmdArgs args, const CommandSpec& spec);

 private:
  mutable Mutex mu_;
  std::deque<Entry> entries_ ABSL_GUARDED_BY(mu_);  // newest first
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
};

// MONITOR: the clients that asked to see every command, and the feed that tells them.
//
// Each command a client runs (not queued in MULTI, not refused before it ran, not an admin
// command, as Redis) becomes one line, `+<unix seconds>.<micros> [<db> <addr>] "arg" ...`,
// with secrets "(redacted)" as SLOWLOG does; commands a script runs show `lua` as their address;
// EVAL / EVALSHA / FCALL are told before the commands they run, the rest once they ran (so a
// transaction reads MULTI, its commands, EXEC). A line goes to each monitor through its
// connection's push handle, at once on the monitor's own I/O thread and through that thread's
// inbox on another; a monitor that does not read is bounded by the normal class's output hard
// limit and closed past it. Thread-safe; with no monitor a command pays one relaxed load.
class Monitors {
 public:
  // Adds the client whose push handle is `s` (MONITOR); a second call changes nothing.
  void Add(const std::shared_ptr<Subscriber>& s);
  // Removes the client (RESET, close); nothing if it is not a monitor.
  void Remove(uint64_t client_id);
  bool active() const { return count_.load(std::memory_order_relaxed) > 0; }
  size_t size() const { return static_cast<size_t>(count_.load(std::memory_order_relaxed)); }

  // Tells every monitor that `client` (at `addr`: "ip:port" or "lua") ran `args` in `db`.
  // `here`: the caller's I/O thread, or nullptr. Lines for monitors on other threads go
  // through here->Send (see MessageSink::Send); every other line through its thread's inbox.
  void Feed(CmdArgs args, const CommandSpec& spec, int db, std::string_view addr, MessageSink* here,
            int64_t hard_limit);

  // The MONITOR line of a call, without the leading '+' and the CRLF (exposed for tests).
  static std::string Line(int64_t unix_us, int db, std::string_view addr, CmdArgs args,
                          const CommandSpec& spec);

 private:
  mutable Mutex mu_;
  std::vector<std::shared_ptr<Subscriber>> monitors_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> count_{0};
};

// INFO errorstats: error replies by their code (the first word, as Redis: "ERR", "WRONGTYPE",
// "EXECABORT"...), and all of them (INFO stats total_error_replies). At most kMaxCodes codes are
// kept, as Redis (its limit, 128, guards against clients that send errors with made-up codes);
// past it new codes are only counted in the total. Thread-safe.
class ErrorStats : public ReplyBuilder::ErrorSink {
 public:
  static constexpr size_t kMaxCodes = 128;
  void OnError(std::string_view msg) override;
  std::vector<std::pair<std::string, uint64_t>> Codes() const;  // by code
  uint64_t total() const { return total_.load(std::memory_order_relaxed); }
  void Reset();

 private:
  mutable Mutex mu_;
  std::map<std::string, uint64_t, std::less<>> codes_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> total_{0};
};

// Latency events (Redis's latency monitor): for each event name, the last 160 samples, one per
// second at most (a second's samples keep their maximum), and the all-time maximum.
class LatencyMonitor {
 public:
  static constexpr size_t kSamples = 160;

  struct Sample {
    int64_t time_s;
    int64_t latency_ms;
  };
  struct Event {
    std::string name;
    Sample last;
    int64_t max_ms;
  };

  void Add(std::string_view event, int64_t latency_ms, int64_t now_s);
  std::vector<Event> Latest() const;                          // by name
  std::vector<Sample> History(std::string_view event) const;  // oldest first
  // Resets the named events (all when `events` is empty); returns how many there were.
  size_t Reset(const std::vector<std::string>& events);
  std::string Doctor() const;
  std::string Graph(std::string_view event) const;  // empty if the event has no samples

 private:
  struct Series {
    std::deque<Sample> samples;
    int64_t max_ms = 0;
  };
  mutable Mutex mu_;
  std::map<std::string, Series, std::less<>> series_ ABSL_GUARDED_BY(mu_);
};

// Histogram buckets of a command's run time: bucket i counts calls of at most 2^i µs.
inline constexpr size_t kLatencyBuckets = 40;
inline size_t LatencyBucket(int64_t us) {
  if (us <= 1) return 0;
  size_t b = 64 - static_cast<size_t>(__builtin_clzll(static_cast<uint64_t>(us - 1)));
  return b < kLatencyBuckets ? b : kLatencyBuckets - 1;
}

}  // namespace fdb
