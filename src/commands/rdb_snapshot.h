// RDB snapshots of a server that runs without its log (appendonly no), as Redis's rdb.c: SAVE,
// BGSAVE, the save of SHUTDOWN (and of SIGTERM / SIGINT) when `save` points are set, and the
// save points themselves write `dir/dbfilename` in Redis's RDB format (commands/rdb_payload.h's
// RdbWriter), and fdb-server started with appendonly no loads that file (commands/rdb_load.h).
// With its log (appendonly yes) FDB persists through the log and these commands write a
// checkpoint of it instead (engine/storage_engine.h); no RDB file is involved.
//
// The file is written as `temp-<pid>.rdb` in `dir` and renamed over dbfilename once complete
// and synced, so a crash leaves the old file whole; `pid` is the writing process's, which is
// how Redis names it and how its tools find (and remove) an abandoned one.
//
// SAVE holds every shard while it writes: the file is one instant of the keyspace and every
// command waits, as Redis's SAVE blocks its server. BGSAVE takes every shard, forks, and lets go
// at once: the child has a copy-on-write image of that instant, written without locks (it has a
// single thread; the shard locks it inherited held are never taken there). The child uses only
// the keyspace, malloc (glibc's fork handlers leave it usable) and system calls: no logging,
// no configuration read (both take locks another thread may have held at the fork).
//
// rdb-key-save-delay (microseconds slept after each key, a testing aid of Redis's) is honoured
// by both.
//
// Thread-safety: every method may be called from any thread; one child at most runs.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "base/status.h"

namespace fdb {

class ServerContext;

class RdbSnapshots {
 public:
  explicit RdbSnapshots(ServerContext& server) : server_(server) {}

  // SAVE: writes the file now. `shards_held`: the caller's transaction holds every shard.
  // IOError (logged) when the file cannot be written or renamed.
  Status Save(bool shards_held);
  // BGSAVE: forks a child that writes the file. Busy while a child runs.
  Status BackgroundSave(bool shards_held);
  // Housekeeping: collects a child that ended (its status, the save time, the dirty count) and
  // starts the BGSAVE of a `save` point that is due.
  void Cron();
  // A shutdown: stops the child, if any, and removes its temporary file.
  void KillChild();
  // The save of a shutdown, as Redis's prepareForShutdown: the child stopped; then, without
  // the log, the file written when `save` points are set or `save` is asked, unless `nosave`.
  // An error when that save failed without `force`: the shutdown must not go on (logged:
  // "Error trying to save the DB, can't exit."). With the log, its checkpoint is written at
  // exit instead (fdb-server's main).
  Status PrepareShutdown(bool save, bool nosave, bool force, bool shards_held);
  bool child_running() const { return child_pid_.load() > 0; }
  // "ok" or "err": how the last BGSAVE ended, as INFO's rdb_last_bgsave_status.
  const char* last_bgsave_status() const { return last_bgsave_ok_.load() ? "ok" : "err"; }
  // Loads dbfilename at startup, if it exists. REQUIRES: no client yet.
  Status LoadAtStartup();
  // The temporary file a process `pid` writes in `dir`.
  static std::string TempPath(const std::string& dir, pid_t pid);

 private:
  ServerContext& server_;
  std::mutex mu_;  // serializes Save, BackgroundSave, Cron and KillChild
  std::atomic<pid_t> child_pid_{0};
  std::atomic<bool> last_bgsave_ok_{true};
  uint64_t dirty_at_fork_ = 0;
  int64_t last_try_s_ = 0;  // the last save attempt, for the save points' retry delay
  bool last_try_ok_ = true;
};

}  // namespace fdb
