// The fixed-width encodings every on-disk integer goes through: little-endian whatever the
// host, and a decode of an encode gives the value back at every width's edges.
#include "base/coding.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace fdb::storage {
namespace {

TEST(CodingTest, LittleEndianBytes) {
  std::string s;
  PutFixed16(&s, 0x0102);
  PutFixed32(&s, 0x03040506u);
  PutFixed64(&s, 0x0708090a0b0c0d0eull);
  EXPECT_EQ(s, std::string("\x02\x01"
                           "\x06\x05\x04\x03"
                           "\x0e\x0d\x0c\x0b\x0a\x09\x08\x07",
                           14));
}

TEST(CodingTest, RoundTripsAtTheEdges) {
  for (uint16_t v :
       {uint16_t{0}, uint16_t{1}, uint16_t{0x7fff}, uint16_t{0x8000}, uint16_t{UINT16_MAX}}) {
    char b[2];
    EncodeFixed16(b, v);
    EXPECT_EQ(DecodeFixed16(b), v);
  }
  for (uint32_t v : {0u, 1u, 0x7fffffffu, 0x80000000u, 0xdeadbeefu, UINT32_MAX}) {
    char b[4];
    EncodeFixed32(b, v);
    EXPECT_EQ(DecodeFixed32(b), v);
  }
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{0x7fffffffffffffff},
                     uint64_t{0x8000000000000000}, uint64_t{0x0123456789abcdef}, UINT64_MAX}) {
    char b[8];
    EncodeFixed64(b, v);
    EXPECT_EQ(DecodeFixed64(b), v);
  }
}

TEST(CodingTest, DecodeReadsHighBytesUnsigned) {
  // Bytes >= 0x80 must not sign-extend into the bytes above them.
  const char b[8] = {'\xff', '\x80', '\x00', '\x00', '\x00', '\x00', '\x00', '\x00'};
  EXPECT_EQ(DecodeFixed16(b), 0x80ffu);
  EXPECT_EQ(DecodeFixed32(b), 0x80ffu);
  EXPECT_EQ(DecodeFixed64(b), 0x80ffu);
}

TEST(CodingTest, PutAppends) {
  std::string s = "x";
  PutFixed32(&s, 1);
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0], 'x');
  EXPECT_EQ(DecodeFixed32(s.data() + 1), 1u);
}

}  // namespace
}  // namespace fdb::storage
