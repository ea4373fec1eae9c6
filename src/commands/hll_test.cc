#include "commands/hll.h"

#include <gtest/gtest.h>

#include <string>

namespace fdb::hll {
namespace {

TEST(HllTest, EmptyIsRedisBytes) {
  std::string e = NewEmpty();
  EXPECT_EQ(e, std::string("HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff", 18));
  EXPECT_TRUE(IsHll(e));
  uint64_t card;
  ASSERT_TRUE(CachedCard(e, &card));
  EXPECT_EQ(card, 0u);
  ASSERT_TRUE(Count(e, &card));
  EXPECT_EQ(card, 0u);
}

TEST(HllTest, MurmurAndPatterns) {
  // Known MurmurHash64A value for the empty input with seed 0.
  EXPECT_EQ(MurmurHash64A("", 0, 0), 0u);
  int index;
  // PFADD h a b c on Redis 7.0 decodes as Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603.
  std::string h = NewEmpty();
  for (const char* e : {"a", "b", "c"}) ASSERT_EQ(Add(&h, e, 3000), 1);
  std::string out;
  ASSERT_TRUE(DecodeSparse(h, &out));
  EXPECT_EQ(out, "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603");
  EXPECT_GE(PatternLength("a", &index), 1);
  EXPECT_EQ(Add(&h, "a", 3000), 0);
}

TEST(HllTest, DenseRegistersPackSixBits) {
  std::string regs(kDenseSize - kHeaderSize, '\0');
  auto* p = reinterpret_cast<uint8_t*>(regs.data());
  for (int i = 0; i < kRegisters; i++) DenseSet(p, i, static_cast<uint8_t>(i % 64));
  for (int i = 0; i < kRegisters; i++) ASSERT_EQ(DenseGet(p, i), i % 64) << i;
  DenseSet(p, kRegisters - 1, 63);  // the last register ends the last byte
  EXPECT_EQ(DenseGet(p, kRegisters - 1), 63);
  EXPECT_EQ(DenseGet(p, kRegisters - 2), (kRegisters - 2) % 64);
}

TEST(HllTest, SparseAndDenseAgreeAndPromote) {
  std::string s = NewEmpty(), d = NewEmpty();
  ASSERT_TRUE(ToDense(&d));
  EXPECT_EQ(d.size(), kDenseSize);
  for (int i = 0; i < 2000; i++) {
    std::string e = "x" + std::to_string(i);
    ASSERT_GE(Add(&s, e, 3000), 0);
    ASSERT_GE(Add(&d, e, 3000), 0);
  }
  uint64_t a, b;
  ASSERT_TRUE(Count(s, &a));
  ASSERT_TRUE(Count(d, &b));
  EXPECT_EQ(a, b);
  EXPECT_NEAR(static_cast<double>(a), 2000, 60);
  // A register above 32 does not fit a sparse VAL: the HLL becomes dense.
  std::string t = NewEmpty();
  EXPECT_EQ(SetRegister(&t, 5, 40, 3000), 1);
  EXPECT_TRUE(IsDense(t));
}

TEST(HllTest, CorruptedSparseIsDetected) {
  std::string s = NewEmpty();
  s[16] = 0x7f;
  s[17] = static_cast<char>(0xf0);  // covers fewer than 16384 registers
  uint64_t card;
  EXPECT_FALSE(Count(s, &card));
  uint8_t max[kRegisters] = {};
  EXPECT_FALSE(MergeInto(s, max));
  EXPECT_FALSE(ToDense(&s));
  EXPECT_EQ(SetRegister(&s, 16383, 3, 3000), -1);
}

TEST(HllTest, CacheBytes) {
  std::string s = NewEmpty();
  SetCachedCard(&s, 0x0102030405);
  uint64_t card;
  ASSERT_TRUE(CachedCard(s, &card));
  EXPECT_EQ(card, 0x0102030405u);
  InvalidateCache(&s);
  EXPECT_FALSE(CachedCard(s, &card));
}

TEST(HllTest, SelfTestPasses) { EXPECT_EQ(SelfTest(3000), ""); }

}  // namespace
}  // namespace fdb::hll
