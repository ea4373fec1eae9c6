// CRC32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78), the checksum of every
// record, segment header and manifest. Chosen over XXH3 because x86 computes it in hardware
// (SSE4.2 `crc32`) at several GB/s and its error-detection properties for short bursts are well
// studied (iSCSI, ext4, LevelDB). A portable table-driven version is used when the CPU or the
// compiler lacks SSE4.2; both give identical results.
//
// Thread-safe: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fdb::storage::crc32c {

// Returns the CRC32C of data[0, n) appended to a stream whose CRC so far is `crc`.
// Extend(Extend(0, a), b) == Value(a + b).
uint32_t Extend(uint32_t crc, const void* data, size_t n);

inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }

// The CRC32C of a + b from crc_a = Value(a), crc_b = Value(b) and b's length, in O(log len_b)
// without touching b's bytes (zlib's crc32_combine, for the Castagnoli polynomial). Lets the
// log checksum a large value outside its lock and join it to the record header's CRC inside.
uint32_t Combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);
inline uint32_t Value(std::string_view s) { return Extend(0, s.data(), s.size()); }

// The two implementations, exposed so tests can check they agree. ExtendHardware must only be
// called when HardwareAvailable() is true.
uint32_t ExtendPortable(uint32_t crc, const void* data, size_t n);
uint32_t ExtendHardware(uint32_t crc, const void* data, size_t n);
bool HardwareAvailable();

// Stored checksums are masked (as LevelDB does): the CRC of a string that itself contains
// CRCs is weak, and a payload may embed other records' checksums (e.g. a batch, or a record
// copied by compaction). Masking is a rotation plus a constant, so it costs nothing.
inline constexpr uint32_t kMaskDelta = 0xa282ead8u;
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace fdb::storage::crc32c
