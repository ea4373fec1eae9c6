// Options for fdb::DB::Open. Each field is the embedded name of a server configuration
// parameter (see `fdb-server --help`); the defaults are the server's.
#pragma once

#include <cstdint>
#include <string>

namespace fdb {

struct Options {
  // Data directory (server "dir"). Created if missing. Holds the log, the checkpoints and a
  // LOCK file: one process or DB object at a time may use it.
  std::string dir = "./fdb_data";
  // When a write is durable (server "appendfsync"): "always" (fsynced before the call returns),
  // "everysec" (written to the kernel before the call returns, fsynced within about a second),
  // or "no" (written to the kernel; the OS decides when to fsync).
  std::string fsync = "everysec";
  // Bytes of values kept in RAM (server "maxmemory"); values beyond it stay on disk only and are
  // read back on access. 0: no limit.
  uint64_t maxmemory = 0;
  // Number of values kept in RAM (server "cache-size"). 0: no limit.
  uint64_t cache_size = 0;
  // Compress large values in the log (server "compression").
  bool compression = false;
  // Keep data on disk (server "appendonly"). false: a purely in-memory store; nothing is read
  // from or written to `dir`, and everything is lost when the DB is destroyed.
  bool persistence = true;
};

}  // namespace fdb
