// Server configuration: one table of parameters shared by the command line, the config file
// and CONFIG GET / SET, with Redis's names.
//
// Values read on hot paths (limits checked for every request) are atomics; strings are guarded
// by a mutex. CONFIG SET changes take effect for the next request.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"

namespace fdb {

// Who may use a protected action (Redis 7's enable-debug-command, enable-protected-configs,
// enable-module-command): nobody, everybody, or only clients on a loopback address.
enum class ProtectedAction : int { kNo = 0, kYes = 1, kLocal = 2 };
// Whether a client may use an action so configured; `local_client` as ClientState::local.
inline bool ProtectedActionAllowed(ProtectedAction a, bool local_client) {
  return a == ProtectedAction::kYes || (a == ProtectedAction::kLocal && local_client);
}

class Config {
 public:
  Config();

  // Applies `--name value` flags; returns an error naming a bad flag or value.
  Status ParseArgs(int argc, char** argv);
  // Reads a Redis-style config file: `name value...` per line, `#` comments.
  Status LoadFile(const std::string& path);
  // Sets one parameter by name (case-insensitive); used by all three sources.
  // `from_config_set` refuses parameters that are only settable at startup.
  Status Set(std::string_view name, std::string_view value, bool from_config_set);
  // Parameters whose names match the glob, with their current values.
  std::vector<std::pair<std::string, std::string>> Get(std::string_view pattern) const;
  bool Known(std::string_view name) const;
  // A protected config (Redis's PROTECTED_CONFIG: `dir`): CONFIG SET of it is refused unless
  // enable-protected-configs allows the client.
  bool IsProtected(std::string_view name) const;

  // Startup-only values.
  std::string bind() const;
  int port() const { return port_.load(); }
  std::string dir() const;
  int threads() const { return threads_.load(); }
  std::string logfile() const;  // empty: stderr
  std::string config_file;

  // Hot-path values.
  int64_t proto_max_bulk_len() const { return proto_max_bulk_len_.load(std::memory_order_relaxed); }
  int64_t query_buffer_limit() const { return query_buffer_limit_.load(std::memory_order_relaxed); }
  int maxclients() const { return maxclients_.load(std::memory_order_relaxed); }
  // client-output-buffer-limit of one class: bytes (0: none) and seconds.
  enum ClientClass { kNormal = 0, kReplica = 1, kPubsub = 2 };
  struct OutputLimit {
    int64_t hard;
    int64_t soft;
    int64_t soft_seconds;
  };
  OutputLimit output_limit(ClientClass c) const {
    return {obuf_hard_[c].load(std::memory_order_relaxed),
            obuf_soft_[c].load(std::memory_order_relaxed),
            obuf_soft_seconds_[c].load(std::memory_order_relaxed)};
  }
  // maxmemory-clients resolved to bytes (a percentage of maxmemory, raised to Redis's minimum);
  // 0: no limit on the memory of all clients together.
  int64_t maxmemory_clients_bytes() const;
  int64_t maxmemory() const { return maxmemory_.load(std::memory_order_relaxed); }
  int hz() const { return hz_.load(std::memory_order_relaxed); }
  int64_t timeout_s() const { return timeout_.load(std::memory_order_relaxed); }
  bool requirepass_set() const { return requirepass_set_.load(std::memory_order_acquire); }
  std::string requirepass() const;
  std::string maxmemory_policy() const;
  int maxmemory_samples() const { return static_cast<int>(maxmemory_samples_.load()); }
  int maxmemory_eviction_tenacity() const {
    return static_cast<int>(maxmemory_eviction_tenacity_.load());
  }
  int lfu_log_factor() const { return static_cast<int>(lfu_log_factor_.load()); }
  int lfu_decay_time() const { return static_cast<int>(lfu_decay_time_.load()); }
  std::string appendfsync() const;
  std::string loglevel() const;  // a valid level name, lower case (base/logging.h)
  int64_t cache_size() const { return cache_size_.load(std::memory_order_relaxed); }
  bool compression() const { return compression_.load(std::memory_order_relaxed); }
  // Startup-only, as in Redis (CONFIG SET refuses them): a client that could turn them on
  // would not need them.
  ProtectedAction enable_debug_command() const { return enable_debug_command_.load(); }
  ProtectedAction enable_protected_configs() const { return enable_protected_configs_.load(); }
  // Whether data is persisted (appendonly yes, the default); `appendonly no` keeps the
  // keyspace in memory only, as Redis without AOF or RDB.
  bool persistence() const;

 private:
  struct Param {
    const char* name;
    bool settable;  // by CONFIG SET
    std::function<std::string(const Config&)> get;
    std::function<Status(Config&, std::string_view)> set;
    bool protected_config = false;  // see IsProtected()
  };
  const Param* FindParam(std::string_view name) const;
  std::vector<Param> params_;

  mutable Mutex mu_;  // guards the strings below
  std::string bind_ ABSL_GUARDED_BY(mu_) = "127.0.0.1";
  std::string dir_ ABSL_GUARDED_BY(mu_) = "./fdb_data";
  std::string requirepass_ ABSL_GUARDED_BY(mu_);
  std::string maxmemory_policy_ ABSL_GUARDED_BY(mu_) = "noeviction";
  std::string save_ ABSL_GUARDED_BY(mu_) = "";
  std::string appendfsync_ ABSL_GUARDED_BY(mu_) = "everysec";
  std::string loglevel_ ABSL_GUARDED_BY(mu_) = "notice";
  std::string logfile_ ABSL_GUARDED_BY(mu_) = "";
  std::string appendonly_ ABSL_GUARDED_BY(mu_) = "yes";

  std::atomic<int> port_{6380};
  std::atomic<int> threads_{0};
  std::atomic<int64_t> proto_max_bulk_len_;
  std::atomic<int64_t> query_buffer_limit_;
  std::atomic<int> maxclients_;
  std::atomic<int64_t> obuf_hard_[3];
  std::atomic<int64_t> obuf_soft_[3];
  std::atomic<int64_t> obuf_soft_seconds_[3];
  std::atomic<int64_t> maxmemory_clients_{0};  // bytes, or minus a percentage of maxmemory
  std::atomic<int64_t> maxmemory_{0};
  std::atomic<int> hz_{10};
  std::atomic<int64_t> timeout_{0};
  std::atomic<bool> requirepass_set_{false};
  std::atomic<int64_t> tcp_keepalive_{300};
  std::atomic<int64_t> maxmemory_samples_{5};
  std::atomic<int64_t> maxmemory_eviction_tenacity_{10};
  std::atomic<int64_t> lfu_log_factor_{10};
  std::atomic<int64_t> lfu_decay_time_{1};
  std::atomic<int64_t> databases_{16};
  std::atomic<int64_t> cache_size_{0};
  std::atomic<bool> compression_{false};
  std::atomic<ProtectedAction> enable_debug_command_{ProtectedAction::kNo};
  std::atomic<ProtectedAction> enable_protected_configs_{ProtectedAction::kNo};
  std::atomic<ProtectedAction> enable_module_command_{ProtectedAction::kNo};  // no MODULE in FDB
};

// Parses a memory amount as Redis's memtoll: 1k = 1000, 1kb = 1024, m/mb, g/gb.
bool ParseMemory(std::string_view s, int64_t* out);

}  // namespace fdb
