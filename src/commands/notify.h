// Keyspace notifications (notify-keyspace-events): every change published, as Redis 7 does,
// on `__keyspace@<db>__:<key>` (the message is the event) and `__keyevent@<db>__:<event>` (the
// message is the key).
//
// Model. Notifications are an effect sink (engine/txn.h), not code in each handler: every
// change a command, EXEC, a served blocked client or the keyspace itself (expiry, eviction)
// makes is an effect, and this sink names it. The name comes from the effect's EventTag,
// which the command layer sets on the transaction: by default the command's own (one table,
// CommandEvent, read once per command when its CommandContext is made), and an Op that makes
// changes of different names in one call (RENAME's "rename_from" then "rename_to", LMOVE's
// pop then push) sets it between them. The keyspace marks what no command asked for (its
// EffectCause: "expired", "evicted") and the creation of a key ("new").
//
// When. Capture (the effect just made, its key still valid) decides the events this effect
// publishes under the current flags and copies the key if there is any; Commit, after the log
// has taken the transaction and with the shards of the change still locked, publishes them in
// execution order. So two writers of one key publish in the order they changed it, and a
// notification is never sent for a change the log refused. Publishing takes the pub/sub
// registry's lock under the shard locks; nothing takes a shard lock under the registry's.
// Receivers on the writing client's thread get the messages at once and the others through
// their threads' inboxes, exactly as a PUBLISH by that client (Txn::origin): so a client's
// notifications and its own PUBLISHes reach each subscriber in the order it made them. The
// keyspace's own changes (expiry, eviction) and served blocked clients go through inboxes.
//
// Cost. With notify-keyspace-events empty the sink is off (Keyspace::set_followers_on): with
// no log either, no effect is made at all; with a log, Capture reads the flags once and
// returns.
#pragma once

#include <string_view>

#include "engine/txn.h"

namespace fdb {

class ServerContext;

// The event tag Redis 7 gives a command's changes ("incrby" for INCR, "hset" for HMSET);
// none (name nullptr) for a command that makes no change or names its changes itself.
EventTag CommandEvent(std::string_view command_name);

class KeyspaceNotifier : public EffectSink {
 public:
  explicit KeyspaceNotifier(ServerContext& server) : server_(server) {}
  void Capture(Effect& effect) override;
  [[nodiscard]] Status Commit(Txn& txn) override;

 private:
  ServerContext& server_;
};

}  // namespace fdb
