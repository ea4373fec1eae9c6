#include "commands/server_stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "base/clock.h"
#include "base/limits.h"
#include "commands/registry.h"
#include "commands/replication.h"
#include "commands/scripting.h"

namespace fdb {

namespace {

size_t RssBytes() {
  std::ifstream f("/proc/self/statm");
  size_t pages_total = 0, pages_rss = 0;
  f >> pages_total >> pages_rss;
  return pages_rss * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

double Seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

}  // namespace

ClientStats GetClientStats(ServerContext& s) {
  ClientStats st;
  s.clients().ForEach([&](ClientState& c) {
    st.max_input_buffer = std::max(st.max_input_buffer, c.qbuf.load(std::memory_order_relaxed));
    st.max_output_buffer = std::max(st.max_output_buffer, c.obuf.load(std::memory_order_relaxed));
    // A client CLIENT KILL picked closes a moment later on its own thread: it no longer counts
    // (Redis's kill is synchronous).
    if (!c.kill_requested.load(std::memory_order_relaxed)) st.connected++;
  });
  // As Redis, clients whose command CLIENT PAUSE holds count as blocked.
  st.blocked = s.blocking().blocked_clients() +
               static_cast<size_t>(std::max<int64_t>(
                   0, s.client_pause().postponed_clients.load(std::memory_order_relaxed)));
  st.tracking = s.tracking().GetStats().clients;
  st.maxclients = s.config().maxclients();
  return st;
}

MemoryStats GetMemoryStats(ServerContext& s) {
  MemoryStats st;
  // The figure the maxmemory check uses (Keyspace::UsedMemory, base/malloc_stats.h), freshly
  // sampled: malloc's in-use bytes, or the sanitizer allocator's under ASan.
  s.keyspace().SampleUsedMemory();
  st.used = s.keyspace().UsedMemory();
  st.rss = RssBytes();
  size_t peak = s.used_memory_peak.load();
  while (st.used > peak && !s.used_memory_peak.compare_exchange_weak(peak, st.used)) {
  }
  st.peak = std::max(peak, st.used);
  st.maxmemory = s.config().maxmemory();
  // What maxmemory is not checked against (the log's buffers, the replicas' output,
  // Keyspace::MaxmemoryUsed).
  st.not_counted_for_evict = st.used - std::min<size_t>(st.used, s.keyspace().MaxmemoryUsed());
  const Replication::MemoryUse repl = s.replication().Memory();
  st.replication_backlog = repl.backlog;
  st.clients_slaves = repl.replicas;
  // Flushed tables still being freed in the background (FLUSHALL ASYNC): Redis counts objects,
  // FDB the tables.
  st.lazyfree_pending = s.keyspace().LazyFreeRunning();
  st.clients_normal = std::max<int64_t>(0, s.client_memory.load());
  st.maxmemory_clients = s.config().maxmemory_clients_bytes();
  st.cached_scripts = static_cast<int64_t>(CachedScriptCount());
  st.fragmentation_ratio = st.used ? static_cast<double>(st.rss) / st.used : 0.0;
  return st;
}

PersistenceStats GetPersistenceStats(ServerContext& s) {
  PersistenceStats st;
  StorageEngine* engine = s.storage();
  st.enabled = engine != nullptr;
  if (engine) st.storage = engine->stats();
  const StorageStats& ss = st.storage;
  st.garbage_bytes = ss.log_bytes > ss.live_bytes ? ss.log_bytes - ss.live_bytes : 0;
  st.changes_since_save = s.Dirty();
  st.last_save_s = std::max<int64_t>(s.last_save_s.load(), ss.last_save_s);
  return st;
}

CacheStats GetCacheStats(ServerContext& s) {
  Keyspace& ks = s.keyspace();
  CacheStats st;
  st.entries = ks.RamValues();
  st.bytes = ks.RamValueBytes();
  st.budget_bytes = s.config().maxmemory();
  st.budget_entries = s.config().cache_size();
  st.hits = ks.stats().cache_hits.load();
  st.misses = ks.stats().cache_misses.load();
  st.evictions = ks.stats().cache_evictions.load();
  return st;
}

GeneralStats GetGeneralStats(ServerContext& s) {
  GeneralStats st;
  s.ForEachThreadStats([&](ThreadStats& t) {
    for (auto& c : t.commands) st.commands_processed += c.calls.load(std::memory_order_relaxed);
    st.net_input_bytes += t.net_input_bytes.load(std::memory_order_relaxed);
    st.net_output_bytes += t.net_output_bytes.load(std::memory_order_relaxed);
  });
  KeyspaceStats& ks = s.keyspace().stats();
  st.connections_received = s.total_connections.load();
  st.rejected_connections = s.rejected_connections.load();
  st.sync_full = s.replication().sync_full.load();
  st.sync_partial_ok = s.replication().sync_partial_ok.load();
  st.sync_partial_err = s.replication().sync_partial_err.load();
  st.expired_keys = ks.expired_keys.load();
  st.evicted_keys = ks.evicted_keys.load();
  st.evicted_clients = s.evicted_clients.load();
  st.output_limit_disconnections = s.output_limit_disconnections.load();
  st.keyspace_hits = ks.keyspace_hits.load();
  st.keyspace_misses = ks.keyspace_misses.load();
  st.pubsub_channels = s.pubsub().Count(PubSubRegistry::kChannel);
  st.pubsub_patterns = s.pubsub().Count(PubSubRegistry::kPattern);
  st.pubsub_shard_channels = s.pubsub().Count(PubSubRegistry::kShard);
  st.total_error_replies = s.error_stats().total();
  return st;
}

ReplicationStats GetReplicationStats(ServerContext& s) {
  // From the pairs INFO replication prints (Replication::InfoFields, taken under the
  // replication lock in one go), so both reports show one state of the links.
  ReplicationStats st;
  auto num = [](const std::string& v) {
    return static_cast<int64_t>(std::strtoll(v.c_str(), nullptr, 10));
  };
  for (const auto& [k, v] : s.replication().InfoFields()) {
    if (k == "role") {
      st.role = v;
    } else if (k == "connected_slaves") {
      st.connected_replicas = num(v);
    } else if (k == "master_repl_offset") {
      st.repl_offset = num(v);
    } else if (k == "master_host") {
      st.master_host = v;
    } else if (k == "master_port") {
      st.master_port = num(v);
    } else if (k == "master_link_status") {
      st.link_up = v == "up";
    } else if (k == "master_last_io_seconds_ago") {
      st.last_io_s_ago = num(v);
    } else if (k == "master_sync_in_progress") {
      st.sync_in_progress = v == "1";
    } else if (k == "slave_repl_offset") {
      st.replica_offset = num(v);
    } else if (k.rfind("slave", 0) == 0 && k.size() > 5 &&
               k.find_first_not_of("0123456789", 5) == std::string::npos) {
      // slaveN: ip=...,port=...,state=...,offset=...,lag=...
      ReplicaLink link;
      size_t start = 0;
      while (start < v.size()) {
        size_t end = v.find(',', start);
        if (end == std::string::npos) end = v.size();
        const std::string item = v.substr(start, end - start);
        start = end + 1;
        const size_t eq = item.find('=');
        if (eq == std::string::npos) continue;
        const std::string name = item.substr(0, eq), value = item.substr(eq + 1);
        if (name == "ip") link.ip = value;
        if (name == "port") link.port = num(value);
        if (name == "state") link.state = value;
        if (name == "offset") link.offset = num(value);
        if (name == "lag") link.lag_s = num(value);
      }
      st.replicas.push_back(std::move(link));
    }
  }
  return st;
}

CpuStats GetCpuStats() {
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  return CpuStats{Seconds(self.ru_stime), Seconds(self.ru_utime), Seconds(children.ru_stime),
                  Seconds(children.ru_utime)};
}

std::vector<CommandStat> GetCommandStats(ServerContext& s) {
  const auto& specs = CommandRegistry::Default().all();
  std::vector<CommandStat> all(specs.size());
  s.ForEachThreadStats([&](ThreadStats& t) {
    for (size_t i = 0; i < specs.size() && i < t.commands.size(); i++) {
      CommandCounters& c = t.commands[i];
      all[i].calls += c.calls.load(std::memory_order_relaxed);
      all[i].usec += c.usec.load(std::memory_order_relaxed);
      all[i].failed += c.failed.load(std::memory_order_relaxed);
      all[i].rejected += c.rejected.load(std::memory_order_relaxed);
      for (size_t b = 0; b < kLatencyBuckets; b++) {
        all[i].hist[b] += c.hist[b].load(std::memory_order_relaxed);
      }
    }
  });
  std::vector<CommandStat> used;
  for (size_t i = 0; i < specs.size(); i++) {
    if (all[i].calls == 0 && all[i].rejected == 0) continue;
    all[i].name = specs[i].name;
    used.push_back(all[i]);
  }
  return used;
}

std::vector<DbStat> GetKeyspaceStats(ServerContext& s, const Txn& txn) {
  std::vector<DbStat> dbs;
  for (int db = 0; db < limits::kNumDatabases; db++) {
    size_t keys = s.keyspace().DbSize(txn, db);
    if (keys == 0) continue;
    dbs.push_back(DbStat{db, keys, s.keyspace().ExpiresCount(txn, db)});
  }
  return dbs;
}

int64_t UptimeSeconds(ServerContext& s) { return (NowMs() - s.start_time_ms()) / 1000; }

}  // namespace fdb
