#include "protocol/reply_builder.h"

#include <gtest/gtest.h>

#include <string>

namespace fdb {
namespace {

TEST(ReplyBuilderTest, UnlimitedByDefault) {
  std::string out;
  ReplyBuilder rb(&out);
  rb.ArrayHeader(2);
  rb.Bulk(std::string(100000, 'x'));
  rb.NullBulk();
  EXPECT_FALSE(rb.overflowed());
  EXPECT_EQ(out.size(), 4 + 9 + 100000 + 2 + 5);
}

TEST(ReplyBuilderTest, StopsAppendingAtTheLimit) {
  std::string out = "pending";
  ReplyBuilder rb(&out);
  rb.set_limit(out.size() + 1000);
  rb.ArrayHeader(100);
  for (int i = 0; i < 100; i++) rb.Bulk(std::string(100, 'v'));
  EXPECT_TRUE(rb.overflowed());
  EXPECT_LE(out.size(), 7u + 1000u);  // the reply never grew past the limit
  size_t at = out.size();
  rb.Ok();
  rb.Integer(5);
  rb.Error("ERR x");
  EXPECT_EQ(out.size(), at);  // nothing after the overflow either
  rb.set_limit(SIZE_MAX);
  EXPECT_FALSE(rb.overflowed());
  rb.Ok();
  EXPECT_EQ(out.size(), at + 5);
}

}  // namespace
}  // namespace fdb
