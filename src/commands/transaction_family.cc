// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//
// MULTI/EXEC/DISCARD are carried out by the dispatcher (they change how later calls are
// handled); their rows are here so COMMAND lists them. WATCH remembers the version of each
// watched key's shard; EXEC aborts (null reply) when any of them moved.
#include "commands/context.h"

namespace fdb {

namespace {

void CmdHandledByDispatcher(CmdArgs, CommandContext& ctx) { ctx.rb.Error("ERR internal error"); }

void CmdWatch(CmdArgs args, CommandContext& ctx) {
  // The dispatcher holds the watched keys' shard locks: the versions read are current.
  for (size_t i = 1; i < args.size(); i++) {
    int shard = Keyspace::ShardOf(args[i]);
    ctx.client.watched.emplace_back(shard, ctx.ks.shard(shard).version);
  }
  ctx.rb.Ok();
}

void CmdUnwatch(CmdArgs, CommandContext& ctx) {
  ctx.client.watched.clear();
  ctx.rb.Ok();
}

}  // namespace

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
