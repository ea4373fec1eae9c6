#!/usr/bin/env python3
"""Live migration from Redis (issue 17): FDB replicates a loaded Redis primary under writes.

1. Debian's redis-server is filled with N keys of every type (half strings, the rest hashes,
   lists, sets and sorted sets of 4 elements each), loaded with `redis-cli --pipe`.
2. A writer changes existing keys of every type and adds new ones, pipelined, for a bounded
   number of commands, while
3. fdb-server starts with `--replicaof` the Redis primary, and, in the same run, a Redis replica
   of the same primary (the reference): the time until each has its link up, and until each
   holds the primary's whole stream once the writer stopped.
4. Every key of the primary is read back from FDB by type (pipelined) and compared, then FDB
   leaves with REPLICAOF NO ONE and takes a write: the clients can move.

Every server binds 127.0.0.1 on a free port and is stopped by PID; everything is bounded by N
and the writer's count.

  bench/migration.py [--keys 1000000] [--writes 200000]
"""

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FDB = os.environ.get("FDB_SERVER_BIN", os.path.join(ROOT, "build", "fdb-server"))
TYPES = ("hash", "list", "set", "zset")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, args, tmp, name):
        self.port = free_port()
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.log = open(os.path.join(self.dir, "log"), "wb")
        if args[0] == "fdb":
            cmd = [FDB, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir] + args[1:]
        else:
            cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                   "--dir", self.dir, "--save", "", "--appendonly", "no",
                   "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"] + args[1:]
        self.p = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        self.c = redis.Redis(port=self.port, socket_timeout=300)
        for _ in range(500):
            try:
                self.c.ping()
                return
            except redis.exceptions.BusyLoadingError:
                return
            except redis.ConnectionError:
                time.sleep(0.02)
        raise RuntimeError(f"{cmd[0]} did not start")

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def key_of(i, n):
    """Key i of n: the first half strings, then the four collection types in turn."""
    if i < n // 2:
        return f"s:{i}", "string"
    t = TYPES[i % 4]
    return f"{t}:{i}", t


def resp(*args):
    out = [f"*{len(args)}\r\n".encode()]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def load(port, n):
    """Fills the primary through redis-cli --pipe (the fastest path into Redis)."""
    p = subprocess.Popen(["redis-cli", "-p", str(port), "--pipe"], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL)
    chunk = []
    for i in range(n):
        k, t = key_of(i, n)
        if t == "string":
            chunk.append(resp("SET", k, "v" * (i % 40 + 10)))
        elif t == "hash":
            chunk.append(resp("HSET", k, "a", i, "b", "x" * (i % 20), "c", -i, "d", "y"))
        elif t == "list":
            chunk.append(resp("RPUSH", k, i, i + 1, "e", "f"))
        elif t == "set":
            chunk.append(resp("SADD", k, i, "m", "n", "o"))
        else:
            chunk.append(resp("ZADD", k, 1, "a", 2.5, "b", i, "c", -i, "d"))
        if len(chunk) >= 10000:
            p.stdin.write(b"".join(chunk))
            chunk = []
    p.stdin.write(b"".join(chunk))
    p.stdin.close()
    p.wait()


class Writer(threading.Thread):
    """Changes keys of every type on the primary, pipelined, `count` commands in all."""

    def __init__(self, port, n, count):
        super().__init__(daemon=True)
        self.c = redis.Redis(port=port)
        self.n, self.count, self.done, self.error = n, count, 0, None

    def run(self):
        rnd = random.Random(7)
        try:
            while self.done < self.count:
                p = self.c.pipeline(transaction=False)
                for _ in range(200):
                    i = rnd.randrange(self.n)
                    k, t = key_of(i, self.n)
                    op = rnd.randrange(3)
                    if op == 0:
                        p.set(f"live:{self.done}", self.done)
                    elif t == "string":
                        p.append(k, "+")
                    elif t == "hash":
                        p.hincrby(k, "a", 1)
                    elif t == "list":
                        p.lpush(k, self.done) if op == 1 else p.lpop(k)
                    elif t == "set":
                        p.sadd(k, self.done) if op == 1 else p.srem(k, "m")
                    else:
                        p.zincrby(k, 1, "a")
                    self.done += 1
                p.execute()
        except Exception as e:  # noqa: BLE001 - reported by the caller
            self.error = e


def link_up(c):
    try:
        return c.info("replication").get("master_link_status") == "up"
    except (redis.exceptions.BusyLoadingError, redis.ConnectionError):
        return False


def caught_up(primary, replica):
    off = primary.info("replication")["master_repl_offset"]
    try:
        return replica.info("replication").get("slave_repl_offset") == off
    except redis.exceptions.BusyLoadingError:
        return False


def read_all(c, n, extra):
    """Every key's value by type, in key order, as a list (pipelined)."""
    out = []
    keys = [key_of(i, n) for i in range(n)] + [(k, "string") for k in extra]
    for start in range(0, len(keys), 2000):
        p = c.pipeline(transaction=False)
        for k, t in keys[start:start + 2000]:
            if t == "string":
                p.get(k)
            elif t == "hash":
                p.hgetall(k)
            elif t == "list":
                p.lrange(k, 0, -1)
            elif t == "set":
                p.smembers(k)
            else:
                p.zrange(k, 0, -1, withscores=True)
        out.extend(p.execute())
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--writes", type=int, default=200_000)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="fdb-migration-")
    servers = []
    try:
        primary = Server(["redis"], tmp, "primary")
        servers.append(primary)
        t0 = time.time()
        load(primary.port, a.keys)
        assert primary.c.dbsize() == a.keys, primary.c.dbsize()
        print(f"# {time.strftime('%Y-%m-%d %H:%M')} load {os.getloadavg()[0]:.1f}: "
              f"{a.keys} keys loaded into redis-server in {time.time() - t0:.1f} s; "
              f"{a.writes} writes during the sync")
        writer = Writer(primary.port, a.keys, a.writes)
        writer.start()
        time.sleep(0.2)
        start = time.time()
        fdb = Server(["fdb", "--replicaof", f"127.0.0.1 {primary.port}"], tmp, "fdb")
        ref = Server(["redis", "--replicaof", "127.0.0.1", str(primary.port)], tmp, "redis")
        servers += [fdb, ref]
        up = {}
        while len(up) < 2 and time.time() - start < 600:
            for name, s in (("fdb", fdb), ("redis", ref)):
                if name not in up and link_up(s.c):
                    up[name] = time.time() - start
            time.sleep(0.02)
        writer.join(600)
        if writer.error is not None:
            raise writer.error
        done = {}
        while len(done) < 2 and time.time() - start < 900:
            for name, s in (("fdb", fdb), ("redis", ref)):
                if name not in done and caught_up(primary.c, s.c):
                    done[name] = time.time() - start
            time.sleep(0.02)
        writes_s = time.time() - start
        extra = [f"live:{i}" for i in range(writer.done)]
        want = read_all(primary.c, a.keys, extra)
        got = read_all(fdb.c, a.keys, extra)
        diff = sum(1 for x, y in zip(want, got) if x != y)
        dbsize = (primary.c.dbsize(), fdb.c.dbsize())
        assert fdb.c.execute_command("REPLICAOF", "NO", "ONE") in (b"OK", "OK")
        fdb.c.set("after:move", "1")
        moved = fdb.c.get("after:move") == b"1" and fdb.c.dbsize() == dbsize[0] + 1
        print("| replica of the Redis primary | link up (s) | caught up after the writer (s) |")
        print("|---|---|---|")
        for name in ("redis", "fdb"):
            print(f"| {name} | {up.get(name, float('nan')):.2f} | "
                  f"{done.get(name, float('nan')):.2f} |")
        print(f"# {len(want)} keys compared by type: {diff} differ; DBSIZE primary {dbsize[0]}, "
              f"fdb {dbsize[1]}; writer {writer.done} commands in {writes_s:.1f} s; "
              f"REPLICAOF NO ONE then a write: {'ok' if moved else 'FAILED'}")
        return 0 if diff == 0 and dbsize[0] == dbsize[1] and moved else 1
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
