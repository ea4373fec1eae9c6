#!/usr/bin/env bash
# Restart time: FDB (checkpoint, and log replay only) vs Redis (AOF replay).
#
#   bench/restart.sh [--rounds N]
#
# Loads KEYS keys (key:000000000000 ...) with VALUE_SIZE-byte checkable values (_kv.py) into
#   - redis-server --appendonly yes --appendfsync everysec --save "" (AOF only; the AOF rewrite
#     is off unless REDIS_AOF_REWRITE=on), stopped with SHUTDOWN NOSAVE (which still flushes and
#     fsyncs the AOF; the script checks the AOF is there and holds the data);
#   - fdb-server --fsync everysec, then SAVE (checkpoint), then SHUTDOWN (SIGTERM if that fails);
#   - a second fdb-server --fsync everysec without SAVE, killed with SIGKILL FSYNC_WAIT seconds
#     after the load (NOSAVE_STOP=term: SIGTERM instead), so its restart can only replay the log.
# Each stopped data dir is kept as a template. Then for ROUNDS rounds (order rotated per round)
# every variant is restarted from a fresh copy of its template on a new free port, and the time
# from process launch until PING answers, and until GET of the last loaded key returns its exact
# value (polled every POLL_MS ms by _restart.py), is measured. The first round also checks
# DBSIZE and a random sample of values. Prints medians and the fdb/redis ratios.
# The page cache is warm (the data was just copied); this measures CPU-bound recovery.
#
# Environment (all optional):
#   KEYS=1000000  VALUE_SIZE=100  ROUNDS=3  FSYNC_WAIT=2  POLL_MS=2  NOSAVE_STOP=kill|term
#   RESTART_TIMEOUT=120   seconds one restart may take before it counts as failed
#   NIL_GRACE=3           seconds GET may return nil after PING answers before "data missing"
#   LOAD_TIMEOUT=300      SAVE_TIMEOUT=300   VERIFY_SAMPLE=2000 (keys checked in round 1)
#   REDIS_AOF_REWRITE=off|on   FDB_SERVER_BIN=build/fdb-server  FDB_THREADS=2
#   FDB_ARGS="..."  REDIS_ARGS="..."  extra server flags
#   ALLOW_NO_ENGINE=1     go on when SAVE is missing / the fdb data does not survive (rows marked)
#   RESULTS_MD=FILE       also write the table as Markdown   KEEP_TMP=1  keep temp dirs
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
NKEYS=${KEYS:-1000000}
VALUE_SIZE=${VALUE_SIZE:-100}
FDB_THREADS=${FDB_THREADS:-2}
FSYNC_WAIT=${FSYNC_WAIT:-2}
POLL_MS=${POLL_MS:-2}
NOSAVE_STOP=${NOSAVE_STOP:-kill}
RESTART_TIMEOUT=${RESTART_TIMEOUT:-120}
NIL_GRACE=${NIL_GRACE:-3}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-300}
SAVE_TIMEOUT=${SAVE_TIMEOUT:-300}
VERIFY_SAMPLE=${VERIFY_SAMPLE:-2000}
ALLOW_NO_ENGINE=${ALLOW_NO_ENGINE:-0}
read -ra FDB_USER_ARGS <<<"${FDB_ARGS:-}"
read -ra REDIS_USER_ARGS <<<"${REDIS_ARGS:-}"
[[ $NOSAVE_STOP == kill || $NOSAVE_STOP == term ]] || die "NOSAVE_STOP must be kill or term"
((NKEYS > 0)) || die "KEYS must be positive"
LAST=$((NKEYS - 1))

bench_require redis-server redis-cli ss timeout du "$PYTHON"
[[ -x $FDB_SERVER_BIN ]] || die "fdb-server not found or not executable: $FDB_SERVER_BIN (build it, or set FDB_SERVER_BIN)"
bench_set_mode everysec
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
bench_mktemp WORK fdb-restart
mkdir -p "$WORK/tmpl" "$WORK/run" "$WORK/logs"

# Command lines; the data dir is the last --dir argument given by the caller.
redis_cmd() { CMD=("$REDIS_SERVER_BIN" --port "$1" "${REDIS_BASE[@]}" --dir "$2" "${REDIS_EXTRA[@]}" "${REDIS_USER_ARGS[@]}"); }
fdb_cmd() { CMD=("$FDB_SERVER_BIN" --port "$1" --bind 127.0.0.1 --dir "$2" --threads "$FDB_THREADS" "${FDB_EXTRA[@]}" "${FDB_USER_ARGS[@]}"); }

forget_pid() {   # drop a stopped PID from BENCH_PIDS
  local p keep=()
  for p in "${BENCH_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  BENCH_PIDS=("${keep[@]}")
}

wait_exit() {   # wait_exit PID SECONDS -> 0 once PID is gone
  local i
  for ((i = 0; i < $2 * 10; i++)); do kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return 0; }; sleep 0.1; done
  return 1
}

declare -A LOADS DISK NOTE
NOTE=()

# ---- 1. load and stop each variant, keep its data dir as a template --------------------------
load_variant() {   # load_variant NAME redis|fdb
  local name=$1 kind=$2 dir=$WORK/tmpl/$1 port
  mkdir -p "$dir" "$WORK/logs/$name-load"
  port=$(bench_free_port)
  "${kind}_cmd" "$port" "$dir"
  bench_start SRV "$port" "$WORK/logs/$name-load" "${CMD[@]}"
  log "$name: loading $NKEYS keys into pid $SRV_SPID port $port"
  bench_load "$port" "$LOAD_TIMEOUT" "$NKEYS" --count "$NKEYS" --value-size "$VALUE_SIZE"
  LOADS[$name]=$LOAD_SECONDS
  log "$name: loaded in ${LOAD_SECONDS}s"
}

load_variant redis redis
# SHUTDOWN NOSAVE: no RDB, but Redis still flushes+fsyncs the AOF before exiting.
timeout 60 redis-cli -h 127.0.0.1 -p "$SRV_PORT" shutdown nosave >/dev/null 2>&1 || true
wait_exit "$SRV_PID" 60 || die "redis-server did not exit after SHUTDOWN NOSAVE"
forget_pid "$SRV_PID"
[[ -d $WORK/tmpl/redis/appendonlydir ]] || die "redis left no appendonlydir after SHUTDOWN NOSAVE: $(ls "$WORK/tmpl/redis")"
[[ ! -e $WORK/tmpl/redis/dump.rdb ]] || die "redis wrote dump.rdb despite --save '' and SHUTDOWN NOSAVE"

load_variant fdb_ckpt fdb
save_out=$(timeout "$SAVE_TIMEOUT" redis-cli -h 127.0.0.1 -p "$SRV_PORT" save 2>&1 || true)
if [[ $save_out != OK ]]; then
  [[ $ALLOW_NO_ENGINE == 1 ]] || die "fdb SAVE failed: '$save_out' (storage engine not wired in yet? ALLOW_NO_ENGINE=1 runs anyway)"
  log "warning: fdb SAVE failed: '$save_out'; continuing (ALLOW_NO_ENGINE=1)"
  NOTE[fdb_ckpt]="SAVE failed"
fi
timeout 60 redis-cli -h 127.0.0.1 -p "$SRV_PORT" shutdown >/dev/null 2>&1 || true
if ! wait_exit "$SRV_PID" 60; then
  log "fdb_ckpt: SHUTDOWN did not stop it; sending SIGTERM"
  bench_stop_pid "$SRV_PID"
fi
forget_pid "$SRV_PID"

load_variant fdb_log fdb
sleep "$FSYNC_WAIT"   # let the everysec fsync cover the tail
if [[ $NOSAVE_STOP == kill ]]; then
  kill -KILL "$SRV_PID" 2>/dev/null || true
  wait "$SRV_PID" 2>/dev/null || true
else
  bench_stop_pid "$SRV_PID"
fi
forget_pid "$SRV_PID"

for v in redis fdb_ckpt fdb_log; do
  DISK[$v]=$(bench_du_kb "$WORK/tmpl/$v")
  log "$v: template $(ls "$WORK/tmpl/$v" | tr '\n' ' ')($((DISK[$v] / 1024)) MiB)"
done

# ---- 2. timed restarts ---------------------------------------------------------------------------
RAW=$WORK/raw.tsv
printf 'round\tvariant\tstatus\tpoll_json\trss_kb\tdbsize\tsample_json\tunused\n' >"$RAW"

restart_one() {   # restart_one ROUND VARIANT
  local r=$1 v=$2 kind=redis dir=$WORK/run/$2 port poll_dir out pid st rss dbs="" sample=""
  [[ $v == fdb_* ]] && kind=fdb
  rm -rf "$dir" && cp -a "$WORK/tmpl/$v" "$dir"
  port=$(bench_free_port)
  poll_dir=$WORK/poll/$r-$v
  mkdir -p "$poll_dir" "$WORK/logs/$v-r$r"
  "$PYTHON" "$BENCH_DIR/_restart.py" wait --port "$port" --index "$LAST" --value-size "$VALUE_SIZE" \
    --ready-file "$poll_dir/ready" --t0-file "$poll_dir/t0" --timeout "$RESTART_TIMEOUT" \
    --nil-grace "$NIL_GRACE" --interval-ms "$POLL_MS" >"$poll_dir/out" 2>"$poll_dir/err" &
  local poller=$!
  local i
  for ((i = 0; i < 3000; i++)); do [[ -e $poll_dir/ready ]] && break; sleep 0.005; done
  [[ -e $poll_dir/ready ]] || die "restart poller did not start: $(cat "$poll_dir/err")"
  "${kind}_cmd" "$port" "$dir"
  local t0
  t0=$(bench_ns)
  "${CMD[@]}" >"$WORK/logs/$v-r$r/server.log" 2>&1 &
  pid=$!
  echo "$t0" >"$poll_dir/t0"
  BENCH_PIDS+=("$pid")
  wait "$poller" || true
  out=$(cat "$poll_dir/out")
  [[ -n $out ]] || out='{"status":"poller-failed","detail":"'"$(tail -c 200 "$poll_dir/err" | tr '\n"' ' ')"'"}'
  st=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["status"])' "$out")
  rss=$(bench_rss_kb "$pid" 2>/dev/null || echo "")
  if ((r == 1)) && [[ $st == ok ]]; then
    dbs=$(timeout 30 redis-cli -h 127.0.0.1 -p "$port" dbsize 2>&1 || true)
    sample=$("$PYTHON" "$BENCH_DIR/_kv.py" verify --port "$port" --count "$NKEYS" --sample "$VERIFY_SAMPLE" \
      --value-size "$VALUE_SIZE" --seed "$r" 2>&1 | tail -n1 || true)
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    log "$v round $r: server exited: $(tail -n 5 "$WORK/logs/$v-r$r/server.log" | tr '\n' ' ')"
  fi
  bench_stop_pid "$pid"
  forget_pid "$pid"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$v" "$st" "$out" "$rss" "$dbs" "$sample" "" >>"$RAW"
  log "round $r/$ROUNDS $(printf '%-8s' "$v") $out${dbs:+ dbsize=$dbs}"
  if [[ $st != ok && $ALLOW_NO_ENGINE != 1 ]]; then
    die "$v did not come back with its data ($st): $out (server log: $WORK/logs/$v-r$r/server.log; ALLOW_NO_ENGINE=1 runs anyway)"
  fi
}

START=$SECONDS
variants=(redis fdb_ckpt fdb_log)
for ((r = 1; r <= ROUNDS; r++)); do
  for ((k = 0; k < 3; k++)); do restart_one "$r" "${variants[(k + r - 1) % 3]}"; done
done
ELAPSED=$((SECONDS - START))

quote_args() { local out; printf -v out '%q ' "$@"; echo "${out% }"; }
redis_cmd PORT DIR; rc_line=$(quote_args "${CMD[@]:3}")
fdb_cmd PORT DIR; fc_line=$(quote_args "${CMD[@]:3}")
"$PYTHON" - "$RAW" "${RESULTS_MD:-}" <<EOF
import json, sys
sys.path.insert(0, "$BENCH_DIR")
from _report import emit, median, f
raw, md = sys.argv[1], sys.argv[2] or None
rows = [l.rstrip("\n").split("\t") for l in open(raw)][1:]
names = {"redis": "redis AOF replay", "fdb_ckpt": "fdb checkpoint (SAVE)", "fdb_log": "fdb log replay (no SAVE)"}
loads = {"redis": "${LOADS[redis]}", "fdb_ckpt": "${LOADS[fdb_ckpt]}", "fdb_log": "${LOADS[fdb_log]}"}
disk = {"redis": ${DISK[redis]}, "fdb_ckpt": ${DISK[fdb_ckpt]}, "fdb_log": ${DISK[fdb_log]}}
notes_extra = {"fdb_ckpt": "${NOTE[fdb_ckpt]:-}"}
per = {}
checks = {}
for r in rows:
    rnd, v, st, out, rss, dbs, sample = r[:7]
    d = json.loads(out) if out.startswith("{") else {}
    per.setdefault(v, []).append(dict(st=st, ping=d.get("ping_s"), ready=d.get("ready_s"), rss=int(rss) if rss else None, detail=d.get("detail", "")))
    if rnd == "1":
        s = json.loads(sample) if sample.startswith("{") else None
        checks[v] = "dbsize %s, sample %s" % (dbs or "-", ("%d/%d ok" % (s["ok"], s["checked"])) if s else "-")
med = {v: median([x["ready"] for x in per.get(v, []) if x["st"] == "ok"]) for v in names}
hdr = ["variant", "disk MiB", "load s", "PING s", "data-ready s", "min-max s", "vs redis", "RSS MiB", "ok runs", "round-1 checks"]
tab = []
for v, label in names.items():
    xs = per.get(v, [])
    ok = [x for x in xs if x["st"] == "ok"]
    readies = [x["ready"] for x in ok]
    ratio = med[v] / med["redis"] if med[v] is not None and med["redis"] else None
    status = "%d/%d" % (len(ok), len(xs)) + ("" if len(ok) == len(xs) else " (%s)" % ",".join(sorted({x["st"] for x in xs if x["st"] != "ok"})))
    tab.append([label + (" [%s]" % notes_extra[v] if notes_extra.get(v) else ""), "%.1f" % (disk[v] / 1024), loads[v],
                f(median([x["ping"] for x in ok]), ".3f"), f(med[v], ".3f"),
                ("%.3f-%.3f" % (min(readies), max(readies))) if readies else "-", f(ratio, ".2f"),
                f(median([x["rss"] / 1024 for x in ok if x["rss"]]), ".0f"), status, checks.get(v, "-")])
notes = ["%d keys (key:%%012d), %d-byte values; %d rounds, medians; restarts from a fresh copy of the stopped data dir (warm page cache)" % ($NKEYS, $VALUE_SIZE, $ROUNDS),
         "data-ready = launch until PING answers and GET of the last loaded key returns its value (polled every $POLL_MS ms)",
         "redis-server: $rc_line; stopped with SHUTDOWN NOSAVE (REDIS_AOF_REWRITE=$REDIS_AOF_REWRITE)",
         "fdb-server: $fc_line; checkpoint variant: SAVE then SHUTDOWN; log variant: no SAVE, SIG${NOSAVE_STOP^^} ${FSYNC_WAIT}s after the load",
         "host: $(nproc) cpus, loadavg $(cut -d' ' -f1-3 /proc/loadavg); timed restarts took ${ELAPSED}s"]
foot = []
for v in ("fdb_ckpt", "fdb_log"):
    if med[v] is not None and med["redis"]:
        foot.append("%s / redis restart time: %.2f (fdb is %s)" % (names[v], med[v] / med["redis"],
                    "%.2fx faster" % (med["redis"] / med[v]) if med[v] < med["redis"] else "%.2fx slower" % (med[v] / med["redis"])))
    else:
        bad = [x["detail"] for x in per.get(v, []) if x["st"] != "ok"]
        foot.append("%s: no successful restart%s" % (names[v], (": " + bad[0]) if bad else ""))
emit("Restart time: FDB vs Redis, $(date -u +%Y-%m-%dT%H:%MZ)", notes, hdr, tab, md, foot)
EOF
[[ -n ${RESULTS_MD:-} ]] && log "wrote $RESULTS_MD"
exit 0
