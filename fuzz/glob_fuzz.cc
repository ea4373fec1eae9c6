// libFuzzer target for GlobMatch (base/glob.h).
//
// Differential: the input is split into flags, a pattern and a string, and FDB's iterative
// matcher must agree with a transliteration of Redis 7.2's recursive stringmatchlen (util.c)
// below. Case-insensitive matching is compared only for patterns without a class: inside a
// class Redis compares an escaped byte case-sensitively and folds a range after ordering its
// ends, two corners FDB does not copy (CONFIG GET and COMMAND LIST patterns never use them).
// And an empty string is not compared: Redis's matcher says it matches no pattern but the
// empty one (its callers special-case "*"), while FDB's lets a run of stars match it.
// Also checks: no crash or sanitizer report, and a bounded running time on any input (the
// pattern and string are at most a few hundred bytes, so a timeout is a complexity bug).
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "base/glob.h"

namespace {

// Redis 7.2 src/util.c stringmatchlen_impl, with its nesting cap and skip-longer-matches
// pruning, over (pointer, length) without relying on a terminating NUL.
int RedisMatch(const char* pattern, int patternLen, const char* string, int stringLen, int nocase,
               int* skipLongerMatches, int nesting) {
  if (nesting > 1000) return 0;
  auto low = [](int c) { return std::tolower(static_cast<unsigned char>(c)); };
  while (patternLen && stringLen) {
    switch (pattern[0]) {
      case '*':
        while (patternLen > 1 && pattern[1] == '*') {
          pattern++;
          patternLen--;
        }
        if (patternLen == 1) return 1;
        while (stringLen) {
          if (RedisMatch(pattern + 1, patternLen - 1, string, stringLen, nocase, skipLongerMatches,
                         nesting + 1)) {
            return 1;
          }
          if (*skipLongerMatches) return 0;
          string++;
          stringLen--;
        }
        *skipLongerMatches = 1;
        return 0;
      case '?':
        string++;
        stringLen--;
        break;
      case '[': {
        pattern++;
        patternLen--;
        int neg = patternLen > 0 && pattern[0] == '^';
        if (neg) {
          pattern++;
          patternLen--;
        }
        int match = 0;
        while (1) {
          if (patternLen >= 2 && pattern[0] == '\\') {
            pattern++;
            patternLen--;
            if (pattern[0] == string[0]) match = 1;
          } else if (patternLen == 0) {
            pattern--;
            patternLen++;
            break;
          } else if (pattern[0] == ']') {
            break;
          } else if (patternLen >= 3 && pattern[1] == '-') {
            int start = pattern[0];
            int end = pattern[2];
            int c = string[0];
            if (start > end) std::swap(start, end);
            if (nocase) {
              start = low(start);
              end = low(end);
              c = low(c);
            }
            pattern += 2;
            patternLen -= 2;
            if (c >= start && c <= end) match = 1;
          } else if (!nocase) {
            if (pattern[0] == string[0]) match = 1;
          } else if (low(pattern[0]) == low(string[0])) {
            match = 1;
          }
          pattern++;
          patternLen--;
        }
        if (neg) match = !match;
        if (!match) return 0;
        string++;
        stringLen--;
        break;
      }
      case '\\':
        if (patternLen >= 2) {
          pattern++;
          patternLen--;
        }
        [[fallthrough]];
      default:
        if (!nocase) {
          if (pattern[0] != string[0]) return 0;
        } else if (low(pattern[0]) != low(string[0])) {
          return 0;
        }
        string++;
        stringLen--;
        break;
    }
    pattern++;
    patternLen--;
    if (stringLen == 0) {
      while (patternLen && *pattern == '*') {
        pattern++;
        patternLen--;
      }
      break;
    }
  }
  return patternLen == 0 && stringLen == 0;
}

bool RedisGlob(std::string_view p, std::string_view s, bool nocase) {
  int skip = 0;
  return RedisMatch(p.data(), static_cast<int>(p.size()), s.data(), static_cast<int>(s.size()),
                    nocase, &skip, 0) != 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > 512) return 0;
  const bool nocase = data[0] & 1;
  const size_t plen = data[1] % (size - 1);
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  std::string_view pattern = rest.substr(0, plen);
  std::string_view s = rest.substr(std::min(plen, rest.size()));

  const bool got = fdb::GlobMatch(pattern, s, nocase);
  // Redis's matcher gives up past 1000 nested stars; FDB's has no such cap.
  if (pattern.size() > 900) return 0;
  if (s.empty()) return 0;
  if (nocase && pattern.find('[') != std::string_view::npos) return 0;
  if (got != RedisGlob(pattern, s, nocase)) abort();
  return 0;
}
