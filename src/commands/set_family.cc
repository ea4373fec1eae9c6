// Sets: SADD, SMEMBERS and the rest of Redis's SET group, with Redis 7 replies and error texts.
//
// Model: the value is a SetObject (engine/set_object.h). Handlers parse their arguments, call
// the set Ops (commands/set_ops.h) and reply from what they return. Writes change the set in
// place and log one delta of members added or removed; SPOP logs the members it drew, so replay
// does not depend on the random draw. SINTERSTORE, SUNIONSTORE and SDIFFSTORE build a new set
// and Put it (a full image); an empty result deletes the destination, as Redis. The dispatcher
// locks every key's shard (registry rows below), so SMOVE and the multi-key commands are
// atomic.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "base/glob.h"
#include "base/numbers.h"
#include "commands/collection_scan.h"
#include "commands/context.h"
#include "commands/errors.h"
#include "commands/set_ops.h"
#include "engine/set_object.h"

namespace fdb {

namespace {

constexpr const char* kMustBePositive = "ERR value is out of range, must be positive";
constexpr const char* kCountRange =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
constexpr const char* kNumKeysPositive = "ERR numkeys should be greater than 0";
constexpr const char* kTooManyKeys = "ERR Number of keys can't be greater than number of args";
constexpr const char* kLimitNegative = "ERR LIMIT can't be negative";

// The set at `key` for a read-only command: false after a WRONGTYPE reply; *s is nullptr when
// the key is missing.
bool ReadSet(CommandContext& ctx, std::string_view key, const SetObject** s) {
  OpResult<const SetObject*> r = OpFindSet(ctx.op(), key);
  if (!r.ok()) {
    ctx.ReplyError(r.status());
    return false;
  }
  *s = *r;
  return true;
}

// --- Writes ---

void CmdSAdd(CmdArgs args, CommandContext& ctx) {
  OpResult<int64_t> added = OpSAdd(ctx.op(), args[1], args.subspan(2));
  if (!added.ok()) return ctx.ReplyError(added.status());
  if (*added > 0) ctx.Dirty(static_cast<uint64_t>(*added));
  ctx.rb.Integer(*added);
}

void CmdSRem(CmdArgs args, CommandContext& ctx) {
  OpResult<int64_t> removed = OpSRem(ctx.op(), args[1], args.subspan(2));
  if (!removed.ok()) return ctx.ReplyError(removed.status());
  if (*removed > 0) ctx.Dirty(static_cast<uint64_t>(*removed));
  ctx.rb.Integer(*removed);
}

void CmdSPop(CmdArgs args, CommandContext& ctx) {
  if (args.size() > 3) return ctx.rb.Error(errors::kSyntax);
  if (args.size() == 2) {
    OpResult<std::optional<std::string>> m = OpSPop(ctx.op(), args[1]);
    if (!m.ok()) return ctx.ReplyError(m.status());
    if (!m->has_value()) return ctx.rb.NullBulk();
    ctx.Dirty();
    return ctx.rb.Bulk(**m);
  }
  int64_t l;
  // As Redis's getPositiveLongFromObjectOrReply: one error for "not a number" and "negative".
  if (!ParseInt64(args[2], &l) || l < 0) return ctx.rb.Error(kMustBePositive);
  OpResult<std::vector<std::string>> popped =
      OpSPopCount(ctx.op(), args[1], static_cast<uint64_t>(l));
  if (!popped.ok()) return ctx.ReplyError(popped.status());
  // As before the Op layer: the count asked is what is counted dirty when anything was popped.
  if (!popped->empty()) ctx.Dirty(static_cast<uint64_t>(l));
  ctx.rb.SetHeader(popped->size());
  for (const std::string& m : *popped) ctx.rb.Bulk(m);
}

void CmdSMove(CmdArgs args, CommandContext& ctx) {
  OpResult<bool> moved = OpSMove(ctx.op(), args[1], args[2], args[3]);
  if (!moved.ok()) return ctx.ReplyError(moved.status());
  if (*moved && args[1] != args[2]) ctx.Dirty();
  ctx.rb.Integer(*moved ? 1 : 0);
}

// --- Reads of one set ---

void CmdSIsMember(CmdArgs args, CommandContext& ctx) {
  const SetObject* s;
  if (!ReadSet(ctx, args[1], &s)) return;
  ctx.rb.Integer(s != nullptr && s->Contains(args[2]) ? 1 : 0);
}

void CmdSMIsMember(CmdArgs args, CommandContext& ctx) {
  const SetObject* s;
  if (!ReadSet(ctx, args[1], &s)) return;
  ctx.rb.ArrayHeader(args.size() - 2);
  for (size_t i = 2; i < args.size(); i++) {
    ctx.rb.Integer(s != nullptr && s->Contains(args[i]) ? 1 : 0);
  }
}

void CmdSCard(CmdArgs args, CommandContext& ctx) {
  OpResult<int64_t> n = OpSCard(ctx.op(), args[1]);
  if (!n.ok()) return ctx.ReplyError(n.status());
  ctx.rb.Integer(*n);
}

void CmdSMembers(CmdArgs args, CommandContext& ctx) {
  const SetObject* s;
  if (!ReadSet(ctx, args[1], &s)) return;
  if (s == nullptr) return ctx.rb.SetHeader(0);
  ctx.rb.SetHeader(s->Size());
  s->ForEach([&](std::string_view m) { ctx.rb.Bulk(m); });
}

// SRANDMEMBER key [count], as Redis's srandmemberWithCountCommand.
void CmdSRandMember(CmdArgs args, CommandContext& ctx) {
  if (args.size() > 3) return ctx.rb.Error(errors::kSyntax);
  if (args.size() == 2) {
    const SetObject* s;
    if (!ReadSet(ctx, args[1], &s)) return;
    if (s == nullptr) return ctx.rb.NullBulk();
    std::string m;
    s->Random(&m);
    return ctx.rb.Bulk(m);
  }
  int64_t l;
  if (!ParseInt64(args[2], &l)) return ctx.rb.Error(errors::kNotInteger);
  if (l == INT64_MIN) return ctx.rb.Error(kCountRange);
  const SetObject* s;
  if (!ReadSet(ctx, args[1], &s)) return;
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
  const SetObject* s;
  if (!ReadSet(ctx, args[1], &s)) return;
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

void SetOpReply(CmdArgs args, CommandContext& ctx, SetOp kind) {
  OpResult<std::unique_ptr<SetObject>> r = OpSetCompute(ctx.op(), kind, args.subspan(1));
  if (!r.ok()) return ctx.ReplyError(r.status());
  ctx.rb.SetHeader((*r)->Size());
  (*r)->ForEach([&](std::string_view m) { ctx.rb.Bulk(m); });
}

void SetOpStore(CmdArgs args, CommandContext& ctx, SetOp kind) {
  OpResult<SetStoreResult> r = OpSetStore(ctx.op(), kind, args[1], args.subspan(2));
  if (!r.ok()) return ctx.ReplyError(r.status());
  if (r->changed) ctx.Dirty();
  ctx.rb.Integer(r->size);
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
  OpResult<int64_t> n =
      OpSInterCard(ctx.op(), args.subspan(2, static_cast<size_t>(numkeys)), limit);
  if (!n.ok()) return ctx.ReplyError(n.status());
  ctx.rb.Integer(*n);
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
