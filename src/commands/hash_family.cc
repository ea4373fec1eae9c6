// Hashes: HSET, HGET and the rest of Redis's HASH group, with Redis 7 replies and error texts.
//
// Model: the value is a HashObject (engine/hash_object.h). Handlers parse their arguments, call
// the hash Ops (commands/hash_ops.h), and reply from what they return; the Ops find or create
// the hash, change it in place and log one delta with the resulting field values (HINCRBY and
// HINCRBYFLOAT log the new value, not the increment), so replay never depends on anything but
// the value. A command that empties the hash deletes the key instead.
//
// The hot path is HSET on a big hash: one hash of the field (HashObject::Set), the delta built
// into a per-thread buffer while the fields are set (HashObject::SetFields), one
// Keyspace::Delta.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "base/glob.h"
#include "base/numbers.h"
#include "commands/collection_scan.h"
#include "commands/context.h"
#include "commands/errors.h"
#include "commands/hash_ops.h"
#include "commands/string_ops.h"
#include "engine/hash_object.h"

namespace fdb {

namespace {

constexpr const char* kNanOrInfArg = "ERR value is NaN or Infinity";
constexpr const char* kValueOutOfRange = "ERR value is out of range";
constexpr const char* kCountRange =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

// The hash at `key` for a read-only command that walks it: false after a WRONGTYPE reply;
// *h is nullptr when the key is missing.
bool ReadHash(CommandContext& ctx, std::string_view key, const HashObject** h) {
  OpResult<const HashObject*> r = OpFindHash(ctx.op(), key);
  if (!r.ok()) {
    ctx.ReplyError(r.status());
    return false;
  }
  *h = *r;
  return true;
}

// --- Writes ---

// HSET key field value [field value ...] / HMSET (replies OK).
void HSetGeneric(CmdArgs args, CommandContext& ctx, bool hmset) {
  if (args.size() % 2 == 1) return ctx.rb.Error(WrongArityError(ctx.spec.name));
  OpResult<int64_t> added = OpHSet(ctx.op(), args[1], args.subspan(2));
  if (!added.ok()) return ctx.ReplyError(added.status());
  ctx.Dirty((args.size() - 2) / 2);
  if (hmset) return ctx.rb.Ok();
  ctx.rb.Integer(*added);
}

void CmdHSet(CmdArgs args, CommandContext& ctx) { HSetGeneric(args, ctx, false); }
void CmdHMSet(CmdArgs args, CommandContext& ctx) { HSetGeneric(args, ctx, true); }

void CmdHSetNx(CmdArgs args, CommandContext& ctx) {
  OpResult<bool> set = OpHSetNx(ctx.op(), args[1], args[2], args[3]);
  if (!set.ok()) return ctx.ReplyError(set.status());
  if (*set) ctx.Dirty();
  ctx.rb.Integer(*set ? 1 : 0);
}

void CmdHDel(CmdArgs args, CommandContext& ctx) {
  OpResult<int64_t> deleted = OpHDel(ctx.op(), args[1], args.subspan(2));
  if (!deleted.ok()) return ctx.ReplyError(deleted.status());
  if (*deleted > 0) ctx.Dirty(static_cast<uint64_t>(*deleted));
  ctx.rb.Integer(*deleted);
}

void CmdHIncrBy(CmdArgs args, CommandContext& ctx) {
  int64_t incr;
  if (!ParseInt64(args[3], &incr)) return ctx.rb.Error(errors::kNotInteger);
  OpResult<int64_t> v = OpHIncrBy(ctx.op(), args[1], args[2], incr);
  if (!v.ok()) return ctx.ReplyError(v.status());
  ctx.Dirty();
  ctx.rb.Integer(*v);
}

void CmdHIncrByFloat(CmdArgs args, CommandContext& ctx) {
  long double incr;
  if (!ParseLongDouble(args[3], &incr)) return ctx.rb.Error(errors::kNotFloat);
  if (std::isnan(incr) || std::isinf(incr)) return ctx.rb.Error(kNanOrInfArg);
  OpResult<std::string> v = OpHIncrByFloat(ctx.op(), args[1], args[2], incr);
  if (!v.ok()) return ctx.ReplyError(v.status());
  ctx.Dirty();
  ctx.rb.Bulk(*v);
}

// --- Reads ---

void CmdHGet(CmdArgs args, CommandContext& ctx) {
  OpResult<std::optional<std::string_view>> v = OpHGet(ctx.op(), args[1], args[2]);
  if (!v.ok()) return ctx.ReplyError(v.status());
  if (!v->has_value()) return ctx.rb.NullBulk();
  ctx.rb.Bulk(**v);
}

void CmdHMGet(CmdArgs args, CommandContext& ctx) {
  const HashObject* h;
  if (!ReadHash(ctx, args[1], &h)) return;
  ctx.rb.ArrayHeader(args.size() - 2);
  for (size_t i = 2; i < args.size(); i++) {
    std::string_view v;
    if (h != nullptr && h->Get(args[i], &v)) {
      ctx.rb.Bulk(v);
    } else {
      ctx.rb.NullBulk();
    }
  }
}

void CmdHLen(CmdArgs args, CommandContext& ctx) {
  OpResult<int64_t> n = OpHLen(ctx.op(), args[1]);
  if (!n.ok()) return ctx.ReplyError(n.status());
  ctx.rb.Integer(*n);
}

void CmdHStrLen(CmdArgs args, CommandContext& ctx) {
  OpResult<std::optional<std::string_view>> v = OpHGet(ctx.op(), args[1], args[2]);
  if (!v.ok()) return ctx.ReplyError(v.status());
  ctx.rb.Integer(v->has_value() ? static_cast<int64_t>((*v)->size()) : 0);
}

void CmdHExists(CmdArgs args, CommandContext& ctx) {
  OpResult<std::optional<std::string_view>> v = OpHGet(ctx.op(), args[1], args[2]);
  if (!v.ok()) return ctx.ReplyError(v.status());
  ctx.rb.Integer(v->has_value() ? 1 : 0);
}

enum class Part { kKeys, kValues, kAll };

void ReplyHash(CmdArgs args, CommandContext& ctx, Part part) {
  const HashObject* h;
  if (!ReadHash(ctx, args[1], &h)) return;
  size_t n = h ? h->Size() : 0;
  if (part == Part::kAll) {
    ctx.rb.MapHeader(n);
  } else {
    ctx.rb.ArrayHeader(n);
  }
  if (h == nullptr) return;
  h->ForEach([&](std::string_view f, std::string_view v) {
    if (part != Part::kValues) ctx.rb.Bulk(f);
    if (part != Part::kKeys) ctx.rb.Bulk(v);
  });
}

void CmdHKeys(CmdArgs args, CommandContext& ctx) { ReplyHash(args, ctx, Part::kKeys); }
void CmdHVals(CmdArgs args, CommandContext& ctx) { ReplyHash(args, ctx, Part::kValues); }
void CmdHGetAll(CmdArgs args, CommandContext& ctx) { ReplyHash(args, ctx, Part::kAll); }

// HRANDFIELD key [count [WITHVALUES]], as Redis's hrandfieldCommand.
void CmdHRandField(CmdArgs args, CommandContext& ctx) {
  if (args.size() == 2) {
    const HashObject* h;
    if (!ReadHash(ctx, args[1], &h)) return;
    if (h == nullptr) return ctx.rb.NullBulk();
    std::string_view f, v;
    h->Random(&f, &v);
    return ctx.rb.Bulk(f);
  }
  int64_t l;
  if (!ParseInt64(args[2], &l)) return ctx.rb.Error(errors::kNotInteger);
  if (l == INT64_MIN) return ctx.rb.Error(kCountRange);
  bool withvalues = false;
  if (args.size() > 4 || (args.size() == 4 && !EqualsUpper(args[3], "WITHVALUES"))) {
    return ctx.rb.Error(errors::kSyntax);
  }
  if (args.size() == 4) {
    withvalues = true;
    // Twice the count must fit a reply length (Redis's check).
    if (l < -INT64_MAX / 2 || l > INT64_MAX / 2) return ctx.rb.Error(kValueOutOfRange);
  }
  const HashObject* h;
  if (!ReadHash(ctx, args[1], &h)) return;
  if (h == nullptr || l == 0) return ctx.rb.ArrayHeader(0);
  const bool pairs3 = withvalues && ctx.rb.resp3();
  auto reply_header = [&](uint64_t n) { ctx.rb.ArrayHeader(withvalues && !pairs3 ? n * 2 : n); };
  auto reply_pair = [&](std::string_view f, std::string_view v) {
    if (pairs3) ctx.rb.ArrayHeader(2);
    ctx.rb.Bulk(f);
    if (withvalues) ctx.rb.Bulk(v);
  };
  const uint64_t size = h->Size();
  if (l < 0 || l == 1) {
    // Draws with repetition (a negative count), or a single draw.
    uint64_t count = l < 0 ? static_cast<uint64_t>(-l) : 1;
    reply_header(count);
    for (uint64_t i = 0; i < count; i++) {
      std::string_view f, v;
      h->Random(&f, &v);
      reply_pair(f, v);
    }
    return;
  }
  const uint64_t count = static_cast<uint64_t>(l);
  if (count >= size) {
    reply_header(size);
    h->ForEach(reply_pair);
    return;
  }
  reply_header(count);
  if (count * 3 > size) {
    // Many of the fields: shuffle them all and take the first `count` (Redis's case 3).
    std::vector<std::pair<std::string_view, std::string_view>> all;
    all.reserve(size);
    h->ForEach([&](std::string_view f, std::string_view v) { all.emplace_back(f, v); });
    for (uint64_t i = 0; i < count; i++) {
      uint64_t j = i + RandomU64() % (size - i);
      std::swap(all[i], all[j]);
      reply_pair(all[i].first, all[i].second);
    }
    return;
  }
  // Few of the fields: draw until `count` distinct ones (Redis's case 4).
  absl::flat_hash_set<std::string_view> seen;
  seen.reserve(count);
  while (seen.size() < count) {
    std::string_view f, v;
    h->Random(&f, &v);
    if (seen.insert(f).second) reply_pair(f, v);
  }
}

void CmdHScan(CmdArgs args, CommandContext& ctx) {
  uint64_t cursor;
  if (!ParseCollectionCursor(args[2], &cursor)) return ctx.rb.Error(errors::kInvalidCursor);
  const HashObject* h;
  if (!ReadHash(ctx, args[1], &h)) return;
  if (h == nullptr) {
    ctx.rb.ArrayHeader(2);
    ctx.rb.Bulk("0");
    return ctx.rb.ArrayHeader(0);
  }
  CollectionScanOptions opt;
  if (const char* err = ParseCollectionScanOptions(args, 3, &opt)) return ctx.rb.Error(err);
  std::vector<std::pair<std::string_view, std::string_view>> out;
  uint64_t visited = 0;
  uint64_t steps = CollectionScanMaxSteps(opt.count);
  auto visit = [&](std::string_view f, std::string_view v) {
    visited++;
    if (opt.pattern.empty() || GlobMatch(opt.pattern, f)) out.emplace_back(f, v);
  };
  // As Redis, COUNT bounds the reply elements visited, and a field is two of them.
  do {
    cursor = h->Scan(cursor, visit);
  } while (cursor != 0 && --steps > 0 && visited * 2 < opt.count);
  ctx.rb.ArrayHeader(2);
  ctx.rb.Bulk(std::to_string(cursor));
  ctx.rb.ArrayHeader(out.size() * 2);
  for (const auto& [f, v] : out) {
    ctx.rb.Bulk(f);
    ctx.rb.Bulk(v);
  }
}

}  // namespace

// One row per command: name, arity, flags, first/last/step key positions, handler, group,
// summary, since. Arity, flags and key positions are Redis 7's.
void RegisterHashFamily(CommandRegistry& r) {
  using namespace cmdflags;
  // clang-format off
  r.Register({"hset", -4, kWrite | kDenyOom | kFast, 1, 1, 1, CmdHSet, "hash",
              "Creates or modifies the value of a field in a hash.", "2.0.0"});
  r.Register({"hmset", -4, kWrite | kDenyOom | kFast, 1, 1, 1, CmdHMSet, "hash",
              "Sets the values of multiple fields.", "2.0.0"});
  r.Register({"hsetnx", 4, kWrite | kDenyOom | kFast, 1, 1, 1, CmdHSetNx, "hash",
              "Sets the value of a field in a hash only when the field doesn't exist.", "2.0.0"});
  r.Register({"hget", 3, kReadOnly | kFast, 1, 1, 1, CmdHGet, "hash",
              "Returns the value of a field in a hash.", "2.0.0"});
  r.Register({"hmget", -3, kReadOnly | kFast, 1, 1, 1, CmdHMGet, "hash",
              "Returns the values of all fields in a hash.", "2.0.0"});
  r.Register({"hdel", -3, kWrite | kFast, 1, 1, 1, CmdHDel, "hash",
              "Deletes one or more fields and their values from a hash. Deletes the hash if no "
              "fields remain.", "2.0.0"});
  r.Register({"hlen", 2, kReadOnly | kFast, 1, 1, 1, CmdHLen, "hash",
              "Returns the number of fields in a hash.", "2.0.0"});
  r.Register({"hstrlen", 3, kReadOnly | kFast, 1, 1, 1, CmdHStrLen, "hash",
              "Returns the length of the value of a field.", "3.2.0"});
  r.Register({"hexists", 3, kReadOnly | kFast, 1, 1, 1, CmdHExists, "hash",
              "Determines whether a field exists in a hash.", "2.0.0"});
  r.Register({"hkeys", 2, kReadOnly, 1, 1, 1, CmdHKeys, "hash",
              "Returns all fields in a hash.", "2.0.0"});
  r.Register({"hvals", 2, kReadOnly, 1, 1, 1, CmdHVals, "hash",
              "Returns all values in a hash.", "2.0.0"});
  r.Register({"hgetall", 2, kReadOnly, 1, 1, 1, CmdHGetAll, "hash",
              "Returns all fields and values in a hash.", "2.0.0"});
  r.Register({"hincrby", 4, kWrite | kDenyOom | kFast, 1, 1, 1, CmdHIncrBy, "hash",
              "Increments the integer value of a field in a hash by a number. Uses 0 as initial "
              "value if the field doesn't exist.", "2.0.0"});
  r.Register({"hincrbyfloat", 4, kWrite | kDenyOom | kFast, 1, 1, 1, CmdHIncrByFloat, "hash",
              "Increments the floating point value of a field by a number. Uses 0 as initial "
              "value if the field doesn't exist.", "2.6.0"});
  r.Register({"hrandfield", -2, kReadOnly, 1, 1, 1, CmdHRandField, "hash",
              "Returns one or more random fields from a hash.", "6.2.0"});
  r.Register({"hscan", -3, kReadOnly, 1, 1, 1, CmdHScan, "hash",
              "Iterates over fields and values of a hash.", "2.8.0"});
  // clang-format on
}

}  // namespace fdb
