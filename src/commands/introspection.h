// What the server records about its own commands, for the operator: the slow log (SLOWLOG),
// the latency monitor's events (LATENCY LATEST/HISTORY) and per-command latency histograms
// (LATENCY HISTOGRAM, kept in CommandCounters). Redis 7's semantics and reply shapes.
//
// The dispatcher records every command it times (Dispatcher::ExecuteCommand); both logs take
// a mutex only when a command is slow enough to be recorded, so a command under both
// thresholds costs two relaxed loads of the configuration.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "base/mutex.h"
#include "commands/registry.h"

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

 private:
  mutable Mutex mu_;
  std::deque<Entry> entries_ ABSL_GUARDED_BY(mu_);  // newest first
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
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
