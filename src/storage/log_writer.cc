#include "storage/log_writer.h"

#include <algorithm>

#include "base/check.h"
#include "storage/crc32c.h"
#include "storage/file_names.h"

namespace fdb::storage {

namespace {
// Pending bytes at which an append wakes the flusher without waiting for a waiter.
constexpr uint64_t kWakeFlusherBytes = 1u << 20;
// The unsynced buffer a sync leaves allocated: larger is given back, so a burst (one SADD of
// 100,000 members) does not hold its size in used_memory until the next burst; smaller is
// kept, so a steady write load does not allocate it again after every fsync. Redis frees its
// AOF buffer after each write once it passes 4 KB.
constexpr size_t kUnsyncedKeepBytes = 256u << 10;
}  // namespace

using Clock = std::chrono::steady_clock;

namespace {

// What every append refuses before it takes the lock.
Status CheckRecord(RecordType type, uint64_t payload_size) {
  if (!IsValidRecordType(static_cast<uint8_t>(type))) {
    return Status::InvalidArgument("invalid record type");
  }
  if (payload_size > kMaxRecordPayloadSize) {
    return Status::InvalidArgument("record payload exceeds the maximum record size");
  }
  return Status::OK();
}

}  // namespace

Result<FsyncPolicy> ParseFsyncPolicy(std::string_view name) {
  if (name == "always") return FsyncPolicy::kAlways;
  if (name == "everysec") return FsyncPolicy::kEverySec;
  if (name == "no") return FsyncPolicy::kNo;
  return Status::InvalidArgument("fsync policy must be always, everysec or no");
}

const char* FsyncPolicyName(FsyncPolicy policy) {
  switch (policy) {
    case FsyncPolicy::kAlways:
      return "always";
    case FsyncPolicy::kEverySec:
      return "everysec";
    case FsyncPolicy::kNo:
      return "no";
  }
  return "?";
}

LogWriter::LogWriter(LogWriterOptions options)
    : options_(std::move(options)),
      policy_(options_.fsync),
      segment_target_(options_.segment_target_size),
      next_sequence_(options_.first_sequence),
      append_segment_id_(options_.first_segment_id),
      append_offset_(kSegmentHeaderSize),
      written_sequence_(options_.first_sequence - 1),
      durable_sequence_(options_.first_sequence - 1),
      reported_seq_(options_.first_sequence - 1),
      decided_seq_(options_.first_sequence - 1),
      last_kept_(options_.first_sequence - 1),
      flushed_seq_(options_.first_sequence - 1),
      synced_seq_(options_.first_sequence - 1) {}

Result<std::unique_ptr<LogWriter>> LogWriter::Open(LogWriterOptions options) {
  if (options.env == nullptr || options.dir.empty()) {
    return Status::InvalidArgument("log writer needs an env and a directory");
  }
  if (options.first_sequence == 0 || options.first_segment_id == 0) {
    return Status::InvalidArgument("sequences and segment ids start at 1");
  }
  if (options.segment_target_size <= kSegmentHeaderSize + kRecordHeaderSize) {
    return Status::InvalidArgument("segment target size too small");
  }
  std::unique_ptr<LogWriter> w(new LogWriter(std::move(options)));
  // The first segment is created synchronously so that an unusable directory (read-only, full)
  // fails Open instead of the first write.
  Status s = w->CreateSegment(w->options_.first_segment_id, w->options_.first_sequence);
  if (!s.ok()) return s;
  {
    std::lock_guard lock(w->mu_);
    w->PublishLocked();
  }
  w->last_sync_time_ = Clock::now();
  w->flusher_ = std::thread(&LogWriter::FlusherLoop, w.get());
  return w;
}

LogWriter::~LogWriter() {
  Status s = Close();
  (void)s;  // a destructor cannot report; callers who care call Close() themselves
}

Result<AppendResult> LogWriter::Append(RecordType type, std::string_view payload) {
  return AppendRecord(type, payload.size(), [&](uint64_t segment_id, uint64_t seq, Payload* dst) {
    EncodeRecord(segment_id, type, seq, payload, &dst->bytes);
  });
}

Result<AppendResult> LogWriter::Append(RecordType type, const Payload& payload) {
  // The checksum of a large value takes ~0.1 ms per MB: computed here, before the lock, and
  // joined to the record's under it (crc32c::Combine), so other appenders do not wait for it.
  std::vector<uint32_t> crcs;
  crcs.reserve(payload.splices.size());
  for (const Payload::Splice& s : payload.splices) {
    crcs.push_back(crc32c::Value(s.block->data(), s.block->size()));
  }
  return AppendRecord(type, payload.size(), [&](uint64_t segment_id, uint64_t seq, Payload* dst) {
    EncodeRecord(segment_id, type, seq, payload, dst, &crcs);
  });
}

Result<AppendResult> LogWriter::Append(RecordType type, Payload* payload) {
  std::vector<uint32_t> crcs;
  crcs.reserve(payload->splices.size());
  for (const Payload::Splice& s : payload->splices) {
    crcs.push_back(crc32c::Value(s.block->data(), s.block->size()));
  }
  auto r =
      AppendRecord(type, payload->size(), [&](uint64_t segment_id, uint64_t seq, Payload* dst) {
        EncodeRecord(segment_id, type, seq, *payload, dst, &crcs);
        payload->splices.clear();
      });
  payload->splices.clear();  // also when refused
  return r;
}

Result<AppendResult> LogWriter::AppendStreamed(
    RecordType type, uint64_t payload_size, uint32_t payload_crc,
    const std::function<void(const PartWriter&)>& produce) {
  if (Status bad = CheckRecord(type, payload_size); !bad.ok()) return bad;
  const uint64_t size = RecordSize(payload_size);
  AppendResult result;
  std::deque<Chunk> batch;  // the records appended before this one
  std::unique_lock lock(mu_);
  // Become the thread doing I/O (as a group commit's leader): nobody else writes until this
  // record is in the file.
  progress_cv_.wait(
      lock, [&] { return closing_ || !error_.ok() || (!io_busy_ && !sync_busy_ && !in_discard_); });
  if (closing_) return Status::IOError("log writer is closed");
  if (!error_.ok()) return RefusalLocked();
  FDB_CHECK(!collecting_);
  io_busy_ = true;
  const bool new_segment =
      segment_start_ || (append_offset_ > kSegmentHeaderSize &&
                         append_offset_ + size > segment_target_.load(std::memory_order_relaxed));
  if (new_segment) {
    if (!segment_start_) ++append_segment_id_;
    append_offset_ = kSegmentHeaderSize;
  }
  result.sequence = next_sequence_++;
  last_kept_ = result.sequence;
  result.location = {append_segment_id_, append_offset_, static_cast<uint32_t>(size)};
  // The next record starts a new segment (AppendRecord creates it with its first chunk).
  ++append_segment_id_;
  append_offset_ = kSegmentHeaderSize;
  segment_start_ = true;
  TakePendingLocked(&batch);
  progress_cv_.notify_all();  // appenders blocked on back-pressure may go on
  lock.unlock();

  size_t written = 0;
  Status s = WriteBatch(batch, &written);
  // The record starts at a point already durable: a repair after a failure below cuts the
  // file back to it and has nothing of this record to rewrite (it was never kept in memory).
  if (s.ok() && new_segment) {
    s = CreateSegment(result.location.segment_id, result.sequence);
  } else if (s.ok() && (seg_.written_size > seg_.synced_size || seg_.needs_repair)) {
    s = seg_.needs_repair ? RepairSegment() : SyncSegment();
  }
  if (s.ok()) {
    FDB_CHECK(seg_.id == result.location.segment_id && seg_.written_size == result.location.offset);
    std::string header;
    EncodeRecordHeader(result.location.segment_id, type, result.sequence, payload_size, payload_crc,
                       &header);
    s = seg_.file->Append(header);
    uint64_t produced = 0;
    uint32_t crc = 0;
    produce([&](std::string_view part) {
      produced += part.size();
      crc = crc32c::Extend(crc, part.data(), part.size());
      if (s.ok() && produced > payload_size) {
        s = Status::Corruption("a streamed record's parts exceed its declared size");
      }
      if (s.ok()) s = seg_.file->Append(part);
    });
    if (s.ok() && (produced != payload_size || crc != payload_crc)) {
      s = Status::Corruption("a streamed record's parts differ from its declared size or checksum");
    }
    if (s.ok()) {
      seg_.written_size += size;
      io_bytes_written_ += size;
      const uint64_t flushed_before = flushed_seq_;
      flushed_seq_ = result.sequence;
      s = SyncSegment();
      if (!s.ok()) {
        // Not durable, and not in memory to rewrite: the repair cuts it off.
        seg_.written_size = result.location.offset;
        flushed_seq_ = flushed_before;
      }
    } else {
      seg_.needs_repair = true;  // part of the record may be in the file
    }
  }

  lock.lock();
  if (!s.ok()) {
    PutBackLocked(batch, written);
    SetErrorLocked(s);
    // Nobody waits for this record and it cannot be rewritten: it is discarded now.
    discarded_.emplace_back(result.sequence, result.sequence);
    if (discarded_.size() > kMaxDiscardedRanges) discarded_.pop_front();
    last_discarded_.store(
        std::max(last_discarded_.load(std::memory_order_relaxed), result.sequence),
        std::memory_order_release);
    if (last_kept_ == result.sequence) last_kept_ = result.sequence - 1;
    discard_reason_ = s.message();
  }
  PublishLocked();
  inflight_bytes_.store(0, std::memory_order_relaxed);
  io_busy_ = false;
  progress_cv_.notify_all();
  // Records appended meanwhile, a failure, or a waiting flusher: the flusher's work now.
  if (flusher_waits_io_ || !s.ok() || !pending_.empty()) work_cv_.notify_all();
  if (options_.on_progress) options_.on_progress();
  lock.unlock();
  if (!s.ok()) return Status::IOError(std::string(kWriteRefusedPrefix) + s.message());
  return result;
}

template <class Encode>
Result<AppendResult> LogWriter::AppendRecord(RecordType type, size_t payload_size,
                                             const Encode& encode) {
  if (Status bad = CheckRecord(type, payload_size); !bad.ok()) return bad;
  const uint64_t size = RecordSize(payload_size);
  AppendResult result;
  bool wake = false;
  {
    std::unique_lock lock(mu_);
    // Back-pressure: wait for the flusher rather than buffer without bound. A single record
    // larger than the limit is let through when nothing else is pending.
    progress_cv_.wait(lock, [&] {
      return closing_ || !error_.ok() || pending_bytes_ == 0 ||
             pending_bytes_ + size <= options_.max_pending_bytes;
    });
    if (closing_) return Status::IOError("log writer is closed");
    // No refusal in the failed state: the caller has changed memory already, so the record is
    // taken and its fate decided by the next discard (the flusher is woken for it below).
    // Owners check Health() before they change anything, so this is rare. It may happen while
    // a discard round waits for the owner's locks (the record is then among those collected),
    // never after the owner collected the records to undo.
    FDB_CHECK(!collecting_);

    // Rotate before a record that would take the segment past its target, unless the segment
    // is still empty (a record larger than the target gets a segment of its own). After a
    // discard dropped the start of a new segment, the next record starts it again.
    if (segment_start_ ||
        (append_offset_ > kSegmentHeaderSize &&
         append_offset_ + size > segment_target_.load(std::memory_order_relaxed))) {
      if (!segment_start_) ++append_segment_id_;
      segment_start_ = false;
      append_offset_ = kSegmentHeaderSize;
      Chunk chunk;
      chunk.segment_id = append_segment_id_;
      chunk.starts_segment = true;
      chunk.base_sequence = next_sequence_;
      pending_.push_back(std::move(chunk));
    } else if (pending_.empty() || pending_.back().segment_id != append_segment_id_) {
      Chunk chunk;
      chunk.segment_id = append_segment_id_;
      pending_.push_back(std::move(chunk));
    }
    Chunk& chunk = pending_.back();
    result.sequence = next_sequence_++;
    last_kept_ = result.sequence;
    // Encoding (memcpy and CRC) happens under the lock because the checksum covers the
    // sequence and segment id, which are only known here. Large values are neither copied nor
    // read here (their CRCs are joined in); the lock is never held across I/O.
    encode(append_segment_id_, result.sequence, &chunk.data);
    chunk.last_sequence = result.sequence;
    result.location = {append_segment_id_, append_offset_, static_cast<uint32_t>(size)};
    append_offset_ += size;
    pending_bytes_ += size;
    // The flusher is woken by whoever waits for this record (WaitFor), by its everysec timer,
    // or here once enough is pending: not once per append, which would cost a futex wake for
    // every write command.
    wake = pending_bytes_ >= kWakeFlusherBytes || !error_.ok();
  }
  if (wake) work_cv_.notify_one();
  return result;
}

Status LogWriter::WaitFor(uint64_t sequence, bool durable, bool ack) {
  std::unique_lock lock(mu_);
  if (sequence >= next_sequence_) {
    return Status::InvalidArgument("sequence " + std::to_string(sequence) + " not appended yet");
  }
  if (!ack) {
    // "Everything up to a discarded sequence" is everything up to the record kept before it
    // (a checkpoint waits for its shards' last sequences, which may have been discarded).
    for (auto it = discarded_.rbegin(); it != discarded_.rend(); ++it) {
      if (sequence >= it->first && sequence <= it->second) sequence = it->first - 1;
    }
  }
  auto reached = [&] { return (durable ? durable_sequence_ : written_sequence_) >= sequence; };
  if (durable && !reached() && sync_requested_ < sequence) sync_requested_ = sequence;
  // Appends do not wake the flusher; a waiter does, unless it is about to lead the round itself
  // (below): waking a thread that would only find the round taken costs a futex call and a
  // context switch per write.
  if (!reached() && !(error_.ok() && !io_busy_ && !closing_ && CanLeadLocked(durable))) {
    work_cv_.notify_one();
  }
  // Group commit, leader/follower: a waiter that finds nobody doing I/O writes (and fsyncs)
  // everything pending itself, for every waiter at once, instead of handing the work to the
  // flusher thread and sleeping: that saves two context switches per commit. Waiters that
  // find a round in progress wait for it (and lead the next one if they still need it).
  // After a failure, an acknowledging waiter waits for the record's fate (discarded, or kept
  // and written by a retry); others return at once (they may hold locks a discard needs).
  while (!IsDiscardedLocked(sequence) && !reached() && !flusher_done_) {
    if (error_.ok()) {
      // The everysec fsync is the flusher's (beside the writes): a leader only writes.
      if (!io_busy_ && !closing_ && CanLeadLocked(durable)) {
        IoRoundLocked(lock, durable);
        continue;
      }
    } else if (!ack || closing_) {
      break;
    }
    progress_cv_.wait(lock);
  }
  if (IsDiscardedLocked(sequence)) {
    return Status::IOError(std::string(kWriteRefusedPrefix) + discard_reason_);
  }
  if (reached()) {
    if (ack)
      reported_seq_ = std::max(reported_seq_, durable ? durable_sequence_ : written_sequence_);
    return Status::OK();
  }
  if (!error_.ok()) return RefusalLocked();
  return Status::IOError("log writer closed before sequence " + std::to_string(sequence) + " was " +
                         (durable ? "durable" : "written"));
}

Status LogWriter::WaitWritten(uint64_t sequence) { return WaitFor(sequence, false, false); }
Status LogWriter::WaitDurable(uint64_t sequence) { return WaitFor(sequence, true, false); }
Status LogWriter::WaitForPolicy(uint64_t sequence) {
  return WaitFor(sequence, policy() == FsyncPolicy::kAlways, true);
}

Status LogWriter::Flush() {
  uint64_t last;
  {
    std::lock_guard lock(mu_);
    last = last_kept_;
  }
  if (last < options_.first_sequence) return Status::OK();
  return WaitDurable(last);
}

Status LogWriter::Health() const {
  // Every write command asks: the common answer must not take the appenders' lock.
  if (!failed_.load(std::memory_order_acquire)) return Status::OK();
  std::lock_guard lock(mu_);
  if (error_.ok()) return Status::OK();
  return RefusalLocked();
}

Status LogWriter::Retry() {
  std::unique_lock lock(mu_);
  if (error_.ok()) return Status::OK();
  uint64_t before = retries_done_;
  ++retry_requested_;
  work_cv_.notify_one();
  progress_cv_.wait(lock, [&] { return retries_done_ > before || flusher_done_; });
  if (error_.ok()) return Status::OK();
  return RefusalLocked();
}

Status LogWriter::Close() {
  std::lock_guard close_lock(close_mu_);
  if (closed_) return close_status_;
  closed_ = true;
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  work_cv_.notify_all();
  progress_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  std::lock_guard lock(mu_);
  if (!error_.ok()) {
    close_status_ = RefusalLocked();
  } else if (!pending_.empty() || durable_sequence_ < last_kept_) {
    close_status_ = Status::IOError("log writer closed with records not durable");
  }
  return close_status_;
}

size_t LogWriter::BufferedBytes() const {
  // Blocks a value still holds are counted with the value (the keyspace), not here.
  size_t pending = 0;
  {
    std::lock_guard lock(mu_);
    for (const Chunk& c : pending_) pending += c.data.RetainedBytes();
  }
  return pending + inflight_bytes_.load(std::memory_order_relaxed) +
         unsynced_bytes_.load(std::memory_order_relaxed);
}

LogWriterStats LogWriter::stats() const {
  std::lock_guard lock(mu_);
  LogWriterStats s = stats_;
  s.current_segment_id = append_segment_id_;
  s.last_sequence = last_kept_;
  s.written_sequence = written_sequence_;
  s.durable_sequence = durable_sequence_;
  s.failed = !error_.ok();
  return s;
}

Status LogWriter::RefusalLocked() const {
  return Status::IOError(std::string(kWriteRefusedPrefix) + error_.message());
}

void LogWriter::SetErrorLocked(const Status& s) {
  error_ = s;
  failed_.store(!s.ok(), std::memory_order_release);
  ++stats_.write_errors;
  stats_.last_error = s.message();
}

void LogWriter::PublishLocked() {
  // Progress only moves forward; what was reported written or durable stays so.
  FDB_CHECK(flushed_seq_ >= written_sequence_ && synced_seq_ >= durable_sequence_);
  written_sequence_ = flushed_seq_;
  durable_sequence_ = synced_seq_;
  stats_.bytes_written = io_bytes_written_;
  stats_.fsyncs = io_fsyncs_;
  stats_.last_fsync_latency_us = io_last_fsync_us_;
  stats_.fsync_us_total = io_fsync_us_total_;
  stats_.fsync_latency_hist = io_fsync_hist_;
  stats_.segments_created = io_segments_created_;
}

// ---- Flusher ---------------------------------------------------------------------------------

bool LogWriter::TryWriteNow(uint64_t sequence) {
  std::unique_lock lock(mu_);
  if (written_sequence_ >= sequence) return true;
  if (policy() == FsyncPolicy::kAlways || !error_.ok() || io_busy_ || closing_ ||
      sequence >= next_sequence_ || !CanLeadLocked(false)) {
    return false;
  }
  IoRoundLocked(lock, /*sync=*/false, /*writes_requested=*/true);
  // Batches other threads asked for while the round ran (RequestProgress found it busy) are
  // written now by this thread, rather than handed to the flusher; a few rounds at most, and
  // what is left then goes to the flusher.
  auto requested = [&] { return progress_requested_ > written_sequence_ && !pending_.empty(); };
  for (int i = 0; i < kMaxExtraRounds && requested() && error_.ok() && !io_busy_ && !closing_ &&
                  CanLeadLocked(false);
       i++) {
    IoRoundLocked(lock, /*sync=*/false, /*writes_requested=*/true);
  }
  if (requested()) work_cv_.notify_one();
  return written_sequence_ >= sequence;
}

bool LogWriter::CanLeadLocked(bool sync) const {
  if (!sync_busy_) return true;
  return !sync && !pending_.empty() && !pending_.front().starts_segment;
}

void LogWriter::TakePendingLocked(std::deque<Chunk>* batch) {
  if (!sync_busy_) {
    batch->swap(pending_);
    pending_bytes_ = 0;
  } else {
    // A background fsync holds the open segment's file: take its chunks only, not the start
    // of the next segment (which closes that file).
    while (!pending_.empty() && !pending_.front().starts_segment) {
      pending_bytes_ -= pending_.front().data.size();
      batch->push_back(std::move(pending_.front()));
      pending_.pop_front();
    }
  }
  size_t inflight = 0;
  for (const Chunk& c : *batch) inflight += c.data.RetainedBytes();
  inflight_bytes_.store(inflight, std::memory_order_relaxed);
}

Status LogWriter::WriteBatch(std::deque<Chunk>& batch, size_t* written) {
  for (*written = 0; *written < batch.size(); ++*written) {
    Status s = WriteChunk(batch[*written]);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

void LogWriter::PutBackLocked(std::deque<Chunk>& batch, size_t written) {
  // In order, ahead of anything appended meanwhile.
  for (size_t i = batch.size(); i-- > written;) {
    pending_bytes_ += batch[i].data.size();
    pending_.push_front(std::move(batch[i]));
  }
}

void LogWriter::IoRoundLocked(std::unique_lock<std::mutex>& lock, bool sync,
                              bool writes_requested) {
  io_busy_ = true;
  std::deque<Chunk> batch;
  TakePendingLocked(&batch);
  const bool closing = closing_;
  const uint64_t sync_requested = sync_requested_;
  // Stable for the round: a background fsync starts and ends only while nobody does I/O.
  const bool sync_busy = sync_busy_;
  progress_cv_.notify_all();  // appenders blocked on back-pressure may go on
  lock.unlock();

  size_t written = 0;
  Status s = WriteBatch(batch, &written);
  if (s.ok() && synced_seq_ < flushed_seq_ && !sync_busy) {
    bool need_sync = sync || policy() == FsyncPolicy::kAlways || closing ||
                     sync_requested > synced_seq_ ||
                     seg_.unsynced.RetainedBytes() >= options_.max_unsynced_bytes;
    if (need_sync) s = SyncSegment();
  }

  lock.lock();
  if (!s.ok()) {
    PutBackLocked(batch, written);
    SetErrorLocked(s);
  }
  PublishLocked();
  inflight_bytes_.store(0, std::memory_order_relaxed);
  io_busy_ = false;
  progress_cv_.notify_all();
  // The flusher is woken when it waits for this round, to handle a failure (the discard and
  // the retries are its work), or when it sleeps without a timer while this round left bytes
  // that everysec must fsync (it then sets its timer). An idle flusher woken after every
  // leader's round would cost a context switch per write.
  // Also when a batch was asked for during the round and this leader will not write it (a
  // TryWriteNow leader, writes_requested, goes on itself).
  if (flusher_waits_io_ || !s.ok() || (flusher_sleeps_ && synced_seq_ < flushed_seq_) ||
      (!writes_requested && progress_requested_ > written_sequence_ && !pending_.empty())) {
    work_cv_.notify_all();
  }
  if (options_.on_progress) options_.on_progress();
}

void LogWriter::RequestProgress(uint64_t sequence) {
  {
    std::lock_guard lock(mu_);
    if (policy() == FsyncPolicy::kAlways) {
      if (durable_sequence_ >= sequence) return;
      if (sync_requested_ < sequence) sync_requested_ = sequence;
    } else if (written_sequence_ >= sequence) {
      return;
    } else if (io_busy_ && error_.ok() && !closing_) {
      // A round is in progress: whoever leads it writes this too when it ends (IoRoundLocked,
      // TryWriteNow), so the flusher is not woken only to wait for that round.
      progress_requested_ = std::max(progress_requested_, sequence);
      return;
    }
  }
  work_cv_.notify_one();
}

uint64_t LogWriter::CommittedSequence() {
  std::lock_guard lock(mu_);
  const uint64_t c = policy() == FsyncPolicy::kAlways ? durable_sequence_ : written_sequence_;
  reported_seq_ = std::max(reported_seq_, c);
  return c;
}

Outcome LogWriter::OutcomeOf(uint64_t sequence) {
  std::lock_guard lock(mu_);
  if (IsDiscardedLocked(sequence)) return Outcome::kDiscarded;
  const uint64_t c = policy() == FsyncPolicy::kAlways ? durable_sequence_ : written_sequence_;
  if (sequence > c) return Outcome::kPending;
  reported_seq_ = std::max(reported_seq_, c);
  return Outcome::kCommitted;
}

// ---- Discard -------------------------------------------------------------------------------

uint64_t LogWriter::ReportedBoundaryLocked() const {
  // Under always nothing past the durable sequence was acknowledged, unless reported while
  // another policy was in force (reported_seq_). Under everysec and no, a written record's
  // reply may have left without anyone asking this writer again: keep everything written.
  const uint64_t floor = policy() == FsyncPolicy::kAlways ? durable_sequence_ : written_sequence_;
  return std::max(reported_seq_, floor);
}

bool LogWriter::IsDiscardedLocked(uint64_t sequence) const {
  if (sequence > last_discarded_.load(std::memory_order_relaxed)) return false;
  for (auto it = discarded_.rbegin(); it != discarded_.rend(); ++it) {
    if (sequence > it->second) return false;  // ranges ascend: no older one holds it
    if (sequence >= it->first) return true;
  }
  return false;
}

std::pair<uint64_t, size_t> LogWriter::CutLocked(uint64_t boundary) const {
  uint64_t kept = synced_seq_;
  size_t cut = 0;
  for (const auto& [seq, end] : seg_.unsynced_marks) {
    if (kept >= boundary) break;
    kept = seq;
    cut = end;
  }
  return {kept, cut};
}

void LogWriter::DiscardLocked() {
  const auto [kept, cut] = CutLocked(ReportedBoundaryLocked());
  const uint64_t last = next_sequence_ - 1;
  decided_seq_ = last;
  if (last <= kept) return;
  discarded_.emplace_back(kept + 1, last);
  if (discarded_.size() > kMaxDiscardedRanges) discarded_.pop_front();
  last_discarded_.store(last, std::memory_order_release);
  discard_reason_ = error_.ok() ? "write failed" : error_.message();
  pending_.clear();
  pending_bytes_ = 0;
  if (seg_.file != nullptr) {
    // The file may hold the dropped records (or a piece of one) past the kept bytes: the
    // retry's repair cuts it back to synced_size and rewrites only what is kept.
    seg_.unsynced.Truncate(cut);
    unsynced_bytes_.store(seg_.unsynced.MemoryBytes(), std::memory_order_relaxed);
    while (!seg_.unsynced_marks.empty() && seg_.unsynced_marks.back().second > cut) {
      seg_.unsynced_marks.pop_back();
    }
    seg_.written_size = seg_.synced_size + cut;
    seg_.needs_repair = true;
    append_segment_id_ = seg_.id;
    append_offset_ = seg_.written_size;
    segment_start_ = false;
  } else {
    // A rotation failed after the previous segment was finished: the next record starts the
    // new segment again (CreateSegment recreates a half-made file).
    append_segment_id_ = seg_.id + 1;
    append_offset_ = kSegmentHeaderSize;
    segment_start_ = true;
  }
  flushed_seq_ = kept;
  written_sequence_ = std::min(written_sequence_, kept);
  last_kept_ = kept;
  progress_cv_.notify_all();
  if (options_.on_progress) options_.on_progress();
}

UncommittedRecords LogWriter::Uncommitted() {
  std::lock_guard lock(mu_);
  FDB_CHECK(in_discard_);
  collecting_ = true;
  UncommittedRecords u;
  const auto [kept, cut] = CutLocked(ReportedBoundaryLocked());
  u.kept_through = kept;
  u.last = next_sequence_ - 1;
  // Records are decoded from contiguous bytes: a run with a large value spliced in is copied
  // (a discard is rare, and what it copies is bounded by the unsynced and pending limits).
  auto add = [&u](uint64_t segment, const Payload& p, size_t from) {
    if (from >= p.size()) return;
    if (p.splices.empty()) {
      u.pieces.emplace_back(segment, std::string_view(p.bytes).substr(from));
      return;
    }
    u.copies.push_back(std::make_unique<std::string>(p.CopyFrom(from)));
    u.pieces.emplace_back(segment, *u.copies.back());
  };
  add(seg_.id, seg_.unsynced, cut);
  for (const Chunk& c : pending_) add(c.segment_id, c.data, 0);
  return u;
}

void LogWriter::Decide(bool discard) {
  std::lock_guard lock(mu_);
  FDB_CHECK(in_discard_);
  // Appends may come as soon as the owner lets them (it may release its locks before
  // on_discard returns).
  in_discard_ = false;
  collecting_ = false;
  if (discard) {
    DiscardLocked();
  } else {
    decided_seq_ = next_sequence_ - 1;  // kept: written by the retry, waiters wait for it
  }
}

void LogWriter::DiscardRoundLocked(std::unique_lock<std::mutex>& lock) {
  if (!options_.on_discard || closing_) {
    // Nobody holds memory to undo (or it is going away): drop the records here.
    DiscardLocked();
    return;
  }
  in_discard_ = true;
  const uint64_t decided_before = decided_seq_;
  lock.unlock();
  options_.on_discard();
  lock.lock();
  in_discard_ = false;
  collecting_ = false;
  // An owner that did not decide could not undo anything: keep the records.
  if (decided_seq_ == decided_before) decided_seq_ = next_sequence_ - 1;
}

void LogWriter::FlusherLoop() {
  std::unique_lock lock(mu_);
  bool retrying = false;         // a repair succeeded; Retry() waits for the write pass after it
  bool close_attempted = false;  // when closing in the failed state, try once, then give up
  bool delayed = false;          // this round already waited for more records (commit delay)
  auto finish_retry = [&] {
    if (retrying) {
      retrying = false;
      ++retries_done_;
      progress_cv_.notify_all();
    }
  };
  while (true) {
    if (io_busy_) {  // a waiter is leading a group commit
      flusher_waits_io_ = true;
      work_cv_.wait(lock);
      flusher_waits_io_ = false;
      continue;
    }
    if (!error_.ok()) {
      // First decide the fate of the records nobody was told are committed (see "Discard").
      auto undecided = [&] {
        return next_sequence_ - 1 > std::max(decided_seq_, ReportedBoundaryLocked());
      };
      if (undecided()) {
        DiscardRoundLocked(lock);
        continue;
      }
      if (closing_) {
        if (close_attempted) break;
        close_attempted = true;
      } else {
        // A Retry() made before we got here (the failure may have happened in a waiter's
        // group commit round) counts: compare with the last request handled, not a snapshot.
        work_cv_.wait_for(lock, options_.retry_interval, [&] {
          return closing_ || retry_requested_ != retry_handled_ || undecided();
        });
        if (undecided()) continue;
        retry_handled_ = retry_requested_;
      }
      lock.unlock();
      Status s = RepairSegment();
      lock.lock();
      PublishLocked();
      if (!s.ok()) {
        SetErrorLocked(s);
        ++retries_done_;
        progress_cv_.notify_all();
        continue;
      }
      error_ = Status::OK();
      failed_.store(false, std::memory_order_release);
      retrying = true;
      progress_cv_.notify_all();
    }

    const bool unsynced = synced_seq_ < flushed_seq_;
    const bool sync_wanted = unsynced && sync_requested_ > synced_seq_;
    const bool sync_due = unsynced && policy() == FsyncPolicy::kEverySec &&
                          Clock::now() - last_sync_time_ >= options_.everysec_interval;
    if (pending_.empty() && !sync_wanted && !sync_due && !(closing_ && unsynced)) {
      finish_retry();
      if (closing_) break;
      if (unsynced && policy() == FsyncPolicy::kEverySec) {
        work_cv_.wait_until(lock, last_sync_time_ + options_.everysec_interval);
      } else {
        flusher_sleeps_ = true;
        work_cv_.wait(lock);
        flusher_sleeps_ = false;
      }
      continue;
    }

    // Commit delay, under `always`: a round that starts the moment the previous one ended
    // carries only the records that arrived during its fsync, while the clients it just
    // answered are still sending their next writes, so every fsync would carry about half of
    // the clients. When fewer records wait than the last round carried, wait a little (at most
    // half an fsync) for the rest: one fsync then serves them all. A lone client never waits:
    // its last round carried one record.
    if (policy() == FsyncPolicy::kAlways && !delayed && !closing_ && error_.ok() &&
        last_round_records_ > 1 && next_sequence_ - 1 - durable_sequence_ < last_round_records_) {
      const auto delay =
          std::chrono::microseconds(std::min<uint64_t>(io_last_fsync_us_ / 2, kMaxCommitDelayUs));
      work_cv_.wait_for(lock, delay, [&] {
        return closing_ || io_busy_ ||
               next_sequence_ - 1 - durable_sequence_ >= last_round_records_;
      });
      delayed = true;
      continue;  // re-check everything: a waiter may have led a round meanwhile
    }
    delayed = false;
    if (sync_due && !sync_wanted && !closing_ && error_.ok()) {
      // Everysec's fsync runs beside the writes, as Redis's AOF fsync on its background
      // thread: write what is pending first, then fsync while leaders go on writing.
      if (!pending_.empty()) IoRoundLocked(lock, false);
      if (error_.ok() && !io_busy_ && synced_seq_ < flushed_seq_) BackgroundSyncLocked(lock);
      finish_retry();
      continue;
    }
    const uint64_t durable_before = durable_sequence_;
    IoRoundLocked(lock, false);
    last_round_records_ = durable_sequence_ - durable_before;
    finish_retry();
  }
  flusher_done_ = true;
  progress_cv_.notify_all();
  lock.unlock();
  if (seg_.file != nullptr) {
    // Everything durable was fsynced above; a close error cannot lose it, so it is ignored.
    Status s = seg_.file->Close();
    (void)s;
    seg_.file.reset();
  }
}

Status LogWriter::CreateSegment(uint64_t segment_id, uint64_t base_sequence) {
  // Finish the previous segment first, under every policy: recovery treats only the last
  // segment's tail as possibly torn, so all earlier segments must be complete on disk.
  if (seg_.file != nullptr) {
    if (seg_.written_size > seg_.synced_size || seg_.needs_repair) {
      Status s = seg_.needs_repair ? RepairSegment() : SyncSegment();
      if (!s.ok()) return s;
    }
    Status s = seg_.file->Close();
    (void)s;  // its content is already durable; a close error changes nothing on disk
    seg_.file.reset();
  }

  const std::string path = SegmentPath(options_.dir, segment_id);
  // If a previous attempt failed half-way, the file exists but is in no manifest: it is
  // recreated from scratch (NewWritableFile truncates).
  auto file = options_.env->NewWritableFile(path);
  if (!file.ok()) return file.status();
  std::string header;
  EncodeSegmentHeader({kFormatVersion, segment_id, base_sequence}, &header);
  Status s = (*file)->Append(header);
  if (s.ok()) s = (*file)->Sync();
  // The directory entry must be durable before the manifest names the file.
  if (s.ok()) s = options_.env->SyncDir(options_.dir);
  if (s.ok() && options_.on_segment_created) s = options_.on_segment_created(segment_id);
  if (!s.ok()) return s;

  seg_.id = segment_id;
  seg_.file = std::move(*file);
  seg_.written_size = seg_.synced_size = header.size();
  seg_.unsynced.clear();
  seg_.unsynced_marks.clear();
  seg_.needs_repair = false;
  io_bytes_written_ += header.size();
  ++io_fsyncs_;
  ++io_segments_created_;
  return Status::OK();
}

namespace {

// Writes the pieces of p in order (a large value is one pwrite from its block).
Status AppendPieces(WritableFile* file, const Payload& p) {
  // Without splices: one Append, even of nothing (what a file without large values always did).
  if (p.splices.empty()) return file->Append(p.bytes);
  Status s;
  p.ForEachPiece([&](std::string_view piece) {
    s = file->Append(piece);
    return s.ok();
  });
  return s;
}

}  // namespace

Status LogWriter::WriteChunk(Chunk& chunk) {
  if (seg_.file == nullptr || seg_.id != chunk.segment_id) {
    // Chunks of one segment arrive in order and only the first one starts it.
    FDB_CHECK(chunk.starts_segment);
    Status s = CreateSegment(chunk.segment_id, chunk.base_sequence);
    if (!s.ok()) return s;
  }
  Status s = AppendPieces(seg_.file.get(), chunk.data);
  if (!s.ok()) {
    // Part of the chunk may be in the file: the next attempt cuts it off first.
    seg_.needs_repair = true;
    return s;
  }
  const size_t size = chunk.data.size();
  seg_.written_size += size;
  seg_.unsynced.Append(std::move(chunk.data));
  seg_.unsynced_marks.emplace_back(chunk.last_sequence, seg_.unsynced.size());
  unsynced_bytes_.store(seg_.unsynced.MemoryBytes(), std::memory_order_relaxed);
  io_bytes_written_ += size;
  flushed_seq_ = chunk.last_sequence;
  return Status::OK();
}

void LogWriter::BackgroundSyncLocked(std::unique_lock<std::mutex>& lock) {
  FDB_CHECK(!io_busy_ && !sync_busy_ && seg_.file != nullptr);
  // What this fsync covers: everything written so far. Writes that land meanwhile may reach
  // the disk too, but only these are counted durable.
  WritableFile* file = seg_.file.get();
  const uint64_t size = seg_.written_size;
  const uint64_t seq = flushed_seq_;
  const size_t unsynced_len = seg_.unsynced.size();
  const size_t marks = seg_.unsynced_marks.size();
  sync_busy_ = true;
  lock.unlock();
  const auto start = Clock::now();
  Status s = file->Sync();
  const auto end = Clock::now();
  lock.lock();
  // The segment's state is the I/O owner's: wait for a leader's round to end.
  while (io_busy_) {
    flusher_waits_io_ = true;
    work_cv_.wait(lock);
    flusher_waits_io_ = false;
  }
  io_busy_ = true;
  lock.unlock();
  if (s.ok()) {
    RecordFsync(end - start);
    last_sync_time_ = end;
    seg_.synced_size = size;
    // The copy kept for a rewrite after a failed fsync loses what this one made durable; the
    // marks of what was written since move down with it.
    seg_.unsynced.DropPrefix(unsynced_len);
    seg_.unsynced_marks.erase(seg_.unsynced_marks.begin(),
                              seg_.unsynced_marks.begin() + static_cast<std::ptrdiff_t>(marks));
    for (auto& mark : seg_.unsynced_marks) mark.second -= unsynced_len;
    if (seg_.unsynced.bytes.capacity() > kUnsyncedKeepBytes &&
        seg_.unsynced.bytes.size() < kUnsyncedKeepBytes / 4) {
      seg_.unsynced.bytes.shrink_to_fit();  // give back a large buffer after a burst
    }
    unsynced_bytes_.store(seg_.unsynced.MemoryBytes(), std::memory_order_relaxed);
    synced_seq_ = std::max(synced_seq_, seq);
  } else {
    // As SyncSegment: never trust a second fsync; the repair rewrites from synced_size on.
    seg_.needs_repair = true;
  }
  lock.lock();
  sync_busy_ = false;
  if (!s.ok()) SetErrorLocked(s);
  PublishLocked();
  io_busy_ = false;
  progress_cv_.notify_all();
  if (options_.on_progress) options_.on_progress();
}

void LogWriter::RecordFsync(std::chrono::steady_clock::duration took) {
  const uint64_t us = static_cast<uint64_t>(
      std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::microseconds>(took).count()));
  io_last_fsync_us_ = us;
  ++io_fsyncs_;
  io_fsync_us_total_ += us;
  size_t b = us <= 1 ? 0 : 64 - static_cast<size_t>(__builtin_clzll(us - 1));
  ++io_fsync_hist_[std::min(b, kFsyncLatencyBuckets - 1)];
}

Status LogWriter::SyncSegment() {
  auto start = Clock::now();
  Status s = seg_.file->Sync();
  if (!s.ok()) {
    // After a failed fsync Linux may have dropped the dirty pages and marked them clean, so a
    // second fsync could "succeed" without the data on disk. Never trust it: RepairSegment
    // rewrites everything after synced_size from our own copy.
    seg_.needs_repair = true;
    return s;
  }
  auto end = Clock::now();
  RecordFsync(end - start);
  last_sync_time_ = end;
  seg_.synced_size = seg_.written_size;
  seg_.unsynced_marks.clear();
  if (seg_.unsynced.bytes.capacity() > kUnsyncedKeepBytes) {
    std::string().swap(seg_.unsynced.bytes);  // give back a large buffer after a burst
  } else {
    seg_.unsynced.bytes.clear();
  }
  seg_.unsynced.splices.clear();  // large values written since the last fsync are durable now
  unsynced_bytes_.store(seg_.unsynced.MemoryBytes(), std::memory_order_relaxed);
  synced_seq_ = flushed_seq_;
  return Status::OK();
}

Status LogWriter::RepairSegment() {
  if (seg_.file == nullptr || !seg_.needs_repair) return Status::OK();
  // Cut back to what is known durable, rewrite what followed from memory, and fsync: after
  // this the file is exactly what we believe was written, and it is durable.
  Status s = seg_.file->Truncate(seg_.synced_size);
  if (s.ok()) s = AppendPieces(seg_.file.get(), seg_.unsynced);
  if (!s.ok()) return s;
  seg_.written_size = seg_.synced_size + seg_.unsynced.size();
  seg_.needs_repair = false;
  s = SyncSegment();
  return s;
}

void LogWriter::SetFsyncPolicy(FsyncPolicy p) {
  {
    std::lock_guard<std::mutex> l(mu_);
    policy_.store(p, std::memory_order_relaxed);
  }
  work_cv_.notify_all();
}

}  // namespace fdb::storage
