// EncodingLimits: the sizes up to which hashes, sets and sorted sets keep their small encodings
// (Redis's hash-max-listpack-entries / -value, set-max-intset-entries, 7.2's
// set-max-listpack-entries / -value, zset-max-listpack-entries / -value).
//
// Model: as Redis, a threshold is consulted when a write (or an image being decoded) would make
// an object pass it; the object then converts to its big encoding and never back while it lives.
// Changing a threshold converts nothing by itself: CONFIG SET takes effect on the next write of
// each object, and a reload (restart, eviction to disk and back, RESTORE) chooses the encoding
// by size under the thresholds of that moment, as Redis's rdbLoadObject does.
//
// Why process-wide (as Redis's server.*): the objects apply the thresholds deep inside mutators
// that the Ops, delta replay during recovery, image decoding and RESTORE all call, none of which
// has the server's Config at hand. Passing them down every path would add a parameter to every
// mutator for values that change only by CONFIG SET (ServerContext::ApplyConfig stores them).
// Each value is a relaxed atomic, read with a plain load on the write path: a reader sees the old
// or the new threshold, both valid, and no invariant of an object depends on which (a
// conversion is one way and every encoding holds any contents).
//
// Thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace fdb {

class EncodingLimits {
 public:
  struct Values {
    // Redis 7.0.15's defaults (and 7.2's for the set listpack).
    uint64_t hash_max_listpack_entries = 512;
    uint64_t hash_max_listpack_value = 64;
    uint64_t set_max_intset_entries = 512;
    uint64_t set_max_listpack_entries = 128;
    uint64_t set_max_listpack_value = 64;
    uint64_t zset_max_listpack_entries = 128;
    uint64_t zset_max_listpack_value = 64;
  };

  // Bytes a small encoding's buffer may reach, whatever the thresholds allow: its lengths and
  // offsets are 32-bit, and Redis stops at the same size (LISTPACK_MAX_SAFETY_SIZE, 1 GB).
  static constexpr uint64_t kBufferBytesMax = 1ULL << 30;
  // Integers an intset may hold (Redis 7.2's cap of set-max-intset-entries): its buffer, at 8
  // bytes an integer, stays within 8 GB and its count within 32 bits.
  static constexpr uint64_t kIntsetEntriesCap = 1ULL << 30;

  static void Set(const Values& v);
  static Values Get();

  static size_t hash_max_listpack_entries() { return Load(hash_entries_); }
  static size_t hash_max_listpack_value() { return Load(hash_value_); }
  static size_t set_max_intset_entries() { return Load(set_intset_entries_); }
  static size_t set_max_listpack_entries() { return Load(set_entries_); }
  static size_t set_max_listpack_value() { return Load(set_value_); }
  static size_t zset_max_listpack_entries() { return Load(zset_entries_); }
  static size_t zset_max_listpack_value() { return Load(zset_value_); }

 private:
  static size_t Load(const std::atomic<uint64_t>& a) {
    return static_cast<size_t>(a.load(std::memory_order_relaxed));
  }
  static std::atomic<uint64_t> hash_entries_;
  static std::atomic<uint64_t> hash_value_;
  static std::atomic<uint64_t> set_intset_entries_;
  static std::atomic<uint64_t> set_entries_;
  static std::atomic<uint64_t> set_value_;
  static std::atomic<uint64_t> zset_entries_;
  static std::atomic<uint64_t> zset_value_;
};

// Sets the thresholds for the life of a scope and restores the previous ones (tests).
class ScopedEncodingLimits {
 public:
  explicit ScopedEncodingLimits(const EncodingLimits::Values& v) : saved_(EncodingLimits::Get()) {
    EncodingLimits::Set(v);
  }
  ~ScopedEncodingLimits() { EncodingLimits::Set(saved_); }
  ScopedEncodingLimits(const ScopedEncodingLimits&) = delete;
  ScopedEncodingLimits& operator=(const ScopedEncodingLimits&) = delete;

 private:
  EncodingLimits::Values saved_;
};

}  // namespace fdb
