// Status and Result<T>: the outcome of every operation that can fail for operating reasons
// (I/O, corruption, bad input). Programmer errors are assertions, not statuses.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/check.h"

namespace fdb {

class [[nodiscard]] Status {
 public:
  enum Code : unsigned char {
    kOk = 0,
    kNotFound,
    kCorruption,
    kIOError,
    kInvalidArgument,
    kBusy,
  };

  Status() = default;
  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg) { return Status(kNotFound, msg); }
  static Status Corruption(std::string_view msg) { return Status(kCorruption, msg); }
  static Status IOError(std::string_view msg) { return Status(kIOError, msg); }
  static Status InvalidArgument(std::string_view msg) { return Status(kInvalidArgument, msg); }
  static Status Busy(std::string_view msg) { return Status(kBusy, msg); }

  bool ok() const { return code_ == kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Status(Code code, std::string_view msg) : code_(code), message_(msg) {}
  Code code_ = kOk;
  std::string message_;
};

inline std::string Status::ToString() const {
  static constexpr const char* kNames[] = {"OK",      "NotFound",        "Corruption",
                                           "IOError", "InvalidArgument", "Busy"};
  std::string s = kNames[code_];
  if (!message_.empty()) s += ": " + message_;
  return s;
}

// Result<T> holds either a value or a non-OK Status.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    FDB_DCHECK(!std::get<Status>(v_).ok());
  }

  bool ok() const { return v_.index() == 0; }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace fdb
