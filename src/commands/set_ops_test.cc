// The set Ops called directly on a Keyspace: returned statuses and values, and the effects each
// appends to its transaction (a delta that replays to the value the Op left, SPOP's delta naming
// the members drawn, a delete when the set empties, a put for the *STORE commands).
#include "commands/set_ops.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "commands/ops_test_util.h"
#include "engine/collections.h"

namespace fdb {
namespace {

std::vector<std::string_view> Args(std::initializer_list<std::string_view> a) { return a; }

TEST(SetOpsTest, SAddLogsADeltaOnlyWhenAMemberIsNew) {
  OpsTest t;
  auto m = Args({"a", "b", "a"});
  EXPECT_EQ(*t.Run({"s"}, [&](const OpArgs& op) { return OpSAdd(op, "s", m); }), 2);
  EXPECT_EQ(t.rec.seen, (std::vector<std::string>{"delta 0 s"}));
  EXPECT_EQ(OpsTest::Replay(ValueType::kSet, "", t.rec.changes[0]), t.Image("s"));
  t.rec.Clear();
  auto again = Args({"b"});
  EXPECT_EQ(*t.Run({"s"}, [&](const OpArgs& op) { return OpSAdd(op, "s", again); }), 0);
  EXPECT_TRUE(t.rec.seen.empty());
  EXPECT_EQ(*t.Run({"s"}, [&](const OpArgs& op) { return OpSCard(op, "s"); }), 2);
}

TEST(SetOpsTest, WrongTypeChangesNothing) {
  OpsTest t;
  t.Run({"str"}, [&](const OpArgs& op) {
    return op.ks.Put(op.txn, op.db, KeyRef("str"), Entry::NewString("str", "v"));
  });
  auto m = Args({"a"});
  t.Run({"s"}, [&](const OpArgs& op) { return OpSAdd(op, "s", m); });
  t.rec.Clear();
  EXPECT_EQ(t.Run({"str"}, [&](const OpArgs& op) { return OpSAdd(op, "str", m); }).status(),
            OpStatus::kWrongType);
  EXPECT_EQ(t.Run({"str"}, [&](const OpArgs& op) { return OpSPop(op, "str"); }).status(),
            OpStatus::kWrongType);
  // SMOVE: a destination of another type refuses the move before anything changes.
  EXPECT_EQ(
      t.Run({"s", "str"}, [&](const OpArgs& op) { return OpSMove(op, "s", "str", "a"); }).status(),
      OpStatus::kWrongType);
  auto keys = Args({"s", "str"});
  EXPECT_EQ(
      t.Run({"s", "str"}, [&](const OpArgs& op) { return OpSInterCard(op, keys, 0); }).status(),
      OpStatus::kWrongType);
  EXPECT_TRUE(t.rec.seen.empty());
}

TEST(SetOpsTest, SPopLogsTheMembersDrawnAndDeletesTheEmptiedKey) {
  OpsTest t;
  auto m = Args({"a", "b", "c", "d"});
  t.Run({"s"}, [&](const OpArgs& op) { return OpSAdd(op, "s", m); });
  std::string before = t.Image("s");
  t.rec.Clear();
  OpResult<std::vector<std::string>> two =
      t.Run({"s"}, [&](const OpArgs& op) { return OpSPopCount(op, "s", 2); });
  ASSERT_EQ(two->size(), 2u);
  ASSERT_EQ(t.rec.changes.size(), 1u);
  std::string expected;
  SetObject::BeginDelta(&expected, SetObject::kDeltaRemove, 2);
  for (const std::string& x : *two) coding::PutBytes(&expected, x);
  EXPECT_EQ(t.rec.changes[0], expected);
  EXPECT_EQ(OpsTest::Replay(ValueType::kSet, before, t.rec.changes[0]), t.Image("s"));

  OpResult<std::optional<std::string>> one =
      t.Run({"s"}, [&](const OpArgs& op) { return OpSPop(op, "s"); });
  ASSERT_TRUE(one->has_value());
  // More than is left: the rest, and the key deleted (a delete, not a delta).
  t.rec.Clear();
  OpResult<std::vector<std::string>> rest =
      t.Run({"s"}, [&](const OpArgs& op) { return OpSPopCount(op, "s", 10); });
  EXPECT_EQ(rest->size(), 1u);
  EXPECT_EQ(t.rec.seen, (std::vector<std::string>{"del 0 s"}));
  EXPECT_FALSE(t.Run({"s"}, [&](const OpArgs& op) { return OpSPop(op, "s"); })->has_value());
}

TEST(SetOpsTest, SMoveLogsBothSides) {
  OpsTest t;
  auto m = Args({"a"});
  t.Run({"src"}, [&](const OpArgs& op) { return OpSAdd(op, "src", m); });
  t.rec.Clear();
  EXPECT_FALSE(
      *t.Run({"src", "dst"}, [&](const OpArgs& op) { return OpSMove(op, "src", "dst", "x"); }));
  EXPECT_TRUE(t.rec.seen.empty());
  EXPECT_TRUE(
      *t.Run({"src", "dst"}, [&](const OpArgs& op) { return OpSMove(op, "src", "dst", "a"); }));
  // The source emptied: deleted; the destination created by its delta.
  EXPECT_EQ(t.rec.seen, (std::vector<std::string>{"del 0 src", "delta 0 dst"}));
  EXPECT_EQ(OpsTest::Replay(ValueType::kSet, "", t.rec.changes[0]), t.Image("dst"));
}

TEST(SetOpsTest, StoreCommandsPutTheResultOrDeleteTheDestination) {
  OpsTest t;
  auto a = Args({"1", "2", "3"});
  auto b = Args({"2", "3", "4"});
  t.Run({"a"}, [&](const OpArgs& op) { return OpSAdd(op, "a", a); });
  t.Run({"b"}, [&](const OpArgs& op) { return OpSAdd(op, "b", b); });
  t.rec.Clear();
  auto keys = Args({"a", "b"});
  OpResult<SetStoreResult> r = t.Run(
      {"d", "a", "b"}, [&](const OpArgs& op) { return OpSetStore(op, SetOp::kInter, "d", keys); });
  EXPECT_EQ(r->size, 2);
  EXPECT_TRUE(r->changed);
  EXPECT_EQ(t.rec.seen, (std::vector<std::string>{"put 0 d"}));
  EXPECT_EQ(*t.Run({"a", "b"}, [&](const OpArgs& op) { return OpSInterCard(op, keys, 1); }), 1);
  auto with_missing = Args({"a", "nokey"});
  t.rec.Clear();
  r = t.Run({"d", "a", "nokey"},
            [&](const OpArgs& op) { return OpSetStore(op, SetOp::kInter, "d", with_missing); });
  EXPECT_EQ(r->size, 0);
  EXPECT_EQ(t.rec.seen, (std::vector<std::string>{"del 0 d"}));
  OpResult<std::unique_ptr<SetObject>> diff =
      t.Run({"a", "b"}, [&](const OpArgs& op) { return OpSetCompute(op, SetOp::kDiff, keys); });
  EXPECT_EQ((*diff)->Size(), 1u);
  EXPECT_TRUE((*diff)->Contains("1"));
}

}  // namespace
}  // namespace fdb
