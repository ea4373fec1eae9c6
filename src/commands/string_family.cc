// Strings: SET, GET and friends. Parse -> engine operation -> reply.
#include "commands/context.h"
#include "commands/errors.h"

namespace fdb {

namespace {

void CmdGet(CmdArgs args, CommandContext& ctx) {
  KeyRef k(args[1]);
  Entry* e = ctx.ks.FindForRead(ctx.db, k, ctx.now_ms, ctx.touch());
  if (e == nullptr) return ctx.rb.NullBulk();
  if (e->type() != ValueType::kString) return ctx.rb.Error(errors::kWrongType);
  std::string scratch;
  ctx.rb.Bulk(e->StringValue(&scratch));
}

void CmdSet(CmdArgs args, CommandContext& ctx) {
  KeyRef k(args[1]);
  ctx.ks.Put(ctx.db, k, Entry::NewString(args[1], args[2]));
  ctx.Dirty();
  ctx.rb.Ok();
}

}  // namespace

void RegisterStringFamily(CommandRegistry& r) {
  using namespace cmdflags;
  r.Register({"get", 2, kReadOnly | kFast, 1, 1, 1, CmdGet, "string", "Returns the string value of a key.", "1.0.0"});
  r.Register({"set", -3, kWrite | kDenyOom, 1, 1, 1, CmdSet, "string", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", "1.0.0"});
}

}  // namespace fdb
