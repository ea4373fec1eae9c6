// Public Status and Result<T> of the embedded API.
//
// These are the engine's own types (src/base/status.h), re-exported so that code using
// <fdb/db.h> needs no internal header by name. Both are [[nodiscard]]: ignoring the outcome of
// an operation that can fail is a compile error.
//
//   Status::ok()         the operation succeeded.
//   Status::code()       kNotFound, kCorruption, kIOError, kInvalidArgument or kBusy.
//   Status::message()    a human-readable text; for an error reply of a command it is Redis's
//                        error text to the letter (e.g. "WRONGTYPE Operation against a key ...").
//   Result<T>            a T or a non-OK Status; check ok() before value().
#pragma once

#include "base/status.h"  // IWYU pragma: export
