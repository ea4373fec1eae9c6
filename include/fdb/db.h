// fdb::DB: the FDB engine embedded in a process, without sockets.
//
//   auto db = fdb::DB::Open({.dir = "/var/lib/app/fdb"});
//   if (!db.ok()) { /* db.status().ToString() */ }
//   fdb::Status s = (*db)->Set("k", "v");
//   fdb::Result<std::optional<std::string>> v = (*db)->Get("k");
//
// Model. A DB is the server without its network layer: it owns one ServerContext (keyspace,
// configuration, storage engine). The typed methods run the same Ops as the server's command
// handlers (type checks, TTL rules, the effects logged), under their key's shard lock only,
// and commit as a command commits: no RESP is built or parsed. Execute() runs any command
// through the server's dispatcher, so locking, logging, expiry and error texts are exactly the
// server's.
//
// Ownership. Open returns the only owner of the DB. Destroying it stops the active-expiry
// thread, writes a checkpoint (as SHUTDOWN does), flushes and closes the log and releases the
// directory's LOCK file. REQUIRES: no call on the DB is running or starts during destruction.
//
// Thread safety. Every method may be called concurrently from any number of threads. Each
// calling thread gets its own session (a dispatcher and a client state, created on its first
// call and kept until the DB is destroyed), because a dispatcher keeps scratch state and is
// not thread-safe; the keyspace's shard locks order concurrent commands as for network
// clients. Connection state therefore belongs to the calling thread: SELECT, MULTI/EXEC and
// CLIENT SETNAME issued through Execute() affect later calls from the same thread only.
// Blocking commands and SHUTDOWN are not meaningful in-process; SHUTDOWN does nothing.
//
// Durability. A call that changed data returns only after its log record is written (fsync
// "everysec" or "no") or fsynced ("always"), as the server releases a reply. If that wait
// fails (a disk error), the call returns the I/O error: the change is applied in memory but
// may not be on disk, and later writes fail with Redis's MISCONF error until the log is
// healthy again.
//
// Failure. Operating errors (I/O, corruption, a busy directory) are non-OK Statuses. An error
// reply of a command (wrong type, not an integer, syntax) is, for the typed methods, a Status
// with code kInvalidArgument whose message() is Redis's error text to the letter; Execute()
// instead returns it as a Reply of type kError.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "fdb/options.h"
#include "fdb/status.h"

namespace fdb {

// One RESP2 reply, parsed.
struct Reply {
  enum class Type { kStatus, kError, kInteger, kBulk, kNull, kArray };
  Type type = Type::kNull;
  std::string str;              // kStatus, kError (without the leading '-'), kBulk
  int64_t integer = 0;          // kInteger
  std::vector<Reply> elements;  // kArray
};

class DB {
 public:
  // Opens (creating if needed) the database in options.dir and recovers its data. Fails with
  // Busy naming the directory when another process or DB object holds it, with Corruption
  // naming the file and offset when the data cannot be read, with InvalidArgument for a bad
  // option value, and with IOError when the directory cannot be created.
  [[nodiscard]] static Result<std::unique_ptr<DB>> Open(const Options& options);
  ~DB();

  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;

  // GET: the value, or nullopt when the key does not exist. A non-string key: WRONGTYPE.
  [[nodiscard]] Result<std::optional<std::string>> Get(std::string_view key);
  // GET without a copy: calls fn(value) while the key is locked and returns true, or returns
  // false when the key does not exist. fn must not call this DB (its key's shard is locked)
  // and must not keep the view. A non-string key: WRONGTYPE.
  template <class Fn>
  [[nodiscard]] Result<bool> Read(std::string_view key, Fn&& fn) {
    using F = std::remove_reference_t<Fn>;
    return Read(
        key, [](void* f, std::string_view v) { (*static_cast<F*>(f))(v); },
        const_cast<void*>(static_cast<const void*>(std::addressof(fn))));
  }
  [[nodiscard]] Result<bool> Read(std::string_view key,
                                  void (*fn)(void* arg, std::string_view value), void* arg);
  // SET, with PX ttl_ms when given (ttl_ms > 0, else ERR invalid expire time).
  [[nodiscard]] Status Set(std::string_view key, std::string_view value,
                           std::optional<int64_t> ttl_ms = {});
  // DEL: whether the key existed.
  [[nodiscard]] Result<bool> Delete(std::string_view key);
  // EXISTS: whether the key exists.
  [[nodiscard]] Result<bool> Exists(std::string_view key);
  // INCRBY: the new value. A value that is not an integer or an overflow is an error.
  [[nodiscard]] Result<int64_t> IncrBy(std::string_view key, int64_t delta);
  // KEYS: the keys matching a glob-style pattern, in no particular order.
  [[nodiscard]] Result<std::vector<std::string>> Keys(std::string_view pattern);
  // DBSIZE: the number of keys in the calling thread's selected database (0 by default).
  [[nodiscard]] Result<int64_t> DbSize();
  // FLUSHDB: removes every key of the selected database.
  [[nodiscard]] Status FlushDb();
  // PEXPIRE: whether the key existed (and now expires in ttl_ms).
  [[nodiscard]] Result<bool> Expire(std::string_view key, int64_t ttl_ms);
  // PTTL: remaining time in ms; -1 for a key without expiry, -2 for a missing key.
  [[nodiscard]] Result<int64_t> TtlMs(std::string_view key);
  // Collections, as their Redis commands (a key of another type: the WRONGTYPE error; a
  // collection emptied by a removal is deleted, as in Redis).
  // HSET of one field: true when the field is new. HGET: nullopt when the key or field is
  // missing. HDEL: how many of the fields existed. HLEN. HGETALL: (field, value) pairs in no
  // particular order.
  [[nodiscard]] Result<bool> HSet(std::string_view key, std::string_view field,
                                  std::string_view value);
  [[nodiscard]] Result<std::optional<std::string>> HGet(std::string_view key,
                                                        std::string_view field);
  [[nodiscard]] Result<int64_t> HDel(std::string_view key,
                                     std::span<const std::string_view> fields);
  [[nodiscard]] Result<int64_t> HLen(std::string_view key);
  [[nodiscard]] Result<std::vector<std::pair<std::string, std::string>>> HGetAll(
      std::string_view key);
  // LPUSH / RPUSH: the new length (REQUIRES: at least one value). LPOP / RPOP: nullopt when
  // the key is missing. LRANGE with Redis's inclusive, negative-from-the-end indexes. LLEN.
  [[nodiscard]] Result<int64_t> LPush(std::string_view key,
                                      std::span<const std::string_view> values);
  [[nodiscard]] Result<int64_t> RPush(std::string_view key,
                                      std::span<const std::string_view> values);
  [[nodiscard]] Result<std::optional<std::string>> LPop(std::string_view key);
  [[nodiscard]] Result<std::optional<std::string>> RPop(std::string_view key);
  [[nodiscard]] Result<std::vector<std::string>> LRange(std::string_view key, int64_t start,
                                                        int64_t stop);
  [[nodiscard]] Result<int64_t> LLen(std::string_view key);
  // SADD / SREM: how many members were added / removed (REQUIRES: at least one member).
  // SISMEMBER. SMEMBERS: in no particular order. SCARD.
  [[nodiscard]] Result<int64_t> SAdd(std::string_view key,
                                     std::span<const std::string_view> members);
  [[nodiscard]] Result<int64_t> SRem(std::string_view key,
                                     std::span<const std::string_view> members);
  [[nodiscard]] Result<bool> SIsMember(std::string_view key, std::string_view member);
  [[nodiscard]] Result<std::vector<std::string>> SMembers(std::string_view key);
  [[nodiscard]] Result<int64_t> SCard(std::string_view key);
  // ZADD of one member: true when it is new (a NaN score: ERR not a float). ZSCORE: nullopt
  // when the key or member is missing. ZREM: how many were there. ZCARD.
  [[nodiscard]] Result<bool> ZAdd(std::string_view key, std::string_view member, double score);
  [[nodiscard]] Result<std::optional<double>> ZScore(std::string_view key, std::string_view member);
  [[nodiscard]] Result<int64_t> ZRem(std::string_view key,
                                     std::span<const std::string_view> members);
  [[nodiscard]] Result<int64_t> ZCard(std::string_view key);

  // SAVE: writes a checkpoint now, so the next Open reads the index instead of replaying the
  // log. With persistence off there is nothing to checkpoint: returns OK and does nothing.
  [[nodiscard]] Status Save();

  // Runs any command (args[0] is its name, case-insensitive) and returns its reply. Error
  // replies are Replies of type kError, not failed Results; a failed Result is an operating
  // error (empty args, the durability wait failed).
  [[nodiscard]] Result<Reply> Execute(const std::vector<std::string>& args);

 private:
  struct Impl;
  explicit DB(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fdb
