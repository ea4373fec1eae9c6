#include "protocol/reply_builder.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace fdb {

void ReplyBuilder::Header(char type, int64_t n) {
  if (!Room(24)) return;
  char buf[32];
  buf[0] = type;
  auto r = std::to_chars(buf + 1, buf + sizeof(buf) - 2, n);
  r.ptr[0] = '\r';
  r.ptr[1] = '\n';
  out_->append(buf, r.ptr + 2 - buf);
}

void ReplyBuilder::SimpleString(std::string_view s) {
  if (!Room(s.size() + 3)) return;
  out_->push_back('+');
  out_->append(s);
  out_->append("\r\n");
}

void ReplyBuilder::Error(std::string_view msg) {
  errors_++;
  if (error_sink_ != nullptr) error_sink_->OnError(msg);
  if (!Room(msg.size() + 3)) return;
  out_->push_back('-');
  size_t start = out_->size();
  out_->append(msg);
  for (size_t i = start; i < out_->size(); i++) {
    if ((*out_)[i] == '\r' || (*out_)[i] == '\n') (*out_)[i] = ' ';
  }
  out_->append("\r\n");
}

void ReplyBuilder::Integer(int64_t v) { Header(':', v); }

void ReplyBuilder::Bulk(std::string_view s) {
  if (!Room(s.size() + 24)) return;
  Header('$', static_cast<int64_t>(s.size()));
  out_->append(s);
  out_->append("\r\n");
}

void ReplyBuilder::NullBulk() {
  if (Room(5)) out_->append(resp3_ ? "_\r\n" : "$-1\r\n");
}
void ReplyBuilder::NullArray() {
  if (Room(5)) out_->append(resp3_ ? "_\r\n" : "*-1\r\n");
}
void ReplyBuilder::ArrayHeader(size_t n) { Header('*', static_cast<int64_t>(n)); }
void ReplyBuilder::MapHeader(size_t n) {
  if (resp3_) {
    Header('%', static_cast<int64_t>(n));
  } else {
    Header('*', static_cast<int64_t>(n * 2));
  }
}
void ReplyBuilder::SetHeader(size_t n) { Header(resp3_ ? '~' : '*', static_cast<int64_t>(n)); }
void ReplyBuilder::PushHeader(size_t n) { Header(resp3_ ? '>' : '*', static_cast<int64_t>(n)); }

void ReplyBuilder::Double(double v) {
  std::string s = FormatDouble(v);
  if (resp3_) {
    if (!Room(s.size() + 3)) return;
    out_->push_back(',');
    out_->append(s);
    out_->append("\r\n");
  } else {
    Bulk(s);
  }
}

void ReplyBuilder::DoubleText(std::string_view text) {
  if (!resp3_) return Bulk(text);
  if (!Room(text.size() + 3)) return;
  out_->push_back(',');
  out_->append(text);
  out_->append("\r\n");
}

void ReplyBuilder::Bool(bool v) {
  if (!Room(4)) return;
  if (resp3_) {
    out_->append(v ? "#t\r\n" : "#f\r\n");
  } else {
    out_->append(v ? ":1\r\n" : ":0\r\n");
  }
}

void ReplyBuilder::Verbatim(std::string_view s, std::string_view format) {
  if (!resp3_) return Bulk(s);
  if (!Room(s.size() + format.size() + 28)) return;
  Header('=', static_cast<int64_t>(s.size() + 4));
  out_->append(format);
  out_->push_back(':');
  out_->append(s);
  out_->append("\r\n");
}

void ReplyBuilder::BulkArray(std::initializer_list<std::string_view> items) {
  ArrayHeader(items.size());
  for (auto s : items) Bulk(s);
}

std::string FormatDouble(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return "nan";
  char buf[64];
  int n = snprintf(buf, sizeof(buf), "%.17g", v);
  return std::string(buf, n);
}

}  // namespace fdb
