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

#include <lzf.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include "base/check.h"
#include "base/numbers.h"
#include "engine/collections.h"

namespace fdb {

namespace {

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

namespace {

// Redis's quicklist rules (quicklist.c, 7.0), in a node's bytes as a listpack would count them:
// its elements plus a 6-byte header and an end byte.
constexpr uint32_t kListpackOverhead = 7;
// list-max-listpack-size -1..-5.
constexpr uint32_t kSizeClasses[] = {4096, 8192, 16384, 32768, 65536};
// The bytes of a node bounded by a count (positive fill): a node of many elements stays under
// 8 KB whatever the count allows.
constexpr uint32_t kSizeSafetyLimit = 8192;
// Redis's FILL_MAX and COMPRESS_MAX (16-bit fields of the quicklist).
constexpr int64_t kFillMax = (1 << 15) - 1;
constexpr int64_t kCompressMax = (1 << 16) - 1;
// Nodes smaller than this are not worth compressing, and compression must save at least
// kMinCompressImprove bytes to be kept (MIN_COMPRESS_BYTES, MIN_COMPRESS_IMPROVE).
constexpr uint32_t kMinCompressBytes = 48;
constexpr uint32_t kMinCompressImprove = 8;
constexpr uint64_t kDefaultPackedThreshold = uint64_t{1} << 30;
// The count bound of a size-class fill: none (a 64 KB node holds at most 32K elements of 2 bytes,
// so a 16-bit count never reaches it).
constexpr uint16_t kNoCountBound = UINT16_MAX;
static_assert(kSizeClasses[4] / 2 < kNoCountBound && kFillMax < kNoCountBound);

constexpr uint32_t kMinCap = 32;         // first allocation of a node
constexpr uint32_t kMallocOverhead = 8;  // glibc chunk header

// The process-wide settings (ListObject::SetDefaultOptions).
std::atomic<int64_t> g_default_fill{-2};
std::atomic<int64_t> g_default_depth{0};
std::atomic<uint64_t> g_packed_threshold{kDefaultPackedThreshold};

int16_t ClampFill(int64_t f) { return static_cast<int16_t>(std::clamp<int64_t>(f, -5, kFillMax)); }
uint16_t ClampDepth(int64_t d) {
  return static_cast<uint16_t>(std::clamp<int64_t>(d, 0, kCompressMax));
}

}  // namespace

void ListObject::SetDefaultOptions(Options o) {
  g_default_fill.store(ClampFill(o.fill), std::memory_order_relaxed);
  g_default_depth.store(ClampDepth(o.compress_depth), std::memory_order_relaxed);
}

ListObject::Options ListObject::DefaultOptions() {
  return {g_default_fill.load(std::memory_order_relaxed),
          g_default_depth.load(std::memory_order_relaxed)};
}

void ListObject::SetPackedThreshold(uint64_t bytes) {
  g_packed_threshold.store(bytes == 0 ? kDefaultPackedThreshold : bytes, std::memory_order_relaxed);
}

uint64_t ListObject::PackedThreshold() {
  return g_packed_threshold.load(std::memory_order_relaxed);
}

ListObject::ListObject() : ListObject(DefaultOptions()) {}

ListObject::ListObject(Options o) : depth_(ClampDepth(o.compress_depth)) {
  int16_t fill = ClampFill(o.fill);
  max_bytes_ = (fill < 0 ? kSizeClasses[-fill - 1] : kSizeSafetyLimit) - kListpackOverhead;
  max_count_ = fill < 0 ? kNoCountBound : static_cast<uint16_t>(fill);
}

ListObject::Options ListObject::options() const {
  Options o;
  o.compress_depth = depth_;
  if (max_count_ != kNoCountBound) {
    o.fill = max_count_;
  } else {
    for (int i = 0; i < 5; i++) {
      if (kSizeClasses[i] - kListpackOverhead == max_bytes_) o.fill = -1 - i;
    }
  }
  return o;
}

ListObject::~ListObject() {
  for (Node* n : nodes_) free(n);
}

size_t ListObject::NodeSize(size_t ni) const { return nodes_[ni]->count; }
bool ListObject::NodeCompressed(size_t ni) const { return nodes_[ni]->compressed; }

bool ListObject::Fits(uint64_t bytes, uint64_t count) const {
  return bytes <= max_bytes_ && count <= max_count_;
}

bool ListObject::AllowPush(const Node* n, uint32_t s, std::string_view v) const {
  // Fits(n->used() + s, n->count + 1), in the fewest instructions: every push asks.
  return n->used() + s <= max_bytes_ && n->count < max_count_ && !n->plain &&
         v.size() < PackedThreshold();
}

bool ListObject::AllowInsert(const Node* n, uint32_t s, bool large) const {
  if (n->count == 0) return true;  // a node takes its first element (and is plain if it is)
  return !large && !n->plain && Fits(uint64_t{n->used()} + s, uint64_t{n->count} + 1);
}

ListObject::Node* ListObject::NewNode(uint32_t cap, bool at_end) {
  Node* n = static_cast<Node*>(malloc(sizeof(Node) + cap));
  FDB_CHECK(n != nullptr);
  n->cap = cap;
  n->start = n->end = at_end ? cap : 0;
  n->count = 0;
  n->compressed = false;
  n->plain = false;
  Account(sizeof(Node) + cap + kMallocOverhead + sizeof(Node*));
  return n;
}

void ListObject::FreeNode(size_t ni) {
  Node* n = nodes_[ni];
  Account(-static_cast<int64_t>(sizeof(Node) + n->cap + kMallocOverhead + sizeof(Node*)));
  free(n);
  nodes_.erase(nodes_.begin() + ni);
}

void ListObject::Compress(size_t ni) {
  Node* n = nodes_[ni];
  uint32_t raw = n->used();
  if (n->compressed || raw < kMinCompressBytes) return;
  // lzf_compress returns 0 when its output does not fit: an output buffer kMinCompressImprove
  // + 1 bytes short of the input makes it give up on a smaller saving.
  uint32_t room = raw - kMinCompressImprove - 1;
  Node* m = static_cast<Node*>(malloc(sizeof(Node) + room));
  FDB_CHECK(m != nullptr);
  unsigned len = lzf_compress(n->begin_ptr(), raw, m->data, room);
  if (len == 0) {
    free(m);
    return;
  }
  // Shrinking in place: glibc splits the chunk, the block does not move.
  Node* fit = static_cast<Node*>(realloc(m, sizeof(Node) + len));
  if (fit != nullptr) m = fit;
  m->cap = len;
  m->start = 0;
  m->end = raw;
  m->count = n->count;
  m->compressed = true;
  m->plain = n->plain;
  Account(static_cast<int64_t>(len) - static_cast<int64_t>(n->cap));
  free(n);
  nodes_[ni] = m;
}

void ListObject::Decompress(size_t ni) {
  Node* n = nodes_[ni];
  if (!n->compressed) return;
  uint32_t raw = n->end;
  Node* m = static_cast<Node*>(malloc(sizeof(Node) + raw));
  FDB_CHECK(m != nullptr);
  // The bytes were compressed by this process and never left RAM: a failure is memory
  // corruption, not an operating error.
  FDB_CHECK(lzf_decompress(n->data, n->cap, m->data, raw) == raw);
  m->cap = raw;
  m->start = 0;
  m->end = raw;
  m->count = n->count;
  m->compressed = false;
  m->plain = n->plain;
  Account(static_cast<int64_t>(raw) - static_cast<int64_t>(n->cap));
  free(n);
  nodes_[ni] = m;
}

const char* ListObject::Base(const Node* n, std::string* scratch) {
  if (!n->compressed) return n->data;
  scratch->resize(n->end);
  FDB_CHECK(lzf_decompress(n->data, n->cap, scratch->data(), n->end) == n->end);
  return scratch->data();
}

void ListObject::Settle(size_t lo, size_t hi) {
  if (depth_ == 0) return;
  size_t n = nodes_.size();
  size_t d = depth_;
  for (size_t i = 0; i < std::min(d, n); i++) {
    Decompress(i);
    Decompress(n - 1 - i);
  }
  if (n <= 2 * d) return;
  Compress(d);
  Compress(n - 1 - d);
  for (size_t i = std::max(lo, d); i < std::min(hi, n - d); i++) Compress(i);
}

void ListObject::Reserve(size_t ni, uint32_t need, bool front) {
  Node* n = nodes_[ni];
  uint32_t room = front ? n->start : n->cap - n->end;
  if (room >= need) return;
  uint32_t used = n->used();
  uint32_t free_bytes = n->cap - used;
  if (free_bytes >= need && (n->cap >= max_bytes_ || used + need <= n->cap / 4 * 3)) {
    // Enough free bytes in the node: move the data, leaving half the free room (at least
    // `need`) on the growing side, so pushes at alternating ends do not move it every time.
    uint32_t grow = std::max(need, free_bytes / 2);
    uint32_t ns = front ? grow : free_bytes - grow;
    memmove(n->data + ns, n->data + n->start, used);
    n->start = ns;
    n->end = ns + used;
    return;
  }
  // Doubling up to 8 KB, then 8 KB at a time: the last node of a list of 64 KB nodes does not
  // hold up to 32 KB it does not use.
  uint32_t grown = std::min(n->cap * 2, n->cap + kSizeSafetyLimit);
  uint32_t cap = std::max<uint32_t>(std::max(grown, kMinCap), used + need);
  if (cap > max_bytes_) cap = std::max(max_bytes_, used + need);
  Node* m = static_cast<Node*>(malloc(sizeof(Node) + cap));
  FDB_CHECK(m != nullptr);
  m->cap = cap;
  m->count = n->count;
  m->compressed = false;
  m->plain = n->plain;
  m->start = front ? cap - used : 0;
  m->end = m->start + used;
  memcpy(m->data + m->start, n->data + n->start, used);
  Account(static_cast<int64_t>(cap) - static_cast<int64_t>(n->cap));
  free(n);
  nodes_[ni] = m;
}

// The ends are raw whatever the depth (Settle keeps them so): a push or pop decompresses
// nothing, and only a new or freed node moves the compression boundary. The push that fills a
// node and starts the next one is out of line (PushNewNode), so the common push stays short.
void ListObject::PushFront(std::string_view v) {
  uint32_t s = listpack::EncodedSize(v);
  if (nodes_.empty() || !AllowPush(nodes_.front(), s, v)) return PushNewNode(v, s, true);
  Reserve(0, s, /*front=*/true);
  Node* n = nodes_.front();
  n->start -= s;
  EncodeAt(v, n->data + n->start);
  n->count++;
  size_++;
}

void ListObject::PushBack(std::string_view v) {
  uint32_t s = listpack::EncodedSize(v);
  if (nodes_.empty() || !AllowPush(nodes_.back(), s, v)) return PushNewNode(v, s, false);
  size_t ni = nodes_.size() - 1;
  Reserve(ni, s, /*front=*/false);
  Node* n = nodes_[ni];
  EncodeAt(v, n->data + n->end);
  n->end += s;
  n->count++;
  size_++;
}

void ListObject::PushNewNode(std::string_view v, uint32_t s, bool front) {
  Node* n = NewNode(std::max(kMinCap, s), /*at_end=*/front);
  n->plain = v.size() >= PackedThreshold();
  if (front) {
    n->start -= s;
    EncodeAt(v, n->data + n->start);
    nodes_.insert(nodes_.begin(), n);
  } else {
    EncodeAt(v, n->data);
    n->end = s;
    nodes_.push_back(n);
  }
  n->count = 1;
  size_++;
  Settle(0, 0);
}

std::string ListObject::PopFront() {
  Node* n = nodes_.front();
  const char* next;
  std::string out = listpack::Decode(n->begin_ptr(), &next).ToString();
  n->start = static_cast<uint32_t>(next - n->data);
  size_--;
  if (--n->count == 0) {
    FreeNode(0);
    Settle(0, 0);
  }
  return out;
}

std::string ListObject::PopBack() {
  Node* n = nodes_.back();
  const char* p = listpack::Prev(n->end_ptr());
  const char* next;
  std::string out = listpack::Decode(p, &next).ToString();
  n->end = static_cast<uint32_t>(p - n->data);
  size_--;
  if (--n->count == 0) {
    FreeNode(nodes_.size() - 1);
    Settle(0, 0);
  }
  return out;
}

size_t ListObject::FindNode(size_t i, size_t* j) const {
  size_t ni;
  if (i < size_ / 2) {
    ni = 0;
    while (i >= nodes_[ni]->count) i -= nodes_[ni++]->count;
    *j = i;
  } else {
    ni = nodes_.size() - 1;
    size_t from_end = size_ - 1 - i;  // 0 = last element
    while (from_end >= nodes_[ni]->count) from_end -= nodes_[ni--]->count;
    *j = nodes_[ni]->count - 1 - from_end;
  }
  return ni;
}

uint32_t ListObject::Offset(const char* base, const Node* n, size_t j) {
  const char* p;
  if (j <= n->count / 2) {
    p = base + n->start;
    for (size_t k = 0; k < j; k++) p += ElemSize(p);
  } else {
    p = base + n->end;
    for (size_t k = n->count; k > j; k--) p = listpack::Prev(p);
  }
  return static_cast<uint32_t>(p - base);
}

std::string ListObject::At(size_t i) const {
  size_t j;
  const Node* n = nodes_[FindNode(i, &j)];
  std::string scratch;
  const char* base = Base(n, &scratch);
  const char* next;
  return listpack::Decode(base + Offset(base, n, j), &next).ToString();
}

void ListObject::InsertEncoded(size_t ni, uint32_t off, std::string_view enc, bool large) {
  uint32_t s = static_cast<uint32_t>(enc.size());
  Node* n = nodes_[ni];
  if (!AllowInsert(n, s, large)) {
    // At an edge of a node the element may not join, it joins the neighbour on that side when
    // it may, else a new node (Redis's _quicklistInsert).
    if (off == n->end && ni + 1 < nodes_.size() && AllowInsert(nodes_[ni + 1], s, large)) {
      Decompress(ni + 1);
      InsertEncoded(ni + 1, nodes_[ni + 1]->start, enc, large);
      return;
    }
    if (off == n->start && ni > 0 && AllowInsert(nodes_[ni - 1], s, large)) {
      Decompress(ni - 1);
      InsertEncoded(ni - 1, nodes_[ni - 1]->end, enc, large);
      return;
    }
    if (off == n->end) {
      nodes_.insert(nodes_.begin() + ni + 1, NewNode(std::max(kMinCap, s), false));
      nodes_[ni + 1]->plain = large;
      InsertEncoded(ni + 1, 0, enc, large);
      return;
    }
    if (off == n->start) {
      Node* m = NewNode(std::max(kMinCap, s), true);
      m->plain = large;
      nodes_.insert(nodes_.begin() + ni, m);
      InsertEncoded(ni, m->start, enc, large);
      return;
    }
    // Split at off: [off, end) moves to a new node after ni; the element then goes at the end
    // of ni or, when it may not join ni, at the start of the new node (or a node of its own).
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
    if (AllowInsert(n, s, large)) {
      InsertEncoded(ni, n->end, enc, large);
    } else {
      InsertEncoded(ni + 1, 0, enc, large);
    }
    return;
  }
  if (n->count == 0) n->plain = large;
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

// Insert and Set change one node (or a neighbour), which may split in two and gain a node of its
// own for the element: the changed nodes are [ni - 1, ni + 3).
void ListObject::Insert(size_t i, std::string_view v) {
  if (i == 0) return PushFront(v);
  if (i >= size_) return PushBack(v);
  size_t j;
  size_t ni = FindNode(i, &j);
  Decompress(ni);
  std::string enc;
  listpack::Encode(v, &enc);
  InsertEncoded(ni, Offset(nodes_[ni]->data, nodes_[ni], j), enc, v.size() >= PackedThreshold());
  Settle(ni == 0 ? 0 : ni - 1, ni + 3);
}

void ListObject::Set(size_t i, std::string_view v) {
  size_t j;
  size_t ni = FindNode(i, &j);
  Decompress(ni);
  Node* n = nodes_[ni];
  uint32_t off = Offset(n->data, n, j);
  uint32_t old = ElemSize(n->data + off);
  std::string enc;
  listpack::Encode(v, &enc);
  bool large = v.size() >= PackedThreshold();
  if (enc.size() == old && large == n->plain) {
    memcpy(n->data + off, enc.data(), old);
  } else {
    // Remove the old element (keeping the node even if it becomes empty), then insert.
    memmove(n->data + off, n->data + off + old, n->end - off - old);
    n->end -= old;
    n->count--;
    size_--;
    InsertEncoded(ni, off, enc, large);
  }
  Settle(ni == 0 ? 0 : ni - 1, ni + 3);
}

size_t ListObject::Remove(std::string_view v, int64_t count) {
  size_t removed = 0;
  // |count| computed unsigned: -INT64_MIN (a corrupt delta's count) is not an int64_t.
  uint64_t limit = count == 0  ? UINT64_MAX
                   : count < 0 ? 0 - static_cast<uint64_t>(count)
                               : static_cast<uint64_t>(count);
  // A node is decompressed only when it holds a match (read from `scratch` first).
  std::string scratch;
  auto has_match = [&](size_t ni) {
    const Node* n = nodes_[ni];
    const char* base = Base(n, &scratch);
    for (const char* p = base + n->start; p < base + n->end;) {
      const char* next;
      if (listpack::Decode(p, &next).Equals(v)) return true;
      p = next;
    }
    return false;
  };
  if (count >= 0) {
    for (size_t ni = 0; ni < nodes_.size() && removed < limit; ni++) {
      if (!has_match(ni)) continue;
      Decompress(ni);
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
      if (!has_match(ni)) continue;
      Decompress(ni);
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
    // Free empty nodes and merge neighbours that fit in half a node, so removals do not leave
    // many sparse nodes behind (half: a merged node has room to grow before it splits again).
    uint32_t half = (max_bytes_ + kListpackOverhead) / 2;
    for (size_t ni = 0; ni < nodes_.size();) {
      if (nodes_[ni]->count == 0) {
        FreeNode(ni);
        continue;
      }
      if (ni + 1 < nodes_.size()) {
        const Node* a = nodes_[ni];
        const Node* b = nodes_[ni + 1];
        uint64_t bytes = uint64_t{a->used()} + b->used();
        if (!a->plain && !b->plain && b->count > 0 && Fits(bytes, uint64_t{a->count} + b->count) &&
            bytes + kListpackOverhead <= half) {
          Decompress(ni);
          Decompress(ni + 1);
          Node* bn = nodes_[ni + 1];
          Reserve(ni, bn->used(), /*front=*/false);
          Node* an = nodes_[ni];
          memcpy(an->data + an->end, bn->begin_ptr(), bn->used());
          an->end += bn->used();
          an->count += bn->count;
          bn->count = 0;
          FreeNode(ni + 1);
          continue;
        }
      }
      ni++;
    }
    Settle(0, nodes_.size());
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
    Decompress(0);  // an inner node until the ones before it went
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
    Decompress(nodes_.size() - 1);
    Node* b = nodes_.back();
    const char* p = b->end_ptr();
    for (size_t i = 0; i < k; i++) p = listpack::Prev(p);
    b->end = static_cast<uint32_t>(p - b->data);
    b->count -= k;
    size_ -= k;
  }
  Settle(0, 0);
}

ValueObject* ListObject::Clone() const {
  auto* c = new ListObject(options());
  c->nodes_.reserve(nodes_.size());
  for (const Node* n : nodes_) {
    size_t bytes = sizeof(Node) + n->cap;
    Node* m = static_cast<Node*>(malloc(bytes));
    FDB_CHECK(m != nullptr);
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
