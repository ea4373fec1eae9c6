// HyperLogLog in Redis's exact string representation, so that a value written by Redis is read
// here and the other way round (GET / SET of the raw bytes, DUMP / RESTORE), written from the
// published description of Redis's format (the "HYLL" string, sparse and dense encodings) and
// from the estimator of Otmar Ertl, "New cardinality estimation algorithms for HyperLogLog
// sketches" (2017), which Redis uses since 5.0.
//
// Format (all multi-byte numbers little-endian):
//
//   hll      := header registers
//   header   := "HYLL" encoding:u8 unused:3 bytes card:u64
//               encoding 0 = dense, 1 = sparse; card is the cached cardinality, valid unless
//               the top bit of its last byte is set
//   dense    := 16384 registers of 6 bits, register i at bits [6i, 6i+6) of the byte string,
//               least significant bit first (12288 bytes: a dense HLL is 12304 bytes)
//   sparse   := opcode*, covering exactly 16384 registers:
//               00xxxxxx            ZERO:  xxxxxx+1 registers (1..64) are 0
//               01xxxxxx yyyyyyyy   XZERO: (xxxxxx<<8 | yyyyyyyy)+1 registers (1..16384) are 0
//               1vvvvvxx            VAL:   xx+1 registers (1..4) are vvvvv+1 (1..32)
//
// An element hashes with MurmurHash64A (seed 0xadc83b19) to 64 bits: the low 14 pick the
// register, and the register takes 1 + the number of trailing zeros of the remaining 50 bits
// (at most 51). A register is only ever raised. A sparse HLL becomes dense when a register
// needs a value above 32 or when the sparse string would outgrow hll-sparse-max-bytes; the
// way a sparse run is split and merged back follows Redis, so both produce the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fdb::hll {

inline constexpr int kP = 14;
inline constexpr int kRegisters = 1 << kP;  // 16384
inline constexpr int kQ = 64 - kP;          // bits of the hash that make the run length
inline constexpr int kBits = 6;
inline constexpr size_t kHeaderSize = 16;
inline constexpr size_t kDenseSize = kHeaderSize + (kRegisters * kBits + 7) / 8;  // 12304
inline constexpr uint8_t kDense = 0;
inline constexpr uint8_t kSparse = 1;
inline constexpr int kSparseValMax = 32;
static_assert(kDenseSize == 12304, "Redis's dense HLL size");

uint64_t MurmurHash64A(const void* key, size_t len, uint64_t seed);

// The register an element goes to, and the value it offers (1..51).
int PatternLength(std::string_view element, int* index);

// A new empty HLL: sparse, one XZERO of every register, cached cardinality 0 (valid).
std::string NewEmpty();

// Whether s is a HyperLogLog (header, known encoding, a dense one of the exact size): what
// Redis checks before any PF command touches a string.
bool IsHll(std::string_view s);
bool IsDense(std::string_view s);

// Raises register `index` to `count` if lower. Returns 1 if it changed, 0 if not, -1 when a
// sparse HLL is corrupted. A sparse HLL becomes dense when it must (see above).
// REQUIRES: IsHll(*s).
int SetRegister(std::string* s, int index, uint8_t count, size_t sparse_max_bytes);
// PFADD of one element: SetRegister of its register.
int Add(std::string* s, std::string_view element, size_t sparse_max_bytes);

// Turns a sparse HLL dense (the header kept but for the encoding); false when corrupted.
// A dense one is left as is.
bool ToDense(std::string* s);

// The cached cardinality, if valid.
bool CachedCard(std::string_view s, uint64_t* card);
void SetCachedCard(std::string* s, uint64_t card);
void InvalidateCache(std::string* s);

// Raises max[i] to each register of s; false when s is corrupted. REQUIRES: IsHll(s).
bool MergeInto(std::string_view s, uint8_t* max);
// Estimated cardinality of s (false: corrupted), or of an array of kRegisters raw registers.
bool Count(std::string_view s, uint64_t* card);
uint64_t CountRaw(const uint8_t* regs);

// Register i of a dense HLL's register bytes (kDenseSize - kHeaderSize of them).
uint8_t DenseGet(const uint8_t* regs, int i);
void DenseSet(uint8_t* regs, int i, uint8_t v);

// PFDEBUG DECODE of a sparse HLL: "Z:n" (XZERO), "z:n" (ZERO), "v:value,len" (VAL), space
// separated; false when corrupted.
bool DecodeSparse(std::string_view s, std::string* out);

// PFSELFTEST: checks the register packing and the estimator's error; an empty string when
// every check passed, else what failed.
std::string SelfTest(size_t sparse_max_bytes);

}  // namespace fdb::hll
