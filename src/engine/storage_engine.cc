#include "engine/storage_engine.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>

#include "base/clock.h"
#include "base/coding.h"
#include "base/logging.h"
#include "engine/checkpoint.h"
#include "engine/collections.h"
#include "engine/effects.h"
#include "storage/crc32c.h"
#include "storage/env.h"
#include "storage/file_names.h"

namespace fdb {

using storage::RecordType;

namespace {

// A collection whose RAM exceeds this gets its image written, read back and
// copied by compaction in parts.
constexpr size_t kImageInPartsMin = 8u << 20;
// The size of those parts: the RAM an image costs while it is written.
constexpr size_t kImagePartBytes = 1u << 20;

}  // namespace

Result<Entry*> EntryFromImage(std::string_view key, ValueType type, std::string_view value) {
  if (type == ValueType::kString) return Entry::NewStringImage(key, value);
  auto obj = DecodeObject(type, value);
  if (!obj.ok()) return obj.status();
  return Entry::NewObject(key, *obj);
}

StorageEngine::StorageEngine(const StorageOptions& options, Keyspace* ks)
    : options_(options), ks_(ks) {
  recovery_.ks = ks;
  recovery_.ckpt_seq.assign(limits::kNumShards, 0);
}

Result<std::unique_ptr<StorageEngine>> StorageEngine::Open(const StorageOptions& options,
                                                           Keyspace* ks) {
  storage::Env* env = storage::Env::Default();
  Status s = env->CreateDirIfMissing(options.dir);
  if (!s.ok()) return s;
  auto lock = storage::DirLock::Acquire(options.dir);
  if (!lock.ok()) return lock.status();
  std::unique_ptr<StorageEngine> engine(new StorageEngine(options, ks));
  engine->lock_ = std::move(lock.value());
  engine->reader_ = std::make_unique<storage::LogRandomReader>(env, options.dir);
  int64_t start = MonoUs();
  s = engine->Recover();
  if (!s.ok()) return s;
  engine->recovery_seconds_ = static_cast<double>(MonoUs() - start) / 1e6;

  storage::LogWriterOptions wo;
  if (options.log_env != nullptr) wo.env = options.log_env;
  wo.dir = options.dir;
  wo.fsync = options.fsync;
  wo.segment_target_size = options.segment_target_size;
  uint64_t last_segment = 0;
  for (uint64_t id : engine->manifest_.segments) last_segment = std::max(last_segment, id);
  wo.first_segment_id = last_segment + 1;
  wo.first_sequence = engine->recovered_last_seq_ + 1;
  StorageEngine* self = engine.get();
  // A new segment enters the manifest before any record is appended to it, so recovery
  // always knows every segment that may hold acknowledged records.
  wo.on_segment_created = [self](uint64_t id) -> Status {
    std::lock_guard<std::mutex> l(self->manifest_mu_);
    if (std::find(self->manifest_.segments.begin(), self->manifest_.segments.end(), id) !=
        self->manifest_.segments.end()) {
      return Status::OK();
    }
    storage::Manifest m = self->manifest_;
    m.generation++;
    m.segments.push_back(id);
    std::sort(m.segments.begin(), m.segments.end());
    Status st = storage::WriteManifest(storage::Env::Default(), self->options_.dir, m);
    if (st.ok()) self->manifest_ = std::move(m);
    return st;
  };
  wo.on_discard = [self] { self->OnDiscard(); };
  wo.on_progress = [self] {
    std::lock_guard<std::mutex> l(self->listeners_mu_);
    for (auto& fn : self->listeners_) fn();
  };
  auto writer = storage::LogWriter::Open(std::move(wo));
  if (!writer.ok()) return writer.status();
  engine->writer_ = std::move(writer.value());
  // Every shard starts at the recovered sequence.
  for (int i = 0; i < limits::kNumShards; i++) {
    ks->shard(i).log_seq = engine->recovered_last_seq_;
  }
  ks->set_value_store(engine.get());
  ks->AddSink(engine.get(), /*front=*/true);
  if (engine->convert_checkpoint_) {
    // The directory's checkpoint indexes shards the old way (format 1); write one of the
    // current layout, so the directory is of the current format. Crash-safe without more
    // protocol: until the manifest naming the new checkpoint replaces the old one atomically,
    // the old checkpoint stays the recovery base, and it is still read with its own shard
    // function; the records written meanwhile (images) have sequences above all of its
    // shard_seq, so they apply under either function. A kill here only means converting again.
    s = engine->Save();
    if (s.ok()) {
      FDB_LOG_NOTICE("recovery: converted %s to checkpoint format 2 (Redis Cluster slots)",
                     options.dir.c_str());
    } else {
      // The data is recovered; the next start converts again.
      FDB_LOG_WARNING("recovery: cannot write a checkpoint of format 2 yet (%s)",
                      s.ToString().c_str());
    }
  }
  engine->background_ = std::thread([self] { self->BackgroundLoop(); });
  return engine;
}

StorageEngine::~StorageEngine() {
  Status s = Close();
  (void)s;
}

Status StorageEngine::Close() {
  if (closed_) return Status::OK();
  closed_ = true;
  {
    std::lock_guard<std::mutex> l(bg_mu_);
    stopping_ = true;
  }
  bg_cv_.notify_all();
  if (background_.joinable()) background_.join();
  if (bgsave_thread_.joinable()) bgsave_thread_.join();
  ks_->RemoveSink(this);
  ks_->set_value_store(nullptr);
  Status s;
  if (writer_) s = writer_->Close();
  return s;
}

// ---------------------------------------------------------------------------------------------
// Recovery.

Status StorageEngine::Recover() {
  storage::Env* env = storage::Env::Default();
  auto m = storage::ReadManifest(env, options_.dir);
  if (!m.ok() && m.status().code() != Status::kNotFound) return m.status();
  if (m.ok()) manifest_ = m.value();
  ReadReplFile();
  if (!manifest_.checkpoint_file.empty()) {
    Status s = LoadCheckpoint(recovery_, options_.dir + "/" + manifest_.checkpoint_file);
    if (!s.ok()) return s;
  }
  recovered_last_seq_ = manifest_.checkpoint_sequence;
  for (uint64_t seq : recovery_.ckpt_seq) recovered_last_seq_ = std::max(recovered_last_seq_, seq);
  if (manifest_.segments.empty()) {
    ReshardIfOld(recovery_);
    return Status::OK();
  }
  auto r = storage::ReplayLog(
      env, options_.dir, manifest_.segments,
      [this](const storage::LogRecord& rec) { return ApplyRecord(recovery_, rec); });
  if (!r.ok()) return r.status();
  recovered_records_ = r->records;
  recovered_last_seq_ = std::max(recovered_last_seq_, r->last_sequence);
  if (r->torn_tail) {
    FDB_LOG_WARNING("recovery: torn tail cut off: %s", r->torn_tail->ToString().c_str());
  }
  ReshardIfOld(recovery_);
  return Status::OK();
}

void StorageEngine::ReshardIfOld(ReplayTarget& t) {
  if (t.layout == kCurrentShardLayout) return;
  size_t moved = t.ks->RecoverReshard();
  if (t.ks == ks_) {
    convert_checkpoint_ = true;
    FDB_LOG_NOTICE(
        "recovery: checkpoint of format 1 (shards by key hash) read; %zu keys moved to their "
        "Redis Cluster slot's shard",
        moved);
  }
}

Status StorageEngine::LoadCheckpoint(ReplayTarget& t, const std::string& file) {
  return ReadCheckpoint(file, &t.layout, &t.ckpt_seq, [&t](const CheckpointEntry& ce) {
    if (!t.Wants(ce.key)) return;
    KeyRef k = t.Key(ce.key);
    Entry* e = Entry::NewOnDisk(ce.key, ce.type, ce.expire_ms, ce.loc, ce.value_len);
    t.ks->RecoverPut(ce.db, k, e);
  });
}

Status StorageEngine::ApplyRecord(ReplayTarget& t, const storage::LogRecord& rec) {
  if (rec.type == RecordType::kBatch) {
    std::string_view p = rec.payload;
    while (!p.empty()) {
      auto type = static_cast<RecordType>(static_cast<uint8_t>(p[0]));
      p.remove_prefix(1);
      uint64_t n;
      if (!GetVarint(&p, &n) || n > p.size()) {
        return Status::Corruption("bad batch record at sequence " + std::to_string(rec.sequence));
      }
      Status s = ApplyOne(t, type, p.substr(0, n), rec.sequence, nullptr);
      if (!s.ok()) return s;
      p.remove_prefix(n);
    }
    return Status::OK();
  }
  return ApplyOne(t, rec.type, rec.payload, rec.sequence, &rec.location);
}

Status StorageEngine::ApplyOne(ReplayTarget& t, RecordType type, std::string_view payload,
                               uint64_t seq, const storage::RecordLocation* loc) {
  Keyspace* ks = t.ks;
  switch (type) {
    case RecordType::kPut: {
      PutEffect put;
      Status s = DecodePut(payload, &put);
      if (!s.ok()) return s;
      KeyRef k = t.Key(put.key);
      if (!t.Applies(k.shard, seq) || !t.Wants(k.key)) return Status::OK();
      Entry* e;
      uint64_t packed = loc ? Entry::PackLoc(loc->segment_id, loc->offset) : 0;
      if (packed != 0 && ks->OverBudget()) {
        e = Entry::NewOnDisk(put.key, put.type, put.expire_ms, packed, put.value.size());
      } else {
        auto made = EntryFromImage(put.key, put.type, put.value);
        if (!made.ok()) {
          return Status::Corruption(made.status().message() + " at sequence " +
                                    std::to_string(seq));
        }
        e = *made;
        e->set_expire_ms(put.expire_ms);
        e->set_loc(packed);
      }
      ks->RecoverPut(put.db, k, e);
      return Status::OK();
    }
    case RecordType::kDelete:
    case RecordType::kExpire: {
      KeyEffect ke;
      Status s =
          type == RecordType::kDelete ? DecodeDelete(payload, &ke) : DecodeExpire(payload, &ke);
      if (!s.ok()) return s;
      KeyRef k = t.Key(ke.key);
      if (!t.Applies(k.shard, seq) || !t.Wants(k.key)) return Status::OK();
      if (type == RecordType::kDelete) {
        ks->RecoverDelete(ke.db, k);
      } else {
        ks->RecoverExpire(ke.db, k, ke.expire_ms);
      }
      return Status::OK();
    }
    case RecordType::kDelta: {
      DeltaEffect d;
      Status s = DecodeDelta(payload, &d);
      if (!s.ok()) return s;
      KeyRef k = t.Key(d.key);
      if (!t.Applies(k.shard, seq) || !t.Wants(k.key)) return Status::OK();
      Entry* e = ks->RecoverFind(d.db, k);
      if (e != nullptr && e->on_disk()) {
        Entry* loaded = LoadValue(d.db, e);
        if (loaded == nullptr) {
          return Status::Corruption("cannot read the value a delta applies to at sequence " +
                                    std::to_string(seq));
        }
        ks->RecoverPut(d.db, k, loaded);
        e = loaded;
      }
      if (d.type == ValueType::kString) {
        // A string range delta (SETBIT, BITFIELD, SETRANGE): the key is created when missing.
        s = ks->RecoverWriteRange(d.db, k, d.change);
        if (!s.ok()) return Status::Corruption(s.message() + " at sequence " + std::to_string(seq));
        e = ks->RecoverFind(d.db, k);
        e->set_loc(0);  // dirty: its latest state has no full image
        return Status::OK();
      }
      if (e == nullptr) {
        e = Entry::NewObject(d.key, NewEmptyObject(d.type));
        ks->RecoverPut(d.db, k, e);
      }
      if (e->type() != d.type || e->encoding() != Encoding::kObject) {
        return Status::Corruption("delta of a " + std::string(TypeName(d.type)) + " applied to a " +
                                  TypeName(e->type()) + " at sequence " + std::to_string(seq));
      }
      s = e->object()->ApplyDelta(d.change);
      if (!s.ok()) return Status::Corruption(s.message() + " at sequence " + std::to_string(seq));
      e->set_loc(0);  // dirty: its latest state has no full image
      ks->RecoverChanged(e);
      return Status::OK();
    }
    case RecordType::kFlushDb: {
      if (payload.size() != 1) return Status::Corruption("bad flushdb record");
      int db = static_cast<int8_t>(payload[0]);
      for (int i = 0; i < limits::kNumShards; i++) {
        if (t.Applies(i, seq)) ks->RecoverFlushShard(i, db);
      }
      return Status::OK();
    }
    case RecordType::kSwapDb: {
      if (payload.size() != 2) return Status::Corruption("bad swapdb record");
      int a = static_cast<uint8_t>(payload[0]), b = static_cast<uint8_t>(payload[1]);
      if (a >= limits::kNumDatabases || b >= limits::kNumDatabases) {
        return Status::Corruption("bad swapdb record");
      }
      for (int i = 0; i < limits::kNumShards; i++) {
        if (t.Applies(i, seq)) ks->RecoverSwapShard(i, a, b);
      }
      return Status::OK();
    }
    case RecordType::kReplState: {
      std::string id;
      uint64_t off;
      if (!DecodeReplState(payload, &id, &off)) return Status::Corruption("bad replica position");
      if (t.ks == ks_) NoteReplPosition(seq, id, off);
      return Status::OK();
    }
    default:
      return Status::Corruption("unknown record type " + std::to_string(static_cast<int>(type)) +
                                " at sequence " + std::to_string(seq));
  }
}

// ---------------------------------------------------------------------------------------------
// The write path.

void StorageEngine::Capture(Effect& effect) {
  if (effect.kind == EffectKind::kPut && effect.entry->on_disk()) {
    // Only a value in RAM can be logged; load it (MOVE of an evicted key loads it first, so
    // this is a safety net). An evicted entry keeps its location: it has no value in RAM to
    // write again, and its old image stays readable until the new one is placed.
    Entry* loaded = LoadValue(effect.db, effect.entry);
    if (loaded == nullptr) return;
    EncodePut(effect.db, loaded, options_.compress_min, &effect.record);
    Entry::Free(loaded);
    effect.captured = true;
    return;
  }
  (void)CaptureRecord(effect, options_.compress_min);
  // Dirty until the record is appended: the image at its location lacks this change.
  if (effect.kind == EffectKind::kPut || effect.kind == EffectKind::kDelta) {
    effect.entry->set_loc(0);
  }
}

Status StorageEngine::Commit(Txn& txn) {
  std::vector<Effect>& effects = txn.effects();
  // An effect whose value could not be read back has no record (the read error is logged):
  // as before, it is left out rather than logged wrong.
  size_t n = 0;
  Effect* only = nullptr;
  for (Effect& e : effects) {
    if (e.captured) {
      n++;
      only = &e;
    }
  }
  if (n == 0) return Status::OK();
  storage::AppendResult r;
  Status s;
  const bool position = !txn.repl_position_id().empty();
  if (n == 1 && !position) {
    // The record stays whole (its blocks shared, not taken): the followers read it next.
    s = AppendDirect(RecordTypeOf(only->kind), &only->record, only->shard, &r, /*keep=*/true);
    if (s.ok() && only->kind == EffectKind::kPut && only->shard >= 0) {
      // The entry is still there (its shard is locked, and no later change of this
      // transaction freed it: it is the only effect). Record where its image is.
      int db;
      std::string_view key;  // the effect's own view of the key is gone; the record has it
      if (DecodePutKey(only->record.bytes, &db, &key).ok()) {  // the key is never spliced
        Entry* e = ks_->shard(only->shard).dbs[db].Find(key, only->hash);
        if (e != nullptr) e->set_loc(Entry::PackLoc(r.location.segment_id, r.location.offset));
      }
    }
  } else {
    storage::Payload payload;
    for (Effect& e : effects) {
      if (e.captured) EncodeBatchItem(RecordTypeOf(e.kind), e.record, &payload);
    }
    if (position) {
      storage::Payload item;
      EncodeReplState(txn.repl_position_id(), txn.repl_position_offset(), &item.bytes);
      EncodeBatchItem(RecordType::kReplState, item, &payload);
    }
    auto res = writer_->Append(RecordType::kBatch, &payload);
    if (!res.ok()) {
      s = res.status();
      NoteError(s);
    } else {
      r = res.value();
      for (const Effect& e : effects) {
        if (e.shard >= 0) {
          ks_->shard(e.shard).log_seq = r.sequence;
        } else {
          for (int i = 0; i < limits::kNumShards; i++) ks_->shard(i).log_seq = r.sequence;
        }
      }
      // Puts inside a batch have no image of their own: their entries stay without a
      // location (dirty) and get one when evicted or checkpointed.
      if (position) {
        NoteReplPosition(r.sequence, txn.repl_position_id(), txn.repl_position_offset());
      }
    }
  }
  if (s.ok()) txn.set_sequence(r.sequence);
  return s;
}

Status StorageEngine::AppendDirect(RecordType type, storage::Payload* payload, int shard,
                                   storage::AppendResult* out, bool keep) {
  auto res = keep ? writer_->Append(type, static_cast<const storage::Payload&>(*payload))
                  : writer_->Append(type, payload);
  if (!res.ok()) {
    NoteError(res.status());
    return res.status();
  }
  *out = res.value();
  if (shard >= 0) {
    ks_->shard(shard).log_seq = out->sequence;
  } else {
    for (int i = 0; i < limits::kNumShards; i++) ks_->shard(i).log_seq = out->sequence;
  }
  return Status::OK();
}

bool StorageEngine::CanWrite() { return writer_->Health().ok(); }

Status StorageEngine::Health() const {
  Status s = writer_->Health();
  if (s.ok()) return s;
  std::string msg = s.message();
  if (msg.rfind("MISCONF", 0) != 0) msg = "MISCONF Errors writing to the log: " + msg;
  return Status::IOError(msg);
}

std::optional<Entry*> StorageEngine::LoadValueInParts(const Entry* e) {
  const uint64_t loc = e->loc();
  const uint64_t segment = Entry::LocSegment(loc);
  const uint64_t offset = Entry::LocOffset(loc);
  char h[storage::kRecordHeaderSize];
  auto got = reader_->ReadRaw(segment, offset, sizeof(h), h);
  if (!got.ok() || *got != sizeof(h)) return std::nullopt;  // the usual path explains
  const uint64_t len = storage::DecodeFixed32(h + storage::kRecordLengthOffset);
  std::unique_ptr<ImageDecoder> decoder = NewImageDecoder(e->type());
  if (len < kImageInPartsMin || len > storage::kMaxRecordPayloadSize || decoder == nullptr ||
      static_cast<RecordType>(h[storage::kRecordTypeOffset]) != RecordType::kPut) {
    return std::nullopt;
  }
  // The record's checksum, computed over the parts as they are read (the image is decoded as
  // it comes; the value is dropped unless the checksum holds at the end).
  char id[8];
  storage::EncodeFixed64(id, segment);
  uint32_t crc = storage::crc32c::Extend(0, id, sizeof(id));
  crc = storage::crc32c::Extend(crc, h + storage::kRecordChecksummedOffset,
                                storage::kRecordHeaderSize - storage::kRecordChecksummedOffset);
  std::string part(kImagePartBytes, '\0');
  bool prefix_done = false;
  uint64_t value_left = 0;
  for (uint64_t at = 0; at < len;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kImagePartBytes, len - at));
    got = reader_->ReadRaw(segment, offset + storage::kRecordHeaderSize + at, n, part.data());
    if (!got.ok() || *got != n) return std::nullopt;
    crc = storage::crc32c::Extend(crc, part.data(), n);
    std::string_view p(part.data(), n);
    at += n;
    if (!prefix_done) {
      // The first part holds the put's db, flags, type, deadline, key and value length (a key
      // too long for it is read the usual way).
      std::string_view in = p;
      if (in.size() < kPutDbAndExpireBytes || in[1] != 0 ||
          static_cast<ValueType>(in[2]) != e->type()) {
        return std::nullopt;
      }
      in.remove_prefix(kPutDbAndExpireBytes);
      uint64_t key_len;
      if (!GetVarint(&in, &key_len) || key_len > in.size()) return std::nullopt;
      if (in.substr(0, key_len) != e->key()) return std::nullopt;
      in.remove_prefix(key_len);
      if (!GetVarint(&in, &value_left)) return std::nullopt;
      p = in;
      prefix_done = true;
    }
    if (p.size() > value_left) return std::nullopt;
    value_left -= p.size();
    if (!decoder->Feed(p).ok()) return std::nullopt;
  }
  if (value_left != 0 ||
      storage::crc32c::Mask(crc) != storage::DecodeFixed32(h + storage::kRecordCrcOffset)) {
    return std::nullopt;
  }
  auto obj = decoder->Finish();
  if (!obj.ok()) return std::nullopt;
  Entry* loaded = Entry::NewObject(e->key(), *obj);
  loaded->set_expire_ms(e->expire_ms());
  loaded->set_loc(loc);
  return loaded;
}

Entry* StorageEngine::LoadValue(int db, const Entry* e) {
  // A large collection is read and decoded in parts, without its image whole beside it;
  // anything unusual there (not written yet, damaged) is left to the whole read below, which
  // waits, retries and reports.
  if (std::optional<Entry*> in_parts = LoadValueInParts(e)) return *in_parts;
  uint64_t loc = e->loc();
  auto rec = reader_->ReadAtOffset(Entry::LocSegment(loc), Entry::LocOffset(loc));
  if (!rec.ok()) {
    // A value may be evicted as soon as its image is appended, before the flusher has written
    // it to the file (even before it has created the segment). The image was appended before
    // the entry got its location, so once every record appended so far is written it can be
    // read; wait for that (only on this path: a hit in the file costs nothing) and retry.
    if (writer_ != nullptr && writer_->WaitWritten(writer_->stats().last_sequence).ok()) {
      rec = reader_->ReadAtOffset(Entry::LocSegment(loc), Entry::LocOffset(loc));
    }
  }
  if (!rec.ok()) {
    FDB_LOG_WARNING("cannot read value of key '%.*s' back: %s",
                    static_cast<int>(std::min<size_t>(e->key_len(), 64)), e->key().data(),
                    rec.status().ToString().c_str());
    return nullptr;
  }
  PutEffect put;
  if (rec->type != RecordType::kPut || !DecodePut(rec->payload, &put).ok() || put.key != e->key()) {
    FDB_LOG_WARNING("value record of key '%.*s' does not match its entry",
                    static_cast<int>(std::min<size_t>(e->key_len(), 64)), e->key().data());
    return nullptr;
  }
  auto made = EntryFromImage(e->key(), put.type, put.value);
  if (!made.ok() || put.type != e->type()) {
    FDB_LOG_WARNING("value record of key '%.*s' cannot be decoded",
                    static_cast<int>(std::min<size_t>(e->key_len(), 64)), e->key().data());
    return nullptr;
  }
  Entry* loaded = *made;
  loaded->set_expire_ms(e->expire_ms());  // the deadline may have changed since the image
  loaded->set_loc(loc);
  return loaded;
}

namespace {

// Serializes obj in parts of about kImagePartBytes, calling fn(part) for each.
template <class Fn>
void ForEachImagePart(const ValueObject* obj, Fn&& fn) {
  std::string buf;
  buf.reserve(kImagePartBytes + 4096);
  ImageParts parts(
      kImagePartBytes, [](void* arg, std::string_view part) { (*static_cast<Fn*>(arg))(part); },
      &fn);
  obj->SerializeParts(&buf, parts);
  if (!buf.empty()) fn(std::string_view(buf));
}

}  // namespace

bool StorageEngine::WriteImageInParts(int db, Entry* e) {
  // Two passes over the value, under its shard lock: the first for the image's size and
  // checksum (the record's header, written first, holds them), the second writes it. Neither
  // holds more than one part: a collection larger than the RAM budget is written out without
  // its image ever being whole in RAM beside it.
  const ValueObject* obj = e->object();
  uint64_t value_len = 0;
  uint32_t value_crc = 0;
  ForEachImagePart(obj, [&](std::string_view part) {
    value_len += part.size();
    value_crc = storage::crc32c::Extend(value_crc, part.data(), part.size());
  });
  std::string prefix;
  EncodePutPrefix(db, e, value_len, &prefix);
  const uint64_t payload_len = prefix.size() + value_len;
  const uint32_t payload_crc =
      storage::crc32c::Combine(storage::crc32c::Value(prefix), value_crc, value_len);
  auto res = writer_->AppendStreamed(
      RecordType::kPut, payload_len, payload_crc, [&](const storage::LogWriter::PartWriter& write) {
        write(prefix);
        ForEachImagePart(obj, [&](std::string_view part) { write(part); });
      });
  if (!res.ok()) {
    NoteError(res.status());
    return false;
  }
  ks_->shard(Keyspace::ShardOf(e->key())).log_seq = res->sequence;
  e->set_loc(Entry::PackLoc(res->location.segment_id, res->location.offset));
  return true;
}

Status StorageEngine::CopyPutInParts(const storage::RecordLocation& from, int db, int64_t expire_ms,
                                     int shard, storage::AppendResult* out) {
  // The record was checked by the scan that found it; segments do not change once sealed.
  const uint64_t start = from.offset + storage::kRecordHeaderSize;
  const uint64_t len = from.length - storage::kRecordHeaderSize;
  std::string part(kImagePartBytes, '\0');
  // Calls fn(bytes) for the payload read from the file in parts, the first kPutDbAndExpireBytes
  // replaced. A short or failed read ends it early: the size check then fails.
  Status read_status;
  auto for_each_part = [&](auto&& fn) {
    for (uint64_t at = 0; at < len;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kImagePartBytes, len - at));
      auto got = reader_->ReadRaw(from.segment_id, start + at, n, part.data());
      if (!got.ok() || *got != n) {
        read_status =
            got.ok() ? Status::Corruption("a segment shrank while compacted") : got.status();
        return;
      }
      if (at == 0) {
        std::string head(part.data(), kPutDbAndExpireBytes);
        SetPutDbAndExpire(&head, db, expire_ms);
        memcpy(part.data(), head.data(), kPutDbAndExpireBytes);
      }
      fn(std::string_view(part.data(), n));
      at += n;
    }
  };
  uint32_t crc = 0;
  for_each_part(
      [&](std::string_view p) { crc = storage::crc32c::Extend(crc, p.data(), p.size()); });
  if (!read_status.ok()) return read_status;
  // A read failing in the second pass fails the append (its parts fall short): the log then
  // repairs itself as after a failed write.
  auto res = writer_->AppendStreamed(
      RecordType::kPut, len, crc,
      [&](const storage::LogWriter::PartWriter& write) { for_each_part(write); });
  if (!res.ok()) {
    NoteError(res.status());
    return res.status();
  }
  *out = *res;
  ks_->shard(shard).log_seq = res->sequence;
  return Status::OK();
}

bool StorageEngine::WriteImage(int db, Entry* e) {
  // An image is no change of state: while the log fails, refuse it rather than have it
  // appended and discarded (and the key rebuilt) for nothing.
  if (!writer_->Health().ok()) return false;
  if (e->encoding() == Encoding::kObject && options_.compress_min == 0 &&
      e->object()->MemoryUsage() >= kImageInPartsMin) {
    return WriteImageInParts(db, e);
  }
  storage::Payload payload;
  EncodePut(db, e, options_.compress_min, &payload);
  storage::AppendResult r;
  int shard = Keyspace::ShardOf(e->key());
  if (!AppendDirect(RecordType::kPut, &payload, shard, &r).ok()) return false;
  e->set_loc(Entry::PackLoc(r.location.segment_id, r.location.offset));
  return true;
}

void StorageEngine::AddProgressListener(std::function<void()> listener) {
  std::lock_guard<std::mutex> l(listeners_mu_);
  listeners_.push_back(std::move(listener));
}

void StorageEngine::ClearProgressListeners() {
  std::lock_guard<std::mutex> l(listeners_mu_);
  listeners_.clear();
}

Status StorageEngine::WaitForPolicy(uint64_t sequence) {
  if (sequence == 0) return Status::OK();
  return writer_->WaitForPolicy(sequence);
}

void StorageEngine::NoteError(const Status& s) {
  std::lock_guard<std::mutex> l(error_mu_);
  last_error_ = s.message();
}

// ---------------------------------------------------------------------------------------------
// Undoing discarded records.

namespace {

// Adds the key names a record's effect touches to `keys`; false for a flush or swap (every
// key) or a payload that does not decode.
bool CollectKeys(RecordType type, std::string_view payload, std::unordered_set<std::string>* keys) {
  switch (type) {
    case RecordType::kPut: {
      int db;
      std::string_view key;
      if (!DecodePutKey(payload, &db, &key).ok()) return false;
      keys->emplace(key);
      return true;
    }
    case RecordType::kDelete:
    case RecordType::kExpire: {
      KeyEffect ke;
      Status s =
          type == RecordType::kDelete ? DecodeDelete(payload, &ke) : DecodeExpire(payload, &ke);
      if (!s.ok()) return false;
      keys->emplace(ke.key);
      return true;
    }
    case RecordType::kDelta: {
      DeltaEffect d;
      if (!DecodeDelta(payload, &d).ok()) return false;
      keys->emplace(d.key);
      return true;
    }
    case RecordType::kBatch: {
      std::string_view p = payload;
      while (!p.empty()) {
        auto item = static_cast<RecordType>(static_cast<uint8_t>(p[0]));
        p.remove_prefix(1);
        uint64_t n;
        if (!GetVarint(&p, &n) || n > p.size()) return false;
        if (!CollectKeys(item, p.substr(0, n), keys)) return false;
        p.remove_prefix(n);
      }
      return true;
    }
    case RecordType::kReplState:
      return true;  // no key
    default:
      return false;  // kFlushDb, kSwapDb: every key
  }
}

}  // namespace

std::string StorageEngine::DiscardedError() const {
  return std::string(storage::kWriteRefusedPrefix) + writer_->stats().last_error +
         ". The write was not applied.";
}

void StorageEngine::OnDiscard() {
  // Runs on the log's flusher thread. Lock order: maintenance_mu_, then the shards (as a
  // checkpoint or compaction). Holding every shard keeps every append out (each is made
  // under its key's shard lock) and every reader off the keys being rebuilt.
  std::lock_guard<std::mutex> m(maintenance_mu_);
  ShardLockSet all;
  all.LockAll(*ks_);
  storage::UncommittedRecords u = writer_->Uncommitted();
  bool undone = UndoUncommitted(u);
  if (!undone) {
    FDB_LOG_WARNING(
        "cannot undo the records after sequence %llu after a log failure; they are "
        "kept for the retry and their clients wait for it",
        static_cast<unsigned long long>(u.kept_through));
  }
  writer_->Decide(undone);
}

bool StorageEngine::UndoUncommitted(const storage::UncommittedRecords& u) {
  std::unordered_set<std::string> keys;
  bool every_key = false;
  uint64_t records = 0;
  for (const auto& [segment, bytes] : u.pieces) {
    std::string_view p = bytes;
    while (!p.empty()) {
      storage::DecodedRecord d = storage::DecodeRecord(segment, p);
      if (d.check != storage::RecordCheck::kOk) return false;  // our own bytes: never
      ++records;
      if (!CollectKeys(d.type, d.payload, &keys)) every_key = true;
      p.remove_prefix(storage::RecordSize(d.payload_length));
    }
  }
  if (!every_key && keys.empty()) return true;

  // The state of those keys as of u.kept_through: the checkpoint and the log up to there.
  // Everything up to kept_through is in the files (written; the kept records after the last
  // fsync are still in the page cache after an ENOSPC); if the replay cannot reach it (pages
  // lost after a failed fsync), the undo fails and the records are kept instead.
  Keyspace scratch;
  if (every_key) scratch.SetBudget(1, 0);  // a whole rebuild leaves values on disk
  ReplayTarget t;
  t.ks = &scratch;
  t.ckpt_seq.assign(limits::kNumShards, 0);
  t.only = every_key ? nullptr : &keys;
  t.last_sequence = u.kept_through;
  storage::Manifest m;
  {
    std::lock_guard<std::mutex> l(manifest_mu_);
    m = manifest_;
  }
  if (!m.checkpoint_file.empty()) {
    Status s = LoadCheckpoint(t, options_.dir + "/" + m.checkpoint_file);
    if (!s.ok()) {
      FDB_LOG_WARNING("undo: %s", s.ToString().c_str());
      return false;
    }
  }
  uint64_t reached = *std::max_element(t.ckpt_seq.begin(), t.ckpt_seq.end());
  reached = std::max(reached, m.checkpoint_sequence);
  if (!m.segments.empty()) {
    storage::ReplayOptions ro;
    ro.truncate_torn_tail = false;  // the live segment: its tail is the writer's business
    auto r = storage::ReplayLog(
        storage::Env::Default(), options_.dir, m.segments,
        [&](const storage::LogRecord& rec) {
          if (rec.sequence > u.kept_through) return Status::OK();
          reached = std::max(reached, rec.sequence);
          return ApplyRecord(t, rec);
        },
        ro);
    if (!r.ok()) {
      FDB_LOG_WARNING("undo: %s", r.status().ToString().c_str());
      return false;
    }
  }
  // kept_through is a record (or the checkpoint's or recovery's last): not reading it back
  // means some kept records were not read.
  ReshardIfOld(t);  // the scratch keyspace, placed by an old checkpoint's layout
  if (reached < u.kept_through) {
    FDB_LOG_WARNING("undo: the log reads back to sequence %llu only, not %llu",
                    static_cast<unsigned long long>(reached),
                    static_cast<unsigned long long>(u.kept_through));
    return false;
  }

  if (every_key) {
    ks_->ReplaceAllFrom(scratch);
  } else {
    for (const std::string& key : keys) ks_->ReplaceKeyFrom(scratch, key);
  }
  FDB_LOG_WARNING(
      "log failure: %llu records discarded and their effect undone (%s)",
      static_cast<unsigned long long>(records),
      every_key ? "every key rebuilt" : (std::to_string(keys.size()) + " keys").c_str());
  return true;
}

// ---------------------------------------------------------------------------------------------
// Checkpoints and compaction.

Status StorageEngine::Save() {
  std::lock_guard<std::mutex> l(maintenance_mu_);
  return Checkpoint({});
}

Status StorageEngine::BackgroundSave() {
  if (bgsave_running_.exchange(true)) return Status::Busy("Background save already in progress");
  if (bgsave_thread_.joinable()) bgsave_thread_.join();
  bgsave_thread_ = std::thread([this] {
    Status s = Save();
    {
      std::lock_guard<std::mutex> l(manifest_mu_);
      last_bgsave_status_ = s.ok() ? "ok" : "err";
    }
    if (!s.ok()) FDB_LOG_WARNING("BGSAVE failed: %s", s.ToString().c_str());
    bgsave_running_ = false;
  });
  return Status::OK();
}

// REQUIRES: maintenance_mu_ held.
void StorageEngine::NoteReplPosition(uint64_t seq, std::string_view replid, uint64_t offset) {
  std::lock_guard<std::mutex> l(repl_mu_);
  if (seq < repl_seq_) return;
  repl_seq_ = seq;
  repl_id_.assign(replid);
  repl_offset_ = offset;
}

bool StorageEngine::ReplPosition(std::string* replid, uint64_t* offset) {
  std::lock_guard<std::mutex> l(repl_mu_);
  if (repl_id_.empty()) return false;
  *replid = repl_id_;
  *offset = repl_offset_;
  return true;
}

Status StorageEngine::LogReplPosition(std::string_view replid, uint64_t offset) {
  storage::Payload payload;
  EncodeReplState(replid, offset, &payload.bytes);
  storage::AppendResult r;
  Status s = AppendDirect(RecordType::kReplState, &payload, -1, &r);
  if (!s.ok()) return s;
  NoteReplPosition(r.sequence, replid, offset);
  return WaitForPolicy(r.sequence);
}

// REPLICA := seq:u64 repl_state crc:u32 (masked CRC32C of what precedes it), all written to a
// temporary file, fsynced and renamed.
Status StorageEngine::WriteReplFile() {
  std::string body;
  uint64_t seq = 0;
  {
    std::lock_guard<std::mutex> l(repl_mu_);
    if (repl_id_.empty()) return Status::OK();
    storage::PutFixed64(&body, repl_seq_);
    EncodeReplState(repl_id_, repl_offset_, &body);
    seq = repl_seq_;
  }
  // Only a position whose record is durable: the data it speaks of is.
  if (seq > 0) {
    Status durable = writer_->WaitDurable(seq);
    if (!durable.ok()) return durable;
  }
  storage::PutFixed32(&body,
                      storage::crc32c::Mask(storage::crc32c::Value(body.data(), body.size())));
  storage::Env* env = storage::Env::Default();
  const std::string path = options_.dir + "/REPLICA";
  const std::string tmp = path + ".tmp";
  auto file = env->NewWritableFile(tmp);
  if (!file.ok()) return file.status();
  Status s = (*file)->Append(body);
  if (s.ok()) s = (*file)->Sync();
  Status closed = (*file)->Close();
  if (s.ok()) s = closed;
  if (s.ok()) s = env->RenameFile(tmp, path);
  if (s.ok()) s = env->SyncDir(options_.dir);
  return s;
}

void StorageEngine::ReadReplFile() {
  auto read = storage::ReadFileToString(storage::Env::Default(), options_.dir + "/REPLICA");
  if (!read.ok() || read->size() < 12) return;
  std::string_view b = *read;
  const uint32_t crc = storage::DecodeFixed32(b.data() + b.size() - 4);
  if (storage::crc32c::Unmask(crc) != storage::crc32c::Value(b.data(), b.size() - 4)) {
    FDB_LOG_WARNING("recovery: the REPLICA file is corrupt; the replica will sync in full");
    return;
  }
  const uint64_t seq = storage::DecodeFixed64(b.data());
  std::string id;
  uint64_t off;
  if (!DecodeReplState(b.substr(8, b.size() - 12), &id, &off)) return;
  NoteReplPosition(seq, id, off);
}

Status StorageEngine::Checkpoint(const std::vector<uint64_t>& drop_segments) {
  storage::Env* env = storage::Env::Default();
  uint64_t generation;
  {
    std::lock_guard<std::mutex> l(manifest_mu_);
    generation = manifest_.generation + 1;
  }
  std::string name = "CHECKPOINT-" + std::to_string(generation) + ".fdbc";
  std::string path = options_.dir + "/" + name;
  CheckpointWriter w;
  Status s = w.Open(path + ".tmp");
  if (!s.ok()) return s;
  std::vector<uint64_t> shard_seq(limits::kNumShards, 0);
  uint64_t max_seq = 0;
  for (int i = 0; i < limits::kNumShards && s.ok(); i++) {
    Shard& sh = ks_->shard(i);
    ShardGuard g(sh);
    for (int db = 0; db < limits::kNumDatabases && s.ok(); db++) {
      sh.dbs[db].ForEach([&](Entry* e) {
        if (!s.ok()) return;
        // A value without a full image in the log gets one now, so the checkpoint can point
        // at it.
        if (e->loc() == 0 && !WriteImage(db, e)) {
          s = Health();
          if (s.ok()) s = Status::IOError("cannot write value image");
          return;
        }
        CheckpointEntry ce;
        ce.db = db;
        ce.type = e->type();
        ce.key = e->key();
        ce.expire_ms = e->expire_ms();
        ce.loc = e->loc();
        ce.value_len = e->on_disk()                         ? e->disk_value_len()
                       : e->encoding() == Encoding::kObject ? e->object()->MemoryUsage()
                                                            : e->StringLength();
        s = w.Add(ce);
      });
    }
    shard_seq[i] = sh.log_seq;
    max_seq = std::max(max_seq, sh.log_seq);
  }
  if (!s.ok()) return s;
  // Everything the checkpoint points at must be durable before the checkpoint is published.
  if (max_seq > 0) {
    s = writer_->WaitDurable(std::min(max_seq, writer_->stats().last_sequence));
    if (!s.ok()) return s;
  }
  s = w.Finish(shard_seq);
  if (!s.ok()) return s;
  s = env->RenameFile(path + ".tmp", path);
  if (!s.ok()) return s;
  s = env->SyncDir(options_.dir);
  if (!s.ok()) return s;
  // Before the manifest lets old segments go: the replica position's record may be in one.
  s = WriteReplFile();
  if (!s.ok()) return s;
  std::string old_checkpoint;
  {
    std::lock_guard<std::mutex> l(manifest_mu_);
    storage::Manifest m = manifest_;
    m.generation = generation;
    old_checkpoint = m.checkpoint_file;
    m.checkpoint_file = name;
    m.checkpoint_sequence = *std::min_element(shard_seq.begin(), shard_seq.end());
    for (uint64_t id : drop_segments) {
      m.segments.erase(std::remove(m.segments.begin(), m.segments.end(), id), m.segments.end());
    }
    s = storage::WriteManifest(env, options_.dir, m);
    if (!s.ok()) return s;
    manifest_ = std::move(m);
  }
  // Only now, with the new state durable, may old files go.
  if (!old_checkpoint.empty() && old_checkpoint != name) {
    Status rm = env->RemoveFile(options_.dir + "/" + old_checkpoint);
    (void)rm;
  }
  for (uint64_t id : drop_segments) {
    reader_->Forget(id);
    Status rm = env->RemoveFile(storage::SegmentPath(options_.dir, id));
    (void)rm;
  }
  checkpoints_++;
  last_save_s_ = NowMs() / 1000;
  return Status::OK();
}

Status StorageEngine::Compact() {
  std::lock_guard<std::mutex> l(maintenance_mu_);
  storage::Env* env = storage::Env::Default();
  uint64_t current = writer_->stats().current_segment_id;
  std::vector<uint64_t> sealed;
  {
    std::lock_guard<std::mutex> g(manifest_mu_);
    for (uint64_t id : manifest_.segments) {
      if (id < current) sealed.push_back(id);
    }
  }
  if (sealed.empty()) return Status::OK();
  // The flusher writes appended records asynchronously, so the end of a sealed segment may not
  // be in its file yet; a reader would take the file's end for the segment's end and miss the
  // latest images there, whose segment is then deleted. Every record of a sealed segment was
  // appended before the current one began, so waiting for all appended records suffices.
  Status written = writer_->WaitWritten(writer_->stats().last_sequence);
  if (!written.ok()) return written;
  // Copy every record that is still the latest image of its key to the tail of the log.
  // Deletes, deadlines and batches need no copy: the checkpoint that follows holds the state
  // they produced.
  uint64_t after = 0;
  for (uint64_t id : sealed) {
    auto reader =
        storage::SegmentReader::Open(env, storage::SegmentPath(options_.dir, id), id, after, false);
    if (!reader.ok()) return reader.status();
    // Large records (old images of big collections, mostly garbage) are checked in parts and
    // not held whole; the few still live are copied from the file in parts.
    (*reader)->set_partial_payload_min(kImageInPartsMin);
    while (true) {
      auto rec = (*reader)->Next();
      if (!rec.ok()) return rec.status();
      if (!rec->has_value()) break;
      const storage::LogRecord& r = **rec;
      after = r.sequence;
      if (r.type != RecordType::kPut) continue;
      int db;
      std::string_view key;
      std::string whole;  // a partial record whose key is not in its first bytes, read whole
      if (!DecodePutKey(r.payload, &db, &key).ok()) {
        if (r.complete) continue;
        auto full = reader_->ReadAt(r.location);
        if (!full.ok()) return full.status();
        whole = std::move(full->payload);
        if (!DecodePutKey(whole, &db, &key).ok()) continue;
      }
      const bool in_file = !r.complete && whole.empty();
      KeyRef k(key);
      int shard = k.shard;
      Shard& sh = ks_->shard(shard);
      std::lock_guard<AdaptiveMutex> g(sh.mu);
      // The record names the database the key was in when the image was written, but SWAPDB
      // moves keys between databases without writing new images: look in every database for
      // the entry whose image this is (a location belongs to at most one entry).
      const uint64_t packed = Entry::PackLoc(id, r.location.offset);
      Entry* e = nullptr;
      for (int d = 0; d < limits::kNumDatabases && e == nullptr; d++) {
        Entry* candidate = sh.dbs[d].Find(k.key, k.hash);
        if (candidate != nullptr && candidate->loc() == packed) {
          e = candidate;
          db = d;
        }
      }
      if (e == nullptr) continue;
      // The copy becomes the key's latest image, so it carries the key's database and deadline
      // as they are now: were it replayed (a crash before the checkpoint below is published),
      // it must not undo a SWAPDB or an EXPIRE that came after the original record.
      storage::AppendResult res;
      Status s;
      if (in_file) {
        s = CopyPutInParts(r.location, db, e->expire_ms(), shard, &res);
      } else {
        storage::Payload payload{whole.empty() ? std::string(r.payload) : std::move(whole)};
        SetPutDbAndExpire(&payload.bytes, db, e->expire_ms());
        s = AppendDirect(RecordType::kPut, &payload, shard, &res);
      }
      if (!s.ok()) return s;
      e->set_loc(Entry::PackLoc(res.location.segment_id, res.location.offset));
    }
  }
  Status s = Checkpoint(sealed);
  if (s.ok()) compactions_++;
  return s;
}

void StorageEngine::BackgroundLoop() {
  std::unique_lock<std::mutex> l(bg_mu_);
  while (!stopping_) {
    bg_cv_.wait_for(l, std::chrono::milliseconds(500));
    if (stopping_) break;
    l.unlock();
    StorageStats st = stats();
    if (options_.adaptive_segments) {
      uint64_t target =
          std::min<uint64_t>(std::max<uint64_t>(st.live_bytes / 4, options_.segment_min_bytes),
                             options_.segment_target_size);
      writer_->SetSegmentTargetSize(target);
    }
    if (st.healthy && st.log_bytes > options_.compact_min_bytes &&
        static_cast<double>(st.log_bytes) > options_.compact_ratio * st.live_bytes) {
      Status s = Compact();
      if (!s.ok()) FDB_LOG_WARNING("compaction failed: %s", s.ToString().c_str());
    }
    l.lock();
  }
}

StorageStats StorageEngine::stats() {
  StorageStats st;
  storage::LogWriterStats ws = writer_->stats();
  std::vector<uint64_t> segs;
  {
    std::lock_guard<std::mutex> l(manifest_mu_);
    segs = manifest_.segments;
    st.last_bgsave_status = last_bgsave_status_;
  }
  st.segments = segs.size();
  storage::Env* env = storage::Env::Default();
  for (uint64_t id : segs) {
    auto size = env->GetFileSize(storage::SegmentPath(options_.dir, id));
    if (size.ok()) st.log_bytes += *size;
  }
  st.live_bytes = ks_->DataBytes();
  st.compactions = compactions_.load();
  st.checkpoints = checkpoints_.load();
  st.fsyncs = ws.fsyncs;
  st.last_fsync_us = ws.last_fsync_latency_us;
  st.fsync_us_total = ws.fsync_us_total;
  st.fsync_latency_hist = ws.fsync_latency_hist;
  st.write_errors = ws.write_errors;
  st.healthy = !ws.failed;
  {
    std::lock_guard<std::mutex> l(error_mu_);
    st.last_error = ws.failed ? ws.last_error : last_error_;
  }
  st.recovered_records = recovered_records_;
  st.recovery_seconds = recovery_seconds_;
  st.bgsave_in_progress = bgsave_running_.load();
  st.last_save_s = last_save_s_.load();
  return st;
}

}  // namespace fdb
