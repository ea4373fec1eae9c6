// ACL: SETUSER, GETUSER, DELUSER, LIST, USERS, WHOAMI, CAT, GENPASS, LOG, DRYRUN, SAVE, LOAD,
// HELP, over the users of commands/acl.h.
#include <openssl/rand.h>

#include <algorithm>
#include <filesystem>

#include "base/ascii.h"
#include "base/logging.h"
#include "base/numbers.h"
#include "commands/acl.h"
#include "commands/context.h"
#include "commands/dispatcher.h"
#include "commands/errors.h"
#include "commands/help.h"

namespace fdb {

namespace {

// The ACL file's path: relative to the data directory, where redis-server (which changes into
// its `dir`) looks for it too. Empty when none is configured.
std::string AclFilePath(const Config& config) {
  std::string file;
  for (const auto& [k, v] : config.Get("aclfile")) file = v;
  if (file.empty()) return file;
  std::filesystem::path p(file);
  if (p.is_relative()) p = std::filesystem::path(config.dir()) / p;
  return p.string();
}

constexpr const char* kNoAclFile =
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify "
    "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a "
    "Redis configuration file set) in order to store users in the Redis configuration.";

void CmdAclSetUser(CmdArgs args, CommandContext& ctx) {
  args = args.subspan(1);  // "ACL"
  std::vector<std::string> rules(args.begin() + 2, args.end());
  Status s = ctx.server.acl().SetUser(args[1], rules);
  if (!s.ok()) return ctx.rb.Error(s.message());
  ctx.rb.Ok();
}

void CmdAclGetUser(CmdArgs args, CommandContext& ctx) {
  args = args.subspan(1);  // "ACL"
  if (!ctx.server.acl().ReplyGetUser(args[1], ctx.rb)) ctx.rb.NullBulk();
}

void CmdAclDelUser(CmdArgs args, CommandContext& ctx) {
  args = args.subspan(1);  // "ACL"
  std::vector<std::string> names(args.begin() + 1, args.end());
  // Deleting the user this client is authenticated as closes this connection too, after the
  // reply (as Redis).
  const bool self = ctx.client.user != nullptr &&
                    std::find(names.begin(), names.end(), ctx.client.user->name()) != names.end();
  Status error;
  int n = ctx.server.acl().DelUsers(names, &error);
  if (!error.ok()) return ctx.rb.Error(error.message());
  if (self) ctx.client.close_after_reply = true;
  ctx.rb.Integer(n);
}

void CmdAclList(CmdArgs, CommandContext& ctx) {
  std::vector<std::string> lines = ctx.server.acl().List();
  ctx.rb.ArrayHeader(lines.size());
  for (const auto& l : lines) ctx.rb.Bulk(l);
}

void CmdAclUsers(CmdArgs, CommandContext& ctx) {
  std::vector<std::string> names = ctx.server.acl().UserNames();
  ctx.rb.ArrayHeader(names.size());
  for (const auto& n : names) ctx.rb.Bulk(n);
}

void CmdAclWhoAmI(CmdArgs, CommandContext& ctx) {
  ctx.rb.Bulk(ctx.client.user != nullptr ? ctx.client.user->name() : "default");
}

void CmdAclCat(CmdArgs args, CommandContext& ctx) {
  args = args.subspan(1);  // "ACL"
  const auto& names = AclCategoryNames();
  if (args.size() > 2) {
    return ctx.rb.Error(
        "ERR unknown subcommand or wrong number of arguments for 'CAT'. Try ACL HELP.");
  }
  if (args.size() == 1) {
    ctx.rb.ArrayHeader(names.size());
    for (const auto& n : names) ctx.rb.Bulk(n);
    return;
  }
  std::string want = AsciiLower(args[1]);
  auto it = std::find(names.begin(), names.end(), want);
  if (it == names.end()) {
    return ctx.rb.Error("ERR Unknown category '" + std::string(args[1].substr(0, 128)) + "'");
  }
  const uint64_t bit = uint64_t{1} << (it - names.begin());
  std::vector<const char*> out;
  for (const CommandSpec& spec : CommandRegistry::Default().all()) {
    if (spec.container()) continue;
    if (AclCategoriesOf(spec) & bit) out.push_back(spec.name);
  }
  ctx.rb.ArrayHeader(out.size());
  for (const char* n : out) ctx.rb.Bulk(n);
}

void CmdAclGenPass(CmdArgs args, CommandContext& ctx) {
  args = args.subspan(1);  // "ACL"
  int64_t bits = 256;
  constexpr int64_t kMaxBits = 4096;
  if (args.size() == 2 && (!ParseInt64(args[1], &bits) || bits <= 0 || bits > kMaxBits)) {
    return ctx.rb.Error(
        "ERR ACL GENPASS argument must be the number of bits for the output password, a "
        "positive number up to 4096");
  }
  if (args.size() > 2) return ctx.rb.Error(errors::kSyntax);
  const size_t chars = static_cast<size_t>((bits + 3) / 4);
  std::vector<unsigned char> raw((chars + 1) / 2);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    return ctx.rb.Error("ERR Failed to generate random bytes");
  }
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : raw) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  out.resize(chars);
  ctx.rb.Bulk(out);
}

void CmdAclLog(CmdArgs args, CommandContext& ctx) {
  args = args.subspan(1);  // "ACL"
  int64_t count = 10;
  if (args.size() == 2) {
    if (EqualsUpper(args[1], "RESET")) {
      ctx.server.acl().ResetLog();
      return ctx.rb.Ok();
    }
    if (!ParseInt64(args[1], &count) || count < 0) {
      return ctx.rb.Error("ERR value is out of range, must be positive");
    }
  } else if (args.size() > 2) {
    return ctx.rb.Error(errors::kSyntax);
  }
  ctx.server.acl().ReplyLog(ctx.rb, count);
}

void CmdAclDryRun(CmdArgs args, CommandContext& ctx) {
  args = args.subspan(1);  // "ACL"
  std::shared_ptr<AclUser> user = ctx.server.acl().Find(args[1]);
  if (user == nullptr) {
    return ctx.rb.Error("ERR User '" + std::string(args[1].substr(0, 128)) + "' not found");
  }
  const CommandRegistry& reg = CommandRegistry::Default();
  CmdArgs call = args.subspan(2);
  const CommandSpec* spec = reg.Find(call[0]);
  if (spec == nullptr) {
    return ctx.rb.Error("ERR Command '" + std::string(call[0].substr(0, 128)) + "' not found");
  }
  if (spec->container() && call.size() >= 2) {
    if (const CommandSpec* sub = reg.FindSub(*spec, call[1])) spec = sub;
  }
  const int argc = static_cast<int>(call.size());
  if ((spec->arity > 0 && argc != spec->arity) || (spec->arity < 0 && argc < -spec->arity)) {
    return ctx.rb.Error(WrongArityError(spec->name));
  }
  AclVerdict v;
  if (!user->unrestricted.load() && !(spec->flags & cmdflags::kNoAuth)) {
    v = ctx.server.acl().Check(*user, *spec, call);
  }
  if (v.denial == AclDenial::kNone) return ctx.rb.Ok();
  ctx.rb.Bulk(Acl::DryRunText(v));
}

void CmdAclSave(CmdArgs, CommandContext& ctx) {
  std::string path = AclFilePath(ctx.server.config());
  if (path.empty()) return ctx.rb.Error(kNoAclFile);
  Status s = ctx.server.acl().SaveFile(path);
  if (!s.ok()) {
    FDB_LOG_WARNING("%s", s.message().c_str());
    return ctx.rb.Error(
        "ERR There was an error trying to save the ACLs. Please check the "
        "server logs for more information");
  }
  ctx.rb.Ok();
}

void CmdAclLoad(CmdArgs, CommandContext& ctx) {
  std::string path = AclFilePath(ctx.server.config());
  if (path.empty()) return ctx.rb.Error(kNoAclFile);
  const bool replaced = ctx.client.user != nullptr && ctx.client.user->name() != "default";
  Status s = ctx.server.acl().LoadFile(path);
  if (!s.ok()) return ctx.rb.Error("ERR " + s.message());
  // Every user but the default one was replaced: a client authenticated as one is closed,
  // this one too, once it has its reply.
  if (replaced) ctx.client.close_after_reply = true;
  ctx.rb.Ok();
}

void CmdAclHelp(CmdArgs, CommandContext& ctx) {
  ReplyHelp(ctx.rb, "ACL",
            {"CAT [<category>]",
             "    List all commands that belong to <category>, or all command categories",
             "    when no category is specified.",
             "DELUSER <username> [<username> ...]",
             "    Delete a list of users.",
             "DRYRUN <username> <command> [<arg> ...]",
             "    Returns whether the user can execute the given command without executing the "
             "command.",
             "GETUSER <username>",
             "    Get the user's details.",
             "GENPASS [<bits>]",
             "    Generate a secure 256-bit user password. The optional `bits` argument can",
             "    be used to specify a different size.",
             "LIST",
             "    Show users details in config file format.",
             "LOAD",
             "    Reload users from the ACL file.",
             "LOG [<count> | RESET]",
             "    Show the ACL log entries.",
             "SAVE",
             "    Save the current config to the ACL file.",
             "SETUSER <username> <attribute> [<attribute> ...]",
             "    Create or modify a user with the specified attributes.",
             "USERS",
             "    List all the registered usernames.",
             "WHOAMI",
             "    Return the current connection username."});
}

}  // namespace

void RegisterAclFamily(CommandRegistry& r) {
  using namespace cmdflags;
  constexpr uint32_t kAdm = kAdmin | kNoScript | kLoading | kStale;
  constexpr uint32_t kUsr = kNoScript | kLoading | kStale;
  const char* g = "server";
  // clang-format off
  r.Register({"acl", -2, kUsr, 0, 0, 0, nullptr, g, "A container for Access List Control commands.", "6.0.0"});
  r.Register({"acl|cat", -2, kUsr, 0, 0, 0, CmdAclCat, g, "Lists the ACL categories, or the commands inside a category.", "6.0.0"});
  r.Register({"acl|deluser", -3, kAdm, 0, 0, 0, CmdAclDelUser, g, "Deletes ACL users, and terminates their connections.", "6.0.0"});
  r.Register({"acl|dryrun", -4, kAdm, 0, 0, 0, CmdAclDryRun, g, "Simulates the execution of a command by a user, without executing the command.", "7.0.0"});
  r.Register({"acl|genpass", -2, kUsr, 0, 0, 0, CmdAclGenPass, g, "Generates a pseudorandom, secure password that can be used to identify ACL users.", "6.0.0"});
  r.Register({"acl|getuser", 3, kAdm, 0, 0, 0, CmdAclGetUser, g, "Lists the ACL rules of a user.", "6.0.0"});
  r.Register({"acl|help", 2, kLoading | kStale, 0, 0, 0, CmdAclHelp, g, "Returns helpful text about the different subcommands.", "6.0.0"});
  r.Register({"acl|list", 2, kAdm, 0, 0, 0, CmdAclList, g, "Dumps the effective rules in ACL file format.", "6.0.0"});
  r.Register({"acl|load", 2, kAdm, 0, 0, 0, CmdAclLoad, g, "Reloads the rules from the configured ACL file.", "6.0.0"});
  r.Register({"acl|log", -2, kAdm, 0, 0, 0, CmdAclLog, g, "Lists recent security events generated due to ACL rules.", "6.0.0"});
  r.Register({"acl|save", 2, kAdm, 0, 0, 0, CmdAclSave, g, "Saves the effective ACL rules in the configured ACL file.", "6.0.0"});
  r.Register({"acl|setuser", -3, kAdm, 0, 0, 0, CmdAclSetUser, g, "Creates and modifies an ACL user and its rules.", "6.0.0"});
  r.Register({"acl|users", 2, kAdm, 0, 0, 0, CmdAclUsers, g, "Lists all ACL users.", "6.0.0"});
  r.Register({"acl|whoami", 2, kUsr, 0, 0, 0, CmdAclWhoAmI, g, "Returns the authenticated username of the current connection.", "6.0.0"});
  // clang-format on
}

}  // namespace fdb
