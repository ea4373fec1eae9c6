// An Env wrapper that injects the failures a data directory meets in production, for tests of
// the storage layer and, later, crash tests of the engine:
//   - writes that fail with ENOSPC (optionally after writing part of the data, as a real short
//     write does), fsyncs that fail with EIO, file creations that fail;
//   - a simulated power loss: DropUnsyncedData() cuts every file written through this Env back
//     to its size at its last successful Sync.
// Failures apply to paths containing `path_filter` (empty: all paths). Thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "base/mutex.h"
#include "storage/env.h"

namespace fdb::storage {

class FaultInjectionEnv final : public Env {
 public:
  explicit FaultInjectionEnv(Env* base) : base_(base) {}

  // Each Append fails with "No space left on device"; with partial_write, the first half of the
  // data reaches the file first.
  void SetWriteFailure(bool fail, bool partial_write = false) {
    partial_write_ = partial_write;
    fail_writes_ = fail;
  }
  void SetSyncFailure(bool fail) { fail_syncs_ = fail; }
  void SetCreateFailure(bool fail) { fail_creates_ = fail; }
  // Makes every successful Sync take at least this long, as on a slow disk.
  void SetSyncDelayMicros(uint64_t us) { sync_delay_us_ = us; }
  void SetPathFilter(std::string filter);

  uint64_t sync_count() const { return syncs_; }  // successful, finished
  uint64_t syncs_started() const { return syncs_started_; }
  uint64_t append_count() const { return appends_; }

  // Simulated power loss: every file written through this Env loses what was not synced.
  Status DropUnsyncedData();

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    return base_->NewRandomAccessFile(path);
  }
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  Result<uint64_t> GetFileSize(const std::string& path) override {
    return base_->GetFileSize(path);
  }
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    return base_->GetChildren(dir);
  }
  Status CreateDirIfMissing(const std::string& dir) override {
    return base_->CreateDirIfMissing(dir);
  }
  Status RemoveFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;
  Status TruncateFile(const std::string& path, uint64_t size) override;

 private:
  friend class FaultInjectionFile;
  bool Matches(const std::string& path) const;
  void RecordSynced(const std::string& path, uint64_t size);

  Env* base_;
  std::atomic<bool> fail_writes_{false};
  std::atomic<bool> partial_write_{false};
  std::atomic<bool> fail_syncs_{false};
  std::atomic<bool> fail_creates_{false};
  std::atomic<uint64_t> sync_delay_us_{0};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> syncs_started_{0};
  std::atomic<uint64_t> appends_{0};
  mutable Mutex mu_;
  std::string path_filter_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> synced_ ABSL_GUARDED_BY(mu_);  // path -> size at last Sync
};

}  // namespace fdb::storage
