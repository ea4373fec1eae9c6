"""Hash commands: HSET family, counters, HRANDFIELD, HSCAN, encodings, persistence.

Written against Redis 7.0 semantics; every test must pass against redis-server 7.0.15
(FDB_TEST_TARGET=redis) and is the spec for fdb-server.
"""

import time

import pytest
import redis

from conftest import TARGET

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def assert_error(r, msg, *args):
    """The command fails with exactly `msg` (redis-py strips nothing but the leading '-')."""
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    assert str(e.value) == msg


def test_hset_hget_hmget_hlen(r):
    assert r.hset("h", "f1", "v1") == 1
    assert r.execute_command("HSET", "h", "f1", "x", "f2", "v2", "f3", "v3") == 2
    assert r.hget("h", "f1") == "x"
    assert r.hget("h", "nope") is None
    assert r.hget("missing", "f") is None
    assert r.hmget("h", "f1", "nope", "f3") == ["x", None, "v3"]
    assert r.hmget("missing", "a", "b") == [None, None]
    assert r.hlen("h") == 3
    assert r.hlen("missing") == 0
    assert r.type("h") == "hash"


def test_hset_repeated_field_in_one_call(r):
    assert r.execute_command("HSET", "h", "f", "1", "f", "2") == 1
    assert r.hgetall("h") == {"f": "2"}


def test_hset_hmset_arity(r):
    assert_error(r, "wrong number of arguments for 'hset' command", "HSET", "h", "f", "v", "g")
    assert_error(r, "wrong number of arguments for 'hset' command", "HSET", "h", "f")
    assert_error(r, "wrong number of arguments for 'hmset' command", "HMSET", "h", "f", "v", "g")
    assert r.execute_command("HMSET", "h", "a", "1", "b", "2") in (True, "OK")
    assert r.hgetall("h") == {"a": "1", "b": "2"}
    assert r.exists("h") == 1


def test_hsetnx(r):
    assert r.hsetnx("h", "f", "1") == 1
    assert r.hsetnx("h", "f", "2") == 0
    assert r.hget("h", "f") == "1"


def test_hdel_removes_key_when_empty(r):
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    assert r.hdel("h", "a", "zz") == 1
    assert r.hdel("h", "a") == 0
    assert r.hdel("missing", "a") == 0
    assert r.hdel("h", "b", "c", "b") == 2
    assert r.exists("h") == 0


def test_hstrlen_hexists(r):
    r.hset("h", mapping={"f": "hello", "n": "12345"})
    assert r.hstrlen("h", "f") == 5
    assert r.hstrlen("h", "n") == 5
    assert r.hstrlen("h", "x") == 0
    assert r.hstrlen("missing", "x") == 0
    assert r.hexists("h", "f") is True
    assert r.hexists("h", "x") is False
    assert r.hexists("missing", "x") is False


def test_hkeys_hvals_hgetall(r):
    data = {f"f{i}": f"v{i}" for i in range(20)}
    r.hset("h", mapping=data)
    assert sorted(r.hkeys("h")) == sorted(data)
    assert sorted(r.hvals("h")) == sorted(data.values())
    assert r.hgetall("h") == data
    assert r.hkeys("missing") == []
    assert r.hvals("missing") == []
    assert r.hgetall("missing") == {}


def test_hgetall_wire_types(r2, r3):
    r2.hset("h", "f", "v")
    # RESP2: a flat array (redis-py turns it into a dict); RESP3: a map, parsed as a dict as is.
    assert r2.execute_command("HGETALL", "h") == {"f": "v"}
    assert r3.execute_command("HGETALL", "h") == {"f": "v"}
    assert r3.execute_command("HGETALL", "nokey") == {}


def test_hincrby(r):
    assert r.hincrby("h", "n", 5) == 5
    assert r.hincrby("h", "n", -7) == -2
    assert r.hget("h", "n") == "-2"
    r.hset("h", "s", "abc")
    r.hset("h", "sp", " 1")
    assert_error(r, "hash value is not an integer", "HINCRBY", "h", "s", "1")
    assert_error(r, "hash value is not an integer", "HINCRBY", "h", "sp", "1")
    assert_error(r, "value is not an integer or out of range", "HINCRBY", "h", "n", "1.5")
    r.hset("h", "big", str(2**63 - 1))
    assert_error(r, "increment or decrement would overflow", "HINCRBY", "h", "big", "1")
    assert r.hget("h", "big") == str(2**63 - 1)
    # A failed HINCRBY on a missing key leaves no key behind.
    assert_error(r, "value is not an integer or out of range", "HINCRBY", "new", "f", "x")
    assert r.exists("new") == 0


def test_hincrbyfloat(r):
    assert r.hincrbyfloat("h", "f", 1.5) == 1.5
    # The stored text is Redis's "human" long double format.
    r.hincrbyfloat("h", "f", "0.25")
    assert r.hget("h", "f") == "1.75"
    r.hincrbyfloat("h", "f", "-1.75")
    assert r.hget("h", "f") == "0"
    r.hincrbyfloat("h", "hex", "0x10")
    assert r.hget("h", "hex") == "16"
    r.hincrbyfloat("h", "e", "1e3")
    assert r.hget("h", "e") == "1000"
    r.hincrbyfloat("h", "third", "0.1")
    r.hincrbyfloat("h", "third", "0.2")
    assert r.hget("h", "third") == "0.3"
    r.hset("h", "s", "abc")
    assert_error(r, "hash value is not a float", "HINCRBYFLOAT", "h", "s", "1")
    assert_error(r, "value is not a valid float", "HINCRBYFLOAT", "h", "f", "x")
    assert_error(r, "value is NaN or Infinity", "HINCRBYFLOAT", "h", "f", "inf")
    r.hset("h", "huge", "1e4932")  # near the top of a long double's range
    assert_error(r, "increment would produce NaN or Infinity", "HINCRBYFLOAT", "h", "huge",
                 "1e4932")
    assert_error(r, "value is not a valid float", "HINCRBYFLOAT", "new", "f", "x")
    assert r.exists("new") == 0


def test_wrongtype(r):
    r.set("str", "x")
    for args in (("HSET", "str", "f", "v"), ("HGET", "str", "f"), ("HMGET", "str", "f"),
                 ("HDEL", "str", "f"), ("HLEN", "str"), ("HSTRLEN", "str", "f"),
                 ("HEXISTS", "str", "f"), ("HKEYS", "str"), ("HVALS", "str"),
                 ("HGETALL", "str"), ("HINCRBY", "str", "f", "1"),
                 ("HINCRBYFLOAT", "str", "f", "1"), ("HSETNX", "str", "f", "v"),
                 ("HRANDFIELD", "str"), ("HRANDFIELD", "str", "0"), ("HSCAN", "str", "0"),
                 ("HMSET", "str", "f", "v")):
        assert_error(r, WRONGTYPE, *args)
    r.hset("h", "f", "v")
    assert_error(r, WRONGTYPE, "GET", "h")


def test_hrandfield_no_count(r):
    assert r.hrandfield("missing") is None
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    seen = {r.hrandfield("h") for _ in range(100)}
    assert seen == {"a", "b", "c"}


@pytest.mark.parametrize("n", [5, 300])
def test_hrandfield_counts(r, n):
    data = {f"f{i}": f"v{i}" for i in range(n)}
    r.hset("h", mapping=data)
    assert r.hrandfield("h", 0) == []
    assert r.hrandfield("missing", 3) == []
    assert r.hrandfield("missing", -3, withvalues=True) == []
    # Positive: distinct, at most the size.
    got = r.hrandfield("h", 3)
    assert len(got) == 3 and len(set(got)) == 3 and set(got) <= set(data)
    got = r.hrandfield("h", n + 10)
    assert sorted(got) == sorted(data)
    got = r.hrandfield("h", n - 1)
    assert len(set(got)) == n - 1
    # Negative: exactly |count|, repetitions allowed.
    got = r.hrandfield("h", -(2 * n))
    assert len(got) == 2 * n and set(got) <= set(data)


def test_hrandfield_withvalues_shapes(r2, r3):
    for c in (r2, r3):
        c.hset("h", mapping={"a": "1", "b": "2"})
    # RESP2: a flat list of field, value.
    flat = r2.execute_command("HRANDFIELD", "h", "-3", "WITHVALUES")
    assert len(flat) == 6
    for f, v in zip(flat[::2], flat[1::2]):
        assert {"a": "1", "b": "2"}[f] == v
    assert sorted(r2.execute_command("HRANDFIELD", "h", "5", "WITHVALUES")) == ["1", "2", "a", "b"]
    # RESP3: pairs.
    pairs = r3.execute_command("HRANDFIELD", "h", "-3", "WITHVALUES")
    assert len(pairs) == 3
    for p in pairs:
        assert list(p) in (["a", "1"], ["b", "2"])
    pairs = r3.execute_command("HRANDFIELD", "h", "1", "WITHVALUES")
    assert len(pairs) == 1 and list(pairs[0]) in (["a", "1"], ["b", "2"])


def test_hrandfield_errors(r):
    r.hset("h", "a", "1")
    assert_error(r, "syntax error", "HRANDFIELD", "h", "1", "WITHSCORES")
    assert_error(r, "syntax error", "HRANDFIELD", "h", "1", "WITHVALUES", "x")
    assert_error(r, "value is not an integer or out of range", "HRANDFIELD", "h", "x")
    assert_error(r, "value is out of range", "HRANDFIELD", "h", str(-(2**62)), "WITHVALUES")
    assert_error(r, "value is out of range, value must between -9223372036854775807 and "
                 "9223372036854775807", "HRANDFIELD", "h", str(-(2**63)))


@pytest.mark.parametrize("n", [10, 1000])
def test_hscan_returns_everything(r, n):
    data = {f"field:{i}": f"v{i}" for i in range(n)}
    r.hset("h", mapping=data)
    got = {}
    cursor = 0
    calls = 0
    while True:
        cursor, part = r.hscan("h", cursor, count=20)
        got.update(part)
        calls += 1
        if cursor == 0:
            break
    assert got == data
    if n == 1000:
        assert calls > 5  # a big hash is returned in steps


def test_hscan_match_and_errors(r):
    r.hset("h", mapping={f"a{i}": "x" for i in range(5)} | {f"b{i}": "y" for i in range(5)})
    cursor, part = r.hscan("h", 0, match="a*", count=1000)
    assert cursor == 0 and sorted(part) == [f"a{i}" for i in range(5)]
    assert r.hscan("missing", 0) == (0, {})
    assert_error(r, "invalid cursor", "HSCAN", "h", "x")
    assert_error(r, "syntax error", "HSCAN", "h", "0", "COUNT", "0")
    assert_error(r, "value is not an integer or out of range", "HSCAN", "h", "0", "COUNT", "x")
    assert_error(r, "syntax error", "HSCAN", "h", "0", "MATCH")
    assert_error(r, "syntax error", "HSCAN", "h", "0", "TYPE", "string")
    # A missing key answers an empty scan before the options are read (as Redis).
    assert r.execute_command("HSCAN", "missing", "0", "BAD") == (0, {})


def test_encodings(r):
    # Redis's built-in default is 512 fields: set the threshold this test exercises.
    old = r.config_get("hash-max-listpack-entries")["hash-max-listpack-entries"]
    r.config_set("hash-max-listpack-entries", 128)
    try:
        r.hset("h", mapping={f"f{i}": "v" for i in range(128)})
        assert r.object("encoding", "h") == "listpack"
        r.hset("h", "one-more", "v")
        assert r.object("encoding", "h") == "hashtable"
        r.hset("h2", "f", "x" * 64)
        assert r.object("encoding", "h2") == "listpack"
        r.hset("h2", "f", "x" * 65)
        assert r.object("encoding", "h2") == "hashtable"
        assert r.hget("h2", "f") == "x" * 65
    finally:
        r.config_set("hash-max-listpack-entries", old)


def test_big_hash_operations(r):
    data = {f"element:{i}": "x" * (i % 100) for i in range(5000)}
    pipe = r.pipeline(transaction=False)
    for i in range(0, 5000, 500):
        pipe.hset("big", mapping={k: data[k] for k in list(data)[i:i + 500]})
    pipe.execute()
    assert r.hlen("big") == 5000
    assert r.hget("big", "element:4999") == data["element:4999"]
    assert r.hgetall("big") == data
    assert r.hdel("big", *[f"element:{i}" for i in range(0, 5000, 2)]) == 2500
    assert r.hlen("big") == 2500
    assert r.hexists("big", "element:2") is False
    assert r.hexists("big", "element:3") is True


def test_copy_rename_and_type_of_hash(r):
    r.hset("h", mapping={"a": "1", "b": "2"})
    assert r.copy("h", "h2") is True
    r.hset("h2", "c", "3")
    assert r.hgetall("h") == {"a": "1", "b": "2"}
    assert r.hgetall("h2") == {"a": "1", "b": "2", "c": "3"}
    r.rename("h2", "h3")
    assert r.hgetall("h3") == {"a": "1", "b": "2", "c": "3"}
    assert r.type("h3") == "hash"
    cursor, keys = r.scan(0, _type="hash", count=100)
    assert sorted(keys) == ["h", "h3"]


fdb_only = pytest.mark.skipif(TARGET == "redis", reason="FDB's own persistence flags")


def test_hash_survives_restart(server_factory):
    s = server_factory("--appendonly", "yes") if TARGET == "redis" else server_factory()
    c = s.client()
    c.hset("small", mapping={"a": "1", "b": "2"})
    c.hset("big", mapping={f"f{i}": str(i) for i in range(1000)})
    c.hincrby("small", "a", 10)
    c.hincrbyfloat("small", "fl", "1.5")
    c.hdel("big", *[f"f{i}" for i in range(500)])
    c.hdel("gone", "x")
    c.hset("gone", "x", "1")
    c.hdel("gone", "x")
    s.stop()
    s.start()
    c = s.client()
    assert c.hgetall("small") == {"a": "11", "b": "2", "fl": "1.5"}
    assert c.hgetall("big") == {f"f{i}": str(i) for i in range(500, 1000)}
    assert c.exists("gone") == 0


@fdb_only
def test_hash_evicted_and_read_back(server_factory):
    s = server_factory("--maxmemory", "200000")
    c = s.client()
    for k in range(10):
        c.hset(f"h{k}", mapping={f"f{i}": "v" * 50 for i in range(1000)})
    # The server's housekeeping evicts values changed by deltas (writing their image first).
    deadline = time.time() + 10
    while c.info("cache")["cache_evictions"] == 0 and time.time() < deadline:
        time.sleep(0.05)
    assert c.info("cache")["cache_evictions"] > 0
    misses = c.info("cache")["cache_misses"]
    for k in range(10):
        assert c.hlen(f"h{k}") == 1000
        c.hset(f"h{k}", "new", "1")
        assert c.hget(f"h{k}", "f999") == "v" * 50
    assert c.info("cache")["cache_misses"] > misses  # read back from disk
    s.stop()
    s.start()
    c = s.client()
    for k in range(10):
        assert c.hlen(f"h{k}") == 1001
        assert c.hget(f"h{k}", "new") == "1"
