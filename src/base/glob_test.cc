// GlobMatch against the cases Redis's stringmatchlen defines (util.c and its tests in
// tests/unit/keyspace.tcl), plus the limits FDB adds: no recursion, bounded time.
#include "base/glob.h"

#include <gtest/gtest.h>

#include <string>

namespace fdb {
namespace {

TEST(GlobMatchTest, LiteralsMatchOnlyThemselves) {
  EXPECT_TRUE(GlobMatch("hello", "hello"));
  EXPECT_FALSE(GlobMatch("hello", "hell"));
  EXPECT_FALSE(GlobMatch("hello", "helloo"));
  EXPECT_FALSE(GlobMatch("hello", "Hello"));
  EXPECT_TRUE(GlobMatch("", ""));
  EXPECT_FALSE(GlobMatch("", "a"));
  EXPECT_FALSE(GlobMatch("a", ""));
}

TEST(GlobMatchTest, StarMatchesAnyRunIncludingEmpty) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("*", "anything at all"));
  EXPECT_TRUE(GlobMatch("h*llo", "hllo"));
  EXPECT_TRUE(GlobMatch("h*llo", "heeeello"));
  EXPECT_FALSE(GlobMatch("h*llo", "heeeelo"));
  EXPECT_TRUE(GlobMatch("user:*:name", "user:42:name"));
  EXPECT_FALSE(GlobMatch("user:*:name", "user:42:age"));
  EXPECT_TRUE(GlobMatch("a**b", "ab"));  // a run of stars is one star
  EXPECT_TRUE(GlobMatch("*a*", "banana"));
  EXPECT_TRUE(GlobMatch("a*", "a"));
  // Backtracking past a false start: the first "ab" is not followed by "c".
  EXPECT_TRUE(GlobMatch("*abc", "ababc"));
  EXPECT_FALSE(GlobMatch("*abc", "ababd"));
}

TEST(GlobMatchTest, QuestionMarkMatchesExactlyOneByte) {
  EXPECT_TRUE(GlobMatch("h?llo", "hello"));
  EXPECT_TRUE(GlobMatch("h?llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h?llo", "hllo"));
  EXPECT_FALSE(GlobMatch("?", ""));
  EXPECT_TRUE(GlobMatch("??", std::string("\0\xff", 2)));
}

TEST(GlobMatchTest, ClassesSetsNegationAndRanges) {
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hello"));
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[ae]llo", "hillo"));
  EXPECT_TRUE(GlobMatch("h[^e]llo", "hallo"));
  EXPECT_TRUE(GlobMatch("h[^e]llo", "hbllo"));
  EXPECT_FALSE(GlobMatch("h[^e]llo", "hello"));
  EXPECT_TRUE(GlobMatch("h[a-b]llo", "hallo"));
  EXPECT_TRUE(GlobMatch("h[a-b]llo", "hbllo"));
  EXPECT_FALSE(GlobMatch("h[a-b]llo", "hcllo"));
  EXPECT_TRUE(GlobMatch("[z-a]", "m"));  // a reversed range is swapped, as in Redis
  EXPECT_TRUE(GlobMatch("[0-9][0-9]", "42"));
  EXPECT_FALSE(GlobMatch("[0-9][0-9]", "4x"));
  EXPECT_FALSE(GlobMatch("[abc]", ""));  // a class needs a byte
  // "[a-]": at least three bytes follow '[', so it is the range 'a'..']' (Redis's reading).
  EXPECT_TRUE(GlobMatch("[a-]", "]"));
  EXPECT_FALSE(GlobMatch("[a-]", "-"));
}

TEST(GlobMatchTest, UnterminatedClassRunsToTheEndOfThePattern) {
  EXPECT_TRUE(GlobMatch("a[bc", "ab"));
  EXPECT_TRUE(GlobMatch("a[bc", "ac"));
  EXPECT_FALSE(GlobMatch("a[bc", "ad"));
  EXPECT_FALSE(GlobMatch("a[bc", "abc"));  // the class is one byte
}

TEST(GlobMatchTest, BackslashEscapes) {
  EXPECT_TRUE(GlobMatch("h\\*llo", "h*llo"));
  EXPECT_FALSE(GlobMatch("h\\*llo", "hello"));
  EXPECT_TRUE(GlobMatch("\\?", "?"));
  EXPECT_FALSE(GlobMatch("\\?", "a"));
  EXPECT_TRUE(GlobMatch("\\[a]", "[a]"));
  EXPECT_TRUE(GlobMatch("[\\]]", "]"));  // an escaped ']' inside a class
  EXPECT_TRUE(GlobMatch("[\\-]", "-"));  // an escaped '-' is not a range
  EXPECT_TRUE(GlobMatch("a\\", "a\\"));  // a trailing backslash is literal
  EXPECT_FALSE(GlobMatch("a\\", "a"));
}

TEST(GlobMatchTest, NocaseFoldsBothSides) {
  EXPECT_TRUE(GlobMatch("MaxMemory*", "maxmemory-policy", true));
  EXPECT_FALSE(GlobMatch("MaxMemory*", "maxmemory-policy", false));
  EXPECT_TRUE(GlobMatch("[A-C]x", "bX", true));
  EXPECT_FALSE(GlobMatch("[A-C]x", "bX", false));
  EXPECT_TRUE(GlobMatch("[^A]", "b", true));
  EXPECT_FALSE(GlobMatch("[^A]", "a", true));
}

TEST(GlobMatchTest, BinarySafe) {
  std::string key("a\0b", 3);
  EXPECT_TRUE(GlobMatch("a?b", key));
  EXPECT_TRUE(GlobMatch(std::string("a\0*", 3), key));
  EXPECT_FALSE(GlobMatch("a", key));
}

// Redis's recursive matcher needed a nesting cap (CVE-2022-36021); this one is iterative, so
// a pattern of thousands of stars is fine and a backtracking-heavy pattern stays polynomial.
TEST(GlobMatchTest, ManyStarsNeitherRecurseNorBlowUp) {
  std::string stars(100000, '*');
  EXPECT_TRUE(GlobMatch(stars, std::string(1000, 'a')));
  EXPECT_FALSE(GlobMatch(stars + "b", std::string(1000, 'a')));
  std::string p;
  for (int i = 0; i < 30; i++) p += "a*";
  p += "b";
  EXPECT_FALSE(GlobMatch(p, std::string(5000, 'a')));
  EXPECT_TRUE(GlobMatch(p, std::string(5000, 'a') + "b"));
}

}  // namespace
}  // namespace fdb
