// In-process tests of the STRING commands: the real dispatcher, no sockets. Replies are compared
// byte for byte with what Redis 7 sends. Expiry and encodings are read from the keyspace
// directly, so these tests do not depend on the generic family (TTL, OBJECT).
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <string>
#include <vector>

#include "base/clock.h"
#include "commands/string_ops.h"
#include "commands/test_util.h"

namespace fdb {
namespace {

constexpr const char* kWrongTypeErr =
    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

std::string Arr(std::initializer_list<std::string> items) {
  std::string s = "*" + std::to_string(items.size()) + "\r\n";
  for (const auto& i : items) s += i;
  return s;
}

// Records the effects the keyspace reports, as the storage engine would log them.
class RecordingObserver : public EffectSink {
 public:
  void Capture(Effect& e) override {
    std::string scratch;
    switch (e.kind) {
      case EffectKind::kPut:
        log.push_back("put " + std::string(e.key) + "=" +
                      std::string(e.entry->StringValue(&scratch)) +
                      (e.entry->has_expire() ? " @" + std::to_string(e.entry->expire_ms()) : ""));
        break;
      case EffectKind::kDelete:
        log.push_back("del " + std::string(e.key));
        break;
      case EffectKind::kExpire:
        log.push_back("expire " + std::string(e.key) + " @" + std::to_string(e.expire_ms));
        break;
      case EffectKind::kFlush:
        log.push_back("flush");
        break;
      case EffectKind::kSwapDb:
        log.push_back("swapdb");
        break;
      case EffectKind::kDelta:  // a string range change: the value after it
        log.push_back("range " + std::string(e.key) + "=" +
                      std::string(e.entry->StringValue(&scratch)) +
                      (e.entry->has_expire() ? " @" + std::to_string(e.entry->expire_ms()) : ""));
        break;
    }
  }
  Status Commit(Txn&) override { return Status::OK(); }
  std::vector<std::string> log;
};

class StringFamilyTest : public ::testing::Test {
 protected:
  Keyspace& ks() { return t_.server().keyspace(); }

  // Runs fn(entry or nullptr) with the key's shard locked.
  template <class Fn>
  void WithEntry(std::string_view key, Fn fn) {
    KeyRef k(key);
    ShardLockSet locks;
    locks.Add(k.shard);
    locks.Lock(ks());
    Txn txn;
    fn(ks().Find(txn, 0, k, NowMs(), false));
  }
  // The key's deadline in ms (0: none), or -2 if the key is missing.
  int64_t ExpireOf(std::string_view key) {
    int64_t r = -2;
    WithEntry(key, [&](Entry* e) { r = e ? e->expire_ms() : -2; });
    return r;
  }
  int64_t PttlOf(std::string_view key) {
    int64_t at = ExpireOf(key);
    return at > 0 ? at - NowMs() : at == 0 ? -1 : -2;
  }
  std::string EncodingOf(std::string_view key) {
    std::string r = "none";
    WithEntry(key, [&](Entry* e) { r = e ? e->encoding_name() : "none"; });
    return r;
  }
  // A list value (for WRONGTYPE paths), replacing whatever the key held.
  void PutList(std::string_view key) {
    t_.Run({"del", key});
    ASSERT_EQ(t_.Run({"rpush", key, "element"}), Int(1));
  }
  bool Exists(std::string_view key) { return ExpireOf(key) != -2; }
  uint64_t Dirty() { return t_.server().Dirty(); }

  CommandTester t_;
};

// ---------------------------------------------------------------------------
// SET / GET
// ---------------------------------------------------------------------------

TEST_F(StringFamilyTest, SetGetRoundTrip) {
  EXPECT_EQ(t_.Run({"set", "k", "hello"}), kOK);
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("hello"));
  EXPECT_EQ(t_.Run({"set", "k", "world"}), kOK);
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("world"));
  EXPECT_EQ(t_.Run({"get", "missing"}), kNil);
  EXPECT_EQ(t_.Run({"set", "e", ""}), kOK);
  EXPECT_EQ(t_.Run({"get", "e"}), "$0\r\n\r\n");
}

TEST_F(StringFamilyTest, GetMissingIsNullInResp3) {
  t_.SetResp3(true);
  EXPECT_EQ(t_.Run({"get", "missing"}), "_\r\n");
  EXPECT_EQ(t_.Run({"set", "k", "v"}), kOK);
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("v"));
}

TEST_F(StringFamilyTest, GetIntegerEncodedValues) {
  for (const char* v : {"0", "-1", "123", "9223372036854775807", "-9223372036854775808"}) {
    EXPECT_EQ(t_.Run({"set", "k", v}), kOK);
    EXPECT_EQ(EncodingOf("k"), "int") << v;
    EXPECT_EQ(t_.Run({"get", "k"}), Bulk(v));
  }
}

TEST_F(StringFamilyTest, EncodingsOfSetValues) {
  struct Case {
    std::string value, encoding;
  } cases[] = {{"9223372036854775808", "embstr"},
               {"0123", "embstr"},
               {"+1", "embstr"},
               {"-0", "embstr"},
               {" 12", "embstr"},
               {"", "embstr"},
               {std::string(44, 'a'), "embstr"},
               {std::string(45, 'a'), "raw"}};
  for (const auto& c : cases) {
    EXPECT_EQ(t_.Run({"set", "k", c.value}), kOK);
    EXPECT_EQ(EncodingOf("k"), c.encoding) << c.value;
    EXPECT_EQ(t_.Run({"get", "k"}), Bulk(c.value));
  }
}

TEST_F(StringFamilyTest, BinaryKeysAndValues) {
  std::string key("k\0\r\n\xff", 5);
  std::string value("a\0b\r\nc\xff\xfe\0", 9);
  EXPECT_EQ(t_.Run({"set", key, value}), kOK);
  EXPECT_EQ(t_.Run({"get", key}), Bulk(value));
  EXPECT_EQ(t_.Run({"get", "k"}), kNil);
  EXPECT_EQ(t_.Run({"strlen", key}), Int(9));
  EXPECT_EQ(t_.Run({"getrange", key, "1", "3"}), Bulk(std::string("\0b\r", 3)));
  EXPECT_EQ(t_.Run({"append", key, std::string("\0\0", 2)}), Int(11));
  EXPECT_EQ(t_.Run({"get", key}), Bulk(value + std::string("\0\0", 2)));
}

TEST_F(StringFamilyTest, SetNxXx) {
  EXPECT_EQ(t_.Run({"set", "k", "1", "XX"}), kNil);
  EXPECT_FALSE(Exists("k"));
  EXPECT_EQ(t_.Run({"set", "k", "1", "NX"}), kOK);
  EXPECT_EQ(t_.Run({"set", "k", "2", "nx"}), kNil);
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("1"));
  EXPECT_EQ(t_.Run({"set", "k", "3", "xx"}), kOK);
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("3"));
  t_.SetResp3(true);
  EXPECT_EQ(t_.Run({"set", "k", "4", "NX"}), "_\r\n");
}

TEST_F(StringFamilyTest, SetRelativeExpiry) {
  EXPECT_EQ(t_.Run({"set", "k", "v", "EX", "100"}), kOK);
  EXPECT_GT(PttlOf("k"), 99000);
  EXPECT_LE(PttlOf("k"), 100000);
  EXPECT_EQ(t_.Run({"set", "k", "v", "px", "100500"}), kOK);
  EXPECT_GT(PttlOf("k"), 100000);
  EXPECT_LE(PttlOf("k"), 100500);
}

TEST_F(StringFamilyTest, SetAbsoluteExpiry) {
  int64_t at_s = NowMs() / 1000 + 1000;
  EXPECT_EQ(t_.Run({"set", "k", "v", "EXAT", std::to_string(at_s)}), kOK);
  EXPECT_EQ(ExpireOf("k"), at_s * 1000);
  int64_t at_ms = NowMs() + 100000;
  EXPECT_EQ(t_.Run({"set", "k", "v", "PXAT", std::to_string(at_ms)}), kOK);
  EXPECT_EQ(ExpireOf("k"), at_ms);
}

TEST_F(StringFamilyTest, SetExpiryInThePastDeletesTheKey) {
  EXPECT_EQ(t_.Run({"set", "k", "old"}), kOK);
  EXPECT_EQ(t_.Run({"set", "k", "v", "EXAT", "1"}), kOK);
  EXPECT_FALSE(Exists("k"));
  EXPECT_EQ(t_.Run({"set", "k2", "v", "PXAT", "1"}), kOK);
  EXPECT_FALSE(Exists("k2"));
  EXPECT_EQ(t_.Run({"set", "k3", "v"}), kOK);
  EXPECT_EQ(t_.Run({"set", "k3", "new", "PXAT", "1", "GET"}), Bulk("v"));
  EXPECT_FALSE(Exists("k3"));
}

TEST_F(StringFamilyTest, SetWithoutTtlClearsTtlAndKeepTtlKeepsIt) {
  EXPECT_EQ(t_.Run({"set", "k", "v", "EX", "100"}), kOK);
  int64_t at = ExpireOf("k");
  EXPECT_EQ(t_.Run({"set", "k", "v2", "KEEPTTL"}), kOK);
  EXPECT_EQ(ExpireOf("k"), at);
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("v2"));
  EXPECT_EQ(t_.Run({"set", "k", "v3"}), kOK);
  EXPECT_EQ(ExpireOf("k"), 0);
  EXPECT_EQ(t_.Run({"set", "p", "x", "KEEPTTL"}), kOK);
  EXPECT_EQ(ExpireOf("p"), 0);
}

TEST_F(StringFamilyTest, SetGetOption) {
  EXPECT_EQ(t_.Run({"set", "k", "a", "GET"}), kNil);
  EXPECT_EQ(t_.Run({"set", "k", "bb", "get"}), Bulk("a"));
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("bb"));
  EXPECT_EQ(t_.Run({"set", "n", "12"}), kOK);
  EXPECT_EQ(t_.Run({"set", "n", "x", "GET"}), Bulk("12"));
}

TEST_F(StringFamilyTest, SetNxGetAndXxGet) {
  EXPECT_EQ(t_.Run({"set", "k", "1", "NX", "GET"}), kNil);
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("1"));
  EXPECT_EQ(t_.Run({"set", "k", "2", "NX", "GET"}), Bulk("1"));
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("1"));
  EXPECT_EQ(t_.Run({"set", "x", "1", "XX", "GET"}), kNil);
  EXPECT_FALSE(Exists("x"));
  EXPECT_EQ(t_.Run({"set", "k", "3", "XX", "GET"}), Bulk("1"));
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("3"));
}

TEST_F(StringFamilyTest, SetGetKeepTtlXx) {
  EXPECT_EQ(t_.Run({"set", "k", "old", "PX", "100000"}), kOK);
  int64_t at = ExpireOf("k");
  EXPECT_EQ(t_.Run({"set", "k", "new", "XX", "KEEPTTL", "GET"}), Bulk("old"));
  EXPECT_EQ(ExpireOf("k"), at);
  EXPECT_EQ(t_.Run({"set", "k", "newer", "EX", "100", "GET"}), Bulk("new"));
  EXPECT_GT(ExpireOf("k"), 0);
}

TEST_F(StringFamilyTest, SetNxWithExpiryNotAppliedWhenKeyExists) {
  EXPECT_EQ(t_.Run({"set", "k", "v"}), kOK);
  EXPECT_EQ(t_.Run({"set", "k", "v2", "NX", "EX", "100"}), kNil);
  EXPECT_EQ(ExpireOf("k"), 0);
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("v"));
}

TEST_F(StringFamilyTest, SetRepeatedOptionsAreAllowed) {
  EXPECT_EQ(t_.Run({"set", "k", "v", "NX", "NX"}), kOK);
  EXPECT_EQ(t_.Run({"set", "k", "w", "XX", "XX"}), kOK);
  EXPECT_EQ(t_.Run({"set", "k", "x", "EX", "10", "EX", "100"}), kOK);
  EXPECT_GT(PttlOf("k"), 99000);
  EXPECT_EQ(t_.Run({"set", "k", "y", "KEEPTTL", "KEEPTTL"}), kOK);
  EXPECT_GT(PttlOf("k"), 99000);
  EXPECT_EQ(t_.Run({"set", "k", "z", "GET", "GET"}), Bulk("y"));
}

TEST_F(StringFamilyTest, SetSyntaxErrors) {
  std::vector<std::vector<std::string_view>> bad = {{"NX", "XX"},
                                                    {"XX", "NX"},
                                                    {"EX", "10", "PX", "10000"},
                                                    {"PX", "10", "EX", "10"},
                                                    {"EX", "10", "EXAT", "99999999999"},
                                                    {"PX", "10", "PXAT", "99999999999"},
                                                    {"EXAT", "9999999999", "PXAT", "99999999999"},
                                                    {"KEEPTTL", "EX", "10"},
                                                    {"EX", "10", "KEEPTTL"},
                                                    {"PXAT", "99999999999999", "KEEPTTL"},
                                                    {"EX"},
                                                    {"PX"},
                                                    {"EXAT"},
                                                    {"PXAT"},
                                                    {"FOO"},
                                                    {"EX", "10", "BAR"},
                                                    {"PERSIST"},
                                                    {"GET", "EX"}};
  EXPECT_EQ(t_.Run({"set", "k", "orig"}), kOK);
  for (const auto& opts : bad) {
    std::vector<std::string_view> args = {"set", "k", "v"};
    args.insert(args.end(), opts.begin(), opts.end());
    EXPECT_EQ(t_.Run(args), Err("ERR syntax error")) << args.size();
  }
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("orig"));
  EXPECT_EQ(ExpireOf("k"), 0);
}

TEST_F(StringFamilyTest, SetInvalidExpireTimes) {
  const std::string invalid = Err("ERR invalid expire time in 'set' command");
  std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {"EX", "0"},
      {"EX", "-1"},
      {"PX", "0"},
      {"PX", "-100"},
      {"EXAT", "0"},
      {"EXAT", "-5"},
      {"PXAT", "0"},
      {"PXAT", "-5"},
      {"EX", "9223372036854775807"},
      {"PX", "9223372036854775807"},
      {"EXAT", "9223372036854775807"},
      {"EX", "-9223372036854775808"},
      {"EX", "9223372036854776"},     // * 1000 overflows
      {"PX", "9223372036854775000"},  // + now overflows
  };
  EXPECT_EQ(t_.Run({"set", "k", "orig"}), kOK);
  for (const auto& [opt, value] : cases) {
    EXPECT_EQ(t_.Run({"set", "k", "v", opt, value}), invalid) << opt << " " << value;
  }
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("orig"));
  // The largest EXAT that fits in ms is accepted.
  EXPECT_EQ(t_.Run({"set", "k", "v", "EXAT", "9223372036854775"}), kOK);
  EXPECT_EQ(ExpireOf("k"), 9223372036854775000);
}

TEST_F(StringFamilyTest, SetNonIntegerExpire) {
  const std::string not_int = Err("ERR value is not an integer or out of range");
  for (std::string_view v :
       {"1.5", "abc", "1e3", "", "10 ", " 10", "+10", "010", "9223372036854775808"}) {
    EXPECT_EQ(t_.Run({"set", "k", "v", "EX", v}), not_int) << v;
  }
  EXPECT_FALSE(Exists("k"));
}

TEST_F(StringFamilyTest, SetGetOnWrongTypeFailsAndPlainSetOverwrites) {
  PutList("l");
  EXPECT_EQ(t_.Run({"set", "l", "x", "GET"}), kWrongTypeErr);
  EXPECT_EQ(EncodingOf("l"), "quicklist");
  EXPECT_EQ(t_.Run({"get", "l"}), kWrongTypeErr);
  EXPECT_EQ(t_.Run({"set", "l", "x", "NX"}), kNil);
  EXPECT_EQ(t_.Run({"set", "l", "v"}), kOK);
  EXPECT_EQ(t_.Run({"get", "l"}), Bulk("v"));
}

TEST_F(StringFamilyTest, SetCountsDirty) {
  uint64_t d = Dirty();
  EXPECT_EQ(t_.Run({"set", "k", "v"}), kOK);
  EXPECT_EQ(Dirty(), d + 1);
  EXPECT_EQ(t_.Run({"set", "k", "v", "NX"}), kNil);
  EXPECT_EQ(Dirty(), d + 1);
  EXPECT_EQ(t_.Run({"set", "k", "v", "EX", "0"}), Err("ERR invalid expire time in 'set' command"));
  EXPECT_EQ(Dirty(), d + 1);
}

// ---------------------------------------------------------------------------
// SETNX / SETEX / PSETEX / GETSET / GETDEL / GETEX
// ---------------------------------------------------------------------------

TEST_F(StringFamilyTest, SetNx) {
  EXPECT_EQ(t_.Run({"setnx", "k", "1"}), Int(1));
  EXPECT_EQ(t_.Run({"setnx", "k", "2"}), Int(0));
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("1"));
  PutList("l");
  EXPECT_EQ(t_.Run({"setnx", "l", "x"}), Int(0));  // existence only, whatever the type
}

TEST_F(StringFamilyTest, SetExPSetEx) {
  EXPECT_EQ(t_.Run({"setex", "k", "100", "v"}), kOK);
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("v"));
  EXPECT_GT(PttlOf("k"), 99000);
  EXPECT_EQ(t_.Run({"psetex", "p", "100000", "v"}), kOK);
  EXPECT_GT(PttlOf("p"), 99000);
  EXPECT_LE(PttlOf("p"), 100000);
}

TEST_F(StringFamilyTest, SetExErrors) {
  EXPECT_EQ(t_.Run({"setex", "k", "0", "v"}), Err("ERR invalid expire time in 'setex' command"));
  EXPECT_EQ(t_.Run({"setex", "k", "-1", "v"}), Err("ERR invalid expire time in 'setex' command"));
  EXPECT_EQ(t_.Run({"setex", "k", "9223372036854775807", "v"}),
            Err("ERR invalid expire time in 'setex' command"));
  EXPECT_EQ(t_.Run({"psetex", "k", "0", "v"}), Err("ERR invalid expire time in 'psetex' command"));
  EXPECT_EQ(t_.Run({"PSETEX", "k", "-10", "v"}),
            Err("ERR invalid expire time in 'psetex' command"));
  EXPECT_EQ(t_.Run({"setex", "k", "1.5", "v"}), Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(t_.Run({"psetex", "k", "x", "v"}), Err("ERR value is not an integer or out of range"));
  EXPECT_FALSE(Exists("k"));
}

TEST_F(StringFamilyTest, GetSet) {
  EXPECT_EQ(t_.Run({"getset", "k", "1"}), kNil);
  EXPECT_EQ(t_.Run({"getset", "k", "2"}), Bulk("1"));
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("2"));
  EXPECT_EQ(t_.Run({"set", "t", "1", "EX", "100"}), kOK);
  EXPECT_EQ(t_.Run({"getset", "t", "2"}), Bulk("1"));
  EXPECT_EQ(ExpireOf("t"), 0);
  PutList("l");
  EXPECT_EQ(t_.Run({"getset", "l", "x"}), kWrongTypeErr);
  EXPECT_EQ(EncodingOf("l"), "quicklist");
}

TEST_F(StringFamilyTest, GetDel) {
  EXPECT_EQ(t_.Run({"set", "k", "abc"}), kOK);
  EXPECT_EQ(t_.Run({"getdel", "k"}), Bulk("abc"));
  EXPECT_FALSE(Exists("k"));
  EXPECT_EQ(t_.Run({"getdel", "k"}), kNil);
  EXPECT_EQ(t_.Run({"set", "n", "42"}), kOK);
  EXPECT_EQ(t_.Run({"getdel", "n"}), Bulk("42"));
  PutList("l");
  EXPECT_EQ(t_.Run({"getdel", "l"}), kWrongTypeErr);
  EXPECT_TRUE(Exists("l"));
}

TEST_F(StringFamilyTest, GetExWithoutOptionsIsGet) {
  EXPECT_EQ(t_.Run({"set", "k", "v", "EX", "100"}), kOK);
  int64_t at = ExpireOf("k");
  EXPECT_EQ(t_.Run({"getex", "k"}), Bulk("v"));
  EXPECT_EQ(ExpireOf("k"), at);
  EXPECT_EQ(t_.Run({"getex", "missing"}), kNil);
}

TEST_F(StringFamilyTest, GetExSetsExpiry) {
  EXPECT_EQ(t_.Run({"set", "k", "v"}), kOK);
  EXPECT_EQ(t_.Run({"getex", "k", "EX", "100"}), Bulk("v"));
  EXPECT_GT(PttlOf("k"), 99000);
  EXPECT_EQ(t_.Run({"getex", "k", "px", "200000"}), Bulk("v"));
  EXPECT_GT(PttlOf("k"), 199000);
  int64_t at_s = NowMs() / 1000 + 5000;
  EXPECT_EQ(t_.Run({"getex", "k", "EXAT", std::to_string(at_s)}), Bulk("v"));
  EXPECT_EQ(ExpireOf("k"), at_s * 1000);
  int64_t at_ms = NowMs() + 7000000;
  EXPECT_EQ(t_.Run({"getex", "k", "PXAT", std::to_string(at_ms)}), Bulk("v"));
  EXPECT_EQ(ExpireOf("k"), at_ms);
  EXPECT_EQ(t_.Run({"getex", "k", "PERSIST"}), Bulk("v"));
  EXPECT_EQ(ExpireOf("k"), 0);
  EXPECT_EQ(t_.Run({"getex", "k", "EX", "10", "EX", "100"}), Bulk("v"));
  EXPECT_GT(PttlOf("k"), 99000);
  EXPECT_EQ(t_.Run({"getex", "k", "PERSIST", "PERSIST"}), Bulk("v"));
  EXPECT_EQ(ExpireOf("k"), 0);
}

TEST_F(StringFamilyTest, GetExInThePastDeletesButReturnsValue) {
  EXPECT_EQ(t_.Run({"set", "k", "v"}), kOK);
  EXPECT_EQ(t_.Run({"getex", "k", "EXAT", "1"}), Bulk("v"));
  EXPECT_FALSE(Exists("k"));
  EXPECT_EQ(t_.Run({"set", "k", "7"}), kOK);
  EXPECT_EQ(t_.Run({"getex", "k", "PXAT", "1"}), Bulk("7"));
  EXPECT_FALSE(Exists("k"));
}

TEST_F(StringFamilyTest, GetExErrors) {
  EXPECT_EQ(t_.Run({"set", "k", "v", "EX", "100"}), kOK);
  int64_t at = ExpireOf("k");
  for (auto opts :
       std::vector<std::vector<std::string_view>>{{"EX", "10", "PX", "10000"},
                                                  {"EX", "10", "PERSIST"},
                                                  {"PERSIST", "PX", "100"},
                                                  {"EXAT", "99999999999", "PXAT", "99999999999000"},
                                                  {"FOO"},
                                                  {"EX"},
                                                  {"KEEPTTL"},
                                                  {"NX"},
                                                  {"XX"},
                                                  {"GET"}}) {
    std::vector<std::string_view> args = {"getex", "k"};
    args.insert(args.end(), opts.begin(), opts.end());
    EXPECT_EQ(t_.Run(args), Err("ERR syntax error"));
  }
  const std::string invalid = Err("ERR invalid expire time in 'getex' command");
  EXPECT_EQ(t_.Run({"getex", "k", "EX", "0"}), invalid);
  EXPECT_EQ(t_.Run({"getex", "k", "PX", "-5"}), invalid);
  EXPECT_EQ(t_.Run({"getex", "k", "EXAT", "9223372036854775807"}), invalid);
  EXPECT_EQ(t_.Run({"getex", "k", "EX", "abc"}),
            Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(ExpireOf("k"), at);
  // A missing key is nil before the expire time is looked at, as Redis.
  EXPECT_EQ(t_.Run({"getex", "missing", "EX", "0"}), kNil);
  EXPECT_EQ(t_.Run({"getex", "missing", "EX", "100"}), kNil);
  EXPECT_FALSE(Exists("missing"));
  PutList("l");
  EXPECT_EQ(t_.Run({"getex", "l"}), kWrongTypeErr);
  EXPECT_EQ(t_.Run({"getex", "l", "PERSIST"}), kWrongTypeErr);
  EXPECT_EQ(t_.Run({"getex", "l", "EX", "0"}), kWrongTypeErr);
}

TEST_F(StringFamilyTest, GetExResp3) {
  t_.SetResp3(true);
  EXPECT_EQ(t_.Run({"set", "k", "val"}), kOK);
  EXPECT_EQ(t_.Run({"getex", "k", "PERSIST"}), Bulk("val"));
  EXPECT_EQ(t_.Run({"getex", "nokey", "EX", "10"}), "_\r\n");
}

// ---------------------------------------------------------------------------
// MGET / MSET / MSETNX
// ---------------------------------------------------------------------------

TEST_F(StringFamilyTest, MSetMGet) {
  EXPECT_EQ(t_.Run({"mset", "a", "1", "b", "22", "c", "x"}), kOK);
  EXPECT_EQ(t_.Run({"mget", "a", "missing", "b", "c", "a"}),
            Arr({Bulk("1"), kNil, Bulk("22"), Bulk("x"), Bulk("1")}));
  EXPECT_EQ(t_.Run({"mset", "a", "1", "a", "2"}), kOK);
  EXPECT_EQ(t_.Run({"get", "a"}), Bulk("2"));
}

TEST_F(StringFamilyTest, MGetNonStringIsNil) {
  PutList("l");
  EXPECT_EQ(t_.Run({"set", "s", "x"}), kOK);
  EXPECT_EQ(t_.Run({"mget", "s", "l"}), Arr({Bulk("x"), kNil}));
  t_.SetResp3(true);
  EXPECT_EQ(t_.Run({"mget", "l"}), Arr({"_\r\n"}));
}

TEST_F(StringFamilyTest, MSetClearsTtlAndCountsDirty) {
  EXPECT_EQ(t_.Run({"set", "a", "1", "EX", "100"}), kOK);
  uint64_t d = Dirty();
  EXPECT_EQ(t_.Run({"mset", "a", "2", "b", "3"}), kOK);
  EXPECT_EQ(Dirty(), d + 2);
  EXPECT_EQ(ExpireOf("a"), 0);
}

TEST_F(StringFamilyTest, MSetArity) {
  EXPECT_EQ(t_.Run({"mset", "a", "1", "b"}),
            Err("ERR wrong number of arguments for 'mset' command"));
  EXPECT_EQ(t_.Run({"mset", "a"}), Err("ERR wrong number of arguments for 'mset' command"));
  EXPECT_EQ(t_.Run({"msetnx", "a", "1", "b"}),
            Err("ERR wrong number of arguments for 'msetnx' command"));
  EXPECT_EQ(t_.Run({"mget"}), Err("ERR wrong number of arguments for 'mget' command"));
  EXPECT_FALSE(Exists("a"));
}

TEST_F(StringFamilyTest, MSetNxIsAllOrNothing) {
  EXPECT_EQ(t_.Run({"msetnx", "a", "1", "b", "2"}), Int(1));
  EXPECT_EQ(t_.Run({"mget", "a", "b"}), Arr({Bulk("1"), Bulk("2")}));
  EXPECT_EQ(t_.Run({"msetnx", "c", "3", "a", "x"}), Int(0));
  EXPECT_FALSE(Exists("c"));
  EXPECT_EQ(t_.Run({"get", "a"}), Bulk("1"));
  PutList("l");
  EXPECT_EQ(t_.Run({"msetnx", "l", "x", "z", "y"}), Int(0));
  EXPECT_FALSE(Exists("z"));
  EXPECT_EQ(t_.Run({"msetnx", "d", "1", "d", "2"}), Int(1));
  EXPECT_EQ(t_.Run({"get", "d"}), Bulk("2"));
}

TEST_F(StringFamilyTest, MSetManyKeys) {
  std::vector<std::string> storage;
  for (int i = 0; i < 500; i++) {
    storage.push_back("key:" + std::to_string(i));
    storage.push_back("value:" + std::to_string(i));
  }
  std::vector<std::string_view> args = {"mset"};
  for (const auto& s : storage) args.push_back(s);
  EXPECT_EQ(t_.Run(args), kOK);
  std::vector<std::string_view> get = {"mget"};
  std::string expect = "*500\r\n";
  for (size_t i = 0; i < storage.size(); i += 2) {
    get.push_back(storage[i]);
    expect += Bulk(storage[i + 1]);
  }
  EXPECT_EQ(t_.Run(get), expect);
}

// ---------------------------------------------------------------------------
// APPEND / STRLEN
// ---------------------------------------------------------------------------

TEST_F(StringFamilyTest, Append) {
  EXPECT_EQ(t_.Run({"append", "k", "abc"}), Int(3));
  EXPECT_EQ(t_.Run({"append", "k", "def"}), Int(6));
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("abcdef"));
  EXPECT_EQ(t_.Run({"append", "k", ""}), Int(6));
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("abcdef"));
  EXPECT_EQ(t_.Run({"append", "e", ""}), Int(0));
  EXPECT_TRUE(Exists("e"));
}

TEST_F(StringFamilyTest, AppendToIntegerGivesRawString) {
  EXPECT_EQ(t_.Run({"set", "k", "12"}), kOK);
  EXPECT_EQ(t_.Run({"append", "k", "3"}), Int(3));
  EXPECT_EQ(EncodingOf("k"), "raw");
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("123"));
  EXPECT_EQ(t_.Run({"incr", "k"}), Int(124));
  EXPECT_EQ(EncodingOf("k"), "int");
  EXPECT_EQ(t_.Run({"append", "new", "5"}), Int(1));
  EXPECT_EQ(EncodingOf("new"), "int");  // a new key is encoded as SET would
}

TEST_F(StringFamilyTest, AppendKeepsTtl) {
  EXPECT_EQ(t_.Run({"set", "k", "a", "EX", "100"}), kOK);
  int64_t at = ExpireOf("k");
  EXPECT_EQ(t_.Run({"append", "k", "b"}), Int(2));
  EXPECT_EQ(ExpireOf("k"), at);
}

TEST_F(StringFamilyTest, AppendErrors) {
  PutList("l");
  EXPECT_EQ(t_.Run({"append", "l", "x"}), kWrongTypeErr);
  // The size limit is proto-max-bulk-len; lower it so the test does not allocate 512 MB.
  ASSERT_TRUE(t_.server().config().Set("proto-max-bulk-len", "1mb", true).ok());
  std::string big(1024 * 1024 - 1, 'x');
  EXPECT_EQ(t_.Run({"set", "k", big}), kOK);
  EXPECT_EQ(t_.Run({"append", "k", "y"}), Int(1024 * 1024));
  EXPECT_EQ(t_.Run({"append", "k", "z"}),
            Err("ERR string exceeds maximum allowed size (proto-max-bulk-len)"));
  EXPECT_EQ(t_.Run({"strlen", "k"}), Int(1024 * 1024));
}

TEST_F(StringFamilyTest, StrLen) {
  EXPECT_EQ(t_.Run({"strlen", "missing"}), Int(0));
  EXPECT_EQ(t_.Run({"set", "k", "hello"}), kOK);
  EXPECT_EQ(t_.Run({"strlen", "k"}), Int(5));
  EXPECT_EQ(t_.Run({"set", "n", "-12345"}), kOK);
  EXPECT_EQ(t_.Run({"strlen", "n"}), Int(6));
  EXPECT_EQ(t_.Run({"set", "u", "h\xc3\xa9llo"}), kOK);
  EXPECT_EQ(t_.Run({"strlen", "u"}), Int(6));
  PutList("l");
  EXPECT_EQ(t_.Run({"strlen", "l"}), kWrongTypeErr);
}

// ---------------------------------------------------------------------------
// INCR / DECR / INCRBY / DECRBY
// ---------------------------------------------------------------------------

TEST_F(StringFamilyTest, IncrDecrOnMissing) {
  EXPECT_EQ(t_.Run({"incr", "a"}), Int(1));
  EXPECT_EQ(t_.Run({"incr", "a"}), Int(2));
  EXPECT_EQ(t_.Run({"decr", "b"}), Int(-1));
  EXPECT_EQ(t_.Run({"incrby", "c", "10"}), Int(10));
  EXPECT_EQ(t_.Run({"decrby", "d", "7"}), Int(-7));
  EXPECT_EQ(t_.Run({"get", "a"}), Bulk("2"));
  EXPECT_EQ(t_.Run({"get", "d"}), Bulk("-7"));
  EXPECT_EQ(EncodingOf("a"), "int");
}

TEST_F(StringFamilyTest, IncrByDecrBy) {
  EXPECT_EQ(t_.Run({"set", "k", "100"}), kOK);
  EXPECT_EQ(t_.Run({"incrby", "k", "50"}), Int(150));
  EXPECT_EQ(t_.Run({"incrby", "k", "-200"}), Int(-50));
  EXPECT_EQ(t_.Run({"decrby", "k", "-60"}), Int(10));
  EXPECT_EQ(t_.Run({"decrby", "k", "10"}), Int(0));
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("0"));
}

TEST_F(StringFamilyTest, IncrOnInlineIntegerString) {
  // A string that holds an integer but is stored inline (after APPEND) still counts.
  EXPECT_EQ(t_.Run({"set", "k", "1"}), kOK);
  EXPECT_EQ(t_.Run({"append", "k", "0"}), Int(2));
  EXPECT_EQ(t_.Run({"incrby", "k", "5"}), Int(15));
  EXPECT_EQ(EncodingOf("k"), "int");
}

TEST_F(StringFamilyTest, IncrKeepsTtl) {
  EXPECT_EQ(t_.Run({"set", "k", "5", "EX", "100"}), kOK);
  int64_t at = ExpireOf("k");
  EXPECT_EQ(t_.Run({"incr", "k"}), Int(6));
  EXPECT_EQ(ExpireOf("k"), at);
  EXPECT_EQ(t_.Run({"set", "s", "5"}), kOK);
  EXPECT_EQ(t_.Run({"append", "s", "0"}), Int(2));
  EXPECT_EQ(t_.Run({"set", "s", "50", "KEEPTTL"}), kOK);
  EXPECT_EQ(t_.Run({"setrange", "s", "0", "6"}), Int(2));
  EXPECT_EQ(t_.Run({"getex", "s", "EX", "100"}), Bulk("60"));
  at = ExpireOf("s");
  EXPECT_EQ(t_.Run({"incr", "s"}), Int(61));  // inline -> new kInt entry
  EXPECT_EQ(ExpireOf("s"), at);
}

TEST_F(StringFamilyTest, IncrLimits) {
  EXPECT_EQ(t_.Run({"set", "k", "9223372036854775806"}), kOK);
  EXPECT_EQ(t_.Run({"incr", "k"}), Int(INT64_MAX));
  EXPECT_EQ(t_.Run({"set", "n", "-9223372036854775807"}), kOK);
  EXPECT_EQ(t_.Run({"decr", "n"}), Int(INT64_MIN));
  EXPECT_EQ(t_.Run({"get", "n"}), Bulk("-9223372036854775808"));
}

TEST_F(StringFamilyTest, IncrOverflow) {
  const std::string overflow = Err("ERR increment or decrement would overflow");
  struct Case {
    const char* start;
    std::vector<std::string_view> cmd;
  } cases[] = {
      {"9223372036854775807", {"incr", "k"}},
      {"9223372036854775807", {"incrby", "k", "1"}},
      {"-9223372036854775808", {"decr", "k"}},
      {"-9223372036854775808", {"incrby", "k", "-1"}},
      {"-9223372036854775808", {"decrby", "k", "1"}},
      {"-2", {"decrby", "k", "9223372036854775807"}},
      {"1", {"incrby", "k", "9223372036854775807"}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(t_.Run({"set", "k", c.start}), kOK);
    EXPECT_EQ(t_.Run(c.cmd), overflow) << c.start << " " << c.cmd[0];
    EXPECT_EQ(t_.Run({"get", "k"}), Bulk(c.start));
  }
  EXPECT_EQ(t_.Run({"set", "k", "1"}), kOK);
  EXPECT_EQ(t_.Run({"decrby", "k", "-9223372036854775808"}), Err("ERR decrement would overflow"));
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("1"));
  // INCRBY with LLONG_MIN itself is fine when it does not overflow.
  EXPECT_EQ(t_.Run({"incrby", "k", "-9223372036854775808"}), Int(INT64_MIN + 1));
}

TEST_F(StringFamilyTest, IncrOnNonInteger) {
  const std::string not_int = Err("ERR value is not an integer or out of range");
  for (std::string_view v : {"abc", "1.5", "", " 1", "1 ", "01", "+1", "1e3", "0x10",
                             "9223372036854775808", "-9223372036854775809", "12a", "-0"}) {
    EXPECT_EQ(t_.Run({"set", "k", v}), kOK);
    EXPECT_EQ(t_.Run({"incr", "k"}), not_int) << v;
    EXPECT_EQ(t_.Run({"decrby", "k", "1"}), not_int) << v;
    EXPECT_EQ(t_.Run({"get", "k"}), Bulk(v));
  }
  EXPECT_EQ(t_.Run({"set", "k", "1"}), kOK);
  for (std::string_view inc : {"1.5", "abc", "", "9223372036854775808"}) {
    EXPECT_EQ(t_.Run({"incrby", "k", inc}), not_int);
    EXPECT_EQ(t_.Run({"decrby", "k", inc}), not_int);
  }
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("1"));
}

TEST_F(StringFamilyTest, IncrWrongType) {
  PutList("l");
  EXPECT_EQ(t_.Run({"incr", "l"}), kWrongTypeErr);
  EXPECT_EQ(t_.Run({"decr", "l"}), kWrongTypeErr);
  EXPECT_EQ(t_.Run({"incrby", "l", "1"}), kWrongTypeErr);
  EXPECT_EQ(t_.Run({"decrby", "l", "1"}), kWrongTypeErr);
  // The increment is parsed before the key is looked at, as Redis.
  EXPECT_EQ(t_.Run({"incrby", "l", "x"}), Err("ERR value is not an integer or out of range"));
}

// ---------------------------------------------------------------------------
// INCRBYFLOAT
// ---------------------------------------------------------------------------

TEST_F(StringFamilyTest, IncrByFloatFormatting) {
  EXPECT_EQ(t_.Run({"incrbyfloat", "k", "10.5"}), Bulk("10.5"));
  EXPECT_EQ(t_.Run({"incrbyfloat", "k", "0.1"}), Bulk("10.6"));
  EXPECT_EQ(t_.Run({"incrbyfloat", "k", "-0.6"}), Bulk("10"));
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("10"));
  EXPECT_EQ(EncodingOf("k"), "embstr");  // a string, as Redis, even when it reads as integer
  EXPECT_EQ(t_.Run({"incr", "k"}), Int(11));
}

TEST_F(StringFamilyTest, IncrByFloatSequence) {
  struct {
    const char* inc;
    const char* expect;
  } steps[] = {{"1.0", "1"},        {"1.5", "2.5"},
               {"-2.5", "0"},       {"0.1", "0.1"},
               {"0.2", "0.3"},      {"-0.3", "0"},
               {"1e-5", "0.00001"}, {"-0.00001", "0"},
               {"3.14e2", "314"},   {"1e17", "100000000000000314"}};
  for (const auto& s : steps)
    EXPECT_EQ(t_.Run({"incrbyfloat", "k", s.inc}), Bulk(s.expect)) << s.inc;
}

TEST_F(StringFamilyTest, IncrByFloatExponentAndIntegerValues) {
  EXPECT_EQ(t_.Run({"set", "k", "5.0e3"}), kOK);
  EXPECT_EQ(t_.Run({"incrbyfloat", "k", "2.0e2"}), Bulk("5200"));
  EXPECT_EQ(t_.Run({"set", "n", "10"}), kOK);
  EXPECT_EQ(t_.Run({"incrbyfloat", "n", "1.5"}), Bulk("11.5"));
  EXPECT_EQ(t_.Run({"set", "h", "0x10"}), kOK);  // strtold reads hex, as in Redis
  EXPECT_EQ(t_.Run({"incrbyfloat", "h", "1"}), Bulk("17"));
  EXPECT_EQ(t_.Run({"set", "m", "-9223372036854775808"}), kOK);
  EXPECT_EQ(t_.Run({"incrbyfloat", "m", "0"}), Bulk("-9223372036854775808"));
}

TEST_F(StringFamilyTest, IncrByFloatKeepsTtlAndIsBulkInResp3) {
  EXPECT_EQ(t_.Run({"set", "k", "1", "EX", "100"}), kOK);
  int64_t at = ExpireOf("k");
  t_.SetResp3(true);
  EXPECT_EQ(t_.Run({"incrbyfloat", "k", "1.5"}), Bulk("2.5"));
  EXPECT_EQ(ExpireOf("k"), at);
}

TEST_F(StringFamilyTest, IncrByFloatErrors) {
  const std::string not_float = Err("ERR value is not a valid float");
  const std::string nan_inf = Err("ERR increment would produce NaN or Infinity");
  EXPECT_EQ(t_.Run({"set", "k", "1"}), kOK);
  for (std::string_view inc : std::vector<std::string_view>{
           "abc", "", " 1", "1 ", "nan", "1.5x", "1e5000", "1e-5000", std::string_view("1\0", 2)}) {
    EXPECT_EQ(t_.Run({"incrbyfloat", "k", inc}), not_float) << inc;
  }
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk("1"));
  for (std::string_view v : {"abc", "", "1 ", " 1", "1.5.5"}) {
    EXPECT_EQ(t_.Run({"set", "v", v}), kOK);
    EXPECT_EQ(t_.Run({"incrbyfloat", "v", "1"}), not_float);
    EXPECT_EQ(t_.Run({"get", "v"}), Bulk(v));
  }
  EXPECT_EQ(t_.Run({"incrbyfloat", "x", "inf"}), nan_inf);
  EXPECT_EQ(t_.Run({"incrbyfloat", "x", "-inf"}), nan_inf);
  EXPECT_FALSE(Exists("x"));
  EXPECT_EQ(t_.Run({"set", "i", "inf"}), kOK);
  EXPECT_EQ(t_.Run({"incrbyfloat", "i", "1"}), nan_inf);
  EXPECT_EQ(t_.Run({"incrbyfloat", "i", "-inf"}), nan_inf);  // inf - inf = nan
  EXPECT_EQ(t_.Run({"get", "i"}), Bulk("inf"));
  // Overflowing the long double range is Infinity.
  EXPECT_EQ(t_.Run({"set", "big", "1e4932"}), kOK);
  EXPECT_EQ(t_.Run({"incrbyfloat", "big", "1e4932"}), nan_inf);
  PutList("l");
  EXPECT_EQ(t_.Run({"incrbyfloat", "l", "1"}), kWrongTypeErr);
}

TEST_F(StringFamilyTest, IncrByFloatHugeValueHasNoExponent) {
  EXPECT_EQ(t_.Run({"incrbyfloat", "k", "1e300"}), Bulk([] {
              char buf[kLongDoubleChars];
              size_t n = FormatLongDoubleHuman(1e300L, buf);
              return std::string(buf, n);
            }()));
  std::string reply = t_.Run({"get", "k"});
  EXPECT_EQ(reply.find('e'), std::string::npos);
  EXPECT_EQ(reply.size(), 6 + 301 + 2);  // "$301\r\n", 301 digits, "\r\n"
}

// ---------------------------------------------------------------------------
// GETRANGE / SUBSTR / SETRANGE
// ---------------------------------------------------------------------------

TEST_F(StringFamilyTest, GetRange) {
  EXPECT_EQ(t_.Run({"set", "s", "Hello World"}), kOK);
  struct {
    const char *start, *end, *expect;
  } cases[] = {{"0", "4", "Hello"},
               {"-5", "-1", "World"},
               {"0", "-1", "Hello World"},
               {"-100", "-1", "Hello World"},
               {"0", "100", "Hello World"},
               {"6", "6", "W"},
               {"5", "2", ""},
               {"100", "200", ""},
               {"-1", "-5", ""},
               {"-1", "-1", "d"},
               {"10", "10", "d"},
               {"11", "11", ""},
               {"0", "-100", "H"},
               {"-100", "-100", "H"},
               {"-9223372036854775808", "9223372036854775807", "Hello World"},
               {"9223372036854775807", "-9223372036854775808", ""}};
  for (const auto& c : cases) {
    EXPECT_EQ(t_.Run({"getrange", "s", c.start, c.end}), Bulk(c.expect)) << c.start << c.end;
    EXPECT_EQ(t_.Run({"substr", "s", c.start, c.end}), Bulk(c.expect));
  }
}

TEST_F(StringFamilyTest, GetRangeMissingEmptyAndInteger) {
  EXPECT_EQ(t_.Run({"getrange", "missing", "0", "-1"}), "$0\r\n\r\n");
  t_.SetResp3(true);
  EXPECT_EQ(t_.Run({"getrange", "missing", "0", "-1"}), "$0\r\n\r\n");  // not null
  t_.SetResp3(false);
  EXPECT_EQ(t_.Run({"set", "e", ""}), kOK);
  EXPECT_EQ(t_.Run({"getrange", "e", "0", "-1"}), Bulk(""));
  EXPECT_EQ(t_.Run({"getrange", "e", "-1", "-1"}), Bulk(""));
  EXPECT_EQ(t_.Run({"set", "n", "123456"}), kOK);
  EXPECT_EQ(t_.Run({"getrange", "n", "1", "3"}), Bulk("234"));
  EXPECT_EQ(t_.Run({"getrange", "n", "-2", "-1"}), Bulk("56"));
}

TEST_F(StringFamilyTest, GetRangeErrors) {
  EXPECT_EQ(t_.Run({"set", "s", "abc"}), kOK);
  EXPECT_EQ(t_.Run({"getrange", "s", "a", "1"}),
            Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(t_.Run({"getrange", "s", "0", "1.0"}),
            Err("ERR value is not an integer or out of range"));
  // Indexes are parsed before the key is looked at, even for a missing key.
  EXPECT_EQ(t_.Run({"getrange", "missing", "x", "1"}),
            Err("ERR value is not an integer or out of range"));
  PutList("l");
  EXPECT_EQ(t_.Run({"getrange", "l", "0", "1"}), kWrongTypeErr);
  EXPECT_EQ(t_.Run({"substr", "l", "0", "1"}), kWrongTypeErr);
}

TEST_F(StringFamilyTest, SetRangeOverwriteAndExtend) {
  EXPECT_EQ(t_.Run({"set", "s", "Hello World"}), kOK);
  EXPECT_EQ(t_.Run({"setrange", "s", "6", "Redis"}), Int(11));
  EXPECT_EQ(t_.Run({"get", "s"}), Bulk("Hello Redis"));
  EXPECT_EQ(t_.Run({"setrange", "s", "10", "s!!"}), Int(13));
  EXPECT_EQ(t_.Run({"get", "s"}), Bulk("Hello Redis!!"));
  EXPECT_EQ(EncodingOf("s"), "raw");
}

TEST_F(StringFamilyTest, SetRangePadsWithZeroBytes) {
  EXPECT_EQ(t_.Run({"setrange", "k", "5", "x"}), Int(6));
  EXPECT_EQ(t_.Run({"get", "k"}), Bulk(std::string("\0\0\0\0\0x", 6)));
  EXPECT_EQ(t_.Run({"set", "s", "ab"}), kOK);
  EXPECT_EQ(t_.Run({"setrange", "s", "4", "cd"}), Int(6));
  EXPECT_EQ(t_.Run({"get", "s"}), Bulk(std::string("ab\0\0cd", 6)));
  EXPECT_EQ(t_.Run({"setrange", "big", "100000", "end"}), Int(100003));
  EXPECT_EQ(t_.Run({"getrange", "big", "99998", "-1"}), Bulk(std::string("\0\0end", 5)));
}

TEST_F(StringFamilyTest, SetRangeEmptyValue) {
  uint64_t d = Dirty();
  EXPECT_EQ(t_.Run({"setrange", "k", "0", ""}), Int(0));
  EXPECT_EQ(t_.Run({"setrange", "k", "5", ""}), Int(0));
  EXPECT_FALSE(Exists("k"));
  EXPECT_EQ(t_.Run({"set", "s", "abc"}), kOK);
  EXPECT_EQ(t_.Run({"setrange", "s", "10", ""}), Int(3));
  EXPECT_EQ(t_.Run({"get", "s"}), Bulk("abc"));
  EXPECT_EQ(Dirty(), d + 1);  // only the SET
  // Even a huge offset is fine when nothing is written.
  EXPECT_EQ(t_.Run({"setrange", "s", "9223372036854775807", ""}), Int(3));
}

TEST_F(StringFamilyTest, SetRangeOnIntegerAndTtl) {
  EXPECT_EQ(t_.Run({"set", "n", "12345", "EX", "100"}), kOK);
  int64_t at = ExpireOf("n");
  EXPECT_EQ(t_.Run({"setrange", "n", "1", "9"}), Int(5));
  EXPECT_EQ(t_.Run({"get", "n"}), Bulk("19345"));
  EXPECT_EQ(ExpireOf("n"), at);
  EXPECT_EQ(t_.Run({"incr", "n"}), Int(19346));
}

TEST_F(StringFamilyTest, SetRangeErrors) {
  EXPECT_EQ(t_.Run({"set", "s", "abc"}), kOK);
  EXPECT_EQ(t_.Run({"setrange", "s", "-1", "x"}), Err("ERR offset is out of range"));
  EXPECT_EQ(t_.Run({"setrange", "missing", "-1", "x"}), Err("ERR offset is out of range"));
  EXPECT_EQ(t_.Run({"setrange", "s", "abc", "x"}),
            Err("ERR value is not an integer or out of range"));
  const std::string too_long = Err("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
  EXPECT_EQ(t_.Run({"setrange", "s", "536870912", "x"}), too_long);
  EXPECT_EQ(t_.Run({"setrange", "s", "536870911", "xy"}), too_long);
  EXPECT_EQ(t_.Run({"setrange", "missing", "536870912", "x"}), too_long);
  EXPECT_EQ(t_.Run({"setrange", "s", "9223372036854775807", "x"}), too_long);  // no overflow
  EXPECT_EQ(t_.Run({"get", "s"}), Bulk("abc"));
  EXPECT_FALSE(Exists("missing"));
  PutList("l");
  EXPECT_EQ(t_.Run({"setrange", "l", "0", "x"}), kWrongTypeErr);
  EXPECT_EQ(t_.Run({"setrange", "l", "-1", "x"}), Err("ERR offset is out of range"));
}

// ---------------------------------------------------------------------------
// LCS
// ---------------------------------------------------------------------------

TEST_F(StringFamilyTest, LcsPlainAndLen) {
  EXPECT_EQ(t_.Run({"mset", "key1", "ohmytext", "key2", "mynewtext"}), kOK);
  EXPECT_EQ(t_.Run({"lcs", "key1", "key2"}), Bulk("mytext"));
  EXPECT_EQ(t_.Run({"lcs", "key2", "key1"}), Bulk("mytext"));
  EXPECT_EQ(t_.Run({"lcs", "key1", "key2", "LEN"}), Int(6));
  EXPECT_EQ(t_.Run({"lcs", "key1", "key2", "MINMATCHLEN", "4"}), Bulk("mytext"));
  EXPECT_EQ(t_.Run({"lcs", "key1", "key1"}), Bulk("ohmytext"));
}

TEST_F(StringFamilyTest, LcsMissingAndDisjoint) {
  EXPECT_EQ(t_.Run({"set", "a", "hello"}), kOK);
  EXPECT_EQ(t_.Run({"lcs", "a", "missing"}), Bulk(""));
  EXPECT_EQ(t_.Run({"lcs", "missing", "a", "LEN"}), Int(0));
  EXPECT_EQ(t_.Run({"lcs", "m1", "m2"}), Bulk(""));
  EXPECT_EQ(t_.Run({"set", "b", "xyz"}), kOK);
  EXPECT_EQ(t_.Run({"lcs", "a", "b"}), Bulk(""));
  EXPECT_EQ(t_.Run({"lcs", "a", "b", "LEN"}), Int(0));
  EXPECT_EQ(t_.Run({"lcs", "m1", "m2", "IDX"}), "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n");
}

TEST_F(StringFamilyTest, LcsIntegerValues) {
  EXPECT_EQ(t_.Run({"mset", "a", "12345", "b", "-2349"}), kOK);
  EXPECT_EQ(t_.Run({"lcs", "a", "b"}), Bulk("234"));
}

TEST_F(StringFamilyTest, LcsIdx) {
  EXPECT_EQ(t_.Run({"mset", "key1", "ohmytext", "key2", "mynewtext"}), kOK);
  EXPECT_EQ(t_.Run({"lcs", "key1", "key2", "IDX"}),
            "*4\r\n$7\r\nmatches\r\n*2\r\n"
            "*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n"
            "*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n"
            "$3\r\nlen\r\n:6\r\n");
  EXPECT_EQ(t_.Run({"lcs", "key1", "key2", "idx", "withmatchlen"}),
            "*4\r\n$7\r\nmatches\r\n*2\r\n"
            "*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n"
            "*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n"
            "$3\r\nlen\r\n:6\r\n");
  EXPECT_EQ(t_.Run({"lcs", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"}),
            "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n"
            "$3\r\nlen\r\n:6\r\n");
  // A negative MINMATCHLEN means no minimum.
  EXPECT_EQ(t_.Run({"lcs", "key1", "key2", "IDX", "MINMATCHLEN", "-3"}),
            t_.Run({"lcs", "key1", "key2", "IDX"}));
  t_.SetResp3(true);
  EXPECT_EQ(t_.Run({"lcs", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"}),
            "%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n"
            "$3\r\nlen\r\n:6\r\n");
}

TEST_F(StringFamilyTest, LcsErrors) {
  EXPECT_EQ(t_.Run({"mset", "a", "x", "b", "y"}), kOK);
  EXPECT_EQ(t_.Run({"lcs", "a", "b", "LEN", "IDX"}),
            Err("ERR If you want both the length and indexes, please just use IDX."));
  EXPECT_EQ(t_.Run({"lcs", "a", "b", "FOO"}), Err("ERR syntax error"));
  EXPECT_EQ(t_.Run({"lcs", "a", "b", "MINMATCHLEN"}), Err("ERR syntax error"));
  EXPECT_EQ(t_.Run({"lcs", "a", "b", "MINMATCHLEN", "x"}),
            Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(t_.Run({"lcs", "a"}), Err("ERR wrong number of arguments for 'lcs' command"));
  PutList("l");
  EXPECT_EQ(t_.Run({"lcs", "l", "a"}), Err("ERR The specified keys must contain string values"));
  EXPECT_EQ(t_.Run({"lcs", "a", "l", "FOO"}),
            Err("ERR The specified keys must contain string values"));
}

TEST_F(StringFamilyTest, LcsRefusesHugeTables) {
  // 20000 x 20000 bytes would need 400M cells (1.6 GB): refused, not allocated.
  std::string a(20000, 'a'), b(20000, 'b');
  EXPECT_EQ(t_.Run({"mset", "a", a, "b", b}), kOK);
  std::string reply = t_.Run({"lcs", "a", "b"});
  EXPECT_EQ(reply.rfind("-ERR LCS strings are too long", 0), 0u) << reply;
  EXPECT_EQ(t_.Run({"lcs", "a", "b", "LEN"}), reply);
  // One empty side needs no table at all.
  EXPECT_EQ(t_.Run({"lcs", "a", "missing"}), Bulk(""));
}

// ---------------------------------------------------------------------------
// Arity and registry rows
// ---------------------------------------------------------------------------

TEST_F(StringFamilyTest, ArityErrors) {
  std::vector<std::vector<std::string_view>> cases = {{"get"},
                                                      {"get", "a", "b"},
                                                      {"set", "a"},
                                                      {"getset", "a"},
                                                      {"getdel"},
                                                      {"getex"},
                                                      {"setnx", "a"},
                                                      {"setex", "a", "10"},
                                                      {"psetex", "a", "10"},
                                                      {"append", "a"},
                                                      {"strlen"},
                                                      {"incr"},
                                                      {"decr", "a", "b"},
                                                      {"incrby", "a"},
                                                      {"decrby", "a"},
                                                      {"incrbyfloat", "a"},
                                                      {"getrange", "a", "0"},
                                                      {"setrange", "a", "0"},
                                                      {"substr", "a"},
                                                      {"lcs", "a"},
                                                      {"mget"},
                                                      {"mset"},
                                                      {"msetnx"},
                                                      {"getdel", "a", "b"}};
  for (const auto& args : cases) {
    EXPECT_EQ(t_.Run(args),
              Err("ERR wrong number of arguments for '" + std::string(args[0]) + "' command"));
  }
}

TEST_F(StringFamilyTest, RegistryRows) {
  const CommandRegistry& r = CommandRegistry::Default();
  struct Row {
    const char* name;
    int arity, first, last, step;
    bool write;
  } rows[] = {{"get", 2, 1, 1, 1, false},      {"set", -3, 1, 1, 1, true},
              {"setnx", 3, 1, 1, 1, true},     {"setex", 4, 1, 1, 1, true},
              {"psetex", 4, 1, 1, 1, true},    {"getset", 3, 1, 1, 1, true},
              {"getdel", 2, 1, 1, 1, true},    {"getex", -2, 1, 1, 1, true},
              {"mget", -2, 1, -1, 1, false},   {"mset", -3, 1, -1, 2, true},
              {"msetnx", -3, 1, -1, 2, true},  {"append", 3, 1, 1, 1, true},
              {"strlen", 2, 1, 1, 1, false},   {"incr", 2, 1, 1, 1, true},
              {"decr", 2, 1, 1, 1, true},      {"incrby", 3, 1, 1, 1, true},
              {"decrby", 3, 1, 1, 1, true},    {"incrbyfloat", 3, 1, 1, 1, true},
              {"getrange", 4, 1, 1, 1, false}, {"substr", 4, 1, 1, 1, false},
              {"setrange", 4, 1, 1, 1, true},  {"lcs", -3, 1, 2, 1, false}};
  for (const auto& row : rows) {
    const CommandSpec* s = r.Find(row.name);
    ASSERT_NE(s, nullptr) << row.name;
    EXPECT_EQ(s->arity, row.arity) << row.name;
    EXPECT_EQ(s->first_key, row.first) << row.name;
    EXPECT_EQ(s->last_key, row.last) << row.name;
    EXPECT_EQ(s->step, row.step) << row.name;
    EXPECT_EQ((s->flags & cmdflags::kWrite) != 0, row.write) << row.name;
    EXPECT_EQ((s->flags & cmdflags::kReadOnly) != 0, !row.write) << row.name;
    EXPECT_STREQ(s->group, "string");
  }
  std::vector<size_t> idx;
  std::vector<std::string_view> call = {"mset", "a", "1", "b", "2", "c", "3"};
  CommandRegistry::KeyIndexes(*r.Find("mset"), call, &idx);
  EXPECT_EQ(idx, (std::vector<size_t>{1, 3, 5}));
}

// ---------------------------------------------------------------------------
// Effects reported to the storage engine
// ---------------------------------------------------------------------------

class StringEffectsTest : public StringFamilyTest {
 protected:
  void SetUp() override { ks().AddSink(&obs_); }
  void TearDown() override { ks().RemoveSink(&obs_); }
  RecordingObserver obs_;
};

TEST_F(StringEffectsTest, IncrInPlaceIsReported) {
  EXPECT_EQ(t_.Run({"set", "k", "5"}), kOK);
  EXPECT_EQ(t_.Run({"incr", "k"}), Int(6));
  EXPECT_EQ(t_.Run({"incrby", "k", "x"}), Err("ERR value is not an integer or out of range"));
  EXPECT_EQ(obs_.log, (std::vector<std::string>{"put k=5", "put k=6"}));
}

TEST_F(StringEffectsTest, RelativeExpiryIsLoggedAsDeadline) {
  EXPECT_EQ(t_.Run({"set", "k", "v", "EX", "100"}), kOK);
  int64_t at = ExpireOf("k");
  // APPEND logs its tail as a range change: the entry keeps its deadline.
  EXPECT_EQ(t_.Run({"append", "k", "w"}), Int(2));
  EXPECT_EQ(t_.Run({"getex", "k", "PERSIST"}), Bulk("vw"));
  EXPECT_EQ(t_.Run({"getex", "k", "PERSIST"}), Bulk("vw"));  // no TTL: nothing to log
  EXPECT_EQ(obs_.log,
            (std::vector<std::string>{"put k=v @" + std::to_string(at),
                                      "range k=vw @" + std::to_string(at), "expire k @0"}));
}

TEST_F(StringEffectsTest, PastDeadlineIsLoggedAsDelete) {
  EXPECT_EQ(t_.Run({"set", "k", "v"}), kOK);
  EXPECT_EQ(t_.Run({"set", "k", "w", "EXAT", "1"}), kOK);
  EXPECT_EQ(t_.Run({"set", "k", "w", "PXAT", "1"}), kOK);  // missing: nothing to delete
  EXPECT_EQ(t_.Run({"set", "g", "v"}), kOK);
  EXPECT_EQ(t_.Run({"getex", "g", "PXAT", "1"}), Bulk("v"));
  EXPECT_EQ(obs_.log, (std::vector<std::string>{"put k=v", "del k", "put g=v", "del g"}));
}

TEST_F(StringEffectsTest, FailedAndNoOpCommandsLogNothing) {
  EXPECT_EQ(t_.Run({"set", "k", "1"}), kOK);
  obs_.log.clear();
  t_.Run({"set", "k", "2", "NX"});
  t_.Run({"set", "x", "2", "XX"});
  t_.Run({"setnx", "k", "3"});
  t_.Run({"msetnx", "a", "1", "k", "2"});
  t_.Run({"incr", "k", "x"});
  t_.Run({"incrbyfloat", "k", "nan"});
  t_.Run({"setrange", "k", "0", ""});
  t_.Run({"setrange", "k", "-1", "x"});
  t_.Run({"get", "k"});
  t_.Run({"mget", "k", "a"});
  t_.Run({"getex", "k"});
  t_.Run({"lcs", "k", "a"});
  EXPECT_TRUE(obs_.log.empty()) << obs_.log[0];
}

// ---------------------------------------------------------------------------
// The pure helpers
// ---------------------------------------------------------------------------

TEST(StringOpsTest, ParseLongDouble) {
  long double v;
  EXPECT_TRUE(ParseLongDouble("1.5", &v));
  EXPECT_EQ(v, 1.5L);
  EXPECT_TRUE(ParseLongDouble("-3e2", &v));
  EXPECT_EQ(v, -300.0L);
  EXPECT_TRUE(ParseLongDouble("inf", &v));
  EXPECT_TRUE(std::isinf(v));
  EXPECT_TRUE(ParseLongDouble("1e-4940", &v));  // a denormal: accepted, as Redis
  for (std::string_view bad : {"", " 1", "1 ", "nan", "-nan", "abc", "1e5000", "1e-5000", "1.5x"}) {
    EXPECT_FALSE(ParseLongDouble(bad, &v)) << bad;
  }
  EXPECT_FALSE(ParseLongDouble(std::string(kLongDoubleChars, '1'), &v));
}

TEST(StringOpsTest, FormatLongDoubleHuman) {
  char buf[kLongDoubleChars];
  auto fmt = [&](long double v) { return std::string(buf, FormatLongDoubleHuman(v, buf)); };
  EXPECT_EQ(fmt(0), "0");
  EXPECT_EQ(fmt(-0.0L), "0");
  EXPECT_EQ(fmt(10.5L), "10.5");
  EXPECT_EQ(fmt(3.0L), "3");
  EXPECT_EQ(fmt(-2.25L), "-2.25");
  EXPECT_EQ(fmt(1e-5L), "0.00001");
  EXPECT_EQ(fmt(1e-18L), "0");  // below 17 decimals
  EXPECT_EQ(fmt(-1e-18L), "0");
  EXPECT_EQ(fmt(1e20L), "100000000000000000000");
  std::string max = fmt(LDBL_MAX);
  EXPECT_EQ(max.size(), 4933u);
}

TEST(StringOpsTest, GetRange) {
  EXPECT_EQ(GetRange("", 0, -1), "");
  EXPECT_EQ(GetRange("abc", 0, -1), "abc");
  EXPECT_EQ(GetRange("abc", -2, -1), "bc");
  EXPECT_EQ(GetRange("abc", 2, 1), "");
  EXPECT_EQ(GetRange("abc", INT64_MIN, INT64_MAX), "abc");
  EXPECT_EQ(GetRange("abc", INT64_MAX, INT64_MAX), "");
}

TEST(StringOpsTest, ParseDeadline) {
  int64_t d;
  EXPECT_EQ(ParseDeadline("10", ExpireUnit::kSeconds, true, 1000, &d), DeadlineStatus::kOk);
  EXPECT_EQ(d, 11000);
  EXPECT_EQ(ParseDeadline("10", ExpireUnit::kMilliseconds, true, 1000, &d), DeadlineStatus::kOk);
  EXPECT_EQ(d, 1010);
  EXPECT_EQ(ParseDeadline("10", ExpireUnit::kSeconds, false, 1000, &d), DeadlineStatus::kOk);
  EXPECT_EQ(d, 10000);
  EXPECT_EQ(ParseDeadline("x", ExpireUnit::kSeconds, false, 0, &d), DeadlineStatus::kNotInteger);
  EXPECT_EQ(ParseDeadline("0", ExpireUnit::kSeconds, false, 0, &d), DeadlineStatus::kInvalid);
  EXPECT_EQ(ParseDeadline("9223372036854775807", ExpireUnit::kMilliseconds, false, 5, &d),
            DeadlineStatus::kOk);
  EXPECT_EQ(ParseDeadline("9223372036854775807", ExpireUnit::kMilliseconds, true, 5, &d),
            DeadlineStatus::kInvalid);
  EXPECT_EQ(ParseDeadline("9223372036854775802", ExpireUnit::kMilliseconds, true, 5, &d),
            DeadlineStatus::kOk);
  EXPECT_EQ(d, INT64_MAX);
}

TEST(StringOpsTest, LcsMatchesBruteForceLength) {
  // The full-table and two-row variants agree, and the string is a common subsequence.
  const char* words[] = {"",     "a",        "ab",        "abcbdab", "bdcaba",
                         "aaaa", "ohmytext", "mynewtext", "xyz",     "abcabcabc"};
  for (const char* x : words) {
    for (const char* y : words) {
      LcsOptions full;
      full.max_cells = 1 << 20;
      LcsOptions len_only = full;
      len_only.want_string = false;
      auto r1 = ComputeLcs(x, y, full);
      auto r2 = ComputeLcs(x, y, len_only);
      ASSERT_TRUE(r1.ok() && r2.ok());
      EXPECT_EQ(r1->len, r2->len) << x << " " << y;
      EXPECT_EQ(r1->lcs.size(), r1->len);
      size_t pos = 0;  // r1->lcs is a subsequence of y
      for (char c : r1->lcs) {
        pos = std::string_view(y).find(c, pos);
        ASSERT_NE(pos, std::string_view::npos);
        pos++;
      }
    }
  }
  LcsOptions tiny;
  tiny.max_cells = 15;
  EXPECT_FALSE(ComputeLcs("abc", "abc", tiny).ok());  // 16 cells
  EXPECT_TRUE(ComputeLcs("abc", "ab", tiny).ok());    // 12 cells
}

}  // namespace
}  // namespace fdb
