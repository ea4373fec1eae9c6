// Encoding and checking of segment headers and records (layout in format.h). The writer, the
// sequential reader, the random reader and fdb-check all use these functions, so a record is
// judged the same way everywhere.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/format.h"
#include "storage/payload.h"

namespace fdb::storage {

// Where a record lives: enough to read it back with one pread (LogRandomReader::ReadAt).
struct RecordLocation {
  uint64_t segment_id = 0;
  uint64_t offset = 0;  // of the record header within the segment file
  uint32_t length = 0;  // whole record: header plus payload
  bool operator==(const RecordLocation&) const = default;
};

struct SegmentHeader {
  uint32_t version = kFormatVersion;
  uint64_t segment_id = 0;
  uint64_t base_sequence = 0;  // sequence of the segment's first record
};

// Appends the kSegmentHeaderSize bytes of `header` to dst.
void EncodeSegmentHeader(const SegmentHeader& header, std::string* dst);
// Parses and checks a header: magic, version, zero flags/reserved, checksum.
// Returns Corruption with the reason (without a file name; the caller adds it).
Result<SegmentHeader> DecodeSegmentHeader(std::string_view bytes);

// Appends one record (header and payload) to dst.
// REQUIRES: IsValidRecordType(type), payload.size() <= kMaxRecordPayloadSize.
void EncodeRecord(uint64_t segment_id, RecordType type, uint64_t sequence, std::string_view payload,
                  std::string* dst);

// The same for a payload in pieces, appended to a Payload: the header and the payload's bytes
// are copied, its blocks shared, and the checksum covers every piece in order.
// REQUIRES: as above, with payload.size() for the payload's length.
// `block_crcs`, if given, holds crc32c::Value of each spliced block's bytes, computed beforehand
// (the log computes them outside its lock): the blocks are then not read at all.
void EncodeRecord(uint64_t segment_id, RecordType type, uint64_t sequence, const Payload& payload,
                  Payload* dst, const std::vector<uint32_t>* block_crcs = nullptr);

// Appends only the header of a record whose payload of `length` bytes has checksum
// `payload_crc` (crc32c::Value of the payload): the payload itself is written after it by the
// caller, in parts (LogWriter::AppendStreamed). The record is the same as EncodeRecord's.
// REQUIRES: as above.
void EncodeRecordHeader(uint64_t segment_id, RecordType type, uint64_t sequence, size_t length,
                        uint32_t payload_crc, std::string* dst);

inline uint64_t RecordSize(size_t payload_size) { return kRecordHeaderSize + payload_size; }

// The outcome of checking the bytes at one offset of a segment.
enum class RecordCheck {
  kOk,
  kTruncated,    // the header or the payload it announces runs past the available bytes
  kBadHeader,    // invalid type or a length above kMaxRecordPayloadSize
  kBadChecksum,  // complete, but the checksum does not match
};

struct DecodedRecord {
  RecordCheck check = RecordCheck::kBadHeader;
  RecordType type = RecordType::kInvalid;
  uint64_t sequence = 0;
  uint32_t payload_length = 0;  // valid from kTruncated on, if the header was complete
  std::string_view payload;     // points into the input; valid only when check == kOk
  std::string reason;           // human-readable, for kBadHeader / kBadChecksum / kTruncated
};

// Checks the record that starts at bytes[0], using at most bytes.size() bytes.
DecodedRecord DecodeRecord(uint64_t segment_id, std::string_view bytes);

}  // namespace fdb::storage
