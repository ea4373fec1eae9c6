#include "storage/manifest.h"

#include <gtest/gtest.h>

#include "storage/fault_injection_env.h"
#include "storage/file_names.h"
#include "storage/format.h"
#include "storage/storage_test_util.h"

namespace fdb::storage {
namespace {

using testing::ReadAll;
using testing::TempDir;
using testing::WriteAll;

Manifest Sample(uint64_t generation) {
  Manifest m;
  m.generation = generation;
  m.checkpoint_file = "00000007.ckpt";
  m.checkpoint_sequence = 1234;
  m.segments = {3, 4, 9, 10};
  return m;
}

TEST(ManifestTest, EncodeDecodeRoundTrip) {
  for (const Manifest& m : {Manifest{}, Sample(5)}) {
    auto d = DecodeManifest(EncodeManifest(m));
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(*d, m);
  }
}

TEST(ManifestTest, EveryDamagedByteOrTruncationIsCorruption) {
  const std::string bytes = EncodeManifest(Sample(1));
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x40;
    EXPECT_EQ(DecodeManifest(bad).status().code(), Status::kCorruption) << "byte " << i;
  }
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(DecodeManifest(bytes.substr(0, n)).status().code(), Status::kCorruption) << n;
  }
  EXPECT_FALSE(DecodeManifest(bytes + "x").ok());
}

TEST(ManifestTest, WriteReadAndAtomicReplace) {
  TempDir dir;
  Env* env = Env::Default();
  EXPECT_EQ(ReadManifest(env, dir.path()).status().code(), Status::kNotFound);
  ASSERT_TRUE(WriteManifest(env, dir.path(), Sample(1)).ok());
  ASSERT_TRUE(WriteManifest(env, dir.path(), Sample(2)).ok());
  auto m = ReadManifest(env, dir.path());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, Sample(2));
  EXPECT_FALSE(env->FileExists(JoinPath(dir.path(), kManifestTempFileName)));
}

TEST(ManifestTest, FailedReplaceLeavesTheOldManifest) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default());
  ASSERT_TRUE(WriteManifest(&env, dir.path(), Sample(1)).ok());
  for (int fault = 0; fault < 2; ++fault) {
    env.SetWriteFailure(fault == 0, /*partial_write=*/true);
    env.SetSyncFailure(fault == 1);
    EXPECT_FALSE(WriteManifest(&env, dir.path(), Sample(2)).ok());
    auto m = ReadManifest(&env, dir.path());
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(*m, Sample(1));
  }
}

TEST(ManifestTest, CrashBeforeRenameLeavesTheOldManifest) {
  // A crash after writing MANIFEST.tmp but before the rename: the leftover is ignored.
  TempDir dir;
  Env* env = Env::Default();
  ASSERT_TRUE(WriteManifest(env, dir.path(), Sample(1)).ok());
  WriteAll(JoinPath(dir.path(), kManifestTempFileName), EncodeManifest(Sample(2)).substr(0, 10));
  auto m = ReadManifest(env, dir.path());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, Sample(1));
  ASSERT_TRUE(WriteManifest(env, dir.path(), Sample(3)).ok());  // overwrites the leftover
  EXPECT_EQ(ReadManifest(env, dir.path()).value(), Sample(3));
}

TEST(ManifestTest, DamagedManifestFileIsCorruptionNamingIt) {
  TempDir dir;
  Env* env = Env::Default();
  ASSERT_TRUE(WriteManifest(env, dir.path(), Sample(1)).ok());
  const std::string path = JoinPath(dir.path(), kManifestFileName);
  std::string bytes = ReadAll(path);
  bytes[bytes.size() / 2] ^= 1;
  WriteAll(path, bytes);
  auto m = ReadManifest(env, dir.path());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Status::kCorruption);
  EXPECT_NE(m.status().message().find(path), std::string::npos);
}

TEST(ManifestTest, RefusesToWriteWhatItWouldNotRead) {
  TempDir dir;
  Manifest m = Sample(1);
  m.segments = {4, 3};
  EXPECT_EQ(WriteManifest(Env::Default(), dir.path(), m).code(), Status::kInvalidArgument);
  m = Sample(1);
  m.checkpoint_file = "../etc/passwd";
  EXPECT_EQ(WriteManifest(Env::Default(), dir.path(), m).code(), Status::kInvalidArgument);
}

}  // namespace
}  // namespace fdb::storage
