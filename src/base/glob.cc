#include "base/glob.h"

#include <cctype>
#include <utility>

namespace fdb {

bool GlobMatch(std::string_view p, std::string_view s, bool nocase) {
  auto lower = [&](char c) {
    return nocase ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : c;
  };
  size_t pi = 0, si = 0;
  // Iterative matching with backtracking to the last '*': linear in practice, and unlike the
  // recursive form it cannot blow the stack on a pattern of many stars.
  size_t star_p = std::string_view::npos, star_s = 0;
  while (si < s.size()) {
    if (pi < p.size()) {
      char c = p[pi];
      if (c == '*') {
        while (pi < p.size() && p[pi] == '*') pi++;
        if (pi == p.size()) return true;
        star_p = pi;
        star_s = si;
        continue;
      }
      if (c == '?') {
        pi++;
        si++;
        continue;
      }
      if (c == '[') {
        size_t q = pi + 1;
        bool neg = false;
        if (q < p.size() && p[q] == '^') {
          neg = true;
          q++;
        }
        bool match = false;
        while (q < p.size() && p[q] != ']') {
          if (p[q] == '\\' && q + 1 < p.size()) {
            q++;
            if (lower(p[q]) == lower(s[si])) match = true;
            q++;
          } else if (q + 2 < p.size() && p[q + 1] == '-') {
            char a = lower(p[q]), b = lower(p[q + 2]);
            if (a > b) std::swap(a, b);
            char x = lower(s[si]);
            if (x >= a && x <= b) match = true;
            q += 3;
          } else {
            if (lower(p[q]) == lower(s[si])) match = true;
            q++;
          }
        }
        // An unterminated class ends at the pattern's end, as in Redis.
        if (neg) match = !match;
        if (match) {
          pi = q < p.size() ? q + 1 : q;
          si++;
          continue;
        }
      } else {
        if (c == '\\' && pi + 1 < p.size()) {
          c = p[pi + 1];
          if (lower(c) == lower(s[si])) {
            pi += 2;
            si++;
            continue;
          }
        } else if (lower(c) == lower(s[si])) {
          pi++;
          si++;
          continue;
        }
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p;
    si = ++star_s;
  }
  while (pi < p.size() && p[pi] == '*') pi++;
  return pi == p.size();
}

}  // namespace fdb
