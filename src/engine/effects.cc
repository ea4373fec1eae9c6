#include "engine/effects.h"

#include <zstd.h>

#include <cstring>

#include "base/check.h"
#include "base/limits.h"
#include "base/shared_block.h"

namespace fdb {

namespace {

constexpr uint8_t kFlagCompressed = 1;
// db:u8 flags:u8 type:u8 expire_ms:i64, before the key.
constexpr size_t kPutHeaderBytes = 11;
static_assert(kPutHeaderBytes == kPutDbAndExpireBytes);
// Values from this size are spliced into their put record as a block (EncodePut).
constexpr size_t kSplicedValueMin = 16 * 1024;

void PutFixed64(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; i++) buf[i] = static_cast<char>(v >> (8 * i));
  out->append(buf, 8);
}

bool GetFixed64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  uint64_t r = 0;
  for (int i = 0; i < 8; i++) r |= static_cast<uint64_t>(static_cast<uint8_t>((*in)[i])) << (8 * i);
  *v = r;
  in->remove_prefix(8);
  return true;
}

bool GetBytes(std::string_view* in, std::string_view* out) {
  uint64_t n;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  *out = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

Status Bad(const char* what) {
  return Status::Corruption(std::string("bad effect record: ") + what);
}

}  // namespace

namespace {

void EncodePrefix(int db, const Entry* e, uint8_t flags, size_t value_len, std::string* out) {
  out->push_back(static_cast<char>(db));
  out->push_back(static_cast<char>(flags));
  out->push_back(static_cast<char>(e->type()));
  PutFixed64(out, static_cast<uint64_t>(e->expire_ms()));
  PutVarint(out, e->key_len());
  out->append(e->key());
  PutVarint(out, value_len);
}

}  // namespace

void EncodePutPrefix(int db, const Entry* e, size_t value_len, std::string* out) {
  EncodePrefix(db, e, 0, value_len, out);
}

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t r = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    uint8_t b = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    r |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = r;
      return true;
    }
  }
  return false;
}

void EncodePut(int db, const Entry* e, size_t compress_min, std::string* out) {
  storage::Payload p(std::move(*out));
  EncodePut(db, e, compress_min, &p);
  *out = p.splices.empty() ? std::move(p.bytes) : p.Flatten();
}

void EncodePut(int db, const Entry* e, size_t compress_min, storage::Payload* payload) {
  std::string* out = &payload->bytes;
  std::string scratch;
  std::string_view value;
  if (e->encoding() == Encoding::kObject) {
    const ValueObject* obj = e->object();
    // A large collection's image is built once, here, and handed to the log by reference
    // (below). Room for it is reserved up front, twice the object's size in RAM (an image of
    // small integers is ~1.5x their packed form; other types are smaller than in RAM), so the
    // buffer is not regrown: each doubling holds the old and the new copy at once. Room
    // reserved but not written costs no RSS: its pages count only once written.
    const size_t in_ram = obj->MemoryUsage();
    if (in_ram >= limits::kLargeValueMin / 2) scratch.reserve(2 * in_ram);
    obj->Serialize(&scratch);
    value = scratch;
  } else {
    value = e->StringValue(&scratch);
  }
  uint8_t flags = 0;
  std::string compressed;
  if (compress_min > 0 && value.size() >= compress_min) {
    compressed.resize(ZSTD_compressBound(value.size()));
    size_t n = ZSTD_compress(compressed.data(), compressed.size(), value.data(), value.size(), 1);
    // Keep the compressed form only when it saves at least an eighth.
    if (!ZSTD_isError(n) && n < value.size() - value.size() / 8) {
      compressed.resize(n);
      value = compressed;
      flags |= kFlagCompressed;
    }
  }
  EncodePrefix(db, e, flags, value.size(), out);
  if (e->encoding() == Encoding::kLarge && !(flags & kFlagCompressed)) {
    payload->AppendBlock(BlockRef::Share(e->large_block()));
    return;
  }
  // A large value built here (an image, or a compressed form) becomes a block of its own that
  // the record splices in: the log's pending chunk and its unsynced copy then reference it
  // instead of each holding a copy, so the image costs its size once until it is durable.
  std::string* built = value.data() == scratch.data()      ? &scratch
                       : value.data() == compressed.data() ? &compressed
                                                           : nullptr;
  if (built != nullptr && value.size() >= limits::kLargeValueMin && value.size() == built->size()) {
    if (SharedBlock* b = SharedBlock::FromString(std::move(*built))) {
      payload->AppendBlock(BlockRef::Adopt(b));
      return;
    }
  }
  // A value of some size is copied once, into a block of its own, rather than into the record's
  // bytes: the log then shares the block instead of copying it again into its buffer, and its
  // checksum is computed before the log's lock is taken (LogWriter::Append joins it to the
  // header's), so a 64 KB SET holds the one lock every writer takes for a fraction of a
  // microsecond instead of a copy and a checksum of 64 KB.
  if (value.size() >= kSplicedValueMin) {
    if (SharedBlock* b = SharedBlock::Copy(value)) {
      payload->AppendBlock(BlockRef::Adopt(b));
      return;
    }
  }
  out->append(value);
}

Status DecodePutKey(std::string_view payload, int* db, std::string_view* key) {
  if (payload.size() < kPutHeaderBytes) return Bad("short put");
  *db = static_cast<uint8_t>(payload[0]);
  payload.remove_prefix(kPutHeaderBytes);
  if (!GetBytes(&payload, key)) return Bad("put key");
  return Status::OK();
}

void SetPutDbAndExpire(std::string* payload, int db, int64_t expire_ms) {
  FDB_CHECK(payload->size() >= kPutHeaderBytes);
  std::string header;
  header.push_back(static_cast<char>(db));
  header.append(*payload, 1, 2);  // flags, type
  PutFixed64(&header, static_cast<uint64_t>(expire_ms));
  payload->replace(0, kPutHeaderBytes, header);
}

Status DecodePut(std::string_view payload, PutEffect* out) {
  if (payload.size() < kPutHeaderBytes) return Bad("short put");
  out->db = static_cast<uint8_t>(payload[0]);
  uint8_t flags = static_cast<uint8_t>(payload[1]);
  uint8_t type = static_cast<uint8_t>(payload[2]);
  if (type > static_cast<uint8_t>(ValueType::kStream)) return Bad("put type");
  out->type = static_cast<ValueType>(type);
  payload.remove_prefix(3);
  uint64_t exp;
  GetFixed64(&payload, &exp);
  out->expire_ms = static_cast<int64_t>(exp);
  if (!GetBytes(&payload, &out->key)) return Bad("put key");
  if (!GetBytes(&payload, &out->value)) return Bad("put value");
  if (flags & kFlagCompressed) {
    unsigned long long n = ZSTD_getFrameContentSize(out->value.data(), out->value.size());
    if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n > (1ULL << 32)) {
      return Bad("compressed value size");
    }
    out->storage.resize(n);
    size_t got = ZSTD_decompress(out->storage.data(), n, out->value.data(), out->value.size());
    if (ZSTD_isError(got) || got != n) return Bad("compressed value");
    out->value = out->storage;
  }
  if (out->db >= 16) return Bad("put db");
  return Status::OK();
}

void EncodeDelete(int db, std::string_view key, std::string* out) {
  out->push_back(static_cast<char>(db));
  PutVarint(out, key.size());
  out->append(key);
}

void EncodeExpire(int db, std::string_view key, int64_t expire_ms, std::string* out) {
  out->push_back(static_cast<char>(db));
  PutFixed64(out, static_cast<uint64_t>(expire_ms));
  PutVarint(out, key.size());
  out->append(key);
}

Status DecodeDelete(std::string_view payload, KeyEffect* out) {
  if (payload.empty()) return Bad("short delete");
  out->db = static_cast<uint8_t>(payload[0]);
  payload.remove_prefix(1);
  if (!GetBytes(&payload, &out->key) || out->db >= 16) return Bad("delete");
  return Status::OK();
}

Status DecodeExpire(std::string_view payload, KeyEffect* out) {
  if (payload.size() < 9) return Bad("short expire");
  out->db = static_cast<uint8_t>(payload[0]);
  payload.remove_prefix(1);
  uint64_t exp;
  GetFixed64(&payload, &exp);
  out->expire_ms = static_cast<int64_t>(exp);
  if (!GetBytes(&payload, &out->key) || out->db >= 16) return Bad("expire");
  return Status::OK();
}

void EncodeDelta(int db, const Entry* e, std::string_view change, std::string* out) {
  out->reserve(out->size() + 3 + e->key_len() + change.size());
  out->push_back(static_cast<char>(db));
  out->push_back(static_cast<char>(e->type()));
  PutVarint(out, e->key_len());
  out->append(e->key());
  out->append(change);
}

Status DecodeDelta(std::string_view payload, DeltaEffect* out) {
  if (payload.size() < 2) return Bad("short delta");
  out->db = static_cast<uint8_t>(payload[0]);
  uint8_t type = static_cast<uint8_t>(payload[1]);
  // Type 0 is a string: a range write (engine/entry.h, Entry::WriteRange).
  if (type > static_cast<uint8_t>(ValueType::kStream)) return Bad("delta type");
  out->type = static_cast<ValueType>(type);
  payload.remove_prefix(2);
  if (!GetBytes(&payload, &out->key) || out->db >= 16) return Bad("delta key");
  out->change = payload;
  return Status::OK();
}

void EncodeStringRange(uint64_t offset, std::string_view bytes, std::string* out) {
  out->reserve(out->size() + 11 + bytes.size());
  out->push_back('R');
  PutVarint(out, offset);
  out->append(bytes);
}

bool DecodeStringRange(std::string_view change, uint64_t* offset, std::string_view* bytes) {
  if (change.empty() || change[0] != 'R') return false;
  change.remove_prefix(1);
  // A sanity bound (the checksum already vouches for the bytes): proto-max-bulk-len, which
  // bounds every string, may be raised past Redis's 512 MB, never to 16 GB.
  constexpr uint64_t kMaxEnd = 1ULL << 34;
  if (!GetVarint(&change, offset) || *offset > kMaxEnd || change.size() > kMaxEnd - *offset) {
    return false;
  }
  *bytes = change;
  return true;
}

storage::RecordType RecordTypeOf(EffectKind kind) {
  using storage::RecordType;
  switch (kind) {
    case EffectKind::kPut:
      return RecordType::kPut;
    case EffectKind::kDelta:
      return RecordType::kDelta;
    case EffectKind::kDelete:
      return RecordType::kDelete;
    case EffectKind::kExpire:
      return RecordType::kExpire;
    case EffectKind::kFlush:
      return RecordType::kFlushDb;
    case EffectKind::kSwapDb:
      return RecordType::kSwapDb;
  }
  return RecordType::kPut;
}

void EncodeBatchItem(storage::RecordType type, const storage::Payload& payload,
                     storage::Payload* out) {
  out->bytes.push_back(static_cast<char>(type));
  PutVarint(&out->bytes, payload.size());
  out->Append(payload);
}

bool CaptureRecord(Effect& effect, size_t compress_min) {
  storage::Payload& out = effect.record;
  switch (effect.kind) {
    case EffectKind::kPut:
      if (effect.entry->on_disk()) return false;
      EncodePut(effect.db, effect.entry, compress_min, &out);
      break;
    case EffectKind::kDelta:
      EncodeDelta(effect.db, effect.entry, effect.change, &out.bytes);
      break;
    case EffectKind::kDelete:
      EncodeDelete(effect.db, effect.key, &out.bytes);
      break;
    case EffectKind::kExpire:
      EncodeExpire(effect.db, effect.key, effect.expire_ms, &out.bytes);
      break;
    case EffectKind::kFlush:
      out.bytes.assign(1, static_cast<char>(static_cast<int8_t>(effect.db)));
      break;
    case EffectKind::kSwapDb:
      out.bytes = std::string{static_cast<char>(effect.db), static_cast<char>(effect.db2)};
      break;
  }
  effect.captured = true;
  return true;
}

void EncodeReplState(std::string_view replid, uint64_t offset, std::string* out) {
  PutVarint(out, replid.size());
  out->append(replid);
  PutVarint(out, offset);
}

bool DecodeReplState(std::string_view payload, std::string* replid, uint64_t* offset) {
  uint64_t n;
  if (!GetVarint(&payload, &n) || n > payload.size()) return false;
  replid->assign(payload.substr(0, n));
  payload.remove_prefix(n);
  return GetVarint(&payload, offset) && payload.empty();
}

}  // namespace fdb
