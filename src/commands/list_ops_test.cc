// The list Ops called directly on a Keyspace: returned statuses and values, and the effects each
// appends to its transaction (deltas that replay to the value the Op left, a pop logged as a
// count from one end, a delete when the list empties, nothing when nothing changed).
#include "commands/list_ops.h"

#include <gtest/gtest.h>

#include "commands/ops_test_util.h"
#include "engine/collections.h"

namespace fdb {
namespace {

std::vector<std::string_view> Args(std::initializer_list<std::string_view> a) { return a; }

// The list's elements, head first.
std::vector<std::string> Elements(OpsTest& t, std::string_view key) {
  return t.Run({key}, [&](const OpArgs& op) {
    std::vector<std::string> out;
    OpResult<ListRange> r = OpLRange(op, key, 0, -1);
    EXPECT_TRUE(r.ok());
    if (r->n > 0) {
      r->list->ForRange(r->start, r->n, false, [&](const ListObject::Elem& el) {
        out.push_back(el.ToString());
        return true;
      });
    }
    return out;
  });
}

TEST(ListOpsTest, PushAndPopLogWhatTheyDid) {
  OpsTest t;
  auto v = Args({"a", "b", "c"});
  EXPECT_EQ(*t.Run({"l"}, [&](const OpArgs& op) { return OpPush(op, "l", true, v); }), 3);
  EXPECT_EQ(Elements(t, "l"), (std::vector<std::string>{"c", "b", "a"}));
  ASSERT_EQ(t.rec.changes.size(), 1u);
  std::string expected;
  ListObject::DeltaPush(&expected, true, v);
  EXPECT_EQ(t.rec.changes[0], expected);
  std::string before = t.Image("l");

  t.rec.Clear();
  OpResult<std::optional<std::string>> p =
      t.Run({"l"}, [&](const OpArgs& op) { return OpPop(op, "l", false); });
  EXPECT_EQ(**p, "a");
  expected.clear();
  ListObject::DeltaPop(&expected, false, 1);
  ASSERT_EQ(t.rec.changes.size(), 1u);
  EXPECT_EQ(t.rec.changes[0], expected);
  EXPECT_EQ(OpsTest::Replay(ValueType::kList, before, t.rec.changes[0]), t.Image("l"));

  // Popping more than is left: the rest, and the key deleted.
  t.rec.Clear();
  OpResult<std::optional<std::vector<std::string>>> rest =
      t.Run({"l"}, [&](const OpArgs& op) { return OpPopCount(op, "l", true, 10); });
  EXPECT_EQ(**rest, (std::vector<std::string>{"c", "b"}));
  EXPECT_EQ(t.rec.seen, (std::vector<std::string>{"del 0 l"}));
  EXPECT_FALSE(t.Run({"l"}, [&](const OpArgs& op) { return OpPop(op, "l", true); })->has_value());
  // PUSHX on a missing key creates nothing and logs nothing.
  t.rec.Clear();
  EXPECT_EQ(*t.Run({"l"}, [&](const OpArgs& op) { return OpPush(op, "l", true, v, true); }), 0);
  EXPECT_TRUE(t.rec.seen.empty());
  EXPECT_EQ(*t.Run({"l"}, [&](const OpArgs& op) { return OpLLen(op, "l"); }), 0);
}

TEST(ListOpsTest, WrongTypeChangesNothing) {
  OpsTest t;
  t.Run({"s"}, [&](const OpArgs& op) {
    return op.ks.Put(op.txn, op.db, KeyRef("s"), Entry::NewString("s", "v"));
  });
  auto v = Args({"a"});
  t.Run({"l"}, [&](const OpArgs& op) { return OpPush(op, "l", true, v); });
  t.rec.Clear();
  EXPECT_EQ(t.Run({"s"}, [&](const OpArgs& op) { return OpPush(op, "s", true, v); }).status(),
            OpStatus::kWrongType);
  EXPECT_EQ(t.Run({"s"}, [&](const OpArgs& op) { return OpPopCount(op, "s", true, 1); }).status(),
            OpStatus::kWrongType);
  EXPECT_EQ(t.Run({"s"}, [&](const OpArgs& op) { return OpLSet(op, "s", 0, "x"); }),
            OpStatus::kWrongType);
  // LMOVE to a destination of another type: the source keeps its element.
  EXPECT_EQ(t.Run({"l", "s"}, [&](const OpArgs& op) { return OpLMove(op, "l", "s", true, true); })
                .status(),
            OpStatus::kWrongType);
  EXPECT_TRUE(t.rec.seen.empty());
  EXPECT_EQ(Elements(t, "l"), (std::vector<std::string>{"a"}));
}

TEST(ListOpsTest, SetInsertRemTrimLogResolvedPositions) {
  OpsTest t;
  auto v = Args({"a", "b", "c", "b", "d"});
  t.Run({"l"}, [&](const OpArgs& op) { return OpPush(op, "l", false, v); });
  EXPECT_EQ(t.Run({"nokey"}, [&](const OpArgs& op) { return OpLSet(op, "nokey", 0, "x"); }),
            OpStatus::kKeyNotFound);
  EXPECT_EQ(t.Run({"l"}, [&](const OpArgs& op) { return OpLSet(op, "l", 5, "x"); }),
            OpStatus::kIndexOutOfRange);
  EXPECT_STREQ(OpStatusText(OpStatus::kIndexOutOfRange), "ERR index out of range");
  t.rec.Clear();
  std::string before = t.Image("l");
  EXPECT_EQ(t.Run({"l"}, [&](const OpArgs& op) { return OpLSet(op, "l", -1, "D"); }),
            OpStatus::kOk);
  std::string expected;
  ListObject::DeltaSet(&expected, 4, "D");  // -1 resolved to 4 before it is logged
  EXPECT_EQ(t.rec.changes.back(), expected);
  EXPECT_EQ(OpsTest::Replay(ValueType::kList, before, t.rec.changes.back()), t.Image("l"));

  EXPECT_EQ(*t.Run({"l"}, [&](const OpArgs& op) { return OpLInsert(op, "l", true, "c", "C"); }), 6);
  expected.clear();
  ListObject::DeltaInsert(&expected, 3, "C");
  EXPECT_EQ(t.rec.changes.back(), expected);
  t.rec.Clear();
  EXPECT_EQ(*t.Run({"l"}, [&](const OpArgs& op) { return OpLInsert(op, "l", true, "zz", "C"); }),
            -1);
  EXPECT_EQ(*t.Run({"l"}, [&](const OpArgs& op) { return OpLRem(op, "l", 0, "zz"); }), 0);
  EXPECT_TRUE(t.rec.seen.empty());  // nothing found, nothing logged
  EXPECT_EQ(*t.Run({"l"}, [&](const OpArgs& op) { return OpLRem(op, "l", 0, "b"); }), 2);
  EXPECT_EQ(Elements(t, "l"), (std::vector<std::string>{"a", "c", "C", "D"}));

  t.rec.Clear();
  before = t.Image("l");
  EXPECT_EQ(*t.Run({"l"}, [&](const OpArgs& op) { return OpLTrim(op, "l", 1, -2); }), 2);
  expected.clear();
  ListObject::DeltaTrim(&expected, 1, 2);
  ASSERT_EQ(t.rec.changes.size(), 1u);
  EXPECT_EQ(t.rec.changes[0], expected);
  EXPECT_EQ(OpsTest::Replay(ValueType::kList, before, t.rec.changes[0]), t.Image("l"));
  // Everything trimmed away: the key is deleted.
  t.rec.Clear();
  EXPECT_EQ(*t.Run({"l"}, [&](const OpArgs& op) { return OpLTrim(op, "l", 5, 10); }), 2);
  EXPECT_EQ(t.rec.seen, (std::vector<std::string>{"del 0 l"}));
}

TEST(ListOpsTest, LMoveLogsThePopAndThePush) {
  OpsTest t;
  auto v = Args({"a", "b"});
  t.Run({"src"}, [&](const OpArgs& op) { return OpPush(op, "src", false, v); });
  t.rec.Clear();
  OpResult<std::optional<std::string>> m = t.Run(
      {"src", "dst"}, [&](const OpArgs& op) { return OpLMove(op, "src", "dst", true, false); });
  EXPECT_EQ(**m, "a");
  EXPECT_EQ(t.rec.seen, (std::vector<std::string>{"delta 0 src", "delta 0 dst"}));
  // A rotation of one list: a pop and a push of the same key.
  t.rec.Clear();
  m = t.Run({"src"}, [&](const OpArgs& op) { return OpLMove(op, "src", "src", true, false); });
  EXPECT_EQ(**m, "b");
  EXPECT_EQ(t.rec.seen, (std::vector<std::string>{"delta 0 src", "delta 0 src"}));
  // The last element moved: the source is deleted.
  t.rec.Clear();
  t.Run({"src", "dst"}, [&](const OpArgs& op) { return OpLMove(op, "src", "dst", true, true); });
  EXPECT_EQ(t.rec.seen, (std::vector<std::string>{"del 0 src", "delta 0 dst"}));
  EXPECT_EQ(Elements(t, "dst"), (std::vector<std::string>{"b", "a"}));
  m = t.Run({"src", "dst"},
            [&](const OpArgs& op) { return OpLMove(op, "src", "dst", true, true); });
  EXPECT_FALSE(m->has_value());
}

TEST(ListOpsTest, ReadsIndexAndPos) {
  OpsTest t;
  auto v = Args({"a", "b", "a", "c", "a"});
  t.Run({"l"}, [&](const OpArgs& op) { return OpPush(op, "l", false, v); });
  EXPECT_EQ(**t.Run({"l"}, [&](const OpArgs& op) { return OpLIndex(op, "l", -2); }), "c");
  EXPECT_FALSE(t.Run({"l"}, [&](const OpArgs& op) { return OpLIndex(op, "l", 9); })->has_value());
  auto pos = [&](int64_t rank, int64_t count, int64_t maxlen) {
    return **t.Run({"l"},
                   [&](const OpArgs& op) { return OpLPos(op, "l", "a", rank, count, maxlen); });
  };
  EXPECT_EQ(pos(1, -1, 0), (std::vector<int64_t>{0}));
  EXPECT_EQ(pos(1, 0, 0), (std::vector<int64_t>{0, 2, 4}));
  EXPECT_EQ(pos(-1, 2, 0), (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(pos(2, 0, 3), (std::vector<int64_t>{2}));
  EXPECT_FALSE(
      t.Run({"x"}, [&](const OpArgs& op) { return OpLPos(op, "x", "a", 1, 0, 0); })->has_value());
}

}  // namespace
}  // namespace fdb
