// The STRING commands below RESP: first the Ops on the keyspace (commands/op_status.h), which
// string_family.cc's handlers and the embedded engine call; then the pure string algorithms
// (number parsing and formatting as Redis does it, range arithmetic, expiry deadlines, LCS),
// which see neither RESP nor the keyspace and are tested directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/shared_block.h"
#include "base/status.h"
#include "commands/op_status.h"

namespace fdb {

// --- Ops (REQUIRES: the caller holds the key's shard lock) ---

// Room for the text of an integer value (a kInt entry has no bytes to point at).
struct IntText {
  char buf[24];
};

// GET: kOk with *value, kKeyNotFound, or kWrongType. *value is valid while the shard stays
// locked and nothing changes the key, and while *tmp lives (an integer value's text).
OpStatus OpGet(const OpArgs& op, const KeyRef& k, IntText* tmp, std::string_view* value);

// How SET stores.
struct SetParams {
  enum class Cond : uint8_t { kAlways, kIfMissing, kIfExists };  // -, NX, XX
  Cond cond = Cond::kAlways;
  bool keep_ttl = false;    // KEEPTTL: an existing key keeps its deadline
  int64_t deadline_ms = 0;  // absolute; 0: none. Not in the future: the key is deleted
  BlockRef block;           // the value's own block, when it was read into one (adopted)
};

// SET. kOk: stored. kSkipped: the NX / XX condition did not hold, nothing changed. With `old`
// (SET ... GET) the previous value is copied into *old first (nullopt: no key), and a key of
// another type is kWrongType with nothing changed.
OpStatus OpSet(const OpArgs& op, const KeyRef& k, std::string_view value, const SetParams& p,
               std::optional<std::string>* old = nullptr);

// INCRBY and friends: the new value. kWrongType, kNotInteger (the value is not a 64-bit
// integer), kOverflow.
OpResult<int64_t> OpIncrBy(const OpArgs& op, const KeyRef& k, int64_t incr);

// --- Algorithms ---

// Redis's MAX_LONG_DOUBLE_CHARS: the longest float text accepted or produced. A long double
// printed with "%.17Lf" is at most ~4950 characters (LDBL_MAX has 4933 integer digits).
inline constexpr size_t kLongDoubleChars = 5 * 1024;

// Parses a float as Redis's string2ld (strtold): "1.5", "-3e2", "0x1p3", "inf" are accepted;
// empty text, leading or trailing space, NaN, and values that overflow (or underflow to zero)
// are not. Unlike Redis, a NUL byte inside the text is rejected rather than ending it.
bool ParseLongDouble(std::string_view s, long double* out);

// Formats a long double as Redis's ld2string in LD_STR_HUMAN mode (INCRBYFLOAT): "%.17Lf", then
// trailing zeros after the point removed, no exponent, "-0" written "0". `buf` must hold
// kLongDoubleChars bytes. Returns the length written. REQUIRES: v is finite.
size_t FormatLongDoubleHuman(long double v, char* buf);

// The bytes GETRANGE returns for [start, end] of s, with Redis's rules: negative indexes count
// from the end, both are clamped to the string, and an empty range gives an empty view.
std::string_view GetRange(std::string_view s, int64_t start, int64_t end);

// How the argument of EX / PX / EXAT / PXAT is read.
enum class ExpireUnit : uint8_t { kSeconds, kMilliseconds };

// Outcome of turning an expiry argument into an absolute deadline.
enum class DeadlineStatus : uint8_t { kOk, kNotInteger, kInvalid };

// Turns `arg` into an absolute deadline in ms since the epoch, as Redis's
// getExpireMillisecondsOrReply: the value must be a positive integer, seconds are scaled to ms,
// a relative time (EX / PX) is added to now_ms, and any overflow is kInvalid.
DeadlineStatus ParseDeadline(std::string_view arg, ExpireUnit unit, bool relative, int64_t now_ms,
                             int64_t* deadline_ms);

// LCS (longest common subsequence) of two strings, by the dynamic-programming table Redis uses,
// so that IDX reports the same ranges as Redis.
struct LcsMatch {
  uint32_t a_start, a_end;  // inclusive byte ranges in the first and second string
  uint32_t b_start, b_end;
  uint32_t len() const { return a_end - a_start + 1; }
};

struct LcsResult {
  uint32_t len = 0;
  std::string lcs;                // filled when want_string
  std::vector<LcsMatch> matches;  // filled when want_matches; from the end of the strings back
};

struct LcsOptions {
  bool want_string = true;    // the common subsequence itself (plain LCS, and IDX needs the walk)
  bool want_matches = false;  // IDX
  int64_t min_match_len = 0;  // IDX: ranges shorter than this are left out
  uint64_t max_cells = 0;     // refuse inputs whose table would have more cells than this
};

// Fails with InvalidArgument (message: the error text for the client) when the table for the
// inputs would exceed opts.max_cells. LEN alone (no string, no matches) needs two table rows only.
Result<LcsResult> ComputeLcs(std::string_view a, std::string_view b, const LcsOptions& opts);

}  // namespace fdb
