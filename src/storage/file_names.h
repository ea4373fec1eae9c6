// Names of the files in a data directory (see format.h and docs/format.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fdb::storage {

// "00000042.fdb" for id 42.
std::string SegmentFileName(uint64_t segment_id);
// The id of a segment file name, or nullopt if `name` is not one (at least 8 digits, ".fdb").
std::optional<uint64_t> ParseSegmentFileName(std::string_view name);
// dir + "/" + name (no separator doubled).
std::string JoinPath(std::string_view dir, std::string_view name);
inline std::string SegmentPath(std::string_view dir, uint64_t segment_id) {
  return JoinPath(dir, SegmentFileName(segment_id));
}

}  // namespace fdb::storage
