// LogWriter: the single ordered log every mutation is appended to.
//
// Model. Append() encodes a record into an in-memory buffer under a mutex and returns at once
// with the record's sequence number and location; the call order of Append is the log order.
// A background flusher thread takes everything buffered, writes it with one write(2) per
// segment touched, and fsyncs according to the policy. This is group commit: while one fsync
// runs, new records pile up and share the next one, so N clients waiting under `always` cost
// about one fsync per batch, not N.
//
// Policies (DESIGN.md, "Write path and durability"):
//   kAlways   every batch is fsynced; a caller acknowledges a write after WaitForPolicy(seq),
//             i.e. once it is durable.
//   kEverySec batches are written at once (so a process crash loses nothing that was
//             acknowledged after WaitForPolicy) and fsynced about once per interval, by the
//             flusher beside the writes (BackgroundSyncLocked): a write never waits for it.
//   kNo       batches are written at once; fsync only at rotation, Flush, WaitDurable, Close.
//
// Failure. A failed write, fsync, file creation or segment hook (ENOSPC, EIO) puts the writer
// in a failed state: Health() and the Wait* calls of sequences not yet covered return an
// IOError whose message starts with "MISCONF" (as Redis refuses writes when it cannot persist),
// and nothing is ever reported written or durable that was not.
//
// Discard. A record that no caller was told is committed when the writer fails is not kept for
// the retry: its client will be told the write failed, so it must not reach the disk later.
// The flusher decides once per failure (and again for records appended while failed, which
// Append accepts, so that a change already made in memory always has its record): every
// record after the committed boundary B - the highest sequence reported committed by
// CommittedSequence, OutcomeOf or WaitForPolicy, and under everysec/no everything already
// written, since those replies may have left - is dropped from the pending chunks and from the
// unsynced copy, and its sequence is never reused (the log has a gap there; readers only need
// sequences to increase). The owner is told first (on_discard): it stops appends, reads the
// records with Uncommitted(), undoes their effects in memory, and calls Decide(true); or, if it
// cannot undo them, Decide(false) keeps them for the retry and their callers wait for it.
// Without on_discard the writer discards on its own. Records up to B stay: the flusher retries
// every retry_interval (or at once on Retry()): it cuts the segment back to the last
// known-good size, rewrites the kept records (kept in memory since the last fsync, because
// after a failed fsync the kernel may have dropped those pages), fsyncs, and resumes.
// Alternative rejected: one write(2) per Append under the caller's lock - simpler, but a
// syscall per command, and fsync per command under `always`.
//
// Segments. The writer always starts a fresh segment (options.first_segment_id) and never
// appends to an existing file: recovery may have cut a torn tail, and a new file keeps that
// decision simple. A segment is rotated when the next record would take it past
// segment_target_size. Before the first record is written into a new segment, the segment's
// header is fsynced, its directory entry fsynced, and on_segment_created(id) called (the owner
// adds it to the manifest there). The previous segment is fsynced before that, under every
// policy, so every segment but the last is always complete on disk.
//
// Thread-safety: all public methods are thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/status.h"
#include "storage/env.h"
#include "storage/format.h"
#include "storage/record_codec.h"

namespace fdb::storage {

enum class FsyncPolicy { kAlways, kEverySec, kNo };
// "always" / "everysec" / "no" (the config names, as Redis's appendfsync).
Result<FsyncPolicy> ParseFsyncPolicy(std::string_view name);
const char* FsyncPolicyName(FsyncPolicy policy);

// Prefix of every error returned while the writer refuses writes.
inline constexpr char kWriteRefusedPrefix[] = "MISCONF Errors writing to the log: ";

struct LogWriterOptions {
  Env* env = Env::Default();
  std::string dir;  // must exist
  FsyncPolicy fsync = FsyncPolicy::kEverySec;
  uint64_t first_segment_id = 1;  // id of the segment created by Open; must not be in use
  uint64_t first_sequence = 1;    // sequence of the first record appended
  uint64_t segment_target_size = kSegmentTargetSize;  // tests use small values
  // Append blocks while this many bytes wait for the flusher: back-pressure instead of
  // unbounded memory when the disk is slower than the clients.
  size_t max_pending_bytes = 64u << 20;
  // Under kEverySec and kNo, bytes written but not fsynced are kept in memory so they can be
  // rewritten after a failed fsync; past this many, an fsync is forced to bound that memory.
  // A large value kept by reference counts only once no entry holds it any more (until then
  // keeping it costs nothing), so one big SET under everysec does not wait for an fsync.
  size_t max_unsynced_bytes = 64u << 20;
  std::chrono::milliseconds everysec_interval{1000};
  std::chrono::milliseconds retry_interval{1000};
  // Called on the flusher thread once a new segment's header is durable and before any record
  // is written into it, for the first segment already inside Open. Must be idempotent: after a
  // failure it is called again for the same id. An error puts the writer in the failed state.
  std::function<Status(uint64_t segment_id)> on_segment_created;
  // Called (with the writer's lock held: it must only hand off, e.g. post a task) whenever the
  // written or durable sequence advances, or records are discarded. Lets callers wait without
  // blocking a thread.
  std::function<void()> on_progress;
  // Called on the flusher thread, without the writer's lock, when the writer has failed and
  // records wait whose fate is undecided (see "Discard" above). It must keep every Append out
  // until it returns, call Uncommitted(), and end with Decide().
  std::function<void()> on_discard;
};

// The fate of an appended record, as reported to whoever acknowledges it.
enum class Outcome {
  kPending,    // not committed yet (or failed and kept for the retry)
  kCommitted,  // as durable as the policy requires; may be acknowledged
  kDiscarded,  // dropped after a failure: it never reaches the log, its effect was undone
};

// The records a discard would drop: everything after kept_through, as encoded in segments.
struct UncommittedRecords {
  uint64_t kept_through = 0;  // every record up to here stays (the committed boundary)
  uint64_t last = 0;          // the last record appended; nothing to drop when == kept_through
  // (segment id, encoded records): views into the writer's buffers, valid until Decide().
  std::vector<std::pair<uint64_t, std::string_view>> pieces;
  // Contiguous copies of the runs that splice large values in (pieces view them).
  std::vector<std::unique_ptr<std::string>> copies;
};

struct AppendResult {
  uint64_t sequence = 0;
  RecordLocation location;
};

// Buckets of the fsync latency histogram: bucket i counts fsyncs of at most 2^i µs, the last one
// every fsync longer than 2^22 µs (4.2 s: a disk slower than that is failing, and the bucket
// says so without more resolution).
inline constexpr size_t kFsyncLatencyBuckets = 24;

struct LogWriterStats {
  uint64_t fsyncs = 0;
  uint64_t last_fsync_latency_us = 0;
  // The fsyncs of appended records (those a write may wait for; a new segment's header is
  // fsynced too and counted in `fsyncs` only): their total time and histogram.
  uint64_t fsync_us_total = 0;
  std::array<uint64_t, kFsyncLatencyBuckets> fsync_latency_hist{};
  uint64_t bytes_written = 0;       // record and header bytes handed to the kernel
  uint64_t segments_created = 0;    // by this writer, including the first
  uint64_t current_segment_id = 0;  // receiving appends
  uint64_t last_sequence = 0;       // last appended (0: none yet)
  uint64_t written_sequence = 0;    // all up to here handed to the kernel
  uint64_t durable_sequence = 0;    // all up to here fsynced
  uint64_t write_errors = 0;
  bool failed = false;
  std::string last_error;
};

class LogWriter {
 public:
  // Creates segment options.first_segment_id (header fsynced, directory fsynced, hook called)
  // and starts the flusher.
  static Result<std::unique_ptr<LogWriter>> Open(LogWriterOptions options);
  ~LogWriter();  // Close(), ignoring its status
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Appends one record. Returns its sequence and location, or InvalidArgument for an oversize
  // payload or bad type, or an IOError once closed. In the failed state the record is accepted
  // (the caller changed memory already) and its fate decided by the next discard; callers
  // check Health() before they change anything. May block for back-pressure
  // (max_pending_bytes).
  Result<AppendResult> Append(RecordType type, std::string_view payload);
  // The same for a payload in pieces: its blocks are not copied; the writer references them
  // until they are durable (they are also what RepairSegment rewrites after a failure).
  Result<AppendResult> Append(RecordType type, const Payload& payload);
  // The same, handing the payload's blocks over: its references are dropped under the
  // writer's lock, before the flusher can take the record, so a block nobody else holds (a
  // collection's image) is counted as the writer's memory from the start (BufferedBytes).
  // Afterwards payload->splices is empty; payload->bytes are left for the caller.
  Result<AppendResult> Append(RecordType type, Payload* payload);

  // Appends one record too large to hold in memory at once (a collection's image of many MB):
  // the payload is never whole in RAM. `produce` is called once, on the calling thread, with a
  // function it hands the payload to in parts, in order; each part is written to the segment
  // file as it comes (the caller keeps no copy either). The parts must add up to
  // `payload_size` bytes whose checksum is `payload_crc` (crc32c::Value of the whole payload,
  // which the caller computes in a pass of its own: the record's header, with its checksum,
  // precedes the payload in the file). The calling thread does the I/O: it waits for a round
  // in progress, writes what was appended before, then the record, and fsyncs it, so the
  // record is durable under every policy when this returns. The record ends its segment: the
  // next one starts a new segment, so records appended meanwhile (they wait in memory, with
  // the usual back-pressure) never depend on where this one ended.
  // Errors: InvalidArgument as Append; the MISCONF error when the writer has failed or a write
  // or fsync fails (the writer is then failed, and the record's sequence is discarded: a gap);
  // Corruption when the parts differ from the declared size or checksum (nothing is reported
  // written; the writer goes to the failed state and repairs the segment as after a failed
  // write).
  using PartWriter = std::function<void(std::string_view part)>;
  Result<AppendResult> AppendStreamed(RecordType type, uint64_t payload_size, uint32_t payload_crc,
                                      const std::function<void(const PartWriter&)>& produce);

  // Block until every record up to `sequence` is written to the kernel / fsynced / whatever the
  // policy requires before acknowledging it (kAlways: durable; otherwise written). OK means it
  // is. WaitWritten / WaitDurable return the MISCONF error as soon as the writer fails (they are
  // called with locks held and must not wait for a discard). WaitForPolicy is the
  // acknowledgement: it waits until the record's fate is decided, and returns the MISCONF error
  // only for a discarded record (or when closed), so an error means it did not happen.
  // WaitDurable requests an fsync if the policy would not do one soon.
  Status WaitWritten(uint64_t sequence);
  Status WaitDurable(uint64_t sequence);
  Status WaitForPolicy(uint64_t sequence);
  // Asks for `sequence` to be written (and fsynced under always) without waiting: the flusher
  // does it and on_progress reports it. Thread-safe.
  void RequestProgress(uint64_t sequence);
  // Under everysec and no: writes everything pending, `sequence` included, on the calling
  // thread now (one write(2) per segment touched), as Redis writes its AOF before replying;
  // the everysec fsync stays the flusher's, so the caller never waits for the disk. Returns
  // false at once, writing nothing, when another thread's round is in progress, the writer
  // has failed or is closing, or the policy is always (an fsync must not stop an event loop):
  // the caller then uses RequestProgress. Returns whether `sequence` is written.
  bool TryWriteNow(uint64_t sequence);
  // The last sequence the policy counts as committed: durable under always, written otherwise;
  // a sequence up to it is committed unless it was discarded (check LastDiscarded /
  // OutcomeOf). Counts as reported: records up to it are never discarded.
  uint64_t CommittedSequence();
  // The fate of `sequence` (see Outcome); a committed answer counts as reported.
  Outcome OutcomeOf(uint64_t sequence);
  // The highest sequence ever discarded (0: none). Lock-free: the fast path of callers whose
  // sequences are all above it.
  uint64_t LastDiscarded() const { return last_discarded_.load(std::memory_order_acquire); }

  // REQUIRES: called from on_discard. What a discard drops now.
  UncommittedRecords Uncommitted();
  // REQUIRES: called from on_discard, after Uncommitted(). true: drop those records (their
  // waiters get the MISCONF error); false: keep them for the retry.
  void Decide(bool discard);
  // Writes and fsyncs everything appended so far.
  Status Flush();

  // OK, or the MISCONF error while failed. The engine checks this before executing a write so
  // it does not change memory it cannot log.
  Status Health() const;
  // Asks the flusher to retry now and waits for that attempt; returns Health() afterwards.
  Status Retry();

  // Writes and fsyncs what is buffered, stops the flusher, closes the segment. Further Appends
  // fail. Returns the first error that kept data from being made durable.
  Status Close();

  LogWriterStats stats() const;
  // RAM held by records not yet fsynced: waiting for the flusher, or written and kept for a
  // rewrite after a failed fsync (max_pending_bytes + max_unsynced_bytes at most). A large
  // value's block counts only once no value holds it any more (else it is the value's memory).
  // Thread-safe.
  size_t BufferedBytes() const;
  // Changes the fsync policy from the next flush on (CONFIG SET appendfsync). Thread-safe.
  void SetFsyncPolicy(FsyncPolicy p);
  FsyncPolicy policy() const { return policy_.load(std::memory_order_relaxed); }
  // Changes the size at which segments rotate, from the next record on. Thread-safe.
  void SetSegmentTargetSize(uint64_t bytes) {
    segment_target_.store(bytes, std::memory_order_relaxed);
  }

 private:
  struct Chunk {
    uint64_t segment_id = 0;
    bool starts_segment = false;  // the flusher must create the segment first
    uint64_t base_sequence = 0;   // when starts_segment: sequence of its first record
    uint64_t last_sequence = 0;
    Payload data;  // encoded records; large values spliced in, not copied
  };

  // The segment file the flusher writes. Touched only by the flusher thread (and by Open before
  // the thread starts), so it needs no lock.
  struct OpenSegment {
    uint64_t id = 0;
    std::unique_ptr<WritableFile> file;  // null between segments
    uint64_t written_size = 0;           // bytes known written successfully
    uint64_t synced_size = 0;            // bytes known durable
    // Bytes [synced_size, written_size), unless kNo. Large values are referenced, not copied
    // (the blocks their entries hold), so this copy costs only the small records' bytes.
    Payload unsynced;
    // (last sequence, end offset in unsynced) of each chunk in unsynced: where a discard cuts.
    std::vector<std::pair<uint64_t, size_t>> unsynced_marks;
    bool needs_repair = false;  // a write or sync failed; file contents past a point unknown
  };

  explicit LogWriter(LogWriterOptions options);
  void FlusherLoop();
  // Flusher-side I/O; all run without mu_.
  Status CreateSegment(uint64_t segment_id, uint64_t base_sequence);
  // On success the chunk's pieces move to seg_.unsynced (the chunk is spent).
  Status WriteChunk(Chunk& chunk);
  // Shared by both Appends: `encode(segment_id, sequence, dst)` appends the record to dst.
  template <class Encode>
  Result<AppendResult> AppendRecord(RecordType type, size_t payload_size, const Encode& encode);
  Status SyncSegment();
  // Counts one fsync of appended records that took `took` (the I/O owner's counters).
  void RecordFsync(std::chrono::steady_clock::duration took);
  // Everysec's fsync beside the writes: fsyncs the open segment up to what is written now,
  // without holding the I/O role, so leaders go on writing into it meanwhile (TakePendingLocked
  // leaves a new segment's chunks for later, and no round fsyncs); then takes the role back to
  // record what became durable. REQUIRES: lock holds mu_, the flusher, !io_busy_, error_ OK.
  void BackgroundSyncLocked(std::unique_lock<std::mutex>& lock);
  // Whether a leader may run a round now: always, unless a background fsync runs; then only a
  // round that writes (no fsync, `sync` false) the open segment's next chunk. REQUIRES: mu_.
  bool CanLeadLocked(bool sync) const;
  // A round's batch: takes every pending chunk (REQUIRES: mu_, I/O owner); writes them in
  // order, `written` telling how many went (no lock); puts the rest back after a failure, in
  // order, ahead of anything appended meanwhile (REQUIRES: mu_).
  void TakePendingLocked(std::deque<Chunk>* batch);
  Status WriteBatch(std::deque<Chunk>& batch, size_t* written);
  void PutBackLocked(std::deque<Chunk>& batch, size_t written);
  Status RepairSegment();
  // `ack`: the caller acknowledges the record (WaitForPolicy): wait for its fate after a failure.
  Status WaitFor(uint64_t sequence, bool durable, bool ack);
  // The committed boundary a discard keeps: B (see "Discard"). REQUIRES: mu_ held.
  uint64_t ReportedBoundaryLocked() const;
  bool IsDiscardedLocked(uint64_t sequence) const;  // REQUIRES: mu_ held
  // Where a discard with boundary `boundary` cuts seg_.unsynced: the last kept sequence and the
  // kept length (rounded up to a chunk end: keeping more is safe). REQUIRES: mu_, I/O owner.
  std::pair<uint64_t, size_t> CutLocked(uint64_t boundary) const;
  // Drops every record after the cut. REQUIRES: mu_ held, I/O owner (flusher, in a discard).
  void DiscardLocked();
  // Runs a discard round: on_discard, or DiscardLocked. REQUIRES: lock holds mu_; flusher.
  void DiscardRoundLocked(std::unique_lock<std::mutex>& lock);
  Status RefusalLocked() const;          // REQUIRES: mu_ held and error_ not OK
  void SetErrorLocked(const Status& s);  // REQUIRES: mu_ held
  void PublishLocked();  // copies the flusher's progress to the shared state; REQUIRES: mu_

  const LogWriterOptions options_;
  // The fsync policy in force: options_.fsync at first, changed by SetFsyncPolicy.
  std::atomic<FsyncPolicy> policy_;
  std::atomic<uint64_t> segment_target_;  // options_.segment_target_size, or as set since

  // Memory of seg_.unsynced (the flusher's own; Payload::MemoryBytes), for BufferedBytes on
  // other threads.
  std::atomic<size_t> unsynced_bytes_{0};
  // Memory of the chunks the flusher took from pending_ and is writing (Payload::MemoryBytes).
  std::atomic<size_t> inflight_bytes_{0};
  // A std::mutex, not base/mutex.h's Mutex, because the condition variables wait on it; so the
  // "guarded by mu_" below are comments that clang's thread-safety analysis does not check.
  mutable std::mutex mu_;
  std::condition_variable work_cv_;      // wakes the flusher
  std::condition_variable progress_cv_;  // wakes waiters and blocked appenders
  // Append side. All guarded by mu_.
  std::deque<Chunk> pending_;
  size_t pending_bytes_ = 0;
  uint64_t next_sequence_;
  uint64_t append_segment_id_;
  uint64_t append_offset_;  // where the next record goes in append_segment_id_
  // Flusher progress, published under mu_.
  uint64_t written_sequence_;
  uint64_t durable_sequence_;
  uint64_t sync_requested_ = 0;      // WaitDurable/Flush want an fsync up to here
  Status error_;                     // not OK: failed state
  std::atomic<bool> failed_{false};  // mirrors !error_.ok(), for a lock-free Health()
  uint64_t retry_requested_ = 0;     // bumped by Retry()
  uint64_t retries_done_ = 0;        // attempts completed, for Retry() to wait on
  // Discard state, guarded by mu_. reported_seq_: the highest sequence reported committed
  // (never discarded). decided_seq_: records up to here have a decided fate (kept or dropped).
  // last_kept_: the last appended record that was not discarded (Flush and Close wait for it).
  uint64_t reported_seq_ = 0;
  uint64_t decided_seq_ = 0;
  uint64_t last_kept_ = 0;
  // Discarded ranges [first, last], oldest first; at most kMaxDiscardedRanges (a waiter asks
  // within moments of its discard, so the oldest are never asked about again).
  std::deque<std::pair<uint64_t, uint64_t>> discarded_;
  static constexpr size_t kMaxDiscardedRanges = 256;
  std::atomic<uint64_t> last_discarded_{0};
  bool in_discard_ = false;  // on_discard runs (appends may still come until Uncommitted)
  // Between Uncommitted() and Decide() the owner holds what keeps every append out (all its
  // shard locks): an Append then would be a record the undo did not see.
  bool collecting_ = false;
  std::string discard_reason_;  // the error that caused the last discard
  bool segment_start_ = false;  // a discard dropped a new segment's start: the next chunk starts it
  bool closing_ = false;
  bool flusher_done_ = false;
  LogWriterStats stats_;  // counters; guarded by mu_

  // Writes every pending chunk (and fsyncs when `sync`, or when the policy wants it), then
  // publishes progress. Run by the flusher thread or by a waiting appender (group commit
  // leader). REQUIRES: lock holds mu_, !io_busy_, error_ OK. Returns with the lock held.
  // Everysec's timed fsync is not a round's: the flusher runs it beside them. While one runs
  // (sync_busy_), a round fsyncs nothing. `writes_requested`: the caller (TryWriteNow) writes
  // what RequestProgress asked for during the round itself; otherwise the flusher is woken.
  void IoRoundLocked(std::unique_lock<std::mutex>& lock, bool sync, bool writes_requested = false);
  bool io_busy_ = false;  // guarded by mu_: a thread is doing I/O on the state below
  // guarded by mu_: the flusher fsyncs seg_.file outside the I/O role (BackgroundSyncLocked).
  // Meanwhile seg_.file stays open and nobody else fsyncs, truncates or starts a segment.
  bool sync_busy_ = false;
  bool flusher_waits_io_ = false;  // guarded by mu_: the flusher waits for io_busy_ to clear
  bool flusher_sleeps_ = false;    // guarded by mu_: the flusher is idle without a timer
  // guarded by mu_: the highest sequence RequestProgress asked for while a round was running
  // (the round's leader, not the flusher, is to write it).
  uint64_t progress_requested_ = 0;
  static constexpr int kMaxExtraRounds = 4;
  uint64_t retry_handled_ = 0;  // guarded by mu_: the last retry_requested_ acted on

  // I/O state: touched only by the thread that set io_busy_ (the flusher, or a waiter leading
  // a group commit), and by Open before the flusher starts.
  // Invariant: every record up to flushed_seq_ is written, up to synced_seq_ fsynced; every
  // segment before seg_ is complete and fsynced.
  OpenSegment seg_;
  uint64_t flushed_seq_;
  uint64_t synced_seq_;
  uint64_t io_bytes_written_ = 0;
  uint64_t io_fsyncs_ = 0;
  uint64_t io_last_fsync_us_ = 0;
  uint64_t io_fsync_us_total_ = 0;
  std::array<uint64_t, kFsyncLatencyBuckets> io_fsync_hist_{};
  // Records made durable by the flusher's last round (the commit delay's estimate of how many
  // clients take part in a group commit). Flusher thread only.
  uint64_t last_round_records_ = 0;
  static constexpr uint64_t kMaxCommitDelayUs = 500;
  uint64_t io_segments_created_ = 0;
  std::chrono::steady_clock::time_point last_sync_time_;

  std::mutex close_mu_;  // serializes Close() (joining the thread)
  Status close_status_;  // guarded by close_mu_
  bool closed_ = false;  // guarded by close_mu_
  std::thread flusher_;
};

}  // namespace fdb::storage
