// In-process tests of the set commands through the real dispatcher (exact RESP bytes), and
// persistence of sets through the embedded DB: replay of deltas, eviction and read-back.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "commands/test_util.h"
#include "fdb/db.h"
#include "storage/storage_test_util.h"

namespace fdb {
namespace {

constexpr const char* kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";

std::string Arr(std::initializer_list<std::string> items) {
  std::string s = "*" + std::to_string(items.size()) + "\r\n";
  for (const auto& i : items) s += i;
  return s;
}

// The bulk strings of a flat reply, sorted (sets have no order).
std::vector<std::string> Members(const std::string& r) {
  std::vector<std::string> out;
  size_t p = r.find("\r\n") + 2;
  while (p < r.size()) {
    if (r[p] != '$') {
      p = r.find("\r\n", p) + 2;
      continue;
    }
    size_t nl = r.find("\r\n", p);
    size_t len = std::stoul(r.substr(p + 1, nl - p - 1));
    out.push_back(r.substr(nl + 2, len));
    p = nl + 2 + len + 2;
  }
  std::sort(out.begin(), out.end());
  return out;
}

using V = std::vector<std::string>;

TEST(SetFamilyTest, AddRemCardMembers) {
  CommandTester t;
  EXPECT_EQ(t.Run({"sadd", "s", "b", "a", "b"}), Int(2));
  EXPECT_EQ(t.Run({"sadd", "s", "a"}), Int(0));
  EXPECT_EQ(t.Run({"scard", "s"}), Int(2));
  EXPECT_EQ(t.Run({"scard", "nokey"}), Int(0));
  EXPECT_EQ(t.Run({"sismember", "s", "a"}), Int(1));
  EXPECT_EQ(t.Run({"sismember", "s", "z"}), Int(0));
  EXPECT_EQ(t.Run({"sismember", "nokey", "z"}), Int(0));
  EXPECT_EQ(t.Run({"smismember", "s", "a", "z"}), Arr({Int(1), Int(0)}));
  EXPECT_EQ(t.Run({"smismember", "nokey", "a"}), Arr({Int(0)}));
  EXPECT_EQ(t.Run({"smembers", "s"}), Arr({Bulk("b"), Bulk("a")}));
  EXPECT_EQ(t.Run({"smembers", "nokey"}), "*0\r\n");
  EXPECT_EQ(t.Run({"srem", "s", "a", "z"}), Int(1));
  EXPECT_EQ(t.Run({"srem", "nokey", "a"}), Int(0));
  EXPECT_EQ(t.Run({"srem", "s", "b"}), Int(1));
  EXPECT_EQ(t.Run({"exists", "s"}), Int(0));
  t.SetResp3(true);
  t.Run({"sadd", "s", "x"});
  EXPECT_EQ(t.Run({"smembers", "s"}), "~1\r\n" + Bulk("x"));
  EXPECT_EQ(t.Run({"smembers", "nokey"}), "~0\r\n");
  EXPECT_EQ(t.Run({"sinter", "s"}), "~1\r\n" + Bulk("x"));
  EXPECT_EQ(t.Run({"smismember", "s", "x"}), Arr({Int(1)}));  // integers, not booleans
}

TEST(SetFamilyTest, Encodings) {
  CommandTester t;
  t.Run({"sadd", "i", "3", "1", "-2"});
  EXPECT_EQ(t.Run({"object", "encoding", "i"}), Bulk("intset"));
  EXPECT_EQ(t.Run({"smembers", "i"}), Arr({Bulk("-2"), Bulk("1"), Bulk("3")}));  // sorted
  EXPECT_EQ(t.Run({"type", "i"}), "+set\r\n");
  t.Run({"sadd", "i", "x"});
  EXPECT_EQ(t.Run({"object", "encoding", "i"}), Bulk("listpack"));
  for (int i = 0; i < 130; i++) t.Run({"sadd", "i", "m" + std::to_string(i)});
  EXPECT_EQ(t.Run({"object", "encoding", "i"}), Bulk("hashtable"));
  EXPECT_EQ(t.Run({"scard", "i"}), Int(134));
}

TEST(SetFamilyTest, WrongType) {
  CommandTester t;
  t.Run({"set", "str", "x"});
  t.Run({"sadd", "s", "a"});
  for (std::vector<std::string_view> args :
       std::vector<std::vector<std::string_view>>{{"sadd", "str", "a"},
                                                  {"srem", "str", "a"},
                                                  {"sismember", "str", "a"},
                                                  {"smismember", "str", "a"},
                                                  {"scard", "str"},
                                                  {"smembers", "str"},
                                                  {"srandmember", "str"},
                                                  {"srandmember", "str", "2"},
                                                  {"spop", "str"},
                                                  {"spop", "str", "2"},
                                                  {"sscan", "str", "0"},
                                                  {"sinter", "nokey", "str"},
                                                  {"sunion", "s", "str"},
                                                  {"sdiff", "nokey", "str"},
                                                  {"sinterstore", "d", "s", "str"},
                                                  {"sunionstore", "d", "str"},
                                                  {"sdiffstore", "d", "s", "str"},
                                                  {"sintercard", "2", "s", "str"},
                                                  {"smove", "str", "s", "a"},
                                                  {"smove", "s", "str", "a"}}) {
    EXPECT_EQ(t.Run(args), Err(kWrongType)) << args[0];
  }
  EXPECT_EQ(t.Run({"exists", "d"}), Int(0));
  EXPECT_EQ(t.Run({"smove", "nokey", "str", "a"}), Int(0));
}

TEST(SetFamilyTest, SPop) {
  CommandTester t;
  EXPECT_EQ(t.Run({"spop", "nokey"}), kNil);
  EXPECT_EQ(t.Run({"spop", "nokey", "2"}), "*0\r\n");
  t.Run({"sadd", "s", "a"});
  EXPECT_EQ(t.Run({"spop", "s"}), Bulk("a"));
  EXPECT_EQ(t.Run({"exists", "s"}), Int(0));
  for (int i = 0; i < 200; i++) t.Run({"sadd", "s", "m" + std::to_string(i)});
  V popped = Members(t.Run({"spop", "s", "50"}));
  EXPECT_EQ(popped.size(), 50u);
  EXPECT_EQ(std::unique(popped.begin(), popped.end()), popped.end());
  for (const auto& m : popped) EXPECT_EQ(t.Run({"sismember", "s", m}), Int(0));
  EXPECT_EQ(t.Run({"scard", "s"}), Int(150));
  EXPECT_EQ(t.Run({"spop", "s", "0"}), "*0\r\n");
  EXPECT_EQ(Members(t.Run({"spop", "s", "1000"})).size(), 150u);
  EXPECT_EQ(t.Run({"exists", "s"}), Int(0));
  EXPECT_EQ(t.Run({"spop", "s", "-1"}), Err("ERR value is out of range, must be positive"));
  EXPECT_EQ(t.Run({"spop", "s", "x"}), Err("ERR value is out of range, must be positive"));
  EXPECT_EQ(t.Run({"spop", "s", "1", "2"}), Err("ERR syntax error"));
  t.SetResp3(true);
  t.Run({"sadd", "s", "z"});
  EXPECT_EQ(t.Run({"spop", "s", "3"}), "~1\r\n" + Bulk("z"));
  EXPECT_EQ(t.Run({"spop", "nokey", "3"}), "~0\r\n");
}

TEST(SetFamilyTest, SRandMember) {
  CommandTester t;
  EXPECT_EQ(t.Run({"srandmember", "nokey"}), kNil);
  EXPECT_EQ(t.Run({"srandmember", "nokey", "3"}), "*0\r\n");
  t.Run({"sadd", "one", "a"});
  EXPECT_EQ(t.Run({"srandmember", "one"}), Bulk("a"));
  EXPECT_EQ(t.Run({"srandmember", "one", "0"}), "*0\r\n");
  EXPECT_EQ(t.Run({"srandmember", "one", "-3"}), Arr({Bulk("a"), Bulk("a"), Bulk("a")}));
  EXPECT_EQ(t.Run({"srandmember", "one", "3"}), Arr({Bulk("a")}));
  for (int i = 0; i < 1000; i++) t.Run({"sadd", "big", "m" + std::to_string(i)});
  for (const char* n : {"1", "10", "400", "999"}) {
    V got = Members(t.Run({"srandmember", "big", n}));
    EXPECT_EQ(got.size(), std::stoul(n));
    EXPECT_EQ(std::unique(got.begin(), got.end()), got.end()) << n;
  }
  EXPECT_EQ(Members(t.Run({"srandmember", "big", "-5000"})).size(), 5000u);
  EXPECT_EQ(t.Run({"scard", "big"}), Int(1000));
  EXPECT_EQ(t.Run({"srandmember", "big", "x"}), Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(t.Run({"srandmember", "big", "-9223372036854775808"}),
            Err("ERR value is out of range, value must between -9223372036854775807 and "
                "9223372036854775807"));
  t.SetResp3(true);
  EXPECT_EQ(t.Run({"srandmember", "one", "2"}), Arr({Bulk("a")}));  // an array, not a set
}

TEST(SetFamilyTest, SMove) {
  CommandTester t;
  t.Run({"sadd", "a", "x", "y"});
  EXPECT_EQ(t.Run({"smove", "a", "b", "x"}), Int(1));
  EXPECT_EQ(t.Run({"smembers", "b"}), Arr({Bulk("x")}));
  EXPECT_EQ(t.Run({"smove", "a", "b", "q"}), Int(0));
  EXPECT_EQ(t.Run({"smove", "nokey", "b", "x"}), Int(0));
  EXPECT_EQ(t.Run({"smove", "a", "a", "y"}), Int(1));
  EXPECT_EQ(t.Run({"smove", "a", "a", "q"}), Int(0));
  t.Run({"sadd", "b", "y"});
  EXPECT_EQ(t.Run({"smove", "a", "b", "y"}), Int(1));  // already there: still moved out
  EXPECT_EQ(t.Run({"exists", "a"}), Int(0));
  EXPECT_EQ(Members(t.Run({"smembers", "b"})), (V{"x", "y"}));
}

TEST(SetFamilyTest, Algebra) {
  CommandTester t;
  t.Run({"sadd", "a", "1", "2", "3", "x"});
  t.Run({"sadd", "b", "2", "3", "4", "x", "y"});
  t.Run({"sadd", "c", "3", "x"});
  EXPECT_EQ(Members(t.Run({"sinter", "a", "b", "c"})), (V{"3", "x"}));
  EXPECT_EQ(Members(t.Run({"sinter", "a", "nokey"})), V{});
  EXPECT_EQ(Members(t.Run({"sunion", "a", "b", "nokey"})), (V{"1", "2", "3", "4", "x", "y"}));
  EXPECT_EQ(Members(t.Run({"sdiff", "a", "b"})), (V{"1"}));
  EXPECT_EQ(Members(t.Run({"sdiff", "b", "a", "c"})), (V{"4", "y"}));
  EXPECT_EQ(Members(t.Run({"sdiff", "nokey", "a"})), V{});
  EXPECT_EQ(t.Run({"sinterstore", "d", "a", "b"}), Int(3));
  EXPECT_EQ(Members(t.Run({"smembers", "d"})), (V{"2", "3", "x"}));
  EXPECT_EQ(t.Run({"sunionstore", "d", "c"}), Int(2));
  EXPECT_EQ(Members(t.Run({"smembers", "d"})), (V{"3", "x"}));
  EXPECT_EQ(t.Run({"sdiffstore", "d", "a", "b"}), Int(1));
  EXPECT_EQ(t.Run({"object", "encoding", "d"}), Bulk("intset"));
  EXPECT_EQ(t.Run({"sunionstore", "a", "a", "c"}), Int(4));  // destination among the sources
  t.Run({"set", "str", "v", "ex", "100"});
  EXPECT_EQ(t.Run({"sinterstore", "str", "a", "nokey"}), Int(0));  // empty: deletes any type
  EXPECT_EQ(t.Run({"exists", "str"}), Int(0));
  t.Run({"set", "str", "v", "ex", "100"});
  EXPECT_EQ(t.Run({"sdiffstore", "str", "b"}), Int(5));
  EXPECT_EQ(t.Run({"ttl", "str"}), Int(-1));
  EXPECT_EQ(t.Run({"type", "str"}), "+set\r\n");
}

TEST(SetFamilyTest, SInterCard) {
  CommandTester t;
  t.Run({"sadd", "a", "1", "2", "3", "x"});
  t.Run({"sadd", "b", "2", "3", "x", "y"});
  EXPECT_EQ(t.Run({"sintercard", "2", "a", "b"}), Int(3));
  EXPECT_EQ(t.Run({"sintercard", "2", "a", "b", "limit", "2"}), Int(2));
  EXPECT_EQ(t.Run({"sintercard", "2", "a", "b", "LIMIT", "0"}), Int(3));
  EXPECT_EQ(t.Run({"sintercard", "1", "a"}), Int(4));
  EXPECT_EQ(t.Run({"sintercard", "2", "a", "nokey"}), Int(0));
  EXPECT_EQ(t.Run({"sintercard", "0", "a"}), Err("ERR numkeys should be greater than 0"));
  EXPECT_EQ(t.Run({"sintercard", "x", "a"}), Err("ERR numkeys should be greater than 0"));
  EXPECT_EQ(t.Run({"sintercard", "3", "a", "b"}),
            Err("ERR Number of keys can't be greater than number of args"));
  EXPECT_EQ(t.Run({"sintercard", "1", "a", "limit", "-1"}), Err("ERR LIMIT can't be negative"));
  EXPECT_EQ(t.Run({"sintercard", "1", "a", "limit"}), Err("ERR syntax error"));
  EXPECT_EQ(t.Run({"sintercard", "1", "a", "b"}), Err("ERR syntax error"));
  EXPECT_EQ(t.Run({"command", "getkeys", "sintercard", "2", "a", "b", "limit", "1"}),
            Arr({Bulk("a"), Bulk("b")}));
}

TEST(SetFamilyTest, SScan) {
  CommandTester t;
  EXPECT_EQ(t.Run({"sscan", "nokey", "0"}), Arr({Bulk("0"), "*0\r\n"}));
  t.Run({"sadd", "i", "1", "2", "3"});
  EXPECT_EQ(t.Run({"sscan", "i", "0", "count", "1"}),
            Arr({Bulk("0"), Arr({Bulk("1"), Bulk("2"), Bulk("3")})}));  // small: one step
  EXPECT_EQ(t.Run({"sscan", "i", "0", "match", "2"}), Arr({Bulk("0"), Arr({Bulk("2")})}));
  EXPECT_EQ(t.Run({"sscan", "i", "x"}), Err("ERR invalid cursor"));
  EXPECT_EQ(t.Run({"sscan", "i", "0", "count", "0"}), Err("ERR syntax error"));
  for (int i = 0; i < 2000; i++) t.Run({"sadd", "big", "m" + std::to_string(i)});
  std::string cursor = "0";
  V all;
  do {
    std::string r = t.Run({"sscan", "big", cursor, "count", "30"});
    size_t nl = r.find("\r\n", 4);
    size_t len = std::stoul(r.substr(5, nl - 5));
    cursor = r.substr(nl + 2, len);
    V part = Members(r.substr(nl + 2 + len + 2 - 4));  // reparse from the inner array
    for (auto& m : part) {
      if (m != cursor) all.push_back(m);
    }
  } while (cursor != "0");
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  EXPECT_EQ(all.size(), 2000u);
}

// --- Persistence through the embedded DB ---

std::unique_ptr<DB> MustOpen(const Options& o) {
  auto db = DB::Open(o);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db.value()) : nullptr;
}

V Sorted(DB& db, std::vector<std::string> args) {
  auto r = db.Execute(args);
  EXPECT_TRUE(r.ok());
  V out;
  if (r.ok()) {
    for (const Reply& e : r->elements) out.push_back(e.str);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(SetPersistenceTest, DeltasReplayAfterReopen) {
  storage::testing::TempDir dir;
  Options o;
  o.dir = dir.path();
  V strs, popped;
  {
    auto db = MustOpen(o);
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Execute({"sadd", "ints", "1", "2", "3"}).ok());
    for (int i = 0; i < 300; i++)
      ASSERT_TRUE(db->Execute({"sadd", "s", "m" + std::to_string(i)}).ok());
    ASSERT_TRUE(db->Execute({"srem", "s", "m0", "m1"}).ok());
    popped = Sorted(*db, {"spop", "s", "20"});
    ASSERT_EQ(popped.size(), 20u);
    ASSERT_TRUE(db->Execute({"spop", "ints"}).ok());
    ASSERT_TRUE(db->Execute({"sadd", "src", "a", "b"}).ok());
    ASSERT_TRUE(db->Execute({"smove", "src", "dst", "a"}).ok());
    ASSERT_TRUE(db->Execute({"sunionstore", "u", "src", "dst"}).ok());
    strs = Sorted(*db, {"smembers", "s"});
  }
  auto db = MustOpen(o);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Sorted(*db, {"smembers", "s"}), strs);
  EXPECT_EQ(strs.size(), 278u);
  EXPECT_EQ(Sorted(*db, {"smembers", "ints"}).size(), 2u);
  EXPECT_EQ(Sorted(*db, {"smembers", "src"}), (V{"b"}));
  EXPECT_EQ(Sorted(*db, {"smembers", "dst"}), (V{"a"}));
  EXPECT_EQ(Sorted(*db, {"smembers", "u"}), (V{"a", "b"}));
}

// As HashPersistenceTest.HashesReadBackFromDiskAndChangeAfterReadBack, for sets.
TEST(SetPersistenceTest, SetsReadBackFromDiskAndChangeAfterReadBack) {
  storage::testing::TempDir dir;
  Options o;
  o.dir = dir.path();
  o.maxmemory = 64 << 10;
  std::vector<V> want(8);
  {
    auto db = MustOpen(o);
    ASSERT_NE(db, nullptr);
    for (int k = 0; k < 8; k++) {
      std::string key = "s" + std::to_string(k);
      for (int i = 0; i < 300; i++) {
        ASSERT_TRUE(db->Execute({"sadd", key, std::string(40, 'a' + k) + std::to_string(i)}).ok());
      }
      ASSERT_TRUE(db->Execute({"sadd", "i" + std::to_string(k), "1", "2", "3"}).ok());
    }
  }
  {
    auto db = MustOpen(o);
    ASSERT_NE(db, nullptr);
    for (int k = 0; k < 8; k++) {
      std::string key = "s" + std::to_string(k);
      ASSERT_EQ(db->Execute({"scard", key})->integer, 300);
      ASSERT_TRUE(db->Execute({"sadd", key, "after"}).ok());
      ASSERT_TRUE(db->Execute({"srem", key, std::string(40, 'a' + k) + "0"}).ok());
      ASSERT_TRUE(db->Execute({"srem", "i" + std::to_string(k), "2"}).ok());
      want[k] = Sorted(*db, {"smembers", key});
    }
    auto info = db->Execute({"info", "cache"});
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->str.find("cache_misses:0\r"), std::string::npos) << "nothing was read back";
  }
  auto db = MustOpen(o);
  ASSERT_NE(db, nullptr);
  for (int k = 0; k < 8; k++) {
    EXPECT_EQ(Sorted(*db, {"smembers", "s" + std::to_string(k)}), want[k]) << k;
    EXPECT_EQ(Sorted(*db, {"smembers", "i" + std::to_string(k)}), (V{"1", "3"}));
  }
}

}  // namespace
}  // namespace fdb
