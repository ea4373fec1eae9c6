// Streaming RDB file reader (commands/rdb_file.h).
#include "commands/rdb_file.h"

#include <algorithm>

namespace fdb {

namespace {

// Opcodes (Redis's rdb.h).
enum : uint8_t {
  kOpFunction2 = 0xF5,
  kOpFunctionPreGa = 0xF6,
  kOpModuleAux = 0xF7,
  kOpIdle = 0xF8,
  kOpFreq = 0xF9,
  kOpAux = 0xFA,
  kOpResizeDb = 0xFB,
  kOpExpireTimeMs = 0xFC,
  kOpExpireTime = 0xFD,
  kOpSelectDb = 0xFE,
  kOpEof = 0xFF,
};

constexpr size_t kHeaderBytes = 9;  // "REDIS" and 4 digits
constexpr int kChecksumVersionMin = 5;
// The longest encoded form of one string: its 1-9 length bytes, or an LZF header (a byte and two
// lengths), before the bytes themselves.
constexpr uint64_t kStringHeaderMax = 1 + 9 + 9;

enum class Got { kOk, kShort, kBad };

// Walks items of the RDB grammar in a buffer without consuming them. Every read either succeeds
// (and advances pos), or finds the buffer ends first (kShort: try again with more bytes), or
// finds bytes that cannot be right (kBad, why says what). Nothing is read past `limit`: a
// length that would take a read there is kBad before its bytes arrive.
struct Cursor {
  std::string_view buf;
  size_t pos;
  uint64_t limit;
  const char* why = nullptr;

  Got Bad(const char* what) {
    why = what;
    return Got::kBad;
  }
  Got Skip(uint64_t n) {
    if (n > limit - pos)
      return Bad("a value longer than the limit (RdbLoader::Options::value_bytes_max)");
    if (n > buf.size() - pos) return Got::kShort;
    pos += n;
    return Got::kOk;
  }
  Got Byte(uint8_t* b) {
    if (pos >= buf.size()) return Got::kShort;
    *b = static_cast<uint8_t>(buf[pos]);
    return Skip(1);
  }
  uint64_t Le(size_t start, int n) const {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | static_cast<uint8_t>(buf[start + i]);
    return v;
  }
  Got Fixed(int n, uint64_t* v) {
    size_t at = pos;
    Got g = Skip(static_cast<uint64_t>(n));
    if (g == Got::kOk) *v = Le(at, n);
    return g;
  }
  // An RDB length; *encoded (when given) tells a special string encoding (the return value is
  // then the encoding).
  Got Len(uint64_t* v, bool* encoded = nullptr) {
    if (encoded != nullptr) *encoded = false;
    uint8_t b;
    size_t at = pos;
    if (Got g = Byte(&b); g != Got::kOk) return g;
    switch (b >> 6) {
      case 0:
        *v = b & 0x3f;
        return Got::kOk;
      case 1: {
        uint8_t lo;
        if (Got g = Byte(&lo); g != Got::kOk) return pos = at, g;
        *v = (static_cast<uint64_t>(b & 0x3f) << 8) | lo;
        return Got::kOk;
      }
      case 2: {
        int n = b == 0x80 ? 4 : b == 0x81 ? 8 : 0;
        if (n == 0) return Bad("a bad length encoding");
        if (Got g = Skip(static_cast<uint64_t>(n)); g != Got::kOk) return pos = at, g;
        *v = 0;
        for (int i = 1; i <= n; i++) *v = (*v << 8) | static_cast<uint8_t>(buf[at + i]);
        return Got::kOk;
      }
      default:
        if (encoded == nullptr) return Bad("a string encoding where a length belongs");
        *encoded = true;
        *v = b & 0x3f;
        return Got::kOk;
    }
  }
  // One string, whatever its encoding; on success *raw is its encoded bytes (what
  // ParseRdbString decodes).
  Got String(std::string_view* raw = nullptr) {
    size_t at = pos;
    Got g = StringBody();
    if (g == Got::kShort) pos = at;
    if (g == Got::kOk && raw != nullptr) *raw = buf.substr(at, pos - at);
    return g;
  }
  // A score of the old ZSET type: a length byte and its text (253-255: nan, +inf, -inf).
  Got TextDouble() {
    size_t at = pos;
    uint8_t n;
    if (Got g = Byte(&n); g != Got::kOk) return g;
    if (n >= 253) return Got::kOk;
    Got g = Skip(n);
    if (g == Got::kShort) pos = at;
    return g;
  }

 private:
  Got StringBody() {
    bool encoded;
    uint64_t n;
    if (Got g = Len(&n, &encoded); g != Got::kOk) return g;
    if (!encoded) {
      if (n > static_cast<uint64_t>(limits::kStringMax)) return Bad("a string over 512 MB");
      return Skip(n);
    }
    switch (n) {
      case 0:
        return Skip(1);
      case 1:
        return Skip(2);
      case 2:
        return Skip(4);
      case 3: {
        uint64_t clen, len;
        if (Got g = Len(&clen); g != Got::kOk) return g;
        if (Got g = Len(&len); g != Got::kOk) return g;
        if (len > static_cast<uint64_t>(limits::kStringMax) || clen > len + 64) {
          return Bad("a compressed string over 512 MB");
        }
        return Skip(clen);
      }
      default:
        return Bad("an unknown string encoding");
    }
  }
};

// --- Where a value ends ---
//
// Each value type's grammar as a little program over the Cursor's reads, run by
// RdbLoader::ScanValue. kScanLoop reads a length and runs the instructions up to its kScanNext that
// many times; kScanSkip's byte after it is how many bytes to skip. The decoders in rdb_payload.cc
// read the same grammars; a value whose end this finds wrongly is refused there (its body must be
// read exactly), so a disagreement is an error, never a misread file.
enum ScanOp : uint8_t {
  kScanStr,
  kScanLen,
  kScanSkip,
  kScanTextDouble,
  kScanLoop,
  kScanNext,
  kScanEnd
};

constexpr uint8_t kOneString[] = {kScanStr, kScanEnd};
constexpr uint8_t kStrings[] = {kScanLoop, kScanStr, kScanNext, kScanEnd};
constexpr uint8_t kPairs[] = {kScanLoop, kScanStr, kScanStr, kScanNext, kScanEnd};
constexpr uint8_t kZSetText[] = {kScanLoop, kScanStr, kScanTextDouble, kScanNext, kScanEnd};
constexpr uint8_t kZSetBinary[] = {kScanLoop, kScanStr, kScanSkip, 8, kScanNext, kScanEnd};
constexpr uint8_t kQuicklist2[] = {kScanLoop, kScanLen, kScanStr, kScanNext, kScanEnd};
// Streams: listpack nodes (master ID, listpack); length, last ID; from type 19 the first ID,
// the max deleted ID and the entries added; then the groups: name, last ID, from type 19 the
// entries read, the PEL (ID, delivery time, delivery count), the consumers (name, seen time,
// from type 21 the active time, their PEL's IDs).
// clang-format off
constexpr uint8_t kStream1[] = {
    kScanLoop, kScanStr, kScanStr, kScanNext,                     // nodes
    kScanLen, kScanLen, kScanLen,                                 // length, last ID
    kScanLoop, kScanStr, kScanLen, kScanLen,                      // groups
      kScanLoop, kScanSkip, 16, kScanSkip, 8, kScanLen, kScanNext,  // a group's PEL
      kScanLoop, kScanStr, kScanSkip, 8,                          // its consumers
        kScanLoop, kScanSkip, 16, kScanNext,                      // a consumer's PEL
      kScanNext,
    kScanNext, kScanEnd};
constexpr uint8_t kStream2[] = {
    kScanLoop, kScanStr, kScanStr, kScanNext,
    kScanLen, kScanLen, kScanLen, kScanLen, kScanLen, kScanLen, kScanLen, kScanLen,
    kScanLoop, kScanStr, kScanLen, kScanLen, kScanLen,
      kScanLoop, kScanSkip, 16, kScanSkip, 8, kScanLen, kScanNext,
      kScanLoop, kScanStr, kScanSkip, 8,
        kScanLoop, kScanSkip, 16, kScanNext,
      kScanNext,
    kScanNext, kScanEnd};
constexpr uint8_t kStream3[] = {
    kScanLoop, kScanStr, kScanStr, kScanNext,
    kScanLen, kScanLen, kScanLen, kScanLen, kScanLen, kScanLen, kScanLen, kScanLen,
    kScanLoop, kScanStr, kScanLen, kScanLen, kScanLen,
      kScanLoop, kScanSkip, 16, kScanSkip, 8, kScanLen, kScanNext,
      kScanLoop, kScanStr, kScanSkip, 8, kScanSkip, 8,
        kScanLoop, kScanSkip, 16, kScanNext,
      kScanNext,
    kScanNext, kScanEnd};
// clang-format on

// The program of a value type, or nullptr for one FDB does not read.
const uint8_t* ProgramOf(uint8_t type) {
  switch (type) {
    case kRdbString:
    case kRdbListZiplist:
    case kRdbSetIntset:
    case kRdbZSetZiplist:
    case kRdbHashZiplist:
    case kRdbHashListpack:
    case kRdbZSetListpack:
    case kRdbSetListpack:
      return kOneString;
    case kRdbList:
    case kRdbSet:
    case kRdbListQuicklist:
      return kStrings;
    case kRdbHash:
      return kPairs;
    case kRdbZSet:
      return kZSetText;
    case kRdbZSet2:
      return kZSetBinary;
    case kRdbListQuicklist2:
      return kQuicklist2;
    case kRdbStreamListpacks:
      return kStream1;
    case kRdbStreamListpacks2:
      return kStream2;
    case kRdbStreamListpacks3:
      return kStream3;
    default:
      return nullptr;
  }
}

// The instruction after the kScanNext that closes the loop whose body starts at pc.
size_t AfterLoop(const uint8_t* program, size_t pc) {
  int depth = 1;
  for (;; pc++) {
    if (program[pc] == kScanSkip) {
      pc++;
    } else if (program[pc] == kScanLoop) {
      depth++;
    } else if (program[pc] == kScanNext && --depth == 0) {
      return pc + 1;
    }
  }
}

// A module's name and version from its 64-bit id (Redis's moduleTypeNameByID): nine characters
// of 6 bits, then 10 bits of version.
std::string ModuleName(uint64_t id) {
  static constexpr char kChars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string name;
  for (int i = 0; i < 9; i++) name.push_back(kChars[(id >> (64 - 6 * (i + 1))) & 63]);
  return name + " (version " + std::to_string(id & 1023) + ")";
}

std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) out.push_back(c >= 32 && c < 127 ? c : '?');
  if (s.size() > 64) out += "...";
  return out;
}

}  // namespace

RdbLoader::RdbLoader(KeyFn on_key, Options options)
    : on_key_(std::move(on_key)), options_(options) {}

RdbLoader::Step RdbLoader::Fail(Status s) {
  error_ = std::move(s);
  state_ = State::kFailed;
  return Step::kError;
}

void RdbLoader::Consume(size_t n) {
  crc_ = Crc64(crc_, std::string_view(buf_).substr(start_, n));
  start_ += n;
  offset_ += n;
}

Result<size_t> RdbLoader::Feed(std::string_view chunk) {
  if (state_ == State::kFailed) return error_;
  if (state_ == State::kDone) return size_t{0};
  buf_.append(chunk);
  for (;;) {
    Step s = Step::kShort;
    switch (state_) {
      case State::kHeader:
        s = ReadHeader();
        break;
      case State::kItem:
        s = ReadItem();
        break;
      case State::kValue:
        s = ScanValue();
        break;
      case State::kChecksum:
        s = ReadChecksum();
        break;
      case State::kEofMark:
        s = ReadEofMark();
        break;
      case State::kDone:
      case State::kFailed:
        break;
    }
    if (s == Step::kError) return error_;
    if (s == Step::kShort) break;
  }
  if (state_ == State::kDone) {
    // Every byte after the file came with this chunk: the earlier ones were not enough to end it.
    size_t after = buf_.size() - start_;
    FDB_DCHECK(after <= chunk.size());
    std::string().swap(buf_);
    start_ = 0;
    return chunk.size() - after;
  }
  // Drop what was consumed; what stays is one unfinished item (the value being scanned starts
  // at start_, so its offsets move with it).
  buf_.erase(0, start_);
  value_start_ -= std::min(value_start_, start_);
  scan_.pos -= std::min(scan_.pos, start_);
  start_ = 0;
  if (buf_.capacity() > (1u << 20) && buf_.capacity() > 4 * buf_.size()) buf_.shrink_to_fit();
  return chunk.size();
}

RdbLoader::Step RdbLoader::ReadHeader() {
  if (buf_.size() - start_ < kHeaderBytes) return Step::kShort;
  std::string_view h = std::string_view(buf_).substr(start_, kHeaderBytes);
  int version = 0;
  bool digits = true;
  for (char c : h.substr(5)) {
    digits = digits && c >= '0' && c <= '9';
    version = version * 10 + (c - '0');
  }
  if (h.substr(0, 5) != "REDIS" || !digits) {
    return Fail(Status::Corruption("not an RDB file (wrong signature)"));
  }
  if (version < 1 || version > kRdbVersionMax) {
    return Fail(Status::InvalidArgument("RDB format version " + std::to_string(version) +
                                        " is not supported (FDB reads 1 to " +
                                        std::to_string(kRdbVersionMax) + ")"));
  }
  version_ = version;
  Consume(kHeaderBytes);
  state_ = State::kItem;
  return Step::kRead;
}

RdbLoader::Step RdbLoader::ReadItem() {
  Cursor c{buf_, start_, start_ + kStringHeaderMax + static_cast<uint64_t>(limits::kStringMax)};
  auto at = [&] { return " at offset " + std::to_string(offset_); };
  auto bad = [&](Got g, const char* what) {
    if (g == Got::kShort) return Step::kShort;
    return Fail(Status::Corruption(std::string("RDB file: ") + what + ": " + c.why + at()));
  };
  uint8_t op;
  if (Got g = c.Byte(&op); g != Got::kOk) return bad(g, "");
  switch (op) {
    case kOpEof:
      Consume(1);
      state_ = version_ >= kChecksumVersionMin ? State::kChecksum
               : eof_mark_.empty()             ? State::kDone
                                               : State::kEofMark;
      return Step::kRead;
    case kOpSelectDb: {
      uint64_t db;
      if (Got g = c.Len(&db); g != Got::kOk) return bad(g, "SELECTDB");
      if (db > static_cast<uint64_t>(INT32_MAX)) {
        return Fail(Status::Corruption("RDB file: SELECTDB " + std::to_string(db) + at()));
      }
      db_ = static_cast<int>(db);
      break;
    }
    case kOpResizeDb: {
      uint64_t size, expires;  // a hint for presizing tables; FDB's grow as keys arrive
      if (Got g = c.Len(&size); g != Got::kOk) return bad(g, "RESIZEDB");
      if (Got g = c.Len(&expires); g != Got::kOk) return bad(g, "RESIZEDB");
      break;
    }
    case kOpExpireTimeMs: {
      uint64_t ms;
      if (Got g = c.Fixed(8, &ms); g != Got::kOk) return bad(g, "EXPIRETIME_MS");
      expire_ms_ = static_cast<int64_t>(ms);
      break;
    }
    case kOpExpireTime: {
      uint64_t s;
      if (Got g = c.Fixed(4, &s); g != Got::kOk) return bad(g, "EXPIRETIME");
      expire_ms_ = static_cast<int64_t>(static_cast<int32_t>(s)) * 1000;
      break;
    }
    case kOpIdle: {
      uint64_t idle;  // the key's LRU idle time: FDB's next access sets it anew
      if (Got g = c.Len(&idle); g != Got::kOk) return bad(g, "IDLE");
      break;
    }
    case kOpFreq: {
      uint8_t freq;  // the key's LFU counter, likewise not kept
      if (Got g = c.Byte(&freq); g != Got::kOk) return bad(g, "FREQ");
      break;
    }
    case kOpAux: {
      std::string_view raw_name, raw_value;
      if (Got g = c.String(&raw_name); g != Got::kOk) return bad(g, "AUX");
      if (Got g = c.String(&raw_value); g != Got::kOk) return bad(g, "AUX");
      std::string name, value;
      if (!ParseRdbString(raw_name, &name).ok() || !ParseRdbString(raw_value, &value).ok()) {
        return Fail(Status::Corruption("RDB file: a bad AUX field" + at()));
      }
      if (on_aux_) on_aux_(name, value);
      break;
    }
    case kOpFunction2: {
      std::string_view raw;
      if (Got g = c.String(&raw); g != Got::kOk) return bad(g, "FUNCTION2");
      std::string code;
      if (!ParseRdbString(raw, &code).ok()) {
        return Fail(Status::Corruption("RDB file: a bad function library" + at()));
      }
      if (on_function_) {
        Status s = on_function_(code);
        if (!s.ok()) return Fail(std::move(s));
      } else {
        functions_skipped_++;
      }
      break;
    }
    case kOpFunctionPreGa:
      // As Redis 7.0 GA, which refuses its release candidates' format too.
      return Fail(Status::InvalidArgument(
          "RDB file: functions in the pre-release format of Redis 7.0 cannot be loaded" + at()));
    case kOpModuleAux: {
      uint64_t id;
      if (Got g = c.Len(&id); g != Got::kOk) return bad(g, "MODULE_AUX");
      return Fail(Status::InvalidArgument("RDB file: data of module " + ModuleName(id) +
                                          ", which FDB cannot load (it has no modules)" + at()));
    }
    default: {
      // A key: its type, name, and then its value. The type is checked first: on a corrupt
      // byte, waiting for the bytes of a "key" that is not one could wait for 512 MB.
      const bool module = op == kRdbModulePreGa || op == kRdbModule2;
      const uint8_t* program = ProgramOf(op);
      if (program == nullptr && !module) {
        return Fail(Status::Corruption(
            op == kRdbHashZipmap
                ? "RDB file: a zipmap (Redis 2.x) value, which FDB does not read" + at()
                : "RDB file: unknown value type " + std::to_string(op) + at()));
      }
      std::string_view raw_key;
      if (Got g = c.String(&raw_key); g != Got::kOk) return bad(g, "a key");
      if (module) {
        uint64_t id;
        if (Got g = c.Len(&id); g != Got::kOk) return bad(g, "a module value");
        return Fail(Status::InvalidArgument("RDB file: the value of a key is of module " +
                                            ModuleName(id) +
                                            ", which FDB cannot load (it has no modules)" + at()));
      }
      if (!ParseRdbString(raw_key, &key_).ok()) {
        return Fail(Status::Corruption("RDB file: a bad key" + at()));
      }
      type_ = op;
      Consume(c.pos - start_);
      value_start_ = start_;
      scan_ = Scan{};
      scan_.program = program;
      scan_.pos = start_;
      state_ = State::kValue;
      return Step::kRead;
    }
  }
  Consume(c.pos - start_);
  return Step::kRead;
}

// Runs the value's program from where it stopped (see Scan), one read at a time; a read that
// finds too few bytes leaves pc and pos where they were, to run again on the next Feed.
RdbLoader::Step RdbLoader::ScanValue() {
  Cursor c{buf_, scan_.pos, value_start_ + options_.value_bytes_max};
  const uint8_t* p = scan_.program;
  for (;;) {
    Got g = Got::kOk;
    uint8_t op = p[scan_.pc];
    size_t next = scan_.pc + 1;
    switch (op) {
      case kScanStr:
        g = c.String();
        break;
      case kScanLen: {
        uint64_t ignored;
        g = c.Len(&ignored);
        break;
      }
      case kScanSkip:
        g = c.Skip(p[scan_.pc + 1]);
        next++;
        break;
      case kScanTextDouble:
        g = c.TextDouble();
        break;
      case kScanLoop: {
        uint64_t n;
        g = c.Len(&n);
        if (g != Got::kOk) break;
        if (n == 0) {
          next = AfterLoop(p, scan_.pc + 1);
        } else {
          FDB_CHECK(scan_.depth < Scan::kDepthMax);
          scan_.loops[scan_.depth++] = Scan::Loop{n, scan_.pc + 1};
        }
        break;
      }
      case kScanNext: {
        Scan::Loop& loop = scan_.loops[scan_.depth - 1];
        if (--loop.left > 0) {
          next = loop.body;
        } else {
          scan_.depth--;
        }
        break;
      }
      case kScanEnd: {
        std::string_view body = std::string_view(buf_).substr(value_start_, c.pos - value_start_);
        RestoredValue v;
        Status s = ParseRdbValue(type_, body, &v);
        if (!s.ok() && s.code() != Status::kNotFound) {
          return Fail(Status::Corruption("RDB file: the value of key '" + Printable(key_) +
                                         "' (type " + std::to_string(type_) +
                                         ") does not parse at offset " + std::to_string(offset_)));
        }
        Consume(body.size());
        int64_t expire_ms = expire_ms_;
        expire_ms_ = 0;
        state_ = State::kItem;
        if (!s.ok()) {  // an empty collection: skipped, as Redis 7 does
          empty_keys_skipped_++;
          return Step::kRead;
        }
        keys_loaded_++;
        s = on_key_(db_, key_, std::move(v), expire_ms);
        if (!s.ok()) return Fail(std::move(s));
        return Step::kRead;
      }
    }
    if (g == Got::kShort) return Step::kShort;
    if (g == Got::kBad) {
      return Fail(Status::Corruption("RDB file: the value of key '" + Printable(key_) +
                                     "': " + c.why + " at offset " +
                                     std::to_string(offset_ + (c.pos - value_start_))));
    }
    scan_.pc = next;
    scan_.pos = c.pos;
  }
}

RdbLoader::Step RdbLoader::ReadChecksum() {
  if (buf_.size() - start_ < 8) return Step::kShort;
  uint64_t expected = 0;
  for (int i = 7; i >= 0; i--) expected = (expected << 8) | static_cast<uint8_t>(buf_[start_ + i]);
  if (expected != 0 && expected != crc_) {
    return Fail(Status::Corruption("RDB file: wrong checksum (the file says " +
                                   std::to_string(expected) + ", its bytes give " +
                                   std::to_string(crc_) + ")"));
  }
  start_ += 8;
  offset_ += 8;
  state_ = eof_mark_.empty() ? State::kDone : State::kEofMark;
  return Step::kRead;
}

RdbLoader::Step RdbLoader::ReadEofMark() {
  if (buf_.size() - start_ < eof_mark_.size()) return Step::kShort;
  if (std::string_view(buf_).substr(start_, eof_mark_.size()) != eof_mark_) {
    return Fail(
        Status::Corruption("RDB file: the diskless transfer's end mark does not follow it"));
  }
  start_ += eof_mark_.size();
  state_ = State::kDone;
  return Step::kRead;
}

}  // namespace fdb
