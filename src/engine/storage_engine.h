// StorageEngine: makes the keyspace durable and lets it outgrow RAM.
//
// Model. Every change to the keyspace is appended to one ordered log (storage::LogWriter) as an
// effect record, while the shard locks of the change are held, so log order is execution order
// for every key. A command's records are collected and appended as one record (one kBatch when
// there are several), so a multi-key command is atomic on disk. A reply is released to its
// client only after the command's last record is written (everysec, no) or fsynced (always);
// the I/O thread waits once per batch of ready connections, so concurrent clients share one
// fsync (group commit).
//
// Values may live in RAM, on disk, or both: an entry remembers where the latest full image of
// its value is in the log (Entry::loc). The cache keeps the values of at most `maxmemory`
// bytes / `cache_size` entries in RAM and evicts the least recently used ones (sampled) by
// dropping their bytes; an evicted value is read back from its record, checksum verified, on
// the next access. A value without a full image on disk (written inside a batch) is written
// out before it is evicted, so eviction never loses data.
//
// Checkpoints (SAVE, BGSAVE, compaction) write the index — key, type, deadline, location — to a
// file, shard by shard, each shard at a consistent point; the file records each shard's log
// sequence, and recovery replays only the records after it for that shard. A restart therefore
// reads keys, not values. Compaction rewrites the live records of old segments at the tail of
// the log, checkpoints, and only then removes the old segments from the manifest and deletes
// them, so disk use stays within about twice the live data.
//
// A failed write. When the log fails, the records no client was told are committed are
// discarded (storage::LogWriter, "Discard"), and so is their effect in memory: with every
// shard locked, the keys they touched are rebuilt from the log as of the committed boundary
// (the checkpoint and the records up to it, filtered to those keys, into a scratch keyspace)
// and put in place of the live entries (a flush or swap among them rebuilds everything). Only
// then are the waiting clients told MISCONF, so a MISCONF reply means the write did not
// happen, in memory or on disk. Rebuilding costs a read of the log, paid only on a failure;
// the alternative rejected, an undo image per change kept until its commit, costs a copy of
// every collection a command changes in place, on every write.
//
// The alternative rejected: Redis's fork-based RDB + AOF rewrite. fork doubles memory in the
// worst case and stalls a large process; FDB's log already holds the values, so a checkpoint
// is an index, and compaction copies only live records.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "base/status.h"
#include "engine/checkpoint.h"
#include "engine/keyspace.h"
#include "storage/lock_file.h"
#include "storage/log_reader.h"
#include "storage/log_writer.h"
#include "storage/manifest.h"

namespace fdb {

struct StorageOptions {
  std::string dir;
  storage::FsyncPolicy fsync = storage::FsyncPolicy::kEverySec;
  size_t compress_min = 0;                   // values at least this long are compressed; 0: off
  uint64_t segment_target_size = 64u << 20;  // tests use small segments
  // Compaction starts when the log is larger than this many times the live data, and larger
  // than compact_min_bytes. 1.5 leaves room for the copy of the live data a compaction writes
  // before it deletes the old segments, so disk use stays near 2x the live data at its peak.
  double compact_ratio = 1.5;
  uint64_t compact_min_bytes = 4u << 20;
  // Segments rotate at about a quarter of the live data, within these bounds: only sealed
  // segments can be compacted, so the segment receiving appends must stay small next to the
  // live data for disk use to stay bounded by it.
  uint64_t segment_min_bytes = 1u << 20;
  bool adaptive_segments = true;
  // The log's file system (tests inject faults); null: the default.
  storage::Env* log_env = nullptr;
};

struct StorageStats {
  uint64_t segments = 0;
  uint64_t log_bytes = 0;
  uint64_t live_bytes = 0;
  uint64_t compactions = 0;
  uint64_t fsyncs = 0;
  uint64_t last_fsync_us = 0;
  // The fsyncs of appended records: total time and histogram (storage/log_writer.h).
  uint64_t fsync_us_total = 0;
  std::array<uint64_t, storage::kFsyncLatencyBuckets> fsync_latency_hist{};
  uint64_t checkpoints = 0;
  uint64_t write_errors = 0;
  bool healthy = true;
  std::string last_error;
  uint64_t recovered_records = 0;
  double recovery_seconds = 0;
  bool bgsave_in_progress = false;
  std::string last_bgsave_status = "ok";
  int64_t last_save_s = 0;
};

// The log is the first effect sink of the keyspace (engine/txn.h) and its value store.
// A new in-RAM entry for key holding the value of a put image (recovery, and a replica
// applying its master's puts).
Result<Entry*> EntryFromImage(std::string_view key, ValueType type, std::string_view value);

class StorageEngine : public EffectSink, public ValueStore {
 public:
  // Locks the directory, loads the latest checkpoint and replays the log into `ks` (which must
  // be empty), then opens the log for appends and registers itself as ks's value store and
  // first effect sink.
  // A second process on the same directory gets Busy naming it; corruption outside the torn
  // tail of the last segment is Corruption naming the file and offset.
  static Result<std::unique_ptr<StorageEngine>> Open(const StorageOptions& options, Keyspace* ks);
  ~StorageEngine() override;

  // --- EffectSink (called with the shard locks of the change held). ---
  // Encodes the effect's record now: a put's image is the value as the change left it.
  void Capture(Effect& effect) override;
  // Appends the transaction's records as one record (one effect) or one framed batch, and
  // gives txn the sequence. An error puts the log in its failed state (writes are refused).
  Status Commit(Txn& txn) override;

  // --- ValueStore. ---
  bool CanWrite() override;
  Entry* LoadValue(int db, const Entry* e) override;
  bool WriteImage(int db, Entry* e) override;
  uint64_t LogBufferedBytes() const override { return writer_->BufferedBytes(); }

  // --- Per command (the dispatcher). ---
  // Blocks until `sequence` is written (everysec, no) or durable (always): OK; or until it is
  // discarded after a log failure: the MISCONF error, and its effect was undone.
  Status WaitForPolicy(uint64_t sequence);
  // The non-blocking form: asks for `sequence` to be committed; `listener` runs (on the
  // flusher's thread, so it must only hand off) each time the log makes progress.
  void RequestCommit(uint64_t sequence) { writer_->RequestProgress(sequence); }
  // Writes the log up to `sequence` on the calling thread when the policy allows it without an
  // fsync and no other write is in progress (LogWriter::TryWriteNow). Whether it is written.
  bool TryCommitNow(uint64_t sequence) { return writer_->TryWriteNow(sequence); }
  uint64_t CommittedSequence() const { return writer_->CommittedSequence(); }
  // The fate of a record (a sequence a Txn was given); see storage::Outcome.
  storage::Outcome OutcomeOf(uint64_t sequence) const { return writer_->OutcomeOf(sequence); }
  // Sequences above this were never discarded (lock-free).
  uint64_t LastDiscarded() const { return writer_->LastDiscarded(); }
  // The error a client gets for a write whose records were discarded (it did not happen).
  std::string DiscardedError() const;
  // Registers a progress listener (an I/O thread's wake-up). REQUIRES: before serving.
  void AddProgressListener(std::function<void()> listener);
  // Drops every listener (before the I/O threads that registered them go away).
  void ClearProgressListeners();
  // OK, or the MISCONF error writes get while the log cannot be written.
  Status Health() const;
  void SetFsyncPolicy(storage::FsyncPolicy p) { writer_->SetFsyncPolicy(p); }
  storage::FsyncPolicy policy() const { return writer_->policy(); }

  // --- Checkpoints and maintenance. ---
  // A replica's position in its master's stream, as the log last recorded it (recovered, then
  // followed by every commit that carried one): false when none was ever recorded.
  bool ReplPosition(std::string* replid, uint64_t* offset);
  // Records a position with no change (the end of a full sync; "?" after the data set was
  // emptied for one, so a crash before its end syncs in full again).
  Status LogReplPosition(std::string_view replid, uint64_t offset);
  Status Save();            // SAVE: a checkpoint, synchronously
  Status BackgroundSave();  // BGSAVE: in a background thread; Busy if one runs
  StorageStats stats();
  // Flushes and closes the log (clean shutdown). Called by the destructor too.
  Status Close();

 private:
  // WriteImage of a collection of many MB: its image goes to the log in parts
  // (LogWriter::AppendStreamed), never whole in RAM. REQUIRES: e's shard lock held.
  bool WriteImageInParts(int db, Entry* e);
  // LoadValue of a large collection whose type decodes in parts (NewImageDecoder): the
  // record read and decoded 1 MB at a time. nullopt: not such a record, or not readable so
  // (the whole read then decides).
  std::optional<Entry*> LoadValueInParts(const Entry* e);
  // Appends a copy of the put record `put` (compaction), its database and deadline replaced,
  // without copying it to a buffer first. REQUIRES: shard's lock held.
  Status CopyPutInParts(const storage::RecordLocation& from, int db, int64_t expire_ms, int shard,
                        storage::AppendResult* out);
  explicit StorageEngine(const StorageOptions& options, Keyspace* ks);
  // Where a replay of the log goes: recovery fills the live keyspace; undoing a discard
  // rebuilds some keys (or all) in a scratch one, up to the committed boundary.
  struct ReplayTarget {
    Keyspace* ks = nullptr;
    std::vector<uint64_t> ckpt_seq;  // per shard: the checkpoint holds records up to here
    const std::unordered_set<std::string>* only = nullptr;  // these key names; null: all
    uint64_t last_sequence = UINT64_MAX;                    // records after it are ignored
    bool Applies(int shard, uint64_t seq) const {
      return seq > ckpt_seq[shard] && seq <= last_sequence;
    }
    bool Wants(std::string_view key) const {
      return only == nullptr || only->count(std::string(key)) != 0;
    }
    // The shard function ckpt_seq is indexed by: the loaded checkpoint's. Replay places every
    // key by it, so a checkpoint of the old layout is applied exactly as it was written; the
    // keyspace is then resharded (Keyspace::RecoverReshard) before anyone uses it.
    ShardLayout layout = kCurrentShardLayout;
    KeyRef Key(std::string_view key) const {
      return layout == kCurrentShardLayout ? KeyRef(key) : KeyRef(key, ShardOfKeyIn(layout, key));
    }
  };
  Status Recover();
  Status LoadCheckpoint(ReplayTarget& t, const std::string& file);
  // After a replay from a checkpoint of an older shard layout: moves t's keys to their current
  // shards (and, for recovery, has Open write a current checkpoint).
  void ReshardIfOld(ReplayTarget& t);
  Status ApplyRecord(ReplayTarget& t, const storage::LogRecord& rec);
  Status ApplyOne(ReplayTarget& t, storage::RecordType type, std::string_view payload, uint64_t seq,
                  const storage::RecordLocation* loc);
  // The writer's on_discard: undoes in memory what the discarded records did (see the top).
  void OnDiscard();
  // Rebuilds the keys `u`'s records touched as of u.kept_through. REQUIRES: every shard locked.
  bool UndoUncommitted(const storage::UncommittedRecords& u);
  // Appends one record; payload's blocks go to the log (LogWriter::Append(type, Payload*)),
  // or with `keep` are shared with it and stay in payload.
  Status AppendDirect(storage::RecordType type, storage::Payload* payload, int shard,
                      storage::AppendResult* out, bool keep = false);
  Status Checkpoint(const std::vector<uint64_t>& drop_segments);
  void BackgroundLoop();
  Status Compact();
  void NoteError(const Status& s);

  StorageOptions options_;
  Keyspace* ks_;
  std::unique_ptr<storage::DirLock> lock_;
  std::unique_ptr<storage::LogWriter> writer_;
  std::unique_ptr<storage::LogRandomReader> reader_;

  std::mutex manifest_mu_;  // guards manifest_ and checkpoint/compaction exclusivity
  // The replica position (ReplPosition) with the sequence of the record that held it. A
  // checkpoint writes it to the REPLICA file before dropping segments, since the record may
  // be in one of them; recovery takes whichever of the file and the log is later.
  std::mutex repl_mu_;
  uint64_t repl_seq_ = 0;
  std::string repl_id_;
  uint64_t repl_offset_ = 0;
  void NoteReplPosition(uint64_t seq, std::string_view replid, uint64_t offset);
  Status WriteReplFile();
  void ReadReplFile();
  storage::Manifest manifest_;
  std::mutex maintenance_mu_;  // one checkpoint or compaction at a time

  ReplayTarget recovery_;  // recovery only: the live keyspace, the loaded checkpoint
  uint64_t recovered_last_seq_ = 0;
  // Recovery read a checkpoint of an older shard layout: Open writes a current one.
  bool convert_checkpoint_ = false;

  std::atomic<uint64_t> compactions_{0};
  std::atomic<uint64_t> checkpoints_{0};
  std::atomic<bool> bgsave_running_{false};
  std::atomic<int64_t> last_save_s_{0};
  std::string last_bgsave_status_ = "ok";  // guarded by manifest_mu_
  uint64_t recovered_records_ = 0;
  double recovery_seconds_ = 0;
  mutable std::mutex error_mu_;
  std::string last_error_;  // guarded by error_mu_

  std::thread background_;
  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool stopping_ = false;  // guarded by bg_mu_
  std::thread bgsave_thread_;
  std::mutex listeners_mu_;
  std::vector<std::function<void()>> listeners_;
  bool closed_ = false;
};

}  // namespace fdb
