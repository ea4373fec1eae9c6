// Server and connection commands: PING, ECHO, SELECT, DBSIZE, FLUSHDB, HELLO, INFO, CONFIG, ...
#include "commands/context.h"
#include "commands/errors.h"

namespace fdb {

namespace {

void CmdPing(CmdArgs args, CommandContext& ctx) {
  if (args.size() > 2) return ctx.rb.Error(WrongArityError("ping"));
  if (args.size() == 2) return ctx.rb.Bulk(args[1]);
  ctx.rb.SimpleString("PONG");
}

void CmdFlushAll(CmdArgs args, CommandContext& ctx) {
  ctx.ks.FlushDb(-1);
  ctx.rb.Ok();
}

void CmdDbSize(CmdArgs args, CommandContext& ctx) {
  ctx.rb.Integer(static_cast<int64_t>(ctx.ks.DbSize(ctx.db)));
}

}  // namespace

void RegisterServerFamily(CommandRegistry& r) {
  using namespace cmdflags;
  r.Register({"ping", -1, kFast | kStale, 0, 0, 0, CmdPing, "connection", "Returns the server's liveliness response.", "1.0.0"});
  r.Register({"flushall", -1, kWrite | kSelfLocking, 0, 0, 0, CmdFlushAll, "server", "Removes all keys from all databases.", "1.0.0"});
  r.Register({"dbsize", 1, kReadOnly | kFast | kSelfLocking, 0, 0, 0, CmdDbSize, "server", "Returns the number of keys in the database.", "1.0.0"});
}

}  // namespace fdb
