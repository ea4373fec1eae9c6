// Lists: LPUSH, LPOP, LRANGE and the rest of Redis's LIST group, including the blocking pops,
// with Redis 7 replies and error texts.
//
// Model: a list is a ListObject (engine/list_object.h). Handlers parse their arguments, call the
// list Ops (commands/list_ops.h) and reply from what they return. The Ops change the object and
// record the change with Keyspace::Delta in the list's delta encoding (effects: a pop logs how
// many elements left which end, LSET/LINSERT log the resolved index, LTRIM the range kept), or
// delete the key when its last element goes (DeltaOrDeleteIfEmpty).
//
// Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) first try their non-blocking
// form; when every key is empty they register a waiter (commands/blocking.h) whose serve
// callback is that same non-blocking form (the same Op), run for the ready key when a push
// creates it. A serve callback writes a reply only when it served.
//
// Entry pointers: a lookup may read an evicted value back and evict another clean value of
// the same shard, so OpLMove looks the source up again after the destination, and changes it
// before touching the destination.
#include <algorithm>
#include <climits>

#include "commands/blocking.h"
#include "commands/collection_util.h"
#include "commands/context.h"
#include "commands/errors.h"
#include "commands/list_ops.h"
#include "engine/list_object.h"

namespace fdb {

namespace {

constexpr const char* kMustBePositive = "ERR value is out of range, must be positive";
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

// An index argument that is not an integer: as before the Op layer, a key of another type
// reports WRONGTYPE first (LINDEX, LSET look the key up before reading the index), and LSET
// reports a missing key first.
void ReplyBadIndex(CommandContext& ctx, std::string_view key, bool missing_is_error) {
  OpResult<const ListObject*> l = OpFindList(ctx.op(), key);
  if (!l.ok()) return ctx.ReplyError(l.status());
  if (missing_is_error && *l == nullptr) return ctx.ReplyError(OpStatus::kKeyNotFound);
  ctx.rb.Error(errors::kNotInteger);
}

// --- Pushes ---

void PushGeneric(CmdArgs args, CommandContext& ctx, bool front, bool only_existing) {
  CmdArgs vals = args.subspan(2);
  OpResult<int64_t> len = OpPush(ctx.op(), args[1], front, vals, only_existing);
  if (!len.ok()) return ctx.ReplyError(len.status());
  if (*len > 0) ctx.Dirty(vals.size());
  ctx.rb.Integer(*len);
}

void CmdLPush(CmdArgs args, CommandContext& ctx) { PushGeneric(args, ctx, true, false); }
void CmdRPush(CmdArgs args, CommandContext& ctx) { PushGeneric(args, ctx, false, false); }
void CmdLPushX(CmdArgs args, CommandContext& ctx) { PushGeneric(args, ctx, true, true); }
void CmdRPushX(CmdArgs args, CommandContext& ctx) { PushGeneric(args, ctx, false, true); }

// --- Pops ---

void PopGeneric(CmdArgs args, CommandContext& ctx, bool front) {
  if (args.size() > 3) return ctx.rb.Error(WrongArityError(ctx.spec.name));
  if (args.size() == 2) {
    OpResult<std::optional<std::string>> v = OpPop(ctx.op(), args[1], front);
    if (!v.ok()) return ctx.ReplyError(v.status());
    if (!v->has_value()) return ctx.rb.NullBulk();
    ctx.Dirty();
    return ctx.rb.Bulk(**v);
  }
  int64_t count = 0;
  if (!ParseInt64(args[2], &count) || count < 0) return ctx.rb.Error(kMustBePositive);
  OpResult<std::optional<std::vector<std::string>>> popped =
      OpPopCount(ctx.op(), args[1], front, static_cast<uint64_t>(count));
  if (!popped.ok()) return ctx.ReplyError(popped.status());
  if (!popped->has_value()) return ctx.rb.NullArray();
  const std::vector<std::string>& vals = **popped;
  ctx.Dirty(vals.size());
  ctx.rb.ArrayHeader(vals.size());
  for (const std::string& v : vals) ctx.rb.Bulk(v);
}

void CmdLPop(CmdArgs args, CommandContext& ctx) { PopGeneric(args, ctx, true); }
void CmdRPop(CmdArgs args, CommandContext& ctx) { PopGeneric(args, ctx, false); }

// --- Reads ---

void CmdLLen(CmdArgs args, CommandContext& ctx) {
  OpResult<int64_t> n = OpLLen(ctx.op(), args[1]);
  if (!n.ok()) return ctx.ReplyError(n.status());
  ctx.rb.Integer(*n);
}

void CmdLRange(CmdArgs args, CommandContext& ctx) {
  int64_t start, end;
  if (!ParseLong(args[2], ctx, &start) || !ParseLong(args[3], ctx, &end)) return;
  OpResult<ListRange> r = OpLRange(ctx.op(), args[1], start, end);
  if (!r.ok()) return ctx.ReplyError(r.status());
  ctx.rb.ArrayHeader(r->n);
  if (r->n == 0) return;
  r->list->ForRange(r->start, r->n, false, [&](const ListObject::Elem& el) {
    ReplyElem(ctx.rb, el);
    return true;
  });
}

void CmdLIndex(CmdArgs args, CommandContext& ctx) {
  int64_t index;
  if (!ParseInt64(args[2], &index)) return ReplyBadIndex(ctx, args[1], false);
  OpResult<std::optional<std::string>> v = OpLIndex(ctx.op(), args[1], index);
  if (!v.ok()) return ctx.ReplyError(v.status());
  if (!v->has_value()) return ctx.rb.NullBulk();
  ctx.rb.Bulk(**v);
}

void CmdLSet(CmdArgs args, CommandContext& ctx) {
  int64_t index;
  if (!ParseInt64(args[2], &index)) return ReplyBadIndex(ctx, args[1], true);
  OpStatus st = OpLSet(ctx.op(), args[1], index, args[3]);
  if (st != OpStatus::kOk) return ctx.ReplyError(st);
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
    return ctx.rb.Error(errors::kSyntax);
  }
  OpResult<int64_t> len = OpLInsert(ctx.op(), args[1], after, args[3], args[4]);
  if (!len.ok()) return ctx.ReplyError(len.status());
  if (*len > 0) ctx.Dirty();
  ctx.rb.Integer(*len);
}

void CmdLRem(CmdArgs args, CommandContext& ctx) {
  int64_t count;
  if (!ParseLong(args[2], ctx, &count)) return;
  OpResult<int64_t> removed = OpLRem(ctx.op(), args[1], count, args[3]);
  if (!removed.ok()) return ctx.ReplyError(removed.status());
  if (*removed > 0) ctx.Dirty(static_cast<uint64_t>(*removed));
  ctx.rb.Integer(*removed);
}

void CmdLTrim(CmdArgs args, CommandContext& ctx) {
  int64_t start, end;
  if (!ParseLong(args[2], ctx, &start) || !ParseLong(args[3], ctx, &end)) return;
  OpResult<int64_t> removed = OpLTrim(ctx.op(), args[1], start, end);
  if (!removed.ok()) return ctx.ReplyError(removed.status());
  if (*removed > 0) ctx.Dirty(static_cast<uint64_t>(*removed));
  ctx.rb.Ok();
}

void CmdLPos(CmdArgs args, CommandContext& ctx) {
  int64_t rank = 1, count = -1, maxlen = 0;
  for (size_t j = 3; j < args.size(); j++) {
    bool more = j + 1 < args.size();
    if (EqualsUpper(args[j], "RANK") && more) {
      if (!ParseLong(args[++j], ctx, &rank)) return;
      if (rank == INT64_MIN) return ctx.rb.Error(kRankRange);
      if (rank == 0) return ctx.rb.Error(kRankZero);
    } else if (EqualsUpper(args[j], "COUNT") && more) {
      if (!ParseInt64(args[++j], &count) || count < 0) return ctx.rb.Error(kCountNegative);
    } else if (EqualsUpper(args[j], "MAXLEN") && more) {
      if (!ParseInt64(args[++j], &maxlen) || maxlen < 0) return ctx.rb.Error(kMaxlenNegative);
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
  }
  OpResult<std::optional<std::vector<int64_t>>> found =
      OpLPos(ctx.op(), args[1], args[2], rank, count, maxlen);
  if (!found.ok()) return ctx.ReplyError(found.status());
  if (count == -1) {
    if (!found->has_value() || (*found)->empty()) return ctx.rb.NullBulk();
    return ctx.rb.Integer((**found)[0]);
  }
  if (!found->has_value()) return ctx.rb.ArrayHeader(0);
  ctx.rb.ArrayHeader((*found)->size());
  for (int64_t i : **found) ctx.rb.Integer(i);
}

// --- Moves ---

// LMOVE's reply: the element moved; false (nothing written) when src is missing.
bool MoveAndReply(CommandContext& ctx, std::string_view src, std::string_view dst, bool from_left,
                  bool to_left) {
  const size_t first = ctx.txn.effects().size();
  OpResult<std::optional<std::string>> v = OpLMove(ctx.op(), src, dst, from_left, to_left);
  if (!v.ok()) {
    ctx.ReplyError(v.status());
    return true;
  }
  if (!v->has_value()) return false;
  // As Redis: BLMOVE and BRPOPLPUSH go to replicas as LMOVE and RPOPLPUSH.
  if (ctx.spec.flags & cmdflags::kBlocking) {
    if (EqualsUpper(ctx.spec.name, "BRPOPLPUSH")) {
      ctx.PropagateAs(first, {"rpoplpush", src, dst});
    } else {
      ctx.PropagateAs(
          first, {"lmove", src, dst, from_left ? "left" : "right", to_left ? "left" : "right"});
    }
  }
  ctx.Dirty(2);
  ctx.rb.Bulk(**v);
  return true;
}

void CmdLMove(CmdArgs args, CommandContext& ctx) {
  bool from_left, to_left;
  if (!ParseWhere(args[3], ctx, &from_left) || !ParseWhere(args[4], ctx, &to_left)) return;
  if (!MoveAndReply(ctx, args[1], args[2], from_left, to_left)) ctx.rb.NullBulk();
}

void CmdRPopLPush(CmdArgs args, CommandContext& ctx) {
  if (!MoveAndReply(ctx, args[1], args[2], false, true)) ctx.rb.NullBulk();
}

// --- LMPOP and the blocking pops ---

enum class PopServed { kNothing, kServed, kWrongType };

// Pops up to `count` elements from key's list and replies [key, [elements]] (`nested`) or
// [key, element] (BLPOP). Writes nothing unless it returns kServed.
PopServed PopWithKey(CommandContext& ctx, std::string_view key, bool left, int64_t count,
                     bool nested) {
  const size_t first = ctx.txn.effects().size();
  OpResult<std::optional<std::vector<std::string>>> popped =
      OpPopCount(ctx.op(), key, left, nested ? static_cast<uint64_t>(count) : 1);
  if (!popped.ok()) return PopServed::kWrongType;
  if (!popped->has_value()) return PopServed::kNothing;
  const std::vector<std::string>& vals = **popped;
  // As Redis: BLPOP goes to replicas as `LPOP key`, LMPOP and BLMPOP as `LPOP key <popped>`.
  if (nested) {
    ctx.PropagateAs(first, {left ? "lpop" : "rpop", key, std::to_string(vals.size())});
  } else {
    ctx.PropagateAs(first, {left ? "lpop" : "rpop", key});
  }
  ctx.Dirty(vals.size());
  ctx.rb.ArrayHeader(2);
  ctx.rb.Bulk(key);
  if (!nested) {
    ctx.rb.Bulk(vals[0]);
    return PopServed::kServed;
  }
  ctx.rb.ArrayHeader(vals.size());
  for (const std::string& v : vals) ctx.rb.Bulk(v);
  return PopServed::kServed;
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
    switch (PopWithKey(ctx, key, left, count, nested)) {
      case PopServed::kServed:
        return true;
      case PopServed::kWrongType:
        ctx.ReplyError(OpStatus::kWrongType);
        return true;
      case PopServed::kNothing:
        break;
    }
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
    // A key that now holds another type is not for this waiter: it keeps waiting (PopWithKey
    // wrote nothing).
    return PopWithKey(c, key, left, count, nested) == PopServed::kServed;
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
  if (MoveAndReply(ctx, args[1], args[2], from_left, to_left)) return;
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
    OpArgs op = c.op();
    op.touch = false;
    OpResult<Entry*> s = FindCollection(op, KeyRef(key), ValueType::kList, /*for_read=*/false);
    if (!s.ok() || *s == nullptr) return false;
    return MoveAndReply(c, key, dst, from_left, to_left);
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
