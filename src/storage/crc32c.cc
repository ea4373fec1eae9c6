#include "storage/crc32c.h"

#include <array>
#include <cstring>

#if defined(__SSE4_2__) && (defined(__x86_64__) || defined(_M_X64))
#include <nmmintrin.h>
#define FDB_HAVE_SSE42 1
#else
#define FDB_HAVE_SSE42 0
#endif

namespace fdb::storage::crc32c {
namespace {

constexpr uint32_t kPolyReflected = 0x82F63B78u;

// Byte-at-a-time table, computed at compile time. The fallback is only for machines without
// SSE4.2, so it favours brevity over slicing-by-8 speed.
constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPolyReflected : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kTable = MakeTable();

}  // namespace

uint32_t ExtendPortable(uint32_t crc, const void* data, size_t n) {
  auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = ~crc;
  for (size_t i = 0; i < n; ++i) c = kTable[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return ~c;
}

#if FDB_HAVE_SSE42
uint32_t ExtendHardware(uint32_t crc, const void* data, size_t n) {
  auto* p = static_cast<const unsigned char*>(data);
  uint64_t c = static_cast<uint32_t>(~crc);
  // Eight bytes per instruction; memcpy keeps unaligned loads well defined.
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<uint32_t>(c);
  while (n > 0) {
    c32 = _mm_crc32_u8(c32, *p++);
    --n;
  }
  return ~c32;
}
bool HardwareAvailable() { return __builtin_cpu_supports("sse4.2"); }
#else
uint32_t ExtendHardware(uint32_t crc, const void* data, size_t n) {
  return ExtendPortable(crc, data, n);
}
bool HardwareAvailable() { return false; }
#endif

namespace {

// Combine works in GF(2): a CRC register is a vector of 32 bits, appending zero bits is a linear
// map (a 32x32 bit matrix, one uint32_t column per input bit), and squaring the matrix doubles
// the number of zero bits it appends.
uint32_t Gf2Times(const uint32_t* mat, uint32_t vec) {
  uint32_t sum = 0;
  for (; vec != 0; vec >>= 1, mat++) {
    if (vec & 1) sum ^= *mat;
  }
  return sum;
}

void Gf2Square(uint32_t* square, const uint32_t* mat) {
  for (int n = 0; n < 32; n++) square[n] = Gf2Times(mat, mat[n]);
}

}  // namespace

namespace {

// The operators that append 2^k zero bytes, k = 0..63, computed once: Combine then costs one
// matrix-vector product per set bit of the length (a few hundred operations), not the ~2 log n
// matrix squarings of computing them per call, so it is cheap enough to let a record's
// checksum be computed before the log's lock and joined to its header's under it.
struct ZeroOperators {
  uint32_t op[64][32];
  ZeroOperators() {
    uint32_t one_bit[32], two[32], four[32];
    one_bit[0] = 0x82f63b78u;  // the reflected polynomial, then shifts
    uint32_t row = 1;
    for (int n = 1; n < 32; n++) {
      one_bit[n] = row;
      row <<= 1;
    }
    Gf2Square(two, one_bit);
    Gf2Square(four, two);
    Gf2Square(op[0], four);  // eight zero bits: one byte
    for (int k = 1; k < 64; k++) Gf2Square(op[k], op[k - 1]);
  }
};

}  // namespace

uint32_t Combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b) {
  static const ZeroOperators ops;
  for (int k = 0; len_b != 0; k++, len_b >>= 1) {
    if (len_b & 1) crc_a = Gf2Times(ops.op[k], crc_a);
  }
  return crc_a ^ crc_b;
}

uint32_t Extend(uint32_t crc, const void* data, size_t n) {
  // The library is compiled with -msse4.2, so the compiler may already use SSE4.2 anywhere; the
  // runtime check only matters for builds without it, where FDB_HAVE_SSE42 is 0 anyway.
#if FDB_HAVE_SSE42
  return ExtendHardware(crc, data, n);
#else
  return ExtendPortable(crc, data, n);
#endif
}

}  // namespace fdb::storage::crc32c
