#include "engine/set_object.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include "base/numbers.h"

namespace fdb {

namespace {

uint8_t WidthFor(int64_t v) {
  if (v >= INT16_MIN && v <= INT16_MAX) return 2;
  if (v >= INT32_MIN && v <= INT32_MAX) return 4;
  return 8;
}

}  // namespace

SetObject::~SetObject() {
  if (enc_ == Enc::kHashtable) {
    delete ht_;
  } else {
    free(buf_);
  }
}

const char* SetObject::encoding_name() const {
  switch (enc_) {
    case Enc::kIntset:
      return "intset";
    case Enc::kListpack:
      return "listpack";
    case Enc::kHashtable:
      return "hashtable";
  }
  return "unknown";
}

size_t SetObject::MemoryUsage() const {
  if (enc_ == Enc::kHashtable) return sizeof(*this) + sizeof(StrTable) + ht_->bytes();
  return sizeof(*this) + (buf_ ? malloc_usable_size(buf_) : 0);
}

int64_t SetObject::IntAt(uint32_t i) const {
  const char* p = buf_ + static_cast<size_t>(i) * width_;
  if (width_ == 2) {
    int16_t v;
    memcpy(&v, p, 2);
    return v;
  }
  if (width_ == 4) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
  }
  int64_t v;
  memcpy(&v, p, 8);
  return v;
}

void SetObject::SetIntAt(uint32_t i, int64_t v) {
  char* p = buf_ + static_cast<size_t>(i) * width_;
  if (width_ == 2) {
    int16_t x = static_cast<int16_t>(v);
    memcpy(p, &x, 2);
  } else if (width_ == 4) {
    int32_t x = static_cast<int32_t>(v);
    memcpy(p, &x, 4);
  } else {
    memcpy(p, &v, 8);
  }
}

uint32_t SetObject::IntSearch(int64_t v, bool* found) const {
  uint32_t lo = 0, hi = count_;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    int64_t x = IntAt(mid);
    if (x == v) {
      *found = true;
      return mid;
    }
    if (x < v) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  *found = false;
  return lo;
}

// REQUIRES: enc_ == kIntset and room for one more integer (count_ < set-max-intset-entries).
bool SetObject::IntAdd(int64_t v) {
  uint8_t w = WidthFor(v);
  if (w > width_) {
    // Upgrade: v is below or above every member, so it goes first or last.
    char* nb = Realloc(nullptr, static_cast<size_t>(count_ + 1) * w);
    uint32_t n = count_;
    // Read with the old width (IntAt uses width_), write with the new one.
    for (uint32_t i = 0; i < n; i++) {
      int64_t x = IntAt(i);
      char* p = nb + static_cast<size_t>(i + (v < 0 ? 1 : 0)) * w;
      if (w == 4) {
        int32_t y = static_cast<int32_t>(x);
        memcpy(p, &y, 4);
      } else {
        memcpy(p, &x, 8);
      }
    }
    free(buf_);
    buf_ = nb;
    width_ = w;
    SetIntAt(v < 0 ? 0 : n, v);
    count_++;
    return true;
  }
  bool found;
  uint32_t pos = IntSearch(v, &found);
  if (found) return false;
  buf_ = Realloc(buf_, static_cast<size_t>(count_ + 1) * width_);
  memmove(buf_ + static_cast<size_t>(pos + 1) * width_, buf_ + static_cast<size_t>(pos) * width_,
          static_cast<size_t>(count_ - pos) * width_);
  SetIntAt(pos, v);
  count_++;
  return true;
}

int64_t SetObject::LpFind(std::string_view m) const {
  const char* p = buf_;
  for (uint32_t i = 0; i < count_; i++) {
    const char* entry = p;
    if (DecodeString(p, &p) == m) return entry - buf_;
  }
  return -1;
}

void SetObject::ConvertTo(Enc to) {
  if (to == Enc::kHashtable) {
    auto* t = new StrTable();
    t->Reserve(count_ + 1);
    ForEach([&](std::string_view m) { t->Insert(StrNode::New(m, {}, false), StrTable::Hash(m)); });
    free(buf_);
    ht_ = t;
    enc_ = Enc::kHashtable;
    len_ = 0;
    count_ = 0;
    return;
  }
  // intset -> listpack.
  std::string lp;
  ForEach([&](std::string_view m) {
    coding::PutVarint(&lp, m.size());
    lp.append(m);
  });
  free(buf_);
  buf_ = nullptr;
  if (!lp.empty()) {
    buf_ = Realloc(nullptr, lp.size());
    memcpy(buf_, lp.data(), lp.size());
  }
  len_ = static_cast<uint32_t>(lp.size());
  enc_ = Enc::kListpack;
}

bool SetObject::IntsFitListpack(size_t max_value) const {
  // The longest is the smallest or the largest integer (at most 20 bytes).
  if (max_value < 20) {
    char buf[24];
    if (FormatInt(IntAt(0), buf).size() > max_value) return false;
    if (FormatInt(IntAt(count_ - 1), buf).size() > max_value) return false;
  }
  // Each string takes at most 20 bytes and a 1-byte length (the new member is checked against
  // the buffer's bound when it is added).
  return static_cast<uint64_t>(count_) * 21 <= EncodingLimits::kBufferBytesMax;
}

bool SetObject::Add(std::string_view member) {
  if (enc_ == Enc::kIntset) {
    int64_t v;
    if (ParseInt64(member, &v)) {
      if (count_ < EncodingLimits::set_max_intset_entries()) return IntAdd(v);
      bool found;
      IntSearch(v, &found);
      if (found) return false;
      // Past the intset's threshold a set of integers goes to the hashtable (Redis's
      // maybeConvertIntset), not to a listpack.
      ConvertTo(Enc::kHashtable);
    } else if (IntsetToListpackTakes(member)) {
      ConvertTo(Enc::kListpack);
    } else {
      ConvertTo(Enc::kHashtable);
    }
  }
  if (enc_ == Enc::kListpack) {
    if (LpFind(member) >= 0) return false;
    if (count_ + 1 > EncodingLimits::set_max_listpack_entries() ||
        member.size() > EncodingLimits::set_max_listpack_value() ||
        len_ + member.size() + 10 > EncodingLimits::kBufferBytesMax) {
      ConvertTo(Enc::kHashtable);
    } else {
      size_t add = VarintLength(member.size()) + member.size();
      buf_ = Realloc(buf_, len_ + add);
      char* p = EncodeVarint(buf_ + len_, member.size());
      if (!member.empty()) memcpy(p, member.data(), member.size());
      len_ = static_cast<uint32_t>(len_ + add);
      count_++;
      return true;
    }
  }
  uint64_t h = StrTable::Hash(member);
  if (ht_->FindLink(member, h) != nullptr) return false;
  ht_->Insert(StrNode::New(member, {}, false), h);
  return true;
}

bool SetObject::Remove(std::string_view member) {
  switch (enc_) {
    case Enc::kIntset: {
      int64_t v;
      if (!ParseInt64(member, &v)) return false;
      bool found;
      uint32_t pos = IntSearch(v, &found);
      if (!found) return false;
      memmove(buf_ + static_cast<size_t>(pos) * width_,
              buf_ + static_cast<size_t>(pos + 1) * width_,
              static_cast<size_t>(count_ - pos - 1) * width_);
      count_--;
      if (count_ == 0) {
        free(buf_);
        buf_ = nullptr;
      } else {
        buf_ = Realloc(buf_, static_cast<size_t>(count_) * width_);
      }
      return true;
    }
    case Enc::kListpack: {
      int64_t off = LpFind(member);
      if (off < 0) return false;
      size_t len = VarintLength(member.size()) + member.size();
      memmove(buf_ + off, buf_ + off + len, len_ - off - len);
      len_ = static_cast<uint32_t>(len_ - len);
      count_--;
      if (len_ == 0) {
        free(buf_);
        buf_ = nullptr;
      } else {
        buf_ = Realloc(buf_, len_);
      }
      return true;
    }
    case Enc::kHashtable:
      return ht_->Erase(member);
  }
  return false;
}

bool SetObject::Contains(std::string_view member) const {
  switch (enc_) {
    case Enc::kIntset: {
      int64_t v;
      if (!ParseInt64(member, &v)) return false;
      bool found;
      IntSearch(v, &found);
      return found;
    }
    case Enc::kListpack:
      return LpFind(member) >= 0;
    case Enc::kHashtable:
      return ht_->Find(member) != nullptr;
  }
  return false;
}

size_t SetObject::AddMembers(std::span<const std::string_view> members, std::string* delta) {
  delta->clear();
  BeginDelta(delta, kDeltaAdd, members.size());
  size_t added = 0;
  for (std::string_view m : members) {
    added += Add(m);
    coding::PutBytes(delta, m);
  }
  return added;
}

size_t SetObject::RemoveMembers(std::span<const std::string_view> members, std::string* delta) {
  delta->clear();
  BeginDelta(delta, kDeltaRemove, members.size());
  size_t removed = 0;
  for (std::string_view m : members) {
    removed += Remove(m);
    coding::PutBytes(delta, m);
  }
  return removed;
}

void SetObject::Random(std::string* out) const {
  switch (enc_) {
    case Enc::kIntset: {
      char buf[24];
      out->assign(FormatInt(IntAt(static_cast<uint32_t>(RandomU64() % count_)), buf));
      return;
    }
    case Enc::kListpack: {
      uint64_t k = RandomU64() % count_;
      const char* p = buf_;
      for (uint64_t i = 0;; i++) {
        std::string_view m = DecodeString(p, &p);
        if (i == k) {
          out->assign(m);
          return;
        }
      }
    }
    case Enc::kHashtable:
      out->assign(ht_->Random()->key());
      return;
  }
}

void SetObject::SerializeParts(std::string* out, const ImageParts& parts) const {
  if (enc_ == Enc::kIntset) {
    coding::PutU8(out, 'I');
    coding::PutVarint(out, count_);
    for (uint32_t i = 0; i < count_; i++) {
      coding::PutSigned(out, IntAt(i));
      parts.Boundary(out);
    }
    return;
  }
  coding::PutU8(out, 'S');
  coding::PutVarint(out, Size());
  if (enc_ == Enc::kListpack) {
    out->append(buf_ ? buf_ : "", len_);
    return;
  }
  ht_->ForEach([&](const StrNode* n) {
    coding::PutBytes(out, n->key());
    parts.Boundary(out);
  });
}

Result<SetObject*> SetObject::Decode(std::string_view image) {
  uint8_t tag;
  uint64_t count;
  if (!coding::GetU8(&image, &tag) || !coding::GetVarint(&image, &count)) return BadImage("set");
  if (tag != 'I' && tag != 'S') return BadImage("set");
  // Every element takes at least one byte: a count beyond the image is corrupt.
  if (count > image.size()) return BadImage("set");
  auto* s = new SetObject();
  // Members are added one by one, converting as the thresholds of the moment say; a set too big
  // for either small encoding starts as the hashtable (Redis's rdbLoadObject sizes it so).
  if (tag == 'S' && count > EncodingLimits::set_max_intset_entries() &&
      count > EncodingLimits::set_max_listpack_entries()) {
    s->ConvertTo(Enc::kHashtable);
    s->ht_->Reserve(count);
  }
  char buf[24];
  for (uint64_t i = 0; i < count; i++) {
    std::string_view m;
    if (tag == 'I') {
      int64_t v;
      if (!coding::GetSigned(&image, &v)) {
        delete s;
        return BadImage("set");
      }
      m = FormatInt(v, buf);
    } else if (!coding::GetBytes(&image, &m)) {
      delete s;
      return BadImage("set");
    }
    s->Add(m);
  }
  if (!image.empty()) {
    delete s;
    return BadImage("set");
  }
  return s;
}

Status SetObject::ApplyDelta(std::string_view delta) {
  uint8_t op;
  uint64_t count;
  if (!coding::GetU8(&delta, &op) || !coding::GetVarint(&delta, &count)) return BadDelta("set");
  if (op != kDeltaAdd && op != kDeltaRemove) return BadDelta("set");
  for (uint64_t i = 0; i < count; i++) {
    std::string_view m;
    if (!coding::GetBytes(&delta, &m)) return BadDelta("set");
    if (op == kDeltaAdd) {
      Add(m);
    } else {
      Remove(m);
    }
  }
  if (!delta.empty()) return BadDelta("set");
  return Status::OK();
}

ValueObject* SetObject::Clone() const {
  auto* s = new SetObject();
  if (enc_ == Enc::kHashtable) {
    s->ConvertTo(Enc::kHashtable);
    s->ht_->Reserve(ht_->size());
    ht_->ForEach([&](const StrNode* n) {
      std::string_view m = n->key();
      s->ht_->Insert(StrNode::New(m, {}, false), StrTable::Hash(m));
    });
    return s;
  }
  size_t bytes = enc_ == Enc::kIntset ? static_cast<size_t>(count_) * width_ : len_;
  if (bytes > 0) {
    s->buf_ = Realloc(nullptr, bytes);
    memcpy(s->buf_, buf_, bytes);
  }
  s->len_ = len_;
  s->count_ = count_;
  s->enc_ = enc_;
  s->width_ = width_;
  return s;
}

ValueObject* NewSetObject() { return new SetObject(); }

Result<ValueObject*> DecodeSetObject(std::string_view image) {
  return AsValueObject(SetObject::Decode(image));
}

}  // namespace fdb
