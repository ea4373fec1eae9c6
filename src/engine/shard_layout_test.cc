// The shard of a key is part of the on-disk format: a checkpoint records one sequence per
// shard. These tests build a directory whose checkpoint is of format 1 (shards by the low bits
// of XXH3, before issue 10) and check that the engine opens it, applies each record to the
// shards exactly as format 1 defined them, converts the directory to format 2 (shards by Redis
// Cluster slot), and that an interrupted conversion leaves a directory that opens.
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/hash.h"
#include "base/slot.h"
#include "engine/checkpoint.h"
#include "engine/keyspace.h"
#include "engine/storage_engine.h"
#include "engine/storage_engine_test_util.h"
#include "storage/env.h"
#include "storage/manifest.h"
#include "storage/storage_test_util.h"

namespace fdb {
namespace {

using storage::testing::ReadAll;
using storage::testing::TempDir;
using storage::testing::WriteAll;

int OldShard(std::string_view key) { return ShardOfKeyIn(ShardLayout::kXxh3LowBits, key); }

class ShardLayoutTest : public testing::StorageEngineFixture {
 protected:
  // SET key value as one command; returns its record's sequence and where its image is.
  void Set(const std::string& key, const std::string& value, uint64_t* seq = nullptr,
           uint64_t* loc = nullptr) {
    Txn txn;
    {
      KeyRef k(key);
      std::lock_guard<AdaptiveMutex> l(ks_->shard(k.shard).mu);
      ks_->Put(txn, 0, k, Entry::NewString(key, value));
      ASSERT_TRUE(ks_->Commit(txn).ok());
    }
    uint64_t s = txn.sequence();
    ASSERT_TRUE(engine_->WaitForPolicy(s).ok());
    if (seq != nullptr) *seq = s;
    if (loc != nullptr) {
      KeyRef k(key);
      std::lock_guard<AdaptiveMutex> l(ks_->shard(k.shard).mu);
      *loc = ks_->shard(k.shard).dbs[0].Find(k.key, k.hash)->loc();
      ASSERT_NE(*loc, 0u);
    }
  }

  std::optional<std::string> Get(const std::string& key) {
    KeyRef k(key);
    std::lock_guard<AdaptiveMutex> l(ks_->shard(k.shard).mu);
    Txn txn;
    Entry* e = ks_->Find(txn, 0, k, NowMs());
    EXPECT_TRUE(ks_->Commit(txn).ok());  // a lazy expiry, committed as a command would
    if (e == nullptr) return std::nullopt;
    std::string scratch;
    return std::string(e->StringValue(&scratch));
  }

  storage::Manifest ReadManifest() {
    auto m = storage::ReadManifest(storage::Env::Default(), dir_.path());
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? *m : storage::Manifest{};
  }

  // Two keys whose format 1 shards differ, and whose format 2 shard is not their format 1
  // shard (so applying the wrong layout gives a different answer).
  static void PickKeys(std::string* x, std::string* y) {
    std::vector<std::string> keys;
    for (int i = 0; keys.size() < 2; i++) {
      std::string k = "key:" + std::to_string(i);
      if (OldShard(k) == ShardOfKey(k)) continue;
      if (!keys.empty() && OldShard(keys[0]) == OldShard(k)) continue;
      if (!keys.empty() && ShardOfKey(keys[0]) == OldShard(k)) continue;
      if (!keys.empty() && OldShard(keys[0]) == ShardOfKey(k)) continue;
      keys.push_back(k);
    }
    *x = keys[0];
    *y = keys[1];
  }

  // Builds what FDB before issue 10 could leave: a log of
  //   put x=1, put y=1, put y=2, put x=2
  // and a format 1 checkpoint written while they ran, which captured x's shard after its first
  // put and y's shard after its second (every other shard after the last record). Right
  // recovery: x=2 (its second put is after its shard's checkpoint), y=2.
  void MakeFormat1Directory(const std::string& x, const std::string& y) {
    ASSERT_NO_FATAL_FAILURE(Open());
    uint64_t seq_x1, loc_x1, seq_y1, seq_y2, loc_y2, seq_x2;
    ASSERT_NO_FATAL_FAILURE(Set(x, "1", &seq_x1, &loc_x1));
    ASSERT_NO_FATAL_FAILURE(Set(y, "1", &seq_y1));
    ASSERT_NO_FATAL_FAILURE(Set(y, "2", &seq_y2, &loc_y2));
    ASSERT_NO_FATAL_FAILURE(Set(x, "2", &seq_x2));
    ASSERT_NO_FATAL_FAILURE(Close());
    ASSERT_LT(seq_x1, seq_y1);
    ASSERT_LT(seq_y2, seq_x2);

    std::vector<uint64_t> shard_seq(limits::kNumShards, seq_x2);
    shard_seq[OldShard(x)] = seq_x1;
    shard_seq[OldShard(y)] = seq_y2;
    CheckpointWriter w;
    const std::string name = "CHECKPOINT-100.fdbc";
    ASSERT_TRUE(w.Open(dir_.path() + "/" + name, ShardLayout::kXxh3LowBits).ok());
    CheckpointEntry ex;
    ex.key = x;
    ex.loc = loc_x1;
    ex.value_len = 1;
    ASSERT_TRUE(w.Add(ex).ok());
    CheckpointEntry ey = ex;
    ey.key = y;
    ey.loc = loc_y2;
    ASSERT_TRUE(w.Add(ey).ok());
    ASSERT_TRUE(w.Finish(shard_seq).ok());
    storage::Manifest m = ReadManifest();
    m.generation = 100;
    m.checkpoint_file = name;
    m.checkpoint_sequence = seq_x1;
    ASSERT_TRUE(storage::WriteManifest(storage::Env::Default(), dir_.path(), m).ok());
  }
};

TEST_F(ShardLayoutTest, Format1DirectoryIsConvertedOnOpen) {
  std::string x, y;
  PickKeys(&x, &y);
  ASSERT_NO_FATAL_FAILURE(MakeFormat1Directory(x, y));
  const std::string old_checkpoint = ReadManifest().checkpoint_file;

  ASSERT_NO_FATAL_FAILURE(Open());
  EXPECT_EQ(Get(x), "2");
  EXPECT_EQ(Get(y), "2");
  // Converted: the manifest names a new checkpoint of format 2, and the old one is gone.
  storage::Manifest m = ReadManifest();
  EXPECT_NE(m.checkpoint_file, old_checkpoint);
  EXPECT_EQ(ReadAll(dir_.path() + "/" + m.checkpoint_file).substr(0, 8), "FDBCKPT2");
  EXPECT_FALSE(storage::Env::Default()->FileExists(dir_.path() + "/" + old_checkpoint));
  ASSERT_NO_FATAL_FAILURE(Set("after", "3"));
  ASSERT_NO_FATAL_FAILURE(Close());

  // A directory of format 2 round-trips.
  ASSERT_NO_FATAL_FAILURE(Open());
  EXPECT_EQ(Get(x), "2");
  EXPECT_EQ(Get(y), "2");
  EXPECT_EQ(Get("after"), "3");
  EXPECT_EQ(ReadManifest().checkpoint_file, m.checkpoint_file);
  ASSERT_TRUE(engine_->Save().ok());
  ASSERT_NO_FATAL_FAILURE(Close());
  ASSERT_NO_FATAL_FAILURE(Open());
  EXPECT_EQ(Get(x), "2");
  EXPECT_EQ(Get(y), "2");
  EXPECT_EQ(Get("after"), "3");
  EXPECT_EQ(ReadAll(dir_.path() + "/" + ReadManifest().checkpoint_file).substr(0, 8), "FDBCKPT2");
}

// A kill during the conversion, before the manifest naming the new checkpoint replaced the old
// one: the manifest still names the format 1 checkpoint, while the log has grown past it (the
// segment the new writer created, the images the conversion wrote, later writes). Recovery
// reads the old checkpoint with its own layout again, and every newer record applies.
TEST_F(ShardLayoutTest, InterruptedConversionLeavesADirectoryThatOpens) {
  std::string x, y;
  PickKeys(&x, &y);
  ASSERT_NO_FATAL_FAILURE(MakeFormat1Directory(x, y));
  const storage::Manifest old_manifest = ReadManifest();
  const std::string old_checkpoint_bytes =
      ReadAll(dir_.path() + "/" + old_manifest.checkpoint_file);

  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_NO_FATAL_FAILURE(Set(x, "3"));
  ASSERT_NO_FATAL_FAILURE(Close());

  // Put the directory back as the kill would have left it.
  storage::Manifest m = ReadManifest();
  WriteAll(dir_.path() + "/" + old_manifest.checkpoint_file, old_checkpoint_bytes);
  m.generation++;
  m.checkpoint_file = old_manifest.checkpoint_file;
  m.checkpoint_sequence = old_manifest.checkpoint_sequence;
  ASSERT_TRUE(storage::WriteManifest(storage::Env::Default(), dir_.path(), m).ok());

  ASSERT_NO_FATAL_FAILURE(Open());
  EXPECT_EQ(Get(x), "3");
  EXPECT_EQ(Get(y), "2");
  EXPECT_EQ(ReadAll(dir_.path() + "/" + ReadManifest().checkpoint_file).substr(0, 8), "FDBCKPT2");
  ASSERT_NO_FATAL_FAILURE(Close());
  ASSERT_NO_FATAL_FAILURE(Open());
  EXPECT_EQ(Get(x), "3");
  EXPECT_EQ(Get(y), "2");
}

// Recovery of a format 2 directory places every key in its slot's shard, with a hash tag
// keeping keys together.
TEST_F(ShardLayoutTest, RecoveredKeysLiveInTheirSlotsShard) {
  ASSERT_NO_FATAL_FAILURE(Open());
  const std::vector<std::string> keys = {"{user1000}.following", "{user1000}.followers", "a", "b",
                                         "somekey"};
  for (const std::string& k : keys) ASSERT_NO_FATAL_FAILURE(Set(k, k));
  ASSERT_TRUE(engine_->Save().ok());
  ASSERT_NO_FATAL_FAILURE(Set("late", "1"));
  ASSERT_NO_FATAL_FAILURE(Close());
  ASSERT_NO_FATAL_FAILURE(Open());
  for (const std::string& k : keys) {
    const int shard = ShardOfSlot(KeySlot(k));
    EXPECT_NE(ks_->shard(shard).dbs[0].Find(k, HashKey(k)), nullptr) << k;
  }
  EXPECT_EQ(ShardOfKey("{user1000}.following"), ShardOfKey("{user1000}.followers"));
  EXPECT_EQ(Get("late"), "1");
}

}  // namespace
}  // namespace fdb
