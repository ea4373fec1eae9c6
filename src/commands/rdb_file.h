// A streaming reader of Redis's RDB file (versions 1 to 11, Redis up to 7.2): what a replica
// receives from its primary after FULLRESYNC, and what SAVE writes to dump.rdb.
//
//   file    := "REDIS" version:4 ASCII digits  item*  0xFF  crc64:8 LE (version >= 5)
//   item    := 0xFA aux-name:string aux-value:string           AUX (redis-ver, repl-id...)
//            | 0xFB db-size:len expires-size:len               RESIZEDB (a hint, ignored)
//            | 0xFC ms:8 LE                                     EXPIRETIME_MS of the next key
//            | 0xFD s:4 LE                                      EXPIRETIME (seconds)
//            | 0xFE db:len                                      SELECTDB
//            | 0xF8 idle-seconds:len | 0xF9 lfu-counter:1       IDLE, FREQ (skipped)
//            | 0xF5 library-code:string                         FUNCTION2 (Redis 7.0+)
//            | 0xF6 ... | 0xF7 ...                              pre-GA FUNCTION, MODULE_AUX:
//                                                               refused, as Redis without them
//            | type:1 key:string value                          one key (rdb_payload.h types)
//
// `len` and `string` are RDB's (a 6/14/32/64-bit length; a string is a length and its bytes,
// or an integer, or LZF-compressed bytes). The CRC-64 covers every byte before it; 0 means
// the writer had `rdbchecksum no`, and is not checked (as Redis).
//
// The model. Bytes are fed as they arrive, in chunks of any size; each complete item is decoded
// and handed over at once, so a large file never has to be held: what stays buffered is the
// item being read, at most the largest value (bounded by Options::value_bytes_max) plus one
// chunk. Values are decoded by the DUMP payload decoder (rdb_payload.h), so what this loads is
// what RESTORE would. Where a value ends is found by scanning its grammar as bytes arrive,
// resuming where the last chunk stopped: a 500 MB hash fed 16 KB at a time is scanned once,
// not once per chunk. Rejected alternative: retrying the decoder on the growing buffer, which
// costs quadratic time on large values, or needs an "input ended" call for the last one.
//
// Diskless replication. A primary with repl-diskless-sync sends `$EOF:<40 bytes>\r\n`, then the
// file, then the same 40 bytes. The caller strips the first line and passes the 40 bytes to
// set_eof_mark(): the reader then expects exactly them after the CRC and is done() only once it
// has read them. (The file delimits itself, so no scanning for the mark is needed; a primary
// sends nothing after it before the replica's first REPLCONF ACK.) Without diskless the
// primary sends `$<length>\r\n` and the file; either way Feed says how many bytes of a chunk
// were the file's, and the rest belongs to the replication stream.
//
// Use, on a replica's link (PutRdbKey in commands/rdb_load.h puts a key into the keyspace):
//
//   RdbLoader loader([&](int db, std::string_view key, RestoredValue v, int64_t expire_ms) {
//     return PutRdbKey(ks, txn, db, key, std::move(v), expire_ms, NowMs());
//   });
//   loader.set_on_aux([&](std::string_view name, std::string_view value) { ... });
//   if (diskless) loader.set_eof_mark(mark);
//   for each read of `bytes`:
//     Result<size_t> n = loader.Feed(bytes);     // !n.ok(): the transfer failed
//     if (loader.done()) { bytes.substr(*n) is the command stream's start; stop }
//
// Failure: malformed or hostile input gives a Status (Corruption, with the byte offset, or
// InvalidArgument for what is well-formed but not loadable here: a newer version, a module), never
// a crash; lengths are checked before anything is allocated for them (a string at most
// limits::kStringMax, a value at most value_bytes_max). After an error the reader is stuck:
// every later Feed returns the same error. Input that stops early is simply not done().
//
// Thread-safety: none; one reader per stream, called from one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/check.h"
#include "base/limits.h"
#include "base/status.h"
#include "commands/rdb_payload.h"

namespace fdb {

class RdbLoader {
 public:
  // One key: its database (SELECTDB), name, decoded value, and absolute deadline in Unix ms
  // (0: none; a deadline already past is passed on as is: the caller decides, as Redis's
  // primary drops such keys while loading and its replica keeps them). A non-OK status stops
  // the load and is what Feed returns.
  using KeyFn =
      std::function<Status(int db, std::string_view key, RestoredValue value, int64_t expire_ms)>;
  // One AUX field (redis-ver, redis-bits, ctime, used-mem, repl-stream-db, repl-id,
  // repl-offset, aof-base; Redis before 7.0 also writes its Lua scripts as "lua").
  using AuxFn = std::function<void(std::string_view name, std::string_view value)>;
  // The code of one function library (FUNCTION2): the caller may load it as FUNCTION LOAD
  // would. A non-OK status stops the load.
  using FunctionFn = std::function<Status(std::string_view code)>;

  struct Options {
    // The largest encoded value accepted (see limits.h).
    uint64_t value_bytes_max = limits::kRdbValueBytesMax;
  };

  explicit RdbLoader(KeyFn on_key) : RdbLoader(std::move(on_key), Options()) {}
  RdbLoader(KeyFn on_key, Options options);

  // Optional callbacks; set before the first Feed. Without on_function a library is skipped and
  // counted (functions_skipped()).
  void set_on_aux(AuxFn fn) { on_aux_ = std::move(fn); }
  void set_on_function(FunctionFn fn) { on_function_ = std::move(fn); }
  // Diskless transfer: the mark that follows the file. REQUIRES: before the first Feed; the mark
  // is the 40 bytes after "$EOF:".
  static constexpr size_t kEofMarkBytes = 40;
  void set_eof_mark(std::string_view mark) {
    FDB_CHECK(mark.size() == kEofMarkBytes);
    eof_mark_ = mark;
  }

  // Reads the next bytes of the stream, calling the callbacks for every item they complete.
  // Returns how many bytes of `chunk` belong to the file: all of them until it ends, fewer in
  // the chunk where it ends (the rest is the caller's), 0 once done(). An error is sticky.
  Result<size_t> Feed(std::string_view chunk);

  // The EOF opcode, the checksum (checked) and the EOF mark (when set) were read.
  bool done() const { return state_ == State::kDone; }
  // The file's RDB version (0 until its header was read).
  int version() const { return version_; }
  uint64_t keys_loaded() const { return keys_loaded_; }
  uint64_t functions_skipped() const { return functions_skipped_; }
  // Keys holding an empty collection, which older Redis versions could save by mistake: skipped,
  // as Redis 7 skips them.
  uint64_t empty_keys_skipped() const { return empty_keys_skipped_; }
  // Bytes of the file consumed so far (the EOF mark not included).
  uint64_t offset() const { return offset_; }

 private:
  enum class State { kHeader, kItem, kValue, kChecksum, kEofMark, kDone, kFailed };
  // What one step of parsing found: an item read, more bytes needed, or an error (in error_).
  enum class Step { kRead, kShort, kError };

  // The value scanner's state: where a value's grammar (see kPrograms in rdb_file.cc) has got
  // to, so that scanning resumes there when more bytes arrive.
  struct Scan {
    static constexpr int kDepthMax = 4;  // the deepest nesting of loops (a stream's: 3)
    struct Loop {
      uint64_t left;  // iterations still to run, this one included
      size_t body;    // pc of the loop's first instruction
    };
    const uint8_t* program = nullptr;
    size_t pc = 0;
    size_t pos = 0;  // the next byte to scan, as an offset in buf_
    Loop loops[kDepthMax];
    int depth = 0;
  };

  Step ReadHeader();
  Step ReadItem();
  Step ScanValue();
  Step ReadChecksum();
  Step ReadEofMark();
  Step Fail(Status s);
  // Consumes n bytes of buf_ from start_: into the checksum, and the offset.
  void Consume(size_t n);

  KeyFn on_key_;
  AuxFn on_aux_;
  FunctionFn on_function_;
  Options options_;
  std::string eof_mark_;

  State state_ = State::kHeader;
  Status error_;
  // Bytes received and not yet consumed start at start_ (earlier ones are dropped at the end of
  // each Feed).
  std::string buf_;
  size_t start_ = 0;
  uint64_t offset_ = 0;  // file offset of buf_[start_]
  uint64_t crc_ = 0;
  int version_ = 0;

  int db_ = 0;
  int64_t expire_ms_ = 0;  // of the next key
  // The key whose value is being scanned, its type and where its value starts in buf_.
  std::string key_;
  uint8_t type_ = 0;
  size_t value_start_ = 0;
  Scan scan_;

  uint64_t keys_loaded_ = 0;
  uint64_t functions_skipped_ = 0;
  uint64_t empty_keys_skipped_ = 0;
};

}  // namespace fdb
