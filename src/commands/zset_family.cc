// Sorted sets: ZADD, ZRANGE and the rest of Redis's SORTED SET group, with Redis 7 replies and
// error texts.
//
// Model: a zset value is a ZSetObject (engine/zset_object.h). Handlers parse every argument
// before touching the keyspace (an invalid call creates nothing), change the object, and record
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

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "base/glob.h"
#include "commands/blocking.h"
#include "commands/collection_util.h"
#include "commands/context.h"
#include "commands/errors.h"
#include "engine/set_object.h"
#include "engine/zset_object.h"

namespace fdb {

namespace {

// Error texts only the sorted-set commands send (Redis's, to the letter).
constexpr const char* kXxAndNx = "ERR XX and NX options at the same time are not compatible";
constexpr const char* kGtLtNx = "ERR GT, LT, and/or NX options at the same time are not compatible";
constexpr const char* kIncrPair = "ERR INCR option supports a single increment-element pair";
constexpr const char* kNanScore = "ERR resulting score is not a number (NaN)";
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
constexpr const char* kWeightNotFloat = "ERR weight value is not a float";
constexpr const char* kLimitNegative = "ERR LIMIT can't be negative";

ZSetObject* ZSetOf(Entry* e) { return static_cast<ZSetObject*>(e->object()); }

// The delta being built by a command, in a per-thread buffer (no allocation per ZADD).
std::string& Scratch() {
  thread_local std::string s;
  s.clear();
  return s;
}

// Prefixes `body` (entries only) with the delta's op and count.
void FinishDelta(char op, size_t n, std::string_view body, std::string* out) {
  out->clear();
  if (op == 'S') {
    ZSetObject::BeginSetDelta(out, n);
  } else {
    ZSetObject::BeginRemoveDelta(out, n);
  }
  out->append(body);
}

// Removes `members` (all present) from k's zset, logging one 'R' delta or the delete.
void RemoveAndLog(CommandContext& ctx, const KeyRef& k, Entry* e,
                  const std::vector<std::string>& members) {
  ZSetObject* z = ZSetOf(e);
  std::string& d = Scratch();
  ZSetObject::BeginRemoveDelta(&d, members.size());
  for (const std::string& m : members) {
    z->Remove(m);
    ZSetObject::AddRemoveDelta(&d, m);
  }
  DeltaOrDeleteIfEmpty(ctx, k, e, d);
  ctx.Dirty(members.size());
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

  KeyRef k(args[1]);
  bool wrongtype;
  Entry* e = FindCollection(ctx, k, ValueType::kZSet, &wrongtype, /*for_read=*/false);
  if (wrongtype) return;
  if (e == nullptr && xx) {  // nothing to update, and nothing is created
    if (incr) return ctx.rb.NullBulk();
    return ctx.rb.Integer(0);
  }
  if (e == nullptr) e = FindOrCreateCollection(ctx, k, ValueType::kZSet, &wrongtype);
  ZSetObject* z = ZSetOf(e);

  std::string& body = Scratch();
  size_t logged = 0, added = 0, updated = 0, processed = 0;
  double result = 0;
  bool nan = false;
  const bool plain = !(flags & (kNX | kXX | kGT | kLT | kIncr));
  for (size_t j = 0; j < n; j++) {
    std::string_view m = args[idx + 2 * j + 1];
    double score = scores[j];
    if (plain) {
      // No condition on the current score: set first, with one lookup of the member.
      std::optional<double> previous;
      if (z->Set(m, score, &previous)) {
        added++;
      } else if (*previous != score) {
        updated++;
      } else {
        continue;
      }
      ZSetObject::AddSetDelta(&body, m, score);
      logged++;
      processed++;
      result = score;
      continue;
    }
    std::optional<double> cur = z->Score(m);
    if (cur.has_value()) {
      if (nx) continue;
      if (incr) {
        score += *cur;
        if (std::isnan(score)) {
          nan = true;
          break;
        }
      }
      if ((lt && score >= *cur) || (gt && score <= *cur)) continue;
      processed++;
      result = score;
      if (score != *cur) {
        z->Set(m, score);
        ZSetObject::AddSetDelta(&body, m, score);
        logged++;
        updated++;
      }
    } else {
      if (xx) continue;
      z->Set(m, score);
      ZSetObject::AddSetDelta(&body, m, score);
      logged++;
      added++;
      processed++;
      result = score;
    }
  }
  if (logged > 0) {
    std::string delta;
    FinishDelta('S', logged, body, &delta);
    ctx.ks.Delta(ctx.txn, ctx.db, k, e, delta);
    ctx.Dirty(logged);
  } else if (z->Size() == 0) {
    // Created for nothing (every pair skipped): an empty zset must not stay behind.
    ctx.ks.Delete(ctx.txn, ctx.db, k, ctx.now_ms);
  }
  if (nan) return ctx.rb.Error(kNanScore);
  if (incr) {
    if (processed == 0) return ctx.rb.NullBulk();
    return ctx.rb.Double(result);
  }
  ctx.rb.Integer(static_cast<int64_t>((flags & kCH) ? added + updated : added));
}

void CmdZAdd(CmdArgs args, CommandContext& ctx) { ZAddGeneric(args, ctx, 0); }
void CmdZIncrBy(CmdArgs args, CommandContext& ctx) { ZAddGeneric(args, ctx, zadd::kIncr); }

// --- Single-member reads and ZREM --------------------------------------------------------------

void CmdZRem(CmdArgs args, CommandContext& ctx) {
  KeyRef k(args[1]);
  bool wrongtype;
  Entry* e = FindCollection(ctx, k, ValueType::kZSet, &wrongtype, /*for_read=*/false);
  if (wrongtype) return;
  if (e == nullptr) return ctx.rb.Integer(0);
  ZSetObject* z = ZSetOf(e);
  std::string& body = Scratch();
  size_t removed = 0;
  for (size_t i = 2; i < args.size(); i++) {
    if (z->Remove(args[i])) {
      ZSetObject::AddRemoveDelta(&body, args[i]);
      removed++;
    }
  }
  if (removed > 0) {
    std::string delta;
    FinishDelta('R', removed, body, &delta);
    DeltaOrDeleteIfEmpty(ctx, k, e, delta);
    ctx.Dirty(removed);
  }
  ctx.rb.Integer(static_cast<int64_t>(removed));
}

// The zset at args[1] for a read; nullptr when missing (or after replying WRONGTYPE).
ZSetObject* ReadZSet(CmdArgs args, CommandContext& ctx, bool* wrongtype) {
  Entry* e = FindCollection(ctx, KeyRef(args[1]), ValueType::kZSet, wrongtype);
  return e == nullptr ? nullptr : ZSetOf(e);
}

void CmdZCard(CmdArgs args, CommandContext& ctx) {
  bool wt;
  ZSetObject* z = ReadZSet(args, ctx, &wt);
  if (wt) return;
  ctx.rb.Integer(z == nullptr ? 0 : static_cast<int64_t>(z->Size()));
}

void CmdZScore(CmdArgs args, CommandContext& ctx) {
  bool wt;
  ZSetObject* z = ReadZSet(args, ctx, &wt);
  if (wt) return;
  std::optional<double> s = z == nullptr ? std::nullopt : z->Score(args[2]);
  if (!s.has_value()) return ctx.rb.NullBulk();
  ctx.rb.Double(*s);
}

void CmdZMScore(CmdArgs args, CommandContext& ctx) {
  bool wt;
  ZSetObject* z = ReadZSet(args, ctx, &wt);
  if (wt) return;
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
  bool wt;
  ZSetObject* z = ReadZSet(args, ctx, &wt);
  if (wt) return;
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
  bool wt;
  ZSetObject* z = ReadZSet(args, ctx, &wt);
  if (wt) return;
  if (z == nullptr) return ctx.rb.Integer(0);
  size_t lo = z->CountBelowMin(r), hi = z->CountUpToMax(r);
  ctx.rb.Integer(hi > lo ? static_cast<int64_t>(hi - lo) : 0);
}

void CmdZLexCount(CmdArgs args, CommandContext& ctx) {
  ZLexRange r;
  if (!ParseLexRange(args[2], args[3], &r)) return ctx.rb.Error(kMinMaxNotLex);
  bool wt;
  ZSetObject* z = ReadZSet(args, ctx, &wt);
  if (wt) return;
  if (z == nullptr) return ctx.rb.Integer(0);
  size_t lo = z->CountBelowMin(r), hi = z->CountUpToMax(r);
  ctx.rb.Integer(hi > lo ? static_cast<int64_t>(hi - lo) : 0);
}

// --- ZRANGE and its variants -------------------------------------------------------------------

enum class RangeBy { kAuto, kRank, kScore, kLex };
enum class Direction { kAuto, kForward, kReverse };

// A parsed range request, reduced to ranks once the zset is known.
struct RangeSpec {
  RangeBy by = RangeBy::kAuto;
  Direction dir = Direction::kAuto;
  bool withscores = false;
  int64_t offset = 0, limit = -1;  // LIMIT; limit < 0: no limit
  int64_t start = 0, end = 0;      // by rank
  ZScoreRange score;
  ZLexRange lex;
};

// The ranks a range selects: `count` members from ascending rank `first`, ascending or (with
// `reverse`) descending.
struct RankWindow {
  size_t first = 0, count = 0;
  bool reverse = false;
};

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

// Normalizes a rank range [start, end] (negative counts from the end) over n members, as
// Redis; false when it is empty.
bool ClampRanks(int64_t start, int64_t end, size_t n, size_t* first, size_t* last) {
  const int64_t len = static_cast<int64_t>(n);
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return false;
  if (end >= len) end = len - 1;
  *first = static_cast<size_t>(start);
  *last = static_cast<size_t>(end);
  return true;
}

RankWindow Window(const ZSetObject& z, const RangeSpec& s) {
  RankWindow w;
  w.reverse = s.dir == Direction::kReverse;
  const size_t n = z.Size();
  if (s.by == RangeBy::kRank) {
    size_t a, b;
    if (!ClampRanks(s.start, s.end, n, &a, &b)) return w;
    w.count = b - a + 1;
    w.first = w.reverse ? n - 1 - a : a;  // reverse ranks count from the top
    return w;
  }
  size_t lo, hi;
  if (s.by == RangeBy::kScore) {
    lo = z.CountBelowMin(s.score);
    hi = z.CountUpToMax(s.score);
  } else {
    lo = z.CountBelowMin(s.lex);
    hi = z.CountUpToMax(s.lex);
  }
  if (hi <= lo || s.offset < 0) return w;  // a negative offset selects nothing, as Redis
  size_t avail = hi - lo;
  if (static_cast<uint64_t>(s.offset) >= avail) return w;
  avail -= static_cast<size_t>(s.offset);
  w.count = s.limit < 0 ? avail : std::min(avail, static_cast<size_t>(s.limit));
  w.first = w.reverse ? hi - 1 - static_cast<size_t>(s.offset) : lo + static_cast<size_t>(s.offset);
  return w;
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
  bool wt;
  Entry* e = FindCollection(ctx, KeyRef(args[key_idx]), ValueType::kZSet, &wt);
  if (wt) return;
  if (!store) {
    if (e == nullptr) return ctx.rb.ArrayHeader(0);
    const ZSetObject* z = ZSetOf(e);
    return ReplyWindow(ctx, z, Window(*z, s), s.withscores);
  }
  KeyRef dst(args[1]);
  auto* out = new ZSetObject();
  if (e != nullptr) {
    const ZSetObject* z = ZSetOf(e);
    RankWindow w = Window(*z, s);
    if (w.count > ZSetObject::kPackedEntriesMax) out->ConvertToSkiplist();
    z->Visit(w.first, w.count, w.reverse,
             [out](std::string_view m, double sc) { out->Set(m, sc); });
  }
  const size_t n = out->Size();
  if (n == 0) {
    delete out;
    if (ctx.ks.Delete(ctx.txn, ctx.db, dst, ctx.now_ms)) ctx.Dirty();
  } else {
    ctx.ks.Put(ctx.txn, ctx.db, dst, Entry::NewObject(dst.key, out));
    ctx.Dirty();
  }
  ctx.rb.Integer(static_cast<int64_t>(n));
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
  KeyRef k(args[1]);
  bool wt;
  Entry* e = FindCollection(ctx, k, ValueType::kZSet, &wt, /*for_read=*/false);
  if (wt) return;
  if (e == nullptr) return ctx.rb.Integer(0);
  RankWindow w = Window(*ZSetOf(e), s);
  if (w.count == 0) return ctx.rb.Integer(0);
  std::vector<std::string> members;
  members.reserve(w.count);
  ZSetOf(e)->Visit(w.first, w.count, false,
                   [&members](std::string_view m, double) { members.emplace_back(m); });
  RemoveAndLog(ctx, k, e, members);
  ctx.rb.Integer(static_cast<int64_t>(members.size()));
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

// Pops up to `count` members (lowest first unless `max`) from the first non-empty zset among
// keys. Replies WRONGTYPE for the first existing key of another type before popping anything.
// Returns true when something was popped.
bool PopGeneric(CommandContext& ctx, CmdArgs keys, bool max, size_t count, const PopReply& how) {
  Entry* e = nullptr;
  size_t which = 0;
  for (; which < keys.size(); which++) {
    bool wt;
    e = FindCollection(ctx, KeyRef(keys[which]), ValueType::kZSet, &wt, /*for_read=*/false);
    if (wt) return false;
    if (e != nullptr) break;
  }
  if (e == nullptr) {
    if (how.nil_if_none) {
      ctx.rb.NullArray();
    } else {
      ctx.rb.ArrayHeader(0);
    }
    return false;
  }
  KeyRef k(keys[which]);
  ZSetObject* z = ZSetOf(e);
  const size_t n = std::min(count, z->Size());
  if (!how.nested && !how.emit_key) {
    ctx.rb.ArrayHeader(n * 2);
  } else if (how.nested && !how.emit_key) {
    ctx.rb.ArrayHeader(n);
  } else if (!how.nested && how.emit_key) {
    ctx.rb.ArrayHeader(n * 2 + 1);
    ctx.rb.Bulk(k.key);
  } else {
    ctx.rb.ArrayHeader(2);
    ctx.rb.Bulk(k.key);
    ctx.rb.ArrayHeader(n);
  }
  std::vector<std::string> members;
  members.reserve(n);
  z->Visit(max ? z->Size() - 1 : 0, n, max, [&](std::string_view m, double s) {
    if (how.nested) ctx.rb.ArrayHeader(2);
    ctx.rb.Bulk(m);
    ctx.rb.Double(s);
    members.emplace_back(m);
  });
  RemoveAndLog(ctx, k, e, members);
  return true;
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
    // Redis answers an empty array without looking at the key (not even its type).
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
  if (!ParseLong(args[numkeys_idx], &numkeys, ctx)) return false;
  if (numkeys < 1) {
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
      if (!ParseLong(args[++j], &c, ctx)) return false;
      if (c < 1) {
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
  std::string& out = *ctx.rb.buffer();
  const size_t mark = out.size();
  PopReply now = how;
  now.nil_if_none = true;
  if (PopGeneric(ctx, keys, max, count, now)) return;
  if (out.size() > mark && out[mark] == '-') return;  // WRONGTYPE
  if (!CanBlock(ctx)) return;                         // the null array is the timeout reply
  out.resize(mark);
  std::vector<std::string> names(keys.begin(), keys.end());
  auto w = NewWaiter(ctx, std::move(names), deadline_ms);
  w->serve = [max, count, how](CommandContext& c, std::string_view key) {
    std::string& buf = *c.rb.buffer();
    const size_t before = buf.size();
    std::string_view one[] = {key};
    if (PopGeneric(c, CmdArgs(one), max, count, how)) return true;
    buf.resize(before);  // nothing to pop here (or another type now): keep waiting
    return false;
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
    bool wt;
    ZSetObject* z = ReadZSet(args, ctx, &wt);
    if (wt) return;
    if (z == nullptr) return ctx.rb.NullBulk();
    z->Visit(RandomU64() % z->Size(), 1, false,
             [&ctx](std::string_view m, double) { ctx.rb.Bulk(m); });
    return;
  }
  int64_t count;
  if (!ParseLong(args[2], &count, ctx)) return;
  if (count == INT64_MIN) return ctx.rb.Error(errors::kNotInteger);  // beyond -LONG_MAX
  bool withscores = false;
  if (args.size() > 4 || (args.size() == 4 && !EqualsUpper(args[3], "WITHSCORES"))) {
    return ctx.rb.Error(errors::kSyntax);
  }
  if (args.size() == 4) {
    withscores = true;
    if (count < -INT64_MAX / 2 || count > INT64_MAX / 2) return ctx.rb.Error(kOutOfRange);
  }
  bool wt;
  ZSetObject* z = ReadZSet(args, ctx, &wt);
  if (wt) return;
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

enum class SetOp { kUnion, kInter, kDiff };
enum class Aggregate { kSum, kMin, kMax };

// One input of a set operation: a zset, a plain set (every score 1), or a missing key.
struct OpSource {
  const ZSetObject* zset = nullptr;
  const SetObject* set = nullptr;
  double weight = 1;
  size_t Size() const { return zset ? zset->Size() : set ? set->Size() : 0; }
};

void VisitSource(const OpSource& s, absl::FunctionRef<void(std::string_view, double)> fn) {
  if (s.zset != nullptr) return s.zset->VisitAll(fn);
  if (s.set != nullptr) s.set->ForEach([&fn](std::string_view m) { fn(m, 1.0); });
}

std::optional<double> SourceScore(const OpSource& s, std::string_view m) {
  if (s.zset != nullptr) return s.zset->Score(m);
  if (s.set != nullptr && s.set->Contains(m)) return 1.0;
  return std::nullopt;
}

void AggregateInto(double* target, double v, Aggregate a) {
  switch (a) {
    case Aggregate::kSum:
      *target += v;
      if (std::isnan(*target)) *target = 0;  // inf + -inf, as Redis
      break;
    case Aggregate::kMin:
      *target = std::min(*target, v);
      break;
    case Aggregate::kMax:
      *target = std::max(*target, v);
      break;
  }
}

double Weighted(double score, double weight) {
  double v = score * weight;
  return std::isnan(v) ? 0 : v;  // 0 * inf, as Redis
}

struct SetOpArgs {
  SetOp op = SetOp::kUnion;
  std::vector<OpSource> sources;
  Aggregate aggregate = Aggregate::kSum;
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
  out->sources.resize(n);
  size_t j = numkeys_idx + 1;
  for (size_t i = 0; i < n; i++, j++) {
    Entry* e = ctx.ks.FindForRead(ctx.txn, ctx.db, KeyRef(args[j]), ctx.now_ms, ctx.touch());
    if (e == nullptr) continue;
    if (e->type() == ValueType::kZSet) {
      out->sources[i].zset = ZSetOf(e);
    } else if (e->type() == ValueType::kSet) {
      out->sources[i].set = static_cast<const SetObject*>(e->object());
    } else {
      ctx.rb.Error(errors::kWrongType);
      return false;
    }
  }
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
        out->aggregate = Aggregate::kSum;
      } else if (EqualsUpper(a, "MIN")) {
        out->aggregate = Aggregate::kMin;
      } else if (EqualsUpper(a, "MAX")) {
        out->aggregate = Aggregate::kMax;
      } else {
        ctx.rb.Error(errors::kSyntax);
        return false;
      }
      j += 2;
    } else if (!store && !card_only && EqualsUpper(o, "WITHSCORES")) {
      out->withscores = true;
      j++;
    } else if (card_only && remaining >= 2 && EqualsUpper(o, "LIMIT")) {
      if (!ParseLong(args[j + 1], &out->limit, ctx)) return false;
      if (out->limit < 0) {
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

// Computes the operation into a new zset. Union and intersection visit the sources from the
// smallest, as Redis, so sums are added in Redis's order.
ZSetObject* ComputeSetOp(SetOpArgs& a) {
  auto* out = new ZSetObject();
  std::vector<OpSource>& src = a.sources;
  if (a.op == SetOp::kDiff) {
    if (src[0].Size() == 0) return out;
    VisitSource(src[0], [&](std::string_view m, double s) {
      for (size_t i = 1; i < src.size(); i++) {
        if (SourceScore(src[i], m).has_value()) return;
      }
      if (out->Size() == ZSetObject::kPackedEntriesMax) out->ConvertToSkiplist();
      out->Set(m, s);
    });
    return out;
  }
  std::stable_sort(src.begin(), src.end(),
                   [](const OpSource& x, const OpSource& y) { return x.Size() < y.Size(); });
  if (a.op == SetOp::kInter) {
    if (src[0].Size() == 0) return out;
    VisitSource(src[0], [&](std::string_view m, double s) {
      double acc = Weighted(s, src[0].weight);
      for (size_t i = 1; i < src.size(); i++) {
        std::optional<double> o = SourceScore(src[i], m);
        if (!o.has_value()) return;
        AggregateInto(&acc, Weighted(*o, src[i].weight), a.aggregate);
      }
      if (out->Size() == ZSetObject::kPackedEntriesMax) out->ConvertToSkiplist();
      out->Set(m, acc);
    });
    return out;
  }
  absl::flat_hash_map<std::string, double> acc;
  for (const OpSource& s : src) {
    VisitSource(s, [&](std::string_view m, double sc) {
      double v = Weighted(sc, s.weight);
      auto [it, fresh] = acc.try_emplace(std::string(m), v);
      if (!fresh) AggregateInto(&it->second, v, a.aggregate);
    });
  }
  if (acc.size() > ZSetObject::kPackedEntriesMax) out->ConvertToSkiplist();
  for (const auto& [m, s] : acc) out->Set(m, s);
  return out;
}

void SetOpGeneric(CmdArgs args, CommandContext& ctx, SetOp op, bool store) {
  SetOpArgs a;
  a.op = op;
  if (!ParseSetOp(args, store ? 2 : 1, store, false, &a, ctx)) return;
  ZSetObject* out = ComputeSetOp(a);
  if (!store) {
    PairsHeader(ctx, out->Size(), a.withscores);
    if (a.withscores) {
      out->VisitAll([&ctx](std::string_view m, double s) { ReplyPair(ctx, m, s); });
    } else {
      out->VisitAll([&ctx](std::string_view m, double) { ctx.rb.Bulk(m); });
    }
    delete out;
    return;
  }
  KeyRef dst(args[1]);
  const size_t n = out->Size();
  if (n == 0) {
    delete out;
    if (ctx.ks.Delete(ctx.txn, ctx.db, dst, ctx.now_ms)) ctx.Dirty();
  } else {
    // A big set that shrank below the listpack limits is stored compactly, as Redis's
    // zsetConvertToListpackIfNeeded.
    ctx.ks.Put(ctx.txn, ctx.db, dst, Entry::NewObject(dst.key, out));
    ctx.Dirty();
  }
  ctx.rb.Integer(static_cast<int64_t>(n));
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
  std::vector<OpSource>& src = a.sources;
  std::stable_sort(src.begin(), src.end(),
                   [](const OpSource& x, const OpSource& y) { return x.Size() < y.Size(); });
  int64_t n = 0;
  if (src[0].Size() > 0) {
    // Visits the smallest source to the end even after LIMIT is reached (a visit cannot be
    // stopped early); the checks against the other sources stop.
    VisitSource(src[0], [&](std::string_view m, double) {
      if (a.limit > 0 && n >= a.limit) return;
      for (size_t i = 1; i < src.size(); i++) {
        if (!SourceScore(src[i], m).has_value()) return;
      }
      n++;
    });
  }
  ctx.rb.Integer(n);
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
// 0, as Redis. For a skiplist the cursor is a rank: each call returns about COUNT members from
// that rank on. Unlike Redis's hash-table cursor, a member removed from below the cursor
// between calls shifts later members down one rank, so one of them can be missed
// (docs/compatibility.md).
void CmdZScan(CmdArgs args, CommandContext& ctx) {
  uint64_t cursor;
  if (!ParseCursor(args[2], &cursor)) return ctx.rb.Error(errors::kInvalidCursor);
  bool wt;
  ZSetObject* z = ReadZSet(args, ctx, &wt);
  if (wt) return;
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
  size_t first = 0, n = z->Size();
  uint64_t next = 0;
  if (!z->packed()) {
    first = cursor < z->Size() ? static_cast<size_t>(cursor) : z->Size();
    n = std::min<uint64_t>(count, z->Size() - first);
    next = first + n >= z->Size() ? 0 : first + n;
  }
  std::vector<std::pair<std::string, double>> found;
  z->Visit(first, n, false, [&](std::string_view m, double s) {
    if (pattern.empty() || GlobMatch(pattern, m)) found.emplace_back(std::string(m), s);
  });
  ctx.rb.ArrayHeader(2);
  ctx.rb.Bulk(std::to_string(next));
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
