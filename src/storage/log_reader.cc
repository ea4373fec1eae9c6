#include "storage/log_reader.h"

#include <algorithm>
#include <cstring>

#include "base/coding.h"
#include "storage/crc32c.h"
#include "storage/file_names.h"

namespace fdb::storage {
namespace {

// Read-ahead for sequential reads: large enough that syscalls are rare, small enough that a
// reader is cheap to keep around.
constexpr size_t kReadAheadBytes = 1u << 20;

}  // namespace

std::string TornTail::ToString() const {
  return path + ": torn tail at offset " + std::to_string(offset) + ", " +
         std::to_string(bytes_dropped) + " bytes dropped (" + reason + ")";
}

SegmentReader::SegmentReader(std::string path, std::unique_ptr<RandomAccessFile> file,
                             uint64_t file_size, uint64_t after_sequence, bool is_last)
    : path_(std::move(path)),
      file_(std::move(file)),
      file_size_(file_size),
      is_last_(is_last),
      last_sequence_(after_sequence) {}

Result<std::unique_ptr<SegmentReader>> SegmentReader::Open(Env* env, const std::string& path,
                                                           uint64_t segment_id,
                                                           uint64_t after_sequence,
                                                           bool is_last_segment) {
  auto file = env->NewRandomAccessFile(path);
  if (!file.ok()) return file.status();
  auto size = (*file)->Size();
  if (!size.ok()) return size.status();
  std::unique_ptr<SegmentReader> r(
      new SegmentReader(path, std::move(*file), *size, after_sequence, is_last_segment));
  // Recovery policy for a LAST segment shorter than its header: a torn tail. The writer fsyncs
  // the header before the manifest names the segment, so a crash alone should not leave one;
  // but a copy of a live directory (a backup taken while a segment was being created), or a
  // file system that did not keep that order, can. No record fits in such a file, so treating
  // it as an empty segment loses nothing that was acknowledged, while refusing to start would
  // make the operator lose everything else to get going. An earlier segment that short is
  // Corruption (below): a later segment exists, so this one was complete once.
  if (is_last_segment && *size < kSegmentHeaderSize) {
    r->header_ = SegmentHeader{kFormatVersion, segment_id, after_sequence + 1};
    r->pos_ = 0;
    r->done_ = true;
    r->torn_ = TornTail{segment_id,
                        path,
                        0,
                        *size,
                        "segment header incomplete: " + std::to_string(*size) + " of " +
                            std::to_string(kSegmentHeaderSize) + " bytes",
                        /*header_incomplete=*/true,
                        after_sequence + 1};
    return r;
  }
  // A complete header that fails its check is Corruption even in the last segment: its bytes
  // were fsynced before the segment was named, so they are not a write that a crash tore.
  auto bytes = r->Peek(0, kSegmentHeaderSize);
  if (!bytes.ok()) return bytes.status();
  auto header = DecodeSegmentHeader(*bytes);
  if (!header.ok()) return r->CorruptionAt(0, header.status().message());
  if (header->segment_id != segment_id) {
    return r->CorruptionAt(0, "segment header names id " + std::to_string(header->segment_id) +
                                  ", expected " + std::to_string(segment_id));
  }
  if (header->base_sequence <= after_sequence) {
    return r->CorruptionAt(0, "segment base sequence " + std::to_string(header->base_sequence) +
                                  " is not after the previous segment's last sequence " +
                                  std::to_string(after_sequence));
  }
  if (*size > kMaxSegmentSize) {
    return r->CorruptionAt(0, "segment larger than the maximum segment size");
  }
  r->header_ = *header;
  return r;
}

Status SegmentReader::CorruptionAt(uint64_t offset, const std::string& reason) const {
  return Status::Corruption(path_ + ": offset " + std::to_string(offset) + ": " + reason);
}

Result<std::string_view> SegmentReader::Peek(uint64_t offset, size_t n) {
  if (offset >= file_size_) return std::string_view();
  n = static_cast<size_t>(std::min<uint64_t>(n, file_size_ - offset));
  if (offset >= window_offset_ && offset + n <= window_offset_ + window_.size()) {
    return std::string_view(window_).substr(offset - window_offset_, n);
  }
  size_t want =
      static_cast<size_t>(std::min<uint64_t>(std::max(n, kReadAheadBytes), file_size_ - offset));
  window_.resize(want);
  auto got = file_->Read(offset, want, window_.data());
  if (!got.ok()) {
    window_.clear();
    return got.status();
  }
  window_.resize(*got);  // shorter only if the file shrank under us
  window_offset_ = offset;
  return std::string_view(window_).substr(0, std::min(n, window_.size()));
}

Result<DecodedRecord> SegmentReader::ReadRecord(uint64_t offset) {
  auto head = Peek(offset, kRecordHeaderSize);
  if (!head.ok()) return head.status();
  size_t need = kRecordHeaderSize;
  if (head->size() == kRecordHeaderSize) {
    uint32_t length = DecodeFixed32(head->data() + kRecordLengthOffset);
    if (length <= kMaxRecordPayloadSize) need = RecordSize(length);
  }
  auto bytes = Peek(offset, need);
  if (!bytes.ok()) return bytes.status();
  return DecodeRecord(header_.segment_id, *bytes);
}

Result<std::optional<DecodedRecord>> SegmentReader::ReadRecordInParts(uint64_t offset) {
  auto head = Peek(offset, kRecordHeaderSize);
  if (!head.ok()) return head.status();
  if (head->size() < kRecordHeaderSize) return std::optional<DecodedRecord>();
  char h[kRecordHeaderSize];
  memcpy(h, head->data(), sizeof(h));
  DecodedRecord r;
  r.payload_length = DecodeFixed32(h + kRecordLengthOffset);
  r.type = static_cast<RecordType>(static_cast<uint8_t>(h[kRecordTypeOffset]));
  r.sequence = DecodeFixed64(h + kRecordSequenceOffset);
  // Anything unusual (a bad header, a record past the end) goes the usual way, which names it.
  if (r.payload_length < partial_min_ || r.payload_length > kMaxRecordPayloadSize ||
      !IsValidRecordType(static_cast<uint8_t>(h[kRecordTypeOffset])) ||
      offset + RecordSize(r.payload_length) > file_size_) {
    return std::optional<DecodedRecord>();
  }
  char id[8];
  EncodeFixed64(id, header_.segment_id);
  uint32_t crc = crc32c::Extend(0, id, sizeof(id));
  crc = crc32c::Extend(crc, h + kRecordChecksummedOffset,
                       kRecordHeaderSize - kRecordChecksummedOffset);
  std::string part;
  for (uint64_t at = 0; at < r.payload_length;) {
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(kReadAheadBytes, r.payload_length - at));
    part.resize(n);
    auto got = file_->Read(offset + kRecordHeaderSize + at, n, part.data());
    if (!got.ok()) return got.status();
    if (*got != n) break;  // the file shrank: the checksum below fails
    crc = crc32c::Extend(crc, part.data(), n);
    at += n;
  }
  if (crc32c::Mask(crc) != DecodeFixed32(h + kRecordCrcOffset)) {
    r.check = RecordCheck::kBadChecksum;
    r.reason = "record checksum mismatch";
    return std::optional<DecodedRecord>(std::move(r));
  }
  auto prefix =
      Peek(offset + kRecordHeaderSize, std::min<size_t>(r.payload_length, kPartialPayloadBytes));
  if (!prefix.ok()) return prefix.status();
  r.check = RecordCheck::kOk;
  r.payload = *prefix;
  return std::optional<DecodedRecord>(std::move(r));
}

Result<std::optional<LogRecord>> SegmentReader::Next() {
  if (done_) return std::optional<LogRecord>();
  const uint64_t offset = pos_;
  if (offset == file_size_) {
    done_ = true;  // clean end of segment
    return std::optional<LogRecord>();
  }
  bool complete = true;
  Result<DecodedRecord> rec = DecodedRecord();
  if (partial_min_ > 0) {
    auto parts = ReadRecordInParts(offset);
    if (!parts.ok()) return parts.status();
    if (parts->has_value()) {
      rec = std::move(**parts);
      complete = false;
    }
  }
  if (complete) rec = ReadRecord(offset);
  if (!rec.ok()) return rec.status();
  if (rec->check != RecordCheck::kOk) return BadRecord(offset, rec->reason);

  // An intact record out of order is not a torn write: the checksum says these bytes are what
  // some writer wrote. It means files were mixed up or a writer misbehaved, so it is Corruption
  // everywhere, including the tail.
  if (rec->sequence <= last_sequence_ || rec->sequence < header_.base_sequence) {
    done_ = true;
    return CorruptionAt(offset, "record sequence " + std::to_string(rec->sequence) +
                                    " is not after " + std::to_string(last_sequence_));
  }
  LogRecord out;
  out.type = rec->type;
  out.sequence = rec->sequence;
  out.payload = rec->payload;
  out.complete = complete;
  out.location = {header_.segment_id, offset,
                  static_cast<uint32_t>(RecordSize(rec->payload_length))};
  last_sequence_ = rec->sequence;
  pos_ = offset + out.location.length;
  return std::optional<LogRecord>(out);
}

// Recovery policy for damaged bytes at `offset` (see log_reader.h).
Result<std::optional<LogRecord>> SegmentReader::BadRecord(uint64_t offset,
                                                          const std::string& reason) {
  done_ = true;
  // Not the last segment: a segment is fsynced completely before the next one is started, so
  // no crash can tear it. Damage here is Corruption.
  if (!is_last_) return CorruptionAt(offset, reason);

  // Last segment. A crash during a write leaves a partial or garbled final record and nothing
  // intact after it. If an intact record (valid checksum, later sequence) follows, the damage
  // is in the middle of the log and dropping it would silently lose acknowledged records:
  // Corruption. The search only runs on this error path and is cheap for non-records (most
  // offsets fail the type, length or sequence test before any checksum is computed).
  auto next = FindIntactRecordAfter(offset);
  if (!next.ok()) return next.status();
  if (next->has_value()) {
    return CorruptionAt(offset, reason + "; an intact record follows at offset " +
                                    std::to_string(**next) + ", so this is not a torn tail");
  }
  torn_ = TornTail{header_.segment_id, path_, offset, file_size_ - offset, reason};
  return std::optional<LogRecord>();
}

Result<std::optional<SegmentReader::IntactRecord>> SegmentReader::IntactRecordAt(uint64_t o,
                                                                                 uint64_t after) {
  auto head = Peek(o, kRecordHeaderSize);
  if (!head.ok()) return head.status();
  if (head->size() < kRecordHeaderSize) return std::optional<IntactRecord>();
  const char* p = head->data();
  uint32_t length = DecodeFixed32(p + kRecordLengthOffset);
  if (!IsValidRecordType(static_cast<uint8_t>(p[kRecordTypeOffset])) ||
      length > kMaxRecordPayloadSize || o + RecordSize(length) > file_size_ ||
      DecodeFixed64(p + kRecordSequenceOffset) <= after) {
    return std::optional<IntactRecord>();
  }
  auto rec = ReadRecord(o);
  if (!rec.ok()) return rec.status();
  if (rec->check != RecordCheck::kOk) return std::optional<IntactRecord>();
  return std::optional<IntactRecord>(IntactRecord{rec->sequence, RecordSize(rec->payload_length)});
}

Result<std::optional<uint64_t>> SegmentReader::FindIntactRecordAfter(uint64_t offset) {
  for (uint64_t o = offset + 1; o + kRecordHeaderSize <= file_size_; ++o) {
    auto rec = IntactRecordAt(o, last_sequence_);
    if (!rec.ok()) return rec.status();
    if (rec->has_value()) return std::optional<uint64_t>(o);
  }
  return std::optional<uint64_t>();
}

Result<uint64_t> SegmentReader::CountIntactRecordsAfter(uint64_t offset) {
  // The same search as FindIntactRecordAfter, carried on to the end of the file: after each
  // intact record the next one is looked for right behind it, then byte by byte again.
  uint64_t count = 0;
  uint64_t after = last_sequence_;
  uint64_t o = offset + 1;
  while (o + kRecordHeaderSize <= file_size_) {
    auto rec = IntactRecordAt(o, after);
    if (!rec.ok()) return rec.status();
    if (!rec->has_value()) {
      ++o;
      continue;
    }
    ++count;
    after = (*rec)->sequence;
    o += (*rec)->size;
  }
  return count;
}

Status RepairTornTail(Env* env, const TornTail& torn) {
  if (!torn.header_incomplete) return env->TruncateFile(torn.path, torn.offset);
  // NewWritableFile truncates; the directory entry exists already, so fsyncing the file is
  // enough for the new header to be there after a crash.
  auto file = env->NewWritableFile(torn.path);
  if (!file.ok()) return file.status();
  std::string header;
  EncodeSegmentHeader({kFormatVersion, torn.segment_id, torn.base_sequence}, &header);
  Status s = (*file)->Append(header);
  if (s.ok()) s = (*file)->Sync();
  Status c = (*file)->Close();
  return s.ok() ? c : s;
}

Result<ReplayResult> ReplayLog(Env* env, const std::string& dir, std::vector<uint64_t> segment_ids,
                               const RecordCallback& fn, ReplayOptions options) {
  std::sort(segment_ids.begin(), segment_ids.end());
  if (std::adjacent_find(segment_ids.begin(), segment_ids.end()) != segment_ids.end()) {
    return Status::InvalidArgument("duplicate segment id");
  }
  ReplayResult result;
  for (size_t i = 0; i < segment_ids.size(); ++i) {
    const bool is_last = i + 1 == segment_ids.size();
    const std::string path = SegmentPath(dir, segment_ids[i]);
    auto reader = SegmentReader::Open(env, path, segment_ids[i], result.last_sequence, is_last);
    if (!reader.ok()) return reader.status();
    while (true) {
      auto rec = (*reader)->Next();
      if (!rec.ok()) return rec.status();
      if (!rec->has_value()) break;
      Status s = fn(**rec);
      if (!s.ok()) return s;
      ++result.records;
      result.last_sequence = (*rec)->sequence;
    }
    result.last_segment_id = segment_ids[i];
    if ((*reader)->torn_tail()) {
      result.torn_tail = (*reader)->torn_tail();
      if (options.truncate_torn_tail) {
        // Cut (and fsync) before anyone appends after this log: otherwise the torn bytes would
        // end up in the middle of the log, where they are Corruption. An incomplete header is
        // written whole again, for the same reason.
        Status s = RepairTornTail(env, *result.torn_tail);
        if (!s.ok()) return s;
        result.torn_tail_truncated = true;
      }
    }
  }
  return result;
}

LogRandomReader::LogRandomReader(Env* env, std::string dir, size_t max_open_files)
    : env_(env), dir_(std::move(dir)), max_open_files_(std::max<size_t>(1, max_open_files)) {}

Result<std::shared_ptr<RandomAccessFile>> LogRandomReader::GetFile(uint64_t segment_id) {
  {
    MutexLock lock(mu_);
    auto it = files_.find(segment_id);
    if (it != files_.end()) return it->second;
  }
  // Open outside the lock; if two threads race, one file object wins and the other is closed.
  auto file = env_->NewRandomAccessFile(SegmentPath(dir_, segment_id));
  if (!file.ok()) return file.status();
  std::shared_ptr<RandomAccessFile> shared = std::move(*file);
  MutexLock lock(mu_);
  if (files_.size() >= max_open_files_ && !files_.count(segment_id)) {
    files_.erase(files_.begin());  // oldest id: the least likely to hold hot values
  }
  auto [it, inserted] = files_.emplace(segment_id, shared);
  return it->second;
}

Result<size_t> LogRandomReader::ReadRaw(uint64_t segment_id, uint64_t offset, size_t n, char* buf) {
  auto file = GetFile(segment_id);
  if (!file.ok()) return file.status();
  return (*file)->Read(offset, n, buf);
}

void LogRandomReader::Forget(uint64_t segment_id) {
  MutexLock lock(mu_);
  files_.erase(segment_id);
}

Result<StoredRecord> LogRandomReader::ReadAt(const RecordLocation& loc) {
  const std::string path = SegmentPath(dir_, loc.segment_id);
  auto corruption = [&](const std::string& why) {
    return Status::Corruption(path + ": offset " + std::to_string(loc.offset) + ": " + why);
  };
  if (loc.length < kRecordHeaderSize || loc.length > kMaxRecordSize ||
      loc.offset < kSegmentHeaderSize) {
    return Status::InvalidArgument("invalid record location in " + path);
  }
  auto file = GetFile(loc.segment_id);
  if (!file.ok()) return file.status();
  std::string buf(loc.length, '\0');
  auto got = (*file)->Read(loc.offset, loc.length, buf.data());
  if (!got.ok()) return got.status();
  if (*got != loc.length) return corruption("record truncated (file too short)");
  DecodedRecord rec = DecodeRecord(loc.segment_id, buf);
  if (rec.check != RecordCheck::kOk) return corruption(rec.reason);
  if (RecordSize(rec.payload_length) != loc.length) {
    return corruption("record length differs from its location");
  }
  StoredRecord out;
  out.type = rec.type;
  out.sequence = rec.sequence;
  buf.erase(0, kRecordHeaderSize);
  out.payload = std::move(buf);
  return out;
}

Result<StoredRecord> LogRandomReader::ReadAtOffset(uint64_t segment_id, uint64_t offset) {
  auto file = GetFile(segment_id);
  if (!file.ok()) return file.status();
  char header[kRecordHeaderSize];
  auto got = (*file)->Read(offset, kRecordHeaderSize, header);
  if (!got.ok()) return got.status();
  if (*got != kRecordHeaderSize) {
    return Status::Corruption(SegmentPath(dir_, segment_id) + ": offset " + std::to_string(offset) +
                              ": record header truncated");
  }
  uint64_t length = RecordSize(DecodeFixed32(header + kRecordLengthOffset));
  if (length > kMaxRecordSize) {
    return Status::Corruption(SegmentPath(dir_, segment_id) + ": offset " + std::to_string(offset) +
                              ": record length out of range");
  }
  return ReadAt(RecordLocation{segment_id, offset, static_cast<uint32_t>(length)});
}

}  // namespace fdb::storage
