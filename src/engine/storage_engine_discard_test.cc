// A write whose log record failed is undone: under fsync always the engine discards the
// records of a failed batch (and any appended while the log was failing) and rebuilds the
// keys they touched from the log, before the waiting writer is answered. Regression tests for
// issue 9, defect 3: the write answered MISCONF used to stay in memory and reach the disk on
// the retry.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "base/clock.h"
#include "engine/keyspace.h"
#include "engine/storage_engine.h"
#include "engine/storage_engine_test_util.h"
#include "storage/fault_injection_env.h"
#include "storage/storage_test_util.h"

namespace fdb {
namespace {

using storage::testing::TempDir;

class StorageEngineDiscardTest : public testing::StorageEngineFixture {
 protected:
  StorageEngineDiscardTest() {
    opts_.fsync = storage::FsyncPolicy::kAlways;
    opts_.log_env = &env_;
  }
  ~StorageEngineDiscardTest() override {
    env_.SetWriteFailure(false);
    engine_.reset();
    ks_.reset();
  }

  // One command on `key`, as the dispatcher runs it: the change and the append of its record
  // under the key's shard lock, then the wait. Returns what the client is told (OK, or the
  // MISCONF error once the record's fate is known).
  template <typename Fn>
  Status Command(const std::string& key, Fn fn) {
    Status s;
    Txn txn;
    {
      KeyRef k(key);
      std::lock_guard<AdaptiveMutex> l(ks_->shard(k.shard).mu);
      fn(txn, k);
      s = ks_->Commit(txn);
    }
    if (!s.ok()) return s;
    return engine_->WaitForPolicy(txn.sequence());
  }
  Status Set(int db, const std::string& key, const std::string& value) {
    return Command(key, [&](Txn& txn, const KeyRef& k) {
      ks_->Put(txn, db, k, Entry::NewString(key, value));
    });
  }
  Status Del(int db, const std::string& key) {
    return Command(key, [&](Txn& txn, const KeyRef& k) { ks_->Delete(txn, db, k, NowMs()); });
  }
  Status Expire(int db, const std::string& key, int64_t at_ms) {
    return Command(key, [&](Txn& txn, const KeyRef& k) {
      Entry* e = ks_->Find(txn, db, k, NowMs());
      ASSERT_NE(e, nullptr);
      ks_->SetExpire(txn, db, e, at_ms);
    });
  }
  Status Flush(int db) {
    // FLUSHDB locks every shard itself and appends its record under them.
    Txn txn;
    ks_->FlushDb(txn, db);
    Status s = ks_->Commit(txn);
    if (!s.ok()) return s;
    return engine_->WaitForPolicy(txn.sequence());
  }
  std::optional<std::string> Get(int db, const std::string& key) {
    KeyRef k(key);
    Txn txn;
    std::lock_guard<AdaptiveMutex> l(ks_->shard(k.shard).mu);
    Entry* e = ks_->Find(txn, db, k, NowMs());
    EXPECT_TRUE(ks_->Commit(txn).ok());  // a lazy expiry, committed as a command would
    if (e == nullptr) return std::nullopt;
    std::string scratch;
    return std::string(e->StringValue(&scratch));
  }
  int64_t Deadline(int db, const std::string& key) {
    KeyRef k(key);
    Txn txn;
    std::lock_guard<AdaptiveMutex> l(ks_->shard(k.shard).mu);
    Entry* e = ks_->Find(txn, db, k, NowMs(), false);
    EXPECT_TRUE(ks_->Commit(txn).ok());  // a lazy expiry, committed as a command would
    return e == nullptr ? -2 : e->expire_ms();
  }
  static void ExpectMisconf(const Status& s) {
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.message().rfind("MISCONF", 0), 0u) << s.ToString();
  }
  // The disk is full until Recover(): writes fail.
  void FillDisk() { env_.SetWriteFailure(true); }
  void FreeDisk() {
    env_.SetWriteFailure(false);
    // The engine's writer retries once a second.
    for (int i = 0; i < 500 && !engine_->Health().ok(); i++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(engine_->Health().ok()) << engine_->Health().ToString();
  }

  storage::FaultInjectionEnv env_{storage::Env::Default()};
};

TEST_F(StorageEngineDiscardTest, FailedPutDeleteAndExpireAreUndoneInMemoryAndOnDisk) {
  Open();
  ASSERT_TRUE(Set(0, "a", "1").ok());
  ASSERT_TRUE(Set(0, "b", "1").ok());
  ASSERT_TRUE(Set(1, "c", "1").ok());
  ASSERT_TRUE(Expire(1, "c", NowMs() + 3600000).ok());
  const int64_t c_deadline = Deadline(1, "c");

  FillDisk();
  ExpectMisconf(Set(0, "a", "2"));  // overwrite
  EXPECT_EQ(Get(0, "a"), "1") << "a MISCONF'd SET is visible";
  EXPECT_FALSE(engine_->Health().ok());
  // Writes that run while the log is failing (past the dispatcher's check) are undone too.
  ExpectMisconf(Set(0, "new", "x"));
  EXPECT_EQ(Get(0, "new"), std::nullopt);
  ExpectMisconf(Del(0, "b"));
  EXPECT_EQ(Get(0, "b"), "1");
  ExpectMisconf(Expire(1, "c", NowMs() + 1000));
  EXPECT_EQ(Deadline(1, "c"), c_deadline);

  FreeDisk();
  ASSERT_TRUE(Set(0, "after", "y").ok());
  EXPECT_EQ(Get(0, "a"), "1");
  Reopen();
  EXPECT_EQ(Get(0, "a"), "1");
  EXPECT_EQ(Get(0, "b"), "1");
  EXPECT_EQ(Get(0, "new"), std::nullopt);
  EXPECT_EQ(Deadline(1, "c"), c_deadline);
  EXPECT_EQ(Get(0, "after"), "y");
}

TEST_F(StorageEngineDiscardTest, FailedFlushRebuildsEveryKey) {
  Open();
  for (int i = 0; i < 50; i++) ASSERT_TRUE(Set(i % 3, "k" + std::to_string(i), "v").ok());
  FillDisk();
  ExpectMisconf(Flush(-1));
  for (int i = 0; i < 50; i++) EXPECT_EQ(Get(i % 3, "k" + std::to_string(i)), "v") << i;
  FreeDisk();
  Reopen();
  for (int i = 0; i < 50; i++) EXPECT_EQ(Get(i % 3, "k" + std::to_string(i)), "v") << i;
}

TEST_F(StorageEngineDiscardTest, UndoUsesTheCheckpointAndRepeatedFailures) {
  Open();
  ASSERT_TRUE(Set(0, "a", "1").ok());
  ASSERT_TRUE(engine_->Save().ok());  // a's state now comes from the checkpoint
  ASSERT_TRUE(Set(0, "b", "1").ok());
  std::string b = "1";
  for (int round = 0; round < 3; round++) {
    FillDisk();
    ExpectMisconf(Set(0, "a", "x" + std::to_string(round)));
    ExpectMisconf(Set(0, "b", "x" + std::to_string(round)));
    EXPECT_EQ(Get(0, "a"), "1");
    EXPECT_EQ(Get(0, "b"), b);
    FreeDisk();
    b = std::to_string(round + 2);
    ASSERT_TRUE(Set(0, "b", b).ok());
  }
  // a's shard last logged a discarded sequence: a checkpoint still completes.
  ASSERT_TRUE(engine_->Save().ok());
  Reopen();
  EXPECT_EQ(Get(0, "a"), "1");
  EXPECT_EQ(Get(0, "b"), "4");
}

}  // namespace
}  // namespace fdb
