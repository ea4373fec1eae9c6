// Incremental parser for client requests: RESP multibulk (`*N\r\n$L\r\n...`) and inline
// commands (`SET a b\r\n`), as Redis accepts them.
//
// The parser works on a caller-owned buffer that only grows at the end while a request is in
// flight; it remembers how far it got, so a request arriving a byte at a time is scanned once,
// not once per byte. Arguments are returned as offsets into that buffer; the caller turns them
// into string_views after a complete request, and discards the consumed prefix afterwards.
//
// Every length is bounded (see base/limits.h); a breach is a protocol error whose message is
// Redis's text, after which the connection must be closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fdb {

struct ParserLimits {
  int64_t max_bulk_len;  // proto-max-bulk-len
  bool authenticated = true;
};

class RespParser {
 public:
  enum class Result { kNeedMore, kCommand, kError };

  // Parses from buf[0..len). On kCommand, `consumed()` bytes make up the request and `Arg(i)`
  // gives its arguments (an empty-argument request, e.g. a blank inline line, yields kCommand
  // with zero arguments: the caller skips it). On kError, `error()` holds Redis's text without
  // the "ERR " prefix (e.g. "Protocol error: invalid bulk length").
  // REQUIRES: buf holds the same bytes as in the previous call, possibly with more at the end,
  // until the previous call returned kCommand/kError and Reset() was called.
  Result Parse(const char* buf, size_t len, const ParserLimits& limits);

  size_t consumed() const { return consumed_; }
  size_t argc() const { return args_.size(); }
  std::string_view Arg(const char* buf, size_t i) const {
    if (args_[i].external != nullptr) return {args_[i].external, args_[i].len};
    return {buf + args_[i].offset, args_[i].len};
  }
  // For inline commands the arguments are unescaped copies, held by the parser.
  bool inline_request() const { return inline_; }
  const std::vector<std::string>& inline_args() const { return inline_args_; }
  const std::string& error() const { return error_; }
  // When a bulk argument of `expected_bulk()` bytes is being read, the caller may reserve room.
  size_t expected_bytes() const { return expected_bytes_; }

  // Large arguments read elsewhere. After kNeedMore, pending_bulk_len() is the length of the
  // bulk whose body the parser waits for (its `$N` line read), or -1; the body starts at offset
  // pending_bulk_offset() of the buffer. A caller may take the body and its CRLF out of the
  // stream (e.g. read them from the socket into a block of their own) and hand them over with
  // AdoptPendingBulk(body): that argument is then `body`, which must stay valid until Reset,
  // and parsing goes on at pending_bulk_offset(), where the caller's buffer must now end (the
  // REQUIRES of Parse holds for the bytes before it).
  int64_t pending_bulk_len() const { return multibulk_left_ > 0 ? bulk_len_ : -1; }
  size_t pending_bulk_offset() const { return pos_; }
  // REQUIRES: pending_bulk_len() == body.size().
  void AdoptPendingBulk(std::string_view body);

  // Forgets the current request; call after consuming a kCommand or before reuse.
  void Reset();
  // Argument tables up to this many entries are kept between requests (see Reset).
  static constexpr size_t kKeptArgs = 4096;

 private:
  struct Span {
    size_t offset;
    size_t len;
    const char* external = nullptr;  // the bytes, when adopted (AdoptPendingBulk)
  };
  Result ParseInline(const char* buf, size_t len);
  Result Fail(const char* msg);

  // Multibulk state.
  size_t pos_ = 0;               // next byte to examine
  int64_t multibulk_left_ = -1;  // args still to read; -1 = header not yet read
  int64_t bulk_len_ = -1;        // length of the bulk being read; -1 = header not yet read
  size_t consumed_ = 0;
  size_t expected_bytes_ = 0;
  bool inline_ = false;
  std::vector<Span> args_;
  std::vector<std::string> inline_args_;
  std::string error_;
};

// Splits an inline request line into arguments with Redis's quoting rules ("..." with
// backslash escapes and \xHH, '...' with \'). Returns false on unbalanced quotes.
bool SplitInlineArgs(std::string_view line, std::vector<std::string>* out);

}  // namespace fdb
