// Tests of the embedded API (include/fdb/db.h): the same engine as the server, in-process.
#include "fdb/db.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include "storage/storage_test_util.h"

namespace fdb {
namespace {

using storage::testing::TempDir;

std::unique_ptr<DB> MustOpen(const Options& o) {
  auto db = DB::Open(o);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return nullptr;
  return std::move(db.value());
}

Options InDir(const TempDir& dir) {
  Options o;
  o.dir = dir.path();
  return o;
}

TEST(DBTest, SetGetDeleteExists) {
  TempDir dir;
  auto db = MustOpen(InDir(dir));
  ASSERT_NE(db, nullptr);
  auto missing = db->Get("k");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  ASSERT_TRUE(db->Set("k", "v").ok());
  auto v = db->Get("k");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->value_or(""), "v");
  std::string binary("a\0b\r\nc", 6);
  ASSERT_TRUE(db->Set("bin", binary).ok());
  EXPECT_EQ(db->Get("bin")->value_or(""), binary);
  EXPECT_TRUE(db->Exists("k").value());
  EXPECT_TRUE(db->Delete("k").value());
  EXPECT_FALSE(db->Delete("k").value());
  EXPECT_FALSE(db->Exists("k").value());
}

TEST(DBTest, IncrByAndErrors) {
  TempDir dir;
  auto db = MustOpen(InDir(dir));
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->IncrBy("n", 5).value(), 5);
  EXPECT_EQ(db->IncrBy("n", -7).value(), -2);
  ASSERT_TRUE(db->Set("s", "abc").ok());
  auto bad = db->IncrBy("s", 1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "ERR value is not an integer or out of range");
  // Only strings exist so far, so WRONGTYPE cannot be provoked; overflow is another error.
  ASSERT_TRUE(db->Set("max", "9223372036854775807").ok());
  auto overflow = db->IncrBy("max", 1);
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.status().message(), "ERR increment or decrement would overflow");
  EXPECT_EQ(db->Get("max")->value_or(""), "9223372036854775807");
}

// The typed collection calls run the same Ops as the commands: what they write, the commands
// read back (and the reverse), it survives a reopen, and type errors are Redis's.
TEST(DBTest, TypedCollectionCalls) {
  TempDir dir;
  auto db = MustOpen(InDir(dir));
  ASSERT_NE(db, nullptr);
  using V = std::vector<std::string_view>;
  // Hashes.
  EXPECT_TRUE(db->HSet("h", "f1", "v1").value());
  EXPECT_FALSE(db->HSet("h", "f1", "v1b").value());  // updated, not new
  EXPECT_TRUE(db->HSet("h", "f2", "v2").value());
  EXPECT_EQ(db->HGet("h", "f1").value().value_or(""), "v1b");
  EXPECT_FALSE(db->HGet("h", "nope").value().has_value());
  EXPECT_FALSE(db->HGet("nokey", "f").value().has_value());
  EXPECT_EQ(db->HLen("h").value(), 2);
  auto all = db->HGetAll("h").value();
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], std::make_pair(std::string("f1"), std::string("v1b")));
  EXPECT_EQ(all[1], std::make_pair(std::string("f2"), std::string("v2")));
  EXPECT_EQ(db->Execute({"HGET", "h", "f2"})->str, "v2");
  EXPECT_EQ(db->HDel("h", V{"f1", "zz"}).value(), 1);
  // Lists.
  EXPECT_EQ(db->RPush("l", V{"a", "b"}).value(), 2);
  EXPECT_EQ(db->LPush("l", V{"z"}).value(), 3);
  EXPECT_EQ(db->RPush("l", V{"42"}).value(), 4);  // an integer element reads back as text
  EXPECT_EQ(db->LRange("l", 0, -1).value(), (std::vector<std::string>{"z", "a", "b", "42"}));
  EXPECT_EQ(db->LRange("l", -2, 10).value(), (std::vector<std::string>{"b", "42"}));
  EXPECT_TRUE(db->LRange("l", 5, 10).value().empty());
  EXPECT_EQ(db->LPop("l").value().value_or(""), "z");
  EXPECT_EQ(db->RPop("l").value().value_or(""), "42");
  EXPECT_EQ(db->LLen("l").value(), 2);
  EXPECT_EQ(db->Execute({"LINDEX", "l", "0"})->str, "a");
  EXPECT_FALSE(db->LPop("nolist").value().has_value());
  EXPECT_FALSE(db->RPush("l", V{}).ok());  // as Redis's arity check
  // Sets.
  EXPECT_EQ(db->SAdd("s", V{"x", "y", "x"}).value(), 2);
  EXPECT_TRUE(db->SIsMember("s", "x").value());
  EXPECT_FALSE(db->SIsMember("s", "w").value());
  auto members = db->SMembers("s").value();
  std::sort(members.begin(), members.end());
  EXPECT_EQ(members, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(db->SRem("s", V{"x", "q"}).value(), 1);
  EXPECT_EQ(db->SCard("s").value(), 1);
  EXPECT_EQ(db->Execute({"SISMEMBER", "s", "y"})->integer, 1);
  // Sorted sets.
  EXPECT_TRUE(db->ZAdd("z", "m", 1.5).value());
  EXPECT_FALSE(db->ZAdd("z", "m", 2.5).value());
  EXPECT_TRUE(db->ZAdd("z", "n", -1).value());
  EXPECT_EQ(db->ZScore("z", "m").value().value_or(0), 2.5);
  EXPECT_FALSE(db->ZScore("z", "none").value().has_value());
  EXPECT_EQ(db->ZCard("z").value(), 2);
  EXPECT_EQ(db->Execute({"ZRANGE", "z", "0", "-1"})->elements.at(0).str, "n");
  EXPECT_FALSE(db->ZAdd("z", "m", std::nan("")).ok());
  EXPECT_EQ(db->ZRem("z", V{"n", "m"}).value(), 2);
  EXPECT_EQ(db->Exists("z").value(), false);  // emptied, so deleted
  // Wrong types, with Redis's text; nothing changed.
  ASSERT_TRUE(db->Set("str", "v").ok());
  for (Status st : {db->HSet("str", "f", "v").status(), db->LPush("str", V{"a"}).status(),
                    db->SAdd("str", V{"a"}).status(), db->ZAdd("str", "a", 1).status(),
                    db->HGet("str", "f").status(), db->LRange("str", 0, -1).status(),
                    db->SMembers("str").status(), db->ZScore("str", "a").status()}) {
    EXPECT_EQ(st.message(), "WRONGTYPE Operation against a key holding the wrong kind of value");
  }
  EXPECT_EQ(db->Get("str").value().value_or(""), "v");
  // Durable as any write: after a reopen the collections are there.
  db.reset();
  db = MustOpen(InDir(dir));
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->HGet("h", "f2").value().value_or(""), "v2");
  EXPECT_EQ(db->LRange("l", 0, -1).value(), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(db->SIsMember("s", "y").value());
  EXPECT_EQ(db->HLen("h").value(), 1);
}

TEST(DBTest, KeysDbSizeFlushDb) {
  TempDir dir;
  auto db = MustOpen(InDir(dir));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Set("user:1", "a").ok());
  ASSERT_TRUE(db->Set("user:2", "b").ok());
  ASSERT_TRUE(db->Set("other", "c").ok());
  auto keys = db->Keys("user:*");
  ASSERT_TRUE(keys.ok());
  std::sort(keys->begin(), keys->end());
  EXPECT_EQ(*keys, (std::vector<std::string>{"user:1", "user:2"}));
  EXPECT_EQ(db->DbSize().value(), 3);
  ASSERT_TRUE(db->FlushDb().ok());
  EXPECT_EQ(db->DbSize().value(), 0);
  EXPECT_TRUE(db->Keys("*")->empty());
}

TEST(DBTest, ExpireAndTtl) {
  TempDir dir;
  auto db = MustOpen(InDir(dir));
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->TtlMs("nokey").value(), -2);
  ASSERT_TRUE(db->Set("k", "v").ok());
  EXPECT_EQ(db->TtlMs("k").value(), -1);
  EXPECT_TRUE(db->Expire("k", 100000).value());
  int64_t ttl = db->TtlMs("k").value();
  EXPECT_GT(ttl, 90000);
  EXPECT_LE(ttl, 100000);
  EXPECT_FALSE(db->Expire("nokey", 1000).value());
  ASSERT_TRUE(db->Set("short", "v", 50).ok());
  EXPECT_GT(db->TtlMs("short").value(), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  EXPECT_FALSE(db->Get("short")->has_value());
  // A bad TTL is the server's error, not a crash.
  Status s = db->Set("k", "v", 0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "ERR invalid expire time in 'set' command");
}

TEST(DBTest, ActiveExpiryRemovesUnreadKeys) {
  TempDir dir;
  auto db = MustOpen(InDir(dir));
  ASSERT_NE(db, nullptr);
  for (int i = 0; i < 20; i++) ASSERT_TRUE(db->Set("t" + std::to_string(i), "v", 20).ok());
  // DBSIZE counts keys without touching them, so only the background cycle can shrink it.
  int64_t n = 20;
  for (int i = 0; i < 50 && n > 0; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    n = db->DbSize().value();
  }
  EXPECT_EQ(n, 0);
}

TEST(DBTest, ExecuteArbitraryCommands) {
  TempDir dir;
  auto db = MustOpen(InDir(dir));
  ASSERT_NE(db, nullptr);
  auto r = db->Execute({"MSET", "a", "1", "b", "2"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type, Reply::Type::kStatus);
  EXPECT_EQ(r->str, "OK");
  r = db->Execute({"mget", "a", "nokey", "b"});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->type, Reply::Type::kArray);
  ASSERT_EQ(r->elements.size(), 3u);
  EXPECT_EQ(r->elements[0].type, Reply::Type::kBulk);
  EXPECT_EQ(r->elements[0].str, "1");
  EXPECT_EQ(r->elements[1].type, Reply::Type::kNull);
  EXPECT_EQ(r->elements[2].str, "2");
  r = db->Execute({"INCR", "a"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type, Reply::Type::kInteger);
  EXPECT_EQ(r->integer, 2);
  r = db->Execute({"NOSUCHCMD", "x"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type, Reply::Type::kError);
  EXPECT_EQ(r->str.rfind("ERR unknown command", 0), 0u) << r->str;
  r = db->Execute({"GET"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->type, Reply::Type::kError);
  EXPECT_EQ(r->str, "ERR wrong number of arguments for 'get' command");
  // MULTI/EXEC is per calling thread and returns a nested array.
  ASSERT_TRUE(db->Execute({"MULTI"}).ok());
  ASSERT_TRUE(db->Execute({"SET", "c", "3"}).ok());
  ASSERT_TRUE(db->Execute({"GET", "c"}).ok());
  r = db->Execute({"EXEC"});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->type, Reply::Type::kArray);
  ASSERT_EQ(r->elements.size(), 2u);
  EXPECT_EQ(r->elements[1].str, "3");
  EXPECT_FALSE(db->Execute({}).ok());
}

TEST(DBTest, DataSurvivesReopen) {
  TempDir dir;
  {
    auto db = MustOpen(InDir(dir));
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Set("k", "v").ok());
    ASSERT_TRUE(db->Set("ttl", "v", 1000000).ok());
    EXPECT_EQ(db->IncrBy("n", 41).value(), 41);
    ASSERT_TRUE(db->Save().ok());
    ASSERT_TRUE(db->Set("after_save", "x").ok());
  }
  auto db = MustOpen(InDir(dir));
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->Get("k")->value_or(""), "v");
  EXPECT_EQ(db->Get("after_save")->value_or(""), "x");
  EXPECT_EQ(db->IncrBy("n", 1).value(), 42);
  EXPECT_GT(db->TtlMs("ttl").value(), 0);
}

// Closing a DB writes a checkpoint, which writes images of collections changed in place from
// the closing thread. A second DB opened on the same thread must not wait for that log's
// sequence (it once failed with "sequence N not appended yet").
TEST(DBTest, SecondDbOnTheSameThreadIgnoresTheFirstLogsSequences) {
  TempDir first, second;
  {
    auto db = MustOpen(InDir(first));
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < 50; i++) {
      auto r = db->Execute({"HSET", "h", "f" + std::to_string(i), "v"});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  }
  auto db = MustOpen(InDir(second));
  ASSERT_NE(db, nullptr);
  auto got = db->Get("k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_FALSE(got->has_value());
  ASSERT_TRUE(db->Set("k", "v").ok());
  EXPECT_EQ(db->Get("k")->value_or(""), "v");
}

TEST(DBTest, NoPersistenceKeepsNothing) {
  TempDir dir;
  Options o = InDir(dir);
  o.persistence = false;
  {
    auto db = MustOpen(o);
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Set("k", "v").ok());
    EXPECT_EQ(db->Get("k")->value_or(""), "v");
    EXPECT_TRUE(db->Save().ok());
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
  auto db = MustOpen(o);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->DbSize().value(), 0);
  EXPECT_FALSE(db->Get("k")->has_value());
}

TEST(DBTest, SecondOpenOnSameDirIsBusy) {
  TempDir dir;
  auto db = MustOpen(InDir(dir));
  ASSERT_NE(db, nullptr);
  auto second = DB::Open(InDir(dir));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::kBusy);
  EXPECT_NE(second.status().message().find(dir.path()), std::string::npos)
      << second.status().ToString();
  db.reset();
  // Closing releases the LOCK file.
  auto third = DB::Open(InDir(dir));
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

TEST(DBTest, ConcurrentIncrFromFourThreads) {
  TempDir dir;
  auto db = MustOpen(InDir(dir));
  ASSERT_NE(db, nullptr);
  constexpr int kThreads = 4;
  constexpr int kIncrs = 1000;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&db, &failures, t] {
      for (int i = 0; i < kIncrs; i++) {
        if (!db->IncrBy("counter", 1).ok()) failures++;
        if (!db->Set("own:" + std::to_string(t), std::to_string(i)).ok()) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(db->Get("counter")->value_or(""), std::to_string(kThreads * kIncrs));
  EXPECT_EQ(db->DbSize().value(), kThreads + 1);
}

TEST(DBTest, ValueLargerThanCacheBudgetReadsBack) {
  TempDir dir;
  Options o = InDir(dir);
  o.maxmemory = 64 << 10;
  std::string big(1 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i / 4096 % 26);
  {
    auto db = MustOpen(o);
    ASSERT_NE(db, nullptr);
    Status s = db->Set("big", big);
    ASSERT_TRUE(s.ok()) << s.ToString();
    for (int i = 0; i < 100; i++) {
      ASSERT_TRUE(db->Set("small" + std::to_string(i), std::string(1024, 's')).ok());
    }
    auto v = db->Get("big");
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_TRUE(v->value_or("") == big);
  }
  auto db = MustOpen(o);
  ASSERT_NE(db, nullptr);
  auto v = db->Get("big");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->value_or("") == big);
}

TEST(DBTest, FsyncAlwaysAndBadOption) {
  TempDir dir;
  Options o = InDir(dir);
  o.fsync = "always";
  {
    auto db = MustOpen(o);
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Set("k", "v").ok());
  }
  o.fsync = "sometimes";
  auto bad = DB::Open(o);
  EXPECT_FALSE(bad.ok());
}

}  // namespace
// The typed calls run Ops directly (no RESP); they must still behave as the commands do for
// the calling thread: its selected database, INFO commandstats, and zero-copy Read.
TEST(DBTest, TypedCallsUseTheThreadsSelectedDatabase) {
  TempDir dir;
  auto db = MustOpen(InDir(dir));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Set("k", "in-db0").ok());
  auto sel = db->Execute({"SELECT", "3"});
  ASSERT_TRUE(sel.ok());
  ASSERT_EQ(sel->type, Reply::Type::kStatus);
  auto v = db->Get("k");
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->has_value()) << "database 3 has no key k";
  ASSERT_TRUE(db->Set("k", "in-db3").ok());
  EXPECT_EQ(db->IncrBy("n", 5).value(), 5);
  // Another thread has its own session, in database 0.
  std::thread([&] {
    auto other = db->Get("k");
    ASSERT_TRUE(other.ok());
    EXPECT_EQ(other->value_or(""), "in-db0");
    EXPECT_FALSE(db->Exists("n").value());
  }).join();
  auto r = db->Execute({"GET", "k"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->str, "in-db3");
}

TEST(DBTest, ReadPassesTheValueWithoutACopyAndCountsInCommandStats) {
  TempDir dir;
  auto db = MustOpen(InDir(dir));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Set("k", std::string(100, 'x')).ok());
  ASSERT_TRUE(db->Set("n", "42").ok());
  ASSERT_TRUE(db->IncrBy("n", 1).ok());  // an integer value has no bytes to point at
  size_t seen = 0;
  auto found = db->Read("k", [&](std::string_view v) { seen = v.size(); });
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(*found);
  EXPECT_EQ(seen, 100u);
  std::string n;
  ASSERT_TRUE(db->Read("n", [&](std::string_view v) { n = v; }).value());
  EXPECT_EQ(n, "43");
  bool called = false;
  auto missing = db->Read("nope", [&](std::string_view) { called = true; });
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(*missing);
  EXPECT_FALSE(called);
  ASSERT_TRUE(db->Execute({"LPUSH", "list", "a"}).ok());
  auto wrong = db->Read("list", [&](std::string_view) { called = true; });
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(),
            "WRONGTYPE Operation against a key holding the wrong kind of value");
  EXPECT_FALSE(called);
  auto info = db->Execute({"INFO", "commandstats"});
  ASSERT_TRUE(info.ok());
  EXPECT_NE(info->str.find("cmdstat_get:calls=4,"), std::string::npos) << info->str;
  EXPECT_NE(info->str.find("cmdstat_set:calls=2,"), std::string::npos) << info->str;
  EXPECT_NE(info->str.find("cmdstat_incrby:calls=1,"), std::string::npos) << info->str;
}

TEST(DBTest, TypedWritesAreRefusedOverMaxmemoryWithNoeviction) {
  TempDir dir;
  Options o = InDir(dir);
  // Without persistence maxmemory is Redis's limit (with it, values go to disk instead). Every
  // byte is over: noeviction refuses writes that may grow memory.
  o.persistence = false;
  o.maxmemory = 1;
  auto db = MustOpen(o);
  ASSERT_NE(db, nullptr);
  Status s = db->Set("k", "v");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "OOM command not allowed when used memory > 'maxmemory'.");
  // Reads and deletes go on.
  EXPECT_TRUE(db->Get("k").ok());
  EXPECT_TRUE(db->Delete("k").ok());
}

}  // namespace fdb
