// libFuzzer target for the collection images and deltas (docs/format.md, "Collections").
//
// Recovery decodes images and applies deltas read from the log; a record passes its checksum
// before it gets here, but the decoders must still refuse bad bytes with Corruption rather than
// crash, loop or allocate without bound (a bug in a writer, or an image from a newer format).
// The first input byte picks the type; the rest is split at the first 0xff 0xfe pair into an
// image and a sequence of deltas (each `len:u8 delta`). Checks: no crash or sanitizer report;
// a decoded object re-serializes to an image that decodes again to an object of the same size,
// whose image is then stable, also after every delta that applied.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "engine/collections.h"

namespace {

constexpr fdb::ValueType kTypes[] = {fdb::ValueType::kHash, fdb::ValueType::kList,
                                     fdb::ValueType::kSet, fdb::ValueType::kZSet,
                                     fdb::ValueType::kStream};

void CheckRoundTrip(fdb::ValueType t, const fdb::ValueObject& obj) {
  std::string image;
  obj.Serialize(&image);
  auto again = fdb::DecodeObject(t, image);
  if (!again.ok()) abort();  // what we wrote must read back
  std::unique_ptr<fdb::ValueObject> o(*again);
  std::string image2;
  o->Serialize(&image2);
  if (o->Size() != obj.Size()) abort();
  // An object may read back in another encoding than the one it was written from (a set of
  // integers that grew into strings and shrank again is written as strings and reads back as
  // an intset), so the two images may differ. Once read, writing and reading again is stable:
  // hash tables may iterate in another order after a rebuild, so sizes and lengths must agree.
  auto third = fdb::DecodeObject(t, image2);
  if (!third.ok()) abort();
  std::unique_ptr<fdb::ValueObject> o3(*third);
  std::string image3;
  o3->Serialize(&image3);
  if (o3->Size() != obj.Size()) abort();
  if (image3.size() != image2.size()) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  fdb::ValueType t = kTypes[data[0] % (sizeof(kTypes) / sizeof(kTypes[0]))];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t cut = in.find("\xff\xfe");
  std::string_view image = in.substr(0, cut);
  std::string_view deltas = cut == std::string_view::npos ? std::string_view() : in.substr(cut + 2);

  std::unique_ptr<fdb::ValueObject> obj;
  if (image.empty()) {
    obj.reset(fdb::NewEmptyObject(t));
  } else {
    auto r = fdb::DecodeObject(t, image);
    if (!r.ok()) return 0;
    obj.reset(*r);
  }
  CheckRoundTrip(t, *obj);
  int applied = 0;
  while (!deltas.empty() && applied < 64) {
    size_t n = static_cast<uint8_t>(deltas[0]);
    deltas.remove_prefix(1);
    std::string_view d = deltas.substr(0, n);
    deltas.remove_prefix(d.size());
    if (obj->ApplyDelta(d).ok()) {
      applied++;
      if (obj->Size() > 0) CheckRoundTrip(t, *obj);
    }
  }
  std::unique_ptr<fdb::ValueObject> copy(obj->Clone());
  if (copy->Size() != obj->Size()) abort();
  return 0;
}
