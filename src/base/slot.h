// Redis Cluster key slots: which of 16,384 slots a key belongs to, and which keyspace shard
// holds a slot.
//
// Model: as in Redis Cluster, a key's slot is CRC16(key) mod 16384, where only the key's hash
// tag is hashed when it has one: the bytes between the first '{' and the first '}' after it,
// if there is at least one byte between them. So `{user1000}.following` and
// `{user1000}.followers` share a slot, and a client can name keys that a multi-key command,
// MULTI/EXEC or (later) a cluster must keep together.
//
// Shards are contiguous ranges of slots (shard = slot >> kSlotShardShift), so one slot lives in
// exactly one shard, keys sharing a hash tag lock one shard, and a slot (the unit a cluster
// would migrate) maps to one shard's lock. The alternative rejected: keeping XXH3 of the whole
// key for the shard ignores hash tags, so tagged keys were spread over many locks.
//
// The shard of a key is part of the on-disk format: checkpoints record a sequence per shard
// (docs/format.md, "Checkpoints"). Changing KeySlot or kNumShards changes the format.
//
// Thread-safe: pure functions over a constant table.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "base/limits.h"

namespace fdb {

// Redis Cluster's slot count (cluster.h CLUSTER_SLOTS).
inline constexpr int kNumSlots = 16384;
static_assert((kNumSlots & (kNumSlots - 1)) == 0, "slot count must be a power of two");
static_assert(kNumSlots % limits::kNumShards == 0, "every shard holds the same number of slots");
static_assert(limits::kNumShards <= kNumSlots, "a shard holds at least one slot");

// log2(kNumSlots / kNumShards): 6 with 256 shards, 64 slots per shard.
inline constexpr int kSlotShardShift = [] {
  int shift = 0;
  while ((limits::kNumShards << shift) < kNumSlots) shift++;
  return shift;
}();
static_assert((limits::kNumShards << kSlotShardShift) == kNumSlots);

namespace slot_internal {

// CRC-16/XMODEM (polynomial 0x1021, initial value 0, no reflection, no final xor): the CRC
// Redis's crc16.c computes, table-driven, four bytes a step ("slicing by 4"): table k holds
// the CRC of a byte followed by k zero bytes, so a step's four lookups are independent. A key
// is hashed on every command for its shard, where a byte-at-a-time loop cost ~3% of pipelined
// SET throughput; 2 KiB of tables stay in L1.
constexpr std::array<std::array<uint16_t, 256>, 4> MakeCrc16Tables() {
  std::array<std::array<uint16_t, 256>, 4> t{};
  for (int i = 0; i < 256; i++) {
    uint16_t crc = static_cast<uint16_t>(i << 8);
    for (int bit = 0; bit < 8; bit++) {
      crc = static_cast<uint16_t>((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    t[0][i] = crc;
  }
  for (int k = 1; k < 4; k++) {
    for (int i = 0; i < 256; i++) {
      uint16_t prev = t[k - 1][i];
      t[k][i] = static_cast<uint16_t>((prev << 8) ^ t[0][prev >> 8]);
    }
  }
  return t;
}
inline constexpr std::array<std::array<uint16_t, 256>, 4> kCrc16Tables = MakeCrc16Tables();

}  // namespace slot_internal

// CRC-16/XMODEM of `data`, as Redis's crc16(). Its check value: Crc16("123456789") == 0x31C3.
inline uint16_t Crc16(std::string_view data) {
  const auto& t = slot_internal::kCrc16Tables;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  uint16_t crc = 0;
  // The register is xored into the first two bytes of a step, as the bytewise loop would.
  for (; n >= 4; p += 4, n -= 4) {
    crc = static_cast<uint16_t>(t[3][(crc >> 8) ^ p[0]] ^ t[2][(crc & 0xff) ^ p[1]] ^ t[1][p[2]] ^
                                t[0][p[3]]);
  }
  for (; n > 0; p++, n--) crc = static_cast<uint16_t>((crc << 8) ^ t[0][(crc >> 8) ^ *p]);
  return crc;
}

// The part of `key` that picks its slot: the hash tag when there is a non-empty one, else the
// whole key. As Redis's keyHashSlot: the first '{', then the first '}' after it; `{}` (empty)
// or a '{' without a '}' means no tag, and the whole key is hashed.
inline std::string_view HashTag(std::string_view key) {
  const void* open = memchr(key.data(), '{', key.size());
  if (open == nullptr) return key;
  size_t s = static_cast<const char*>(open) - key.data();
  const void* close = memchr(key.data() + s + 1, '}', key.size() - s - 1);
  if (close == nullptr) return key;
  size_t e = static_cast<const char*>(close) - key.data();
  if (e == s + 1) return key;
  return key.substr(s + 1, e - s - 1);
}

// CLUSTER KEYSLOT: the slot of `key`, in [0, kNumSlots).
inline int KeySlot(std::string_view key) { return Crc16(HashTag(key)) & (kNumSlots - 1); }

// The shard that holds `slot`: shards are ranges of kNumSlots / kNumShards consecutive slots.
inline int ShardOfSlot(int slot) { return slot >> kSlotShardShift; }

// The shard of `key` (its slot's shard).
inline int ShardOfKey(std::string_view key) { return ShardOfSlot(KeySlot(key)); }

}  // namespace fdb
