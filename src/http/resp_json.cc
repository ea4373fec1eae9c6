#include "http/resp_json.h"

#include <openssl/evp.h>

#include <charconv>
#include <cstdint>

namespace fdb {

namespace {

using nlohmann::json;

// 2^53: the integers a JavaScript number holds exactly.
constexpr int64_t kJsonSafeInt = int64_t{1} << 53;

std::string Base64(std::string_view s) {
  std::string out(4 * ((s.size() + 2) / 3), '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool Unbase64(std::string_view s, std::string* out) {
  if (s.size() % 4 != 0) return false;
  out->assign(s.size() / 4 * 3, '\0');
  const int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out->data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (n < 0) return false;
  // EVP_DecodeBlock counts the padding's bytes as zeros: drop one per '='.
  size_t len = static_cast<size_t>(n);
  for (size_t i = s.size(); i > 0 && s[i - 1] == '=' && len > 0; i--) len--;
  out->resize(len);
  return true;
}

json Text(std::string_view s) {
  if (IsUtf8(s)) return json(std::string(s));
  return json{{"b64", Base64(s)}};
}

// An error's text as JSON can hold it: bytes past ASCII in text that is not UTF-8 become '?'
// (an error may quote a binary argument; it is read, never sent back).
std::string Printable(std::string_view s) {
  std::string out(s);
  if (!IsUtf8(s)) {
    for (char& c : out) {
      if (static_cast<unsigned char>(c) >= 0x80) c = '?';
    }
  }
  return out;
}

// A recursive-descent reader of one RESP3 value; every read is bounds-checked.
class RespReader {
 public:
  explicit RespReader(std::string_view in) : in_(in) {}

  bool Read(json* out, bool* push, int depth = 0) {
    if (depth > kMaxJsonDepth || pos_ >= in_.size()) return false;
    const char type = in_[pos_++];
    std::string_view line;
    if (!Line(&line)) return false;
    if (push != nullptr) *push = type == '>';
    switch (type) {
      case '+':
        *out = Text(line);
        return true;
      case '-':
        *out = json{{"error", Printable(line)}};
        return true;
      case ':':
      case '(': {
        int64_t v;
        const bool fits = Int(line, &v);
        if (fits && v <= kJsonSafeInt && v >= -kJsonSafeInt) {
          *out = v;
          return true;
        }
        // A big number has no 64-bit bound, only digits.
        std::string_view digits = line.substr(!line.empty() && line[0] == '-' ? 1 : 0);
        if (!fits && (type == ':' || digits.empty() ||
                      digits.find_first_not_of("0123456789") != std::string_view::npos)) {
          return false;
        }
        *out = json{{"int", std::string(line)}};
        return true;
      }
      case ',':
        *out = json{{"double", std::string(line)}};
        return true;
      case '#':
        if (line != "t" && line != "f") return false;
        *out = line == "t";
        return true;
      case '_':
        *out = nullptr;
        return true;
      case '$':
      case '=':
      case '!': {
        int64_t n;
        if (!Int(line, &n)) return false;
        if (n < 0) {  // RESP2's null bulk, never written in RESP3; taken all the same
          *out = nullptr;
          return true;
        }
        const size_t len = static_cast<size_t>(n);
        if (in_.size() - pos_ < len + 2 || in_.substr(pos_ + len, 2) != "\r\n") return false;
        std::string_view s = in_.substr(pos_, len);
        pos_ += len + 2;
        if (type == '=' && s.size() >= 4) s.remove_prefix(4);  // "txt:"
        *out = type == '!' ? json{{"error", Printable(s)}} : Text(s);
        return true;
      }
      case '*':
      case '~':
      case '>':
      case '%':
      case '|': {
        int64_t n;
        if (!Int(line, &n)) return false;
        if (n < 0) {
          *out = nullptr;
          return true;
        }
        const bool pairs = type == '%' || type == '|';
        const uint64_t count = static_cast<uint64_t>(n) * (pairs ? 2 : 1);
        // Every element takes at least 3 bytes: a longer count is corrupt, not an allocation.
        if (count > (in_.size() - pos_) / 3) return false;
        json items = json::array();
        for (uint64_t i = 0; i < count; i += pairs ? 2 : 1) {
          json a, b;
          if (!Read(&a, nullptr, depth + 1)) return false;
          if (pairs) {
            if (!Read(&b, nullptr, depth + 1)) return false;
            items.push_back(json::array({std::move(a), std::move(b)}));
          } else {
            items.push_back(std::move(a));
          }
        }
        if (type == '|') {  // an attribute precedes the reply it describes: the reply is shown
          return Read(out, push, depth);
        }
        *out = pairs ? json{{"map", std::move(items)}} : std::move(items);
        return true;
      }
      default:
        return false;
    }
  }

  bool AtEnd() const { return pos_ == in_.size(); }

 private:
  bool Line(std::string_view* line) {
    const size_t end = in_.find("\r\n", pos_);
    if (end == std::string_view::npos) return false;
    *line = in_.substr(pos_, end - pos_);
    pos_ = end + 2;
    return true;
  }
  static bool Int(std::string_view s, int64_t* v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
    return ec == std::errc() && p == s.data() + s.size();
  }

  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; k++) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and code points past Unicode's range are not UTF-8.
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

Result<nlohmann::json> RespToJson(std::string_view resp) {
  RespReader reader(resp);
  while (true) {
    json v;
    bool push = false;
    if (!reader.Read(&v, &push)) return Status::Corruption("unreadable RESP3 reply");
    if (!push || reader.AtEnd()) return v;
  }
}

bool JsonToArg(const nlohmann::json& v, std::string* out) {
  if (v.is_string()) {
    *out = v.get<std::string>();
    return true;
  }
  if (v.is_object() && v.size() == 1 && v.contains("b64") && v["b64"].is_string()) {
    return Unbase64(v["b64"].get_ref<const std::string&>(), out);
  }
  return false;
}

}  // namespace fdb
