"""RDB files written by Debian's redis-server load into FDB (src/commands/rdb_file.cc, through
DEBUG LOADRDB, the loader a replica of a Redis primary uses): every type in its compact and its
plain encodings, streams with consumer groups, TTLs, several databases; then every key is
compared between the two servers."""

import os
import random
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import redis

from conftest import TARGET, free_port

pytestmark = pytest.mark.skipif(TARGET == "redis", reason="DEBUG LOADRDB is FDB's")


def start_redis(*extra):
    """Debian's redis-server on a free port, saving to a directory of its own."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    d = tempfile.TemporaryDirectory(prefix="fdb-rdb-redis-")
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", d.name, *extra],
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
    c.dir = d.name
    c.proc = proc
    c.tmp = d
    return c


def stop_redis(c):
    c.close()
    c.proc.terminate()
    c.proc.wait(timeout=10)
    c.tmp.cleanup()


@pytest.fixture(scope="module")
def real_redis():
    c = start_redis()
    yield c
    stop_redis(c)


@pytest.fixture
def fdb(server_factory):
    s = server_factory("--enable-debug-command", "local")
    return s.client(decode_responses=False)


def fill(c):
    """Every type Redis 7 writes, in its compact and its plain encodings, in several dbs."""
    rnd = random.Random(11)
    c.flushall()
    p = c.pipeline(transaction=False)
    # db 0: strings (raw, integer-encoded, LZF-compressed, binary, large).
    p.set("s:short", "hello")
    p.set("s:int", "12345")
    p.set("s:negint", "-7")
    p.set("s:bigint", str(2 ** 40))
    p.set("s:compressible", "a" * 5000)
    p.set("s:binary", bytes(range(256)))
    p.set("s:empty", "")
    p.set("s:big", rnd.randbytes(300_000))
    p.set(b"key:\x00\xff", "binary key")
    p.set("12345", "integer-looking key")
    # TTLs.
    p.set("ttl:ex", "v", ex=5000)
    p.set("ttl:px", "v", px=3_600_000)
    p.rpush("ttl:list", "a", "b")
    p.expire("ttl:list", 7200)
    # Lists: listpack, quicklist of several nodes, integers, a big element.
    p.rpush("l:small", "a", "b", "1", "-2", "300000")
    p.rpush("l:big", *[f"element-{i}" for i in range(3000)])
    p.rpush("l:ints", *range(-500, 500))
    p.rpush("l:bigelem", "x" * 20000, "y", "z" * 70000)
    # Sets: intset, listpack (7.2), hashtable.
    p.sadd("set:intset", 1, 2, 3, -4, 2 ** 40)
    p.sadd("set:bigintset", *range(1000))
    p.sadd("set:small", "a", "b", "c")
    p.sadd("set:big", *[f"member-{i}" for i in range(1000)])
    # Hashes: listpack, hashtable (many fields, a long value).
    p.hset("h:small", mapping={"a": "1", "b": "two", "c": "-3"})
    p.hset("h:big", mapping={f"f{i}": f"v{i}" for i in range(1000)})
    p.hset("h:longvalue", mapping={"f": "v" * 200})
    # Sorted sets: listpack, skiplist, special scores.
    p.zadd("z:small", {"a": 1, "b": 2.5, "c": -3})
    p.zadd("z:big", {f"m{i}": i / 7 for i in range(1000)})
    p.zadd("z:inf", {"pinf": float("inf"), "ninf": float("-inf"), "zero": 0})
    p.execute()
    # Streams: several nodes, deleted entries, groups with pending entries and consumers.
    for i in range(250):
        c.xadd("st:big", {"f": i, "g": "x" * (i % 5)}, id=f"{1000 + i}-0")
    c.xadd("st:big", {"other": "fields"}, id="2000-1")
    c.xdel("st:big", "1003-0", "1010-0")
    c.xgroup_create("st:big", "g1", id="0")
    c.xgroup_create("st:big", "g2", id="$")
    c.xreadgroup("g1", "alice", {"st:big": ">"}, count=5)
    c.xreadgroup("g1", "bob", {"st:big": ">"}, count=3)
    c.xack("st:big", "g1", "1000-0")
    c.xadd("st:small", {"a": "1"})
    c.xadd("st:empty", {"a": "1"}, id="5-5")
    c.xdel("st:empty", "5-5")
    # Other databases.
    c.select(1)
    c.set("db1:key", "one")
    c.hset("db1:hash", "f", "v")
    c.set("db1:ttl", "v", ex=1000)
    c.select(9)
    c.zadd("db9:zset", {"x": 1})
    c.select(0)


def snapshot(c, db):
    """Every key of db: name -> (type, ttl ms, value in a comparable form)."""
    c.execute_command("SELECT", db)
    out = {}
    for k in c.scan_iter(count=1000):
        t = c.type(k).decode()
        ttl = c.pttl(k)
        if t == "string":
            v = c.get(k)
        elif t == "list":
            v = c.lrange(k, 0, -1)
        elif t == "set":
            v = sorted(c.smembers(k))
        elif t == "hash":
            v = sorted(c.hgetall(k).items())
        elif t == "zset":
            v = c.zrange(k, 0, -1, withscores=True)
        elif t == "stream":
            groups = []
            for g in c.xinfo_groups(k):
                name = g["name"]
                consumers = sorted((x["name"], x["pending"]) for x in c.xinfo_consumers(k, name))
                pending = [(p["message_id"], p["consumer"], p["times_delivered"])
                           for p in c.xpending_range(k, name, "-", "+", 1000)]
                groups.append((name, g["last-delivered-id"], g["pending"],
                               g.get("entries-read"), g.get("lag"), consumers, pending))
            info = c.xinfo_stream(k)
            v = (c.xrange(k), info["length"], info["last-generated-id"],
                 info.get("max-deleted-entry-id"), info.get("entries-added"), sorted(groups))
        else:
            raise AssertionError(f"unexpected type {t}")
        out[k] = (t, ttl, v)
    c.execute_command("SELECT", 0)
    return out


def assert_same(redis_c, fdb_c, dbs=(0, 1, 9)):
    for db in dbs:
        want, got = snapshot(redis_c, db), snapshot(fdb_c, db)
        assert sorted(got) == sorted(want), f"db {db}"
        for k, (t, ttl, v) in want.items():
            gt, gttl, gv = got[k]
            assert gt == t, k
            assert gv == v, k
            if ttl < 0:
                assert gttl == ttl, k
            else:
                assert abs(gttl - ttl) <= 2000, (k, ttl, gttl)


def save(c, name):
    """SAVE, and the file kept under its own name (dbfilename is a protected config)."""
    c.save()
    path = os.path.join(c.dir, name)
    shutil.copyfile(os.path.join(c.dir, "dump.rdb"), path)
    return path


def test_every_type_and_encoding_loads_as_redis_has_it(real_redis, fdb):
    fill(real_redis)
    path = save(real_redis, "all.rdb")
    assert fdb.execute_command("DEBUG", "LOADRDB", path) == b"OK"
    assert_same(real_redis, fdb)


def test_uncompressed_and_unchecksummed_files_load(fdb):
    plain = start_redis("--rdbcompression", "no", "--rdbchecksum", "no")
    try:
        fill(plain)
        path = save(plain, "plain.rdb")
        with open(path, "rb") as f:
            assert f.read()[-8:] == b"\0" * 8  # no checksum written
        assert fdb.execute_command("DEBUG", "LOADRDB", path) == b"OK"
        assert_same(plain, fdb)
    finally:
        stop_redis(plain)


def test_load_replaces_existing_keys_and_keeps_others(real_redis, fdb):
    real_redis.flushall()
    real_redis.set("a", "from-redis")
    real_redis.rpush("b", "x")
    path = save(real_redis, "small.rdb")
    fdb.set("a", "old")
    fdb.set("b", "a string before")
    fdb.set("mine", "kept")
    assert fdb.execute_command("DEBUG", "LOADRDB", path) == b"OK"
    assert fdb.get("a") == b"from-redis"
    assert fdb.lrange("b", 0, -1) == [b"x"]
    assert fdb.get("mine") == b"kept"


def test_functions_are_skipped_keys_still_load(real_redis, fdb):
    real_redis.flushall()
    real_redis.function_flush()
    real_redis.function_load("#!lua name=rdbtestlib\n"
                             "redis.register_function('rdbtestf', function() return 1 end)")
    real_redis.set("k", "v")
    path = save(real_redis, "func.rdb")
    real_redis.function_flush()
    assert fdb.execute_command("DEBUG", "LOADRDB", path) == b"OK"
    assert fdb.get("k") == b"v"


def test_truncated_corrupted_and_missing_files_are_errors(real_redis, fdb, tmp_path):
    real_redis.flushall()
    real_redis.rpush("l", *range(100))
    real_redis.set("s", "v" * 100)
    path = save(real_redis, "bad.rdb")
    data = open(path, "rb").read()

    truncated = tmp_path / "truncated.rdb"
    truncated.write_bytes(data[:len(data) // 2])
    with pytest.raises(redis.ResponseError, match="ends at offset"):
        fdb.execute_command("DEBUG", "LOADRDB", str(truncated))

    corrupted = tmp_path / "corrupted.rdb"
    bad = bytearray(data)
    bad[len(bad) - 20] ^= 0x55  # inside the last value: it parses, the checksum does not match
    corrupted.write_bytes(bytes(bad))
    with pytest.raises(redis.ResponseError, match="checksum|does not parse"):
        fdb.execute_command("DEBUG", "LOADRDB", str(corrupted))

    newer = tmp_path / "newer.rdb"
    newer.write_bytes(b"REDIS0012" + data[9:])
    with pytest.raises(redis.ResponseError, match="version 12 is not supported"):
        fdb.execute_command("DEBUG", "LOADRDB", str(newer))

    with pytest.raises(redis.ResponseError, match="No such file"):
        fdb.execute_command("DEBUG", "LOADRDB", str(tmp_path / "missing.rdb"))


def test_many_keys(real_redis, fdb):
    real_redis.flushall()
    p = real_redis.pipeline(transaction=False)
    for i in range(20000):
        p.set(f"key:{i}", f"value:{i}")
        if i % 10 == 0:
            p.hset(f"hash:{i}", mapping={"a": i, "b": "x"})
    p.execute()
    path = save(real_redis, "many.rdb")
    assert fdb.execute_command("DEBUG", "LOADRDB", path) == b"OK"
    assert fdb.dbsize() == real_redis.dbsize() == 22000
    assert fdb.get("key:19999") == b"value:19999"
    assert fdb.hgetall("hash:19990") == {b"a": b"19990", b"b": b"x"}


def test_loaded_keys_are_logged_and_survive_a_restart(real_redis, server_factory):
    real_redis.flushall()
    real_redis.hset("h", mapping={"a": "1", "b": "2"})
    real_redis.set("ttl", "v", ex=3600)
    real_redis.select(2)
    real_redis.sadd("in2", 1, 2, 3)
    real_redis.select(0)
    path = save(real_redis, "durable.rdb")
    s = server_factory("--enable-debug-command", "local")
    c = s.client(decode_responses=False)
    assert c.execute_command("DEBUG", "LOADRDB", path) == b"OK"
    c.close()
    s.stop()
    s.start()
    c = s.client(decode_responses=False)
    assert c.hgetall("h") == {b"a": b"1", b"b": b"2"}
    assert 3590_000 < c.pttl("ttl") <= 3600_000
    c.select(2)
    assert c.smembers("in2") == {b"1", b"2", b"3"}


def test_not_inside_multi_and_arity(real_redis, fdb):
    real_redis.flushall()
    real_redis.set("k", "v")
    path = save(real_redis, "multi.rdb")
    p = fdb.pipeline(transaction=True)
    p.execute_command("DEBUG", "LOADRDB", path)
    with pytest.raises(redis.ResponseError, match="not allowed in a transaction"):
        p.execute()
    assert fdb.exists("k") == 0
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        fdb.execute_command("DEBUG", "LOADRDB")
