// Loading an RDB file's keys into the keyspace: what DEBUG LOADRDB does with a file, and what a
// replica of a Redis primary does with the file it receives (the caller feeds an RdbLoader,
// commands/rdb_file.h, whose key callback is PutRdbKey).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "commands/rdb_payload.h"
#include "engine/keyspace.h"
#include "engine/txn.h"

namespace fdb {

// Puts one key as RESTORE key <deadline> value REPLACE ABSTTL would: a key already there is
// replaced. A deadline already past (expire_ms <= now_ms) creates nothing and deletes what was
// there, as Redis's primary skips expired keys while loading (its replica keeps them until the
// primary's DEL; FDB reads them as missing either way). The key's shard is locked here and the
// change committed through txn before it is unlocked, one key at a time, so clients go on
// between keys. Returns InvalidArgument for a database beyond limits::kNumDatabases, and the
// commit's error (the log cannot be written). REQUIRES: txn holds no shard lock.
Status PutRdbKey(Keyspace& ks, Txn& txn, int db, std::string_view key, RestoredValue value,
                 int64_t expire_ms, int64_t now_ms);

struct RdbFileStats {
  int version = 0;
  uint64_t keys = 0;
  uint64_t functions_skipped = 0;
};

// Reads the RDB file at `path` in chunks and puts each key (PutRdbKey); function libraries are
// skipped and counted. Keys read before an error stay loaded. IOError for a file that cannot be
// read, Corruption for one that ends before its EOF opcode and checksum.
Result<RdbFileStats> LoadRdbFile(const std::string& path, Keyspace& ks, Txn& txn);

}  // namespace fdb
