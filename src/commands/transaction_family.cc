// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//
// MULTI/EXEC/DISCARD are carried out by the dispatcher (they change how later calls are
// handled); their rows are here so COMMAND lists them. WATCH registers each key in its shard
// (Keyspace::Watch) and remembers its version; every change of the key bumps it, and EXEC
// aborts (null reply) when any moved, or a key live at WATCH has expired since.
#include "commands/context.h"

namespace fdb {

namespace {

void CmdHandledByDispatcher(CmdArgs, CommandContext& ctx) { ctx.rb.Error("ERR internal error"); }

void CmdWatch(CmdArgs args, CommandContext& ctx) {
  // The dispatcher holds the watched keys' shard locks: the versions read are current.
  for (size_t i = 1; i < args.size(); i++) {
    KeyRef k(args[i]);
    bool live = ctx.ks.IsLive(ctx.db, k, ctx.now_ms);
    ctx.client.watched.push_back({ctx.db, std::string(args[i]), ctx.ks.Watch(ctx.db, k), live});
    ctx.client.watched_bytes.store(ctx.client.watched_bytes.load(std::memory_order_relaxed) +
                                       sizeof(ClientState::WatchedKey) + args[i].size(),
                                   std::memory_order_relaxed);
  }
  ctx.rb.Ok();
}

void CmdUnwatch(CmdArgs, CommandContext& ctx) {
  ReleaseWatches(ctx.ks, ctx.client, ctx.txn.holds_all_shards());
  ctx.rb.Ok();
}

}  // namespace

void ReleaseWatches(Keyspace& ks, ClientState& client, bool all_shards_held) {
  for (const ClientState::WatchedKey& w : client.watched) {
    KeyRef k(w.key);
    ShardGuard l(ks.shard(k.shard), all_shards_held);
    ks.Unwatch(w.db, k);
  }
  client.watched.clear();
}

void RegisterTransactionFamily(CommandRegistry& r) {
  using namespace cmdflags;
  // clang-format off
  r.Register({"multi", 1, kTransaction | kFast | kLoading | kStale | kNoScript, 0, 0, 0, CmdHandledByDispatcher, "transactions", "Starts a transaction.", "1.2.0"});
  r.Register({"exec", 1, kTransaction | kLoading | kStale | kNoScript | kSelfLocking, 0, 0, 0, CmdHandledByDispatcher, "transactions", "Executes all commands in a transaction.", "1.2.0"});
  r.Register({"discard", 1, kTransaction | kFast | kLoading | kStale | kNoScript, 0, 0, 0, CmdHandledByDispatcher, "transactions", "Discards a transaction.", "2.0.0"});
  r.Register({"watch", -2, kTransaction | kFast | kLoading | kStale | kNoScript, 1, -1, 1, CmdWatch, "transactions", "Monitors changes to keys to determine the execution of a transaction.", "2.2.0"});
  r.Register({"unwatch", 1, kFast | kLoading | kStale | kNoScript, 0, 0, 0, CmdUnwatch, "transactions", "Forgets about watched keys of a transaction.", "2.2.0"});
  // clang-format on
}

}  // namespace fdb
