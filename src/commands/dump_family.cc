// DUMP and RESTORE (Redis 7 semantics), with Redis's payload format (commands/rdb_payload.h):
// a value dumped from Redis restores here and one dumped here restores into Redis.
#include <string>

#include "commands/context.h"
#include "commands/errors.h"
#include "commands/rdb_payload.h"

namespace fdb {

namespace {

void CmdDump(CmdArgs args, CommandContext& ctx) {
  const Entry* e = ctx.ks.FindForRead(ctx.txn, ctx.db, KeyRef(args[1]), ctx.now_ms, ctx.touch());
  if (e == nullptr) return ctx.rb.NullBulk();
  ctx.rb.Bulk(DumpPayload(e));
}

// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
void CmdRestore(CmdArgs args, CommandContext& ctx) {
  bool replace = false, absttl = false;
  int64_t idle = -1, freq = -1;
  for (size_t i = 4; i < args.size(); i++) {
    bool more = i + 1 < args.size();
    if (EqualsUpper(args[i], "REPLACE")) {
      replace = true;
    } else if (EqualsUpper(args[i], "ABSTTL")) {
      absttl = true;
    } else if (EqualsUpper(args[i], "IDLETIME") && more && freq == -1) {
      if (!ParseInt64(args[++i], &idle)) return ctx.rb.Error(errors::kNotInteger);
      if (idle < 0) return ctx.rb.Error("ERR Invalid IDLETIME value, must be >= 0");
    } else if (EqualsUpper(args[i], "FREQ") && more && idle == -1) {
      if (!ParseInt64(args[++i], &freq)) return ctx.rb.Error(errors::kNotInteger);
      if (freq < 0 || freq > 255) {
        return ctx.rb.Error("ERR Invalid FREQ value, must be >= 0 and <= 255");
      }
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
  }
  int64_t ttl;
  if (!ParseInt64(args[2], &ttl)) return ctx.rb.Error(errors::kNotInteger);
  if (ttl < 0) return ctx.rb.Error("ERR Invalid TTL value, must be >= 0");
  KeyRef k(args[1]);
  if (!replace && ctx.ks.Find(ctx.txn, ctx.db, k, ctx.now_ms, false) != nullptr) {
    return ctx.rb.Error("BUSYKEY Target key name already exists.");
  }
  std::string_view payload = args[3];
  if (!VerifyDumpPayload(payload)) {
    return ctx.rb.Error("ERR DUMP payload version or checksum are wrong");
  }
  RestoredValue v;
  if (!ParseDumpPayload(payload, &v).ok()) return ctx.rb.Error("ERR Bad data format");
  int64_t deadline = 0;
  if (ttl > 0) {
    deadline = absttl ? ttl : (ttl > INT64_MAX - ctx.now_ms ? INT64_MAX : ctx.now_ms + ttl);
  }
  // A deadline already past: the key is not created (an existing one is replaced by nothing).
  if (deadline != 0 && deadline <= ctx.now_ms) {
    if (ctx.ks.Delete(ctx.txn, ctx.db, k, ctx.now_ms)) ctx.Dirty();
    return ctx.rb.Ok();
  }
  Entry* e = v.type == ValueType::kString ? Entry::NewString(args[1], v.str)
                                          : Entry::NewObject(args[1], v.obj.release());
  e->set_expire_ms(deadline);
  Entry* put = ctx.ks.Put(ctx.txn, ctx.db, k, e);
  if (put != nullptr && (idle >= 0 || freq >= 0)) put->set_lru(ctx.ks.AccessFieldFor(idle, freq));
  ctx.Dirty();
  ctx.rb.Ok();
}

}  // namespace

// clang-format off
void RegisterDumpFamily(CommandRegistry& r) {
  using namespace cmdflags;
  r.Register({"dump", 2, kReadOnly, 1, 1, 1, CmdDump, "generic", "Returns a serialized representation of the value stored at a key.", "2.6.0"});
  r.Register({"restore", -4, kWrite | kDenyOom, 1, 1, 1, CmdRestore, "generic", "Creates a key from the serialized representation of a value.", "2.6.0"});
}
// clang-format on

}  // namespace fdb
