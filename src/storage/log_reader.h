// Reading the log back: sequentially at recovery (SegmentReader, ReplayLog) and one record at a
// time for evicted values (LogRandomReader). Every record is checked (framing, checksum,
// sequence order) right after it is read, before anyone sees its payload.
//
// Recovery policy (applied in log_reader.cc, next to the code):
//   - A torn record at the tail of the LAST segment is the end of the log: a crash interrupted
//     the last write. It is reported (TornTail: file, offset, bytes dropped) and, when asked,
//     cut off. "At the tail" means no intact record follows it in the file.
//   - A LAST segment shorter than its header is a torn tail too: it holds no record, so
//     nothing acknowledged is in it. It is reported, and when asked its header is written
//     again (complete, fsynced), so that it can be an earlier segment after the next start.
//   - A bad checksum, bad header or out-of-order sequence anywhere else is Corruption whose
//     message names the file and byte offset. Recovery stops there rather than silently
//     skipping data: the operator decides (fdb-check, --salvage).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "storage/env.h"
#include "storage/record_codec.h"

namespace fdb::storage {

struct LogRecord {
  RecordType type = RecordType::kInvalid;
  uint64_t sequence = 0;
  std::string_view payload;  // valid until the reader's next call
  RecordLocation location;
  // False when only the payload's first bytes are in `payload` (SegmentReader's
  // set_partial_payload_min): the record was checked whole, but not kept in RAM.
  bool complete = true;
};

struct TornTail {
  uint64_t segment_id = 0;
  std::string path;
  uint64_t offset = 0;         // where the log now ends
  uint64_t bytes_dropped = 0;  // file size minus offset
  std::string reason;          // what was wrong with the bytes at `offset`
  // The segment's header itself was incomplete (offset 0): the repair writes a whole header
  // with this base sequence instead of cutting the file.
  bool header_incomplete = false;
  uint64_t base_sequence = 0;
  std::string ToString() const;
};

// Repairs a torn tail as recovery does: cuts the file at torn.offset, or for an incomplete
// header writes the segment's header again; then fsyncs the file.
[[nodiscard]] Status RepairTornTail(Env* env, const TornTail& torn);

class SegmentReader {
 public:
  // Opens and checks the header of segment `segment_id` at `path`. Records must have
  // sequences greater than `after_sequence` (the last one of the previous segment).
  // is_last_segment selects the torn-tail policy for the end of this file.
  static Result<std::unique_ptr<SegmentReader>> Open(Env* env, const std::string& path,
                                                     uint64_t segment_id, uint64_t after_sequence,
                                                     bool is_last_segment);

  // From now on a record whose payload has at least `n` bytes is checked in parts (its checksum
  // computed as it is read, 1 MB at a time) and returned with only its first
  // kPartialPayloadBytes in `payload` (complete false): a scan that needs few records whole
  // (compaction) reads a large value without holding it. 0 (the default): every record whole.
  void set_partial_payload_min(size_t n) {
    partial_min_ = n == 0 ? 0 : std::max(n, kPartialPayloadBytes + 1);
  }
  static constexpr size_t kPartialPayloadBytes = 64 * 1024;

  // The next intact record; nullopt at the end of the segment (clean, or a torn tail: see
  // torn_tail()); Corruption naming file and offset for damage that is not a torn tail.
  Result<std::optional<LogRecord>> Next();

  const SegmentHeader& header() const { return header_; }
  const std::optional<TornTail>& torn_tail() const { return torn_; }
  uint64_t file_size() const { return file_size_; }
  // End of the last intact record read so far.
  uint64_t valid_size() const { return pos_; }
  uint64_t last_sequence() const { return last_sequence_; }
  // The intact records (valid checksum, ascending sequences above last_sequence()) found after
  // damage at `offset`: what cutting the file there drops. For fdb-check --salvage's report.
  Result<uint64_t> CountIntactRecordsAfter(uint64_t offset);

 private:
  SegmentReader(std::string path, std::unique_ptr<RandomAccessFile> file, uint64_t file_size,
                uint64_t after_sequence, bool is_last);
  // Up to n bytes at offset (fewer only at end of file), from a read-ahead window. The view is
  // valid until the next Peek.
  Result<std::string_view> Peek(uint64_t offset, size_t n);
  // Reads and checks the record at `offset`.
  Result<DecodedRecord> ReadRecord(uint64_t offset);
  // The same for a record of at least partial_min_ payload bytes, read in parts; its payload
  // is only the first bytes. nullopt when the header does not qualify (ReadRecord decides).
  Result<std::optional<DecodedRecord>> ReadRecordInParts(uint64_t offset);
  // Offset of an intact record after `offset` with a sequence above last_sequence_, if any.
  Result<std::optional<uint64_t>> FindIntactRecordAfter(uint64_t offset);
  // The sequence and size of an intact record at `o` whose sequence is above `after`, if one
  // starts there.
  struct IntactRecord {
    uint64_t sequence;
    uint64_t size;
  };
  Result<std::optional<IntactRecord>> IntactRecordAt(uint64_t o, uint64_t after);
  Result<std::optional<LogRecord>> BadRecord(uint64_t offset, const std::string& reason);
  Status CorruptionAt(uint64_t offset, const std::string& reason) const;

  std::string path_;
  std::unique_ptr<RandomAccessFile> file_;
  uint64_t file_size_;
  bool is_last_;
  SegmentHeader header_;
  uint64_t pos_ = kSegmentHeaderSize;
  uint64_t last_sequence_;
  bool done_ = false;
  std::optional<TornTail> torn_;
  std::string window_;
  uint64_t window_offset_ = 0;
  size_t partial_min_ = 0;
};

struct ReplayOptions {
  // Cut a torn tail off the last segment (and fsync) so the log is clean before a writer starts
  // a new segment after it. fdb-check without --salvage passes false.
  bool truncate_torn_tail = true;
};

struct ReplayResult {
  uint64_t records = 0;
  uint64_t last_sequence = 0;  // of the last intact record (0: none)
  uint64_t last_segment_id = 0;
  std::optional<TornTail> torn_tail;
  bool torn_tail_truncated = false;
};

using RecordCallback = std::function<Status(const LogRecord&)>;

// Reads segments `segment_ids` of `dir` in ascending id order, calling `fn` for each intact
// record in log order; the highest id is the last segment (torn-tail policy). Stops at the
// first error from a reader or from `fn`.
Result<ReplayResult> ReplayLog(Env* env, const std::string& dir, std::vector<uint64_t> segment_ids,
                               const RecordCallback& fn, ReplayOptions options = {});

struct StoredRecord {
  RecordType type = RecordType::kInvalid;
  uint64_t sequence = 0;
  std::string payload;
};

// Random reads of single records by location (values evicted from RAM). Keeps up to
// max_open_files segment files open. Thread-safe; reads run concurrently (pread).
class LogRandomReader {
 public:
  LogRandomReader(Env* env, std::string dir, size_t max_open_files = 256);
  // Reads the record at `location` and checks length, type and checksum (which binds it to
  // location.segment_id). Corruption names the file and offset.
  Result<StoredRecord> ReadAt(const RecordLocation& location);
  // Reads the record that starts at `offset` of segment `segment_id` when its length is not
  // known (the engine keeps only segment and offset in RAM): the header gives the length, then
  // the whole record is read and checked as by ReadAt.
  Result<StoredRecord> ReadAtOffset(uint64_t segment_id, uint64_t offset);
  // Up to n raw bytes at `offset` of segment `segment_id` into buf (fewer only at the end of
  // the file), unchecked: for a caller that checked the record already (compaction copying a
  // large record in parts).
  Result<size_t> ReadRaw(uint64_t segment_id, uint64_t offset, size_t n, char* buf);
  // Closes a segment's file, e.g. before compaction deletes it.
  void Forget(uint64_t segment_id);

 private:
  Result<std::shared_ptr<RandomAccessFile>> GetFile(uint64_t segment_id);

  Env* env_;
  std::string dir_;
  size_t max_open_files_;
  Mutex mu_;
  std::map<uint64_t, std::shared_ptr<RandomAccessFile>> files_ ABSL_GUARDED_BY(mu_);
};

}  // namespace fdb::storage
