#include "commands/rdb_payload.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace fdb {
namespace {

TEST(RdbPayloadTest, Crc64IsRedisJones) {
  // The check value of CRC-64/Jones as Redis's crc64.c computes it.
  EXPECT_EQ(Crc64(0, "123456789"), 0xe9c6d914c4b8d9caULL);
}

TEST(RdbPayloadTest, StringRoundTrip) {
  Entry* e = Entry::NewString("k", "hello");
  std::string p = DumpPayload(e);
  Entry::Free(e);
  ASSERT_TRUE(VerifyDumpPayload(p));
  RestoredValue v;
  ASSERT_TRUE(ParseDumpPayload(p, &v).ok());
  EXPECT_EQ(v.type, ValueType::kString);
  EXPECT_EQ(v.str, "hello");
}

TEST(RdbPayloadTest, GarbageIsRefusedNeverCrashes) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; i++) {
    std::string body(rng() % 64, '\0');
    for (char& c : body) c = static_cast<char>(rng());
    body[0] = static_cast<char>(rng() % 21);  // a known type byte, mostly
    body += std::string("\x0a\x00", 2);
    uint64_t crc = Crc64(0, body);
    for (int b = 0; b < 8; b++) body.push_back(static_cast<char>(crc >> (8 * b)));
    ASSERT_TRUE(VerifyDumpPayload(body));
    RestoredValue v;
    (void)ParseDumpPayload(body, &v);  // Corruption or a value; never a crash
  }
}

}  // namespace
}  // namespace fdb
