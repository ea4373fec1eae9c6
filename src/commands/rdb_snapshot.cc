#include "commands/rdb_snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <vector>

#include "base/clock.h"
#include "base/limits.h"
#include "base/logging.h"
#include "commands/rdb_load.h"
#include "commands/rdb_payload.h"
#include "commands/server_context.h"
#include "engine/txn.h"

namespace fdb {

namespace {

// Seconds between two attempts of a save point after a failed one (Redis's
// CONFIG_BGSAVE_RETRY_DELAY), so that a full disk is not retried at every tick.
constexpr int64_t kSaveRetryDelaySeconds = 5;
// The file is written in pieces of about this size; the checksum follows them.
constexpr size_t kWriteChunkBytes = 64 << 10;

bool WriteAll(int fd, const std::string& buf) {
  size_t off = 0;
  while (off < buf.size()) {
    ssize_t n = write(fd, buf.data() + off, buf.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Writes every key of `ks` into `fd` as an RDB file. REQUIRES: the shards are held, or this is
// the forked child (one thread). Only malloc and system calls: it runs in the child.
bool WriteKeyspace(Keyspace& ks, int fd, int64_t key_delay_us) {
  std::string buf;
  RdbWriter header(&buf);  // "REDIS0010" and the aux fields
  buf.reserve(kWriteChunkBytes * 2);
  uint64_t crc = 0;
  bool ok = true;
  auto flush = [&] {
    crc = Crc64(crc, buf);
    ok = ok && WriteAll(fd, buf);
    buf.clear();
  };
  for (int db = 0; db < limits::kNumDatabases && ok; db++) {
    bool selected = false;
    for (int s = 0; s < limits::kNumShards && ok; s++) {
      Shard& shard = ks.shard(s);
      ShardGuard held(shard, /*already_held=*/true);
      shard.dbs[db].ForEach([&](Entry* e) {
        if (!ok) return;
        if (!selected) {
          RdbWriter(&buf, RdbWriter::kContinue).SelectDb(db);
          selected = true;
        }
        RdbWriter(&buf, RdbWriter::kContinue)
            .Key(e->key(), e, e->has_expire() ? e->expire_ms() : 0);
        if (buf.size() >= kWriteChunkBytes) flush();
        if (key_delay_us > 0) usleep(static_cast<useconds_t>(key_delay_us));
      });
    }
  }
  // The end mark, then the checksum of every byte before it, itself included.
  buf.push_back(static_cast<char>(0xFF));
  crc = Crc64(crc, buf);
  for (int i = 0; i < 8; i++) buf.push_back(static_cast<char>(crc >> (8 * i)));
  return ok && WriteAll(fd, buf);
}

// Writes the file as `temp-<pid>.rdb` and renames it over `dir/name`. The messages are Redis's
// (rdbSave), for the caller to log.
Status WriteFile(Keyspace& ks, const std::string& dir, const std::string& name, pid_t pid,
                 int64_t key_delay_us) {
  const std::string temp = RdbSnapshots::TempPath(dir, pid);
  const std::string final_path = dir + "/" + name;
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::IOError("Failed opening the temp RDB file " + temp +
                           " for saving: " + strerror(errno));
  }
  bool ok = WriteKeyspace(ks, fd, key_delay_us) && fsync(fd) == 0;
  const int write_errno = errno;
  ok = close(fd) == 0 && ok;
  if (!ok) {
    unlink(temp.c_str());
    return Status::IOError("Write error saving DB on disk: " + std::string(strerror(write_errno)));
  }
  if (rename(temp.c_str(), final_path.c_str()) != 0) {
    const std::string err = strerror(errno);
    unlink(temp.c_str());
    return Status::IOError("Error moving temp DB file " + temp + " on the final destination " +
                           final_path + ": " + err);
  }
  return Status::OK();
}

// Parses `save`'s "<seconds> <changes>..." (Config validated it).
std::vector<std::pair<int64_t, int64_t>> SavePoints(const std::string& save) {
  std::vector<std::pair<int64_t, int64_t>> points;
  const char* p = save.c_str();
  char* end = nullptr;
  while (*p != '\0') {
    int64_t secs = std::strtoll(p, &end, 10);
    if (end == p) break;
    int64_t changes = std::strtoll(end, &end, 10);
    points.emplace_back(secs, changes);
    p = end;
  }
  return points;
}

}  // namespace

std::string RdbSnapshots::TempPath(const std::string& dir, pid_t pid) {
  return dir + "/temp-" + std::to_string(pid) + ".rdb";
}

Status RdbSnapshots::Save(bool shards_held) {
  std::lock_guard<std::mutex> l(mu_);
  Config& cfg = server_.config();
  const std::string dir = cfg.dir(), name = cfg.String("dbfilename");
  const int64_t delay = cfg.Number("rdb-key-save-delay");
  Status s;
  {
    ShardLockSet locks;
    locks.LockAll(server_.keyspace(), shards_held);
    s = WriteFile(server_.keyspace(), dir, name, getpid(), delay);
  }
  last_try_s_ = NowMs() / 1000;
  last_try_ok_ = s.ok();
  if (!s.ok()) {
    FDB_LOG_WARNING("%s", s.message().c_str());
    return s;
  }
  server_.ResetDirty();
  server_.last_save_s = NowMs() / 1000;
  FDB_LOG_NOTICE("DB saved on disk");
  return s;
}

Status RdbSnapshots::BackgroundSave(bool shards_held) {
  std::lock_guard<std::mutex> l(mu_);
  if (child_pid_.load() > 0) return Status::Busy("Background save already in progress");
  Config& cfg = server_.config();
  const std::string dir = cfg.dir(), name = cfg.String("dbfilename");
  const int64_t delay = cfg.Number("rdb-key-save-delay");
  last_try_s_ = NowMs() / 1000;
  pid_t pid;
  {
    ShardLockSet locks;
    locks.LockAll(server_.keyspace(), shards_held);
    dirty_at_fork_ = server_.Dirty();
    pid = fork();
    if (pid == 0) {
      // The child: the listeners and connections are the parent's; holding them would keep a
      // port bound after the server exits.
      close_range(3, ~0U, 0);
      Status s = WriteFile(server_.keyspace(), dir, name, getpid(), delay);
      _exit(s.ok() ? 0 : 1);
    }
  }
  if (pid < 0) {
    last_try_ok_ = false;
    const std::string err = strerror(errno);
    FDB_LOG_WARNING("Can't save in background: fork: %s", err.c_str());
    return Status::IOError("Can't save in background: fork: " + err);
  }
  child_pid_ = pid;
  FDB_LOG_NOTICE("Background saving started by pid %d", static_cast<int>(pid));
  return Status::OK();
}

void RdbSnapshots::Cron() {
  std::unique_lock<std::mutex> l(mu_);
  if (pid_t pid = child_pid_.load(); pid > 0) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) != pid) return;
    child_pid_ = 0;
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    last_bgsave_ok_ = ok;
    last_try_ok_ = ok;
    if (ok) {
      // What was written after the fork is still unsaved.
      const uint64_t now_dirty = server_.Dirty();
      server_.ResetDirty();
      server_.dirty += now_dirty > dirty_at_fork_ ? now_dirty - dirty_at_fork_ : 0;
      server_.last_save_s = NowMs() / 1000;
      FDB_LOG_NOTICE("Background saving terminated with success");
    } else if (WIFSIGNALED(status)) {
      unlink(TempPath(server_.config().dir(), pid).c_str());
      FDB_LOG_WARNING("Background saving terminated by signal %d", WTERMSIG(status));
    } else {
      FDB_LOG_WARNING("Background saving error");
    }
    return;
  }
  if (server_.storage() != nullptr) return;  // the log is the persistence
  const int64_t now_s = NowMs() / 1000;
  if (!last_try_ok_ && now_s - last_try_s_ < kSaveRetryDelaySeconds) return;
  const uint64_t dirty = server_.Dirty();
  if (dirty == 0) return;
  for (const auto& [secs, changes] : SavePoints(server_.config().save())) {
    if (dirty >= static_cast<uint64_t>(changes) && now_s - server_.last_save_s.load() >= secs) {
      FDB_LOG_NOTICE("%lld changes in %lld seconds. Saving...", static_cast<long long>(changes),
                     static_cast<long long>(secs));
      l.unlock();
      (void)BackgroundSave(/*shards_held=*/false);  // an error is logged there
      return;
    }
  }
}

void RdbSnapshots::KillChild() {
  std::lock_guard<std::mutex> l(mu_);
  pid_t pid = child_pid_.load();
  if (pid <= 0) return;
  kill(pid, SIGUSR1);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  unlink(TempPath(server_.config().dir(), pid).c_str());
  child_pid_ = 0;
  FDB_LOG_WARNING("There is a child saving an .rdb. Killing it!");
}

Status RdbSnapshots::PrepareShutdown(bool save, bool nosave, bool force, bool shards_held) {
  KillChild();
  if (server_.storage() != nullptr || nosave) return Status::OK();
  if (!save && server_.config().save().empty()) return Status::OK();
  FDB_LOG_NOTICE("Saving the final RDB snapshot before exiting.");
  Status s = Save(shards_held);
  if (s.ok()) return s;
  if (force) {
    FDB_LOG_WARNING("Error trying to save the DB. Exit anyway.");
    return Status::OK();
  }
  FDB_LOG_WARNING("Error trying to save the DB, can't exit.");
  FDB_LOG_WARNING("Errors trying to shut down the server. Check the logs for more information.");
  return s;
}

Status RdbSnapshots::LoadAtStartup() {
  // As Redis's lastsave: the save points count from the start, not from 1970.
  server_.last_save_s = NowMs() / 1000;
  const std::string path = server_.config().dir() + "/" + server_.config().String("dbfilename");
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return Status::OK();
  const int64_t start = MonoUs();
  Txn txn;
  Result<RdbFileStats> loaded = LoadRdbFile(path, server_.keyspace(), txn);
  if (!loaded.ok()) return loaded.status();
  server_.ResetDirty();
  FDB_LOG_NOTICE("DB loaded from disk: %.3f seconds (%llu keys)",
                 static_cast<double>(MonoUs() - start) / 1e6,
                 static_cast<unsigned long long>(loaded->keys));
  return Status::OK();
}

}  // namespace fdb
