#include "protocol/reply_builder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

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

// The exact bytes of every reply type in both protocols: what clients parse.
std::string Bytes(bool resp3, void (*build)(ReplyBuilder&)) {
  std::string out;
  ReplyBuilder rb(&out);
  rb.set_resp3(resp3);
  build(rb);
  return out;
}

TEST(ReplyBuilderTest, ScalarsInBothProtocols) {
  for (bool resp3 : {false, true}) {
    EXPECT_EQ(Bytes(resp3, [](ReplyBuilder& rb) { rb.Ok(); }), "+OK\r\n");
    EXPECT_EQ(Bytes(resp3, [](ReplyBuilder& rb) { rb.SimpleString("PONG"); }), "+PONG\r\n");
    EXPECT_EQ(Bytes(resp3, [](ReplyBuilder& rb) { rb.Integer(-42); }), ":-42\r\n");
    EXPECT_EQ(Bytes(resp3, [](ReplyBuilder& rb) { rb.Integer(INT64_MIN); }),
              ":-9223372036854775808\r\n");
    EXPECT_EQ(Bytes(resp3, [](ReplyBuilder& rb) { rb.Bulk("hello"); }), "$5\r\nhello\r\n");
    EXPECT_EQ(Bytes(resp3, [](ReplyBuilder& rb) { rb.Bulk(""); }), "$0\r\n\r\n");
    EXPECT_EQ(Bytes(resp3, [](ReplyBuilder& rb) { rb.Bulk(std::string_view("a\r\n\0", 4)); }),
              std::string("$4\r\na\r\n\0\r\n", 10));  // binary safe
    EXPECT_EQ(Bytes(resp3, [](ReplyBuilder& rb) { rb.ArrayHeader(3); }), "*3\r\n");
  }
}

TEST(ReplyBuilderTest, ErrorsAreOneLine) {
  EXPECT_EQ(Bytes(false, [](ReplyBuilder& rb) { rb.Error("ERR syntax error"); }),
            "-ERR syntax error\r\n");
  EXPECT_EQ(Bytes(true, [](ReplyBuilder& rb) { rb.Error("WRONGTYPE x\r\ny\nz"); }),
            "-WRONGTYPE x  y z\r\n");
}

TEST(ReplyBuilderTest, NullsBoolsDoublesResp2) {
  EXPECT_EQ(Bytes(false, [](ReplyBuilder& rb) { rb.NullBulk(); }), "$-1\r\n");
  EXPECT_EQ(Bytes(false, [](ReplyBuilder& rb) { rb.NullArray(); }), "*-1\r\n");
  EXPECT_EQ(Bytes(false, [](ReplyBuilder& rb) { rb.Bool(true); }), ":1\r\n");
  EXPECT_EQ(Bytes(false, [](ReplyBuilder& rb) { rb.Bool(false); }), ":0\r\n");
  EXPECT_EQ(Bytes(false, [](ReplyBuilder& rb) { rb.Double(1.5); }), "$3\r\n1.5\r\n");
  EXPECT_EQ(Bytes(false, [](ReplyBuilder& rb) { rb.Double(-INFINITY); }), "$4\r\n-inf\r\n");
  EXPECT_EQ(Bytes(false, [](ReplyBuilder& rb) { rb.Double(0.1); }),
            "$19\r\n0.10000000000000001\r\n");  // %.17g, as Redis
}

TEST(ReplyBuilderTest, NullsBoolsDoublesResp3) {
  EXPECT_EQ(Bytes(true, [](ReplyBuilder& rb) { rb.NullBulk(); }), "_\r\n");
  EXPECT_EQ(Bytes(true, [](ReplyBuilder& rb) { rb.NullArray(); }), "_\r\n");
  EXPECT_EQ(Bytes(true, [](ReplyBuilder& rb) { rb.Bool(true); }), "#t\r\n");
  EXPECT_EQ(Bytes(true, [](ReplyBuilder& rb) { rb.Bool(false); }), "#f\r\n");
  EXPECT_EQ(Bytes(true, [](ReplyBuilder& rb) { rb.Double(1.5); }), ",1.5\r\n");
  EXPECT_EQ(Bytes(true, [](ReplyBuilder& rb) { rb.Double(INFINITY); }), ",inf\r\n");
  EXPECT_EQ(Bytes(true, [](ReplyBuilder& rb) { rb.Double(NAN); }), ",nan\r\n");
}

TEST(ReplyBuilderTest, AggregatesFlattenInResp2) {
  auto map = [](ReplyBuilder& rb) {
    rb.MapHeader(2);
    rb.Bulk("a");
    rb.Integer(1);
    rb.Bulk("b");
    rb.Integer(2);
  };
  EXPECT_EQ(Bytes(false, map), "*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n:2\r\n");
  EXPECT_EQ(Bytes(true, map), "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n:2\r\n");
  EXPECT_EQ(Bytes(false, [](ReplyBuilder& rb) { rb.SetHeader(2); }), "*2\r\n");
  EXPECT_EQ(Bytes(true, [](ReplyBuilder& rb) { rb.SetHeader(2); }), "~2\r\n");
  EXPECT_EQ(Bytes(false, [](ReplyBuilder& rb) { rb.PushHeader(3); }), "*3\r\n");
  EXPECT_EQ(Bytes(true, [](ReplyBuilder& rb) { rb.PushHeader(3); }), ">3\r\n");
  EXPECT_EQ(Bytes(false,
                  [](ReplyBuilder& rb) {
                    rb.BulkArray({"x", "yz"});
                  }),
            "*2\r\n$1\r\nx\r\n$2\r\nyz\r\n");
}

TEST(ReplyBuilderTest, VerbatimIsABulkInResp2) {
  EXPECT_EQ(Bytes(false, [](ReplyBuilder& rb) { rb.Verbatim("# Server"); }), "$8\r\n# Server\r\n");
  // RESP3: the length counts the "txt:" prefix.
  EXPECT_EQ(Bytes(true, [](ReplyBuilder& rb) { rb.Verbatim("# Server"); }),
            "=12\r\ntxt:# Server\r\n");
  EXPECT_EQ(Bytes(true, [](ReplyBuilder& rb) { rb.Verbatim("x", "mkd"); }), "=5\r\nmkd:x\r\n");
}

TEST(ReplyBuilderTest, FormatDoubleAsRedis) {
  EXPECT_EQ(FormatDouble(3), "3");
  EXPECT_EQ(FormatDouble(-0.5), "-0.5");
  EXPECT_EQ(FormatDouble(1e300), "1.0000000000000001e+300");
  EXPECT_EQ(FormatDouble(INFINITY), "inf");
  EXPECT_EQ(FormatDouble(-INFINITY), "-inf");
}

}  // namespace
TEST(ReplyBuilderTest, StagedReplyReachesTheBufferOnlyWhenCommitted) {
  std::string out = "+earlier\r\n";
  std::string scratch;
  ReplyBuilder rb(&out);
  rb.BeginStaged(&scratch);
  ASSERT_TRUE(rb.staged());
  rb.Integer(7);
  EXPECT_EQ(out, "+earlier\r\n");  // not yet
  rb.CommitStaged();
  EXPECT_FALSE(rb.staged());
  EXPECT_EQ(out, "+earlier\r\n:7\r\n");
  // Dropped: what was staged never reaches the buffer; what follows goes straight there.
  rb.BeginStaged(&scratch);
  rb.Bulk("lost");
  rb.DropStaged();
  rb.Error("ERR the commit failed");
  EXPECT_EQ(out, "+earlier\r\n:7\r\n-ERR the commit failed\r\n");
  EXPECT_EQ(rb.errors(), 1u);
}

TEST(ReplyBuilderTest, StagedReplyCountsAgainstTheLimitWithTheBuffer) {
  std::string out(90, 'x');
  std::string scratch;
  ReplyBuilder rb(&out);
  rb.set_limit(100);
  rb.BeginStaged(&scratch);
  rb.Bulk("12345");  // 11 bytes: 90 + 11 > 100
  EXPECT_TRUE(rb.overflowed());
  EXPECT_TRUE(scratch.empty());
  rb.DropStaged();
}

}  // namespace fdb
