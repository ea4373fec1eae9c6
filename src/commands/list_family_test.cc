// In-process tests of the list commands through the real dispatcher (exact RESP bytes), of the
// blocking registry (a waiter served by a push, FIFO, timeout and disconnect), and persistence
// of lists through the embedded DB: replay of deltas, eviction and read-back.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "commands/blocking.h"
#include "commands/errors.h"
#include "commands/test_util.h"
#include "engine/list_object.h"
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

std::string Bulks(std::initializer_list<std::string_view> items) {
  std::string s = "*" + std::to_string(items.size()) + "\r\n";
  for (auto i : items) s += Bulk(i);
  return s;
}

TEST(ListFamilyTest, PushesAndLength) {
  CommandTester t;
  EXPECT_EQ(t.Run({"rpush", "l", "a", "b"}), Int(2));
  EXPECT_EQ(t.Run({"lpush", "l", "x", "y"}), Int(4));
  EXPECT_EQ(t.Run({"lrange", "l", "0", "-1"}), Bulks({"y", "x", "a", "b"}));
  EXPECT_EQ(t.Run({"llen", "l"}), Int(4));
  EXPECT_EQ(t.Run({"llen", "nope"}), Int(0));
  EXPECT_EQ(t.Run({"lpushx", "nope", "a"}), Int(0));
  EXPECT_EQ(t.Run({"rpushx", "nope", "a"}), Int(0));
  EXPECT_EQ(t.Run({"exists", "nope"}), Int(0));
  EXPECT_EQ(t.Run({"lpushx", "l", "f"}), Int(5));
  EXPECT_EQ(t.Run({"rpushx", "l", "g", "h"}), Int(7));
  EXPECT_EQ(t.Run({"type", "l"}), "+list\r\n");
  EXPECT_EQ(t.Run({"object", "encoding", "l"}), Bulk("quicklist"));
  EXPECT_EQ(t.Run({"lpush", "l"}), Err("ERR wrong number of arguments for 'lpush' command"));
}

TEST(ListFamilyTest, WrongTypeEverywhere) {
  CommandTester t;
  t.Run({"set", "s", "x"});
  for (std::vector<std::string_view> args :
       std::vector<std::vector<std::string_view>>{{"lpush", "s", "a"},
                                                  {"rpushx", "s", "a"},
                                                  {"lpop", "s"},
                                                  {"rpop", "s", "1"},
                                                  {"llen", "s"},
                                                  {"lrange", "s", "0", "1"},
                                                  {"lindex", "s", "0"},
                                                  {"lset", "s", "0", "a"},
                                                  {"linsert", "s", "before", "a", "b"},
                                                  {"lrem", "s", "0", "a"},
                                                  {"ltrim", "s", "0", "1"},
                                                  {"lpos", "s", "a"},
                                                  {"lmove", "s", "d", "left", "left"},
                                                  {"rpoplpush", "s", "d"},
                                                  {"lmpop", "1", "s", "left"},
                                                  {"blpop", "s", "0"},
                                                  {"blmove", "s", "d", "left", "left", "0"},
                                                  {"blmpop", "0", "1", "s", "left"}}) {
    EXPECT_EQ(t.Run(args), Err(kWrongType)) << args[0];
  }
  t.Run({"rpush", "l", "a"});
  EXPECT_EQ(t.Run({"lmove", "l", "s", "left", "left"}), Err(kWrongType));
  EXPECT_EQ(t.Run({"lrange", "l", "0", "-1"}), Bulks({"a"}));
}

TEST(ListFamilyTest, PopsWithAndWithoutCount) {
  CommandTester t;
  t.Run({"rpush", "l", "a", "b", "c", "d", "e"});
  EXPECT_EQ(t.Run({"lpop", "l"}), Bulk("a"));
  EXPECT_EQ(t.Run({"rpop", "l"}), Bulk("e"));
  EXPECT_EQ(t.Run({"lpop", "l", "0"}), "*0\r\n");
  EXPECT_EQ(t.Run({"rpop", "l", "2"}), Bulks({"d", "c"}));
  EXPECT_EQ(t.Run({"lpop", "l", "9"}), Bulks({"b"}));
  EXPECT_EQ(t.Run({"exists", "l"}), Int(0));
  EXPECT_EQ(t.Run({"lpop", "l"}), kNil);
  EXPECT_EQ(t.Run({"lpop", "l", "1"}), "*-1\r\n");
  EXPECT_EQ(t.Run({"lpop", "l", "0"}), "*-1\r\n");
  EXPECT_EQ(t.Run({"lpop", "l", "-1"}), Err("ERR value is out of range, must be positive"));
  EXPECT_EQ(t.Run({"rpop", "l", "x"}), Err("ERR value is out of range, must be positive"));
  EXPECT_EQ(t.Run({"lpop", "l", "1", "2"}),
            Err("ERR wrong number of arguments for 'lpop' command"));
  t.SetResp3(true);
  EXPECT_EQ(t.Run({"lpop", "l"}), "_\r\n");
  EXPECT_EQ(t.Run({"rpop", "l", "3"}), "_\r\n");
}

TEST(ListFamilyTest, RangeAndIndex) {
  CommandTester t;
  t.Run({"rpush", "l", "a", "b", "c", "d", "e"});
  EXPECT_EQ(t.Run({"lrange", "l", "1", "2"}), Bulks({"b", "c"}));
  EXPECT_EQ(t.Run({"lrange", "l", "-2", "-1"}), Bulks({"d", "e"}));
  EXPECT_EQ(t.Run({"lrange", "l", "-100", "100"}), Bulks({"a", "b", "c", "d", "e"}));
  EXPECT_EQ(t.Run({"lrange", "l", "3", "1"}), "*0\r\n");
  EXPECT_EQ(t.Run({"lrange", "l", "5", "10"}), "*0\r\n");
  EXPECT_EQ(t.Run({"lrange", "nope", "0", "-1"}), "*0\r\n");
  EXPECT_EQ(t.Run({"lrange", "l", "x", "1"}), Err(errors::kNotInteger));
  EXPECT_EQ(t.Run({"lindex", "l", "0"}), Bulk("a"));
  EXPECT_EQ(t.Run({"lindex", "l", "-1"}), Bulk("e"));
  EXPECT_EQ(t.Run({"lindex", "l", "5"}), kNil);
  EXPECT_EQ(t.Run({"lindex", "l", "-6"}), kNil);
  EXPECT_EQ(t.Run({"lindex", "nope", "0"}), kNil);
  EXPECT_EQ(t.Run({"lindex", "l", "1.5"}), Err(errors::kNotInteger));
}

TEST(ListFamilyTest, IntegerElementsReplyAsStrings) {
  CommandTester t;
  t.Run({"rpush", "l", "12", "-7", "007", "9223372036854775807"});
  EXPECT_EQ(t.Run({"lrange", "l", "0", "-1"}), Bulks({"12", "-7", "007", "9223372036854775807"}));
  EXPECT_EQ(t.Run({"lpos", "l", "-7"}), Int(1));
  EXPECT_EQ(t.Run({"lrem", "l", "0", "12"}), Int(1));
}

TEST(ListFamilyTest, SetInsertRemTrim) {
  CommandTester t;
  t.Run({"rpush", "l", "a", "b", "a", "c", "a"});
  EXPECT_EQ(t.Run({"lset", "l", "-1", "z"}), kOK);
  EXPECT_EQ(t.Run({"lset", "l", "5", "z"}), Err("ERR index out of range"));
  EXPECT_EQ(t.Run({"lset", "nope", "0", "z"}), Err("ERR no such key"));
  EXPECT_EQ(t.Run({"lset", "l", "x", "z"}), Err(errors::kNotInteger));
  EXPECT_EQ(t.Run({"linsert", "l", "BEFORE", "b", "x"}), Int(6));
  EXPECT_EQ(t.Run({"linsert", "l", "after", "c", "y"}), Int(7));
  EXPECT_EQ(t.Run({"linsert", "l", "after", "nope", "y"}), Int(-1));
  EXPECT_EQ(t.Run({"linsert", "nope", "after", "a", "y"}), Int(0));
  EXPECT_EQ(t.Run({"linsert", "l", "around", "a", "y"}), Err(errors::kSyntax));
  EXPECT_EQ(t.Run({"lrange", "l", "0", "-1"}), Bulks({"a", "x", "b", "a", "c", "y", "z"}));
  EXPECT_EQ(t.Run({"lrem", "l", "-1", "a"}), Int(1));
  EXPECT_EQ(t.Run({"lrem", "l", "0", "nope"}), Int(0));
  EXPECT_EQ(t.Run({"lrem", "l", "x", "a"}), Err(errors::kNotInteger));
  EXPECT_EQ(t.Run({"lrange", "l", "0", "-1"}), Bulks({"a", "x", "b", "c", "y", "z"}));
  EXPECT_EQ(t.Run({"ltrim", "l", "1", "-2"}), kOK);
  EXPECT_EQ(t.Run({"lrange", "l", "0", "-1"}), Bulks({"x", "b", "c", "y"}));
  EXPECT_EQ(t.Run({"ltrim", "l", "x", "1"}), Err(errors::kNotInteger));
  EXPECT_EQ(t.Run({"ltrim", "nope", "0", "1"}), kOK);
  EXPECT_EQ(t.Run({"ltrim", "l", "3", "1"}), kOK);
  EXPECT_EQ(t.Run({"exists", "l"}), Int(0));
  t.Run({"rpush", "l", "a", "a"});
  EXPECT_EQ(t.Run({"lrem", "l", "0", "a"}), Int(2));
  EXPECT_EQ(t.Run({"exists", "l"}), Int(0));
}

TEST(ListFamilyTest, LPosOptionsAndErrors) {
  CommandTester t;
  t.Run({"rpush", "l", "a", "b", "c", "1", "2", "3", "c", "c"});
  EXPECT_EQ(t.Run({"lpos", "l", "c"}), Int(2));
  EXPECT_EQ(t.Run({"lpos", "l", "c", "rank", "-1"}), Int(7));
  EXPECT_EQ(t.Run({"lpos", "l", "c", "rank", "2"}), Int(6));
  EXPECT_EQ(t.Run({"lpos", "l", "c", "rank", "9"}), kNil);
  EXPECT_EQ(t.Run({"lpos", "l", "c", "count", "0"}), Arr({Int(2), Int(6), Int(7)}));
  EXPECT_EQ(t.Run({"lpos", "l", "c", "count", "2", "rank", "-1"}), Arr({Int(7), Int(6)}));
  EXPECT_EQ(t.Run({"lpos", "l", "c", "count", "0", "maxlen", "7"}), Arr({Int(2), Int(6)}));
  EXPECT_EQ(t.Run({"lpos", "l", "zz", "count", "1"}), "*0\r\n");
  EXPECT_EQ(t.Run({"lpos", "nope", "zz"}), kNil);
  EXPECT_EQ(t.Run({"lpos", "nope", "zz", "count", "1"}), "*0\r\n");
  EXPECT_EQ(t.Run({"lpos", "l", "c", "rank", "0"}),
            Err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                "second ... or use negative to start from the end of the list"));
  EXPECT_EQ(t.Run({"lpos", "l", "c", "count", "-1"}), Err("ERR COUNT can't be negative"));
  EXPECT_EQ(t.Run({"lpos", "l", "c", "maxlen", "-1"}), Err("ERR MAXLEN can't be negative"));
  EXPECT_EQ(t.Run({"lpos", "l", "c", "rank"}), Err(errors::kSyntax));
  EXPECT_EQ(t.Run({"lpos", "l", "c", "bogus", "1"}), Err(errors::kSyntax));
}

TEST(ListFamilyTest, MovesAndMPop) {
  CommandTester t;
  t.Run({"rpush", "s", "1", "2", "3"});
  EXPECT_EQ(t.Run({"lmove", "s", "d", "left", "right"}), Bulk("1"));
  EXPECT_EQ(t.Run({"rpoplpush", "s", "d"}), Bulk("3"));
  EXPECT_EQ(t.Run({"lrange", "d", "0", "-1"}), Bulks({"3", "1"}));
  EXPECT_EQ(t.Run({"lmove", "d", "d", "left", "right"}), Bulk("3"));
  EXPECT_EQ(t.Run({"lrange", "d", "0", "-1"}), Bulks({"1", "3"}));
  EXPECT_EQ(t.Run({"lmove", "s", "d", "right", "left"}), Bulk("2"));
  EXPECT_EQ(t.Run({"exists", "s"}), Int(0));
  EXPECT_EQ(t.Run({"lmove", "s", "d", "right", "left"}), kNil);
  EXPECT_EQ(t.Run({"lmove", "s", "d", "up", "left"}), Err(errors::kSyntax));
  EXPECT_EQ(t.Run({"lmpop", "2", "s", "d", "right", "count", "2"}),
            Arr({Bulk("d"), Bulks({"3", "1"})}));
  EXPECT_EQ(t.Run({"lmpop", "2", "s", "d", "left"}), Arr({Bulk("d"), Bulks({"2"})}));
  EXPECT_EQ(t.Run({"lmpop", "2", "s", "d", "left"}), "*-1\r\n");
  EXPECT_EQ(t.Run({"lmpop", "0", "s", "left"}), Err("ERR numkeys should be greater than 0"));
  EXPECT_EQ(t.Run({"lmpop", "3", "s", "left"}), Err(errors::kSyntax));
  EXPECT_EQ(t.Run({"lmpop", "1", "s", "left", "count", "0"}),
            Err("ERR count should be greater than 0"));
  EXPECT_EQ(t.Run({"lmpop", "1", "s", "left", "count", "1", "count", "1"}), Err(errors::kSyntax));
  t.SetResp3(true);
  EXPECT_EQ(t.Run({"lmpop", "1", "s", "left"}), "_\r\n");
}

TEST(ListFamilyTest, BlockingFormsWithoutAWayToBlockTimeOutAtOnce) {
  // The tester's client cannot be woken (no unblock hook), as the embedded API's: a blocking
  // command acts as its non-blocking form.
  CommandTester t;
  EXPECT_EQ(t.Run({"blpop", "a", "b", "0"}), "*-1\r\n");
  EXPECT_EQ(t.Run({"blmove", "a", "b", "left", "left", "0"}), kNil);
  EXPECT_EQ(t.Run({"blmpop", "0", "1", "a", "left"}), "*-1\r\n");
  t.Run({"rpush", "b", "x", "y"});
  EXPECT_EQ(t.Run({"blpop", "a", "b", "0"}), Bulks({"b", "x"}));
  EXPECT_EQ(t.Run({"brpop", "a", "b", "0"}), Bulks({"b", "y"}));
  t.Run({"rpush", "b", "1", "2", "3"});
  EXPECT_EQ(t.Run({"blmpop", "0", "2", "a", "b", "right", "count", "2"}),
            Arr({Bulk("b"), Bulks({"3", "2"})}));
  EXPECT_EQ(t.Run({"brpoplpush", "b", "c", "0"}), Bulk("1"));
  EXPECT_EQ(t.Run({"blpop", "a", "-1"}), Err("ERR timeout is negative"));
  EXPECT_EQ(t.Run({"blpop", "a", "x"}), Err("ERR timeout is not a float or out of range"));
  EXPECT_EQ(t.Run({"blpop", "a", "1e300"}), Err("ERR timeout is negative"));
  EXPECT_EQ(t.Run({"blpop", "a", "inf"}), Err("ERR timeout is negative"));
  EXPECT_EQ(t.Run({"blmpop", "x", "1", "a", "left"}),
            Err("ERR timeout is not a float or out of range"));
  EXPECT_EQ(t.Run({"blmpop", "0", "1", "a", "up"}), Err(errors::kSyntax));
}

// A tester whose client can block: replies handed to it land in `delivered`.
class BlockingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    t_.client().unblock = [this](std::string reply, uint64_t) { delivered_.push_back(reply); };
  }
  BlockingRegistry& reg() { return t_.server().blocking(); }
  // Runs a command that must block (no reply).
  void Block(std::initializer_list<std::string_view> args) {
    ASSERT_EQ(t_.Run(args), "");
    ASSERT_NE(t_.client().blocked, nullptr);
    waiters_.push_back(t_.client().blocked);
    t_.client().blocked.reset();  // as the connection does once it has parked the client
  }
  CommandTester t_;
  std::vector<std::string> delivered_;
  std::vector<std::shared_ptr<Waiter>> waiters_;
};

TEST_F(BlockingTest, PushServesWaitersInArrivalOrder) {
  Block({"blpop", "q", "0"});
  Block({"brpop", "other", "q", "0"});
  Block({"blmpop", "0", "1", "q", "left", "count", "5"});
  EXPECT_EQ(reg().blocked_clients(), 3u);
  EXPECT_EQ(t_.Run({"rpush", "q", "1", "2"}), Int(2));
  ASSERT_EQ(delivered_.size(), 2u);
  EXPECT_EQ(delivered_[0], Bulks({"q", "1"}));
  EXPECT_EQ(delivered_[1], Bulks({"q", "2"}));
  EXPECT_EQ(reg().blocked_clients(), 1u);
  EXPECT_EQ(t_.Run({"exists", "q"}), Int(0));
  EXPECT_EQ(t_.Run({"rpush", "q", "a", "b", "c"}), Int(3));
  ASSERT_EQ(delivered_.size(), 3u);
  EXPECT_EQ(delivered_[2], Arr({Bulk("q"), Bulks({"a", "b", "c"})}));
  EXPECT_EQ(reg().blocked_clients(), 0u);
  EXPECT_EQ(reg().WaitedKeys(), 0u);
}

TEST_F(BlockingTest, CancelledWaiterLeavesNothingAndPushStays) {
  Block({"blpop", "k1", "k2", "0"});
  EXPECT_EQ(reg().WaitedKeys(), 2u);
  EXPECT_TRUE(reg().Cancel(waiters_[0], /*disconnect=*/true));
  EXPECT_EQ(reg().WaitedKeys(), 0u);
  EXPECT_EQ(reg().blocked_clients(), 0u);
  EXPECT_EQ(t_.Run({"rpush", "k1", "v"}), Int(1));
  EXPECT_TRUE(delivered_.empty());
  EXPECT_EQ(t_.Run({"lrange", "k1", "0", "-1"}), Bulks({"v"}));
  EXPECT_FALSE(reg().Cancel(waiters_[0], false));  // already gone
}

TEST_F(BlockingTest, WrongTypeKeyKeepsTheWaiterBlocked) {
  Block({"blpop", "k", "0"});
  t_.Run({"sadd", "k", "member"});
  EXPECT_TRUE(delivered_.empty());
  EXPECT_EQ(reg().blocked_clients(), 1u);
  t_.Run({"del", "k"});
  t_.Run({"lpush", "k", "v"});
  ASSERT_EQ(delivered_.size(), 1u);
  EXPECT_EQ(delivered_[0], Bulks({"k", "v"}));
}

TEST_F(BlockingTest, BlmoveWaitsThroughASourceOfAnotherType) {
  Block({"blmove", "src", "dst", "left", "left", "0"});
  t_.Run({"zadd", "src", "1", "m"});
  EXPECT_TRUE(delivered_.empty());
  t_.Run({"del", "src"});
  t_.Run({"rpush", "src", "v"});
  ASSERT_EQ(delivered_.size(), 1u);
  EXPECT_EQ(delivered_[0], Bulk("v"));
}

TEST_F(BlockingTest, BlmoveServedAndChainsToDestinationWaiter) {
  Block({"blmove", "src", "dst", "right", "left", "0"});
  Block({"blpop", "dst", "0"});
  t_.Run({"rpush", "src", "a", "b"});
  ASSERT_EQ(delivered_.size(), 2u);
  EXPECT_EQ(delivered_[0], Bulk("b"));
  EXPECT_EQ(delivered_[1], Bulks({"dst", "b"}));
  EXPECT_EQ(t_.Run({"lrange", "src", "0", "-1"}), Bulks({"a"}));
  EXPECT_EQ(t_.Run({"exists", "dst"}), Int(0));
}

TEST_F(BlockingTest, RenameOntoWaitedKeyServesIt) {
  Block({"blpop", "target", "0"});
  t_.Run({"rpush", "tmp", "x"});
  EXPECT_EQ(t_.Run({"rename", "tmp", "target"}), kOK);
  ASSERT_EQ(delivered_.size(), 1u);
  EXPECT_EQ(delivered_[0], Bulks({"target", "x"}));
}

TEST_F(BlockingTest, TransactionPushServesAfterExecAndBlockingInsideExecDoesNotBlock) {
  Block({"blpop", "m", "0"});
  t_.Run({"multi"});
  t_.Run({"rpush", "m", "1"});
  t_.Run({"blpop", "none", "0"});
  EXPECT_EQ(t_.Run({"exec"}), Arr({Int(1), "*-1\r\n"}));
  ASSERT_EQ(delivered_.size(), 1u);
  EXPECT_EQ(delivered_[0], Bulks({"m", "1"}));
  EXPECT_EQ(t_.client().blocked, nullptr);
}

TEST_F(BlockingTest, ServedReplyUsesTheWaitersProtocolAndDatabase) {
  t_.SetResp3(true);
  t_.Run({"select", "2"});
  Block({"blmpop", "0", "1", "k", "left"});
  t_.SetResp3(false);
  t_.Run({"select", "0"});
  t_.Run({"rpush", "k", "db0"});
  EXPECT_TRUE(delivered_.empty());
  t_.Run({"select", "2"});
  t_.Run({"rpush", "k", "db2"});
  ASSERT_EQ(delivered_.size(), 1u);
  EXPECT_EQ(delivered_[0], Arr({Bulk("k"), Bulks({"db2"})}));  // arrays look alike in RESP3
}

TEST_F(BlockingTest, TimeoutDeadlineIsAbsolute) {
  Block({"blpop", "k", "1.5"});
  int64_t d = waiters_[0]->deadline_ms;
  EXPECT_GT(d, 0);
  Block({"blpop", "k", "0"});
  EXPECT_EQ(waiters_[1]->deadline_ms, 0);
  EXPECT_TRUE(reg().Cancel(waiters_[0], false));
  EXPECT_TRUE(reg().Cancel(waiters_[1], false));
}

// --- Persistence through the embedded DB ---

std::unique_ptr<DB> MustOpen(const Options& o) {
  auto db = DB::Open(o);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db.value()) : nullptr;
}

std::string Flat(const Reply& r) {
  if (r.type == Reply::Type::kArray) {
    std::string s = "[";
    for (const Reply& e : r.elements) s += Flat(e) + ",";
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

TEST(ListPersistenceTest, DeltasReplayAfterReopen) {
  storage::testing::TempDir dir;
  Options o;
  o.dir = dir.path();
  std::string l, m;
  {
    auto db = MustOpen(o);
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < 3000; i++) {
      Exec(*db, {i % 2 ? "rpush" : "lpush", "l", std::to_string(i), std::string(i % 50, 'x')});
    }
    Exec(*db, {"lpop", "l", "7"});
    Exec(*db, {"rpop", "l"});
    Exec(*db, {"lset", "l", "100", "set-here"});
    Exec(*db, {"linsert", "l", "before", "set-here", "inserted"});
    Exec(*db, {"lrem", "l", "-3", ""});
    Exec(*db, {"ltrim", "l", "5", "-5"});
    Exec(*db, {"lmove", "l", "m", "left", "right"});
    Exec(*db, {"lmove", "l", "l", "left", "right"});
    Exec(*db, {"lmpop", "1", "l", "right", "count", "3"});
    Exec(*db, {"rpush", "gone", "a"});
    Exec(*db, {"lpop", "gone"});
    l = Exec(*db, {"lrange", "l", "0", "-1"});
    m = Exec(*db, {"lrange", "m", "0", "-1"});
  }
  auto db = MustOpen(o);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Exec(*db, {"lrange", "l", "0", "-1"}), l);
  EXPECT_EQ(Exec(*db, {"lrange", "m", "0", "-1"}), m);
  EXPECT_EQ(Exec(*db, {"exists", "gone"}), "0");
}

TEST(ListPersistenceTest, ListsReadBackFromDiskAndChangeAfterReadBack) {
  storage::testing::TempDir dir;
  Options o;
  o.dir = dir.path();
  o.maxmemory = 64 << 10;
  std::vector<std::string> want(6);
  {
    auto db = MustOpen(o);
    ASSERT_NE(db, nullptr);
    for (int k = 0; k < 6; k++) {
      std::string key = "l" + std::to_string(k);
      for (int i = 0; i < 100; i++) {
        std::vector<std::string> args = {"rpush", key};
        for (int j = 0; j < 30; j++) args.push_back("e" + std::to_string(i * 30 + j));
        Exec(*db, args);
      }
    }
  }
  {
    auto db = MustOpen(o);
    ASSERT_NE(db, nullptr);
    for (int k = 0; k < 6; k++) {
      std::string key = "l" + std::to_string(k);
      EXPECT_EQ(Exec(*db, {"llen", key}), "3000");
      Exec(*db, {"lset", key, "1500", "middle"});
      Exec(*db, {"lpush", key, "head"});
      Exec(*db, {"rpop", key, "2"});
      want[k] = Exec(*db, {"lrange", key, "0", "-1"});
    }
    auto info = db->Execute({"info", "cache"});
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->str.find("cache_misses:0\r"), std::string::npos) << "nothing was read back";
  }
  auto db = MustOpen(o);
  ASSERT_NE(db, nullptr);
  for (int k = 0; k < 6; k++) {
    std::string key = "l" + std::to_string(k);
    EXPECT_EQ(Exec(*db, {"lrange", key, "0", "-1"}), want[k]) << key;
    EXPECT_EQ(Exec(*db, {"lindex", key, "1501"}), "middle");
    EXPECT_EQ(Exec(*db, {"llen", key}), "2999");
  }
}

}  // namespace
}  // namespace fdb
