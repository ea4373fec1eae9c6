#include "storage/log_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "storage/crc32c.h"
#include "storage/fault_injection_env.h"
#include "storage/file_names.h"
#include "storage/log_reader.h"
#include "storage/storage_test_util.h"

namespace fdb::storage {
namespace {

using testing::TempDir;

struct Written {
  RecordType type;
  std::string payload;
  AppendResult result;
};

std::string Payload(uint64_t i, size_t size) {
  std::string s(size, '\0');
  for (size_t j = 0; j < size; ++j) s[j] = static_cast<char>('a' + (i * 31 + j) % 26);
  return s;
}

class LogWriterTest : public ::testing::Test {
 protected:
  LogWriterOptions Options(FsyncPolicy policy = FsyncPolicy::kEverySec) {
    LogWriterOptions o;
    o.env = &env_;
    o.dir = dir_.path();
    o.fsync = policy;
    o.retry_interval = std::chrono::milliseconds(20);
    o.on_segment_created = [this](uint64_t id) {
      std::lock_guard lock(mu_);
      if (segments_.empty() || segments_.back() != id) segments_.push_back(id);  // idempotent
      return hook_status_;
    };
    return o;
  }

  std::vector<uint64_t> Segments() {
    std::lock_guard lock(mu_);
    return segments_;
  }

  // Replays the whole log and returns the records in order.
  std::vector<StoredRecord> ReplayAll(ReplayResult* result_out = nullptr) {
    std::vector<StoredRecord> out;
    auto result = ReplayLog(&env_, dir_.path(), Segments(), [&](const LogRecord& r) {
      out.push_back({r.type, r.sequence, std::string(r.payload)});
      return Status::OK();
    });
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    if (result.ok() && result_out) *result_out = *result;
    return out;
  }

  TempDir dir_;
  FaultInjectionEnv env_{Env::Default()};
  std::mutex mu_;
  std::vector<uint64_t> segments_;
  Status hook_status_;
};

TEST_F(LogWriterTest, RoundTripAcrossSegmentRotation) {
  auto options = Options();
  options.segment_target_size = 4096;
  auto w = LogWriter::Open(options);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  std::mt19937 rng(1);
  std::vector<Written> written;
  for (uint64_t i = 0; i < 3000; ++i) {
    // Mostly small; now and then one larger than the segment target, which gets a segment of
    // its own; and empty payloads.
    size_t size = i % 500 == 7 ? 10000 : rng() % 300;
    auto type = static_cast<RecordType>(1 + i % 6);
    std::string payload = Payload(i, size);
    auto r = (*w)->Append(type, payload);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->sequence, i + 1);
    written.push_back({type, payload, *r});
  }
  ASSERT_TRUE((*w)->Flush().ok());
  LogWriterStats stats = (*w)->stats();
  EXPECT_EQ(stats.durable_sequence, 3000u);
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_GT(stats.segments_created, 50u);
  EXPECT_EQ(stats.segments_created, Segments().size());

  // Sequential replay gives every record back in order, at the location Append reported.
  std::vector<RecordLocation> locations;
  auto result = ReplayLog(&env_, dir_.path(), Segments(), [&](const LogRecord& r) {
    size_t i = locations.size();
    EXPECT_EQ(r.sequence, written[i].result.sequence);
    EXPECT_EQ(r.type, written[i].type);
    EXPECT_EQ(r.payload, written[i].payload);
    EXPECT_EQ(r.location, written[i].result.location);
    locations.push_back(r.location);
    return Status::OK();
  });
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->records, 3000u);
  EXPECT_FALSE(result->torn_tail.has_value());

  // Segments respect the target unless they hold a single larger record.
  for (uint64_t id : Segments()) {
    auto size = env_.GetFileSize(SegmentPath(dir_.path(), id));
    ASSERT_TRUE(size.ok());
    if (*size > options.segment_target_size) {
      size_t in_segment = 0;
      for (auto& wr : written) in_segment += wr.result.location.segment_id == id;
      EXPECT_EQ(in_segment, 1u) << "segment " << id;
    }
  }

  // Random reads by location.
  LogRandomReader reader(&env_, dir_.path(), 8);
  for (size_t i = 0; i < written.size(); i += 7) {
    auto rec = reader.ReadAt(written[i].result.location);
    ASSERT_TRUE(rec.ok()) << rec.status().ToString();
    EXPECT_EQ(rec->payload, written[i].payload);
    EXPECT_EQ(rec->sequence, written[i].result.sequence);
  }
}

TEST_F(LogWriterTest, GroupCommitManyThreadsWaitDurable) {
  env_.SetSyncDelayMicros(2000);  // a slow disk makes waiters pile up behind each fsync
  auto w = LogWriter::Open(Options(FsyncPolicy::kAlways));
  ASSERT_TRUE(w.ok());
  constexpr int kThreads = 16, kPerThread = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = (*w)->Append(RecordType::kPut, Payload(t * 1000 + i, 40));
        if (!r.ok() || !(*w)->WaitForPolicy(r->sequence).ok()) {
          ++failures;
          continue;
        }
        // Acknowledged means durable: the flusher has fsynced past it.
        if ((*w)->stats().durable_sequence < r->sequence) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  LogWriterStats stats = (*w)->stats();
  EXPECT_EQ(stats.durable_sequence, uint64_t{kThreads * kPerThread});
  // Many waiters share each fsync.
  EXPECT_LT(stats.fsyncs, uint64_t{kThreads * kPerThread} / 3) << stats.fsyncs;
  EXPECT_GE(stats.last_fsync_latency_us, 2000u);
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ(ReplayAll().size(), size_t{kThreads * kPerThread});
}

TEST_F(LogWriterTest, EverySecWritesAtOnceAndSyncsWithinTheInterval) {
  auto options = Options(FsyncPolicy::kEverySec);
  options.everysec_interval = std::chrono::milliseconds(50);
  auto w = LogWriter::Open(options);
  ASSERT_TRUE(w.ok());
  auto r = (*w)->Append(RecordType::kPut, "v");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE((*w)->WaitForPolicy(r->sequence).ok());  // written to the kernel
  EXPECT_EQ(ReplayAll().size(), 1u);  // visible to a reader: survives a process crash
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while ((*w)->stats().durable_sequence < r->sequence &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ((*w)->stats().durable_sequence, r->sequence);
}

// Everysec's fsync runs beside the writes (as Redis's on its background thread): while it runs,
// records are written (WaitForPolicy, TryWriteNow) without waiting for it, and only what was
// written before it began counts as durable when it ends.
TEST_F(LogWriterTest, EverySecFsyncRunsBesideWrites) {
  auto options = Options(FsyncPolicy::kEverySec);
  options.everysec_interval = std::chrono::milliseconds(1);
  auto w = LogWriter::Open(options);
  ASSERT_TRUE(w.ok());
  env_.SetSyncDelayMicros(1500 * 1000);  // a disk whose fsync takes 1.5 s
  const uint64_t started = env_.syncs_started();
  const uint64_t finished = env_.sync_count();
  auto a = (*w)->Append(RecordType::kPut, "a");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE((*w)->WaitForPolicy(a->sequence).ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (env_.syncs_started() == started && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_GT(env_.syncs_started(), started) << "the timed fsync never began";
  // The fsync of `a` is running: `b` and `c` are written meanwhile.
  auto b = (*w)->Append(RecordType::kPut, "b");
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE((*w)->WaitForPolicy(b->sequence).ok());
  auto c = (*w)->Append(RecordType::kPut, "c");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE((*w)->TryWriteNow(c->sequence));
  EXPECT_EQ(env_.sync_count(), finished) << "a write waited for the fsync";
  EXPECT_LT((*w)->stats().durable_sequence, a->sequence);
  EXPECT_EQ(ReplayAll().size(), 3u);
  // Once it ends, `a` is durable; `b` and `c` by a later one.
  env_.SetSyncDelayMicros(0);
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((*w)->stats().durable_sequence < c->sequence &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ((*w)->stats().durable_sequence, c->sequence);
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ(ReplayAll().size(), 3u);
}

// While the background fsync holds a segment's file, the next segment is not started: records
// of the next segment wait for it, and everything lands in order.
TEST_F(LogWriterTest, EverySecFsyncBesideASegmentRotation) {
  auto options = Options(FsyncPolicy::kEverySec);
  options.everysec_interval = std::chrono::milliseconds(1);
  options.segment_target_size = 256;
  auto w = LogWriter::Open(options);
  ASSERT_TRUE(w.ok());
  env_.SetSyncDelayMicros(2000);
  std::vector<uint64_t> seqs;
  for (int i = 0; i < 300; ++i) {
    auto r = (*w)->Append(RecordType::kPut, Payload(i, 40));
    ASSERT_TRUE(r.ok());
    seqs.push_back(r->sequence);
    if (i % 3 == 0) {
      ASSERT_TRUE((*w)->WaitForPolicy(r->sequence).ok());
    } else if (i % 3 == 1) {
      (void)(*w)->TryWriteNow(r->sequence);
    }
  }
  ASSERT_TRUE((*w)->Flush().ok());
  EXPECT_EQ((*w)->stats().durable_sequence, seqs.back());
  EXPECT_GT(Segments().size(), 10u);
  ASSERT_TRUE((*w)->Close().ok());
  std::vector<StoredRecord> all = ReplayAll();
  ASSERT_EQ(all.size(), seqs.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].sequence, seqs[i]);
    EXPECT_EQ(all[i].payload, Payload(i, 40));
  }
}

// An event loop writes its batch's records itself under everysec (no hand-over to the flusher),
// but never waits for an fsync: TryWriteNow writes without syncing, and refuses under always.
TEST_F(LogWriterTest, TryWriteNowWritesOnTheCallerWithoutSyncing) {
  auto options = Options(FsyncPolicy::kEverySec);
  options.everysec_interval = std::chrono::hours(1);  // no timed fsync during the test
  auto w = LogWriter::Open(options);
  ASSERT_TRUE(w.ok());
  const uint64_t syncs = (*w)->stats().fsyncs;
  auto r = (*w)->Append(RecordType::kPut, "v");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*w)->TryWriteNow(r->sequence));
  EXPECT_EQ((*w)->CommittedSequence(), r->sequence);
  EXPECT_EQ(ReplayAll().size(), 1u);  // in the file: survives a process crash
  EXPECT_EQ((*w)->stats().fsyncs, syncs);
  EXPECT_TRUE((*w)->TryWriteNow(r->sequence));  // already written

  auto always = Options(FsyncPolicy::kAlways);
  TempDir other;
  always.dir = other.path();
  auto a = LogWriter::Open(always);
  ASSERT_TRUE(a.ok());
  auto ra = (*a)->Append(RecordType::kPut, "v");
  ASSERT_TRUE(ra.ok());
  EXPECT_FALSE((*a)->TryWriteNow(ra->sequence));  // an fsync must not stop the caller
  ASSERT_TRUE((*a)->WaitForPolicy(ra->sequence).ok());
}

TEST_F(LogWriterTest, PolicyNoSyncsOnlyWhenAsked) {
  auto w = LogWriter::Open(Options(FsyncPolicy::kNo));
  ASSERT_TRUE(w.ok());
  uint64_t syncs_after_open = (*w)->stats().fsyncs;
  auto r = (*w)->Append(RecordType::kDelete, "k");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE((*w)->WaitForPolicy(r->sequence).ok());
  EXPECT_EQ((*w)->stats().fsyncs, syncs_after_open);
  ASSERT_TRUE((*w)->WaitDurable(r->sequence).ok());
  EXPECT_EQ((*w)->stats().fsyncs, syncs_after_open + 1);
}

TEST_F(LogWriterTest, RejectsBadInputAndAppendsAfterClose) {
  auto w = LogWriter::Open(Options());
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->Append(RecordType::kInvalid, "x").status().code(), Status::kInvalidArgument);
  EXPECT_EQ((*w)->Append(static_cast<RecordType>(200), "x").status().code(),
            Status::kInvalidArgument);
  EXPECT_EQ((*w)->WaitDurable(5).code(), Status::kInvalidArgument);
  auto r = (*w)->Append(RecordType::kPut, "x");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_TRUE((*w)->WaitDurable(r->sequence).ok());  // it was made durable by Close
  EXPECT_FALSE((*w)->Append(RecordType::kPut, "y").ok());
  EXPECT_TRUE((*w)->Close().ok());  // idempotent
}

TEST_F(LogWriterTest, OpenFailsOnUnusableDirectory) {
  auto options = Options();
  options.dir = dir_.path() + "/missing";
  EXPECT_FALSE(LogWriter::Open(options).ok());
}

TEST_F(LogWriterTest, SegmentStartsAfterTheGivenSequenceAndId) {
  auto options = Options();
  options.first_segment_id = 42;
  options.first_sequence = 1000;
  auto w = LogWriter::Open(options);
  ASSERT_TRUE(w.ok());
  auto r = (*w)->Append(RecordType::kPut, "x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->sequence, 1000u);
  EXPECT_EQ(r->location.segment_id, 42u);
  EXPECT_EQ(r->location.offset, kSegmentHeaderSize);
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ(Segments(), std::vector<uint64_t>{42});
}

// A record handed over in parts: written as it comes, durable on return, read back whole; the
// records appended while it was written wait and follow it, in a segment of their own.
TEST_F(LogWriterTest, StreamedRecordIsWrittenInPartsAndEndsItsSegment) {
  for (FsyncPolicy policy : {FsyncPolicy::kAlways, FsyncPolicy::kEverySec, FsyncPolicy::kNo}) {
    SCOPED_TRACE(FsyncPolicyName(policy));
    TempDir dir;
    auto options = Options(policy);
    options.dir = dir.path();
    auto w = LogWriter::Open(options);
    ASSERT_TRUE(w.ok());
    auto before = (*w)->Append(RecordType::kPut, "before");
    ASSERT_TRUE(before.ok());
    const std::string big = Payload(7, 3 << 20);
    std::vector<std::string> during;
    auto streamed = (*w)->AppendStreamed(
        RecordType::kPut, big.size(), crc32c::Value(big), [&](const LogWriter::PartWriter& write) {
          for (size_t at = 0; at < big.size(); at += 64 << 10) {
            write(std::string_view(big).substr(at, 64 << 10));
            if (at == 1 << 20) {
              // Another thread appends in the middle: it waits in memory for this record.
              std::thread t([&] {
                auto r = (*w)->Append(RecordType::kDelete, "during");
                ASSERT_TRUE(r.ok());
                during.push_back("during");
              });
              t.join();
            }
          }
        });
    ASSERT_TRUE(streamed.ok()) << streamed.status().ToString();
    EXPECT_EQ(streamed->sequence, before->sequence + 1);
    EXPECT_GE((*w)->stats().durable_sequence, before->sequence);
    EXPECT_EQ(streamed->location.length, big.size() + kRecordHeaderSize);
    auto after = (*w)->Append(RecordType::kPut, "after");
    ASSERT_TRUE(after.ok());
    EXPECT_GT(after->location.segment_id, streamed->location.segment_id);
    ASSERT_TRUE((*w)->Close().ok());
    std::vector<StoredRecord> got;
    auto result = ReplayLog(&env_, dir.path(), Segments(), [&](const LogRecord& r) {
      got.push_back({r.type, r.sequence, std::string(r.payload)});
      return Status::OK();
    });
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[0].payload, "before");
    EXPECT_EQ(got[1].payload, big);
    EXPECT_EQ(got[1].sequence, streamed->sequence);
    EXPECT_EQ(got[2].payload, "during");
    EXPECT_EQ(got[3].payload, "after");
    std::lock_guard lock(mu_);
    segments_.clear();
  }
}

// Parts that do not add up to what was declared are refused before anything is reported
// written; the writer repairs the segment and goes on without the record.
TEST_F(LogWriterTest, StreamedRecordWithWrongPartsIsRefused) {
  auto w = LogWriter::Open(Options());
  ASSERT_TRUE(w.ok());
  auto first = (*w)->Append(RecordType::kPut, "first");
  ASSERT_TRUE(first.ok());
  const std::string big = Payload(3, 100000);
  auto bad = (*w)->AppendStreamed(RecordType::kPut, big.size(), crc32c::Value(big) ^ 1,
                                  [&](const LogWriter::PartWriter& write) { write(big); });
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind(kWriteRefusedPrefix, 0), 0u) << bad.status().ToString();
  auto short_parts = (*w)->AppendStreamed(RecordType::kPut, big.size(), crc32c::Value(big),
                                          [&](const LogWriter::PartWriter& write) { write("x"); });
  EXPECT_FALSE(short_parts.ok());  // refused: the writer is failed until the retry
  ASSERT_TRUE((*w)->Retry().ok());
  auto ok = (*w)->AppendStreamed(RecordType::kPut, big.size(), crc32c::Value(big),
                                 [&](const LogWriter::PartWriter& write) { write(big); });
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_TRUE((*w)->Close().ok());
  std::vector<StoredRecord> got = ReplayAll();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].payload, "first");
  EXPECT_EQ(got[1].payload, big);
  EXPECT_GT(got[1].sequence, first->sequence + 1);  // the refused record left a gap
}

}  // namespace
}  // namespace fdb::storage
