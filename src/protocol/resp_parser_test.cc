#include "protocol/resp_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/limits.h"

namespace fdb {
namespace {

const ParserLimits kLimits{limits::kProtoMaxBulkLenDefault, true};

struct Parsed {
  RespParser::Result result;
  std::vector<std::string> args;
  size_t consumed = 0;
  std::string error;
};

Parsed ParseAll(const std::string& in, const ParserLimits& lim = kLimits) {
  RespParser p;
  Parsed out;
  out.result = p.Parse(in.data(), in.size(), lim);
  if (out.result == RespParser::Result::kCommand) {
    out.consumed = p.consumed();
    if (p.inline_request()) {
      out.args = p.inline_args();
    } else {
      for (size_t i = 0; i < p.argc(); i++) out.args.emplace_back(p.Arg(in.data(), i));
    }
  }
  out.error = p.error();
  return out;
}

TEST(RespParserTest, Multibulk) {
  std::string in = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
  Parsed p = ParseAll(in);
  ASSERT_EQ(p.result, RespParser::Result::kCommand);
  EXPECT_EQ(p.args, (std::vector<std::string>{"SET", "k", "hello"}));
  EXPECT_EQ(p.consumed, in.size());
}

TEST(RespParserTest, BinarySafeAndEmptyArgs) {
  std::string in("*2\r\n$3\r\na\0b\r\n$0\r\n\r\n", 20);
  Parsed p = ParseAll(in);
  ASSERT_EQ(p.result, RespParser::Result::kCommand);
  EXPECT_EQ(p.args[0], std::string("a\0b", 3));
  EXPECT_EQ(p.args[1], "");
}

TEST(RespParserTest, SplitAtEveryByteGivesOneCommand) {
  std::string in = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10\r\n0123456789\r\n";
  // Feed the request one byte more at a time into the same parser, as a slow client would.
  RespParser p;
  for (size_t n = 1; n < in.size(); n++) {
    ASSERT_EQ(p.Parse(in.data(), n, kLimits), RespParser::Result::kNeedMore) << "at " << n;
  }
  ASSERT_EQ(p.Parse(in.data(), in.size(), kLimits), RespParser::Result::kCommand);
  EXPECT_EQ(p.argc(), 3u);
  EXPECT_EQ(p.Arg(in.data(), 2), "0123456789");
  // And a fresh parser given each prefix only never claims a command early.
  for (size_t n = 1; n < in.size(); n++) {
    EXPECT_EQ(ParseAll(in.substr(0, n)).result, RespParser::Result::kNeedMore) << "at " << n;
  }
}

TEST(RespParserTest, PipelinedRequestsParseOneAtATime) {
  std::string in = "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING\r\n";
  RespParser p;
  size_t off = 0;
  std::vector<std::string> names;
  while (off < in.size()) {
    ASSERT_EQ(p.Parse(in.data() + off, in.size() - off, kLimits), RespParser::Result::kCommand);
    names.push_back(p.inline_request() ? p.inline_args()[0]
                                       : std::string(p.Arg(in.data() + off, 0)));
    off += p.consumed();
    p.Reset();
  }
  EXPECT_EQ(names, (std::vector<std::string>{"PING", "ECHO", "PING"}));
}

TEST(RespParserTest, MalformedMultibulkLength) {
  EXPECT_EQ(ParseAll("*abc\r\n").error, "Protocol error: invalid multibulk length");
  EXPECT_EQ(ParseAll("*3x\r\n").error, "Protocol error: invalid multibulk length");
  EXPECT_EQ(ParseAll("*2147483648\r\n").error, "Protocol error: invalid multibulk length");
  EXPECT_EQ(ParseAll("*99999999999999999999999\r\n").error,
            "Protocol error: invalid multibulk length");
}

TEST(RespParserTest, NegativeAndZeroMultibulkAreEmpty) {
  Parsed p = ParseAll("*-1\r\n");
  EXPECT_EQ(p.result, RespParser::Result::kCommand);
  EXPECT_TRUE(p.args.empty());
  p = ParseAll("*0\r\n");
  EXPECT_EQ(p.result, RespParser::Result::kCommand);
  EXPECT_TRUE(p.args.empty());
}

TEST(RespParserTest, MalformedBulk) {
  EXPECT_EQ(ParseAll("*1\r\nfoo\r\n").error, "Protocol error: expected '$', got 'f'");
  EXPECT_EQ(ParseAll("*1\r\n$abc\r\n").error, "Protocol error: invalid bulk length");
  EXPECT_EQ(ParseAll("*1\r\n$-1\r\n").error, "Protocol error: invalid bulk length");
  EXPECT_EQ(ParseAll("*1\r\n$-100\r\n").error, "Protocol error: invalid bulk length");
  EXPECT_EQ(ParseAll("*1\r\n$9999999999999\r\n").error, "Protocol error: invalid bulk length");
  ParserLimits small{1024 * 1024, true};
  EXPECT_EQ(ParseAll("*1\r\n$1048577\r\n", small).error, "Protocol error: invalid bulk length");
  EXPECT_EQ(ParseAll("*1\r\n$1048576\r\n", small).result, RespParser::Result::kNeedMore);
}

TEST(RespParserTest, HugeDeclaredLengthsDoNotAllocate) {
  // A count of two billion arguments must not reserve memory for them.
  RespParser p;
  std::string in = "*2000000000\r\n$1\r\na\r\n";
  EXPECT_EQ(p.Parse(in.data(), in.size(), kLimits), RespParser::Result::kNeedMore);
  EXPECT_EQ(p.expected_bytes(), 0u);
}

TEST(RespParserTest, MissingCrlfIsBoundedByInlineMax) {
  std::string header = "*" + std::string(limits::kInlineMax + 10, '1');
  EXPECT_EQ(ParseAll(header).error, "Protocol error: too big mbulk count string");
  std::string bulk = "*1\r\n$" + std::string(limits::kInlineMax + 10, '1');
  EXPECT_EQ(ParseAll(bulk).error, "Protocol error: too big bulk count string");
  EXPECT_EQ(ParseAll("*1").result, RespParser::Result::kNeedMore);
  EXPECT_EQ(ParseAll("*1\r").result, RespParser::Result::kNeedMore);
}

TEST(RespParserTest, UnauthenticatedLimits) {
  ParserLimits unauth{limits::kProtoMaxBulkLenDefault, false};
  EXPECT_EQ(ParseAll("*11\r\n", unauth).error, "Protocol error: unauthenticated multibulk length");
  EXPECT_EQ(ParseAll("*1\r\n$16385\r\n", unauth).error,
            "Protocol error: unauthenticated bulk length");
}

TEST(RespParserTest, Inline) {
  Parsed p = ParseAll("SET a b\r\n");
  ASSERT_EQ(p.result, RespParser::Result::kCommand);
  EXPECT_EQ(p.args, (std::vector<std::string>{"SET", "a", "b"}));
  p = ParseAll("PING\n");
  EXPECT_EQ(p.args, (std::vector<std::string>{"PING"}));
  p = ParseAll("\r\n");
  EXPECT_EQ(p.result, RespParser::Result::kCommand);
  EXPECT_TRUE(p.args.empty());
  EXPECT_EQ(ParseAll("SET a").result, RespParser::Result::kNeedMore);
}

TEST(RespParserTest, InlineQuoting) {
  Parsed p = ParseAll("SET \"a b\" 'c d' \"x\\n\\x41\"\r\n");
  EXPECT_EQ(p.args, (std::vector<std::string>{"SET", "a b", "c d", "x\nA"}));
  EXPECT_EQ(ParseAll("SET \"abc\r\n").error, "Protocol error: unbalanced quotes in request");
  EXPECT_EQ(ParseAll("SET \"a\"b\r\n").error, "Protocol error: unbalanced quotes in request");
  EXPECT_EQ(ParseAll("SET 'a\r\n").error, "Protocol error: unbalanced quotes in request");
}

TEST(RespParserTest, InlineTooBig) {
  std::string in(limits::kInlineMax + 1, 'a');
  EXPECT_EQ(ParseAll(in).error, "Protocol error: too big inline request");
  in += "\n";
  EXPECT_EQ(ParseAll(in).error, "Protocol error: too big inline request");
}

}  // namespace
}  // namespace fdb
