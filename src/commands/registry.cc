#include "commands/registry.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "base/numbers.h"
#include "commands/notify.h"
#include "commands/replication.h"

namespace fdb {

const CommandRegistry& CommandRegistry::Default() {
  static const CommandRegistry* registry = [] {
    auto* r = new CommandRegistry();
    RegisterStringFamily(*r);
    RegisterGenericFamily(*r);
    RegisterServerFamily(*r);
    RegisterTransactionFamily(*r);
    RegisterHashFamily(*r);
    RegisterListFamily(*r);
    RegisterSetFamily(*r);
    RegisterZSetFamily(*r);
    RegisterPubSubFamily(*r);
    RegisterIntrospectionFamily(*r);
    RegisterSortFamily(*r);
    RegisterStreamFamily(*r);
    RegisterDumpFamily(*r);
    RegisterScriptingFamily(*r);
    RegisterBitopsFamily(*r);
    RegisterHyperLogLogFamily(*r);
    RegisterGeoFamily(*r);
    RegisterAclFamily(*r);
    RegisterReplicationFamily(*r);
    RegisterClusterFamily(*r);
    r->Link();
    return r;
  }();
  return *registry;
}

void CommandRegistry::Register(CommandSpec spec) {
  spec.id = static_cast<int>(specs_.size());
  spec.event = CommandEvent(spec.name);
  spec.replicated_name = ReplicatedName(spec.name);
  spec.verbatim = PropagatedVerbatim(spec.name);
  by_name_[spec.name] = specs_.size();
  specs_.push_back(std::move(spec));
}

void CommandRegistry::Link() {
  for (auto& s : specs_) {
    std::string_view name = s.name;
    size_t bar = name.find('|');
    if (bar == std::string_view::npos) continue;
    auto it = by_name_.find(absl::string_view(name.data(), bar));
    if (it != by_name_.end()) specs_[it->second].subcommands.push_back(&s);
  }
}

std::vector<const CommandSpec*> CommandRegistry::TopLevel() const {
  std::vector<const CommandSpec*> out;
  for (const auto& s : specs_) {
    if (std::string_view(s.name).find('|') == std::string_view::npos) out.push_back(&s);
  }
  return out;
}

const CommandSpec* CommandRegistry::FindSub(const CommandSpec& parent, std::string_view sub) const {
  std::string_view parent_name = parent.name;
  if (sub.size() > 48 || parent_name.size() > 64) return nullptr;
  char buf[128];
  size_t n = parent_name.size();
  memcpy(buf, parent_name.data(), n);
  buf[n++] = '|';
  for (char c : sub) buf[n++] = c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
  auto it = by_name_.find(absl::string_view(buf, n));
  return it == by_name_.end() ? nullptr : &specs_[it->second];
}

const CommandSpec* CommandRegistry::FindFull(std::string_view name) const {
  size_t bar = name.find('|');
  if (bar == std::string_view::npos) return Find(name);
  const CommandSpec* parent = Find(name.substr(0, bar));
  return parent ? FindSub(*parent, name.substr(bar + 1)) : nullptr;
}

const CommandSpec* CommandRegistry::Find(std::string_view name) const {
  if (name.size() > 64) return nullptr;
  char buf[64];
  for (size_t i = 0; i < name.size(); i++) {
    char c = name[i];
    if (c == '|') return nullptr;  // a "container|sub" name is not a command's
    buf[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
  }
  auto it = by_name_.find(absl::string_view(buf, name.size()));
  return it == by_name_.end() ? nullptr : &specs_[it->second];
}

void CommandRegistry::KeyIndexes(const CommandSpec& spec, CmdArgs args, std::vector<size_t>* out) {
  out->clear();
  if (spec.first_key <= 0) return;
  if (spec.keys != nullptr) return spec.keys(args, out);
  const size_t argc = args.size();
  int last = spec.last_key < 0 ? static_cast<int>(argc) + spec.last_key : spec.last_key;
  for (int i = spec.first_key; i <= last && i < static_cast<int>(argc); i += spec.step) {
    out->push_back(static_cast<size_t>(i));
  }
}

void CommandRegistry::NumKeysAt(CmdArgs args, size_t numkeys_pos, size_t extra_key,
                                std::vector<size_t>* out) {
  out->clear();
  if (extra_key > 0 && extra_key < args.size()) out->push_back(extra_key);
  if (numkeys_pos >= args.size()) return;
  int64_t n;
  if (!ParseInt64(args[numkeys_pos], &n) || n <= 0) return;
  for (size_t i = numkeys_pos + 1; i < args.size() && i <= numkeys_pos + static_cast<size_t>(n);
       i++) {
    out->push_back(i);
  }
}

}  // namespace fdb
