#include "commands/info.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "base/clock.h"
#include "commands/scripting.h"
#include "commands/server_stats.h"

namespace fdb {

namespace {

constexpr const char* kRedisVersion = "7.2.4";    // the Redis version whose behaviour FDB follows
constexpr const char* kFdbVersion = FDB_VERSION;  // CMakeLists.txt

std::string Human(double bytes) {
  const char* units[] = {"B", "K", "M", "G", "T"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    u++;
  }
  char buf[32];
  if (u == 0) {
    snprintf(buf, sizeof(buf), "%.0fB", bytes);
  } else {
    snprintf(buf, sizeof(buf), "%.2f%s", bytes, units[u]);
  }
  return buf;
}

class Writer {
 public:
  void Section(const char* title) {
    if (!out.empty()) out += "\r\n";
    out += "# ";
    out += title;
    out += "\r\n";
  }
  template <class T>
  void Field(const char* name, const T& v) {
    out += name;
    out += ':';
    if constexpr (std::is_convertible_v<T, std::string_view>) {
      out += std::string_view(v);
    } else {
      out += std::to_string(v);
    }
    out += "\r\n";
  }
  void Raw(const std::string& line) {
    out += line;
    out += "\r\n";
  }
  std::string out;
  const Txn* txn = nullptr;  // the INFO command's transaction
};

void ServerSection(ServerContext& s, Writer& w) {
  utsname u{};
  uname(&u);
  int64_t now_us = NowUs();
  int64_t uptime = UptimeSeconds(s);
  w.Section("Server");
  w.Field("redis_version", kRedisVersion);
  w.Field("fdb_version", kFdbVersion);
  w.Field("redis_git_sha1", "00000000");
  w.Field("redis_mode", "standalone");
  w.Field("os", std::string(u.sysname) + " " + u.release + " " + u.machine);
  w.Field("arch_bits", 64);
  w.Field("multiplexing_api", "epoll");
  w.Field("gcc_version", std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
                             std::to_string(__GNUC_PATCHLEVEL__));
  w.Field("process_id", static_cast<int64_t>(getpid()));
  w.Field("run_id", s.run_id());
  w.Field("tcp_port", s.config().port());
  w.Field("server_time_usec", now_us);
  w.Field("uptime_in_seconds", uptime);
  w.Field("uptime_in_days", uptime / 86400);
  w.Field("hz", s.config().hz());
  w.Field("io_threads_active", 1);
  w.Field("io_threads", s.config().threads() > 0 ? s.config().threads()
                                                 : static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)));
  w.Field("config_file", s.config().config_file);
}

void ClientsSection(ServerContext& s, Writer& w) {
  const ClientStats st = GetClientStats(s);
  w.Section("Clients");
  w.Field("connected_clients", st.connected);
  w.Field("cluster_connections", 0);
  w.Field("maxclients", st.maxclients);
  w.Field("client_recent_max_input_buffer", st.max_input_buffer);
  w.Field("client_recent_max_output_buffer", st.max_output_buffer);
  w.Field("blocked_clients", st.blocked);
  w.Field("tracking_clients", st.tracking);
  w.Field("clients_in_timeout_table", 0);
}

void MemorySection(ServerContext& s, Writer& w) {
  const MemoryStats st = GetMemoryStats(s);
  w.Section("Memory");
  w.Field("used_memory", st.used);
  w.Field("used_memory_human", Human(static_cast<double>(st.used)));
  w.Field("used_memory_peak", st.peak);
  w.Field("used_memory_peak_human", Human(static_cast<double>(st.peak)));
  w.Field("used_memory_rss", st.rss);
  w.Field("used_memory_rss_human", Human(static_cast<double>(st.rss)));
  w.Field("maxmemory", st.maxmemory);
  w.Field("maxmemory_human", Human(static_cast<double>(st.maxmemory)));
  w.Field("maxmemory_policy", s.config().maxmemory_policy());
  w.Field("mem_not_counted_for_evict", st.not_counted_for_evict);
  w.Field("mem_replication_backlog", st.replication_backlog);
  w.Field("mem_total_replication_buffers", st.replication_backlog + st.clients_slaves);
  w.Field("mem_clients_slaves", st.clients_slaves);
  w.Field("lazyfree_pending_objects", st.lazyfree_pending);
  w.Field("lazyfreed_objects", s.keyspace().LazyFreed());
  w.Field("mem_clients_normal", st.clients_normal);
  w.Field("maxmemory_clients", st.maxmemory_clients);
  w.Field("number_of_cached_scripts", st.cached_scripts);
  char frag[32];
  snprintf(frag, sizeof(frag), "%.2f", st.fragmentation_ratio);
  w.Field("mem_fragmentation_ratio", frag);
  w.Field("mem_allocator", "libc");
}

void PersistenceSection(ServerContext& s, Writer& w) {
  const PersistenceStats st = GetPersistenceStats(s);
  const StorageStats& ss = st.storage;
  w.Section("Persistence");
  w.Field("loading", 0);
  w.Field("async_loading", 0);
  w.Field("rdb_changes_since_last_save", st.changes_since_save);
  // Without the log, the RDB files of commands/rdb_snapshot.h.
  const bool child = st.enabled ? ss.bgsave_in_progress : s.snapshots().child_running();
  w.Field("rdb_bgsave_in_progress", child ? 1 : 0);
  w.Field("rdb_last_save_time", st.last_save_s);
  w.Field("rdb_last_bgsave_status",
          st.enabled ? ss.last_bgsave_status : s.snapshots().last_bgsave_status());
  w.Field("aof_enabled", st.enabled ? 1 : 0);
  w.Field("aof_rewrite_in_progress", 0);
  w.Field("aof_last_write_status", ss.healthy ? "ok" : "err");
  w.Field("fdb_fsync", st.enabled ? s.config().appendfsync() : std::string("off"));
  w.Field("fdb_segments", ss.segments);
  w.Field("fdb_log_bytes", ss.log_bytes);
  w.Field("fdb_live_bytes", ss.live_bytes);
  w.Field("fdb_garbage_bytes", st.garbage_bytes);
  w.Field("fdb_compactions", ss.compactions);
  w.Field("fdb_checkpoints", ss.checkpoints);
  w.Field("fdb_fsyncs", ss.fsyncs);
  w.Field("fdb_last_fsync_us", ss.last_fsync_us);
  w.Field("fdb_write_errors", ss.write_errors);
  w.Field("fdb_last_write_error", ss.last_error);
  w.Field("fdb_recovered_records", ss.recovered_records);
  char rec[32];
  snprintf(rec, sizeof(rec), "%.3f", ss.recovery_seconds);
  w.Field("fdb_recovery_seconds", rec);
}

void CacheSection(ServerContext& s, Writer& w) {
  const CacheStats st = GetCacheStats(s);
  w.Section("Cache");
  w.Field("cache_entries", st.entries);
  w.Field("cache_bytes", st.bytes);
  w.Field("cache_budget_bytes", st.budget_bytes);
  w.Field("cache_budget_entries", st.budget_entries);
  w.Field("cache_hits", st.hits);
  w.Field("cache_misses", st.misses);
  w.Field("cache_evictions", st.evictions);
}

void StatsSection(ServerContext& s, Writer& w) {
  const GeneralStats st = GetGeneralStats(s);
  w.Section("Stats");
  w.Field("total_connections_received", st.connections_received);
  w.Field("total_commands_processed", st.commands_processed);
  w.Field("instantaneous_ops_per_sec", 0);
  w.Field("total_net_input_bytes", st.net_input_bytes);
  w.Field("total_net_output_bytes", st.net_output_bytes);
  w.Field("rejected_connections", st.rejected_connections);
  w.Field("sync_full", st.sync_full);
  w.Field("sync_partial_ok", st.sync_partial_ok);
  w.Field("sync_partial_err", st.sync_partial_err);
  w.Field("expired_keys", st.expired_keys);
  w.Field("evicted_keys", st.evicted_keys);
  w.Field("evicted_clients", st.evicted_clients);
  w.Field("client_output_buffer_limit_disconnections", st.output_limit_disconnections);
  w.Field("keyspace_hits", st.keyspace_hits);
  w.Field("keyspace_misses", st.keyspace_misses);
  w.Field("pubsub_channels", st.pubsub_channels);
  w.Field("pubsub_patterns", st.pubsub_patterns);
  w.Field("pubsubshard_channels", st.pubsub_shard_channels);
  w.Field("migrate_cached_sockets", 0);  // MIGRATE opens a connection per call
  const Tracking::Stats tracking = s.tracking().GetStats();
  w.Field("tracking_total_keys", tracking.keys);
  w.Field("tracking_total_items", tracking.items);
  w.Field("tracking_total_prefixes", tracking.prefixes);
  // FDB's own: scripts on their declared keys' shards that met another shard's key
  // (commands/scripting.cc's model).
  const ScriptLockStats scripts = GetScriptLockStats();
  w.Field("script_restarts", scripts.restarts);
  w.Field("script_escalations", scripts.escalations);
  w.Field("total_error_replies", st.total_error_replies);
}

void ReplicationSection(ServerContext& s, Writer& w) {
  w.Section("Replication");
  for (const auto& [k, v] : s.replication().InfoFields()) w.Field(k.c_str(), v);
}

void CpuSection(ServerContext&, Writer& w) {
  const CpuStats st = GetCpuStats();
  auto secs = [](double v) {
    char buf[32];
    snprintf(buf, sizeof(buf), "%.6f", v);
    return std::string(buf);
  };
  w.Section("CPU");
  w.Field("used_cpu_sys", secs(st.sys_s));
  w.Field("used_cpu_user", secs(st.user_s));
  w.Field("used_cpu_sys_children", secs(st.sys_children_s));
  w.Field("used_cpu_user_children", secs(st.user_children_s));
}

void CommandStatsSection(ServerContext& s, Writer& w) {
  w.Section("Commandstats");
  for (const CommandStat& c : GetCommandStats(s)) {
    char buf[256];
    snprintf(
        buf, sizeof(buf),
        "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,rejected_calls=%llu,"
        "failed_calls=%llu",
        c.name, static_cast<unsigned long long>(c.calls), static_cast<unsigned long long>(c.usec),
        c.calls ? static_cast<double>(c.usec) / c.calls : 0.0,
        static_cast<unsigned long long>(c.rejected), static_cast<unsigned long long>(c.failed));
    w.Raw(buf);
  }
}

void ErrorStatsSection(ServerContext& s, Writer& w) {
  w.Section("Errorstats");
  for (const auto& [code, count] : s.error_stats().Codes()) {
    w.Raw("errorstat_" + code + ":count=" + std::to_string(count));
  }
}

// Per-command latency percentiles (latency-tracking-info-percentiles), from the run-time
// histogram the dispatcher keeps: each percentile is the upper bound of the power-of-two bucket
// it falls in (Redis's HdrHistogram is finer; the figures agree within a factor of two).
void LatencyStatsSection(ServerContext& s, Writer& w) {
  w.Section("Latencystats");
  auto param = [&](std::string_view name) {
    auto got = s.config().Get(name);
    return got.empty() ? std::string() : got[0].second;
  };
  if (param("latency-tracking") != "yes") return;
  std::vector<double> percentiles;
  {
    // Config validated the list: numbers between 0 and 100, separated by spaces.
    std::string list = param("latency-tracking-info-percentiles");
    const char* p = list.c_str();
    char* end = nullptr;
    for (double d = strtod(p, &end); end != p; d = strtod(p, &end)) {
      percentiles.push_back(d);
      p = end;
    }
  }
  for (const CommandStat& c : GetCommandStats(s)) {
    uint64_t calls = 0;
    for (uint64_t n : c.hist) calls += n;
    if (calls == 0) continue;
    std::string line = std::string("latency_percentiles_usec_") + c.name + ":";
    for (size_t k = 0; k < percentiles.size(); k++) {
      const double want = percentiles[k] / 100.0 * static_cast<double>(calls);
      uint64_t seen = 0;
      size_t b = 0;
      for (; b < kLatencyBuckets; b++) {
        seen += c.hist[b];
        if (static_cast<double>(seen) >= want && seen > 0) break;
      }
      char buf[64];
      snprintf(buf, sizeof(buf), "%sp%g=%.3f", k ? "," : "", percentiles[k],
               static_cast<double>(uint64_t{1} << std::min(b, kLatencyBuckets - 1)));
      line += buf;
    }
    w.Raw(line);
  }
}

// Clients and test suites read this field before anything else (redis-py's own suite stops
// without it).
void ClusterSection(ServerContext& s, Writer& w) {
  w.Section("Cluster");
  w.Field("cluster_enabled", s.cluster().enabled() ? 1 : 0);
}

void KeyspaceSection(ServerContext& s, Writer& w) {
  w.Section("Keyspace");
  for (const DbStat& d : GetKeyspaceStats(s, *w.txn)) {
    w.Raw("db" + std::to_string(d.db) + ":keys=" + std::to_string(d.keys) +
          ",expires=" + std::to_string(d.expires) + ",avg_ttl=0");
  }
}

}  // namespace

std::string BuildInfo(ServerContext& server, const Txn& txn,
                      const std::vector<std::string>& sections) {
  struct Sec {
    const char* name;
    void (*fn)(ServerContext&, Writer&);
    bool in_default;
  };
  static const Sec kSections[] = {
      {"server", ServerSection, true},
      {"clients", ClientsSection, true},
      {"memory", MemorySection, true},
      {"persistence", PersistenceSection, true},
      {"stats", StatsSection, true},
      {"replication", ReplicationSection, true},
      {"cpu", CpuSection, true},
      {"cache", CacheSection, true},
      {"commandstats", CommandStatsSection, false},
      {"errorstats", ErrorStatsSection, true},
      {"latencystats", LatencyStatsSection, false},
      {"cluster", ClusterSection, true},
      {"keyspace", KeyspaceSection, true},
  };
  bool all = false, deflt = sections.empty();
  for (const auto& s : sections) {
    if (s == "all" || s == "everything") all = true;
    if (s == "default") deflt = true;
  }
  Writer w;
  w.txn = &txn;
  for (const auto& sec : kSections) {
    bool want = all || (deflt && sec.in_default) ||
                std::find(sections.begin(), sections.end(), sec.name) != sections.end();
    if (want) sec.fn(server, w);
  }
  return w.out;
}

}  // namespace fdb
