"""Redis Sentinel managing FDB: three Sentinels (Debian's redis-sentinel, or redis-server in
sentinel mode, the same binary) watch an FDB primary with two FDB replicas. The primary is
killed with kill -9 again and again under a write load; Sentinel promotes a replica and
re-points the others, and redis-py's Sentinel client follows. A write counts only once WAIT 1
confirmed it: none of those may be lost, and nothing may appear that was not written.
"""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest
import redis
from redis.sentinel import Sentinel

from conftest import FDB_BIN, TARGET, free_port, wait_for

pytestmark = pytest.mark.skipif(
    TARGET != "fdb" or not (shutil.which("redis-sentinel") or shutil.which("redis-server")),
    reason="needs FDB and Redis Sentinel")

MASTER = "mymaster"
CYCLES = int(os.environ.get("FDB_SENTINEL_CYCLES", "10"))


class Node:
    """An FDB server with a config file of its own (Sentinel rewrites it with CONFIG REWRITE)."""

    def __init__(self, tmp, name, replicaof=None):
        self.port = free_port()
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "fdb.conf")
        lines = [f"port {self.port}", "bind 127.0.0.1", f"dir {self.dir}", "threads 2",
                 "repl-timeout 5"]
        if replicaof:
            lines.append(f"replicaof 127.0.0.1 {replicaof}")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None
        self.start()

    def start(self):
        self.log = open(os.path.join(self.dir, "server.log"), "ab")
        self.proc = subprocess.Popen([FDB_BIN, self.conf], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_for(self.pings, timeout=15, what=f"fdb on {self.port}")

    def pings(self):
        try:
            return redis.Redis(port=self.port, socket_timeout=1).ping()
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
            return False

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def start_sentinel(tmp, i, master_port):
    port = free_port()
    d = os.path.join(tmp, f"sentinel{i}")
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "sentinel.conf")
    with open(conf, "w") as f:
        f.write(f"port {port}\nbind 127.0.0.1\ndir {d}\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {master_port} 2\n"
                f"sentinel down-after-milliseconds {MASTER} 1000\n"
                f"sentinel failover-timeout {MASTER} 4000\n"
                f"sentinel parallel-syncs {MASTER} 2\n")
    exe = shutil.which("redis-sentinel")
    args = [exe, conf] if exe else [shutil.which("redis-server"), conf, "--sentinel"]
    log = open(os.path.join(d, "sentinel.log"), "ab")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    wait_for(lambda: _ping(port), timeout=10, what="sentinel up")
    return port, proc, log


def _master_port(sentinel):
    try:
        return sentinel.discover_master(MASTER)[1]
    except redis.sentinel.MasterNotFoundError:
        return None


def _replica_of(port, master_port):
    try:
        i = redis.Redis(port=port, decode_responses=True, socket_timeout=2).info("replication")
        return i.get("master_port") == master_port and i.get("master_link_status") == "up"
    except (redis.ConnectionError, redis.TimeoutError):
        return False


def _ping(port):
    try:
        return redis.Redis(port=port, socket_timeout=1).ping()
    except (redis.ConnectionError, redis.TimeoutError):
        return False


def test_sentinel_failover_cycles_under_load(tmp_path):
    tmp = str(tmp_path)
    primary = Node(tmp, "n0")
    nodes = {primary.port: primary}
    for i in (1, 2):
        n = Node(tmp, f"n{i}", replicaof=primary.port)
        nodes[n.port] = n
    sentinels = [start_sentinel(tmp, i, primary.port) for i in range(3)]
    try:
        s0 = redis.Redis(port=sentinels[0][0], decode_responses=True)
        wait_for(lambda: len(s0.execute_command("SENTINEL", "REPLICAS", MASTER)) == 2 and
                 len(s0.execute_command("SENTINEL", "SENTINELS", MASTER)) == 2,
                 timeout=30, interval=0.2, what="sentinels see 2 replicas and each other")
        sentinel = Sentinel([("127.0.0.1", p) for p, _, _ in sentinels], socket_timeout=2)

        confirmed = {}  # key -> value, WAIT-confirmed
        attempted = {}  # key -> value, every write sent
        stop = threading.Event()
        lock = threading.Lock()

        def writer():
            i = 0
            while not stop.is_set():
                try:
                    m = sentinel.master_for(MASTER, socket_timeout=2, decode_responses=True)
                    while not stop.is_set():
                        k, v = f"k{i}", f"v{i}"
                        with lock:
                            attempted[k] = v
                        i += 1
                        m.set(k, v)
                        if m.execute_command("WAIT", 1, 1000) >= 1:
                            with lock:
                                confirmed[k] = v
                        time.sleep(0.002)  # a steady load, bounded in keys
                except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError,
                        redis.sentinel.MasterNotFoundError):
                    time.sleep(0.05)

        t = threading.Thread(target=writer, daemon=True)
        t.start()
        recovery_s = []
        for cycle in range(CYCLES):
            wait_for(lambda: len(confirmed) > 50 * (cycle + 1), timeout=60, interval=0.05,
                     what="confirmed writes before the kill")
            port = wait_for(lambda: _master_port(sentinel), timeout=30, what="a primary")
            victim = nodes[port]
            before = len(confirmed)
            killed_at = time.monotonic()
            victim.kill()
            # Failover: a new primary that takes a confirmed write.
            wait_for(lambda: _master_port(sentinel) not in (None, port), timeout=60,
                     interval=0.05, what=f"cycle {cycle}: a new primary")
            wait_for(lambda: len(confirmed) > before, timeout=60, interval=0.01,
                     what=f"cycle {cycle}: a confirmed write on the new primary")
            recovery_s.append(time.monotonic() - killed_at)
            # The old primary comes back; Sentinel turns it into a replica of the new one.
            victim.start()
            wait_for(lambda: _replica_of(victim.port, _master_port(sentinel)), timeout=60,
                     interval=0.1, what=f"cycle {cycle}: old primary re-pointed")
        stop.set()
        t.join(10)
        port = wait_for(lambda: _master_port(sentinel), timeout=30, what="the last primary")
        m = redis.Redis(port=port, decode_responses=True)
        data = {k: m.get(k) for k in m.scan_iter(count=1000)}
        lost = [k for k, v in confirmed.items() if data.get(k) != v]
        invented = [k for k, v in data.items() if attempted.get(k) != v]
        print(f"failover seconds per cycle: {[round(x, 2) for x in recovery_s]}; "
              f"confirmed {len(confirmed)}, attempted {len(attempted)}")
        assert lost == []
        assert invented == []
        assert len(confirmed) > 50 * CYCLES
    finally:
        for _, proc, log in sentinels:
            proc.terminate()
            proc.wait(timeout=10)
            log.close()
        for n in nodes.values():
            n.stop()
