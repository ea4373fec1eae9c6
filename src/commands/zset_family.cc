// Sorted sets: ZADD, ZRANGE and the rest of Redis's SORTED SET group, with Redis 7 replies and
// error texts.
//
// Model: a zset value is a ZSetObject (engine/zset_object.h). Handlers parse every argument
// before touching the keyspace (an invalid call creates nothing), call the zset Ops
// (commands/zset_ops.h) and reply from what they return. The Ops change the object and record
// the effect as a delta: the members with their resulting scores ('S') or the members removed
// ('R'). ZINCRBY logs the new score, ZPOPMIN the members it popped, ZREMRANGEBYSCORE the members
// it removed: replay never re-evaluates a command. A command that empties a zset deletes the key
// (DeltaOrDeleteIfEmpty). The STORE commands build a new object and Put it whole.
//
// Every range command reduces its range to an interval of ranks [lo, hi) with two O(log n)
// descents of the skiplist (ZSetObject::CountBelowMin / CountUpToMax), then visits only the
// ranks it replies with, so ZRANGEBYSCORE ... LIMIT 0 10 on a million members costs
// O(log n + 10), and ZCOUNT is O(log n).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "base/glob.h"
#include "commands/blocking.h"
#include "commands/collection_scan.h"
#include "commands/context.h"
#include "commands/errors.h"
#include "commands/zset_ops.h"
#include "engine/set_object.h"
#include "engine/zset_object.h"

namespace fdb {

namespace {

// Error texts only the sorted-set commands send (Redis's, to the letter).
constexpr const char* kXxAndNx = "ERR XX and NX options at the same time are not compatible";
constexpr const char* kGtLtNx = "ERR GT, LT, and/or NX options at the same time are not compatible";
constexpr const char* kIncrPair = "ERR INCR option supports a single increment-element pair";
constexpr const char* kMinMaxNotFloat = "ERR min or max is not a float";
constexpr const char* kMinMaxNotLex = "ERR min or max not valid string range item";
constexpr const char* kLimitNeedsBy =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
constexpr const char* kWithScoresByLex =
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
constexpr const char* kNotPositive = "ERR value is out of range, must be positive";
constexpr const char* kNumKeysPositive = "ERR numkeys should be greater than 0";
constexpr const char* kCountPositive = "ERR count should be greater than 0";
constexpr const char* kOutOfRange = "ERR value is out of range";
constexpr const char* kOutOfRangeLong =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
constexpr const char* kWeightNotFloat = "ERR weight value is not a float";
constexpr const char* kLimitNegative = "ERR LIMIT can't be negative";

// The zset at `key` for a read: false after a WRONGTYPE reply; *z is nullptr when missing.
bool ReadZSet(std::string_view key, CommandContext& ctx, const ZSetObject** z) {
  OpResult<const ZSetObject*> r = OpFindZSet(ctx.op(), key);
  if (!r.ok()) {
    ctx.ReplyError(r.status());
    return false;
  }
  *z = *r;
  return true;
}

bool ParseLong(std::string_view s, int64_t* v, CommandContext& ctx) {
  if (ParseInt64(s, v)) return true;
  ctx.rb.Error(errors::kNotInteger);
  return false;
}

// Replies with one member and its score in a list of pairs: flat in RESP2, a pair in RESP3.
void ReplyPair(CommandContext& ctx, std::string_view m, double s) {
  if (ctx.rb.resp3()) ctx.rb.ArrayHeader(2);
  ctx.rb.Bulk(m);
  ctx.rb.Double(s);
}
void PairsHeader(CommandContext& ctx, size_t n, bool withscores) {
  ctx.rb.ArrayHeader(withscores && !ctx.rb.resp3() ? n * 2 : n);
}

// --- ZADD / ZINCRBY ----------------------------------------------------------------------------

namespace zadd {
constexpr uint32_t kNX = 1, kXX = 2, kGT = 4, kLT = 8, kCH = 16, kIncr = 32;
}

// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member ...; ZINCRBY key increment member. Redis's
// zaddGenericCommand: options, then the pair count, then option conflicts, then every score
// parsed before anything changes.
void ZAddGeneric(CmdArgs args, CommandContext& ctx, uint32_t flags) {
  using namespace zadd;
  size_t idx = 2;
  for (; idx < args.size(); idx++) {
    std::string_view o = args[idx];
    if (EqualsUpper(o, "NX")) {
      flags |= kNX;
    } else if (EqualsUpper(o, "XX")) {
      flags |= kXX;
    } else if (EqualsUpper(o, "CH")) {
      flags |= kCH;
    } else if (EqualsUpper(o, "INCR")) {
      flags |= kIncr;
    } else if (EqualsUpper(o, "GT")) {
      flags |= kGT;
    } else if (EqualsUpper(o, "LT")) {
      flags |= kLT;
    } else {
      break;
    }
  }
  const size_t rest = args.size() - idx;
  if (rest == 0 || rest % 2 != 0) return ctx.rb.Error(errors::kSyntax);
  const size_t n = rest / 2;
  const bool nx = flags & kNX, xx = flags & kXX, gt = flags & kGT, lt = flags & kLT;
  const bool incr = flags & kIncr;
  if (nx && xx) return ctx.rb.Error(kXxAndNx);
  if ((gt && nx) || (lt && nx) || (gt && lt)) return ctx.rb.Error(kGtLtNx);
  if (incr && n > 1) return ctx.rb.Error(kIncrPair);

  double one_score;
  std::vector<double> many;
  double* scores = &one_score;
  if (n > 1) {
    many.resize(n);
    scores = many.data();
  }
  for (size_t j = 0; j < n; j++) {
    if (!ParseScore(args[idx + 2 * j], &scores[j])) return ctx.rb.Error(errors::kNotFloat);
  }

  ZAddOptions opts;
  opts.nx = nx;
  opts.xx = xx;
  opts.gt = gt;
  opts.lt = lt;
  opts.incr = incr;
  if (incr) ctx.txn.set_event(notify::kZset, "zincr");  // ZADD ... INCR, as ZINCRBY
  // The members, as views of the arguments (score member score member ...).
  std::string_view one_member;
  std::vector<std::string_view> many_members;
  std::string_view* members = &one_member;
  if (n > 1) {
    many_members.resize(n);
    members = many_members.data();
  }
  for (size_t j = 0; j < n; j++) members[j] = args[idx + 2 * j + 1];
  OpResult<ZAddResult> r = OpZAdd(ctx.op(), args[1], opts, std::span<const double>(scores, n),
                                  std::span<const std::string_view>(members, n));
  if (!r.ok()) return ctx.ReplyError(r.status());
  ctx.Dirty(static_cast<uint64_t>(r->added + r->updated));
  if (incr) {
    if (r->processed == 0) return ctx.rb.NullBulk();
    return ctx.rb.Double(r->score);
  }
  ctx.rb.Integer((flags & kCH) ? r->added + r->updated : r->added);
}

void CmdZAdd(CmdArgs args, CommandContext& ctx) { ZAddGeneric(args, ctx, 0); }
void CmdZIncrBy(CmdArgs args, CommandContext& ctx) { ZAddGeneric(args, ctx, zadd::kIncr); }

// --- Single-member reads and ZREM --------------------------------------------------------------

void CmdZRem(CmdArgs args, CommandContext& ctx) {
  OpResult<int64_t> removed = OpZRem(ctx.op(), args[1], args.subspan(2));
  if (!removed.ok()) return ctx.ReplyError(removed.status());
  if (*removed > 0) ctx.Dirty(static_cast<uint64_t>(*removed));
  ctx.rb.Integer(*removed);
}

void CmdZCard(CmdArgs args, CommandContext& ctx) {
  const ZSetObject* z;
  if (!ReadZSet(args[1], ctx, &z)) return;
  ctx.rb.Integer(z == nullptr ? 0 : static_cast<int64_t>(z->Size()));
}

void CmdZScore(CmdArgs args, CommandContext& ctx) {
  const ZSetObject* z;
  if (!ReadZSet(args[1], ctx, &z)) return;
  std::optional<double> s = z == nullptr ? std::nullopt : z->Score(args[2]);
  if (!s.has_value()) return ctx.rb.NullBulk();
  ctx.rb.Double(*s);
}

void CmdZMScore(CmdArgs args, CommandContext& ctx) {
  const ZSetObject* z;
  if (!ReadZSet(args[1], ctx, &z)) return;
  ctx.rb.ArrayHeader(args.size() - 2);
  for (size_t i = 2; i < args.size(); i++) {
    std::optional<double> s = z == nullptr ? std::nullopt : z->Score(args[i]);
    if (s.has_value()) {
      ctx.rb.Double(*s);
    } else {
      ctx.rb.NullBulk();
    }
  }
}

// ZRANK / ZREVRANK key member [WITHSCORE].
void ZRankGeneric(CmdArgs args, CommandContext& ctx, bool reverse) {
  if (args.size() > 4) return ctx.rb.Error(WrongArityError(ctx.spec.name));
  bool withscore = false;
  if (args.size() == 4) {
    if (!EqualsUpper(args[3], "WITHSCORE")) return ctx.rb.Error(errors::kSyntax);
    withscore = true;
  }
  const ZSetObject* z;
  if (!ReadZSet(args[1], ctx, &z)) return;
  double score = 0;
  std::optional<size_t> r = z == nullptr ? std::nullopt : z->Rank(args[2], &score);
  if (!r.has_value()) return withscore ? ctx.rb.NullArray() : ctx.rb.NullBulk();
  size_t rank = reverse ? z->Size() - 1 - *r : *r;
  if (withscore) ctx.rb.ArrayHeader(2);
  ctx.rb.Integer(static_cast<int64_t>(rank));
  if (withscore) ctx.rb.Double(score);
}

void CmdZRank(CmdArgs args, CommandContext& ctx) { ZRankGeneric(args, ctx, false); }
void CmdZRevRank(CmdArgs args, CommandContext& ctx) { ZRankGeneric(args, ctx, true); }

void CmdZCount(CmdArgs args, CommandContext& ctx) {
  ZScoreRange r;
  if (!ParseScoreRange(args[2], args[3], &r)) return ctx.rb.Error(kMinMaxNotFloat);
  const ZSetObject* z;
  if (!ReadZSet(args[1], ctx, &z)) return;
  if (z == nullptr) return ctx.rb.Integer(0);
  size_t lo = z->CountBelowMin(r), hi = z->CountUpToMax(r);
  ctx.rb.Integer(hi > lo ? static_cast<int64_t>(hi - lo) : 0);
}

void CmdZLexCount(CmdArgs args, CommandContext& ctx) {
  ZLexRange r;
  if (!ParseLexRange(args[2], args[3], &r)) return ctx.rb.Error(kMinMaxNotLex);
  const ZSetObject* z;
  if (!ReadZSet(args[1], ctx, &z)) return;
  if (z == nullptr) return ctx.rb.Integer(0);
  size_t lo = z->CountBelowMin(r), hi = z->CountUpToMax(r);
  ctx.rb.Integer(hi > lo ? static_cast<int64_t>(hi - lo) : 0);
}

// --- ZRANGE and its variants -------------------------------------------------------------------

// The range types are the Ops' (zset_ops.h), under the family's short names.
using RangeBy = ZRangeBy;
using Direction = ZDirection;
using RangeSpec = ZRangeSpec;
using RankWindow = ZRankWindow;

// Parses Redis's zrangeGenericCommand arguments: args[key_idx] is the source key, then min, max,
// then options from key_idx + 3. Replies with the error and returns false on failure.
bool ParseRange(CmdArgs args, size_t key_idx, bool store, RangeSpec* s, CommandContext& ctx) {
  for (size_t j = key_idx + 3; j < args.size(); j++) {
    size_t left = args.size() - j - 1;
    std::string_view o = args[j];
    if (!store && EqualsUpper(o, "WITHSCORES")) {
      s->withscores = true;
    } else if (EqualsUpper(o, "LIMIT") && left >= 2) {
      if (!ParseLong(args[j + 1], &s->offset, ctx) || !ParseLong(args[j + 2], &s->limit, ctx)) {
        return false;
      }
      j += 2;
    } else if (s->dir == Direction::kAuto && EqualsUpper(o, "REV")) {
      s->dir = Direction::kReverse;
    } else if (s->by == RangeBy::kAuto && EqualsUpper(o, "BYLEX")) {
      s->by = RangeBy::kLex;
    } else if (s->by == RangeBy::kAuto && EqualsUpper(o, "BYSCORE")) {
      s->by = RangeBy::kScore;
    } else {
      ctx.rb.Error(errors::kSyntax);
      return false;
    }
  }
  if (s->dir == Direction::kAuto) s->dir = Direction::kForward;
  if (s->by == RangeBy::kAuto) s->by = RangeBy::kRank;
  // LIMIT was given when it changed the defaults (Redis tests opt_limit != -1 likewise).
  if (s->limit != -1 && s->by == RangeBy::kRank) {
    ctx.rb.Error(kLimitNeedsBy);
    return false;
  }
  if (s->withscores && s->by == RangeBy::kLex) {
    ctx.rb.Error(kWithScoresByLex);
    return false;
  }
  size_t min_idx = key_idx + 1, max_idx = key_idx + 2;
  // BYSCORE and BYLEX ranges are given as max, min when reversed.
  if (s->dir == Direction::kReverse && s->by != RangeBy::kRank) std::swap(min_idx, max_idx);
  switch (s->by) {
    case RangeBy::kAuto:
    case RangeBy::kRank:
      return ParseLong(args[min_idx], &s->start, ctx) && ParseLong(args[max_idx], &s->end, ctx);
    case RangeBy::kScore:
      if (ParseScoreRange(args[min_idx], args[max_idx], &s->score)) return true;
      ctx.rb.Error(kMinMaxNotFloat);
      return false;
    case RangeBy::kLex:
      if (ParseLexRange(args[min_idx], args[max_idx], &s->lex)) return true;
      ctx.rb.Error(kMinMaxNotLex);
      return false;
  }
  return false;
}

void ReplyWindow(CommandContext& ctx, const ZSetObject* z, const RankWindow& w, bool withscores) {
  PairsHeader(ctx, w.count, withscores);
  if (w.count == 0) return;
  if (withscores) {
    z->Visit(w.first, w.count, w.reverse,
             [&ctx](std::string_view m, double s) { ReplyPair(ctx, m, s); });
  } else {
    z->Visit(w.first, w.count, w.reverse, [&ctx](std::string_view m, double) { ctx.rb.Bulk(m); });
  }
}

// ZRANGE and the fixed-form variants (by, dir preset), and ZRANGESTORE (store: args[1] is the
// destination and args[2] the source).
void ZRangeGeneric(CmdArgs args, CommandContext& ctx, RangeBy by, Direction dir, bool store) {
  RangeSpec s;
  s.by = by;
  s.dir = dir;
  const size_t key_idx = store ? 2 : 1;
  if (!ParseRange(args, key_idx, store, &s, ctx)) return;
  if (!store) {
    OpResult<ZRange> r = OpZRange(ctx.op(), args[key_idx], s);
    if (!r.ok()) return ctx.ReplyError(r.status());
    if (r->zset == nullptr) return ctx.rb.ArrayHeader(0);
    return ReplyWindow(ctx, r->zset, r->window, s.withscores);
  }
  OpResult<ZStoreResult> r = OpZRangeStore(ctx.op(), args[1], args[key_idx], s);
  if (!r.ok()) return ctx.ReplyError(r.status());
  if (r->changed) ctx.Dirty();
  ctx.rb.Integer(r->size);
}

void CmdZRange(CmdArgs a, CommandContext& c) {
  ZRangeGeneric(a, c, RangeBy::kAuto, Direction::kAuto, false);
}
void CmdZRangeStore(CmdArgs a, CommandContext& c) {
  ZRangeGeneric(a, c, RangeBy::kAuto, Direction::kAuto, true);
}
void CmdZRevRange(CmdArgs a, CommandContext& c) {
  ZRangeGeneric(a, c, RangeBy::kRank, Direction::kReverse, false);
}
void CmdZRangeByScore(CmdArgs a, CommandContext& c) {
  ZRangeGeneric(a, c, RangeBy::kScore, Direction::kForward, false);
}
void CmdZRevRangeByScore(CmdArgs a, CommandContext& c) {
  ZRangeGeneric(a, c, RangeBy::kScore, Direction::kReverse, false);
}
void CmdZRangeByLex(CmdArgs a, CommandContext& c) {
  ZRangeGeneric(a, c, RangeBy::kLex, Direction::kForward, false);
}
void CmdZRevRangeByLex(CmdArgs a, CommandContext& c) {
  ZRangeGeneric(a, c, RangeBy::kLex, Direction::kReverse, false);
}

// --- ZREMRANGEBY* ------------------------------------------------------------------------------

void ZRemRangeGeneric(CmdArgs args, CommandContext& ctx, RangeBy by) {
  RangeSpec s;
  s.by = by;
  s.dir = Direction::kForward;
  switch (by) {
    case RangeBy::kRank:
      if (!ParseLong(args[2], &s.start, ctx) || !ParseLong(args[3], &s.end, ctx)) return;
      break;
    case RangeBy::kScore:
      if (!ParseScoreRange(args[2], args[3], &s.score)) return ctx.rb.Error(kMinMaxNotFloat);
      break;
    case RangeBy::kLex:
      if (!ParseLexRange(args[2], args[3], &s.lex)) return ctx.rb.Error(kMinMaxNotLex);
      break;
    case RangeBy::kAuto:
      return;
  }
  OpResult<int64_t> removed = OpZRemRange(ctx.op(), args[1], s);
  if (!removed.ok()) return ctx.ReplyError(removed.status());
  if (*removed > 0) ctx.Dirty(static_cast<uint64_t>(*removed));
  ctx.rb.Integer(*removed);
}

void CmdZRemRangeByRank(CmdArgs a, CommandContext& c) { ZRemRangeGeneric(a, c, RangeBy::kRank); }
void CmdZRemRangeByScore(CmdArgs a, CommandContext& c) { ZRemRangeGeneric(a, c, RangeBy::kScore); }
void CmdZRemRangeByLex(CmdArgs a, CommandContext& c) { ZRemRangeGeneric(a, c, RangeBy::kLex); }

// --- ZPOPMIN / ZPOPMAX / ZMPOP -----------------------------------------------------------------

// How a pop replies (Redis's genericZpopCommand flags).
struct PopReply {
  bool emit_key = false;     // ZMPOP / BZPOP*: the key first
  bool nested = false;       // pairs as arrays (RESP3 with COUNT; ZMPOP always)
  bool nil_if_none = false;  // ZMPOP: a null array when no key has members
};

enum class PopServed { kNothing, kServed, kWrongType };

// Pops up to `count` members (lowest first unless `max`) from the first non-empty zset among
// keys and replies as `how` says. kWrongType (nothing written, nothing popped) for the first
// existing key of another type; kNothing (nothing written) when no key holds a zset.
PopServed PopAndReply(CommandContext& ctx, CmdArgs keys, bool max, size_t count,
                      const PopReply& how) {
  ctx.txn.set_event(notify::kZset, max ? "zpopmax" : "zpopmin");
  const size_t first = ctx.txn.effects().size();
  OpResult<std::optional<ZPopResult>> r = OpZPop(ctx.op(), keys, max, count);
  if (!r.ok()) return PopServed::kWrongType;
  if (!r->has_value()) return PopServed::kNothing;
  const ZPopResult& p = **r;
  const size_t n = p.members.size();
  std::string_view key = keys[p.key_index];
  // As Redis: BZPOPMIN goes to replicas as `ZPOPMIN key`, ZMPOP and BZMPOP as `ZPOPMIN key
  // <popped>` (ZPOPMIN itself as sent).
  if (how.emit_key) {
    const char* name = max ? "zpopmax" : "zpopmin";
    if (how.nested) {
      ctx.PropagateAs(first, {name, key, std::to_string(n)});
    } else {
      ctx.PropagateAs(first, {name, key});
    }
  }
  ctx.Dirty(n);
  if (!how.nested && !how.emit_key) {
    ctx.rb.ArrayHeader(n * 2);
  } else if (how.nested && !how.emit_key) {
    ctx.rb.ArrayHeader(n);
  } else if (!how.nested && how.emit_key) {
    ctx.rb.ArrayHeader(n * 2 + 1);
    ctx.rb.Bulk(key);
  } else {
    ctx.rb.ArrayHeader(2);
    ctx.rb.Bulk(key);
    ctx.rb.ArrayHeader(n);
  }
  for (const auto& [m, sc] : p.members) {
    if (how.nested) ctx.rb.ArrayHeader(2);
    ctx.rb.Bulk(m);
    ctx.rb.Double(sc);
  }
  return PopServed::kServed;
}

// The non-blocking pops: a pop, WRONGTYPE, or the empty reply (`how.nil_if_none`: a null
// array, else an empty one). Returns true when something was popped.
bool PopGeneric(CommandContext& ctx, CmdArgs keys, bool max, size_t count, const PopReply& how) {
  switch (PopAndReply(ctx, keys, max, count, how)) {
    case PopServed::kServed:
      return true;
    case PopServed::kWrongType:
      ctx.ReplyError(OpStatus::kWrongType);
      return false;
    case PopServed::kNothing:
      break;
  }
  if (how.nil_if_none) {
    ctx.rb.NullArray();
  } else {
    ctx.rb.ArrayHeader(0);
  }
  return false;
}

// A count argument that must be positive (getPositiveLongFromObjectOrReply).
bool ParseNonNegative(std::string_view s, int64_t* v, CommandContext& ctx) {
  if (!ParseInt64(s, v) || *v < 0) {
    ctx.rb.Error(kNotPositive);
    return false;
  }
  return true;
}

void ZPopMinMax(CmdArgs args, CommandContext& ctx, bool max) {
  if (args.size() > 3) return ctx.rb.Error(errors::kSyntax);
  int64_t count = -1;
  if (args.size() == 3 && !ParseNonNegative(args[2], &count, ctx)) return;
  PopReply how;
  how.nested = ctx.rb.resp3() && count != -1;
  if (count == 0) {
    // Redis checks the key's type, then answers an empty array.
    const ZSetObject* z;
    if (!ReadZSet(args[1], ctx, &z)) return;
    return ctx.rb.ArrayHeader(0);
  }
  PopGeneric(ctx, args.subspan(1, 1), max, count == -1 ? 1 : static_cast<size_t>(count), how);
}

void CmdZPopMin(CmdArgs a, CommandContext& c) { ZPopMinMax(a, c, false); }
void CmdZPopMax(CmdArgs a, CommandContext& c) { ZPopMinMax(a, c, true); }

// Parses `numkeys key... MIN|MAX [COUNT count]` from args[numkeys_idx].
struct MPopArgs {
  CmdArgs keys;
  bool max = false;
  size_t count = 1;
};

bool ParseMPop(CmdArgs args, size_t numkeys_idx, MPopArgs* out, CommandContext& ctx) {
  int64_t numkeys;
  // As Redis (getRangeLongFromObjectOrReply with a message): one text for "not a number" too.
  if (!ParseInt64(args[numkeys_idx], &numkeys) || numkeys < 1) {
    ctx.rb.Error(kNumKeysPositive);
    return false;
  }
  const size_t where = numkeys_idx + 1 + static_cast<size_t>(numkeys);
  if (static_cast<uint64_t>(numkeys) >= args.size() || where >= args.size()) {
    ctx.rb.Error(errors::kSyntax);
    return false;
  }
  if (EqualsUpper(args[where], "MIN")) {
    out->max = false;
  } else if (EqualsUpper(args[where], "MAX")) {
    out->max = true;
  } else {
    ctx.rb.Error(errors::kSyntax);
    return false;
  }
  bool have_count = false;
  for (size_t j = where + 1; j < args.size(); j++) {
    if (!have_count && EqualsUpper(args[j], "COUNT") && j + 1 < args.size()) {
      int64_t c;
      if (!ParseInt64(args[++j], &c) || c < 1) {
        ctx.rb.Error(kCountPositive);
        return false;
      }
      out->count = static_cast<size_t>(c);
      have_count = true;
    } else {
      ctx.rb.Error(errors::kSyntax);
      return false;
    }
  }
  out->keys = args.subspan(numkeys_idx + 1, static_cast<size_t>(numkeys));
  return true;
}

void CmdZMPop(CmdArgs args, CommandContext& ctx) {
  MPopArgs p;
  if (!ParseMPop(args, 1, &p, ctx)) return;
  PopReply how;
  how.emit_key = true;
  how.nested = true;
  how.nil_if_none = true;
  PopGeneric(ctx, p.keys, p.max, p.count, how);
}

// --- BZPOPMIN / BZPOPMAX / BZMPOP (commands/blocking.h) -----------------------------------------

// Pops from the first non-empty zset of `keys`, or blocks until one is created or the deadline
// passes (a null array then, as Redis). A waiter is served by the same pop on the key that was
// created; a key that is empty again or of another type when the waiter gets to it leaves the
// waiter blocked, in its place.
void BlockingPop(CommandContext& ctx, CmdArgs keys, bool max, size_t count, const PopReply& how,
                 int64_t deadline_ms) {
  // As Redis: WRONGTYPE for the first existing key of another type, a pop from the first
  // existing zset; missing keys are skipped.
  switch (PopAndReply(ctx, keys, max, count, how)) {
    case PopServed::kServed:
      return;
    case PopServed::kWrongType:
      return ctx.ReplyError(OpStatus::kWrongType);
    case PopServed::kNothing:
      break;
  }
  if (!CanBlock(ctx)) return ctx.rb.NullArray();  // the timeout reply
  std::vector<std::string> names(keys.begin(), keys.end());
  auto w = NewWaiter(ctx, std::move(names), deadline_ms);
  w->serve = [max, count, how](CommandContext& c, std::string_view key) {
    // Nothing to pop here, or another type now: nothing written, the waiter keeps waiting.
    std::string_view one[] = {key};
    return PopAndReply(c, CmdArgs(one), max, count, how) == PopServed::kServed;
  };
  w->on_timeout = [](ReplyBuilder& rb) { rb.NullArray(); };
  ctx.server.blocking().Block(ctx, std::move(w));
}

// BZPOPMIN / BZPOPMAX key [key ...] timeout: replies [key, member, score].
void BZPopMinMax(CmdArgs args, CommandContext& ctx, bool max) {
  int64_t deadline_ms;
  if (!ParseBlockTimeout(args.back(), ctx, &deadline_ms)) return;
  PopReply how;
  how.emit_key = true;
  BlockingPop(ctx, args.subspan(1, args.size() - 2), max, 1, how, deadline_ms);
}

void CmdBZPopMin(CmdArgs a, CommandContext& c) { BZPopMinMax(a, c, false); }
void CmdBZPopMax(CmdArgs a, CommandContext& c) { BZPopMinMax(a, c, true); }

// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count].
void CmdBZMPop(CmdArgs args, CommandContext& ctx) {
  int64_t deadline_ms;
  if (!ParseBlockTimeout(args[1], ctx, &deadline_ms)) return;
  MPopArgs p;
  if (!ParseMPop(args, 2, &p, ctx)) return;
  PopReply how;
  how.emit_key = true;
  how.nested = true;
  BlockingPop(ctx, p.keys, p.max, p.count, how, deadline_ms);
}

// --- ZRANDMEMBER -------------------------------------------------------------------------------

uint64_t RandomU64() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return rng();
}

void CmdZRandMember(CmdArgs args, CommandContext& ctx) {
  if (args.size() == 2) {
    const ZSetObject* z;
    if (!ReadZSet(args[1], ctx, &z)) return;
    if (z == nullptr) return ctx.rb.NullBulk();
    z->Visit(RandomU64() % z->Size(), 1, false,
             [&ctx](std::string_view m, double) { ctx.rb.Bulk(m); });
    return;
  }
  int64_t count;
  if (!ParseLong(args[2], &count, ctx)) return;
  if (count == INT64_MIN) return ctx.rb.Error(kOutOfRangeLong);  // beyond -LONG_MAX
  bool withscores = false;
  if (args.size() > 4 || (args.size() == 4 && !EqualsUpper(args[3], "WITHSCORES"))) {
    return ctx.rb.Error(errors::kSyntax);
  }
  if (args.size() == 4) {
    withscores = true;
    if (count < -INT64_MAX / 2 || count > INT64_MAX / 2) return ctx.rb.Error(kOutOfRange);
  }
  const ZSetObject* z;
  if (!ReadZSet(args[1], ctx, &z)) return;
  if (z == nullptr || count == 0) return ctx.rb.ArrayHeader(0);
  const size_t size = z->Size();
  auto emit = [&](size_t rank) {
    z->Visit(rank, 1, false, [&](std::string_view m, double s) {
      if (withscores) {
        ReplyPair(ctx, m, s);
      } else {
        ctx.rb.Bulk(m);
      }
    });
  };
  if (count < 0) {  // repetitions allowed, in random order
    const size_t n = static_cast<size_t>(-count);
    PairsHeader(ctx, n, withscores);
    for (size_t i = 0; i < n; i++) emit(RandomU64() % size);
    return;
  }
  const size_t n = static_cast<size_t>(count);
  if (n >= size) {  // the whole set
    PairsHeader(ctx, size, withscores);
    if (withscores) {
      z->VisitAll([&](std::string_view m, double s) { ReplyPair(ctx, m, s); });
    } else {
      z->VisitAll([&](std::string_view m, double) { ctx.rb.Bulk(m); });
    }
    return;
  }
  // n distinct ranks: a partial shuffle when n is a large share of the set, else rejection
  // sampling; either way O(n log size) beyond the shuffle's O(size).
  std::vector<size_t> ranks;
  ranks.reserve(n);
  if (n * 3 > size) {
    std::vector<size_t> all(size);
    for (size_t i = 0; i < size; i++) all[i] = i;
    for (size_t i = 0; i < n; i++) std::swap(all[i], all[i + RandomU64() % (size - i)]);
    ranks.assign(all.begin(), all.begin() + n);
  } else {
    absl::flat_hash_set<size_t> seen;
    while (ranks.size() < n) {
      size_t r = RandomU64() % size;
      if (seen.insert(r).second) ranks.push_back(r);
    }
  }
  PairsHeader(ctx, n, withscores);
  for (size_t r : ranks) emit(r);
}

// --- ZUNION / ZINTER / ZDIFF and their STORE forms, ZINTERCARD ---------------------------------

using SetOp = ZSetOpKind;

struct SetOpArgs {
  SetOp op = SetOp::kUnion;
  std::vector<ZSource> sources;
  ZAggregate aggregate = ZAggregate::kSum;
  bool withscores = false;
  int64_t limit = 0;  // ZINTERCARD
};

// Parses `numkeys key... [WEIGHTS w...] [AGGREGATE a] [WITHSCORES] [LIMIT n]` from
// args[numkeys_idx] and looks the sources up, as Redis's zunionInterDiffGenericCommand (keys
// are looked up, and WRONGTYPE reported, before the options are parsed).
bool ParseSetOp(CmdArgs args, size_t numkeys_idx, bool store, bool card_only, SetOpArgs* out,
                CommandContext& ctx) {
  int64_t numkeys;
  if (!ParseLong(args[numkeys_idx], &numkeys, ctx)) return false;
  if (numkeys < 1) {
    ctx.rb.Error("ERR at least 1 input key is needed for '" + std::string(ctx.spec.name) +
                 "' command");
    return false;
  }
  if (static_cast<uint64_t>(numkeys) > args.size() - numkeys_idx - 1) {
    ctx.rb.Error(errors::kSyntax);
    return false;
  }
  const size_t n = static_cast<size_t>(numkeys);
  OpResult<std::vector<ZSource>> sources =
      OpZLoadSources(ctx.op(), args.subspan(numkeys_idx + 1, n));
  if (!sources.ok()) {
    ctx.ReplyError(sources.status());
    return false;
  }
  out->sources = std::move(*sources);
  size_t j = numkeys_idx + 1 + n;
  const bool diff = out->op == SetOp::kDiff;
  while (j < args.size()) {
    const size_t remaining = args.size() - j;
    std::string_view o = args[j];
    if (!diff && !card_only && remaining >= n + 1 && EqualsUpper(o, "WEIGHTS")) {
      j++;
      for (size_t i = 0; i < n; i++, j++) {
        if (!ParseScore(args[j], &out->sources[i].weight)) {
          ctx.rb.Error(kWeightNotFloat);
          return false;
        }
      }
    } else if (!diff && !card_only && remaining >= 2 && EqualsUpper(o, "AGGREGATE")) {
      std::string_view a = args[j + 1];
      if (EqualsUpper(a, "SUM")) {
        out->aggregate = ZAggregate::kSum;
      } else if (EqualsUpper(a, "MIN")) {
        out->aggregate = ZAggregate::kMin;
      } else if (EqualsUpper(a, "MAX")) {
        out->aggregate = ZAggregate::kMax;
      } else {
        ctx.rb.Error(errors::kSyntax);
        return false;
      }
      j += 2;
    } else if (!store && !card_only && EqualsUpper(o, "WITHSCORES")) {
      out->withscores = true;
      j++;
    } else if (card_only && remaining >= 2 && EqualsUpper(o, "LIMIT")) {
      if (!ParseInt64(args[j + 1], &out->limit) || out->limit < 0) {
        ctx.rb.Error(kLimitNegative);
        return false;
      }
      j += 2;
    } else {
      ctx.rb.Error(errors::kSyntax);
      return false;
    }
  }
  return true;
}

void SetOpGeneric(CmdArgs args, CommandContext& ctx, SetOp op, bool store) {
  SetOpArgs a;
  a.op = op;
  if (!ParseSetOp(args, store ? 2 : 1, store, false, &a, ctx)) return;
  std::unique_ptr<ZSetObject> out = ZComputeSetOp(a.op, a.aggregate, a.sources);
  if (!store) {
    PairsHeader(ctx, out->Size(), a.withscores);
    if (a.withscores) {
      out->VisitAll([&ctx](std::string_view m, double s) { ReplyPair(ctx, m, s); });
    } else {
      out->VisitAll([&ctx](std::string_view m, double) { ctx.rb.Bulk(m); });
    }
    return;
  }
  OpResult<ZStoreResult> r = OpZStore(ctx.op(), args[1], std::move(out));
  if (!r.ok()) return ctx.ReplyError(r.status());
  if (r->changed) ctx.Dirty();
  ctx.rb.Integer(r->size);
}

void CmdZUnion(CmdArgs a, CommandContext& c) { SetOpGeneric(a, c, SetOp::kUnion, false); }
void CmdZInter(CmdArgs a, CommandContext& c) { SetOpGeneric(a, c, SetOp::kInter, false); }
void CmdZDiff(CmdArgs a, CommandContext& c) { SetOpGeneric(a, c, SetOp::kDiff, false); }
void CmdZUnionStore(CmdArgs a, CommandContext& c) { SetOpGeneric(a, c, SetOp::kUnion, true); }
void CmdZInterStore(CmdArgs a, CommandContext& c) { SetOpGeneric(a, c, SetOp::kInter, true); }
void CmdZDiffStore(CmdArgs a, CommandContext& c) { SetOpGeneric(a, c, SetOp::kDiff, true); }

void CmdZInterCard(CmdArgs args, CommandContext& ctx) {
  SetOpArgs a;
  a.op = SetOp::kInter;
  if (!ParseSetOp(args, 1, false, true, &a, ctx)) return;
  ctx.rb.Integer(ZInterCard(a.sources, a.limit));
}

// --- ZSCAN -------------------------------------------------------------------------------------

bool ParseCursor(std::string_view s, uint64_t* out) {
  if (s.empty()) {
    *out = 0;
    return true;
  }
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    if (v > (UINT64_MAX - (c - '0')) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

// ZSCAN key cursor [MATCH pattern] [COUNT count]. A listpack zset is returned whole with cursor
// 0, as Redis. For a skiplist the cursor is Redis's reverse-binary cursor over the member index
// (ZSetObject::Scan), advanced bucket by bucket until about COUNT members were visited or
// COUNT * 10 buckets (scanGenericCommand's loop): a member present for the whole scan is
// returned at least once, whatever is added or removed between calls.
void CmdZScan(CmdArgs args, CommandContext& ctx) {
  uint64_t cursor;
  if (!ParseCursor(args[2], &cursor)) return ctx.rb.Error(errors::kInvalidCursor);
  const ZSetObject* z;
  if (!ReadZSet(args[1], ctx, &z)) return;
  if (z == nullptr) {
    ctx.rb.ArrayHeader(2);
    ctx.rb.Bulk("0");
    return ctx.rb.ArrayHeader(0);
  }
  uint64_t count = 10;
  std::string_view pattern;
  for (size_t i = 3; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) return ctx.rb.Error(errors::kSyntax);
    if (EqualsUpper(args[i], "COUNT")) {
      int64_t c;
      if (!ParseLong(args[i + 1], &c, ctx)) return;
      if (c < 1) return ctx.rb.Error(errors::kSyntax);
      count = static_cast<uint64_t>(c);
    } else if (EqualsUpper(args[i], "MATCH")) {
      pattern = args[i + 1] == "*" ? std::string_view() : args[i + 1];
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
  }
  std::vector<std::pair<std::string_view, double>> found;
  uint64_t visited = 0;
  uint64_t steps = CollectionScanMaxSteps(count);
  auto visit = [&](std::string_view m, double s) {
    visited++;
    if (pattern.empty() || GlobMatch(pattern, m)) found.emplace_back(m, s);
  };
  // As Redis, COUNT bounds the reply elements visited, and a member is two of them.
  do {
    cursor = z->Scan(cursor, visit);
  } while (cursor != 0 && --steps > 0 && visited * 2 < count);
  ctx.rb.ArrayHeader(2);
  ctx.rb.Bulk(std::to_string(cursor));
  ctx.rb.ArrayHeader(found.size() * 2);
  for (const auto& [m, s] : found) {
    ctx.rb.Bulk(m);
    ctx.rb.Bulk(FormatDouble(s));  // a string, not a double, in RESP3 too (as Redis)
  }
}

// --- Key positions of numkeys commands ---------------------------------------------------------

void KeysAt1(CmdArgs args, std::vector<size_t>* out) {
  CommandRegistry::NumKeysAt(args, 1, 0, out);
}
void KeysAt2(CmdArgs args, std::vector<size_t>* out) {
  CommandRegistry::NumKeysAt(args, 2, 0, out);
}
void KeysAt2Dst1(CmdArgs args, std::vector<size_t>* out) {
  CommandRegistry::NumKeysAt(args, 2, 1, out);
}

}  // namespace

// One row per command: name, arity, flags, first/last/step key positions, handler, group,
// summary, since. Arity, flags and key positions are Redis 7's.
void RegisterZSetFamily(CommandRegistry& r) {
  using namespace cmdflags;
  constexpr const char* g = "sorted-set";
  // clang-format off
  r.Register({"zadd", -4, kWrite | kDenyOom | kFast, 1, 1, 1, CmdZAdd, g,
              "Adds one or more members to a sorted set, or updates their scores. Creates the "
              "key if it doesn't exist.", "1.2.0"});
  r.Register({"zincrby", 4, kWrite | kDenyOom | kFast, 1, 1, 1, CmdZIncrBy, g,
              "Increments the score of a member in a sorted set.", "1.2.0"});
  r.Register({"zrem", -3, kWrite | kFast, 1, 1, 1, CmdZRem, g,
              "Removes one or more members from a sorted set. Deletes the sorted set if all "
              "members were removed.", "1.2.0"});
  r.Register({"zcard", 2, kReadOnly | kFast, 1, 1, 1, CmdZCard, g,
              "Returns the number of members in a sorted set.", "1.2.0"});
  r.Register({"zscore", 3, kReadOnly | kFast, 1, 1, 1, CmdZScore, g,
              "Returns the score of a member in a sorted set.", "1.2.0"});
  r.Register({"zmscore", -3, kReadOnly | kFast, 1, 1, 1, CmdZMScore, g,
              "Returns the score of one or more members in a sorted set.", "6.2.0"});
  r.Register({"zrank", -3, kReadOnly | kFast, 1, 1, 1, CmdZRank, g,
              "Returns the index of a member in a sorted set ordered by ascending scores.",
              "2.0.0"});
  r.Register({"zrevrank", -3, kReadOnly | kFast, 1, 1, 1, CmdZRevRank, g,
              "Returns the index of a member in a sorted set ordered by descending scores.",
              "2.0.0"});
  r.Register({"zcount", 4, kReadOnly | kFast, 1, 1, 1, CmdZCount, g,
              "Returns the count of members in a sorted set that have scores within a range.",
              "2.0.0"});
  r.Register({"zlexcount", 4, kReadOnly | kFast, 1, 1, 1, CmdZLexCount, g,
              "Returns the number of members in a sorted set within a lexicographical range.",
              "2.8.9"});
  r.Register({"zrange", -4, kReadOnly, 1, 1, 1, CmdZRange, g,
              "Returns members in a sorted set within a range of indexes.", "1.2.0"});
  r.Register({"zrangestore", -5, kWrite | kDenyOom, 1, 2, 1, CmdZRangeStore, g,
              "Stores a range of members from sorted set in a key.", "6.2.0"});
  r.Register({"zrevrange", -4, kReadOnly, 1, 1, 1, CmdZRevRange, g,
              "Returns members in a sorted set within a range of indexes in reverse order.",
              "1.2.0"});
  r.Register({"zrangebyscore", -4, kReadOnly, 1, 1, 1, CmdZRangeByScore, g,
              "Returns members in a sorted set within a range of scores.", "1.0.5"});
  r.Register({"zrevrangebyscore", -4, kReadOnly, 1, 1, 1, CmdZRevRangeByScore, g,
              "Returns members in a sorted set within a range of scores in reverse order.",
              "2.2.0"});
  r.Register({"zrangebylex", -4, kReadOnly, 1, 1, 1, CmdZRangeByLex, g,
              "Returns members in a sorted set within a lexicographical range.", "2.8.9"});
  r.Register({"zrevrangebylex", -4, kReadOnly, 1, 1, 1, CmdZRevRangeByLex, g,
              "Returns members in a sorted set within a lexicographical range in reverse order.",
              "2.8.9"});
  r.Register({"zremrangebyrank", 4, kWrite, 1, 1, 1, CmdZRemRangeByRank, g,
              "Removes members in a sorted set within a range of indexes. Deletes the sorted "
              "set if all members were removed.", "2.0.0"});
  r.Register({"zremrangebyscore", 4, kWrite, 1, 1, 1, CmdZRemRangeByScore, g,
              "Removes members in a sorted set within a range of scores. Deletes the sorted set "
              "if all members were removed.", "1.2.0"});
  r.Register({"zremrangebylex", 4, kWrite, 1, 1, 1, CmdZRemRangeByLex, g,
              "Removes members in a sorted set within a lexicographical range. Deletes the "
              "sorted set if all members were removed.", "2.8.9"});
  r.Register({"zpopmin", -2, kWrite | kFast, 1, 1, 1, CmdZPopMin, g,
              "Returns the lowest-scoring members from a sorted set after removing them. "
              "Deletes the sorted set if the last member was popped.", "5.0.0"});
  r.Register({"zpopmax", -2, kWrite | kFast, 1, 1, 1, CmdZPopMax, g,
              "Returns the highest-scoring members from a sorted set after removing them. "
              "Deletes the sorted set if the last member was popped.", "5.0.0"});
  r.Register({"zmpop", -4, kWrite, 2, 2, 1, CmdZMPop, g,
              "Returns the highest- or lowest-scoring members from one or more sorted sets "
              "after removing them. Deletes the sorted set if the last member was popped.",
              "7.0.0", -1, KeysAt1});
  r.Register({"bzpopmin", -3, kWrite | kFast | kBlocking, 1, -2, 1, CmdBZPopMin, g,
              "Removes and returns the member with the lowest score from one or more sorted "
              "sets. Blocks until a member is available otherwise. Deletes the sorted set if "
              "the last element was popped.", "5.0.0"});
  r.Register({"bzpopmax", -3, kWrite | kFast | kBlocking, 1, -2, 1, CmdBZPopMax, g,
              "Removes and returns the member with the highest score from one or more sorted "
              "sets. Blocks until a member available otherwise.  Deletes the sorted set if the "
              "last element was popped.", "5.0.0"});
  r.Register({"bzmpop", -5, kWrite | kBlocking, 3, 3, 1, CmdBZMPop, g,
              "Removes and returns a member by score from one or more sorted sets. Blocks until "
              "a member is available otherwise. Deletes the sorted set if the last element was "
              "popped.", "7.0.0", -1, KeysAt2});
  r.Register({"zrandmember", -2, kReadOnly, 1, 1, 1, CmdZRandMember, g,
              "Returns one or more random members from a sorted set.", "6.2.0"});
  r.Register({"zunion", -3, kReadOnly, 2, 2, 1, CmdZUnion, g,
              "Returns the union of multiple sorted sets.", "6.2.0", -1, KeysAt1});
  r.Register({"zinter", -3, kReadOnly, 2, 2, 1, CmdZInter, g,
              "Returns the intersect of multiple sorted sets.", "6.2.0", -1, KeysAt1});
  r.Register({"zdiff", -3, kReadOnly, 2, 2, 1, CmdZDiff, g,
              "Returns the difference between multiple sorted sets.", "6.2.0", -1, KeysAt1});
  r.Register({"zunionstore", -4, kWrite | kDenyOom, 1, 1, 1, CmdZUnionStore, g,
              "Stores the union of multiple sorted sets in a key.", "2.0.0", -1, KeysAt2Dst1});
  r.Register({"zinterstore", -4, kWrite | kDenyOom, 1, 1, 1, CmdZInterStore, g,
              "Stores the intersect of multiple sorted sets in a key.", "2.0.0", -1,
              KeysAt2Dst1});
  r.Register({"zdiffstore", -4, kWrite | kDenyOom, 1, 1, 1, CmdZDiffStore, g,
              "Stores the difference of multiple sorted sets in a key.", "6.2.0", -1,
              KeysAt2Dst1});
  r.Register({"zintercard", -3, kReadOnly, 2, 2, 1, CmdZInterCard, g,
              "Returns the number of members of the intersect of multiple sorted sets.",
              "7.0.0", -1, KeysAt1});
  r.Register({"zscan", -3, kReadOnly, 1, 1, 1, CmdZScan, g,
              "Iterates over members and scores of a sorted set.", "2.8.0"});
  // clang-format on
}

}  // namespace fdb
