// RESP3 to JSON and back, for the dashboard's command API (http/dashboard.h): a command's reply,
// as FDB's ReplyBuilder wrote it in RESP3, becomes JSON the page renders; the page's arguments
// come as JSON strings.
//
// The JSON form keeps every RESP3 type apart, so the page can show a reply as redis-cli does
// ("(integer) 1", "(nil)", "(error) ..."), and every string round-trips, binary ones included:
//   simple string, bulk string, verbatim   a JSON string; bytes that are not UTF-8 {"b64": "..."}
//   integer                                a number while |v| <= 2^53 (JavaScript's exact range),
//                                          else {"int": "<decimal>"}; a big number likewise
//   double                                 {"double": "<text>"}
//   boolean / null                         true, false / null
//   error                                  {"error": "<text>"}
//   array, set, push                       a JSON array
//   map, attribute                         {"map": [[key, value], ...]}
// Arguments: a JSON string (its UTF-8 bytes) or {"b64": "..."} (any bytes).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/status.h"

namespace fdb {

// The first reply in `resp` (pushes before it are skipped). Corruption when `resp` is not whole
// RESP3 or nests deeper than kMaxJsonDepth: the builder wrote it, so that is a bug, reported.
Result<nlohmann::json> RespToJson(std::string_view resp);
inline constexpr int kMaxJsonDepth = 64;

// A JSON string or {"b64": ...} as the bytes it stands for; false for anything else.
bool JsonToArg(const nlohmann::json& v, std::string* out);

// Whether `s` is valid UTF-8 (what a JSON string may hold).
bool IsUtf8(std::string_view s);

}  // namespace fdb
