// cmsgpack and struct for scripts. Debian has no Lua 5.1 module of either, so they are written
// here, small, after the behaviour Redis's scripts rely on:
// - cmsgpack.pack(v, ...) encodes each value (a table whose keys are 1..n is an array, any
//   other table a map, nested at most 16 deep: deeper tables are nil; a number that is an
//   integer is the smallest integer form, else a float32 when exact, else a float64);
//   cmsgpack.unpack(s) returns every value; unpack_one(s, offset) and unpack_limit(s, limit,
//   offset) return the offset after the values read (-1 at the end) and the values.
// - struct.pack(fmt, ...), struct.unpack(fmt, s [, pos]) (the values, then the position after
//   them) and struct.size(fmt), with the formats < > = ! b B h H i[n] I[n] l L T f d s c[n] x.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "commands/scripting_lua.h"

namespace fdb {

namespace {

// ---- cmsgpack ----

constexpr int kMaxNesting = 16;

void PutBE(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; i--) out->push_back(static_cast<char>(v >> (8 * i)));
}

void EncodeInt(std::string* out, int64_t n) {
  if (n >= 0) {
    uint64_t u = static_cast<uint64_t>(n);
    if (u <= 127) {
      out->push_back(static_cast<char>(u));
    } else if (u <= 0xff) {
      out->push_back(static_cast<char>(0xcc));
      PutBE(out, u, 1);
    } else if (u <= 0xffff) {
      out->push_back(static_cast<char>(0xcd));
      PutBE(out, u, 2);
    } else if (u <= 0xffffffffull) {
      out->push_back(static_cast<char>(0xce));
      PutBE(out, u, 4);
    } else {
      out->push_back(static_cast<char>(0xcf));
      PutBE(out, u, 8);
    }
  } else if (n >= -32) {
    out->push_back(static_cast<char>(static_cast<int8_t>(n)));
  } else if (n >= -128) {
    out->push_back(static_cast<char>(0xd0));
    PutBE(out, static_cast<uint64_t>(n), 1);
  } else if (n >= -32768) {
    out->push_back(static_cast<char>(0xd1));
    PutBE(out, static_cast<uint64_t>(n), 2);
  } else if (n >= INT32_MIN) {
    out->push_back(static_cast<char>(0xd2));
    PutBE(out, static_cast<uint64_t>(n), 4);
  } else {
    out->push_back(static_cast<char>(0xd3));
    PutBE(out, static_cast<uint64_t>(n), 8);
  }
}

void EncodeNumber(std::string* out, double d) {
  if (!std::isinf(d) && !std::isnan(d) && d >= -9.2233720368547758e18 &&
      d < 9.2233720368547758e18 && static_cast<double>(static_cast<int64_t>(d)) == d) {
    EncodeInt(out, static_cast<int64_t>(d));
    return;
  }
  float f = static_cast<float>(d);
  if (static_cast<double>(f) == d) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    out->push_back(static_cast<char>(0xca));
    PutBE(out, bits, 4);
  } else {
    uint64_t bits;
    memcpy(&bits, &d, 8);
    out->push_back(static_cast<char>(0xcb));
    PutBE(out, bits, 8);
  }
}

void EncodeHeader(std::string* out, size_t n, uint8_t fix, size_t fix_max, uint8_t b8, uint8_t b16,
                  uint8_t b32) {
  if (n <= fix_max) {
    out->push_back(static_cast<char>(fix | n));
  } else if (b8 != 0 && n <= 0xff) {
    out->push_back(static_cast<char>(b8));
    PutBE(out, n, 1);
  } else if (n <= 0xffff) {
    out->push_back(static_cast<char>(b16));
    PutBE(out, n, 2);
  } else {
    out->push_back(static_cast<char>(b32));
    PutBE(out, n, 4);
  }
}

// Whether the table at the top of the stack is an array (keys exactly 1..n); *n its length.
bool IsArray(lua_State* L, size_t* n) {
  size_t count = 0;
  double max = 0;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TNUMBER) {
      lua_pop(L, 1);
      return false;
    }
    double k = lua_tonumber(L, -1);
    if (k <= 0 || std::floor(k) != k) {
      lua_pop(L, 1);
      return false;
    }
    if (k > max) max = k;
    count++;
  }
  *n = count;
  return max == static_cast<double>(count);
}

// Encodes the value at the top of the stack (left there).
void Encode(lua_State* L, std::string* out, int level) {
  int t = lua_type(L, -1);
  if (t == LUA_TTABLE && level == kMaxNesting) t = LUA_TNIL;
  switch (t) {
    case LUA_TSTRING: {
      size_t n;
      const char* s = lua_tolstring(L, -1, &n);
      EncodeHeader(out, n, 0xa0, 31, 0xd9, 0xda, 0xdb);
      out->append(s, n);
      break;
    }
    case LUA_TBOOLEAN:
      out->push_back(static_cast<char>(lua_toboolean(L, -1) ? 0xc3 : 0xc2));
      break;
    case LUA_TNUMBER:
      EncodeNumber(out, lua_tonumber(L, -1));
      break;
    case LUA_TTABLE: {
      luaL_checkstack(L, 4, "cmsgpack: nesting too deep");
      size_t n = 0;
      if (IsArray(L, &n)) {
        EncodeHeader(out, n, 0x90, 15, 0, 0xdc, 0xdd);
        for (size_t i = 1; i <= n; i++) {
          lua_rawgeti(L, -1, static_cast<int>(i));
          Encode(L, out, level + 1);
          lua_pop(L, 1);
        }
      } else {
        size_t count = 0;
        lua_pushnil(L);
        while (lua_next(L, -2) != 0) {
          lua_pop(L, 1);
          count++;
        }
        EncodeHeader(out, count, 0x80, 15, 0, 0xde, 0xdf);
        lua_pushnil(L);
        while (lua_next(L, -2) != 0) {
          lua_pushvalue(L, -2);  // the key, copied: encoding must not change the iteration key
          Encode(L, out, level + 1);
          lua_pop(L, 1);
          Encode(L, out, level + 1);
          lua_pop(L, 1);
        }
      }
      break;
    }
    default:
      out->push_back(static_cast<char>(0xc0));
      break;
  }
}

int MsgPackPack(lua_State* L) {
  int argc = lua_gettop(L);
  if (argc == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
  std::string out;
  for (int i = 1; i <= argc; i++) {
    lua_pushvalue(L, i);
    Encode(L, &out, 0);
    lua_pop(L, 1);
  }
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

struct Cursor {
  const unsigned char* p;
  size_t left;
  int error = 0;  // 1: missing bytes, 2: bad format
};

uint64_t TakeBE(Cursor& c, size_t n) {
  if (c.left < n) {
    c.error = 1;
    return 0;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) v = (v << 8) | c.p[i];
  c.p += n;
  c.left -= n;
  return v;
}

void PushBytes(lua_State* L, Cursor& c, size_t n) {
  if (c.left < n) {
    c.error = 1;
    lua_pushnil(L);
    return;
  }
  lua_pushlstring(L, reinterpret_cast<const char*>(c.p), n);
  c.p += n;
  c.left -= n;
}

void Decode(lua_State* L, Cursor& c, int depth);

void DecodeArray(lua_State* L, Cursor& c, size_t n, int depth) {
  lua_newtable(L);
  for (size_t i = 1; i <= n && c.error == 0; i++) {
    Decode(L, c, depth + 1);
    lua_rawseti(L, -2, static_cast<int>(i));
  }
}

void DecodeMap(lua_State* L, Cursor& c, size_t n, int depth) {
  lua_newtable(L);
  for (size_t i = 0; i < n && c.error == 0; i++) {
    Decode(L, c, depth + 1);
    Decode(L, c, depth + 1);
    if (lua_isnil(L, -2)) {
      lua_pop(L, 2);
      continue;
    }
    lua_settable(L, -3);
  }
}

void Decode(lua_State* L, Cursor& c, int depth) {
  luaL_checkstack(L, 4, "cmsgpack: nesting too deep");
  if (depth > 1000) {
    c.error = 2;
    lua_pushnil(L);
    return;
  }
  if (c.left == 0) {
    c.error = 1;
    lua_pushnil(L);
    return;
  }
  unsigned char b = *c.p++;
  c.left--;
  if (b <= 0x7f) return lua_pushnumber(L, b);
  if (b >= 0xe0) return lua_pushnumber(L, static_cast<int8_t>(b));
  if ((b & 0xe0) == 0xa0) return PushBytes(L, c, b & 0x1f);
  if ((b & 0xf0) == 0x90) return DecodeArray(L, c, b & 0x0f, depth);
  if ((b & 0xf0) == 0x80) return DecodeMap(L, c, b & 0x0f, depth);
  switch (b) {
    case 0xc0:
      return lua_pushnil(L);
    case 0xc2:
      return lua_pushboolean(L, 0);
    case 0xc3:
      return lua_pushboolean(L, 1);
    case 0xca: {
      uint32_t bits = static_cast<uint32_t>(TakeBE(c, 4));
      float f;
      memcpy(&f, &bits, 4);
      return lua_pushnumber(L, f);
    }
    case 0xcb: {
      uint64_t bits = TakeBE(c, 8);
      double d;
      memcpy(&d, &bits, 8);
      return lua_pushnumber(L, d);
    }
    case 0xcc:
      return lua_pushnumber(L, static_cast<double>(TakeBE(c, 1)));
    case 0xcd:
      return lua_pushnumber(L, static_cast<double>(TakeBE(c, 2)));
    case 0xce:
      return lua_pushnumber(L, static_cast<double>(TakeBE(c, 4)));
    case 0xcf:
      return lua_pushnumber(L, static_cast<double>(TakeBE(c, 8)));
    case 0xd0:
      return lua_pushnumber(L, static_cast<int8_t>(TakeBE(c, 1)));
    case 0xd1:
      return lua_pushnumber(L, static_cast<int16_t>(TakeBE(c, 2)));
    case 0xd2:
      return lua_pushnumber(L, static_cast<int32_t>(TakeBE(c, 4)));
    case 0xd3:
      return lua_pushnumber(L, static_cast<double>(static_cast<int64_t>(TakeBE(c, 8))));
    case 0xc4:
    case 0xd9:
      return PushBytes(L, c, TakeBE(c, 1));
    case 0xc5:
    case 0xda:
      return PushBytes(L, c, TakeBE(c, 2));
    case 0xc6:
    case 0xdb:
      return PushBytes(L, c, TakeBE(c, 4));
    case 0xdc:
      return DecodeArray(L, c, TakeBE(c, 2), depth);
    case 0xdd:
      return DecodeArray(L, c, TakeBE(c, 4), depth);
    case 0xde:
      return DecodeMap(L, c, TakeBE(c, 2), depth);
    case 0xdf:
      return DecodeMap(L, c, TakeBE(c, 4), depth);
    default:
      c.error = 2;
      return lua_pushnil(L);
  }
}

// Decodes up to `limit` values (0: all) of s from `offset`; pushes the next offset (with
// `with_offset`) and the values.
int Unpack(lua_State* L, int limit, size_t offset, bool with_offset) {
  size_t len;
  const char* s = luaL_checklstring(L, 1, &len);
  if (offset > len)
    return luaL_error(L, "Start offset %d greater than input length %d.", static_cast<int>(offset),
                      static_cast<int>(len));
  Cursor c{reinterpret_cast<const unsigned char*>(s) + offset, len - offset};
  int base = lua_gettop(L);
  if (with_offset) lua_pushnil(L);  // the offset, set at the end
  int count = 0;
  while (c.left > 0 && (limit == 0 || count < limit)) {
    Decode(L, c, 0);
    if (c.error != 0) {
      lua_settop(L, base);
      return luaL_error(L, c.error == 1 ? "Missing bytes in input." : "Bad data format in input.");
    }
    count++;
  }
  if (with_offset) {
    lua_pushnumber(L, c.left == 0 ? -1 : static_cast<double>(len - c.left));
    lua_replace(L, base + 1);
  }
  return count + (with_offset ? 1 : 0);
}

int MsgPackUnpack(lua_State* L) { return Unpack(L, 0, 0, false); }
int MsgPackUnpackOne(lua_State* L) {
  int offset = static_cast<int>(luaL_optnumber(L, 2, 0));
  lua_settop(L, 1);
  return Unpack(L, 1, offset < 0 ? 0 : offset, true);
}
int MsgPackUnpackLimit(lua_State* L) {
  int limit = static_cast<int>(luaL_checknumber(L, 2));
  int offset = static_cast<int>(luaL_optnumber(L, 3, 0));
  lua_settop(L, 1);
  return Unpack(L, limit < 0 ? 0 : limit, offset < 0 ? 0 : offset, true);
}

// ---- struct ----

struct Format {
  bool little = true;
  size_t align = 1;
};

size_t OptSize(const char** fmt, size_t dflt) {
  if (!isdigit(static_cast<unsigned char>(**fmt))) return dflt;
  size_t n = 0;
  while (isdigit(static_cast<unsigned char>(**fmt)))
    n = n * 10 + static_cast<size_t>(*(*fmt)++ - '0');
  return n;
}

// The size of one integer/float option, or 0 for the others.
size_t OptionSize(lua_State* L, char opt, const char** fmt) {
  switch (opt) {
    case 'b':
    case 'B':
    case 'x':
      return 1;
    case 'h':
    case 'H':
      return 2;
    case 'l':
    case 'L':
    case 'T':
      return 8;
    case 'f':
      return 4;
    case 'd':
      return 8;
    case 'i':
    case 'I': {
      size_t n = OptSize(fmt, 4);
      if (n < 1 || n > 8)
        luaL_error(L, "integral size %d is larger than limit of 8", static_cast<int>(n));
      return n;
    }
    default:
      return 0;
  }
}

size_t Padding(const Format& f, size_t pos, size_t size) {
  size_t a = std::min(size, f.align);
  if (a <= 1) return 0;
  return (a - (pos & (a - 1))) & (a - 1);
}

void Controls(lua_State* L, char opt, const char** fmt, Format* f) {
  switch (opt) {
    case ' ':
      return;
    case '>':
      f->little = false;
      return;
    case '<':
    case '=':
      f->little = true;
      return;
    case '!':
      f->align = OptSize(fmt, 8);
      return;
    default:
      luaL_error(L, "invalid format option '%c'", opt);
  }
}

void PutInt(std::string* out, uint64_t v, size_t n, bool little) {
  for (size_t i = 0; i < n; i++) {
    size_t shift = little ? i : n - 1 - i;
    out->push_back(static_cast<char>(shift < 8 ? v >> (8 * shift) : 0));
  }
}

int StructPack(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  Format f;
  std::string out;
  int arg = 2;
  while (*fmt) {
    char opt = *fmt++;
    size_t size = OptionSize(L, opt, &fmt);
    out.append(Padding(f, out.size(), size), '\0');
    switch (opt) {
      case 'b':
      case 'B':
      case 'h':
      case 'H':
      case 'l':
      case 'L':
      case 'T':
      case 'i':
      case 'I': {
        double d = luaL_checknumber(L, arg++);
        uint64_t v =
            d < 0 ? static_cast<uint64_t>(static_cast<int64_t>(d)) : static_cast<uint64_t>(d);
        PutInt(&out, v, size, f.little);
        break;
      }
      case 'x':
        out.push_back('\0');
        break;
      case 'f': {
        float v = static_cast<float>(luaL_checknumber(L, arg++));
        uint32_t bits;
        memcpy(&bits, &v, 4);
        PutInt(&out, bits, 4, f.little);
        break;
      }
      case 'd': {
        double v = luaL_checknumber(L, arg++);
        uint64_t bits;
        memcpy(&bits, &v, 8);
        PutInt(&out, bits, 8, f.little);
        break;
      }
      case 'c':
      case 's': {
        size_t len;
        const char* s = luaL_checklstring(L, arg++, &len);
        if (opt == 'c') {
          size_t n = OptSize(&fmt, 1);
          const char* before = fmt;
          (void)before;
          if (n == 0) n = len;
          luaL_argcheck(L, len >= n, arg - 1, "string too short");
          out.append(s, n);
        } else {
          out.append(s, len);
          out.push_back('\0');
        }
        break;
      }
      default:
        Controls(L, opt, &fmt, &f);
    }
  }
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

int StructUnpack(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  size_t len;
  const char* data = luaL_checklstring(L, 2, &len);
  size_t pos = static_cast<size_t>(luaL_optinteger(L, 3, 1)) - 1;
  luaL_argcheck(L, pos <= len, 3, "offset must be 1 or greater");
  Format f;
  int n = 0;
  while (*fmt) {
    char opt = *fmt++;
    size_t size = OptionSize(L, opt, &fmt);
    pos += Padding(f, pos, size);
    luaL_checkstack(L, 2, "too many results");
    switch (opt) {
      case 'b':
      case 'B':
      case 'h':
      case 'H':
      case 'l':
      case 'L':
      case 'T':
      case 'i':
      case 'I': {
        luaL_argcheck(L, pos + size <= len, 2, "data string too short");
        uint64_t v = 0;
        for (size_t i = 0; i < size; i++) {
          size_t idx = f.little ? size - 1 - i : i;
          v = (v << 8) | static_cast<unsigned char>(data[pos + idx]);
        }
        bool is_signed = opt == 'b' || opt == 'h' || opt == 'l' || opt == 'i';
        if (is_signed && size < 8 && (v >> (8 * size - 1)) & 1) v |= ~0ull << (8 * size);
        lua_pushnumber(
            L, is_signed ? static_cast<double>(static_cast<int64_t>(v)) : static_cast<double>(v));
        pos += size;
        n++;
        break;
      }
      case 'x':
        pos += 1;
        break;
      case 'f':
      case 'd': {
        luaL_argcheck(L, pos + size <= len, 2, "data string too short");
        uint64_t v = 0;
        for (size_t i = 0; i < size; i++) {
          size_t idx = f.little ? size - 1 - i : i;
          v = (v << 8) | static_cast<unsigned char>(data[pos + idx]);
        }
        if (opt == 'f') {
          uint32_t bits = static_cast<uint32_t>(v);
          float x;
          memcpy(&x, &bits, 4);
          lua_pushnumber(L, x);
        } else {
          double x;
          memcpy(&x, &v, 8);
          lua_pushnumber(L, x);
        }
        pos += size;
        n++;
        break;
      }
      case 'c': {
        size_t sz = OptSize(&fmt, 1);
        if (sz == 0) {
          luaL_argcheck(L, n > 0 && lua_isnumber(L, -1), 2, "format 'c0' needs a previous size");
          sz = static_cast<size_t>(lua_tonumber(L, -1));
          lua_pop(L, 1);
          n--;
        }
        luaL_argcheck(L, pos + sz <= len, 2, "data string too short");
        lua_pushlstring(L, data + pos, sz);
        pos += sz;
        n++;
        break;
      }
      case 's': {
        const char* end = static_cast<const char*>(memchr(data + pos, '\0', len - pos));
        luaL_argcheck(L, end != nullptr, 2, "unfinished string in data");
        size_t sz = static_cast<size_t>(end - (data + pos));
        lua_pushlstring(L, data + pos, sz);
        pos += sz + 1;
        n++;
        break;
      }
      default:
        Controls(L, opt, &fmt, &f);
    }
  }
  lua_pushinteger(L, static_cast<lua_Integer>(pos + 1));
  return n + 1;
}

int StructSize(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  Format f;
  size_t pos = 0;
  while (*fmt) {
    char opt = *fmt++;
    size_t size = OptionSize(L, opt, &fmt);
    pos += Padding(f, pos, size);
    if (opt == 's') luaL_argerror(L, 1, "options 's' has no fixed size");
    if (opt == 'c') {
      size_t n = OptSize(&fmt, 1);
      luaL_argcheck(L, n > 0, 1, "options 'c0' has no fixed size");
      pos += n;
    } else if (size > 0) {
      pos += size;
    } else {
      Controls(L, opt, &fmt, &f);
    }
  }
  lua_pushnumber(L, static_cast<double>(pos));
  return 1;
}

void SetLib(lua_State* L, const char* name, const luaL_Reg* fns) {
  lua_newtable(L);
  for (const luaL_Reg* r = fns; r->name != nullptr; r++) {
    lua_pushcfunction(L, r->func);
    lua_setfield(L, -2, r->name);
  }
  lua_setglobal(L, name);
}

}  // namespace

void OpenScriptExtraLibs(lua_State* L) {
  const luaL_Reg msgpack[] = {{"pack", MsgPackPack},
                              {"unpack", MsgPackUnpack},
                              {"unpack_one", MsgPackUnpackOne},
                              {"unpack_limit", MsgPackUnpackLimit},
                              {nullptr, nullptr}};
  SetLib(L, "cmsgpack", msgpack);
  const luaL_Reg st[] = {
      {"pack", StructPack}, {"unpack", StructUnpack}, {"size", StructSize}, {nullptr, nullptr}};
  SetLib(L, "struct", st);
}

}  // namespace fdb
