#!/usr/bin/env bash
# Larger-than-RAM: FDB with a memory budget of 10% of the data vs FDB holding everything in RAM.
#
#   bench/larger_than_ram.sh [--rounds N]
#
# Starts two fdb-servers (--fsync FSYNC): "budget" with --maxmemory = MAXMEMORY_PCT% of the
# value bytes (KEYS x VALUE_SIZE), and "in-RAM" without --maxmemory. Loads KEYS keys
# (key:000000000000 ...) with checkable values (_kv.py: each value names its key) into both, then
#   1. reads back EVERY key of the budget server with a pipelined Python client and verifies
#      every value (and a random sample on the in-RAM server);
#   2. reports VmRSS / VmHWM of the budget server against budget + index estimate
#      (KEYS x (key bytes + INDEX_OVERHEAD)), and against budget + the index measured on a third
#      server loaded with the same keys and 1-byte values (+ the process's RSS before the load),
#      with the in-RAM server's RSS beside it;
#   3. benchmarks reads of the hot HOT_PCT% of the keys (keys 0..HOT-1, read with
#      `redis-benchmark -r HOT GET key:__rand_int__`, 50 clients, pipeline 16 and 1) on both
#      servers, alternating, for ROUNDS rounds, after a verified warm-up pass over the hot keys;
#      reports medians and the in-RAM/budget throughput ratio (target: within 1.5x).
#
# Environment (all optional):
#   KEYS=2000000  VALUE_SIZE=100  MAXMEMORY_PCT=10  HOT_PCT=5  ROUNDS=3  FSYNC=everysec
#   LTR_MAXMEMORY=BYTES    override the budget (0 = pass no --maxmemory: only for dry runs)
#   INDEX_OVERHEAD=48      estimated index bytes per key on top of the key itself
#   PIPELINES="16 1"  CLIENTS=50  REQUESTS_P16=1000000  REQUESTS_P1=200000
#   LOAD_TIMEOUT=600  VERIFY_TIMEOUT=600  RUN_TIMEOUT=120
#   FDB_SERVER_BIN=build/fdb-server  FDB_THREADS=2  FDB_ARGS="..." (both servers)
#   ALLOW_NO_ENGINE=1      show n/a where INFO lacks the # Cache fields instead of failing
#   RESULTS_MD=FILE        also write the table as Markdown   KEEP_TMP=1 keep temp dirs
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"

ROUNDS=${ROUNDS:-3}
while (($#)); do
  case "$1" in
    --rounds) ROUNDS=${2:?--rounds needs a value}; shift 2 ;;
    --rounds=*) ROUNDS=${1#*=}; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
NKEYS=${KEYS:-2000000}
VALUE_SIZE=${VALUE_SIZE:-100}
MAXMEMORY_PCT=${MAXMEMORY_PCT:-10}
HOT_PCT=${HOT_PCT:-5}
FSYNC=${FSYNC:-everysec}
INDEX_OVERHEAD=${INDEX_OVERHEAD:-48}
PIPELINES=${PIPELINES:-16 1}
CLIENTS=${CLIENTS:-50}
REQUESTS_P16=${REQUESTS_P16:-1000000}
REQUESTS_P1=${REQUESTS_P1:-200000}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-600}
VERIFY_TIMEOUT=${VERIFY_TIMEOUT:-600}
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
FDB_THREADS=${FDB_THREADS:-2}
read -ra FDB_USER_ARGS <<<"${FDB_ARGS:-}"

DATA_BYTES=$((NKEYS * VALUE_SIZE))
BUDGET=${LTR_MAXMEMORY:-$((DATA_BYTES * MAXMEMORY_PCT / 100))}
HOT=$((NKEYS * HOT_PCT / 100))
((HOT > 0)) || die "HOT_PCT% of KEYS is no key"
KEY_LEN=16   # "key:" + 12 digits

bench_require redis-server redis-cli redis-benchmark ss timeout "$PYTHON"
[[ -x $FDB_SERVER_BIN ]] || die "fdb-server not found or not executable: $FDB_SERVER_BIN (build it, or set FDB_SERVER_BIN)"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bench_mktemp WORK fdb-ltr
mkdir -p "$WORK/budget/data" "$WORK/ram/data" "$WORK/index/data" "$WORK/runs"

budget_flag=()
((BUDGET > 0)) && budget_flag=(--maxmemory "$BUDGET")
port=$(bench_free_port)
bench_start BUD "$port" "$WORK/budget" "$FDB_SERVER_BIN" --port "$port" --bind 127.0.0.1 --dir "$WORK/budget/data" \
  --threads "$FDB_THREADS" --fsync "$FSYNC" "${budget_flag[@]}" "${FDB_USER_ARGS[@]}"
port=$(bench_free_port)
bench_start RAM "$port" "$WORK/ram" "$FDB_SERVER_BIN" --port "$port" --bind 127.0.0.1 --dir "$WORK/ram/data" \
  --threads "$FDB_THREADS" --fsync "$FSYNC" "${FDB_USER_ARGS[@]}"
# A third server gets the same keys with 1-byte values and no budget: an entry with a 1-byte
# value is as large as an evicted entry (header + key, one 64-byte malloc chunk), so its RSS
# growth is the index (entries, hash tables, allocator overhead) measured rather than estimated,
# without the churn of eviction.
port=$(bench_free_port)
bench_start IDX "$port" "$WORK/index" "$FDB_SERVER_BIN" --port "$port" --bind 127.0.0.1 --dir "$WORK/index/data" \
  --threads "$FDB_THREADS" --fsync "$FSYNC" "${FDB_USER_ARGS[@]}"
log "budget fdb pid $BUD_SPID port $BUD_PORT (--maxmemory $BUDGET); in-RAM fdb pid $RAM_SPID port $RAM_PORT; index-only fdb pid $IDX_SPID port $IDX_PORT"
((BUDGET > 0)) || log "warning: LTR_MAXMEMORY=0: the budget server has no --maxmemory (dry run)"

HAVE_CACHE=1
bench_require_info "$BUD_PORT" "larger_than_ram" cache_entries cache_bytes cache_hits cache_misses cache_evictions || HAVE_CACHE=0

port_of() { case $1 in budget) echo "$BUD_PORT" ;; index) echo "$IDX_PORT" ;; *) echo "$RAM_PORT" ;; esac; }
spid_of() { case $1 in budget) echo "$BUD_SPID" ;; index) echo "$IDX_SPID" ;; *) echo "$RAM_SPID" ;; esac; }
alive() { kill -0 "$(spid_of "$1")" 2>/dev/null || { tail -n 20 "$WORK/$1/server.log" >&2; die "$1 fdb-server died ($2)"; }; }
cache_json() {   # cache_json SERVER -> {"cache_hits": ..., ...} of the # Cache section (or {})
  "$PYTHON" - "$(port_of "$1")" <<EOF
import json, sys
sys.path.insert(0, "$BENCH_DIR")
import _resp
c = _resp.Client(int(sys.argv[1]))
i = _resp.info_flat(c)
keys = ("cache_entries", "cache_bytes", "cache_hits", "cache_misses", "cache_evictions", "keyspace_hits",
        "keyspace_misses", "used_memory", "fdb_segments", "fdb_live_bytes")
print(json.dumps({k: int(i[k]) for k in keys if k in i and i[k].lstrip("-").isdigit()}))
EOF
}

declare -A LOAD_S RSS_LOAD RSS_BASE
for s in budget ram index; do
  RSS_BASE[$s]=$(bench_rss_kb "$(spid_of $s)")
  log "$s: loading $NKEYS keys"
  if [[ $s == index ]]; then
    t0=$(bench_ns)
    out=$("$PYTHON" "$BENCH_DIR/_gen_load.py" --count "$NKEYS" --start 0 --key-format 'key:%012d' \
      --value-size 1 | timeout "$LOAD_TIMEOUT" redis-cli -h 127.0.0.1 -p "$IDX_PORT" --pipe 2>&1) || true
    LOAD_SECONDS=$(bench_secs_since "$t0")
    [[ $out == *"errors: 0, replies: $NKEYS"* ]] || die "index load failed: $(tail -c 300 <<<"$out")"
  else
    bench_load "$(port_of $s)" "$LOAD_TIMEOUT" "$NKEYS" --count "$NKEYS" --value-size "$VALUE_SIZE"
  fi
  alive $s "after the load"
  LOAD_S[$s]=$LOAD_SECONDS
  sleep 2
  RSS_LOAD[$s]=$(bench_rss_kb "$(spid_of $s)")
  log "$s: loaded in ${LOAD_SECONDS}s, RSS $((RSS_LOAD[$s] / 1024)) MiB"
done
DISK_BUD=$(bench_du_kb "$WORK/budget/data")
kill "$IDX_SPID" 2>/dev/null || true   # measured; its CPU must not disturb the read benchmark

log "budget: reading back and verifying all $NKEYS keys"
VERIFY_ALL=$(timeout "$VERIFY_TIMEOUT" "$PYTHON" "$BENCH_DIR/_kv.py" verify --port "$BUD_PORT" --count "$NKEYS" \
  --value-size "$VALUE_SIZE" 2>&1 | tail -n1 || true)
log "budget full pass: $VERIFY_ALL"
alive budget "during the full read-back"
VERIFY_RAM=$(timeout "$VERIFY_TIMEOUT" "$PYTHON" "$BENCH_DIR/_kv.py" verify --port "$RAM_PORT" --count "$NKEYS" \
  --sample 100000 --value-size "$VALUE_SIZE" 2>&1 | tail -n1 || true)
log "in-RAM sample: $VERIFY_RAM"
RSS_VERIFY=$(bench_rss_kb "$BUD_SPID")
CACHE_AFTER_VERIFY=$(cache_json budget)

for s in budget ram; do   # warm-up: two verified passes over the hot keys
  for w in 1 2; do
    out=$(timeout "$VERIFY_TIMEOUT" "$PYTHON" "$BENCH_DIR/_kv.py" verify --port "$(port_of $s)" --count "$HOT" \
      --value-size "$VALUE_SIZE" 2>&1 | tail -n1 || true)
  done
  log "$s: hot-set warm-up ($HOT keys): $out"
  [[ $out == *'"wrong": 0'* && $out == *'"missing": 0'* && $out == *'"errors": 0'* ]] || die "$s: hot keys do not read back: $out"
done

RAW=$WORK/raw.tsv
printf 'round\tserver\tpipeline\trequests\trc\tcsv\n' >"$RAW"
C0_BUD=$(cache_json budget); C0_RAM=$(cache_json ram)
START=$SECONDS
pair=0
read -ra _p <<<"$PIPELINES"
ROUND_SHIFT=$(( ${#_p[@]} % 2 == 0 ? 1 : 0 ))   # see compare.sh: keeps the order flipping per round
for ((r = 1; r <= ROUNDS; r++)); do
  for p in $PIPELINES; do
    if ((p == 1)); then n=$REQUESTS_P1; else n=$REQUESTS_P16; fi
    if (((pair + ROUND_SHIFT * r) % 2)); then order=(budget ram); else order=(ram budget); fi
    pair=$((pair + 1))
    msg=""
    for s in "${order[@]}"; do
      csvf=$WORK/runs/r${r}_${s}_P$p.csv
      rc=0
      timeout "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "$(port_of $s)" -c "$CLIENTS" -n "$n" -P "$p" \
        -r "$HOT" --csv GET 'key:__rand_int__' >"$csvf" 2>"$csvf.err" || rc=$?
      alive $s "during the read benchmark"
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$s" "$p" "$n" "$rc" "$csvf" >>"$RAW"
      read -r rps _ <<<"$("$PYTHON" "$BENCH_DIR/_stats.py" csvline "$csvf")" || rps="FAILED(rc=$rc)"
      msg+=$(printf '  %-6s %9s rps' "$s" "${rps:-FAILED(rc=$rc)}")
    done
    log "round $r/$ROUNDS  P$p$msg"
  done
done
ELAPSED=$((SECONDS - START))
C1_BUD=$(cache_json budget); C1_RAM=$(cache_json ram)
RSS_END=$(bench_rss_kb "$BUD_SPID"); HWM_BUD=$(bench_rss_kb "$BUD_SPID" VmHWM)
RSS_RAM=$(bench_rss_kb "$RAM_SPID"); HWM_RAM=$(bench_rss_kb "$RAM_SPID" VmHWM)

VERIFY_ALL=$VERIFY_ALL VERIFY_RAM=$VERIFY_RAM CACHE_AFTER_VERIFY=$CACHE_AFTER_VERIFY C0_BUD=$C0_BUD C1_BUD=$C1_BUD \
C0_RAM=$C0_RAM C1_RAM=$C1_RAM "$PYTHON" - "$RAW" "${RESULTS_MD:-}" <<EOF
import json, os, sys
sys.path.insert(0, "$BENCH_DIR")
from _report import emit, median, f
from _stats import read_bench_csv
raw, md = sys.argv[1], sys.argv[2] or None
runs = [l.rstrip("\n").split("\t") for l in open(raw)][1:]
MiB = 1024.0
nkeys, vsize, budget, hot = $NKEYS, $VALUE_SIZE, $BUDGET, $HOT
index_est = nkeys * ($KEY_LEN + $INDEX_OVERHEAD)
def j(name):
    v = os.environ.get(name, "")
    try:
        return json.loads(v) if v.startswith("{") else {}
    except ValueError:
        return {}
va, vr, cav = j("VERIFY_ALL"), j("VERIFY_RAM"), j("CACHE_AFTER_VERIFY")
c0b, c1b, c0r, c1r = j("C0_BUD"), j("C1_BUD"), j("C0_RAM"), j("C1_RAM")
def delta(a, b, k):
    return b[k] - a[k] if k in a and k in b else None
res = {}
for rnd, s, p, n, rc, csvf in runs:
    x = read_bench_csv(csvf) if rc == "0" else None
    res.setdefault((int(p), s), []).append(x)
title = "Larger than RAM: fdb with --maxmemory %s vs all in RAM, $(date -u +%Y-%m-%dT%H:%MZ)" % (
    ("%.0f MiB" % (budget / MiB / MiB)) if budget else "unset (dry run)")
notes = ["%d keys (key:%%012d), %d-byte values = %.0f MiB of values; %s; fdb --fsync $FSYNC --threads $FDB_THREADS${FDB_ARGS:+ $FDB_ARGS}" % (
             nkeys, vsize, nkeys * vsize / MiB / MiB, ("budget --maxmemory %d B (%.1f%% of that)" % (budget, 100.0 * budget / (nkeys * vsize))) if budget else "no budget (LTR_MAXMEMORY=0 dry run)"),
         "hot set: keys 0..%d (%s%%), redis-benchmark -c $CLIENTS -r %d GET key:__rand_int__ after two verified warm-up passes; $ROUNDS rounds, servers alternating, medians" % (hot - 1, "$HOT_PCT", hot),
         "index estimate: keys x (%d B key + $INDEX_OVERHEAD B overhead) = %.0f MiB (INDEX_OVERHEAD)" % ($KEY_LEN, index_est / MiB / MiB),
         "host: $(nproc) cpus, loadavg $(cut -d' ' -f1-3 /proc/loadavg); read benchmark took ${ELAPSED}s"]

hdr = ["measure", "budget fdb", "in-RAM fdb", "note"]
tab = []
tab.append(["load time (s)", "${LOAD_S[budget]}", "${LOAD_S[ram]}", "redis-cli --pipe"])
tab.append(["RSS after load (MiB)", "%.0f" % (${RSS_LOAD[budget]} / MiB), "%.0f" % (${RSS_LOAD[ram]} / MiB), ""])
tab.append(["RSS after full read-back (MiB)", "%.0f" % ($RSS_VERIFY / MiB), "-", "every key read once"])
tab.append(["RSS at end / peak (MiB)", "%.0f / %.0f" % ($RSS_END / MiB, $HWM_BUD / MiB), "%.0f / %.0f" % ($RSS_RAM / MiB, $HWM_RAM / MiB), ""])
lim = (budget + index_est) / MiB / MiB
tab.append(["budget + index estimate (MiB)", "%.0f" % lim if budget else "-", "-", "peak RSS / this = %s" % (f($HWM_BUD / MiB / lim, ".2f") if budget else "-")])
# The index measured: RSS growth of the server that keeps no value in RAM, over the same load.
index_kb = ${RSS_LOAD[index]} - ${RSS_BASE[index]}
base_kb = ${RSS_BASE[budget]}
lim_m = (budget / 1024.0 + index_kb + base_kb) / MiB
tab.append(["index measured (MiB)", "%.0f" % (index_kb / MiB), "-", "RSS growth of an fdb loaded with the same keys and 1-byte values (%.1f B/key)" % (index_kb * 1024.0 / nkeys)])
tab.append(["budget + index + process baseline (MiB)", "%.0f" % lim_m if budget else "-", "-",
            "RSS after load / this = %s; at end = %s" % (f(${RSS_LOAD[budget]} / MiB / lim_m, ".2f"), f($RSS_END / MiB / lim_m, ".2f")) if budget else "-"])
tab.append(["data dir on disk (MiB)", "%.0f" % ($DISK_BUD / MiB), "-", "du"])
def vcell(v):
    if not v:
        return "FAILED"
    return "%d/%d ok" % (v["ok"], v["checked"]) + ("" if v["ok"] == v["checked"] else " (missing %d, wrong %d, errors %d; first: %s)" % (v["missing"], v["wrong"], v["errors"], v["first_bad"]))
tab.append(["values verified", vcell(va), vcell(vr) + " (sample)", ""])
tab.append(["full read-back rate (keys/s)", f(va.get("keys_per_s"), ".0f"), "-", "pipelined GET, batches of 1000, %.1fs" % va.get("seconds", 0)])
if "cache_hits" in cav:
    tab.append(["cache after read-back", "%d entries, %.0f MiB, %d evictions" % (cav["cache_entries"], cav["cache_bytes"] / MiB / MiB, cav["cache_evictions"]), "-", ""])
ch, cm = delta(c0b, c1b, "cache_hits"), delta(c0b, c1b, "cache_misses")
tab.append(["cache hit rate in hot reads", ("%.1f%%" % (100.0 * ch / (ch + cm))) if ch is not None and (ch + cm) else "n/a", "-", "from INFO # Cache" if ch is not None else "INFO has no cache_hits/cache_misses"])
km_b, km_r = delta(c0b, c1b, "keyspace_misses"), delta(c0r, c1r, "keyspace_misses")
tab.append(["keyspace misses in hot reads", f(km_b, "d"), f(km_r, "d"), "must be 0"])
foot = []
verdicts = []
for p in sorted({k[0] for k in res}, reverse=True):
    b = [x for x in res.get((p, "budget"), []) if x]
    r = [x for x in res.get((p, "ram"), []) if x]
    mb, mr = median([x[0] for x in b]), median([x[0] for x in r])
    tab.append(["hot GET P%d rps (median)" % p, f(mb, ".0f"), f(mr, ".0f"), "%d/%d ok runs" % (min(len(b), len(r)), $ROUNDS)])
    tab.append(["hot GET P%d p50 / p99 ms" % p, "%s / %s" % (f(median([x[1] for x in b]), ".3f"), f(median([x[2] for x in b]), ".3f")),
                "%s / %s" % (f(median([x[1] for x in r]), ".3f"), f(median([x[2] for x in r]), ".3f")), ""])
    if mb and mr:
        slow = mr / mb
        verdicts.append("hot GET P%d: in-RAM / budget throughput = %.2f (target <= 1.50: %s)" % (p, slow, "PASS" if slow <= 1.5 else "FAIL"))
foot += verdicts
if not va or va.get("ok") != nkeys:
    foot.append("FAIL: the full read-back of the budget server did not return every value intact")
emit(title, notes, hdr, tab, md, foot)
sys.exit(0 if va and va.get("ok") == nkeys else 3)
EOF
