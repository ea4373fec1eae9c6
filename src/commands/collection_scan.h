// Arguments of the collection cursors HSCAN, SSCAN (and ZSCAN): `key cursor [MATCH pattern]
// [COUNT count]`, read as Redis's parseScanCursorOrReply and scanGenericCommand read them.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/numbers.h"
#include "commands/context.h"
#include "commands/errors.h"

namespace fdb {

// A cursor as strtoul reads it: an optional sign and decimal digits, no overflow; a negative
// number wraps and the empty string is 0 (Redis's parseScanCursorOrReply).
inline bool ParseCollectionCursor(std::string_view s, uint64_t* out) {
  size_t i = 0;
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    i = 1;
    if (s.size() == 1) return false;
  }
  uint64_t v = 0;
  for (; i < s.size(); i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = neg ? 0 - v : v;
  return true;
}

struct CollectionScanOptions {
  uint64_t count = 10;
  std::string_view pattern;  // empty: no MATCH, or MATCH *
};

// Parses the options from args[from] on. Returns the error text, or nullptr.
inline const char* ParseCollectionScanOptions(CmdArgs args, size_t from, CollectionScanOptions* o) {
  for (size_t i = from; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) return errors::kSyntax;
    std::string_view value = args[i + 1];
    if (EqualsUpper(args[i], "COUNT")) {
      int64_t n;
      if (!ParseInt64(value, &n)) return errors::kNotInteger;
      if (n < 1) return errors::kSyntax;
      o->count = static_cast<uint64_t>(n);
    } else if (EqualsUpper(args[i], "MATCH")) {
      o->pattern = value == "*" ? std::string_view() : value;
    } else {
      return errors::kSyntax;
    }
  }
  return nullptr;
}

// The bound on cursor steps of one call, as Redis's maxiterations (COUNT * 10): a sparse table
// (after many deletions) cannot make one call walk it whole.
inline uint64_t CollectionScanMaxSteps(uint64_t count) {
  return count > UINT64_MAX / 20 ? UINT64_MAX / 2 : count * 10;
}

}  // namespace fdb
