# Shared helpers for bench/compare.sh and bench/memory.sh. Source it; do not run it.
#
# Servers are bound to 127.0.0.1 on free ports, each with its own temp dir, and stopped by PID.
# The FDB binary is $FDB_SERVER_BIN (default build/fdb-server). A wrapper script is fine as long
# as the real server ends up listening on the port: CPU/RSS are read from the PID that owns the
# listening socket (found with `ss -p`), falling back to the launched PID.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(dirname "$BENCH_DIR")
PYTHON=${PYTHON:-python3}
FDB_SERVER_BIN=${FDB_SERVER_BIN:-$ROOT_DIR/build/fdb-server}
REDIS_SERVER_BIN=${REDIS_SERVER_BIN:-redis-server}
START_TIMEOUT=${START_TIMEOUT:-20}   # seconds a server gets to answer PING
CLK_TCK=$(getconf CLK_TCK)

BENCH_PIDS=()       # launched PIDs, stopped by bench_cleanup
BENCH_TMPDIRS=()    # removed by bench_cleanup unless KEEP_TMP=1

die() { echo "error: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

bench_require() {
  local c
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || die "'$c' not found in PATH"; done
}

bench_mktemp() {   # bench_mktemp VAR PREFIX : makes a temp dir, registered for cleanup, in $VAR
  local d
  d=$(mktemp -d "${TMPDIR:-/tmp}/$2.XXXXXX") || die "mktemp failed"
  BENCH_TMPDIRS+=("$d")
  printf -v "$1" '%s' "$d"
}

bench_free_port() {
  "$PYTHON" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

bench_listen_pid() {   # bench_listen_pid PORT -> PID owning the listening socket, or nothing
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2
}

# bench_start VAR PORT DIR CMD ARGS... : starts CMD in the background (log in DIR/server.log),
# waits for PING, and sets ${VAR}_PID (launched), ${VAR}_SPID (listening server), ${VAR}_PORT.
bench_start() {
  local var=$1 port=$2 dir=$3; shift 3
  "$@" >"$dir/server.log" 2>&1 &
  local pid=$!
  BENCH_PIDS+=("$pid")
  local deadline=$((SECONDS + START_TIMEOUT))
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "---- $var server log ($dir/server.log):" >&2; tail -n 20 "$dir/server.log" >&2
      die "$var server exited during startup: $*"
    fi
    if [[ $(timeout 2 redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]]; then break; fi
    ((SECONDS < deadline)) || die "$var server did not answer PING within ${START_TIMEOUT}s: $*"
    sleep 0.1
  done
  local spid
  spid=$(bench_listen_pid "$port")
  if [[ -z $spid ]]; then
    spid=$pid
  elif [[ $spid != "$pid" ]] && ! grep -qs "^PPid:[[:space:]]*$pid\$" "/proc/$spid/status"; then
    # Something else owns the port (free-port race) and our server is not it.
    die "$var: port $port is owned by PID $spid, not by the launched PID $pid"
  fi
  printf -v "${var}_PID" '%s' "$pid"
  printf -v "${var}_SPID" '%s' "$spid"
  printf -v "${var}_PORT" '%s' "$port"
}

bench_stop_pid() {   # SIGTERM, wait up to 10s, then SIGKILL
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
  local pid d
  for pid in "${BENCH_PIDS[@]}"; do bench_stop_pid "$pid"; done
  BENCH_PIDS=()
  if [[ ${KEEP_TMP:-0} == 1 ]]; then
    ((${#BENCH_TMPDIRS[@]})) && log "kept temp dirs: ${BENCH_TMPDIRS[*]}"
  else
    for d in "${BENCH_TMPDIRS[@]}"; do rm -rf -- "$d"; done
  fi
  BENCH_TMPDIRS=()
}

bench_cpu_ticks() {   # utime+stime (all threads) of PID, in clock ticks
  local stat rest f
  stat=$(<"/proc/$1/stat") || return 1
  rest=${stat##*) }              # fields from 3 (state) on; comm may contain spaces
  read -ra f <<<"$rest"
  echo $((f[11] + f[12]))        # fields 14 (utime) and 15 (stime)
}

bench_rss_kb() {   # bench_rss_kb PID [VmRSS|VmHWM] -> kB
  awk -v k="${2:-VmRSS}:" '$1 == k { print $2 }' "/proc/$1/status"
}

# Redis flags that pin down the configuration in every mode.
REDIS_BASE=(--bind 127.0.0.1 --save "")

# Persistence mode hook: per-mode extra flags for each server.
#   memory   : no persistence (the default).
#   everysec : AOF fsynced once a second   (redis --appendfsync everysec / fdb --fsync everysec)
#   always   : AOF fsynced before replying (redis --appendfsync always   / fdb --fsync always)
# REDIS_AOF_REWRITE=off (default) adds --auto-aof-rewrite-percentage 0 to Redis's AOF modes, so
# no background AOF rewrite (a fork + RDB dump) lands inside a measurement; on = Redis defaults
# (rewrite when the AOF doubled and is over 64 MB).
REDIS_AOF_REWRITE=${REDIS_AOF_REWRITE:-off}
bench_set_mode() {
  case "$REDIS_AOF_REWRITE" in
    on|off) ;;
    *) die "REDIS_AOF_REWRITE must be on or off, not '$REDIS_AOF_REWRITE'" ;;
  esac
  local rw=()
  [[ $REDIS_AOF_REWRITE == off ]] && rw=(--auto-aof-rewrite-percentage 0)
  case "$1" in
    memory)   REDIS_EXTRA=(--appendonly no);                                   FDB_EXTRA=(--appendonly no) ;;
    everysec) REDIS_EXTRA=(--appendonly yes --appendfsync everysec "${rw[@]}"); FDB_EXTRA=(--fsync everysec) ;;
    always)   REDIS_EXTRA=(--appendonly yes --appendfsync always "${rw[@]}");   FDB_EXTRA=(--fsync always) ;;
    *) die "unknown mode '$1' (memory|everysec|always)" ;;
  esac
}

# ---- helpers for the persistence benchmarks (restart.sh, larger_than_ram.sh, compaction.sh) ----

bench_ns() { date +%s%N; }
bench_secs_since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
bench_du_kb() { du -sk "$1" 2>/dev/null | cut -f1; }   # disk usage (allocated blocks) of a dir, KiB

# bench_info_field PORT FIELD -> the value of FIELD in INFO (any section), or nothing.
bench_info_field() {
  timeout 10 redis-cli -h 127.0.0.1 -p "$1" info 2>/dev/null | tr -d '\r' |
    awk -F: -v k="$2" '$1 == k { print $2; exit }'
}

# bench_require_info PORT WHAT FIELD... : dies with a clear message naming the INFO fields that
# are missing (storage engine not wired into this fdb-server yet?), unless ALLOW_NO_ENGINE=1, in
# which case it warns and returns 1 so the caller can show those columns as n/a.
bench_require_info() {
  local port=$1 what=$2; shift 2
  local all f missing=()
  all=$(timeout 10 redis-cli -h 127.0.0.1 -p "$port" info 2>/dev/null | tr -d '\r')
  for f in "$@"; do grep -q "^$f:" <<<"$all" || missing+=("$f"); done
  ((${#missing[@]} == 0)) && return 0
  local msg="$what: INFO of $FDB_SERVER_BIN lacks ${missing[*]} (storage engine not wired in yet?)"
  [[ ${ALLOW_NO_ENGINE:-0} == 1 ]] || die "$msg; ALLOW_NO_ENGINE=1 runs anyway with those columns as n/a"
  log "warning: $msg; continuing because ALLOW_NO_ENGINE=1"
  return 1
}

# bench_load PORT TIMEOUT EXPECTED_REPLIES _kv.py-gen-args... : streams SETs from `_kv.py gen`
# through `redis-cli --pipe` and dies unless all EXPECTED_REPLIES replies came back without
# error. Sets LOAD_SECONDS.
bench_load() {
  local port=$1 tmo=$2 want=$3; shift 3
  local t0 out hint=""
  t0=$(bench_ns)
  out=$("$PYTHON" "$BENCH_DIR/_kv.py" gen "$@" | timeout "$tmo" redis-cli -h 127.0.0.1 -p "$port" --pipe 2>&1) || true
  LOAD_SECONDS=$(bench_secs_since "$t0")
  [[ $out == *"errors: 0, replies: $want"* ]] && return 0
  [[ $out == *OOM* ]] && hint=" (OOM: the server refuses writes over --maxmemory instead of keeping values on disk)"
  die "load of $want SETs into port $port failed after ${LOAD_SECONDS}s$hint: $(tail -c 400 <<<"$out" | tr '\n' ' ')"
}
