// Redis's DUMP payload format (commands/rdb_payload.h).
#include "commands/rdb_payload.h"

#include <lzf.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <map>
#include <vector>

#include "base/limits.h"
#include "base/numbers.h"
#include "engine/hash_object.h"
#include "engine/list_object.h"
#include "engine/set_object.h"
#include "engine/stream_object.h"
#include "engine/zset_object.h"

namespace fdb {

namespace {

// --- CRC-64 (Jones, reflected, as Redis) ---

std::array<uint64_t, 256> MakeCrc64Table() {
  constexpr uint64_t kPoly = 0x95AC9329AC4BC9B5ULL;  // 0xad93d23594c935a9, reflected
  std::array<uint64_t, 256> t{};
  for (uint64_t i = 0; i < 256; i++) {
    uint64_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[i] = c;
  }
  return t;
}

// --- Writing ---

void PutLen(std::string* out, uint64_t n) {
  if (n < (1 << 6)) {
    out->push_back(static_cast<char>(n));
  } else if (n < (1 << 14)) {
    out->push_back(static_cast<char>(0x40 | (n >> 8)));
    out->push_back(static_cast<char>(n & 0xff));
  } else if (n <= UINT32_MAX) {
    out->push_back(static_cast<char>(0x80));
    for (int i = 3; i >= 0; i--) out->push_back(static_cast<char>(n >> (8 * i)));
  } else {
    out->push_back(static_cast<char>(0x81));
    for (int i = 7; i >= 0; i--) out->push_back(static_cast<char>(n >> (8 * i)));
  }
}

void PutString(std::string* out, std::string_view s) {
  PutLen(out, s.size());
  out->append(s);
}

// --- A listpack writer (for DUMP of a stream, whose RDB form is listpacks only) ---
//
//   listpack := total_bytes:u32 count:u16 entry* 0xFF          (little-endian)
//   entry    := encoding data backlen                          backlen: encoding+data length,
//                                                              7 bits a byte, written backwards
// Integers 0..127 take one byte (0xxxxxxx), others the 64-bit form (0xF4 + 8 bytes); strings
// 10xxxxxx (< 64 bytes), 1110xxxx yyyyyyyy (< 4096) or 0xF0 + a 32-bit length.
void LpBacklen(std::string* lp, size_t l) {
  if (l <= 127) {
    lp->push_back(static_cast<char>(l));
  } else if (l < 16383) {
    lp->push_back(static_cast<char>(l >> 7));
    lp->push_back(static_cast<char>((l & 127) | 128));
  } else if (l < 2097151) {
    lp->push_back(static_cast<char>(l >> 14));
    lp->push_back(static_cast<char>(((l >> 7) & 127) | 128));
    lp->push_back(static_cast<char>((l & 127) | 128));
  } else if (l < 268435455) {
    lp->push_back(static_cast<char>(l >> 21));
    lp->push_back(static_cast<char>(((l >> 14) & 127) | 128));
    lp->push_back(static_cast<char>(((l >> 7) & 127) | 128));
    lp->push_back(static_cast<char>((l & 127) | 128));
  } else {
    lp->push_back(static_cast<char>(l >> 28));
    lp->push_back(static_cast<char>(((l >> 21) & 127) | 128));
    lp->push_back(static_cast<char>(((l >> 14) & 127) | 128));
    lp->push_back(static_cast<char>(((l >> 7) & 127) | 128));
    lp->push_back(static_cast<char>((l & 127) | 128));
  }
}

void LpInt(std::string* lp, int64_t v) {
  size_t start = lp->size();
  if (v >= 0 && v <= 127) {
    lp->push_back(static_cast<char>(v));
  } else {
    lp->push_back(static_cast<char>(0xF4));
    for (int i = 0; i < 8; i++)
      lp->push_back(static_cast<char>(static_cast<uint64_t>(v) >> (8 * i)));
  }
  LpBacklen(lp, lp->size() - start);
}

void LpStr(std::string* lp, std::string_view v) {
  size_t start = lp->size();
  if (v.size() < 64) {
    lp->push_back(static_cast<char>(0x80 | v.size()));
  } else if (v.size() < 4096) {
    lp->push_back(static_cast<char>(0xE0 | (v.size() >> 8)));
    lp->push_back(static_cast<char>(v.size() & 0xff));
  } else {
    lp->push_back(static_cast<char>(0xF0));
    for (int i = 0; i < 4; i++) lp->push_back(static_cast<char>(v.size() >> (8 * i)));
  }
  lp->append(v);
  LpBacklen(lp, lp->size() - start);
}

// The listpack of `count` elements whose entries are `body`.
std::string LpFinish(std::string_view body, size_t count) {
  std::string lp;
  uint64_t total = 6 + body.size() + 1;
  for (int i = 0; i < 4; i++) lp.push_back(static_cast<char>(total >> (8 * i)));
  uint16_t n = count < 65535 ? static_cast<uint16_t>(count) : 65535;
  lp.push_back(static_cast<char>(n & 0xff));
  lp.push_back(static_cast<char>(n >> 8));
  lp.append(body);
  lp.push_back(static_cast<char>(0xFF));
  return lp;
}

void PutRawId(std::string* out, StreamId id) {
  for (int i = 7; i >= 0; i--) out->push_back(static_cast<char>(id.ms >> (8 * i)));
  for (int i = 7; i >= 0; i--) out->push_back(static_cast<char>(id.seq >> (8 * i)));
}
void PutMs(std::string* out, int64_t ms) {
  for (int i = 0; i < 8; i++)
    out->push_back(static_cast<char>(static_cast<uint64_t>(ms) >> (8 * i)));
}

// A stream as RDB_TYPE_STREAM_LISTPACKS_2 (Redis 7.0): nodes of up to 100 live entries, each a
// listpack opening with its master entry (the first entry's field names), then the metadata and
// the consumer groups with their PELs.
void DumpStream(const StreamObject& s, std::string* out) {
  out->push_back(static_cast<char>(kRdbStreamListpacks2));
  struct E {
    StreamId id;
    std::vector<std::string_view> fv;
  };
  std::vector<E> all;
  all.reserve(s.length());
  s.Range({}, StreamId::Max(), false, [&](StreamId id, StreamObject::FieldValues fv) {
    all.push_back({id, std::vector<std::string_view>(fv.begin(), fv.end())});
    return true;
  });
  constexpr size_t kPerNode = 100;
  PutLen(out, (all.size() + kPerNode - 1) / kPerNode);
  for (size_t lo = 0; lo < all.size(); lo += kPerNode) {
    size_t hi = std::min(all.size(), lo + kPerNode);
    const E& master = all[lo];
    size_t nmaster = master.fv.size() / 2;
    std::string body;
    size_t count = 0;
    LpInt(&body, static_cast<int64_t>(hi - lo));
    LpInt(&body, 0);
    LpInt(&body, static_cast<int64_t>(nmaster));
    for (size_t i = 0; i < nmaster; i++) LpStr(&body, master.fv[2 * i]);
    LpInt(&body, 0);
    count += 4 + nmaster;
    for (size_t k = lo; k < hi; k++) {
      const E& e = all[k];
      size_t nf = e.fv.size() / 2;
      bool same = nf == nmaster;
      for (size_t i = 0; same && i < nf; i++) same = e.fv[2 * i] == master.fv[2 * i];
      LpInt(&body, same ? 2 : 0);
      LpInt(&body, static_cast<int64_t>(e.id.ms - master.id.ms));
      LpInt(&body, static_cast<int64_t>(e.id.seq - master.id.seq));
      count += 3;
      if (same) {
        for (size_t i = 0; i < nf; i++) LpStr(&body, e.fv[2 * i + 1]);
        count += nf;
      } else {
        LpInt(&body, static_cast<int64_t>(nf));
        for (std::string_view x : e.fv) LpStr(&body, x);
        count += 1 + 2 * nf;
      }
      LpInt(&body, static_cast<int64_t>(same ? nf + 3 : 2 * nf + 4));
      count++;
    }
    std::string key;
    PutRawId(&key, master.id);
    PutString(out, key);
    PutString(out, LpFinish(body, count));
  }
  PutLen(out, s.length());
  PutLen(out, s.last_id().ms);
  PutLen(out, s.last_id().seq);
  StreamId first = s.FirstId();
  PutLen(out, first.ms);
  PutLen(out, first.seq);
  PutLen(out, s.max_deleted_id().ms);
  PutLen(out, s.max_deleted_id().seq);
  PutLen(out, s.entries_added());
  PutLen(out, s.groups().size());
  for (const auto& [name, g] : s.groups()) {
    PutString(out, name);
    PutLen(out, g->last_id.ms);
    PutLen(out, g->last_id.seq);
    PutLen(out, static_cast<uint64_t>(g->entries_read));
    PutLen(out, g->pel.size());
    for (const auto& [id, n] : g->pel) {
      PutRawId(out, id);
      PutMs(out, n.delivery_ms);
      PutLen(out, n.delivery_count);
    }
    PutLen(out, g->consumers.size());
    for (const auto& [cname, c] : g->consumers) {
      PutString(out, cname);
      PutMs(out, c->seen_ms);
      PutLen(out, c->pel.size());
      for (StreamId id : c->pel) PutRawId(out, id);
    }
  }
}

// --- Reading ---

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return in_.empty(); }

  uint8_t Byte() {
    if (in_.empty()) return Fail(), 0;
    uint8_t b = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return b;
  }
  std::string_view Bytes(size_t n) {
    if (in_.size() < n) return Fail(), std::string_view();
    std::string_view r = in_.substr(0, n);
    in_.remove_prefix(n);
    return r;
  }
  // A length; *encoded is set (and the return value is the encoding) for a special string.
  uint64_t Len(bool* encoded = nullptr) {
    if (encoded) *encoded = false;
    uint8_t b = Byte();
    switch (b >> 6) {
      case 0:
        return b & 0x3f;
      case 1:
        return (static_cast<uint64_t>(b & 0x3f) << 8) | Byte();
      case 2: {
        int n = b == 0x80 ? 4 : b == 0x81 ? 8 : 0;
        if (n == 0) return Fail(), 0;
        uint64_t v = 0;
        for (int i = 0; i < n; i++) v = (v << 8) | Byte();
        return v;
      }
      default:
        if (encoded == nullptr) return Fail(), 0;
        *encoded = true;
        return b & 0x3f;
    }
  }
  std::string String() {
    bool encoded;
    uint64_t n = Len(&encoded);
    if (!ok_) return {};
    if (!encoded) {
      if (n > in_.size()) return Fail(), std::string();
      return std::string(Bytes(n));
    }
    auto le = [&](int bytes) {
      std::string_view b = Bytes(static_cast<size_t>(bytes));
      if (!ok_) return int64_t{0};
      uint64_t v = 0;
      for (int i = bytes - 1; i >= 0; i--) v = (v << 8) | static_cast<uint8_t>(b[i]);
      int shift = 64 - 8 * bytes;
      return static_cast<int64_t>(v << shift) >> shift;  // sign-extended
    };
    switch (n) {
      case 0:
        return std::to_string(le(1));
      case 1:
        return std::to_string(le(2));
      case 2:
        return std::to_string(le(4));
      case 3: {
        uint64_t clen = Len(), len = Len();
        // LZF expands at most ~90x (a back reference of 264 bytes in 3), so a declared length
        // beyond that is a lie: refused before anything is allocated for it.
        if (!ok_ || clen > in_.size() || len > static_cast<uint64_t>(limits::kStringMax) ||
            len > clen * 100 + 64) {
          return Fail(), std::string();
        }
        std::string_view c = Bytes(clen);
        std::string out(len, '\0');
        if (len > 0 && lzf_decompress(c.data(), static_cast<unsigned>(clen), out.data(),
                                      static_cast<unsigned>(len)) != len) {
          return Fail(), std::string();
        }
        return out;
      }
      default:
        return Fail(), std::string();
    }
  }
  // A score of the old ZSET type: a length byte and its text (253 nan, 254 +inf, 255 -inf).
  double TextDouble() {
    uint8_t n = Byte();
    if (n == 253) return NAN;
    if (n == 254) return INFINITY;
    if (n == 255) return -INFINITY;
    std::string s(Bytes(n));
    if (!ok_) return 0;
    char* end;
    double d = strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) Fail();
    return d;
  }
  double BinaryDouble() {
    std::string_view b = Bytes(8);
    if (!ok_) return 0;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | static_cast<uint8_t>(b[i]);
    double d;
    memcpy(&d, &v, 8);
    return d;
  }
  void Fail() { ok_ = false; }

 private:
  std::string_view in_;
  bool ok_ = true;
};

uint64_t LittleEndian(std::string_view b) {
  uint64_t v = 0;
  for (size_t i = b.size(); i-- > 0;) v = (v << 8) | static_cast<uint8_t>(b[i]);
  return v;
}

int64_t SignExtend(uint64_t v, int bits) {
  int shift = 64 - bits;
  return static_cast<int64_t>(v << shift) >> shift;
}

// The elements of a listpack (Redis 7's compact encoding), as strings. False if malformed.
bool ListpackElements(std::string_view lp, std::vector<std::string>* out) {
  if (lp.size() < 7 || LittleEndian(lp.substr(0, 4)) != lp.size()) return false;
  size_t p = 6;
  while (p < lp.size()) {
    uint8_t b = static_cast<uint8_t>(lp[p]);
    if (b == 0xff) return p + 1 == lp.size();
    size_t head = 1, len = 0;
    std::string value;
    bool is_str = false;
    int64_t num = 0;
    auto need = [&](size_t n) { return p + n <= lp.size(); };
    if ((b & 0x80) == 0) {
      num = b & 0x7f;
    } else if ((b & 0xc0) == 0x80) {
      is_str = true;
      len = b & 0x3f;
    } else if ((b & 0xe0) == 0xc0) {
      if (!need(2)) return false;
      head = 2;
      num =
          SignExtend((static_cast<uint64_t>(b & 0x1f) << 8) | static_cast<uint8_t>(lp[p + 1]), 13);
    } else if ((b & 0xf0) == 0xe0) {
      if (!need(2)) return false;
      head = 2;
      is_str = true;
      len = (static_cast<size_t>(b & 0x0f) << 8) | static_cast<uint8_t>(lp[p + 1]);
    } else if (b == 0xf0) {
      if (!need(5)) return false;
      head = 5;
      is_str = true;
      len = LittleEndian(lp.substr(p + 1, 4));
    } else if (b >= 0xf1 && b <= 0xf4) {
      static constexpr int kBytes[] = {2, 3, 4, 8};
      int n = kBytes[b - 0xf1];
      if (!need(1 + static_cast<size_t>(n))) return false;
      head = 1 + static_cast<size_t>(n);
      num = SignExtend(LittleEndian(lp.substr(p + 1, static_cast<size_t>(n))), 8 * n);
    } else {
      return false;
    }
    if (!need(head + len)) return false;
    if (is_str) {
      out->emplace_back(lp.substr(p + head, len));
    } else {
      out->push_back(std::to_string(num));
    }
    // The entry's length, written back-to-front after it in 1 to 5 bytes.
    size_t entry = head + len;
    size_t back = entry < 128         ? 1
                  : entry < 16384     ? 2
                  : entry < 2097152   ? 3
                  : entry < 268435456 ? 4
                                      : 5;
    p += entry + back;
  }
  return false;
}

// The elements of a ziplist (Redis before 7.0), as strings. False if malformed.
bool ZiplistElements(std::string_view zl, std::vector<std::string>* out) {
  if (zl.size() < 11 || LittleEndian(zl.substr(0, 4)) != zl.size()) return false;
  size_t p = 10;
  while (p < zl.size()) {
    if (static_cast<uint8_t>(zl[p]) == 0xff) return p + 1 == zl.size();
    p += static_cast<uint8_t>(zl[p]) < 254 ? 1 : 5;  // the previous entry's length
    if (p >= zl.size()) return false;
    uint8_t b = static_cast<uint8_t>(zl[p]);
    auto need = [&](size_t n) { return p + n <= zl.size(); };
    if ((b >> 6) < 3) {
      size_t head, len;
      if ((b >> 6) == 0) {
        head = 1;
        len = b & 0x3f;
      } else if ((b >> 6) == 1) {
        if (!need(2)) return false;
        head = 2;
        len = (static_cast<size_t>(b & 0x3f) << 8) | static_cast<uint8_t>(zl[p + 1]);
      } else {
        if (!need(5)) return false;
        head = 5;
        len = 0;
        for (int i = 1; i <= 4; i++) len = (len << 8) | static_cast<uint8_t>(zl[p + i]);
      }
      if (!need(head + len)) return false;
      out->emplace_back(zl.substr(p + head, len));
      p += head + len;
      continue;
    }
    int n;
    switch (b) {
      case 0xc0:
        n = 2;
        break;
      case 0xd0:
        n = 4;
        break;
      case 0xe0:
        n = 8;
        break;
      case 0xf0:
        n = 3;
        break;
      case 0xfe:
        n = 1;
        break;
      default:
        if (b >= 0xf1 && b <= 0xfd) {
          out->push_back(std::to_string((b & 0x0f) - 1));
          p += 1;
          continue;
        }
        return false;
    }
    if (!need(1 + static_cast<size_t>(n))) return false;
    out->push_back(
        std::to_string(SignExtend(LittleEndian(zl.substr(p + 1, static_cast<size_t>(n))), 8 * n)));
    p += 1 + static_cast<size_t>(n);
  }
  return false;
}

bool IntsetElements(std::string_view is, std::vector<std::string>* out) {
  if (is.size() < 8) return false;
  uint64_t width = LittleEndian(is.substr(0, 4)), n = LittleEndian(is.substr(4, 4));
  if ((width != 2 && width != 4 && width != 8) || is.size() != 8 + width * n) return false;
  for (uint64_t i = 0; i < n; i++) {
    out->push_back(std::to_string(
        SignExtend(LittleEndian(is.substr(8 + i * width, width)), static_cast<int>(8 * width))));
  }
  return true;
}

Status Bad() { return Status::Corruption("Bad data format"); }

StreamId RawId(std::string_view b) {
  StreamId id;
  for (int i = 0; i < 8; i++) id.ms = (id.ms << 8) | static_cast<uint8_t>(b[i]);
  for (int i = 8; i < 16; i++) id.seq = (id.seq << 8) | static_cast<uint8_t>(b[i]);
  return id;
}

// A stream of RDB type 15 (Redis 5-6.2), 19 (7.0) or 21 (7.2), read into a StreamObject through
// its own mutators, so what RESTORE builds is what XADD and XREADGROUP would have built.
Status ParseStream(Reader& r, uint8_t type, RestoredValue* out) {
  auto s = std::make_unique<StreamObject>();
  std::string ignored;
  uint64_t nodes = r.Len();
  std::vector<std::string> el;
  std::vector<std::string_view> fv;
  auto num = [&](size_t i, int64_t* v) { return i < el.size() && ParseInt64(el[i], v); };
  for (uint64_t n = 0; n < nodes && r.ok(); n++) {
    std::string key = r.String();
    std::string lp = r.String();
    el.clear();
    if (!r.ok() || key.size() != 16 || !ListpackElements(lp, &el) || el.empty()) return Bad();
    StreamId master = RawId(key);
    int64_t count, deleted, nmaster, zero;
    if (!num(0, &count) || !num(1, &deleted) || !num(2, &nmaster) || count < 0 || deleted < 0 ||
        nmaster < 0 || static_cast<uint64_t>(nmaster) > el.size()) {
      return Bad();
    }
    size_t p = 3 + static_cast<size_t>(nmaster);
    if (!num(p, &zero) || zero != 0) return Bad();
    p++;
    for (int64_t k = 0; k < count + deleted; k++) {
      int64_t flags, msd, seqd, nf = nmaster;
      if (!num(p, &flags) || !num(p + 1, &msd) || !num(p + 2, &seqd)) return Bad();
      p += 3;
      bool same = (flags & 2) != 0;
      if (!same) {
        if (!num(p, &nf) || nf < 0) return Bad();
        p++;
      }
      if (nf <= 0 || static_cast<uint64_t>(nf) > el.size()) return Bad();
      fv.clear();
      for (int64_t i = 0; i < nf; i++) {
        if (same) {
          if (p >= el.size()) return Bad();
          fv.push_back(el[3 + static_cast<size_t>(i)]);
          fv.push_back(el[p++]);
        } else {
          if (p + 1 >= el.size()) return Bad();
          fv.push_back(el[p++]);
          fv.push_back(el[p++]);
        }
      }
      p++;  // lp-count
      if (p > el.size()) return Bad();
      if (flags & 1) continue;  // a tombstone
      StreamId id{master.ms + static_cast<uint64_t>(msd), master.seq + static_cast<uint64_t>(seqd)};
      if (id <= s->last_id()) return Bad();
      s->Append(id, fv, 4096, 100, &ignored);
      ignored.clear();
    }
    if (p != el.size()) return Bad();
  }
  uint64_t length = r.Len();
  StreamId last{r.Len(), r.Len()};
  StreamId maxdel;
  uint64_t added = length;
  if (type != kRdbStreamListpacks) {
    StreamId first{r.Len(), r.Len()};
    (void)first;  // recomputed from the entries
    maxdel = StreamId{r.Len(), r.Len()};
    added = r.Len();
  }
  if (!r.ok() || length != s->length() || last < s->LastEntryId() || added < length) return Bad();
  s->SetMeta(last, maxdel, added, &ignored);
  uint64_t ngroups = r.Len();
  for (uint64_t gi = 0; gi < ngroups && r.ok(); gi++) {
    std::string name = r.String();
    StreamId glast{r.Len(), r.Len()};
    int64_t entries_read = StreamObject::kInvalidEntriesRead;
    if (type != kRdbStreamListpacks) {
      entries_read = static_cast<int64_t>(r.Len());
    } else {
      entries_read = s->EstimateEntriesRead(glast);
    }
    if (!r.ok() || entries_read < StreamObject::kInvalidEntriesRead) return Bad();
    if (s->CreateGroup(name, glast, entries_read, &ignored) == nullptr) return Bad();
    struct Pending {
      int64_t ms;
      uint64_t count;
      bool owned = false;
    };
    std::map<StreamId, Pending> pel;
    uint64_t npel = r.Len();
    for (uint64_t i = 0; i < npel && r.ok(); i++) {
      std::string_view raw = r.Bytes(16);
      std::string_view ms = r.Bytes(8);
      uint64_t count = r.Len();
      if (!r.ok()) return Bad();
      pel[RawId(raw)] = Pending{static_cast<int64_t>(LittleEndian(ms)), count};
    }
    uint64_t nconsumers = r.Len();
    for (uint64_t ci = 0; ci < nconsumers && r.ok(); ci++) {
      std::string cname = r.String();
      std::string_view seen = r.Bytes(8);
      if (type == kRdbStreamListpacks3) (void)r.Bytes(8);  // active time (Redis 7.2)
      uint64_t n = r.Len();
      if (!r.ok()) return Bad();
      s->TouchConsumer(name, cname, static_cast<int64_t>(LittleEndian(seen)), &ignored);
      for (uint64_t i = 0; i < n && r.ok(); i++) {
        std::string_view raw = r.Bytes(16);
        if (!r.ok()) return Bad();
        auto it = pel.find(RawId(raw));
        if (it == pel.end() || it->second.owned) return Bad();
        it->second.owned = true;
        s->SetNack(name, it->first, cname, it->second.ms, it->second.count, &ignored);
      }
    }
    for (const auto& [id, pend] : pel) {
      if (!pend.owned) return Bad();  // a pending entry with no consumer
    }
    ignored.clear();
  }
  if (!r.ok()) return Bad();
  out->obj = std::move(s);
  out->type = ValueType::kStream;
  return Status::OK();
}

bool ParseScoreText(const std::string& s, double* d) {
  char* end;
  *d = strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size() && !std::isnan(*d);
}

}  // namespace

uint64_t Crc64(uint64_t crc, std::string_view data) {
  static const std::array<uint64_t, 256> table = MakeCrc64Table();
  for (char c : data) crc = table[(crc ^ static_cast<uint8_t>(c)) & 0xff] ^ (crc >> 8);
  return crc;
}

std::string DumpPayload(const Entry* e) {
  std::string out;
  if (e->type() == ValueType::kString) {
    std::string scratch;
    out.push_back(static_cast<char>(kRdbString));
    PutString(&out, e->StringValue(&scratch));
  } else {
    const ValueObject* obj = e->object();
    switch (e->type()) {
      case ValueType::kList: {
        auto* l = static_cast<const ListObject*>(obj);
        out.push_back(static_cast<char>(kRdbList));
        PutLen(&out, l->Size());
        l->ForRange(0, l->Size(), false, [&](const ListObject::Elem& el) {
          char buf[24];
          PutString(&out, el.View(buf));
          return true;
        });
        break;
      }
      case ValueType::kSet: {
        auto* s = static_cast<const SetObject*>(obj);
        out.push_back(static_cast<char>(kRdbSet));
        PutLen(&out, s->Size());
        s->ForEach([&](std::string_view m) { PutString(&out, m); });
        break;
      }
      case ValueType::kHash: {
        auto* h = static_cast<const HashObject*>(obj);
        out.push_back(static_cast<char>(kRdbHash));
        PutLen(&out, h->Size());
        h->ForEach([&](std::string_view f, std::string_view v) {
          PutString(&out, f);
          PutString(&out, v);
        });
        break;
      }
      case ValueType::kZSet: {
        auto* z = static_cast<const ZSetObject*>(obj);
        out.push_back(static_cast<char>(kRdbZSet2));
        PutLen(&out, z->Size());
        z->VisitAll([&](std::string_view m, double score) {
          PutString(&out, m);
          uint64_t bits;
          memcpy(&bits, &score, 8);
          for (int i = 0; i < 8; i++) out.push_back(static_cast<char>(bits >> (8 * i)));
        });
        break;
      }
      case ValueType::kStream:
        DumpStream(*static_cast<const StreamObject*>(obj), &out);
        break;
      default:
        break;
    }
  }
  out.push_back(static_cast<char>(kRdbVersionDumped & 0xff));
  out.push_back(static_cast<char>(kRdbVersionDumped >> 8));
  uint64_t crc = Crc64(0, out);
  for (int i = 0; i < 8; i++) out.push_back(static_cast<char>(crc >> (8 * i)));
  return out;
}

RdbWriter::RdbWriter(std::string* out) : out_(out) {
  out_->append("REDIS0010");
  Aux("redis-ver", "7.0.15");
  Aux("redis-bits", sizeof(void*) == 8 ? "64" : "32");
}

void RdbWriter::Aux(std::string_view key, std::string_view value) {
  out_->push_back(static_cast<char>(0xFA));
  PutString(out_, key);
  PutString(out_, value);
}

void RdbWriter::SelectDb(int db) {
  out_->push_back(static_cast<char>(0xFE));
  PutLen(out_, static_cast<uint64_t>(db));
}

void RdbWriter::Key(std::string_view key, const Entry* e, int64_t expire_ms) {
  if (expire_ms > 0) {
    out_->push_back(static_cast<char>(0xFC));
    for (int i = 0; i < 8; i++) out_->push_back(static_cast<char>(expire_ms >> (8 * i)));
  }
  // DUMP's payload is the type, the value, and a 10-byte trailer; a file has the key between
  // the type and the value, and no trailer.
  const std::string payload = DumpPayload(e);
  out_->push_back(payload[0]);
  PutString(out_, key);
  out_->append(payload, 1, payload.size() - 11);
}

void RdbWriter::Finish() {
  out_->push_back(static_cast<char>(0xFF));
  const uint64_t crc = Crc64(0, *out_);
  for (int i = 0; i < 8; i++) out_->push_back(static_cast<char>(crc >> (8 * i)));
}

bool VerifyDumpPayload(std::string_view p) {
  if (p.size() < 10) return false;
  uint64_t version = LittleEndian(p.substr(p.size() - 10, 2));
  if (version > kRdbVersionMax) return false;
  return Crc64(0, p.substr(0, p.size() - 8)) == LittleEndian(p.substr(p.size() - 8));
}

Status ParseDumpPayload(std::string_view payload, RestoredValue* out) {
  if (payload.size() < 11) return Bad();
  return ParseRdbValue(static_cast<uint8_t>(payload[0]), payload.substr(1, payload.size() - 11),
                       out);
}

Status ParseRdbString(std::string_view in, std::string* out) {
  Reader r(in);
  *out = r.String();
  if (!r.ok() || !r.done()) return Bad();
  return Status::OK();
}

Status ParseRdbValue(uint8_t type, std::string_view body, RestoredValue* out) {
  Reader r(body);
  std::vector<std::string> elems;
  auto blob_elements = [&](bool (*parse)(std::string_view, std::vector<std::string>*)) {
    std::string blob = r.String();
    if (!r.ok() || !parse(blob, &elems)) r.Fail();
  };
  enum class Kind { kString, kList, kSet, kHash, kZSet } kind;
  std::vector<double> scores;  // for sorted sets read with binary or text scores
  switch (type) {
    case kRdbString:
      kind = Kind::kString;
      out->str = r.String();
      break;
    case kRdbList:
    case kRdbSet:
    case kRdbHash: {
      kind = type == kRdbList ? Kind::kList : type == kRdbSet ? Kind::kSet : Kind::kHash;
      uint64_t n = r.Len();
      if (type == kRdbHash) n *= 2;
      for (uint64_t i = 0; i < n && r.ok(); i++) elems.push_back(r.String());
      break;
    }
    case kRdbZSet:
    case kRdbZSet2: {
      kind = Kind::kZSet;
      uint64_t n = r.Len();
      for (uint64_t i = 0; i < n && r.ok(); i++) {
        elems.push_back(r.String());
        scores.push_back(type == kRdbZSet ? r.TextDouble() : r.BinaryDouble());
      }
      break;
    }
    case kRdbListZiplist:
      kind = Kind::kList;
      blob_elements(ZiplistElements);
      break;
    case kRdbSetIntset:
      kind = Kind::kSet;
      blob_elements(IntsetElements);
      break;
    case kRdbSetListpack:
      kind = Kind::kSet;
      blob_elements(ListpackElements);
      break;
    case kRdbZSetZiplist:
    case kRdbZSetListpack:
    case kRdbHashZiplist:
    case kRdbHashListpack:
      kind = (type == kRdbZSetZiplist || type == kRdbZSetListpack) ? Kind::kZSet : Kind::kHash;
      blob_elements((type == kRdbZSetZiplist || type == kRdbHashZiplist) ? ZiplistElements
                                                                         : ListpackElements);
      if (elems.size() % 2 != 0) r.Fail();
      break;
    case kRdbListQuicklist:
    case kRdbListQuicklist2: {
      kind = Kind::kList;
      uint64_t nodes = r.Len();
      for (uint64_t i = 0; i < nodes && r.ok(); i++) {
        uint64_t container = type == kRdbListQuicklist2 ? r.Len() : 2;
        if (container == 1) {  // a plain node: one large element
          elems.push_back(r.String());
        } else {
          blob_elements(type == kRdbListQuicklist ? ZiplistElements : ListpackElements);
        }
      }
      break;
    }
    case kRdbStreamListpacks:
    case kRdbStreamListpacks2:
    case kRdbStreamListpacks3: {
      // A stream may be empty (XADD ... MAXLEN 0): it is a value, unlike an empty collection.
      Status st = ParseStream(r, type, out);
      if (!st.ok()) return st;
      if (!r.ok() || !r.done()) return Bad();
      return Status::OK();
    }
    default:
      return Bad();
  }
  if (!r.ok() || !r.done()) return Bad();
  switch (kind) {
    case Kind::kString:
      out->type = ValueType::kString;
      return Status::OK();
    case Kind::kList: {
      auto l = std::make_unique<ListObject>();
      std::string delta;
      std::vector<std::string_view> views(elems.begin(), elems.end());
      if (!views.empty()) l->Push(false, views, &delta);
      out->obj = std::move(l);
      break;
    }
    case Kind::kSet: {
      auto s = std::make_unique<SetObject>();
      for (const std::string& m : elems) {
        if (!s->Add(m)) return Bad();  // a repeated member
      }
      out->obj = std::move(s);
      break;
    }
    case Kind::kHash: {
      auto h = std::make_unique<HashObject>();
      for (size_t i = 0; i + 1 < elems.size(); i += 2) {
        if (!h->Set(elems[i], elems[i + 1])) return Bad();  // a repeated field
      }
      out->obj = std::move(h);
      break;
    }
    case Kind::kZSet: {
      auto z = std::make_unique<ZSetObject>();
      if (scores.empty()) {
        for (size_t i = 0; i + 1 < elems.size(); i += 2) {
          double d;
          if (!ParseScoreText(elems[i + 1], &d) || !z->Set(elems[i], d)) return Bad();
        }
      } else {
        for (size_t i = 0; i < elems.size(); i++) {
          if (std::isnan(scores[i]) || !z->Set(elems[i], scores[i])) return Bad();
        }
      }
      out->obj = std::move(z);
      break;
    }
  }
  // An empty collection is no value: RESTORE refuses it (as Redis), and an RDB file's loader
  // skips it (as Redis 7, for the empty keys that bugs of older versions could save).
  if (out->obj->Size() == 0) return Status::NotFound("an empty collection");
  out->type = out->obj->type();
  return Status::OK();
}

}  // namespace fdb
