// Collections: the shared pieces of the hash, list, set and sorted-set values.
//
// Each type lives in its own file (hash_object, list_object, set_object, zset_object) and
// derives from ValueObject (entry.h). This header declares each type's factory functions, which
// NewEmptyObject / DecodeObject dispatch to, and the encoding helpers every image and delta uses
// (docs/format.md, "Collections"):
//
//   bytes  := len:varint byte{len}
//   double := 8 bytes, IEEE 754 binary64, little-endian
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "engine/entry.h"

namespace fdb {

ValueObject* NewHashObject();
Result<ValueObject*> DecodeHashObject(std::string_view image);
ValueObject* NewListObject();
Result<ValueObject*> DecodeListObject(std::string_view image);
class ImageDecoder;
std::unique_ptr<ImageDecoder> NewListImageDecoder();

// Decodes an image handed over in parts, in order (a large value read back from the log without
// its image whole in RAM beside it). Feed each part, then Finish for the value (owned by the
// caller); a Corruption from either means the image is bad.
class ImageDecoder {
 public:
  virtual ~ImageDecoder() = default;
  virtual Status Feed(std::string_view part) = 0;
  virtual Result<ValueObject*> Finish() = 0;
};
// A decoder for type t's image in parts, or null when the type is only decoded whole
// (DecodeObject). Lists have one.
std::unique_ptr<ImageDecoder> NewImageDecoder(ValueType t);
ValueObject* NewSetObject();
Result<ValueObject*> DecodeSetObject(std::string_view image);
ValueObject* NewZSetObject();
Result<ValueObject*> DecodeZSetObject(std::string_view image);
ValueObject* NewStreamObject();
Result<ValueObject*> DecodeStreamObject(std::string_view image);

namespace coding {

void PutVarint(std::string* out, uint64_t v);
bool GetVarint(std::string_view* in, uint64_t* v);
inline void PutBytes(std::string* out, std::string_view b) {
  PutVarint(out, b.size());
  out->append(b);
}
inline bool GetBytes(std::string_view* in, std::string_view* out) {
  uint64_t n;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  *out = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}
void PutDouble(std::string* out, double d);
bool GetDouble(std::string_view* in, double* d);
inline void PutU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }
inline bool GetU8(std::string_view* in, uint8_t* v) {
  if (in->empty()) return false;
  *v = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  return true;
}
// Signed integers as zigzag varints.
inline void PutSigned(std::string* out, int64_t v) {
  PutVarint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}
inline bool GetSigned(std::string_view* in, int64_t* v) {
  uint64_t u;
  if (!GetVarint(in, &u)) return false;
  *v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

}  // namespace coding

// A type's Decode result as the ValueObject the dispatch in collections.cc returns.
template <class T>
Result<ValueObject*> AsValueObject(Result<T*> r) {
  if (!r.ok()) return r.status();
  return static_cast<ValueObject*>(*r);
}

inline Status BadDelta(const char* type) {
  return Status::Corruption(std::string("bad ") + type + " delta");
}
inline Status BadImage(const char* type) {
  return Status::Corruption(std::string("bad ") + type + " image");
}

}  // namespace fdb
