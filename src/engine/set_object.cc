// Placeholder until the set type lands: no set can be created yet.
#include "engine/collections.h"

namespace fdb {

ValueObject* NewSetObject() { return nullptr; }
Result<ValueObject*> DecodeSetObject(std::string_view image) {
  return Status::Corruption("set values are not supported by this build");
}

}  // namespace fdb
