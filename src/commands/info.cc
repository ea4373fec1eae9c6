#include "commands/info.h"

#include <malloc.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "base/clock.h"
#include "base/limits.h"
#include "commands/registry.h"
#include "commands/scripting.h"

namespace fdb {

namespace {

constexpr const char* kRedisVersion = "7.2.4";    // the Redis version whose behaviour FDB follows
constexpr const char* kFdbVersion = FDB_VERSION;  // CMakeLists.txt

size_t RssBytes() {
  std::ifstream f("/proc/self/statm");
  size_t pages_total = 0, pages_rss = 0;
  f >> pages_total >> pages_rss;
  return pages_rss * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

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
  int64_t uptime = (NowMs() - s.start_time_ms()) / 1000;
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
  size_t max_in = 0, max_out = 0;
  s.clients().ForEach([&](ClientState& c) {
    max_in = std::max(max_in, c.qbuf.load(std::memory_order_relaxed));
    max_out = std::max(max_out, c.obuf.load(std::memory_order_relaxed));
  });
  w.Section("Clients");
  // A client CLIENT KILL picked closes a moment later on its own thread: it no longer counts
  // (Redis's kill is synchronous).
  size_t connected = 0;
  s.clients().ForEach([&](ClientState& c) {
    if (!c.kill_requested.load(std::memory_order_relaxed)) connected++;
  });
  w.Field("connected_clients", connected);
  w.Field("cluster_connections", 0);
  w.Field("maxclients", s.config().maxclients());
  w.Field("client_recent_max_input_buffer", max_in);
  w.Field("client_recent_max_output_buffer", max_out);
  // As Redis, clients whose command CLIENT PAUSE holds count as blocked.
  w.Field("blocked_clients",
          s.blocking().blocked_clients() +
              static_cast<size_t>(std::max<int64_t>(
                  0, s.client_pause().postponed_clients.load(std::memory_order_relaxed))));
  w.Field("tracking_clients", s.tracking().GetStats().clients);
  w.Field("clients_in_timeout_table", 0);
}

void MemorySection(ServerContext& s, Writer& w) {
  // The figure the maxmemory check uses (Keyspace::UsedMemory, base/malloc_stats.h), freshly
  // sampled: malloc's in-use bytes, or the sanitizer allocator's under ASan.
  s.keyspace().SampleUsedMemory();
  size_t used = s.keyspace().UsedMemory();
  size_t rss = RssBytes();
  w.Section("Memory");
  w.Field("used_memory", used);
  w.Field("used_memory_human", Human(static_cast<double>(used)));
  size_t peak = s.used_memory_peak.load();
  while (used > peak && !s.used_memory_peak.compare_exchange_weak(peak, used)) {
  }
  peak = std::max(peak, used);
  w.Field("used_memory_peak", peak);
  w.Field("used_memory_peak_human", Human(static_cast<double>(peak)));
  w.Field("used_memory_rss", rss);
  w.Field("used_memory_rss_human", Human(static_cast<double>(rss)));
  w.Field("maxmemory", s.config().maxmemory());
  w.Field("maxmemory_human", Human(static_cast<double>(s.config().maxmemory())));
  w.Field("maxmemory_policy", s.config().maxmemory_policy());
  // What maxmemory is not checked against (the log's buffers, Keyspace::MaxmemoryUsed).
  w.Field("mem_not_counted_for_evict", used - std::min<size_t>(used, s.keyspace().MaxmemoryUsed()));
  // Flushed tables still being freed in the background (FLUSHALL ASYNC): Redis counts objects,
  // FDB the tables.
  w.Field("lazyfree_pending_objects", s.keyspace().LazyFreeRunning());
  w.Field("mem_clients_normal", std::max<int64_t>(0, s.client_memory.load()));
  w.Field("maxmemory_clients", s.config().maxmemory_clients_bytes());
  w.Field("number_of_cached_scripts", static_cast<int64_t>(CachedScriptCount()));
  char frag[32];
  snprintf(frag, sizeof(frag), "%.2f", used ? static_cast<double>(rss) / used : 0.0);
  w.Field("mem_fragmentation_ratio", frag);
  w.Field("mem_allocator", "libc");
}

void PersistenceSection(ServerContext& s, Writer& w) {
  StorageEngine* st = s.storage();
  StorageStats ss;
  if (st) ss = st->stats();
  w.Section("Persistence");
  w.Field("loading", 0);
  w.Field("async_loading", 0);
  w.Field("rdb_changes_since_last_save", s.Dirty());
  w.Field("rdb_bgsave_in_progress", ss.bgsave_in_progress ? 1 : 0);
  w.Field("rdb_last_save_time", std::max<int64_t>(s.last_save_s.load(), ss.last_save_s));
  w.Field("rdb_last_bgsave_status", ss.last_bgsave_status);
  w.Field("aof_enabled", st ? 1 : 0);
  w.Field("aof_rewrite_in_progress", 0);
  w.Field("aof_last_write_status", ss.healthy ? "ok" : "err");
  w.Field("fdb_fsync", st ? s.config().appendfsync() : std::string("off"));
  w.Field("fdb_segments", ss.segments);
  w.Field("fdb_log_bytes", ss.log_bytes);
  w.Field("fdb_live_bytes", ss.live_bytes);
  w.Field("fdb_garbage_bytes", ss.log_bytes > ss.live_bytes ? ss.log_bytes - ss.live_bytes : 0);
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
  Keyspace& ks = s.keyspace();
  w.Section("Cache");
  w.Field("cache_entries", ks.RamValues());
  w.Field("cache_bytes", ks.RamValueBytes());
  w.Field("cache_budget_bytes", s.config().maxmemory());
  w.Field("cache_budget_entries", s.config().cache_size());
  w.Field("cache_hits", ks.stats().cache_hits.load());
  w.Field("cache_misses", ks.stats().cache_misses.load());
  w.Field("cache_evictions", ks.stats().cache_evictions.load());
}

void StatsSection(ServerContext& s, Writer& w) {
  uint64_t commands = 0, in = 0, out = 0;
  s.ForEachThreadStats([&](ThreadStats& t) {
    for (auto& c : t.commands) commands += c.calls.load(std::memory_order_relaxed);
    in += t.net_input_bytes.load(std::memory_order_relaxed);
    out += t.net_output_bytes.load(std::memory_order_relaxed);
  });
  KeyspaceStats& ks = s.keyspace().stats();
  w.Section("Stats");
  w.Field("total_connections_received", s.total_connections.load());
  w.Field("total_commands_processed", commands);
  w.Field("instantaneous_ops_per_sec", 0);
  w.Field("total_net_input_bytes", in);
  w.Field("total_net_output_bytes", out);
  w.Field("rejected_connections", s.rejected_connections.load());
  w.Field("sync_full", s.replication().sync_full.load());
  w.Field("sync_partial_ok", s.replication().sync_partial_ok.load());
  w.Field("sync_partial_err", s.replication().sync_partial_err.load());
  w.Field("expired_keys", ks.expired_keys.load());
  w.Field("evicted_keys", ks.evicted_keys.load());
  w.Field("evicted_clients", s.evicted_clients.load());
  w.Field("client_output_buffer_limit_disconnections", s.output_limit_disconnections.load());
  w.Field("keyspace_hits", ks.keyspace_hits.load());
  w.Field("keyspace_misses", ks.keyspace_misses.load());
  w.Field("pubsub_channels", s.pubsub().Count(PubSubRegistry::kChannel));
  w.Field("pubsub_patterns", s.pubsub().Count(PubSubRegistry::kPattern));
  w.Field("pubsubshard_channels", s.pubsub().Count(PubSubRegistry::kShard));
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
  w.Field("total_error_replies", s.error_stats().total());
}

void ReplicationSection(ServerContext& s, Writer& w) {
  w.Section("Replication");
  for (const auto& [k, v] : s.replication().InfoFields()) w.Field(k.c_str(), v);
}

void CpuSection(ServerContext& s, Writer& w) {
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  auto secs = [](const timeval& tv) {
    char buf[32];
    snprintf(buf, sizeof(buf), "%ld.%06ld", static_cast<long>(tv.tv_sec),
             static_cast<long>(tv.tv_usec));
    return std::string(buf);
  };
  w.Section("CPU");
  w.Field("used_cpu_sys", secs(self.ru_stime));
  w.Field("used_cpu_user", secs(self.ru_utime));
  w.Field("used_cpu_sys_children", secs(children.ru_stime));
  w.Field("used_cpu_user_children", secs(children.ru_utime));
}

void CommandStatsSection(ServerContext& s, Writer& w) {
  const auto& specs = CommandRegistry::Default().all();
  std::vector<uint64_t> calls(specs.size()), usec(specs.size()), failed(specs.size()),
      rejected(specs.size());
  s.ForEachThreadStats([&](ThreadStats& t) {
    for (size_t i = 0; i < specs.size() && i < t.commands.size(); i++) {
      calls[i] += t.commands[i].calls.load(std::memory_order_relaxed);
      usec[i] += t.commands[i].usec.load(std::memory_order_relaxed);
      failed[i] += t.commands[i].failed.load(std::memory_order_relaxed);
      rejected[i] += t.commands[i].rejected.load(std::memory_order_relaxed);
    }
  });
  w.Section("Commandstats");
  for (size_t i = 0; i < specs.size(); i++) {
    if (calls[i] == 0 && rejected[i] == 0) continue;
    char buf[256];
    snprintf(buf, sizeof(buf),
             "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,rejected_calls=%llu,"
             "failed_calls=%llu",
             specs[i].name, static_cast<unsigned long long>(calls[i]),
             static_cast<unsigned long long>(usec[i]),
             calls[i] ? static_cast<double>(usec[i]) / calls[i] : 0.0,
             static_cast<unsigned long long>(rejected[i]),
             static_cast<unsigned long long>(failed[i]));
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
  const auto& specs = CommandRegistry::Default().all();
  std::vector<std::array<uint64_t, kLatencyBuckets>> hist(specs.size());
  s.ForEachThreadStats([&](ThreadStats& t) {
    for (size_t i = 0; i < specs.size() && i < t.commands.size(); i++) {
      for (size_t b = 0; b < kLatencyBuckets; b++) {
        hist[i][b] += t.commands[i].hist[b].load(std::memory_order_relaxed);
      }
    }
  });
  for (size_t i = 0; i < specs.size(); i++) {
    uint64_t calls = 0;
    for (uint64_t n : hist[i]) calls += n;
    if (calls == 0) continue;
    std::string line = std::string("latency_percentiles_usec_") + specs[i].name + ":";
    for (size_t k = 0; k < percentiles.size(); k++) {
      const double want = percentiles[k] / 100.0 * static_cast<double>(calls);
      uint64_t seen = 0;
      size_t b = 0;
      for (; b < kLatencyBuckets; b++) {
        seen += hist[i][b];
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

// FDB is never a cluster node (cluster-enabled yes is refused at startup); clients and test
// suites read this field before anything else (redis-py's own suite stops without it).
void ClusterSection(ServerContext&, Writer& w) {
  w.Section("Cluster");
  w.Field("cluster_enabled", 0);
}

void KeyspaceSection(ServerContext& s, Writer& w) {
  w.Section("Keyspace");
  for (int db = 0; db < limits::kNumDatabases; db++) {
    size_t keys = s.keyspace().DbSize(*w.txn, db);
    if (keys == 0) continue;
    size_t expires = s.keyspace().ExpiresCount(*w.txn, db);
    w.Raw("db" + std::to_string(db) + ":keys=" + std::to_string(keys) +
          ",expires=" + std::to_string(expires) + ",avg_ttl=0");
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
