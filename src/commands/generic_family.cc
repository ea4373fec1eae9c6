// Keyspace and expiry commands: DEL, EXISTS, KEYS, SCAN, TYPE, RENAME, EXPIRE, TTL, ...
#include "commands/context.h"
#include "commands/errors.h"

namespace fdb {

namespace {

void CmdDel(CmdArgs args, CommandContext& ctx) {
  int64_t n = 0;
  for (size_t i = 1; i < args.size(); i++) {
    if (ctx.ks.Delete(ctx.db, KeyRef(args[i]), ctx.now_ms)) n++;
  }
  ctx.Dirty(n);
  ctx.rb.Integer(n);
}

}  // namespace

void RegisterGenericFamily(CommandRegistry& r) {
  using namespace cmdflags;
  r.Register({"del", -2, kWrite, 1, -1, 1, CmdDel, "generic", "Deletes one or more keys.", "1.0.0"});
}

}  // namespace fdb
