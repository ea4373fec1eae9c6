#include <gtest/gtest.h>

#include "commands/test_util.h"

namespace fdb {
namespace {

TEST(DispatcherTest, UnknownCommand) {
  CommandTester t;
  EXPECT_EQ(t.Run({"foo", "a", "b"}),
            Err("ERR unknown command 'foo', with args beginning with: 'a' 'b' "));
  EXPECT_EQ(t.Run({"foo"}), Err("ERR unknown command 'foo', with args beginning with: "));
}

TEST(DispatcherTest, WrongArity) {
  CommandTester t;
  EXPECT_EQ(t.Run({"get"}), Err("ERR wrong number of arguments for 'get' command"));
  EXPECT_EQ(t.Run({"GET", "a", "b"}), Err("ERR wrong number of arguments for 'get' command"));
}

TEST(DispatcherTest, CaseInsensitiveNames) {
  CommandTester t;
  EXPECT_EQ(t.Run({"SeT", "k", "v"}), kOK);
  EXPECT_EQ(t.Run({"gEt", "k"}), Bulk("v"));
}

// Lock keeping (Dispatcher::set_keep_locks): whatever a batch of commands kept, ReleaseLocks
// leaves every shard unlocked, and a command on other shards (MSET over many keys) or the whole
// keyspace (DBSIZE, FLUSHALL) after a kept lock neither deadlocks nor leaks it.
TEST(DispatcherTest, KeptShardLockIsReleasedAtTheEndOfTheBatch) {
  ServerContext server;
  ThreadStats* stats = server.NewThreadStats();
  Dispatcher d(server, stats);
  d.set_keep_locks(true);
  ClientState client;
  std::string out;
  ReplyBuilder rb(&out);
  auto run = [&](std::vector<std::string_view> args) {
    out.clear();
    d.Execute(args, client, rb);
    return out;
  };
  // A sorted set large enough that ZADD averages over the keeping threshold on most machines;
  // the test holds whether or not the lock was kept.
  std::vector<std::string> members;
  for (int i = 0; i < 20000; i++) members.push_back("member:" + std::to_string(i));
  for (int i = 0; i < 20000; i++) {
    std::string score = std::to_string((i * 7919) % 20000);
    ASSERT_EQ(run({"zadd", "z", score, members[i]}), ":1\r\n");
  }
  EXPECT_EQ(run({"mset", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5"}), "+OK\r\n");
  EXPECT_EQ(run({"zadd", "z", "1", "x"}), ":1\r\n");
  EXPECT_EQ(run({"dbsize"}), ":6\r\n");
  EXPECT_EQ(run({"zadd", "z", "2", "x"}), ":0\r\n");
  d.ReleaseLocks();
  for (int i = 0; i < limits::kNumShards; i++) {
    ASSERT_TRUE(server.keyspace().shard(i).mu.try_lock()) << "shard " << i << " left locked";
    server.keyspace().shard(i).mu.unlock();
  }
  EXPECT_EQ(run({"flushall"}), "+OK\r\n");
  d.ReleaseLocks();
}

}  // namespace
}  // namespace fdb
