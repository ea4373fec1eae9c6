// What a command handler gets: the parsed call's environment. Handlers parse their arguments,
// call engine operations, and write the reply; they never see sockets.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

#include "commands/op_status.h"
#include "commands/registry.h"
#include "commands/server_context.h"
#include "engine/keyspace.h"
#include "protocol/reply_builder.h"
#include "server/client_state.h"

namespace fdb {

class CommandContext {
 public:
  CommandContext(ReplyBuilder& rb, ServerContext& server, ClientState& client,
                 const CommandSpec& spec, int64_t now_ms, Txn& txn)
      : rb(rb),
        server(server),
        ks(server.keyspace()),
        client(client),
        spec(spec),
        now_ms(now_ms),
        db(client.db.load(std::memory_order_relaxed)),
        txn(txn) {
    txn.set_event(spec.event);  // what its changes are named by (commands/notify.h)
  }

  ReplyBuilder& rb;
  ServerContext& server;
  Keyspace& ks;
  ClientState& client;
  const CommandSpec& spec;
  const int64_t now_ms;  // one clock reading per command, as Redis: a command sees one "now"
  const int db;
  // The command's transaction: every keyspace change takes it and appends its effect there.
  Txn& txn;

  // A reference to the block holding argument `arg` when the connection read it as a large
  // value (ClientState::arg_blocks), else empty. REQUIRES: arg is one of this command's args.
  BlockRef ArgBlock(std::string_view arg) const {
    for (const BlockRef& b : client.arg_blocks) {
      if (b->data() == arg.data() && b->size() == arg.size()) return b;
    }
    return {};
  }
  bool touch() const { return !client.no_touch.load(std::memory_order_relaxed); }
  // What the command's Ops run in (commands/op_status.h).
  OpArgs op() { return OpArgs{ks, txn, db, now_ms, touch()}; }
  // Replies with the error text of a failed Op status (the table in op_status.h).
  // REQUIRES: s is an error (not kOk or kSkipped).
  void ReplyError(OpStatus s) {
    if (s == OpStatus::kInvalidExpire) {
      rb.Error("ERR invalid expire time in '" + std::string(spec.name) + "' command");
      return;
    }
    rb.Error(OpStatusText(s));
  }
  // Counts changes since the last save. Per I/O thread (no cache line shared by every write
  // of every thread); INFO sums them.
  void Dirty(uint64_t n = 1) {
    if (stats != nullptr) {
      stats->dirty.store(stats->dirty.load(std::memory_order_relaxed) + n,
                         std::memory_order_relaxed);
    } else {
      server.dirty.fetch_add(n, std::memory_order_relaxed);
    }
  }
  ThreadStats* stats = nullptr;  // the running thread's counters

  // What Redis propagates the command as when that is neither the command as sent nor its
  // changed values (BLMPOP as `LPOP key count`, BZPOPMIN as `ZPOPMIN key`): the changes made
  // since effect `first` reach Redis replicas as `args` (Txn::NoteCommand), when one is
  // attached and there were changes.
  void PropagateAs(size_t first, std::span<const std::string_view> args) {
    if (txn.effects().size() > first && server.replication().wants_commands()) {
      txn.NoteCommand(first, CommandResp(args));
    }
  }
  void PropagateAs(size_t first, std::initializer_list<std::string_view> args) {
    PropagateAs(first, std::span<const std::string_view>(args.begin(), args.size()));
  }
};

// Case-insensitive comparison of an argument with an option name (given in upper case).
std::string WrongArityError(std::string_view name);
bool EqualsUpper(std::string_view arg, std::string_view upper);

// Forgets the client's WATCHed keys (UNWATCH, EXEC, DISCARD, RESET, disconnect), taking each
// key's shard lock unless `all_shards_held`. REQUIRES: no other shard lock held by the caller
// (the dispatcher's kept lock released), unless all_shards_held.
void ReleaseWatches(Keyspace& ks, ClientState& client, bool all_shards_held);

}  // namespace fdb
