#include "net/read_buffer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "base/limits.h"

namespace fdb {
namespace {

TEST(ReadBufferTest, StartsWithoutMemory) {
  ReadBuffer b;
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_TRUE(b.empty());
}

TEST(ReadBufferTest, AppendConsumeAndReleaseWhenEmpty) {
  ReadBuffer b;
  ASSERT_TRUE(b.Append("hello world", 11));
  EXPECT_EQ(std::string(b.data(), b.size()), "hello world");
  b.Consume(6);
  EXPECT_EQ(std::string(b.data(), b.size()), "world");
  b.Consume(5);
  EXPECT_TRUE(b.empty());
  b.Shrink();
  EXPECT_EQ(b.capacity(), 0u);  // between requests a connection owns no buffer
}

TEST(ReadBufferTest, ReserveKeepsDataAndMovesItToTheFront) {
  ReadBuffer b;
  ASSERT_TRUE(b.Reserve(100));
  std::string s(100, 'a');
  for (int i = 0; i < 100; i++) s[i] = static_cast<char>('a' + i % 26);
  memcpy(b.write_ptr(), s.data(), 100);
  b.Commit(100);
  b.Consume(60);
  size_t cap = b.capacity();
  ASSERT_TRUE(b.Reserve(cap - 40));  // fits once the 60 consumed bytes are gone
  EXPECT_EQ(b.capacity(), cap);
  EXPECT_EQ(std::string(b.data(), b.size()), s.substr(60));
  ASSERT_TRUE(b.Reserve(10 * cap));
  EXPECT_GE(b.writable(), 10 * cap);
  EXPECT_EQ(std::string(b.data(), b.size()), s.substr(60));
}

TEST(ReadBufferTest, ShrinkGivesBackSlackButKeepsData) {
  ReadBuffer b;
  ASSERT_TRUE(b.Reserve(8 * 1024 * 1024));
  memset(b.write_ptr(), 'x', 10);
  b.Commit(10);
  b.Shrink();
  EXPECT_LE(b.capacity(), 10 + limits::kReadChunk);
  EXPECT_EQ(std::string(b.data(), b.size()), std::string(10, 'x'));
}

TEST(ReadBufferTest, FailedReserveLeavesTheBufferAlone) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "ASan reports an impossible allocation instead of failing it";
#endif
  ReadBuffer b;
  ASSERT_TRUE(b.Append("abc", 3));
  // More than any address space: realloc fails, nothing is thrown.
  EXPECT_FALSE(b.Reserve(SIZE_MAX / 2));
  EXPECT_EQ(std::string(b.data(), b.size()), "abc");
}

}  // namespace
}  // namespace fdb
