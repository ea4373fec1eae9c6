// Placeholder until the hash type lands: no hash can be created yet.
#include "engine/collections.h"

namespace fdb {

ValueObject* NewHashObject() { return nullptr; }
Result<ValueObject*> DecodeHashObject(std::string_view image) {
  return Status::Corruption("hash values are not supported by this build");
}

}  // namespace fdb
