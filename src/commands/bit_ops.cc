#include "commands/bit_ops.h"

#include <cstring>

#include "base/numbers.h"

namespace fdb {

namespace {

uint8_t ByteAt(std::string_view s, size_t i) {
  return i < s.size() ? static_cast<uint8_t>(s[i]) : 0;
}

// Leading zero bits of a non-zero byte.
int LeadingZeros8(uint8_t c) { return __builtin_clz(static_cast<unsigned>(c)) - 24; }

}  // namespace

BitRange ResolveBitRange(size_t len, int64_t start, int64_t end, bool bit_unit) {
  BitRange r;
  // An inverted pair of negative indexes is empty before any clamping (as GETRANGE).
  if (start < 0 && end < 0 && start > end) return r;
  const int64_t total = static_cast<int64_t>(len) * (bit_unit ? 8 : 1);
  if (start < 0) start += total;
  if (end < 0) end += total;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= total) end = total - 1;
  if (total == 0 || start > end) return r;
  r.empty = false;
  if (bit_unit) {
    r.first_byte = static_cast<size_t>(start >> 3);
    r.last_byte = static_cast<size_t>(end >> 3);
    // The high bits before the start, the low bits after the end.
    r.first_mask = static_cast<uint8_t>(~((1u << (8 - (start & 7))) - 1));
    r.last_mask = static_cast<uint8_t>((1u << (7 - (end & 7))) - 1);
  } else {
    r.first_byte = static_cast<size_t>(start);
    r.last_byte = static_cast<size_t>(end);
  }
  return r;
}

uint64_t CountBits(std::string_view s, const BitRange& r) {
  if (r.empty) return 0;
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  uint64_t n = 0;
  size_t i = r.first_byte;
  const size_t stop = r.last_byte + 1;
  for (; i + 8 <= stop; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    n += static_cast<uint64_t>(__builtin_popcountll(w));
  }
  for (; i < stop; i++) n += static_cast<uint64_t>(__builtin_popcount(p[i]));
  n -= static_cast<uint64_t>(__builtin_popcount(p[r.first_byte] & r.first_mask));
  n -= static_cast<uint64_t>(__builtin_popcount(p[r.last_byte] & r.last_mask));
  return n;
}

int64_t FindBit(std::string_view s, const BitRange& r, int bit, bool end_given) {
  if (r.empty) return -1;
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  // Looking for a 0 is looking for a 1 in the complement; masked bits never match.
  const uint8_t flip = bit ? 0 : 0xff;
  const uint64_t skip_word = bit ? 0 : ~uint64_t{0};
  size_t i = r.first_byte;
  while (i <= r.last_byte) {
    if (i != r.first_byte && i + 8 <= r.last_byte) {
      uint64_t w;
      memcpy(&w, p + i, 8);
      if (w == skip_word) {
        i += 8;
        continue;
      }
    }
    uint8_t c = p[i] ^ flip;
    if (i == r.first_byte) c &= static_cast<uint8_t>(~r.first_mask);
    if (i == r.last_byte) c &= static_cast<uint8_t>(~r.last_mask);
    if (c != 0) return static_cast<int64_t>(i) * 8 + LeadingZeros8(c);
    i++;
  }
  // No match. A 0 is found right after the range when its end was implied: the string is
  // read as padded with zeros.
  if (bit == 1 || end_given) return -1;
  return static_cast<int64_t>(r.last_byte + 1) * 8;
}

int GetBit(std::string_view s, uint64_t offset) {
  return (ByteAt(s, offset >> 3) >> (7 - (offset & 7))) & 1;
}

std::string ComputeBitOp(BitOp op, const std::string_view* srcs, size_t n) {
  size_t maxlen = 0;
  for (size_t i = 0; i < n; i++) maxlen = srcs[i].size() > maxlen ? srcs[i].size() : maxlen;
  std::string out(maxlen, '\0');
  if (maxlen == 0) return out;
  if (op == BitOp::kNot) {
    for (size_t j = 0; j < maxlen; j++) out[j] = static_cast<char>(~ByteAt(srcs[0], j));
    return out;
  }
  // The first source as is; then each other one folded in, with a shorter one read as zeros.
  memcpy(out.data(), srcs[0].data(), srcs[0].size());
  for (size_t i = 1; i < n; i++) {
    std::string_view src = srcs[i];
    for (size_t j = 0; j < maxlen; j++) {
      uint8_t a = static_cast<uint8_t>(out[j]);
      uint8_t b = ByteAt(src, j);
      uint8_t v = op == BitOp::kAnd ? (a & b) : op == BitOp::kOr ? (a | b) : (a ^ b);
      out[j] = static_cast<char>(v);
    }
  }
  return out;
}

bool ParseBitfieldType(std::string_view s, BitfieldType* out) {
  // Lower case only, as Redis.
  if (s.size() < 2 || (s[0] != 'i' && s[0] != 'u')) return false;
  int64_t bits;
  if (!ParseInt64(s.substr(1), &bits)) return false;
  const bool is_signed = s[0] == 'i';
  if (bits < 1 || bits > (is_signed ? 64 : 63)) return false;
  out->is_signed = is_signed;
  out->bits = static_cast<int>(bits);
  return true;
}

int64_t GetBitfield(std::string_view s, uint64_t offset, const BitfieldType& t) {
  uint64_t v = 0;
  for (int i = 0; i < t.bits; i++) v = (v << 1) | static_cast<uint64_t>(GetBit(s, offset + i));
  if (t.is_signed && t.bits < 64 && ((v >> (t.bits - 1)) & 1)) v |= ~uint64_t{0} << t.bits;
  return static_cast<int64_t>(v);
}

bool BitfieldAdd(int64_t value, int64_t incr, const BitfieldType& t, Overflow ow, int64_t* out) {
  __int128 lo, hi, v;
  if (t.is_signed) {
    hi = (static_cast<__int128>(1) << (t.bits - 1)) - 1;
    lo = -hi - 1;
    v = static_cast<__int128>(value) + incr;
  } else {
    hi = (static_cast<__int128>(1) << t.bits) - 1;
    lo = 0;
    // An unsigned field's current value is never negative; a SET argument is taken as its
    // 64 bits.
    v = static_cast<__int128>(static_cast<uint64_t>(value)) + incr;
  }
  if (v >= lo && v <= hi) {
    *out = static_cast<int64_t>(v);
    return false;
  }
  if (ow == Overflow::kSat) {
    *out = static_cast<int64_t>(v > hi ? hi : lo);
    return true;
  }
  // Wrap: the low bits, sign-extended for a signed type.
  uint64_t bits = static_cast<uint64_t>(v);
  if (t.bits < 64) {
    const uint64_t mask = (uint64_t{1} << t.bits) - 1;
    bits &= mask;
    if (t.is_signed && ((bits >> (t.bits - 1)) & 1)) bits |= ~mask;
  }
  *out = static_cast<int64_t>(bits);
  return true;
}

size_t SetBitfieldBytes(std::string_view s, uint64_t offset, const BitfieldType& t, int64_t value,
                        char* out) {
  const uint64_t first = offset >> 3;
  const uint64_t last = (offset + static_cast<uint64_t>(t.bits) - 1) >> 3;
  const auto n = static_cast<size_t>(last - first + 1);
  for (uint64_t i = first; i <= last; i++) out[i - first] = static_cast<char>(ByteAt(s, i));
  const auto v = static_cast<uint64_t>(value);
  for (int i = 0; i < t.bits; i++) {
    const uint64_t pos = offset + static_cast<uint64_t>(i) - first * 8;
    const uint8_t mask = static_cast<uint8_t>(0x80u >> (pos & 7));
    char& c = out[pos >> 3];
    if ((v >> (t.bits - 1 - i)) & 1) {
      c = static_cast<char>(static_cast<uint8_t>(c) | mask);
    } else {
      c = static_cast<char>(static_cast<uint8_t>(c) & ~mask);
    }
  }
  return n;
}

}  // namespace fdb
