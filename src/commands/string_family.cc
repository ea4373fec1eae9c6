// Strings: SET, GET and the rest of Redis's STRING group, with Redis 7 replies and error texts.
//
// Model: a string value lives in its entry (engine/entry.h): kInt for canonical 64-bit integers,
// kInline bytes otherwise. Handlers parse their arguments, call the keyspace, and reply; the
// dispatcher has already locked the shards of every key argument (from the registry rows at the
// bottom), so a multi-key command such as MSETNX is atomic.
//
// Every mutation goes through Keyspace (Put / Changed / SetExpire / Delete), because the storage
// engine logs effects from there. A value whose size changes (APPEND, SETRANGE, INCRBYFLOAT) is
// built as a new entry, which takes over the old deadline before Put (Put counts expiries from
// the new entry and frees the old one, so no Entry* of that key survives a Put). Only INCR and
// friends on a kInt entry change the value in place, followed by Changed().
//
// Relative expiry (EX, PX) becomes an absolute deadline here, once, from the command's single
// clock reading, so the log records the deadline and not the command (habit 6).
//
// Trade-off: APPEND copies the whole value into a new entry each time (Redis grows an sds in
// place). Entries are single allocations to save memory per key; repeated appends to one large
// value are the case that pays for it.
#include <charconv>
#include <cmath>
#include <cstring>

#include "base/limits.h"
#include "commands/context.h"
#include "commands/errors.h"
#include "commands/string_ops.h"

namespace fdb {

namespace {

// Error texts only the string commands send (Redis's, to the letter).
constexpr const char* kDecrementOverflow = "ERR decrement would overflow";
constexpr const char* kLcsNotStrings = "ERR The specified keys must contain string values";
constexpr const char* kLcsLenAndIdx =
    "ERR If you want both the length and indexes, please just use IDX.";

std::string InvalidExpireError(std::string_view cmd) {
  return "ERR invalid expire time in '" + std::string(cmd) + "' command";
}

// The string value of e. REQUIRES: e->type() == kString. The view lives as long as both e and
// `tmp` (for kInt values).
std::string_view ValueOf(const Entry* e, IntText* tmp) {
  if (!e->is_int()) return e->string_bytes();
  auto r = std::to_chars(tmp->buf, tmp->buf + sizeof(tmp->buf), e->int_value());
  return {tmp->buf, static_cast<size_t>(r.ptr - tmp->buf)};
}

bool IsString(const Entry* e) { return e->type() == ValueType::kString; }

// A string entry for a value argument. A large value that the connection read into a block of
// its own is adopted, not copied (engine/entry.h, kLarge); any other value is copied in.
Entry* NewStringArg(CommandContext& ctx, std::string_view key, std::string_view value) {
  if (BlockRef block = ctx.ArgBlock(value)) return Entry::NewLarge(key, std::move(block));
  return Entry::NewString(key, value);
}

// The largest string a command may create: Redis checks growth against proto-max-bulk-len.
bool FitsStringLimit(CommandContext& ctx, uint64_t size, uint64_t append) {
  uint64_t total = size + append;
  int64_t limit = ctx.server.config().proto_max_bulk_len();
  return total >= size && total <= static_cast<uint64_t>(limit);
}

// --- Options of SET and GETEX (Redis's parseExtendedStringArgumentsOrReply) ---

namespace setflag {
constexpr uint32_t kNX = 1 << 0;
constexpr uint32_t kXX = 1 << 1;
constexpr uint32_t kGet = 1 << 2;
constexpr uint32_t kKeepTtl = 1 << 3;
constexpr uint32_t kPersist = 1 << 4;
constexpr uint32_t kEX = 1 << 5;
constexpr uint32_t kPX = 1 << 6;
constexpr uint32_t kEXAT = 1 << 7;
constexpr uint32_t kPXAT = 1 << 8;
constexpr uint32_t kAnyExpire = kEX | kPX | kEXAT | kPXAT;
}  // namespace setflag

enum class OptionsFor { kSet, kGetEx };

struct StringOptions {
  uint32_t flags = 0;
  std::string_view expire_arg;  // the value after EX / PX / EXAT / PXAT

  bool has(uint32_t f) const { return (flags & f) != 0; }
  bool has_expire() const { return has(setflag::kAnyExpire); }
};

// Parses args[from..]; false on a syntax error. As Redis, repeating an option is allowed, a
// repeated expiry option keeps the last value, and conflicting options are a syntax error.
bool ParseStringOptions(CmdArgs args, size_t from, OptionsFor cmd, StringOptions* out) {
  using namespace setflag;
  const bool is_set = cmd == OptionsFor::kSet;
  uint32_t& f = out->flags;
  for (size_t j = from; j < args.size(); j++) {
    std::string_view opt = args[j];
    const bool has_next = j + 1 < args.size();
    // Each expiry option excludes the other three, KEEPTTL and PERSIST.
    auto expire_ok = [&](uint32_t self) {
      return !(f & (kAnyExpire & ~self)) && !(f & (kKeepTtl | kPersist)) && has_next;
    };
    if (is_set && EqualsUpper(opt, "NX") && !(f & kXX)) {
      f |= kNX;
    } else if (is_set && EqualsUpper(opt, "XX") && !(f & kNX)) {
      f |= kXX;
    } else if (is_set && EqualsUpper(opt, "GET")) {
      f |= kGet;
    } else if (is_set && EqualsUpper(opt, "KEEPTTL") && !(f & (kAnyExpire | kPersist))) {
      f |= kKeepTtl;
    } else if (!is_set && EqualsUpper(opt, "PERSIST") && !(f & (kAnyExpire | kKeepTtl))) {
      f |= kPersist;
    } else if (EqualsUpper(opt, "EX") && expire_ok(kEX)) {
      f |= kEX;
      out->expire_arg = args[++j];
    } else if (EqualsUpper(opt, "PX") && expire_ok(kPX)) {
      f |= kPX;
      out->expire_arg = args[++j];
    } else if (EqualsUpper(opt, "EXAT") && expire_ok(kEXAT)) {
      f |= kEXAT;
      out->expire_arg = args[++j];
    } else if (EqualsUpper(opt, "PXAT") && expire_ok(kPXAT)) {
      f |= kPXAT;
      out->expire_arg = args[++j];
    } else {
      return false;
    }
  }
  return true;
}

// The absolute deadline of the options' expiry. Replies with the error and returns false if the
// value is not a valid expire time.
bool DeadlineOrReply(const StringOptions& o, CommandContext& ctx, int64_t* deadline_ms) {
  using namespace setflag;
  ExpireUnit unit = o.has(kEX | kEXAT) ? ExpireUnit::kSeconds : ExpireUnit::kMilliseconds;
  bool relative = o.has(kEX | kPX);
  switch (ParseDeadline(o.expire_arg, unit, relative, ctx.now_ms, deadline_ms)) {
    case DeadlineStatus::kOk:
      return true;
    case DeadlineStatus::kNotInteger:
      ctx.rb.Error(errors::kNotInteger);
      return false;
    case DeadlineStatus::kInvalid:
      ctx.rb.Error(InvalidExpireError(ctx.spec.name));
      return false;
  }
  return false;
}

// Replies with the string value of key (nil if missing), as Redis's getGenericCommand.
// Returns false after replying WRONGTYPE.
bool ReplyValueOf(const Entry* e, CommandContext& ctx) {
  if (e == nullptr) {
    ctx.rb.NullBulk();
    return true;
  }
  if (!IsString(e)) {
    ctx.rb.Error(errors::kWrongType);
    return false;
  }
  IntText tmp;
  ctx.rb.Bulk(ValueOf(e, &tmp));
  return true;
}

// Replies with what OpSet found under SET ... GET.
void ReplyOld(CommandContext& ctx, const std::optional<std::string>& old) {
  if (old.has_value()) {
    ctx.rb.Bulk(*old);
  } else {
    ctx.rb.NullBulk();
  }
}

// --- SET family ---

void CmdSet(CmdArgs args, CommandContext& ctx) {
  using namespace setflag;
  KeyRef k(args[1]);
  SetParams p;
  p.block = ctx.ArgBlock(args[2]);
  if (args.size() == 3) {  // the hot path: no options, no lookup
    (void)OpSet(ctx.op(), k, args[2], p);
    ctx.Dirty();
    return ctx.rb.Ok();
  }
  StringOptions o;
  if (!ParseStringOptions(args, 3, OptionsFor::kSet, &o)) return ctx.rb.Error(errors::kSyntax);
  if (o.has_expire() && !DeadlineOrReply(o, ctx, &p.deadline_ms)) return;
  p.cond = o.has(kNX)   ? SetParams::Cond::kIfMissing
           : o.has(kXX) ? SetParams::Cond::kIfExists
                        : SetParams::Cond::kAlways;
  p.keep_ttl = o.has(kKeepTtl);
  // As Redis: "set", then "expire" when the call gave a deadline.
  if (o.has_expire()) ctx.txn.set_event({notify::kString, "set", notify::kGeneric, "expire"});
  std::optional<std::string> old;
  OpStatus s = OpSet(ctx.op(), k, args[2], p, o.has(kGet) ? &old : nullptr);
  if (s == OpStatus::kWrongType) return ctx.ReplyError(s);
  if (s == OpStatus::kOk) ctx.Dirty();
  if (o.has(kGet)) return ReplyOld(ctx, old);
  if (s == OpStatus::kSkipped) return ctx.rb.NullBulk();
  ctx.rb.Ok();
}

void CmdSetNx(CmdArgs args, CommandContext& ctx) {
  SetParams p;
  p.cond = SetParams::Cond::kIfMissing;
  p.block = ctx.ArgBlock(args[2]);
  if (OpSet(ctx.op(), KeyRef(args[1]), args[2], p) != OpStatus::kOk) return ctx.rb.Integer(0);
  ctx.Dirty();
  ctx.rb.Integer(1);
}

// SETEX key seconds value / PSETEX key milliseconds value.
void SetWithExpire(CmdArgs args, CommandContext& ctx, ExpireUnit unit) {
  int64_t deadline_ms;
  switch (ParseDeadline(args[2], unit, /*relative=*/true, ctx.now_ms, &deadline_ms)) {
    case DeadlineStatus::kOk:
      break;
    case DeadlineStatus::kNotInteger:
      return ctx.rb.Error(errors::kNotInteger);
    case DeadlineStatus::kInvalid:
      return ctx.rb.Error(InvalidExpireError(ctx.spec.name));
  }
  SetParams p;
  p.deadline_ms = deadline_ms;
  p.block = ctx.ArgBlock(args[3]);
  ctx.txn.set_event({notify::kString, "set", notify::kGeneric, "expire"});
  (void)OpSet(ctx.op(), KeyRef(args[1]), args[3], p);
  ctx.Dirty();
  ctx.rb.Ok();
}

void CmdSetEx(CmdArgs args, CommandContext& ctx) { SetWithExpire(args, ctx, ExpireUnit::kSeconds); }
void CmdPSetEx(CmdArgs args, CommandContext& ctx) {
  SetWithExpire(args, ctx, ExpireUnit::kMilliseconds);
}

void CmdMSet(CmdArgs args, CommandContext& ctx) {
  if (args.size() % 2 == 0) return ctx.rb.Error(WrongArityError(ctx.spec.name));
  for (size_t i = 1; i < args.size(); i += 2) {
    ctx.ks.Put(ctx.txn, ctx.db, KeyRef(args[i]), NewStringArg(ctx, args[i], args[i + 1]));
  }
  ctx.Dirty((args.size() - 1) / 2);
  ctx.rb.Ok();
}

// All or nothing: the dispatcher holds every key's shard, so no key can appear between the
// existence checks and the writes.
void CmdMSetNx(CmdArgs args, CommandContext& ctx) {
  if (args.size() % 2 == 0) return ctx.rb.Error(WrongArityError(ctx.spec.name));
  for (size_t i = 1; i < args.size(); i += 2) {
    if (ctx.ks.Find(ctx.txn, ctx.db, KeyRef(args[i]), ctx.now_ms, ctx.touch()) != nullptr) {
      return ctx.rb.Integer(0);
    }
  }
  for (size_t i = 1; i < args.size(); i += 2) {
    ctx.ks.Put(ctx.txn, ctx.db, KeyRef(args[i]), NewStringArg(ctx, args[i], args[i + 1]));
  }
  ctx.Dirty((args.size() - 1) / 2);
  ctx.rb.Integer(1);
}

// --- GET family ---

void CmdGet(CmdArgs args, CommandContext& ctx) {
  IntText tmp;
  std::string_view v;
  switch (OpGet(ctx.op(), KeyRef(args[1]), &tmp, &v)) {
    case OpStatus::kOk:
      return ctx.rb.Bulk(v);
    case OpStatus::kKeyNotFound:
      return ctx.rb.NullBulk();
    default:
      return ctx.rb.Error(errors::kWrongType);
  }
}

void CmdMGet(CmdArgs args, CommandContext& ctx) {
  ctx.rb.ArrayHeader(args.size() - 1);
  IntText tmp;
  for (size_t i = 1; i < args.size(); i++) {
    Entry* e = ctx.ks.FindForRead(ctx.txn, ctx.db, KeyRef(args[i]), ctx.now_ms, ctx.touch());
    // As Redis, a key of another type reads as nil here rather than failing the whole call.
    if (e == nullptr || !IsString(e)) {
      ctx.rb.NullBulk();
    } else {
      ctx.rb.Bulk(ValueOf(e, &tmp));
    }
  }
}

void CmdGetSet(CmdArgs args, CommandContext& ctx) {
  KeyRef k(args[1]);
  Entry* old = ctx.ks.FindForRead(ctx.txn, ctx.db, k, ctx.now_ms, ctx.touch());
  if (!ReplyValueOf(old, ctx)) return;
  ctx.ks.Put(ctx.txn, ctx.db, k, NewStringArg(ctx, args[1], args[2]));  // drops any TTL, as Redis
  ctx.Dirty();
}

void CmdGetDel(CmdArgs args, CommandContext& ctx) {
  KeyRef k(args[1]);
  Entry* e = ctx.ks.FindForRead(ctx.txn, ctx.db, k, ctx.now_ms, ctx.touch());
  if (!ReplyValueOf(e, ctx) || e == nullptr) return;
  ctx.ks.Delete(ctx.txn, ctx.db, k, ctx.now_ms);
  ctx.Dirty();
}

void CmdGetEx(CmdArgs args, CommandContext& ctx) {
  using namespace setflag;
  StringOptions o;
  if (!ParseStringOptions(args, 2, OptionsFor::kGetEx, &o)) return ctx.rb.Error(errors::kSyntax);
  KeyRef k(args[1]);
  Entry* e = ctx.ks.FindForRead(ctx.txn, ctx.db, k, ctx.now_ms, ctx.touch());
  if (e == nullptr) return ctx.rb.NullBulk();
  if (!IsString(e)) return ctx.rb.Error(errors::kWrongType);
  // Redis validates the expire time only once the key is known to exist and be a string.
  int64_t deadline_ms = 0;
  if (o.has_expire() && !DeadlineOrReply(o, ctx, &deadline_ms)) return;
  IntText tmp;
  ctx.rb.Bulk(ValueOf(e, &tmp));  // before the key may be deleted below
  if (o.has_expire()) {
    if (deadline_ms <= ctx.now_ms) {
      ctx.ks.Delete(ctx.txn, ctx.db, k, ctx.now_ms);  // EXAT / PXAT in the past
    } else {
      ctx.ks.SetExpire(ctx.txn, ctx.db, e, deadline_ms);
    }
    ctx.Dirty();
  } else if (o.has(kPersist) && e->has_expire()) {
    ctx.ks.SetExpire(ctx.txn, ctx.db, e, 0);
    ctx.Dirty();
  }
}

void CmdStrLen(CmdArgs args, CommandContext& ctx) {
  Entry* e = ctx.ks.FindForRead(ctx.txn, ctx.db, KeyRef(args[1]), ctx.now_ms, ctx.touch());
  if (e == nullptr) return ctx.rb.Integer(0);
  if (!IsString(e)) return ctx.rb.Error(errors::kWrongType);
  ctx.rb.Integer(static_cast<int64_t>(e->StringLength()));
}

// GETRANGE and SUBSTR.
void CmdGetRange(CmdArgs args, CommandContext& ctx) {
  int64_t start, end;
  if (!ParseInt64(args[2], &start) || !ParseInt64(args[3], &end)) {
    return ctx.rb.Error(errors::kNotInteger);
  }
  Entry* e = ctx.ks.FindForRead(ctx.txn, ctx.db, KeyRef(args[1]), ctx.now_ms, ctx.touch());
  if (e == nullptr) return ctx.rb.Bulk("");  // an empty string, not nil
  if (!IsString(e)) return ctx.rb.Error(errors::kWrongType);
  IntText tmp;
  ctx.rb.Bulk(GetRange(ValueOf(e, &tmp), start, end));
}

// --- Modifying a value ---

void CmdAppend(CmdArgs args, CommandContext& ctx) {
  KeyRef k(args[1]);
  std::string_view tail = args[2];
  Entry* old = ctx.ks.Find(ctx.txn, ctx.db, k, ctx.now_ms, ctx.touch());
  if (old == nullptr) {
    Entry* e = ctx.ks.Put(ctx.txn, ctx.db, k, NewStringArg(ctx, args[1], tail));
    ctx.Dirty();
    return ctx.rb.Integer(static_cast<int64_t>(e->StringLength()));
  }
  if (!IsString(old)) return ctx.rb.Error(errors::kWrongType);
  IntText tmp;
  std::string_view head = ValueOf(old, &tmp);
  if (!FitsStringLimit(ctx, head.size(), tail.size())) return ctx.rb.Error(errors::kStringTooLong);
  const size_t total = head.size() + tail.size();
  if (!tail.empty()) {
    // Written at the end, in place when there is room (a large value grows with slack), and
    // logged as a string range delta, as SETRANGE: an APPEND to a large value logs the tail,
    // not the value.
    Entry* e = ctx.ks.WriteRange(ctx.txn, ctx.db, k, old, head.size(), tail);
    ctx.Dirty();
    return ctx.rb.Integer(static_cast<int64_t>(e->StringLength()));
  }
  // Nothing appended: the value is made raw (as Redis, which unshares it) and written whole.
  Entry* e = Entry::NewInlineString(args[1], total, /*raw=*/true);
  char* p = e->mutable_inline_value();
  if (!head.empty()) memcpy(p, head.data(), head.size());
  if (!tail.empty()) memcpy(p + head.size(), tail.data(), tail.size());
  e->set_expire_ms(old->expire_ms());
  ctx.ks.Put(ctx.txn, ctx.db, k, e);  // frees old (and invalidates head)
  ctx.Dirty();
  ctx.rb.Integer(static_cast<int64_t>(total));
}

void CmdSetRange(CmdArgs args, CommandContext& ctx) {
  int64_t offset;
  if (!ParseInt64(args[2], &offset)) return ctx.rb.Error(errors::kNotInteger);
  if (offset < 0) return ctx.rb.Error(errors::kOffsetOutOfRange);
  std::string_view value = args[3];
  KeyRef k(args[1]);
  Entry* old = ctx.ks.Find(ctx.txn, ctx.db, k, ctx.now_ms, ctx.touch());
  IntText tmp;
  std::string_view cur;
  if (old != nullptr) {
    if (!IsString(old)) return ctx.rb.Error(errors::kWrongType);
    cur = ValueOf(old, &tmp);
  }
  // Setting nothing changes nothing, and creates no key.
  if (value.empty()) return ctx.rb.Integer(static_cast<int64_t>(cur.size()));
  if (!FitsStringLimit(ctx, static_cast<uint64_t>(offset), value.size())) {
    return ctx.rb.Error(errors::kStringTooLong);
  }
  // In place when it can be, logged as a string range delta (Keyspace::WriteRange), so a
  // SETRANGE on a large value logs the bytes it wrote, not the value.
  Entry* e = ctx.ks.WriteRange(ctx.txn, ctx.db, k, old, static_cast<uint64_t>(offset), value);
  const size_t total = e->StringLength();
  ctx.Dirty();
  ctx.rb.Integer(static_cast<int64_t>(total));
}

// INCR, DECR, INCRBY, DECRBY.
void IncrBy(CmdArgs args, CommandContext& ctx, int64_t incr) {
  OpResult<int64_t> r = OpIncrBy(ctx.op(), KeyRef(args[1]), incr);
  if (!r.ok()) return ctx.ReplyError(r.status());
  ctx.Dirty();
  ctx.rb.Integer(*r);
}

void CmdIncr(CmdArgs args, CommandContext& ctx) { IncrBy(args, ctx, 1); }
void CmdDecr(CmdArgs args, CommandContext& ctx) { IncrBy(args, ctx, -1); }

void CmdIncrBy(CmdArgs args, CommandContext& ctx) {
  int64_t incr;
  if (!ParseInt64(args[2], &incr)) return ctx.rb.Error(errors::kNotInteger);
  IncrBy(args, ctx, incr);
}

void CmdDecrBy(CmdArgs args, CommandContext& ctx) {
  int64_t decr;
  if (!ParseInt64(args[2], &decr)) return ctx.rb.Error(errors::kNotInteger);
  if (decr == INT64_MIN) return ctx.rb.Error(kDecrementOverflow);  // cannot be negated
  IncrBy(args, ctx, -decr);
}

void CmdIncrByFloat(CmdArgs args, CommandContext& ctx) {
  KeyRef k(args[1]);
  Entry* e = ctx.ks.Find(ctx.txn, ctx.db, k, ctx.now_ms, ctx.touch());
  long double v = 0, incr;
  if (e != nullptr) {
    if (!IsString(e)) return ctx.rb.Error(errors::kWrongType);
    if (e->is_int()) {
      v = static_cast<long double>(e->int_value());
    } else if (!ParseLongDouble(e->string_bytes(), &v)) {
      return ctx.rb.Error(errors::kNotFloat);
    }
  }
  if (!ParseLongDouble(args[2], &incr)) return ctx.rb.Error(errors::kNotFloat);
  v += incr;
  if (std::isnan(v) || std::isinf(v)) return ctx.rb.Error(errors::kNanOrInf);
  char buf[kLongDoubleChars];
  size_t len = FormatLongDoubleHuman(v, buf);
  // Stored as a string even when it reads as an integer, as Redis (OBJECT ENCODING "embstr").
  Entry* n = Entry::NewInlineString(args[1], len, /*raw=*/false);
  memcpy(n->mutable_inline_value(), buf, len);
  if (e != nullptr) n->set_expire_ms(e->expire_ms());
  ctx.ks.Put(ctx.txn, ctx.db, k, n);
  ctx.Dirty();
  // A bulk string in RESP3 too (Redis 7 does not send a RESP3 double here).
  ctx.rb.Bulk(std::string_view(buf, len));
}

// --- LCS ---

void CmdLcs(CmdArgs args, CommandContext& ctx) {
  Entry* ea = ctx.ks.FindForRead(ctx.txn, ctx.db, KeyRef(args[1]), ctx.now_ms, ctx.touch());
  Entry* eb = ctx.ks.FindForRead(ctx.txn, ctx.db, KeyRef(args[2]), ctx.now_ms, ctx.touch());
  if ((ea != nullptr && !IsString(ea)) || (eb != nullptr && !IsString(eb))) {
    return ctx.rb.Error(kLcsNotStrings);
  }
  bool want_len = false, want_idx = false, with_match_len = false;
  int64_t min_match_len = 0;
  for (size_t j = 3; j < args.size(); j++) {
    std::string_view opt = args[j];
    if (EqualsUpper(opt, "IDX")) {
      want_idx = true;
    } else if (EqualsUpper(opt, "LEN")) {
      want_len = true;
    } else if (EqualsUpper(opt, "WITHMATCHLEN")) {
      with_match_len = true;
    } else if (EqualsUpper(opt, "MINMATCHLEN") && j + 1 < args.size()) {
      if (!ParseInt64(args[j + 1], &min_match_len)) return ctx.rb.Error(errors::kNotInteger);
      if (min_match_len < 0) min_match_len = 0;
      j++;
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
  }
  if (want_idx && want_len) return ctx.rb.Error(kLcsLenAndIdx);

  IntText ta, tb;
  LcsOptions opts;
  opts.want_string = !want_len && !want_idx;
  opts.want_matches = want_idx;
  opts.min_match_len = min_match_len;
  opts.max_cells = limits::kLcsMaxCells;
  Result<LcsResult> r = ComputeLcs(ea ? ValueOf(ea, &ta) : std::string_view(),
                                   eb ? ValueOf(eb, &tb) : std::string_view(), opts);
  if (!r.ok()) return ctx.rb.Error(r.status().message());
  if (want_len) return ctx.rb.Integer(r->len);
  if (!want_idx) return ctx.rb.Bulk(r->lcs);
  ctx.rb.MapHeader(2);
  ctx.rb.Bulk("matches");
  ctx.rb.ArrayHeader(r->matches.size());
  for (const LcsMatch& m : r->matches) {
    ctx.rb.ArrayHeader(with_match_len ? 3 : 2);
    ctx.rb.ArrayHeader(2);
    ctx.rb.Integer(m.a_start);
    ctx.rb.Integer(m.a_end);
    ctx.rb.ArrayHeader(2);
    ctx.rb.Integer(m.b_start);
    ctx.rb.Integer(m.b_end);
    if (with_match_len) ctx.rb.Integer(m.len());
  }
  ctx.rb.Bulk("len");
  ctx.rb.Integer(r->len);
}

}  // namespace

OpStatus OpGet(const OpArgs& op, const KeyRef& k, IntText* tmp, std::string_view* value) {
  const Entry* e = op.ks.FindForRead(op.txn, op.db, k, op.now_ms, op.touch);
  if (e == nullptr) return OpStatus::kKeyNotFound;
  if (!IsString(e)) return OpStatus::kWrongType;
  *value = ValueOf(e, tmp);
  return OpStatus::kOk;
}

OpStatus OpSet(const OpArgs& op, const KeyRef& k, std::string_view value, const SetParams& p,
               std::optional<std::string>* old) {
  int64_t deadline_ms = p.deadline_ms;
  if (p.cond != SetParams::Cond::kAlways || p.keep_ttl || old != nullptr) {
    Entry* cur = old != nullptr ? op.ks.FindForRead(op.txn, op.db, k, op.now_ms, op.touch)
                                : op.ks.Find(op.txn, op.db, k, op.now_ms, op.touch);
    if (old != nullptr && cur != nullptr) {
      if (!IsString(cur)) return OpStatus::kWrongType;
      IntText tmp;
      old->emplace(ValueOf(cur, &tmp));
    }
    if ((p.cond == SetParams::Cond::kIfMissing && cur != nullptr) ||
        (p.cond == SetParams::Cond::kIfExists && cur == nullptr)) {
      return OpStatus::kSkipped;
    }
    if (p.keep_ttl && cur != nullptr) deadline_ms = cur->expire_ms();
  }
  // A deadline already past deletes the key instead: the effect of SET ... EXAT <past> is that
  // the key is gone, and logging a delete says so directly rather than storing a value that is
  // dead on arrival.
  if (deadline_ms != 0 && deadline_ms <= op.now_ms) {
    op.ks.Delete(op.txn, op.db, k, op.now_ms);
    return OpStatus::kOk;
  }
  // A large value that the connection read into a block of its own is adopted, not copied
  // (engine/entry.h, kLarge); any other value is copied in.
  Entry* e = p.block ? Entry::NewLarge(k.key, p.block) : Entry::NewString(k.key, value);
  e->set_expire_ms(deadline_ms);
  op.ks.Put(op.txn, op.db, k, e);  // frees the old entry
  return OpStatus::kOk;
}

OpResult<int64_t> OpIncrBy(const OpArgs& op, const KeyRef& k, int64_t incr) {
  Entry* e = op.ks.Find(op.txn, op.db, k, op.now_ms, op.touch);
  int64_t v = 0;
  if (e != nullptr) {
    if (!IsString(e)) return OpStatus::kWrongType;
    if (e->is_int()) {
      v = e->int_value();
    } else if (!ParseInt64(e->string_bytes(), &v)) {
      return OpStatus::kNotInteger;
    }
  }
  int64_t result;
  if (__builtin_add_overflow(v, incr, &result)) return OpStatus::kOverflow;
  if (e != nullptr && e->is_int()) {
    e->set_int_value(result);  // in place: no allocation on the counter hot path
    op.ks.Changed(op.txn, op.db, k, e);
  } else {
    Entry* n = Entry::NewInt(k.key, result);
    if (e != nullptr) n->set_expire_ms(e->expire_ms());
    op.ks.Put(op.txn, op.db, k, n);
  }
  return result;
}

// One row per command: name, arity, flags, first/last/step key positions, handler, group,
// summary, since. Arity, flags and key positions are Redis 7's.
void RegisterStringFamily(CommandRegistry& r) {
  using namespace cmdflags;
  // clang-format off
  r.Register({"get", 2, kReadOnly | kFast, 1, 1, 1, CmdGet, "string",
              "Returns the string value of a key.", "1.0.0"});
  r.Register({"set", -3, kWrite | kDenyOom, 1, 1, 1, CmdSet, "string",
              "Sets the string value of a key, ignoring its type. The key is created if it "
              "doesn't exist.", "1.0.0"});
  r.Register({"setnx", 3, kWrite | kDenyOom | kFast, 1, 1, 1, CmdSetNx, "string",
              "Set the string value of a key only when the key doesn't exist.", "1.0.0"});
  r.Register({"setex", 4, kWrite | kDenyOom, 1, 1, 1, CmdSetEx, "string",
              "Sets the string value and expiration time of a key. Creates the key if it "
              "doesn't exist.", "2.0.0"});
  r.Register({"psetex", 4, kWrite | kDenyOom, 1, 1, 1, CmdPSetEx, "string",
              "Sets both string value and expiration time in milliseconds of a key. The key is "
              "created if it doesn't exist.", "2.6.0"});
  r.Register({"getset", 3, kWrite | kDenyOom | kFast, 1, 1, 1, CmdGetSet, "string",
              "Returns the previous string value of a key after setting it to a new value.",
              "1.0.0"});
  r.Register({"getdel", 2, kWrite | kFast, 1, 1, 1, CmdGetDel, "string",
              "Returns the string value of a key after deleting the key.", "6.2.0"});
  r.Register({"getex", -2, kWrite | kFast, 1, 1, 1, CmdGetEx, "string",
              "Returns the string value of a key after setting its expiration time.", "6.2.0"});
  r.Register({"mget", -2, kReadOnly | kFast, 1, -1, 1, CmdMGet, "string",
              "Atomically returns the string values of one or more keys.", "1.0.0"});
  r.Register({"mset", -3, kWrite | kDenyOom, 1, -1, 2, CmdMSet, "string",
              "Atomically creates or modifies the string values of one or more keys.", "1.0.1"});
  r.Register({"msetnx", -3, kWrite | kDenyOom, 1, -1, 2, CmdMSetNx, "string",
              "Atomically modifies the string values of one or more keys only when all keys "
              "don't exist.", "1.0.1"});
  r.Register({"append", 3, kWrite | kDenyOom | kFast, 1, 1, 1, CmdAppend, "string",
              "Appends a string to the value of a key. Creates the key if it doesn't exist.",
              "2.0.0"});
  r.Register({"strlen", 2, kReadOnly | kFast, 1, 1, 1, CmdStrLen, "string",
              "Returns the length of a string value.", "2.2.0"});
  r.Register({"incr", 2, kWrite | kDenyOom | kFast, 1, 1, 1, CmdIncr, "string",
              "Increments the integer value of a key by one. Uses 0 as initial value if the key "
              "doesn't exist.", "1.0.0"});
  r.Register({"decr", 2, kWrite | kDenyOom | kFast, 1, 1, 1, CmdDecr, "string",
              "Decrements the integer value of a key by one. Uses 0 as initial value if the key "
              "doesn't exist.", "1.0.0"});
  r.Register({"incrby", 3, kWrite | kDenyOom | kFast, 1, 1, 1, CmdIncrBy, "string",
              "Increments the integer value of a key by a number. Uses 0 as initial value if the "
              "key doesn't exist.", "1.0.0"});
  r.Register({"decrby", 3, kWrite | kDenyOom | kFast, 1, 1, 1, CmdDecrBy, "string",
              "Decrements a number from the integer value of a key. Uses 0 as initial value if "
              "the key doesn't exist.", "1.0.0"});
  r.Register({"incrbyfloat", 3, kWrite | kDenyOom | kFast, 1, 1, 1, CmdIncrByFloat, "string",
              "Increment the floating point value of a key by a number. Uses 0 as initial value "
              "if the key doesn't exist.", "2.6.0"});
  r.Register({"getrange", 4, kReadOnly, 1, 1, 1, CmdGetRange, "string",
              "Returns a substring of the string stored at a key.", "2.4.0"});
  r.Register({"substr", 4, kReadOnly, 1, 1, 1, CmdGetRange, "string",
              "Returns a substring from a string value.", "1.0.0"});
  r.Register({"setrange", 4, kWrite | kDenyOom, 1, 1, 1, CmdSetRange, "string",
              "Overwrites a part of a string value with another by an offset. Creates the key "
              "if it doesn't exist.", "2.2.0"});
  r.Register({"lcs", -3, kReadOnly, 1, 2, 1, CmdLcs, "string",
              "Finds the longest common substring.", "7.0.0"});
  // clang-format on
}

}  // namespace fdb
