// Lists: LPUSH, LPOP, LRANGE and the rest of Redis's LIST group, including the blocking pops,
// with Redis 7 replies and error texts.
//
// Model: a list is a ListObject (engine/list_object.h). Handlers parse their arguments, change
// the object, and record the change with Keyspace::Delta in the list's delta encoding (effects:
// a pop logs how many elements left which end, LSET/LINSERT log the resolved index, LTRIM the
// range kept), or delete the key when its last element goes (DeltaOrDeleteIfEmpty).
//
// Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) first try their non-blocking
// form; when every key is empty they register a waiter (commands/blocking.h) whose serve
// callback is that same non-blocking form, run for the ready key when a push creates it.
//
// Entry pointers: a lookup may read an evicted value back and evict another clean value of
// the same shard, so a command that looks up two keys (LMOVE) looks the source up again after
// the destination, and changes it before touching the destination.
#include <algorithm>
#include <climits>

#include "commands/blocking.h"
#include "commands/collection_util.h"
#include "commands/context.h"
#include "commands/errors.h"
#include "engine/list_object.h"

namespace fdb {

namespace {

constexpr const char* kMustBePositive = "ERR value is out of range, must be positive";
constexpr const char* kIndexOutOfRange = "ERR index out of range";
constexpr const char* kRankZero =
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use "
    "negative to start from the end of the list";
constexpr const char* kRankRange =
    "ERR value is out of range, value must between -9223372036854775807 and "
    "9223372036854775807";
constexpr const char* kCountNegative = "ERR COUNT can't be negative";
constexpr const char* kMaxlenNegative = "ERR MAXLEN can't be negative";
constexpr const char* kNumkeysPositive = "ERR numkeys should be greater than 0";
constexpr const char* kCountPositive = "ERR count should be greater than 0";

ListObject* ListOf(Entry* e) { return static_cast<ListObject*>(e->object()); }

bool ParseLong(std::string_view s, CommandContext& ctx, int64_t* out,
               const char* err = errors::kNotInteger) {
  if (!ParseInt64(s, out)) {
    ctx.rb.Error(err);
    return false;
  }
  return true;
}

// LEFT / RIGHT (true for LEFT); syntax error otherwise.
bool ParseWhere(std::string_view s, CommandContext& ctx, bool* left) {
  if (EqualsUpper(s, "LEFT")) {
    *left = true;
  } else if (EqualsUpper(s, "RIGHT")) {
    *left = false;
  } else {
    ctx.rb.Error(errors::kSyntax);
    return false;
  }
  return true;
}

void ReplyElem(ReplyBuilder& rb, const ListObject::Elem& e) {
  char buf[24];
  rb.Bulk(e.View(buf));
}

// Removes n elements from one end of k's list (already replied), logging the pop or the
// deletion of the emptied key.
void DropEnd(CommandContext& ctx, const KeyRef& k, Entry* e, bool front, size_t n) {
  ListObject* l = ListOf(e);
  if (front) {
    l->Trim(n, l->Size() - n);
  } else {
    l->Trim(0, l->Size() - n);
  }
  std::string delta;
  ListObject::DeltaPop(&delta, front, n);
  DeltaOrDeleteIfEmpty(ctx, k, e, delta);
  ctx.Dirty(n);
}

// --- Pushes ---

void PushGeneric(CmdArgs args, CommandContext& ctx, bool front, bool only_existing) {
  KeyRef k(args[1]);
  bool wrongtype;
  Entry* e = only_existing ? FindCollection(ctx, k, ValueType::kList, &wrongtype, false)
                           : FindOrCreateCollection(ctx, k, ValueType::kList, &wrongtype);
  if (wrongtype) return;
  if (e == nullptr) {
    ctx.rb.Integer(0);
    return;
  }
  ListObject* l = ListOf(e);
  CmdArgs vals = args.subspan(2);
  for (std::string_view v : vals) front ? l->PushFront(v) : l->PushBack(v);
  size_t len = l->Size();
  std::string delta;
  ListObject::DeltaPush(&delta, front, vals);
  ctx.ks.Delta(ctx.txn, ctx.db, k, e, delta);
  ctx.Dirty(vals.size());
  ctx.rb.Integer(static_cast<int64_t>(len));
}

void CmdLPush(CmdArgs args, CommandContext& ctx) { PushGeneric(args, ctx, true, false); }
void CmdRPush(CmdArgs args, CommandContext& ctx) { PushGeneric(args, ctx, false, false); }
void CmdLPushX(CmdArgs args, CommandContext& ctx) { PushGeneric(args, ctx, true, true); }
void CmdRPushX(CmdArgs args, CommandContext& ctx) { PushGeneric(args, ctx, false, true); }

// --- Pops ---

void PopGeneric(CmdArgs args, CommandContext& ctx, bool front) {
  if (args.size() > 3) {
    ctx.rb.Error(WrongArityError(ctx.spec.name));
    return;
  }
  bool has_count = args.size() == 3;
  int64_t count = 0;
  if (has_count && (!ParseInt64(args[2], &count) || count < 0)) {
    ctx.rb.Error(kMustBePositive);
    return;
  }
  KeyRef k(args[1]);
  bool wrongtype;
  Entry* e = FindCollection(ctx, k, ValueType::kList, &wrongtype, false);
  if (wrongtype) return;
  if (e == nullptr) {
    has_count ? ctx.rb.NullArray() : ctx.rb.NullBulk();
    return;
  }
  ListObject* l = ListOf(e);
  if (!has_count) {
    ReplyElem(ctx.rb, l->At(front ? 0 : l->Size() - 1));
    DropEnd(ctx, k, e, front, 1);
    return;
  }
  if (count == 0) {
    ctx.rb.ArrayHeader(0);
    return;
  }
  size_t n = std::min<size_t>(static_cast<size_t>(count), l->Size());
  ctx.rb.ArrayHeader(n);
  l->ForRange(0, n, !front, [&](const ListObject::Elem& el) {
    ReplyElem(ctx.rb, el);
    return true;
  });
  DropEnd(ctx, k, e, front, n);
}

void CmdLPop(CmdArgs args, CommandContext& ctx) { PopGeneric(args, ctx, true); }
void CmdRPop(CmdArgs args, CommandContext& ctx) { PopGeneric(args, ctx, false); }

// --- Reads ---

void CmdLLen(CmdArgs args, CommandContext& ctx) {
  KeyRef k(args[1]);
  bool wrongtype;
  Entry* e = FindCollection(ctx, k, ValueType::kList, &wrongtype);
  if (wrongtype) return;
  ctx.rb.Integer(e == nullptr ? 0 : static_cast<int64_t>(ListOf(e)->Size()));
}

void CmdLRange(CmdArgs args, CommandContext& ctx) {
  int64_t start, end;
  if (!ParseLong(args[2], ctx, &start) || !ParseLong(args[3], ctx, &end)) return;
  KeyRef k(args[1]);
  bool wrongtype;
  Entry* e = FindCollection(ctx, k, ValueType::kList, &wrongtype);
  if (wrongtype) return;
  if (e == nullptr) {
    ctx.rb.ArrayHeader(0);
    return;
  }
  const ListObject* l = ListOf(e);
  int64_t len = static_cast<int64_t>(l->Size());
  if (start < 0) start = std::max<int64_t>(0, start + len);
  if (end < 0) end += len;
  if (start > end || start >= len) {
    ctx.rb.ArrayHeader(0);
    return;
  }
  if (end >= len) end = len - 1;
  size_t n = static_cast<size_t>(end - start + 1);
  ctx.rb.ArrayHeader(n);
  l->ForRange(static_cast<size_t>(start), n, false, [&](const ListObject::Elem& el) {
    ReplyElem(ctx.rb, el);
    return true;
  });
}

// A Redis index (negative from the tail) resolved against len; false when out of range.
bool ResolveIndex(int64_t index, size_t len, size_t* out) {
  int64_t n = static_cast<int64_t>(len);
  if (index < 0) index += n;
  if (index < 0 || index >= n) return false;
  *out = static_cast<size_t>(index);
  return true;
}

void CmdLIndex(CmdArgs args, CommandContext& ctx) {
  KeyRef k(args[1]);
  bool wrongtype;
  Entry* e = FindCollection(ctx, k, ValueType::kList, &wrongtype);
  if (wrongtype) return;
  int64_t index;
  if (!ParseLong(args[2], ctx, &index)) return;
  size_t i;
  if (e == nullptr || !ResolveIndex(index, ListOf(e)->Size(), &i)) {
    ctx.rb.NullBulk();
    return;
  }
  ReplyElem(ctx.rb, ListOf(e)->At(i));
}

void CmdLSet(CmdArgs args, CommandContext& ctx) {
  KeyRef k(args[1]);
  bool wrongtype;
  Entry* e = FindCollection(ctx, k, ValueType::kList, &wrongtype, false);
  if (wrongtype) return;
  if (e == nullptr) {
    ctx.rb.Error(errors::kNoSuchKey);
    return;
  }
  int64_t index;
  if (!ParseLong(args[2], ctx, &index)) return;
  size_t i;
  if (!ResolveIndex(index, ListOf(e)->Size(), &i)) {
    ctx.rb.Error(kIndexOutOfRange);
    return;
  }
  ListOf(e)->Set(i, args[3]);
  std::string delta;
  ListObject::DeltaSet(&delta, i, args[3]);
  ctx.ks.Delta(ctx.txn, ctx.db, k, e, delta);
  ctx.Dirty();
  ctx.rb.Ok();
}

void CmdLInsert(CmdArgs args, CommandContext& ctx) {
  bool after;
  if (EqualsUpper(args[2], "AFTER")) {
    after = true;
  } else if (EqualsUpper(args[2], "BEFORE")) {
    after = false;
  } else {
    ctx.rb.Error(errors::kSyntax);
    return;
  }
  KeyRef k(args[1]);
  bool wrongtype;
  Entry* e = FindCollection(ctx, k, ValueType::kList, &wrongtype, false);
  if (wrongtype) return;
  if (e == nullptr) {
    ctx.rb.Integer(0);
    return;
  }
  ListObject* l = ListOf(e);
  size_t i = 0;
  bool found = false;
  l->ForRange(0, l->Size(), false, [&](const ListObject::Elem& el) {
    if (el.Equals(args[3])) {
      found = true;
      return false;
    }
    i++;
    return true;
  });
  if (!found) {
    ctx.rb.Integer(-1);
    return;
  }
  size_t at = after ? i + 1 : i;
  l->Insert(at, args[4]);
  std::string delta;
  ListObject::DeltaInsert(&delta, at, args[4]);
  ctx.ks.Delta(ctx.txn, ctx.db, k, e, delta);
  ctx.Dirty();
  ctx.rb.Integer(static_cast<int64_t>(l->Size()));
}

void CmdLRem(CmdArgs args, CommandContext& ctx) {
  int64_t count;
  if (!ParseLong(args[2], ctx, &count)) return;
  KeyRef k(args[1]);
  bool wrongtype;
  Entry* e = FindCollection(ctx, k, ValueType::kList, &wrongtype, false);
  if (wrongtype) return;
  if (e == nullptr) {
    ctx.rb.Integer(0);
    return;
  }
  size_t removed = ListOf(e)->Remove(args[3], count);
  if (removed > 0) {
    std::string delta;
    ListObject::DeltaRemove(&delta, count, args[3]);
    DeltaOrDeleteIfEmpty(ctx, k, e, delta);
    ctx.Dirty(removed);
  }
  ctx.rb.Integer(static_cast<int64_t>(removed));
}

void CmdLTrim(CmdArgs args, CommandContext& ctx) {
  int64_t start, end;
  if (!ParseLong(args[2], ctx, &start) || !ParseLong(args[3], ctx, &end)) return;
  KeyRef k(args[1]);
  bool wrongtype;
  Entry* e = FindCollection(ctx, k, ValueType::kList, &wrongtype, false);
  if (wrongtype) return;
  if (e == nullptr) {
    ctx.rb.Ok();
    return;
  }
  ListObject* l = ListOf(e);
  int64_t len = static_cast<int64_t>(l->Size());
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) {
    ctx.ks.Delete(ctx.txn, ctx.db, k, ctx.now_ms);  // everything trimmed away
    ctx.Dirty(len);
    ctx.rb.Ok();
    return;
  }
  if (end >= len) end = len - 1;
  size_t keep = static_cast<size_t>(end - start + 1);
  if (keep < l->Size()) {
    l->Trim(static_cast<size_t>(start), keep);
    std::string delta;
    ListObject::DeltaTrim(&delta, static_cast<uint64_t>(start), keep);
    ctx.ks.Delta(ctx.txn, ctx.db, k, e, delta);
    ctx.Dirty(len - static_cast<int64_t>(keep));
  }
  ctx.rb.Ok();
}

void CmdLPos(CmdArgs args, CommandContext& ctx) {
  int64_t rank = 1, count = -1, maxlen = 0;
  for (size_t j = 3; j < args.size(); j++) {
    bool more = j + 1 < args.size();
    if (EqualsUpper(args[j], "RANK") && more) {
      if (!ParseLong(args[++j], ctx, &rank)) return;
      if (rank == INT64_MIN) {
        ctx.rb.Error(kRankRange);
        return;
      }
      if (rank == 0) {
        ctx.rb.Error(kRankZero);
        return;
      }
    } else if (EqualsUpper(args[j], "COUNT") && more) {
      if (!ParseInt64(args[++j], &count) || count < 0) {
        ctx.rb.Error(kCountNegative);
        return;
      }
    } else if (EqualsUpper(args[j], "MAXLEN") && more) {
      if (!ParseInt64(args[++j], &maxlen) || maxlen < 0) {
        ctx.rb.Error(kMaxlenNegative);
        return;
      }
    } else {
      ctx.rb.Error(errors::kSyntax);
      return;
    }
  }
  KeyRef k(args[1]);
  bool wrongtype;
  Entry* e = FindCollection(ctx, k, ValueType::kList, &wrongtype);
  if (wrongtype) return;
  if (e == nullptr) {
    count != -1 ? ctx.rb.ArrayHeader(0) : ctx.rb.NullBulk();
    return;
  }
  const ListObject* l = ListOf(e);
  bool reverse = rank < 0;
  uint64_t skip = static_cast<uint64_t>(reverse ? -rank : rank);  // matches to reach
  size_t len = l->Size();
  size_t limit = maxlen == 0 ? len : std::min<size_t>(len, static_cast<size_t>(maxlen));
  std::vector<int64_t> found;
  uint64_t matches = 0;
  size_t visited = 0;
  l->ForRange(0, limit, reverse, [&](const ListObject::Elem& el) {
    size_t idx = visited++;
    if (!el.Equals(args[2])) return true;
    if (++matches < skip) return true;
    found.push_back(static_cast<int64_t>(reverse ? len - 1 - idx : idx));
    if (count == -1) return false;
    return count == 0 || found.size() < static_cast<uint64_t>(count);
  });
  if (count == -1) {
    found.empty() ? ctx.rb.NullBulk() : ctx.rb.Integer(found[0]);
    return;
  }
  ctx.rb.ArrayHeader(found.size());
  for (int64_t i : found) ctx.rb.Integer(i);
}

// --- Moves ---

enum class MoveResult { kMoved, kEmpty, kError };

// LMOVE's operation: pops from src's `from_left` end and pushes to dst's `to_left` end,
// replying the element. kEmpty (no reply) when src is missing; kError after a WRONGTYPE reply.
MoveResult OpMove(CommandContext& ctx, std::string_view src, std::string_view dst, bool from_left,
                  bool to_left) {
  KeyRef sk(src);
  KeyRef dk(dst);
  bool wrongtype;
  Entry* e = FindCollection(ctx, sk, ValueType::kList, &wrongtype, false);
  if (wrongtype) return MoveResult::kError;
  if (e == nullptr) return MoveResult::kEmpty;
  if (src == dst) {
    // A rotation: never empties the list.
    ListObject* l = ListOf(e);
    std::string v = from_left ? l->PopFront() : l->PopBack();
    to_left ? l->PushFront(v) : l->PushBack(v);
    std::string delta;
    ListObject::DeltaPop(&delta, from_left, 1);
    ctx.ks.Delta(ctx.txn, ctx.db, sk, e, delta);
    delta.clear();
    std::string_view vs = v;
    ListObject::DeltaPush(&delta, to_left, CmdArgs(&vs, 1));
    ctx.ks.Delta(ctx.txn, ctx.db, sk, e, delta);
    ctx.Dirty(2);
    ctx.rb.Bulk(v);
    return MoveResult::kMoved;
  }
  Entry* d = FindCollection(ctx, dk, ValueType::kList, &wrongtype, false);
  if (wrongtype) return MoveResult::kError;
  (void)d;
  // The destination lookup may have evicted the (clean) source: look it up again.
  e = FindCollection(ctx, sk, ValueType::kList, &wrongtype, false);
  ListObject* l = ListOf(e);
  std::string v = from_left ? l->PopFront() : l->PopBack();
  std::string delta;
  ListObject::DeltaPop(&delta, from_left, 1);
  DeltaOrDeleteIfEmpty(ctx, sk, e, delta);
  d = FindOrCreateCollection(ctx, dk, ValueType::kList, &wrongtype);
  to_left ? ListOf(d)->PushFront(v) : ListOf(d)->PushBack(v);
  delta.clear();
  std::string_view vs = v;
  ListObject::DeltaPush(&delta, to_left, CmdArgs(&vs, 1));
  ctx.ks.Delta(ctx.txn, ctx.db, dk, d, delta);
  ctx.Dirty(2);
  ctx.rb.Bulk(v);
  return MoveResult::kMoved;
}

void CmdLMove(CmdArgs args, CommandContext& ctx) {
  bool from_left, to_left;
  if (!ParseWhere(args[3], ctx, &from_left) || !ParseWhere(args[4], ctx, &to_left)) return;
  if (OpMove(ctx, args[1], args[2], from_left, to_left) == MoveResult::kEmpty) ctx.rb.NullBulk();
}

void CmdRPopLPush(CmdArgs args, CommandContext& ctx) {
  if (OpMove(ctx, args[1], args[2], false, true) == MoveResult::kEmpty) ctx.rb.NullBulk();
}

// --- LMPOP and the blocking pops ---

// Pops up to `count` elements from k's list and replies [key, [elements]] (`nested`) or
// [key, element] (BLPOP). False (no reply) when the key has nothing; WRONGTYPE sets *error.
bool OpPopWithKey(CommandContext& ctx, std::string_view key, bool left, int64_t count, bool nested,
                  bool* error) {
  KeyRef k(key);
  Entry* e = FindCollection(ctx, k, ValueType::kList, error, false);
  if (*error || e == nullptr) return false;
  ListObject* l = ListOf(e);
  ctx.rb.ArrayHeader(2);
  ctx.rb.Bulk(key);
  if (!nested) {
    ReplyElem(ctx.rb, l->At(left ? 0 : l->Size() - 1));
    DropEnd(ctx, k, e, left, 1);
    return true;
  }
  size_t n = std::min<size_t>(static_cast<size_t>(count), l->Size());
  ctx.rb.ArrayHeader(n);
  l->ForRange(0, n, !left, [&](const ListObject::Elem& el) {
    ReplyElem(ctx.rb, el);
    return true;
  });
  DropEnd(ctx, k, e, left, n);
  return true;
}

// Parses LMPOP's / BLMPOP's numkeys key... LEFT|RIGHT [COUNT n] from args[numkeys_at].
bool ParseMPop(CmdArgs args, size_t numkeys_at, CommandContext& ctx, std::vector<std::string>* keys,
               bool* left, int64_t* count) {
  int64_t numkeys;
  if (!ParseInt64(args[numkeys_at], &numkeys) || numkeys <= 0) {
    ctx.rb.Error(kNumkeysPositive);
    return false;
  }
  size_t where_at = numkeys_at + 1 + static_cast<size_t>(numkeys);
  if (numkeys > static_cast<int64_t>(args.size()) || where_at >= args.size()) {
    ctx.rb.Error(errors::kSyntax);
    return false;
  }
  if (!ParseWhere(args[where_at], ctx, left)) return false;
  *count = -1;
  for (size_t j = where_at + 1; j < args.size(); j++) {
    if (*count == -1 && EqualsUpper(args[j], "COUNT") && j + 1 < args.size()) {
      if (!ParseInt64(args[++j], count) || *count <= 0) {
        ctx.rb.Error(kCountPositive);
        return false;
      }
    } else {
      ctx.rb.Error(errors::kSyntax);
      return false;
    }
  }
  if (*count == -1) *count = 1;
  keys->assign(args.begin() + numkeys_at + 1, args.begin() + where_at);
  return true;
}

// Tries each key in order; true when one replied (an element or WRONGTYPE).
bool TryPopKeys(CommandContext& ctx, const std::vector<std::string>& keys, bool left, int64_t count,
                bool nested) {
  for (const std::string& key : keys) {
    bool error;
    if (OpPopWithKey(ctx, key, left, count, nested, &error) || error) return true;
  }
  return false;
}

void CmdLMPop(CmdArgs args, CommandContext& ctx) {
  std::vector<std::string> keys;
  bool left;
  int64_t count;
  if (!ParseMPop(args, 1, ctx, &keys, &left, &count)) return;
  if (!TryPopKeys(ctx, keys, left, count, true)) ctx.rb.NullArray();
}

// BLPOP / BRPOP / BLMPOP once their arguments are parsed.
void BlockingPop(CommandContext& ctx, std::vector<std::string> keys, bool left, int64_t count,
                 bool nested, int64_t deadline_ms) {
  if (TryPopKeys(ctx, keys, left, count, nested)) return;
  if (!CanBlock(ctx)) {
    ctx.rb.NullArray();
    return;
  }
  auto w = NewWaiter(ctx, std::move(keys), deadline_ms);
  w->serve = [left, count, nested](CommandContext& c, std::string_view key) {
    bool error;
    bool served = OpPopWithKey(c, key, left, count, nested, &error);
    if (error) c.rb.buffer()->clear();  // the key now holds another type: keep waiting
    return served;
  };
  w->on_timeout = [](ReplyBuilder& rb) { rb.NullArray(); };
  ctx.server.blocking().Block(ctx, std::move(w));
}

void BPopGeneric(CmdArgs args, CommandContext& ctx, bool left) {
  int64_t deadline_ms;
  if (!ParseBlockTimeout(args.back(), ctx, &deadline_ms)) return;
  std::vector<std::string> keys(args.begin() + 1, args.end() - 1);
  BlockingPop(ctx, std::move(keys), left, 1, false, deadline_ms);
}

void CmdBLPop(CmdArgs args, CommandContext& ctx) { BPopGeneric(args, ctx, true); }
void CmdBRPop(CmdArgs args, CommandContext& ctx) { BPopGeneric(args, ctx, false); }

void CmdBLMPop(CmdArgs args, CommandContext& ctx) {
  std::vector<std::string> keys;
  bool left;
  int64_t count;
  if (!ParseMPop(args, 2, ctx, &keys, &left, &count)) return;
  int64_t deadline_ms;
  if (!ParseBlockTimeout(args[1], ctx, &deadline_ms)) return;
  BlockingPop(ctx, std::move(keys), left, count, true, deadline_ms);
}

void BlockingMove(CmdArgs args, CommandContext& ctx, bool from_left, bool to_left,
                  std::string_view timeout) {
  int64_t deadline_ms;
  if (!ParseBlockTimeout(timeout, ctx, &deadline_ms)) return;
  MoveResult r = OpMove(ctx, args[1], args[2], from_left, to_left);
  if (r != MoveResult::kEmpty) return;
  if (!CanBlock(ctx)) {
    ctx.rb.NullBulk();
    return;
  }
  auto w = NewWaiter(ctx, {std::string(args[1])}, deadline_ms);
  w->extra_keys = {std::string(args[2])};
  std::string dst(args[2]);
  w->serve = [dst, from_left, to_left](CommandContext& c, std::string_view key) {
    // A source of another type is not for this waiter (it keeps waiting); a destination of
    // another type ends the wait with WRONGTYPE, as in Redis.
    Entry* s = c.ks.Find(c.txn, c.db, KeyRef(key), c.now_ms, false);
    if (s == nullptr || s->type() != ValueType::kList) return false;
    return OpMove(c, key, dst, from_left, to_left) != MoveResult::kEmpty;
  };
  w->on_timeout = [](ReplyBuilder& rb) { rb.NullArray(); };
  ctx.server.blocking().Block(ctx, std::move(w));
}

void CmdBLMove(CmdArgs args, CommandContext& ctx) {
  bool from_left, to_left;
  if (!ParseWhere(args[3], ctx, &from_left) || !ParseWhere(args[4], ctx, &to_left)) return;
  BlockingMove(args, ctx, from_left, to_left, args[5]);
}

void CmdBRPopLPush(CmdArgs args, CommandContext& ctx) {
  BlockingMove(args, ctx, false, true, args[3]);
}

// Keys of LMPOP numkeys key... and BLMPOP timeout numkeys key...
void LMPopKeys(CmdArgs args, std::vector<size_t>* out) {
  CommandRegistry::NumKeysAt(args, 1, 0, out);
}
void BLMPopKeys(CmdArgs args, std::vector<size_t>* out) {
  CommandRegistry::NumKeysAt(args, 2, 0, out);
}

}  // namespace

void RegisterListFamily(CommandRegistry& r) {
  using namespace cmdflags;
  // clang-format off
  r.Register({"lpush", -3, kWrite | kDenyOom | kFast, 1, 1, 1, CmdLPush, "list",
              "Prepends one or more elements to a list. Creates the key if it doesn't exist.",
              "1.0.0"});
  r.Register({"rpush", -3, kWrite | kDenyOom | kFast, 1, 1, 1, CmdRPush, "list",
              "Appends one or more elements to a list. Creates the key if it doesn't exist.",
              "1.0.0"});
  r.Register({"lpushx", -3, kWrite | kDenyOom | kFast, 1, 1, 1, CmdLPushX, "list",
              "Prepends one or more elements to a list only when the list exists.", "2.2.0"});
  r.Register({"rpushx", -3, kWrite | kDenyOom | kFast, 1, 1, 1, CmdRPushX, "list",
              "Appends an element to a list only when the list exists.", "2.2.0"});
  r.Register({"lpop", -2, kWrite | kFast, 1, 1, 1, CmdLPop, "list",
              "Returns the first elements in a list after removing it. Deletes the list if the "
              "last element was popped.", "1.0.0"});
  r.Register({"rpop", -2, kWrite | kFast, 1, 1, 1, CmdRPop, "list",
              "Returns and removes the last elements of a list. Deletes the list if the last "
              "element was popped.", "1.0.0"});
  r.Register({"llen", 2, kReadOnly | kFast, 1, 1, 1, CmdLLen, "list",
              "Returns the length of a list.", "1.0.0"});
  r.Register({"lrange", 4, kReadOnly, 1, 1, 1, CmdLRange, "list",
              "Returns a range of elements from a list.", "1.0.0"});
  r.Register({"lindex", 3, kReadOnly, 1, 1, 1, CmdLIndex, "list",
              "Returns an element from a list by its index.", "1.0.0"});
  r.Register({"lset", 4, kWrite | kDenyOom, 1, 1, 1, CmdLSet, "list",
              "Sets the value of an element in a list by its index.", "1.0.0"});
  r.Register({"linsert", 5, kWrite | kDenyOom, 1, 1, 1, CmdLInsert, "list",
              "Inserts an element before or after another element in a list.", "2.2.0"});
  r.Register({"lrem", 4, kWrite, 1, 1, 1, CmdLRem, "list",
              "Removes elements from a list. Deletes the list if the last element was removed.",
              "1.0.0"});
  r.Register({"ltrim", 4, kWrite, 1, 1, 1, CmdLTrim, "list",
              "Removes elements from both ends a list. Deletes the list if all elements were "
              "trimmed.", "1.0.0"});
  r.Register({"lpos", -3, kReadOnly, 1, 1, 1, CmdLPos, "list",
              "Returns the index of matching elements in a list.", "6.0.6"});
  r.Register({"lmove", 5, kWrite | kDenyOom, 1, 2, 1, CmdLMove, "list",
              "Returns an element after popping it from one list and pushing it to another. "
              "Deletes the list if the last element was moved.", "6.2.0"});
  r.Register({"rpoplpush", 3, kWrite | kDenyOom, 1, 2, 1, CmdRPopLPush, "list",
              "Returns the last element of a list after removing and pushing it to another "
              "list. Deletes the list if the last element was popped.", "1.2.0"});
  r.Register({"lmpop", -4, kWrite, 2, 2, 1, CmdLMPop, "list",
              "Returns multiple elements from a list after removing them. Deletes the list if "
              "the last element was popped.", "7.0.0", -1, LMPopKeys});
  r.Register({"blpop", -3, kWrite | kBlocking, 1, -2, 1, CmdBLPop, "list",
              "Removes and returns the first element in a list. Blocks until an element is "
              "available otherwise. Deletes the list if the last element was popped.",
              "2.0.0"});
  r.Register({"brpop", -3, kWrite | kBlocking, 1, -2, 1, CmdBRPop, "list",
              "Removes and returns the last element in a list. Blocks until an element is "
              "available otherwise. Deletes the list if the last element was popped.",
              "2.0.0"});
  r.Register({"blmove", 6, kWrite | kDenyOom | kBlocking, 1, 2, 1, CmdBLMove, "list",
              "Pops an element from a list, pushes it to another list and returns it. Blocks "
              "until an element is available otherwise. Deletes the list if the last element "
              "was moved.", "6.2.0"});
  r.Register({"brpoplpush", 4, kWrite | kDenyOom | kBlocking, 1, 2, 1, CmdBRPopLPush, "list",
              "Pops an element from a list, pushes it to another list and returns it. Block "
              "until an element is available otherwise. Deletes the list if the last element "
              "was popped.", "2.2.0"});
  r.Register({"blmpop", -5, kWrite | kBlocking, 3, 3, 1, CmdBLMPop, "list",
              "Pops the first element from one of multiple lists. Blocks until an element is "
              "available otherwise. Deletes the list if the last element was popped.", "7.0.0",
              -1, BLMPopKeys});
  // clang-format on
}

}  // namespace fdb
