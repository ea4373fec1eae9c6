#include "storage/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace fdb::storage::crc32c {
namespace {

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(Value("123456789"), 0xE3069283u);
  EXPECT_EQ(Value(""), 0u);
  // RFC 3720 (iSCSI), appendix B.4.
  std::string zeros(32, '\0');
  EXPECT_EQ(Value(zeros), 0x8A9136AAu);
  std::string ones(32, '\xff');
  EXPECT_EQ(Value(ones), 0x62A8AB43u);
  std::string inc(32, '\0'), dec(32, '\0');
  for (int i = 0; i < 32; ++i) {
    inc[i] = static_cast<char>(i);
    dec[i] = static_cast<char>(31 - i);
  }
  EXPECT_EQ(Value(inc), 0x46DD794Eu);
  EXPECT_EQ(Value(dec), 0x113FDB5Cu);
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  std::string s = "hello, durable world";
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    EXPECT_EQ(Extend(Value(s.data(), cut), s.data() + cut, s.size() - cut), Value(s));
  }
}

TEST(Crc32cTest, HardwareMatchesPortableAtEveryLengthAndAlignment) {
  if (!HardwareAvailable()) GTEST_SKIP() << "no SSE4.2";
  std::mt19937 rng(7);
  std::string buf(600, '\0');
  for (char& c : buf) c = static_cast<char>(rng());
  for (size_t start = 0; start < 9; ++start) {
    for (size_t n = 0; n + start <= buf.size(); n += 7) {
      ASSERT_EQ(ExtendHardware(123, buf.data() + start, n),
                ExtendPortable(123, buf.data() + start, n))
          << start << " " << n;
    }
  }
}

TEST(Crc32cTest, CombineEqualsExtend) {
  std::string data;
  for (int i = 0; i < 100000; i++) data.push_back(static_cast<char>(i * 7 + (i >> 9)));
  for (size_t split : {size_t{0}, size_t{1}, size_t{7}, size_t{4096}, size_t{99999}, data.size()}) {
    std::string_view a = std::string_view(data).substr(0, split);
    std::string_view b = std::string_view(data).substr(split);
    EXPECT_EQ(Combine(Value(a), Value(b), b.size()), Value(data)) << split;
    // Seeded: the record header's CRC, then a value checksummed apart.
    EXPECT_EQ(Combine(Extend(Value("seed"), a.data(), a.size()), Value(b), b.size()),
              Extend(Value("seed"), data.data(), data.size()))
        << split;
  }
}

TEST(Crc32cTest, MaskRoundTripsAndDiffers) {
  uint32_t crc = Value("foo");
  EXPECT_NE(Mask(crc), crc);
  EXPECT_NE(Mask(Mask(crc)), crc);
  EXPECT_EQ(Unmask(Mask(crc)), crc);
  EXPECT_EQ(Unmask(Unmask(Mask(Mask(crc)))), crc);
}

}  // namespace
}  // namespace fdb::storage::crc32c
