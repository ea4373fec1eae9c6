// libFuzzer target for the RDB file reader (commands/rdb_file.cc).
//
// A replica reads an RDB file from its primary's socket in chunks of whatever size the kernel
// hands over: the reader must refuse bad bytes with a Status, never crash, loop or allocate
// without bound, and the chunking must not change what it reads. The input's first byte picks a
// chunk size; the rest follows an RDB header. Checks: no crash or sanitizer report; fed whole
// and fed in chunks, the same keys, the same outcome (error, done or not done).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "commands/rdb_file.h"

namespace {

struct Outcome {
  std::vector<std::string> keys;
  bool error = false;
  bool done = false;
};

Outcome Load(std::string_view file, size_t chunk) {
  Outcome out;
  fdb::RdbLoader::Options opts;
  opts.value_bytes_max = 1 << 20;  // the fuzzer's inputs are small; so is its memory
  fdb::RdbLoader loader(
      [&](int db, std::string_view key, fdb::RestoredValue, int64_t expire_ms) {
        out.keys.push_back(std::to_string(db) + "/" + std::string(key) + "/" +
                           std::to_string(expire_ms));
        return fdb::Status::OK();
      },
      opts);
  for (size_t at = 0; at < file.size() && !out.error; at += chunk) {
    out.error = !loader.Feed(file.substr(at, chunk)).ok();
  }
  out.done = loader.done();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t chunk = 1 + data[0] % 17;
  std::string file = "REDIS0011" + std::string(reinterpret_cast<const char*>(data + 1), size - 1);
  Outcome whole = Load(file, file.size());
  Outcome pieces = Load(file, chunk);
  if (whole.keys != pieces.keys || whole.error != pieces.error || whole.done != pieces.done) {
    abort();
  }
  return 0;
}
