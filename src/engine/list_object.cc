// The list type: see list_object.h for the model.
//
// Element encoding (listpack-like, docs/format.md "List image and deltas" describes only the
// image, which does not depend on it):
//
//   element := header data backlen
//   header  := 0b0lllllll                        string of 0..127 bytes
//            | 0b10llllll llllllll               string of up to 16383 bytes
//            | 0xF0 len:4 bytes LE               string
//            | 0xF0+n (n = 1..8)                 integer: n bytes LE, two's complement
//   backlen := size of header+data as a varint written backwards (7 bits a byte, the byte
//              nearest the element's end first; a set high bit means another byte precedes)
#include "engine/list_object.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include "base/numbers.h"
#include "engine/collections.h"

namespace fdb {

namespace {

constexpr uint32_t kMaxData = ListObject::kNodeBytes - 16;  // data bytes of a full node
constexpr uint32_t kMinCap = 32;                            // first allocation of a node
constexpr uint32_t kMallocOverhead = 8;                     // glibc chunk header

constexpr uint8_t kStr32 = 0xF0;

uint32_t BacklenSize(uint32_t s) {
  uint32_t n = 1;
  while (s >= 128) {
    s >>= 7;
    n++;
  }
  return n;
}

// Writes backlen of s ending at p + BacklenSize(s).
void PutBacklen(char* p, uint32_t s) {
  uint32_t n = BacklenSize(s);
  // byte nearest the end holds the low 7 bits; earlier bytes the higher groups.
  for (uint32_t i = 0; i < n; i++) {
    uint8_t b = static_cast<uint8_t>(s & 127);
    s >>= 7;
    if (i + 1 < n) b |= 128;
    p[n - 1 - i] = static_cast<char>(b);
  }
}

// Minimal bytes for v as two's complement.
int IntBytes(int64_t v) {
  for (int n = 1; n < 8; n++) {
    int64_t lo = -(int64_t{1} << (8 * n - 1));
    int64_t hi = (int64_t{1} << (8 * n - 1)) - 1;
    if (v >= lo && v <= hi) return n;
  }
  return 8;
}

bool AsInt(std::string_view v, int64_t* out) {
  return !v.empty() && v.size() <= 20 && ParseInt64(v, out);
}

uint32_t HeaderAndData(std::string_view v, int64_t* iv, bool* is_int) {
  *is_int = AsInt(v, iv);
  if (*is_int) return 1 + IntBytes(*iv);
  if (v.size() < 128) return 1 + static_cast<uint32_t>(v.size());
  if (v.size() < 16384) return 2 + static_cast<uint32_t>(v.size());
  return 5 + static_cast<uint32_t>(v.size());
}

// Writes the encoding of v at p (EncodedSize(v) bytes).
void EncodeAt(std::string_view v, char* p) {
  int64_t iv;
  bool is_int;
  uint32_t s = HeaderAndData(v, &iv, &is_int);
  char* q = p;
  if (is_int) {
    int n = IntBytes(iv);
    *q++ = static_cast<char>(kStr32 + n);
    uint64_t u = static_cast<uint64_t>(iv);
    for (int i = 0; i < n; i++) *q++ = static_cast<char>(u >> (8 * i));
  } else {
    size_t len = v.size();
    if (len < 128) {
      *q++ = static_cast<char>(len);
    } else if (len < 16384) {
      *q++ = static_cast<char>(0x80 | (len >> 8));
      *q++ = static_cast<char>(len & 0xff);
    } else {
      *q++ = static_cast<char>(kStr32);
      for (int i = 0; i < 4; i++) *q++ = static_cast<char>(len >> (8 * i));
    }
    if (len > 0) memcpy(q, v.data(), len);
    q += len;
  }
  PutBacklen(q, s);
}

// Size of the element starting at p, backlen included.
uint32_t ElemSize(const char* p) {
  const char* next;
  listpack::Decode(p, &next);
  return static_cast<uint32_t>(next - p);
}

}  // namespace

namespace listpack {

uint32_t EncodedSize(std::string_view v) {
  int64_t iv;
  bool is_int;
  uint32_t s = HeaderAndData(v, &iv, &is_int);
  return s + BacklenSize(s);
}

void Encode(std::string_view v, std::string* out) {
  size_t at = out->size();
  out->resize(at + EncodedSize(v));
  EncodeAt(v, out->data() + at);
}

ListObject::Elem Decode(const char* p, const char** next) {
  ListObject::Elem e;
  uint8_t b = static_cast<uint8_t>(p[0]);
  uint32_t s;
  if (b < 0x80) {
    e.str = {p + 1, b};
    s = 1 + b;
  } else if (b < 0xC0) {
    uint32_t len = (static_cast<uint32_t>(b & 0x3f) << 8) | static_cast<uint8_t>(p[1]);
    e.str = {p + 2, len};
    s = 2 + len;
  } else if (b == kStr32) {
    uint32_t len = 0;
    for (int i = 0; i < 4; i++)
      len |= static_cast<uint32_t>(static_cast<uint8_t>(p[1 + i])) << (8 * i);
    e.str = {p + 5, len};
    s = 5 + len;
  } else {
    int n = b - kStr32;
    uint64_t u = 0;
    for (int i = 0; i < n; i++)
      u |= static_cast<uint64_t>(static_cast<uint8_t>(p[1 + i])) << (8 * i);
    if (n < 8 && (u >> (8 * n - 1)) & 1) u |= ~uint64_t{0} << (8 * n);  // sign-extend
    e.num = static_cast<int64_t>(u);
    e.is_int = true;
    s = 1 + n;
  }
  *next = p + s + BacklenSize(s);
  return e;
}

const char* Prev(const char* end) {
  const char* q = end - 1;
  uint32_t s = 0;
  int shift = 0;
  while (true) {
    uint8_t b = static_cast<uint8_t>(*q);
    s |= static_cast<uint32_t>(b & 127) << shift;
    shift += 7;
    if (!(b & 128)) break;
    q--;
  }
  return q - s;
}

}  // namespace listpack

std::string_view ListObject::Elem::View(char (&buf)[24]) const {
  if (!is_int) return str;
  auto r = std::to_chars(buf, buf + sizeof(buf), num);
  return {buf, static_cast<size_t>(r.ptr - buf)};
}

bool ListObject::Elem::Equals(std::string_view s) const {
  if (!is_int) return str == s;
  char buf[24];
  return View(buf) == s;
}

std::string ListObject::Elem::ToString() const {
  char buf[24];
  return std::string(View(buf));
}

ListObject::~ListObject() {
  for (Node* n : nodes_) free(n);
}

ListObject::Node* ListObject::NewNode(uint32_t cap, bool at_end) {
  Node* n = static_cast<Node*>(malloc(sizeof(Node) + cap));
  n->cap = cap;
  n->start = n->end = at_end ? cap : 0;
  n->count = 0;
  Account(sizeof(Node) + cap + kMallocOverhead + sizeof(Node*));
  return n;
}

void ListObject::FreeNode(size_t ni) {
  Node* n = nodes_[ni];
  Account(-static_cast<int64_t>(sizeof(Node) + n->cap + kMallocOverhead + sizeof(Node*)));
  free(n);
  nodes_.erase(nodes_.begin() + ni);
}

void ListObject::Reserve(size_t ni, uint32_t need, bool front) {
  Node* n = nodes_[ni];
  uint32_t room = front ? n->start : n->cap - n->end;
  if (room >= need) return;
  uint32_t used = n->used();
  uint32_t free_bytes = n->cap - used;
  if (free_bytes >= need && (n->cap >= kMaxData || used + need <= n->cap / 4 * 3)) {
    // Enough free bytes in the node: move the data, leaving half the free room (at least
    // `need`) on the growing side, so pushes at alternating ends do not move it every time.
    uint32_t grow = std::max(need, free_bytes / 2);
    uint32_t ns = front ? grow : free_bytes - grow;
    memmove(n->data + ns, n->data + n->start, used);
    n->start = ns;
    n->end = ns + used;
    return;
  }
  uint32_t cap = std::max<uint32_t>(std::max(n->cap * 2, kMinCap), used + need);
  if (cap > kMaxData) cap = std::max(kMaxData, used + need);
  Node* m = static_cast<Node*>(malloc(sizeof(Node) + cap));
  m->cap = cap;
  m->count = n->count;
  m->start = front ? cap - used : 0;
  m->end = m->start + used;
  memcpy(m->data + m->start, n->data + n->start, used);
  Account(static_cast<int64_t>(cap) - static_cast<int64_t>(n->cap));
  free(n);
  nodes_[ni] = m;
}

void ListObject::PushFront(std::string_view v) {
  uint32_t s = listpack::EncodedSize(v);
  if (nodes_.empty() || nodes_.front()->used() + s > kMaxData) {
    nodes_.insert(nodes_.begin(), NewNode(std::max(kMinCap, s), /*at_end=*/true));
  }
  Reserve(0, s, /*front=*/true);
  Node* n = nodes_.front();
  n->start -= s;
  EncodeAt(v, n->data + n->start);
  n->count++;
  size_++;
}

void ListObject::PushBack(std::string_view v) {
  uint32_t s = listpack::EncodedSize(v);
  if (nodes_.empty() || nodes_.back()->used() + s > kMaxData) {
    nodes_.push_back(NewNode(std::max(kMinCap, s), /*at_end=*/false));
  }
  size_t ni = nodes_.size() - 1;
  Reserve(ni, s, /*front=*/false);
  Node* n = nodes_[ni];
  EncodeAt(v, n->data + n->end);
  n->end += s;
  n->count++;
  size_++;
}

std::string ListObject::PopFront() {
  Node* n = nodes_.front();
  const char* next;
  std::string out = listpack::Decode(n->begin_ptr(), &next).ToString();
  n->start = static_cast<uint32_t>(next - n->data);
  size_--;
  if (--n->count == 0) FreeNode(0);
  return out;
}

std::string ListObject::PopBack() {
  Node* n = nodes_.back();
  const char* p = listpack::Prev(n->end_ptr());
  const char* next;
  std::string out = listpack::Decode(p, &next).ToString();
  n->end = static_cast<uint32_t>(p - n->data);
  size_--;
  if (--n->count == 0) FreeNode(nodes_.size() - 1);
  return out;
}

void ListObject::Locate(size_t i, size_t* node, uint32_t* off) const {
  size_t ni;
  size_t j;  // index within node ni
  if (i < size_ / 2) {
    ni = 0;
    j = i;
    while (j >= nodes_[ni]->count) j -= nodes_[ni++]->count;
  } else {
    ni = nodes_.size() - 1;
    size_t from_end = size_ - 1 - i;  // 0 = last element
    while (from_end >= nodes_[ni]->count) from_end -= nodes_[ni--]->count;
    j = nodes_[ni]->count - 1 - from_end;
  }
  const Node* n = nodes_[ni];
  const char* p;
  if (j <= n->count / 2) {
    p = n->begin_ptr();
    for (size_t k = 0; k < j; k++) p += ElemSize(p);
  } else {
    p = n->end_ptr();
    for (size_t k = n->count; k > j; k--) p = listpack::Prev(p);
  }
  *node = ni;
  *off = static_cast<uint32_t>(p - n->data);
}

ListObject::Elem ListObject::At(size_t i) const {
  size_t ni;
  uint32_t off;
  Locate(i, &ni, &off);
  const char* next;
  return listpack::Decode(nodes_[ni]->data + off, &next);
}

void ListObject::InsertEncoded(size_t ni, uint32_t off, std::string_view enc) {
  uint32_t s = static_cast<uint32_t>(enc.size());
  Node* n = nodes_[ni];
  if (n->used() + s > kMaxData && n->count > 0) {
    if (off == n->end) {
      Node* m = NewNode(std::max(kMinCap, s), false);
      nodes_.insert(nodes_.begin() + ni + 1, m);
      InsertEncoded(ni + 1, 0, enc);
      return;
    }
    if (off == n->start) {
      Node* m = NewNode(std::max(kMinCap, s), true);
      nodes_.insert(nodes_.begin() + ni, m);
      InsertEncoded(ni, m->start, enc);
      return;
    }
    // Split at off: [off, end) moves to a new node after ni.
    uint32_t tail = n->end - off;
    uint32_t tail_count = 0;
    for (const char* p = n->data + off; p < n->end_ptr(); p += ElemSize(p)) tail_count++;
    Node* m = NewNode(std::max(kMinCap, tail), false);
    memcpy(m->data, n->data + off, tail);
    m->end = tail;
    m->count = tail_count;
    n->end = off;
    n->count -= tail_count;
    nodes_.insert(nodes_.begin() + ni + 1, m);
    InsertEncoded(n->used() + s <= kMaxData ? ni : ni + 1, n->used() + s <= kMaxData ? n->end : 0,
                  enc);
    return;
  }
  // Room in this node: open a gap at off, from whichever side has room.
  uint32_t rel = off - n->start;
  if (n->cap - n->end >= s || n->start < s) {
    Reserve(ni, s, /*front=*/false);
    n = nodes_[ni];
    char* at = n->data + n->start + rel;
    memmove(at + s, at, n->end - (n->start + rel));
    memcpy(at, enc.data(), s);
    n->end += s;
  } else {
    memmove(n->data + n->start - s, n->data + n->start, rel);
    n->start -= s;
    memcpy(n->data + n->start + rel, enc.data(), s);
  }
  n->count++;
  size_++;
}

void ListObject::Insert(size_t i, std::string_view v) {
  if (i == 0) return PushFront(v);
  if (i >= size_) return PushBack(v);
  size_t ni;
  uint32_t off;
  Locate(i, &ni, &off);
  std::string enc;
  listpack::Encode(v, &enc);
  InsertEncoded(ni, off, enc);
}

void ListObject::Set(size_t i, std::string_view v) {
  size_t ni;
  uint32_t off;
  Locate(i, &ni, &off);
  Node* n = nodes_[ni];
  uint32_t old = ElemSize(n->data + off);
  std::string enc;
  listpack::Encode(v, &enc);
  if (enc.size() == old) {
    memcpy(n->data + off, enc.data(), old);
    return;
  }
  // Remove the old element (keeping the node even if it becomes empty), then insert.
  memmove(n->data + off, n->data + off + old, n->end - off - old);
  n->end -= old;
  n->count--;
  size_--;
  InsertEncoded(ni, off, enc);
}

size_t ListObject::Remove(std::string_view v, int64_t count) {
  size_t removed = 0;
  // |count| computed unsigned: -INT64_MIN (a corrupt delta's count) is not an int64_t.
  uint64_t limit = count == 0  ? UINT64_MAX
                   : count < 0 ? 0 - static_cast<uint64_t>(count)
                               : static_cast<uint64_t>(count);
  if (count >= 0) {
    for (size_t ni = 0; ni < nodes_.size() && removed < limit; ni++) {
      Node* n = nodes_[ni];
      char* w = n->data + n->start;
      const char* p = n->begin_ptr();
      const char* e = n->end_ptr();
      while (p < e) {
        const char* next;
        Elem el = listpack::Decode(p, &next);
        size_t len = next - p;
        if (removed < limit && el.Equals(v)) {
          removed++;
          n->count--;
        } else {
          if (w != p) memmove(w, p, len);
          w += len;
        }
        p = next;
      }
      n->end = static_cast<uint32_t>(w - n->data);
    }
  } else {
    for (size_t ni = nodes_.size(); ni-- > 0 && removed < limit;) {
      Node* n = nodes_[ni];
      char* w = n->data + n->end;  // kept elements are written backwards, ending here
      const char* p = n->end_ptr();
      while (p > n->begin_ptr()) {
        const char* start = listpack::Prev(p);
        const char* next;
        Elem el = listpack::Decode(start, &next);
        size_t len = p - start;
        if (removed < limit && el.Equals(v)) {
          removed++;
          n->count--;
        } else {
          w -= len;
          if (w != start) memmove(w, start, len);
        }
        p = start;
      }
      n->start = static_cast<uint32_t>(w - n->data);
    }
  }
  size_ -= removed;
  if (removed > 0) {
    // Free empty nodes and merge neighbours that fit in one node, so removals do not leave
    // many sparse nodes behind.
    for (size_t ni = 0; ni < nodes_.size();) {
      if (nodes_[ni]->count == 0) {
        FreeNode(ni);
        continue;
      }
      if (ni + 1 < nodes_.size() && nodes_[ni]->used() + nodes_[ni + 1]->used() <= kMaxData / 2) {
        Node* b = nodes_[ni + 1];
        Reserve(ni, b->used(), /*front=*/false);
        Node* a = nodes_[ni];
        memcpy(a->data + a->end, b->begin_ptr(), b->used());
        a->end += b->used();
        a->count += b->count;
        b->count = 0;
        FreeNode(ni + 1);
        continue;
      }
      ni++;
    }
  }
  return removed;
}

void ListObject::Trim(size_t start, size_t n) {
  size_t drop_back = size_ - start - n;
  // From the front.
  size_t k = start;
  while (k > 0 && nodes_.front()->count <= k) {
    k -= nodes_.front()->count;
    size_ -= nodes_.front()->count;
    FreeNode(0);
  }
  if (k > 0) {
    Node* f = nodes_.front();
    const char* p = f->begin_ptr();
    for (size_t i = 0; i < k; i++) p += ElemSize(p);
    f->start = static_cast<uint32_t>(p - f->data);
    f->count -= k;
    size_ -= k;
  }
  k = drop_back;
  while (k > 0 && nodes_.back()->count <= k) {
    k -= nodes_.back()->count;
    size_ -= nodes_.back()->count;
    FreeNode(nodes_.size() - 1);
  }
  if (k > 0) {
    Node* b = nodes_.back();
    const char* p = b->end_ptr();
    for (size_t i = 0; i < k; i++) p = listpack::Prev(p);
    b->end = static_cast<uint32_t>(p - b->data);
    b->count -= k;
    size_ -= k;
  }
}

ValueObject* ListObject::Clone() const {
  auto* c = new ListObject();
  c->nodes_.reserve(nodes_.size());
  for (const Node* n : nodes_) {
    size_t bytes = sizeof(Node) + n->cap;
    Node* m = static_cast<Node*>(malloc(bytes));
    memcpy(m, n, bytes);
    c->nodes_.push_back(m);
  }
  c->size_ = size_;
  c->mem_bytes_ = mem_bytes_;
  return c;
}

// Image: count:varint bytes{count} (each element as a string).
void ListObject::SerializeParts(std::string* out, const ImageParts& parts) const {
  coding::PutVarint(out, size_);
  ForRange(0, size_, false, [&](const Elem& e) {
    char buf[24];
    coding::PutBytes(out, e.View(buf));
    parts.Boundary(out);
    return true;
  });
}

namespace {
enum DeltaOp : uint8_t {
  kPushFront = 1,
  kPushBack = 2,
  kPopFront = 3,
  kPopBack = 4,
  kSetAt = 5,
  kInsertAt = 6,
  kRemove = 7,
  kTrim = 8,
};
}  // namespace

size_t ListObject::Push(bool front, std::span<const std::string_view> vals, std::string* delta) {
  for (std::string_view v : vals) front ? PushFront(v) : PushBack(v);
  delta->clear();
  DeltaPush(delta, front, vals);
  return size_;
}

void ListObject::PopEnd(bool front, size_t n, std::string* delta) {
  if (front) {
    Trim(n, size_ - n);
  } else {
    Trim(0, size_ - n);
  }
  delta->clear();
  DeltaPop(delta, front, n);
}

std::string ListObject::Pop(bool front, std::string* delta) {
  std::string v = front ? PopFront() : PopBack();
  delta->clear();
  DeltaPop(delta, front, 1);
  return v;
}

void ListObject::SetAt(size_t i, std::string_view v, std::string* delta) {
  Set(i, v);
  delta->clear();
  DeltaSet(delta, i, v);
}

void ListObject::InsertAt(size_t i, std::string_view v, std::string* delta) {
  Insert(i, v);
  delta->clear();
  DeltaInsert(delta, i, v);
}

size_t ListObject::RemoveMatching(std::string_view v, int64_t count, std::string* delta) {
  size_t removed = Remove(v, count);
  delta->clear();
  DeltaRemove(delta, count, v);
  return removed;
}

void ListObject::TrimTo(size_t start, size_t n, std::string* delta) {
  Trim(start, n);
  delta->clear();
  DeltaTrim(delta, start, n);
}

void ListObject::DeltaPush(std::string* out, bool front, std::span<const std::string_view> vals) {
  coding::PutU8(out, front ? kPushFront : kPushBack);
  coding::PutVarint(out, vals.size());
  for (std::string_view v : vals) coding::PutBytes(out, v);
}

void ListObject::DeltaPop(std::string* out, bool front, uint64_t count) {
  coding::PutU8(out, front ? kPopFront : kPopBack);
  coding::PutVarint(out, count);
}

void ListObject::DeltaSet(std::string* out, uint64_t index, std::string_view v) {
  coding::PutU8(out, kSetAt);
  coding::PutVarint(out, index);
  coding::PutBytes(out, v);
}

void ListObject::DeltaInsert(std::string* out, uint64_t index, std::string_view v) {
  coding::PutU8(out, kInsertAt);
  coding::PutVarint(out, index);
  coding::PutBytes(out, v);
}

void ListObject::DeltaRemove(std::string* out, int64_t count, std::string_view v) {
  coding::PutU8(out, kRemove);
  coding::PutSigned(out, count);
  coding::PutBytes(out, v);
}

void ListObject::DeltaTrim(std::string* out, uint64_t start, uint64_t n) {
  coding::PutU8(out, kTrim);
  coding::PutVarint(out, start);
  coding::PutVarint(out, n);
}

Status ListObject::ApplyDelta(std::string_view d) {
  uint8_t op;
  if (!coding::GetU8(&d, &op)) return BadDelta("list");
  switch (op) {
    case kPushFront:
    case kPushBack: {
      uint64_t n;
      if (!coding::GetVarint(&d, &n)) return BadDelta("list");
      for (uint64_t i = 0; i < n; i++) {
        std::string_view v;
        if (!coding::GetBytes(&d, &v)) return BadDelta("list");
        op == kPushFront ? PushFront(v) : PushBack(v);
      }
      break;
    }
    case kPopFront:
    case kPopBack: {
      uint64_t n;
      if (!coding::GetVarint(&d, &n) || n > size_) return BadDelta("list");
      if (op == kPopFront) {
        Trim(n, size_ - n);
      } else {
        Trim(0, size_ - n);
      }
      break;
    }
    case kSetAt:
    case kInsertAt: {
      uint64_t i;
      std::string_view v;
      if (!coding::GetVarint(&d, &i) || !coding::GetBytes(&d, &v)) return BadDelta("list");
      if (op == kSetAt) {
        if (i >= size_) return BadDelta("list");
        Set(i, v);
      } else {
        if (i > size_) return BadDelta("list");
        Insert(i, v);
      }
      break;
    }
    case kRemove: {
      int64_t count;
      std::string_view v;
      if (!coding::GetSigned(&d, &count) || !coding::GetBytes(&d, &v)) return BadDelta("list");
      Remove(v, count);
      break;
    }
    case kTrim: {
      uint64_t start, n;
      if (!coding::GetVarint(&d, &start) || !coding::GetVarint(&d, &n) || start > size_ ||
          n > size_ - start) {
        return BadDelta("list");
      }
      Trim(start, n);
      break;
    }
    default:
      return BadDelta("list");
  }
  if (!d.empty()) return BadDelta("list");
  return Status::OK();
}

ValueObject* NewListObject() { return new ListObject(); }

namespace {

// list_image in parts: the count, then elements, any of which may span two parts (the bytes
// of an incomplete one wait in carry_).
class ListImageDecoder final : public ImageDecoder {
 public:
  Status Feed(std::string_view part) override {
    std::string_view in = part;
    if (!carry_.empty()) {
      carry_.append(part);
      in = carry_;
    }
    size_t used = 0;
    while (true) {
      std::string_view rest = in.substr(used);
      if (!have_count_) {
        if (!coding::GetVarint(&rest, &remaining_)) break;
        have_count_ = true;
      } else {
        if (remaining_ == 0) break;
        std::string_view v;
        if (!coding::GetBytes(&rest, &v)) break;
        list_->PushBack(v);
        remaining_--;
      }
      used = in.size() - rest.size();
    }
    std::string left(in.substr(used));
    carry_ = std::move(left);
    // An element's length header is at most 10 bytes; more undecodable bytes than that with
    // nothing left to read is corruption, caught by Finish.
    return Status::OK();
  }

  Result<ValueObject*> Finish() override {
    if (!have_count_ || remaining_ != 0 || !carry_.empty()) return BadImage("list");
    return static_cast<ValueObject*>(list_.release());
  }

 private:
  std::unique_ptr<ListObject> list_ = std::make_unique<ListObject>();
  bool have_count_ = false;
  uint64_t remaining_ = 0;
  std::string carry_;
};

}  // namespace

std::unique_ptr<ImageDecoder> NewListImageDecoder() { return std::make_unique<ListImageDecoder>(); }

Result<ValueObject*> DecodeListObject(std::string_view image) {
  uint64_t n;
  if (!coding::GetVarint(&image, &n)) return BadImage("list");
  auto* l = new ListObject();
  for (uint64_t i = 0; i < n; i++) {
    std::string_view v;
    if (!coding::GetBytes(&image, &v)) {
      delete l;
      return BadImage("list");
    }
    l->PushBack(v);
  }
  if (!image.empty()) {
    delete l;
    return BadImage("list");
  }
  return static_cast<ValueObject*>(l);
}

}  // namespace fdb
