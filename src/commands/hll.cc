#include "commands/hll.h"

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

namespace fdb::hll {

namespace {

constexpr uint64_t kSeed = 0xadc83b19ULL;
constexpr int kZeroMaxLen = 64;
constexpr int kXZeroMaxLen = 16384;
constexpr int kValMaxLen = 4;

bool IsZero(uint8_t c) { return (c & 0xc0) == 0x00; }
bool IsXZero(uint8_t c) { return (c & 0xc0) == 0x40; }
bool IsVal(uint8_t c) { return (c & 0x80) != 0; }
int ZeroLen(uint8_t c) { return (c & 0x3f) + 1; }
int XZeroLen(uint8_t c, uint8_t d) { return (((c & 0x3f) << 8) | d) + 1; }
int ValValue(uint8_t c) { return ((c >> 2) & 0x1f) + 1; }
int ValLen(uint8_t c) { return (c & 0x3) + 1; }
char Val(int value, int len) { return static_cast<char>(0x80 | ((value - 1) << 2) | (len - 1)); }
char Zero(int len) { return static_cast<char>(len - 1); }
void AppendXZero(std::string* out, int len) {
  out->push_back(static_cast<char>(0x40 | ((len - 1) >> 8)));
  out->push_back(static_cast<char>((len - 1) & 0xff));
}
void AppendZeros(std::string* out, int len) {
  if (len > kZeroMaxLen) {
    AppendXZero(out, len);
  } else {
    out->push_back(Zero(len));
  }
}

uint8_t At(const std::string& s, size_t i) { return static_cast<uint8_t>(s[i]); }

// The second byte of the XZERO at p. A corrupted HLL may end in the middle of one: the missing
// byte reads as 0, as in Redis (whose strings end with a NUL), so both read it the same way.
uint8_t Next(std::string_view s, size_t p) {
  return p + 1 < s.size() ? static_cast<uint8_t>(s[p + 1]) : 0;
}

uint8_t* Regs(std::string* s) { return reinterpret_cast<uint8_t*>(s->data()) + kHeaderSize; }
const uint8_t* Regs(std::string_view s) {
  return reinterpret_cast<const uint8_t*>(s.data()) + kHeaderSize;
}

// Ertl's sigma and tau: the corrections for registers that are 0 and at their maximum.
double Sigma(double x) {
  if (x == 1.0) return INFINITY;
  double y = 1.0, z = x, prev;
  do {
    x *= x;
    prev = z;
    z += x * y;
    y += y;
  } while (prev != z);
  return z;
}

double Tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1.0, z = 1.0 - x, prev;
  do {
    x = std::sqrt(x);
    prev = z;
    y *= 0.5;
    z -= std::pow(1.0 - x, 2) * y;
  } while (prev != z);
  return z / 3.0;
}

uint64_t Estimate(const int* histo) {
  const double m = kRegisters;
  double z = m * Tau((m - histo[kQ + 1]) / m);
  for (int j = kQ; j >= 1; --j) {
    z += histo[j];
    z *= 0.5;
  }
  z += m * Sigma(histo[0] / m);
  // alpha_inf = 1 / (2 ln 2)
  return static_cast<uint64_t>(std::llround(0.721347520444481703680 * m * m / z));
}

}  // namespace

uint64_t MurmurHash64A(const void* key, size_t len, uint64_t seed) {
  constexpr uint64_t m = 0xc6a4a7935bd1e995ULL;
  constexpr int r = 47;
  const auto* data = static_cast<const uint8_t*>(key);
  uint64_t h = seed ^ (static_cast<uint64_t>(len) * m);
  const size_t blocks = len / 8;
  for (size_t i = 0; i < blocks; i++) {
    uint64_t k = 0;
    for (int b = 7; b >= 0; b--) k = (k << 8) | data[i * 8 + b];  // little-endian word
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  const uint8_t* tail = data + blocks * 8;
  const size_t rest = len & 7;
  if (rest > 0) {
    for (size_t b = rest; b-- > 0;) h ^= static_cast<uint64_t>(tail[b]) << (8 * b);
    h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

int PatternLength(std::string_view element, int* index) {
  uint64_t hash = MurmurHash64A(element.data(), element.size(), kSeed);
  *index = static_cast<int>(hash & (kRegisters - 1));
  hash >>= kP;
  hash |= uint64_t{1} << kQ;  // a sentinel: the run is at most kQ + 1
  return __builtin_ctzll(hash) + 1;
}

std::string NewEmpty() {
  std::string s("HYLL", 4);
  s.push_back(static_cast<char>(kSparse));
  s.append(11, '\0');
  AppendXZero(&s, kXZeroMaxLen);
  return s;
}

bool IsHll(std::string_view s) {
  if (s.size() < kHeaderSize || s.substr(0, 4) != "HYLL") return false;
  const auto enc = static_cast<uint8_t>(s[4]);
  if (enc > kSparse) return false;
  return enc != kDense || s.size() == kDenseSize;
}

bool IsDense(std::string_view s) { return static_cast<uint8_t>(s[4]) == kDense; }

uint8_t DenseGet(const uint8_t* regs, int i) {
  const size_t bit = static_cast<size_t>(i) * kBits;
  const size_t b = bit >> 3;
  const unsigned fb = bit & 7;
  unsigned v = regs[b] >> fb;
  if (fb > 8 - kBits) v |= static_cast<unsigned>(regs[b + 1]) << (8 - fb);
  return static_cast<uint8_t>(v & 63);
}

void DenseSet(uint8_t* regs, int i, uint8_t v) {
  const size_t bit = static_cast<size_t>(i) * kBits;
  const size_t b = bit >> 3;
  const unsigned fb = bit & 7;
  regs[b] = static_cast<uint8_t>((regs[b] & ~(63u << fb)) | (static_cast<unsigned>(v) << fb));
  if (fb > 8 - kBits) {
    const unsigned hi = 8 - fb;  // bits of v already placed
    regs[b + 1] = static_cast<uint8_t>((regs[b + 1] & ~(63u >> hi)) | (v >> hi));
  }
}

bool ToDense(std::string* s) {
  if (IsDense(*s)) return true;
  std::string dense(kDenseSize, '\0');
  memcpy(dense.data(), s->data(), kHeaderSize);
  dense[4] = static_cast<char>(kDense);
  uint8_t* regs = Regs(&dense);
  int idx = 0;
  size_t p = kHeaderSize;
  while (p < s->size()) {
    const uint8_t c = At(*s, p);
    if (IsZero(c)) {
      idx += ZeroLen(c);
      p++;
    } else if (IsXZero(c)) {
      idx += XZeroLen(c, Next(*s, p));
      p += 2;
    } else {
      const int len = ValLen(c), val = ValValue(c);
      if (idx + len > kRegisters) return false;
      for (int i = 0; i < len; i++) DenseSet(regs, idx++, static_cast<uint8_t>(val));
      p++;
    }
    if (idx > kRegisters) return false;
  }
  if (idx != kRegisters) return false;
  s->swap(dense);
  return true;
}

int SetRegister(std::string* s, int index, uint8_t count, size_t sparse_max_bytes) {
  if (IsDense(*s)) {
    uint8_t* regs = Regs(s);
    if (DenseGet(regs, index) >= count) return 0;
    DenseSet(regs, index, count);
    return 1;
  }
  auto promote = [&]() {
    if (!ToDense(s)) return -1;
    uint8_t* regs = Regs(s);
    if (DenseGet(regs, index) >= count) return 0;  // cannot be: the sparse value was lower
    DenseSet(regs, index, count);
    return 1;
  };
  if (count > kSparseValMax) return promote();

  // Find the opcode whose run covers `index`, and the one before it.
  constexpr size_t kNone = static_cast<size_t>(-1);
  size_t p = kHeaderSize, prev = kNone;
  int first = 0, span = 0;
  while (p < s->size()) {
    const uint8_t c = At(*s, p);
    size_t oplen = 1;
    if (IsZero(c)) {
      span = ZeroLen(c);
    } else if (IsVal(c)) {
      span = ValLen(c);
    } else {
      if (p + 1 >= s->size()) return -1;
      span = XZeroLen(c, At(*s, p + 1));
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span == 0 || p >= s->size()) return -1;

  const uint8_t c = At(*s, p);
  const bool is_val = IsVal(c), is_zero = IsZero(c), is_xzero = IsXZero(c);
  bool done = false;
  if (is_val) {
    if (ValValue(c) >= count) return 0;
    if (span == 1) {  // a run of one: the value changes in place
      (*s)[p] = Val(count, 1);
      done = true;
    }
  } else if (is_zero && span == 1) {
    (*s)[p] = Val(count, 1);
    done = true;
  }
  if (!done) {
    // Split the run into: the registers before `index`, `index` itself, the ones after, each
    // keeping the run's value (zero, or the VAL's).
    const int last = first + span - 1;
    std::string seq;
    if (!is_val) {
      if (index != first) AppendZeros(&seq, index - first);
      seq.push_back(Val(count, 1));
      if (index != last) AppendZeros(&seq, last - index);
    } else {
      const int cur = ValValue(c);
      if (index != first) seq.push_back(Val(cur, index - first));
      seq.push_back(Val(count, 1));
      if (index != last) seq.push_back(Val(cur, last - index));
    }
    const size_t oldlen = is_xzero ? 2 : 1;
    if (seq.size() > oldlen && s->size() + (seq.size() - oldlen) > sparse_max_bytes) {
      return promote();
    }
    s->replace(p, oldlen, seq);
  }

  // Merge neighbouring VAL runs of the same value, looking at a few opcodes from the one before
  // the change (the change makes at most three opcodes).
  size_t q = prev != kNone ? prev : kHeaderSize;
  int scan = 5;
  while (q < s->size() && scan-- > 0) {
    const uint8_t a = At(*s, q);
    if (IsXZero(a)) {
      q += 2;
      continue;
    }
    if (IsZero(a)) {
      q++;
      continue;
    }
    if (q + 1 < s->size() && IsVal(At(*s, q + 1))) {
      const uint8_t b = At(*s, q + 1);
      const int len = ValLen(a) + ValLen(b);
      if (ValValue(a) == ValValue(b) && len <= kValMaxLen) {
        (*s)[q] = Val(ValValue(a), len);
        s->erase(q + 1, 1);
        continue;  // the merged run may merge again with the next
      }
    }
    q++;
  }
  return 1;
}

int Add(std::string* s, std::string_view element, size_t sparse_max_bytes) {
  int index;
  const int count = PatternLength(element, &index);
  return SetRegister(s, index, static_cast<uint8_t>(count), sparse_max_bytes);
}

bool CachedCard(std::string_view s, uint64_t* card) {
  if ((static_cast<uint8_t>(s[15]) & 0x80) != 0) return false;
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | static_cast<uint8_t>(s[8 + i]);
  *card = v;
  return true;
}

void SetCachedCard(std::string* s, uint64_t card) {
  for (int i = 0; i < 8; i++) (*s)[8 + i] = static_cast<char>((card >> (8 * i)) & 0xff);
}

void InvalidateCache(std::string* s) {
  (*s)[15] = static_cast<char>(static_cast<uint8_t>((*s)[15]) | 0x80);
}

bool MergeInto(std::string_view s, uint8_t* max) {
  if (IsDense(s)) {
    const uint8_t* regs = Regs(s);
    for (int i = 0; i < kRegisters; i++) {
      const uint8_t v = DenseGet(regs, i);
      if (v > max[i]) max[i] = v;
    }
    return true;
  }
  int idx = 0;
  size_t p = kHeaderSize;
  while (p < s.size()) {
    const auto c = static_cast<uint8_t>(s[p]);
    if (IsZero(c)) {
      idx += ZeroLen(c);
      p++;
    } else if (IsXZero(c)) {
      idx += XZeroLen(c, Next(s, p));
      p += 2;
    } else {
      const int len = ValLen(c);
      const auto val = static_cast<uint8_t>(ValValue(c));
      if (idx + len > kRegisters) return false;
      for (int i = 0; i < len; i++, idx++) {
        if (val > max[idx]) max[idx] = val;
      }
      p++;
    }
    if (idx > kRegisters) return false;
  }
  return idx == kRegisters;
}

bool Count(std::string_view s, uint64_t* card) {
  int histo[64] = {};
  if (IsDense(s)) {
    const uint8_t* regs = Regs(s);
    for (int i = 0; i < kRegisters; i++) histo[DenseGet(regs, i)]++;
  } else {
    int idx = 0;
    size_t p = kHeaderSize;
    while (p < s.size()) {
      const auto c = static_cast<uint8_t>(s[p]);
      int len;
      if (IsZero(c)) {
        len = ZeroLen(c);
        histo[0] += len;
        p++;
      } else if (IsXZero(c)) {
        len = XZeroLen(c, Next(s, p));
        histo[0] += len;
        p += 2;
      } else {
        len = ValLen(c);
        histo[ValValue(c)] += len;
        p++;
      }
      idx += len;
      if (idx > kRegisters) return false;
    }
    if (idx != kRegisters) return false;
  }
  *card = Estimate(histo);
  return true;
}

uint64_t CountRaw(const uint8_t* regs) {
  int histo[256] = {};
  for (int i = 0; i < kRegisters; i++) histo[regs[i]]++;
  return Estimate(histo);
}

bool DecodeSparse(std::string_view s, std::string* out) {
  size_t p = kHeaderSize;
  while (p < s.size()) {
    const auto c = static_cast<uint8_t>(s[p]);
    if (IsZero(c)) {
      *out += "z:" + std::to_string(ZeroLen(c)) + " ";
      p++;
    } else if (IsXZero(c)) {
      *out += "Z:" + std::to_string(XZeroLen(c, Next(s, p))) + " ";
      p += 2;
    } else {
      *out += "v:" + std::to_string(ValValue(c)) + "," + std::to_string(ValLen(c)) + " ";
      p++;
    }
  }
  while (!out->empty() && out->back() == ' ') out->pop_back();
  return true;
}

std::string SelfTest(size_t sparse_max_bytes) {
  // 1. Register packing: every register keeps its value while its neighbours change.
  std::vector<uint8_t> regs(kDenseSize - kHeaderSize, 0);
  std::vector<uint8_t> want(kRegisters);
  std::mt19937_64 rng(12345);
  for (int round = 0; round < 4; round++) {
    for (int i = 0; i < kRegisters; i++) {
      want[i] = static_cast<uint8_t>(rng() & 63);
      DenseSet(regs.data(), i, want[i]);
    }
    for (int i = 0; i < kRegisters; i++) {
      if (DenseGet(regs.data(), i) != want[i]) return "TESTFAILED Register error";
    }
  }
  // 2. The estimate of a sparse and a dense HLL fed the same elements agree, and stay within
  // a few standard errors (1.04 / sqrt(16384) = 0.81%) of the truth.
  std::string sparse = NewEmpty(), dense = NewEmpty();
  if (!ToDense(&dense)) return "TESTFAILED dense conversion";
  const double rel_err = 1.04 / std::sqrt(static_cast<double>(kRegisters));
  for (uint64_t n = 1; n <= 100000; n++) {
    std::string ele = "element:" + std::to_string(n);
    if (Add(&sparse, ele, sparse_max_bytes) < 0 || Add(&dense, ele, sparse_max_bytes) < 0) {
      return "TESTFAILED corrupted HLL";
    }
    if (n % 1000 != 0 && n > 100) continue;
    uint64_t a, b;
    if (!Count(sparse, &a) || !Count(dense, &b)) return "TESTFAILED corrupted HLL";
    if (a != b) return "TESTFAILED sparse and dense estimates differ at " + std::to_string(n);
    const double err = std::fabs(static_cast<double>(a) - static_cast<double>(n));
    const double bound = n < 1000 ? 5 * rel_err * n + 2 : 5 * rel_err * n;
    if (err > bound) return "TESTFAILED too big error at " + std::to_string(n);
  }
  return "";
}

}  // namespace fdb::hll
