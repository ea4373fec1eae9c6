// HyperLogLog: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST, with Redis 7.0's replies and
// error texts. An HLL is a string value in Redis's representation (commands/hll.h).
//
// Logging: a command works on a copy of the value and then writes back only the bytes that
// differ, as string range deltas (Keyspace::WriteRange): a PFADD to a dense HLL of 12 KB logs
// the register bytes it raised and the header's cache byte, not the HLL. When the length
// changes (a sparse HLL whose runs were split or merged, or one made dense) the value is
// written whole; a sparse HLL is at most hll-sparse-max-bytes (3000 by default).
#include <charconv>
#include <memory>
#include <string>
#include <vector>

#include "commands/context.h"
#include "commands/errors.h"
#include "commands/hll.h"

namespace fdb {

namespace {

constexpr const char* kNotHll = "WRONGTYPE Key is not a valid HyperLogLog string value.";
constexpr const char* kCorrupted = "INVALIDOBJ Corrupted HLL object detected";
constexpr const char* kNoKey = "ERR The specified key does not exist";

// What an HLL lookup found.
enum class Found { kMissing, kHll, kWrongType, kNotHll };

struct IntBuf {
  char buf[24];
};

Found Inspect(const Entry* e, std::string_view* bytes) {
  if (e == nullptr) return Found::kMissing;
  if (e->type() != ValueType::kString) return Found::kWrongType;
  if (e->is_int()) return Found::kNotHll;  // a number is never an HLL (too short)
  *bytes = e->string_bytes();
  return hll::IsHll(*bytes) ? Found::kHll : Found::kNotHll;
}

bool ReplyLookupError(CommandContext& ctx, Found f) {
  if (f == Found::kWrongType) {
    ctx.rb.Error(errors::kWrongType);
    return true;
  }
  if (f == Found::kNotHll) {
    ctx.rb.Error(kNotHll);
    return true;
  }
  return false;
}

size_t SparseMax(CommandContext& ctx) {
  return static_cast<size_t>(ctx.server.config().hll_sparse_max_bytes());
}

// Makes k's value `now` (was `old`, the value of entry e; e nullptr: the key is new), logging
// only what changed (see the file comment).
void Store(CommandContext& ctx, const KeyRef& k, Entry* e, std::string_view old,
           const std::string& now) {
  if (e == nullptr || old.size() != now.size()) {
    Entry* n = Entry::NewInlineString(k.key, now.size(), /*raw=*/true);
    memcpy(n->mutable_inline_value(), now.data(), now.size());
    if (e != nullptr) n->set_expire_ms(e->expire_ms());
    ctx.ks.Put(ctx.txn, ctx.db, k, n);
    return;
  }
  // Runs of differing bytes; runs closer than kGap are written as one.
  constexpr size_t kGap = 16;
  std::vector<std::pair<size_t, size_t>> runs;  // [begin, end)
  for (size_t i = 0; i < now.size(); i++) {
    if (old[i] == now[i]) continue;
    if (!runs.empty() && i - runs.back().second < kGap) {
      runs.back().second = i + 1;
    } else {
      runs.emplace_back(i, i + 1);
    }
  }
  for (const auto& [b, end] : runs) {
    e = ctx.ks.WriteRange(ctx.txn, ctx.db, k, e, b, std::string_view(now).substr(b, end - b));
  }
}

// PFADD to a dense HLL: each raised register's one or two bytes are written in place and
// logged, then the cache byte once; no copy of the 12 KB value.
void PfAddDense(CmdArgs args, CommandContext& ctx, const KeyRef& k, Entry* e) {
  int updated = 0;
  for (size_t j = 2; j < args.size(); j++) {
    int index;
    const auto count = static_cast<uint8_t>(hll::PatternLength(args[j], &index));
    const auto* regs =
        reinterpret_cast<const uint8_t*>(e->string_bytes().data()) + hll::kHeaderSize;
    if (hll::DenseGet(regs, index) >= count) continue;
    // The one or two bytes the register spans (6 bits at bit 6*index, low bits first),
    // changed in a copy.
    const size_t first = static_cast<size_t>(index) * hll::kBits / 8;
    const size_t bit = static_cast<size_t>(index) * hll::kBits - first * 8;
    const size_t n = bit > 8 - hll::kBits ? 2 : 1;
    uint8_t all[2] = {regs[first], n == 2 ? regs[first + 1] : uint8_t{0}};
    all[0] = static_cast<uint8_t>((all[0] & ~(63u << bit)) | (static_cast<unsigned>(count) << bit));
    if (n == 2) {
      const unsigned placed = 8 - static_cast<unsigned>(bit);
      all[1] = static_cast<uint8_t>((all[1] & ~(63u >> placed)) | (count >> placed));
    }
    e = ctx.ks.WriteRange(ctx.txn, ctx.db, k, e, hll::kHeaderSize + first,
                          std::string_view(reinterpret_cast<const char*>(all), n));
    updated++;
  }
  if (updated > 0) {
    const auto card7 = static_cast<uint8_t>(e->string_bytes()[15]);
    if ((card7 & 0x80) == 0) {
      const char c = static_cast<char>(card7 | 0x80);  // the cached cardinality is stale
      ctx.ks.WriteRange(ctx.txn, ctx.db, k, e, 15, std::string_view(&c, 1));
    }
    ctx.Dirty(static_cast<uint64_t>(updated));
  }
  ctx.rb.Integer(updated > 0 ? 1 : 0);
}

void CmdPfAdd(CmdArgs args, CommandContext& ctx) {
  KeyRef k(args[1]);
  Entry* e = ctx.ks.Find(ctx.txn, ctx.db, k, ctx.now_ms, ctx.touch());
  std::string_view old;
  Found f = Inspect(e, &old);
  if (ReplyLookupError(ctx, f)) return;
  if (f == Found::kHll && hll::IsDense(old)) return PfAddDense(args, ctx, k, e);
  std::string v = f == Found::kMissing ? hll::NewEmpty() : std::string(old);
  int updated = f == Found::kMissing ? 1 : 0;
  const size_t sparse_max = SparseMax(ctx);
  for (size_t j = 2; j < args.size(); j++) {
    int r = hll::Add(&v, args[j], sparse_max);
    if (r < 0) {
      // As Redis, which changes the value in place: the elements added before the corrupted
      // part was met stay added (the cached cardinality is left as it was).
      if (updated > 0) Store(ctx, k, f == Found::kMissing ? nullptr : e, old, v);
      return ctx.rb.Error(kCorrupted);
    }
    updated += r;
  }
  if (updated > 0) {
    hll::InvalidateCache(&v);
    Store(ctx, k, f == Found::kMissing ? nullptr : e, old, v);
    ctx.Dirty(static_cast<uint64_t>(updated));
  }
  ctx.rb.Integer(updated > 0 ? 1 : 0);
}

void CmdPfCount(CmdArgs args, CommandContext& ctx) {
  if (args.size() > 2) {
    // Several keys: the union's registers, nothing cached.
    auto max = std::make_unique<uint8_t[]>(hll::kRegisters);
    memset(max.get(), 0, hll::kRegisters);
    for (size_t j = 1; j < args.size(); j++) {
      KeyRef k(args[j]);
      Entry* e = ctx.ks.FindForRead(ctx.txn, ctx.db, k, ctx.now_ms, ctx.touch());
      std::string_view v;
      Found f = Inspect(e, &v);
      if (ReplyLookupError(ctx, f)) return;
      if (f == Found::kMissing) continue;
      if (!hll::MergeInto(v, max.get())) return ctx.rb.Error(kCorrupted);
    }
    return ctx.rb.Integer(static_cast<int64_t>(hll::CountRaw(max.get())));
  }
  KeyRef k(args[1]);
  Entry* e = ctx.ks.FindForRead(ctx.txn, ctx.db, k, ctx.now_ms, ctx.touch());
  std::string_view v;
  Found f = Inspect(e, &v);
  if (ReplyLookupError(ctx, f)) return;
  if (f == Found::kMissing) return ctx.rb.Integer(0);
  uint64_t card;
  if (hll::CachedCard(v, &card)) return ctx.rb.Integer(static_cast<int64_t>(card));
  if (!hll::Count(v, &card)) return ctx.rb.Error(kCorrupted);
  // The estimate is cached in the header, as Redis does (and logged: 8 bytes).
  std::string header(v.substr(0, hll::kHeaderSize));
  hll::SetCachedCard(&header, card);
  ctx.ks.WriteRange(ctx.txn, ctx.db, k, e, 8, std::string_view(header).substr(8, 8));
  ctx.Dirty();
  ctx.rb.Integer(static_cast<int64_t>(card));
}

void CmdPfMerge(CmdArgs args, CommandContext& ctx) {
  auto max = std::make_unique<uint8_t[]>(hll::kRegisters);
  memset(max.get(), 0, hll::kRegisters);
  bool use_dense = false;
  // The destination is one of the inputs.
  for (size_t j = 1; j < args.size(); j++) {
    KeyRef k(args[j]);
    Entry* e = ctx.ks.FindForRead(ctx.txn, ctx.db, k, ctx.now_ms, ctx.touch());
    std::string_view v;
    Found f = Inspect(e, &v);
    if (ReplyLookupError(ctx, f)) return;
    if (f == Found::kMissing) continue;
    if (hll::IsDense(v)) use_dense = true;
    if (!hll::MergeInto(v, max.get())) return ctx.rb.Error(kCorrupted);
  }
  KeyRef dk(args[1]);
  Entry* e = ctx.ks.Find(ctx.txn, ctx.db, dk, ctx.now_ms, ctx.touch());
  std::string_view old;
  Found f = Inspect(e, &old);
  std::string v = f == Found::kMissing ? hll::NewEmpty() : std::string(old);
  if (use_dense && !hll::ToDense(&v)) return ctx.rb.Error(kCorrupted);
  const size_t sparse_max = SparseMax(ctx);
  for (int i = 0; i < hll::kRegisters; i++) {
    if (max[i] == 0) continue;
    if (hll::SetRegister(&v, i, max[i], sparse_max) < 0) return ctx.rb.Error(kCorrupted);
  }
  hll::InvalidateCache(&v);
  Store(ctx, dk, f == Found::kMissing ? nullptr : e, old, v);
  ctx.Dirty();
  ctx.rb.Ok();
}

void CmdPfDebug(CmdArgs args, CommandContext& ctx) {
  std::string_view sub = args[1];
  KeyRef k(args[2]);
  Entry* e = ctx.ks.Find(ctx.txn, ctx.db, k, ctx.now_ms, ctx.touch());
  if (e == nullptr) return ctx.rb.Error(kNoKey);
  std::string_view old;
  Found f = Inspect(e, &old);
  if (ReplyLookupError(ctx, f)) return;
  if (EqualsUpper(sub, "GETREG")) {
    if (args.size() != 3) return ctx.rb.Error(WrongArityError("pfdebug"));
    std::string v(old);
    if (!hll::IsDense(v)) {
      // As Redis: reading the registers makes the HLL dense.
      if (!hll::ToDense(&v)) return ctx.rb.Error(kCorrupted);
      Store(ctx, k, e, old, v);
      ctx.Dirty();
    }
    const auto* regs = reinterpret_cast<const uint8_t*>(v.data()) + hll::kHeaderSize;
    ctx.rb.ArrayHeader(hll::kRegisters);
    for (int i = 0; i < hll::kRegisters; i++) ctx.rb.Integer(hll::DenseGet(regs, i));
  } else if (EqualsUpper(sub, "DECODE")) {
    if (args.size() != 3) return ctx.rb.Error(WrongArityError("pfdebug"));
    if (hll::IsDense(old)) return ctx.rb.Error("ERR HLL encoding is not sparse");
    std::string out;
    if (!hll::DecodeSparse(old, &out)) return ctx.rb.Error(kCorrupted);
    ctx.rb.SimpleString(out);
  } else if (EqualsUpper(sub, "ENCODING")) {
    if (args.size() != 3) return ctx.rb.Error(WrongArityError("pfdebug"));
    ctx.rb.SimpleString(hll::IsDense(old) ? "dense" : "sparse");
  } else if (EqualsUpper(sub, "TODENSE")) {
    if (args.size() != 3) return ctx.rb.Error(WrongArityError("pfdebug"));
    if (hll::IsDense(old)) return ctx.rb.Integer(0);
    std::string v(old);
    if (!hll::ToDense(&v)) return ctx.rb.Error(kCorrupted);
    Store(ctx, k, e, old, v);
    ctx.Dirty();
    ctx.rb.Integer(1);
  } else {
    ctx.rb.Error("ERR Unknown PFDEBUG subcommand '" + std::string(sub) + "'");
  }
}

void CmdPfSelfTest(CmdArgs, CommandContext& ctx) {
  std::string failed = hll::SelfTest(SparseMax(ctx));
  if (!failed.empty()) return ctx.rb.Error(failed);
  ctx.rb.Ok();
}

}  // namespace

void RegisterHyperLogLogFamily(CommandRegistry& r) {
  using namespace cmdflags;
  // clang-format off
  r.Register({"pfadd", -2, kWrite | kDenyOom | kFast, 1, 1, 1, CmdPfAdd, "hyperloglog",
              "Adds elements to a HyperLogLog key. Creates the key if it doesn't exist.",
              "2.8.9"});
  // PFCOUNT of one key caches the estimate in the value, as Redis (READONLY there too).
  r.Register({"pfcount", -2, kReadOnly, 1, -1, 1, CmdPfCount, "hyperloglog",
              "Returns the approximated cardinality of the set(s) observed by the HyperLogLog "
              "key(s).", "2.8.9"});
  r.Register({"pfmerge", -2, kWrite | kDenyOom, 1, -1, 1, CmdPfMerge, "hyperloglog",
              "Merges one or more HyperLogLog values into a single key.", "2.8.9"});
  r.Register({"pfdebug", 3, kWrite | kDenyOom | kAdmin, 2, 2, 1, CmdPfDebug, "hyperloglog",
              "Internal commands for debugging HyperLogLog values.", "2.8.9"});
  r.Register({"pfselftest", 1, kAdmin, 0, 0, 0, CmdPfSelfTest, "hyperloglog",
              "An internal command for testing HyperLogLog values.", "2.8.9"});
  // clang-format on
}

}  // namespace fdb
