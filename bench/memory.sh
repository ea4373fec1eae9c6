#!/usr/bin/env bash
# Memory per key: FDB vs Redis.
#
#   bench/memory.sh
#
# Starts Debian's redis-server (--save "" --appendonly no) and fdb-server (--threads 2) on free
# 127.0.0.1 ports with their own temp dirs, loads KEYS distinct keys (key:0000000001 ...) with
# VALUE_SIZE-byte pseudo-random values into each through `redis-cli --pipe` (one server at a
# time), and reports VmRSS (from /proc/PID/status) before and after, bytes per key and the
# fdb/redis ratio.
#
# Environment (all optional):
#   KEYS=1000000  VALUE_SIZE=100  FDB_SERVER_BIN=build/fdb-server  FDB_THREADS=2
#   FDB_ARGS="..."  REDIS_ARGS="..."  extra server flags
#   LOAD_TIMEOUT=300   seconds one load may take before it is killed
#   SETTLE=2           seconds to wait after a load before reading RSS
#   RESULTS_MD=FILE    also write the results as Markdown to FILE
#   KEEP_TMP=1         keep the temp dirs (server logs)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"

case "${1:-}" in
  "") ;;
  -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
  *) die "unknown argument '$1' (see --help)" ;;
esac

NKEYS=${KEYS:-1000000}
VALUE_SIZE=${VALUE_SIZE:-100}
FDB_THREADS=${FDB_THREADS:-2}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-300}
SETTLE=${SETTLE:-2}
KEY_FORMAT='key:%010d'
read -ra FDB_USER_ARGS <<<"${FDB_ARGS:-}"
read -ra REDIS_USER_ARGS <<<"${REDIS_ARGS:-}"

bench_require redis-server redis-cli ss timeout "$PYTHON"
[[ -x $FDB_SERVER_BIN ]] || die "fdb-server not found or not executable: $FDB_SERVER_BIN (build it, or set FDB_SERVER_BIN)"
bench_set_mode memory
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

bench_mktemp WORK fdb-memory
mkdir -p "$WORK/redis" "$WORK/fdb"

port=$(bench_free_port)
bench_start REDIS "$port" "$WORK/redis" "$REDIS_SERVER_BIN" --port "$port" "${REDIS_BASE[@]}" \
  --dir "$WORK/redis" "${REDIS_EXTRA[@]}" "${REDIS_USER_ARGS[@]}"
port=$(bench_free_port)
bench_start FDB "$port" "$WORK/fdb" "$FDB_SERVER_BIN" --port "$port" --bind 127.0.0.1 \
  --dir "$WORK/fdb" --threads "$FDB_THREADS" "${FDB_EXTRA[@]}" "${FDB_USER_ARGS[@]}"
log "redis-server pid $REDIS_SPID port $REDIS_PORT; fdb-server pid $FDB_SPID port $FDB_PORT ($FDB_SERVER_BIN)"

declare -A RSS0 RSS1 HWM LOAD_S DBSIZE
sleep 1
for s in redis fdb; do
  if [[ $s == redis ]]; then spid=$REDIS_SPID port=$REDIS_PORT; else spid=$FDB_SPID port=$FDB_PORT; fi
  RSS0[$s]=$(bench_rss_kb "$spid")
  log "$s: RSS before ${RSS0[$s]} kB; loading $NKEYS keys"
  t0=$(date +%s%N)
  out=$("$PYTHON" "$BENCH_DIR/_gen_load.py" --count "$NKEYS" --start 1 --key-format "$KEY_FORMAT" \
    --value-size "$VALUE_SIZE" | timeout "$LOAD_TIMEOUT" redis-cli -h 127.0.0.1 -p "$port" --pipe 2>&1) || true
  t1=$(date +%s%N)
  if ! kill -0 "$spid" 2>/dev/null; then
    tail -n 30 "$WORK/$s/server.log" >&2
    die "$s server died during the load"
  fi
  [[ $out == *"errors: 0, replies: $NKEYS"* ]] || die "loading $s failed: $(tail -c 500 <<<"$out")"
  LOAD_S[$s]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
  # DBSIZE is a sanity check only; a server without it is still measured.
  DBSIZE[$s]=$(timeout 10 redis-cli -h 127.0.0.1 -p "$port" dbsize 2>/dev/null || true)
  [[ ${DBSIZE[$s]} =~ ^[0-9]+$ ]] || DBSIZE[$s]="?"
  if [[ ${DBSIZE[$s]} != "?" && ${DBSIZE[$s]} != "$NKEYS" ]]; then
    log "warning: $s reports DBSIZE ${DBSIZE[$s]}, expected $NKEYS"
  fi
  # Spot check: the last key must read back with the right length.
  got=$(timeout 10 redis-cli -h 127.0.0.1 -p "$port" get "$(printf "$KEY_FORMAT" "$NKEYS")" 2>&1 || true)
  ((${#got} == VALUE_SIZE)) || log "warning: $s: GET of the last key returned '${got:0:80}', expected $VALUE_SIZE bytes"
  sleep "$SETTLE"
  RSS1[$s]=$(bench_rss_kb "$spid")
  HWM[$s]=$(bench_rss_kb "$spid" VmHWM)
  log "$s: loaded in ${LOAD_S[$s]}s, RSS after ${RSS1[$s]} kB (peak ${HWM[$s]} kB)"
done

SETTLE=$SETTLE "$PYTHON" - "$NKEYS" "$VALUE_SIZE" "$KEY_FORMAT" "${RESULTS_MD:-}" \
  "${RSS0[redis]}" "${RSS1[redis]}" "${HWM[redis]}" "${LOAD_S[redis]}" "${DBSIZE[redis]}" \
  "${RSS0[fdb]}" "${RSS1[fdb]}" "${HWM[fdb]}" "${LOAD_S[fdb]}" "${DBSIZE[fdb]}" \
  "$(redis-server --version | grep -o 'v=[^ ]*' | cut -d= -f2)" "$FDB_SERVER_BIN --threads $FDB_THREADS" <<'EOF'
import os
import sys
a = sys.argv[1:]
n, vsize, kfmt, md = int(a[0]), int(a[1]), a[2], a[3]
rows = {}
for i, s in enumerate(("redis", "fdb")):
    r0, r1, hwm, load_s, dbsize = a[4 + 5 * i: 9 + 5 * i]
    r0, r1, hwm = int(r0), int(r1), int(hwm)
    rows[s] = dict(r0=r0, r1=r1, hwm=hwm, load=float(load_s), dbsize=dbsize, bpk=(r1 - r0) * 1024 / n)
ratio = rows["fdb"]["bpk"] / rows["redis"]["bpk"] if rows["redis"]["bpk"] > 0 else float("nan")
title = "FDB vs Redis: memory for %d keys (%s), %d-byte values" % (n, kfmt % 1, vsize)
notes = ["redis-server %s (--save \"\" --appendonly no); fdb-server %s" % (a[14], a[15]),
         "RSS = VmRSS from /proc/PID/status, read before the load and %ss after it; bytes/key = RSS growth / keys" % os.environ["SETTLE"],
         "raw payload per key: %d bytes of key + %d bytes of value" % (len(kfmt % 1), vsize)]
hdr = ["server", "RSS before (MiB)", "RSS after (MiB)", "peak RSS (MiB)", "DBSIZE", "load (s)", "bytes/key"]
tab = [[s, "%.1f" % (r["r0"] / 1024), "%.1f" % (r["r1"] / 1024), "%.1f" % (r["hwm"] / 1024), r["dbsize"],
        "%.1f" % r["load"], "%.1f" % r["bpk"]] for s, r in rows.items()]
w = [max(len(h), *(len(t[i]) for t in tab)) for i, h in enumerate(hdr)]
fmt = lambda cells: "  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(cells))
print()
print(title)
for x in notes:
    print(x)
print()
print(fmt(hdr))
print(fmt(["-" * x for x in w]))
for t in tab:
    print(fmt(t))
print()
print("fdb/redis bytes-per-key ratio: %.2f" % ratio)
if md:
    with open(md, "w") as f:
        f.write("## %s\n\n" % title)
        f.write("".join("- %s\n" % x for x in notes) + "\n")
        f.write("| " + " | ".join(hdr) + " |\n|:---|" + "---:|" * (len(hdr) - 1) + "\n")
        f.write("".join("| " + " | ".join(t) + " |\n" for t in tab))
        f.write("\nfdb/redis bytes-per-key ratio: **%.2f**\n" % ratio)
EOF
[[ -n ${RESULTS_MD:-} ]] && log "wrote $RESULTS_MD"
exit 0
