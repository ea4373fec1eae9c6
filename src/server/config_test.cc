// Config: the one parameter table behind the command line, the config file and CONFIG GET/SET.
// The error texts are what CONFIG SET replies after "ERR CONFIG SET failed (possibly related to
// argument '...') - ", so they are Redis's words.
#include "server/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace fdb {
namespace {

std::string Value(const Config& c, const std::string& name) {
  auto got = c.Get(name);
  EXPECT_EQ(got.size(), 1u) << name;
  return got.empty() ? "" : got[0].second;
}

Status Args(Config& c, std::vector<std::string> words) {
  std::vector<char*> argv;
  std::string prog = "fdb-server";
  argv.push_back(prog.data());
  for (auto& w : words) argv.push_back(w.data());
  return c.ParseArgs(static_cast<int>(argv.size()), argv.data());
}

TEST(ParseMemoryTest, RedisUnits) {
  int64_t v = 0;
  ASSERT_TRUE(ParseMemory("100", &v));
  EXPECT_EQ(v, 100);
  ASSERT_TRUE(ParseMemory("1k", &v));
  EXPECT_EQ(v, 1000);
  ASSERT_TRUE(ParseMemory("1kb", &v));
  EXPECT_EQ(v, 1024);
  ASSERT_TRUE(ParseMemory("2m", &v));
  EXPECT_EQ(v, 2000000);
  ASSERT_TRUE(ParseMemory("2MB", &v));  // units are case-insensitive
  EXPECT_EQ(v, 2 * 1024 * 1024);
  ASSERT_TRUE(ParseMemory("3g", &v));
  EXPECT_EQ(v, 3000000000LL);
  ASSERT_TRUE(ParseMemory("3gb", &v));
  EXPECT_EQ(v, 3LL * 1024 * 1024 * 1024);
  ASSERT_TRUE(ParseMemory("512b", &v));
  EXPECT_EQ(v, 512);
  ASSERT_TRUE(ParseMemory("0100", &v));  // leading zeros, as Redis's memtoll
  EXPECT_EQ(v, 100);
}

TEST(ParseMemoryTest, RejectsGarbageNegativesAndOverflow) {
  int64_t v = 7;
  EXPECT_FALSE(ParseMemory("", &v));
  EXPECT_FALSE(ParseMemory("kb", &v));
  EXPECT_FALSE(ParseMemory("-1", &v));
  EXPECT_FALSE(ParseMemory("1x", &v));
  EXPECT_FALSE(ParseMemory("1.5mb", &v));
  EXPECT_FALSE(ParseMemory("9223372036854775807gb", &v));
  EXPECT_FALSE(ParseMemory("10000000000gb", &v));  // 10^10 GiB does not fit in int64
  EXPECT_EQ(v, 7);                                 // untouched on failure
}

TEST(ConfigTest, DefaultsAsDocumented) {
  Config c;
  EXPECT_EQ(c.port(), 6380);
  EXPECT_EQ(c.bind(), "127.0.0.1");
  EXPECT_EQ(c.maxmemory(), 0);
  EXPECT_EQ(c.maxmemory_policy(), "noeviction");
  EXPECT_EQ(c.appendfsync(), "everysec");
  EXPECT_TRUE(c.persistence());
  EXPECT_FALSE(c.requirepass_set());
  EXPECT_EQ(c.hz(), 10);
  EXPECT_EQ(c.enable_debug_command(), ProtectedAction::kNo);
  EXPECT_EQ(Value(c, "databases"), "16");
}

TEST(ConfigTest, SetValidatesWithRedisTexts) {
  Config c;
  Status s = c.Set("maxmemory", "lots", true);
  EXPECT_EQ(s.message(), "argument must be a memory value");
  s = c.Set("hz", "abc", true);
  EXPECT_EQ(s.message(), "argument couldn't be parsed into an integer");
  s = c.Set("hz", "501", true);
  EXPECT_EQ(s.message(), "argument must be between 1 and 500 inclusive");
  s = c.Set("maxmemory-samples", "0", true);
  EXPECT_EQ(s.message(), "argument must be between 1 and 64 inclusive");
  s = c.Set("maxmemory-policy", "allkeys-fifo", true);
  EXPECT_EQ(s.message(),
            "argument(s) must be one of the following: noeviction, allkeys-lru, volatile-lru, "
            "allkeys-lfu, volatile-lfu, allkeys-random, volatile-random, volatile-ttl");
  s = c.Set("appendfsync", "sometimes", true);
  EXPECT_EQ(s.message(), "argument(s) must be one of the following: always, everysec, no");
  s = c.Set("loglevel", "loud", true);
  EXPECT_EQ(s.message(),
            "argument(s) must be one of the following: debug, verbose, notice, warning, nothing");
  s = c.Set("maxmemory-clients", "101%", true);
  EXPECT_EQ(s.message(), "argument must be a memory or percent value");
  s = c.Set("client-output-buffer-limit", "normal 0 0", true);
  EXPECT_EQ(s.message(), "Wrong number of arguments in buffer limit configuration.");
  s = c.Set("client-output-buffer-limit", "vip 0 0 0", true);
  EXPECT_EQ(s.message(), "Invalid client class specified in buffer limit configuration.");
  s = c.Set("client-output-buffer-limit", "normal 1mb x 0", true);
  EXPECT_EQ(s.message(),
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
  // A refused value leaves the old one.
  EXPECT_EQ(c.hz(), 10);
  EXPECT_EQ(c.maxmemory_policy(), "noeviction");
}

TEST(ConfigTest, ConfigSetRefusesStartupOnlyAndUnknownParameters) {
  Config c;
  Status s = c.Set("port", "7000", /*from_config_set=*/true);
  EXPECT_EQ(s.message(), "can't set immutable config");
  EXPECT_EQ(c.port(), 6380);
  EXPECT_EQ(c.Set("enable-debug-command", "yes", true).message(), "can't set immutable config");
  EXPECT_EQ(c.Set("no-such-parameter", "1", true).code(), Status::kNotFound);
  // The same parameters are fine at startup.
  ASSERT_TRUE(c.Set("port", "7000", false).ok());
  EXPECT_EQ(c.port(), 7000);
  ASSERT_TRUE(c.Set("enable-debug-command", "local", false).ok());
  EXPECT_EQ(c.enable_debug_command(), ProtectedAction::kLocal);
  EXPECT_FALSE(ProtectedActionAllowed(ProtectedAction::kLocal, /*local_client=*/false));
  EXPECT_TRUE(ProtectedActionAllowed(ProtectedAction::kLocal, /*local_client=*/true));
}

TEST(ConfigTest, SetStoresAndGetFormats) {
  Config c;
  ASSERT_TRUE(c.Set("MAXMEMORY", "100mb", true).ok());  // names are case-insensitive
  EXPECT_EQ(c.maxmemory(), 100 * 1024 * 1024);
  EXPECT_EQ(Value(c, "maxmemory"), "104857600");
  ASSERT_TRUE(c.Set("maxmemory-policy", "AllKeys-LRU", true).ok());
  EXPECT_EQ(Value(c, "maxmemory-policy"), "allkeys-lru");  // stored lower case
  ASSERT_TRUE(c.Set("client-output-buffer-limit",
                    "normal 1mb 512kb 10 replica 0 0 0 pubsub 32mb 8mb 60", true)
                  .ok());
  EXPECT_EQ(Value(c, "client-output-buffer-limit"),
            "normal 1048576 524288 10 slave 0 0 0 pubsub 33554432 8388608 60");
  EXPECT_EQ(c.output_limit(Config::kNormal).soft_seconds, 10);
  // The groups are all checked before any is applied: a bad second group changes nothing.
  EXPECT_FALSE(c.Set("client-output-buffer-limit", "normal 0 0 0 pubsub x 0 0", true).ok());
  EXPECT_EQ(c.output_limit(Config::kNormal).hard, 1048576);
  ASSERT_TRUE(c.Set("requirepass", "secret", true).ok());
  EXPECT_TRUE(c.requirepass_set());
  ASSERT_TRUE(c.Set("requirepass", "", true).ok());
  EXPECT_FALSE(c.requirepass_set());
}

TEST(ConfigTest, MaxmemoryClientsPercentOfMaxmemoryWithAFloor) {
  Config c;
  ASSERT_TRUE(c.Set("maxmemory-clients", "10%", true).ok());
  EXPECT_EQ(Value(c, "maxmemory-clients"), "10%");
  EXPECT_EQ(c.maxmemory_clients_bytes(), 0);  // no maxmemory: no limit
  ASSERT_TRUE(c.Set("maxmemory", "100mb", true).ok());
  EXPECT_EQ(c.maxmemory_clients_bytes(), 10485760);  // 10% of 104857600
  ASSERT_TRUE(c.Set("maxmemory-clients", "1kb", true).ok());
  EXPECT_EQ(c.maxmemory_clients_bytes(), 128 * 1024);  // raised to Redis's minimum
}

TEST(ConfigTest, GetMatchesGlobCaseInsensitivelyWithoutTheThreadsAlias) {
  Config c;
  auto got = c.Get("MAXMEMORY-*");
  std::vector<std::string> names;
  for (auto& [n, v] : got) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"maxmemory-clients", "maxmemory-samples",
                                             "maxmemory-eviction-tenacity", "maxmemory-policy"}));
  EXPECT_EQ(c.Get("threads").size(), 0u);
  EXPECT_EQ(c.Get("io-threads").size(), 1u);
  EXPECT_TRUE(c.Known("threads"));
}

TEST(ConfigTest, ParseArgsTakesWordsUpToTheNextFlag) {
  Config c;
  ASSERT_TRUE(Args(c, {"--port", "7001", "--save", "3600", "1", "--fsync", "always", "--cache_size",
                       "1000"})
                  .ok());
  EXPECT_EQ(c.port(), 7001);
  EXPECT_EQ(Value(c, "save"), "3600 1");
  EXPECT_EQ(c.appendfsync(), "always");  // --fsync is appendfsync
  EXPECT_EQ(c.cache_size(), 1000);       // --cache_size is --cache-size
  Config d;
  EXPECT_EQ(Args(d, {"--bogus", "1"}).message(), "unknown option --bogus");
  EXPECT_EQ(Args(d, {"--port"}).message(), "missing value for --port");
  EXPECT_EQ(Args(d, {"--hz", "0"}).message(),
            "bad value for --hz: argument must be between 1 and 500 inclusive");
  // Every word up to the next flag is the value: "1 stray" is not a port.
  EXPECT_EQ(Args(d, {"--port", "1", "stray"}).message(),
            "bad value for --port: argument couldn't be parsed into an integer");
}

TEST(ConfigTest, LoadFileSkipsCommentsAndReportsTheLine) {
  char path[] = "/tmp/fdb_config_test_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream f(path);
    f << "# a comment\n\nport 7002\nmaxmemory-policy \"allkeys-lfu\"\nsave \"900 1\"\n";
  }
  Config c;
  ASSERT_TRUE(c.LoadFile(path).ok());
  EXPECT_EQ(c.port(), 7002);
  EXPECT_EQ(c.maxmemory_policy(), "allkeys-lfu");
  EXPECT_EQ(Value(c, "save"), "900 1");
  {
    std::ofstream f(path);
    f << "port 7003\nhz 9999\n";
  }
  Config d;
  Status s = d.LoadFile(path);
  EXPECT_EQ(s.message(),
            std::string(path) + ":2: 'hz': argument must be between 1 and 500 inclusive");
  {
    std::ofstream f(path);
    f << "save \"900 1\n";
  }
  EXPECT_EQ(d.LoadFile(path).message(), std::string(path) + ":1: unbalanced quotes");
  std::remove(path);
  EXPECT_EQ(d.LoadFile(path).code(), Status::kIOError);
}

}  // namespace
}  // namespace fdb
