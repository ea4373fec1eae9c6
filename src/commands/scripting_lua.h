// The Lua 5.1 headers (Debian's liblua5.1-0-dev, with lua-cjson and lua-bitop) and the set-up of a
// scripting state, shared by scripting.cc and the small libraries written here (struct,
// cmsgpack: scripting_libs.cc).
#pragma once

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
int luaopen_cjson(lua_State* L);
int luaopen_bit(lua_State* L);
}

namespace fdb {

// Opens Redis's libraries and the redis table in a fresh state, then makes the globals and the
// library tables read-only (scripting.cc).
void SetupLua(lua_State* L);
// Registers the globals `struct` and `cmsgpack` (scripting_libs.cc).
void OpenScriptExtraLibs(lua_State* L);

}  // namespace fdb
