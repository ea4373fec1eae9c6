#include "http/resp_json.h"

#include <gtest/gtest.h>

#include <string>

#include "protocol/reply_builder.h"

namespace fdb {
namespace {

using nlohmann::json;

json Convert(const std::string& resp) {
  Result<json> r = RespToJson(resp);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : json();
}

TEST(RespJsonTest, EveryTypeTheBuilderWrites) {
  std::string out;
  ReplyBuilder rb(&out);
  rb.set_resp3(true);
  rb.ArrayHeader(12);
  rb.SimpleString("OK");
  rb.Bulk("bulk");
  rb.Integer(42);
  rb.Integer(int64_t{1} << 60);  // past JavaScript's exact integers
  rb.Double(1.5);
  rb.Bool(true);
  rb.NullBulk();
  rb.Error("ERR bad");
  rb.MapHeader(1);
  rb.Bulk("f");
  rb.Bulk("v");
  rb.SetHeader(1);
  rb.Bulk("m");
  rb.Verbatim("text");
  rb.Bulk(std::string("\xff\x00\x01", 3));  // not UTF-8
  EXPECT_EQ(Convert(out), json::parse(R"([
      "OK", "bulk", 42, {"int": "1152921504606846976"}, {"double": "1.5"}, true, null,
      {"error": "ERR bad"}, {"map": [["f", "v"]]}, ["m"], "text", {"b64": "/wAB"}])"));
}

TEST(RespJsonTest, PushesBeforeTheReplyAreSkipped) {
  EXPECT_EQ(Convert(">2\r\n$10\r\ninvalidate\r\n*0\r\n+OK\r\n"), json("OK"));
}

TEST(RespJsonTest, BrokenRespIsAnErrorNotACrash) {
  for (const char* bad : {"", "+OK", "$5\r\nab\r\n", "*3\r\n:1\r\n", "*999999999\r\n", "?x\r\n",
                          "#x\r\n", ":12a\r\n", "%1\r\n+k\r\n"}) {
    EXPECT_FALSE(RespToJson(bad).ok()) << bad;
  }
  std::string deep;
  for (int i = 0; i < 100; i++) deep += "*1\r\n";
  deep += ":1\r\n";
  EXPECT_FALSE(RespToJson(deep).ok());
}

TEST(RespJsonTest, ArgumentsAreStringsOrBase64) {
  std::string a;
  EXPECT_TRUE(JsonToArg(json("key"), &a));
  EXPECT_EQ(a, "key");
  EXPECT_TRUE(JsonToArg(json{{"b64", "/wAB"}}, &a));
  EXPECT_EQ(a, std::string("\xff\x00\x01", 3));
  EXPECT_TRUE(JsonToArg(json{{"b64", "YQ=="}}, &a));
  EXPECT_EQ(a, "a");
  EXPECT_TRUE(JsonToArg(json{{"b64", ""}}, &a));
  EXPECT_EQ(a, "");
  for (const json& bad : {json(1), json(nullptr), json::array(), json{{"b64", "%%%%"}},
                          json{{"b64", "abc"}}, json{{"b64", 1}}, json{{"x", "y"}}}) {
    EXPECT_FALSE(JsonToArg(bad, &a)) << bad.dump();
  }
}

TEST(RespJsonTest, Utf8) {
  EXPECT_TRUE(IsUtf8("plain"));
  EXPECT_TRUE(IsUtf8("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsUtf8("\xff"));
  EXPECT_FALSE(IsUtf8("\xc3"));              // cut short
  EXPECT_FALSE(IsUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsUtf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(IsUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
}

}  // namespace
}  // namespace fdb
