// Loading an RDB file into the keyspace (commands/rdb_load.h).
#include "commands/rdb_load.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/clock.h"
#include "base/limits.h"
#include "commands/rdb_file.h"
#include "engine/entry.h"

namespace fdb {

Status PutRdbKey(Keyspace& ks, Txn& txn, int db, std::string_view key, RestoredValue value,
                 int64_t expire_ms, int64_t now_ms) {
  if (db < 0 || db >= limits::kNumDatabases) {
    return Status::InvalidArgument("the RDB file has keys in database " + std::to_string(db) +
                                   ", and FDB has " + std::to_string(limits::kNumDatabases));
  }
  KeyRef k(key);
  ShardLockSet locks;
  locks.Add(Keyspace::ShardOf(key));
  locks.Lock(ks);
  if (expire_ms != 0 && expire_ms <= now_ms) {
    (void)ks.Delete(txn, db, k, now_ms);
  } else {
    Entry* e = value.type == ValueType::kString ? Entry::NewString(key, value.str)
                                                : Entry::NewObject(key, value.obj.release());
    e->set_expire_ms(expire_ms);
    ks.Put(txn, db, k, e);
  }
  return ks.Commit(txn);
}

// As a socket read: the reader keeps one chunk beside the value it is reading.
constexpr size_t kReadChunkBytes = 64 * 1024;

Result<RdbFileStats> LoadRdbFile(const std::string& path, Keyspace& ks, Txn& txn) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(path + ": " + strerror(errno));
  RdbLoader loader([&](int db, std::string_view key, RestoredValue v, int64_t expire_ms) {
    return PutRdbKey(ks, txn, db, key, std::move(v), expire_ms, NowMs());
  });
  std::string chunk(kReadChunkBytes, '\0');
  Status st;
  while (!loader.done()) {
    ssize_t n = read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = Status::IOError(path + ": " + strerror(errno));
      break;
    }
    if (n == 0) {
      st = Status::Corruption(path + ": the file ends at offset " +
                              std::to_string(loader.offset()) + ", before its end");
      break;
    }
    Result<size_t> fed = loader.Feed(std::string_view(chunk.data(), static_cast<size_t>(n)));
    if (!fed.ok()) {
      st = fed.status();
      break;
    }
  }
  close(fd);
  if (!st.ok()) return st;
  return RdbFileStats{loader.version(), loader.keys_loaded(), loader.functions_skipped()};
}

}  // namespace fdb
