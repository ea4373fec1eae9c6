// Sets: SADD, SMEMBERS and the rest of Redis's SET group, with Redis 7 replies and error texts.
//
// Model: the value is a SetObject (engine/set_object.h). Writes change it in place and log one
// delta of members added or removed; SPOP logs the members it drew, so replay does not depend
// on the random draw. SINTERSTORE, SUNIONSTORE and SDIFFSTORE build a new set and Put it (a full
// image); an empty result deletes the destination, as Redis. The dispatcher locks every key's
// shard (registry rows below), so SMOVE and the multi-key commands are atomic.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "base/glob.h"
#include "base/numbers.h"
#include "commands/collection_scan.h"
#include "commands/collection_util.h"
#include "commands/context.h"
#include "commands/errors.h"
#include "engine/set_object.h"

namespace fdb {

namespace {

constexpr const char* kMustBePositive = "ERR value is out of range, must be positive";
constexpr const char* kCountRange =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
constexpr const char* kNumKeysPositive = "ERR numkeys should be greater than 0";
constexpr const char* kTooManyKeys = "ERR Number of keys can't be greater than number of args";
constexpr const char* kLimitNegative = "ERR LIMIT can't be negative";

SetObject* AsSet(Entry* e) { return static_cast<SetObject*>(e->object()); }

std::string& DeltaBuffer() {
  thread_local std::string buf;
  if (buf.capacity() > (1u << 20)) std::string().swap(buf);
  buf.clear();
  return buf;
}

SetObject* ReadSet(CommandContext& ctx, std::string_view key, bool* wrongtype) {
  Entry* e = FindCollection(ctx, KeyRef(key), ValueType::kSet, wrongtype);
  return e ? AsSet(e) : nullptr;
}

// --- Writes ---

void CmdSAdd(CmdArgs args, CommandContext& ctx) {
  KeyRef k(args[1]);
  bool wrongtype;
  Entry* e = FindOrCreateCollection(ctx, k, ValueType::kSet, &wrongtype);
  if (wrongtype) return;
  SetObject* s = AsSet(e);
  // Every member named is logged (adding a present one replays as a no-op), in the same pass.
  std::string& d = DeltaBuffer();
  SetObject::BeginDelta(&d, SetObject::kDeltaAdd, args.size() - 2);
  int64_t added = 0;
  for (size_t i = 2; i < args.size(); i++) {
    added += s->Add(args[i]);
    coding::PutBytes(&d, args[i]);
  }
  if (added > 0) {  // a new set always adds its first member
    ctx.ks.Delta(ctx.txn, ctx.db, k, e, d);
    ctx.Dirty(static_cast<uint64_t>(added));
  }
  ctx.rb.Integer(added);
}

void CmdSRem(CmdArgs args, CommandContext& ctx) {
  KeyRef k(args[1]);
  bool wrongtype;
  Entry* e = FindCollection(ctx, k, ValueType::kSet, &wrongtype, /*for_read=*/false);
  if (e == nullptr) return wrongtype ? void() : ctx.rb.Integer(0);
  SetObject* s = AsSet(e);
  std::string& d = DeltaBuffer();
  SetObject::BeginDelta(&d, SetObject::kDeltaRemove, args.size() - 2);
  int64_t removed = 0;
  for (size_t i = 2; i < args.size(); i++) {
    removed += s->Remove(args[i]);
    coding::PutBytes(&d, args[i]);
  }
  if (removed > 0) {
    DeltaOrDeleteIfEmpty(ctx, k, e, d);
    ctx.Dirty(static_cast<uint64_t>(removed));
  }
  ctx.rb.Integer(removed);
}

void CmdSPop(CmdArgs args, CommandContext& ctx) {
  if (args.size() > 3) return ctx.rb.Error(errors::kSyntax);
  KeyRef k(args[1]);
  if (args.size() == 2) {
    bool wrongtype;
    Entry* e = FindCollection(ctx, k, ValueType::kSet, &wrongtype, /*for_read=*/false);
    if (wrongtype) return;
    if (e == nullptr) return ctx.rb.NullBulk();
    std::string m;
    AsSet(e)->Random(&m);
    AsSet(e)->Remove(m);
    std::string& d = DeltaBuffer();
    SetObject::BeginDelta(&d, SetObject::kDeltaRemove, 1);
    coding::PutBytes(&d, m);
    DeltaOrDeleteIfEmpty(ctx, k, e, d);
    ctx.Dirty();
    return ctx.rb.Bulk(m);
  }
  int64_t l;
  // As Redis's getPositiveLongFromObjectOrReply: one error for "not a number" and "negative".
  if (!ParseInt64(args[2], &l) || l < 0) return ctx.rb.Error(kMustBePositive);
  bool wrongtype;
  Entry* e = FindCollection(ctx, k, ValueType::kSet, &wrongtype, /*for_read=*/false);
  if (wrongtype) return;
  if (e == nullptr || l == 0) return ctx.rb.SetHeader(0);
  SetObject* s = AsSet(e);
  const uint64_t count = static_cast<uint64_t>(l);
  if (count >= s->Size()) {
    // The whole set: reply with it and delete the key (logged as a delete).
    ctx.rb.SetHeader(s->Size());
    s->ForEach([&](std::string_view m) { ctx.rb.Bulk(m); });
    ctx.ks.Delete(ctx.txn, ctx.db, k, ctx.now_ms);
    ctx.Dirty(count);
    return;
  }
  std::string& d = DeltaBuffer();
  SetObject::BeginDelta(&d, SetObject::kDeltaRemove, count);
  ctx.rb.SetHeader(count);
  std::string m;
  for (uint64_t i = 0; i < count; i++) {
    s->Random(&m);
    s->Remove(m);
    coding::PutBytes(&d, m);
    ctx.rb.Bulk(m);
  }
  ctx.ks.Delta(ctx.txn, ctx.db, k, e, d);  // count < size: the set is not empty
  ctx.Dirty(count);
}

void CmdSMove(CmdArgs args, CommandContext& ctx) {
  KeyRef src(args[1]), dst(args[2]);
  std::string_view member = args[3];
  bool wrongtype;
  Entry* se = FindCollection(ctx, src, ValueType::kSet, &wrongtype, /*for_read=*/false);
  if (wrongtype) return;
  if (se == nullptr) {
    // As Redis: a missing source replies 0 before the destination's type is checked.
    return ctx.rb.Integer(0);
  }
  Entry* de = FindCollection(ctx, dst, ValueType::kSet, &wrongtype, /*for_read=*/false);
  if (wrongtype) return;
  if (args[1] == args[2]) return ctx.rb.Integer(AsSet(se)->Contains(member) ? 1 : 0);
  if (!AsSet(se)->Remove(member)) return ctx.rb.Integer(0);
  std::string& d = DeltaBuffer();
  SetObject::BeginDelta(&d, SetObject::kDeltaRemove, 1);
  coding::PutBytes(&d, member);
  DeltaOrDeleteIfEmpty(ctx, src, se, d);
  if (de == nullptr)
    de = ctx.ks.Create(ctx.txn, ctx.db, dst, Entry::NewObject(dst.key, NewSetObject()));
  if (AsSet(de)->Add(member)) {
    d[0] = static_cast<char>(SetObject::kDeltaAdd);  // the same member, added
    ctx.ks.Delta(ctx.txn, ctx.db, dst, de, d);
  }
  ctx.Dirty();
  ctx.rb.Integer(1);
}

// --- Reads of one set ---

void CmdSIsMember(CmdArgs args, CommandContext& ctx) {
  bool wrongtype;
  SetObject* s = ReadSet(ctx, args[1], &wrongtype);
  if (wrongtype) return;
  ctx.rb.Integer(s != nullptr && s->Contains(args[2]) ? 1 : 0);
}

void CmdSMIsMember(CmdArgs args, CommandContext& ctx) {
  bool wrongtype;
  SetObject* s = ReadSet(ctx, args[1], &wrongtype);
  if (wrongtype) return;
  ctx.rb.ArrayHeader(args.size() - 2);
  for (size_t i = 2; i < args.size(); i++) {
    ctx.rb.Integer(s != nullptr && s->Contains(args[i]) ? 1 : 0);
  }
}

void CmdSCard(CmdArgs args, CommandContext& ctx) {
  bool wrongtype;
  SetObject* s = ReadSet(ctx, args[1], &wrongtype);
  if (wrongtype) return;
  ctx.rb.Integer(s ? static_cast<int64_t>(s->Size()) : 0);
}

void CmdSMembers(CmdArgs args, CommandContext& ctx) {
  bool wrongtype;
  SetObject* s = ReadSet(ctx, args[1], &wrongtype);
  if (wrongtype) return;
  if (s == nullptr) return ctx.rb.SetHeader(0);
  ctx.rb.SetHeader(s->Size());
  s->ForEach([&](std::string_view m) { ctx.rb.Bulk(m); });
}

// SRANDMEMBER key [count], as Redis's srandmemberWithCountCommand.
void CmdSRandMember(CmdArgs args, CommandContext& ctx) {
  if (args.size() > 3) return ctx.rb.Error(errors::kSyntax);
  if (args.size() == 2) {
    bool wrongtype;
    SetObject* s = ReadSet(ctx, args[1], &wrongtype);
    if (wrongtype) return;
    if (s == nullptr) return ctx.rb.NullBulk();
    std::string m;
    s->Random(&m);
    return ctx.rb.Bulk(m);
  }
  int64_t l;
  if (!ParseInt64(args[2], &l)) return ctx.rb.Error(errors::kNotInteger);
  if (l == INT64_MIN) return ctx.rb.Error(kCountRange);
  bool wrongtype;
  SetObject* s = ReadSet(ctx, args[1], &wrongtype);
  if (wrongtype) return;
  if (s == nullptr || l == 0) return ctx.rb.ArrayHeader(0);
  const uint64_t size = s->Size();
  std::string m;
  if (l < 0 || l == 1) {
    uint64_t count = l < 0 ? static_cast<uint64_t>(-l) : 1;
    ctx.rb.ArrayHeader(count);
    for (uint64_t i = 0; i < count; i++) {
      s->Random(&m);
      ctx.rb.Bulk(m);
    }
    return;
  }
  const uint64_t count = static_cast<uint64_t>(l);
  if (count >= size) {
    ctx.rb.ArrayHeader(size);
    s->ForEach([&](std::string_view x) { ctx.rb.Bulk(x); });
    return;
  }
  ctx.rb.ArrayHeader(count);
  if (count * 3 > size) {
    std::vector<std::string> all;
    all.reserve(size);
    s->ForEach([&](std::string_view x) { all.emplace_back(x); });
    for (uint64_t i = 0; i < count; i++) {
      uint64_t j = i + RandomU64() % (size - i);
      std::swap(all[i], all[j]);
      ctx.rb.Bulk(all[i]);
    }
    return;
  }
  absl::flat_hash_set<std::string> seen;
  seen.reserve(count);
  while (seen.size() < count) {
    s->Random(&m);
    if (seen.insert(m).second) ctx.rb.Bulk(m);
  }
}

void CmdSScan(CmdArgs args, CommandContext& ctx) {
  uint64_t cursor;
  if (!ParseCollectionCursor(args[2], &cursor)) return ctx.rb.Error(errors::kInvalidCursor);
  bool wrongtype;
  SetObject* s = ReadSet(ctx, args[1], &wrongtype);
  if (wrongtype) return;
  if (s == nullptr) {
    ctx.rb.ArrayHeader(2);
    ctx.rb.Bulk("0");
    return ctx.rb.ArrayHeader(0);
  }
  CollectionScanOptions opt;
  if (const char* err = ParseCollectionScanOptions(args, 3, &opt)) return ctx.rb.Error(err);
  std::vector<std::string> out;
  uint64_t visited = 0;
  uint64_t steps = CollectionScanMaxSteps(opt.count);
  auto visit = [&](std::string_view m) {
    visited++;
    if (opt.pattern.empty() || GlobMatch(opt.pattern, m)) out.emplace_back(m);
  };
  do {
    cursor = s->Scan(cursor, visit);
  } while (cursor != 0 && --steps > 0 && visited < opt.count);
  ctx.rb.ArrayHeader(2);
  ctx.rb.Bulk(std::to_string(cursor));
  ctx.rb.ArrayHeader(out.size());
  for (const std::string& m : out) ctx.rb.Bulk(m);
}

// --- Several sets ---

enum class SetOp { kInter, kUnion, kDiff };

// The sets at args[first..], nullptr for a missing key. False after replying WRONGTYPE: as
// Redis, every key's type is checked, even after a missing one.
bool LoadSets(CommandContext& ctx, CmdArgs args, size_t first, size_t n,
              std::vector<SetObject*>* sets) {
  sets->clear();
  for (size_t i = first; i < first + n; i++) {
    bool wrongtype;
    Entry* e = FindCollection(ctx, KeyRef(args[i]), ValueType::kSet, &wrongtype);
    if (wrongtype) return false;
    sets->push_back(e ? AsSet(e) : nullptr);
  }
  return true;
}

// Calls fn(member) for each member of the intersection, until fn returns false.
template <class F>
void ForEachInIntersection(std::vector<SetObject*> sets, F&& fn) {
  for (SetObject* s : sets) {
    if (s == nullptr) return;  // a missing key is the empty set
  }
  // Walk the smallest set, probing the others from the smallest up (Redis's order).
  std::sort(sets.begin(), sets.end(),
            [](const SetObject* a, const SetObject* b) { return a->Size() < b->Size(); });
  bool go = true;
  sets[0]->ForEach([&](std::string_view m) {
    if (!go) return;
    for (size_t i = 1; i < sets.size(); i++) {
      if (!sets[i]->Contains(m)) return;
    }
    go = fn(m);
  });
}

// The result of the operation as a new set.
std::unique_ptr<SetObject> Compute(SetOp op, const std::vector<SetObject*>& sets) {
  auto out = std::make_unique<SetObject>();
  switch (op) {
    case SetOp::kInter:
      ForEachInIntersection(sets, [&](std::string_view m) {
        out->Add(m);
        return true;
      });
      break;
    case SetOp::kUnion:
      for (SetObject* s : sets) {
        if (s) s->ForEach([&](std::string_view m) { out->Add(m); });
      }
      break;
    case SetOp::kDiff:
      if (sets[0] == nullptr) break;
      sets[0]->ForEach([&](std::string_view m) {
        for (size_t i = 1; i < sets.size(); i++) {
          if (sets[i] != nullptr && sets[i]->Contains(m)) return;
        }
        out->Add(m);
      });
      break;
  }
  return out;
}

void SetOpReply(CmdArgs args, CommandContext& ctx, SetOp op) {
  std::vector<SetObject*> sets;
  if (!LoadSets(ctx, args, 1, args.size() - 1, &sets)) return;
  std::unique_ptr<SetObject> r = Compute(op, sets);
  ctx.rb.SetHeader(r->Size());
  r->ForEach([&](std::string_view m) { ctx.rb.Bulk(m); });
}

void SetOpStore(CmdArgs args, CommandContext& ctx, SetOp op) {
  std::vector<SetObject*> sets;
  if (!LoadSets(ctx, args, 2, args.size() - 2, &sets)) return;
  std::unique_ptr<SetObject> r = Compute(op, sets);
  KeyRef dst(args[1]);
  const int64_t n = static_cast<int64_t>(r->Size());
  if (n == 0) {
    if (ctx.ks.Delete(ctx.txn, ctx.db, dst, ctx.now_ms)) ctx.Dirty();
  } else {
    ctx.ks.Put(ctx.txn, ctx.db, dst, Entry::NewObject(dst.key, r.release()));
    ctx.Dirty();
  }
  ctx.rb.Integer(n);
}

void CmdSInter(CmdArgs args, CommandContext& ctx) { SetOpReply(args, ctx, SetOp::kInter); }
void CmdSUnion(CmdArgs args, CommandContext& ctx) { SetOpReply(args, ctx, SetOp::kUnion); }
void CmdSDiff(CmdArgs args, CommandContext& ctx) { SetOpReply(args, ctx, SetOp::kDiff); }
void CmdSInterStore(CmdArgs args, CommandContext& ctx) { SetOpStore(args, ctx, SetOp::kInter); }
void CmdSUnionStore(CmdArgs args, CommandContext& ctx) { SetOpStore(args, ctx, SetOp::kUnion); }
void CmdSDiffStore(CmdArgs args, CommandContext& ctx) { SetOpStore(args, ctx, SetOp::kDiff); }

// SINTERCARD numkeys key [key ...] [LIMIT limit]
void CmdSInterCard(CmdArgs args, CommandContext& ctx) {
  int64_t numkeys;
  if (!ParseInt64(args[1], &numkeys) || numkeys < 1) return ctx.rb.Error(kNumKeysPositive);
  if (static_cast<uint64_t>(numkeys) > args.size() - 2) return ctx.rb.Error(kTooManyKeys);
  uint64_t limit = 0;  // 0: no limit
  for (size_t j = 2 + static_cast<size_t>(numkeys); j < args.size(); j++) {
    if (EqualsUpper(args[j], "LIMIT") && j + 1 < args.size()) {
      int64_t l;
      if (!ParseInt64(args[j + 1], &l) || l < 0) return ctx.rb.Error(kLimitNegative);
      limit = static_cast<uint64_t>(l);
      j++;
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
  }
  std::vector<SetObject*> sets;
  if (!LoadSets(ctx, args, 2, static_cast<size_t>(numkeys), &sets)) return;
  int64_t n = 0;
  ForEachInIntersection(sets, [&](std::string_view) {
    n++;
    return limit == 0 || static_cast<uint64_t>(n) < limit;
  });
  ctx.rb.Integer(n);
}

void SInterCardKeys(CmdArgs args, std::vector<size_t>* out) {
  CommandRegistry::NumKeysAt(args, 1, 0, out);
}

}  // namespace

// One row per command: name, arity, flags, first/last/step key positions, handler, group,
// summary, since. Arity, flags and key positions are Redis 7's.
void RegisterSetFamily(CommandRegistry& r) {
  using namespace cmdflags;
  // clang-format off
  r.Register({"sadd", -3, kWrite | kDenyOom | kFast, 1, 1, 1, CmdSAdd, "set",
              "Adds one or more members to a set. Creates the key if it doesn't exist.",
              "1.0.0"});
  r.Register({"srem", -3, kWrite | kFast, 1, 1, 1, CmdSRem, "set",
              "Removes one or more members from a set. Deletes the set if the last member was "
              "removed.", "1.0.0"});
  r.Register({"spop", -2, kWrite | kFast, 1, 1, 1, CmdSPop, "set",
              "Returns one or more random members from a set after removing them. Deletes the "
              "set if the last member was popped.", "1.0.0"});
  r.Register({"smove", 4, kWrite | kFast, 1, 2, 1, CmdSMove, "set",
              "Moves a member from one set to another.", "1.0.0"});
  r.Register({"sismember", 3, kReadOnly | kFast, 1, 1, 1, CmdSIsMember, "set",
              "Determines whether a member belongs to a set.", "1.0.0"});
  r.Register({"smismember", -3, kReadOnly | kFast, 1, 1, 1, CmdSMIsMember, "set",
              "Determines whether multiple members belong to a set.", "6.2.0"});
  r.Register({"scard", 2, kReadOnly | kFast, 1, 1, 1, CmdSCard, "set",
              "Returns the number of members in a set.", "1.0.0"});
  r.Register({"smembers", 2, kReadOnly, 1, 1, 1, CmdSMembers, "set",
              "Returns all members of a set.", "1.0.0"});
  r.Register({"srandmember", -2, kReadOnly, 1, 1, 1, CmdSRandMember, "set",
              "Get one or multiple random members from a set", "1.0.0"});
  r.Register({"sscan", -3, kReadOnly, 1, 1, 1, CmdSScan, "set",
              "Iterates over members of a set.", "2.8.0"});
  r.Register({"sinter", -2, kReadOnly, 1, -1, 1, CmdSInter, "set",
              "Returns the intersect of multiple sets.", "1.0.0"});
  r.Register({"sintercard", -3, kReadOnly, 1, 1, 1, CmdSInterCard, "set",
              "Returns the number of members of the intersect of multiple sets.", "7.0.0", -1,
              SInterCardKeys});
  r.Register({"sunion", -2, kReadOnly, 1, -1, 1, CmdSUnion, "set",
              "Returns the union of multiple sets.", "1.0.0"});
  r.Register({"sdiff", -2, kReadOnly, 1, -1, 1, CmdSDiff, "set",
              "Returns the difference of multiple sets.", "1.0.0"});
  r.Register({"sinterstore", -3, kWrite | kDenyOom, 1, -1, 1, CmdSInterStore, "set",
              "Stores the intersect of multiple sets in a key.", "1.0.0"});
  r.Register({"sunionstore", -3, kWrite | kDenyOom, 1, -1, 1, CmdSUnionStore, "set",
              "Stores the union of multiple sets in a key.", "1.0.0"});
  r.Register({"sdiffstore", -3, kWrite | kDenyOom, 1, -1, 1, CmdSDiffStore, "set",
              "Stores the difference of multiple sets in a key.", "1.0.0"});
  // clang-format on
}

}  // namespace fdb
