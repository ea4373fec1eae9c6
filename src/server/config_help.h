// What `fdb-server --help` and `fdb-server --print-config` print, generated from the parameter
// table (server/config.cc, Config::Describe): each parameter's name, alias, meaning, accepted
// values and default come from its row, so the help, the packaged /etc/fdb/fdb.conf
// (packaging/fdb.conf) and CONFIG GET cannot disagree. The alternative rejected: a hand-written
// list of parameters in the usage text and in the config file, which drifts from the table the
// first time a parameter is added.
#pragma once

#include <string>
#include <string_view>

#include "server/config.h"

namespace fdb {

// The usage text: the command line, the program's own flags, then every parameter (hidden
// testing knobs excepted) with what it accepts, its default and its meaning; those that have no
// effect in FDB in a section of their own.
std::string HelpText(const Config& config, std::string_view version);

// A documented config file: a header, then every parameter (hidden testing knobs and `threads`
// excepted) as a comment with its meaning, what it accepts and its default, followed by its
// line. The parameters given to `config` (config file, command line) are written set to their
// value; every other line is commented out at its default, so the file changes nothing it does
// not name. fdb-server reads the result back unchanged.
std::string ConfigFileText(const Config& config);

}  // namespace fdb
