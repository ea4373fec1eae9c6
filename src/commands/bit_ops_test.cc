#include "commands/bit_ops.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/effects.h"
#include "engine/entry.h"

namespace fdb {
namespace {

TEST(BitOpsTest, CountBitsByteAndBitRanges) {
  std::string s = "foobar";
  EXPECT_EQ(CountBits(s, ResolveBitRange(s.size(), 0, -1, false)), 26u);
  EXPECT_EQ(CountBits(s, ResolveBitRange(s.size(), 0, 0, false)), 4u);
  EXPECT_EQ(CountBits(s, ResolveBitRange(s.size(), 1, 1, false)), 6u);
  EXPECT_EQ(CountBits(s, ResolveBitRange(s.size(), 5, 30, true)), 17u);
  EXPECT_EQ(CountBits(s, ResolveBitRange(s.size(), -1, -5, false)), 0u);  // inverted negatives
  EXPECT_EQ(CountBits(s, ResolveBitRange(s.size(), 100, 200, false)), 0u);
  std::string big(1000, '\xff');
  EXPECT_EQ(CountBits(big, ResolveBitRange(big.size(), 3, 7996, true)), 7994u);
}

TEST(BitOpsTest, FindBitAsRedis) {
  std::string s = "\xff\xf0\x00";
  EXPECT_EQ(FindBit(s, ResolveBitRange(3, 0, -1, false), 0, false), 12);
  std::string t("\x00\xff\xf0", 3);
  EXPECT_EQ(FindBit(t, ResolveBitRange(3, 0, -1, false), 1, false), 8);
  EXPECT_EQ(FindBit(t, ResolveBitRange(3, 2, -1, false), 1, false), 16);
  EXPECT_EQ(FindBit(t, ResolveBitRange(3, 7, 15, true), 1, true), 8);
  std::string ones("\xff\xff", 2);
  EXPECT_EQ(FindBit(ones, ResolveBitRange(2, 0, -1, false), 0, false), 16);  // padded with 0s
  EXPECT_EQ(FindBit(ones, ResolveBitRange(2, 0, -1, false), 0, true), -1);   // end given
  std::string zeros(100, '\0');
  EXPECT_EQ(FindBit(zeros, ResolveBitRange(100, 0, -1, false), 1, false), -1);
  zeros[77] = 1;
  EXPECT_EQ(FindBit(zeros, ResolveBitRange(100, 0, -1, false), 1, false), 77 * 8 + 7);
}

TEST(BitOpsTest, BitOpPadsShorterInputs) {
  std::string_view srcs[] = {"\xff\x0f", "\x0f"};
  EXPECT_EQ(ComputeBitOp(BitOp::kAnd, srcs, 2), std::string("\x0f\x00", 2));
  EXPECT_EQ(ComputeBitOp(BitOp::kOr, srcs, 2), std::string("\xff\x0f", 2));
  EXPECT_EQ(ComputeBitOp(BitOp::kXor, srcs, 2), std::string("\xf0\x0f", 2));
  EXPECT_EQ(ComputeBitOp(BitOp::kNot, srcs, 1), std::string("\x00\xf0", 2));
}

TEST(BitOpsTest, BitfieldTypesAndValues) {
  BitfieldType t;
  EXPECT_TRUE(ParseBitfieldType("i64", &t));
  EXPECT_FALSE(ParseBitfieldType("u64", &t));
  EXPECT_TRUE(ParseBitfieldType("u63", &t));
  EXPECT_FALSE(ParseBitfieldType("i0", &t));
  EXPECT_FALSE(ParseBitfieldType("x8", &t));
  EXPECT_FALSE(ParseBitfieldType("U8", &t));  // lower case only, as Redis
  ASSERT_TRUE(ParseBitfieldType("i8", &t));
  char buf[kMaxFieldBytes];
  std::string s(buf, SetBitfieldBytes("", 4, t, -1, buf));
  EXPECT_EQ(s, std::string("\x0f\xf0", 2));
  EXPECT_EQ(GetBitfield(s, 4, t), -1);
  ASSERT_TRUE(ParseBitfieldType("u8", &t));
  EXPECT_EQ(GetBitfield(s, 4, t), 255);
  int64_t out;
  EXPECT_TRUE(BitfieldAdd(255, 10, t, Overflow::kWrap, &out));
  EXPECT_EQ(out, 9);
  EXPECT_TRUE(BitfieldAdd(255, 10, t, Overflow::kSat, &out));
  EXPECT_EQ(out, 255);
  EXPECT_TRUE(BitfieldAdd(3, -10, t, Overflow::kSat, &out));
  EXPECT_EQ(out, 0);
  EXPECT_TRUE(BitfieldAdd(-1, 0, t, Overflow::kWrap, &out));  // SET u8 -1
  EXPECT_EQ(out, 255);
  ASSERT_TRUE(ParseBitfieldType("i8", &t));
  EXPECT_TRUE(BitfieldAdd(100, 100, t, Overflow::kWrap, &out));
  EXPECT_EQ(out, -56);
  EXPECT_TRUE(BitfieldAdd(-100, -100, t, Overflow::kSat, &out));
  EXPECT_EQ(out, -128);
  ASSERT_TRUE(ParseBitfieldType("i64", &t));
  EXPECT_TRUE(BitfieldAdd(INT64_MAX, 1, t, Overflow::kWrap, &out));
  EXPECT_EQ(out, INT64_MIN);
}

// The string range delta: a write in place, a write that grows a large block, and the
// replacement of an inline value, each equal to what the bytes say.
TEST(StringRangeTest, WriteRangeInPlaceAndGrown) {
  Entry* e = Entry::NewString("k", "hello");
  Entry* f = e->WriteRange(7, "xy");
  EXPECT_NE(f, e);  // grown: a new entry
  Entry::Free(e);
  EXPECT_EQ(f->string_bytes(), std::string("hello\0\0xy", 9));
  EXPECT_STREQ(f->encoding_name(), "raw");
  Entry* g = f->WriteRange(0, "J");
  EXPECT_EQ(g, f);  // raw inline, same length: in place
  EXPECT_EQ(g->string_bytes(), std::string("Jello\0\0xy", 9));
  Entry* h = g->WriteRange(Entry::kRangeLargeMin, "z");
  Entry::Free(g);
  ASSERT_EQ(h->encoding(), Encoding::kLarge);
  Entry* i = h->WriteRange(Entry::kRangeLargeMin + 10, "w");
  EXPECT_EQ(i, h);  // an unshared block with room grows in place
  EXPECT_EQ(i->StringLength(), Entry::kRangeLargeMin + 11);
  Entry* shared = Entry::Clone(i, "k2");  // shares the block: the next write copies it
  Entry* j = i->WriteRange(0, "Q");
  EXPECT_NE(j, i);
  EXPECT_EQ(shared->string_bytes()[0], 'J');
  EXPECT_EQ(j->string_bytes()[0], 'Q');
  Entry::Free(i);
  Entry::Free(j);
  Entry::Free(shared);

  std::string change;
  EncodeStringRange(12345, "abc", &change);
  uint64_t off;
  std::string_view bytes;
  ASSERT_TRUE(DecodeStringRange(change, &off, &bytes));
  EXPECT_EQ(off, 12345u);
  EXPECT_EQ(bytes, "abc");
  EXPECT_FALSE(DecodeStringRange("X", &off, &bytes));
}

}  // namespace
}  // namespace fdb
