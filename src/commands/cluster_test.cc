#include "commands/cluster.h"

#include <gtest/gtest.h>

#include <string>

#include "base/slot.h"
#include "commands/test_util.h"

namespace fdb {
namespace {

const std::string kA(40, 'a');
const std::string kB(40, 'b');

// This node is A (slots 0-8191); B at 127.0.0.1:7002 has 8192-16383.
class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(t_.server().config().Set("cluster-enabled", "yes", false).ok());
    t_.server().ApplyConfig();
    ASSERT_EQ(t_.Run({"clusterx", "setnodeid", kA}), kOK);
    ASSERT_EQ(t_.Run({"clusterx", "setnodes", Nodes(), "1"}), kOK);
  }
  static std::string Nodes() {
    return kA + " 127.0.0.1 7001 master - 0-8191\n" + kB + " 127.0.0.1 7002 master - 8192-16383";
  }
  // A key of a slot of A's (`mine`) or B's, other than `not_slot`'s.
  static std::string KeyOf(bool mine, int not_slot = -1) {
    for (int i = 0;; i++) {
      std::string k = "k" + std::to_string(i);
      int s = KeySlot(k);
      if ((s < 8192) == mine && s != not_slot) return k;
    }
  }
  CommandTester t_;
};

TEST_F(ClusterTest, RoutesByOwner) {
  std::string mine = KeyOf(true), theirs = KeyOf(false);
  EXPECT_EQ(t_.Run({"set", mine, "v"}), kOK);
  EXPECT_EQ(t_.Run({"get", theirs}),
            Err("MOVED " + std::to_string(KeySlot(theirs)) + " 127.0.0.1:7002"));
  EXPECT_EQ(t_.Run({"mset", mine, "1", KeyOf(true, KeySlot(mine)), "2"}),
            Err(cluster_errors::kCrossSlot));
  EXPECT_EQ(t_.Run({"mset", "{x}1", "1", "{x}2", "2"}).substr(0, 1),
            KeySlot("x") < 8192 ? "+" : "-");
  EXPECT_EQ(t_.Run({"select", "1"}), Err(cluster_errors::kSelect));
}

TEST_F(ClusterTest, OlderVersionsAreRefused) {
  EXPECT_EQ(t_.Run({"clusterx", "setnodes", Nodes(), "1"}), Err("ERR Invalid version of cluster"));
  EXPECT_EQ(t_.Run({"clusterx", "setslot", "0", "node", kB, "3"}),
            Err("ERR Invalid version of cluster"));
  EXPECT_EQ(t_.Run({"clusterx", "setslot", "0", "node", kB, "2"}), kOK);
  EXPECT_EQ(t_.Run({"clusterx", "version"}), Int(2));
  EXPECT_EQ(t_.Run({"clusterx", "setnodes", Nodes(), "1", "force"}), kOK);
  EXPECT_EQ(t_.Run({"clusterx", "version"}), Int(1));
  // A bad topology changes nothing.
  EXPECT_EQ(t_.Run({"clusterx", "setnodes", kA + " 127.0.0.1 7001 master - 0-16384", "5"}),
            Err("ERR Slot is out of range"));
  EXPECT_EQ(t_.Run({"clusterx", "version"}), Int(1));
}

TEST_F(ClusterTest, AskingLetsOneCommandIntoAnImportingSlot) {
  std::string theirs = KeyOf(false);
  const std::string slot = std::to_string(KeySlot(theirs));
  ASSERT_EQ(t_.Run({"clusterx", "importing", slot, kB}), kOK);
  EXPECT_EQ(t_.Run({"set", theirs, "v"}), Err("MOVED " + slot + " 127.0.0.1:7002"));
  EXPECT_EQ(t_.Run({"asking"}), kOK);
  EXPECT_EQ(t_.Run({"set", theirs, "v"}), kOK);
  EXPECT_EQ(t_.Run({"get", theirs}), Err("MOVED " + slot + " 127.0.0.1:7002"));
  // ASKING before MULTI covers the whole block.
  EXPECT_EQ(t_.Run({"asking"}), kOK);
  EXPECT_EQ(t_.Run({"multi"}), kOK);
  EXPECT_EQ(t_.Run({"get", theirs}), "+QUEUED\r\n");
  EXPECT_EQ(t_.Run({"exec"}), "*1\r\n" + Bulk("v"));
}

TEST_F(ClusterTest, MigratingSlotSendsMissingKeysToTheTarget) {
  std::string mine = KeyOf(true);
  const std::string slot = std::to_string(KeySlot(mine));
  ASSERT_EQ(t_.Run({"set", mine, "v"}), kOK);
  ASSERT_EQ(t_.Run({"clusterx", "migrating", slot, kB}), kOK);
  EXPECT_EQ(t_.Run({"get", mine}), Bulk("v"));
  EXPECT_EQ(t_.Run({"get", "{" + mine + "}x"}).substr(0, 4), "-ASK");
  // The version that gives the slot away ends the move.
  EXPECT_EQ(t_.Run({"clusterx", "setslot", slot, "node", kB, "2"}), kOK);
  EXPECT_EQ(t_.Run({"get", mine}), Err("MOVED " + slot + " 127.0.0.1:7002"));
}

TEST_F(ClusterTest, ExecKeysShareOneSlot) {
  std::string a = KeyOf(true);
  std::string b = KeyOf(true, KeySlot(a));
  EXPECT_EQ(t_.Run({"multi"}), kOK);
  EXPECT_EQ(t_.Run({"set", a, "1"}), "+QUEUED\r\n");
  EXPECT_EQ(t_.Run({"set", b, "1"}), "+QUEUED\r\n");
  EXPECT_EQ(t_.Run({"exec"}), Err(cluster_errors::kCrossSlot));
  EXPECT_EQ(t_.Run({"exec"}), Err("ERR EXEC without MULTI"));
  EXPECT_EQ(t_.Run({"exists", a}), Int(0));
}

TEST(ClusterDisabledTest, CommandsAnswerAsRedisWithoutCluster) {
  CommandTester t;
  EXPECT_EQ(t.Run({"cluster", "info"}), Err(cluster_errors::kDisabled));
  EXPECT_EQ(t.Run({"clusterx", "version"}), Err(cluster_errors::kDisabled));
  EXPECT_EQ(t.Run({"asking"}), Err(cluster_errors::kDisabled));
  EXPECT_EQ(t.Run({"select", "1"}), kOK);
}

}  // namespace
}  // namespace fdb
