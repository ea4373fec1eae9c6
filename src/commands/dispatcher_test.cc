#include <gtest/gtest.h>

#include "commands/test_util.h"

namespace fdb {
namespace {

TEST(DispatcherTest, UnknownCommand) {
  CommandTester t;
  EXPECT_EQ(t.Run({"foo", "a", "b"}),
            Err("ERR unknown command 'foo', with args beginning with: 'a' 'b' "));
  EXPECT_EQ(t.Run({"foo"}), Err("ERR unknown command 'foo', with args beginning with: "));
}

TEST(DispatcherTest, WrongArity) {
  CommandTester t;
  EXPECT_EQ(t.Run({"get"}), Err("ERR wrong number of arguments for 'get' command"));
  EXPECT_EQ(t.Run({"GET", "a", "b"}), Err("ERR wrong number of arguments for 'get' command"));
}

TEST(DispatcherTest, CaseInsensitiveNames) {
  CommandTester t;
  EXPECT_EQ(t.Run({"SeT", "k", "v"}), kOK);
  EXPECT_EQ(t.Run({"gEt", "k"}), Bulk("v"));
}

}  // namespace
}  // namespace fdb
