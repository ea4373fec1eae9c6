// Keyspace and expiry commands: DEL, EXISTS, KEYS, SCAN, TYPE, RENAME, COPY, MOVE, OBJECT, the
// EXPIRE / TTL families, and the database commands SELECT, SWAPDB and FLUSHDB.
//
// Each command is Parse -> Op -> Reply. The Op* functions take the keyspace and plain values,
// never RESP, and return a small outcome; the Cmd* handlers parse arguments, call one Op and
// map its outcome to Redis's reply. Semantics, reply types and error texts are Redis 7.0's.
//
// Locking: the dispatcher locks the shards of every key argument before a handler runs, so
// the Op functions may call the single-key Keyspace methods for those keys. RENAME and COPY
// touch two keys, both locked (ascending shard order), so they are atomic. MOVE and COPY DB
// reach another database of the same shard: the key's hash picks the shard, not the db.
// Commands that scan the whole keyspace (KEYS, SCAN, RANDOMKEY, FLUSHDB, SWAPDB) are
// kSelfLocking: the keyspace locks one shard at a time (or all, for FLUSHDB and SWAPDB).
//
// Expiry: deadlines are absolute milliseconds since the epoch, computed once from the
// command's `now_ms` with overflow checks, so the effect logged is a time, never a duration.
#include <cctype>
#include <iterator>
#include <string>
#include <vector>

#include "base/glob.h"
#include "commands/context.h"
#include "commands/errors.h"
#include "commands/generic_ops.h"
#include "server/config.h"

namespace fdb {

namespace {

// --- Parsing helpers -------------------------------------------------------------------------

// A database index as Redis's getIntFromObjectOrReply + selectDb: an integer, in int range,
// then in [0, kNumDatabases). Returns the error text, or nullptr on success.
const char* ParseDbIndex(std::string_view s, int* out) {
  int64_t v;
  if (!ParseInt64(s, &v)) return errors::kNotInteger;
  if (v < INT32_MIN || v > INT32_MAX) return errors::kIntRange;
  if (v < 0 || v >= limits::kNumDatabases) return errors::kDbIndexOutOfRange;
  *out = static_cast<int>(v);
  return nullptr;
}

// A SCAN cursor as Redis's parseScanCursorOrReply, which uses strtoul: an optional sign and
// decimal digits, no leading space, no overflow. A negative number wraps (strtoul does), and
// the empty string is cursor 0.
bool ParseScanCursor(std::string_view s, uint64_t* out) {
  size_t i = 0;
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    i = 1;
    if (s.size() == 1) return false;  // no digits: strtoul stops at the sign
  }
  uint64_t v = 0;
  for (; i < s.size(); i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = neg ? 0 - v : v;
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool IsLfuPolicy(CommandContext& ctx) {
  return ctx.server.config().maxmemory_policy().find("lfu") != std::string::npos;
}

// --- DEL / UNLINK / EXISTS / TOUCH -----------------------------------------------------------

}  // namespace

int64_t OpDel(const OpArgs& op, std::span<const std::string_view> keys, bool lazy) {
  int64_t n = 0;
  for (std::string_view key : keys)
    n += op.ks.Delete(op.txn, op.db, KeyRef(key), op.now_ms, lazy) ? 1 : 0;
  return n;
}

int64_t OpExists(const OpArgs& op, std::span<const std::string_view> keys) {
  int64_t n = 0;
  for (std::string_view key : keys) {
    n += op.ks.FindForRead(op.txn, op.db, KeyRef(key), op.now_ms, /*touch=*/false) != nullptr ? 1
                                                                                              : 0;
  }
  return n;
}

int64_t OpTouch(const OpArgs& op, std::span<const std::string_view> keys) {
  int64_t n = 0;
  for (std::string_view key : keys) {
    n +=
        op.ks.FindForRead(op.txn, op.db, KeyRef(key), op.now_ms, /*touch=*/true) != nullptr ? 1 : 0;
  }
  return n;
}

std::vector<std::string> OpKeys(const OpArgs& op, std::string_view pattern) {
  std::vector<std::string> out;
  bool all = pattern == "*";
  op.ks.ForEachKey(op.txn, op.db, op.now_ms, [&](const Entry* e) {
    if (all || GlobMatch(pattern, e->key())) out.emplace_back(e->key());
  });
  return out;
}

namespace {

void CmdDel(CmdArgs args, CommandContext& ctx) {
  int64_t n = OpDel(ctx.op(), args.subspan(1));
  ctx.Dirty(n);
  ctx.rb.Integer(n);
}

void CmdUnlink(CmdArgs args, CommandContext& ctx) {
  int64_t n = OpDel(ctx.op(), args.subspan(1), /*lazy=*/true);
  ctx.Dirty(n);
  ctx.rb.Integer(n);
}

void CmdExists(CmdArgs args, CommandContext& ctx) {
  ctx.rb.Integer(OpExists(ctx.op(), args.subspan(1)));
}

void CmdTouch(CmdArgs args, CommandContext& ctx) {
  ctx.rb.Integer(OpTouch(ctx.op(), args.subspan(1)));
}

// --- KEYS / SCAN / RANDOMKEY -----------------------------------------------------------------

void CmdKeys(CmdArgs args, CommandContext& ctx) {
  std::vector<std::string> keys = OpKeys(ctx.op(), args[1]);
  ctx.rb.ArrayHeader(keys.size());
  for (const std::string& k : keys) ctx.rb.Bulk(k);
}

struct ScanOptions {
  uint64_t count = 10;
  std::string_view pattern;  // empty: no MATCH (or MATCH *)
  std::string_view type;     // empty: no TYPE
};

// One SCAN call: steps the keyspace cursor until about `count` keys were visited or the scan
// is complete. As in Redis, COUNT bounds the keys visited, not the keys returned after MATCH
// and TYPE filter them, so a call's work is bounded even when nothing matches. Steps are also
// bounded (10 per key asked, as Redis's maxiterations) plus one per shard, since stepping
// over an empty shard's table is one step.
uint64_t OpScan(Keyspace& ks, Txn& txn, int db, uint64_t cursor, const ScanOptions& opt,
                int64_t now_ms, std::vector<std::string>* out) {
  uint64_t visited = 0;
  uint64_t steps_max = (opt.count > UINT64_MAX / 20 ? UINT64_MAX / 2 : opt.count * 10) +
                       static_cast<uint64_t>(limits::kNumShards);
  uint64_t steps = 0;
  do {
    cursor = ks.Scan(txn, db, cursor, now_ms, [&](const Entry* e) {
      visited++;
      if (!opt.type.empty() && !EqualsIgnoreCase(opt.type, TypeName(e->type()))) return;
      if (!opt.pattern.empty() && !GlobMatch(opt.pattern, e->key())) return;
      out->emplace_back(e->key());
    });
    steps++;
  } while (cursor != 0 && visited < opt.count && steps < steps_max);
  return cursor;
}

void CmdScan(CmdArgs args, CommandContext& ctx) {
  uint64_t cursor;
  if (!ParseScanCursor(args[1], &cursor)) return ctx.rb.Error(errors::kInvalidCursor);
  ScanOptions opt;
  for (size_t i = 2; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) return ctx.rb.Error(errors::kSyntax);
    std::string_view value = args[i + 1];
    if (EqualsUpper(args[i], "COUNT")) {
      int64_t n;
      if (!ParseInt64(value, &n)) return ctx.rb.Error(errors::kNotInteger);
      if (n < 1) return ctx.rb.Error(errors::kSyntax);
      opt.count = static_cast<uint64_t>(n);
    } else if (EqualsUpper(args[i], "MATCH")) {
      opt.pattern = value == "*" ? std::string_view() : value;
    } else if (EqualsUpper(args[i], "TYPE")) {
      // Redis 7.0 accepts any name; an unknown type simply matches nothing.
      opt.type = value;
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
  }
  std::vector<std::string> keys;
  cursor = OpScan(ctx.ks, ctx.txn, ctx.db, cursor, opt, ctx.now_ms, &keys);
  ctx.rb.ArrayHeader(2);
  ctx.rb.Bulk(std::to_string(cursor));
  ctx.rb.ArrayHeader(keys.size());
  for (const std::string& k : keys) ctx.rb.Bulk(k);
}

void CmdRandomKey(CmdArgs args, CommandContext& ctx) {
  std::string key;
  if (!ctx.ks.RandomKey(ctx.txn, ctx.db, ctx.now_ms, &key)) return ctx.rb.NullBulk();
  ctx.rb.Bulk(key);
}

// --- TYPE ------------------------------------------------------------------------------------

void CmdType(CmdArgs args, CommandContext& ctx) {
  const Entry* e =
      ctx.ks.FindForRead(ctx.txn, ctx.db, KeyRef(args[1]), ctx.now_ms, /*touch=*/false);
  ctx.rb.SimpleString(e == nullptr ? "none" : TypeName(e->type()));
}

// --- RENAME / RENAMENX / COPY / MOVE ---------------------------------------------------------

}  // namespace

OpStatus OpRename(const OpArgs& op, std::string_view src, std::string_view dst, bool nx) {
  KeyRef sk(src);
  Entry* e = op.ks.Find(op.txn, op.db, sk, op.now_ms, op.touch);
  if (e == nullptr) return OpStatus::kKeyNotFound;
  // Redis 7: renaming a key to itself succeeds without doing anything (RENAMENX: 0).
  if (src == dst) return nx ? OpStatus::kSkipped : OpStatus::kOk;
  KeyRef dk(dst);
  if (nx && op.ks.Find(op.txn, op.db, dk, op.now_ms, false) != nullptr) return OpStatus::kSkipped;
  // The entry holds its key inline, so a renamed key is a new entry with the old value; the
  // deadline moves with the value, the destination's goes with its old value.
  Entry* copy = Entry::Clone(e, dst);
  if (copy == nullptr) return OpStatus::kNotSupported;
  op.txn.set_event(notify::kGeneric, "rename_from");
  op.ks.Delete(op.txn, op.db, sk, op.now_ms);  // e is invalid from here on
  op.txn.set_event(notify::kGeneric, "rename_to");
  op.ks.Put(op.txn, op.db, dk, copy);
  return OpStatus::kOk;
}

// REQUIRES: the shard of src and dst locked (one shard in both databases).
OpStatus OpCopy(const OpArgs& op, std::string_view src, int dst_db, std::string_view dst,
                bool replace) {
  const Entry* e = op.ks.FindForRead(op.txn, op.db, KeyRef(src), op.now_ms, op.touch);
  if (e == nullptr) return OpStatus::kKeyNotFound;
  KeyRef dk(dst);
  if (!replace && op.ks.Find(op.txn, dst_db, dk, op.now_ms, false) != nullptr) {
    return OpStatus::kSkipped;
  }
  Entry* copy = Entry::Clone(e, dst);  // carries the deadline
  if (copy == nullptr) return OpStatus::kNotSupported;
  op.ks.Put(op.txn, dst_db, dk, copy);
  return OpStatus::kOk;
}

namespace {

void CmdRename(CmdArgs args, CommandContext& ctx) {
  bool nx = std::string_view(ctx.spec.name) == "renamenx";
  OpStatus s = OpRename(ctx.op(), args[1], args[2], nx);
  if (s == OpStatus::kOk) {
    if (args[1] != args[2]) ctx.Dirty();
    return nx ? ctx.rb.Integer(1) : ctx.rb.Ok();
  }
  if (s == OpStatus::kSkipped) return ctx.rb.Integer(0);
  ctx.ReplyError(s);
}

void CmdCopy(CmdArgs args, CommandContext& ctx) {
  int dst_db = ctx.db;
  bool replace = false;
  for (size_t i = 3; i < args.size(); i++) {
    if (EqualsUpper(args[i], "REPLACE")) {
      replace = true;
    } else if (EqualsUpper(args[i], "DB") && i + 1 < args.size()) {
      if (const char* err = ParseDbIndex(args[++i], &dst_db)) return ctx.rb.Error(err);
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
  }
  if (dst_db == ctx.db && args[1] == args[2]) return ctx.rb.Error(errors::kSameObject);
  OpStatus s = OpCopy(ctx.op(), args[1], dst_db, args[2], replace);
  if (s == OpStatus::kOk) {
    ctx.Dirty();
    return ctx.rb.Integer(1);
  }
  if (s == OpStatus::kKeyNotFound || s == OpStatus::kSkipped) return ctx.rb.Integer(0);
  ctx.ReplyError(s);
}

void CmdMove(CmdArgs args, CommandContext& ctx) {
  int dst_db;
  if (const char* err = ParseDbIndex(args[2], &dst_db)) return ctx.rb.Error(err);
  if (dst_db == ctx.db) return ctx.rb.Error(errors::kSameObject);
  ctx.txn.set_event({notify::kGeneric, "move_from", notify::kGeneric, "move_to"});
  bool moved = ctx.ks.Move(ctx.txn, ctx.db, dst_db, KeyRef(args[1]), ctx.now_ms);
  if (moved) ctx.Dirty();
  ctx.rb.Integer(moved ? 1 : 0);
}

// --- OBJECT ----------------------------------------------------------------------------------

// OBJECT is a container: the dispatcher picks the `object|<sub>` row, checks its arity and
// reports unknown subcommands, so each handler below sees a well-formed call.
constexpr const char* kObjectHelp[] = {
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
};

void CmdObjectHelp(CmdArgs args, CommandContext& ctx) {
  std::string header(args[0]);
  for (char& c : header) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  header += " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:";
  ctx.rb.ArrayHeader(1 + std::size(kObjectHelp));
  ctx.rb.SimpleString(header);
  for (const char* line : kObjectHelp) ctx.rb.SimpleString(line);
}

// OBJECT looks at a key without counting as an access to it; a missing key is a null reply
// (checked before the eviction policy, as in Redis).
const Entry* ObjectLookup(CmdArgs args, CommandContext& ctx) {
  const Entry* e =
      ctx.ks.FindForRead(ctx.txn, ctx.db, KeyRef(args[2]), ctx.now_ms, /*touch=*/false);
  if (e == nullptr) ctx.rb.NullBulk();
  return e;
}

void CmdObjectEncoding(CmdArgs args, CommandContext& ctx) {
  if (const Entry* e = ObjectLookup(args, ctx)) ctx.rb.Bulk(e->encoding_name());
}

// Redis 7.0 shares one object for each integer 0..9999 between every string value holding it
// (OBJ_SHARED_INTEGERS), unless maxmemory is set with an LRU or LFU policy, which needs a clock
// per value (MAXMEMORY_FLAG_NO_SHARED_INTEGERS); a shared object reports OBJ_SHARED_REFCOUNT.
// FDB stores every integer in its entry and shares nothing, so it answers as Redis would for
// such a value written under the current configuration: tools and test suites read the figure
// to learn whether small integers are shared. Every other value has one reference.
void CmdObjectRefcount(CmdArgs args, CommandContext& ctx) {
  const Entry* e = ObjectLookup(args, ctx);
  if (e == nullptr) return;
  constexpr int64_t kSharedIntegers = 10000;
  constexpr int64_t kSharedRefcount = 2147483647;  // INT_MAX
  const std::string policy = ctx.server.config().maxmemory_policy();
  const bool no_shared =
      ctx.server.config().maxmemory() != 0 &&
      (policy.find("lru") != std::string::npos || policy.find("lfu") != std::string::npos);
  const bool shared = e->type() == ValueType::kString && e->is_int() && e->int_value() >= 0 &&
                      e->int_value() < kSharedIntegers && !no_shared;
  ctx.rb.Integer(shared ? kSharedRefcount : 1);
}

void CmdObjectFreq(CmdArgs args, CommandContext& ctx) {
  const Entry* e = ObjectLookup(args, ctx);
  if (e == nullptr) return;
  if (!IsLfuPolicy(ctx)) return ctx.rb.Error(errors::kLfuNotSelected);
  ctx.rb.Integer(ctx.server.keyspace().LfuDecayedCounter(e->lru()));
}

void CmdObjectIdletime(CmdArgs args, CommandContext& ctx) {
  const Entry* e = ObjectLookup(args, ctx);
  if (e == nullptr) return;
  if (IsLfuPolicy(ctx)) return ctx.rb.Error(errors::kLfuSelected);
  ctx.rb.Integer(Keyspace::LruIdleSeconds(e->lru()));
}

// --- EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT / PERSIST ----------------------------------------

}  // namespace

OpStatus OpExpire(const OpArgs& op, std::string_view key, int64_t deadline_ms, int flags) {
  using namespace expire_flags;
  KeyRef k(key);
  Entry* e = op.ks.Find(op.txn, op.db, k, op.now_ms, op.touch);
  if (e == nullptr) return OpStatus::kKeyNotFound;
  if ((flags & kNx) && e->has_expire()) return OpStatus::kSkipped;
  if ((flags & kXx) && !e->has_expire()) return OpStatus::kSkipped;
  // No deadline counts as infinitely far: never exceeded (GT), always undercut (LT).
  if ((flags & kGt) && (!e->has_expire() || deadline_ms <= e->expire_ms())) {
    return OpStatus::kSkipped;
  }
  if ((flags & kLt) && e->has_expire() && deadline_ms >= e->expire_ms()) return OpStatus::kSkipped;
  if (deadline_ms <= op.now_ms) {
    // Already past: delete now rather than store a deadline that every reader would treat
    // as expired; this is also the effect logged, so replay does not depend on the clock.
    op.ks.Delete(op.txn, op.db, k, op.now_ms);
  } else {
    op.ks.SetExpire(op.txn, op.db, e, deadline_ms);
  }
  return OpStatus::kOk;
}

bool OpPersist(const OpArgs& op, std::string_view key) {
  Entry* e = op.ks.Find(op.txn, op.db, KeyRef(key), op.now_ms, op.touch);
  if (e == nullptr || !e->has_expire()) return false;
  op.ks.SetExpire(op.txn, op.db, e, 0);
  return true;
}

int64_t OpTtl(const OpArgs& op, std::string_view key, bool ms, bool absolute) {
  const Entry* e = op.ks.FindForRead(op.txn, op.db, KeyRef(key), op.now_ms, /*touch=*/false);
  if (e == nullptr) return -2;
  if (!e->has_expire()) return -1;
  int64_t v = absolute ? e->expire_ms() : e->expire_ms() - op.now_ms;
  if (v < 0) v = 0;
  // Redis computes (v + 500) / 1000, which overflows for a deadline near INT64_MAX; this
  // rounds the same way without the addition.
  return ms ? v : v / 1000 + (v % 1000 >= 500 ? 1 : 0);
}

namespace {

// EXPIRE key seconds, PEXPIRE key ms (relative); EXPIREAT / PEXPIREAT (absolute).
void ExpireGeneric(CmdArgs args, CommandContext& ctx, bool seconds, bool relative) {
  using namespace expire_flags;
  // Options first, as Redis: an unknown option wins over incompatible ones, and both over a
  // bad time or a missing key.
  int flags = 0;
  for (size_t i = 3; i < args.size(); i++) {
    if (EqualsUpper(args[i], "NX")) {
      flags |= kNx;
    } else if (EqualsUpper(args[i], "XX")) {
      flags |= kXx;
    } else if (EqualsUpper(args[i], "GT")) {
      flags |= kGt;
    } else if (EqualsUpper(args[i], "LT")) {
      flags |= kLt;
    } else {
      return ctx.rb.Error("ERR Unsupported option " + std::string(args[i]));
    }
  }
  if ((flags & kNx) && (flags & (kXx | kGt | kLt))) return ctx.rb.Error(errors::kExpireNxXxGtLt);
  if ((flags & kGt) && (flags & kLt)) return ctx.rb.Error(errors::kExpireGtLt);

  int64_t when;
  if (!ParseInt64(args[2], &when)) return ctx.rb.Error(errors::kNotInteger);
  // Negative times are allowed (they delete the key); only overflow of the unit conversion
  // or of adding the base time is an error.
  auto invalid = [&] {
    ctx.rb.Error(std::string("ERR invalid expire time in '") + ctx.spec.name + "' command");
  };
  if (seconds) {
    if (when > INT64_MAX / 1000 || when < INT64_MIN / 1000) return invalid();
    when *= 1000;
  }
  int64_t base = relative ? ctx.now_ms : 0;
  if (when > INT64_MAX - base) return invalid();
  when += base;

  bool changed = OpExpire(ctx.op(), args[1], when, flags) == OpStatus::kOk;
  if (changed) ctx.Dirty();
  ctx.rb.Integer(changed ? 1 : 0);
}

void CmdExpire(CmdArgs args, CommandContext& ctx) { ExpireGeneric(args, ctx, true, true); }
void CmdPExpire(CmdArgs args, CommandContext& ctx) { ExpireGeneric(args, ctx, false, true); }
void CmdExpireAt(CmdArgs args, CommandContext& ctx) { ExpireGeneric(args, ctx, true, false); }
void CmdPExpireAt(CmdArgs args, CommandContext& ctx) { ExpireGeneric(args, ctx, false, false); }

void CmdPersist(CmdArgs args, CommandContext& ctx) {
  bool changed = OpPersist(ctx.op(), args[1]);
  if (changed) ctx.Dirty();
  ctx.rb.Integer(changed ? 1 : 0);
}

// --- TTL / PTTL / EXPIRETIME / PEXPIRETIME ---------------------------------------------------

void CmdTtl(CmdArgs args, CommandContext& ctx) {
  ctx.rb.Integer(OpTtl(ctx.op(), args[1], false, false));
}
void CmdPTtl(CmdArgs args, CommandContext& ctx) {
  ctx.rb.Integer(OpTtl(ctx.op(), args[1], true, false));
}
void CmdExpireTime(CmdArgs args, CommandContext& ctx) {
  ctx.rb.Integer(OpTtl(ctx.op(), args[1], false, true));
}
void CmdPExpireTime(CmdArgs args, CommandContext& ctx) {
  ctx.rb.Integer(OpTtl(ctx.op(), args[1], true, true));
}

// --- SELECT / SWAPDB / FLUSHDB ---------------------------------------------------------------

void CmdSelect(CmdArgs args, CommandContext& ctx) {
  int db;
  if (const char* err = ParseDbIndex(args[1], &db)) return ctx.rb.Error(err);
  if (db != 0 && ctx.server.cluster().enabled()) return ctx.rb.Error(cluster_errors::kSelect);
  ctx.client.db.store(db, std::memory_order_relaxed);
  ctx.rb.Ok();
}

void CmdSwapDb(CmdArgs args, CommandContext& ctx) {
  // Redis's getIntFromObjectOrReply with a message: one text for "not an integer" and
  // "not an int"; the database range is checked after both parse.
  int64_t a, b;
  if (!ParseInt64(args[1], &a) || a < INT32_MIN || a > INT32_MAX) {
    return ctx.rb.Error(errors::kInvalidFirstDb);
  }
  if (!ParseInt64(args[2], &b) || b < INT32_MIN || b > INT32_MAX) {
    return ctx.rb.Error(errors::kInvalidSecondDb);
  }
  if (a < 0 || a >= limits::kNumDatabases || b < 0 || b >= limits::kNumDatabases) {
    return ctx.rb.Error(errors::kDbIndexOutOfRange);
  }
  // Clients keep their database number, so after the swap they see the other data, as in
  // Redis.
  if (a != b) {
    ctx.ks.SwapDb(ctx.txn, static_cast<int>(a), static_cast<int>(b));
    ctx.server.blocking().DbsSwapped(ctx.txn, static_cast<int>(a), static_cast<int>(b));
  }
  ctx.Dirty();
  ctx.rb.Ok();
}

void CmdFlushDb(CmdArgs args, CommandContext& ctx) {
  bool async = false;
  if (args.size() == 2 && EqualsUpper(args[1], "ASYNC")) {
    async = true;
  } else if (args.size() != 1 && !(args.size() == 2 && EqualsUpper(args[1], "SYNC"))) {
    return ctx.rb.Error(errors::kSyntax);
  }
  ctx.ks.FlushDb(ctx.txn, ctx.db, async);
  ctx.Dirty();
  ctx.rb.Ok();
}

}  // namespace

// clang-format off
void RegisterGenericFamily(CommandRegistry& r) {
  using namespace cmdflags;
  r.Register({"del", -2, kWrite, 1, -1, 1, CmdDel, "generic", "Deletes one or more keys.", "1.0.0"});
  r.Register({"unlink", -2, kWrite | kFast, 1, -1, 1, CmdUnlink, "generic", "Asynchronously deletes one or more keys.", "4.0.0"});
  r.Register({"exists", -2, kReadOnly | kFast, 1, -1, 1, CmdExists, "generic", "Determines whether one or more keys exist.", "1.0.0"});
  r.Register({"touch", -2, kReadOnly | kFast, 1, -1, 1, CmdTouch, "generic", "Returns the number of existing keys out of those specified after updating the time they were last accessed.", "3.2.1"});
  r.Register({"keys", 2, kReadOnly | kSelfLocking, 0, 0, 0, CmdKeys, "generic", "Returns all key names that match a pattern.", "1.0.0"});
  r.Register({"scan", -2, kReadOnly | kSelfLocking, 0, 0, 0, CmdScan, "generic", "Iterates over the key names in the database.", "2.8.0"});
  r.Register({"randomkey", 1, kReadOnly | kSelfLocking, 0, 0, 0, CmdRandomKey, "generic", "Returns a random key name from the database.", "1.0.0"});
  r.Register({"type", 2, kReadOnly | kFast, 1, 1, 1, CmdType, "generic", "Determines the type of value stored at a key.", "1.0.0"});
  r.Register({"rename", 3, kWrite, 1, 2, 1, CmdRename, "generic", "Renames a key and overwrites the destination.", "1.0.0"});
  r.Register({"renamenx", 3, kWrite | kFast, 1, 2, 1, CmdRename, "generic", "Renames a key only when the target key name doesn't exist.", "1.0.0"});
  r.Register({"copy", -3, kWrite | kDenyOom, 1, 2, 1, CmdCopy, "generic", "Copies the value of a key to a new key.", "6.2.0"});
  r.Register({"move", 3, kWrite | kFast, 1, 1, 1, CmdMove, "generic", "Moves a key to another database.", "1.0.0"});
  r.Register({"object", -2, 0, 0, 0, 0, nullptr, "generic", "A container for object introspection commands.", "2.2.3"});
  r.Register({"object|encoding", 3, kReadOnly, 2, 2, 1, CmdObjectEncoding, "generic", "Returns the internal encoding of a Redis object.", "2.2.3"});
  r.Register({"object|freq", 3, kReadOnly, 2, 2, 1, CmdObjectFreq, "generic", "Returns the logarithmic access frequency counter of a Redis object.", "4.0.0"});
  r.Register({"object|help", 2, kStale | kLoading, 0, 0, 0, CmdObjectHelp, "generic", "Returns helpful text about the different subcommands.", "6.2.0"});
  r.Register({"object|idletime", 3, kReadOnly, 2, 2, 1, CmdObjectIdletime, "generic", "Returns the time since the last access to a Redis object.", "2.2.3"});
  r.Register({"object|refcount", 3, kReadOnly, 2, 2, 1, CmdObjectRefcount, "generic", "Returns the reference count of a value of a key.", "2.2.3"});
  r.Register({"expire", -3, kWrite | kFast, 1, 1, 1, CmdExpire, "generic", "Sets the expiration time of a key in seconds.", "1.0.0"});
  r.Register({"pexpire", -3, kWrite | kFast, 1, 1, 1, CmdPExpire, "generic", "Sets the expiration time of a key in milliseconds.", "2.6.0"});
  r.Register({"expireat", -3, kWrite | kFast, 1, 1, 1, CmdExpireAt, "generic", "Sets the expiration time of a key to a Unix timestamp.", "1.2.0"});
  r.Register({"pexpireat", -3, kWrite | kFast, 1, 1, 1, CmdPExpireAt, "generic", "Sets the expiration time of a key to a Unix milliseconds timestamp.", "2.6.0"});
  r.Register({"persist", 2, kWrite | kFast, 1, 1, 1, CmdPersist, "generic", "Removes the expiration time of a key.", "2.2.0"});
  r.Register({"ttl", 2, kReadOnly | kFast, 1, 1, 1, CmdTtl, "generic", "Returns the expiration time in seconds of a key.", "1.0.0"});
  r.Register({"pttl", 2, kReadOnly | kFast, 1, 1, 1, CmdPTtl, "generic", "Returns the expiration time in milliseconds of a key.", "2.6.0"});
  r.Register({"expiretime", 2, kReadOnly | kFast, 1, 1, 1, CmdExpireTime, "generic", "Returns the expiration time of a key as a Unix timestamp.", "7.0.0"});
  r.Register({"pexpiretime", 2, kReadOnly | kFast, 1, 1, 1, CmdPExpireTime, "generic", "Returns the expiration time of a key as a Unix milliseconds timestamp.", "7.0.0"});
  r.Register({"select", 2, kFast | kLoading | kStale, 0, 0, 0, CmdSelect, "connection", "Changes the selected database.", "1.0.0"});
  r.Register({"swapdb", 3, kWrite | kFast | kSelfLocking, 0, 0, 0, CmdSwapDb, "server", "Swaps two Redis databases.", "4.0.0"});
  r.Register({"flushdb", -1, kWrite | kSelfLocking, 0, 0, 0, CmdFlushDb, "server", "Remove all keys from the current database.", "1.0.0"});
}
// clang-format on

}  // namespace fdb
