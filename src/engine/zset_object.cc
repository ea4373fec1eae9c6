// Sorted sets: the packed ("listpack") and skiplist encodings (see zset_object.h).
//
// Image (the value of a put record):
//   zset := n:varint (member:bytes score:double){n}     ascending (score, member) order
// Deltas:
//   set    := 'S' n:varint (member:bytes score:double){n}   members take these scores
//   remove := 'R' n:varint member:bytes{n}                  members removed (absent: no-op)
#include "engine/zset_object.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "base/check.h"
#include "engine/encoding_limits.h"
#include "engine/hash_table.h"
#include "engine/str_table.h"

namespace fdb {

namespace {

constexpr int kMaxLevel = 32;  // Redis's ZSKIPLIST_MAXLEVEL: enough for 2^64 members at p=1/4

// Bytes glibc malloc hands out for a request of n (8-byte header, 16-byte alignment, 32-byte
// minimum chunk): what MemoryUsage counts, so it tracks RSS rather than requested sizes.
size_t ChunkSize(size_t n) { return n + 8 <= 32 ? 32 : (n + 8 + 15) & ~size_t{15}; }

int Compare(double s1, std::string_view m1, double s2, std::string_view m2) {
  if (s1 < s2) return -1;
  if (s1 > s2) return 1;
  return m1.compare(m2);
}

// A skiplist node: this header, then `level` forward pointers, `level` spans, and the member.
// span[i] is the number of rank steps from this node to fwd[i] (Redis's level[i].span).
struct ZNode {
  double score;
  ZNode* backward;
  ZNode* next;  // the member index's chain (ZIndexTraits)
  uint32_t len;
  uint8_t level;

  ZNode** fwd() { return reinterpret_cast<ZNode**>(this + 1); }
  ZNode* const* fwd() const { return reinterpret_cast<ZNode* const*>(this + 1); }
  uint32_t* span() { return reinterpret_cast<uint32_t*>(fwd() + level); }
  char* mem() { return reinterpret_cast<char*>(span() + level); }
  const char* mem() const { return reinterpret_cast<const char*>(fwd() + level) + 4 * level; }
  std::string_view member() const { return {mem(), len}; }

  static size_t Bytes(int level, size_t len) {
    return sizeof(ZNode) + level * (sizeof(ZNode*) + sizeof(uint32_t)) + len;
  }
  static ZNode* New(int level, double score, std::string_view m) {
    auto* n = static_cast<ZNode*>(malloc(Bytes(level, m.size())));
    n->score = score;
    n->backward = nullptr;
    n->next = nullptr;
    n->len = static_cast<uint32_t>(m.size());
    n->level = static_cast<uint8_t>(level);
    for (int i = 0; i < level; i++) {
      n->fwd()[i] = nullptr;
      n->span()[i] = 0;
    }
    if (!m.empty()) memcpy(n->mem(), m.data(), m.size());
    return n;
  }
};
static_assert(sizeof(ZNode) == 32, "node header is part of the memory budget per member");

// Whether node a sorts before (score, member) of node b: the members are compared only when
// the scores tie, so a search step reads one field of the next node, as Redis's zslInsert.
inline bool Before(const ZNode* a, const ZNode* b) {
  return a->score < b->score || (a->score == b->score && a->member() < b->member());
}
inline bool NotAfter(const ZNode* a, const ZNode* b) {
  return a->score < b->score || (a->score == b->score && a->member() <= b->member());
}

// The member index: a HashTable (engine/hash_table.h) chained through the nodes themselves.
// Why this table and not an open-addressing set: ZSCAN must return every member present for
// the whole scan, and the chained table's reverse-binary cursor gives that across resizes (as
// Redis's dict under its zset); an open-addressing set moves members between slots. It costs
// the node's `next` (8 bytes) and 8-16 bytes of bucket array per member, about what
// absl::flat_hash_set took plus the link. The index owns the nodes (Free).
struct ZIndexTraits {
  using Node = ZNode;
  static ZNode*& Next(ZNode* n) { return n->next; }
  static std::string_view Key(const ZNode* n) { return n->member(); }
  static uint64_t Hash(std::string_view s) { return StrTraits::Hash(s); }
  static void Free(ZNode* n) { free(n); }
  static constexpr int kHashShift = 0;
  static constexpr size_t kMaxLoad = 8;
};
using ZIndex = HashTable<ZIndexTraits>;

// Level of a new node: 1 + geometric(p = 1/4), capped, as Redis's zslRandomLevel. The
// generator's state is per thread; the shape of a skiplist is not part of its value.
int RandomLevel() {
  thread_local uint64_t s = 0x9E3779B97F4A7C15ULL ^ reinterpret_cast<uintptr_t>(&s);
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  uint64_t r = s;
  int level = 1;
  while ((r & 3) == 0 && level < kMaxLevel) {
    level++;
    r >>= 2;
  }
  return level;
}

// Doubles are read with strtod, which needs a NUL-terminated string.
struct CString {
  explicit CString(std::string_view s) {
    if (s.size() < sizeof(small)) {
      memcpy(small, s.data(), s.size());
      small[s.size()] = 0;
      p = small;
    } else {
      big.assign(s);
      p = big.c_str();
    }
  }
  char small[64];
  std::string big;
  const char* p;
};

}  // namespace

// --- Skiplist ----------------------------------------------------------------------------------

struct ZSetObject::SkipList {
  SkipList() : header(ZNode::New(kMaxLevel, 0, {})) {}
  // The member nodes are the index's (freed by its destructor).
  ~SkipList() { free(header); }

  // Links node x (score, member and level set) at its place. Redis's zslInsert.
  void Link(ZNode* x) {
    ZNode* update[kMaxLevel];
    uint64_t rank[kMaxLevel];
    ZNode* p = header;
    for (int i = level - 1; i >= 0; i--) {
      rank[i] = i == level - 1 ? 0 : rank[i + 1];
      while (p->fwd()[i] != nullptr && Before(p->fwd()[i], x)) {
        rank[i] += p->span()[i];
        p = p->fwd()[i];
      }
      update[i] = p;
    }
    int lvl = x->level;
    if (lvl > level) {
      for (int i = level; i < lvl; i++) {
        rank[i] = 0;
        update[i] = header;
        header->span()[i] = static_cast<uint32_t>(length);
      }
      level = lvl;
    }
    for (int i = 0; i < lvl; i++) {
      x->fwd()[i] = update[i]->fwd()[i];
      update[i]->fwd()[i] = x;
      x->span()[i] = static_cast<uint32_t>(update[i]->span()[i] - (rank[0] - rank[i]));
      update[i]->span()[i] = static_cast<uint32_t>(rank[0] - rank[i] + 1);
    }
    for (int i = lvl; i < level; i++) update[i]->span()[i]++;
    x->backward = update[0] == header ? nullptr : update[0];
    if (x->fwd()[0] != nullptr) {
      x->fwd()[0]->backward = x;
    } else {
      tail = x;
    }
    length++;
  }

  // Unlinks node x (which must be in the list) without freeing it. Redis's zslDelete.
  void Unlink(ZNode* x) {
    ZNode* update[kMaxLevel];
    ZNode* p = header;
    for (int i = level - 1; i >= 0; i--) {
      while (p->fwd()[i] != nullptr && Before(p->fwd()[i], x)) {
        p = p->fwd()[i];
      }
      update[i] = p;
    }
    for (int i = 0; i < level; i++) {
      if (update[i]->fwd()[i] == x) {
        update[i]->span()[i] += x->span()[i] - 1;
        update[i]->fwd()[i] = x->fwd()[i];
      } else {
        update[i]->span()[i] -= 1;
      }
    }
    if (x->fwd()[0] != nullptr) {
      x->fwd()[0]->backward = x->backward;
    } else {
      tail = x->backward;
    }
    while (level > 1 && header->fwd()[level - 1] == nullptr) level--;
    length--;
  }

  // 0-based rank of node x. Redis's zslGetRank.
  size_t RankOf(const ZNode* x) const {
    uint64_t rank = 0;
    ZNode* p = header;
    for (int i = level - 1; i >= 0; i--) {
      while (p->fwd()[i] != nullptr && NotAfter(p->fwd()[i], x)) {
        rank += p->span()[i];
        p = p->fwd()[i];
      }
      if (p == x) return rank - 1;
    }
    return rank - 1;  // unreachable for a linked node
  }

  // The node of 0-based rank r (REQUIRES: r < length). Redis's zslGetElementByRank.
  ZNode* AtRank(size_t r) const {
    uint64_t target = r + 1, traversed = 0;
    ZNode* p = header;
    for (int i = level - 1; i >= 0; i--) {
      while (p->fwd()[i] != nullptr && traversed + p->span()[i] <= target) {
        traversed += p->span()[i];
        p = p->fwd()[i];
      }
      if (traversed == target) return p;
    }
    return nullptr;
  }

  // Number of leading nodes for which pred holds (pred must hold on a prefix of the order).
  template <typename Pred>
  size_t CountPrefix(Pred pred) const {
    uint64_t rank = 0;
    ZNode* p = header;
    for (int i = level - 1; i >= 0; i--) {
      while (p->fwd()[i] != nullptr && pred(p->fwd()[i]->score, p->fwd()[i]->member())) {
        rank += p->span()[i];
        p = p->fwd()[i];
      }
    }
    return rank;
  }

  ZNode* header;
  ZNode* tail = nullptr;
  int level = 1;
  size_t length = 0;
  size_t node_bytes = 0;  // malloc chunks of the member nodes
  ZIndex index;           // by member; owns the nodes
};

// --- Object ----------------------------------------------------------------------------------

namespace {
constexpr size_t kPackedHeader = 9;  // score:8 len:1

double PackedScore(const char* p) {
  double d;
  memcpy(&d, p, 8);
  return d;
}
std::string_view PackedMember(const char* p) {
  return {p + kPackedHeader, static_cast<uint8_t>(p[8])};
}
size_t PackedEntryLen(const char* p) { return kPackedHeader + static_cast<uint8_t>(p[8]); }
}  // namespace

ZSetObject::ZSetObject() = default;

ZSetObject::~ZSetObject() { free(buf_); }

size_t ZSetObject::MemoryUsage() const {
  size_t n = ChunkSize(sizeof(*this));
  if (packed()) return n + (buf_ != nullptr ? ChunkSize(buf_cap_) : 0);
  return n + ChunkSize(sizeof(SkipList)) + ChunkSize(ZNode::Bytes(kMaxLevel, 0)) + sl_->node_bytes +
         sl_->index.bucket_bytes();
}

size_t ZSetObject::PackedFind(std::string_view m, double* score) const {
  const char* p = buf_;
  const char* end = buf_ + buf_len_;
  while (p < end) {
    if (PackedMember(p) == m) {
      if (score != nullptr) *score = PackedScore(p);
      return static_cast<size_t>(p - buf_);
    }
    p += PackedEntryLen(p);
  }
  return std::string_view::npos;
}

void ZSetObject::PackedReserve(size_t need) {
  if (need <= buf_cap_) return;
  size_t cap = buf_cap_ == 0 ? 64 : buf_cap_;
  while (cap < need) cap *= 2;
  buf_ = static_cast<char*>(realloc(buf_, cap));
  buf_cap_ = static_cast<uint32_t>(cap);
}

void ZSetObject::PackedInsert(std::string_view m, double score) {
  const size_t len = kPackedHeader + m.size();
  PackedReserve(buf_len_ + len);
  char* p = buf_;
  char* end = buf_ + buf_len_;
  while (p < end && Compare(PackedScore(p), PackedMember(p), score, m) < 0) p += PackedEntryLen(p);
  memmove(p + len, p, end - p);
  memcpy(p, &score, 8);
  p[8] = static_cast<char>(m.size());
  if (!m.empty()) memcpy(p + kPackedHeader, m.data(), m.size());
  buf_len_ += static_cast<uint32_t>(len);
  size_++;
}

void ZSetObject::PackedErase(size_t off) {
  char* p = buf_ + off;
  size_t len = PackedEntryLen(p);
  memmove(p, p + len, buf_len_ - off - len);
  buf_len_ -= static_cast<uint32_t>(len);
  size_--;
  // Give back memory of a set that shrank a lot (a packed set is at most a few KB).
  if (buf_len_ == 0) {
    free(buf_);
    buf_ = nullptr;
    buf_cap_ = 0;
  }
}

template <typename Pred>
size_t ZSetObject::PackedCountPrefix(Pred pred) const {
  size_t n = 0;
  const char* p = buf_;
  const char* end = buf_ + buf_len_;
  while (p < end && pred(PackedScore(p), PackedMember(p))) {
    n++;
    p += PackedEntryLen(p);
  }
  return n;
}

void ZSetObject::ConvertToSkiplist() {
  if (!packed()) return;
  auto sl = std::make_unique<SkipList>();
  sl->index.Reserve(size_);
  const char* p = buf_;
  const char* end = buf_ + buf_len_;
  while (p < end) {
    std::string_view m = PackedMember(p);
    ZNode* x = ZNode::New(RandomLevel(), PackedScore(p), m);
    sl->Link(x);
    sl->index.Insert(x, ZIndexTraits::Hash(m));
    sl->node_bytes += ChunkSize(ZNode::Bytes(x->level, m.size()));
    p += PackedEntryLen(p);
  }
  free(buf_);
  buf_ = nullptr;
  buf_len_ = buf_cap_ = 0;
  sl_ = std::move(sl);
}

std::optional<double> ZSetObject::Score(std::string_view m) const {
  if (packed()) {
    double s;
    if (PackedFind(m, &s) == std::string_view::npos) return std::nullopt;
    return s;
  }
  const ZNode* x = sl_->index.Find(m, ZIndexTraits::Hash(m));
  if (x == nullptr) return std::nullopt;
  return x->score;
}

bool ZSetObject::Set(std::string_view m, double score, std::optional<double>* previous) {
  if (previous != nullptr) previous->reset();
  if (packed()) {
    double old;
    size_t off = PackedFind(m, &old);
    if (off != std::string_view::npos) {
      if (previous != nullptr) *previous = old;
      if (old == score) return false;
      PackedErase(off);
      PackedInsert(m, score);
      return false;
    }
    if (PackedTakes(m)) {
      PackedInsert(m, score);
      return true;
    }
    ConvertToSkiplist();
  }
  SkipList& sl = *sl_;
  // One hash of the member whether it is found or inserted.
  const uint64_t h = ZIndexTraits::Hash(m);
  ZNode* x = sl.index.Find(m, h);
  if (x == nullptr) {
    x = ZNode::New(RandomLevel(), score, m);
    sl.Link(x);
    sl.index.Insert(x, h);
    sl.node_bytes += ChunkSize(ZNode::Bytes(x->level, m.size()));
    size_++;
    return true;
  }
  if (previous != nullptr) *previous = x->score;
  if (x->score == score) return false;
  // In place when the node stays between its neighbours (Redis's zslUpdateScore).
  if ((x->backward == nullptr || x->backward->score < score) &&
      (x->fwd()[0] == nullptr || x->fwd()[0]->score > score)) {
    x->score = score;
    return false;
  }
  sl.Unlink(x);
  x->score = score;
  sl.Link(x);
  return false;
}

bool ZSetObject::Remove(std::string_view m) {
  if (packed()) {
    size_t off = PackedFind(m, nullptr);
    if (off == std::string_view::npos) return false;
    PackedErase(off);
    return true;
  }
  SkipList& sl = *sl_;
  ZNode** link = sl.index.FindLink(m, ZIndexTraits::Hash(m));
  if (link == nullptr) return false;
  ZNode* x = *link;
  sl.Unlink(x);
  sl.index.Unlink(link);
  sl.node_bytes -= ChunkSize(ZNode::Bytes(x->level, x->len));
  free(x);
  size_--;
  return true;
}

std::optional<size_t> ZSetObject::Rank(std::string_view m, double* score) const {
  if (packed()) {
    size_t r = 0;
    const char* p = buf_;
    const char* end = buf_ + buf_len_;
    for (; p < end; p += PackedEntryLen(p), r++) {
      if (PackedMember(p) == m) {
        if (score != nullptr) *score = PackedScore(p);
        return r;
      }
    }
    return std::nullopt;
  }
  const ZNode* x = sl_->index.Find(m, ZIndexTraits::Hash(m));
  if (x == nullptr) return std::nullopt;
  if (score != nullptr) *score = x->score;
  return sl_->RankOf(x);
}

namespace {
bool LexGteMin(std::string_view m, const ZLexBound& b) {
  if (b.kind == ZLexBound::kNegInf) return true;
  if (b.kind == ZLexBound::kPosInf) return false;
  int c = m.compare(b.value);
  return b.ex ? c > 0 : c >= 0;
}
bool LexLteMax(std::string_view m, const ZLexBound& b) {
  if (b.kind == ZLexBound::kPosInf) return true;
  if (b.kind == ZLexBound::kNegInf) return false;
  int c = m.compare(b.value);
  return b.ex ? c < 0 : c <= 0;
}
}  // namespace

#define FDB_ZSET_COUNT_PREFIX(pred) (packed() ? PackedCountPrefix(pred) : sl_->CountPrefix(pred))

size_t ZSetObject::CountBelowMin(const ZScoreRange& r) const {
  auto pred = [&r](double s, std::string_view) { return r.minex ? s <= r.min : s < r.min; };
  return FDB_ZSET_COUNT_PREFIX(pred);
}

size_t ZSetObject::CountUpToMax(const ZScoreRange& r) const {
  auto pred = [&r](double s, std::string_view) { return r.maxex ? s < r.max : s <= r.max; };
  return FDB_ZSET_COUNT_PREFIX(pred);
}

size_t ZSetObject::CountBelowMin(const ZLexRange& r) const {
  auto pred = [&r](double, std::string_view m) { return !LexGteMin(m, r.min); };
  return FDB_ZSET_COUNT_PREFIX(pred);
}

size_t ZSetObject::CountUpToMax(const ZLexRange& r) const {
  auto pred = [&r](double, std::string_view m) { return LexLteMax(m, r.max); };
  return FDB_ZSET_COUNT_PREFIX(pred);
}

#undef FDB_ZSET_COUNT_PREFIX

void ZSetObject::Visit(size_t start, size_t count, bool reverse, Visitor fn) const {
  if (start >= size_ || count == 0) return;
  if (!reverse && count > size_ - start) count = size_ - start;
  if (reverse && count > start + 1) count = start + 1;
  if (packed()) {
    const char* p = buf_;
    if (!reverse) {
      for (size_t i = 0; i < start; i++) p += PackedEntryLen(p);
      for (size_t i = 0; i < count; i++, p += PackedEntryLen(p)) {
        fn(PackedMember(p), PackedScore(p));
      }
      return;
    }
    absl::InlinedVector<const char*, 128> at(start + 1);
    for (size_t i = 0; i <= start; i++, p += PackedEntryLen(p)) at[i] = p;
    for (size_t i = 0; i < count; i++) {
      const char* q = at[start - i];
      fn(PackedMember(q), PackedScore(q));
    }
    return;
  }
  const ZNode* x = sl_->AtRank(start);
  for (size_t i = 0; i < count && x != nullptr; i++) {
    fn(x->member(), x->score);
    x = reverse ? x->backward : x->fwd()[0];
  }
}

uint64_t ZSetObject::Scan(uint64_t cursor, Visitor fn) const {
  if (packed()) {
    VisitAll(fn);
    return 0;
  }
  return sl_->index.Scan(cursor, [&](const ZNode* x) { fn(x->member(), x->score); });
}

ValueObject* ZSetObject::Clone() const {
  auto* z = new ZSetObject();
  if (packed()) {
    if (buf_ != nullptr) {
      z->buf_ = static_cast<char*>(malloc(buf_cap_));
      memcpy(z->buf_, buf_, buf_len_);
      z->buf_len_ = buf_len_;
      z->buf_cap_ = buf_cap_;
    }
    z->size_ = size_;
    return z;
  }
  z->ConvertToSkiplist();
  z->sl_->index.Reserve(size_);
  VisitAll([z](std::string_view m, double s) { z->Set(m, s); });
  return z;
}

void ZSetObject::SerializeParts(std::string* out, const ImageParts& parts) const {
  coding::PutVarint(out, size_);
  VisitAll([out, &parts](std::string_view m, double s) {
    coding::PutBytes(out, m);
    coding::PutDouble(out, s);
    parts.Boundary(out);
  });
}

Result<ZSetObject*> ZSetObject::Decode(std::string_view in) {
  uint64_t n;
  if (!coding::GetVarint(&in, &n)) return BadImage("zset");
  // Every member takes at least 9 bytes (its length and its score): a count beyond the image
  // is corrupt, and must not size the index.
  if (n > in.size() / 9) return BadImage("zset");
  // Members are set one by one, so the encoding is the one the contents call for under the
  // thresholds of the moment (Redis's rdbLoadObject chooses the same way).
  auto z = std::make_unique<ZSetObject>();
  if (n > EncodingLimits::zset_max_listpack_entries()) {
    z->ConvertToSkiplist();
    z->sl_->index.Reserve(n);
  }
  for (uint64_t i = 0; i < n; i++) {
    std::string_view m;
    double s;
    if (!coding::GetBytes(&in, &m) || !coding::GetDouble(&in, &s) || std::isnan(s)) {
      return BadImage("zset");
    }
    if (!z->Set(m, s)) return BadImage("zset");  // a repeated member
  }
  if (!in.empty()) return BadImage("zset");
  return z.release();
}

void ZSetDelta::Finish(std::string* out) const {
  out->clear();
  if (kind_ == kSet) {
    ZSetObject::BeginSetDelta(out, n_);
  } else {
    ZSetObject::BeginRemoveDelta(out, n_);
  }
  out->append(*body_);
}

bool ZSetObject::SetScore(std::string_view m, double score, ZSetDelta* d,
                          std::optional<double>* previous) {
  FDB_CHECK(d->kind_ == ZSetDelta::kSet);
  std::optional<double> before;
  bool added = Set(m, score, &before);
  if (added || *before != score) {
    AddSetDelta(d->body_, m, score);
    d->n_++;
  }
  if (previous != nullptr) *previous = before;
  return added;
}

bool ZSetObject::RemoveMember(std::string_view m, ZSetDelta* d) {
  FDB_CHECK(d->kind_ == ZSetDelta::kRemove);
  if (!Remove(m)) return false;
  AddRemoveDelta(d->body_, m);
  d->n_++;
  return true;
}

void ZSetObject::BeginSetDelta(std::string* out, size_t n) {
  out->push_back('S');
  coding::PutVarint(out, n);
}
void ZSetObject::AddSetDelta(std::string* out, std::string_view m, double score) {
  coding::PutBytes(out, m);
  coding::PutDouble(out, score);
}
void ZSetObject::BeginRemoveDelta(std::string* out, size_t n) {
  out->push_back('R');
  coding::PutVarint(out, n);
}
void ZSetObject::AddRemoveDelta(std::string* out, std::string_view m) { coding::PutBytes(out, m); }

Status ZSetObject::ApplyDelta(std::string_view in) {
  uint8_t op;
  uint64_t n;
  if (!coding::GetU8(&in, &op) || !coding::GetVarint(&in, &n)) return BadDelta("zset");
  if (op == 'S') {
    for (uint64_t i = 0; i < n; i++) {
      std::string_view m;
      double s;
      if (!coding::GetBytes(&in, &m) || !coding::GetDouble(&in, &s) || std::isnan(s)) {
        return BadDelta("zset");
      }
      Set(m, s);
    }
  } else if (op == 'R') {
    for (uint64_t i = 0; i < n; i++) {
      std::string_view m;
      if (!coding::GetBytes(&in, &m)) return BadDelta("zset");
      Remove(m);
    }
  } else {
    return BadDelta("zset");
  }
  if (!in.empty()) return BadDelta("zset");
  return Status::OK();
}

// --- Parsing ----------------------------------------------------------------------------------

bool ParseScore(std::string_view s, double* out) {
  if (s.empty() || isspace(static_cast<unsigned char>(s[0]))) return false;
  CString c(s);
  char* end;
  errno = 0;
  double v = strtod(c.p, &end);
  if (static_cast<size_t>(end - c.p) != s.size()) return false;
  if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || v == 0)) return false;
  if (std::isnan(v)) return false;
  *out = v;
  return true;
}

namespace {
// One bound of zslParseRange: strtod over the whole text (after an optional '('), no NaN. As in
// Redis, leading space is accepted and an empty number reads as 0.
bool ParseScoreBound(std::string_view s, double* v, bool* ex) {
  *ex = !s.empty() && s[0] == '(';
  if (*ex) s.remove_prefix(1);
  CString c(s);
  char* end;
  *v = strtod(c.p, &end);
  return static_cast<size_t>(end - c.p) == s.size() && !std::isnan(*v);
}

bool ParseLexBound(std::string_view s, ZLexBound* b) {
  if (s.empty()) return false;
  switch (s[0]) {
    case '+':
      if (s.size() != 1) return false;
      b->kind = ZLexBound::kPosInf;
      return true;
    case '-':
      if (s.size() != 1) return false;
      b->kind = ZLexBound::kNegInf;
      return true;
    case '(':
    case '[':
      b->kind = ZLexBound::kValue;
      b->ex = s[0] == '(';
      b->value.assign(s.substr(1));
      return true;
    default:
      return false;
  }
}
}  // namespace

bool ParseScoreRange(std::string_view min, std::string_view max, ZScoreRange* out) {
  return ParseScoreBound(min, &out->min, &out->minex) &&
         ParseScoreBound(max, &out->max, &out->maxex);
}

bool ParseLexRange(std::string_view min, std::string_view max, ZLexRange* out) {
  return ParseLexBound(min, &out->min) && ParseLexBound(max, &out->max);
}

// --- Factories ---------------------------------------------------------------------------------

ValueObject* NewZSetObject() { return new ZSetObject(); }

Result<ValueObject*> DecodeZSetObject(std::string_view image) {
  return AsValueObject(ZSetObject::Decode(image));
}

}  // namespace fdb
