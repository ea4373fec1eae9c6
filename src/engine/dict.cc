#include "engine/dict.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "base/hash.h"
#include "engine/random.h"

namespace fdb {

namespace {

constexpr size_t kInitialBuckets = 4;

// Reverses the bits of v: the cursor increments in its high bits so that entries moved by a
// resize (which only adds or removes high bits of the index) are not skipped.
uint64_t Rev(uint64_t v) {
  v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
  v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
  v = ((v >> 8) & 0x00FF00FF00FF00FFULL) | ((v & 0x00FF00FF00FF00FFULL) << 8);
  v = ((v >> 16) & 0x0000FFFF0000FFFFULL) | ((v & 0x0000FFFF0000FFFFULL) << 16);
  return (v >> 32) | (v << 32);
}

}  // namespace

Dict::~Dict() { Clear(); }

Dict::Dict(Dict&& o) noexcept : buckets_(o.buckets_), mask_(o.mask_), size_(o.size_) {
  o.buckets_ = nullptr;
  o.mask_ = 0;
  o.size_ = 0;
}

Dict& Dict::operator=(Dict&& o) noexcept {
  if (this != &o) {
    Clear();
    buckets_ = o.buckets_;
    mask_ = o.mask_;
    size_ = o.size_;
    o.buckets_ = nullptr;
    o.mask_ = 0;
    o.size_ = 0;
  }
  return *this;
}

Entry* Dict::Find(std::string_view key, uint64_t hash) const {
  if (buckets_ == nullptr) return nullptr;
  for (Entry* e = buckets_[Index(hash)]; e != nullptr; e = e->next()) {
    if (e->key() == key) return e;
  }
  return nullptr;
}

Entry** Dict::FindLink(std::string_view key, uint64_t hash) {
  if (buckets_ == nullptr) return nullptr;
  Entry** link = &buckets_[Index(hash)];
  while (*link != nullptr) {
    if ((*link)->key() == key) return link;
    link = &(*link)->next_ref();
  }
  return nullptr;
}

void Dict::Insert(Entry* e, uint64_t hash) {
  if (buckets_ == nullptr) {
    Resize(kInitialBuckets);
  } else if (size_ + 1 > mask_ + 1) {
    Resize((mask_ + 1) * 2);
  }
  Entry** b = &buckets_[Index(hash)];
  e->set_next(*b);
  *b = e;
  size_++;
}

Entry* Dict::Replace(Entry** link, Entry* e) {
  Entry* old = *link;
  e->set_next(old->next());
  old->set_next(nullptr);
  *link = e;
  return old;
}

Entry* Dict::Unlink(Entry** link) {
  Entry* old = *link;
  *link = old->next();
  old->set_next(nullptr);
  size_--;
  MaybeShrink();
  return old;
}

void Dict::Clear() {
  if (buckets_ == nullptr) return;
  for (size_t i = 0; i <= mask_; i++) {
    Entry* e = buckets_[i];
    while (e != nullptr) {
      Entry* next = e->next();
      Entry::Free(e);
      e = next;
    }
  }
  free(buckets_);
  buckets_ = nullptr;
  mask_ = 0;
  size_ = 0;
}

void Dict::Resize(size_t buckets) {
  Entry** nb = static_cast<Entry**>(calloc(buckets, sizeof(Entry*)));
  if (nb == nullptr) throw std::bad_alloc();
  size_t nmask = buckets - 1;
  if (buckets_ != nullptr) {
    for (size_t i = 0; i <= mask_; i++) {
      Entry* e = buckets_[i];
      while (e != nullptr) {
        Entry* next = e->next();
        size_t idx = (HashKey(e->key()) >> kHashShift) & nmask;
        e->set_next(nb[idx]);
        nb[idx] = e;
        e = next;
      }
    }
    free(buckets_);
  }
  buckets_ = nb;
  mask_ = nmask;
}

void Dict::MaybeShrink() {
  if (size_ == 0) {
    free(buckets_);
    buckets_ = nullptr;
    mask_ = 0;
    return;
  }
  // Shrink when under 1/8 full, to a table at most half full.
  if (mask_ + 1 > kInitialBuckets && size_ * 8 < mask_ + 1) {
    size_t n = kInitialBuckets;
    while (n < size_ * 2) n *= 2;
    Resize(n);
  }
}

uint64_t Dict::Scan(uint64_t cursor, const std::function<void(Entry*)>& fn) const {
  if (buckets_ == nullptr) return 0;
  for (Entry* e = buckets_[cursor & mask_]; e != nullptr; e = e->next()) fn(e);
  // Increment the reversed cursor: set the unmasked high bits, reverse, add one, reverse.
  cursor |= ~mask_;
  cursor = Rev(cursor);
  cursor++;
  cursor = Rev(cursor);
  return cursor;
}

Entry* Dict::Random() const {
  if (size_ == 0) return nullptr;
  return FairRandomNode(buckets_, mask_, [](Entry* e) { return e->next(); });
}

void Dict::ForEach(const std::function<void(Entry*)>& fn) const {
  if (buckets_ == nullptr) return;
  for (size_t i = 0; i <= mask_; i++) {
    for (Entry* e = buckets_[i]; e != nullptr; e = e->next()) fn(e);
  }
}

size_t Dict::SweepBuckets(uint64_t* cursor, size_t max_buckets,
                          const std::function<bool(Entry*)>& pred,
                          const std::function<void(Entry*)>& on_drop) {
  if (buckets_ == nullptr) {
    *cursor = 0;
    return 0;
  }
  size_t freed = 0;
  size_t idx = *cursor & mask_;
  for (size_t n = 0; n < max_buckets && n <= mask_; n++) {
    Entry** link = &buckets_[idx];
    while (*link != nullptr) {
      Entry* e = *link;
      if (pred(e)) {
        *link = e->next();
        on_drop(e);
        Entry::Free(e);
        size_--;
        freed++;
      } else {
        link = &e->next_ref();
      }
    }
    idx = (idx + 1) & mask_;
  }
  *cursor = idx;
  // Shrinking here would invalidate the cursor's meaning only by changing its range, which the
  // mask above absorbs; do it so an expired-out table gives its memory back.
  MaybeShrink();
  return freed;
}

}  // namespace fdb
