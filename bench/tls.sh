#!/usr/bin/env bash
# TLS throughput and latency, FDB beside Debian's redis-server (both serving TLS), same run:
#   redis-benchmark --tls --cacert ca.crt -t set,get -c 50 -P 1 / -P 16
#   redis-benchmark --tls --cacert ca.crt --threads 2 -t set -c 50   (the client in 2 threads)
# Both servers: no persistence, tls-auth-clients no (the benchmark sends no certificate), FDB with
# FDB_THREADS I/O threads (default 2); Redis does TLS on its main thread (io-threads 1).
# Certificates are made by scripts/gen-test-certs.sh into a temp dir. Prints requests/s, p50 and
# p99 (ms) and server CPU per request (us: user+system of every thread, from /proc) per server,
# and FDB/Redis throughput ratios.
# Usage: bench/tls.sh [N]   (N requests per pipeline-1 run, default 200000; P16 runs do 5x)
#        FDB_SERVER_BIN, REDIS_SERVER_BIN, FDB_THREADS, REPS (default 1: best of REPS)
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
N=${1:-200000}
FDB_THREADS=${FDB_THREADS:-2}
REPS=${REPS:-1}
bench_require redis-benchmark redis-cli openssl "$REDIS_SERVER_BIN"
trap bench_cleanup EXIT

bench_mktemp CERTS tls-bench-certs
"$ROOT_DIR/scripts/gen-test-certs.sh" "$CERTS" >/dev/null
TLS_COMMON=(--tls-cert-file "$CERTS/redis.crt" --tls-key-file "$CERTS/redis.key"
  --tls-ca-cert-file "$CERTS/ca.crt" --tls-auth-clients no)

bench_mktemp FDIR tls-bench-fdb
bench_mktemp RDIR tls-bench-redis
FDB_TLS=$(bench_free_port)
REDIS_TLS=$(bench_free_port)
FP=$(bench_free_port)
RP=$(bench_free_port)
bench_start FDB "$FP" "$FDIR" "$FDB_SERVER_BIN" --bind 127.0.0.1 --port "$FP" --dir "$FDIR" \
  --threads "$FDB_THREADS" --appendonly no --tls-port "$FDB_TLS" "${TLS_COMMON[@]}"
bench_start REDIS "$RP" "$RDIR" "$REDIS_SERVER_BIN" "${REDIS_BASE[@]}" --port "$RP" --dir "$RDIR" \
  --appendonly no --tls-port "$REDIS_TLS" "${TLS_COMMON[@]}"

TICK_US=$((1000000 / $(getconf CLK_TCK)))
# run PORT PID TEST N PIPELINE [extra...] -> "rps p50 p99 cpu_us" (the best rps of REPS runs)
run() {
  local port=$1 pid=$2 t=$3 n=$4 p=$5; shift 5
  local best="0 0 0 0" i line t0 t1
  for ((i = 0; i < REPS; i++)); do
    t0=$(bench_cpu_ticks "$pid")
    line=$(timeout 300 redis-benchmark -h 127.0.0.1 -p "$port" --tls --cacert "$CERTS/ca.crt" \
      -t "$t" -n "$n" -P "$p" -c 50 -r 100000 -d 64 --csv "$@" 2>/dev/null | tail -n1)
    t1=$(bench_cpu_ticks "$pid")
    # "test","rps","avg","min","p50","p95","p99","max"
    line=$(tr -d '"' <<<"$line" | awk -F, -v c=$(((t1 - t0) * TICK_US)) -v n="$n" \
      '{ printf "%s %s %s %.2f\n", $2, $5, $7, c / n }')
    [[ -n $line ]] || die "redis-benchmark on port $port ($t -P $p) gave no result"
    if awk -v a="$line" -v b="$best" 'BEGIN { split(a, x, " "); split(b, y, " "); exit !(x[1] > y[1]) }'; then
      best=$line
    fi
  done
  echo "$best"
}

printf '%-22s %12s %7s %7s %7s   %12s %7s %7s %7s   %6s\n' case fdb_rps p50 p99 cpu_us \
  redis_rps p50 p99 cpu_us ratio
row() {  # row LABEL TEST N PIPELINE [extra...]
  local label=$1; shift
  local f r
  f=$(run "$FDB_TLS" "$FDB_SPID" "$@")
  r=$(run "$REDIS_TLS" "$REDIS_SPID" "$@")
  read -r fr fp50 fp99 fcpu <<<"$f"
  read -r rr rp50 rp99 rcpu <<<"$r"
  printf '%-22s %12s %7s %7s %7s   %12s %7s %7s %7s   %6s\n' "$label" "$fr" "$fp50" "$fp99" \
    "$fcpu" "$rr" "$rp50" "$rp99" "$rcpu" \
    "$(awk -v a="$fr" -v b="$rr" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }')"
}
row "SET P1 c50" set "$N" 1
row "GET P1 c50" get "$N" 1
row "SET P16 c50" set "$((5 * N))" 16
row "GET P16 c50" get "$((5 * N))" 16
row "SET P1 c50 threads2" set "$N" 1 --threads 2
echo "(fdb: $FDB_THREADS I/O threads; redis: $("$REDIS_SERVER_BIN" --version | awk '{ print $3 }'), main-thread TLS; $(nproc) cores)"
