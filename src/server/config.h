// Server configuration: one table of parameters shared by the command line, the config file
// and CONFIG GET / SET, with Redis's names.
//
// Values read on hot paths (limits checked for every request) are atomics; strings are guarded
// by a mutex. CONFIG SET changes take effect for the next request.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
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

// The keyspace event classes of `notify-keyspace-events`, with Redis's bit values (notify.c).
// Config validates and stores them; the messaging issue publishes the events.
namespace notify {
inline constexpr int kKeyspace = 1 << 0;  // K
inline constexpr int kKeyevent = 1 << 1;  // E
inline constexpr int kGeneric = 1 << 2;   // g
inline constexpr int kString = 1 << 3;    // $
inline constexpr int kList = 1 << 4;      // l
inline constexpr int kSet = 1 << 5;       // s
inline constexpr int kHash = 1 << 6;      // h
inline constexpr int kZset = 1 << 7;      // z
inline constexpr int kExpired = 1 << 8;   // x
inline constexpr int kEvicted = 1 << 9;   // e
inline constexpr int kStream = 1 << 10;   // t
inline constexpr int kKeyMiss = 1 << 11;  // m
inline constexpr int kModule = 1 << 13;   // d
inline constexpr int kNew = 1 << 14;      // n
// `A`: every class but key misses and new keys, as Redis's NOTIFY_ALL.
inline constexpr int kAll =
    kGeneric | kString | kList | kSet | kHash | kZset | kExpired | kEvicted | kStream | kModule;
}  // namespace notify

// Parses Redis's event class letters ("KEA", "Kgx$"); -1 if a letter is not one of
// "Ag$lshzxeKEtmdn".
int ParseKeyspaceEvents(std::string_view classes);
// The canonical form CONFIG GET shows, as Redis's keyspaceEventsFlagsToString ("AKE").
std::string KeyspaceEventsToString(int flags);

// One address of `bind` as Redis's listenToPort reads it: a leading `-` makes it optional
// (skipped when the host does not have it), `*` is every IPv4 address and `::*` every IPv6 one.
struct BindAddress {
  std::string addr;  // without the `-`
  bool optional = false;
  bool ipv6() const { return addr.find(':') != std::string::npos; }
  bool any() const { return addr == "*" || addr == "::*"; }
};
// The addresses of a `bind` value, in order ("" gives none: no TCP listener).
std::vector<BindAddress> BindAddresses(std::string_view bind);

// The parameter table (config.cc) follows Redis 7.0's config.c: every parameter has a type
// (bool, enum, integer with a range and optional memory units, string, or special with its own
// parser), flags (immutable, protected, hidden, several words...), a default and, for some, an
// alias (`*-ziplist-*` for `*-listpack-*`, `slave*` for `replica*`). The command line, the
// config file, CONFIG GET / SET / REWRITE all go through it, so a name, a range or an error
// text is written once. Parameters whose mechanism FDB lacks are validated, stored and
// reported like the others, and marked as having no effect: the server warns at startup when
// one is given, and docs/compatibility.md lists them.
//
// Thread safety: every getter may be called from any thread. Numbers are atomics (hot-path
// limits read them on every request); strings are guarded by a mutex. ParseArgs and LoadFile
// run at startup, on one thread. Set(..., from_config_set=true) may run on any thread: each
// parameter changes atomically, but two parameters set by one CONFIG SET are not changed
// together (a reader may see the first new value with the second old one).
class Config {
 public:
  Config();
  ~Config();
  Config(const Config&) = delete;
  Config& operator=(const Config&) = delete;

  // Applies `[config-file] --name value...` as redis-server: the file first, then each flag in
  // order (a later one wins; several `--save` accumulate as several `save` lines would).
  // Returns an error naming a bad flag or value.
  Status ParseArgs(int argc, char** argv);
  // Reads a Redis config file: `name value...` per line, `#` comments, `include` (with globs),
  // Redis's deprecated directives ignored. Directives FDB cannot honour safely (rename-command,
  // user, loadmodule, sentinel) are refused rather than ignored.
  Status LoadFile(const std::string& path);
  // Sets one parameter by name or alias (case-insensitive); used by all three sources.
  // `from_config_set` refuses immutable parameters ("can't set immutable config"). NotFound
  // for an unknown name; InvalidArgument with Redis's text for a bad value (the old value
  // stays).
  Status Set(std::string_view name, std::string_view value, bool from_config_set);
  // Parameters whose names (or aliases) match the glob, with their current values, as CONFIG
  // GET: a name without glob characters is looked up exactly (hidden parameters included) and
  // reported as given.
  std::vector<std::pair<std::string, std::string>> Get(std::string_view pattern) const;
  bool Known(std::string_view name) const;
  // A protected config (Redis's PROTECTED_CONFIG: `dir`, `dbfilename`): CONFIG SET of it is
  // refused unless enable-protected-configs allows the client.
  bool IsProtected(std::string_view name) const;
  // Settable only at startup (CONFIG SET refuses it).
  bool IsImmutable(std::string_view name) const;
  // The parameter's own name for an alias (`hash-max-ziplist-entries` gives
  // `hash-max-listpack-entries`), lower case; empty if unknown.
  std::string CanonicalName(std::string_view name) const;

  // CONFIG REWRITE: rewrites `config_file` keeping its comments and order, as Redis's
  // rewriteConfig: a parameter's lines are replaced in place, lines of parameters now at their
  // default are blanked, parameters not in the file and not at their default are appended
  // after a "# Generated by CONFIG REWRITE" line. The new file replaces the old by rename.
  // `users`: the ACL users as `user ...` lines (commands/acl.h), written in place of the
  // file's own `user` lines; null leaves those lines as they are.
  Status Rewrite(const std::vector<std::string>* users = nullptr) const;
  // One parameter as `fdb-server --help` and `--print-config` show it (server/config_help.h).
  struct ParamInfo {
    std::string name;
    std::string alias;    // Redis's other name for it (empty: none)
    std::string doc;      // what it means, one line
    std::string accepts;  // "yes|no", the enum's names, an integer range, "bytes (...)"...
    // Both as a config file line holds them (quoted when empty, memory as 512mb).
    std::string default_value;
    std::string value;
    bool immutable = false;  // startup only
    bool no_effect = false;  // accepted for redis.conf files, no mechanism in FDB
    bool hidden = false;     // Redis's testing knobs, reported by CONFIG GET only by name
    bool reported = true;    // false: `threads`, io-threads' other spelling
    bool given = false;      // set by the config file or the command line
  };
  // Every row of the parameter table, in its order.
  std::vector<ParamInfo> Describe() const;

  // What the startup should log as warnings: the parameters given (file or command line)
  // that FDB accepts without acting on them, and settings it overrides (daemonize).
  std::vector<std::string> StartupWarnings() const;

  // Startup-only values.
  std::string bind() const;
  int port() const { return static_cast<int>(port_.load()); }
  // The HTTP listener's port (GET /metrics), on the `bind` addresses; 0: none.
  int http_port() const { return static_cast<int>(http_port_.load()); }
  bool http_tls() const { return http_tls_.load(std::memory_order_relaxed) != 0; }
  std::string dir() const;
  int threads() const { return static_cast<int>(threads_.load()); }
  std::string logfile() const;  // empty: stderr
  std::string pidfile() const;  // empty: none
  bool syslog_enabled() const { return syslog_enabled_.load() != 0; }
  std::string syslog_ident() const;
  int syslog_facility() const { return static_cast<int>(syslog_facility_.load()); }  // LOG_*
  // `supervised`: Redis's values (no = 0, upstart = 1, systemd = 2, auto = 3).
  enum Supervised : int {
    kSupervisedNo = 0,
    kSupervisedUpstart = 1,
    kSupervisedSystemd = 2,
    kSupervisedAuto = 3
  };
  Supervised supervised() const { return static_cast<Supervised>(supervised_.load()); }
  bool daemonize() const { return daemonize_.load() != 0; }
  bool cluster_enabled() const { return cluster_enabled_.load() != 0; }
  bool always_show_logo() const { return always_show_logo_.load() != 0; }
  // The config file the server was started with, absolute (empty: none).
  std::string config_file;

  // Hot-path values.
  int64_t proto_max_bulk_len() const { return proto_max_bulk_len_.load(std::memory_order_relaxed); }
  int64_t query_buffer_limit() const { return query_buffer_limit_.load(std::memory_order_relaxed); }
  int maxclients() const { return static_cast<int>(maxclients_.load(std::memory_order_relaxed)); }
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
  int hz() const { return static_cast<int>(hz_.load(std::memory_order_relaxed)); }
  int64_t timeout_s() const { return timeout_.load(std::memory_order_relaxed); }
  int64_t tcp_keepalive_s() const { return tcp_keepalive_.load(std::memory_order_relaxed); }
  bool requirepass_set() const { return requirepass_set_.load(std::memory_order_acquire); }
  std::string requirepass() const;
  // Counts the times requirepass was set (the ACL default user mirrors it, commands/acl.h).
  uint64_t requirepass_version() const { return requirepass_version_.load(kRelaxed); }
  // `user` lines of the config file and `--user` flags, as given (commands/acl.h loads them).
  std::vector<std::string> acl_user_lines;
  bool protected_mode() const { return protected_mode_.load(kRelaxed) != 0; }
  std::string maxmemory_policy() const;
  int maxmemory_samples() const { return static_cast<int>(maxmemory_samples_.load()); }
  int maxmemory_eviction_tenacity() const {
    return static_cast<int>(maxmemory_eviction_tenacity_.load());
  }
  int lfu_log_factor() const { return static_cast<int>(lfu_log_factor_.load()); }
  // Keys the client-side caching table may hold (0: unbounded).
  int64_t tracking_table_max_keys() const { return tracking_table_max_keys_.load(kRelaxed); }
  int lfu_decay_time() const { return static_cast<int>(lfu_decay_time_.load()); }
  std::string appendfsync() const;
  std::string loglevel() const;  // a valid level name, lower case (base/logging.h)
  int64_t cache_size() const { return cache_size_.load(std::memory_order_relaxed); }
  bool compression() const { return compression_.load(std::memory_order_relaxed) != 0; }
  // Startup-only, as in Redis (CONFIG SET refuses them): a client that could turn them on
  // would not need them.
  ProtectedAction enable_debug_command() const {
    return static_cast<ProtectedAction>(enable_debug_command_.load());
  }
  ProtectedAction enable_protected_configs() const {
    return static_cast<ProtectedAction>(enable_protected_configs_.load());
  }
  // Whether data is persisted in the log (appendonly yes, the default); `appendonly no` keeps
  // the keyspace in memory, saved only as RDB files (SAVE, BGSAVE, `save` points), as Redis
  // without AOF.
  bool persistence() const { return appendonly_.load() != 0; }

  // The encoding thresholds of hashes, sets and sorted sets: ServerContext::ApplyConfig hands
  // them to engine/encoding_limits.h, where the objects read them.
  int64_t hash_max_listpack_entries() const { return hash_max_listpack_entries_.load(kRelaxed); }
  int64_t hash_max_listpack_value() const { return hash_max_listpack_value_.load(kRelaxed); }
  int64_t set_max_intset_entries() const { return set_max_intset_entries_.load(kRelaxed); }
  int64_t set_max_listpack_entries() const { return set_max_listpack_entries_.load(kRelaxed); }
  int64_t set_max_listpack_value() const { return set_max_listpack_value_.load(kRelaxed); }
  int64_t zset_max_listpack_entries() const { return zset_max_listpack_entries_.load(kRelaxed); }
  int64_t zset_max_listpack_value() const { return zset_max_listpack_value_.load(kRelaxed); }

  // Stored for the mechanisms that come with later issues (encodings, slowlog, latency
  // monitor, scripting, keyspace notifications); read on hot paths, so atomics.
  int64_t list_max_listpack_size() const { return list_max_listpack_size_.load(kRelaxed); }
  int64_t list_compress_depth() const { return list_compress_depth_.load(kRelaxed); }
  int64_t hll_sparse_max_bytes() const { return hll_sparse_max_bytes_.load(kRelaxed); }
  int64_t slowlog_log_slower_than() const { return slowlog_log_slower_than_.load(kRelaxed); }
  int64_t slowlog_max_len() const { return slowlog_max_len_.load(kRelaxed); }
  int64_t latency_monitor_threshold() const { return latency_monitor_threshold_.load(kRelaxed); }
  // min-replicas-to-write and min-replicas-max-lag: writes need that many good replicas while
  // both are non-zero (commands/replication.h counts them).
  int64_t min_replicas_to_write() const { return min_replicas_to_write_.load(kRelaxed); }
  int64_t min_replicas_max_lag() const { return min_replicas_max_lag_.load(kRelaxed); }
  int64_t repl_backlog_size() const { return repl_backlog_size_.load(kRelaxed); }
  // `replicaof`: "host port", or empty for a primary. The REPLICAOF command sets it, so that
  // CONFIG REWRITE (Sentinel) keeps the role across a restart.
  std::string replicaof() const;
  // `save`: "<seconds> <changes>" pairs, space-separated (empty: none).
  std::string save() const;
  void set_replicaof(std::string host_port);
  // The value of a numeric, bool or enum parameter / of a string parameter, by name, for the
  // parameters without an accessor of their own (0 / empty when unknown). Not for hot paths:
  // the name is looked up in the table.
  int64_t Number(std::string_view name) const;
  std::string String(std::string_view name) const;
  int64_t busy_reply_threshold_ms() const { return busy_reply_threshold_.load(kRelaxed); }
  int64_t stream_node_max_bytes() const { return stream_node_max_bytes_.load(kRelaxed); }
  int64_t stream_node_max_entries() const { return stream_node_max_entries_.load(kRelaxed); }
  int notify_keyspace_events() const {
    return static_cast<int>(notify_keyspace_events_.load(kRelaxed));
  }

 private:
  static constexpr std::memory_order kRelaxed = std::memory_order_relaxed;
  struct Param;         // one row of the table (config.cc)
  struct RewriteState;  // CONFIG REWRITE's view of the old file (config.cc)
  static const std::vector<Param>& Table();
  const Param* FindParam(std::string_view name) const;
  Status SetParam(const Param& p, std::string_view value, bool startup);
  std::string GetParam(const Param& p) const;
  void RewriteParam(const Param& p, RewriteState& st) const;
  Status LoadFileAt(const std::string& path, int depth);
  std::atomic<int64_t>& Num(const Param& p) const;
  // REQUIRES: mu_ is held.
  std::string& Str(const Param& p) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable Mutex mu_;  // guards the strings below
  std::string bind_ ABSL_GUARDED_BY(mu_);
  std::string dir_ ABSL_GUARDED_BY(mu_);
  std::string requirepass_ ABSL_GUARDED_BY(mu_);
  std::string logfile_ ABSL_GUARDED_BY(mu_);
  std::string pidfile_ ABSL_GUARDED_BY(mu_);
  std::string syslog_ident_ ABSL_GUARDED_BY(mu_);
  std::string save_ ABSL_GUARDED_BY(mu_);  // canonical: "<seconds> <changes>" pairs
  std::string replicaof_ ABSL_GUARDED_BY(mu_);
  std::string oom_score_adj_values_ ABSL_GUARDED_BY(mu_);
  std::string latency_tracking_info_percentiles_ ABSL_GUARDED_BY(mu_);
  // The values of the string parameters that have no member of their own, one per table row.
  mutable std::vector<std::string> strs_ ABSL_GUARDED_BY(mu_);
  // The values of the numeric, bool and enum parameters that have no member of their own,
  // one per table row.
  std::unique_ptr<std::atomic<int64_t>[]> nums_;
  // Startup bookkeeping (one thread): which rows were given by the file or the command line,
  // and whether a `save` line was seen yet (the first one replaces the default, the next ones
  // add to it, as Redis's config file).
  std::vector<bool> given_;
  bool save_loaded_ = false;

  std::atomic<int64_t> port_{0};
  std::atomic<int64_t> http_port_{0};
  std::atomic<int64_t> http_tls_{0};
  std::atomic<int64_t> threads_{0};
  std::atomic<int64_t> proto_max_bulk_len_{0};
  std::atomic<int64_t> query_buffer_limit_{0};
  std::atomic<int64_t> maxclients_{0};
  std::atomic<int64_t> obuf_hard_[3];
  std::atomic<int64_t> obuf_soft_[3];
  std::atomic<int64_t> obuf_soft_seconds_[3];
  std::atomic<int64_t> maxmemory_clients_{0};  // bytes, or minus a percentage of maxmemory
  std::atomic<int64_t> maxmemory_{0};
  std::atomic<int64_t> maxmemory_policy_{0};  // enum rows hold the value of their name
  std::atomic<int64_t> appendfsync_{0};
  std::atomic<int64_t> loglevel_{0};
  std::atomic<int64_t> appendonly_{0};
  std::atomic<int64_t> daemonize_{0};
  std::atomic<int64_t> cluster_enabled_{0};
  std::atomic<int64_t> protected_mode_{1};
  std::atomic<int64_t> always_show_logo_{0};
  std::atomic<int64_t> syslog_enabled_{0};
  std::atomic<int64_t> syslog_facility_{0};
  std::atomic<int64_t> supervised_{0};
  std::atomic<int64_t> hz_{0};
  std::atomic<int64_t> timeout_{0};
  std::atomic<bool> requirepass_set_{false};
  std::atomic<uint64_t> requirepass_version_{0};
  std::atomic<int64_t> tcp_keepalive_{0};
  std::atomic<int64_t> maxmemory_samples_{0};
  std::atomic<int64_t> maxmemory_eviction_tenacity_{0};
  std::atomic<int64_t> lfu_log_factor_{0};
  std::atomic<int64_t> tracking_table_max_keys_{0};
  std::atomic<int64_t> lfu_decay_time_{0};
  std::atomic<int64_t> databases_{0};
  std::atomic<int64_t> cache_size_{0};
  std::atomic<int64_t> compression_{0};
  std::atomic<int64_t> enable_debug_command_{0};
  std::atomic<int64_t> enable_protected_configs_{0};
  std::atomic<int64_t> enable_module_command_{0};  // no MODULE in FDB
  std::atomic<int64_t> list_max_listpack_size_{0};
  std::atomic<int64_t> list_compress_depth_{0};
  std::atomic<int64_t> hash_max_listpack_entries_{0};
  std::atomic<int64_t> hash_max_listpack_value_{0};
  std::atomic<int64_t> set_max_intset_entries_{0};
  std::atomic<int64_t> set_max_listpack_entries_{0};
  std::atomic<int64_t> set_max_listpack_value_{0};
  std::atomic<int64_t> zset_max_listpack_entries_{0};
  std::atomic<int64_t> zset_max_listpack_value_{0};
  std::atomic<int64_t> hll_sparse_max_bytes_{0};
  std::atomic<int64_t> slowlog_log_slower_than_{0};
  std::atomic<int64_t> slowlog_max_len_{0};
  std::atomic<int64_t> latency_monitor_threshold_{0};
  std::atomic<int64_t> min_replicas_to_write_{0};
  std::atomic<int64_t> min_replicas_max_lag_{10};
  std::atomic<int64_t> repl_backlog_size_{0};
  std::atomic<int64_t> busy_reply_threshold_{0};
  std::atomic<int64_t> stream_node_max_bytes_{0};
  std::atomic<int64_t> stream_node_max_entries_{0};
  std::atomic<int64_t> notify_keyspace_events_{0};
};

// Parses a memory amount as Redis's memtoll: 1k = 1000, 1kb = 1024, m/mb, g/gb.
bool ParseMemory(std::string_view s, int64_t* out);

}  // namespace fdb
