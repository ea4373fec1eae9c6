// libFuzzer target for RESTORE's payload decoder (commands/rdb_payload.cc).
//
// A RESTORE payload comes from the client: after its checksum (which anyone can compute) the
// decoder must refuse bad bytes with Corruption, never crash, loop or allocate without bound.
// The input is the payload's body; the fuzzer appends a valid trailer. Checks: no crash or
// sanitizer report; a value that decodes dumps again to a payload that decodes to the same size.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "commands/rdb_payload.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string p(reinterpret_cast<const char*>(data), size);
  p += std::string("\x0a\x00", 2);
  uint64_t crc = fdb::Crc64(0, p);
  for (int i = 0; i < 8; i++) p.push_back(static_cast<char>(crc >> (8 * i)));
  if (!fdb::VerifyDumpPayload(p)) abort();
  fdb::RestoredValue v;
  if (!fdb::ParseDumpPayload(p, &v).ok()) return 0;
  if (v.type == fdb::ValueType::kString) return 0;
  size_t n = v.obj->Size();
  fdb::Entry* e = fdb::Entry::NewObject("k", v.obj.release());
  std::string again = fdb::DumpPayload(e);
  fdb::Entry::Free(e);
  fdb::RestoredValue w;
  if (!fdb::ParseDumpPayload(again, &w).ok() || w.obj->Size() != n) abort();
  return 0;
}
