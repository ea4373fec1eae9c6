// Integer parsing and formatting with Redis's exact rules (string2ll / ll2string), shared by
// the protocol parser, the engine and the commands.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fdb {

// Parses a string as Redis's string2ll: optional '-', no leading zeros or spaces, no '+', no
// overflow.
bool ParseInt64(std::string_view s, int64_t* out);
// Formats an integer (Redis's ll2string).
std::string FormatInt64(int64_t v);

}  // namespace fdb
