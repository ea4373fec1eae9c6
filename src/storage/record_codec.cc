#include "storage/record_codec.h"

#include <cstring>

#include "base/check.h"
#include "base/coding.h"
#include "storage/crc32c.h"

namespace fdb::storage {
namespace {

uint32_t RecordCrc(uint64_t segment_id, const char* checksummed, size_t n) {
  char id[8];
  EncodeFixed64(id, segment_id);
  uint32_t crc = crc32c::Extend(0, id, sizeof(id));
  return crc32c::Mask(crc32c::Extend(crc, checksummed, n));
}

}  // namespace

void EncodeSegmentHeader(const SegmentHeader& header, std::string* dst) {
  char buf[kSegmentHeaderSize] = {};
  std::memcpy(buf + kHeaderMagicOffset, kSegmentMagic, sizeof(kSegmentMagic));
  EncodeFixed32(buf + kHeaderVersionOffset, header.version);
  EncodeFixed32(buf + kHeaderFlagsOffset, 0);
  EncodeFixed64(buf + kHeaderSegmentIdOffset, header.segment_id);
  EncodeFixed64(buf + kHeaderBaseSequenceOffset, header.base_sequence);
  EncodeFixed32(buf + kHeaderReservedOffset, 0);
  EncodeFixed32(buf + kHeaderCrcOffset, crc32c::Mask(crc32c::Value(buf, kHeaderCrcOffset)));
  dst->append(buf, sizeof(buf));
}

Result<SegmentHeader> DecodeSegmentHeader(std::string_view bytes) {
  if (bytes.size() < kSegmentHeaderSize) {
    return Status::Corruption("segment header truncated: " + std::to_string(bytes.size()) + " of " +
                              std::to_string(kSegmentHeaderSize) + " bytes");
  }
  const char* p = bytes.data();
  if (std::memcmp(p + kHeaderMagicOffset, kSegmentMagic, sizeof(kSegmentMagic)) != 0) {
    return Status::Corruption("bad segment magic (not an FDB segment)");
  }
  uint32_t stored = crc32c::Unmask(DecodeFixed32(p + kHeaderCrcOffset));
  if (stored != crc32c::Value(p, kHeaderCrcOffset)) {
    return Status::Corruption("segment header checksum mismatch");
  }
  SegmentHeader h;
  h.version = DecodeFixed32(p + kHeaderVersionOffset);
  if (h.version != kFormatVersion) {
    return Status::Corruption("unsupported segment format version " + std::to_string(h.version) +
                              " (this build reads " + std::to_string(kFormatVersion) + ")");
  }
  if (DecodeFixed32(p + kHeaderFlagsOffset) != 0 || DecodeFixed32(p + kHeaderReservedOffset) != 0) {
    return Status::Corruption("segment header has unknown flags");
  }
  h.segment_id = DecodeFixed64(p + kHeaderSegmentIdOffset);
  h.base_sequence = DecodeFixed64(p + kHeaderBaseSequenceOffset);
  return h;
}

void EncodeRecord(uint64_t segment_id, RecordType type, uint64_t sequence, std::string_view payload,
                  std::string* dst) {
  FDB_CHECK(IsValidRecordType(static_cast<uint8_t>(type)));
  FDB_CHECK(payload.size() <= kMaxRecordPayloadSize);
  size_t start = dst->size();
  dst->resize(start + kRecordHeaderSize);
  char* h = dst->data() + start;
  EncodeFixed32(h + kRecordLengthOffset, static_cast<uint32_t>(payload.size()));
  h[kRecordTypeOffset] = static_cast<char>(type);
  EncodeFixed64(h + kRecordSequenceOffset, sequence);
  dst->append(payload);
  h = dst->data() + start;  // append may have reallocated
  EncodeFixed32(h + kRecordCrcOffset,
                RecordCrc(segment_id, h + kRecordChecksummedOffset,
                          kRecordHeaderSize - kRecordChecksummedOffset + payload.size()));
}

void EncodeRecordHeader(uint64_t segment_id, RecordType type, uint64_t sequence, size_t length,
                        uint32_t payload_crc, std::string* dst) {
  FDB_CHECK(IsValidRecordType(static_cast<uint8_t>(type)));
  FDB_CHECK(length <= kMaxRecordPayloadSize);
  char h[kRecordHeaderSize];
  EncodeFixed32(h + kRecordLengthOffset, static_cast<uint32_t>(length));
  h[kRecordTypeOffset] = static_cast<char>(type);
  EncodeFixed64(h + kRecordSequenceOffset, sequence);
  char id[8];
  EncodeFixed64(id, segment_id);
  uint32_t crc = crc32c::Extend(0, id, sizeof(id));
  crc = crc32c::Extend(crc, h + kRecordChecksummedOffset,
                       kRecordHeaderSize - kRecordChecksummedOffset);
  crc = crc32c::Combine(crc, payload_crc, length);
  EncodeFixed32(h + kRecordCrcOffset, crc32c::Mask(crc));
  dst->append(h, sizeof(h));
}

void EncodeRecord(uint64_t segment_id, RecordType type, uint64_t sequence, const Payload& payload,
                  Payload* dst, const std::vector<uint32_t>* block_crcs) {
  FDB_CHECK(IsValidRecordType(static_cast<uint8_t>(type)));
  const size_t length = payload.size();
  FDB_CHECK(length <= kMaxRecordPayloadSize);
  char h[kRecordHeaderSize];
  EncodeFixed32(h + kRecordLengthOffset, static_cast<uint32_t>(length));
  h[kRecordTypeOffset] = static_cast<char>(type);
  EncodeFixed64(h + kRecordSequenceOffset, sequence);
  char id[8];
  EncodeFixed64(id, segment_id);
  uint32_t crc = crc32c::Extend(0, id, sizeof(id));
  crc = crc32c::Extend(crc, h + kRecordChecksummedOffset,
                       kRecordHeaderSize - kRecordChecksummedOffset);
  if (block_crcs == nullptr) {
    payload.ForEachPiece([&](std::string_view piece) {
      crc = crc32c::Extend(crc, piece.data(), piece.size());
      return true;
    });
  } else {
    FDB_CHECK(block_crcs->size() == payload.splices.size());
    std::string_view bytes = payload.bytes;
    size_t pos = 0;
    for (size_t i = 0; i < payload.splices.size(); i++) {
      const Payload::Splice& s = payload.splices[i];
      crc = crc32c::Extend(crc, bytes.data() + pos, s.at - pos);
      crc = crc32c::Combine(crc, (*block_crcs)[i], s.block->size());
      pos = s.at;
    }
    crc = crc32c::Extend(crc, bytes.data() + pos, bytes.size() - pos);
  }
  EncodeFixed32(h + kRecordCrcOffset, crc32c::Mask(crc));
  dst->bytes.append(h, sizeof(h));
  dst->Append(payload);
}

DecodedRecord DecodeRecord(uint64_t segment_id, std::string_view bytes) {
  DecodedRecord r;
  if (bytes.size() < kRecordHeaderSize) {
    r.check = RecordCheck::kTruncated;
    r.reason = "record header truncated (" + std::to_string(bytes.size()) + " of " +
               std::to_string(kRecordHeaderSize) + " bytes)";
    return r;
  }
  const char* p = bytes.data();
  r.payload_length = DecodeFixed32(p + kRecordLengthOffset);
  auto type = static_cast<uint8_t>(p[kRecordTypeOffset]);
  r.type = static_cast<RecordType>(type);
  r.sequence = DecodeFixed64(p + kRecordSequenceOffset);
  if (!IsValidRecordType(type)) {
    r.check = RecordCheck::kBadHeader;
    r.reason = "invalid record type " + std::to_string(type);
    return r;
  }
  if (r.payload_length > kMaxRecordPayloadSize) {
    r.check = RecordCheck::kBadHeader;
    r.reason = "record length " + std::to_string(r.payload_length) + " exceeds the maximum";
    return r;
  }
  uint64_t size = RecordSize(r.payload_length);
  if (bytes.size() < size) {
    r.check = RecordCheck::kTruncated;
    r.reason = "record truncated (" + std::to_string(bytes.size()) + " of " + std::to_string(size) +
               " bytes)";
    return r;
  }
  uint32_t stored = DecodeFixed32(p + kRecordCrcOffset);
  uint32_t actual =
      RecordCrc(segment_id, p + kRecordChecksummedOffset, size - kRecordChecksummedOffset);
  if (stored != actual) {
    r.check = RecordCheck::kBadChecksum;
    r.reason = "record checksum mismatch";
    return r;
  }
  r.check = RecordCheck::kOk;
  r.payload = bytes.substr(kRecordHeaderSize, r.payload_length);
  return r;
}

}  // namespace fdb::storage
