#include "storage/log_reader.h"

#include <gtest/gtest.h>

#include "storage/file_names.h"
#include "storage/log_writer.h"
#include "storage/record_codec.h"
#include "storage/storage_test_util.h"

namespace fdb::storage {
namespace {

using testing::ReadAll;
using testing::TempDir;
using testing::WriteAll;

struct Log {
  std::vector<uint64_t> segments;
  std::vector<AppendResult> records;
  std::vector<std::string> payloads;
};

// Writes n records through a real LogWriter into `dir`.
Log WriteLog(const std::string& dir, int n, uint64_t segment_target_size = kSegmentTargetSize) {
  Log log;
  LogWriterOptions o;
  o.dir = dir;
  o.segment_target_size = segment_target_size;
  o.on_segment_created = [&](uint64_t id) {
    log.segments.push_back(id);
    return Status::OK();
  };
  auto w = LogWriter::Open(o);
  EXPECT_TRUE(w.ok());
  for (int i = 0; i < n; ++i) {
    std::string payload = "payload-" + std::to_string(i) + std::string(i % 13, 'x');
    auto r = (*w)->Append(RecordType::kPut, payload);
    EXPECT_TRUE(r.ok());
    log.records.push_back(*r);
    log.payloads.push_back(payload);
  }
  EXPECT_TRUE((*w)->Close().ok());
  return log;
}

// Forgets the last segment (it may hold a single record), so the log ends with a full one.
void DropLastSegment(Log* log) {
  log->segments.pop_back();
  while (!log->records.empty() && log->records.back().location.segment_id > log->segments.back()) {
    log->records.pop_back();
    log->payloads.pop_back();
  }
}

Result<ReplayResult> Replay(const std::string& dir, const std::vector<uint64_t>& segments,
                            std::vector<std::string>* payloads, bool truncate = true) {
  payloads->clear();
  return ReplayLog(
      Env::Default(), dir, segments,
      [&](const LogRecord& r) {
        payloads->emplace_back(r.payload);
        return Status::OK();
      },
      ReplayOptions{.truncate_torn_tail = truncate});
}

uint64_t End(const RecordLocation& loc) { return loc.offset + loc.length; }

TEST(SegmentTest, FileNames) {
  EXPECT_EQ(SegmentFileName(42), "00000042.fdb");
  EXPECT_EQ(SegmentFileName(123456789), "123456789.fdb");
  EXPECT_EQ(ParseSegmentFileName("00000042.fdb"), 42u);
  EXPECT_EQ(ParseSegmentFileName("123456789.fdb"), 123456789u);
  EXPECT_FALSE(ParseSegmentFileName("0000042.fdb"));
  EXPECT_FALSE(ParseSegmentFileName("000000042.fdb"));  // not canonical
  EXPECT_FALSE(ParseSegmentFileName("0000004x.fdb"));
  EXPECT_FALSE(ParseSegmentFileName("00000042.fdbx"));
  EXPECT_FALSE(ParseSegmentFileName("MANIFEST"));
  EXPECT_EQ(JoinPath("/a/", "b"), "/a/b");
  EXPECT_EQ(JoinPath("/a", "b"), "/a/b");
}

TEST(SegmentTest, HeaderRoundTripAndChecks) {
  std::string h;
  EncodeSegmentHeader({kFormatVersion, 7, 99}, &h);
  ASSERT_EQ(h.size(), kSegmentHeaderSize);
  auto d = DecodeSegmentHeader(h);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->segment_id, 7u);
  EXPECT_EQ(d->base_sequence, 99u);
  for (size_t i = 0; i < h.size(); ++i) {
    std::string bad = h;
    bad[i] ^= 0x01;
    EXPECT_EQ(DecodeSegmentHeader(bad).status().code(), Status::kCorruption) << i;
  }
  EXPECT_FALSE(DecodeSegmentHeader(h.substr(0, 39)).ok());
}

TEST(SegmentTest, RecordCodecDetectsEveryFlippedBit) {
  std::string rec;
  EncodeRecord(3, RecordType::kExpire, 12345, "some payload", &rec);
  DecodedRecord d = DecodeRecord(3, rec);
  ASSERT_EQ(d.check, RecordCheck::kOk);
  EXPECT_EQ(d.payload, "some payload");
  EXPECT_EQ(d.sequence, 12345u);
  EXPECT_EQ(d.type, RecordType::kExpire);
  // The checksum binds the record to its segment.
  EXPECT_EQ(DecodeRecord(4, rec).check, RecordCheck::kBadChecksum);
  for (size_t i = 0; i < rec.size() * 8; ++i) {
    std::string bad = rec;
    bad[i / 8] ^= static_cast<char>(1 << (i % 8));
    EXPECT_NE(DecodeRecord(3, bad).check, RecordCheck::kOk) << "bit " << i;
  }
  for (size_t n = 0; n < rec.size(); ++n) {
    EXPECT_EQ(DecodeRecord(3, std::string_view(rec).substr(0, n)).check, RecordCheck::kTruncated);
  }
}

// The central recovery property: a crash may cut the last segment at any byte; recovery must
// yield exactly the records that were complete, report the cut, and leave a clean log.
TEST(LogReaderTest, CutAtEveryOffsetRecoversTheIntactPrefix) {
  TempDir src;
  Log log = WriteLog(src.path(), 150, /*segment_target_size=*/1024);
  ASSERT_GE(log.segments.size(), 4u);
  DropLastSegment(&log);
  const uint64_t last = log.segments.back();
  const std::string original = ReadAll(SegmentPath(src.path(), last));
  // Records in the last segment, and the records before it.
  size_t first_in_last = 0;
  while (log.records[first_in_last].location.segment_id != last) ++first_in_last;

  TempDir dir;
  for (uint64_t id : log.segments) {
    WriteAll(SegmentPath(dir.path(), id), ReadAll(SegmentPath(src.path(), id)));
  }
  const std::string path = SegmentPath(dir.path(), last);
  for (uint64_t cut = kSegmentHeaderSize; cut <= original.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    WriteAll(path, original.substr(0, cut));
    size_t intact = first_in_last;
    while (intact < log.records.size() && End(log.records[intact].location) <= cut) ++intact;
    const uint64_t valid_end =
        intact == first_in_last ? kSegmentHeaderSize : End(log.records[intact - 1].location);

    // Truncation fsyncs, which is slow on a real disk: exercise it on every 25th cut, and check
    // the report alone on the others.
    const bool truncate = cut % 25 == 0;
    std::vector<std::string> payloads;
    auto r = Replay(dir.path(), log.segments, &payloads, truncate);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(payloads.size(), intact);
    for (size_t i = 0; i < intact; ++i) ASSERT_EQ(payloads[i], log.payloads[i]);
    EXPECT_EQ(r->last_sequence, intact == 0 ? 0 : log.records[intact - 1].sequence);
    if (cut == valid_end) {
      EXPECT_FALSE(r->torn_tail.has_value());
    } else {
      ASSERT_TRUE(r->torn_tail.has_value());
      EXPECT_EQ(r->torn_tail->offset, valid_end);
      EXPECT_EQ(r->torn_tail->bytes_dropped, cut - valid_end);
      EXPECT_EQ(r->torn_tail->path, path);
      EXPECT_EQ(r->torn_tail_truncated, truncate);
      if (!truncate) continue;
      // The tail was cut off: a second recovery is clean and finds the same records.
      EXPECT_EQ(ReadAll(path).size(), valid_end);
      auto again = Replay(dir.path(), log.segments, &payloads);
      ASSERT_TRUE(again.ok());
      EXPECT_FALSE(again->torn_tail.has_value());
      EXPECT_EQ(payloads.size(), intact);
    }
  }
}

TEST(LogReaderTest, TornTailIsNotTruncatedUnlessAsked) {
  TempDir dir;
  Log log = WriteLog(dir.path(), 10);
  const std::string path = SegmentPath(dir.path(), log.segments.back());
  std::string bytes = ReadAll(path);
  WriteAll(path, bytes.substr(0, bytes.size() - 3));
  std::vector<std::string> payloads;
  auto r = Replay(dir.path(), log.segments, &payloads, /*truncate=*/false);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->torn_tail.has_value());
  EXPECT_FALSE(r->torn_tail_truncated);
  EXPECT_EQ(payloads.size(), 9u);
  EXPECT_EQ(ReadAll(path).size(), bytes.size() - 3);
}

TEST(LogReaderTest, ZeroFilledTailIsATornTail) {
  // Some file systems extend a file before its data reaches the disk: after power loss the
  // tail reads as zeros. Type 0 is never written, so zeros never parse as a record.
  TempDir dir;
  Log log = WriteLog(dir.path(), 10);
  const std::string path = SegmentPath(dir.path(), log.segments.back());
  std::string bytes = ReadAll(path);
  WriteAll(path, bytes + std::string(4096, '\0'));
  std::vector<std::string> payloads;
  auto r = Replay(dir.path(), log.segments, &payloads);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->torn_tail.has_value());
  EXPECT_EQ(r->torn_tail->offset, bytes.size());
  EXPECT_EQ(r->torn_tail->bytes_dropped, 4096u);
  EXPECT_EQ(payloads.size(), 10u);
}

// A flipped byte inside any record that is followed by intact records is Corruption naming the
// file and the damaged record's offset, in the last segment as in any other.
TEST(LogReaderTest, FlippedByteInTheMiddleIsCorruptionWithFileAndOffset) {
  TempDir src;
  Log log = WriteLog(src.path(), 150, /*segment_target_size=*/1024);
  ASSERT_GE(log.segments.size(), 4u);
  DropLastSegment(&log);
  for (uint64_t victim_segment : {log.segments.front(), log.segments.back()}) {
    // A record in the middle of that segment.
    std::vector<size_t> in_segment;
    for (size_t i = 0; i < log.records.size(); ++i) {
      if (log.records[i].location.segment_id == victim_segment) in_segment.push_back(i);
    }
    ASSERT_GE(in_segment.size(), 3u);
    const RecordLocation victim = log.records[in_segment[in_segment.size() / 2]].location;
    const std::string path = SegmentPath(src.path(), victim_segment);
    const std::string original = ReadAll(path);
    for (uint64_t i = victim.offset; i < End(victim); ++i) {
      SCOPED_TRACE("segment " + std::to_string(victim_segment) + " byte " + std::to_string(i));
      std::string bad = original;
      bad[i] ^= 0x20;
      WriteAll(path, bad);
      std::vector<std::string> payloads;
      auto r = Replay(src.path(), log.segments, &payloads);
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), Status::kCorruption);
      EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().ToString();
      EXPECT_NE(r.status().message().find("offset " + std::to_string(victim.offset) + ":"),
                std::string::npos)
          << r.status().ToString();
      // Nothing was truncated.
      EXPECT_EQ(ReadAll(path), bad);
    }
    WriteAll(path, original);
  }
}

TEST(LogReaderTest, DamagedSegmentHeaderIsCorruption) {
  TempDir dir;
  Log log = WriteLog(dir.path(), 5);
  const std::string path = SegmentPath(dir.path(), log.segments[0]);
  std::string bytes = ReadAll(path);
  bytes[20] ^= 1;  // segment id
  WriteAll(path, bytes);
  std::vector<std::string> payloads;
  auto r = Replay(dir.path(), log.segments, &payloads);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::kCorruption);
  EXPECT_NE(r.status().message().find(path + ": offset 0:"), std::string::npos);
}

TEST(LogReaderTest, SegmentUnderTheWrongNameIsCorruption) {
  TempDir dir;
  Log log = WriteLog(dir.path(), 5);
  std::rename(SegmentPath(dir.path(), 1).c_str(), SegmentPath(dir.path(), 2).c_str());
  std::vector<std::string> payloads;
  auto r = Replay(dir.path(), {2}, &payloads);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("expected 2"), std::string::npos);
}

TEST(LogReaderTest, SequenceGoingBackwardsIsCorruption) {
  TempDir dir;
  std::string seg;
  EncodeSegmentHeader({kFormatVersion, 1, 10}, &seg);
  EncodeRecord(1, RecordType::kPut, 10, "a", &seg);
  const uint64_t second = seg.size();
  EncodeRecord(1, RecordType::kPut, 10, "b", &seg);  // repeats sequence 10
  WriteAll(SegmentPath(dir.path(), 1), seg);
  std::vector<std::string> payloads;
  auto r = Replay(dir.path(), {1}, &payloads);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("offset " + std::to_string(second)), std::string::npos)
      << r.status().ToString();
}

TEST(LogReaderTest, ReadAtVerifiesTheRecord) {
  TempDir dir;
  Log log = WriteLog(dir.path(), 20);
  LogRandomReader reader(Env::Default(), dir.path());
  for (size_t i = 0; i < log.records.size(); ++i) {
    auto r = reader.ReadAt(log.records[i].location);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->payload, log.payloads[i]);
    EXPECT_EQ(r->type, RecordType::kPut);
  }
  // A location whose length is off, or that points into the middle of a record, fails.
  RecordLocation loc = log.records[5].location;
  RecordLocation longer = loc;
  longer.length += 1;
  EXPECT_EQ(reader.ReadAt(longer).status().code(), Status::kCorruption);
  RecordLocation shifted = loc;
  shifted.offset += 1;
  EXPECT_EQ(reader.ReadAt(shifted).status().code(), Status::kCorruption);
  // A flipped byte is detected, and the error names file and offset.
  const std::string path = SegmentPath(dir.path(), loc.segment_id);
  std::string bytes = ReadAll(path);
  bytes[loc.offset + loc.length - 1] ^= 1;
  WriteAll(path, bytes);
  reader.Forget(loc.segment_id);
  auto bad = reader.ReadAt(loc);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::kCorruption);
  EXPECT_NE(bad.status().message().find(path + ": offset " + std::to_string(loc.offset)),
            std::string::npos);
  EXPECT_EQ(reader.ReadAt({99, kSegmentHeaderSize, 20}).status().code(), Status::kNotFound);
}

// The newest segment cut inside its header (e.g. a copy of a live directory taken while the
// segment was being created): a torn tail at every length 0..header size - 1. It holds no
// record; recovery goes on with the earlier segments, and the repair writes a whole header,
// after which the segment is an ordinary empty one, also once a later segment follows it.
TEST(LogReaderTest, LastSegmentCutInsideItsHeaderIsATornTail) {
  TempDir src;
  Log log = WriteLog(src.path(), 60, /*segment_target_size=*/1024);
  ASSERT_GE(log.segments.size(), 3u);
  const uint64_t last = log.segments.back();
  size_t before_last = 0;  // records in the segments before the last one
  while (log.records[before_last].location.segment_id != last) ++before_last;
  const uint64_t last_seq_before = log.records[before_last - 1].sequence;
  const std::string original = ReadAll(SegmentPath(src.path(), last));

  for (uint64_t cut = 0; cut < kSegmentHeaderSize; ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    TempDir dir;
    for (uint64_t id : log.segments) {
      WriteAll(SegmentPath(dir.path(), id), ReadAll(SegmentPath(src.path(), id)));
    }
    const std::string path = SegmentPath(dir.path(), last);
    WriteAll(path, original.substr(0, cut));

    std::vector<std::string> payloads;
    auto r = Replay(dir.path(), log.segments, &payloads, /*truncate=*/false);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(payloads.size(), before_last);
    EXPECT_EQ(r->last_sequence, last_seq_before);
    ASSERT_TRUE(r->torn_tail.has_value());
    EXPECT_TRUE(r->torn_tail->header_incomplete);
    EXPECT_EQ(r->torn_tail->offset, 0u);
    EXPECT_EQ(r->torn_tail->bytes_dropped, cut);
    EXPECT_NE(r->torn_tail->ToString().find("segment header incomplete"), std::string::npos);
    EXPECT_EQ(ReadAll(path).size(), cut);  // not repaired unless asked

    r = Replay(dir.path(), log.segments, &payloads);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->torn_tail_truncated);
    ASSERT_EQ(ReadAll(path).size(), kSegmentHeaderSize);
    auto header = DecodeSegmentHeader(ReadAll(path));
    ASSERT_TRUE(header.ok()) << header.status().ToString();
    EXPECT_EQ(header->segment_id, last);
    EXPECT_EQ(header->base_sequence, last_seq_before + 1);

    // Clean now, and still clean once a writer started the next segment after it.
    r = Replay(dir.path(), log.segments, &payloads);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->torn_tail.has_value());
    LogWriterOptions o;
    o.dir = dir.path();
    o.first_segment_id = last + 1;
    o.first_sequence = last_seq_before + 1;
    auto w = LogWriter::Open(o);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(RecordType::kPut, "after").ok());
    ASSERT_TRUE((*w)->Close().ok());
    std::vector<uint64_t> segments = log.segments;
    segments.push_back(last + 1);
    r = Replay(dir.path(), segments, &payloads);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_FALSE(r->torn_tail.has_value());
    ASSERT_EQ(payloads.size(), before_last + 1);
    EXPECT_EQ(payloads.back(), "after");
  }
}

TEST(LogReaderTest, OnlySegmentCutInsideItsHeaderRecoversEmpty) {
  TempDir dir;
  Log log = WriteLog(dir.path(), 5);
  ASSERT_EQ(log.segments.size(), 1u);
  const std::string path = SegmentPath(dir.path(), log.segments[0]);
  WriteAll(path, ReadAll(path).substr(0, 17));
  std::vector<std::string> payloads;
  auto r = Replay(dir.path(), log.segments, &payloads);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(payloads.empty());
  ASSERT_TRUE(r->torn_tail.has_value());
  EXPECT_TRUE(DecodeSegmentHeader(ReadAll(path)).ok());
}

// An earlier segment cut inside its header was complete once (a later segment exists, and a
// segment is fsynced before the next one starts): that is Corruption, never a torn tail.
TEST(LogReaderTest, EarlierSegmentCutInsideItsHeaderIsCorruption) {
  TempDir dir;
  Log log = WriteLog(dir.path(), 60, /*segment_target_size=*/1024);
  ASSERT_GE(log.segments.size(), 3u);
  const std::string path = SegmentPath(dir.path(), log.segments[1]);
  const std::string original = ReadAll(path);
  for (uint64_t cut : {uint64_t{0}, uint64_t{17}, kSegmentHeaderSize - 1}) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    WriteAll(path, original.substr(0, cut));
    std::vector<std::string> payloads;
    auto r = Replay(dir.path(), log.segments, &payloads);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Status::kCorruption);
    EXPECT_NE(r.status().message().find(path + ": offset 0:"), std::string::npos)
        << r.status().ToString();
    EXPECT_EQ(ReadAll(path).size(), cut);
  }
}

// What fdb-check --salvage reports as dropped: every intact record after the damage.
TEST(LogReaderTest, CountIntactRecordsAfterDamage) {
  TempDir dir;
  Log log = WriteLog(dir.path(), 20);
  ASSERT_EQ(log.segments.size(), 1u);
  const std::string path = SegmentPath(dir.path(), 1);
  std::string bytes = ReadAll(path);
  for (size_t victim : {size_t{0}, size_t{7}, size_t{18}}) {
    SCOPED_TRACE("damaged record " + std::to_string(victim));
    const RecordLocation loc = log.records[victim].location;
    std::string bad = bytes;
    bad[loc.offset + loc.length / 2] ^= 0x40;
    WriteAll(path, bad);
    auto reader = SegmentReader::Open(Env::Default(), path, 1, 0, /*is_last_segment=*/true);
    ASSERT_TRUE(reader.ok());
    size_t read = 0;
    while (true) {
      auto rec = (*reader)->Next();
      if (!rec.ok() || !rec->has_value()) break;
      ++read;
    }
    EXPECT_EQ(read, victim);
    EXPECT_EQ((*reader)->valid_size(), loc.offset);
    auto dropped = (*reader)->CountIntactRecordsAfter(loc.offset);
    ASSERT_TRUE(dropped.ok());
    EXPECT_EQ(*dropped, log.records.size() - victim - 1);
  }
  // A torn tail: nothing intact after it.
  WriteAll(path, bytes.substr(0, bytes.size() - 3));
  auto reader = SegmentReader::Open(Env::Default(), path, 1, 0, true);
  ASSERT_TRUE(reader.ok());
  while (true) {
    auto rec = (*reader)->Next();
    ASSERT_TRUE(rec.ok());
    if (!rec->has_value()) break;
  }
  auto dropped = (*reader)->CountIntactRecordsAfter((*reader)->valid_size());
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(*dropped, 0u);
}

}  // namespace
}  // namespace fdb::storage
