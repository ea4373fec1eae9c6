#include "server/config_help.h"

#include <cctype>
#include <vector>

namespace fdb {

namespace {

std::string Names(const Config::ParamInfo& p, std::string_view prefix) {
  std::string out = std::string(prefix) + p.name;
  if (!p.alias.empty()) out += ", " + std::string(prefix) + p.alias;
  return out;
}

void AppendHelpEntry(std::string& out, const Config::ParamInfo& p) {
  out += "  " + Names(p, "--") + " <" + p.accepts + ">  default " + p.default_value;
  if (p.immutable) out += "  [startup only]";
  out += "\n      " + p.doc + "\n";
}

void AppendFileEntry(std::string& out, const Config::ParamInfo& p) {
  std::string doc = p.doc;
  if (!doc.empty()) doc[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(doc[0])));
  out += "# " + doc + "\n";
  out += "# Accepts: " + p.accepts + ". Default: " + p.default_value + ".";
  if (p.immutable) out += " Startup only.";
  if (!p.alias.empty()) out += " Also named " + p.alias + ".";
  out += "\n";
  if (p.given) {
    out += p.name + " " + p.value + "\n\n";
  } else {
    out += "# " + p.name + " " + p.default_value + "\n\n";
  }
}

}  // namespace

std::string HelpText(const Config& config, std::string_view version) {
  std::string out = "fdb-server " + std::string(version) +
                    ": a durable key-value server with Redis's protocol and commands.\n\n";
  out +=
      "Usage: fdb-server [CONFIG_FILE] [--config FILE] [--NAME VALUE]...\n"
      "       fdb-server [CONFIG_FILE] [--NAME VALUE]... --print-config\n"
      "       fdb-server --version | --help\n\n"
      "  --config FILE   read a config file (NAME VALUE per line, # comments, include FILE); a\n"
      "                  first argument that is not a flag is one too\n"
      "  --print-config  print a config file documenting every parameter, with the ones given\n"
      "                  set and the others commented out at their default, and exit\n"
      "  --version, -v   print the version and exit\n"
      "  --help, -h      print this and exit\n\n"
      "Parameters have one name on the command line (--NAME VALUE), in the config file\n"
      "(NAME VALUE) and in CONFIG GET / SET (except [startup only] ones); a later setting\n"
      "wins. --fsync is --appendfsync; --cache_size is --cache-size.\n\n";
  const std::vector<Config::ParamInfo> params = config.Describe();
  for (const Config::ParamInfo& p : params) {
    if (!p.hidden && !p.no_effect) AppendHelpEntry(out, p);
  }
  out +=
      "\nAccepted so that a redis.conf starts fdb-server: validated and reported by CONFIG GET,\n"
      "without effect in FDB (docs/compatibility.md):\n\n";
  for (const Config::ParamInfo& p : params) {
    if (!p.hidden && p.no_effect) AppendHelpEntry(out, p);
  }
  return out;
}

std::string ConfigFileText(const Config& config) {
  std::string out =
      "# FDB configuration file.\n"
      "#\n"
      "# Written by `fdb-server --print-config` from the server's table of parameters: each one\n"
      "# with its meaning, what it accepts and its default. `NAME VALUE` sets a parameter; the\n"
      "# lines commented out show the default. The same names work on the command line\n"
      "# (--NAME VALUE, which wins over this file) and in CONFIG SET (except the startup-only\n"
      "# ones); CONFIG REWRITE writes runtime changes back here, keeping the comments.\n"
      "# `include FILE` (globs allowed) reads another file at that point.\n"
      "# Memory sizes: 1k = 1000, 1kb = 1024, mb, gb.\n\n";
  const std::vector<Config::ParamInfo> params = config.Describe();
  for (const Config::ParamInfo& p : params) {
    if (!p.hidden && p.reported && !p.no_effect) AppendFileEntry(out, p);
  }
  out +=
      "################################## Redis only ##################################\n"
      "#\n"
      "# Accepted so that a redis.conf starts fdb-server: validated and reported by CONFIG\n"
      "# GET, without effect in FDB (docs/compatibility.md). The server warns about each one\n"
      "# a config file sets.\n\n";
  for (const Config::ParamInfo& p : params) {
    if (!p.hidden && p.reported && p.no_effect) AppendFileEntry(out, p);
  }
  return out;
}

}  // namespace fdb
