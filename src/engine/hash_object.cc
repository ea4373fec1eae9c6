#include "engine/hash_object.h"

#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "absl/container/inlined_vector.h"
#include "base/check.h"

namespace fdb {

namespace {

size_t StringBytes(std::string_view s) { return VarintLength(s.size()) + s.size(); }

char* PutString(char* p, std::string_view s) {
  p = EncodeVarint(p, s.size());
  if (!s.empty()) memcpy(p, s.data(), s.size());
  return p + s.size();
}

}  // namespace

HashObject::~HashObject() {
  if (big_) {
    delete ht_;
  } else {
    free(lp_);
  }
}

size_t HashObject::MemoryUsage() const {
  if (big_) return sizeof(*this) + sizeof(StrTable) + ht_->bytes();
  return sizeof(*this) + (lp_ ? malloc_usable_size(lp_) : 0);
}

int64_t HashObject::LpFind(std::string_view field) const {
  const char* p = lp_;
  for (uint32_t i = 0; i < lp_count_; i++) {
    const char* entry = p;
    std::string_view f = DecodeString(p, &p);
    uint64_t vlen;
    p = DecodeVarint(p, &vlen);
    p += vlen;
    if (f == field) return entry - lp_;
  }
  return -1;
}

bool HashObject::Get(std::string_view field, std::string_view* value) const {
  if (big_) {
    const StrNode* n = ht_->Find(field);
    if (n == nullptr) return false;
    *value = n->value();
    return true;
  }
  int64_t off = LpFind(field);
  if (off < 0) return false;
  const char* p = lp_ + off;
  DecodeString(p, &p);
  *value = DecodeString(p, &p);
  return true;
}

bool HashObject::Set(std::string_view field, std::string_view value) {
  // As Redis's hashTypeSet, a listpack over the entry threshold (lowered by CONFIG SET since it
  // grew) converts on any write, a new field's included below.
  const size_t max_entries = EncodingLimits::hash_max_listpack_entries();
  if (!big_ && (!ListpackTakes(field, value) || lp_count_ > max_entries)) ConvertToHashtable();
  if (big_) {
    uint64_t h = StrTable::Hash(field);  // the one hash of the field on the HSET path
    StrNode** link = ht_->FindLink(field, h);
    if (link == nullptr) {
      ht_->Insert(StrNode::New(field, value, true), h);
      return true;
    }
    if (!(*link)->SetValueInPlace(value)) ht_->Replace(link, StrNode::New(field, value, true));
    return false;
  }
  int64_t off = LpFind(field);
  if (off >= 0) {
    // Replace the value bytes, moving the tail when the size changes.
    const char* p = lp_ + off;
    DecodeString(p, &p);
    const char* vstart = p;
    std::string_view old = DecodeString(p, &p);
    size_t old_bytes = static_cast<size_t>(p - vstart);
    size_t new_bytes = StringBytes(value);
    size_t voff = static_cast<size_t>(vstart - lp_);
    size_t tail = lp_len_ - voff - old_bytes;
    if (new_bytes == old_bytes) {
      if (!value.empty() && value.data() != old.data())
        memmove(lp_ + voff + (old_bytes - old.size()), value.data(), value.size());
      return false;
    }
    if (new_bytes > old_bytes) lp_ = Realloc(lp_, lp_len_ - old_bytes + new_bytes);
    memmove(lp_ + voff + new_bytes, lp_ + voff + old_bytes, tail);
    PutString(lp_ + voff, value);
    lp_len_ = static_cast<uint32_t>(lp_len_ - old_bytes + new_bytes);
    if (new_bytes < old_bytes) lp_ = Realloc(lp_, lp_len_);
    return false;
  }
  if (lp_count_ + 1 > max_entries) {
    ConvertToHashtable();
    ht_->Insert(StrNode::New(field, value, true), StrTable::Hash(field));
    return true;
  }
  size_t add = StringBytes(field) + StringBytes(value);
  lp_ = Realloc(lp_, lp_len_ + add);
  char* p = PutString(lp_ + lp_len_, field);
  PutString(p, value);
  lp_len_ = static_cast<uint32_t>(lp_len_ + add);
  lp_count_++;
  return true;
}

bool HashObject::Delete(std::string_view field) {
  if (big_) return ht_->Erase(field);
  int64_t off = LpFind(field);
  if (off < 0) return false;
  const char* p = lp_ + off;
  DecodeString(p, &p);
  DecodeString(p, &p);
  size_t len = static_cast<size_t>(p - (lp_ + off));
  memmove(lp_ + off, lp_ + off + len, lp_len_ - off - len);
  lp_len_ = static_cast<uint32_t>(lp_len_ - len);
  lp_count_--;
  if (lp_len_ == 0) {
    free(lp_);
    lp_ = nullptr;
  } else {
    lp_ = Realloc(lp_, lp_len_);
  }
  return true;
}

size_t HashObject::SetFields(std::span<const std::string_view> fv, std::string* delta) {
  FDB_CHECK(fv.size() % 2 == 0);
  delta->clear();
  BeginDelta(delta, kDeltaSet, fv.size() / 2);
  size_t added = 0;
  for (size_t i = 0; i < fv.size(); i += 2) {
    added += Set(fv[i], fv[i + 1]);
    coding::PutBytes(delta, fv[i]);
    coding::PutBytes(delta, fv[i + 1]);
  }
  return added;
}

size_t HashObject::DeleteFields(std::span<const std::string_view> fields, std::string* delta) {
  delta->clear();
  BeginDelta(delta, kDeltaDel, fields.size());
  size_t deleted = 0;
  for (std::string_view f : fields) {
    deleted += Delete(f);
    coding::PutBytes(delta, f);
  }
  return deleted;
}

void HashObject::ConvertToHashtable() {
  auto* t = new StrTable();
  t->Reserve(lp_count_ + 1);
  const char* p = lp_;
  for (uint32_t i = 0; i < lp_count_; i++) {
    std::string_view f = DecodeString(p, &p);
    std::string_view v = DecodeString(p, &p);
    t->Insert(StrNode::New(f, v, true), StrTable::Hash(f));
  }
  free(lp_);
  ht_ = t;
  big_ = true;
  lp_len_ = 0;
  lp_count_ = 0;
}

void HashObject::Random(std::string_view* field, std::string_view* value) const {
  if (big_) {
    const StrNode* n = ht_->Random();
    *field = n->key();
    *value = n->value();
    return;
  }
  uint64_t k = RandomU64() % lp_count_;
  const char* p = lp_;
  for (uint64_t i = 0;; i++) {
    std::string_view f = DecodeString(p, &p);
    std::string_view v = DecodeString(p, &p);
    if (i == k) {
      *field = f;
      *value = v;
      return;
    }
  }
}

void HashObject::SerializeParts(std::string* out, const ImageParts& parts) const {
  coding::PutVarint(out, Size());
  if (!big_) {
    out->append(lp_ ? lp_ : "", lp_len_);
    return;
  }
  ht_->ForEach([&](const StrNode* n) {
    coding::PutBytes(out, n->key());
    coding::PutBytes(out, n->value());
    parts.Boundary(out);
  });
}

Result<HashObject*> HashObject::Decode(std::string_view image) {
  std::string_view in = image;
  uint64_t count;
  if (!coding::GetVarint(&in, &count)) return BadImage("hash");
  // Validate every string first, and see whether the hash fits a listpack under the thresholds
  // of the moment (Redis's rdbLoadObject chooses the same way).
  std::string_view body = in;
  const size_t max_value = EncodingLimits::hash_max_listpack_value();
  bool small = count <= EncodingLimits::hash_max_listpack_entries() &&
               body.size() <= EncodingLimits::kBufferBytesMax;
  absl::InlinedVector<std::string_view, 16> fields;
  for (uint64_t i = 0; i < count; i++) {
    std::string_view f, v;
    if (!coding::GetBytes(&in, &f) || !coding::GetBytes(&in, &v)) return BadImage("hash");
    if (f.size() > max_value || v.size() > max_value) small = false;
    if (small) fields.push_back(f);
  }
  if (!in.empty()) return BadImage("hash");
  // The listpack buffer is taken as it is, so a field that repeats (an image Serialize never
  // writes) must be refused here: it would count twice. A hashtable dedups as it is built.
  if (small && fields.size() > 1) {
    std::sort(fields.begin(), fields.end());
    if (std::adjacent_find(fields.begin(), fields.end()) != fields.end()) return BadImage("hash");
  }
  auto* h = new HashObject();
  if (small) {
    if (count > 0) {
      // The image's body is the listpack buffer, its fields checked distinct above.
      h->lp_ = Realloc(nullptr, body.size());
      memcpy(h->lp_, body.data(), body.size());
      h->lp_len_ = static_cast<uint32_t>(body.size());
      h->lp_count_ = static_cast<uint32_t>(count);
    }
    return h;
  }
  h->ConvertToHashtable();
  h->ht_->Reserve(count);
  std::string_view p = body;
  for (uint64_t i = 0; i < count; i++) {
    std::string_view f, v;
    coding::GetBytes(&p, &f);
    coding::GetBytes(&p, &v);
    h->Set(f, v);
  }
  return h;
}

Status HashObject::ApplyDelta(std::string_view delta) {
  uint8_t op;
  uint64_t count;
  if (!coding::GetU8(&delta, &op) || !coding::GetVarint(&delta, &count)) return BadDelta("hash");
  if (op != kDeltaSet && op != kDeltaDel) return BadDelta("hash");
  for (uint64_t i = 0; i < count; i++) {
    std::string_view f, v;
    if (!coding::GetBytes(&delta, &f)) return BadDelta("hash");
    if (op == kDeltaSet) {
      if (!coding::GetBytes(&delta, &v)) return BadDelta("hash");
      Set(f, v);
    } else {
      Delete(f);
    }
  }
  if (!delta.empty()) return BadDelta("hash");
  return Status::OK();
}

ValueObject* HashObject::Clone() const {
  auto* h = new HashObject();
  if (!big_) {
    if (lp_len_ > 0) {
      h->lp_ = Realloc(nullptr, lp_len_);
      memcpy(h->lp_, lp_, lp_len_);
    }
    h->lp_len_ = lp_len_;
    h->lp_count_ = lp_count_;
    return h;
  }
  h->ConvertToHashtable();
  h->ht_->Reserve(ht_->size());
  ht_->ForEach([&](const StrNode* n) {
    std::string_view f = n->key();
    h->ht_->Insert(StrNode::New(f, n->value(), true), StrTable::Hash(f));
  });
  return h;
}

ValueObject* NewHashObject() { return new HashObject(); }

Result<ValueObject*> DecodeHashObject(std::string_view image) {
  return AsValueObject(HashObject::Decode(image));
}

}  // namespace fdb
