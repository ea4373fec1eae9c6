// Effect payload codec: every encoder's output decodes to what went in, and every strict prefix
// of a valid payload is rejected (a record is checksummed, so a short payload is a bug or a
// format mismatch, never something to guess around).
#include "engine/effects.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/entry.h"

namespace fdb {
namespace {

// Owns an entry for the encoder.
struct EntryHolder {
  explicit EntryHolder(Entry* e) : e(e) {}
  ~EntryHolder() { Entry::Free(e); }
  Entry* e;
};

std::string EncodeString(int db, std::string_view key, std::string_view value, int64_t expire_ms,
                         size_t compress_min = 0) {
  EntryHolder h(Entry::NewString(key, value));
  h.e->set_expire_ms(expire_ms);
  std::string out;
  EncodePut(db, h.e, compress_min, &out);
  return out;
}

TEST(EffectsTest, VarintRoundTrip) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{300},
                     uint64_t{1} << 32, ~uint64_t{0}}) {
    std::string buf;
    PutVarint(&buf, v);
    buf += "rest";
    std::string_view in = buf;
    uint64_t got = 0;
    ASSERT_TRUE(GetVarint(&in, &got)) << v;
    EXPECT_EQ(got, v);
    EXPECT_EQ(in, "rest");
  }
  std::string truncated;
  PutVarint(&truncated, uint64_t{1} << 40);
  truncated.pop_back();
  std::string_view in = truncated;
  uint64_t got;
  EXPECT_FALSE(GetVarint(&in, &got));
}

TEST(EffectsTest, PutRoundTrip) {
  std::string p = EncodeString(7, "key", "some value", 1234567890123);
  PutEffect put;
  ASSERT_TRUE(DecodePut(p, &put).ok());
  EXPECT_EQ(put.db, 7);
  EXPECT_EQ(put.type, ValueType::kString);
  EXPECT_EQ(put.expire_ms, 1234567890123);
  EXPECT_EQ(put.key, "key");
  EXPECT_EQ(put.value, "some value");

  int db = -1;
  std::string_view key;
  ASSERT_TRUE(DecodePutKey(p, &db, &key).ok());
  EXPECT_EQ(db, 7);
  EXPECT_EQ(key, "key");
}

// A value of 16 KB or more is spliced in as a block of its own, so the log shares it (and
// checksums it before its lock) instead of copying it into its buffer; the key stays in the
// record's bytes, where the storage engine reads it back after the append.
TEST(EffectsTest, LargeInlineValueIsSplicedAsABlock) {
  std::string value(20000, 'v');
  value[123] = 'x';
  EntryHolder h(Entry::NewString("big", value));
  storage::Payload p;
  EncodePut(3, h.e, /*compress_min=*/0, &p);
  ASSERT_EQ(p.splices.size(), 1u);
  EXPECT_EQ(p.splices[0].block->size(), value.size());
  int db = -1;
  std::string_view key;
  ASSERT_TRUE(DecodePutKey(p.bytes, &db, &key).ok());
  EXPECT_EQ(db, 3);
  EXPECT_EQ(key, "big");
  std::string flat = p.Flatten();
  PutEffect put;
  ASSERT_TRUE(DecodePut(flat, &put).ok());
  EXPECT_EQ(put.value, value);
  // Below the threshold the value is in the bytes.
  EntryHolder small(Entry::NewString("small", std::string(1000, 's')));
  storage::Payload q;
  EncodePut(0, small.e, 0, &q);
  EXPECT_TRUE(q.splices.empty());
}

TEST(EffectsTest, PutOfIntegerAndEmptyAndBinaryValues) {
  PutEffect put;
  std::string p = EncodeString(0, "n", "-9223372036854775808", 0);  // kInt in RAM
  ASSERT_TRUE(DecodePut(p, &put).ok());
  EXPECT_EQ(put.value, "-9223372036854775808");

  p = EncodeString(15, "", "", 0);
  ASSERT_TRUE(DecodePut(p, &put).ok());
  EXPECT_EQ(put.db, 15);
  EXPECT_EQ(put.key, "");
  EXPECT_EQ(put.value, "");

  std::string bin("a\0b\xff\x80", 5);
  p = EncodeString(1, bin, bin, 0);
  ASSERT_TRUE(DecodePut(p, &put).ok());
  EXPECT_EQ(put.key, bin);
  EXPECT_EQ(put.value, bin);
}

TEST(EffectsTest, CompressibleValueIsCompressedAndRoundTrips) {
  std::string value;
  for (int i = 0; value.size() < 4096; i++) value += "line " + std::to_string(i % 10) + "\n";
  value.resize(4096);
  std::string plain = EncodeString(0, "k", value, 42);
  std::string packed = EncodeString(0, "k", value, 42, /*compress_min=*/128);
  EXPECT_LT(packed.size(), plain.size() / 4);
  EXPECT_EQ(packed[1], 1) << "flags bit 0: compressed";
  EXPECT_EQ(plain[1], 0);

  PutEffect put;
  ASSERT_TRUE(DecodePut(packed, &put).ok());
  EXPECT_EQ(put.value, value);
  EXPECT_EQ(put.key, "k");
  EXPECT_EQ(put.expire_ms, 42);
  int db;
  std::string_view key;
  ASSERT_TRUE(DecodePutKey(packed, &db, &key).ok());
  EXPECT_EQ(key, "k");
}

TEST(EffectsTest, ShortOrIncompressibleValuesStayPlain) {
  // Below the threshold.
  std::string p = EncodeString(0, "k", std::string(100, 'a'), 0, /*compress_min=*/128);
  EXPECT_EQ(p[1], 0);
  // Random bytes do not shrink by an eighth.
  std::string noise;
  uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 4096; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    noise.push_back(static_cast<char>(x));
  }
  p = EncodeString(0, "k", noise, 0, /*compress_min=*/128);
  EXPECT_EQ(p[1], 0);
  PutEffect put;
  ASSERT_TRUE(DecodePut(p, &put).ok());
  EXPECT_EQ(put.value, noise);
}

TEST(EffectsTest, SetPutDbAndExpireRewritesOnlyTheHeader) {
  std::string value(4096, 'c');
  for (size_t compress_min : {size_t{0}, size_t{64}}) {
    std::string p = EncodeString(3, "key", value, 111, compress_min);
    SetPutDbAndExpire(&p, 12, 222);
    PutEffect put;
    ASSERT_TRUE(DecodePut(p, &put).ok());
    EXPECT_EQ(put.db, 12);
    EXPECT_EQ(put.expire_ms, 222);
    EXPECT_EQ(put.key, "key");
    EXPECT_EQ(put.value, value);
    SetPutDbAndExpire(&p, 0, 0);
    ASSERT_TRUE(DecodePut(p, &put).ok());
    EXPECT_EQ(put.db, 0);
    EXPECT_EQ(put.expire_ms, 0);
    EXPECT_EQ(put.value, value);
  }
}

TEST(EffectsTest, DeleteAndExpireRoundTrip) {
  std::string p;
  EncodeDelete(3, "gone", &p);
  KeyEffect ke;
  ASSERT_TRUE(DecodeDelete(p, &ke).ok());
  EXPECT_EQ(ke.db, 3);
  EXPECT_EQ(ke.key, "gone");

  p.clear();
  EncodeExpire(9, "ttl", 1700000000000, &p);
  ASSERT_TRUE(DecodeExpire(p, &ke).ok());
  EXPECT_EQ(ke.db, 9);
  EXPECT_EQ(ke.key, "ttl");
  EXPECT_EQ(ke.expire_ms, 1700000000000);

  p.clear();
  EncodeExpire(0, "persist", 0, &p);
  ASSERT_TRUE(DecodeExpire(p, &ke).ok());
  EXPECT_EQ(ke.expire_ms, 0);
}

TEST(EffectsTest, TruncatedPayloadsAreRejected) {
  std::string value;
  for (int i = 0; i < 300; i++) value += "abc";
  const std::string puts[] = {EncodeString(2, "a key", "a value", 99),
                              EncodeString(2, "big", value, 0, /*compress_min=*/64)};
  for (const std::string& p : puts) {
    for (size_t n = 0; n < p.size(); n++) {
      PutEffect put;
      EXPECT_EQ(DecodePut(std::string_view(p).substr(0, n), &put).code(), Status::kCorruption)
          << "put truncated to " << n << " of " << p.size();
    }
  }
  // DecodePutKey needs everything up to the end of the key.
  const std::string& p = puts[0];
  size_t key_end = p.find("a key") + 5;
  for (size_t n = 0; n < key_end; n++) {
    int db;
    std::string_view key;
    EXPECT_FALSE(DecodePutKey(std::string_view(p).substr(0, n), &db, &key).ok()) << n;
  }

  std::string del;
  EncodeDelete(1, "deleted key", &del);
  for (size_t n = 0; n < del.size(); n++) {
    KeyEffect ke;
    EXPECT_EQ(DecodeDelete(std::string_view(del).substr(0, n), &ke).code(), Status::kCorruption)
        << n;
  }
  std::string exp;
  EncodeExpire(1, "expiring key", 123456, &exp);
  for (size_t n = 0; n < exp.size(); n++) {
    KeyEffect ke;
    EXPECT_EQ(DecodeExpire(std::string_view(exp).substr(0, n), &ke).code(), Status::kCorruption)
        << n;
  }
}

TEST(EffectsTest, BadFieldsAreRejected) {
  PutEffect put;
  std::string p = EncodeString(0, "k", "v", 0);
  std::string bad_db = p;
  bad_db[0] = 16;
  EXPECT_EQ(DecodePut(bad_db, &put).code(), Status::kCorruption);
  std::string bad_type = p;
  bad_type[2] = 9;
  EXPECT_EQ(DecodePut(bad_type, &put).code(), Status::kCorruption);
  // Flagged compressed, but the bytes are not a zstd frame.
  std::string bad_frame = p;
  bad_frame[1] = 1;
  EXPECT_EQ(DecodePut(bad_frame, &put).code(), Status::kCorruption);

  KeyEffect ke;
  std::string del;
  EncodeDelete(16, "k", &del);
  EXPECT_EQ(DecodeDelete(del, &ke).code(), Status::kCorruption);
  std::string exp;
  EncodeExpire(200, "k", 1, &exp);
  EXPECT_EQ(DecodeExpire(exp, &ke).code(), Status::kCorruption);
}

}  // namespace
}  // namespace fdb
