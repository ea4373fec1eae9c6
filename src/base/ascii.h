// ASCII case for protocol words (command names, config parameters, ACL rules): Redis compares
// them without regard to ASCII case and never to locale. (absl's AsciiStrToLower takes an
// absl::string_view, which Debian's abseil does not make std::string_view.)
#pragma once

#include <string>
#include <string_view>

namespace fdb {

inline std::string AsciiLower(std::string_view s) {
  std::string r(s);
  for (char& c : r) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return r;
}

}  // namespace fdb
