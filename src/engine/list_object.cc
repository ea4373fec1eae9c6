// Placeholder until the list type lands: no list can be created yet.
#include "engine/collections.h"

namespace fdb {

ValueObject* NewListObject() { return nullptr; }
Result<ValueObject*> DecodeListObject(std::string_view image) {
  return Status::Corruption("list values are not supported by this build");
}

}  // namespace fdb
