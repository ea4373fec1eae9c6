// StorageEngine tests: drive the engine the way the server does (a Keyspace with the engine as
// its first effect sink, mutations under the shard lock, one Txn committed per command), then
// reopen the directory into a fresh Keyspace and compare the recovered state.
#include "engine/storage_engine.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "base/clock.h"
#include "engine/keyspace.h"
#include "engine/storage_engine_test_util.h"
#include "storage/file_names.h"
#include "storage/storage_test_util.h"

namespace fdb {
namespace {

using storage::testing::TempDir;

constexpr int64_t kMissing = -2;  // Ttl() of a missing key, as Redis's PTTL

class StorageEngineTest : public testing::StorageEngineFixture {
 protected:
  StorageEngineTest() {
    opts_.segment_target_size = 64u << 10;
    // Fixed small segments: the compaction tests count them.
    opts_.adaptive_segments = false;
  }

  // SET key value [PXAT expire_ms] in db, as one command.
  void Set(int db, const std::string& key, const std::string& value, int64_t expire_ms = 0) {
    Txn txn;
    {
      KeyRef k(key);
      std::lock_guard<AdaptiveMutex> l(ks_->shard(k.shard).mu);
      Entry* e = Entry::NewString(key, value);
      e->set_expire_ms(expire_ms);
      ks_->Put(txn, db, k, e);
    }
    ASSERT_TRUE(ks_->Commit(txn).ok());
    Acknowledge(txn);
  }

  // What the I/O thread does before releasing a reply: wait until the command's records are
  // written (or durable, under fsync always).
  void Acknowledge(const Txn& txn) { ASSERT_TRUE(engine_->WaitForPolicy(txn.sequence()).ok()); }

  bool Del(int db, const std::string& key) {
    Txn txn;
    bool existed;
    {
      KeyRef k(key);
      std::lock_guard<AdaptiveMutex> l(ks_->shard(k.shard).mu);
      existed = ks_->Delete(txn, db, k, NowMs());
    }
    EXPECT_TRUE(ks_->Commit(txn).ok());
    Acknowledge(txn);
    return existed;
  }

  // PEXPIREAT (expire_ms > 0) or PERSIST (0) of an existing key.
  void SetExpire(int db, const std::string& key, int64_t expire_ms) {
    Txn txn;
    {
      KeyRef k(key);
      std::lock_guard<AdaptiveMutex> l(ks_->shard(k.shard).mu);
      Entry* e = ks_->Find(txn, db, k, NowMs());
      ASSERT_NE(e, nullptr) << key;
      ks_->SetExpire(txn, db, e, expire_ms);
    }
    ASSERT_TRUE(ks_->Commit(txn).ok());
    Acknowledge(txn);
  }

  void FlushDb(int db) {
    Txn txn;  // FLUSHDB has no keys: no shard locks, as the dispatcher does
    ks_->FlushDb(txn, db);
    ASSERT_TRUE(ks_->Commit(txn).ok());
    Acknowledge(txn);
  }

  void SwapDb(int a, int b) {
    Txn txn;
    ks_->SwapDb(txn, a, b);
    ASSERT_TRUE(ks_->Commit(txn).ok());
    Acknowledge(txn);
  }

  // The value of key (read back from the log if evicted), or nullopt if missing.
  std::optional<std::string> Get(int db, const std::string& key) {
    KeyRef k(key);
    Txn txn;
    std::lock_guard<AdaptiveMutex> l(ks_->shard(k.shard).mu);
    Entry* e = ks_->Find(txn, db, k, NowMs());
    EXPECT_TRUE(ks_->Commit(txn).ok());  // a lazy expiry, committed as a command would
    if (e == nullptr) return std::nullopt;
    EXPECT_FALSE(e->on_disk()) << "Find must hand out values in RAM: " << key;
    std::string scratch;
    return std::string(e->StringValue(&scratch));
  }

  // The absolute deadline of key (0: none), or kMissing.
  int64_t Deadline(int db, const std::string& key) {
    KeyRef k(key);
    Txn txn;
    std::lock_guard<AdaptiveMutex> l(ks_->shard(k.shard).mu);
    Entry* e = ks_->Find(txn, db, k, NowMs(), false);
    EXPECT_TRUE(ks_->Commit(txn).ok());  // a lazy expiry, committed as a command would
    return e == nullptr ? kMissing : e->expire_ms();
  }

  // The entry as stored, without loading it (nullptr if missing).
  const Entry* Peek(int db, const std::string& key) {
    KeyRef k(key);
    std::lock_guard<AdaptiveMutex> l(ks_->shard(k.shard).mu);
    return ks_->shard(k.shard).dbs[db].Find(k.key, k.hash);
  }

  std::set<uint64_t> SegmentFilesOnDisk() {
    std::set<uint64_t> ids;
    for (const auto& de : std::filesystem::directory_iterator(dir_.path())) {
      auto id = storage::ParseSegmentFileName(de.path().filename().string());
      if (id) ids.insert(*id);
    }
    return ids;
  }

  // Waits up to `timeout` for the background thread to finish a compaction.
  bool WaitForCompaction(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (engine_->stats().compactions > 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return engine_->stats().compactions > 0;
  }

  static std::string Value(int i, int round, size_t len) {
    std::string v = "v" + std::to_string(i) + "." + std::to_string(round) + ":";
    while (v.size() < len) v += static_cast<char>('a' + (v.size() * 7 + i + round) % 26);
    return v;
  }

  // Overwrites keys k0..k<keys-1> of db 0 `rounds` times: garbage for compaction.
  void OverwriteMany(int keys, int rounds, size_t len) {
    for (int round = 0; round < rounds; round++) {
      for (int i = 0; i < keys; i++) Set(0, "k" + std::to_string(i), Value(i, round, len));
    }
  }
};

TEST_F(StorageEngineTest, EmptyDirectoryOpensEmpty) {
  ASSERT_NO_FATAL_FAILURE(Open());
  EXPECT_EQ(ks_->TotalKeys(Txn()), 0u);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(ks_->TotalKeys(Txn()), 0u);
  EXPECT_TRUE(engine_->stats().healthy);
}

TEST_F(StorageEngineTest, PutsDeletesExpirePersistSurviveRestart) {
  ASSERT_NO_FATAL_FAILURE(Open());
  int64_t far = NowMs() + 3600 * 1000;
  Set(0, "plain", "hello");
  Set(0, "number", "12345");  // stored as kInt
  Set(0, "overwritten", "first");
  Set(0, "overwritten", "second");
  Set(0, "deleted", "gone soon");
  EXPECT_TRUE(Del(0, "deleted"));
  Set(0, "with_ttl", "t", far);
  Set(0, "expire_later", "x");
  SetExpire(0, "expire_later", far + 1);
  Set(0, "persisted", "p", far + 2);
  SetExpire(0, "persisted", 0);
  Set(3, "plain", "in db 3");
  Set(0, "empty", "");

  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Get(0, "plain"), "hello");
  EXPECT_EQ(Get(0, "number"), "12345");
  EXPECT_EQ(Get(0, "overwritten"), "second");
  EXPECT_EQ(Get(0, "deleted"), std::nullopt);
  EXPECT_EQ(Get(0, "empty"), "");
  EXPECT_EQ(Deadline(0, "with_ttl"), far);
  EXPECT_EQ(Deadline(0, "expire_later"), far + 1);
  EXPECT_EQ(Deadline(0, "persisted"), 0);
  EXPECT_EQ(Deadline(0, "plain"), 0);
  EXPECT_EQ(Get(3, "plain"), "in db 3");
  EXPECT_EQ(Get(1, "plain"), std::nullopt);
  EXPECT_EQ(ks_->DbSize(Txn(), 0), 7u);
  EXPECT_EQ(ks_->DbSize(Txn(), 3), 1u);
  EXPECT_EQ(ks_->ExpiresCount(Txn(), 0), 2u);
  EXPECT_GT(engine_->stats().recovered_records, 0u);

  // A second restart replays the same log again, plus nothing new.
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Get(0, "overwritten"), "second");
  EXPECT_EQ(ks_->DbSize(Txn(), 0), 7u);
}

TEST_F(StorageEngineTest, WritesWithoutBatchAreLoggedImmediately) {
  ASSERT_NO_FATAL_FAILURE(Open());
  {
    KeyRef k("solo");
    Txn txn;
    std::lock_guard<AdaptiveMutex> l(ks_->shard(k.shard).mu);
    Entry* e = ks_->Put(txn, 0, k, Entry::NewString("solo", "value"));
    ASSERT_TRUE(ks_->Commit(txn).ok());
    EXPECT_NE(e->loc(), 0u) << "a put committed alone has a full image at once";
  }
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Get(0, "solo"), "value");
}

TEST_F(StorageEngineTest, ExpiredKeyDeletedLazilyStaysDeleted) {
  ASSERT_NO_FATAL_FAILURE(Open());
  Set(0, "short", "lived", NowMs() + 30);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(Get(0, "short"), std::nullopt);  // lazy expiry logs a delete
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Peek(0, "short"), nullptr);
}

TEST_F(StorageEngineTest, FlushDbAndFlushAllSurviveRestart) {
  ASSERT_NO_FATAL_FAILURE(Open());
  for (int i = 0; i < 50; i++) {
    Set(0, "a" + std::to_string(i), "0");
    Set(1, "b" + std::to_string(i), "1");
    Set(2, "c" + std::to_string(i), "2");
  }
  FlushDb(1);
  Set(1, "after_flush", "kept");
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(ks_->DbSize(Txn(), 0), 50u);
  EXPECT_EQ(ks_->DbSize(Txn(), 1), 1u);
  EXPECT_EQ(ks_->DbSize(Txn(), 2), 50u);
  EXPECT_EQ(Get(1, "after_flush"), "kept");
  EXPECT_EQ(Get(1, "b7"), std::nullopt);

  FlushDb(-1);
  Set(2, "survivor", "s");
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(ks_->TotalKeys(Txn()), 1u);
  EXPECT_EQ(Get(2, "survivor"), "s");
}

TEST_F(StorageEngineTest, SwapDbSurvivesRestart) {
  ASSERT_NO_FATAL_FAILURE(Open());
  int64_t far = NowMs() + 3600 * 1000;
  Set(0, "k", "zero");
  Set(0, "only0", "o", far);
  Set(5, "k", "five");
  SwapDb(0, 5);
  Set(0, "after", "swap");
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Get(0, "k"), "five");
  EXPECT_EQ(Get(5, "k"), "zero");
  EXPECT_EQ(Get(5, "only0"), "o");
  EXPECT_EQ(Deadline(5, "only0"), far);
  EXPECT_EQ(Get(0, "only0"), std::nullopt);
  EXPECT_EQ(Get(0, "after"), "swap");
  EXPECT_EQ(ks_->ExpiresCount(Txn(), 5), 1u);
  EXPECT_EQ(ks_->ExpiresCount(Txn(), 0), 0u);
}

TEST_F(StorageEngineTest, MultiKeyBatchRecovered) {
  ASSERT_NO_FATAL_FAILURE(Open());
  // MSET a 1 b 2: both shards locked in ascending order, one batch record.
  KeyRef a("batch_a"), b("batch_b");
  Txn txn;
  {
    ShardLockSet locks;
    locks.Add(a.shard);
    locks.Add(b.shard);
    locks.Lock(*ks_);
    ks_->Put(txn, 0, a, Entry::NewString(a.key, "value a"));
    ks_->Put(txn, 0, b, Entry::NewString(b.key, "value b"));
    ASSERT_TRUE(ks_->Commit(txn).ok());
  }
  Acknowledge(txn);
  // Puts inside a multi-record batch have no image of their own.
  EXPECT_EQ(Peek(0, "batch_a")->loc(), 0u);
  EXPECT_EQ(Peek(0, "batch_b")->loc(), 0u);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Get(0, "batch_a"), "value a");
  EXPECT_EQ(Get(0, "batch_b"), "value b");
}

TEST_F(StorageEngineTest, BatchWithFlushKeepsOrder) {
  ASSERT_NO_FATAL_FAILURE(Open());
  Set(0, "old", "x");
  // One command that writes a key and then flushes: the flush must come after the put in the
  // log, so the key is gone after replay too.
  Txn txn;
  {
    KeyRef k("inside");
    std::lock_guard<AdaptiveMutex> l(ks_->shard(k.shard).mu);
    ks_->Put(txn, 0, k, Entry::NewString("inside", "y"));
  }
  ks_->FlushDb(txn, 0);
  ASSERT_TRUE(ks_->Commit(txn).ok());
  Set(0, "new", "z");
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(ks_->DbSize(Txn(), 0), 1u);
  EXPECT_EQ(Get(0, "new"), "z");
}

TEST_F(StorageEngineTest, CheckpointPlusTailGivesExactState) {
  ASSERT_NO_FATAL_FAILURE(Open());
  int64_t far = NowMs() + 3600 * 1000;
  for (int i = 0; i < 200; i++) Set(i % 3, "k" + std::to_string(i), Value(i, 0, 40));
  Set(0, "ttl", "t", far);
  Set(7, "flushed_later", "f");
  ASSERT_TRUE(engine_->Save().ok());
  EXPECT_EQ(engine_->stats().checkpoints, 1u);

  // The tail after the checkpoint.
  for (int i = 0; i < 200; i += 2) Set(i % 3, "k" + std::to_string(i), Value(i, 1, 40));
  for (int i = 1; i < 200; i += 10) EXPECT_TRUE(Del(i % 3, "k" + std::to_string(i)));
  SetExpire(0, "ttl", 0);
  SetExpire(0, "k3", far + 5);
  Set(0, "new_after_ckpt", "n");
  FlushDb(7);

  ASSERT_NO_FATAL_FAILURE(Reopen());
  for (int i = 0; i < 200; i++) {
    std::string key = "k" + std::to_string(i);
    if (i % 10 == 1) {
      EXPECT_EQ(Get(i % 3, key), std::nullopt) << key;
    } else {
      EXPECT_EQ(Get(i % 3, key), Value(i, i % 2 == 0 ? 1 : 0, 40)) << key;
    }
  }
  EXPECT_EQ(Deadline(0, "ttl"), 0);
  EXPECT_EQ(Deadline(0, "k3"), far + 5);
  EXPECT_EQ(Get(0, "new_after_ckpt"), "n");
  EXPECT_EQ(ks_->DbSize(Txn(), 7), 0u);
  EXPECT_EQ(ks_->DbSize(Txn(), 0) + ks_->DbSize(Txn(), 1) + ks_->DbSize(Txn(), 2), 200u - 20u + 2u);

  // Checkpoint the recovered state and restart again: same state.
  ASSERT_TRUE(engine_->Save().ok());
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Get(2, "k2"), Value(2, 1, 40));
  EXPECT_EQ(Get(1, "k1"), std::nullopt);
  EXPECT_EQ(Deadline(0, "k3"), far + 5);
  EXPECT_EQ(ks_->DbSize(Txn(), 7), 0u);
}

TEST_F(StorageEngineTest, CheckpointOnlyRestartLoadsValuesOnDemand) {
  ASSERT_NO_FATAL_FAILURE(Open());
  int64_t far = NowMs() + 3600 * 1000;
  for (int i = 0; i < 100; i++) Set(0, "k" + std::to_string(i), Value(i, 0, 100));
  Set(4, "int", "-42");
  Set(0, "ttl", "t", far);
  ASSERT_TRUE(engine_->Save().ok());
  ASSERT_NO_FATAL_FAILURE(Reopen());

  // The checkpoint gives keys, not values.
  const Entry* e = Peek(0, "k10");
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->on_disk());
  EXPECT_EQ(Peek(0, "ttl")->expire_ms(), far);
  EXPECT_EQ(ks_->RamValues(), 0u);
  EXPECT_EQ(ks_->DbSize(Txn(), 0), 101u);

  uint64_t misses = ks_->stats().cache_misses.load();
  for (int i = 0; i < 100; i++) {
    EXPECT_EQ(Get(0, "k" + std::to_string(i)), Value(i, 0, 100)) << i;
  }
  EXPECT_EQ(Get(4, "int"), "-42");
  EXPECT_EQ(Get(0, "ttl"), "t");
  EXPECT_EQ(Deadline(0, "ttl"), far);
  EXPECT_EQ(ks_->stats().cache_misses.load() - misses, 102u);
  EXPECT_FALSE(Peek(0, "k10")->on_disk());
}

TEST_F(StorageEngineTest, DirtyBatchEntriesGetImagesInCheckpoint) {
  ASSERT_NO_FATAL_FAILURE(Open());
  KeyRef a("dirty_a"), b("dirty_b");
  Txn txn;
  {
    ShardLockSet locks;
    locks.Add(a.shard);
    locks.Add(b.shard);
    locks.Lock(*ks_);
    ks_->Put(txn, 2, a, Entry::NewString(a.key, "A"));
    ks_->Put(txn, 2, b, Entry::NewString(b.key, "B"));
    ASSERT_TRUE(ks_->Commit(txn).ok());
  }
  Acknowledge(txn);
  ASSERT_TRUE(engine_->Save().ok());
  EXPECT_NE(Peek(2, "dirty_a")->loc(), 0u);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_TRUE(Peek(2, "dirty_a")->on_disk());
  EXPECT_EQ(Get(2, "dirty_a"), "A");
  EXPECT_EQ(Get(2, "dirty_b"), "B");
}

TEST_F(StorageEngineTest, RamCacheStaysNearBudget) {
  ASSERT_NO_FATAL_FAILURE(Open());
  constexpr uint64_t kBudget = 16u << 10;
  constexpr size_t kValueLen = 200;
  constexpr int kKeys = 1000;
  ks_->SetBudget(kBudget, 0);
  uint64_t max_ram = 0;
  for (int i = 0; i < kKeys; i++) {
    Set(0, "k" + std::to_string(i), Value(i, 0, kValueLen));
    // The server's housekeeping catches up on what writers could not evict themselves.
    if (i % 20 == 19) ks_->EvictUntilUnderBudget(1u << 20);
    max_ram = std::max(max_ram, ks_->RamValueBytes());
  }
  ks_->EvictUntilUnderBudget(1u << 20);
  EXPECT_LE(ks_->RamValueBytes(), kBudget);
  // Between housekeeping rounds writers evict from their own shard only, so allow 20 values.
  EXPECT_LE(max_ram, kBudget + 20 * kValueLen);
  EXPECT_GT(ks_->stats().cache_evictions.load(), 0u);
  EXPECT_EQ(ks_->DbSize(Txn(), 0), static_cast<size_t>(kKeys));

  for (int i = 0; i < kKeys; i++) {
    EXPECT_EQ(Get(0, "k" + std::to_string(i)), Value(i, 0, kValueLen)) << i;
    if (i % 20 == 19) ks_->EvictUntilUnderBudget(1u << 20);
  }
  ks_->EvictUntilUnderBudget(1u << 20);
  EXPECT_LE(ks_->RamValueBytes(), kBudget);
  EXPECT_GT(ks_->stats().cache_misses.load(), 0u);

  ASSERT_NO_FATAL_FAILURE(Reopen());
  for (int i = 0; i < kKeys; i++) {
    EXPECT_EQ(Get(0, "k" + std::to_string(i)), Value(i, 0, kValueLen)) << i;
  }
}

TEST_F(StorageEngineTest, EvictedDirtyEntryReadsBack) {
  ASSERT_NO_FATAL_FAILURE(Open());
  KeyRef a("evict_a"), b("evict_b");
  std::string va = Value(1, 0, 300), vb = Value(2, 0, 300);
  Txn txn;
  {
    ShardLockSet locks;
    locks.Add(a.shard);
    locks.Add(b.shard);
    locks.Lock(*ks_);
    ks_->Put(txn, 1, a, Entry::NewString(a.key, va));
    ks_->Put(txn, 1, b, Entry::NewString(b.key, vb));
    ASSERT_TRUE(ks_->Commit(txn).ok());
  }
  Acknowledge(txn);
  ASSERT_EQ(Peek(1, "evict_a")->loc(), 0u);
  ASSERT_EQ(Peek(1, "evict_b")->loc(), 0u);

  // A budget of one byte evicts every value.
  ks_->SetBudget(1, 0);
  ks_->EvictUntilUnderBudget(1u << 20);
  ASSERT_TRUE(Peek(1, "evict_a")->on_disk());
  ASSERT_TRUE(Peek(1, "evict_b")->on_disk());
  EXPECT_NE(Peek(1, "evict_a")->loc(), 0u);
  EXPECT_EQ(ks_->RamValues(), 0u);
  EXPECT_EQ(ks_->stats().cache_evictions.load(), 2u);

  EXPECT_EQ(Get(1, "evict_a"), va);
  EXPECT_EQ(Get(1, "evict_b"), vb);

  ks_->SetBudget(0, 0);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Get(1, "evict_a"), va);
  EXPECT_EQ(Get(1, "evict_b"), vb);
}

// Regression: a value evicted right after its image was appended, before the log writer's
// flusher had written the image to the file, could not be read back (the key read as missing).
TEST_F(StorageEngineTest, ValueEvictedBeforeItsImageIsWrittenReadsBack) {
  ASSERT_NO_FATAL_FAILURE(Open());
  for (int i = 0; i < 20; i++) {
    // No batch and no wait for the writer: the record may still be in the writer's buffer.
    std::string key = "fresh" + std::to_string(i);
    KeyRef k(key);
    Txn txn;
    std::lock_guard<AdaptiveMutex> l(ks_->shard(k.shard).mu);
    ks_->Put(txn, 0, k, Entry::NewString(key, Value(i, 0, 100)));
  }
  ks_->SetBudget(1, 0);
  ks_->EvictUntilUnderBudget(1u << 20);
  ks_->SetBudget(0, 0);
  EXPECT_EQ(ks_->RamValues(), 0u);
  for (int i = 0; i < 20; i++) {
    EXPECT_EQ(Get(0, "fresh" + std::to_string(i)), Value(i, 0, 100)) << i;
  }
}

TEST_F(StorageEngineTest, EvictedValueKeepsNewerDeadline) {
  ASSERT_NO_FATAL_FAILURE(Open());
  int64_t far = NowMs() + 3600 * 1000;
  Set(0, "k", "value", far);
  ks_->SetBudget(1, 0);
  ks_->EvictUntilUnderBudget(1u << 20);
  ASSERT_TRUE(Peek(0, "k")->on_disk());
  ks_->SetBudget(0, 0);
  SetExpire(0, "k", far + 100);  // loads, then changes the deadline after the image
  ks_->SetBudget(1, 0);
  ks_->EvictUntilUnderBudget(1u << 20);
  ks_->SetBudget(0, 0);
  EXPECT_EQ(Get(0, "k"), "value");
  EXPECT_EQ(Deadline(0, "k"), far + 100);
  ASSERT_TRUE(engine_->Save().ok());
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Get(0, "k"), "value");
  EXPECT_EQ(Deadline(0, "k"), far + 100);
}

TEST_F(StorageEngineTest, CompactionRemovesOldSegmentsAndKeepsValues) {
  // Write the garbage with compaction out of reach, then reopen with a small threshold: the
  // segments before compaction are then known exactly.
  ASSERT_NO_FATAL_FAILURE(Open());
  constexpr int kKeys = 100, kRounds = 20;
  constexpr size_t kLen = 1000;
  OverwriteMany(kKeys, kRounds, kLen);
  Set(0, "deleted", "d");
  EXPECT_TRUE(Del(0, "deleted"));
  opts_.compact_min_bytes = 128u << 10;
  ASSERT_NO_FATAL_FAILURE(Reopen());
  std::set<uint64_t> before = SegmentFilesOnDisk();
  ASSERT_GT(before.size(), 10u);
  EXPECT_EQ(engine_->stats().compactions, 0u);

  ASSERT_TRUE(WaitForCompaction(std::chrono::seconds(5)));
  StorageStats st = engine_->stats();
  std::set<uint64_t> after = SegmentFilesOnDisk();
  EXPECT_EQ(after.size(), st.segments);
  EXPECT_EQ(after.count(*before.begin()), 0u) << "the first segment is compacted away";
  EXPECT_LT(after.size(), before.size());
  EXPECT_LE(st.log_bytes, 2 * st.live_bytes + 2 * opts_.segment_target_size);
  for (int i = 0; i < kKeys; i++) {
    EXPECT_EQ(Get(0, "k" + std::to_string(i)), Value(i, kRounds - 1, kLen)) << i;
  }

  ASSERT_NO_FATAL_FAILURE(Reopen());
  for (int i = 0; i < kKeys; i++) {
    EXPECT_EQ(Get(0, "k" + std::to_string(i)), Value(i, kRounds - 1, kLen)) << i;
  }
  EXPECT_EQ(Get(0, "deleted"), std::nullopt);
  EXPECT_EQ(ks_->DbSize(Txn(), 0), static_cast<size_t>(kKeys));
}

TEST_F(StorageEngineTest, CompactionMovesEvictedValues) {
  opts_.compact_min_bytes = 128u << 10;
  ASSERT_NO_FATAL_FAILURE(Open());
  // Values written once, then evicted: their only image is in the oldest segments.
  for (int i = 0; i < 50; i++) Set(0, "cold" + std::to_string(i), Value(i, 99, 500));
  ks_->SetBudget(1, 0);
  ks_->EvictUntilUnderBudget(1u << 20);
  ks_->SetBudget(0, 0);
  ASSERT_TRUE(Peek(0, "cold0")->on_disk());
  OverwriteMany(100, 20, 1000);
  ASSERT_TRUE(WaitForCompaction(std::chrono::seconds(5)));
  EXPECT_EQ(SegmentFilesOnDisk().count(1), 0u);
  for (int i = 0; i < 50; i++) {
    EXPECT_EQ(Get(0, "cold" + std::to_string(i)), Value(i, 99, 500)) << i;
  }
  ASSERT_NO_FATAL_FAILURE(Reopen());
  for (int i = 0; i < 50; i++) {
    EXPECT_EQ(Get(0, "cold" + std::to_string(i)), Value(i, 99, 500)) << i;
  }
}

// Regression: compaction found the entry of a put record in the database named by the record,
// but SWAPDB moves entries between databases without writing new images, so the swapped keys'
// images were not copied and their segments were deleted under them.
TEST_F(StorageEngineTest, CompactionAfterSwapDbKeepsSwappedValues) {
  opts_.compact_min_bytes = 128u << 10;
  ASSERT_NO_FATAL_FAILURE(Open());
  int64_t far = NowMs() + 3600 * 1000;
  for (int i = 0; i < 20; i++) Set(1, "swapped" + std::to_string(i), Value(i, 7, 300), far + i);
  SwapDb(1, 2);
  // Evict half of them so their only copy is the image in the log.
  ks_->SetBudget(1, 0);
  ks_->EvictUntilUnderBudget(1u << 20);
  ks_->SetBudget(0, 0);
  for (int i = 0; i < 10; i++) EXPECT_EQ(Get(2, "swapped" + std::to_string(i)), Value(i, 7, 300));
  OverwriteMany(100, 20, 1000);
  ASSERT_TRUE(WaitForCompaction(std::chrono::seconds(5)));
  EXPECT_EQ(SegmentFilesOnDisk().count(1), 0u);
  for (int i = 0; i < 20; i++) {
    EXPECT_EQ(Get(2, "swapped" + std::to_string(i)), Value(i, 7, 300)) << i;
  }
  ASSERT_NO_FATAL_FAILURE(Reopen());
  for (int i = 0; i < 20; i++) {
    EXPECT_EQ(Get(2, "swapped" + std::to_string(i)), Value(i, 7, 300)) << i;
    EXPECT_EQ(Deadline(2, "swapped" + std::to_string(i)), far + i) << i;
  }
  EXPECT_EQ(ks_->DbSize(Txn(), 1), 0u);
}

// The newest segment cut inside its header (issue: `truncate -s 17` of the last .fdb stopped
// the start): the engine opens, keeps what the earlier segments hold, and the repaired segment
// is an ordinary earlier segment on the next start.
TEST_F(StorageEngineTest, NewestSegmentCutInsideItsHeaderOpens) {
  for (uint64_t cut : {uint64_t{0}, uint64_t{17}, uint64_t{39}}) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    ASSERT_NO_FATAL_FAILURE(Open());
    for (int i = 0; i < 5; i++) Set(0, "a" + std::to_string(i), "old");
    ASSERT_NO_FATAL_FAILURE(Reopen());  // a restart starts a new segment
    for (int i = 0; i < 3; i++) Set(0, "b" + std::to_string(i), "lost");
    ASSERT_NO_FATAL_FAILURE(Close());
    const uint64_t newest = *SegmentFilesOnDisk().rbegin();
    std::filesystem::resize_file(storage::SegmentPath(dir_.path(), newest), cut);

    ASSERT_NO_FATAL_FAILURE(Open());
    for (int i = 0; i < 5; i++) EXPECT_EQ(Get(0, "a" + std::to_string(i)), "old");
    EXPECT_EQ(Get(0, "b0"), std::nullopt);
    EXPECT_EQ(std::filesystem::file_size(storage::SegmentPath(dir_.path(), newest)),
              storage::kSegmentHeaderSize);
    Set(0, "c", "after");
    ASSERT_NO_FATAL_FAILURE(Reopen());
    EXPECT_EQ(Get(0, "a4"), "old");
    EXPECT_EQ(Get(0, "c"), "after");
    ASSERT_NO_FATAL_FAILURE(Close());
    for (const auto& de : std::filesystem::directory_iterator(dir_.path())) {
      std::filesystem::remove_all(de.path());
    }
  }
}

TEST_F(StorageEngineTest, SecondOpenOnSameDirectoryIsBusy) {
  ASSERT_NO_FATAL_FAILURE(Open());
  Set(0, "k", "v");
  Keyspace other;
  auto r = StorageEngine::Open(opts_, &other);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::kBusy) << r.status().ToString();
  EXPECT_NE(r.status().message().find(dir_.path()), std::string::npos) << r.status().ToString();
  EXPECT_EQ(other.TotalKeys(Txn()), 0u);
  // The first engine is unaffected.
  Set(0, "k2", "v2");
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Get(0, "k"), "v");
  EXPECT_EQ(Get(0, "k2"), "v2");
}

TEST_F(StorageEngineTest, CompressedValuesRoundTrip) {
  opts_.compress_min = 64;
  ASSERT_NO_FATAL_FAILURE(Open());
  std::string big(4096, 'z');
  Set(0, "big", big);
  ks_->SetBudget(1, 0);
  ks_->EvictUntilUnderBudget(1u << 20);
  ks_->SetBudget(0, 0);
  EXPECT_EQ(Get(0, "big"), big);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Get(0, "big"), big);
}

}  // namespace
}  // namespace fdb

namespace fdb {
namespace {

// DEL of an evicted key must not read its value back from disk first, and the deletion must
// survive a restart.
TEST_F(StorageEngineTest, DeletingEvictedKeysDoesNotReadThemBack) {
  ASSERT_NO_FATAL_FAILURE(Open());
  ks_->SetBudget(4u << 10, 0);
  constexpr int kKeys = 200;
  for (int i = 0; i < kKeys; i++) Set(0, "d" + std::to_string(i), Value(i, 0, 200));
  ks_->EvictUntilUnderBudget(1u << 20);
  ASSERT_GT(ks_->stats().cache_evictions.load(), 0u);
  uint64_t misses = ks_->stats().cache_misses.load();
  for (int i = 0; i < kKeys; i++) EXPECT_TRUE(Del(0, "d" + std::to_string(i))) << i;
  EXPECT_EQ(ks_->stats().cache_misses.load(), misses);
  EXPECT_EQ(ks_->DbSize(Txn(), 0), 0u);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(ks_->DbSize(Txn(), 0), 0u);
}

}  // namespace
}  // namespace fdb
