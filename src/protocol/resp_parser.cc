#include "protocol/resp_parser.h"

#include <cstring>

#include "base/check.h"
#include "base/limits.h"
#include "base/numbers.h"

namespace fdb {

namespace {

// Lengths are parsed as Redis does (string2ll): no sign but '-', no spaces, no overflow.
bool ParseLength(const char* p, size_t n, int64_t* out) {
  return ParseInt64(std::string_view(p, n), out);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void RespParser::Reset() {
  pos_ = 0;
  multibulk_left_ = -1;
  bulk_len_ = -1;
  consumed_ = 0;
  expected_bytes_ = 0;
  inline_ = false;
  // A request with many arguments (SADD of 100,000 members) would leave its argument table
  // allocated for the connection's lifetime: past kKeptArgs it goes with the request.
  if (args_.capacity() > kKeptArgs) {
    std::vector<Span>().swap(args_);
  } else {
    args_.clear();
  }
  inline_args_.clear();
  error_.clear();
}

RespParser::Result RespParser::Fail(const char* msg) {
  error_ = "Protocol error: ";
  error_ += msg;
  return Result::kError;
}

RespParser::Result RespParser::Parse(const char* buf, size_t len, const ParserLimits& limits) {
  if (len == 0) return Result::kNeedMore;
  if (multibulk_left_ < 0 && pos_ == 0 && buf[0] != '*') return ParseInline(buf, len);

  if (multibulk_left_ < 0) {
    // Header `*N\r\n`.
    const char* nl = static_cast<const char*>(memchr(buf, '\r', len));
    if (nl == nullptr) {
      if (len > limits::kInlineMax) return Fail("too big mbulk count string");
      return Result::kNeedMore;
    }
    if (static_cast<size_t>(nl - buf) > limits::kInlineMax) {
      return Fail("too big mbulk count string");
    }
    if (static_cast<size_t>(nl - buf) + 1 >= len) return Result::kNeedMore;  // need the '\n'
    int64_t n;
    if (!ParseLength(buf + 1, nl - buf - 1, &n) || n > limits::kMultibulkMax) {
      return Fail("invalid multibulk length");
    }
    if (!limits.authenticated && n > limits::kUnauthMultibulkMax) {
      return Fail("unauthenticated multibulk length");
    }
    pos_ = nl - buf + 2;
    if (n <= 0) {  // `*0` and `*-1` are empty requests, skipped as Redis does.
      consumed_ = pos_;
      return Result::kCommand;
    }
    multibulk_left_ = n;
    // Reserve for small counts only: a huge count must not allocate before its args arrive.
    args_.reserve(n < 1024 ? n : 1024);
  }

  while (multibulk_left_ > 0) {
    if (bulk_len_ < 0) {
      if (pos_ >= len) return Result::kNeedMore;
      const char* start = buf + pos_;
      size_t avail = len - pos_;
      const char* nl = static_cast<const char*>(memchr(start, '\r', avail));
      if (nl == nullptr) {
        if (avail > limits::kInlineMax) return Fail("too big bulk count string");
        return Result::kNeedMore;
      }
      if (static_cast<size_t>(nl - start) > limits::kInlineMax) {
        return Fail("too big bulk count string");
      }
      if (start[0] != '$') {
        error_ = "Protocol error: expected '$', got '";
        error_ += start[0];
        error_ += "'";
        return Result::kError;
      }
      if (static_cast<size_t>(nl - start) + 1 >= avail) return Result::kNeedMore;
      int64_t n;
      if (!ParseLength(start + 1, nl - start - 1, &n) || n < 0 || n > limits.max_bulk_len) {
        return Fail("invalid bulk length");
      }
      if (!limits.authenticated && n > limits::kUnauthBulkMax) {
        return Fail("unauthenticated bulk length");
      }
      bulk_len_ = n;
      pos_ = nl - buf + 2;
    }
    size_t need = pos_ + static_cast<size_t>(bulk_len_) + 2;
    if (len < need) {
      expected_bytes_ = need;
      return Result::kNeedMore;
    }
    // Redis does not check the bytes after the bulk; it skips two. So does FDB.
    args_.push_back({pos_, static_cast<size_t>(bulk_len_)});
    pos_ = need;
    bulk_len_ = -1;
    multibulk_left_--;
  }
  expected_bytes_ = 0;
  consumed_ = pos_;
  return Result::kCommand;
}

void RespParser::AdoptPendingBulk(std::string_view body) {
  FDB_CHECK(pending_bulk_len() == static_cast<int64_t>(body.size()));
  args_.push_back({pos_, body.size(), body.data()});
  bulk_len_ = -1;
  multibulk_left_--;
  expected_bytes_ = 0;
}

RespParser::Result RespParser::ParseInline(const char* buf, size_t len) {
  const char* nl = static_cast<const char*>(memchr(buf, '\n', len));
  if (nl == nullptr) {
    if (len > limits::kInlineMax) return Fail("too big inline request");
    return Result::kNeedMore;
  }
  size_t line_len = nl - buf;
  if (line_len > limits::kInlineMax) return Fail("too big inline request");
  if (line_len > 0 && buf[line_len - 1] == '\r') line_len--;
  inline_ = true;
  inline_args_.clear();
  if (!SplitInlineArgs(std::string_view(buf, line_len), &inline_args_)) {
    return Fail("unbalanced quotes in request");
  }
  consumed_ = nl - buf + 1;
  return Result::kCommand;
}

bool SplitInlineArgs(std::string_view line, std::vector<std::string>* out) {
  size_t i = 0, n = line.size();
  auto is_space = [](char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\v';
  };
  while (true) {
    while (i < n && is_space(line[i])) i++;
    if (i >= n) return true;
    std::string cur;
    bool in_dq = false, in_sq = false, done = false;
    while (!done) {
      if (in_dq) {
        if (i >= n) return false;  // unterminated quotes
        char c = line[i];
        if (c == '\\' && i + 3 < n && line[i + 1] == 'x' && HexValue(line[i + 2]) >= 0 &&
            HexValue(line[i + 3]) >= 0) {
          cur += static_cast<char>(HexValue(line[i + 2]) * 16 + HexValue(line[i + 3]));
          i += 3;
        } else if (c == '\\' && i + 1 < n) {
          i++;
          switch (line[i]) {
            case 'n':
              cur += '\n';
              break;
            case 'r':
              cur += '\r';
              break;
            case 't':
              cur += '\t';
              break;
            case 'b':
              cur += '\b';
              break;
            case 'a':
              cur += '\a';
              break;
            default:
              cur += line[i];
              break;
          }
        } else if (c == '"') {
          // A closing quote must be followed by a space or the end.
          if (i + 1 < n && !is_space(line[i + 1])) return false;
          done = true;
        } else {
          cur += c;
        }
      } else if (in_sq) {
        if (i >= n) return false;
        char c = line[i];
        if (c == '\\' && i + 1 < n && line[i + 1] == '\'') {
          i++;
          cur += '\'';
        } else if (c == '\'') {
          if (i + 1 < n && !is_space(line[i + 1])) return false;
          done = true;
        } else {
          cur += c;
        }
      } else {
        if (i >= n) {
          done = true;
          break;
        }
        char c = line[i];
        if (is_space(c)) {
          done = true;
        } else if (c == '"') {
          in_dq = true;
        } else if (c == '\'') {
          in_sq = true;
        } else {
          cur += c;
        }
      }
      if (i < n) i++;
    }
    out->push_back(std::move(cur));
  }
}

}  // namespace fdb
