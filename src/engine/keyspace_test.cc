// Keyspace unit tests, without persistence and without the command layer: the single-key
// operations and the effects each appends to its transaction, lazy expiry, databases, whole-key
// eviction with its pool, and the whole-keyspace reads inside a transaction that holds every
// shard.
#include "engine/keyspace.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"

namespace fdb {
namespace {

// Records every effect appended, as "kind db key".
class Recorder : public EffectSink {
 public:
  void Capture(Effect& e) override {
    static const char* kNames[] = {"put", "delta", "del", "expire", "flush", "swapdb"};
    std::string s = std::string(kNames[static_cast<int>(e.kind)]) + " " + std::to_string(e.db);
    if (!e.key.empty()) s += " " + std::string(e.key);
    if (e.kind == EffectKind::kExpire) s += " @" + std::to_string(e.expire_ms);
    if (e.kind == EffectKind::kSwapDb) s += " " + std::to_string(e.db2);
    seen.push_back(s);
  }
  Status Commit(Txn& txn) override {
    commits++;
    return Status::OK();
  }
  std::vector<std::string> seen;
  int commits = 0;
};

class KeyspaceTest : public ::testing::Test {
 protected:
  KeyspaceTest() { ks_.AddSink(&rec_); }
  ~KeyspaceTest() override { ks_.RemoveSink(&rec_); }

  // Runs fn(txn, key) with the key's shard locked, then commits, as the dispatcher does.
  template <class Fn>
  void WithKey(std::string_view key, Fn fn) {
    KeyRef k(key);
    Txn txn;
    std::lock_guard<AdaptiveMutex> l(ks_.shard(k.shard).mu);
    fn(txn, k);
    ASSERT_TRUE(ks_.Commit(txn).ok());
  }
  void Set(int db, std::string_view key, std::string_view value, int64_t expire_ms = 0) {
    WithKey(key, [&](Txn& txn, const KeyRef& k) {
      Entry* e = Entry::NewString(key, value);
      e->set_expire_ms(expire_ms);
      ks_.Put(txn, db, k, e);
    });
  }
  // The value of key in db, or "(nil)".
  std::string Get(int db, std::string_view key) {
    std::string out = "(nil)";
    WithKey(key, [&](Txn& txn, const KeyRef& k) {
      Entry* e = ks_.Find(txn, db, k, NowMs());
      std::string scratch;
      if (e != nullptr) out = std::string(e->StringValue(&scratch));
    });
    return out;
  }

  Keyspace ks_;
  Recorder rec_;
};

TEST_F(KeyspaceTest, PutFindDeleteAndTheirEffects) {
  Set(0, "a", "1");
  Set(0, "a", "2");  // a replace
  EXPECT_EQ(Get(0, "a"), "2");
  EXPECT_EQ(Get(1, "a"), "(nil)");  // databases are apart
  WithKey("a", [&](Txn& txn, const KeyRef& k) { EXPECT_TRUE(ks_.Delete(txn, 0, k, NowMs())); });
  WithKey("a", [&](Txn& txn, const KeyRef& k) { EXPECT_FALSE(ks_.Delete(txn, 0, k, NowMs())); });
  EXPECT_EQ(rec_.seen, (std::vector<std::string>{"put 0 a", "put 0 a", "del 0 a"}));
  EXPECT_EQ(ks_.DbSize(Txn(), 0), 0u);
  // A read that changes nothing leaves nothing to commit; a commit of nothing reaches no sink.
  EXPECT_EQ(rec_.commits, 3);
}

TEST_F(KeyspaceTest, ExpiryIsAbsoluteAndLazyDeletionIsAnEffect) {
  int64_t now = NowMs();
  Set(0, "k", "v");
  WithKey("k", [&](Txn& txn, const KeyRef& k) {
    Entry* e = ks_.Find(txn, 0, k, now);
    ASSERT_NE(e, nullptr);
    ks_.SetExpire(txn, 0, e, now + 50);
  });
  EXPECT_EQ(ks_.ExpiresCount(Txn(), 0), 1u);
  // Seen from after the deadline, the key is gone for the reader, and its deletion is logged
  // as an effect of the read.
  WithKey("k", [&](Txn& txn, const KeyRef& k) {
    EXPECT_EQ(ks_.Find(txn, 0, k, now + 50), nullptr);
    ASSERT_EQ(txn.effects().size(), 1u);
    EXPECT_EQ(txn.effects()[0].kind, EffectKind::kDelete);
  });
  EXPECT_EQ(rec_.seen.back(), "del 0 k");
  EXPECT_EQ(rec_.seen[1], "expire 0 k @" + std::to_string(now + 50));
  EXPECT_EQ(ks_.ExpiresCount(Txn(), 0), 0u);
  EXPECT_EQ(ks_.stats().expired_keys.load(), 1u);
}

TEST_F(KeyspaceTest, MoveKeepsValueAndDeadlineAndLogsBothSides) {
  int64_t far = NowMs() + 1000000;
  Set(0, "m", "v", far);
  Set(1, "taken", "x");
  WithKey("m", [&](Txn& txn, const KeyRef& k) { EXPECT_TRUE(ks_.Move(txn, 0, 1, k, NowMs())); });
  EXPECT_EQ(Get(0, "m"), "(nil)");
  EXPECT_EQ(Get(1, "m"), "v");
  WithKey("m", [&](Txn& txn, const KeyRef& k) {
    EXPECT_EQ(ks_.Find(txn, 1, k, NowMs())->expire_ms(), far);
  });
  // Present in the destination: nothing moves.
  Set(0, "taken", "y");
  WithKey("taken", [&](Txn& txn, const KeyRef& k) {
    EXPECT_FALSE(ks_.Move(txn, 0, 1, k, NowMs()));
    EXPECT_FALSE(txn.has_effects());
  });
  EXPECT_NE(std::find(rec_.seen.begin(), rec_.seen.end(), "del 0 m"), rec_.seen.end());
  EXPECT_NE(std::find(rec_.seen.begin(), rec_.seen.end(), "put 1 m"), rec_.seen.end());
}

TEST_F(KeyspaceTest, FlushAndSwapCommitAtOnceUnlessEveryShardIsHeld) {
  Set(0, "a", "1");
  Set(2, "b", "2");
  int commits = rec_.commits;
  Txn txn;
  ks_.SwapDb(txn, 0, 2);
  EXPECT_FALSE(txn.has_effects()) << "committed under the locks it took";
  EXPECT_EQ(rec_.commits, commits + 1);
  EXPECT_EQ(Get(2, "a"), "1");
  // Holding every shard (EXEC), the flush waits for the transaction's own commit.
  ShardLockSet all;
  all.LockAll(ks_);
  Txn exec;
  exec.set_holds_all_shards(true);
  ks_.FlushDb(exec, -1);
  EXPECT_EQ(ks_.DbSize(exec, 2), 0u);  // no deadlock: the transaction holds the shards
  EXPECT_TRUE(exec.has_effects());
  exec.set_holds_all_shards(false);
  ASSERT_TRUE(ks_.Commit(exec).ok());
  all.Unlock();
  EXPECT_EQ(ks_.TotalKeys(Txn()), 0u);
  EXPECT_EQ(rec_.seen[rec_.seen.size() - 2], "swapdb 0 2");
  EXPECT_EQ(rec_.seen.back(), "flush -1");
}

// Two scripts that escalate (each holds a shard the other then wants, having written): the
// younger one's Escalate gives up (false) whichever order it takes shards in, and the older
// one gets its shard once the younger lets go of what it held. Each runs on its own thread,
// as scripts on two I/O threads do; a deadlock would hang the test.
void EscalateCrosswise(Keyspace& ks, int old_holds, int young_holds) {
  std::atomic<int> ready{0};
  bool old_ok = false, young_ok = true;
  auto run = [&](int holds, int wants, uint64_t ticket, bool* ok) {
    ShardLockSet locks;
    locks.Add(holds);
    locks.Lock(ks);
    ready.fetch_add(1);
    while (ready.load() < 2) std::this_thread::yield();
    *ok = locks.Escalate(ks, {wants}, ticket);
    locks.Unlock();  // the script ends, with or without the shard
  };
  uint64_t older = ks.NextEscalationTicket();
  uint64_t younger = ks.NextEscalationTicket();
  std::thread a(run, old_holds, young_holds, older, &old_ok);
  std::thread b(run, young_holds, old_holds, younger, &young_ok);
  a.join();
  b.join();
  EXPECT_TRUE(old_ok);
  EXPECT_FALSE(young_ok);
  EXPECT_EQ(ks.escalating(), 0);
}

TEST_F(KeyspaceTest, TheYoungerOfTwoEscalatingScriptsGivesUp) {
  EscalateCrosswise(ks_, 5, 3);  // the older one takes a shard below what it holds
  EscalateCrosswise(ks_, 3, 5);  // the younger one does
}

// A locker of several shards that waits with some held gives them up while a script
// escalates, so the script gets the shard it wants and both finish.
TEST_F(KeyspaceTest, MultiShardLockersMakeWayForAnEscalatingScript) {
  std::atomic<int> stage{0};
  bool script_ok = false;
  std::thread script([&] {
    ShardLockSet locks;
    locks.Add(7);
    locks.Lock(ks_);
    stage.store(1);
    while (stage.load() < 2) std::this_thread::yield();
    // The locker below holds 2 and waits for 7.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    script_ok = locks.Escalate(ks_, {2}, ks_.NextEscalationTicket());
    locks.Unlock();
  });
  while (stage.load() < 1) std::this_thread::yield();
  std::thread locker([&] {
    ShardLockSet locks;
    locks.Add(2);
    locks.Add(7);
    stage.store(2);
    locks.Lock(ks_);
    locks.Unlock();
  });
  script.join();
  locker.join();
  EXPECT_TRUE(script_ok);
}

TEST_F(KeyspaceTest, NoSinkNoEffects) {
  ks_.RemoveSink(&rec_);
  KeyRef k("quiet");
  Txn txn;
  {
    std::lock_guard<AdaptiveMutex> l(ks_.shard(k.shard).mu);
    ks_.Put(txn, 0, k, Entry::NewString("quiet", "v"));
  }
  EXPECT_FALSE(txn.has_effects()) << "effects are made for sinks; without one there is no cost";
  ks_.AddSink(&rec_);
}

TEST_F(KeyspaceTest, AllKeysLruEvictsTheIdleKeysFirst) {
  // 200 keys idle for 100 s, 200 used now: evicting 100 keys takes idle ones only, the pool
  // remembering idle candidates when a sample holds none. (Past half the idle keys a sample
  // finds about as many idle keys as are evicted, and the approximation, Redis's too, may
  // take a fresh one now and then.)
  for (int i = 0; i < 200; i++) Set(0, "old" + std::to_string(i), "v");
  for (int i = 0; i < 200; i++) {
    std::string key = "old" + std::to_string(i);
    WithKey(key, [&](Txn& txn, const KeyRef& k) {
      ks_.Find(txn, 0, k, NowMs(), false)->set_lru(Keyspace::LruClock() - 100);
    });
  }
  for (int i = 0; i < 200; i++) Set(0, "new" + std::to_string(i), "v");
  ks_.SetEviction(EvictionPolicy::kAllKeysLru, 5, 10);
  int evicted = 0;
  for (int i = 0; i < 100; i++) {
    // EvictKeys works against malloc's figure; the one-key step it repeats is driven directly.
    evicted += ks_.EvictOneKey() ? 1 : 0;
  }
  EXPECT_EQ(evicted, 100);
  int new_left = 0;
  for (int i = 0; i < 200; i++) new_left += Get(0, "new" + std::to_string(i)) != "(nil)";
  // Sampling without the pool, or the pool fed from one shard of a key or two, evicted dozens
  // of fresh keys here; the pool keeps it to a rare one (300 runs: 286 none, 12 one, 2 two).
  EXPECT_GE(new_left, 196);
  EXPECT_EQ(ks_.stats().evicted_keys.load(), 100u);
}

}  // namespace
}  // namespace fdb
