// The sorted-set Ops called directly on a Keyspace: returned statuses and values, and the effects
// each appends to its transaction (one delta of resulting scores or removed members that replays
// to the value the Op left, a delete when the zset empties, nothing when nothing changed).
#include "commands/zset_ops.h"

#include <gtest/gtest.h>

#include "commands/ops_test_util.h"
#include "commands/set_ops.h"
#include "engine/collections.h"

namespace fdb {
namespace {

std::vector<std::string_view> Args(std::initializer_list<std::string_view> a) { return a; }

OpResult<ZAddResult> ZAdd(OpsTest& t, std::string_view key, std::vector<double> scores,
                          std::vector<std::string_view> members, ZAddOptions opts = {}) {
  return t.Run({key}, [&](const OpArgs& op) { return OpZAdd(op, key, opts, scores, members); });
}

TEST(ZSetOpsTest, ZAddLogsResultingScoresOfWhatChangedOnly) {
  OpsTest t;
  OpResult<ZAddResult> r = ZAdd(t, "z", {1, 2}, {"a", "b"});
  EXPECT_EQ(r->added, 2);
  EXPECT_EQ(t.rec.seen, (std::vector<std::string>{"delta 0 z"}));
  EXPECT_EQ(OpsTest::Replay(ValueType::kZSet, "", t.rec.changes[0]), t.Image("z"));
  std::string before = t.Image("z");

  // b unchanged, a updated, c added: the delta names a and c only, with their scores.
  t.rec.Clear();
  r = ZAdd(t, "z", {5, 2, 3}, {"a", "b", "c"});
  EXPECT_EQ(r->added, 1);
  EXPECT_EQ(r->updated, 1);
  std::string expected;
  ZSetObject::BeginSetDelta(&expected, 2);
  ZSetObject::AddSetDelta(&expected, "a", 5);
  ZSetObject::AddSetDelta(&expected, "c", 3);
  ASSERT_EQ(t.rec.changes.size(), 1u);
  EXPECT_EQ(t.rec.changes[0], expected);
  EXPECT_EQ(OpsTest::Replay(ValueType::kZSet, before, t.rec.changes[0]), t.Image("z"));

  // Nothing changed: nothing logged.
  t.rec.Clear();
  r = ZAdd(t, "z", {5}, {"a"});
  EXPECT_EQ(r->added + r->updated, 0);
  EXPECT_TRUE(t.rec.seen.empty());
}

TEST(ZSetOpsTest, ConditionsAndIncrements) {
  OpsTest t;
  ZAddOptions xx;
  xx.xx = true;
  // XX on a missing key creates nothing.
  OpResult<ZAddResult> r = ZAdd(t, "z", {1}, {"a"}, xx);
  EXPECT_EQ(r->processed, 0);
  EXPECT_TRUE(t.rec.seen.empty());
  EXPECT_EQ(t.Image("z"), "");

  ZAdd(t, "z", {10}, {"a"});
  ZAddOptions incr;
  incr.incr = true;
  t.rec.Clear();
  r = ZAdd(t, "z", {2.5}, {"a"}, incr);
  EXPECT_EQ(r->score, 12.5);
  std::string expected;
  ZSetObject::BeginSetDelta(&expected, 1);
  ZSetObject::AddSetDelta(&expected, "a", 12.5);  // the new score, not the increment
  EXPECT_EQ(t.rec.changes[0], expected);

  ZAddOptions gt;
  gt.gt = true;
  t.rec.Clear();
  r = ZAdd(t, "z", {1}, {"a"}, gt);
  EXPECT_EQ(r->processed, 0);
  EXPECT_TRUE(t.rec.seen.empty());

  ZAdd(t, "z", {INFINITY}, {"inf"});
  t.rec.Clear();
  EXPECT_EQ(ZAdd(t, "z", {-INFINITY}, {"inf"}, incr).status(), OpStatus::kNanScore);
  EXPECT_STREQ(OpStatusText(OpStatus::kNanScore), "ERR resulting score is not a number (NaN)");
  EXPECT_TRUE(t.rec.seen.empty());
}

TEST(ZSetOpsTest, WrongTypeChangesNothing) {
  OpsTest t;
  t.Run({"s"}, [&](const OpArgs& op) {
    return op.ks.Put(op.txn, op.db, KeyRef("s"), Entry::NewString("s", "v"));
  });
  t.rec.Clear();
  EXPECT_EQ(ZAdd(t, "s", {1}, {"a"}).status(), OpStatus::kWrongType);
  auto m = Args({"a"});
  EXPECT_EQ(t.Run({"s"}, [&](const OpArgs& op) { return OpZRem(op, "s", m); }).status(),
            OpStatus::kWrongType);
  // A pop meets the key of another type before the zset after it: nothing popped.
  ZAdd(t, "z", {1}, {"a"});
  t.rec.Clear();
  auto keys = Args({"nokey", "s", "z"});
  EXPECT_EQ(t.Run({"nokey", "s", "z"}, [&](const OpArgs& op) { return OpZPop(op, keys, false, 1); })
                .status(),
            OpStatus::kWrongType);
  EXPECT_TRUE(t.rec.seen.empty());
}

TEST(ZSetOpsTest, PopsAndRangeRemovalsLogTheMembersRemoved) {
  OpsTest t;
  ZAdd(t, "z", {1, 2, 3, 4}, {"a", "b", "c", "d"});
  std::string before = t.Image("z");
  t.rec.Clear();
  auto keys = Args({"nokey", "z"});
  OpResult<std::optional<ZPopResult>> p =
      t.Run({"nokey", "z"}, [&](const OpArgs& op) { return OpZPop(op, keys, true, 2); });
  ASSERT_TRUE((*p).has_value());
  EXPECT_EQ((*p)->key_index, 1u);
  ASSERT_EQ((*p)->members.size(), 2u);
  EXPECT_EQ((*p)->members[0].first, "d");
  EXPECT_EQ((*p)->members[1].first, "c");
  std::string expected;
  ZSetObject::BeginRemoveDelta(&expected, 2);
  ZSetObject::AddRemoveDelta(&expected, "d");
  ZSetObject::AddRemoveDelta(&expected, "c");
  ASSERT_EQ(t.rec.changes.size(), 1u);
  EXPECT_EQ(t.rec.changes[0], expected);
  EXPECT_EQ(OpsTest::Replay(ValueType::kZSet, before, t.rec.changes[0]), t.Image("z"));

  ZRangeSpec byscore;
  byscore.by = ZRangeBy::kScore;
  byscore.dir = ZDirection::kForward;
  byscore.score.min = 1;
  byscore.score.max = 1;
  t.rec.Clear();
  EXPECT_EQ(*t.Run({"z"}, [&](const OpArgs& op) { return OpZRemRange(op, "z", byscore); }), 1);
  EXPECT_EQ(t.rec.seen, (std::vector<std::string>{"delta 0 z"}));
  // The last member removed: the key is deleted.
  t.rec.Clear();
  auto b = Args({"b", "nope"});
  EXPECT_EQ(*t.Run({"z"}, [&](const OpArgs& op) { return OpZRem(op, "z", b); }), 1);
  EXPECT_EQ(t.rec.seen, (std::vector<std::string>{"del 0 z"}));
  auto z = Args({"z"});
  EXPECT_FALSE(
      t.Run({"z"}, [&](const OpArgs& op) { return OpZPop(op, z, false, 1); })->has_value());
}

TEST(ZSetOpsTest, RangeStoreAndSetOperations) {
  OpsTest t;
  ZAdd(t, "a", {1, 2, 3}, {"x", "y", "z"});
  auto y = Args({"y"});
  t.Run({"s"}, [&](const OpArgs& op) { return OpSAdd(op, "s", y); });
  ZRangeSpec top2;
  top2.by = ZRangeBy::kRank;
  top2.dir = ZDirection::kReverse;
  top2.start = 0;
  top2.end = 1;
  t.rec.Clear();
  OpResult<ZStoreResult> st =
      t.Run({"d", "a"}, [&](const OpArgs& op) { return OpZRangeStore(op, "d", "a", top2); });
  EXPECT_EQ(st->size, 2);
  EXPECT_EQ(t.rec.seen, (std::vector<std::string>{"put 0 d"}));

  auto keys = Args({"a", "s"});
  OpResult<std::vector<ZSource>> src =
      t.Run({"a", "s"}, [&](const OpArgs& op) { return OpZLoadSources(op, keys); });
  ASSERT_TRUE(src.ok());
  std::unique_ptr<ZSetObject> inter = ZComputeSetOp(ZSetOpKind::kInter, ZAggregate::kSum, *src);
  EXPECT_EQ(inter->Size(), 1u);
  EXPECT_EQ(*inter->Score("y"), 3.0);  // 2 + a plain set's 1
  EXPECT_EQ(ZInterCard(*src, 0), 1);

  t.rec.Clear();
  st = t.Run({"d"},
             [&](const OpArgs& op) { return OpZStore(op, "d", std::make_unique<ZSetObject>()); });
  EXPECT_EQ(st->size, 0);
  EXPECT_TRUE(st->changed);
  EXPECT_EQ(t.rec.seen, (std::vector<std::string>{"del 0 d"}));
}

}  // namespace
}  // namespace fdb
