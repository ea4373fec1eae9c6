#!/usr/bin/env bash
# FDB vs Redis throughput/latency/CPU comparison with redis-benchmark.
#
#   bench/compare.sh [--mode memory|everysec|always] [--rounds N] [--collections] [--observe]
#
# Starts Debian's redis-server and fdb-server side by side (127.0.0.1, free ports, own temp
# dirs), fills the 100k keyspace of each, then for ROUNDS rounds runs redis-benchmark
# (50 clients, -d 100, -r 100000) for SET, GET, INCR, MSET at pipeline 1 and 16, alternating the
# two servers run by run (and which one goes first, round by round). For every run it records
# rps and p50/p99 latency from redis-benchmark's --csv output, and the server's CPU time
# (utime+stime from /proc/PID/stat) spent during the run. Prints medians over rounds.
#
# Persistence modes default to the rows that matter for them (override with TESTS/PIPELINES):
#   --mode everysec : SET at pipeline 16, redis --appendonly yes --appendfsync everysec
#                     vs fdb --fsync everysec
#   --mode always   : SET at pipeline 1 with 50 clients, redis --appendfsync always
#                     vs fdb --fsync always (50k requests per run)
# In both, Redis's automatic AOF rewrite is off unless REDIS_AOF_REWRITE=on (see below).
#
# --collections runs the collection rows instead (TESTS defaults to
# lpush,lpop,sadd,hset,zadd,lrange_100,zrangebyscore_limit at pipelines 1 and 16): redis-benchmark's
# own LPUSH/LPOP/SADD/HSET/ZADD tests (one key each, random members), and two custom commands on
# prefilled keys: lrange_100 = LRANGE bench:list 0 99 (a 600-element list) and
# zrangebyscore_limit = ZRANGEBYSCORE bench:zset 100 +inf LIMIT 0 10 (a 1000-member zset).
# TESTS=setbit,bitfield,pfadd,geoadd runs the bitmap / HyperLogLog / geo rows: SETBIT
# bench:bitmap 800000 1 (a 100 KB bitmap; redis-benchmark's __rand_int__ is zero-padded, which
# no integer argument accepts, so the offset is fixed: after the first request the bit is set and
# both servers take their no-change path), BITFIELD bench:bitmap INCRBY u16 400000 1 (a change,
# and in the persistent modes a logged delta, every time), PFADD bench:hll __rand_int__, GEOADD
# bench:geo 13.__rand_int__ 38.__rand_int__ m:__rand_int__ (-r 100000 random elements/members);
# and the reads bitcount (BITCOUNT of a 1000-byte string), pfcount (PFCOUNT of an HLL of 1000
# elements: the cached estimate), geosearch (GEOSEARCH ... BYRADIUS 10 km COUNT 10 ASC in 1000
# points spread over about 100 x 100 km), each on a key the preflight fills.
# LPOP runs after LPUSH in each round, so it pops what LPUSH pushed.
# Stream rows (TESTS=xadd,xrange_10): xadd = XADD bench:stream MAXLEN ~ 100000 * with three
# fields (bounded: the stream is trimmed by whole nodes), xrange_10 = XRANGE bench:stream:r 500
# + COUNT 10 on a prefilled 1000-entry stream of three fields.
# Consumer-group rows (TESTS=xreadgroup,xack), on bench:cg, a stream of max(requests per run,
# CG_ACK_IDS) entries of three fields with IDs 1-0, 2-0, ... that the preflight fills. Before
# every run (outside the timed window) the group g is destroyed and made again at 0, so each
# run starts from an empty PEL. xreadgroup = XREADGROUP GROUP g c COUNT 1 STREAMS bench:cg >:
# every request delivers the next entry and adds it to the group's and the consumer's PEL (the
# stream is long enough that no request finds it drained). xack = XACK bench:cg g
# __rand_int__-0 (-r CG_ACK_IDS, default 1000000) after the untimed XREADGROUP ... COUNT
# CG_ACK_IDS that puts entries 1..CG_ACK_IDS in the PEL: redis-benchmark has no counter, so the
# IDs are random in 0..CG_ACK_IDS-1 (both servers read the zero-padded ms part as Redis does);
# an ID still pending is acked and removed, one already acked (or 0-0) is a lookup that finds
# nothing: with N requests over K = CG_ACK_IDS IDs, K*(1-exp(-N/K))/N of the requests remove an
# entry (95% at N = 100k, 79% at N = 500k, 63% at N = K).
#
# --observe runs FDB as it is watched in production: its HTTP listener on, the dashboard open
# (GET /api/stats every second, as the page polls it) and a Prometheus-like scraper of /metrics
# every second, both from bench/_observe.py for the whole benchmark. Compare its table with one
# of a run without it: docs/monitoring.md has the figures.
#
# Environment (all optional):
#   MODE=memory           persistence mode, same as --mode (see bench_set_mode in _lib.sh)
#   ROUNDS=5              rounds (each round runs every test on both servers)
#   REQUESTS=N            requests per run for every test (overrides the two below)
#   REQUESTS_P1=100000    requests per run at pipeline 1 (50000 in --mode always)
#   REQUESTS_P16=...      requests per run at pipeline >1 (default 1000000, MSET 200000:
#                         pipelined SET/GET/INCR run ~1M req/s, MSET of 10 keys ~100k req/s)
#   TESTS=set,get,incr,mset   PIPELINES="1 16"   (memory-mode defaults; see above for the others)
#   CLIENTS=50   DATA_SIZE=100   KEYSPACE=100000
#   REDIS_AOF_REWRITE=off|on  off (default): --auto-aof-rewrite-percentage 0, so no AOF rewrite
#                         (fork + RDB dump) lands in a run; on: Redis's defaults (100%, 64mb)
#   FDB_SERVER_BIN=build/fdb-server   FDB_THREADS=2   FDB_ARGS="..."  REDIS_ARGS="..." (extra flags)
#   RUN_TIMEOUT=120       seconds after which one redis-benchmark run is killed (counted failed)
#   WARMUP_REQUESTS=20000 requests of each test at pipeline 1 before round 1 (0 = none)
#   RESULTS_MD=FILE       also write the table as Markdown to FILE
#   RAW_OUT=FILE          also keep the per-run raw data (TSV) in FILE
#   KEEP_TMP=1            keep the temp dirs (server logs, per-run CSVs)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"

MODE=${MODE:-memory}
ROUNDS=${ROUNDS:-5}
while (($#)); do
  case "$1" in
    --mode) MODE=${2:?--mode needs a value}; shift 2 ;;
    --mode=*) MODE=${1#*=}; shift ;;
    --rounds) ROUNDS=${2:?--rounds needs a value}; shift 2 ;;
    --rounds=*) ROUNDS=${1#*=}; shift ;;
    --collections) TESTS=${TESTS:-lpush,lpop,sadd,hset,zadd,lrange_100,zrangebyscore_limit}; shift ;;
    --observe) OBSERVE=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"

bench_set_mode "$MODE"   # validates MODE, sets REDIS_EXTRA / FDB_EXTRA
case $MODE in
  memory)   TESTS=${TESTS:-set,get,incr,mset}; PIPELINES=${PIPELINES:-1 16} ;;
  everysec) TESTS=${TESTS:-set};               PIPELINES=${PIPELINES:-16} ;;
  always)   TESTS=${TESTS:-set};               PIPELINES=${PIPELINES:-1}; REQUESTS_P1=${REQUESTS_P1:-50000} ;;
esac
CLIENTS=${CLIENTS:-50}
DATA_SIZE=${DATA_SIZE:-100}
KEYSPACE=${KEYSPACE:-100000}
FDB_THREADS=${FDB_THREADS:-2}
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
WARMUP_REQUESTS=${WARMUP_REQUESTS:-20000}
read -ra FDB_USER_ARGS <<<"${FDB_ARGS:-}"
read -ra REDIS_USER_ARGS <<<"${REDIS_ARGS:-}"

requests_for() {   # requests_for TEST PIPELINE
  if [[ -n ${REQUESTS:-} ]]; then echo "$REQUESTS"
  elif (($2 == 1)); then echo "${REQUESTS_P1:-100000}"
  elif [[ -n ${REQUESTS_P16:-} ]]; then echo "$REQUESTS_P16"
  elif [[ $1 == mset ]]; then echo 200000
  else echo 1000000
  fi
}

bench_require redis-server redis-benchmark redis-cli ss timeout "$PYTHON"
[[ -x $FDB_SERVER_BIN ]] || die "fdb-server not found or not executable: $FDB_SERVER_BIN (build it, or set FDB_SERVER_BIN)"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

bench_mktemp WORK fdb-bench
mkdir -p "$WORK/redis" "$WORK/fdb" "$WORK/runs"

log "starting servers (mode=$MODE)"
port=$(bench_free_port)
bench_start REDIS "$port" "$WORK/redis" "$REDIS_SERVER_BIN" --port "$port" "${REDIS_BASE[@]}" \
  --dir "$WORK/redis" "${REDIS_EXTRA[@]}" "${REDIS_USER_ARGS[@]}"
port=$(bench_free_port)
OBSERVE_ARGS=()
if [[ ${OBSERVE:-0} == 1 ]]; then
  HTTP_PORT=$(bench_free_port)
  OBSERVE_ARGS=(--http-port "$HTTP_PORT")
fi
bench_start FDB "$port" "$WORK/fdb" "$FDB_SERVER_BIN" --port "$port" --bind 127.0.0.1 \
  --dir "$WORK/fdb" --threads "$FDB_THREADS" "${FDB_EXTRA[@]}" "${OBSERVE_ARGS[@]}" \
  "${FDB_USER_ARGS[@]}"
log "redis-server pid $REDIS_SPID port $REDIS_PORT; fdb-server pid $FDB_SPID port $FDB_PORT ($FDB_SERVER_BIN)"
if [[ ${OBSERVE:-0} == 1 ]]; then
  # Stopped by bench_cleanup with the servers; prints its counts to the log as it ends.
  "$PYTHON" "$BENCH_DIR/_observe.py" --port "$HTTP_PORT" 2>"$WORK/observe.log" &
  BENCH_PIDS+=("$!")
  OBSERVE_PID=$!
  log "observing: dashboard stats and /metrics every second on port $HTTP_PORT (pid $OBSERVE_PID)"
fi

port_of() { if [[ $1 == redis ]]; then echo "$REDIS_PORT"; else echo "$FDB_PORT"; fi; }
spid_of() { if [[ $1 == redis ]]; then echo "$REDIS_SPID"; else echo "$FDB_SPID"; fi; }
rcli() { timeout 10 redis-cli -h 127.0.0.1 -p "$(port_of "$1")" "${@:2}" 2>&1; }

# The consumer-group stream: entries 1-0 .. CG_ENTRIES-0 (see the header).
CG_ACK_IDS=${CG_ACK_IDS:-1000000}
CG_ENTRIES=$CG_ACK_IDS
for _p in $PIPELINES 1; do
  _n=$(requests_for xreadgroup "$_p")
  ((_n > CG_ENTRIES)) && CG_ENTRIES=$_n
done
cg_fill() {   # cg_fill SERVER
  [[ $(rcli $1 XLEN bench:cg) == "$CG_ENTRIES" ]] && return 0
  rcli $1 DEL bench:cg >/dev/null
  awk -v n="$CG_ENTRIES" 'BEGIN { for (i = 1; i <= n; i++) {
      id = i "-0"; v = "v" i
      printf "*9\r\n$4\r\nXADD\r\n$8\r\nbench:cg\r\n$%d\r\n%s\r\n$2\r\nf1\r\n$%d\r\n%s\r\n$2\r\nf2\r\n$%d\r\n%s\r\n$2\r\nf3\r\n$%d\r\n%s\r\n",
        length(id), id, length(v), v, length(v), v, length(v), v } }' \
    | timeout 300 redis-cli -h 127.0.0.1 -p "$(port_of $1)" --pipe >/dev/null 2>&1 || true
}
cg_prepare() {   # cg_prepare SERVER TEST: a fresh group g at 0 (xack: with CG_ACK_IDS pending)
  rcli $1 XGROUP DESTROY bench:cg g >/dev/null
  rcli $1 XGROUP CREATE bench:cg g 0 >/dev/null
  if [[ $2 == xack ]]; then
    timeout 60 redis-cli -h 127.0.0.1 -p "$(port_of $1)" XREADGROUP GROUP g c COUNT "$CG_ACK_IDS" STREAMS bench:cg '>' >/dev/null 2>&1
  fi
}

# Preflight: the benchmarked commands must really work, or redis-benchmark would happily time
# error replies.
for s in redis fdb; do
  bad=()
  [[ $(rcli $s SET bench:pre v) == OK && $(rcli $s GET bench:pre) == v ]] || bad+=(SET/GET)
  for t in ${TESTS//,/ }; do
    case $t in
      set|get) ;;
      xadd) [[ $(rcli $s XADD bench:pre:x 1-1 f v) == 1-1 ]] || bad+=(XADD) ;;
      xrange_10)
        rcli $s DEL bench:stream:r >/dev/null
        for ((i = 1; i <= 1000; i++)); do echo "XADD bench:stream:r $i-0 f1 v$i f2 w$i f3 x$i"; done \
          | timeout 30 redis-cli -h 127.0.0.1 -p "$(port_of $s)" >/dev/null
        [[ $(rcli $s XLEN bench:stream:r) == 1000 && $(rcli $s XRANGE bench:stream:r 500 + COUNT 10 | wc -l) == 70 ]] || bad+=(XRANGE) ;;
      xreadgroup|xack)
        cg_fill $s
        [[ $(rcli $s XLEN bench:cg) == "$CG_ENTRIES" ]] || bad+=("XADD(bench:cg)")
        cg_prepare $s xack
        [[ $(rcli $s XPENDING bench:cg g | head -1) == "$CG_ACK_IDS" && $(rcli $s XACK bench:cg g 000000000007-0) == 1 ]] || bad+=(XREADGROUP/XACK) ;;
      incr) [[ $(rcli $s INCR bench:pre:n) == 1 ]] || bad+=(INCR) ;;
      mset) [[ $(rcli $s MSET bench:pre:a 1 bench:pre:b 2) == OK && $(rcli $s GET bench:pre:b) == 2 ]] || bad+=(MSET) ;;
      lpush|lpop) rcli $s DEL bench:pre:l >/dev/null
        [[ $(rcli $s RPUSH bench:pre:l a b) == 2 && $(rcli $s LPOP bench:pre:l) == a ]] || bad+=(LPUSH/LPOP) ;;
      sadd) [[ $(rcli $s SADD bench:pre:s a b) == 2 ]] || bad+=(SADD) ;;
      hset) [[ $(rcli $s HSET bench:pre:h f v) == 1 && $(rcli $s HGET bench:pre:h f) == v ]] || bad+=(HSET) ;;
      zadd) [[ $(rcli $s ZADD bench:pre:z 1 a) == 1 && $(rcli $s ZSCORE bench:pre:z a) == 1 ]] || bad+=(ZADD) ;;
      lrange_100)
        rcli $s DEL bench:list >/dev/null
        for ((i = 0; i < 6; i++)); do
          rcli $s RPUSH bench:list $(for ((j = 0; j < 100; j++)); do printf 'v%0*d ' $((DATA_SIZE - 1)) $((i * 100 + j)); done) >/dev/null
        done
        [[ $(rcli $s LLEN bench:list) == 600 && $(rcli $s LRANGE bench:list 0 99 | wc -l) == 100 ]] || bad+=(LRANGE) ;;
      zrangebyscore_limit)
        rcli $s DEL bench:zset >/dev/null
        for ((i = 0; i < 10; i++)); do
          rcli $s ZADD bench:zset $(for ((j = 0; j < 100; j++)); do printf '%d member:%06d ' $((i * 100 + j)) $((i * 100 + j)); done) >/dev/null
        done
        [[ $(rcli $s ZCARD bench:zset) == 1000 && $(rcli $s ZRANGEBYSCORE bench:zset 100 +inf LIMIT 0 10 | wc -l) == 10 ]] || bad+=(ZRANGEBYSCORE) ;;
      setbit|bitfield) rcli $s DEL bench:pre:b >/dev/null
        [[ $(rcli $s SETBIT bench:pre:b 7 1) == 0 && $(rcli $s GETBIT bench:pre:b 7) == 1 ]] || bad+=(SETBIT) ;;
      pfadd) [[ $(rcli $s PFADD bench:pre:h a b) == 1 && $(rcli $s PFCOUNT bench:pre:h) == 2 ]] || bad+=(PFADD) ;;
      geoadd) [[ $(rcli $s GEOADD bench:pre:g 13.000000000001 38.000000000001 m) == 1 ]] || bad+=(GEOADD) ;;
      bitcount) rcli $s DEL bench:bits >/dev/null
        rcli $s SETRANGE bench:bits 0 "$(head -c 1000 /dev/zero | tr '\0' 'U')" >/dev/null
        [[ $(rcli $s BITCOUNT bench:bits) == 4000 ]] || bad+=(BITCOUNT) ;;
      pfcount) rcli $s DEL bench:hll:ro >/dev/null
        rcli $s PFADD bench:hll:ro $(seq 1 1000) >/dev/null
        [[ $(rcli $s PFCOUNT bench:hll:ro) -gt 980 ]] || bad+=(PFCOUNT) ;;
      geosearch) rcli $s DEL bench:geo:ro >/dev/null
        rcli $s GEOADD bench:geo:ro $(for ((i = 0; i < 1000; i++)); do printf '%s %s p%d ' "13.$((RANDOM % 1000))" "38.$((RANDOM % 1000))" $i; done) >/dev/null
        [[ $(rcli $s GEOSEARCH bench:geo:ro FROMLONLAT 13.5 38.5 BYRADIUS 10 km COUNT 10 ASC | wc -l) == 10 ]] || bad+=(GEOSEARCH) ;;
      *) log "note: no preflight check for test '$t'" ;;
    esac
  done
  rcli $s DEL bench:pre bench:pre:n bench:pre:a bench:pre:b bench:pre:l bench:pre:s bench:pre:h bench:pre:z bench:pre:g >/dev/null
  ((${#bad[@]} == 0)) || die "$s server fails the preflight for: ${bad[*]} (restrict TESTS=... to skip commands)"
done

# Fill the whole keyspace redis-benchmark uses (key:%012d) so GET always hits.
for s in redis fdb; do
  out=$("$PYTHON" "$BENCH_DIR/_gen_load.py" --count "$KEYSPACE" --start 0 --key-format 'key:%012d' \
    --value-size "$DATA_SIZE" | timeout 120 redis-cli -h 127.0.0.1 -p "$(port_of $s)" --pipe 2>&1) || true
  [[ $out == *"errors: 0, replies: $KEYSPACE"* ]] || die "prefill of $s failed: $out"
done
log "prefilled $KEYSPACE keys on each server"

server_gone() {   # server_gone SERVER WHEN
  echo "---- last lines of the $1 server log:" >&2
  tail -n 30 "$WORK/$1/server.log" >&2
  die "$1 server (pid $(spid_of "$1")) is gone ($2)"
}

# run_one SERVER TEST PIPELINE REQUESTS OUTCSV -> sets RUN_RC RUN_TICKS RUN_WALL
run_one() {
  local s=$1 t=$2 p=$3 n=$4 out=$5 spid c0 c1 t0 t1 targs rnd=$KEYSPACE
  case $t in
    xadd) targs=(XADD bench:stream MAXLEN '~' 100000 '*' f1 v1 f2 v2 f3 v3) ;;
    xrange_10) targs=(XRANGE bench:stream:r 500 + COUNT 10) ;;
    xreadgroup) targs=(XREADGROUP GROUP g c COUNT 1 STREAMS bench:cg '>'); cg_prepare "$s" "$t" ;;
    xack) targs=(XACK bench:cg g __rand_int__-0); rnd=$CG_ACK_IDS; cg_prepare "$s" "$t" ;;
    lrange_100) targs=(LRANGE bench:list 0 99) ;;
    zrangebyscore_limit) targs=(ZRANGEBYSCORE bench:zset 100 +inf LIMIT 0 10) ;;
    setbit) targs=(SETBIT bench:bitmap 800000 1) ;;           # a 100 KB bitmap
    bitfield) targs=(BITFIELD bench:bitmap INCRBY u16 400000 1) ;;
    pfadd) targs=(PFADD bench:hll __rand_int__) ;;              # sparse, then dense
    geoadd) targs=(GEOADD bench:geo 13.__rand_int__ 38.__rand_int__ m:__rand_int__) ;;
    bitcount) targs=(BITCOUNT bench:bits) ;;                         # 1000 bytes
    pfcount) targs=(PFCOUNT bench:hll:ro) ;;                         # cached estimate
    geosearch) targs=(GEOSEARCH bench:geo:ro FROMLONLAT 13.5 38.5 BYRADIUS 10 km COUNT 10 ASC) ;;
    *) targs=(-t "$t") ;;
  esac
  spid=$(spid_of "$s")
  c0=$(bench_cpu_ticks "$spid" 2>/dev/null) || server_gone "$s" "before $t P$p"
  t0=$(date +%s%N)
  RUN_RC=0
  timeout "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$(port_of "$s")" -c "$CLIENTS" -n "$n" \
    -d "$DATA_SIZE" -r "$rnd" -P "$p" --csv "${targs[@]}" >"$out" 2>"$out.err" || RUN_RC=$?
  t1=$(date +%s%N)
  c1=$(bench_cpu_ticks "$spid" 2>/dev/null) || server_gone "$s" "during $t P$p"
  RUN_TICKS=$((c1 - c0))
  RUN_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
}

if ((WARMUP_REQUESTS > 0)); then
  log "warm-up: $WARMUP_REQUESTS requests of each test at pipeline 1"
  for s in redis fdb; do
    for t in ${TESTS//,/ }; do run_one $s "$t" 1 "$WARMUP_REQUESTS" "$WORK/runs/warmup.csv"; done
  done
fi

RAW=$WORK/raw.tsv
printf 'round\tserver\ttest\tpipeline\trequests\trc\tcpu_ticks\twall_s\tcsv\n' >"$RAW"
START=$SECONDS
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
pair=0
# Rows per round: when even, the pair counter alone would give every round the same order, so
# the round number is added; when odd (e.g. one row), the pair counter already flips each round.
read -ra _t <<<"${TESTS//,/ }"; read -ra _p <<<"$PIPELINES"
ROUND_SHIFT=$(( (${#_t[@]} * ${#_p[@]}) % 2 == 0 ? 1 : 0 ))
for ((r = 1; r <= ROUNDS; r++)); do
  for p in $PIPELINES; do
    for t in ${TESTS//,/ }; do
      n=$(requests_for "$t" "$p")
      # Alternate which server goes first, pair by pair and round by round.
      if (((pair + ROUND_SHIFT * r) % 2)); then order=(fdb redis); else order=(redis fdb); fi
      pair=$((pair + 1))
      msg=""
      for s in "${order[@]}"; do
        csvf="$WORK/runs/r${r}_${s}_${t}_P${p}.csv"
        run_one "$s" "$t" "$p" "$n" "$csvf"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$s" "$t" "$p" "$n" "$RUN_RC" "$RUN_TICKS" "$RUN_WALL" "$csvf" >>"$RAW"
        read -r rps _ <<<"$("$PYTHON" "$BENCH_DIR/_stats.py" csvline "$csvf")" || true
        if [[ $RUN_RC != 0 || -z ${rps:-} ]]; then
          rps="FAILED(rc=$RUN_RC)"
          echo "  $s $t P$p stderr: $(tail -c 300 "$csvf.err" | tr '\n' ' ')" >&2
        fi
        msg+=$(printf '  %-5s %9s rps %6ss' "$s" "$rps" "$RUN_WALL")
        rps=""
      done
      log "round $r/$ROUNDS  P$p  $(printf '%-4s' "${t^^}")$msg"
    done
  done
done
ELAPSED=$((SECONDS - START))
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

[[ -n ${RAW_OUT:-} ]] && cp "$RAW" "$RAW_OUT"

quote_args() { local out; printf -v out '%q ' "$@"; echo "${out% }"; }
persist_note=()
if [[ $MODE != memory ]]; then
  rw="off (--auto-aof-rewrite-percentage 0)"
  [[ $REDIS_AOF_REWRITE == on ]] && rw="on (Redis defaults)"
  fsyncs=$(bench_info_field "$FDB_PORT" fdb_fsyncs)
  persist_note=("persistence: REDIS_AOF_REWRITE=$rw, redis aof_rewrites=$(bench_info_field "$REDIS_PORT" aof_rewrites); data dirs after the runs: redis $(($(bench_du_kb "$WORK/redis") / 1024)) MiB, fdb $(($(bench_du_kb "$WORK/fdb") / 1024)) MiB; fdb_fsyncs=${fsyncs:-n/a}")
fi
observe_note=()
if [[ ${OBSERVE:-0} == 1 ]]; then
  bench_stop_pid "$OBSERVE_PID"
  observe_note=("observed (--observe): $(tr '\n' ';' <"$WORK/observe.log")")
fi
redis_ver=$(redis-server --version | grep -o 'v=[^ ]*' | cut -d= -f2)
notes=(
  "mode=$MODE$([[ $MODE != memory ]] && echo "  REDIS_AOF_REWRITE=$REDIS_AOF_REWRITE")  rounds=$ROUNDS  clients=$CLIENTS  value=${DATA_SIZE}B  keyspace=$KEYSPACE (prefilled)  fdb --threads $FDB_THREADS"
  "redis-server $redis_ver flags: $(quote_args "${REDIS_BASE[@]}" "${REDIS_EXTRA[@]}" "${REDIS_USER_ARGS[@]}")"
  "fdb-server: $(quote_args "$FDB_SERVER_BIN" --threads "$FDB_THREADS" "${FDB_EXTRA[@]}" "${OBSERVE_ARGS[@]}" "${FDB_USER_ARGS[@]}")"
  "${persist_note[@]}"
  "${observe_note[@]}"
  "host: $(nproc) cpus, loadavg $LOAD_START at start, $LOAD_END at end; measured runs took ${ELAPSED}s"
  "rps/latency: medians over rounds of redis-benchmark --csv; ratio range: min-max of per-round fdb/redis rps"
  "cpu: server utime+stime (/proc/PID/stat, ${CLK_TCK} ticks/s) during the run / requests (an MSET request sets 10 keys)"
)
note_args=()
for n in "${notes[@]}"; do note_args+=(--note "$n"); done
echo
"$PYTHON" "$BENCH_DIR/_stats.py" summarize "$RAW" --clk-tck "$CLK_TCK" --rounds "$ROUNDS" \
  --title "FDB vs Redis: redis-benchmark, $(date -u +%Y-%m-%dT%H:%MZ)" "${note_args[@]}" \
  ${RESULTS_MD:+--md "$RESULTS_MD"}
[[ -n ${RESULTS_MD:-} ]] && log "wrote $RESULTS_MD"
exit 0
