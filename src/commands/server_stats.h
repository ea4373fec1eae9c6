// The server's figures, gathered in one place for every report that shows them: INFO formats
// them as Redis's sections (commands/info.cc), GET /metrics as Prometheus's text format
// (http/metrics.cc). Each report used to read the counters itself; one source means the two
// cannot disagree on what "connected clients" or "commands processed" counts.
//
// Every function reads counters that other threads keep moving (relaxed atomics, the client
// registry's lock, one shard lock at a time): a snapshot is consistent per figure, not across
// figures, as Redis's INFO is not across its sections either. Thread-safe: called from any I/O
// thread (INFO) or from the HTTP thread (/metrics).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "commands/introspection.h"
#include "commands/server_context.h"
#include "engine/storage_engine.h"
#include "engine/txn.h"

namespace fdb {

struct ClientStats {
  size_t connected = 0;  // not counting clients CLIENT KILL picked, which are about to close
  size_t blocked = 0;    // on keys, or held by CLIENT PAUSE (as Redis)
  size_t tracking = 0;
  size_t max_input_buffer = 0;
  size_t max_output_buffer = 0;
  int64_t maxclients = 0;
};
ClientStats GetClientStats(ServerContext& s);

struct MemoryStats {
  size_t used = 0;  // what the maxmemory check uses, freshly sampled
  size_t peak = 0;  // the highest `used` any report saw (also raised by this call)
  size_t rss = 0;
  int64_t maxmemory = 0;
  size_t not_counted_for_evict = 0;  // the log's buffers, the replicas' output
  size_t replication_backlog = 0;
  size_t clients_slaves = 0;    // the replicas' output (Replication::Memory)
  size_t lazyfree_pending = 0;  // flushed tables still being freed
  int64_t clients_normal = 0;
  int64_t maxmemory_clients = 0;
  int64_t cached_scripts = 0;
  double fragmentation_ratio = 0;  // rss / used
};
MemoryStats GetMemoryStats(ServerContext& s);

// The storage engine's figures (zero, with `enabled` false, without persistence).
struct PersistenceStats {
  bool enabled = false;
  StorageStats storage;
  uint64_t garbage_bytes = 0;  // log bytes no live record needs
  uint64_t changes_since_save = 0;
  int64_t last_save_s = 0;
};
PersistenceStats GetPersistenceStats(ServerContext& s);

// The RAM cache of values (values moved to disk under the budget and read back).
struct CacheStats {
  uint64_t entries = 0;
  uint64_t bytes = 0;
  int64_t budget_bytes = 0;
  int64_t budget_entries = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;  // values moved to disk (the key stays)
};
CacheStats GetCacheStats(ServerContext& s);

struct GeneralStats {
  uint64_t connections_received = 0;
  uint64_t commands_processed = 0;
  uint64_t net_input_bytes = 0;
  uint64_t net_output_bytes = 0;
  uint64_t rejected_connections = 0;
  uint64_t sync_full = 0;  // replicas served a full sync, a partial one, or refused a partial
  uint64_t sync_partial_ok = 0;
  uint64_t sync_partial_err = 0;
  uint64_t expired_keys = 0;
  uint64_t evicted_keys = 0;  // whole keys deleted by a maxmemory-policy
  uint64_t evicted_clients = 0;
  uint64_t output_limit_disconnections = 0;
  uint64_t keyspace_hits = 0;
  uint64_t keyspace_misses = 0;
  size_t pubsub_channels = 0;
  size_t pubsub_patterns = 0;
  size_t pubsub_shard_channels = 0;
  uint64_t total_error_replies = 0;
};
GeneralStats GetGeneralStats(ServerContext& s);

// Replication, as INFO replication reports it.
struct ReplicaLink {  // a replica of this server
  std::string ip;
  int64_t port = 0;
  std::string state;
  int64_t offset = 0;
  int64_t lag_s = 0;
};
struct ReplicationStats {
  std::string role = "master";  // "master" or "slave", as Redis
  int64_t connected_replicas = 0;
  int64_t repl_offset = 0;  // master_repl_offset
  std::vector<ReplicaLink> replicas;
  // A replica's link to its primary (role "slave").
  std::string master_host;
  int64_t master_port = 0;
  bool link_up = false;
  int64_t last_io_s_ago = -1;
  bool sync_in_progress = false;
  int64_t replica_offset = 0;  // slave_repl_offset
};
ReplicationStats GetReplicationStats(ServerContext& s);

struct CpuStats {
  double sys_s = 0, user_s = 0, sys_children_s = 0, user_children_s = 0;
};
CpuStats GetCpuStats();

// One command's counters summed over every I/O thread. `hist[b]` counts calls that ran at most
// 2^b µs (commands/introspection.h, LatencyBucket).
struct CommandStat {
  const char* name = nullptr;  // the registry's lower-case name
  uint64_t calls = 0;
  uint64_t usec = 0;
  uint64_t failed = 0;
  uint64_t rejected = 0;
  std::array<uint64_t, kLatencyBuckets> hist{};
};
// Every command that was called or rejected at least once, in registry order.
std::vector<CommandStat> GetCommandStats(ServerContext& s);

struct DbStat {
  int db = 0;
  size_t keys = 0;
  size_t expires = 0;
};
// Every database that holds keys. `txn`: the caller's transaction (INFO inside EXEC holds every
// shard already); a default Txn locks each shard in turn.
std::vector<DbStat> GetKeyspaceStats(ServerContext& s, const Txn& txn);

int64_t UptimeSeconds(ServerContext& s);

}  // namespace fdb
