// Error texts, exactly as Redis 7 sends them: clients and test suites match on these strings.
#pragma once

namespace fdb::errors {

inline constexpr const char* kSyntax = "ERR syntax error";
inline constexpr const char* kNotInteger = "ERR value is not an integer or out of range";
inline constexpr const char* kNotFloat = "ERR value is not a valid float";
inline constexpr const char* kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr const char* kNoSuchKey = "ERR no such key";
inline constexpr const char* kOverflow = "ERR increment or decrement would overflow";
inline constexpr const char* kNanOrInf = "ERR increment would produce NaN or Infinity";
inline constexpr const char* kDbIndexOutOfRange = "ERR DB index is out of range";
inline constexpr const char* kInvalidDbIndex = "ERR invalid DB index";
inline constexpr const char* kOffsetOutOfRange = "ERR offset is out of range";
inline constexpr const char* kStringTooLong =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
inline constexpr const char* kNoAuth = "NOAUTH Authentication required.";
inline constexpr const char* kWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";
// Sent (whole, as a reply) to a client refused by protected mode, then the connection closes.
inline constexpr const char* kProtectedModeDenied =
    "-DENIED Redis is running in protected mode because protected mode is enabled and no "
    "password is set for the default user. In this mode connections are only accepted from "
    "the loopback interface. If you want to connect from external computers to Redis you may "
    "adopt one of the following solutions: 1) Just disable protected mode sending the command "
    "'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from "
    "the same host the server is running, however MAKE SURE Redis is not publicly accessible "
    "from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) "
    "Alternatively you can just disable the protected mode by editing the Redis configuration "
    "file, and setting the protected mode option to 'no', and then restarting the server. 3) "
    "If you started the server manually just for testing, restart it with the "
    "'--protected-mode no' option. 4) Setup a an authentication password for the default "
    "user. NOTE: You only need to do one of the above things in order for the server to start "
    "accepting connections from the outside.\r\n";
inline constexpr const char* kAuthNotConfigured =
    "ERR AUTH <password> called without any password configured for the default user. Are you "
    "sure your configuration is correct?";
inline constexpr const char* kMaxClients = "ERR max number of clients reached";
inline constexpr const char* kSameObject = "ERR source and destination objects are the same";
inline constexpr const char* kInvalidCursor = "ERR invalid cursor";
inline constexpr const char* kNoProto = "NOPROTO unsupported protocol version";
inline constexpr const char* kOom = "OOM command not allowed when used memory > 'maxmemory'.";
inline constexpr const char* kNoReplicas = "NOREPLICAS Not enough good replicas to write.";
// Redis 7.0.15, processCommand() for a CMD_PROTECTED command that enable-debug-command refuses.
inline constexpr const char* kDebugNotAllowed =
    "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you "
    "can run it from a local connection, otherwise you need to set this option in the "
    "configuration file, and then restart the server.";
// Redis 7.0.15, configSetCommand(), after "CONFIG SET failed (possibly related to argument 'x') -
// ".
inline constexpr const char* kProtectedConfig = "can't set protected config";
// FDB's own (Redis is single-threaded: no command runs beside its SHUTDOWN). Sent to a write,
// or EXEC, that arrives once a shutdown has begun: it was not executed, so it can be retried
// against the next server.
inline constexpr const char* kShuttingDown =
    "ERR Server is shutting down: the command was not executed";

// Keyspace and expiry commands (generic family).
inline constexpr const char* kIntRange =
    "ERR value is out of range, value must between -2147483648 and 2147483647";
inline constexpr const char* kInvalidFirstDb = "ERR invalid first DB index";
inline constexpr const char* kInvalidSecondDb = "ERR invalid second DB index";
inline constexpr const char* kExpireNxXxGtLt =
    "ERR NX and XX, GT or LT options at the same time are not compatible";
inline constexpr const char* kExpireGtLt =
    "ERR GT and LT options at the same time are not compatible";
inline constexpr const char* kLfuNotSelected =
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
    "when switching between policies at runtime LRU and LFU data will take some time to adjust.";
inline constexpr const char* kLfuSelected =
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust.";

// Collection families (hash, list, zset).
inline constexpr const char* kHashNotInteger = "ERR hash value is not an integer";
inline constexpr const char* kHashNotFloat = "ERR hash value is not a float";
inline constexpr const char* kIndexOutOfRange = "ERR index out of range";
inline constexpr const char* kNanScore = "ERR resulting score is not a number (NaN)";

}  // namespace fdb::errors
