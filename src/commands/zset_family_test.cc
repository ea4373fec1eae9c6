// In-process tests of the SORTED SET commands: the real dispatcher, no sockets, replies compared
// byte for byte with Redis 7's. Also: the deltas each write logs (effects, not commands), and
// persistence through fdb::DB, including zsets evicted from the cache and read back.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "commands/test_util.h"
#include "engine/zset_object.h"
#include "fdb/db.h"
#include "storage/storage_test_util.h"

namespace fdb {
namespace {

constexpr const char* kWrongTypeErr =
    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

std::string Arr(std::initializer_list<std::string> items) {
  std::string s = "*" + std::to_string(items.size()) + "\r\n";
  for (const auto& i : items) s += i;
  return s;
}

// Records deltas and deletes as the storage engine would log them.
class DeltaRecorder : public EffectSink {
 public:
  void Capture(Effect& e) override {
    if (e.kind == EffectKind::kPut) log.push_back("put " + std::string(e.key));
    if (e.kind == EffectKind::kDelete) log.push_back("del " + std::string(e.key));
    if (e.kind == EffectKind::kDelta) deltas.emplace_back(e.change);
  }
  Status Commit(Txn&) override { return Status::OK(); }
  std::vector<std::string> log;
  std::vector<std::string> deltas;
};

class ZSetFamilyTest : public ::testing::Test {
 protected:
  std::string Run(std::initializer_list<std::string_view> args) { return t_.Run(args); }
  CommandTester t_;
};

TEST_F(ZSetFamilyTest, ZAddOptionsAndReplies) {
  EXPECT_EQ(Run({"zadd", "z", "1", "a", "2", "b"}), Int(2));
  EXPECT_EQ(Run({"zadd", "z", "ch", "5", "a", "2", "b", "3", "c"}), Int(2));
  EXPECT_EQ(Run({"zadd", "z", "nx", "9", "a", "4", "d"}), Int(1));
  EXPECT_EQ(Run({"zscore", "z", "a"}), Bulk("5"));
  EXPECT_EQ(Run({"zadd", "z", "xx", "ch", "6", "a", "7", "e"}), Int(1));
  EXPECT_EQ(Run({"zscore", "z", "e"}), kNil);
  EXPECT_EQ(Run({"zadd", "z", "gt", "ch", "1", "a", "10", "b"}), Int(1));
  EXPECT_EQ(Run({"zadd", "z", "lt", "ch", "1", "a", "10", "b"}), Int(1));
  EXPECT_EQ(Run({"zrange", "z", "0", "-1"}), Arr({Bulk("a"), Bulk("c"), Bulk("d"), Bulk("b")}));
  EXPECT_EQ(Run({"zadd", "z", "incr", "1.5", "a"}), Bulk("2.5"));
  EXPECT_EQ(Run({"zadd", "z", "nx", "incr", "1", "a"}), kNil);
  EXPECT_EQ(Run({"zadd", "z", "gt", "incr", "-1", "a"}), kNil);
  EXPECT_EQ(Run({"zincrby", "z", "0.1", "a"}), Bulk("2.6000000000000001"));
  EXPECT_EQ(Run({"zadd", "nokey", "xx", "1", "a"}), Int(0));
  EXPECT_EQ(Run({"exists", "nokey"}), Int(0));
  EXPECT_EQ(Run({"zadd", "nokey", "xx", "incr", "1", "a"}), kNil);
}

TEST_F(ZSetFamilyTest, ZAddErrors) {
  EXPECT_EQ(Run({"zadd", "z", "nx", "1"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"zadd", "z", "nx", "xx", "1", "a"}),
            Err("ERR XX and NX options at the same time are not compatible"));
  EXPECT_EQ(Run({"zadd", "z", "gt", "lt", "1", "a"}),
            Err("ERR GT, LT, and/or NX options at the same time are not compatible"));
  EXPECT_EQ(Run({"zadd", "z", "incr", "1", "a", "2", "b"}),
            Err("ERR INCR option supports a single increment-element pair"));
  EXPECT_EQ(Run({"zadd", "z", "1", "a", "nan", "b"}), Err("ERR value is not a valid float"));
  EXPECT_EQ(Run({"exists", "z"}), Int(0));
  EXPECT_EQ(Run({"zadd", "z", "inf", "a"}), Int(1));
  EXPECT_EQ(Run({"zincrby", "z", "-inf", "a"}), Err("ERR resulting score is not a number (NaN)"));
  EXPECT_EQ(Run({"zscore", "z", "a"}), Bulk("inf"));
  EXPECT_EQ(Run({"set", "s", "v"}), kOK);
  EXPECT_EQ(Run({"zadd", "s", "1", "a"}), kWrongTypeErr);
  EXPECT_EQ(Run({"zadd", "z"}), Err("ERR wrong number of arguments for 'zadd' command"));
}

TEST_F(ZSetFamilyTest, Resp3Shapes) {
  t_.SetResp3(true);
  Run({"zadd", "z", "1", "a", "2.5", "b"});
  EXPECT_EQ(Run({"zscore", "z", "b"}), ",2.5\r\n");
  EXPECT_EQ(Run({"zscore", "z", "x"}), "_\r\n");
  EXPECT_EQ(Run({"zmscore", "z", "a", "x"}), "*2\r\n,1\r\n_\r\n");
  EXPECT_EQ(Run({"zrange", "z", "0", "-1", "withscores"}),
            "*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
  EXPECT_EQ(Run({"zrank", "z", "b", "withscore"}), "*2\r\n:1\r\n,2.5\r\n");
  EXPECT_EQ(Run({"zrank", "z", "x", "withscore"}), "_\r\n");
  EXPECT_EQ(Run({"zscan", "z", "0"}),
            "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n");
  EXPECT_EQ(Run({"zpopmin", "z"}), "*2\r\n$1\r\na\r\n,1\r\n");
  EXPECT_EQ(Run({"zpopmax", "z", "1"}), "*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n");
  Run({"zadd", "z", "-inf", "n"});
  EXPECT_EQ(Run({"zmpop", "1", "z", "min"}), "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nn\r\n,-inf\r\n");
  EXPECT_EQ(Run({"zmpop", "1", "z", "min"}), "_\r\n");
}

TEST_F(ZSetFamilyTest, Resp2Shapes) {
  Run({"zadd", "z", "1", "a", "2.5", "b"});
  EXPECT_EQ(Run({"zrange", "z", "0", "-1", "withscores"}),
            Arr({Bulk("a"), Bulk("1"), Bulk("b"), Bulk("2.5")}));
  EXPECT_EQ(Run({"zrank", "z", "b", "withscore"}), Arr({Int(1), Bulk("2.5")}));
  EXPECT_EQ(Run({"zrank", "z", "x", "withscore"}), "*-1\r\n");
  EXPECT_EQ(Run({"zrank", "z", "x"}), kNil);
  EXPECT_EQ(Run({"zpopmax", "z", "2"}), Arr({Bulk("b"), Bulk("2.5"), Bulk("a"), Bulk("1")}));
  EXPECT_EQ(Run({"zmpop", "1", "z", "min"}), "*-1\r\n");
}

TEST_F(ZSetFamilyTest, RankAndCount) {
  Run({"zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d"});
  EXPECT_EQ(Run({"zrank", "z", "c"}), Int(2));
  EXPECT_EQ(Run({"zrevrank", "z", "c"}), Int(1));
  EXPECT_EQ(Run({"zrank", "z", "c", "withscores"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"zcount", "z", "(1", "3"}), Int(2));
  EXPECT_EQ(Run({"zcount", "z", "-inf", "(1"}), Int(0));
  EXPECT_EQ(Run({"zcount", "z", "3", "1"}), Int(0));
  EXPECT_EQ(Run({"zcount", "z", "1", "x"}), Err("ERR min or max is not a float"));
  EXPECT_EQ(Run({"zlexcount", "z", "-", "+"}), Int(4));
  EXPECT_EQ(Run({"zlexcount", "z", "a", "+"}), Err("ERR min or max not valid string range item"));
  EXPECT_EQ(Run({"zcard", "z"}), Int(4));
  EXPECT_EQ(Run({"zcard", "nokey"}), Int(0));
}

TEST_F(ZSetFamilyTest, Ranges) {
  Run({"zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"});
  EXPECT_EQ(Run({"zrange", "z", "-2", "-1"}), Arr({Bulk("d"), Bulk("e")}));
  EXPECT_EQ(Run({"zrange", "z", "3", "1"}), Arr({}));
  EXPECT_EQ(Run({"zrange", "z", "-100", "100", "rev"}),
            Arr({Bulk("e"), Bulk("d"), Bulk("c"), Bulk("b"), Bulk("a")}));
  EXPECT_EQ(Run({"zrevrange", "z", "1", "2"}), Arr({Bulk("d"), Bulk("c")}));
  EXPECT_EQ(Run({"zrangebyscore", "z", "(1", "(4"}), Arr({Bulk("b"), Bulk("c")}));
  EXPECT_EQ(Run({"zrangebyscore", "z", "-inf", "+inf", "limit", "1", "2", "withscores"}),
            Arr({Bulk("b"), Bulk("2"), Bulk("c"), Bulk("3")}));
  EXPECT_EQ(Run({"zrangebyscore", "z", "-inf", "+inf", "limit", "-1", "2"}), Arr({}));
  EXPECT_EQ(Run({"zrangebyscore", "z", "-inf", "+inf", "limit", "4", "-5"}), Arr({Bulk("e")}));
  EXPECT_EQ(Run({"zrevrangebyscore", "z", "4", "(2", "limit", "1", "5"}), Arr({Bulk("c")}));
  EXPECT_EQ(Run({"zrange", "z", "(5", "-inf", "byscore", "rev"}),
            Arr({Bulk("d"), Bulk("c"), Bulk("b"), Bulk("a")}));
  EXPECT_EQ(Run({"zrange", "z", "0", "1", "limit", "0", "1"}),
            Err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE "
                "or BYLEX"));
  EXPECT_EQ(Run({"zrange", "z", "-", "+", "bylex", "withscores"}),
            Err("ERR syntax error, WITHSCORES not supported in combination with BYLEX"));
  EXPECT_EQ(Run({"zrangebyscore", "z", "0", "1", "rev"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"zrange", "nokey", "0", "-1"}), Arr({}));
  Run({"zadd", "l", "0", "a", "0", "b", "0", "c"});
  EXPECT_EQ(Run({"zrangebylex", "l", "(a", "+"}), Arr({Bulk("b"), Bulk("c")}));
  EXPECT_EQ(Run({"zrevrangebylex", "l", "+", "[b"}), Arr({Bulk("c"), Bulk("b")}));
  EXPECT_EQ(Run({"zrange", "l", "[c", "-", "bylex", "rev", "limit", "1", "1"}), Arr({Bulk("b")}));
}

TEST_F(ZSetFamilyTest, RangeStoreAndRemoveRanges) {
  Run({"zadd", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"});
  EXPECT_EQ(Run({"zrangestore", "d", "z", "1", "2"}), Int(2));
  EXPECT_EQ(Run({"zrange", "d", "0", "-1"}), Arr({Bulk("b"), Bulk("c")}));
  EXPECT_EQ(Run({"zrangestore", "d", "z", "9", "10"}), Int(0));
  EXPECT_EQ(Run({"exists", "d"}), Int(0));
  EXPECT_EQ(Run({"zremrangebyrank", "z", "-2", "-1"}), Int(2));
  EXPECT_EQ(Run({"zremrangebyscore", "z", "(1", "+inf"}), Int(2));
  EXPECT_EQ(Run({"zremrangebylex", "z", "-", "+"}), Int(1));
  EXPECT_EQ(Run({"exists", "z"}), Int(0));
  EXPECT_EQ(Run({"zremrangebyrank", "z", "a", "1"}),
            Err("ERR value is not an integer or out of range"));
}

TEST_F(ZSetFamilyTest, PopsAndCounts) {
  Run({"zadd", "z", "1", "a", "2", "b", "3", "c"});
  EXPECT_EQ(Run({"zpopmin", "z", "0"}), Arr({}));
  EXPECT_EQ(Run({"zpopmin", "z", "-1"}), Err("ERR value is out of range, must be positive"));
  EXPECT_EQ(Run({"zpopmin", "z", "1", "2"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"zpopmin", "nokey"}), Arr({}));
  EXPECT_EQ(Run({"zmpop", "0", "z", "min"}), Err("ERR numkeys should be greater than 0"));
  EXPECT_EQ(Run({"zmpop", "1", "z", "min", "count", "0"}),
            Err("ERR count should be greater than 0"));
  EXPECT_EQ(Run({"zmpop", "2", "nokey", "z", "max", "count", "2"}),
            Arr({Bulk("z"), Arr({Arr({Bulk("c"), Bulk("3")}), Arr({Bulk("b"), Bulk("2")})})}));
  EXPECT_EQ(Run({"zpopmin", "z", "5"}), Arr({Bulk("a"), Bulk("1")}));
  EXPECT_EQ(Run({"exists", "z"}), Int(0));
}

TEST_F(ZSetFamilyTest, RandMember) {
  Run({"zadd", "z", "1", "a", "2", "b"});
  EXPECT_EQ(Run({"zrandmember", "nokey"}), kNil);
  EXPECT_EQ(Run({"zrandmember", "z", "0"}), Arr({}));
  std::string all = Run({"zrandmember", "z", "5", "withscores"});
  EXPECT_EQ(all.substr(0, 4), "*4\r\n");
  EXPECT_EQ(Run({"zrandmember", "z", "-5"}).substr(0, 4), "*5\r\n");
  EXPECT_EQ(Run({"zrandmember", "z", "1", "withscores", "x"}), Err("ERR syntax error"));
  EXPECT_EQ(Run({"zrandmember", "z", "-9223372036854775807", "withscores"}),
            Err("ERR value is out of range"));
}

TEST_F(ZSetFamilyTest, SetOperations) {
  Run({"zadd", "a", "1", "x", "2", "y"});
  Run({"zadd", "b", "10", "y", "20", "w"});
  EXPECT_EQ(Run({"zunion", "2", "a", "b", "withscores"}),
            Arr({Bulk("x"), Bulk("1"), Bulk("y"), Bulk("12"), Bulk("w"), Bulk("20")}));
  EXPECT_EQ(Run({"zinter", "2", "a", "b", "weights", "2", "3", "withscores"}),
            Arr({Bulk("y"), Bulk("34")}));
  EXPECT_EQ(Run({"zinter", "2", "a", "b", "aggregate", "max"}), Arr({Bulk("y")}));
  EXPECT_EQ(Run({"zdiff", "2", "a", "b"}), Arr({Bulk("x")}));
  EXPECT_EQ(Run({"zunionstore", "d", "2", "a", "b"}), Int(3));
  EXPECT_EQ(Run({"zinterstore", "d", "2", "a", "nokey"}), Int(0));
  EXPECT_EQ(Run({"exists", "d"}), Int(0));
  EXPECT_EQ(Run({"zdiffstore", "d", "1", "a"}), Int(2));
  EXPECT_EQ(Run({"zintercard", "2", "a", "b"}), Int(1));
  EXPECT_EQ(Run({"zintercard", "2", "a", "b", "limit", "-1"}), Err("ERR LIMIT can't be negative"));
  EXPECT_EQ(Run({"zunion", "0", "a"}),
            Err("ERR at least 1 input key is needed for 'zunion' command"));
  EXPECT_EQ(Run({"zunion", "1", "a", "weights", "x"}), Err("ERR weight value is not a float"));
  Run({"set", "s", "v"});
  EXPECT_EQ(Run({"zunion", "2", "a", "s"}), kWrongTypeErr);
}

TEST_F(ZSetFamilyTest, ScanBigSetVisitsEveryMember) {
  std::vector<std::string> args = {"zadd", "z"};
  for (int i = 0; i < 300; i++) {
    args.push_back(std::to_string(i));
    args.push_back("m" + std::to_string(i));
  }
  std::vector<std::string_view> views(args.begin(), args.end());
  EXPECT_EQ(t_.Run(views), Int(300));
  // The reply: cursor, then member and score bulks. Calls go on until the cursor is 0 again.
  auto scan = [this](std::string_view cursor, std::string_view pattern, std::string_view count,
                     std::map<std::string, std::string>* seen) {
    std::string reply = Run({"zscan", "z", cursor, "match", pattern, "count", count});
    size_t at = 0;
    auto bulk = [&] {
      size_t len_at = reply.find('$', at) + 1;
      size_t crlf = reply.find("\r\n", len_at);
      size_t len = std::stoul(reply.substr(len_at, crlf - len_at));
      at = crlf + 2 + len + 2;
      return reply.substr(crlf + 2, len);
    };
    std::string next = bulk();
    while (reply.find('$', at) != std::string::npos) {
      std::string m = bulk();
      (*seen)[m] = bulk();
    }
    return next;
  };
  std::map<std::string, std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    cursor = scan(cursor, "*", "100", &seen);
    calls++;
  } while (cursor != "0" && calls < 1000);
  EXPECT_GT(calls, 1);  // a skiplist is not returned in one call
  EXPECT_EQ(seen.size(), 300u);
  EXPECT_EQ(seen["m123"], "123");
  seen.clear();
  EXPECT_EQ(scan("0", "m29?", "1000", &seen), "0");
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(seen.begin()->first, "m290");
  EXPECT_EQ(Run({"zscan", "z", "-1"}), Err("ERR invalid cursor"));
}

TEST_F(ZSetFamilyTest, WrongType) {
  Run({"set", "s", "v"});
  for (auto args : std::vector<std::vector<std::string_view>>{{"zcard", "s"},
                                                              {"zscore", "s", "a"},
                                                              {"zrange", "s", "0", "1"},
                                                              {"zrem", "s", "a"},
                                                              {"zincrby", "s", "1", "a"},
                                                              {"zpopmax", "s"},
                                                              {"zrangestore", "d", "s", "0", "1"},
                                                              {"zrandmember", "s"},
                                                              {"zscan", "s", "0"},
                                                              {"zremrangebyscore", "s", "0", "1"},
                                                              {"zmpop", "1", "s", "max"}}) {
    EXPECT_EQ(t_.Run(args), kWrongTypeErr) << args[0];
  }
}

// Writes log their effects: ZINCRBY the resulting score, ZPOPMIN the members popped, and a
// removal of the last member a delete rather than a delta.
TEST_F(ZSetFamilyTest, DeltasRecordEffects) {
  DeltaRecorder rec;
  t_.server().keyspace().AddSink(&rec);
  Run({"zadd", "z", "1", "a", "2", "b"});
  Run({"zincrby", "z", "5", "a"});
  Run({"zadd", "z", "nx", "9", "a"});  // no change, no delta
  Run({"zpopmin", "z"});
  Run({"zrem", "z", "a"});
  t_.server().keyspace().RemoveSink(&rec);
  ASSERT_EQ(rec.deltas.size(), 3u);
  std::string want;
  ZSetObject::BeginSetDelta(&want, 1);
  ZSetObject::AddSetDelta(&want, "a", 6);
  EXPECT_EQ(rec.deltas[1], want);
  want.clear();
  ZSetObject::BeginRemoveDelta(&want, 1);
  ZSetObject::AddRemoveDelta(&want, "b");
  EXPECT_EQ(rec.deltas[2], want);
  ASSERT_FALSE(rec.log.empty());
  EXPECT_EQ(rec.log.back(), "del z");
}

// --- Persistence through the embedded API ----------------------------------------------------

std::vector<std::string> RangeOf(DB& db, const std::string& key) {
  auto r = db.Execute({"zrange", key, "0", "-1", "withscores"});
  EXPECT_TRUE(r.ok());
  std::vector<std::string> out;
  for (const Reply& e : r->elements) out.push_back(e.str);
  return out;
}

void Fill(DB& db, const std::string& key, int n, int salt) {
  std::vector<std::string> args = {"zadd", key};
  for (int i = 0; i < n; i++) {
    args.push_back(std::to_string((i * salt) % 97) + "." + std::to_string(i % 10));
    args.push_back("member:" + std::to_string(i));
  }
  ASSERT_TRUE(db.Execute(args).ok());
}

TEST(ZSetPersistenceTest, SurvivesReopen) {
  storage::testing::TempDir dir;
  Options o;
  o.dir = dir.path();
  std::vector<std::string> small, big, stored;
  {
    auto db = std::move(DB::Open(o).value());
    Fill(*db, "small", 10, 3);
    Fill(*db, "big", 3000, 7);
    ASSERT_TRUE(db->Execute({"zincrby", "big", "0.25", "member:5"}).ok());
    ASSERT_TRUE(db->Execute({"zremrangebyrank", "big", "10", "20"}).ok());
    ASSERT_TRUE(db->Execute({"zpopmax", "small", "3"}).ok());
    ASSERT_TRUE(db->Execute({"zunionstore", "u", "2", "small", "big"}).ok());
    ASSERT_TRUE(db->Execute({"zadd", "gone", "1", "x"}).ok());
    ASSERT_TRUE(db->Execute({"zrem", "gone", "x"}).ok());
    small = RangeOf(*db, "small");
    big = RangeOf(*db, "big");
    stored = RangeOf(*db, "u");
  }
  auto db = std::move(DB::Open(o).value());
  EXPECT_EQ(RangeOf(*db, "small"), small);
  EXPECT_EQ(RangeOf(*db, "big"), big);
  EXPECT_EQ(RangeOf(*db, "u"), stored);
  EXPECT_EQ(db->Execute({"exists", "gone"})->integer, 0);
  EXPECT_EQ(db->Execute({"object", "encoding", "big"})->str, "skiplist");
  EXPECT_EQ(db->Execute({"object", "encoding", "small"})->str, "listpack");
}

TEST(ZSetPersistenceTest, EvictedAndReadBackThenModified) {
  storage::testing::TempDir dir;
  Options o;
  o.dir = dir.path();
  o.cache_size = 1;  // at most one value in RAM: the others are evicted and read back
  std::vector<std::vector<std::string>> want(4);
  {
    auto db = std::move(DB::Open(o).value());
    for (int k = 0; k < 4; k++) Fill(*db, "z" + std::to_string(k), 500 + 100 * k, k + 2);
    for (int k = 0; k < 4; k++) {
      std::string key = "z" + std::to_string(k);
      ASSERT_EQ(db->Execute({"zcard", key})->integer, 500 + 100 * k);  // read back
      ASSERT_TRUE(db->Execute({"zadd", key, "-1", "first"}).ok());     // modified after
      ASSERT_TRUE(db->Execute({"zrem", key, "member:1"}).ok());
      want[k] = RangeOf(*db, key);
      ASSERT_EQ(want[k][0], "first");
    }
    for (int k = 0; k < 4; k++) EXPECT_EQ(RangeOf(*db, "z" + std::to_string(k)), want[k]);
  }
  auto db = std::move(DB::Open(o).value());
  for (int k = 0; k < 4; k++) EXPECT_EQ(RangeOf(*db, "z" + std::to_string(k)), want[k]);
}

}  // namespace
}  // namespace fdb

namespace fdb {
namespace {

// In-process clients cannot be woken, so an empty blocking pop answers its timeout reply at
// once (as Redis does for clients that may not block); a non-empty one pops.
TEST_F(ZSetFamilyTest, BlockingPopsWithoutBlocking) {
  Run({"zadd", "z", "1", "a", "2", "b", "3", "c"});
  EXPECT_EQ(Run({"bzpopmin", "nokey", "z", "0"}), Arr({Bulk("z"), Bulk("a"), Bulk("1")}));
  EXPECT_EQ(Run({"bzpopmax", "z", "0"}), Arr({Bulk("z"), Bulk("c"), Bulk("3")}));
  EXPECT_EQ(Run({"bzmpop", "0", "1", "z", "min", "count", "9"}),
            Arr({Bulk("z"), Arr({Arr({Bulk("b"), Bulk("2")})})}));
  EXPECT_EQ(Run({"bzpopmin", "z", "0"}), "*-1\r\n");
  EXPECT_EQ(Run({"bzmpop", "0", "1", "z", "max"}), "*-1\r\n");
  EXPECT_EQ(Run({"bzpopmin", "z", "-1"}), Err("ERR timeout is negative"));
  EXPECT_EQ(Run({"bzmpop", "0", "0", "z", "max"}), Err("ERR numkeys should be greater than 0"));
  Run({"set", "s", "v"});
  EXPECT_EQ(Run({"bzpopmax", "nokey", "s", "0"}), kWrongTypeErr);
}

}  // namespace
}  // namespace fdb
