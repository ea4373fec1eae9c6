#include "storage/fault_injection_env.h"

#include <chrono>
#include <thread>

namespace fdb::storage {

class FaultInjectionFile final : public WritableFile {
 public:
  FaultInjectionFile(FaultInjectionEnv* env, std::string path, std::unique_ptr<WritableFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    ++env_->appends_;
    if (env_->fail_writes_ && env_->Matches(path_)) {
      if (env_->partial_write_ && data.size() > 1) {
        Status s = base_->Append(data.substr(0, data.size() / 2));
        (void)s;  // the injected error below is what the caller must see
      }
      return Status::IOError(path_ + ": No space left on device (injected)");
    }
    return base_->Append(data);
  }
  Status Sync() override {
    if (env_->fail_syncs_ && env_->Matches(path_)) {
      return Status::IOError(path_ + ": Input/output error (injected)");
    }
    // What a sync makes durable is what was written before it began: appends that run beside
    // it (the log's background fsync) may or may not be covered, so a power loss drops them.
    const uint64_t size = base_->Size();
    ++env_->syncs_started_;
    Status s = base_->Sync();
    if (uint64_t us = env_->sync_delay_us_; us > 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(us));
    }
    if (s.ok()) {
      ++env_->syncs_;
      env_->RecordSynced(path_, size);
    }
    return s;
  }
  Status Truncate(uint64_t size) override { return base_->Truncate(size); }
  Status Close() override { return base_->Close(); }
  uint64_t Size() const override { return base_->Size(); }

 private:
  FaultInjectionEnv* env_;
  std::string path_;
  std::unique_ptr<WritableFile> base_;
};

void FaultInjectionEnv::SetPathFilter(std::string filter) {
  MutexLock lock(mu_);
  path_filter_ = std::move(filter);
}

bool FaultInjectionEnv::Matches(const std::string& path) const {
  MutexLock lock(mu_);
  return path_filter_.empty() || path.find(path_filter_) != std::string::npos;
}

void FaultInjectionEnv::RecordSynced(const std::string& path, uint64_t size) {
  MutexLock lock(mu_);
  synced_[path] = size;
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(const std::string& path) {
  if (fail_creates_ && Matches(path)) {
    return Status::IOError(path + ": No space left on device (injected)");
  }
  auto file = base_->NewWritableFile(path);
  if (!file.ok()) return file.status();
  {
    MutexLock lock(mu_);
    synced_[path] = 0;  // a new file's content is not durable until synced
  }
  return std::unique_ptr<WritableFile>(new FaultInjectionFile(this, path, std::move(*file)));
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  {
    MutexLock lock(mu_);
    synced_.erase(path);
  }
  return base_->RemoveFile(path);
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  Status s = base_->RenameFile(from, to);
  if (s.ok()) {
    MutexLock lock(mu_);
    auto it = synced_.find(from);
    if (it != synced_.end()) {
      synced_[to] = it->second;
      synced_.erase(it);
    } else {
      synced_.erase(to);
    }
  }
  return s;
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  if (fail_syncs_ && Matches(dir)) return Status::IOError(dir + ": Input/output error (injected)");
  return base_->SyncDir(dir);
}

Status FaultInjectionEnv::TruncateFile(const std::string& path, uint64_t size) {
  if (fail_writes_ && Matches(path)) {
    return Status::IOError(path + ": No space left on device (injected)");
  }
  Status s = base_->TruncateFile(path, size);
  if (s.ok()) RecordSynced(path, size);  // TruncateFile syncs
  return s;
}

Status FaultInjectionEnv::DropUnsyncedData() {
  std::map<std::string, uint64_t> synced;
  {
    MutexLock lock(mu_);
    synced = synced_;
  }
  for (const auto& [path, size] : synced) {
    auto cur = base_->GetFileSize(path);
    if (!cur.ok()) continue;  // removed meanwhile
    if (*cur > size) {
      Status s = base_->TruncateFile(path, size);
      if (!s.ok()) return s;
    }
  }
  return Status::OK();
}

}  // namespace fdb::storage
