#!/usr/bin/env bash
# bench/scripting.sh: EVALSHA of a small script (INCRBY + PEXPIRE on one key) beside Debian's
# redis-server, both without persistence, in the same run:
#   1. one key, 50 clients, pipeline 1 and 16;
#   2. random keys over 100k, 50 clients, redis-benchmark --threads 2, pipeline 1 and 16.
# Each case runs ROUNDS times (default 3), the servers alternating; the table gives the medians.
# Env: ROUNDS, REQUESTS (default 200000), FDB_THREADS (default 2), FDB_SERVER_BIN.
set -euo pipefail
source "$(dirname "$0")/_lib.sh"

ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-200000}
FDB_THREADS=${FDB_THREADS:-2}
SCRIPT="local v = redis.call('incrby', KEYS[1], ARGV[1]) redis.call('pexpire', KEYS[1], 60000) return v"

bench_require redis-server redis-benchmark redis-cli ss timeout "$PYTHON"
[[ -x $FDB_SERVER_BIN ]] || die "fdb-server not found: $FDB_SERVER_BIN"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bench_set_mode memory
bench_mktemp WORK fdb-bench-lua
mkdir -p "$WORK/redis" "$WORK/fdb"
port=$(bench_free_port)
bench_start REDIS "$port" "$WORK/redis" "$REDIS_SERVER_BIN" --port "$port" --bind 127.0.0.1 \
  --save '' --dir "$WORK/redis" "${REDIS_EXTRA[@]}"
port=$(bench_free_port)
bench_start FDB "$port" "$WORK/fdb" "$FDB_SERVER_BIN" --port "$port" --bind 127.0.0.1 \
  --dir "$WORK/fdb" --threads "$FDB_THREADS" "${FDB_EXTRA[@]}"

declare -A SHA
for s in REDIS FDB; do
  p=${s}_PORT
  SHA[$s]=$(redis-cli -h 127.0.0.1 -p "${!p}" script load "$SCRIPT")
  [[ $(redis-cli -h 127.0.0.1 -p "${!p}" evalsha "${SHA[$s]}" 1 bench:pre 5) == 5 ]] ||
    die "$s: the script does not run"
done
[[ ${SHA[REDIS]} == "${SHA[FDB]}" ]] || die "the two servers disagree on the script's SHA1"

# rps SERVER PIPELINE KEYARG EXTRA... -> requests per second
rps() {
  local s=$1 pipe=$2 key=$3; shift 3
  local p=${s}_PORT
  redis-benchmark -h 127.0.0.1 -p "${!p}" -c 50 -n "$REQUESTS" -P "$pipe" --csv "$@" \
    evalsha "${SHA[$s]}" 1 "$key" 1 2>/dev/null | tail -n1 | cut -d, -f2 | tr -d '"'
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

printf '%-34s %4s %12s %12s %9s\n' case P "redis rps" "fdb rps" fdb/redis
for c in one random; do
  for pipe in 1 16; do
    r=() f=()
    for ((i = 0; i < ROUNDS; i++)); do
      if [[ $c == one ]]; then
        r+=("$(rps REDIS "$pipe" bench:one)"); f+=("$(rps FDB "$pipe" bench:one)")
      else
        f+=("$(rps FDB "$pipe" 'key:__rand_int__' -r 100000 --threads 2)")
        r+=("$(rps REDIS "$pipe" 'key:__rand_int__' -r 100000 --threads 2)")
      fi
    done
    rm=$(printf '%s\n' "${r[@]}" | median); fm=$(printf '%s\n' "${f[@]}" | median)
    name=$([[ $c == one ]] && echo "EVALSHA incrby+pexpire, one key" || echo "EVALSHA, 100k keys, --threads 2")
    printf '%-34s %4s %12.0f %12.0f %9.2f\n' "$name" "$pipe" "$rm" "$fm" "$(awk -v a="$fm" -v b="$rm" 'BEGIN { print a / b }')"
  done
done
