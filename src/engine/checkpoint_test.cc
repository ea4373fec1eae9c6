// Checkpoint files: what the writer writes the reader gives back, and any damage (a flipped
// byte anywhere, a missing tail) is Corruption naming the file, never a partial index.
#include "engine/checkpoint.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/hash.h"
#include "base/limits.h"
#include "storage/crc32c.h"
#include "storage/storage_test_util.h"

namespace fdb {
namespace {

using storage::testing::ReadAll;
using storage::testing::TempDir;
using storage::testing::WriteAll;

struct OwnedEntry {
  int db;
  ValueType type;
  std::string key;
  int64_t expire_ms;
  uint64_t loc;
  uint64_t value_len;
  bool operator==(const OwnedEntry&) const = default;
};

std::vector<OwnedEntry> SampleEntries() {
  std::vector<OwnedEntry> v;
  v.push_back({0, ValueType::kString, "alpha", 0, Entry::PackLoc(1, 24), 5});
  v.push_back({15, ValueType::kString, "", 1700000000000, Entry::PackLoc(3, 1ULL << 39), 0});
  v.push_back({7, ValueType::kHash, std::string(300, 'k'), -1, Entry::PackLoc((1 << 24) - 1, 9),
               1ULL << 40});
  v.push_back({1, ValueType::kString, std::string("bin\0\xff", 5), 5, 0, 1});
  return v;
}

std::vector<uint64_t> SampleSequences() {
  std::vector<uint64_t> seq(limits::kNumShards);
  for (size_t i = 0; i < seq.size(); i++) seq[i] = 1000 + i * 3;
  return seq;
}

void WriteCheckpoint(const std::string& path, const std::vector<OwnedEntry>& entries,
                     const std::vector<uint64_t>& seq) {
  CheckpointWriter w;
  ASSERT_TRUE(w.Open(path).ok());
  for (const OwnedEntry& o : entries) {
    CheckpointEntry e;
    e.db = o.db;
    e.type = o.type;
    e.key = o.key;
    e.expire_ms = o.expire_ms;
    e.loc = o.loc;
    e.value_len = o.value_len;
    ASSERT_TRUE(w.Add(e).ok());
  }
  ASSERT_TRUE(w.Finish(seq).ok());
}

Status Read(const std::string& path, std::vector<OwnedEntry>* out, std::vector<uint64_t>* seq,
            ShardLayout* layout = nullptr) {
  seq->assign(limits::kNumShards, 0);
  ShardLayout ignored;
  return ReadCheckpoint(path, layout ? layout : &ignored, seq, [out](const CheckpointEntry& e) {
    out->push_back({e.db, e.type, std::string(e.key), e.expire_ms, e.loc, e.value_len});
  });
}

TEST(CheckpointTest, RoundTrip) {
  TempDir dir;
  std::string path = dir.path() + "/CHECKPOINT-1.fdbc";
  ASSERT_NO_FATAL_FAILURE(WriteCheckpoint(path, SampleEntries(), SampleSequences()));
  std::vector<OwnedEntry> got;
  std::vector<uint64_t> seq;
  ShardLayout layout = ShardLayout::kXxh3LowBits;
  Status s = Read(path, &got, &seq, &layout);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(got, SampleEntries());
  EXPECT_EQ(seq, SampleSequences());
  EXPECT_EQ(layout, ShardLayout::kSlotRanges);
  EXPECT_EQ(ReadAll(path).substr(0, 8), "FDBCKPT2");
}

// Format 1 (before issue 10) indexed shard_seq by XXH3's low bits: it is still read, and the
// reader says so, so that recovery applies it with that shard function.
TEST(CheckpointTest, Format1IsReadWithItsLayout) {
  TempDir dir;
  std::string path = dir.path() + "/CHECKPOINT-1.fdbc";
  CheckpointWriter w;
  ASSERT_TRUE(w.Open(path, ShardLayout::kXxh3LowBits).ok());
  ASSERT_TRUE(w.Finish(SampleSequences()).ok());
  EXPECT_EQ(ReadAll(path).substr(0, 8), "FDBCKPT1");
  std::vector<OwnedEntry> got;
  std::vector<uint64_t> seq;
  ShardLayout layout = ShardLayout::kSlotRanges;
  Status s = Read(path, &got, &seq, &layout);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(layout, ShardLayout::kXxh3LowBits);
  EXPECT_EQ(seq, SampleSequences());
}

TEST(CheckpointTest, UnknownFormatIsRefusedSayingWhatToDo) {
  TempDir dir;
  std::string path = dir.path() + "/CHECKPOINT-1.fdbc";
  ASSERT_NO_FATAL_FAILURE(WriteCheckpoint(path, SampleEntries(), SampleSequences()));
  // A format 3 checkpoint, its checksum intact: only the version is unknown.
  std::string d = ReadAll(path);
  d[7] = '3';
  uint32_t crc = storage::crc32c::Mask(storage::crc32c::Value(d.data(), d.size() - 4));
  for (int i = 0; i < 4; i++) d[d.size() - 4 + i] = static_cast<char>(crc >> (8 * i));
  WriteAll(path, d);
  std::vector<OwnedEntry> got;
  std::vector<uint64_t> seq;
  Status s = Read(path, &got, &seq);
  EXPECT_EQ(s.code(), Status::kCorruption) << s.ToString();
  EXPECT_NE(s.ToString().find("newer than this build"), std::string::npos) << s.ToString();
}

TEST(CheckpointTest, ShardOfKeyInEachLayout) {
  EXPECT_EQ(ShardOfKeyIn(ShardLayout::kSlotRanges, "somekey"), 11058 >> 6);
  EXPECT_EQ(ShardOfKeyIn(ShardLayout::kXxh3LowBits, "somekey"),
            static_cast<int>(HashKey("somekey") & (limits::kNumShards - 1)));
}

TEST(CheckpointTest, EmptyCheckpointRoundTrips) {
  TempDir dir;
  std::string path = dir.path() + "/empty.fdbc";
  ASSERT_NO_FATAL_FAILURE(WriteCheckpoint(path, {}, SampleSequences()));
  std::vector<OwnedEntry> got;
  std::vector<uint64_t> seq;
  ASSERT_TRUE(Read(path, &got, &seq).ok());
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(seq, SampleSequences());
}

TEST(CheckpointTest, LargeCheckpointSpansBufferFlushes) {
  TempDir dir;
  std::string path = dir.path() + "/large.fdbc";
  std::vector<OwnedEntry> entries;
  // ~2.5 MB of entries: more than the writer's 1 MiB buffer, so the CRC spans flushes.
  for (int i = 0; i < 20000; i++) {
    entries.push_back({i % 16, ValueType::kString,
                       "key:" + std::to_string(i) + std::string(100, 'x'), i,
                       Entry::PackLoc(i / 100 + 1, i * 10), static_cast<uint64_t>(i)});
  }
  ASSERT_NO_FATAL_FAILURE(WriteCheckpoint(path, entries, SampleSequences()));
  std::vector<OwnedEntry> got;
  std::vector<uint64_t> seq;
  Status s = Read(path, &got, &seq);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(got, entries);
}

TEST(CheckpointTest, FlippedByteIsCorruptionNamingTheFile) {
  TempDir dir;
  std::string path = dir.path() + "/CHECKPOINT-2.fdbc";
  ASSERT_NO_FATAL_FAILURE(WriteCheckpoint(path, SampleEntries(), SampleSequences()));
  const std::string good = ReadAll(path);
  // Every position: magic, entries, end marker, trailer, crc.
  for (size_t pos = 0; pos < good.size(); pos++) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x10);
    WriteAll(path, bad);
    std::vector<OwnedEntry> got;
    std::vector<uint64_t> seq;
    Status s = Read(path, &got, &seq);
    ASSERT_EQ(s.code(), Status::kCorruption) << "flipped byte " << pos << ": " << s.ToString();
    EXPECT_NE(s.message().find(path), std::string::npos) << s.ToString();
    EXPECT_TRUE(got.empty()) << "no entry may be delivered before the checksum is verified";
  }
}

TEST(CheckpointTest, TruncatedFileIsCorruptionNamingTheFile) {
  TempDir dir;
  std::string path = dir.path() + "/CHECKPOINT-3.fdbc";
  ASSERT_NO_FATAL_FAILURE(WriteCheckpoint(path, SampleEntries(), SampleSequences()));
  const std::string good = ReadAll(path);
  for (size_t n = 0; n < good.size(); n++) {
    WriteAll(path, good.substr(0, n));
    std::vector<OwnedEntry> got;
    std::vector<uint64_t> seq;
    Status s = Read(path, &got, &seq);
    ASSERT_EQ(s.code(), Status::kCorruption) << "truncated to " << n << ": " << s.ToString();
    EXPECT_NE(s.message().find(path), std::string::npos) << s.ToString();
    EXPECT_TRUE(got.empty());
  }
}

TEST(CheckpointTest, ShardCountMismatchIsCorruption) {
  TempDir dir;
  std::string path = dir.path() + "/other_build.fdbc";
  ASSERT_NO_FATAL_FAILURE(WriteCheckpoint(path, SampleEntries(), std::vector<uint64_t>(8, 1)));
  std::vector<OwnedEntry> got;
  std::vector<uint64_t> seq;
  Status s = Read(path, &got, &seq);
  EXPECT_EQ(s.code(), Status::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find(path), std::string::npos) << s.ToString();
}

TEST(CheckpointTest, MissingFileIsNotCorruption) {
  TempDir dir;
  std::vector<OwnedEntry> got;
  std::vector<uint64_t> seq;
  Status s = Read(dir.path() + "/nope.fdbc", &got, &seq);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.code(), Status::kCorruption) << s.ToString();
}

}  // namespace
}  // namespace fdb
