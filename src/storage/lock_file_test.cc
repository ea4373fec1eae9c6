#include "storage/lock_file.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage/storage_test_util.h"

namespace fdb::storage {
namespace {

using testing::TempDir;

TEST(StorageLockTest, SecondOpenIsRefusedNamingDirectoryAndHolder) {
  TempDir dir;
  auto first = DirLock::Acquire(dir.path());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // flock locks belong to the open file description: a second open in the same process
  // conflicts exactly like another process.
  auto second = DirLock::Acquire(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::kBusy);
  EXPECT_NE(second.status().message().find(dir.path()), std::string::npos);
  EXPECT_NE(second.status().message().find("pid " + std::to_string(::getpid())), std::string::npos)
      << second.status().ToString();
  first->reset();  // release
  auto third = DirLock::Acquire(dir.path());
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

TEST(StorageLockTest, AnotherProcessIsRefused) {
  TempDir dir;
  auto lock = DirLock::Acquire(dir.path());
  ASSERT_TRUE(lock.ok());
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child inherits our descriptor (O_CLOEXEC does not matter for fork), but its own
    // Acquire opens the file anew and must fail.
    auto r = DirLock::Acquire(dir.path());
    _exit(!r.ok() && r.status().code() == Status::kBusy ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(StorageLockTest, MissingDirectoryIsAnIOError) {
  auto r = DirLock::Acquire("/nonexistent/fdb/dir");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::kIOError);
}

}  // namespace
}  // namespace fdb::storage
