#include "http/metrics.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <charconv>
#include <string_view>

#include "base/limits.h"
#include "commands/server_stats.h"

namespace fdb {

namespace {

constexpr const char* kRedisVersion = "7.2.4";    // as INFO's redis_version
constexpr const char* kFdbVersion = FDB_VERSION;  // CMakeLists.txt

// Writes families of samples. A family is announced once (# HELP, # TYPE) before its samples,
// as the format requires; label values are escaped as it says (backslash, quote, newline).
class PromWriter {
 public:
  void Family(const char* name, const char* type, const char* help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  // One sample without labels; `name` is also the family.
  void Gauge(const char* name, const char* help, double v) {
    Family(name, "gauge", help);
    Sample(name, {}, v);
  }
  void Counter(const char* name, const char* help, double v) {
    Family(name, "counter", help);
    Sample(name, {}, v);
  }
  // `labels`: the text between the braces, already escaped (Label() builds it).
  void Sample(std::string_view name, std::string_view labels, double v) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    AppendValue(v);
    out_ += '\n';
  }
  // Counters and sizes print as integers, exactly (a double holds integers up to 2^53); other
  // values as the shortest text that reads back as the same double.
  static std::string Number(double v) {
    char buf[32];
    std::to_chars_result r;
    if (v == static_cast<double>(static_cast<int64_t>(v)) && v < 9.007199254740992e15 &&
        v > -9.007199254740992e15) {
      r = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(v));
    } else {
      r = std::to_chars(buf, buf + sizeof(buf), v);
    }
    return r.ec == std::errc() ? std::string(buf, r.ptr) : std::string("NaN");
  }
  static std::string Label(std::string_view name, std::string_view value) {
    std::string s(name);
    s += "=\"";
    for (char c : value) {
      if (c == '\\' || c == '"') {
        s += '\\';
        s += c;
      } else if (c == '\n') {
        s += "\\n";
      } else {
        s += c;
      }
    }
    s += '"';
    return s;
  }
  std::string Take() { return std::move(out_); }

 private:
  void AppendValue(double v) { out_ += Number(v); }
  std::string out_;
};

// A histogram of power-of-two buckets (bucket b: at most 2^b units; the last one: the rest),
// as Prometheus's cumulative buckets with `le` in `unit_scale` units (1 for µs, 1e-6 for s).
template <size_t N>
void Histogram(PromWriter& w, const std::string& name, const std::string& labels,
               const std::array<uint64_t, N>& hist, double sum, double unit_scale) {
  uint64_t cumulative = 0;
  const std::string bucket = name + "_bucket";
  const std::string sep = labels.empty() ? "" : ",";
  for (size_t b = 0; b + 1 < N; b++) {
    cumulative += hist[b];
    const std::string le = PromWriter::Number(static_cast<double>(uint64_t{1} << b) * unit_scale);
    w.Sample(bucket, labels + sep + PromWriter::Label("le", le), static_cast<double>(cumulative));
  }
  cumulative += hist[N - 1];
  w.Sample(bucket, labels + sep + PromWriter::Label("le", "+Inf"), static_cast<double>(cumulative));
  w.Sample(name + "_sum", labels, sum);
  w.Sample(name + "_count", labels, static_cast<double>(cumulative));
}

void ServerMetrics(ServerContext& s, PromWriter& w) {
  w.Gauge("redis_up", "Whether the server answers (always 1 when it serves this page).", 1);
  utsname u{};
  uname(&u);
  w.Family("redis_instance_info", "gauge", "Information about the server, in labels.");
  const ReplicationStats repl = GetReplicationStats(s);
  std::string labels =
      PromWriter::Label("role", repl.role) + "," +
      PromWriter::Label("redis_version", kRedisVersion) + "," +
      PromWriter::Label("fdb_version", kFdbVersion) + "," +
      PromWriter::Label("redis_mode", "standalone") + "," +
      PromWriter::Label("os", std::string(u.sysname) + " " + u.release + " " + u.machine) + "," +
      PromWriter::Label("maxmemory_policy", s.config().maxmemory_policy()) + "," +
      PromWriter::Label("tcp_port", std::to_string(s.config().port())) + "," +
      PromWriter::Label("run_id", s.run_id()) + "," +
      PromWriter::Label("process_id", std::to_string(getpid()));
  w.Sample("redis_instance_info", labels, 1);
  w.Gauge("redis_start_time_seconds", "Start time of the server, in seconds since the epoch.",
          static_cast<double>(s.start_time_ms() / 1000));
  w.Gauge("redis_uptime_in_seconds", "Seconds since the server started.",
          static_cast<double>(UptimeSeconds(s)));
  w.Gauge("redis_process_id", "The server's process id.", getpid());
}

void ClientMetrics(ServerContext& s, PromWriter& w) {
  const ClientStats st = GetClientStats(s);
  w.Gauge("redis_connected_clients", "Client connections (not counting replicas).",
          static_cast<double>(st.connected));
  w.Gauge("redis_blocked_clients", "Clients blocked on keys or held by CLIENT PAUSE.",
          static_cast<double>(st.blocked));
  w.Gauge("redis_tracking_clients", "Clients with client-side caching on.",
          static_cast<double>(st.tracking));
  w.Gauge("redis_client_recent_max_input_buffer_bytes", "Largest query buffer of any client.",
          static_cast<double>(st.max_input_buffer));
  w.Gauge("redis_client_recent_max_output_buffer_bytes", "Largest output buffer of any client.",
          static_cast<double>(st.max_output_buffer));
  w.Gauge("redis_config_maxclients", "The maxclients parameter.",
          static_cast<double>(st.maxclients));
}

void MemoryMetrics(ServerContext& s, PromWriter& w) {
  const MemoryStats st = GetMemoryStats(s);
  w.Gauge("redis_memory_used_bytes", "Bytes allocated by the server (INFO used_memory).",
          static_cast<double>(st.used));
  w.Gauge("redis_memory_used_peak_bytes", "The highest used_memory seen.",
          static_cast<double>(st.peak));
  w.Gauge("redis_memory_used_rss_bytes", "Resident set size of the process.",
          static_cast<double>(st.rss));
  w.Gauge("redis_memory_max_bytes", "The maxmemory parameter (0: unbounded).",
          static_cast<double>(st.maxmemory));
  w.Gauge("redis_config_maxmemory", "The maxmemory parameter (0: unbounded).",
          static_cast<double>(st.maxmemory));
  w.Gauge("redis_mem_fragmentation_ratio", "RSS divided by used memory.", st.fragmentation_ratio);
  w.Gauge("redis_mem_not_counted_for_eviction_bytes",
          "Used memory that maxmemory is not checked against (the log's buffers).",
          static_cast<double>(st.not_counted_for_evict));
  w.Gauge("redis_lazyfree_pending_objects", "Flushed tables still being freed in the background.",
          static_cast<double>(st.lazyfree_pending));
  w.Gauge("redis_mem_clients_normal", "Memory of the client connections.",
          static_cast<double>(st.clients_normal));
  w.Gauge("redis_number_of_cached_scripts", "Scripts in the script cache.",
          static_cast<double>(st.cached_scripts));
}

void StatsMetrics(ServerContext& s, PromWriter& w) {
  const GeneralStats st = GetGeneralStats(s);
  w.Counter("redis_connections_received_total", "Connections accepted.",
            static_cast<double>(st.connections_received));
  w.Counter("redis_commands_processed_total", "Commands run.",
            static_cast<double>(st.commands_processed));
  w.Counter("redis_net_input_bytes_total", "Bytes read from clients.",
            static_cast<double>(st.net_input_bytes));
  w.Counter("redis_net_output_bytes_total", "Bytes written to clients.",
            static_cast<double>(st.net_output_bytes));
  w.Counter("redis_rejected_connections_total", "Connections refused (maxclients).",
            static_cast<double>(st.rejected_connections));
  w.Counter("redis_expired_keys_total", "Keys deleted at their deadline.",
            static_cast<double>(st.expired_keys));
  w.Counter("redis_evicted_keys_total",
            "Whole keys deleted by a maxmemory-policy (values moved to disk are "
            "fdb_cache_evictions_total).",
            static_cast<double>(st.evicted_keys));
  w.Counter("redis_evicted_clients_total", "Clients closed by maxmemory-clients.",
            static_cast<double>(st.evicted_clients));
  w.Counter("redis_client_output_buffer_limit_disconnections_total",
            "Clients closed for passing their output buffer limit.",
            static_cast<double>(st.output_limit_disconnections));
  w.Counter("redis_keyspace_hits_total", "Key lookups that found the key.",
            static_cast<double>(st.keyspace_hits));
  w.Counter("redis_keyspace_misses_total", "Key lookups that did not find the key.",
            static_cast<double>(st.keyspace_misses));
  w.Gauge("redis_pubsub_channels", "Channels with subscribers.",
          static_cast<double>(st.pubsub_channels));
  w.Gauge("redis_pubsub_patterns", "Patterns with subscribers.",
          static_cast<double>(st.pubsub_patterns));
  w.Gauge("redis_pubsubshard_channels", "Shard channels with subscribers.",
          static_cast<double>(st.pubsub_shard_channels));
  w.Counter("redis_total_error_replies", "Error replies sent.",
            static_cast<double>(st.total_error_replies));
  const CpuStats cpu = GetCpuStats();
  w.Counter("redis_cpu_sys_seconds_total", "System CPU time of the process.", cpu.sys_s);
  w.Counter("redis_cpu_user_seconds_total", "User CPU time of the process.", cpu.user_s);
  w.Counter("redis_cpu_sys_children_seconds_total", "System CPU time of child processes.",
            cpu.sys_children_s);
  w.Counter("redis_cpu_user_children_seconds_total", "User CPU time of child processes.",
            cpu.user_children_s);
}

void CommandMetrics(ServerContext& s, PromWriter& w) {
  const std::vector<CommandStat> cmds = GetCommandStats(s);
  std::vector<std::string> labels;
  labels.reserve(cmds.size());
  for (const CommandStat& c : cmds) labels.push_back(PromWriter::Label("cmd", c.name));
  w.Family("redis_commands_total", "counter", "Calls per command.");
  for (size_t i = 0; i < cmds.size(); i++) {
    w.Sample("redis_commands_total", labels[i], static_cast<double>(cmds[i].calls));
  }
  w.Family("redis_commands_duration_seconds_total", "counter", "Run time per command.");
  for (size_t i = 0; i < cmds.size(); i++) {
    w.Sample("redis_commands_duration_seconds_total", labels[i],
             static_cast<double>(cmds[i].usec) / 1e6);
  }
  w.Family("redis_commands_rejected_calls_total", "counter",
           "Calls refused before running, per command (arity, ACL, OOM...).");
  for (size_t i = 0; i < cmds.size(); i++) {
    w.Sample("redis_commands_rejected_calls_total", labels[i],
             static_cast<double>(cmds[i].rejected));
  }
  w.Family("redis_commands_failed_calls_total", "counter",
           "Calls that ran and replied with an error, per command.");
  for (size_t i = 0; i < cmds.size(); i++) {
    w.Sample("redis_commands_failed_calls_total", labels[i], static_cast<double>(cmds[i].failed));
  }
  w.Family("redis_commands_latencies_usec", "histogram",
           "Run time per command, in microseconds (power-of-two buckets).");
  for (size_t i = 0; i < cmds.size(); i++) {
    Histogram(w, "redis_commands_latencies_usec", labels[i], cmds[i].hist,
              static_cast<double>(cmds[i].usec), 1.0);
  }
  w.Family("redis_errors_total", "counter", "Error replies by their first word.");
  for (const auto& [code, count] : s.error_stats().Codes()) {
    w.Sample("redis_errors_total", PromWriter::Label("err", code), static_cast<double>(count));
  }
}

void KeyspaceMetrics(ServerContext& s, PromWriter& w) {
  // Every database, empty ones as 0: a series that stops when a database is flushed would
  // leave a dashboard showing its last count.
  std::array<DbStat, limits::kNumDatabases> dbs{};
  for (int db = 0; db < limits::kNumDatabases; db++) dbs[db].db = db;
  for (const DbStat& d : GetKeyspaceStats(s, Txn())) dbs[d.db] = d;
  w.Family("redis_db_keys", "gauge", "Keys per database.");
  for (const DbStat& d : dbs) {
    w.Sample("redis_db_keys", PromWriter::Label("db", "db" + std::to_string(d.db)),
             static_cast<double>(d.keys));
  }
  w.Family("redis_db_keys_expiring", "gauge", "Keys with a deadline per database.");
  for (const DbStat& d : dbs) {
    w.Sample("redis_db_keys_expiring", PromWriter::Label("db", "db" + std::to_string(d.db)),
             static_cast<double>(d.expires));
  }
}

void PersistenceMetrics(ServerContext& s, PromWriter& w) {
  const PersistenceStats st = GetPersistenceStats(s);
  const StorageStats& ss = st.storage;
  w.Gauge("redis_aof_enabled", "Whether changes are logged (appendonly).", st.enabled ? 1 : 0);
  w.Gauge("redis_aof_last_write_status", "1 while the log accepts writes, 0 after a failure.",
          ss.healthy ? 1 : 0);
  w.Gauge("redis_rdb_changes_since_last_save", "Changes since the last checkpoint.",
          static_cast<double>(st.changes_since_save));
  w.Gauge("redis_rdb_last_save_timestamp_seconds", "Time of the last checkpoint (epoch seconds).",
          static_cast<double>(st.last_save_s));
  w.Gauge("redis_rdb_bgsave_in_progress", "Whether a checkpoint is being written.",
          ss.bgsave_in_progress ? 1 : 0);
  w.Counter("fdb_fsyncs_total", "fsyncs of the log (records and new segments).",
            static_cast<double>(ss.fsyncs));
  w.Family("fdb_fsync_duration_seconds", "histogram",
           "Time of each fsync of appended records (power-of-two buckets).");
  Histogram(w, "fdb_fsync_duration_seconds", "", ss.fsync_latency_hist,
            static_cast<double>(ss.fsync_us_total) / 1e6, 1e-6);
  w.Gauge("fdb_last_fsync_seconds", "Time of the last fsync.",
          static_cast<double>(ss.last_fsync_us) / 1e6);
  w.Gauge("fdb_log_bytes", "Bytes of the log's segments on disk.",
          static_cast<double>(ss.log_bytes));
  w.Gauge("fdb_log_segments", "Segments of the log.", static_cast<double>(ss.segments));
  w.Gauge("fdb_live_bytes", "Bytes of the log that live records need.",
          static_cast<double>(ss.live_bytes));
  w.Gauge("fdb_garbage_bytes", "Bytes of the log that compaction may reclaim.",
          static_cast<double>(st.garbage_bytes));
  w.Counter("fdb_compactions_total", "Segments compacted.", static_cast<double>(ss.compactions));
  w.Counter("fdb_checkpoints_total", "Checkpoints written.", static_cast<double>(ss.checkpoints));
  w.Counter("fdb_write_errors_total", "Failed writes or fsyncs of the log.",
            static_cast<double>(ss.write_errors));
  w.Gauge("fdb_recovered_records", "Log records replayed at startup.",
          static_cast<double>(ss.recovered_records));
  w.Gauge("fdb_recovery_seconds", "Time the startup recovery took.", ss.recovery_seconds);
}

void ReplicationMetrics(ServerContext& s, PromWriter& w) {
  const ReplicationStats st = GetReplicationStats(s);
  const GeneralStats general = GetGeneralStats(s);
  w.Gauge("redis_connected_slaves", "Replicas connected.",
          static_cast<double>(st.connected_replicas));
  w.Gauge("redis_master_repl_offset", "The replication offset of this server's stream.",
          static_cast<double>(st.repl_offset));
  w.Gauge("redis_replica_resyncs_full", "Full syncs served to replicas.",
          static_cast<double>(general.sync_full));
  w.Gauge("redis_replica_partial_resync_accepted", "Partial resyncs served to replicas.",
          static_cast<double>(general.sync_partial_ok));
  w.Gauge("redis_replica_partial_resync_denied", "Partial resyncs refused (full sync instead).",
          static_cast<double>(general.sync_partial_err));
  std::vector<std::string> replica_labels;
  for (const ReplicaLink& r : st.replicas) {
    replica_labels.push_back(PromWriter::Label("slave_ip", r.ip) + "," +
                             PromWriter::Label("slave_port", std::to_string(r.port)) + "," +
                             PromWriter::Label("slave_state", r.state));
  }
  w.Family("redis_connected_slave_offset_bytes", "gauge", "Offset a replica acknowledged.");
  for (size_t i = 0; i < st.replicas.size(); i++) {
    w.Sample("redis_connected_slave_offset_bytes", replica_labels[i],
             static_cast<double>(st.replicas[i].offset));
  }
  w.Family("redis_connected_slave_lag_seconds", "gauge", "Seconds since a replica's last ack.");
  for (size_t i = 0; i < st.replicas.size(); i++) {
    w.Sample("redis_connected_slave_lag_seconds", replica_labels[i],
             static_cast<double>(st.replicas[i].lag_s));
  }
  if (st.role != "slave") return;
  const std::string master = PromWriter::Label("master_host", st.master_host) + "," +
                             PromWriter::Label("master_port", std::to_string(st.master_port));
  w.Family("redis_master_link_up", "gauge", "1 while the link to the primary is up.");
  w.Sample("redis_master_link_up", master, st.link_up ? 1 : 0);
  w.Family("redis_master_last_io_seconds_ago", "gauge",
           "Seconds since the last byte from the primary (-1: none yet).");
  w.Sample("redis_master_last_io_seconds_ago", master, static_cast<double>(st.last_io_s_ago));
  w.Family("redis_master_sync_in_progress", "gauge", "1 while a full sync is being loaded.");
  w.Sample("redis_master_sync_in_progress", master, st.sync_in_progress ? 1 : 0);
  w.Family("redis_slave_repl_offset", "gauge", "The replication offset this replica applied.");
  w.Sample("redis_slave_repl_offset", master, static_cast<double>(st.replica_offset));
}

void CacheMetrics(ServerContext& s, PromWriter& w) {
  const CacheStats st = GetCacheStats(s);
  w.Gauge("fdb_cache_entries", "Values held in RAM.", static_cast<double>(st.entries));
  w.Gauge("fdb_cache_bytes", "Bytes of the values held in RAM.", static_cast<double>(st.bytes));
  w.Gauge("fdb_cache_budget_bytes", "The RAM budget of values in bytes (0: unbounded).",
          static_cast<double>(st.budget_bytes));
  w.Gauge("fdb_cache_budget_entries", "The RAM budget in values, cache-size (0: unbounded).",
          static_cast<double>(st.budget_entries));
  w.Counter("fdb_cache_hits_total", "Reads of values that were in RAM.",
            static_cast<double>(st.hits));
  w.Counter("fdb_cache_misses_total", "Reads of values read back from disk.",
            static_cast<double>(st.misses));
  w.Counter("fdb_cache_evictions_total", "Values moved to disk to stay within the budget.",
            static_cast<double>(st.evictions));
}

}  // namespace

std::string RenderMetrics(ServerContext& ctx) {
  PromWriter w;
  ServerMetrics(ctx, w);
  ClientMetrics(ctx, w);
  MemoryMetrics(ctx, w);
  StatsMetrics(ctx, w);
  CommandMetrics(ctx, w);
  KeyspaceMetrics(ctx, w);
  PersistenceMetrics(ctx, w);
  ReplicationMetrics(ctx, w);
  CacheMetrics(ctx, w);
  return w.Take();
}

}  // namespace fdb
