#include "base/slot.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "engine/keyspace.h"

namespace fdb {
namespace {

// Redis's crc16.c, one bit at a time: the reference for the table-driven Crc16.
uint16_t Crc16Bitwise(std::string_view data) {
  uint16_t crc = 0;
  for (unsigned char c : data) {
    crc ^= static_cast<uint16_t>(c << 8);
    for (int i = 0; i < 8; i++) {
      crc = static_cast<uint16_t>((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
    }
  }
  return crc;
}

TEST(SlotTest, Crc16MatchesBitwiseAtEveryLength) {
  std::mt19937 rnd(10);
  for (int len = 0; len < 200; len++) {
    for (int trial = 0; trial < 20; trial++) {
      std::string s(len, '\0');
      for (char& c : s) c = static_cast<char>(rnd());
      ASSERT_EQ(Crc16(s), Crc16Bitwise(s)) << "length " << len;
    }
  }
}

TEST(SlotTest, Crc16CheckValue) {
  // CRC-16/XMODEM's catalogued check value, and Redis's crc16.c test vector.
  EXPECT_EQ(Crc16("123456789"), 0x31C3);
  EXPECT_EQ(Crc16(""), 0);
}

// Every expected slot below was read from Redis 7.0.15 (Debian) in cluster mode with
// `redis-cli cluster keyslot KEY`.
TEST(SlotTest, MatchesRedisClusterKeyslot) {
  const std::vector<std::pair<std::string, int>> cases = {
      {"somekey", 11058},  // also in Redis's CLUSTER KEYSLOT documentation
      {"{user1000}.following", 3443},
      {"{user1000}.followers", 3443},
      {"foo", 12182},
      {"bar", 5061},
      {"", 0},
      {"a{}b", 13694},          // empty tag: the whole key
      {"{}", 15257},            // empty tag: the whole key
      {"foo{}{bar}", 8363},     // the first '{' opens the tag, and it is empty
      {"foo{{bar}}zap", 4015},  // tag "{bar"
      {"foo{bar}{zap}", 5061},  // tag "bar", as "bar"
      {"{", 4092},              // no '}': the whole key
      {"}", 12090},
      {"x{y", 2740},
      {"key:000000000001", 8924},
      {"123456789", 12739},  // 0x31C3 & 0x3FFF
      {"hello", 866},
      {"abc{d}e", 11298},
      {"{d}", 11298},
      {"}{a}", 15495},  // a '}' before the '{' does not count
      {"x}y{z}", 8157},
      {"caf\xc3\xa9", 5735},  // bytes, not characters
  };
  for (const auto& [key, slot] : cases) EXPECT_EQ(KeySlot(key), slot) << key;
}

TEST(SlotTest, HashTag) {
  EXPECT_EQ(HashTag("{user1000}.following"), "user1000");
  EXPECT_EQ(HashTag("foo{{bar}}zap"), "{bar");
  EXPECT_EQ(HashTag("foo{}{bar}"), "foo{}{bar}");
  EXPECT_EQ(HashTag("x{y"), "x{y");
  EXPECT_EQ(HashTag("plain"), "plain");
}

TEST(SlotTest, ShardsAreRangesOfSlots) {
  static_assert(kSlotShardShift == 6, "256 shards of 64 slots");
  EXPECT_EQ(ShardOfSlot(0), 0);
  EXPECT_EQ(ShardOfSlot(63), 0);
  EXPECT_EQ(ShardOfSlot(64), 1);
  EXPECT_EQ(ShardOfSlot(kNumSlots - 1), limits::kNumShards - 1);
  for (int slot = 1; slot < kNumSlots; slot++) {
    EXPECT_GE(ShardOfSlot(slot), ShardOfSlot(slot - 1));  // contiguous ranges, ascending
  }
}

TEST(SlotTest, KeysSharingAHashTagShareAShard) {
  const std::vector<std::string> keys = {"{user1000}.following", "{user1000}.followers",
                                         "{user1000}", "x{user1000}y", "{user1000}{other}"};
  for (const std::string& k : keys) {
    EXPECT_EQ(KeySlot(k), KeySlot("user1000")) << k;
    EXPECT_EQ(ShardOfKey(k), ShardOfKey("user1000")) << k;
    EXPECT_EQ(KeyRef(k).shard, ShardOfKey("user1000")) << k;
  }
  // Without the tag these keys spread over shards (as any keys do).
  EXPECT_NE(ShardOfKey("user1000.following"), ShardOfKey("user1000.followers"));
}

TEST(SlotTest, KeysSpreadOverEveryShard) {
  std::vector<int> per_shard(limits::kNumShards, 0);
  for (int i = 0; i < 256 * 64; i++) per_shard[ShardOfKey("key:" + std::to_string(i))]++;
  for (int s = 0; s < limits::kNumShards; s++) EXPECT_GT(per_shard[s], 0) << "shard " << s;
}

}  // namespace
}  // namespace fdb
