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

// RDB object types (Redis's rdb.h): the byte before a value, in a DUMP payload and in an RDB
// file (commands/rdb_file.h). 6 and 7 are module values and 9 Redis 2.x's zipmap, none of which
// FDB reads; 8 was never used.
enum RdbType : uint8_t {
  kRdbString = 0,
  kRdbList = 1,
  kRdbSet = 2,
  kRdbZSet = 3,
  kRdbHash = 4,
  kRdbZSet2 = 5,
  kRdbModulePreGa = 6,
  kRdbModule2 = 7,
  kRdbHashZipmap = 9,
  kRdbListZiplist = 10,
  kRdbSetIntset = 11,
  kRdbZSetZiplist = 12,
  kRdbHashZiplist = 13,
  kRdbListQuicklist = 14,
  kRdbStreamListpacks = 15,  // Redis 5.0-6.2
  kRdbHashListpack = 16,
  kRdbZSetListpack = 17,
  kRdbListQuicklist2 = 18,
  kRdbStreamListpacks2 = 19,  // Redis 7.0 (first ID, max deleted ID, entries added / read)
  kRdbSetListpack = 20,
  kRdbStreamListpacks3 = 21,  // Redis 7.2 (a consumer's active time)
};

// The highest RDB version RESTORE accepts (Redis 7.2's); DUMP writes Redis 7.0's.
inline constexpr uint16_t kRdbVersionDumped = 10;
inline constexpr uint16_t kRdbVersionMax = 11;

uint64_t Crc64(uint64_t crc, std::string_view data);

// The payload of a value in RAM (a string or a collection). REQUIRES: !e->on_disk().
std::string DumpPayload(const Entry* e);

// An RDB file, as a full sync sends one to a Redis replica (commands/replication.cc): the
// header with its aux fields, databases, keys with their deadlines, then the end mark and the
// checksum. Values are in DumpPayload's encodings.
class RdbWriter {
 public:
  // Starts the file ("REDIS0010" and Redis's aux fields) in `out`.
  explicit RdbWriter(std::string* out);
  // Goes on writing a file started in `out` (or a piece of one, appended to it later).
  enum ContinueTag { kContinue };
  RdbWriter(std::string* out, ContinueTag) : out_(out) {}
  void Aux(std::string_view key, std::string_view value);
  // The keys that follow are in database `db`.
  void SelectDb(int db);
  // One key; expire_ms 0: none. REQUIRES: !e->on_disk().
  void Key(std::string_view key, const Entry* e, int64_t expire_ms);
  // The end mark and the checksum of everything before it.
  void Finish();

 private:
  std::string* out_;
};

struct RestoredValue {
  ValueType type = ValueType::kString;
  std::string str;                   // a string's bytes
  std::unique_ptr<ValueObject> obj;  // a collection
};

// Checks the trailer (version and checksum): false when they are wrong (Redis's "DUMP payload
// version or checksum are wrong").
bool VerifyDumpPayload(std::string_view payload);
// Decodes a verified payload; Corruption for a body that does not parse, NotFound for an empty
// collection (RESTORE's "Bad data format" either way).
Status ParseDumpPayload(std::string_view payload, RestoredValue* out);

// The decoders under ParseDumpPayload, for a value read from an RDB file (commands/rdb_file.h),
// which has no DUMP trailer. Each input must be exactly one item: bytes left over are
// Corruption, like a body that does not parse.
//
// A value of RDB type `type` (the byte before it is not part of `body`). NotFound for a
// well-formed empty collection, which is no value.
Status ParseRdbValue(uint8_t type, std::string_view body, RestoredValue* out);
// One RDB string: a length and its bytes, or an integer, or LZF-compressed bytes.
Status ParseRdbString(std::string_view in, std::string* out);

}  // namespace fdb
