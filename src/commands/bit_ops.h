// Bit algorithms on string values (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD), below
// RESP and the keyspace, tested directly (bit_ops_test.cc).
//
// Bit numbering is Redis's: bit 0 is the most significant bit of byte 0, bit 8 that of byte 1.
// A string is read as if followed by zero bytes without end. A BITFIELD integer of `bits` bits
// at bit `offset` is stored most significant bit first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fdb {

// A range of BITCOUNT / BITPOS after Redis's index rules. `empty`: nothing to look at.
// Otherwise bytes [first_byte, last_byte] are examined; in BIT mode the bits of the first byte
// before the start and those of the last byte after the end are masked out
// (first_mask / last_mask: the bits that are outside the range).
struct BitRange {
  bool empty = true;
  size_t first_byte = 0;
  size_t last_byte = 0;
  uint8_t first_mask = 0;
  uint8_t last_mask = 0;
};

// Resolves [start, end] (negative: from the end) over a string of len bytes, in bytes or, with
// `bit_unit`, in bits, clamping as Redis's BITCOUNT and BITPOS do.
BitRange ResolveBitRange(size_t len, int64_t start, int64_t end, bool bit_unit);

// Number of set bits in the range of s.
uint64_t CountBits(std::string_view s, const BitRange& r);

// Position (absolute, in bits) of the first bit equal to `bit` in the range of s, or -1. When
// looking for a 0 and the range holds only ones, the bit right after the range is returned,
// unless `end_given` (then -1), as Redis does: the string is taken as padded with zeros.
int64_t FindBit(std::string_view s, const BitRange& r, int bit, bool end_given);

// The bit at `offset` of s (0 past its end).
int GetBit(std::string_view s, uint64_t offset);

enum class BitOp : uint8_t { kAnd, kOr, kXor, kNot };
// The result of BITOP over `srcs` (missing keys are empty strings): as long as the longest;
// shorter inputs are padded with zero bytes.
std::string ComputeBitOp(BitOp op, const std::string_view* srcs, size_t n);

// --- BITFIELD ---

struct BitfieldType {
  bool is_signed = false;
  int bits = 0;  // 1..64 signed, 1..63 unsigned
};
// Parses "i8", "u16"...; false when not a valid type (u64 is not: Redis replies integers as
// signed 64-bit).
bool ParseBitfieldType(std::string_view s, BitfieldType* out);

enum class Overflow : uint8_t { kWrap, kSat, kFail };

// The integer of type t at bit `offset` of s: unsigned values zero-extended, signed ones
// sign-extended into an int64.
int64_t GetBitfield(std::string_view s, uint64_t offset, const BitfieldType& t);

// value + incr, bounded to type t by the overflow policy: *out is the result (for kFail the
// result is meaningless when it overflows); returns whether it overflowed. For SET, incr is 0
// and value the argument (an unsigned type takes it as its two's complement bits).
bool BitfieldAdd(int64_t value, int64_t incr, const BitfieldType& t, Overflow ow, int64_t* out);

// The bytes of s covering bits [offset, offset + t.bits) after storing `value` there (the low
// t.bits bits): what a range write at byte offset / 8 must write. Bytes past the end of s
// count as zero. Writes them to `out` (a field spans at most kMaxFieldBytes) and returns how
// many.
inline constexpr size_t kMaxFieldBytes = 9;
size_t SetBitfieldBytes(std::string_view s, uint64_t offset, const BitfieldType& t, int64_t value,
                        char* out);

}  // namespace fdb
