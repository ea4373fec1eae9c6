// Effect records: the payloads FDB appends to the storage log, one per change.
//
// Records carry effects, not commands: a PUT holds the full resulting value and its absolute
// deadline, so replay is deterministic whatever command produced it (INCR logs the new number,
// EXPIRE logs a time, never a relative TTL). Grammar (docs/format.md, "Payloads"):
//
//   put     := db:u8 flags:u8 type:u8 expire_ms:i64 key_len:varint key value_len:varint value
//   delete  := db:u8 key_len:varint key
//   expire  := db:u8 expire_ms:i64 key_len:varint key          (expire_ms 0: no deadline)
//   flushdb := db:i8                                            (-1: every database)
//   swapdb  := a:u8 b:u8
//   delta   := db:u8 type:u8 key_len:varint key change        (change: to the end; its grammar
//                                                              is the collection type's, or
//                                                              string_range for a string)
//
// flags bit 0: the value is zstd-compressed (value_len is the compressed size).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "engine/entry.h"
#include "engine/txn.h"
#include "storage/format.h"
#include "storage/payload.h"

namespace fdb {

struct PutEffect {
  int db = 0;
  ValueType type = ValueType::kString;
  int64_t expire_ms = 0;
  std::string_view key;
  std::string_view value;  // uncompressed after decoding (may point into `storage`)
  std::string storage;     // holds a decompressed value
};

struct KeyEffect {  // delete and expire
  int db = 0;
  int64_t expire_ms = 0;
  std::string_view key;
};

struct DeltaEffect {  // an in-place change of a collection
  int db = 0;
  ValueType type = ValueType::kHash;
  std::string_view key;
  std::string_view change;
};

// Appends the put payload for `e` (an entry whose value is in RAM: a string or a collection) to
// `out`. Values of at least `compress_min` bytes are compressed when that saves space (compress_min
// 0: never).
void EncodePut(int db, const Entry* e, size_t compress_min, std::string* out);
// The same into a Payload: a large value (Encoding::kLarge) that is not compressed is spliced
// in by reference, so the record is written from the entry's block without a copy.
void EncodePut(int db, const Entry* e, size_t compress_min, storage::Payload* out);
// SetPutDbAndExpire rewrites this many bytes at the start of a put payload.
inline constexpr size_t kPutDbAndExpireBytes = 11;
// The put payload's bytes before the value, for a value of `value_len` bytes written after them
// uncompressed (StorageEngine::WriteImage streams a large collection's image after these).
void EncodePutPrefix(int db, const Entry* e, size_t value_len, std::string* out);
Status DecodePut(std::string_view payload, PutEffect* out);
void EncodeDelete(int db, std::string_view key, std::string* out);
void EncodeExpire(int db, std::string_view key, int64_t expire_ms, std::string* out);
Status DecodeDelete(std::string_view payload, KeyEffect* out);
Status DecodeExpire(std::string_view payload, KeyEffect* out);
// A delta record: `change` (encoded by e's collection type) applied in place to e's value.
void EncodeDelta(int db, const Entry* e, std::string_view change, std::string* out);
Status DecodeDelta(std::string_view payload, DeltaEffect* out);
// The change of a string range delta (type 0): `bytes` written at byte `offset` of the value,
// the value zero-filled up to `offset` first if shorter (Keyspace::WriteRange).
//   string_range := 'R' offset:varint bytes (to the end)
void EncodeStringRange(uint64_t offset, std::string_view bytes, std::string* out);
bool DecodeStringRange(std::string_view change, uint64_t* offset, std::string_view* bytes);
// Just the db and key of a put, without touching (or decompressing) the value.
Status DecodePutKey(std::string_view payload, int* db, std::string_view* key);
// Rewrites the db and deadline of an encoded put in place (compaction copies images of keys
// that SWAPDB or EXPIRE changed since). REQUIRES: DecodePutKey(*payload) succeeds.
void SetPutDbAndExpire(std::string* payload, int db, int64_t expire_ms);

// The record type that logs an effect of `kind`.
storage::RecordType RecordTypeOf(EffectKind kind);
// Appends one item of a batch record (type, length, payload) to `out`: the log's framed
// batches and the replication stream's FDB.APPLY frames carry the same items.
//   item := type:u8 len:varint payload[len]
// `payload` is left as it is (its blocks are shared): the followers of a commit (replication)
// read the same records after the log.
void EncodeBatchItem(storage::RecordType type, const storage::Payload& payload,
                     storage::Payload* out);
// Captures `effect`'s record (Effect::record) from what it says, for an effect whose value is
// in RAM: false for a put of a value on disk, which only the storage engine can read back.
bool CaptureRecord(Effect& effect, size_t compress_min);

// A replica's stream position (storage::RecordType::kReplState).
//   repl_state := replid_len:varint replid offset:varint
void EncodeReplState(std::string_view replid, uint64_t offset, std::string* out);
bool DecodeReplState(std::string_view payload, std::string* replid, uint64_t* offset);

void PutVarint(std::string* out, uint64_t v);
bool GetVarint(std::string_view* in, uint64_t* v);

}  // namespace fdb
