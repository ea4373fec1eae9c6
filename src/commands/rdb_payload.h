// Redis's DUMP payload: one value in RDB's object encoding, then the RDB version (2 bytes) and
// a CRC-64 (Jones polynomial, as Redis's crc64.c) of everything before it, both little-endian.
//
// DUMP writes the plain RDB types (string, list, set, hash, zset with binary scores) that every
// Redis since 5.0 loads. RESTORE reads those and the compact ones Redis 7.0/7.2 write (intset,
// ziplist, listpack, quicklist, set listpack), with LZF-compressed and integer-encoded strings,
// so a DUMP taken from Redis restores into FDB and one taken from FDB restores into Redis.
// Streams are written as Redis 7.0 writes them (listpack nodes, consumer groups) and read in
// the forms of Redis 5.0 to 7.2. Modules and the zipmap of Redis 2.x are refused.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "engine/collections.h"
#include "engine/entry.h"

namespace fdb {

// The highest RDB version RESTORE accepts (Redis 7.2's); DUMP writes Redis 7.0's.
inline constexpr uint16_t kRdbVersionDumped = 10;
inline constexpr uint16_t kRdbVersionMax = 11;

uint64_t Crc64(uint64_t crc, std::string_view data);

// The payload of a value in RAM (a string or a collection). REQUIRES: !e->on_disk().
std::string DumpPayload(const Entry* e);

struct RestoredValue {
  ValueType type = ValueType::kString;
  std::string str;                   // a string's bytes
  std::unique_ptr<ValueObject> obj;  // a collection
};

// Checks the trailer (version and checksum): false when they are wrong (Redis's "DUMP payload
// version or checksum are wrong").
bool VerifyDumpPayload(std::string_view payload);
// Decodes a verified payload; Corruption for a body that does not parse ("Bad data format").
Status ParseDumpPayload(std::string_view payload, RestoredValue* out);

}  // namespace fdb
