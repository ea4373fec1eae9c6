// The hash Ops called directly on a Keyspace: returned statuses and values, and the effects each
// appends to its transaction (a delta that replays to the value the Op left, a delete when the
// hash empties, nothing when nothing changed).
#include "commands/hash_ops.h"

#include <gtest/gtest.h>

#include "commands/ops_test_util.h"
#include "engine/collections.h"

namespace fdb {
namespace {

std::vector<std::string_view> Args(std::initializer_list<std::string_view> a) { return a; }

TEST(HashOpsTest, HSetCreatesAndLogsOneDeltaThatReplays) {
  OpsTest t;
  auto fv = Args({"a", "1", "b", "2"});
  OpResult<int64_t> r = t.Run({"h"}, [&](const OpArgs& op) { return OpHSet(op, "h", fv); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 2);
  EXPECT_EQ(t.rec.seen, (std::vector<std::string>{"delta 0 h"}));
  std::string after = t.Image("h");
  EXPECT_EQ(OpsTest::Replay(ValueType::kHash, "", t.rec.changes[0]), after);

  // Overwriting one field and adding one: one new field, one delta of both pairs.
  t.rec.Clear();
  auto fv2 = Args({"a", "9", "c", "3"});
  r = t.Run({"h"}, [&](const OpArgs& op) { return OpHSet(op, "h", fv2); });
  EXPECT_EQ(*r, 1);
  ASSERT_EQ(t.rec.changes.size(), 1u);
  std::string expected;
  HashObject::BeginDelta(&expected, HashObject::kDeltaSet, 2);
  for (std::string_view s : fv2) coding::PutBytes(&expected, s);
  EXPECT_EQ(t.rec.changes[0], expected);
  EXPECT_EQ(OpsTest::Replay(ValueType::kHash, after, t.rec.changes[0]), t.Image("h"));
}

TEST(HashOpsTest, WrongTypeChangesNothing) {
  OpsTest t;
  t.Run({"s"}, [&](const OpArgs& op) {
    return op.ks.Put(op.txn, op.db, KeyRef("s"), Entry::NewString("s", "v"));
  });
  t.rec.Clear();
  auto fv = Args({"a", "1"});
  auto name = Args({"a"});
  EXPECT_EQ(t.Run({"s"}, [&](const OpArgs& op) { return OpHSet(op, "s", fv); }).status(),
            OpStatus::kWrongType);
  EXPECT_EQ(t.Run({"s"}, [&](const OpArgs& op) { return OpHDel(op, "s", name); }).status(),
            OpStatus::kWrongType);
  EXPECT_EQ(t.Run({"s"}, [&](const OpArgs& op) { return OpHIncrBy(op, "s", "a", 1); }).status(),
            OpStatus::kWrongType);
  EXPECT_EQ(t.Run({"s"}, [&](const OpArgs& op) { return OpHGet(op, "s", "a"); }).status(),
            OpStatus::kWrongType);
  EXPECT_EQ(t.Run({"s"}, [&](const OpArgs& op) { return OpHLen(op, "s"); }).status(),
            OpStatus::kWrongType);
  EXPECT_TRUE(t.rec.seen.empty());
  EXPECT_STREQ(OpStatusText(OpStatus::kWrongType),
               "WRONGTYPE Operation against a key holding the wrong kind of value");
}

TEST(HashOpsTest, HDelLogsOnlyWhenSomethingWentAndDeletesTheEmptiedKey) {
  OpsTest t;
  auto fv = Args({"a", "1", "b", "2"});
  t.Run({"h"}, [&](const OpArgs& op) { return OpHSet(op, "h", fv); });
  t.rec.Clear();
  auto missing = Args({"x", "y"});
  EXPECT_EQ(*t.Run({"h"}, [&](const OpArgs& op) { return OpHDel(op, "h", missing); }), 0);
  EXPECT_EQ(*t.Run({"nokey"}, [&](const OpArgs& op) { return OpHDel(op, "nokey", missing); }), 0);
  EXPECT_TRUE(t.rec.seen.empty());
  auto a = Args({"a", "x"});
  EXPECT_EQ(*t.Run({"h"}, [&](const OpArgs& op) { return OpHDel(op, "h", a); }), 1);
  EXPECT_EQ(t.rec.seen, (std::vector<std::string>{"delta 0 h"}));
  auto b = Args({"b"});
  EXPECT_EQ(*t.Run({"h"}, [&](const OpArgs& op) { return OpHDel(op, "h", b); }), 1);
  EXPECT_EQ(t.rec.seen, (std::vector<std::string>{"delta 0 h", "del 0 h"}));
  EXPECT_EQ(t.Image("h"), "");
}

TEST(HashOpsTest, HSetNxAndIncrementsLogTheResultingValue) {
  OpsTest t;
  EXPECT_TRUE(*t.Run({"h"}, [&](const OpArgs& op) { return OpHSetNx(op, "h", "n", "10"); }));
  EXPECT_FALSE(*t.Run({"h"}, [&](const OpArgs& op) { return OpHSetNx(op, "h", "n", "11"); }));
  EXPECT_EQ(t.rec.seen.size(), 1u);  // the refused HSETNX logged nothing
  t.rec.Clear();
  EXPECT_EQ(*t.Run({"h"}, [&](const OpArgs& op) { return OpHIncrBy(op, "h", "n", 5); }), 15);
  std::string expected;
  HashObject::BeginDelta(&expected, HashObject::kDeltaSet, 1);
  coding::PutBytes(&expected, "n");
  coding::PutBytes(&expected, "15");  // the result, not the increment
  ASSERT_EQ(t.rec.changes.size(), 1u);
  EXPECT_EQ(t.rec.changes[0], expected);

  OpResult<std::string> f =
      t.Run({"h"}, [&](const OpArgs& op) { return OpHIncrByFloat(op, "h", "n", 0.5L); });
  EXPECT_EQ(*f, "15.5");
  EXPECT_EQ(*t.Run({"h"}, [&](const OpArgs& op) { return OpHGet(op, "h", "n"); }), "15.5");
  EXPECT_EQ(t.Run({"h"}, [&](const OpArgs& op) { return OpHIncrBy(op, "h", "n", 1); }).status(),
            OpStatus::kHashNotInteger);
  EXPECT_STREQ(OpStatusText(OpStatus::kHashNotInteger), "ERR hash value is not an integer");

  t.Run({"h"}, [&](const OpArgs& op) { return OpHSetNx(op, "h", "s", "abc"); });
  EXPECT_EQ(
      t.Run({"h"}, [&](const OpArgs& op) { return OpHIncrByFloat(op, "h", "s", 1.0L); }).status(),
      OpStatus::kHashNotFloat);
  EXPECT_STREQ(OpStatusText(OpStatus::kHashNotFloat), "ERR hash value is not a float");

  t.Run({"h"}, [&](const OpArgs& op) { return OpHSetNx(op, "h", "big", "9223372036854775807"); });
  t.rec.Clear();
  EXPECT_EQ(t.Run({"h"}, [&](const OpArgs& op) { return OpHIncrBy(op, "h", "big", 1); }).status(),
            OpStatus::kOverflow);
  EXPECT_TRUE(t.rec.seen.empty());  // a refused increment logs nothing
}

TEST(HashOpsTest, ReadsOfAMissingKey) {
  OpsTest t;
  OpResult<std::optional<std::string_view>> v =
      t.Run({"h"}, [&](const OpArgs& op) { return OpHGet(op, "h", "f"); });
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->has_value());
  EXPECT_EQ(*t.Run({"h"}, [&](const OpArgs& op) { return OpHLen(op, "h"); }), 0);
  EXPECT_EQ(*t.Run({"h"}, [&](const OpArgs& op) { return OpFindHash(op, "h"); }), nullptr);
  EXPECT_TRUE(t.rec.seen.empty());
}

}  // namespace
}  // namespace fdb
