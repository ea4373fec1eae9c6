// Placeholder until the zset type lands: no zset can be created yet.
#include "engine/collections.h"

namespace fdb {

ValueObject* NewZSetObject() { return nullptr; }
Result<ValueObject*> DecodeZSetObject(std::string_view image) {
  return Status::Corruption("zset values are not supported by this build");
}

}  // namespace fdb
