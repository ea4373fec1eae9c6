// The command transaction and its effect sinks (engine/txn.h), driven through the real
// dispatcher without persistence: effects flow to sinks with `appendonly no` too, one commit per
// command (one per EXEC), flushes committed at once, sinks called in order.
#include "engine/txn.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "commands/test_util.h"

namespace fdb {
namespace {

const char* KindName(EffectKind k) {
  switch (k) {
    case EffectKind::kPut:
      return "put";
    case EffectKind::kDelta:
      return "delta";
    case EffectKind::kDelete:
      return "del";
    case EffectKind::kExpire:
      return "expire";
    case EffectKind::kFlush:
      return "flush";
    case EffectKind::kSwapDb:
      return "swapdb";
  }
  return "?";
}

// Records each commit as the list of its effects ("put k", "del k", ...), and what it saw of
// the sinks before it.
class RecordingSink : public EffectSink {
 public:
  explicit RecordingSink(std::vector<std::string>* order = nullptr, std::string name = "")
      : order_(order), name_(std::move(name)) {}
  // The key is a view valid only now: what the commit reports is written down here.
  void Capture(Effect& e) override {
    captured++;
    if (!pending_.empty()) pending_ += ", ";
    pending_ += KindName(e.kind);
    if (!e.key.empty()) pending_ += " " + std::string(e.key);
  }
  Status Commit(Txn& txn) override {
    commits.push_back(pending_);
    pending_.clear();
    if (order_ != nullptr) order_->push_back(name_);
    return fail ? Status::IOError("sink failed") : Status::OK();
  }
  std::vector<std::string> commits;
  int captured = 0;
  bool fail = false;

 private:
  std::vector<std::string>* order_;
  std::string name_;
  std::string pending_;
};

class TxnTest : public ::testing::Test {
 protected:
  void SetUp() override { ks().AddSink(&sink_); }
  void TearDown() override { ks().RemoveSink(&sink_); }
  Keyspace& ks() { return t_.server().keyspace(); }
  CommandTester t_;
  RecordingSink sink_;
};

TEST_F(TxnTest, EffectsFlowWithoutPersistenceOneCommitPerCommand) {
  ASSERT_EQ(t_.server().storage(), nullptr);
  t_.Run({"set", "a", "1"});
  t_.Run({"mset", "b", "2", "c", "3"});
  t_.Run({"get", "a"});  // a read changes nothing: no commit
  t_.Run({"del", "a", "missing"});
  t_.Run({"rpush", "l", "x", "y"});
  EXPECT_EQ(sink_.commits, (std::vector<std::string>{"put a", "put b, put c", "del a", "delta l"}));
  EXPECT_EQ(sink_.captured, 5);
}

TEST_F(TxnTest, ExecCommitsOnceWithEveryEffect) {
  t_.Run({"multi"});
  t_.Run({"set", "a", "1"});
  t_.Run({"incr", "n"});
  t_.Run({"pexpireat", "a", "99999999999000"});
  t_.Run({"exec"});
  EXPECT_EQ(sink_.commits, (std::vector<std::string>{"put a, put n, expire a"}));
}

TEST_F(TxnTest, FlushIsCommittedWithWhatCameBeforeIt) {
  t_.Run({"set", "a", "1"});
  t_.Run({"flushall"});
  t_.Run({"multi"});
  t_.Run({"set", "b", "1"});
  t_.Run({"flushdb"});
  t_.Run({"set", "c", "1"});
  t_.Run({"exec"});
  EXPECT_EQ(sink_.commits, (std::vector<std::string>{"put a", "flush", "put b, flush, put c"}));
}

TEST_F(TxnTest, LazyExpiryIsAnEffectOfTheReadingCommand) {
  t_.Run({"set", "k", "v", "px", "1"});
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(t_.Run({"get", "k"}), "$-1\r\n");
  EXPECT_EQ(sink_.commits, (std::vector<std::string>{"put k", "del k"}));
}

TEST_F(TxnTest, SinksRunInOrderAndAFailureStopsTheRest) {
  std::vector<std::string> order;
  RecordingSink first(&order, "first"), second(&order, "second");
  ks().RemoveSink(&sink_);
  ks().AddSink(&first);
  ks().AddSink(&second);
  t_.Run({"set", "a", "1"});
  EXPECT_EQ(order, (std::vector<std::string>{"first", "second"}));
  first.fail = true;
  t_.Run({"set", "b", "1"});
  EXPECT_EQ(order, (std::vector<std::string>{"first", "second", "first"}));
  EXPECT_EQ(second.commits, (std::vector<std::string>{"put a"}));
  ks().RemoveSink(&first);
  ks().RemoveSink(&second);
  ks().AddSink(&sink_);
}

TEST_F(TxnTest, WholeKeyEvictionCommitsItsOwnDelete) {
  t_.Run({"config", "set", "maxmemory-policy", "allkeys-random"});
  t_.Run({"set", "victim", "v"});
  sink_.commits.clear();
  ks().SetEviction(EvictionPolicy::kAllKeysRandom, 5, 10);
  ks().SetBudget(0, 0);
  // Over any budget: one key is deleted, as its own transaction.
  t_.Run({"config", "set", "maxmemory", "1"});
  ks().SampleUsedMemory();
  (void)ks().EvictKeys();
  ASSERT_FALSE(sink_.commits.empty());
  EXPECT_EQ(sink_.commits[0], "del victim");
  t_.Run({"config", "set", "maxmemory", "0"});
}

}  // namespace
}  // namespace fdb
