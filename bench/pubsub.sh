#!/usr/bin/env bash
# PUBLISH throughput, FDB beside Redis in the same run:
#   redis-benchmark -P 16 -n N PUBLISH ch x
# with no subscriber, and with SUBS subscribers (raw sockets that read and discard; they count
# the messages they received, so a row also says whether every message was delivered).
# Usage: bench/pubsub.sh [N] [SUBS]   (FDB_SERVER_BIN, REDIS_SERVER_BIN, FDB_THREADS, REPS)
# The delivered column is the last repetition's (every message of it reached every subscriber).
#
# Then the fan-out rows (FANOUT="1 100 1000", DELIVERIES per row, default 2,000,000): PUBLISH
# to 1, 100 and 1,000 subscribers, N = DELIVERIES / subscribers publishes from one connection
# (pipeline 16). A row gives messages
# delivered per second (from the first message a subscriber received to the last any did: the
# server's fan-out rate, not the publisher's) and the server's CPU per delivered message
# (utime + stime of its process over the run, from /proc, divided by the deliveries).
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
N=${1:-200000}
SUBS=${2:-1}
FDB_THREADS=${FDB_THREADS:-2}
bench_require redis-benchmark "$REDIS_SERVER_BIN"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start() {  # start NAME -> port on stdout
  local port dir
  port=$(bench_free_port)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/pubsub-bench.XXXXXX")
  if [[ $1 == fdb ]]; then
    "$FDB_SERVER_BIN" --port "$port" --bind 127.0.0.1 --dir "$dir" --threads "$FDB_THREADS" \
      >"$dir/log" 2>&1 &
  else
    "$REDIS_SERVER_BIN" --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
      >"$dir/log" 2>&1 &
  fi
  echo $! >"$dir/pid"
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
  echo "$port $dir"
}

subscribers() {  # subscribers PORT COUNT EXPECTED -> prints received total when done
  "$PYTHON" - "$@" <<'PY'
import socket, sys, time
port, n, expected = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port)); s.sendall(b"SUBSCRIBE ch\r\n"); socks.append(s)
for s in socks:
    s.recv(100)
print("ready", flush=True)
msg = b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nx\r\n"
got = 0
buf = [b""] * n
deadline = None
import selectors
sel = selectors.DefaultSelector()
for i, s in enumerate(socks):
    s.setblocking(False); sel.register(s, selectors.EVENT_READ, i)
while got < expected * n:
    ev = sel.select(timeout=5)
    if not ev:
        break
    for key, _ in ev:
        d = key.fileobj.recv(1 << 20)
        if not d:
            sel.unregister(key.fileobj); continue
        b = buf[key.data] + d
        c = b.count(msg)
        got += c
        buf[key.data] = b[len(b) - (len(b) % len(msg)):] if c else b
print(got, flush=True)
PY
}

fanout_subscribers() {  # PORT COUNT EXPECTED_EACH -> "ready", then "delivered seconds"
  "$PYTHON" - "$@" <<'PY'
import selectors, socket, sys, time
port, n, expected = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
msg_len = len(b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nx\r\n")
sel = selectors.DefaultSelector()
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"SUBSCRIBE ch\r\n")
    s.recv(100)  # the subscribe reply (sent alone: nothing is published yet)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
print("ready", flush=True)
total = expected * n * msg_len
got = 0
first = last = None
while got < total:
    ev = sel.select(timeout=10)
    if not ev:
        break
    for key, _ in ev:
        d = key.fileobj.recv(1 << 20)
        if not d:
            sel.unregister(key.fileobj)
            continue
        if first is None:
            first = time.monotonic()
        got += len(d)
    last = time.monotonic()
print(got // msg_len, (last - first) if first else 0, flush=True)
PY
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

fanout() {  # fanout PORT PID SUBS N -> "delivered_per_s ns_cpu_per_delivery delivered"
  local port=$1 pid=$2 subs=$3 n=$4 c0 c1 got secs out spid
  out=$(mktemp "${TMPDIR:-/tmp}/fanout.XXXXXX")
  fanout_subscribers "$port" "$subs" "$n" >"$out" &
  spid=$!
  until grep -q ready "$out"; do sleep 0.05; done
  c0=$(cpu_ticks "$pid")
  # One publisher: redis-benchmark sends exactly N then (with 50 clients it rounds up to whole
  # pipelines per client), and the row measures fan-out, not publishers.
  redis-benchmark -p "$port" -c 1 -P 16 -n "$n" -q PUBLISH ch x >/dev/null 2>&1
  wait "$spid" || true
  c1=$(cpu_ticks "$pid")
  read -r got secs < <(tail -n 1 "$out")
  rm -f "$out"
  "$PYTHON" -c "import sys; g, s, c = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
print(f'{g / s if s else 0:.0f} {c * 1e9 / $CLK_TCK / g if g else 0:.0f} {g}')" "$got" "$secs" \
    "$((c1 - c0))"
}

run() {  # run NAME PORT SUBS -> "rps received"
  local port=$2 subs=$3 rps got=0
  if (( subs > 0 )); then
    coproc SUBP { subscribers "$port" "$subs" "$N"; }
    read -r _ <&"${SUBP[0]}"
  fi
  rps=$(redis-benchmark -p "$port" -P 16 -n "$N" -q PUBLISH ch x 2>/dev/null | tr '\r' '\n' |
        grep -o '[0-9.]* requests per second' | tail -1 | cut -d' ' -f1)
  if (( subs > 0 )); then read -r got <&"${SUBP[0]}"; wait "$SUBP_PID" 2>/dev/null || true; fi
  echo "$rps $got"
}

read -r fdb_port fdb_dir < <(start fdb)
fdb_pid=$(cat "$fdb_dir/pid"); PIDS+=("$fdb_pid")
read -r redis_port redis_dir < <(start redis)
redis_pid=$(cat "$redis_dir/pid"); PIDS+=("$redis_pid")
echo "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1 /proc/loadavg); fdb --threads $FDB_THREADS; N=$N, pipeline 16, median of ${REPS:-3}"
printf "%-22s %14s %14s %8s %s\n" "case" "fdb ops/s" "redis ops/s" "ratio" "delivered fdb/redis"
REPS=${REPS:-3}
median() { "$PYTHON" -c "import sys, statistics; print(statistics.median(map(float, sys.argv[1:])))" "$@"; }
for subs in 0 "$SUBS"; do
  fs=() rs=() fg=0 rg=0
  for _ in $(seq "$REPS"); do  # interleaved, median of REPS: the machine may be shared
    read -r f g < <(run fdb "$fdb_port" "$subs"); fs+=("$f"); fg=$g
    read -r r g < <(run redis "$redis_port" "$subs"); rs+=("$r"); rg=$g
  done
  f=$(median "${fs[@]}") r=$(median "${rs[@]}")
  ratio=$("$PYTHON" -c "print(f'{$f/$r:.2f}')")
  printf "%-22s %14s %14s %8s %s\n" "PUBLISH, $subs subscriber(s)" "$f" "$r" "$ratio" \
    "$( ((subs > 0)) && echo "$fg/$((N*subs)) $rg/$((N*subs))" || echo -)"
done

DELIVERIES=${DELIVERIES:-2000000}
echo
printf "%-26s %12s %12s %7s %10s %10s %s\n" "fan-out" "fdb msg/s" "redis msg/s" "ratio" \
  "fdb ns/msg" "redis ns/msg" "delivered fdb/redis"
for subs in ${FANOUT:-1 100 1000}; do
  n=$((DELIVERIES / subs / 16 * 16)); (( n > N )) && n=$N
  fs=() rs=() fc=() rc=() fg=0 rg=0
  for _ in $(seq "$REPS"); do
    read -r f c g < <(fanout "$fdb_port" "$fdb_pid" "$subs" "$n"); fs+=("$f"); fc+=("$c"); fg=$g
    read -r r c g < <(fanout "$redis_port" "$redis_pid" "$subs" "$n"); rs+=("$r"); rc+=("$c"); rg=$g
  done
  f=$(median "${fs[@]}") r=$(median "${rs[@]}")
  ratio=$("$PYTHON" -c "print(f'{$f/$r:.2f}' if $r else '-')")
  printf "%-26s %12.0f %12.0f %7s %10.0f %10.0f %s\n" "PUBLISH to $subs sub(s), N=$n" "$f" "$r" \
    "$ratio" "$(median "${fc[@]}")" "$(median "${rc[@]}")" "$fg/$((n*subs)) $rg/$((n*subs))"
done
