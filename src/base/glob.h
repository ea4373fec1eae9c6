// Redis's glob matching (stringmatchlen), for KEYS, SCAN/HSCAN/SSCAN/ZSCAN MATCH, CONFIG GET
// and COMMAND LIST FILTERBY PATTERN.
//
// Syntax, as Redis: `*` any run of bytes (also empty), `?` one byte, `[abc]` one of a set,
// `[^abc]` none of a set, `[a-z]` a range (ends in either order), `\x` the byte x itself (also
// inside a set). A set left open runs to the end of the pattern; a backslash at the end of the
// pattern is a literal backslash. Bytes compare as `char`, as Redis does (a range over bytes
// >= 0x80 follows signed order).
//
// Cost: iterative, backtracking only to the last `*`, so O(|pattern| * |s|) at worst and no
// recursion whatever the number of stars (Redis recurses once per star and caps the depth).
// Pure function: thread-safe.
#pragma once

#include <string_view>

namespace fdb {

// Whether `s` matches `pattern`; `nocase` folds ASCII letters on both sides.
bool GlobMatch(std::string_view pattern, std::string_view s, bool nocase = false);

}  // namespace fdb
