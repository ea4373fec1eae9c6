// Writes replies in RESP2 or RESP3 into a connection's output buffer.
//
// Command code states the *meaning* of a reply (a map, a set, a double, a null) and the builder
// picks the wire form for the connection's protocol: a RESP3 map is a flat array in RESP2, a
// double is a bulk string, a null is `$-1` or `*-1`. The builder knows nothing of the engine.
//
// Output limit: the connection gives the builder the size its buffer may reach (the client's
// output buffer hard limit past what is already pending). A reply is checked against it as it
// is appended, not after it is built: once an append would pass the limit, nothing more is
// appended and overflowed() is true, so a huge reply (an MGET of a thousand big values) costs
// the limit, not its whole size. The connection then closes the client, as Redis does; the
// command itself runs to its end (its effects stand), only its output is dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fdb {

class ReplyBuilder {
 public:
  explicit ReplyBuilder(std::string* out) : out_(out) {}

  void set_resp3(bool v) { resp3_ = v; }
  bool resp3() const { return resp3_; }

  // The buffer may grow to at most `max_size` bytes (SIZE_MAX: unlimited); clears the overflow.
  void set_limit(size_t max_size) {
    limit_ = max_size;
    overflowed_ = false;
  }
  // An append was dropped because it would have passed the limit.
  bool overflowed() const { return overflowed_; }

  void SimpleString(std::string_view s);
  void Ok() {
    if (Room(5)) out_->append("+OK\r\n");
  }
  // `msg` is the full error text, e.g. "ERR syntax error" or "WRONGTYPE ...". A leading '-'
  // is added; line breaks in it are replaced so the reply stays one line.
  void Error(std::string_view msg);
  // How many errors this builder has been asked to write: the dispatcher counts a command as
  // failed when it wrote one, without reading the reply back.
  uint64_t errors() const { return errors_; }
  // Told every error text this builder writes (INFO errorstats); must be thread-safe, as the
  // builders of every I/O thread share it. nullptr (the default): nobody.
  class ErrorSink {
   public:
    virtual ~ErrorSink() = default;
    virtual void OnError(std::string_view msg) = 0;
  };
  void set_error_sink(ErrorSink* sink) { error_sink_ = sink; }
  void Integer(int64_t v);
  void Bulk(std::string_view s);
  void NullBulk();   // $-1 in RESP2
  void NullArray();  // *-1 in RESP2
  void ArrayHeader(size_t n);
  void MapHeader(size_t n);  // n pairs; a flat array of 2n in RESP2
  void SetHeader(size_t n);  // an array in RESP2
  void PushHeader(size_t n);
  void Double(double v);  // a bulk string in RESP2
  // A double already formatted (GEOPOS's "%.17Lf" coordinates): a RESP3 double, else a bulk.
  void DoubleText(std::string_view text);
  void Bool(bool v);                                                   // :1 / :0 in RESP2
  void Verbatim(std::string_view s, std::string_view format = "txt");  // bulk in RESP2
  void BulkArray(std::initializer_list<std::string_view> items);

  // The buffer replies go to now: the staging buffer while a reply is staged.
  std::string* buffer() { return out_; }

  // Staging. A write command's reply is built aside, in `scratch`, and reaches the buffer only
  // once the command's effects are committed (CommitStaged); when the commit fails the staged
  // reply is dropped (DropStaged) and the error is the reply. Nothing written to the buffer is
  // ever cut back. The output limit counts the buffer and the staged reply together.
  // REQUIRES: not staged already.
  void BeginStaged(std::string* scratch) {
    scratch->clear();
    target_ = out_;
    base_ = out_->size();
    out_ = scratch;
  }
  // REQUIRES: staged().
  void CommitStaged() {
    target_->append(*out_);
    EndStaged();
  }
  // REQUIRES: staged().
  void DropStaged() {
    out_->clear();
    EndStaged();
  }
  bool staged() const { return target_ != nullptr; }

 private:
  void Header(char type, int64_t n);
  // Whether n more bytes fit under the limit; marks the overflow when not.
  bool Room(size_t n) {
    if (overflowed_) return false;
    if (base_ + out_->size() + n <= limit_) return true;
    overflowed_ = true;
    return false;
  }
  void EndStaged() {
    out_ = target_;
    target_ = nullptr;
    base_ = 0;
  }

  std::string* out_;
  std::string* target_ = nullptr;  // while staged: the buffer the staged reply goes to
  size_t base_ = 0;                // while staged: the size of *target_ (for the limit)
  size_t limit_ = SIZE_MAX;
  bool overflowed_ = false;
  uint64_t errors_ = 0;
  ErrorSink* error_sink_ = nullptr;
  bool resp3_ = false;
};

// Formats a double as Redis does for replies ("%.17g", with inf / -inf / nan spelled out).
std::string FormatDouble(double v);

// Appends s as a RESP bulk string to out: for messages built once and sent to many clients
// (pub/sub deliveries, tracking invalidations), outside any one client's ReplyBuilder.
inline void AppendBulk(std::string& out, std::string_view s) {
  out += '$';
  out += std::to_string(s.size());
  out += "\r\n";
  out.append(s.data(), s.size());
  out += "\r\n";
}

}  // namespace fdb
