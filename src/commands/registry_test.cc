// The command registry: the rows the dispatcher enforces (arity, flags) and COMMAND INFO /
// GETKEYS report (key positions). The expected values are Redis 7.2's (`COMMAND INFO <name>`).
#include "commands/registry.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace fdb {
namespace {

using namespace cmdflags;

std::vector<size_t> Keys(std::string_view name, std::vector<std::string_view> args) {
  const CommandSpec* s = CommandRegistry::Default().Find(name);
  EXPECT_NE(s, nullptr) << name;
  std::vector<size_t> out = {999};  // KeyIndexes must clear what it is given
  if (s != nullptr) CommandRegistry::KeyIndexes(*s, CmdArgs(args), &out);
  return out;
}

TEST(RegistryTest, FindIsCaseInsensitiveAndRejectsUnknown) {
  const auto& reg = CommandRegistry::Default();
  const CommandSpec* set = reg.Find("SeT");
  ASSERT_NE(set, nullptr);
  EXPECT_STREQ(set->name, "set");
  EXPECT_EQ(reg.Find("nosuchcommand"), nullptr);
  EXPECT_EQ(reg.Find(""), nullptr);
  EXPECT_EQ(reg.Find(std::string(65, 'a')), nullptr);  // longer than any name: no lookup
  EXPECT_EQ(reg.Find("config|get"), nullptr);          // subcommands only through FindFull
  EXPECT_EQ(&reg.all()[static_cast<size_t>(set->id)], set);
}

TEST(RegistryTest, AritiesAsRedis) {
  const auto& reg = CommandRegistry::Default();
  struct Row {
    const char* name;
    int arity;
  } rows[] = {{"get", 2},   {"set", -3},   {"mset", -3},  {"del", -2},  {"ping", -1}, {"keys", 2},
              {"scan", -2}, {"blpop", -3}, {"lmpop", -4}, {"zadd", -4}, {"multi", 1}};
  for (const Row& r : rows) {
    const CommandSpec* s = reg.Find(r.name);
    ASSERT_NE(s, nullptr) << r.name;
    EXPECT_EQ(s->arity, r.arity) << r.name;
  }
}

TEST(RegistryTest, FlagsAsRedis) {
  const auto& reg = CommandRegistry::Default();
  const CommandSpec* get = reg.Find("get");
  EXPECT_EQ(get->flags & (kReadOnly | kFast | kWrite), kReadOnly | kFast);
  const CommandSpec* set = reg.Find("set");
  EXPECT_TRUE(set->flags & kWrite);
  EXPECT_TRUE(set->flags & kDenyOom);
  EXPECT_FALSE(set->flags & kReadOnly);
  EXPECT_TRUE(reg.Find("blpop")->flags & kBlocking);
  EXPECT_TRUE(reg.Find("debug")->flags & kProtected);
  EXPECT_TRUE(reg.Find("multi")->flags & kTransaction);
  EXPECT_TRUE(reg.Find("keys")->flags & kSelfLocking);
  // A command is never both a reader and a writer.
  for (const CommandSpec& s : reg.all()) {
    EXPECT_FALSE((s.flags & kWrite) && (s.flags & kReadOnly)) << s.name;
  }
}

TEST(RegistryTest, EveryRowIsWellFormed) {
  const auto& reg = CommandRegistry::Default();
  for (const CommandSpec& s : reg.all()) {
    EXPECT_NE(s.arity, 0) << s.name;
    if (s.first_key > 0) {
      EXPECT_GE(s.step, 1) << s.name;
      // A fixed arity bounds a fixed last key.
      if (s.arity > 0 && s.last_key > 0) {
        EXPECT_LT(s.last_key, s.arity) << s.name;
      }
    } else {
      EXPECT_EQ(s.keys, nullptr) << s.name;  // a keys function needs first_key > 0
    }
    // Containers have no handler of their own unless they run without a subcommand.
    if (s.handler == nullptr) {
      EXPECT_TRUE(s.container()) << s.name;
    }
    EXPECT_EQ(reg.FindFull(s.name), &s) << s.name;
  }
}

TEST(RegistryTest, SubcommandsAreRowsOfTheirOwn) {
  const auto& reg = CommandRegistry::Default();
  const CommandSpec* config = reg.Find("config");
  ASSERT_NE(config, nullptr);
  EXPECT_TRUE(config->container());
  const CommandSpec* get = reg.FindSub(*config, "GET");
  ASSERT_NE(get, nullptr);
  EXPECT_STREQ(get->name, "config|get");
  EXPECT_EQ(get->arity, -3);
  EXPECT_EQ(reg.FindFull("CONFIG|get"), get);
  EXPECT_EQ(reg.FindSub(*config, "nosuch"), nullptr);
  EXPECT_EQ(reg.FindSub(*config, std::string(49, 'x')), nullptr);
  // COMMAND lists top-level rows only.
  for (const CommandSpec* s : reg.TopLevel()) {
    EXPECT_EQ(std::string_view(s->name).find('|'), std::string_view::npos);
  }
  EXPECT_LT(reg.TopLevel().size(), reg.size());
}

TEST(KeyIndexesTest, FirstLastStep) {
  EXPECT_EQ(Keys("get", {"get", "k"}), (std::vector<size_t>{1}));
  EXPECT_EQ(Keys("set", {"set", "k", "v", "EX", "10"}), (std::vector<size_t>{1}));
  EXPECT_EQ(Keys("del", {"del", "a", "b", "c"}), (std::vector<size_t>{1, 2, 3}));
  EXPECT_EQ(Keys("mset", {"mset", "a", "1", "b", "2"}), (std::vector<size_t>{1, 3}));
  // last -2: the timeout is not a key.
  EXPECT_EQ(Keys("blpop", {"blpop", "a", "b", "0"}), (std::vector<size_t>{1, 2}));
  EXPECT_EQ(Keys("ping", {"ping"}), (std::vector<size_t>{}));
  EXPECT_EQ(Keys("keys", {"keys", "*"}), (std::vector<size_t>{}));  // no key positions
}

TEST(KeyIndexesTest, NumkeysCommands) {
  EXPECT_EQ(Keys("lmpop", {"lmpop", "2", "a", "b", "LEFT"}), (std::vector<size_t>{2, 3}));
  EXPECT_EQ(Keys("sintercard", {"sintercard", "2", "a", "b", "LIMIT", "1"}),
            (std::vector<size_t>{2, 3}));
  // The destination first, then the numkeys sources.
  EXPECT_EQ(Keys("zunionstore", {"zunionstore", "dst", "2", "a", "b", "WEIGHTS", "1", "2"}),
            (std::vector<size_t>{1, 3, 4}));
  // A bad or short count yields what can be read; the handler reports the error.
  EXPECT_EQ(Keys("lmpop", {"lmpop", "x", "a", "LEFT"}), (std::vector<size_t>{}));
  EXPECT_EQ(Keys("lmpop", {"lmpop", "5", "a", "b"}), (std::vector<size_t>{2, 3}));
  EXPECT_EQ(Keys("zunionstore", {"zunionstore", "dst", "0", "a"}), (std::vector<size_t>{1}));
}

}  // namespace
}  // namespace fdb

namespace fdb {
namespace {

// Replicas count a change under the command Redis 7.0 propagates it as.
TEST(ReplicatedNameTest, RedisPropagatedNames) {
  const CommandRegistry& r = CommandRegistry::Default();
  auto name = [&](const char* cmd) -> std::string {
    const char* n = r.Find(cmd)->replicated_name;
    return n != nullptr ? n : "(none)";
  };
  EXPECT_EQ(name("incr"), "incr");
  EXPECT_EQ(name("set"), "set");
  EXPECT_EQ(name("rpush"), "rpush");
  EXPECT_EQ(name("getset"), "set");
  EXPECT_EQ(name("blmove"), "lmove");
  EXPECT_EQ(name("expire"), "pexpireat");
  EXPECT_EQ(name("exec"), "(none)");
  EXPECT_EQ(name("evalsha"), "(none)");
}

TEST(ReplicatedNameTest, CommandsRedisPropagatesAsSent) {
  const CommandRegistry& r = CommandRegistry::Default();
  auto verbatim = [&](const char* cmd) { return r.Find(cmd)->verbatim; };
  // Whole words of the list: incr is not found inside hincrby, nor zrem inside zremrangebylex.
  for (const char* cmd : {"incr", "hincrby", "zrem", "zremrangebylex", "append", "zunionstore",
                          "lpush", "del", "hset"}) {
    EXPECT_TRUE(verbatim(cmd)) << cmd;
  }
  // Rewritten by Redis (relative time, randomness, blocking, floats), or not a write.
  for (const char* cmd : {"set", "incrbyfloat", "spop", "expire", "setex", "blpop", "lmpop",
                          "getdel", "eval", "exec", "get", "xadd", "restore"}) {
    EXPECT_FALSE(verbatim(cmd)) << cmd;
  }
}

}  // namespace
}  // namespace fdb
