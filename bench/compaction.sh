#!/usr/bin/env bash
# Compaction: disk space amplification and foreground latency while segments are compacted.
#
#   bench/compaction.sh
#
# Two fdb-servers (--fsync FSYNC, own free ports and data dirs), each prefilled with KEYS keys
# (key:000000000000 ..., VALUE_SIZE-byte checkable values from _kv.py):
#   baseline: while a writer inserts BASELINE_SETS new keys (ins:...; no garbage, so compaction
#     should stay idle; checked with fdb_compactions), a light probe client measures GET latency.
#   overwrite: the writer overwrites the KEYS keys PASSES times (default 100k x 50 = 5M SETs,
#     `_kv.py gen | redis-cli --pipe`, each pass with new values), with the same probe running;
#     a sampler records every second du of the data dir and INFO fdb_live_bytes,
#     fdb_garbage_bytes, fdb_compactions, fdb_segments, and keeps sampling after the writes until
#     compaction settles (no change for 3 s, at most SETTLE_MAX s). Then every key is read back
#     and must hold the value of the last pass.
# The probe (_compaction.py probe) is one connection doing one GET of a random prefilled key at a
# time, sleeping PROBE_INTERVAL_MS between requests (~700 req/s). Before the baseline writes it
# also runs QUIET_SECONDS on the idle overwrite server ("quiet").
# Reports max disk use / live data (target <= 2x) and the probe p99 during the overwrites vs
# during the insert-only writes (target <= 2x).
#
# Environment (all optional):
#   KEYS=100000  PASSES=50  VALUE_SIZE=100  FSYNC=everysec  BASELINE_SETS=2000000
#   PROBE_INTERVAL_MS=1  QUIET_SECONDS=5  SAMPLE_INTERVAL=1  SETTLE_MAX=30  WRITE_TIMEOUT=300
#   FDB_SERVER_BIN=build/fdb-server  FDB_THREADS=2  FDB_ARGS="..."
#   ALLOW_NO_ENGINE=1   run even if INFO lacks the fdb_* fields (live data = keys x (key+value))
#   RESULTS_MD=FILE     also write the table as Markdown   KEEP_TMP=1 keep temp dirs
#   SAMPLES_OUT=FILE    keep the per-second samples of the overwrite run (JSON lines)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"

case "${1:-}" in
  "") ;;
  -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
  *) die "unknown argument '$1' (see --help)" ;;
esac
NKEYS=${KEYS:-100000}
PASSES=${PASSES:-50}
VALUE_SIZE=${VALUE_SIZE:-100}
FSYNC=${FSYNC:-everysec}
BASELINE_SETS=${BASELINE_SETS:-2000000}
PROBE_INTERVAL_MS=${PROBE_INTERVAL_MS:-1}
QUIET_SECONDS=${QUIET_SECONDS:-5}
SAMPLE_INTERVAL=${SAMPLE_INTERVAL:-1}
SETTLE_MAX=${SETTLE_MAX:-30}
WRITE_TIMEOUT=${WRITE_TIMEOUT:-300}
FDB_THREADS=${FDB_THREADS:-2}
read -ra FDB_USER_ARGS <<<"${FDB_ARGS:-}"
KEY_LEN=16

bench_require redis-cli ss timeout du "$PYTHON"
[[ -x $FDB_SERVER_BIN ]] || die "fdb-server not found or not executable: $FDB_SERVER_BIN (build it, or set FDB_SERVER_BIN)"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bench_mktemp WORK fdb-compaction
mkdir -p "$WORK/base/data" "$WORK/ow/data"

start_fdb() {   # start_fdb VAR NAME
  local port
  port=$(bench_free_port)
  bench_start "$1" "$port" "$WORK/$2" "$FDB_SERVER_BIN" --port "$port" --bind 127.0.0.1 --dir "$WORK/$2/data" \
    --threads "$FDB_THREADS" --fsync "$FSYNC" "${FDB_USER_ARGS[@]}"
}
start_fdb OW ow
HAVE_INFO=1
bench_require_info "$OW_PORT" "compaction" fdb_live_bytes fdb_garbage_bytes fdb_compactions fdb_segments || HAVE_INFO=0
start_fdb BASE base
log "overwrite fdb pid $OW_SPID port $OW_PORT; baseline fdb pid $BASE_SPID port $BASE_PORT"

for s in OW BASE; do
  port_var=${s}_PORT
  bench_load "${!port_var}" "$WRITE_TIMEOUT" "$NKEYS" --count "$NKEYS" --value-size "$VALUE_SIZE"
  log "$s: prefilled $NKEYS keys in ${LOAD_SECONDS}s"
done

probe_start() {   # probe_start PORT TAG -> PROBE_PID; stop with: touch $WORK/TAG.stop
  rm -f "$WORK/$2.stop"
  "$PYTHON" "$BENCH_DIR/_compaction.py" probe --port "$1" --keys "$NKEYS" --stop-file "$WORK/$2.stop" \
    --interval-ms "$PROBE_INTERVAL_MS" --max-seconds $((WRITE_TIMEOUT + 60)) >"$WORK/$2.probe" 2>"$WORK/$2.probe.err" &
  PROBE_PID=$!
}
probe_stop() {   # probe_stop TAG -> PROBE (the probe's JSON); not in $(...): it must wait for its child
  touch "$WORK/$1.stop"
  wait "$PROBE_PID" || true
  [[ -s $WORK/$1.probe ]] || die "probe '$1' failed: $(tail -c 300 "$WORK/$1.probe.err")"
  PROBE=$(cat "$WORK/$1.probe")
}
sampler_start() {   # sampler_start PORT SPID NAME TAG -> SAMPLER_PID
  rm -f "$WORK/$4.sstop"
  "$PYTHON" "$BENCH_DIR/_compaction.py" sample --port "$1" --pid "$2" --dir "$WORK/$3/data" \
    --stop-file "$WORK/$4.sstop" --out "$WORK/$4.samples" --interval "$SAMPLE_INTERVAL" 2>"$WORK/$4.samples.err" &
  SAMPLER_PID=$!
}
sampler_stop() { touch "$WORK/$1.sstop"; wait "$SAMPLER_PID" || true; }
alive() { kill -0 "$1" 2>/dev/null || { tail -n 20 "$WORK/$2/server.log" >&2; die "fdb-server ($2) died $3"; }; }
field() { "$PYTHON" -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"; }

# ---- quiet probe (no writes) ----------------------------------------------------------------------
probe_start "$OW_PORT" quiet
sleep "$QUIET_SECONDS"
probe_stop quiet; QUIET=$PROBE
log "quiet probe: $QUIET"

# ---- baseline: insert-only writes, compaction idle --------------------------------------------------
sampler_start "$BASE_PORT" "$BASE_SPID" base base
probe_start "$BASE_PORT" base
sleep 0.5
bench_load "$BASE_PORT" "$WRITE_TIMEOUT" "$BASELINE_SETS" --count "$BASELINE_SETS" --prefix ins: --value-size "$VALUE_SIZE"
BASE_WRITE_S=$LOAD_SECONDS
probe_stop base; BASE_PROBE=$PROBE
sampler_stop base
alive "$BASE_SPID" base "during the baseline writes"
BASE_SUM=$("$PYTHON" "$BENCH_DIR/_compaction.py" summarize "$WORK/base.samples")
log "baseline: $BASELINE_SETS inserts in ${BASE_WRITE_S}s; probe $BASE_PROBE"
bench_stop_pid "$BASE_PID"

# ---- overwrite: PASSES x KEYS SETs, compaction expected ------------------------------------------
TOTAL_SETS=$((NKEYS * PASSES))
sampler_start "$OW_PORT" "$OW_SPID" ow ow
probe_start "$OW_PORT" ow
sleep 0.5
T_W0=$(date +%s.%N)
log "overwrite: $PASSES passes over $NKEYS keys ($TOTAL_SETS SETs)"
bench_load "$OW_PORT" "$WRITE_TIMEOUT" "$TOTAL_SETS" --count "$NKEYS" --passes "$PASSES" --first-pass 1 --value-size "$VALUE_SIZE"
OW_WRITE_S=$LOAD_SECONDS
T_W1=$(date +%s.%N)
probe_stop ow; OW_PROBE=$PROBE
log "overwrite: done in ${OW_WRITE_S}s; probe $OW_PROBE"
alive "$OW_SPID" ow "during the overwrites"
# Keep sampling until compaction settles: fdb_compactions / fdb_garbage_bytes / du unchanged 3 s.
t_settle=$SECONDS
prev="" same=0
while ((SECONDS - t_settle < SETTLE_MAX)); do
  sleep 1
  cur=$(tail -n1 "$WORK/ow.samples" | "$PYTHON" -c 'import json,sys; r=json.loads(sys.stdin.read()); print(r.get("fdb_compactions"), r.get("fdb_garbage_bytes"), r["disk"])')
  if [[ $cur == "$prev" ]]; then same=$((same + 1)); else same=0; fi
  prev=$cur
  ((same >= 3)) && break
done
SETTLE_S=$((SECONDS - t_settle))
sampler_stop ow
alive "$OW_SPID" ow "after the overwrites"
OW_SUM=$("$PYTHON" "$BENCH_DIR/_compaction.py" summarize "$WORK/ow.samples")
OW_SUM_W=$("$PYTHON" "$BENCH_DIR/_compaction.py" summarize "$WORK/ow.samples" --from "$T_W0" --to "$T_W1")
FINAL_DU=$(($(bench_du_kb "$WORK/ow/data") * 1024))
log "overwrite: settled after ${SETTLE_S}s; samples $OW_SUM"
VERIFY=$("$PYTHON" "$BENCH_DIR/_kv.py" verify --port "$OW_PORT" --count "$NKEYS" --version "$PASSES" \
  --value-size "$VALUE_SIZE" 2>&1 | tail -n1 || true)
log "overwrite: read-back of the last pass: $VERIFY"
[[ -n ${SAMPLES_OUT:-} ]] && cp "$WORK/ow.samples" "$SAMPLES_OUT"

QUIET=$QUIET BASE_PROBE=$BASE_PROBE OW_PROBE=$OW_PROBE BASE_SUM=$BASE_SUM OW_SUM=$OW_SUM OW_SUM_W=$OW_SUM_W \
VERIFY=$VERIFY "$PYTHON" - "$WORK/ow.samples" "${RESULTS_MD:-}" <<EOF
import json, os, sys
sys.path.insert(0, "$BENCH_DIR")
from _report import emit, f
samples_file, md = sys.argv[1], sys.argv[2] or None
def j(n):
    v = os.environ.get(n, "")
    try:
        return json.loads(v) if v.startswith("{") else {}
    except ValueError:
        return {}
quiet, bp, op, bs, osum, osw, ver = (j(n) for n in ("QUIET", "BASE_PROBE", "OW_PROBE", "BASE_SUM", "OW_SUM", "OW_SUM_W", "VERIFY"))
MiB = 1048576.0
nkeys, passes, vsize = $NKEYS, $PASSES, $VALUE_SIZE
logical = nkeys * ($KEY_LEN + vsize)
have_info = $HAVE_INFO == 1 and "last_fdb_live_bytes" in osum
live = osum["last_fdb_live_bytes"] if have_info else logical
live_src = "final INFO fdb_live_bytes" if have_info else "keys x (key + value) [INFO lacks fdb_live_bytes]"
maxd = osum.get("max_disk")
amp = maxd / live if maxd and live else None
comp_ow = (osum.get("last_fdb_compactions", 0) - osum.get("first_fdb_compactions", 0)) if "last_fdb_compactions" in osum else None
comp_base = (bs.get("last_fdb_compactions", 0) - bs.get("first_fdb_compactions", 0)) if "last_fdb_compactions" in bs else None
title = "Compaction: %d keys overwritten %d times (%d SETs), $(date -u +%Y-%m-%dT%H:%MZ)" % (nkeys, passes, nkeys * passes)
notes = ["fdb-server --fsync $FSYNC --threads $FDB_THREADS${FDB_ARGS:+ $FDB_ARGS}; %d-byte values, each pass new values; writer: _kv.py gen | redis-cli --pipe" % vsize,
         "probe: 1 connection, GET of a random prefilled key, one at a time, $PROBE_INTERVAL_MS ms apart; baseline: $BASELINE_SETS inserts of new keys on a second server (no garbage)",
         "disk: du-style allocated bytes of the data dir, sampled every ${SAMPLE_INTERVAL}s during the writes and until compaction settled (${SETTLE_S}s after)",
         "live data: %s = %.1f MiB; logical payload keys x (key+value) = %.1f MiB" % (live_src, live / MiB, logical / MiB),
         "host: $(nproc) cpus, loadavg $(cut -d' ' -f1-3 /proc/loadavg)"]
hdr = ["phase", "writes", "write s", "SET/s", "probe n", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "bad", "compactions", "max disk MiB"]
def row(name, sets, secs, p, comp, s):
    return [name, sets, secs, f(sets / float(secs), ".0f") if sets and secs and float(secs) > 0 else "-", p.get("n", "-"),
            f(p.get("p50_ms"), ".3f"), f(p.get("p99_ms"), ".3f"), f(p.get("p999_ms"), ".3f"), f(p.get("max_ms"), ".3f"),
            p.get("bad", "-"), f(comp, "d", "n/a"), f(s.get("max_disk", None) and s["max_disk"] / MiB, ".1f")]
tab = [row("quiet (no writes)", 0, "-", quiet, None, {}),
       row("insert-only (compaction idle)", $BASELINE_SETS, "$BASE_WRITE_S", bp, comp_base, bs),
       row("overwrite (compaction)", nkeys * passes, "$OW_WRITE_S", op, comp_ow, osum)]
foot = []
if maxd:
    foot.append("max disk / live data: %.1f MiB / %.1f MiB = %.2f (target <= 2.00: %s)" % (
        maxd / MiB, live / MiB, amp, "PASS" if amp <= 2.0 else "FAIL"))
    foot.append("max disk - live data: %.1f MiB%s" % ((maxd - live) / MiB, " (a fixed overhead, e.g. a segment's worth of garbage, weighs less with more live data: try KEYS=1000000 PASSES=5)" if live < 100 * MiB else ""))
else:
    foot.append("max disk / live data: n/a: the data dir stayed empty (nothing was written to disk)")
foot.append("after settling: disk %.1f MiB (du %.1f MiB)%s" % (osum.get("last_disk", 0) / MiB, $FINAL_DU / MiB,
    (", live %.1f MiB, garbage %.1f MiB, segments %s, compactions %s" % (osum["last_fdb_live_bytes"] / MiB, osum.get("last_fdb_garbage_bytes", 0) / MiB,
     osum.get("last_fdb_segments", "?"), osum.get("last_fdb_compactions", "?"))) if have_info else ""))
if osw.get("max_fdb_garbage_bytes") is not None:
    foot.append("during the writes: max garbage %.1f MiB, max disk %.1f MiB" % (osw["max_fdb_garbage_bytes"] / MiB, osw.get("max_disk", 0) / MiB))
if bp.get("p99_ms") and op.get("p99_ms"):
    r = op["p99_ms"] / bp["p99_ms"]
    foot.append("probe p99 during compaction / insert-only: %.3f / %.3f ms = %.2f (target <= 2.00: %s)" % (op["p99_ms"], bp["p99_ms"], r, "PASS" if r <= 2.0 else "FAIL"))
if quiet.get("p99_ms") and op.get("p99_ms"):
    foot.append("probe p99 during compaction / quiet: %.2f (for reference)" % (op["p99_ms"] / quiet["p99_ms"]))
if comp_ow == 0:
    foot.append("NOTE: fdb_compactions did not move during the overwrites: no compaction ran, the latency comparison says nothing about it")
if comp_base:
    foot.append("NOTE: %d compactions ran during the insert-only baseline: it was not idle" % comp_base)
if ver.get("ok") != nkeys:
    foot.append("FAIL: read-back after compaction: %s" % (("%d/%d keys hold the last pass's value; first bad: %s" % (ver["ok"], ver["checked"], ver["first_bad"])) if ver else "verify failed"))
else:
    foot.append("read-back after compaction: all %d keys hold the last pass's value" % nkeys)
emit(title, notes, hdr, tab, md, foot)
sys.exit(0 if ver.get("ok") == nkeys else 3)
EOF
