"""Large string values (issue 9, defect 6): a value of N bytes must not cost 4N of RAM.

A bulk argument of 1 MB or more is read into a block of its own, adopted by SET and written to
the log from there (src/base/shared_block.h), so a SET of N bytes peaks near N above the
server's baseline, where it used to peak at 4N (read buffer, entry, payload, log buffer). The
bound asserted is 2N + a fixed margin, the target of the issue. Every other path (restart,
kill -9, eviction, checkpoint, commands that rewrite the value) must read the bytes back exact.
"""

import os
import signal
import socket
import struct
import time

import pytest

from conftest import SANITIZED, TARGET

pytestmark = pytest.mark.skipif(TARGET == "redis", reason="FDB's memory layout")

MB = 1024 * 1024
# The ASan binary keeps freed blocks in quarantine and copies on realloc: give it room.
RSS_FACTOR = 2 if SANITIZED else 1
RSS_MARGIN = 48 * MB


def pattern(nbytes, seed=0):
    """nbytes of data in which every megabyte differs (a shifted or repeated MB is caught)."""
    rnd = bytes((i * 131 + seed * 17 + (i >> 8)) & 0xFF for i in range(MB))
    out = bytearray()
    i = 0
    while len(out) < nbytes:
        out += struct.pack(">II", i, seed) + rnd[8:]
        i += 1
    return bytes(out[:nbytes])


def status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def raw_set(port, key, value, chunk=4 * MB):
    """SET key value over a raw socket, the value streamed in chunks; returns the reply line."""
    with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
        k = key.encode()
        s.sendall(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n" % (len(k), k, len(value)))
        view = memoryview(value)
        for off in range(0, len(value), chunk):
            s.sendall(view[off:off + chunk])
        s.sendall(b"\r\n")
        reply = b""
        while not reply.endswith(b"\r\n"):
            got = s.recv(64)
            if not got:
                break
            reply += got
        return reply


def check_value(c, key, value):
    assert c.strlen(key) == len(value)
    assert c.getrange(key, 0, 99) == value[:100]
    assert c.getrange(key, len(value) // 2, len(value) // 2 + 4095) == \
        value[len(value) // 2:len(value) // 2 + 4096]
    assert c.getrange(key, -100, -1) == value[-100:]
    got = c.get(key)
    assert got is not None and len(got) == len(value)
    assert got == value


def test_large_set_peak_rss_and_durability(server_factory):
    """A 200 MB SET peaks at most at 2x the value, reads back exact, survives restarts."""
    n = 200 * MB
    value = pattern(n, seed=1)
    s = server_factory("--fsync", "always")
    baseline = status(s.proc.pid, "VmHWM")
    assert raw_set(s.port, "big", value) == b"+OK\r\n"
    peak = status(s.proc.pid, "VmHWM") - baseline
    # Before the fix: about 4x (800 MB above the baseline).
    assert peak <= (2 * n + RSS_MARGIN) * RSS_FACTOR, \
        f"SET of {n // MB} MB raised the peak RSS by {peak / MB:.0f} MB"

    c = s.client(decode_responses=False, socket_timeout=120)
    assert c.object("encoding", "big") == b"raw"
    check_value(c, "big", value)

    # Acknowledged under fsync always: a kill -9 right after the reply keeps it.
    assert raw_set(s.port, "big2", value[::-1]) == b"+OK\r\n"
    s.stop(signal.SIGKILL)
    s.start()
    c = s.client(decode_responses=False, socket_timeout=120)
    check_value(c, "big", value)
    check_value(c, "big2", value[::-1])

    # A checkpoint and a clean restart.
    assert c.save()
    s.stop()
    s.start()
    c = s.client(decode_responses=False, socket_timeout=120)
    check_value(c, "big", value)
    assert c.object("encoding", "big") == b"raw"


def test_large_value_evicted_reads_back(server_factory):
    """Under a small maxmemory the large value leaves RAM and is read back from its record."""
    s = server_factory("--maxmemory", "8mb")
    values = {f"ev{i}": pattern(24 * MB + i, seed=10 + i) for i in range(3)}
    for k, v in values.items():
        assert raw_set(s.port, k, v) == b"+OK\r\n"
    c = s.client(decode_responses=False, socket_timeout=60)
    deadline = time.time() + 10
    while time.time() < deadline and int(c.info("all")["cache_evictions"]) < 2:
        time.sleep(0.1)
    assert int(c.info("all")["cache_evictions"]) >= 2
    for k, v in values.items():
        check_value(c, k, v)
    s.stop(signal.SIGKILL)
    s.start()
    c = s.client(decode_responses=False, socket_timeout=60)
    for k, v in values.items():
        check_value(c, k, v)


def test_commands_on_large_values(server_factory):
    """Commands that take or rewrite a large value work whichever path they take."""
    s = server_factory("--fsync", "always")
    c = s.client(decode_responses=False, socket_timeout=60)
    a = pattern(3 * MB, seed=2)
    b = pattern(2 * MB + 7, seed=3)

    assert c.set("a", a)
    assert c.append("a", b"tail") == len(a) + 4
    check_value(c, "a", a + b"tail")
    assert c.setrange("a", 5, b"XYZ") == len(a) + 4
    expect_a = a[:5] + b"XYZ" + a[8:] + b"tail"
    check_value(c, "a", expect_a)

    assert c.getset("a", b) == expect_a
    check_value(c, "a", b)
    assert c.set("a", a, get=True) == b
    check_value(c, "a", a)
    assert c.set("ttl", b, ex=1000)
    assert 0 < c.ttl("ttl") <= 1000
    assert c.set("nx", a, nx=True)
    assert c.set("nx", b, nx=True) is None
    check_value(c, "nx", a)

    assert c.mset({"m1": a, "m2": b, "m3": b"small"})
    check_value(c, "m1", a)
    check_value(c, "m2", b)
    assert c.msetnx({"m1": b, "m4": a}) is False
    assert c.append("fresh", a) == len(a)
    check_value(c, "fresh", a)

    assert c.copy("m1", "m1copy")
    assert c.set("m1", b"overwritten")
    check_value(c, "m1copy", a)

    with c.pipeline(transaction=True) as p:
        p.set("tx1", a)
        p.set("tx2", b)
        p.execute()
    # Large arguments pipelined behind one another, with small commands around them.
    with c.pipeline(transaction=False) as p:
        p.set("p1", b)
        p.incr("counter")
        p.set("p2", a)
        p.get("counter")
        assert p.execute() == [True, 1, True, b"1"]

    expected = {"a": a, "ttl": b, "nx": a, "m2": b, "fresh": a, "m1copy": a, "tx1": a,
                "tx2": b, "p1": b, "p2": a, "m1": b"overwritten", "m3": b"small"}
    s.stop(signal.SIGKILL)
    s.start()
    c = s.client(decode_responses=False, socket_timeout=60)
    for k, v in expected.items():
        check_value(c, k, v)
    assert c.object("encoding", "p2") == b"raw"


def test_large_argument_from_slow_client(server_factory):
    """A large value sent a few bytes at a time, and a client that disconnects half-way."""
    s = server_factory()
    value = pattern(MB + 3, seed=4)
    with socket.create_connection(("127.0.0.1", s.port), timeout=30) as sock:
        sock.sendall(b"*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$%d\r\n" % len(value))
        sock.sendall(value[:10])
        time.sleep(0.05)
        for off in range(10, len(value), 256 * 1024):
            sock.sendall(value[off:off + 256 * 1024])
            time.sleep(0.01)
        sock.sendall(b"\r\n*1\r\n$4\r\nPING\r\n")
        reply = b""
        while not reply.endswith(b"+PONG\r\n"):
            got = sock.recv(64)
            assert got
            reply += got
        assert reply == b"+OK\r\n+PONG\r\n"
    with socket.create_connection(("127.0.0.1", s.port), timeout=30) as sock:
        sock.sendall(b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$%d\r\n" % (64 * MB))
        sock.sendall(value)
    c = s.client(decode_responses=False)
    check_value(c, "slow", value)
    assert c.exists("half") == 0
    assert c.ping()


def test_large_argument_being_read_counts_as_client_memory(server_factory):
    """A large argument is read into a block of its own, outside the read buffer: CLIENT LIST
    (qbuf, tot-mem) and maxmemory-clients still see it."""
    s = server_factory("--appendonly", "no")
    c = s.client()
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=30)
    sock.sendall(b"*3\r\n$3\r\nSET\r\n$4\r\nbig1\r\n$%d\r\n" % (200 * MB))
    sock.sendall(pattern(24 * MB, seed=5))
    deadline = time.time() + 20
    while True:
        clients = [x for x in c.client_list() if int(x["qbuf"]) > 0]
        if clients and int(clients[0]["qbuf"]) >= 24 * MB:
            break
        assert time.time() < deadline, f"the argument being read is not counted: {clients}"
        time.sleep(0.05)
    assert int(clients[0]["tot-mem"]) >= 24 * MB
    # Past maxmemory-clients the client reading it is closed once its memory grows again; the
    # server keeps serving.
    c.config_set("maxmemory-clients", "16mb")
    try:
        for seed in range(16):
            sock.sendall(pattern(4 * MB, seed=seed))
        sock.settimeout(10)
        while sock.recv(1 << 16):
            pass
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert c.info("stats")["evicted_clients"] >= 1
    assert c.exists("big1") == 0
    assert c.ping()
    sock.close()


def _log_bytes(s):
    return sum(os.path.getsize(os.path.join(s.dir, f)) for f in os.listdir(s.dir)
               if f.endswith(".fdb"))


def test_append_to_large_value_logs_the_tail(server_factory):
    """APPEND logs the bytes it appends (a string range delta), not the whole value; what was
    acknowledged under fsync always reads back exact after kill -9."""
    s = server_factory("--fsync", "always")
    c = s.client(decode_responses=False, socket_timeout=60)
    value = pattern(8 * MB, seed=3)
    assert raw_set(s.port, "big", value) == b"+OK\r\n"
    c.set("small", b"x" * 100)
    c.set("num", 12345)
    c.set("ttl", b"t" * 5000, ex=1000)
    before = _log_bytes(s)
    want = bytearray(value)
    for i in range(200):
        tail = b"<%04d>" % i + bytes([i]) * 90
        want += tail
        assert c.append("big", tail) == len(want)
    grown = _log_bytes(s) - before
    # Whole-value records would be 200 x 8 MB = 1.6 GB; the tails are 200 x 96 bytes.
    assert grown < 200 * 400, grown
    assert c.append("small", b"y" * 50) == 150
    assert c.append("num", b"67") == 7
    assert c.append("ttl", b"u") == 5001
    assert _log_bytes(s) - before < 200 * 400 + 2000
    s.stop(signal.SIGKILL)
    s.start()
    c = s.client(decode_responses=False, socket_timeout=60)
    check_value(c, "big", bytes(want))
    assert c.get("small") == b"x" * 100 + b"y" * 50
    assert c.get("num") == b"1234567"
    assert c.get("ttl") == b"t" * 5000 + b"u"
    assert 0 < c.ttl("ttl") <= 1000
    # Appends go on after the restart, replayed deltas included.
    assert c.append("big", b"end") == len(want) + 3
    assert c.getrange("big", -3, -1) == b"end"
