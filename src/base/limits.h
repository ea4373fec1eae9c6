// Every bound FDB enforces, in one place, with the reason for each number.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fdb::limits {

// Largest bulk string a client may send (`proto-max-bulk-len`); Redis's default, 512 MB.
inline constexpr int64_t kProtoMaxBulkLenDefault = 512LL * 1024 * 1024;
// Multibulk count above which a request is refused outright: as Redis, INT_MAX. The count is
// not trusted for allocation: argument vectors grow as arguments actually arrive.
inline constexpr int64_t kMultibulkMax = 2147483647LL;
// Before authentication a client may send only small requests (as Redis): 10 arguments of
// at most 16 KB, so an unauthenticated peer cannot make the server allocate much.
inline constexpr int64_t kUnauthMultibulkMax = 10;
inline constexpr int64_t kUnauthBulkMax = 16384;
// Longest inline request, and longest `*N` / `$N` header line (Redis's PROTO_INLINE_MAX_SIZE).
inline constexpr size_t kInlineMax = 64 * 1024;
// Query buffer per client (`client-query-buffer-limit`), Redis's default 1 GB.
inline constexpr int64_t kQueryBufferLimitDefault = 1024LL * 1024 * 1024;
// Bulk strings at least this large are read into a buffer of their exact size (as Redis's
// PROTO_MBULK_BIG_ARG) instead of growing the read buffer geometrically.
inline constexpr size_t kBigArg = 32 * 1024;
// Bulk arguments at least this large are large values: read from the socket into a block of
// their own that grows with the bytes received, adopted by SET without a copy and written to
// the log from where they are (base/shared_block.h). Below it the ordinary path (read buffer,
// then a copy into the entry's single allocation) is cheaper: a copy of 1 MB costs about as much
// as one socket read of it, and an inline entry saves the block's header and second allocation
// per key. At 1 MB and above the copies dominate, and the extra 48 bytes per value do not count.
inline constexpr size_t kLargeValueMin = 1024 * 1024;
// A large argument's block grows by doubling from this size (realloc, moved by mremap for blocks
// this large), so memory follows the bytes actually received, not the length announced.
inline constexpr size_t kLargeValueFirstBlock = 1024 * 1024;
// Socket reads into a large argument's block per readiness event, so one client sending a
// huge value does not keep its I/O thread from the other connections for long (64 reads of
// a loopback socket are a few MB).
inline constexpr int kLargeValueReadsPerEvent = 64;
// Size of one socket read.
inline constexpr size_t kReadChunk = 16 * 1024;
// Output buffer hard limit for normal clients: above it the client is disconnected, so a
// client that never reads cannot grow the server's memory without bound. Redis's default for
// normal clients is unlimited; FDB bounds it, generously (see docs/compatibility.md).
inline constexpr size_t kOutputBufferHardLimitDefault = 1024ULL * 1024 * 1024;
// Default maximum number of connected clients (Redis's default).
inline constexpr int kMaxClientsDefault = 10000;
// Number of logical databases (SELECT 0..15), as Redis's default.
inline constexpr int kNumDatabases = 16;
// Number of keyspace shards. A power of two; each has its own lock, so with N I/O threads the
// chance two single-key commands contend is about N/kShards.
inline constexpr int kNumShards = 256;
static_assert((kNumShards & (kNumShards - 1)) == 0, "shard count must be a power of two");
// Largest string value (Redis's 512 MB): SETRANGE / APPEND beyond it fail.
inline constexpr int64_t kStringMax = 512LL * 1024 * 1024;
// Active expiry: keys examined per shard per cycle, and cycles per second.
inline constexpr int kActiveExpireKeysPerShard = 64;
inline constexpr int kActiveExpireHz = 10;
// LCS builds an (n+1)*(m+1) table; refuse inputs whose table would exceed this many cells.
inline constexpr uint64_t kLcsMaxCells = 256ULL * 1024 * 1024;
// Reply of DEBUG SLEEP / blocking waits: the longest sleep honoured, in seconds.
inline constexpr double kDebugSleepMaxSeconds = 3600;

}  // namespace fdb::limits
