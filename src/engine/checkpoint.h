// Checkpoint files: a snapshot of the index (not of the values) at a consistent point per shard.
//
//   checkpoint := magic:"FDBCKPT2" entry* end_marker:u8(0xff) nshards:u32 shard_seq:u64{nshards}
//                 count:u64 crc:u32
//   entry      := db:u8(<16) type:u8 key_len:varint key expire_ms:i64 loc:u64 value_len:varint
//
// crc is the masked CRC32C of every byte before it. An entry's value is the put record at `loc`
// (segment:24 | offset:40) in the log. shard_seq[i] is the sequence of the last record of shard
// i that the snapshot reflects: recovery applies to shard i only records after it.
//
// So the meaning of a checkpoint depends on which shard each key belongs to, and the magic's
// last byte is the version of that function (ShardLayout). Version 2 (FDBCKPT2, issue 10) is
// the Redis Cluster slot's range (base/slot.h); version 1 (FDBCKPT1) was the low 8 bits of
// XXH3 of the whole key. The reader accepts both and says which it read; the writer writes
// version 2 only (tests may ask for version 1 to build a directory of the old format).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/entry.h"

namespace fdb {

// How a checkpoint's shard_seq is indexed: the function from a key to its shard.
enum class ShardLayout : uint8_t {
  kXxh3LowBits = 1,  // FDBCKPT1: HashKey(key) & (kNumShards - 1), before issue 10
  kSlotRanges = 2,   // FDBCKPT2: ShardOfKey(key), the key's slot >> kSlotShardShift
};
inline constexpr ShardLayout kCurrentShardLayout = ShardLayout::kSlotRanges;
// The shard of `key` under `layout`.
int ShardOfKeyIn(ShardLayout layout, std::string_view key);

struct CheckpointEntry {
  int db = 0;
  ValueType type = ValueType::kString;
  std::string_view key;
  int64_t expire_ms = 0;
  uint64_t loc = 0;
  uint64_t value_len = 0;
};

class CheckpointWriter {
 public:
  ~CheckpointWriter();
  // `layout` other than the current one is for tests that build an old-format directory.
  Status Open(const std::string& path, ShardLayout layout = kCurrentShardLayout);
  Status Add(const CheckpointEntry& e);
  // Writes the shard sequences' trailer, fsyncs and closes.
  Status Finish(const std::vector<uint64_t>& shard_seq);

 private:
  Status FlushBuffer();  // extends the checksum over the buffer, then writes it
  Status WriteBuffer();  // writes the buffer as it is
  std::string path_;
  int fd_ = -1;
  std::string buf_;
  uint32_t crc_ = 0;
  uint64_t count_ = 0;
};

// Reads a checkpoint, calling fn for each entry; fills shard_seq, and *layout (from the magic,
// before the first call of fn). Corruption names the file; an unknown version says so.
Status ReadCheckpoint(const std::string& path, ShardLayout* layout,
                      std::vector<uint64_t>* shard_seq,
                      const std::function<void(const CheckpointEntry&)>& fn);

}  // namespace fdb
