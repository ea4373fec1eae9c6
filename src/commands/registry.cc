#include "commands/registry.h"

#include <algorithm>
#include <cctype>

namespace fdb {

const CommandRegistry& CommandRegistry::Default() {
  static const CommandRegistry* registry = [] {
    auto* r = new CommandRegistry();
    RegisterStringFamily(*r);
    RegisterGenericFamily(*r);
    RegisterServerFamily(*r);
    return r;
  }();
  return *registry;
}

void CommandRegistry::Register(CommandSpec spec) {
  spec.id = static_cast<int>(specs_.size());
  by_name_[spec.name] = specs_.size();
  specs_.push_back(std::move(spec));
}

const CommandSpec* CommandRegistry::Find(std::string_view name) const {
  if (name.size() > 64) return nullptr;
  char buf[64];
  for (size_t i = 0; i < name.size(); i++) {
    buf[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
  }
  auto it = by_name_.find(std::string(buf, name.size()));
  return it == by_name_.end() ? nullptr : &specs_[it->second];
}

void CommandRegistry::KeyIndexes(const CommandSpec& spec, size_t argc, std::vector<size_t>* out) {
  out->clear();
  if (spec.first_key <= 0) return;
  int last = spec.last_key < 0 ? static_cast<int>(argc) + spec.last_key : spec.last_key;
  for (int i = spec.first_key; i <= last && i < static_cast<int>(argc); i += spec.step) {
    out->push_back(static_cast<size_t>(i));
  }
}

}  // namespace fdb
