// ClientState: what FDB knows about one client connection, apart from its socket.
//
// Owned by the I/O thread that serves the connection; that thread alone writes it. Other
// threads read it only through the ClientRegistry (CLIENT LIST / KILL), so the fields they
// read are atomics or guarded by info_mu.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "base/shared_block.h"

namespace fdb {

struct Waiter;       // commands/blocking.h
struct CommandSpec;  // commands/registry.h
struct Subscriber;   // commands/pubsub.h
class MessageSink;
class AclUser;  // commands/acl.h
class PubSubEndpoint;

struct ClientState {
  uint64_t id = 0;
  int fd = -1;
  std::string addr;   // peer "ip:port" ("path:0" on the Unix socket, as Redis)
  std::string laddr;  // local "ip:port" ("path:0" on the Unix socket)
  int64_t created_ms = 0;
  // The peer is 127.0.0.1 or ::1 or on the Unix socket (Redis's islocalClient), for protected
  // mode, enable-debug-command local and enable-protected-configs local. In-process clients
  // (the embedded API, tests) are local.
  bool local = true;
  bool unix_socket = false;  // connected through `unixsocket` (CLIENT LIST's flag U)
  bool script = false;       // the client of a script's redis.call's (commands/scripting.cc)
  // The index of the I/O thread serving the connection (CLIENT LIST io-thread=, as Redis 8).
  int io_thread = 0;
  // Failed AUTH / HELLO AUTH attempts in a row on this connection; owning thread only.
  int failed_auths = 0;
  // Replication (commands/replication.h); owning thread only. `master`: the replica's link to
  // its master, whose writes a read-only replica takes. `repl_offset`: the stream offset right
  // after this client's last write (WAIT). REPLCONF listening-port / ip-address / capa, then
  // PSYNC's request: after that command the connection hands its socket to replication.
  bool master = false;
  // On the master's link: the stream position right after the command it runs (empty ID
  // during a full sync), which the command's log batch records (Txn::set_repl_position).
  std::string master_replid;
  uint64_t master_offset_after = 0;
  uint64_t repl_offset = 0;
  int repl_listening_port = 0;
  std::string repl_ip;
  bool repl_capa_fdb = false;
  bool psync_requested = false;
  std::string psync_replid;
  int64_t psync_offset = -1;

  // Cluster mode (commands/cluster.h); owning thread only. `cluster_asking`: ASKING sets 2 and
  // each command ends by counting it down outside MULTI, so it lets exactly the next command
  // (or the next transaction) into an importing slot, as Redis's CLIENT_ASKING.
  // `cluster_readonly`: READONLY, reads of its primary's slots are served on a replica.
  uint8_t cluster_asking = 0;
  bool cluster_readonly = false;

  std::atomic<int> db{0};
  std::atomic<bool> resp3{false};
  std::atomic<bool> authenticated{true};
  // The ACL user the client is authenticated as (commands/acl.h); null for in-process clients,
  // which may run anything. Written by the owning thread under info_mu (other threads read it
  // under info_mu: CLIENT LIST, kills), read by the owning thread without it.
  std::shared_ptr<AclUser> user;
  std::atomic<bool> no_evict{false};
  std::atomic<bool> no_touch{false};
  // MONITOR: the client gets a line for every command run (commands/introspection.h).
  std::atomic<bool> monitor{false};
  // CLIENT REPLY, as Redis: kOff drops every reply from the CLIENT REPLY OFF itself on;
  // kSkipNext (set by SKIP) drops SKIP's own reply and becomes kSkip, which drops the next
  // command's reply and goes back to kOn. Pushes (messages, subscription replies) are sent
  // either way. Read and written on the client's own thread only (the command handler sets
  // it, the connection applies it after each command).
  enum class ReplyMode : uint8_t { kOn, kOff, kSkipNext, kSkip };
  ReplyMode reply_mode = ReplyMode::kOn;
  std::atomic<int64_t> last_interaction_ms{0};
  std::atomic<const char*> last_cmd{"NULL"};
  std::atomic<size_t> qbuf{0};
  std::atomic<size_t> obuf{0};
  // Memory this client's connection holds: buffers plus a fixed overhead (CLIENT LIST tot-mem,
  // maxmemory-clients).
  std::atomic<size_t> tot_mem{0};
  std::atomic<uint64_t> commands{0};

  mutable Mutex info_mu;
  std::string name ABSL_GUARDED_BY(info_mu);
  std::string lib_name ABSL_GUARDED_BY(info_mu);
  std::string lib_ver ABSL_GUARDED_BY(info_mu);

  // MULTI/EXEC state; touched only by the owning thread.
  bool in_multi = false;
  bool multi_error = false;  // a command failed to queue: EXEC will abort
  std::vector<std::vector<std::string>> queued;
  // WATCHed keys: database, key, the key's watch version (Keyspace::Watch) and whether it was
  // live then. Registered in the keyspace until ReleaseWatches (commands/context.h).
  struct WatchedKey {
    int db;
    std::string key;
    uint64_t version;
    bool was_live;
  };
  std::vector<WatchedKey> watched;
  // Memory of `queued` and `watched` (CLIENT LIST multi-mem, tot-mem, maxmemory-clients): added
  // to as they grow; the connection takes a list that was emptied as 0. Written by the owning
  // thread, read by CLIENT LIST on others.
  std::atomic<size_t> queued_bytes{0};
  std::atomic<size_t> watched_bytes{0};

  // Blocking commands: the waiter this client is blocked on (set by BlockingRegistry::Block,
  // cleared by the owning thread when it is served, times out or disconnects), and how
  // another thread hands this client the reply of its served command (set by the network
  // layer; thread-safe; unset for clients that cannot block, such as the embedded API's).
  std::shared_ptr<Waiter> blocked;
  // Whether `blocked` is set, for CLIENT LIST on other threads (its `b` flag).
  std::atomic<bool> is_blocked{false};
  std::function<void(std::string reply, uint64_t log_seq)> unblock;
  // The call that blocked, for SLOWLOG: as Redis, a blocking command is logged when it is
  // served or times out, not when it blocks. Owning thread only.
  struct BlockedCall {
    const CommandSpec* spec = nullptr;
    std::vector<std::string> args;
    int64_t duration_us = 0;
  };
  std::unique_ptr<BlockedCall> blocked_call;

  // Pub/sub (commands/pubsub.h). `pubsub` is set while the client has any subscription (it
  // is then in subscribed mode) and touched by its own thread only. `pubsub_sink` (the
  // client's I/O thread) and `pubsub_endpoint` (its connection) are set by the network layer;
  // a client without them (the embedded API) cannot subscribe. The counts are for CLIENT LIST
  // on other threads.
  std::shared_ptr<Subscriber> pubsub;
  // Where messages other than subscriptions' reach this connection (client-side caching's
  // invalidations, to the client itself or to it as a redirect target): made by the network
  // layer with the connection, detached when it closes. Set before the client is registered,
  // never replaced, so other threads may copy it under the client registry's lock.
  std::shared_ptr<Subscriber> push_handle;
  // Client-side caching (commands/tracking.h), as this client set it; its own thread only.
  // The tracking table holds what other threads need (redirect, flags, prefixes).
  struct Tracking {
    bool on = false;
    bool bcast = false;
    bool optin = false;
    bool optout = false;
    bool noloop = false;
    bool caching = false;  // CLIENT CACHING YES (optin) / NO (optout), for the next command
    uint64_t redirect = 0;
    std::vector<std::string> prefixes;
    // The prefixes' memory (names plus limits::kSubscriptionOverhead each), counted in the
    // client's memory as Redis counts its tracking prefixes.
    size_t prefixes_bytes = 0;
  } tracking;
  MessageSink* pubsub_sink = nullptr;
  PubSubEndpoint* pubsub_endpoint = nullptr;
  // Set by the dispatcher while it evicts keys before running a command (maxmemory): pushes
  // to this client made meanwhile (the evicted keys' invalidations) come before the command's
  // reply, as in Redis, not after it as a command's own pushes do. Its own thread only.
  bool pushes_before_reply = false;
  std::atomic<int> sub_channels{0};
  std::atomic<int> sub_patterns{0};
  std::atomic<int> sub_shard_channels{0};
  // Memory of the subscriptions' names plus limits::kSubscriptionOverhead each, counted in the
  // client's memory (tot-mem, maxmemory-clients) as Redis counts them. Own thread only.
  size_t pubsub_bytes = 0;
  bool subscribed() const { return pubsub != nullptr; }

  // The large arguments of the request being executed (read into blocks of their own by the
  // connection, see base/shared_block.h): each backs the argument whose bytes are its view.
  // Set by the network layer for the duration of one command; commands may share them
  // (CommandContext::ArgBlock) instead of copying the bytes.
  std::vector<BlockRef> arg_blocks;

  // Serves the other clients of this connection's I/O thread now (they get BUSY while a
  // script runs past busy-reply-threshold); set by the network layer, unset elsewhere.
  std::function<void()> process_events_while_blocked;

  // CLIENT PAUSE held the command just dispatched: it was not run nor answered, and the
  // connection runs it again when the pause allows (commands/client_pause.h). Set by the
  // dispatcher, cleared by the connection; owning thread only. Only a client with `unblock`
  // set (a network connection) is ever held.
  bool postponed = false;

  // Set by the command layer; acted on by the connection after the reply is written.
  bool close_after_reply = false;
  // Asks the owning I/O thread to close this connection (thread-safe); set by the network layer.
  std::function<void()> request_close;
  // Set by the first CLIENT KILL that picked this client: it closes on its own thread a moment
  // later, and a second CLIENT KILL meanwhile must not count it again (as Redis, whose kill is
  // synchronous).
  std::atomic<bool> kill_requested{false};

  std::string Name() const {
    MutexLock l(info_mu);
    return name;
  }
};

}  // namespace fdb
