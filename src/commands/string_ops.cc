#include "commands/string_ops.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "engine/entry.h"

namespace fdb {

bool ParseLongDouble(std::string_view s, long double* out) {
  // strtold needs a NUL-terminated copy; the size bound is Redis's, and keeps it on the stack.
  char buf[kLongDoubleChars];
  if (s.empty() || s.size() >= sizeof(buf)) return false;
  if (memchr(s.data(), '\0', s.size()) != nullptr) return false;
  memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  if (isspace(static_cast<unsigned char>(buf[0]))) return false;
  errno = 0;
  char* end;
  long double v = strtold(buf, &end);
  if (end != buf + s.size()) return false;
  // As Redis: overflow to +-HUGE_VALL and underflow to zero are errors; a denormal result of an
  // underflow is accepted.
  if (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || std::fpclassify(v) == FP_ZERO)) {
    return false;
  }
  if (errno == EINVAL || std::isnan(v)) return false;
  *out = v;
  return true;
}

size_t FormatLongDoubleHuman(long double v, char* buf) {
  // 17 digits after the point: with the 64-bit mantissa of x87 long doubles, small decimal
  // numbers round back to what the user typed (0.1 + 0.2 prints as 0.3), Redis's reasoning.
  int n = snprintf(buf, kLongDoubleChars, "%.17Lf", v);
  size_t len = n < 0 ? 0 : static_cast<size_t>(n);
  if (len >= kLongDoubleChars) len = kLongDoubleChars - 1;  // cannot happen for finite v
  if (memchr(buf, '.', len) != nullptr) {
    while (len > 0 && buf[len - 1] == '0') len--;
    if (len > 0 && buf[len - 1] == '.') len--;
  }
  if (len == 2 && buf[0] == '-' && buf[1] == '0') {
    buf[0] = '0';
    len = 1;
  }
  buf[len] = '\0';
  return len;
}

std::string_view GetRange(std::string_view s, int64_t start, int64_t end) {
  // Redis's getrangeCommand, step by step: an inverted pair of negative indexes is empty
  // before any clamping, so GETRANGE k -1 -5 is "" even though both clamp to valid positions.
  const int64_t len = static_cast<int64_t>(s.size());
  if (start < 0 && end < 0 && start > end) return {};
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (len == 0 || start > end) return {};
  return s.substr(static_cast<size_t>(start), static_cast<size_t>(end - start + 1));
}

DeadlineStatus ParseDeadline(std::string_view arg, ExpireUnit unit, bool relative, int64_t now_ms,
                             int64_t* deadline_ms) {
  int64_t v;
  if (!ParseInt64(arg, &v)) return DeadlineStatus::kNotInteger;
  if (v <= 0) return DeadlineStatus::kInvalid;
  if (unit == ExpireUnit::kSeconds) {
    if (v > INT64_MAX / 1000) return DeadlineStatus::kInvalid;
    v *= 1000;
  }
  if (relative) {
    if (now_ms > 0 && v > INT64_MAX - now_ms) return DeadlineStatus::kInvalid;
    v += now_ms;
  }
  if (v <= 0) return DeadlineStatus::kInvalid;
  *deadline_ms = v;
  return DeadlineStatus::kOk;
}

namespace {

// LEN only: the table is filled row by row and only the last row is needed.
uint32_t LcsLength(std::string_view a, std::string_view b) {
  std::vector<uint32_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); i++) {
    cur[0] = 0;
    for (size_t j = 1; j <= b.size(); j++) {
      if (a[i - 1] == b[j - 1]) {
        cur[j] = prev[j - 1] + 1;
      } else {
        cur[j] = prev[j] > cur[j - 1] ? prev[j] : cur[j - 1];
      }
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

Result<LcsResult> ComputeLcs(std::string_view a, std::string_view b, const LcsOptions& opts) {
  LcsResult out;
  if (a.empty() || b.empty()) return out;
  const uint64_t alen = a.size();
  const uint64_t blen = b.size();
  // Both lengths are below 2^32 (strings are bounded by proto-max-bulk-len, far smaller), so the
  // product cannot overflow; the cell bound also bounds the time the shard locks are held.
  if (alen >= UINT32_MAX - 1 || blen >= UINT32_MAX - 1 ||
      (alen + 1) * (blen + 1) > opts.max_cells) {
    return Status::InvalidArgument("ERR LCS strings are too long: the table would exceed " +
                                   std::to_string(opts.max_cells) + " cells");
  }
  if (!opts.want_string && !opts.want_matches) {
    out.len = LcsLength(a, b);
    return out;
  }

  // lcs[i * (blen + 1) + j] = length of the LCS of a[0, i) and b[0, j).
  const uint64_t cells = (alen + 1) * (blen + 1);
  std::unique_ptr<uint32_t[]> lcs(new (std::nothrow) uint32_t[cells]);
  if (!lcs) return Status::InvalidArgument("ERR Insufficient memory");
  auto at = [&](uint64_t i, uint64_t j) -> uint32_t& { return lcs[i * (blen + 1) + j]; };
  for (uint64_t j = 0; j <= blen; j++) at(0, j) = 0;
  for (uint64_t i = 1; i <= alen; i++) {
    at(i, 0) = 0;
    for (uint64_t j = 1; j <= blen; j++) {
      if (a[i - 1] == b[j - 1]) {
        at(i, j) = at(i - 1, j - 1) + 1;
      } else {
        uint32_t l1 = at(i - 1, j), l2 = at(i, j - 1);
        at(i, j) = l1 > l2 ? l1 : l2;
      }
    }
  }

  // Walk back from the end, as Redis's lcsCommand, so ties are broken the same way and IDX
  // lists the same ranges in the same order (last match first).
  uint32_t idx = at(alen, blen);
  out.len = idx;
  out.lcs.resize(idx);
  const uint32_t kUnset = static_cast<uint32_t>(alen);  // arange_start == alen: no open range
  uint32_t arange_start = kUnset, arange_end = 0, brange_start = 0, brange_end = 0;
  uint64_t i = alen, j = blen;
  while (i > 0 && j > 0) {
    bool emit = false;
    if (a[i - 1] == b[j - 1]) {
      out.lcs[idx - 1] = a[i - 1];
      if (arange_start == kUnset) {
        arange_start = arange_end = static_cast<uint32_t>(i - 1);
        brange_start = brange_end = static_cast<uint32_t>(j - 1);
      } else if (arange_start == i && brange_start == j) {
        arange_start--;  // the range grows backwards while matches are contiguous
        brange_start--;
      } else {
        emit = true;
      }
      if (arange_start == 0 || brange_start == 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      if (at(i - 1, j) > at(i, j - 1)) {
        i--;
      } else {
        j--;
      }
      if (arange_start != kUnset) emit = true;
    }
    if (emit) {
      LcsMatch m{arange_start, arange_end, brange_start, brange_end};
      if (opts.want_matches && (opts.min_match_len == 0 || m.len() >= opts.min_match_len)) {
        out.matches.push_back(m);
      }
      arange_start = kUnset;
    }
  }
  if (!opts.want_string) out.lcs.clear();
  return out;
}

}  // namespace fdb
