// The on-disk format of FDB's log: one constants header shared by the writer (log_writer.cc),
// the readers (log_reader.cc) and fdb-check, so they cannot disagree. docs/format.md states the
// same format as a grammar; keep the two in step.
//
//   segment      := segment_header record*
//   segment_header (40 bytes) :=
//       magic[8] version:u32 flags:u32 segment_id:u64 base_sequence:u64 reserved:u32 hcrc:u32
//   record       := crc:u32 length:u32 type:u8 sequence:u64 payload[length]
//
// All integers are little-endian. hcrc = mask(crc32c(header bytes [0, 36))).
// crc = mask(crc32c(segment_id:u64 || record bytes [4, 17 + length))): it covers length, type,
// sequence and payload, and binds the record to its segment, so a record copied or read from
// the wrong file (a stale location, a recycled file) fails its check.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fdb::storage {

// ---- Segment header -------------------------------------------------------------------------

// 0x89 catches 7-bit transfers, '\n' catches line-ending conversion, "FDBSEG" names the file.
inline constexpr char kSegmentMagic[8] = {'\x89', 'F', 'D', 'B', 'S', 'E', 'G', '\n'};
inline constexpr uint32_t kFormatVersion = 1;

inline constexpr size_t kHeaderMagicOffset = 0;
inline constexpr size_t kHeaderVersionOffset = 8;
inline constexpr size_t kHeaderFlagsOffset = 12;  // no flags defined yet; must be zero
inline constexpr size_t kHeaderSegmentIdOffset = 16;
// Sequence of the first record this segment holds (or would hold, if empty).
inline constexpr size_t kHeaderBaseSequenceOffset = 24;
inline constexpr size_t kHeaderReservedOffset = 32;  // zero; keeps the header 8-byte aligned
inline constexpr size_t kHeaderCrcOffset = 36;
inline constexpr size_t kSegmentHeaderSize = 40;

static_assert(sizeof(kSegmentMagic) == kHeaderVersionOffset - kHeaderMagicOffset);
static_assert(kHeaderCrcOffset + 4 == kSegmentHeaderSize);
static_assert(kSegmentHeaderSize % 8 == 0, "records start 8-byte aligned in a fresh segment");

// ---- Record header --------------------------------------------------------------------------

inline constexpr size_t kRecordCrcOffset = 0;
inline constexpr size_t kRecordLengthOffset = 4;  // payload bytes, header excluded
inline constexpr size_t kRecordTypeOffset = 8;
inline constexpr size_t kRecordSequenceOffset = 9;
inline constexpr size_t kRecordHeaderSize = 17;
// The checksum covers the record from here on (plus the segment id, prepended).
inline constexpr size_t kRecordChecksummedOffset = kRecordLengthOffset;

static_assert(kRecordSequenceOffset + 8 == kRecordHeaderSize);
static_assert(kRecordCrcOffset + 4 == kRecordChecksummedOffset);

// What a record means. Records carry effects, not commands (see DESIGN.md): replaying them is
// deterministic. Payload layouts belong to the engine; the log only frames them.
enum class RecordType : uint8_t {
  // Never written. All-zero bytes (a preallocated or zero-filled tail) therefore never parse
  // as a record.
  kInvalid = 0,
  kPut = 1,      // full image of one key's value (and its expiry)
  kDelete = 2,   // key removed
  kExpire = 3,   // absolute deadline in ms (or none) for one key
  kBatch = 4,    // atomic group of sub-records, applied all or nothing
  kFlushDb = 5,  // one database (or all) emptied
  kSwapDb = 6,   // two databases exchanged
  // A replica's position in its master's stream (replication ID and offset) once the changes
  // logged with it are applied: the item of a batch that also holds a frame's effects, or a
  // record of its own at the end of a full sync. Changes nothing in the data set.
  kReplState = 7,
  // 8..15: reserved for further whole-key and database operations.
  kDelta = 16,  // an in-place change of a collection (its type's delta encoding)
  // 17..63: reserved for collection deltas (e.g. HSET of one field) so that a small change to a
  // big collection need not log the whole value.
};
inline constexpr uint8_t kMinRecordType = 1;
inline constexpr uint8_t kMaxRecordType = 63;
inline constexpr uint8_t kFirstCollectionDeltaType = 16;

// A reader accepts any type in [kMinRecordType, kMaxRecordType]: it checks framing, and the
// engine decides what a type means. A type outside the range is a bad header.
inline constexpr bool IsValidRecordType(uint8_t type) {
  return type >= kMinRecordType && type <= kMaxRecordType;
}

// ---- Sizes ----------------------------------------------------------------------------------

// Largest payload: a 512 MB key plus a 512 MB value (Redis's limit for each) with framing
// would exceed this; 1 GiB is a generous bound for one effect and still leaves the length
// field a sanity check (a corrupted length above it is a bad header, not a 4 GB allocation).
inline constexpr uint32_t kMaxRecordPayloadSize = 1u << 30;
inline constexpr uint64_t kMaxRecordSize = kRecordHeaderSize + uint64_t{kMaxRecordPayloadSize};

// Segments are rotated once the next record would take them past this target, unless the
// segment holds no record yet (so one record larger than the target still fits). 64 MiB keeps
// the number of files small while compaction can still rewrite one segment in well under a
// second.
inline constexpr uint64_t kSegmentTargetSize = 64ull << 20;
// Hard bound a reader enforces: no segment can legitimately be larger than this.
inline constexpr uint64_t kMaxSegmentSize = kSegmentTargetSize + kMaxRecordSize;

static_assert(kMaxRecordPayloadSize <= UINT32_MAX, "length is a u32");
static_assert(kSegmentTargetSize > kSegmentHeaderSize + kRecordHeaderSize);
static_assert(kMaxSegmentSize > kSegmentHeaderSize + kMaxRecordSize - 1);

// ---- File names -----------------------------------------------------------------------------

// Segment NNNNNNNN.fdb: the id in at least 8 decimal digits (more once ids pass 99,999,999),
// so names sort like ids for the first hundred million segments.
inline constexpr int kSegmentIdDigits = 8;
inline constexpr char kSegmentSuffix[] = ".fdb";
inline constexpr char kManifestFileName[] = "MANIFEST";
inline constexpr char kManifestTempFileName[] = "MANIFEST.tmp";
inline constexpr char kLockFileName[] = "LOCK";

}  // namespace fdb::storage
