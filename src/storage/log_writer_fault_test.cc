// The writer against a failing disk: ENOSPC on write (whole or partial), EIO on fsync, failures
// while creating a segment or publishing it. In every case: writes are refused with MISCONF,
// nothing is reported written or durable that was not, every record's fate is decided
// (committed, or discarded with a MISCONF answer), and after the fault clears the log holds
// exactly the records that were not discarded, once each, in order.
#include <gtest/gtest.h>

#include <thread>

#include "storage/crc32c.h"
#include "storage/fault_injection_env.h"
#include "storage/log_reader.h"
#include "storage/log_writer.h"
#include "storage/storage_test_util.h"

namespace fdb::storage {
namespace {

using testing::TempDir;

class LogWriterFaultTest : public ::testing::TestWithParam<FsyncPolicy> {
 protected:
  std::unique_ptr<LogWriter> Open(uint64_t segment_target_size = kSegmentTargetSize,
                                  std::chrono::milliseconds retry = std::chrono::hours(1)) {
    LogWriterOptions o;
    o.env = &env_;
    o.dir = dir_.path();
    o.fsync = GetParam();
    o.segment_target_size = segment_target_size;
    o.retry_interval = retry;
    o.everysec_interval = everysec_;
    o.on_segment_created = [this](uint64_t id) {
      std::lock_guard lock(mu_);
      if (!hook_ok_) return Status::IOError("manifest write failed (injected)");
      if (segments_.empty() || segments_.back() != id) segments_.push_back(id);
      return Status::OK();
    };
    auto w = LogWriter::Open(o);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return w.ok() ? std::move(*w) : nullptr;
  }

  using Appended = std::vector<std::pair<uint64_t, std::string>>;  // (sequence, payload)

  // Appends (waiting for each record's fate, as a client would) until the writer reports the
  // failure. The record whose wait failed was discarded: its MISCONF means it did not happen.
  void AppendUntilRefused(LogWriter* w, Appended* appended) {
    for (int i = 0; i < 10000; ++i) {
      if (!w->Health().ok()) {
        EXPECT_EQ(w->Health().message().rfind(kWriteRefusedPrefix, 0), 0u);
        return;
      }
      std::string payload = "value-" + std::to_string(next_payload_++);
      auto r = w->Append(RecordType::kPut, payload);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      appended->emplace_back(r->sequence, payload);
      Status s = w->WaitForPolicy(r->sequence);
      if (!s.ok()) {
        EXPECT_EQ(s.message().rfind(kWriteRefusedPrefix, 0), 0u) << s.ToString();
        EXPECT_EQ(w->OutcomeOf(r->sequence), Outcome::kDiscarded);
      }
    }
    ADD_FAILURE() << "writer never refused";
  }

  void AppendOk(LogWriter* w, Appended* appended) {
    std::string payload = "value-" + std::to_string(next_payload_++);
    auto r = w->Append(RecordType::kPut, payload);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    appended->emplace_back(r->sequence, payload);
  }

  // Waits for the fate of every appended record (REQUIRES: the writer is healthy again, or the
  // records are decided) and returns the payloads the log must hold.
  std::vector<std::string> Kept(LogWriter* w, const Appended& appended) {
    std::vector<std::string> kept;
    for (const auto& [seq, payload] : appended) {
      Status s = w->WaitForPolicy(seq);
      if (s.ok()) {
        kept.push_back(payload);
      } else {
        EXPECT_EQ(w->OutcomeOf(seq), Outcome::kDiscarded) << seq << ": " << s.ToString();
      }
    }
    return kept;
  }

  std::vector<std::string> Replay() {
    std::vector<uint64_t> segments;
    {
      std::lock_guard lock(mu_);
      segments = segments_;
    }
    std::vector<std::string> out;
    auto r = ReplayLog(&env_, dir_.path(), segments, [&](const LogRecord& rec) {
      out.emplace_back(rec.payload);
      return Status::OK();
    });
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) {
      EXPECT_FALSE(r->torn_tail.has_value()) << r->torn_tail->ToString();
    }
    return out;
  }

  void ExpectLogHolds(const std::vector<std::string>& expected) { EXPECT_EQ(Replay(), expected); }

  void Reset(std::unique_ptr<LogWriter>* w) {
    w->reset();
    std::filesystem::remove_all(dir_.path());
    std::filesystem::create_directory(dir_.path());
    segments_.clear();
  }

  TempDir dir_;
  FaultInjectionEnv env_{Env::Default()};
  std::mutex mu_;
  bool hook_ok_ = true;
  std::vector<uint64_t> segments_;
  int next_payload_ = 0;
  std::chrono::milliseconds everysec_{1000};
};

TEST_P(LogWriterFaultTest, WriteFailureRefusesThenRecoversOnRetry) {
  for (bool partial : {false, true}) {
    SCOPED_TRACE(partial ? "partial write" : "failed write");
    auto w = Open();
    Appended appended;
    for (int i = 0; i < 5; ++i) AppendOk(w.get(), &appended);
    ASSERT_TRUE(w->Flush().ok());
    const uint64_t durable_before = w->stats().durable_sequence;

    env_.SetWriteFailure(true, partial);
    AppendUntilRefused(w.get(), &appended);
    LogWriterStats stats = w->stats();
    EXPECT_TRUE(stats.failed);
    EXPECT_NE(stats.last_error.find("No space left on device"), std::string::npos);
    EXPECT_GE(stats.write_errors, 1u);
    // Nothing appended during the failure is reported durable; the record whose wait failed
    // was discarded, so it never will be.
    EXPECT_EQ(stats.durable_sequence, durable_before);
    EXPECT_FALSE(w->WaitForPolicy(appended.back().first).ok());
    EXPECT_EQ(w->OutcomeOf(appended.back().first), Outcome::kDiscarded);
    // "Everything up to" a discarded record means up to the one kept before it.
    EXPECT_TRUE(w->WaitDurable(appended.back().first).ok());
    EXPECT_FALSE(w->Health().ok());
    EXPECT_FALSE(w->Retry().ok());  // still failing

    env_.SetWriteFailure(false);
    ASSERT_TRUE(w->Retry().ok());
    EXPECT_TRUE(w->Health().ok());
    AppendOk(w.get(), &appended);
    std::vector<std::string> kept = Kept(w.get(), appended);
    EXPECT_LT(kept.size(), appended.size());
    ASSERT_TRUE(w->Close().ok());
    ExpectLogHolds(kept);
    Reset(&w);
  }
}

TEST_P(LogWriterFaultTest, SyncFailureIsNeverReportedDurableAndIsRepaired) {
  auto w = Open();
  Appended appended;
  env_.SetSyncFailure(true);
  for (int i = 0; i < 20; ++i) AppendOk(w.get(), &appended);
  // Asking for durability forces an fsync under every policy; it fails.
  Status s = w->WaitDurable(appended.back().first);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind(kWriteRefusedPrefix, 0), 0u) << s.ToString();
  EXPECT_LT(w->stats().durable_sequence, appended.front().first);

  env_.SetSyncFailure(false);
  ASSERT_TRUE(w->Retry().ok());
  std::vector<std::string> kept = Kept(w.get(), appended);
  if (GetParam() == FsyncPolicy::kAlways) {
    EXPECT_TRUE(kept.empty());  // none was durable, so none was acknowledged
  }
  ASSERT_TRUE(w->Flush().ok());
  ASSERT_TRUE(w->Close().ok());
  ExpectLogHolds(kept);
}

TEST_P(LogWriterFaultTest, FailureWhileRotatingRecovers) {
  // Tiny segments so that rotation happens constantly; fail creating new segment files, then
  // fail the hook that would publish them in the manifest.
  for (int mode = 0; mode < 2; ++mode) {
    SCOPED_TRACE(mode == 0 ? "create fails" : "hook fails");
    auto w = Open(/*segment_target_size=*/256);
    Appended appended;
    if (mode == 0) {
      env_.SetCreateFailure(true);
    } else {
      std::lock_guard lock(mu_);
      hook_ok_ = false;
    }
    AppendUntilRefused(w.get(), &appended);
    const uint64_t durable = w->stats().durable_sequence;
    EXPECT_LT(durable, appended.back().first);
    env_.SetCreateFailure(false);
    {
      std::lock_guard lock(mu_);
      hook_ok_ = true;
    }
    ASSERT_TRUE(w->Retry().ok());
    // Writes go on after the discard, across more rotations.
    for (int i = 0; i < 20; ++i) AppendOk(w.get(), &appended);
    std::vector<std::string> kept = Kept(w.get(), appended);
    ASSERT_TRUE(w->Close().ok());
    ExpectLogHolds(kept);
    Reset(&w);
  }
}

TEST_P(LogWriterFaultTest, RetriesAutomaticallyWhenSpaceIsFreed) {
  auto w = Open(kSegmentTargetSize, std::chrono::milliseconds(10));
  Appended appended;
  env_.SetWriteFailure(true, /*partial_write=*/true);
  AppendUntilRefused(w.get(), &appended);
  env_.SetWriteFailure(false);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!w->Health().ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(w->Health().ok());
  AppendOk(w.get(), &appended);
  std::vector<std::string> kept = Kept(w.get(), appended);
  ASSERT_TRUE(w->Flush().ok());
  ASSERT_TRUE(w->Close().ok());
  ExpectLogHolds(kept);
}

TEST_P(LogWriterFaultTest, CloseWhileFailedReportsTheError) {
  auto w = Open();
  Appended appended;
  env_.SetWriteFailure(true);
  AppendUntilRefused(w.get(), &appended);
  Status s = w->Close();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind(kWriteRefusedPrefix, 0), 0u) << s.ToString();
  env_.SetWriteFailure(false);
}

// The defect this guards against: a record whose client was told MISCONF was kept in memory
// and written once space returned, so the failed write took effect after all.
TEST_P(LogWriterFaultTest, DiscardedRecordNeverReachesTheLogAndItsSequenceIsNotReused) {
  auto w = Open();
  Appended appended;
  AppendOk(w.get(), &appended);
  ASSERT_TRUE(w->WaitForPolicy(appended.back().first).ok());
  env_.SetWriteFailure(true);
  auto failed = w->Append(RecordType::kPut, "failed");
  ASSERT_TRUE(failed.ok());
  Status s = w->WaitForPolicy(failed->sequence);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind(kWriteRefusedPrefix, 0), 0u) << s.ToString();
  EXPECT_EQ(w->OutcomeOf(failed->sequence), Outcome::kDiscarded);
  EXPECT_GE(w->LastDiscarded(), failed->sequence);
  // Appended while failed (a command that passed its check just before the failure): taken,
  // then discarded by the next round.
  auto late = w->Append(RecordType::kPut, "late");
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(w->WaitForPolicy(late->sequence).ok());
  EXPECT_EQ(w->OutcomeOf(late->sequence), Outcome::kDiscarded);

  env_.SetWriteFailure(false);
  ASSERT_TRUE(w->Retry().ok());
  auto after = w->Append(RecordType::kPut, "after");
  ASSERT_TRUE(after.ok());
  EXPECT_GT(after->sequence, late->sequence);  // a discarded sequence is never reused
  ASSERT_TRUE(w->WaitForPolicy(after->sequence).ok());
  EXPECT_EQ(w->OutcomeOf(after->sequence), Outcome::kCommitted);
  EXPECT_EQ(w->OutcomeOf(failed->sequence), Outcome::kDiscarded);  // even below committed
  ASSERT_TRUE(w->Close().ok());
  ExpectLogHolds({appended[0].second, "after"});
}

// Under everysec and no a written record may have been acknowledged: a failed fsync must not
// discard it, only what was never written.
TEST_P(LogWriterFaultTest, WrittenRecordsAreKeptWhenTheyMayHaveBeenAcknowledged) {
  if (GetParam() == FsyncPolicy::kAlways) GTEST_SKIP() << "under always, written is not acked";
  auto w = Open();
  Appended appended;
  AppendOk(w.get(), &appended);
  ASSERT_TRUE(w->WaitForPolicy(appended.back().first).ok());  // written: acknowledged
  env_.SetSyncFailure(true);
  EXPECT_FALSE(w->WaitDurable(appended.back().first).ok());
  auto later = w->Append(RecordType::kPut, "later");
  ASSERT_TRUE(later.ok());
  EXPECT_FALSE(w->WaitForPolicy(later->sequence).ok());
  EXPECT_EQ(w->OutcomeOf(appended.back().first), Outcome::kCommitted);
  env_.SetSyncFailure(false);
  ASSERT_TRUE(w->Retry().ok());
  ASSERT_TRUE(w->Flush().ok());
  // The repaired segment is durable: a power loss now keeps the acknowledged record.
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  ASSERT_TRUE(w->Close().ok());
  ExpectLogHolds({appended[0].second});
}

// The owner's side of a discard: on_discard sees exactly the records after the committed
// boundary, and Decide(false) (the owner cannot undo them) keeps them for the retry, so their
// waiters are answered OK once it succeeds.
TEST_P(LogWriterFaultTest, OwnerSeesUncommittedRecordsAndMayKeepThem) {
  std::vector<std::string> seen;
  uint64_t kept_through = 0;
  bool keep = false;
  LogWriterOptions o;
  o.env = &env_;
  o.dir = dir_.path();
  o.fsync = GetParam();
  o.retry_interval = std::chrono::hours(1);
  o.on_segment_created = [this](uint64_t id) {
    std::lock_guard lock(mu_);
    if (segments_.empty() || segments_.back() != id) segments_.push_back(id);
    return Status::OK();
  };
  LogWriter* writer = nullptr;
  o.on_discard = [&] {
    UncommittedRecords u = writer->Uncommitted();
    kept_through = u.kept_through;
    for (const auto& [segment, bytes] : u.pieces) {
      std::string_view p = bytes;
      while (!p.empty()) {
        DecodedRecord d = DecodeRecord(segment, p);
        ASSERT_EQ(d.check, RecordCheck::kOk) << d.reason;
        seen.emplace_back(d.payload);
        p.remove_prefix(RecordSize(d.payload_length));
      }
    }
    writer->Decide(!keep);
  };
  auto opened = LogWriter::Open(o);
  ASSERT_TRUE(opened.ok());
  std::unique_ptr<LogWriter> w = std::move(*opened);
  writer = w.get();
  auto first = w->Append(RecordType::kPut, "first");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(w->WaitForPolicy(first->sequence).ok());

  env_.SetWriteFailure(true);
  auto a = w->Append(RecordType::kPut, "a");
  auto b = w->Append(RecordType::kPut, "b");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(w->WaitForPolicy(b->sequence).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(kept_through, first->sequence);

  keep = true;
  seen.clear();
  auto c = w->Append(RecordType::kPut, "c");  // accepted while failed; the owner keeps it
  ASSERT_TRUE(c.ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (seen.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"c"}));
  EXPECT_EQ(w->OutcomeOf(c->sequence), Outcome::kPending);
  env_.SetWriteFailure(false);
  ASSERT_TRUE(w->Retry().ok());
  EXPECT_TRUE(w->WaitForPolicy(c->sequence).ok());
  ASSERT_TRUE(w->Close().ok());
  ExpectLogHolds({"first", "c"});
}

TEST_P(LogWriterFaultTest, PowerLossKeepsEverythingAcknowledgedDurable) {
  auto w = Open(/*segment_target_size=*/1024);
  std::vector<uint64_t> durable;
  for (int i = 0; i < 200; ++i) {
    auto r = w->Append(RecordType::kPut, "value-" + std::to_string(i));
    ASSERT_TRUE(r.ok());
    if (i % 10 == 0) {
      ASSERT_TRUE(w->WaitDurable(r->sequence).ok());
      durable.push_back(r->sequence);
    }
  }
  // Crash: freeze the disk (every write and fsync fails from now on, and the writer parks in its
  // failed state, so it touches no file), then lose everything that was not fsynced.
  env_.SetWriteFailure(true);
  env_.SetSyncFailure(true);
  Appended ignored;
  AppendUntilRefused(w.get(), &ignored);
  const uint64_t reported = w->stats().durable_sequence;
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  std::vector<uint64_t> segments;
  {
    std::lock_guard lock(mu_);
    segments = segments_;
  }
  uint64_t recovered = 0;
  auto r = ReplayLog(
      &env_, dir_.path(), segments,
      [&](const LogRecord& rec) {
        EXPECT_EQ(rec.payload, "value-" + std::to_string(recovered));
        ++recovered;
        return Status::OK();
      },
      ReplayOptions{.truncate_torn_tail = false});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE(r->last_sequence, reported);
  EXPECT_GE(r->last_sequence, durable.back());
  (void)w->Close();
  env_.SetWriteFailure(false);
  env_.SetSyncFailure(false);
}

// Everysec's background fsync fails: nothing it covered is reported durable, the writer
// refuses writes, and after the repair the log holds every record that was acknowledged
// (written, under everysec), and a power loss then keeps them.
TEST_P(LogWriterFaultTest, BackgroundFsyncFailureIsRepaired) {
  if (GetParam() != FsyncPolicy::kEverySec) GTEST_SKIP() << "everysec's timed fsync";
  everysec_ = std::chrono::milliseconds(1);
  auto w = Open();
  Appended appended;
  AppendOk(w.get(), &appended);
  ASSERT_TRUE(w->WaitForPolicy(appended.back().first).ok());
  env_.SetSyncFailure(true);
  AppendUntilRefused(w.get(), &appended);  // the timed fsync fails soon
  EXPECT_LE(w->stats().durable_sequence, appended.front().first);
  EXPECT_FALSE(w->Health().ok());
  env_.SetSyncFailure(false);
  ASSERT_TRUE(w->Retry().ok());
  std::vector<std::string> kept = Kept(w.get(), appended);
  EXPECT_GE(kept.size(), 1u);
  ASSERT_TRUE(w->Flush().ok());
  env_.SetWriteFailure(true);  // freeze the disk, then lose what was not fsynced
  env_.SetSyncFailure(true);
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  env_.SetWriteFailure(false);
  env_.SetSyncFailure(false);
  ExpectLogHolds(kept);
  (void)w->Close();
}

// A disk that fills while a record is written in parts: the record is refused and discarded
// (its sequence a gap), what came before stays, and after the retry the log holds everything
// else, once, in order, with no torn record.
TEST_P(LogWriterFaultTest, StreamedRecordFailingMidWayIsDiscarded) {
  for (bool partial : {false, true}) {
    SCOPED_TRACE(partial ? "partial write" : "failed write");
    auto w = Open();
    Appended appended;
    for (int i = 0; i < 3; ++i) AppendOk(w.get(), &appended);
    std::string big(1 << 20, 'b');
    auto r = w->AppendStreamed(RecordType::kPut, big.size(), crc32c::Value(big),
                               [&](const LogWriter::PartWriter& write) {
                                 write(std::string_view(big).substr(0, 4096));
                                 env_.SetWriteFailure(true, partial);
                                 write(std::string_view(big).substr(4096));
                               });
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message().rfind(kWriteRefusedPrefix, 0), 0u) << r.status().ToString();
    EXPECT_FALSE(w->Health().ok());
    const uint64_t gap = w->stats().last_sequence + 1;  // the streamed record's
    EXPECT_EQ(w->OutcomeOf(gap), Outcome::kDiscarded);
    env_.SetWriteFailure(false);
    ASSERT_TRUE(w->Retry().ok());
    AppendOk(w.get(), &appended);
    EXPECT_GT(appended.back().first, gap);
    std::vector<std::string> kept = Kept(w.get(), appended);
    EXPECT_EQ(kept.size(), appended.size());
    ASSERT_TRUE(w->Close().ok());
    ExpectLogHolds(kept);
    Reset(&w);
  }
}

INSTANTIATE_TEST_SUITE_P(LogWriterFault, LogWriterFaultTest,
                         ::testing::Values(FsyncPolicy::kAlways, FsyncPolicy::kEverySec,
                                           FsyncPolicy::kNo),
                         [](const auto& info) { return std::string(FsyncPolicyName(info.param)); });

}  // namespace
}  // namespace fdb::storage
