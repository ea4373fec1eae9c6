// In-process tests of the hash commands through the real dispatcher (exact RESP bytes), and
// persistence of hashes through the embedded DB: replay of deltas, eviction and read-back.
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

TEST(HashFamilyTest, SetGetAndArity) {
  CommandTester t;
  EXPECT_EQ(t.Run({"hset", "h", "a", "1", "b", "2"}), Int(2));
  EXPECT_EQ(t.Run({"hset", "h", "a", "9", "c", "3"}), Int(1));
  EXPECT_EQ(t.Run({"hget", "h", "a"}), Bulk("9"));
  EXPECT_EQ(t.Run({"hget", "h", "zz"}), kNil);
  EXPECT_EQ(t.Run({"hget", "nokey", "a"}), kNil);
  EXPECT_EQ(t.Run({"hset", "h", "a"}), Err("ERR wrong number of arguments for 'hset' command"));
  EXPECT_EQ(t.Run({"hset", "h", "a", "1", "b"}),
            Err("ERR wrong number of arguments for 'hset' command"));
  EXPECT_EQ(t.Run({"hmset", "h", "d", "4"}), kOK);
  EXPECT_EQ(t.Run({"hmset", "h", "d", "4", "e"}),
            Err("ERR wrong number of arguments for 'hmset' command"));
  EXPECT_EQ(t.Run({"hmget", "h", "a", "x", "d"}), Arr({Bulk("9"), kNil, Bulk("4")}));
  EXPECT_EQ(t.Run({"hlen", "h"}), Int(4));
  EXPECT_EQ(t.Run({"hlen", "nokey"}), Int(0));
  EXPECT_EQ(t.Run({"type", "h"}), "+hash\r\n");
  EXPECT_EQ(t.Run({"object", "encoding", "h"}), Bulk("listpack"));
}

TEST(HashFamilyTest, SetNxDelStrlenExists) {
  CommandTester t;
  EXPECT_EQ(t.Run({"hsetnx", "h", "f", "hello"}), Int(1));
  EXPECT_EQ(t.Run({"hsetnx", "h", "f", "x"}), Int(0));
  EXPECT_EQ(t.Run({"hstrlen", "h", "f"}), Int(5));
  EXPECT_EQ(t.Run({"hstrlen", "h", "g"}), Int(0));
  EXPECT_EQ(t.Run({"hexists", "h", "f"}), Int(1));
  EXPECT_EQ(t.Run({"hexists", "h", "g"}), Int(0));
  EXPECT_EQ(t.Run({"hexists", "nokey", "g"}), Int(0));
  EXPECT_EQ(t.Run({"hdel", "h", "g"}), Int(0));
  EXPECT_EQ(t.Run({"hdel", "nokey", "g"}), Int(0));
  EXPECT_EQ(t.Run({"hdel", "h", "f", "f"}), Int(1));
  EXPECT_EQ(t.Run({"exists", "h"}), Int(0));  // the last field took the key with it
}

TEST(HashFamilyTest, KeysValsGetAllResp2AndResp3) {
  CommandTester t;
  t.Run({"hset", "h", "a", "1", "b", "2"});
  EXPECT_EQ(t.Run({"hkeys", "h"}), Arr({Bulk("a"), Bulk("b")}));  // listpack: insertion order
  EXPECT_EQ(t.Run({"hvals", "h"}), Arr({Bulk("1"), Bulk("2")}));
  EXPECT_EQ(t.Run({"hgetall", "h"}), Arr({Bulk("a"), Bulk("1"), Bulk("b"), Bulk("2")}));
  EXPECT_EQ(t.Run({"hgetall", "nokey"}), "*0\r\n");
  t.SetResp3(true);
  EXPECT_EQ(t.Run({"hgetall", "h"}), "%2\r\n" + Bulk("a") + Bulk("1") + Bulk("b") + Bulk("2"));
  EXPECT_EQ(t.Run({"hgetall", "nokey"}), "%0\r\n");
  EXPECT_EQ(t.Run({"hmget", "h", "x"}), "*1\r\n_\r\n");
  EXPECT_EQ(t.Run({"hget", "h", "x"}), "_\r\n");
}

TEST(HashFamilyTest, IncrBy) {
  CommandTester t;
  EXPECT_EQ(t.Run({"hincrby", "h", "n", "5"}), Int(5));
  EXPECT_EQ(t.Run({"hincrby", "h", "n", "-10"}), Int(-5));
  EXPECT_EQ(t.Run({"hincrby", "h", "n", "x"}), Err("ERR value is not an integer or out of range"));
  t.Run({"hset", "h", "s", "1.5", "max", "9223372036854775807"});
  EXPECT_EQ(t.Run({"hincrby", "h", "s", "1"}), Err("ERR hash value is not an integer"));
  EXPECT_EQ(t.Run({"hincrby", "h", "max", "1"}), Err("ERR increment or decrement would overflow"));
  EXPECT_EQ(t.Run({"hincrby", "new", "f", "x"}),
            Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(t.Run({"exists", "new"}), Int(0));
}

TEST(HashFamilyTest, IncrByFloat) {
  CommandTester t;
  EXPECT_EQ(t.Run({"hincrbyfloat", "h", "f", "10.5"}), Bulk("10.5"));
  EXPECT_EQ(t.Run({"hincrbyfloat", "h", "f", "0.1"}), Bulk("10.6"));
  EXPECT_EQ(t.Run({"hincrbyfloat", "h", "f", "-10.6"}), Bulk("0"));
  EXPECT_EQ(t.Run({"hincrbyfloat", "h", "g", "5.0e3"}), Bulk("5000"));
  EXPECT_EQ(t.Run({"hincrbyfloat", "h", "f", "abc"}), Err("ERR value is not a valid float"));
  EXPECT_EQ(t.Run({"hincrbyfloat", "h", "f", "inf"}), Err("ERR value is NaN or Infinity"));
  t.Run({"hset", "h", "s", "abc", "huge", "1e4932"});
  EXPECT_EQ(t.Run({"hincrbyfloat", "h", "s", "1"}), Err("ERR hash value is not a float"));
  EXPECT_EQ(t.Run({"hincrbyfloat", "h", "huge", "1e4932"}),
            Err("ERR increment would produce NaN or Infinity"));
  t.SetResp3(true);
  EXPECT_EQ(t.Run({"hincrbyfloat", "h", "g", "1"}), Bulk("5001"));  // a bulk string in RESP3
}

TEST(HashFamilyTest, WrongType) {
  CommandTester t;
  t.Run({"set", "s", "x"});
  for (std::vector<std::string_view> args :
       std::vector<std::vector<std::string_view>>{{"hset", "s", "f", "v"},
                                                  {"hsetnx", "s", "f", "v"},
                                                  {"hget", "s", "f"},
                                                  {"hmget", "s", "f"},
                                                  {"hdel", "s", "f"},
                                                  {"hlen", "s"},
                                                  {"hstrlen", "s", "f"},
                                                  {"hexists", "s", "f"},
                                                  {"hkeys", "s"},
                                                  {"hvals", "s"},
                                                  {"hgetall", "s"},
                                                  {"hincrby", "s", "f", "1"},
                                                  {"hincrbyfloat", "s", "f", "1"},
                                                  {"hrandfield", "s"},
                                                  {"hrandfield", "s", "0"},
                                                  {"hscan", "s", "0"},
                                                  {"hmset", "s", "f", "v"}}) {
    EXPECT_EQ(t.Run(args), Err(kWrongType)) << args[0];
  }
  EXPECT_EQ(t.Run({"get", "s"}), Bulk("x"));
}

TEST(HashFamilyTest, RandFieldShapes) {
  CommandTester t;
  EXPECT_EQ(t.Run({"hrandfield", "nokey"}), kNil);
  EXPECT_EQ(t.Run({"hrandfield", "nokey", "3"}), "*0\r\n");
  t.Run({"hset", "h", "a", "1"});
  EXPECT_EQ(t.Run({"hrandfield", "h"}), Bulk("a"));
  EXPECT_EQ(t.Run({"hrandfield", "h", "0"}), "*0\r\n");
  EXPECT_EQ(t.Run({"hrandfield", "h", "5"}), Arr({Bulk("a")}));
  EXPECT_EQ(t.Run({"hrandfield", "h", "-3"}), Arr({Bulk("a"), Bulk("a"), Bulk("a")}));
  EXPECT_EQ(t.Run({"hrandfield", "h", "-2", "withvalues"}),
            Arr({Bulk("a"), Bulk("1"), Bulk("a"), Bulk("1")}));
  EXPECT_EQ(t.Run({"hrandfield", "h", "1", "WITHVALUES"}), Arr({Bulk("a"), Bulk("1")}));
  t.SetResp3(true);
  std::string pair = Arr({Bulk("a"), Bulk("1")});
  EXPECT_EQ(t.Run({"hrandfield", "h", "-2", "withvalues"}), Arr({pair, pair}));
  EXPECT_EQ(t.Run({"hrandfield", "h", "7", "withvalues"}), Arr({pair}));
  EXPECT_EQ(t.Run({"hrandfield", "nokey"}), "_\r\n");
  t.SetResp3(false);
  EXPECT_EQ(t.Run({"hrandfield", "h", "1", "withscores"}), Err("ERR syntax error"));
  EXPECT_EQ(t.Run({"hrandfield", "h", "1", "withvalues", "x"}), Err("ERR syntax error"));
  EXPECT_EQ(t.Run({"hrandfield", "h", "x"}), Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(t.Run({"hrandfield", "h", "-4611686018427387904", "withvalues"}),
            Err("ERR value is out of range"));
  EXPECT_EQ(t.Run({"hrandfield", "h", "-9223372036854775808"}),
            Err("ERR value is out of range, value must between -9223372036854775807 and "
                "9223372036854775807"));
}

TEST(HashFamilyTest, RandFieldDistinctOnBigHash) {
  CommandTester t;
  for (int i = 0; i < 1000; i++) {
    std::string f = "f" + std::to_string(i);
    t.Run({"hset", "h", f, "v"});
  }
  EXPECT_EQ(t.Run({"object", "encoding", "h"}), Bulk("hashtable"));
  for (const char* count : {"10", "500", "999"}) {
    std::string r = t.Run({"hrandfield", "h", count});
    EXPECT_EQ(r.substr(0, r.find("\r\n")), std::string("*") + count);
    // Distinct fields: count the bulk strings that appear once.
    std::vector<std::string> fields;
    size_t p = r.find("\r\n") + 2;
    while (p < r.size()) {
      size_t nl = r.find("\r\n", p);
      size_t len = std::stoul(r.substr(p + 1, nl - p - 1));
      fields.push_back(r.substr(nl + 2, len));
      p = nl + 2 + len + 2;
    }
    std::sort(fields.begin(), fields.end());
    EXPECT_EQ(std::unique(fields.begin(), fields.end()), fields.end()) << count;
    EXPECT_EQ(fields.size(), std::stoul(count));
  }
}

TEST(HashFamilyTest, ScanOptionsAndErrors) {
  CommandTester t;
  EXPECT_EQ(t.Run({"hscan", "nokey", "0"}), Arr({Bulk("0"), "*0\r\n"}));
  EXPECT_EQ(t.Run({"hscan", "nokey", "0", "bad"}), Arr({Bulk("0"), "*0\r\n"}));
  t.Run({"hset", "h", "a1", "x", "b1", "y", "a2", "z"});
  EXPECT_EQ(
      t.Run({"hscan", "h", "0"}),
      Arr({Bulk("0"), Arr({Bulk("a1"), Bulk("x"), Bulk("b1"), Bulk("y"), Bulk("a2"), Bulk("z")})}));
  EXPECT_EQ(t.Run({"hscan", "h", "0", "match", "a*", "count", "1"}),
            Arr({Bulk("0"), Arr({Bulk("a1"), Bulk("x"), Bulk("a2"), Bulk("z")})}));
  EXPECT_EQ(t.Run({"hscan", "h", "abc"}), Err("ERR invalid cursor"));
  EXPECT_EQ(t.Run({"hscan", "h", "0", "count", "0"}), Err("ERR syntax error"));
  EXPECT_EQ(t.Run({"hscan", "h", "0", "count", "x"}),
            Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(t.Run({"hscan", "h", "0", "match"}), Err("ERR syntax error"));
  EXPECT_EQ(t.Run({"hscan", "h", "0", "novalues"}), Err("ERR syntax error"));
  t.SetResp3(true);  // still an array of field, value in RESP3
  EXPECT_EQ(t.Run({"hscan", "h", "0", "match", "b*"}),
            Arr({Bulk("0"), Arr({Bulk("b1"), Bulk("y")})}));
}

TEST(HashFamilyTest, ScanOfBigHashIsBoundedAndComplete) {
  CommandTester t;
  for (int i = 0; i < 3000; i++) t.Run({"hset", "h", "f" + std::to_string(i), "v"});
  std::string cursor = "0";
  size_t fields = 0, calls = 0;
  do {
    std::string r = t.Run({"hscan", "h", cursor, "count", "20"});
    size_t p = r.find("$", 0);
    size_t nl = r.find("\r\n", p);
    size_t len = std::stoul(r.substr(p + 1, nl - p - 1));
    cursor = r.substr(nl + 2, len);
    size_t arr = r.find("*", nl + 2 + len);
    size_t n = std::stoul(r.substr(arr + 1, r.find("\r\n", arr) - arr - 1));
    EXPECT_LE(n / 2, 40u);  // COUNT bounds a call (a bucket may hold a few fields more)
    fields += n / 2;
    calls++;
  } while (cursor != "0");
  EXPECT_EQ(fields, 3000u);  // no resize during the scan: each field exactly once
  EXPECT_GT(calls, 50u);
}

// --- Persistence through the embedded DB ---

std::unique_ptr<DB> MustOpen(const Options& o) {
  auto db = DB::Open(o);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db.value()) : nullptr;
}

std::string Flat(const Reply& r) {
  if (r.type == Reply::Type::kArray) {
    std::vector<std::string> parts;
    for (const Reply& e : r.elements) parts.push_back(Flat(e));
    std::sort(parts.begin(), parts.end());
    std::string s = "[";
    for (auto& p : parts) s += p + ",";
    return s + "]";
  }
  if (r.type == Reply::Type::kInteger) return std::to_string(r.integer);
  if (r.type == Reply::Type::kNull) return "nil";
  return r.str;
}

std::string Exec(DB& db, std::vector<std::string> args) {
  auto r = db.Execute(args);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? Flat(*r) : "<error>";
}

TEST(HashPersistenceTest, DeltasReplayAfterReopen) {
  storage::testing::TempDir dir;
  Options o;
  o.dir = dir.path();
  std::string small, big;
  {
    auto db = MustOpen(o);
    ASSERT_NE(db, nullptr);
    Exec(*db, {"hset", "small", "a", "1", "b", "2"});
    Exec(*db, {"hincrby", "small", "a", "41"});
    Exec(*db, {"hincrbyfloat", "small", "f", "0.5"});
    Exec(*db, {"hsetnx", "small", "b", "no"});
    for (int i = 0; i < 500; i++) {
      Exec(*db, {"hset", "big", "f" + std::to_string(i), std::string(i % 80, 'x')});
    }
    Exec(*db, {"hdel", "big", "f1", "f2", "nope"});
    Exec(*db, {"hset", "gone", "x", "1"});
    Exec(*db, {"hdel", "gone", "x"});
    small = Exec(*db, {"hgetall", "small"});
    big = Exec(*db, {"hgetall", "big"});
  }
  auto db = MustOpen(o);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Exec(*db, {"hgetall", "small"}), small);
  EXPECT_EQ(Exec(*db, {"hgetall", "big"}), big);
  EXPECT_EQ(Exec(*db, {"hget", "small", "a"}), "42");
  EXPECT_EQ(Exec(*db, {"hlen", "big"}), "498");
  EXPECT_EQ(Exec(*db, {"object", "encoding", "big"}), "hashtable");
  EXPECT_EQ(Exec(*db, {"exists", "gone"}), "0");
}

// After a reopen every value is on disk only (the checkpoint is an index): reading a hash
// reads its image back, and a change after read-back is a delta on the read-back value. The
// budget is far below the hashes' size. (Eviction of collections changed by deltas happens on
// the server's housekeeping tick, which tests/test_hashes.py covers; the embedded DB evicts
// only from the writer's shard.)
TEST(HashPersistenceTest, HashesReadBackFromDiskAndChangeAfterReadBack) {
  storage::testing::TempDir dir;
  Options o;
  o.dir = dir.path();
  o.maxmemory = 64 << 10;
  std::vector<std::string> want(8);
  {
    auto db = MustOpen(o);
    ASSERT_NE(db, nullptr);
    for (int k = 0; k < 8; k++) {
      std::string key = "h" + std::to_string(k);
      for (int i = 0; i < 300; i++) {
        Exec(*db, {"hset", key, "field" + std::to_string(i), std::string(40, 'a' + k)});
      }
    }
  }
  {
    auto db = MustOpen(o);
    ASSERT_NE(db, nullptr);
    for (int k = 0; k < 8; k++) {
      std::string key = "h" + std::to_string(k);
      EXPECT_EQ(Exec(*db, {"hlen", key}), "300");
      Exec(*db, {"hset", key, "after", std::to_string(k)});
      Exec(*db, {"hdel", key, "field0"});
      want[k] = Exec(*db, {"hgetall", key});
    }
    auto info = db->Execute({"info", "cache"});
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->str.find("cache_misses:0\r"), std::string::npos) << "nothing was read back";
  }
  auto db = MustOpen(o);
  ASSERT_NE(db, nullptr);
  for (int k = 0; k < 8; k++) {
    std::string key = "h" + std::to_string(k);
    EXPECT_EQ(Exec(*db, {"hgetall", key}), want[k]) << key;
    EXPECT_EQ(Exec(*db, {"hget", key, "after"}), std::to_string(k));
    EXPECT_EQ(Exec(*db, {"hexists", key, "field0"}), "0");
  }
}

}  // namespace
}  // namespace fdb
