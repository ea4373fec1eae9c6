// The writer against a failing disk: ENOSPC on write (whole or partial), EIO on fsync, failures
// while creating a segment or publishing it. In every case: writes are refused with MISCONF,
// nothing is reported written or durable that was not, and after the fault clears the log
// holds exactly the records appended, once each, in order.
#include <gtest/gtest.h>

#include <thread>

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

  // Appends until the writer reports the failure (the flusher fails asynchronously).
  void AppendUntilRefused(LogWriter* w, std::vector<uint64_t>* appended) {
    for (int i = 0; i < 10000; ++i) {
      auto r = w->Append(RecordType::kPut, "value-" + std::to_string(appended->size()));
      if (!r.ok()) {
        EXPECT_EQ(r.status().code(), Status::kIOError);
        EXPECT_EQ(r.status().message().rfind(kWriteRefusedPrefix, 0), 0u) << r.status().ToString();
        return;
      }
      appended->push_back(r->sequence);
      Status s = w->WaitForPolicy(r->sequence);
      if (!s.ok()) {
        EXPECT_EQ(s.message().rfind(kWriteRefusedPrefix, 0), 0u) << s.ToString();
      }
    }
    ADD_FAILURE() << "writer never refused";
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

  void ExpectLogHolds(size_t n) {
    auto records = Replay();
    ASSERT_EQ(records.size(), n);
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(records[i], "value-" + std::to_string(i));
  }

  TempDir dir_;
  FaultInjectionEnv env_{Env::Default()};
  std::mutex mu_;
  bool hook_ok_ = true;
  std::vector<uint64_t> segments_;
};

TEST_P(LogWriterFaultTest, WriteFailureRefusesThenRecoversOnRetry) {
  for (bool partial : {false, true}) {
    SCOPED_TRACE(partial ? "partial write" : "failed write");
    auto w = Open();
    std::vector<uint64_t> appended;
    for (int i = 0; i < 5; ++i) {
      auto r = w->Append(RecordType::kPut, "value-" + std::to_string(appended.size()));
      ASSERT_TRUE(r.ok());
      appended.push_back(r->sequence);
    }
    ASSERT_TRUE(w->Flush().ok());
    const uint64_t durable_before = w->stats().durable_sequence;

    env_.SetWriteFailure(true, partial);
    AppendUntilRefused(w.get(), &appended);
    LogWriterStats stats = w->stats();
    EXPECT_TRUE(stats.failed);
    EXPECT_NE(stats.last_error.find("No space left on device"), std::string::npos);
    EXPECT_GE(stats.write_errors, 1u);
    // Nothing appended during the failure is reported durable.
    EXPECT_EQ(stats.durable_sequence, durable_before);
    EXPECT_FALSE(w->WaitDurable(appended.back()).ok());
    EXPECT_FALSE(w->Health().ok());
    EXPECT_FALSE(w->Retry().ok());  // still failing

    env_.SetWriteFailure(false);
    ASSERT_TRUE(w->Retry().ok());
    EXPECT_TRUE(w->Health().ok());
    ASSERT_TRUE(w->WaitDurable(appended.back()).ok());
    auto r = w->Append(RecordType::kPut, "value-" + std::to_string(appended.size()));
    ASSERT_TRUE(r.ok());
    appended.push_back(r->sequence);
    ASSERT_TRUE(w->Close().ok());
    ExpectLogHolds(appended.size());
    // Start the next round in a fresh directory state.
    w.reset();
    std::filesystem::remove_all(dir_.path());
    std::filesystem::create_directory(dir_.path());
    segments_.clear();
  }
}

TEST_P(LogWriterFaultTest, SyncFailureIsNeverReportedDurableAndIsRepaired) {
  auto w = Open();
  std::vector<uint64_t> appended;
  env_.SetSyncFailure(true);
  for (int i = 0; i < 20; ++i) {
    auto r = w->Append(RecordType::kPut, "value-" + std::to_string(appended.size()));
    if (!r.ok()) break;
    appended.push_back(r->sequence);
  }
  ASSERT_FALSE(appended.empty());
  // Asking for durability forces an fsync under every policy; it fails.
  Status s = w->WaitDurable(appended.back());
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind(kWriteRefusedPrefix, 0), 0u) << s.ToString();
  EXPECT_LT(w->stats().durable_sequence, appended.front());

  env_.SetSyncFailure(false);
  ASSERT_TRUE(w->Retry().ok());
  ASSERT_TRUE(w->WaitDurable(appended.back()).ok());
  ASSERT_TRUE(w->Close().ok());
  ExpectLogHolds(appended.size());
}

TEST_P(LogWriterFaultTest, FailureWhileRotatingRecovers) {
  // Tiny segments so that rotation happens constantly; fail creating new segment files, then
  // fail the hook that would publish them in the manifest.
  for (int mode = 0; mode < 2; ++mode) {
    SCOPED_TRACE(mode == 0 ? "create fails" : "hook fails");
    auto w = Open(/*segment_target_size=*/256);
    std::vector<uint64_t> appended;
    if (mode == 0) {
      env_.SetCreateFailure(true);
    } else {
      std::lock_guard lock(mu_);
      hook_ok_ = false;
    }
    AppendUntilRefused(w.get(), &appended);
    const uint64_t durable = w->stats().durable_sequence;
    EXPECT_LT(durable, appended.back());
    env_.SetCreateFailure(false);
    {
      std::lock_guard lock(mu_);
      hook_ok_ = true;
    }
    ASSERT_TRUE(w->Retry().ok());
    ASSERT_TRUE(w->WaitDurable(appended.back()).ok());
    ASSERT_TRUE(w->Close().ok());
    ExpectLogHolds(appended.size());
    w.reset();
    std::filesystem::remove_all(dir_.path());
    std::filesystem::create_directory(dir_.path());
    segments_.clear();
  }
}

TEST_P(LogWriterFaultTest, RetriesAutomaticallyWhenSpaceIsFreed) {
  auto w = Open(kSegmentTargetSize, std::chrono::milliseconds(10));
  std::vector<uint64_t> appended;
  env_.SetWriteFailure(true, /*partial_write=*/true);
  AppendUntilRefused(w.get(), &appended);
  env_.SetWriteFailure(false);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!w->Health().ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(w->Health().ok());
  ASSERT_TRUE(w->Flush().ok());
  ASSERT_TRUE(w->Close().ok());
  ExpectLogHolds(appended.size());
}

TEST_P(LogWriterFaultTest, CloseWhileFailedReportsTheError) {
  auto w = Open();
  std::vector<uint64_t> appended;
  env_.SetWriteFailure(true);
  AppendUntilRefused(w.get(), &appended);
  Status s = w->Close();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind(kWriteRefusedPrefix, 0), 0u) << s.ToString();
  env_.SetWriteFailure(false);
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
  std::vector<uint64_t> ignored;
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

INSTANTIATE_TEST_SUITE_P(LogWriterFault, LogWriterFaultTest,
                         ::testing::Values(FsyncPolicy::kAlways, FsyncPolicy::kEverySec,
                                           FsyncPolicy::kNo),
                         [](const auto& info) { return std::string(FsyncPolicyName(info.param)); });

}  // namespace
}  // namespace fdb::storage
