// Client-side caching (CLIENT TRACKING): which clients may hold which keys, and the
// invalidation messages that tell them a key changed.
//
// Model. As Redis 7: in the default mode a tracking client's read commands remember their
// keys (after the command, in Tracking::AfterCommand; OPTIN / OPTOUT with CLIENT CACHING
// decide per command), in a table key -> client ids; in BCAST mode the client names key
// prefixes instead and nothing is remembered. Invalidation is an effect sink (engine/txn.h):
// every change of a key (a command, EXEC, a served blocked client, expiry, eviction) is an
// effect, and at commit, after the log and with the change's shards still locked, the key's
// entry is taken out of the table and each client remembered there is told, once; BCAST
// clients whose prefix matches are told too, the keys of one commit grouped per prefix. A
// flush tells every tracking client with a null (everything is invalid) and empties the table.
// A key the table must drop to stay within tracking-table-max-keys is invalidated the same way.
//
// Messages. To a RESP3 client: the push `invalidate [keys]` (null: `_`). With REDIRECT, to the
// target client: a push if it speaks RESP3, else a pub/sub message on `__redis__:invalidate`
// if it is in subscribed mode (RESP2 cannot carry pushes), else nothing. A RESP2 client
// without REDIRECT gets nothing (as Redis). When the redirect target has gone, a RESP3
// tracking client gets `tracking-redir-broken <id>` instead. NOLOOP: a client is not told of
// the changes its own commands made (expiry and eviction are nobody's command: always told).
// Delivery takes the pub/sub path (MessageSink, per receiving thread), so it works across I/O
// threads; a message to the writer itself reaches it after the reply of the write.
//
// Locks. One mutex over the table; taken under shard locks (the sink), never the other way.
// The client registry's lock is taken under it to find receivers by id.
//
// Cost. With no tracking client the sink is off (Keyspace::set_followers_on) and
// AfterCommand is not called (the dispatcher checks the client's own flag).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "base/mutex.h"
#include "commands/pubsub.h"
#include "commands/registry.h"
#include "engine/txn.h"

namespace fdb {

class ServerContext;
struct ClientState;

class Tracking : public EffectSink {
 public:
  explicit Tracking(ServerContext& server) : server_(server) {}

  // CLIENT TRACKING ON with its options (validated by the caller), and OFF. Own thread of c.
  void Enable(ClientState& c, uint64_t redirect, bool bcast, bool optin, bool optout, bool noloop,
              const std::vector<std::string>& prefixes);
  void Disable(ClientState& c);
  // After each command of a tracking client: remembers the keys of a read command, and ends
  // a CLIENT CACHING choice. REQUIRES: c.tracking.on; c's own thread. `in_txn`: the
  // transaction when its effects are not committed yet (a command inside EXEC), else nullptr.
  void AfterCommand(const CommandSpec& spec, CmdArgs args, ClientState& c, Txn* in_txn = nullptr);
  // Remembers `keys` for c's next invalidations (a read of them), unless c is in BCAST mode or
  // its OPTIN/OPTOUT choice says not to. `in_txn` as for AfterCommand (Txn::NoteRead).
  void Remember(CmdArgs keys, ClientState& c, Txn* in_txn = nullptr);
  // Whether c's redirect target has gone (CLIENT TRACKINGINFO's broken_redirect).
  bool RedirectBroken(uint64_t client_id) const;
  // Applies a lowered tracking-table-max-keys at once (CONFIG SET), as Redis's cron does.
  void EnforceLimit();
  // Whether any client tracks (the sink is on).
  bool active() const { return clients_count_.load(std::memory_order_relaxed) > 0; }

  // INFO: tracking_total_keys, tracking_total_items, tracking_total_prefixes, tracking_clients.
  struct Stats {
    int64_t keys = 0, items = 0, prefixes = 0, clients = 0;
  };
  Stats GetStats() const;

  void Capture(Effect& effect) override;
  [[nodiscard]] Status Commit(Txn& txn) override;

 private:
  struct Client {
    uint64_t redirect = 0;
    bool bcast = false;
    bool noloop = false;
    bool broken = false;
    std::vector<std::string> prefixes;
  };
  // One message to send once the lock is released: `keys` (none: null) to client `id`.
  struct Pending {
    uint64_t id;
    std::vector<std::string> keys;
    bool null = false;
  };
  // Invalidates `key` for the clients remembered for it (skipping `skip`, a NOLOOP writer)
  // and drops it from the table; `keep` (0: none) is neither told nor dropped (it read the key
  // after this change, in the same EXEC). REQUIRES: mu_ held.
  void TakeKey(std::string_view key, uint64_t writer, std::vector<Pending>* out, uint64_t keep = 0)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `txn`: the transaction whose changes these are (nullptr: none), for its own pushes.
  void Send(std::vector<Pending>& pending, MessageSink* here, const Txn* txn = nullptr);
  // Drops keys until the table fits tracking-table-max-keys. REQUIRES: mu_ held.
  void FitTable(std::vector<Pending>* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateActive() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  ServerContext& server_;
  mutable Mutex mu_;
  absl::flat_hash_map<std::string, absl::flat_hash_set<uint64_t>, NameHash, NameEq> keys_
      ABSL_GUARDED_BY(mu_);
  int64_t items_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<uint64_t, Client> clients_ ABSL_GUARDED_BY(mu_);
  int bcast_clients_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<int64_t> clients_count_{0};
};

// CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO (rows in server_family.cc).
class CommandContext;
void CmdClientTracking(CmdArgs args, CommandContext& ctx);
void CmdClientCaching(CmdArgs args, CommandContext& ctx);
void CmdClientGetRedir(CmdArgs args, CommandContext& ctx);
void CmdClientTrackingInfo(CmdArgs args, CommandContext& ctx);

}  // namespace fdb
