// ServerContext: the server-wide state that commands may reach, passed explicitly (no globals).
//
// It owns the keyspace, the configuration, the client registry and the statistics. The network
// layer and the in-process test harness both create one and hand it to the dispatcher.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "commands/acl.h"
#include "commands/blocking.h"
#include "commands/client_pause.h"
#include "commands/cluster.h"
#include "commands/introspection.h"
#include "commands/notify.h"
#include "commands/pubsub.h"
#include "commands/rdb_snapshot.h"
#include "commands/replication.h"
#include "commands/tracking.h"
#include "engine/keyspace.h"
#include "engine/storage_engine.h"
#include "server/client_state.h"
#include "server/config.h"
#include "server/transport.h"

namespace fdb {

// Per-command counters of one I/O thread: written by that thread only, summed by INFO.
struct CommandCounters {
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> usec{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> hist[kLatencyBuckets] = {};  // calls by run time (LatencyBucket)
};

struct ThreadStats {
  explicit ThreadStats(size_t ncommands) : commands(ncommands) {}
  std::vector<CommandCounters> commands;
  std::atomic<uint64_t> net_input_bytes{0};
  std::atomic<uint64_t> net_output_bytes{0};
  std::atomic<uint64_t> dirty{0};  // changes since the last save made on this thread
};

class ClientRegistry {
 public:
  void Add(ClientState* c);
  void Remove(ClientState* c);
  size_t size() const;
  // Calls fn on every registered client while the registry lock is held.
  void ForEach(const std::function<void(ClientState&)>& fn) const;
  // Calls fn on the client with this id, if registered, while the lock is held.
  void WithClient(uint64_t id, const std::function<void(ClientState&)>& fn) const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, ClientState*> clients_;
};

class ServerContext {
 public:
  ServerContext();

  Keyspace& keyspace() { return keyspace_; }
  // The storage engine, or nullptr when the server runs without persistence (appendonly no).
  StorageEngine* storage() { return storage_.get(); }
  // Opens the storage engine over config().dir() and recovers the keyspace from it.
  Status OpenStorage();
  void CloseStorage();
  Config& config() { return config_; }
  ClientRegistry& clients() { return clients_; }
  // Clients blocked on keys (BLPOP and friends).
  BlockingRegistry& blocking() { return blocking_; }
  // CLIENT PAUSE's state, read by every I/O thread before each command.
  ClientPause& client_pause() { return client_pause_; }
  // Pub/sub channels, patterns and shard channels with their subscribers.
  PubSubRegistry& pubsub() { return pubsub_; }
  SlowLog& slowlog() { return slowlog_; }
  // MONITOR's clients and the feed of every command to them.
  Monitors& monitors() { return monitors_; }
  // INFO errorstats: every error reply of every connection.
  ErrorStats& error_stats() { return error_stats_; }
  LatencyMonitor& latency() { return latency_; }
  // Client-side caching: the tracking table and its invalidations.
  Tracking& tracking() { return tracking_; }
  // ACL users, their permissions and ACL LOG.
  Acl& acl() { return acl_; }
  // Replicas of this server, and its link to its master when it is one.
  Replication& replication() { return replication_; }
  // Cluster mode: the topology this node was given, and the routing of keys it implies.
  Cluster& cluster() { return cluster_; }
  // RDB files of a server without its log: SAVE, BGSAVE, save points, the shutdown's save.
  RdbSnapshots& snapshots() { return snapshots_; }
  // Turns the keyspace's following sinks (notifications, tracking, replication) on while one
  // of them is wanted.
  void UpdateFollowers();
  // min-replicas-to-write / min-replicas-max-lag: a primary refuses writes without that many
  // good replicas (NOREPLICAS), as Redis.
  bool MinReplicasRefuseWrites();

  // Thread statistics: each I/O thread (and the test harness) gets one.
  ThreadStats* NewThreadStats();
  void ForEachThreadStats(const std::function<void(ThreadStats&)>& fn);
  void ResetStats();
  // Changes since the last save (rdb_changes_since_last_save), and its reset by SAVE.
  uint64_t Dirty();
  void ResetDirty();

  // Pushes configuration that lives outside Config into its owners (e.g. the LFU mode of the
  // keyspace from maxmemory-policy). Called at startup and after CONFIG SET.
  void ApplyConfig();

  uint64_t NextClientId() { return next_client_id_.fetch_add(1) + 1; }

  int64_t start_time_ms() const { return start_time_ms_; }
  const std::string& run_id() const { return run_id_; }

  // The port the server listens on (its `port`, or the one the system chose for port 0): a
  // replica tells its master (REPLCONF listening-port). Set by the network layer.
  std::atomic<int> listening_port{0};
  std::atomic<uint64_t> total_connections{0};
  std::atomic<uint64_t> rejected_connections{0};
  // The memory of all client connections (ClientState::tot_mem summed; maxmemory-clients), the
  // clients it made the server close (evicted_clients), and the clients closed for passing
  // their output buffer limit (client_output_buffer_limit_disconnections).
  std::atomic<int64_t> client_memory{0};
  std::atomic<uint64_t> evicted_clients{0};
  std::atomic<uint64_t> output_limit_disconnections{0};
  // What the clients asked to close (evicted, killed) and not closed yet by their I/O thread
  // hold: left out of what maxmemory is checked against, as Redis frees an evicted client at
  // once (without it, the output of clients maxmemory-clients has just evicted could evict
  // keys). Walks the clients.
  uint64_t ClosingClientsMemory() const;
  std::atomic<int64_t> last_save_s{0};
  std::atomic<uint64_t> dirty{0};                 // changes since the last save
  std::atomic<bool> active_expire_enabled{true};  // DEBUG SET-ACTIVE-EXPIRE
  // DEBUG PAUSE-CRON 1: the periodic housekeeping (active expiry, eviction catch-up, the I/O
  // threads' idle checks) stops until PAUSE-CRON 0, as Redis's serverCron; commands still run.
  std::atomic<bool> cron_paused{false};
  // DEBUG REPLYBUFFER RESIZING 0: idle connections keep their buffers (no ReleaseIdleMemory),
  // so a client's tot-mem stays what its traffic made it.
  std::atomic<bool> reply_buffer_resizing{true};
  std::atomic<size_t> used_memory_peak{0};  // highest used_memory seen by INFO
  std::atomic<bool> shutdown_save{true};    // checkpoint at shutdown (not NOSAVE)
  // A SIGTERM / SIGINT asked for a shutdown that has not happened yet: the housekeeping tick
  // runs it (not while DEBUG PAUSE-CRON holds the tick), and SHUTDOWN ABORT takes it back, as
  // Redis's shutdown_asap. Its save may fail, and then the server goes on.
  std::atomic<bool> shutdown_asap{false};

  // Asks the server to stop (SHUTDOWN, signals); set by the network layer.
  std::function<void()> request_shutdown;
  // Moves the listener to bind:port (CONFIG SET bind / port); set by the network layer. An
  // error leaves the old listener in place. Unset (no network): nothing to move.
  std::function<Status(const std::string& bind, int port)> rebind;
  // Applies the tls-* parameters after CONFIG SET changed one (a new TLS context, the TLS
  // listener moved to tls-port); set by the network layer. On error the old ones stay.
  std::function<Status()> reconfigure_tls;
  // A TLS transport in the client role over a connected socket (a replica's link to its master
  // under tls-replication); set by the network layer. It returns nullptr, or is unset, when no
  // TLS context is configured.
  std::function<std::unique_ptr<Transport>(int fd)> new_tls_client;
  // Opens, moves or closes the HTTP listener to match bind and http-port after CONFIG SET
  // changed one; set by whoever runs the HTTP listener (fdb-server's main). On error the old
  // listener stays. Unset (no HTTP side): nothing to do.
  std::function<Status()> reconfigure_http;

  // Shutdown, as seen by the commands. Redis is single-threaded, so nothing runs beside its
  // SHUTDOWN; here other I/O threads go on until they are stopped one by one, and one of them
  // may be inside DEBUG SLEEP. So a shutdown is a flag every thread reads before each command:
  // from BeginShutdown() on, writes are refused on every thread (the dispatcher), and a
  // DEBUG SLEEP in progress is cut short, so the process exits once the commands running at
  // that moment finish. Thread-safe; a shutdown cannot be taken back.
  void BeginShutdown();
  bool shutting_down() const { return shutting_down_.load(std::memory_order_acquire); }
  // Sleeps for `d`, or until a shutdown begins if that comes first. Returns false when cut short.
  bool SleepUnlessShutdown(std::chrono::microseconds d);

 private:
  Keyspace keyspace_;
  Config config_;
  std::unique_ptr<StorageEngine> storage_;
  ClientRegistry clients_;
  BlockingRegistry blocking_;
  ClientPause client_pause_;
  PubSubRegistry pubsub_;
  SlowLog slowlog_;
  Monitors monitors_;
  ErrorStats error_stats_;
  LatencyMonitor latency_;
  KeyspaceNotifier notifier_{*this};  // an effect sink of keyspace_, on while events are wanted
  Tracking tracking_{*this};          // the same, on while a client tracks
  Acl acl_{*this};
  Replication replication_{*this};  // a follower of keyspace_, on once a backlog exists
  Cluster cluster_{*this};
  RdbSnapshots snapshots_{*this};
  uint64_t requirepass_applied_ = 0;  // Config::requirepass_version() mirrored into acl_
  std::mutex stats_mu_;
  std::vector<std::unique_ptr<ThreadStats>> thread_stats_;
  std::atomic<uint64_t> next_client_id_{0};
  int64_t start_time_ms_;
  std::string run_id_;
  std::atomic<bool> shutting_down_{false};
  std::mutex shutdown_mu_;  // with shutdown_cv_, wakes SleepUnlessShutdown()
  std::condition_variable shutdown_cv_;
};

}  // namespace fdb
