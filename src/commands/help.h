// The reply of a container command's HELP subcommand, as Redis's addReplyHelp: a title line,
// the lines given, and HELP's own two lines, as simple strings.
#pragma once

#include <initializer_list>
#include <string>

#include "protocol/reply_builder.h"

namespace fdb {

inline void ReplyHelp(ReplyBuilder& rb, const char* cmd, std::initializer_list<const char*> lines) {
  rb.ArrayHeader(lines.size() + 3);
  rb.SimpleString(std::string(cmd) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  for (const char* l : lines) rb.SimpleString(l);
  rb.SimpleString("HELP");
  rb.SimpleString("    Prints this help.");  // Redis 7.0's addReplyHelp
}

}  // namespace fdb
