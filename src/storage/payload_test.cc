#include "storage/payload.h"

#include <gtest/gtest.h>

#include <string>

namespace fdb::storage {
namespace {

BlockRef Block(std::string_view bytes) { return BlockRef::Adopt(SharedBlock::Copy(bytes)); }

// bytes "ab", block "CDE", bytes "f", block "GH", block "IJ", bytes "kl": every kind of
// boundary (bytes then block, block then block, trailing bytes).
Payload Mixed() {
  Payload p;
  p.bytes = "ab";
  p.AppendBlock(Block("CDE"));
  p.bytes += "f";
  p.AppendBlock(Block("GH"));
  p.AppendBlock(Block("IJ"));
  p.bytes += "kl";
  return p;
}

TEST(PayloadTest, DropPrefixAtEveryOffsetLeavesTheRest) {
  const std::string whole = Mixed().Flatten();
  ASSERT_EQ(whole, "abCDEfGHIJkl");
  for (size_t n = 0; n <= whole.size(); n++) {
    Payload p = Mixed();
    p.DropPrefix(n);
    EXPECT_EQ(p.Flatten(), whole.substr(n)) << "n=" << n;
    EXPECT_EQ(p.size(), whole.size() - n) << "n=" << n;
    for (size_t i = 1; i < p.splices.size(); i++) EXPECT_LE(p.splices[i - 1].at, p.splices[i].at);
    for (const Payload::Splice& s : p.splices) EXPECT_LE(s.at, p.bytes.size());
    // What follows still appends where it should.
    p.bytes += "z";
    EXPECT_EQ(p.Flatten(), whole.substr(n) + "z") << "n=" << n;
  }
}

TEST(PayloadTest, DropPrefixKeepsWholeBlocksShared) {
  Payload p = Mixed();
  const SharedBlock* gh = p.splices[1].block.get();
  p.DropPrefix(6);  // "abCDEf": the cut is just before "GH"
  ASSERT_EQ(p.splices.size(), 2u);
  EXPECT_EQ(p.splices[0].block.get(), gh);  // referenced, not copied
  EXPECT_EQ(p.splices[0].at, 0u);
}

TEST(PayloadTest, DropPrefixWithoutBlocks) {
  Payload p(std::string("0123456789"));
  p.DropPrefix(4);
  EXPECT_EQ(p.bytes, "456789");
  p.DropPrefix(6);
  EXPECT_TRUE(p.empty());
}

}  // namespace
}  // namespace fdb::storage
