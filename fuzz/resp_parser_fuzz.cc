// libFuzzer target for the RESP request parser.
//
// The input is fed to one parser in chunks whose sizes come from the input itself, the way a
// connection feeds it, with the same buffer discipline (bytes consumed per request are
// dropped, the unconsumed tail is kept). Checks: no crash or sanitizer report, consumed bytes
// never exceed the buffer, arguments lie inside the buffer, and parsing the same bytes in one
// piece yields the same sequence of requests as parsing them in chunks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "protocol/resp_parser.h"

namespace {

using fdb::ParserLimits;
using fdb::RespParser;

// Parses `data` fed in chunks; returns the requests (joined args) and the outcome.
std::vector<std::string> Run(const uint8_t* data, size_t size, const uint8_t* chunking,
                             size_t nchunk, bool* error) {
  ParserLimits lim{1 << 20, true};
  RespParser p;
  std::string buf;
  std::vector<std::string> out;
  size_t fed = 0, ci = 0;
  *error = false;
  while (fed < size) {
    size_t step = nchunk ? (chunking[ci++ % nchunk] % 64) + 1 : size;
    if (step > size - fed) step = size - fed;
    buf.append(reinterpret_cast<const char*>(data) + fed, step);
    fed += step;
    while (!buf.empty()) {
      RespParser::Result r = p.Parse(buf.data(), buf.size(), lim);
      if (r == RespParser::Result::kNeedMore) break;
      if (r == RespParser::Result::kError) {
        *error = true;
        return out;
      }
      size_t consumed = p.consumed();
      if (consumed == 0 || consumed > buf.size()) abort();
      std::string joined;
      if (p.inline_request()) {
        for (const auto& a : p.inline_args()) joined += a + '\x01';
      } else {
        for (size_t i = 0; i < p.argc(); i++) {
          std::string_view a = p.Arg(buf.data(), i);
          if (a.data() < buf.data() || a.data() + a.size() > buf.data() + buf.size()) abort();
          joined += std::string(a) + '\x01';
        }
      }
      out.push_back(joined);
      p.Reset();
      buf.erase(0, consumed);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // First byte: how many of the following bytes describe chunk sizes.
  size_t nchunk = data[0] % 16;
  if (nchunk + 1 > size) return 0;
  const uint8_t* chunking = data + 1;
  const uint8_t* body = data + 1 + nchunk;
  size_t body_size = size - 1 - nchunk;
  bool err_chunked, err_whole;
  auto a = Run(body, body_size, chunking, nchunk, &err_chunked);
  auto b = Run(body, body_size, nullptr, 0, &err_whole);
  // Chunking must not change the meaning of a stream that parses without error.
  if (!err_chunked && !err_whole && a != b) abort();
  return 0;
}
