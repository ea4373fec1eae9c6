#include "engine/collections.h"

#include <cstring>

#include "engine/effects.h"

namespace fdb {

ValueObject* NewEmptyObject(ValueType t) {
  switch (t) {
    case ValueType::kHash:
      return NewHashObject();
    case ValueType::kList:
      return NewListObject();
    case ValueType::kSet:
      return NewSetObject();
    case ValueType::kZSet:
      return NewZSetObject();
    case ValueType::kStream:
      return NewStreamObject();
    case ValueType::kString:
      break;
  }
  return nullptr;
}

Result<ValueObject*> DecodeObject(ValueType t, std::string_view image) {
  switch (t) {
    case ValueType::kHash:
      return DecodeHashObject(image);
    case ValueType::kList:
      return DecodeListObject(image);
    case ValueType::kSet:
      return DecodeSetObject(image);
    case ValueType::kZSet:
      return DecodeZSetObject(image);
    case ValueType::kStream:
      return DecodeStreamObject(image);
    case ValueType::kString:
      break;
  }
  return Status::Corruption("not a collection type");
}

std::unique_ptr<ImageDecoder> NewImageDecoder(ValueType t) {
  if (t == ValueType::kList) return NewListImageDecoder();
  return nullptr;
}

namespace coding {

void PutVarint(std::string* out, uint64_t v) { ::fdb::PutVarint(out, v); }
bool GetVarint(std::string_view* in, uint64_t* v) { return ::fdb::GetVarint(in, v); }

void PutDouble(std::string* out, double d) {
  uint64_t u;
  memcpy(&u, &d, 8);
  char buf[8];
  for (int i = 0; i < 8; i++) buf[i] = static_cast<char>(u >> (8 * i));
  out->append(buf, 8);
}

bool GetDouble(std::string_view* in, double* d) {
  if (in->size() < 8) return false;
  uint64_t u = 0;
  for (int i = 0; i < 8; i++) u |= static_cast<uint64_t>(static_cast<uint8_t>((*in)[i])) << (8 * i);
  memcpy(d, &u, 8);
  in->remove_prefix(8);
  return true;
}

}  // namespace coding
}  // namespace fdb
