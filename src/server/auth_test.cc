#include "server/auth.h"

#include <gtest/gtest.h>

#include <string>

namespace fdb {
namespace {

TEST(PasswordMatches, EqualOnlyWhenIdentical) {
  EXPECT_TRUE(PasswordMatches("secret", "secret"));
  EXPECT_TRUE(PasswordMatches("", ""));
  EXPECT_FALSE(PasswordMatches("secret", "secreT"));
  EXPECT_FALSE(PasswordMatches("secre", "secret"));    // a prefix
  EXPECT_FALSE(PasswordMatches("secrets", "secret"));  // longer
  EXPECT_FALSE(PasswordMatches("", "secret"));
  EXPECT_FALSE(PasswordMatches("secret", ""));
}

TEST(PasswordMatches, BinarySafe) {
  std::string a("pa\0ss", 5), b("pa\0sx", 5), c("pa", 2);
  EXPECT_TRUE(PasswordMatches(a, std::string("pa\0ss", 5)));
  EXPECT_FALSE(PasswordMatches(a, b));
  EXPECT_FALSE(PasswordMatches(a, c));  // "pa" as a C string would match
}

}  // namespace
}  // namespace fdb
