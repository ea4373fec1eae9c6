// Config: the one parameter table behind the command line, the config file and CONFIG GET/SET.
// The error texts are what CONFIG SET replies after "ERR CONFIG SET failed (possibly related to
// argument '...') - ", so they are Redis's words.
#include "server/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
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
  EXPECT_EQ(c.bind(), "* -::*");  // Redis's: protected mode guards it
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
  EXPECT_EQ(s.message(), "percentage argument must be less or equal to 100");
  s = c.Set("maxmemory-clients", "abc%", true);
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
  Status s = c.Set("io-threads", "3", /*from_config_set=*/true);
  EXPECT_EQ(s.message(), "can't set immutable config");
  EXPECT_EQ(c.threads(), 0);
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

std::string TempPath() {
  char path[] = "/tmp/fdb_config_test_XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  return path;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(ConfigTest, EveryRedisParameterIsKnownWithRedisDefault) {
  // A sample of Redis 7.0.15's `CONFIG GET *` (name, default), one or more of each type.
  Config c;
  const std::vector<std::pair<std::string, std::string>> kRedis = {
      {"list-max-listpack-size", "-2"},
      {"list-compress-depth", "0"},
      {"hash-max-listpack-entries", "512"},
      {"hash-max-listpack-value", "64"},
      {"set-max-intset-entries", "512"},
      {"zset-max-listpack-entries", "128"},
      {"zset-max-listpack-value", "64"},
      {"slowlog-log-slower-than", "10000"},
      {"slowlog-max-len", "128"},
      {"latency-monitor-threshold", "0"},
      {"busy-reply-threshold", "5000"},
      {"notify-keyspace-events", ""},
      {"repl-ping-replica-period", "10"},
      {"repl-diskless-load", "disabled"},
      {"oom-score-adj-values", "0 200 800"},
      {"latency-tracking-info-percentiles", "50 99 99.9"},
      {"unixsocketperm", "0"},
      {"proc-title-template", "{title} {listen-addr} {server-mode}"},
      {"syslog-facility", "local0"},
      {"tls-auth-clients", "yes"},
      {"shutdown-on-sigterm", "default"},
      {"replicaof", ""},
      {"active-defrag-ignore-bytes", "104857600"},
      {"cluster-enabled", "no"},
      {"stream-node-max-bytes", "4096"},
      {"tracking-table-max-keys", "1000000"},
  };
  for (const auto& [name, def] : kRedis) EXPECT_EQ(Value(c, name), def) << name;
  // Redis 7.0.15 reports 192 names (aliases included); FDB adds cache-size, compression,
  // http-port, http-tls and Redis 7.2's set-max-listpack-entries / -value (its set
  // listpack's).
  EXPECT_EQ(c.Get("*").size(), 198u);
}

TEST(ConfigTest, AliasesShareOneValue) {
  Config c;
  ASSERT_TRUE(c.Set("hash-max-ziplist-entries", "100", true).ok());
  EXPECT_EQ(c.hash_max_listpack_entries(), 100);
  EXPECT_EQ(Value(c, "hash-max-listpack-entries"), "100");
  ASSERT_TRUE(c.Set("lua-time-limit", "250", true).ok());
  EXPECT_EQ(c.busy_reply_threshold_ms(), 250);
  ASSERT_TRUE(c.Set("slave-read-only", "no", true).ok());
  EXPECT_EQ(Value(c, "replica-read-only"), "no");
  EXPECT_EQ(c.CanonicalName("ZSET-MAX-ZIPLIST-VALUE"), "zset-max-listpack-value");
  // A glob reports both names, as Redis's CONFIG GET.
  auto got = c.Get("list-max-*");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], (std::pair<std::string, std::string>{"list-max-listpack-size", "-2"}));
  EXPECT_EQ(got[1], (std::pair<std::string, std::string>{"list-max-ziplist-size", "-2"}));
  // An exact name is reported as asked, hidden parameters included.
  got = c.Get("WATCHDOG-PERIOD");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].first, "WATCHDOG-PERIOD");
  EXPECT_TRUE(c.Get("watchdog*").empty());
}

TEST(ConfigTest, TypedValidationWithRedisTexts) {
  Config c;
  EXPECT_EQ(c.Set("activerehashing", "maybe", true).message(), "argument must be 'yes' or 'no'");
  EXPECT_EQ(c.Set("repl-diskless-load", "sometimes", true).message(),
            "argument(s) must be one of the following: disabled, on-empty-db, swapdb");
  EXPECT_EQ(c.Set("hash-max-ziplist-entries", "-1", true).message(),
            "argument must be between 0 and 9223372036854775807 inclusive");
  EXPECT_EQ(c.Set("active-expire-effort", "11", true).message(),
            "argument must be between 1 and 10 inclusive");
  EXPECT_EQ(c.Set("zset-max-ziplist-value", "1tb", true).message(),
            "argument must be a memory value");
  EXPECT_EQ(c.Set("slowlog-log-slower-than", "1.5", true).message(),
            "argument couldn't be parsed into an integer");
  EXPECT_EQ(c.Set("notify-keyspace-events", "KEQ", true).message(),
            "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
  EXPECT_EQ(c.Set("save", "100", true).message(), "Invalid save parameters");
  EXPECT_EQ(c.Set("save", "0 1", true).message(), "Invalid save parameters");
  EXPECT_EQ(c.Set("oom-score-adj-values", "1 2", true).message(), "wrong number of arguments");
  EXPECT_EQ(c.Set("oom-score-adj-values", "0 200 5000", true).message(),
            "Invalid oom-score-adj-values, elements must be between -2000 and 2000.");
  EXPECT_EQ(c.Set("latency-tracking-info-percentiles", "50 101", true).message(),
            "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]");
  EXPECT_EQ(c.Set("latency-tracking-info-percentiles", "x", true).message(),
            "Invalid latency-tracking-info-percentiles parameters");
  EXPECT_EQ(c.Set("dbfilename", "a/b.rdb", true).message(),
            "dbfilename can't be a path, just a filename");
  EXPECT_EQ(c.Set("proc-title-template", "{nope}", true).message(),
            "template format is invalid or contains unknown variables");
  EXPECT_EQ(c.Set("cluster-announce-hostname", "a_b", true).message(),
            "Hostnames may only contain alphanumeric characters, hyphens or dots");
  EXPECT_EQ(c.Set("unixsocketperm", "1000", false).message(),
            "argument must be between 0 and 777 inclusive");
  EXPECT_EQ(c.Set("replicaof", "host", false).message(), "wrong number of arguments");
  EXPECT_EQ(c.Set("slaveof", "host x", false).message(), "Invalid master port");
  EXPECT_EQ(c.Set("tcp-backlog", "10", true).message(), "can't set immutable config");
  EXPECT_TRUE(c.IsImmutable("SLAVEOF"));
  EXPECT_TRUE(c.IsProtected("dbfilename"));
  EXPECT_EQ(c.Set("socket-mark-id", "1", true).message(), "can't set immutable config");
  EXPECT_EQ(c.Set("proc-title-template", "  ", true).message(),
            "template format is invalid or contains unknown variables");
  // Memory values as Redis's memtoull: no digits is 0, too many fail the range.
  ASSERT_TRUE(c.Set("auto-aof-rewrite-min-size", "", true).ok());
  EXPECT_EQ(Value(c, "auto-aof-rewrite-min-size"), "0");
  EXPECT_EQ(c.Set("proto-max-bulk-len", "99999999999999999999", true).message(),
            "argument must be between 1048576 and 9223372036854775807 inclusive");
  // Refused values leave the defaults.
  EXPECT_EQ(c.hash_max_listpack_entries(), 512);
  EXPECT_EQ(Value(c, "oom-score-adj-values"), "0 200 800");
}

TEST(ConfigTest, CanonicalForms) {
  Config c;
  ASSERT_TRUE(c.Set("notify-keyspace-events", "KEA", true).ok());
  EXPECT_EQ(Value(c, "notify-keyspace-events"), "AKE");
  EXPECT_EQ(c.notify_keyspace_events(), notify::kAll | notify::kKeyspace | notify::kKeyevent);
  ASSERT_TRUE(c.Set("notify-keyspace-events", "Kgxn$m", true).ok());
  EXPECT_EQ(Value(c, "notify-keyspace-events"), "g$xnKm");
  ASSERT_TRUE(c.Set("notify-keyspace-events", "AEn", true).ok());
  EXPECT_EQ(Value(c, "notify-keyspace-events"), "AE");  // as Redis: A hides n
  ASSERT_TRUE(c.Set("oom-score-adj", "relative", true).ok());
  EXPECT_EQ(Value(c, "oom-score-adj"), "yes");  // the first name of the value, as Redis
  ASSERT_TRUE(c.Set("unixsocketperm", "700", false).ok());
  EXPECT_EQ(Value(c, "unixsocketperm"), "700");
  ASSERT_TRUE(c.Set("latency-tracking-info-percentiles", "50 99.90 12.5", true).ok());
  EXPECT_EQ(Value(c, "latency-tracking-info-percentiles"), "50 99.9 12.5");
  ASSERT_TRUE(c.Set("save", "900 1 300 10", true).ok());
  EXPECT_EQ(Value(c, "save"), "900 1 300 10");
  ASSERT_TRUE(c.Set("shutdown-on-sigint", "now nosave", true).ok());
  EXPECT_EQ(Value(c, "shutdown-on-sigint"), "nosave now");
  ASSERT_TRUE(c.Set("replicaof", "no one", false).ok());
  EXPECT_EQ(Value(c, "replicaof"), "");
}

TEST(ConfigTest, ValuesFdbRefusesRatherThanIgnores) {
  Config c;
  // Cluster mode is served (commands/cluster.h), from the start only.
  EXPECT_TRUE(c.Set("cluster-enabled", "yes", false).ok());
  EXPECT_TRUE(c.cluster_enabled());
  EXPECT_EQ(c.Set("cluster-enabled", "no", true).message(), "can't set immutable config");
  // Replication is served (commands/replication.h): the file's primary is kept.
  EXPECT_TRUE(c.Set("replicaof", "10.0.0.1 6379", false).ok());
  EXPECT_EQ(c.replicaof(), "10.0.0.1 6379");
  // ACL files are read (commands/acl.h); TLS is served (net/tls.h).
  EXPECT_TRUE(c.Set("aclfile", "/etc/redis/users.acl", false).ok());
  EXPECT_TRUE(c.Set("tls-port", "6390", false).ok());
  EXPECT_TRUE(c.Set("daemonize", "yes", false).ok());
  EXPECT_TRUE(c.daemonize());
}

TEST(ConfigTest, ConfigFileSaveLinesAccumulateAndEmptyClears) {
  std::string path = TempPath();
  WriteFile(path, "save 3600 1\nsave 300 100\n");
  Config c;
  ASSERT_TRUE(Args(c, {path, "--save", "60", "5"}).ok());
  EXPECT_EQ(Value(c, "save"), "3600 1 300 100 60 5");
  Config d;
  ASSERT_TRUE(Args(d, {path, "--save", ""}).ok());
  EXPECT_EQ(Value(d, "save"), "");
  Config e;
  ASSERT_TRUE(Args(e, {path, "--save", "--hz", "11"}).ok());  // a bare --save is save ""
  EXPECT_EQ(Value(e, "save"), "");
  // CONFIG SET replaces.
  ASSERT_TRUE(c.Set("save", "10 1", true).ok());
  EXPECT_EQ(Value(c, "save"), "10 1");
  std::remove(path.c_str());
}

TEST(ConfigTest, LoadFileDirectives) {
  std::string inc = TempPath();
  std::string path = TempPath();
  WriteFile(inc, "hz 42\n");
  WriteFile(path, "include " + inc + "\nlist-max-ziplist-entries 512\n" +
                      "client-output-buffer-limit normal 0 0 0\n" +
                      "client-output-buffer-limit pubsub 64mb 16mb 90\n");
  Config c;
  ASSERT_TRUE(c.LoadFile(path).ok());
  EXPECT_EQ(c.hz(), 42);
  EXPECT_EQ(c.output_limit(Config::kNormal).hard, 0);
  EXPECT_EQ(c.output_limit(Config::kPubsub).soft_seconds, 90);
  WriteFile(path, "rename-command FLUSHALL \"\"\n");
  EXPECT_EQ(Config().LoadFile(path).message(), path + ":1: 'rename-command': not supported by FDB");
  WriteFile(path, "no-such-thing 1\n");
  EXPECT_EQ(Config().LoadFile(path).message(),
            path + ":1: 'no-such-thing': Bad directive or wrong number of arguments");
  WriteFile(path, "hz 1 2\n");
  EXPECT_EQ(Config().LoadFile(path).message(), path + ":1: 'hz': wrong number of arguments");
  WriteFile(path, "include " + path + "\n");  // includes itself
  EXPECT_EQ(Config().LoadFile(path).message(), path + ":1: 'include': includes nested too deeply");
  std::remove(inc.c_str());
  std::remove(path.c_str());
}

TEST(ConfigTest, DebianRedisConfLoads) {
  // The uncommented lines of Debian's /etc/redis/redis.conf (redis-server 7.0.15).
  std::string path = TempPath();
  WriteFile(path, R"(bind 127.0.0.1 -::1
protected-mode yes
port 6379
tcp-backlog 511
timeout 0
tcp-keepalive 300
daemonize yes
pidfile /run/redis/redis-server.pid
loglevel notice
logfile /var/log/redis/redis-server.log
databases 16
always-show-logo no
set-proc-title yes
proc-title-template "{title} {listen-addr} {server-mode}"
stop-writes-on-bgsave-error yes
rdbcompression yes
rdbchecksum yes
dbfilename dump.rdb
rdb-del-sync-files no
dir /var/lib/redis
replica-serve-stale-data yes
replica-read-only yes
repl-diskless-sync yes
repl-diskless-sync-delay 5
repl-diskless-sync-max-replicas 0
repl-diskless-load disabled
repl-disable-tcp-nodelay no
replica-priority 100
acllog-max-len 128
lazyfree-lazy-eviction no
lazyfree-lazy-expire no
lazyfree-lazy-server-del no
replica-lazy-flush no
lazyfree-lazy-user-del no
lazyfree-lazy-user-flush no
oom-score-adj no
oom-score-adj-values 0 200 800
disable-thp yes
appendonly no
appendfilename "appendonly.aof"
appenddirname "appendonlydir"
appendfsync everysec
no-appendfsync-on-rewrite no
auto-aof-rewrite-percentage 100
auto-aof-rewrite-min-size 64mb
aof-load-truncated yes
aof-use-rdb-preamble yes
aof-timestamp-enabled no
slowlog-log-slower-than 10000
slowlog-max-len 128
latency-monitor-threshold 0
notify-keyspace-events ""
hash-max-listpack-entries 512
hash-max-listpack-value 64
list-max-listpack-size -2
list-compress-depth 0
set-max-intset-entries 512
zset-max-listpack-entries 128
zset-max-listpack-value 64
hll-sparse-max-bytes 3000
stream-node-max-bytes 4096
stream-node-max-entries 100
activerehashing yes
client-output-buffer-limit normal 0 0 0
client-output-buffer-limit replica 256mb 64mb 60
client-output-buffer-limit pubsub 32mb 8mb 60
hz 10
dynamic-hz yes
aof-rewrite-incremental-fsync yes
rdb-save-incremental-fsync yes
jemalloc-bg-thread yes
)");
  Config c;
  ASSERT_TRUE(Args(c, {path, "--port", "7100", "--daemonize", "no", "--logfile", ""}).ok());
  EXPECT_EQ(c.port(), 7100);
  EXPECT_EQ(c.bind(), "127.0.0.1 -::1");
  EXPECT_EQ(c.dir(), "/var/lib/redis");
  EXPECT_FALSE(c.daemonize());
  EXPECT_FALSE(c.persistence());
  EXPECT_EQ(c.logfile(), "");
  // Every no-effect parameter it sets is at its default: named in lines short enough for the
  // log, none left out.
  std::string all;
  for (const std::string& w : c.StartupWarnings()) {
    EXPECT_EQ(w.rfind("parameters accepted at their default value, without effect in FDB: ", 0), 0u)
        << w;
    EXPECT_LT(w.size(), 1000u);
    all += w + "\n";
  }
  for (const char* name :
       {"tcp-backlog", "repl-diskless-load", "jemalloc-bg-thread", "activerehashing"}) {
    EXPECT_NE(all.find(name), std::string::npos) << name;
  }
  std::remove(path.c_str());
}

TEST(ConfigTest, StartupWarningsNameNonDefaultNoEffectParameters) {
  Config c;
  ASSERT_TRUE(Args(c, {"--tcp-backlog", "5", "--maxmemory", "1mb", "--daemonize", "yes"}).ok());
  auto w = c.StartupWarnings();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0], "'tcp-backlog 5' is accepted but has no effect in FDB (docs/compatibility.md)");
  EXPECT_EQ(w[1], "'daemonize yes' does not apply: fdb-server stays in the foreground");
  EXPECT_TRUE(Config().StartupWarnings().empty());
}

TEST(ConfigTest, RewriteKeepsCommentsAndOrder) {
  std::string path = TempPath();
  std::string inc = TempPath();  // empty
  WriteFile(path,
            "# top comment\nport 7200\n# encodings\nhash-max-ziplist-entries 100\n"
            "slave-read-only yes\nsave 3600 1\nsave 300 100\ninclude " +
                inc +
                "\n"
                "maxmemory 1000\n");
  Config c;
  ASSERT_TRUE(Args(c, {path}).ok());
  ASSERT_TRUE(c.Set("hash-max-listpack-entries", "200", true).ok());
  ASSERT_TRUE(c.Set("maxmemory", "2mb", true).ok());
  ASSERT_TRUE(c.Set("save", "60 1", true).ok());
  ASSERT_TRUE(c.Set("replica-read-only", "no", true).ok());
  ASSERT_TRUE(c.Set("slowlog-max-len", "5", true).ok());
  ASSERT_TRUE(c.Set("notify-keyspace-events", "KEx", true).ok());
  ASSERT_TRUE(c.Set("requirepass", "a b\"c", true).ok());
  ASSERT_TRUE(c.Rewrite().ok());
  std::string dir_line = "dir \"./fdb_data\"\n";
  EXPECT_EQ(ReadFile(path),
            "# top comment\nport 7200\n# encodings\nhash-max-listpack-entries 200\n"
            "replica-read-only no\nsave 60 1\n\n# ??? include " +
                inc +
                "\n"
                "maxmemory 2mb\n# Generated by CONFIG REWRITE\n" +
                dir_line +
                "requirepass \"a b\\\"c\"\nslowlog-max-len 5\nnotify-keyspace-events \"xKE\"\n"
                "latency-tracking-info-percentiles 50 99 99.9\n");
  // Read back, the file gives the same values.
  Config d;
  ASSERT_TRUE(Args(d, {path}).ok());
  EXPECT_EQ(d.hash_max_listpack_entries(), 200);
  EXPECT_EQ(d.requirepass(), "a b\"c");
  std::remove(path.c_str());
  std::remove(inc.c_str());
}

TEST(ConfigTest, RewriteWithoutAConfigFileFails) {
  Config c;
  EXPECT_EQ(c.Rewrite().message(), "The server is running without a config file");
}

TEST(KeyspaceEventsTest, ParseAndFormat) {
  EXPECT_EQ(ParseKeyspaceEvents(""), 0);
  EXPECT_EQ(ParseKeyspaceEvents("Q"), -1);
  EXPECT_EQ(KeyspaceEventsToString(ParseKeyspaceEvents("El")), "lE");
  EXPECT_EQ(KeyspaceEventsToString(ParseKeyspaceEvents("g$lshzxetd")), "A");
}

TEST(ConfigTest, BindAddressesAsRedisReadsThem) {
  auto got = BindAddresses("127.0.0.1 -::1  * -::*");
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].addr, "127.0.0.1");
  EXPECT_FALSE(got[0].optional);
  EXPECT_FALSE(got[0].ipv6());
  EXPECT_EQ(got[1].addr, "::1");
  EXPECT_TRUE(got[1].optional);
  EXPECT_TRUE(got[1].ipv6());
  EXPECT_TRUE(got[2].any());
  EXPECT_FALSE(got[2].ipv6());
  EXPECT_TRUE(got[3].any() && got[3].ipv6() && got[3].optional);
  EXPECT_TRUE(BindAddresses("").empty());
  EXPECT_TRUE(BindAddresses(" ").empty());
}

}  // namespace
}  // namespace fdb
