"""DUMP and RESTORE (src/commands/dump_family.cc, rdb_payload.cc): Redis's payload format both
ways — a value dumped by Debian's redis-server restores into FDB, and one dumped by FDB restores
into redis-server — with RESTORE's options and errors."""

import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import redis

from conftest import TARGET, free_port


@pytest.fixture(scope="module")
def real_redis():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    d = tempfile.TemporaryDirectory(prefix="fdb-dump-redis-")
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", d.name],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.time() > deadline:
                proc.kill()
                raise
            time.sleep(0.05)
    c = redis.Redis(host="127.0.0.1", port=port, decode_responses=False)
    yield c
    c.close()
    proc.terminate()
    proc.wait(10)
    d.cleanup()


def fill(c):
    """Values of every type in each encoding Redis 7 gives them."""
    c.flushall()
    c.set("int", 12345)
    c.set("neg", -9876543210)
    c.set("short", "hello")
    c.set("long", "abc" * 2000)  # compressible: LZF in Redis's payload
    c.set("binary", bytes(range(256)))
    c.hset("hsmall", mapping={"a": "1", "b": "two", "c": "3"})
    c.hset("hbig", mapping={f"field{i}": "v" * (i % 70) for i in range(300)})
    c.sadd("sints", *range(-5, 200, 7))
    c.sadd("sbigint", 1, 70000, -2**40)
    c.sadd("sstrs", *[f"m{i}" for i in range(50)])
    c.zadd("zsmall", {"a": 1.5, "b": -2, "c": 1e10})
    c.zadd("zbig", {f"m{i}": i / 3 for i in range(400)})
    c.rpush("lsmall", 1, "two", -3, 1 << 40, "x" * 100)
    c.rpush("lbig", *[f"e{i}" * (1 + i % 5) for i in range(3000)])
    c.rpush("lhuge", "y" * 20000, "z")  # a plain node in Redis 7's quicklist


KEYS = ["int", "neg", "short", "long", "binary", "hsmall", "hbig", "sints", "sbigint", "sstrs",
        "zsmall", "zbig", "lsmall", "lbig", "lhuge"]


def contents(c, key):
    t = c.type(key)
    if t == b"string":
        return c.get(key)
    if t == b"hash":
        return c.hgetall(key)
    if t == b"set":
        return c.smembers(key)
    if t == b"zset":
        return c.zrange(key, 0, -1, withscores=True)
    if t == b"list":
        return c.lrange(key, 0, -1)
    raise AssertionError(t)


@pytest.mark.skipif(TARGET == "redis", reason="compares FDB with Redis")
def test_redis_dumps_restore_into_fdb(real_redis, server):
    fdb = server.client(decode_responses=False)
    fill(real_redis)
    fdb.flushall()
    for key in KEYS:
        payload = real_redis.dump(key)
        assert fdb.restore(key, 0, payload) in (True, b"OK"), key
        assert fdb.type(key) == real_redis.type(key), key
        assert contents(fdb, key) == contents(real_redis, key), key


@pytest.mark.skipif(TARGET == "redis", reason="compares FDB with Redis")
def test_fdb_dumps_restore_into_redis(real_redis, server):
    fdb = server.client(decode_responses=False)
    fill(fdb)
    real_redis.flushall()
    for key in KEYS:
        payload = fdb.dump(key)
        assert real_redis.restore(key, 0, payload) in (True, b"OK"), key
        assert contents(real_redis, key) == contents(fdb, key), key


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def b(request, server):
    """A bytes client (payloads are binary), in RESP2 and RESP3."""
    c = server.client(decode_responses=False, protocol=request.param)
    c.flushall()
    yield c
    c.close()


def test_roundtrip_ttl_and_options(b):
    r = b
    r.set("foo", "bar")
    encoded = r.execute_command("DUMP", "foo")
    assert r.execute_command("DUMP", "nonexisting") is None
    r.delete("foo")
    assert r.restore("foo", 0, encoded) in (True, b"OK")
    assert r.ttl("foo") == -1 and r.get("foo") == b"bar"
    r.delete("foo")
    r.restore("foo", 5000, encoded)
    assert 3000 <= r.pttl("foo") <= 5000
    r.delete("foo")
    r.restore("foo", 2569591501, encoded)
    assert 2569591501 - 3000 <= r.pttl("foo") <= 2569591501
    r.delete("foo")
    now = int(time.time() * 1000)
    r.restore("foo", now + 3000, encoded, absttl=True)
    assert 2000 <= r.pttl("foo") <= 3100
    # ABSTTL in the past: nothing is created, an existing key is replaced by nothing.
    r.restore("foo", now - 3000, encoded, absttl=True, replace=True)
    assert r.exists("foo") == 0


def test_restore_errors(b):
    r = b
    r.set("foo", "bar")
    encoded = r.execute_command("DUMP", "foo")
    with pytest.raises(redis.ResponseError, match="BUSYKEY Target key name already exists."):
        r.restore("foo", 0, encoded)
    r.set("foo", "bar2")
    assert r.restore("foo", 0, encoded, replace=True) in (True, b"OK")
    assert r.get("foo") == b"bar"
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("RESTORE", "foo", "0", "...", "invalid-option")
    with pytest.raises(redis.ResponseError, match="Invalid TTL value, must be >= 0"):
        r.execute_command("RESTORE", "new", "-1", encoded)
    with pytest.raises(redis.ResponseError, match="payload version or checksum are wrong"):
        r.execute_command("RESTORE", "new", "0", "not a payload")
    # A flipped byte fails the checksum.
    bad = encoded[:1] + bytes([encoded[1] ^ 1]) + encoded[2:]
    with pytest.raises(redis.ResponseError, match="checksum"):
        r.execute_command("RESTORE", "new", "0", bad)


def test_restore_idletime_and_freq(server_factory):
    srv = server_factory()
    c = srv.client(decode_responses=False)
    c.set("foo", "bar")
    encoded = c.execute_command("DUMP", "foo")
    c.delete("foo")
    c.config_set("maxmemory-policy", "allkeys-lru")
    c.restore("foo", 0, encoded, idletime=1000)
    assert 1000 <= c.object("idletime", "foo") <= 1010
    c.delete("foo")
    c.config_set("maxmemory-policy", "allkeys-lfu")
    c.restore("foo", 0, encoded, frequency=100)
    assert c.object("freq", "foo") == 100


def test_restored_collection_is_durable(server_factory):
    import signal
    srv = server_factory()
    c = srv.client(decode_responses=False)
    c.hset("h", mapping={"a": "1", "b": "2"})
    payload = c.dump("h")
    c.delete("h")
    c.restore("h2", 0, payload)
    srv.stop(signal.SIGKILL)
    srv.start()
    c = srv.client()
    assert c.hgetall("h2") == {"a": "1", "b": "2"}
