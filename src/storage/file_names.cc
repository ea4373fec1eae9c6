#include "storage/file_names.h"

#include <charconv>
#include <cstdio>

#include "storage/format.h"

namespace fdb::storage {

std::string SegmentFileName(uint64_t segment_id) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%0*llu%s", kSegmentIdDigits,
                static_cast<unsigned long long>(segment_id), kSegmentSuffix);
  return buf;
}

std::optional<uint64_t> ParseSegmentFileName(std::string_view name) {
  constexpr std::string_view kSuffix = kSegmentSuffix;
  if (name.size() < kSegmentIdDigits + kSuffix.size() || !name.ends_with(kSuffix)) {
    return std::nullopt;
  }
  std::string_view digits = name.substr(0, name.size() - kSuffix.size());
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  uint64_t id = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
  // Only the canonical spelling: "000000042.fdb" is not segment 42's name.
  if (SegmentFileName(id) != name) return std::nullopt;
  return id;
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string path(dir);
  if (!path.empty() && path.back() != '/') path += '/';
  path += name;
  return path;
}

}  // namespace fdb::storage
