// The Op layer's vocabulary: what an operation on the keyspace reports, and the one table that
// turns each outcome into Redis's error text.
//
// The model. A command is three steps: its handler parses the arguments (syntax errors are the
// handler's), calls Ops with typed arguments, and replies from what they return. An Op (OpGet,
// OpSet, OpHSet, ...) sees no RESP and no client: it takes OpArgs (the keyspace, the command's
// transaction, the database, the command's clock) and returns an OpStatus or an OpResult<T>.
// The embedded engine (src/embedded) calls the same Ops as the handlers, so a change has one
// implementation whichever way it arrives, and its logged effect is appended by the keyspace
// mutator that made it.
//
// Why a status enum and not error strings: an Op's caller decides how to report (a RESP error,
// an fdb::Status, a Python exception), and one table keeps Redis's texts in one place.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>

#include "commands/errors.h"
#include "engine/keyspace.h"
#include "engine/txn.h"

namespace fdb {

enum class OpStatus : uint8_t {
  kOk,
  kKeyNotFound,      // a command that needs the key found none ("ERR no such key")
  kWrongType,        // the key holds another type
  kNotInteger,       // a stored value or argument is not a 64-bit integer
  kNotFloat,         // a stored value or argument is not a valid float
  kOverflow,         // an integer increment would overflow
  kNanOrInf,         // a float increment would produce NaN or infinity
  kSyntax,           // the arguments do not form a valid call
  kOutOfRange,       // an index or offset beyond what the type allows
  kStringTooLong,    // the result would exceed proto-max-bulk-len
  kSkipped,          // a condition (NX, XX, GT, LT, ...) was not met: nothing changed, no error
  kSameObject,       // source and destination are the same key where that is refused
  kInvalidExpire,    // an expire time that is not a valid deadline (the text names the command)
  kNotSupported,     // the value's type cannot do this yet (COPY / RENAME of a type without Clone)
  kHashNotInteger,   // HINCRBY on a field that does not hold an integer
  kHashNotFloat,     // HINCRBYFLOAT on a field that does not hold a number
  kIndexOutOfRange,  // LSET at an index the list does not have
  kNanScore,         // ZINCRBY / ZADD INCR would make a score NaN
};

// Redis's error text for a failed status; nullptr for kOk and kSkipped (not errors).
// kInvalidExpire's text depends on the command (InvalidExpireError below).
inline const char* OpStatusText(OpStatus s) {
  switch (s) {
    case OpStatus::kOk:
    case OpStatus::kSkipped:
      return nullptr;
    case OpStatus::kKeyNotFound:
      return errors::kNoSuchKey;
    case OpStatus::kWrongType:
      return errors::kWrongType;
    case OpStatus::kNotInteger:
      return errors::kNotInteger;
    case OpStatus::kNotFloat:
      return errors::kNotFloat;
    case OpStatus::kOverflow:
      return errors::kOverflow;
    case OpStatus::kNanOrInf:
      return errors::kNanOrInf;
    case OpStatus::kSyntax:
      return errors::kSyntax;
    case OpStatus::kOutOfRange:
      return errors::kOffsetOutOfRange;
    case OpStatus::kStringTooLong:
      return errors::kStringTooLong;
    case OpStatus::kSameObject:
      return errors::kSameObject;
    case OpStatus::kInvalidExpire:
      return "ERR invalid expire time";
    case OpStatus::kNotSupported:
      // Not a Redis text: Redis copies every type.
      return "ERR the value of this key type cannot be copied yet";
    case OpStatus::kHashNotInteger:
      return errors::kHashNotInteger;
    case OpStatus::kHashNotFloat:
      return errors::kHashNotFloat;
    case OpStatus::kIndexOutOfRange:
      return errors::kIndexOutOfRange;
    case OpStatus::kNanScore:
      return errors::kNanScore;
  }
  return "ERR unknown error";
}

// A status, or a value when the status is kOk (or kSkipped, for Ops that report what they found
// even when a condition stopped them, e.g. SET NX GET).
template <class T>
class OpResult {
 public:
  OpResult(OpStatus s) : status_(s) {}     // NOLINT(google-explicit-constructor)
  OpResult(T v) : value_(std::move(v)) {}  // NOLINT(google-explicit-constructor)
  OpResult(OpStatus s, T v) : status_(s), value_(std::move(v)) {}

  bool ok() const { return status_ == OpStatus::kOk; }
  OpStatus status() const { return status_; }
  T& value() { return value_; }
  const T& value() const { return value_; }
  T& operator*() { return value_; }
  const T& operator*() const { return value_; }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }

 private:
  OpStatus status_ = OpStatus::kOk;
  T value_{};
};

// What every Op runs in: the keyspace, the command's transaction (mutators append their effects
// to it), the database, and the command's one clock reading. REQUIRES: the caller holds the
// shard lock of every key the Op touches (the dispatcher does, or the embedded engine).
struct OpArgs {
  Keyspace& ks;
  Txn& txn;
  int db;
  int64_t now_ms;
  bool touch = true;  // reads update the key's LRU/LFU data (CLIENT NO-TOUCH clears it)
};

}  // namespace fdb
