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
// Bulk strings at least this large are read into a buffer that grows with the data received
// (as Redis's PROTO_MBULK_BIG_ARG) instead of being parsed out of one socket read.
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
// Size of one socket read, into the I/O thread's shared read buffer: a connection whose
// requests arrive whole owns no read buffer at all (an idle connection costs no read memory).
inline constexpr size_t kReadChunk = 16 * 1024;
// A connection's own read buffer (a request split across reads, or a big argument) grows by
// at most this much per step, and only once the bytes before have arrived: a `$N` header
// alone never reserves N bytes, so memory follows the data actually received, and a client
// that declares 500 MB and sends nothing costs one read chunk. With glibc, realloc of a
// block this large moves it by mremap, so a step does not copy what was read before.
inline constexpr size_t kReadGrowthStepMax = 32 * 1024 * 1024;
// The smallest such step once a big argument's bytes arrive: reads of a big value go in pieces
// of at least this size, not a socket buffer at a time (fewer reads and reallocs), while a
// client that declares a huge bulk and sends one byte makes the server reserve only this much.
inline constexpr size_t kReadGrowthStepMin = 1024 * 1024;
// Output buffer hard limit for normal clients (`client-output-buffer-limit normal`): above
// it the client is disconnected, and a reply being built stops growing the moment it passes
// it, so a client that never reads cannot grow the server's memory without bound. Redis's
// default for normal clients is unlimited; FDB bounds it, generously (docs/compatibility.md).
inline constexpr int64_t kOutputBufferHardLimitDefault = 1024LL * 1024 * 1024;
// Redis's defaults for the other classes (stored and reported; pub/sub will use them).
inline constexpr int64_t kReplicaOutputHardDefault = 256LL * 1024 * 1024;
inline constexpr int64_t kReplicaOutputSoftDefault = 64LL * 1024 * 1024;
inline constexpr int64_t kReplicaOutputSoftSecondsDefault = 60;
inline constexpr int64_t kPubsubOutputHardDefault = 32LL * 1024 * 1024;
inline constexpr int64_t kPubsubOutputSoftDefault = 8LL * 1024 * 1024;
inline constexpr int64_t kPubsubOutputSoftSecondsDefault = 60;
// A written-out output buffer keeps its capacity up to this size while the client is active
// (its next replies reuse it, without regrowing it for every pipelined batch); a larger one
// is freed at once, and any one of an idle client (see kIdleReleaseMs).
inline constexpr size_t kOutputBufferKeep = 16 * 1024;
// A connection with no traffic for this long gives back its buffers (checked once a second):
// thousands of idle connections then cost only their bookkeeping.
inline constexpr int64_t kIdleReleaseMs = 2000;
// A TLS client must finish its handshake within this (or `timeout`, if shorter); Redis has no
// such bound, so a client connecting and sending nothing would hold its socket and SSL object
// (some tens of KB) for ever unless `timeout` is set.
inline constexpr int64_t kTlsHandshakeTimeoutMs = 10'000;
// `maxmemory-clients` below this is raised to it (as Redis), so a bad setting cannot leave
// the server unable to talk to any client.
inline constexpr int64_t kMaxMemoryClientsMin = 128 * 1024;
// What one connection costs apart from its buffers (Connection, ClientState, map nodes),
// counted in its client memory (`tot-mem`) so maxmemory-clients sees idle connections too.
inline constexpr size_t kConnectionOverhead = 1024;
// What one subscription (channel, pattern, shard channel) or one CLIENT TRACKING BCAST prefix
// costs apart from its name: the client's set node plus its entry in the server-wide registry.
// Counted in the client's memory, as Redis counts them, so a client cannot grow the server
// without bound by subscribing past maxmemory-clients.
inline constexpr size_t kSubscriptionOverhead = 64;
// Default maximum number of connected clients (Redis's default).
inline constexpr int kMaxClientsDefault = 10000;
// Number of logical databases (SELECT 0..15), as Redis's default.
inline constexpr int kNumDatabases = 16;
// How deep config files may `include` one another: deep enough for any real layout
// (conf.d/*.conf including a shared file), shallow enough that a file including itself fails
// with a message instead of exhausting the stack.
inline constexpr int kConfigIncludeDepthMax = 16;
// Number of keyspace shards. A power of two; each has its own lock, so with N I/O threads the
// chance two single-key commands contend is about N/kShards.
inline constexpr int kNumShards = 256;
static_assert((kNumShards & (kNumShards - 1)) == 0, "shard count must be a power of two");
// Largest string value (Redis's 512 MB): SETRANGE / APPEND beyond it fail.
inline constexpr int64_t kStringMax = 512LL * 1024 * 1024;
// Largest value an RDB file may hold, in its encoded bytes (commands/rdb_file.h): a value is
// buffered whole before it is decoded, so this bounds what a malformed or hostile stream can
// make the loader hold. As Redis's client-query-buffer-limit: far above real values, and a
// value beyond it is refused with an error naming the key, not silently cut.
inline constexpr uint64_t kRdbValueBytesMax = 1024ULL * 1024 * 1024;
static_assert(kRdbValueBytesMax >= static_cast<uint64_t>(kStringMax),
              "an RDB holding the largest string must load");
// Active expiry: keys examined per shard per cycle, and cycles per second.
inline constexpr int kActiveExpireKeysPerShard = 64;
inline constexpr int kActiveExpireHz = 10;
// The RAM FDB holds whatever maxmemory says (its tables, thread buffers; an empty server uses
// about 600 KB): with values moving to disk, a maxmemory below this plus the index can never be
// met, and commands that may grow memory are refused as Redis's noeviction does
// (Keyspace::OverMaxmemory). Conservative, so that small value budgets still tier.
inline constexpr uint64_t kTieringMinRamBytes = 16 * 1024;
// LCS builds an (n+1)*(m+1) table; refuse inputs whose table would exceed this many cells.
inline constexpr uint64_t kLcsMaxCells = 256ULL * 1024 * 1024;
// Reply of DEBUG SLEEP / blocking waits: the longest sleep honoured, in seconds.
inline constexpr double kDebugSleepMaxSeconds = 3600;
// Failed AUTH / HELLO AUTH attempts in a row after which the connection is closed (the last
// WRONGPASS is sent first). A person or a client with a mistyped password fails once or twice
// and then fixes its configuration; ten in a row on one connection is someone guessing. Without
// it one pipelined connection tested 121k passwords a second; with it each guess after the
// tenth costs a new TCP connection. A success resets the count.
inline constexpr int kAuthFailuresMax = 10;

// The HTTP listener (`http-port`, src/http/). It serves small requests (a Prometheus scrape
// every few seconds, a dashboard's poll every second), so everything about it is small and fixed:
// - a request's line and headers fit in 8 KB, as most web servers;
// - two worker threads, so one slow client (held at most kHttpRequestTimeoutMs) does not delay
//   a scrape, and no I/O thread waits for either: a scrape reads counters, and a dashboard's
//   command takes the shard locks as any client's does;
// - accepted connections waiting for a worker: at most kHttpConnectionQueue, the rest wait in
//   the kernel's backlog of kHttpListenBacklog and beyond it are refused by the kernel. So the
//   listener holds at most threads + queue sockets, whatever the number of clients;
// - a request must arrive whole, and its reply be taken, within kHttpRequestTimeoutMs: a client
//   sending a byte at a time is closed then (a deadline on the whole request, not on each read).
inline constexpr size_t kHttpMaxRequestBytes = 8 * 1024;
inline constexpr int kHttpThreads = 2;
inline constexpr int kHttpConnectionQueue = 16;
inline constexpr int kHttpListenBacklog = 16;
inline constexpr int kHttpRequestTimeoutMs = 3000;
// The dashboard (src/http/dashboard.h). Its API takes a body (a command's arguments as JSON): at
// most 64 KB, read whole before anything runs, so a value typed into the console fits and a
// client cannot make a worker read without end. A command's reply is cut at 4 MB of RESP (the
// key browser pages through large collections 100 elements at a time; a bigger reply is a
// console KEYS * or HGETALL of a large key, refused with the advice to page). Sessions: at most
// 64 (the least recently used goes first), each ended after 30 minutes unused and 12 hours after
// its login whatever its use.
inline constexpr size_t kHttpMaxBodyBytes = 64 * 1024;
inline constexpr size_t kDashboardMaxReplyBytes = 4 * 1024 * 1024;
inline constexpr size_t kDashboardMaxSessions = 64;
inline constexpr int64_t kDashboardSessionIdleMs = 30 * 60 * 1000;
inline constexpr int64_t kDashboardSessionMaxMs = 12 * 60 * 60 * 1000;

}  // namespace fdb::limits
