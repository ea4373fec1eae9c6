// Hashes: HSET, HGET and the rest of Redis's HASH group, with Redis 7 replies and error texts.
//
// Model: the value is a HashObject (engine/hash_object.h). A write finds or creates the hash
// (collection_util.h), changes it in place and logs one delta with the resulting field values
// (HINCRBY and HINCRBYFLOAT log the new value, not the increment), so replay never depends on
// anything but the value. A command that empties the hash deletes the key instead.
//
// The hot path is HSET on a big hash: one hash of the field (HashObject::Set), the delta built
// once into a per-thread buffer while the fields are set, one Keyspace::Delta.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "base/glob.h"
#include "base/numbers.h"
#include "commands/collection_scan.h"
#include "commands/collection_util.h"
#include "commands/context.h"
#include "commands/errors.h"
#include "commands/string_ops.h"
#include "engine/hash_object.h"

namespace fdb {

namespace {

constexpr const char* kHashNotInteger = "ERR hash value is not an integer";
constexpr const char* kHashNotFloat = "ERR hash value is not a float";
constexpr const char* kNanOrInfArg = "ERR value is NaN or Infinity";
constexpr const char* kValueOutOfRange = "ERR value is out of range";
constexpr const char* kCountRange =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

HashObject* AsHash(Entry* e) { return static_cast<HashObject*>(e->object()); }

// The delta of one command, built in a buffer each thread reuses (no allocation per HSET).
std::string& DeltaBuffer() {
  thread_local std::string buf;
  if (buf.capacity() > (1u << 20)) std::string().swap(buf);  // do not keep a huge one
  buf.clear();
  return buf;
}

// The hash at args[1] for reading: nullptr when missing or on WRONGTYPE (already replied).
HashObject* ReadHash(CommandContext& ctx, std::string_view key, bool* wrongtype) {
  Entry* e = FindCollection(ctx, KeyRef(key), ValueType::kHash, wrongtype);
  return e ? AsHash(e) : nullptr;
}

// --- Writes ---

// HSET key field value [field value ...] / HMSET (replies OK).
void HSetGeneric(CmdArgs args, CommandContext& ctx, bool hmset) {
  if (args.size() % 2 == 1) return ctx.rb.Error(WrongArityError(ctx.spec.name));
  KeyRef k(args[1]);
  bool wrongtype;
  Entry* e = FindOrCreateCollection(ctx, k, ValueType::kHash, &wrongtype);
  if (wrongtype) return;
  HashObject* h = AsHash(e);
  const size_t pairs = (args.size() - 2) / 2;
  std::string& d = DeltaBuffer();
  HashObject::BeginDelta(&d, HashObject::kDeltaSet, pairs);
  int64_t added = 0;
  for (size_t i = 2; i < args.size(); i += 2) {
    added += h->Set(args[i], args[i + 1]);
    coding::PutBytes(&d, args[i]);
    coding::PutBytes(&d, args[i + 1]);
  }
  ctx.ks.Delta(ctx.txn, ctx.db, k, e, d);
  ctx.Dirty(pairs);
  if (hmset) return ctx.rb.Ok();
  ctx.rb.Integer(added);
}

void CmdHSet(CmdArgs args, CommandContext& ctx) { HSetGeneric(args, ctx, false); }
void CmdHMSet(CmdArgs args, CommandContext& ctx) { HSetGeneric(args, ctx, true); }

// Logs `field = value` on the hash at k (creating the key when e is nullptr).
void SetOneField(CommandContext& ctx, const KeyRef& k, Entry* e, std::string_view field,
                 std::string_view value) {
  if (e == nullptr) {
    e = ctx.ks.Create(ctx.txn, ctx.db, k, Entry::NewObject(k.key, NewHashObject()));
  }
  AsHash(e)->Set(field, value);
  std::string& d = DeltaBuffer();
  HashObject::BeginDelta(&d, HashObject::kDeltaSet, 1);
  coding::PutBytes(&d, field);
  coding::PutBytes(&d, value);
  ctx.ks.Delta(ctx.txn, ctx.db, k, e, d);
  ctx.Dirty();
}

void CmdHSetNx(CmdArgs args, CommandContext& ctx) {
  KeyRef k(args[1]);
  bool wrongtype;
  Entry* e = FindCollection(ctx, k, ValueType::kHash, &wrongtype, /*for_read=*/false);
  if (wrongtype) return;
  std::string_view old;
  if (e != nullptr && AsHash(e)->Get(args[2], &old)) return ctx.rb.Integer(0);
  SetOneField(ctx, k, e, args[2], args[3]);
  ctx.rb.Integer(1);
}

void CmdHDel(CmdArgs args, CommandContext& ctx) {
  KeyRef k(args[1]);
  bool wrongtype;
  Entry* e = FindCollection(ctx, k, ValueType::kHash, &wrongtype, /*for_read=*/false);
  if (e == nullptr) return wrongtype ? void() : ctx.rb.Integer(0);
  HashObject* h = AsHash(e);
  // Every field named is logged: deleting a missing field replays as a no-op, and the delta
  // is built in the same pass.
  std::string& d = DeltaBuffer();
  HashObject::BeginDelta(&d, HashObject::kDeltaDel, args.size() - 2);
  int64_t deleted = 0;
  for (size_t i = 2; i < args.size(); i++) {
    deleted += h->Delete(args[i]);
    coding::PutBytes(&d, args[i]);
  }
  if (deleted > 0) {
    DeltaOrDeleteIfEmpty(ctx, k, e, d);
    ctx.Dirty(static_cast<uint64_t>(deleted));
  }
  ctx.rb.Integer(deleted);
}

void CmdHIncrBy(CmdArgs args, CommandContext& ctx) {
  int64_t incr;
  if (!ParseInt64(args[3], &incr)) return ctx.rb.Error(errors::kNotInteger);
  KeyRef k(args[1]);
  bool wrongtype;
  Entry* e = FindCollection(ctx, k, ValueType::kHash, &wrongtype, /*for_read=*/false);
  if (wrongtype) return;
  int64_t v = 0;
  std::string_view cur;
  if (e != nullptr && AsHash(e)->Get(args[2], &cur) && !ParseInt64(cur, &v)) {
    return ctx.rb.Error(kHashNotInteger);
  }
  int64_t result;
  if (__builtin_add_overflow(v, incr, &result)) return ctx.rb.Error(errors::kOverflow);
  std::string text = FormatInt64(result);
  SetOneField(ctx, k, e, args[2], text);
  ctx.rb.Integer(result);
}

void CmdHIncrByFloat(CmdArgs args, CommandContext& ctx) {
  long double incr;
  if (!ParseLongDouble(args[3], &incr)) return ctx.rb.Error(errors::kNotFloat);
  if (std::isnan(incr) || std::isinf(incr)) return ctx.rb.Error(kNanOrInfArg);
  KeyRef k(args[1]);
  bool wrongtype;
  Entry* e = FindCollection(ctx, k, ValueType::kHash, &wrongtype, /*for_read=*/false);
  if (wrongtype) return;
  long double v = 0;
  std::string_view cur;
  if (e != nullptr && AsHash(e)->Get(args[2], &cur) && !ParseLongDouble(cur, &v)) {
    return ctx.rb.Error(kHashNotFloat);
  }
  v += incr;
  if (std::isnan(v) || std::isinf(v)) return ctx.rb.Error(errors::kNanOrInf);
  std::string buf(kLongDoubleChars, '\0');
  buf.resize(FormatLongDoubleHuman(v, buf.data()));
  SetOneField(ctx, k, e, args[2], buf);  // the resulting value is logged, not the increment
  ctx.rb.Bulk(buf);
}

// --- Reads ---

void CmdHGet(CmdArgs args, CommandContext& ctx) {
  bool wrongtype;
  HashObject* h = ReadHash(ctx, args[1], &wrongtype);
  if (wrongtype) return;
  std::string_view v;
  if (h == nullptr || !h->Get(args[2], &v)) return ctx.rb.NullBulk();
  ctx.rb.Bulk(v);
}

void CmdHMGet(CmdArgs args, CommandContext& ctx) {
  bool wrongtype;
  HashObject* h = ReadHash(ctx, args[1], &wrongtype);
  if (wrongtype) return;
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
  bool wrongtype;
  HashObject* h = ReadHash(ctx, args[1], &wrongtype);
  if (wrongtype) return;
  ctx.rb.Integer(h ? static_cast<int64_t>(h->Size()) : 0);
}

void CmdHStrLen(CmdArgs args, CommandContext& ctx) {
  bool wrongtype;
  HashObject* h = ReadHash(ctx, args[1], &wrongtype);
  if (wrongtype) return;
  std::string_view v;
  ctx.rb.Integer(h != nullptr && h->Get(args[2], &v) ? static_cast<int64_t>(v.size()) : 0);
}

void CmdHExists(CmdArgs args, CommandContext& ctx) {
  bool wrongtype;
  HashObject* h = ReadHash(ctx, args[1], &wrongtype);
  if (wrongtype) return;
  std::string_view v;
  ctx.rb.Integer(h != nullptr && h->Get(args[2], &v) ? 1 : 0);
}

enum class Part { kKeys, kValues, kAll };

void ReplyHash(CmdArgs args, CommandContext& ctx, Part part) {
  bool wrongtype;
  HashObject* h = ReadHash(ctx, args[1], &wrongtype);
  if (wrongtype) return;
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
    bool wrongtype;
    HashObject* h = ReadHash(ctx, args[1], &wrongtype);
    if (wrongtype) return;
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
  bool wrongtype;
  HashObject* h = ReadHash(ctx, args[1], &wrongtype);
  if (wrongtype) return;
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
  bool wrongtype;
  HashObject* h = ReadHash(ctx, args[1], &wrongtype);
  if (wrongtype) return;
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
