// GET /metrics: the server's figures in Prometheus's text exposition format (version 0.0.4).
//
// Names follow the Prometheus redis_exporter's (redis_connected_clients, redis_db_keys{db="db0"},
// redis_commands_total{cmd="get"}...) wherever the figure is one Redis has, so dashboards and
// alerts written for Redis work unchanged; FDB's own figures (the log, fsyncs, the RAM cache of
// values) are fdb_*. docs/monitoring.md lists them all. The figures come from
// commands/server_stats.h, the same source as INFO.
#pragma once

#include <string>

#include "commands/server_context.h"

namespace fdb {

// The body of GET /metrics. Thread-safe (reads counters; locks each shard in turn to count keys).
std::string RenderMetrics(ServerContext& ctx);

// The Content-Type of that body.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace fdb
