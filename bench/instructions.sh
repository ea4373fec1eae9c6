#!/usr/bin/env bash
# bench/instructions.sh: instructions per request, counted by valgrind's callgrind, of one
# redis-benchmark workload on fdb-server (--threads 1) and on Debian's redis-server, both
# without persistence. A count of instructions does not move with the machine's load, so on a
# shared machine it shows what a change to the request path did when throughput cannot.
#
# FDB's figure is its I/O thread's (EventLoop::Run and what it calls); the housekeeping thread
# is left out, since under valgrind's slowdown its timer-driven work is over-represented.
# Redis's is the whole process (one thread). Each server first serves a warm-up of the same
# workload (keys created), then the counters are zeroed and REQUESTS requests are counted.
#
# Usage: bench/instructions.sh              # the scripting bench's EVALSHA over 100k keys
#        CMD="set key:__rand_int__ xxx" bench/instructions.sh
#        PRELOAD="rpush mylist element:__rand_int__" CMD="lrange mylist 0 99" bench/instructions.sh
# Env: REQUESTS (default 20000), PIPELINE (16), CLIENTS (4), KEYSPACE (100000), SCRIPT (the
# script EVALSHA runs when CMD is not given), PRELOAD (a command run REQUESTS times before the
# warm-up, not counted: the data a read workload reads), FDB_SERVER_BIN.
set -euo pipefail
source "$(dirname "$0")/_lib.sh"

REQUESTS=${REQUESTS:-20000}
PIPELINE=${PIPELINE:-16}
CLIENTS=${CLIENTS:-4}
KEYSPACE=${KEYSPACE:-100000}
SCRIPT=${SCRIPT:-"local v = redis.call('incrby', KEYS[1], ARGV[1]) redis.call('pexpire', KEYS[1], 60000) return v"}

bench_require valgrind callgrind_control callgrind_annotate redis-server redis-benchmark redis-cli
[[ -x $FDB_SERVER_BIN ]] || die "fdb-server not found: $FDB_SERVER_BIN"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
START_TIMEOUT=120  # valgrind starts slowly

# count NAME PORT DIR SYMBOL CMD... : sets COUNT to the instructions per request (SYMBOL: the
# inclusive cost to read, or empty for the program's total) and stops the server. Not called in a
# subshell, so the server is registered for bench_cleanup.
count() {
  local name=$1 port=$2 dir=$3 symbol=$4; shift 4
  bench_start "$name" "$port" "$dir" valgrind --tool=callgrind \
    --callgrind-out-file="$dir/cg.out" "$@"
  local pid_var=${name}_SPID
  local pid=${!pid_var}
  local -a cmd
  if [[ -n ${CMD:-} ]]; then
    read -r -a cmd <<<"$CMD"
  else
    local sha
    sha=$(redis-cli -h 127.0.0.1 -p "$port" script load "$SCRIPT")
    cmd=(evalsha "$sha" 1 'key:__rand_int__' 1)
  fi
  local -a load=(redis-benchmark -h 127.0.0.1 -p "$port" -c "$CLIENTS" -P "$PIPELINE"
    -r "$KEYSPACE" -q)
  if [[ -n ${PRELOAD:-} ]]; then
    local -a preload
    read -r -a preload <<<"$PRELOAD"
    "${load[@]}" -n "$REQUESTS" "${preload[@]}" >/dev/null
  fi
  "${load[@]}" -n "$REQUESTS" "${cmd[@]}" >/dev/null
  callgrind_control -z "$pid" >/dev/null 2>&1
  "${load[@]}" -n "$REQUESTS" "${cmd[@]}" >/dev/null
  callgrind_control -d "$pid" >/dev/null 2>&1
  local dump
  for _ in $(seq 50); do
    dump=$(ls "$dir"/cg.out.* 2>/dev/null | sort | head -n1 || true)
    [[ -n $dump ]] && break
    sleep 0.2
  done
  [[ -n $dump ]] || die "$name: no callgrind dump"
  sleep 1  # the dump is written in full
  local total
  # Whole reports to files: a reader that stops at its first match would cut the pipe.
  if [[ -n $symbol ]]; then
    callgrind_annotate --inclusive=yes --threshold=100 "$dump" >"$dir/report.txt" 2>/dev/null
    total=$(awk -v s="$symbol" 'index($0, s) { gsub(",", "", $1); print $1; exit }' \
      "$dir/report.txt")
  else
    callgrind_annotate "$dump" >"$dir/report.txt" 2>/dev/null
    total=$(awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }' "$dir/report.txt")
  fi
  [[ -n $total ]] || die "$name: no instruction count in $dump"
  local launched=${name}_PID
  bench_stop_pid "${!launched}"
  COUNT=$((total / REQUESTS))
}

bench_mktemp WORK fdb-bench-ir
mkdir -p "$WORK/redis" "$WORK/fdb"
port=$(bench_free_port)
count FDB "$port" "$WORK/fdb" "fdb::EventLoop::Run()" "$FDB_SERVER_BIN" --port "$port" \
  --bind 127.0.0.1 --dir "$WORK/fdb" --threads 1 --appendonly no
fdb=$COUNT
port=$(bench_free_port)
count REDIS "$port" "$WORK/redis" "" "$REDIS_SERVER_BIN" --port "$port" \
  --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK/redis"
redis=$COUNT
printf '%-44s %14s %14s %9s\n' workload "redis instr" "fdb instr" fdb/redis
printf '%-44s %14s %14s %9.2f\n' "${CMD:-evalsha (incrby+pexpire)} P$PIPELINE" "$redis" "$fdb" \
  "$(awk -v a="$fdb" -v b="$redis" 'BEGIN { print a / b }')"
