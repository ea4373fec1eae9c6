// Bitmaps on strings: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO, with
// Redis 7.0's replies and error texts.
//
// Model: a bitmap is a string value (engine/entry.h). The algorithms are in bit_ops.h; the
// handlers here parse, find the key, and reply. A write to part of a string (SETBIT, each SET or
// INCRBY of BITFIELD) goes through Keyspace::WriteRange, which changes the value in place when
// it can and logs a string range delta of the bytes it wrote: a SETBIT on a 100 MB bitmap logs
// a few bytes, not the bitmap (docs/format.md, "String range deltas"). BITOP builds a new value
// and logs it whole, as SET does.
//
// Bounds: a bit offset is below 8 * proto-max-bulk-len (2^32 with the default 512 MB), as in
// Redis, so no command grows a string past that.
#include <charconv>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "commands/bit_ops.h"
#include "commands/context.h"
#include "commands/errors.h"
#include "commands/notify.h"

namespace fdb {

namespace {

constexpr const char* kBitOffsetError = "ERR bit offset is not an integer or out of range";
constexpr const char* kBitValueError = "ERR bit is not an integer or out of range";
constexpr const char* kBitArgError = "ERR The bit argument must be 1 or 0.";
constexpr const char* kBitOpNotError = "ERR BITOP NOT must be called with a single source key.";
constexpr const char* kBitfieldTypeError =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but "
    "i64 is.";
constexpr const char* kOverflowTypeError = "ERR Invalid OVERFLOW type specified";
constexpr const char* kBitfieldRoError = "ERR BITFIELD_RO only supports the GET subcommand";

struct IntBuf {
  char buf[24];
};

// The bytes of string entry e (an integer formatted into `tmp`).
std::string_view BytesOf(const Entry* e, IntBuf* tmp) {
  if (!e->is_int()) return e->string_bytes();
  auto r = std::to_chars(tmp->buf, tmp->buf + sizeof(tmp->buf), e->int_value());
  return {tmp->buf, static_cast<size_t>(r.ptr - tmp->buf)};
}

// A bit offset argument, as Redis's getBitOffsetFromArgument: a non-negative integer whose
// byte is below proto-max-bulk-len; with `hash_ok`, "#N" means N * bits.
bool ParseBitOffset(CommandContext& ctx, std::string_view arg, bool hash_ok, int bits,
                    uint64_t* out) {
  bool hash = false;
  if (hash_ok && !arg.empty() && arg[0] == '#') {
    hash = true;
    arg.remove_prefix(1);
  }
  int64_t v;
  if (!ParseInt64(arg, &v) || v < 0) return false;
  if (hash) {
    if (v > INT64_MAX / bits) return false;
    v *= bits;
  }
  if ((v >> 3) >= ctx.server.config().proto_max_bulk_len()) return false;
  *out = static_cast<uint64_t>(v);
  return true;
}

// The live entry of k for a read: nullptr when missing; *wrong when of another type.
Entry* FindString(CommandContext& ctx, const KeyRef& k, bool* wrong) {
  Entry* e = ctx.ks.FindForRead(ctx.txn, ctx.db, k, ctx.now_ms, ctx.touch());
  *wrong = e != nullptr && e->type() != ValueType::kString;
  return e;
}

void CmdSetBit(CmdArgs args, CommandContext& ctx) {
  uint64_t offset;
  if (!ParseBitOffset(ctx, args[2], false, 1, &offset)) return ctx.rb.Error(kBitOffsetError);
  if (args[3] != "0" && args[3] != "1") return ctx.rb.Error(kBitValueError);
  const bool on = args[3] == "1";
  KeyRef k(args[1]);
  Entry* e = ctx.ks.Find(ctx.txn, ctx.db, k, ctx.now_ms, ctx.touch());
  if (e != nullptr && e->type() != ValueType::kString) return ctx.rb.Error(errors::kWrongType);
  IntBuf tmp;
  std::string_view cur = e != nullptr ? BytesOf(e, &tmp) : std::string_view();
  const uint64_t byte = offset >> 3;
  const uint8_t mask = static_cast<uint8_t>(0x80u >> (offset & 7));
  const uint8_t old = byte < cur.size() ? static_cast<uint8_t>(cur[byte]) : 0;
  const char now = static_cast<char>(on ? (old | mask) : (old & ~mask));
  // As Redis 7.0: a bit set to what it was, in a string that need not grow, is no change
  // (nothing logged, no dirty count, no event).
  if (e == nullptr || byte >= cur.size() || static_cast<uint8_t>(now) != old) {
    ctx.ks.WriteRange(ctx.txn, ctx.db, k, e, byte, std::string_view(&now, 1));
    ctx.Dirty();
  }
  ctx.rb.Integer((old & mask) ? 1 : 0);
}

void CmdGetBit(CmdArgs args, CommandContext& ctx) {
  uint64_t offset;
  if (!ParseBitOffset(ctx, args[2], false, 1, &offset)) return ctx.rb.Error(kBitOffsetError);
  KeyRef k(args[1]);
  bool wrong;
  Entry* e = FindString(ctx, k, &wrong);
  if (wrong) return ctx.rb.Error(errors::kWrongType);
  if (e == nullptr) return ctx.rb.Integer(0);
  IntBuf tmp;
  ctx.rb.Integer(GetBit(BytesOf(e, &tmp), offset));
}

// Parses "BYTE" / "BIT"; false if neither.
bool ParseUnit(std::string_view arg, bool* bit_unit) {
  if (EqualsUpper(arg, "BYTE")) {
    *bit_unit = false;
  } else if (EqualsUpper(arg, "BIT")) {
    *bit_unit = true;
  } else {
    return false;
  }
  return true;
}

void CmdBitCount(CmdArgs args, CommandContext& ctx) {
  KeyRef k(args[1]);
  bool wrong;
  // As Redis 7.0: a missing key is 0 before its arguments are looked at.
  Entry* e = FindString(ctx, k, &wrong);
  if (wrong) return ctx.rb.Error(errors::kWrongType);
  if (e == nullptr) return ctx.rb.Integer(0);
  IntBuf tmp;
  std::string_view s = BytesOf(e, &tmp);
  BitRange r;
  if (args.size() == 4 || args.size() == 5) {
    int64_t start, end;
    if (!ParseInt64(args[2], &start) || !ParseInt64(args[3], &end)) {
      return ctx.rb.Error(errors::kNotInteger);
    }
    bool bit_unit = false;
    if (args.size() == 5 && !ParseUnit(args[4], &bit_unit)) return ctx.rb.Error(errors::kSyntax);
    r = ResolveBitRange(s.size(), start, end, bit_unit);
  } else if (args.size() == 2) {
    r = ResolveBitRange(s.size(), 0, -1, false);
  } else {
    return ctx.rb.Error(errors::kSyntax);
  }
  ctx.rb.Integer(static_cast<int64_t>(CountBits(s, r)));
}

void CmdBitPos(CmdArgs args, CommandContext& ctx) {
  int64_t bit;
  if (!ParseInt64(args[2], &bit)) return ctx.rb.Error(errors::kNotInteger);
  if (bit != 0 && bit != 1) return ctx.rb.Error(kBitArgError);
  KeyRef k(args[1]);
  bool wrong;
  Entry* e = FindString(ctx, k, &wrong);
  if (wrong) return ctx.rb.Error(errors::kWrongType);
  // A missing key is an empty string: no 1 anywhere, a 0 at once.
  if (e == nullptr) return ctx.rb.Integer(bit ? -1 : 0);
  IntBuf tmp;
  std::string_view s = BytesOf(e, &tmp);
  int64_t start = 0, end = -1;
  bool end_given = false, bit_unit = false;
  if (args.size() >= 4 && args.size() <= 6) {
    if (!ParseInt64(args[3], &start)) return ctx.rb.Error(errors::kNotInteger);
    if (args.size() == 6 && !ParseUnit(args[5], &bit_unit)) return ctx.rb.Error(errors::kSyntax);
    if (args.size() >= 5) {
      if (!ParseInt64(args[4], &end)) return ctx.rb.Error(errors::kNotInteger);
      end_given = true;
    }
  } else if (args.size() != 3) {
    return ctx.rb.Error(errors::kSyntax);
  }
  BitRange r = ResolveBitRange(s.size(), start, end, bit_unit);
  ctx.rb.Integer(FindBit(s, r, static_cast<int>(bit), end_given));
}

void CmdBitOp(CmdArgs args, CommandContext& ctx) {
  std::string_view name = args[1];
  BitOp op;
  if (EqualsUpper(name, "AND")) {
    op = BitOp::kAnd;
  } else if (EqualsUpper(name, "OR")) {
    op = BitOp::kOr;
  } else if (EqualsUpper(name, "XOR")) {
    op = BitOp::kXor;
  } else if (EqualsUpper(name, "NOT")) {
    op = BitOp::kNot;
  } else {
    return ctx.rb.Error(errors::kSyntax);
  }
  if (op == BitOp::kNot && args.size() != 4) return ctx.rb.Error(kBitOpNotError);
  const size_t n = args.size() - 3;
  std::vector<std::string_view> srcs(n);
  std::vector<IntBuf> ints(n);
  for (size_t i = 0; i < n; i++) {
    KeyRef k(args[3 + i]);
    Entry* e = ctx.ks.FindForRead(ctx.txn, ctx.db, k, ctx.now_ms, ctx.touch());
    if (e == nullptr) continue;
    if (e->type() != ValueType::kString) return ctx.rb.Error(errors::kWrongType);
    srcs[i] = BytesOf(e, &ints[i]);
  }
  std::string result = ComputeBitOp(op, srcs.data(), n);
  KeyRef dest(args[2]);
  if (result.empty()) {
    // Every source empty or missing: the destination is deleted, as Redis (whose event is then
    // a "del" alone).
    ctx.txn.set_event(notify::kGeneric, "del");
    if (ctx.ks.Delete(ctx.txn, ctx.db, dest, ctx.now_ms)) ctx.Dirty();
    return ctx.rb.Integer(0);
  }
  const auto len = static_cast<int64_t>(result.size());
  Entry* e;
  if (result.size() >= Entry::kRangeLargeMin) {
    SharedBlock* b = SharedBlock::FromString(std::move(result));
    if (b == nullptr) throw std::bad_alloc();
    e = Entry::NewLarge(args[2], BlockRef::Adopt(b));
  } else {
    e = Entry::NewInlineString(args[2], result.size(), /*raw=*/true);
    memcpy(e->mutable_inline_value(), result.data(), result.size());
  }
  ctx.ks.Put(ctx.txn, ctx.db, dest, e);
  ctx.Dirty();
  ctx.rb.Integer(len);
}

// --- BITFIELD ---

struct FieldOp {
  enum Kind : uint8_t { kGet, kSet, kIncrBy } kind;
  BitfieldType type;
  uint64_t offset;
  int64_t value;  // SET: the value; INCRBY: the increment
  Overflow overflow;
};

void Bitfield(CmdArgs args, CommandContext& ctx, bool readonly) {
  absl::InlinedVector<FieldOp, 4> ops;
  Overflow overflow = Overflow::kWrap;
  bool writes = false;
  uint64_t write_end_bit = 0;  // one past the highest bit a write touches
  for (size_t j = 2; j < args.size(); j++) {
    const size_t rem = args.size() - j - 1;
    std::string_view sub = args[j];
    FieldOp op{};
    if (EqualsUpper(sub, "GET") && rem >= 2) {
      op.kind = FieldOp::kGet;
    } else if (EqualsUpper(sub, "SET") && rem >= 3) {
      op.kind = FieldOp::kSet;
    } else if (EqualsUpper(sub, "INCRBY") && rem >= 3) {
      op.kind = FieldOp::kIncrBy;
    } else if (EqualsUpper(sub, "OVERFLOW") && rem >= 1) {
      std::string_view how = args[++j];
      if (EqualsUpper(how, "WRAP")) {
        overflow = Overflow::kWrap;
      } else if (EqualsUpper(how, "SAT")) {
        overflow = Overflow::kSat;
      } else if (EqualsUpper(how, "FAIL")) {
        overflow = Overflow::kFail;
      } else {
        return ctx.rb.Error(kOverflowTypeError);
      }
      continue;
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
    if (!ParseBitfieldType(args[j + 1], &op.type)) return ctx.rb.Error(kBitfieldTypeError);
    if (!ParseBitOffset(ctx, args[j + 2], true, op.type.bits, &op.offset)) {
      return ctx.rb.Error(kBitOffsetError);
    }
    if (op.kind != FieldOp::kGet) {
      if (!ParseInt64(args[j + 3], &op.value)) return ctx.rb.Error(errors::kNotInteger);
      if (readonly) return ctx.rb.Error(kBitfieldRoError);
      writes = true;
      const uint64_t end = op.offset + static_cast<uint64_t>(op.type.bits);
      if (end > write_end_bit) write_end_bit = end;
      j += 3;
    } else {
      j += 2;
    }
    op.overflow = overflow;
    ops.push_back(op);
  }

  KeyRef k(args[1]);
  Entry* e = writes ? ctx.ks.Find(ctx.txn, ctx.db, k, ctx.now_ms, ctx.touch())
                    : ctx.ks.FindForRead(ctx.txn, ctx.db, k, ctx.now_ms, ctx.touch());
  if (e != nullptr && e->type() != ValueType::kString) return ctx.rb.Error(errors::kWrongType);
  IntBuf tmp;
  bool grew = false;
  if (writes) {
    // As Redis: the string grows to hold every field written before any is, so it grows even
    // when an OVERFLOW FAIL leaves the fields unchanged.
    const uint64_t need = (write_end_bit + 7) >> 3;
    const uint64_t len = e != nullptr ? BytesOf(e, &tmp).size() : 0;
    if (e == nullptr || len < need) {
      e = ctx.ks.WriteRange(ctx.txn, ctx.db, k, e, need, std::string_view());
      grew = true;
    }
  }
  ctx.rb.ArrayHeader(ops.size());
  uint64_t changes = 0;
  for (const FieldOp& op : ops) {
    std::string_view s = e != nullptr ? BytesOf(e, &tmp) : std::string_view();
    const int64_t old = GetBitfield(s, op.offset, op.type);
    if (op.kind == FieldOp::kGet) {
      ctx.rb.Integer(old);
      continue;
    }
    int64_t now;
    const bool over = op.kind == FieldOp::kIncrBy
                          ? BitfieldAdd(old, op.value, op.type, op.overflow, &now)
                          : BitfieldAdd(op.value, 0, op.type, op.overflow, &now);
    if (over && op.overflow == Overflow::kFail) {
      ctx.rb.NullBulk();
      continue;
    }
    // As Redis 7.0: a SET or INCRBY that leaves the field as it was changes nothing.
    if (now != old) {
      char bytes[kMaxFieldBytes];
      const size_t n = SetBitfieldBytes(s, op.offset, op.type, now, bytes);
      e = ctx.ks.WriteRange(ctx.txn, ctx.db, k, e, op.offset >> 3, std::string_view(bytes, n));
      changes++;
    }
    ctx.rb.Integer(op.kind == FieldOp::kIncrBy ? now : old);
  }
  // As Redis 7.0: the fields changed, or one change when only the length did.
  if (changes > 0 || grew) ctx.Dirty(changes > 0 ? changes : 1);
}

void CmdBitfield(CmdArgs args, CommandContext& ctx) { Bitfield(args, ctx, false); }
void CmdBitfieldRo(CmdArgs args, CommandContext& ctx) { Bitfield(args, ctx, true); }

}  // namespace

void RegisterBitopsFamily(CommandRegistry& r) {
  using namespace cmdflags;
  // clang-format off
  r.Register({"setbit", 4, kWrite | kDenyOom, 1, 1, 1, CmdSetBit, "bitmap",
              "Sets or clears the bit at offset of the string value. Creates the key if it "
              "doesn't exist.", "2.2.0"});
  r.Register({"getbit", 3, kReadOnly | kFast, 1, 1, 1, CmdGetBit, "bitmap",
              "Returns a bit value by offset.", "2.2.0"});
  r.Register({"bitcount", -2, kReadOnly, 1, 1, 1, CmdBitCount, "bitmap",
              "Counts the number of set bits (population counting) in a string.", "2.6.0"});
  r.Register({"bitpos", -3, kReadOnly, 1, 1, 1, CmdBitPos, "bitmap",
              "Finds the first set (1) or clear (0) bit in a string.", "2.8.7"});
  r.Register({"bitop", -4, kWrite | kDenyOom, 2, -1, 1, CmdBitOp, "bitmap",
              "Performs bitwise operations on multiple strings, and stores the result.",
              "2.6.0"});
  r.Register({"bitfield", -2, kWrite | kDenyOom, 1, 1, 1, CmdBitfield, "bitmap",
              "Performs arbitrary bitfield integer operations on strings.", "3.2.0"});
  r.Register({"bitfield_ro", -2, kReadOnly | kFast, 1, 1, 1, CmdBitfieldRo, "bitmap",
              "Performs arbitrary read-only bitfield integer operations on strings.", "6.0.0"});
  // clang-format on
}

}  // namespace fdb
