// Replication: a primary streams its changes to replicas, which apply them (docs/replication.md).
//
// The stream is Redis's: a replica connects, says REPLCONF listening-port / capa, then PSYNC
// <replid> <offset>; the primary answers +CONTINUE (the replica's offset is still in the backlog:
// the bytes after it follow) or +FULLRESYNC <replid> <offset> (everything follows), then RESP
// commands whose bytes are the replication offset, as Redis counts it. What an FDB primary
// sends is its typed effects (engine/txn.h), not the commands that made them: one
// `FDB.APPLY <items>` per committed transaction, the items being the log's batch items (a put
// with the full image and absolute deadline, a delta, a delete...), so a replica applies exactly
// what the primary's log holds, whatever command, script or expiry made it. A replica passes
// the bytes it receives on to its own replicas unchanged, so offsets agree along a chain.
//
// Full sync without fork: the replica's stream first carries the snapshot, one shard at a
// time, each taken under that shard's lock, interleaved with the effects committed meanwhile.
// An effect on a shard not dumped yet is left out (the dump of that shard will hold its result);
// one on a dumped shard, and every whole-keyspace effect (FLUSHALL, SWAPDB, which take every
// shard lock and so fall between two dumps), is sent in order. When the last shard is dumped,
// `FDB.SYNCED <offset>` gives the replica the stream offset it has reached; the live stream
// follows from there. A replica of Redis (live migration) gets Redis's RDB and command stream
// instead and applies the commands as a client would.
//
// Threads: one sender thread per attached replica (it owns the socket: dumps, writes, reads
// REPLCONF ACK), one link thread on a replica (connects to its master, applies the stream with
// a dispatcher of its own), and a cron thread (PINGs, timeouts). Lock order: a shard lock, then
// mu_; nothing takes a shard lock while holding mu_.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/limits.h"
#include "base/status.h"
#include "engine/txn.h"
#include "server/transport.h"

namespace fdb {

class ServerContext;
class ReplyBuilder;
struct Waiter;

// The name Redis 7.0 propagates a command under (a blocking pop as its plain form, GETSET as
// SET...), which a replica counts the command's changes under in INFO commandstats; nullptr
// for EXEC and scripts, which Redis propagates as the commands they ran. Looked up once per
// command, on registration (CommandSpec::replicated_name).
const char* ReplicatedName(const char* name);
// Whether Redis 7.0 propagates the command as it was sent: deterministic given the data it
// reads, with no relative time and no reply-dependent rewrite (INCR, LPUSH, HSET, DEL, ...;
// not INCRBYFLOAT, SPOP, EXPIRE, the blocking pops or SET with options). A Redis replica gets
// such a command as sent, and the changed values of every other (Replication::Translate).
bool PropagatedVerbatim(const char* name);
// A command's arguments as a RESP array.
std::string CommandResp(std::span<const std::string_view> args);

// What a connection that sent PSYNC / SYNC said before (REPLCONF) and in it.
struct ReplicaHello {
  std::string ip;          // the replica's address (or REPLCONF ip-address)
  int listening_port = 0;  // REPLCONF listening-port
  bool capa_fdb = false;   // REPLCONF capa fdb: it applies FDB.APPLY (an FDB replica)
  bool psync = false;      // PSYNC (false: the old SYNC)
  std::string replid;      // PSYNC's arguments
  int64_t offset = -1;
};

// One replica attached to this server (see the sender thread in replication.cc).
struct ReplicaPeer;

class Replication : public EffectSink {
 public:
  explicit Replication(ServerContext& server);
  ~Replication() override;
  Replication(const Replication&) = delete;
  Replication& operator=(const Replication&) = delete;

  // Starts the cron thread, and the link to the master when `replicaof` is configured.
  // REQUIRES: the keyspace is loaded (storage opened).
  void Start();
  // Stops every thread and closes every replication socket (shutdown).
  void Stop();

  // The keyspace's follower: each committed transaction becomes one FDB.APPLY in the stream.
  void Capture(Effect& effect) override;
  [[nodiscard]] Status Commit(Txn& txn) override;
  // Whether the follower wants effects (a backlog exists: this server has had a replica, or
  // is one).
  bool active() const { return active_.load(std::memory_order_relaxed); }
  // Whether a Redis replica is attached: the dispatcher then notes the commands Redis
  // propagates as sent (Txn::NoteCommand).
  bool wants_commands() const { return redis_peers_.load(std::memory_order_relaxed) > 0; }
  // On an I/O thread, the wake-ups of replica senders that commits make wait for the loop's
  // next sleep (FlushWakes, from its before-sleep hook): one per sender and turn of the loop
  // however many commits the turn made, as Redis writes to its replicas in beforeSleep. A
  // sender woken per commit cost the primary a system call and a thread hand-off per write.
  static void DeferWakesOnThisThread();
  void FlushWakes();

  // --- Primary side ---

  // A connection that sent PSYNC or SYNC hands its socket over (the connection is closed
  // without closing `fd`), with `transport`, fd's transport (plain or TLS, the session going
  // on); `unsent`: replies it had not written yet, which go first.
  void AttachReplica(int fd, std::unique_ptr<Transport> transport, const ReplicaHello& hello,
                     std::string unsent);
  // The replicas whose last acknowledgement is at most `max_lag_s` seconds old.
  int GoodReplicas(int64_t max_lag_s);
  // WAIT of an in-process client: blocks until `numreplicas` replicas acknowledged `offset`, or
  // `timeout_ms` passed (0: no timeout), or the server shuts down; returns how many did.
  int64_t Wait(uint64_t offset, int64_t numreplicas, int64_t timeout_ms);
  // How many replicas acknowledged `offset`.
  int64_t Acked(uint64_t offset);
  // WAIT of a network client, blocked on `w` (commands/blocking.h, no keys): answered with the
  // count once `numreplicas` replicas acknowledged `offset` (its timeout is its I/O thread's).
  void AddWaiter(uint64_t offset, int64_t numreplicas, std::shared_ptr<Waiter> w);

  // FAILOVER [TO host port [FORCE]] [TIMEOUT ms] (Redis 7): writes are held while the target
  // (`host` empty: the first replica to catch up) reaches this primary's offset; then this
  // server becomes its replica and asks it, with PSYNC ... FAILOVER, to take over. Returns
  // Redis's error text, or empty when the failover started.
  std::string StartFailover(const std::string& host, int port, int64_t timeout_ms, bool force);
  // FAILOVER ABORT: false when no failover is in progress.
  bool AbortFailover(const char* why);
  // PSYNC <replid> <offset> FAILOVER reached this server: it becomes a primary, keeping its
  // master's history as the second ID, if `replid` is its master's; false otherwise.
  bool TakeOver(std::string_view replid, const std::string& from);
  bool failover_in_progress() {
    std::lock_guard<std::mutex> l(mu_);
    return failover_state_ != FailoverState::kNone;
  }

  // A command that changes no key but must run on the replicas too (PUBLISH: their
  // subscribers get the message, as Redis propagates it): `args` go into the stream as the
  // command, after a SELECT of `db` for a Redis replica whose stream is on another database.
  // A primary sends it to every replica; a replica only when its master sent it
  // (`from_master`), and then only to its Redis replicas (its link passes the master's bytes on
  // to the others), as a Redis replica proxies its master's stream and propagates nothing of
  // its own clients. Nothing without replicas.
  void Propagate(int db, std::span<const std::string_view> args, bool from_master);

  // DEBUG REPLICATE: `args` go into the stream as a command, as if a command had propagated
  // them (a test of how replicas take what they cannot apply). Nothing without replicas.
  void Inject(const std::vector<std::string_view>& args);

  // --- Replica side ---

  // REPLICAOF host port: drops any link, then connects to the new master (in the background).
  // REPLICAOF NO ONE (`host` empty): becomes a primary, keeping the data set and, as Redis's
  // PSYNC2, the old replication ID as the second one so replicas of the same master continue.
  void ReplicaOf(const std::string& host, int port);
  bool is_replica() const { return replica_.load(std::memory_order_relaxed); }
  // CLIENT KILL TYPE replica: closes every replica's connection (they reconnect and continue
  // by partial resync); returns how many. CLIENT KILL TYPE master: closes the link to the
  // master (it reconnects); returns 1 if there was one.
  int64_t KillReplicas();
  int64_t KillMasterLink();
  // "host:port" of the master (CLIENT KILL addr names the link by it); empty on a primary.
  std::string MasterAddr();
  // A full sync is loading the data set: commands get LOADING.
  bool loading() const { return loading_.load(std::memory_order_relaxed); }
  // The link to the master is up (master_link_status:up).
  bool link_up() const { return link_up_.load(std::memory_order_relaxed); }

  // --- Introspection ---

  // What replication's buffers hold (INFO memory). `replicas`: the output of the replicas
  // attached, the stream queued for each and the part its sender is writing
  // (mem_clients_slaves). `not_counted`: that, plus the output of replicas dropped whose
  // sender has not freed it yet, plus the backlog beyond repl-backlog-size; what maxmemory is
  // not checked against (Keyspace::set_not_counted_buffers), as Redis counts the backlog up to its
  // size only and no replica's output. `backlog`: the backlog's bytes.
  struct MemoryUse {
    uint64_t replicas = 0;
    uint64_t not_counted = 0;
    uint64_t backlog = 0;
  };
  MemoryUse Memory();
  // INFO replication's fields, in Redis's order.
  std::vector<std::pair<std::string, std::string>> InfoFields();
  // ROLE's reply.
  void ReplyRole(ReplyBuilder& rb);
  uint64_t offset();
  // INFO stats: full syncs served, partial resyncs accepted, and refused (then served in full).
  std::atomic<uint64_t> sync_full{0};
  std::atomic<uint64_t> sync_partial_ok{0};
  std::atomic<uint64_t> sync_partial_err{0};

 private:
  friend struct ReplicaPeer;
  enum class LinkState { kNone, kConnect, kConnecting, kHandshake, kSync, kConnected };
  enum class FailoverState { kNone, kWaitForSync, kInProgress };

  // Appends stream bytes: backlog, offset, and every replica past its snapshot.
  void AppendStreamLocked(std::string_view bytes);
  void EnsureBacklogLocked();
  void LimitQueueLocked(ReplicaPeer& p, int64_t hard);
  void TrimBacklogLocked();
  // The replicas whose dump ended since the stream last moved (on a replica, the link thread
  // moves them online between two frames of its master, see FinishDumps).
  void FinishDumpsLocked();
  void FinishDumps();
  // A committed transaction as Redis commands, for the Redis replicas (replication.cc): made
  // under the commit's shard locks only (a changed collection is read whole), then queued to
  // each Redis replica under mu_.
  struct RedisCommand {
    int db;     // -1: any database
    int shard;  // -1: every shard
    std::string bytes;
  };
  std::vector<RedisCommand> Translate(Txn& txn);
  void QueueForRedisLocked(const std::vector<RedisCommand>& cmds);
  void NewReplId();
  void DisconnectPeersLocked();
  // Before a role change closes the replicas' links: gives their senders up to `timeout_ms` to
  // write what this server committed before it (Redis wrote it at the end of the event-loop
  // turn of each command, so a replica had it before a later REPLICAOF). Replicas in their full
  // sync are not waited for (they sync again anyway). REQUIRES: mu_ not held.
  void FlushPeers(int64_t timeout_ms);
  static constexpr int64_t kRoleChangeFlushMs = 200;
  // repl-backlog-ttl (cron thread).
  void FreeIdleBacklog(int64_t now);

  void SenderMain(std::shared_ptr<ReplicaPeer> p, bool full);
  // Dumps the data set into p's stream, shard by shard; false if the replica went away.
  bool Dump(ReplicaPeer& p);
  // Writes p's queued bytes; false when the replica is gone. `drain_to`: stop once at most
  // this many bytes are queued.
  bool Drain(ReplicaPeer& p, size_t drain_to);
  // Reads REPLCONF ACKs; false when the replica closed or sent garbage.
  bool ReadAcks(ReplicaPeer& p);
  void DropPeer(ReplicaPeer& p, const char* why);

  void LinkMain(std::string host, int port, uint64_t generation);
  // Ends the current link (its thread exits on its own); `wait`: until it has.
  void StopLink(bool wait);
  void CronMain();
  // Answers the WAITs whose count is reached (after an acknowledgement).
  void ServeWaits();
  int64_t AckedLocked(uint64_t offset);
  // The failover's step in each cron tick: a target caught up, or the timeout passed.
  void UpdateFailover();
  void ClearFailoverLocked();
  // REPLICAOF's work, for the command and for a failover.
  void SetMaster(const std::string& host, int port);
  void UnsetMaster();

  ServerContext& server_;
  std::atomic<bool> active_{false};
  std::atomic<bool> replica_{false};
  std::atomic<bool> loading_{false};
  std::atomic<bool> link_up_{false};
  std::atomic<bool> stopping_{false};

  std::mutex mu_;
  std::condition_variable ack_cv_;  // an acknowledgement arrived (WAIT)
  std::string replid_;              // guarded by mu_
  std::string replid2_;             // guarded by mu_: the previous ID (PSYNC2)
  int64_t second_offset_ = -1;      // guarded by mu_: replid2_ is valid up to this offset
  uint64_t offset_ = 0;             // guarded by mu_: master_repl_offset
  bool backlog_on_ = false;         // guarded by mu_
  std::string backlog_;             // guarded by mu_: the stream's bytes (backlog_start_, offset_]
  uint64_t backlog_start_ = 0;      // guarded by mu_: the offset before backlog_'s first byte
  std::vector<std::shared_ptr<ReplicaPeer>> peers_;  // guarded by mu_
  struct WaitCall {
    uint64_t offset;
    int64_t numreplicas;
    std::shared_ptr<Waiter> waiter;
  };
  std::vector<WaitCall> waits_;  // guarded by mu_: blocked WAITs
  int snapshot_peers_ = 0;       // guarded by mu_
  // Written under mu_; read without it by commits, under their shard locks (Commit).
  std::atomic<int> redis_peers_{0};
  int stream_db_ = 0;            // guarded by mu_: the database of the last change (repl-stream-db)
  uint64_t next_peer_id_ = 0;    // guarded by mu_
  std::atomic<int> senders_{0};  // sender threads running
  int64_t last_ping_ms_ = 0;     // cron thread only
  // Since when no replica is attached (repl-backlog-ttl frees the backlog after that long).
  int64_t no_replicas_since_ms_ = 0;  // guarded by mu_

  // FAILOVER; guarded by mu_.
  FailoverState failover_state_ = FailoverState::kNone;
  std::string failover_host_;  // the target; empty: any replica, until one caught up
  int failover_port_ = 0;
  int64_t failover_end_ms_ = 0;  // 0: no timeout
  bool failover_force_ = false;
  uint64_t failover_getack_at_ = UINT64_MAX;  // the offset GETACK was last sent at

  // Replica side; guarded by mu_ (link_ by link_mu_).
  std::string master_host_;
  int master_port_ = 0;
  LinkState link_state_ = LinkState::kNone;
  int64_t last_io_ms_ = 0;
  int64_t link_down_since_ms_ = 0;
  uint64_t sync_bytes_ = 0;
  std::atomic<uint64_t> link_generation_{0};  // written under mu_; the link reads it bare
  std::atomic<int> link_fd_{-1};
  std::mutex link_mu_;         // serializes REPLICAOF
  std::atomic<int> links_{0};  // link threads running (an ended one may still finish a command)

  std::thread cron_;
  std::mutex cron_mu_;
  std::condition_variable cron_cv_;
};

}  // namespace fdb
