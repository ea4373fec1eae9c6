// Entry: one key of the keyspace, in a single allocation.
//
// Layout (40-byte header, then the key, then an inline value if any):
//
//   next_      8  the hash-table chain (the dict is intrusive: no separate node allocation)
//   expire_ms_ 8  absolute deadline in ms since the epoch; 0 = no expiry
//   meta_      8  type:4 | encoding:4 | flags:8 | lru:16 | key_len:32
//   slot_      8  int value / inline value length / object pointer / (kOnDisk) value length
//   loc_       8  where the latest full image of the value is in the log (segment:24 |
//                 offset:40), 0 if none: a value with a location is clean and can be evicted
//                 without writing anything
//   data_[]       key bytes, then the inline value bytes
//
// Why one allocation: memory per key sets capacity. A 14-byte key with a 100-byte value costs
// 154 bytes here (one 176-byte malloc chunk) plus 13-26 bytes of bucket array, against Redis's
// ~190. The price is that changing the size of an inline value reallocates the entry, so
// nothing may hold an Entry* across a mutation of its key: the dict relinks the new block.
//
// A large string (at least limits::kLargeValueMin bytes, read from a client into a block of its
// own) is not copied into the entry: kLarge holds a reference to that SharedBlock, which the
// log writes from as well (base/shared_block.h). Its bytes are immutable; commands that change
// a string build a new entry, so sharing the block (COPY, the log) is safe.
//
// The value can live in RAM (kInt, kInline, kObject, kLarge) or, once the storage engine evicts it,
// on disk only (kOnDisk, slot_ = the location of its latest full image in the log). Commands never
// see kOnDisk: the keyspace reads the value back before handing the entry to them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "base/numbers.h"
#include "base/shared_block.h"
#include "base/status.h"

namespace fdb {

enum class ValueType : uint8_t {
  kString = 0,
  kList = 1,
  kSet = 2,
  kZSet = 3,
  kHash = 4,
  kStream = 5,
};

enum class Encoding : uint8_t {
  kInt = 0,     // a string holding a 64-bit integer in canonical form; slot_ = the integer
  kInline = 1,  // string bytes stored after the key; slot_ = their length
  kObject = 2,  // a collection object owned by the entry; slot_ = ValueObject*
  kOnDisk = 3,  // evicted; slot_ = disk location (storage engine)
  kLarge = 4,   // string bytes in a SharedBlock; slot_ = SharedBlock* (one reference held)
};

const char* TypeName(ValueType t);

// Base of the collection types (hash, list, set, zset) held by kObject entries.
//
// A collection is persisted two ways (docs/format.md, "Collections"): a full image (the value of
// a put record: Serialize / DecodeObject) and deltas (a delta record carrying one in-place change,
// in the type's own delta encoding: ApplyDelta). A command that changes a collection in place
// changes the object, then calls Keyspace::Delta with the delta that replays the change, so an
// HSET of one field on a hash of a million fields logs one field, not the hash.
// Where a serializer hands its image over in parts (ValueObject::SerializeParts). The default
// hands nothing over: the image stays whole in the serializer's string.
class ImageParts {
 public:
  using Emit = void (*)(void* arg, std::string_view part);
  ImageParts() = default;
  // Once the string holds at least part_bytes at an element boundary, emit(arg, it) is called
  // and the string cleared. The caller emits what is left at the end.
  ImageParts(size_t part_bytes, Emit emit, void* arg)
      : part_bytes_(part_bytes), emit_(emit), arg_(arg) {}
  // Whether the image stays whole (nothing is handed over).
  bool whole() const { return emit_ == nullptr; }
  void Boundary(std::string* out) const {
    if (out->size() >= part_bytes_) {
      emit_(arg_, *out);
      out->clear();
    }
  }

 private:
  size_t part_bytes_ = SIZE_MAX;
  Emit emit_ = nullptr;
  void* arg_ = nullptr;
};

class ValueObject {
 public:
  virtual ~ValueObject() = default;
  virtual ValueType type() const = 0;
  virtual const char* encoding_name() const = 0;
  // Bytes of RAM held by the value, in O(1) (each type keeps a running count).
  virtual size_t MemoryUsage() const = 0;
  // Number of elements (fields, members, list elements).
  virtual size_t Size() const = 0;
  // The allocations freeing the value takes, as Redis's lazyfreeGetFreeEffort: 1 for a compact
  // encoding, the elements of a table, the nodes of a list or a stream. UNLINK frees a value
  // above Keyspace::kLazyFreeEffort in the background.
  virtual size_t FreeEffort() const { return 1; }
  // Appends the full image of the value to `out`.
  void Serialize(std::string* out) const { SerializeParts(out, ImageParts()); }
  // The same, handing the image over in parts as it grows (`parts`): a large collection's
  // image is written to the log without ever being whole in RAM (StorageEngine::WriteImage).
  // Each type calls parts.Boundary(out) between its elements.
  virtual void SerializeParts(std::string* out, const ImageParts& parts) const = 0;
  // Applies one delta that this type encoded; Corruption when it cannot be decoded.
  virtual Status ApplyDelta(std::string_view delta) = 0;
  virtual ValueObject* Clone() const = 0;

  // The RAM bytes the keyspace has accounted for this value (see Keyspace::Delta).
  size_t accounted_bytes() const { return accounted_bytes_; }
  void set_accounted_bytes(size_t n) const { accounted_bytes_ = n; }

 private:
  mutable size_t accounted_bytes_ = 0;
};

// An empty collection of type t (REQUIRES: t != kString), and a collection decoded from its full
// image. Implemented in collections.cc, which dispatches to the types.
ValueObject* NewEmptyObject(ValueType t);
Result<ValueObject*> DecodeObject(ValueType t, std::string_view image);

class Entry {
 public:
  static constexpr uint64_t kMaxKeyLen = 0xffffffffULL;

  // Allocates a string entry. The value is stored as an integer when it is one in canonical
  // form (as Redis's OBJ_ENCODING_INT), otherwise inline.
  static Entry* NewString(std::string_view key, std::string_view value);
  static Entry* NewInt(std::string_view key, int64_t v);
  static Entry* NewObject(std::string_view key, ValueObject* obj);
  // Allocates an inline string entry of `len` bytes, left uninitialised for the caller to fill
  // through mutable_inline_value() before Keyspace::Put. Unlike NewString it never turns an
  // integer into kInt: Redis keeps the results of APPEND, SETRANGE and INCRBYFLOAT as strings,
  // and OBJECT ENCODING shows it. `raw` makes OBJECT ENCODING say "raw" at any length, as Redis
  // does for values it modified (APPEND, SETRANGE), where a fresh short string is "embstr".
  static Entry* NewInlineString(std::string_view key, size_t len, bool raw);
  // A string entry whose value is `block` (taken over, not copied). REQUIRES: block is set and
  // no longer changed by anyone.
  static Entry* NewLarge(std::string_view key, BlockRef block);
  // A string entry for a value image (read back or replayed): large values get a block of
  // their own (copied once), smaller ones are stored as NewString does.
  static Entry* NewStringImage(std::string_view key, std::string_view value);
  // A copy of `src` under `key` (for COPY / RENAME to another key), without the chain link.
  static Entry* Clone(const Entry* src, std::string_view key);
  static void Free(Entry* e);

  std::string_view key() const { return {data_, key_len()}; }
  uint32_t key_len() const { return static_cast<uint32_t>(meta_ >> 32); }
  ValueType type() const { return static_cast<ValueType>(meta_ & 0xf); }
  Encoding encoding() const { return static_cast<Encoding>((meta_ >> 4) & 0xf); }
  const char* encoding_name() const;

  int64_t expire_ms() const { return expire_ms_; }
  bool has_expire() const { return expire_ms_ != 0; }
  void set_expire_ms(int64_t ms) { expire_ms_ = ms; }

  // LRU clock: seconds, modulo 2^16 (wraps after ~18 hours; idle times are computed modulo).
  uint16_t lru() const { return static_cast<uint16_t>(meta_ >> 16); }
  void set_lru(uint16_t v) { meta_ = (meta_ & ~(0xffffULL << 16)) | (uint64_t{v} << 16); }

  // Strings. REQUIRES: type() == kString and encoding() is kInt, kInline or kLarge
  // (inline_value: kInline only; string_bytes: kInline or kLarge).
  bool is_int() const { return encoding() == Encoding::kInt; }
  int64_t int_value() const { return static_cast<int64_t>(slot_); }
  void set_int_value(int64_t v) { slot_ = static_cast<uint64_t>(v); }
  std::string_view inline_value() const { return {data_ + key_len(), static_cast<size_t>(slot_)}; }
  std::string_view string_bytes() const {
    return encoding() == Encoding::kLarge ? large_block()->view() : inline_value();
  }
  // REQUIRES: encoding() == kLarge.
  const SharedBlock* large_block() const { return reinterpret_cast<const SharedBlock*>(slot_); }
  // REQUIRES: encoding() == kInline and the entry not yet published by Keyspace::Put.
  char* mutable_inline_value() { return data_ + key_len(); }
  // Writes `bytes` at byte `offset` of this string's value, zero-filling any gap past its end
  // (SETBIT, BITFIELD, SETRANGE and the replay of their string range deltas). In place when it
  // can be: a raw inline value that does not grow, or a large block that no one else holds
  // (SharedBlock::use_count() == 1) and has or gets room. Otherwise into a new entry (same
  // key, deadline and access clock, OBJECT ENCODING "raw"): a value of kRangeLargeMin bytes
  // or more gets a block of its own with room to grow (as Redis's sdsMakeRoomFor: double up to
  // 1 MB, then 1 MB more), so a bitmap grown bit by bit is not copied once per bit. Returns
  // this or the new entry; the caller puts a new one in place of this and frees this.
  // REQUIRES: type() == kString, value in RAM, offset + bytes.size() fits in memory.
  Entry* WriteRange(uint64_t offset, std::string_view bytes);
  static constexpr size_t kRangeLargeMin = 4096;
  // The string value; an integer is formatted into `scratch`.
  std::string_view StringValue(std::string* scratch) const;
  size_t StringLength() const;

  // Storage. The packed location of the value's latest full image in the log (0: none).
  uint64_t loc() const { return loc_; }
  void set_loc(uint64_t loc) { loc_ = loc; }
  static uint64_t PackLoc(uint64_t segment_id, uint64_t offset) {
    return (segment_id << 40) | (offset & ((1ULL << 40) - 1));
  }
  static uint64_t LocSegment(uint64_t loc) { return loc >> 40; }
  static uint64_t LocOffset(uint64_t loc) { return loc & ((1ULL << 40) - 1); }
  bool on_disk() const { return encoding() == Encoding::kOnDisk; }
  // An evicted entry: key, type, deadline and location, without the value. `value_len` is the
  // size of the value image, kept for accounting.
  static Entry* NewOnDisk(std::string_view key, ValueType type, int64_t expire_ms, uint64_t loc,
                          uint64_t value_len);
  // REQUIRES: on_disk().
  uint64_t disk_value_len() const { return slot_; }

  // Collections. REQUIRES: encoding() == kObject.
  ValueObject* object() const { return reinterpret_cast<ValueObject*>(slot_); }

  // Approximate bytes held by this entry and its value (for INFO and eviction).
  size_t MemoryUsage() const;

  Entry* next() const { return next_; }
  void set_next(Entry* n) { next_ = n; }
  Entry*& next_ref() { return next_; }

 private:
  Entry() = default;
  static Entry* Allocate(std::string_view key, size_t extra);
  // meta_ flag bits (8..15).
  static constexpr uint64_t kFlagRaw = 1ULL << 8;  // OBJECT ENCODING reports "raw"

  void set_meta(ValueType t, Encoding e, uint32_t key_len) {
    meta_ = static_cast<uint64_t>(t) | (static_cast<uint64_t>(e) << 4) |
            (static_cast<uint64_t>(key_len) << 32);
  }

  Entry* next_;
  int64_t expire_ms_;
  uint64_t meta_;
  uint64_t slot_;
  uint64_t loc_;
  char data_[];
};

static_assert(sizeof(Entry) == 40, "the entry header is part of the memory budget per key");

}  // namespace fdb
