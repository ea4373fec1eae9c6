#include "engine/entry.h"

#include <charconv>
#include <cstdlib>
#include <new>

#include "base/limits.h"

namespace fdb {

const char* TypeName(ValueType t) {
  switch (t) {
    case ValueType::kString:
      return "string";
    case ValueType::kList:
      return "list";
    case ValueType::kSet:
      return "set";
    case ValueType::kZSet:
      return "zset";
    case ValueType::kHash:
      return "hash";
    case ValueType::kStream:
      return "stream";
  }
  return "none";
}

Entry* Entry::Allocate(std::string_view key, size_t extra) {
  void* p = malloc(sizeof(Entry) + key.size() + extra);
  if (p == nullptr) throw std::bad_alloc();
  Entry* e = new (p) Entry();
  e->next_ = nullptr;
  e->expire_ms_ = 0;
  e->slot_ = 0;
  e->loc_ = 0;
  memcpy(e->data_, key.data(), key.size());
  return e;
}

Entry* Entry::NewOnDisk(std::string_view key, ValueType type, int64_t expire_ms, uint64_t loc,
                        uint64_t value_len) {
  Entry* e = Allocate(key, 0);
  e->set_meta(type, Encoding::kOnDisk, static_cast<uint32_t>(key.size()));
  e->expire_ms_ = expire_ms;
  e->slot_ = value_len;
  e->loc_ = loc;
  return e;
}

Entry* Entry::NewString(std::string_view key, std::string_view value) {
  int64_t v;
  // Like Redis, only short canonical integers become kInt, so "007" stays a string.
  if (value.size() <= 20 && ParseInt64(value, &v)) return NewInt(key, v);
  Entry* e = Allocate(key, value.size());
  e->set_meta(ValueType::kString, Encoding::kInline, static_cast<uint32_t>(key.size()));
  e->slot_ = value.size();
  if (!value.empty()) memcpy(e->data_ + key.size(), value.data(), value.size());
  return e;
}

Entry* Entry::NewInlineString(std::string_view key, size_t len, bool raw) {
  Entry* e = Allocate(key, len);
  e->set_meta(ValueType::kString, Encoding::kInline, static_cast<uint32_t>(key.size()));
  if (raw) e->meta_ |= kFlagRaw;
  e->slot_ = len;
  return e;
}

Entry* Entry::NewLarge(std::string_view key, BlockRef block) {
  Entry* e = Allocate(key, 0);
  e->set_meta(ValueType::kString, Encoding::kLarge, static_cast<uint32_t>(key.size()));
  e->slot_ = reinterpret_cast<uint64_t>(block.release());
  return e;
}

Entry* Entry::NewStringImage(std::string_view key, std::string_view value) {
  if (value.size() >= limits::kLargeValueMin) {
    // A value read back keeps the layout it had when it was set (and OBJECT ENCODING says the
    // same); failing to get the block falls back to the inline entry, which throws as ever.
    if (SharedBlock* b = SharedBlock::Copy(value)) return NewLarge(key, BlockRef::Adopt(b));
  }
  return NewString(key, value);
}

Entry* Entry::NewInt(std::string_view key, int64_t v) {
  Entry* e = Allocate(key, 0);
  e->set_meta(ValueType::kString, Encoding::kInt, static_cast<uint32_t>(key.size()));
  e->slot_ = static_cast<uint64_t>(v);
  return e;
}

Entry* Entry::NewObject(std::string_view key, ValueObject* obj) {
  Entry* e = Allocate(key, 0);
  e->set_meta(obj->type(), Encoding::kObject, static_cast<uint32_t>(key.size()));
  e->slot_ = reinterpret_cast<uint64_t>(obj);
  return e;
}

Entry* Entry::Clone(const Entry* src, std::string_view key) {
  Entry* e;
  switch (src->encoding()) {
    case Encoding::kInt:
      e = NewInt(key, src->int_value());
      break;
    case Encoding::kInline: {
      std::string_view v = src->inline_value();
      e = NewInlineString(key, v.size(), (src->meta_ & kFlagRaw) != 0);
      if (!v.empty()) memcpy(e->mutable_inline_value(), v.data(), v.size());
      break;
    }
    case Encoding::kObject:
      e = NewObject(key, src->object()->Clone());
      break;
    case Encoding::kLarge:  // immutable: the copy shares the bytes
      e = NewLarge(key, BlockRef::Share(src->large_block()));
      break;
    default:
      return nullptr;  // an evicted entry has no value to copy: callers load it first
  }
  e->expire_ms_ = src->expire_ms_;
  e->set_lru(src->lru());
  return e;
}

void Entry::Free(Entry* e) {
  if (e == nullptr) return;
  if (e->encoding() == Encoding::kObject) delete e->object();
  if (e->encoding() == Encoding::kLarge) e->large_block()->Unref();
  e->~Entry();
  free(e);
}

const char* Entry::encoding_name() const {
  switch (encoding()) {
    case Encoding::kInt:
      return "int";
    // Redis calls strings of up to 44 bytes "embstr" (stored with their header), longer ones
    // "raw". FDB stores both inline; the names are kept for clients that look at them.
    case Encoding::kInline:
      return slot_ <= 44 && !(meta_ & kFlagRaw) ? "embstr" : "raw";
    case Encoding::kObject:
      return object()->encoding_name();
    case Encoding::kLarge:
      return "raw";  // as Redis for every string longer than 44 bytes
    case Encoding::kOnDisk:
      return "ondisk";
  }
  return "unknown";
}

namespace {
// Room for a string of n bytes that is being grown by range writes.
size_t GrowRoom(size_t n) {
  constexpr size_t kStep = 1024 * 1024;
  return n < kStep ? n * 2 : n + kStep;
}
}  // namespace

Entry* Entry::WriteRange(uint64_t offset, std::string_view bytes) {
  const Encoding enc = encoding();
  const size_t len = enc == Encoding::kInt ? StringLength() : string_bytes().size();
  const size_t end = static_cast<size_t>(offset) + bytes.size();
  const size_t new_len = end > len ? end : len;
  auto fill = [&](char* p) {
    if (offset > len) memset(p + len, 0, offset - len);
    if (!bytes.empty()) memcpy(p + offset, bytes.data(), bytes.size());
  };
  if (enc == Encoding::kInline && new_len == len && encoding_name()[0] == 'r') {
    fill(mutable_inline_value());
    return this;
  }
  if (enc == Encoding::kLarge) {
    auto* b = const_cast<SharedBlock*>(large_block());
    // One owner (this entry, under its shard's lock): nobody reads the bytes but through it.
    if (b->use_count() == 1 &&
        (new_len <= b->capacity() || b->Reserve(GrowRoom(new_len)) || b->Reserve(new_len))) {
      fill(b->mutable_data());
      b->set_size(new_len);
      return this;
    }
  }
  std::string scratch;
  std::string_view cur = StringValue(&scratch);
  Entry* e;
  if (new_len >= kRangeLargeMin) {
    // Room to grow only for a string that already had bytes: as Redis (sdsnewlen for a new
    // key, sdsMakeRoomFor's greedy growth for a longer one), a key that one SETRANGE creates
    // costs its length, not twice it.
    SharedBlock* b = SharedBlock::New(len > 0 && new_len > len ? GrowRoom(new_len) : new_len);
    if (b == nullptr) b = SharedBlock::New(new_len);
    if (b == nullptr) throw std::bad_alloc();
    if (!cur.empty()) memcpy(b->mutable_data(), cur.data(), cur.size());
    fill(b->mutable_data());
    b->set_size(new_len);
    e = NewLarge(key(), BlockRef::Adopt(b));
  } else {
    e = NewInlineString(key(), new_len, /*raw=*/true);
    if (!cur.empty()) memcpy(e->mutable_inline_value(), cur.data(), cur.size());
    fill(e->mutable_inline_value());
  }
  e->expire_ms_ = expire_ms_;
  e->set_lru(lru());
  return e;
}

std::string_view Entry::StringValue(std::string* scratch) const {
  if (is_int()) {
    *scratch = FormatInt64(int_value());
    return *scratch;
  }
  return string_bytes();
}

size_t Entry::StringLength() const {
  if (is_int()) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof(buf), int_value());
    return r.ptr - buf;
  }
  if (encoding() == Encoding::kLarge) return large_block()->size();
  return slot_;
}

size_t Entry::MemoryUsage() const {
  size_t n = sizeof(Entry) + key_len();
  if (encoding() == Encoding::kInline) n += slot_;
  if (encoding() == Encoding::kObject) n += object()->MemoryUsage();
  if (encoding() == Encoding::kLarge) n += sizeof(SharedBlock) + large_block()->capacity();
  return n;
}

}  // namespace fdb
