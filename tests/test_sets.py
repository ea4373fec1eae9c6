"""Set commands: SADD family, random draws, SMOVE, algebra, SSCAN, encodings, persistence.

Written against Redis 7.0 semantics; every test must pass against redis-server 7.0.15
(FDB_TEST_TARGET=redis) and is the spec for fdb-server.
"""

import time

import pytest
import redis

from conftest import TARGET

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def assert_error(r, msg, *args):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    assert str(e.value) == msg


def test_sadd_srem_scard_sismember(r):
    assert r.sadd("s", "a", "b", "c", "a") == 3
    assert r.sadd("s", "a") == 0
    assert r.scard("s") == 3
    assert r.scard("missing") == 0
    assert r.sismember("s", "a") is True or r.sismember("s", "a") == 1
    assert r.sismember("s", "z") in (False, 0)
    assert r.sismember("missing", "z") in (False, 0)
    assert r.smismember("s", "a", "z", "c") == [1, 0, 1]
    assert r.smismember("missing", "a", "b") == [0, 0]
    assert r.srem("s", "a", "z") == 1
    assert r.srem("missing", "a") == 0
    assert r.smembers("s") == {"b", "c"}
    assert r.srem("s", "b", "c") == 2
    assert r.exists("s") == 0
    assert r.smembers("missing") == set()
    assert r.type("missing") == "none"


def test_smembers_resp3_is_a_set(r3):
    r3.sadd("s", "a", "b")
    assert r3.execute_command("SMEMBERS", "s") == {"a", "b"}
    assert r3.execute_command("SINTER", "s") == {"a", "b"}


def test_intset_members_and_encodings(r):
    members = ["5", "-3", "70000", "-9223372036854775808", "9223372036854775807", "0"]
    assert r.sadd("i", *members) == 6
    assert r.object("encoding", "i") == "intset"
    assert r.smembers("i") == set(members)
    assert r.sismember("i", "70000")
    assert not r.sismember("i", "070000")
    r.sadd("i", "x")
    assert r.object("encoding", "i") in ("listpack", "hashtable")
    if TARGET != "redis":
        assert r.object("encoding", "i") == "listpack"  # Redis 7.2's small-set encoding
    assert r.smembers("i") == set(members) | {"x"}
    r.sadd("big", *range(513))
    assert r.object("encoding", "big") == "hashtable"
    r.sadd("ints", *range(512))
    assert r.object("encoding", "ints") == "intset"
    r.sadd("long", "a", "x" * 65)
    assert r.object("encoding", "long") == "hashtable"


def test_spop(r):
    assert r.spop("missing") is None
    assert r.spop("missing", 3) in ([], set())
    r.sadd("s", *[f"m{i}" for i in range(10)])
    m = r.spop("s")
    assert m.startswith("m") and not r.sismember("s", m)
    got = r.spop("s", 3)
    assert len(got) == 3 and r.scard("s") == 6
    for x in got:
        assert not r.sismember("s", x)
    assert r.spop("s", 0) in ([], set())
    rest = r.spop("s", 100)
    assert len(rest) == 6
    assert r.exists("s") == 0
    assert_error(r, "value is out of range, must be positive", "SPOP", "s", "-1")
    assert_error(r, "value is out of range, must be positive", "SPOP", "s", "x")
    assert_error(r, "syntax error", "SPOP", "s", "1", "2")


def test_spop_count_resp3_is_a_set(r3):
    r3.sadd("s", "a", "b", "c")
    assert r3.execute_command("SPOP", "s", "2").__class__ in (set, list)
    assert len(r3.execute_command("SPOP", "s", "5")) == 1


@pytest.mark.parametrize("n", [5, 60, 1000])
def test_srandmember(r, n):
    members = {f"m{i}" for i in range(n)} if n != 5 else {str(i) for i in range(n)}
    r.sadd("s", *members)
    assert r.srandmember("missing") is None
    assert r.srandmember("missing", 5) == []
    assert r.srandmember("s") in members
    assert r.srandmember("s", 0) == []
    got = r.srandmember("s", 3)
    assert len(got) == 3 and len(set(got)) == 3 and set(got) <= members
    got = r.srandmember("s", n - 1)
    assert len(set(got)) == n - 1
    assert sorted(r.srandmember("s", n + 5)) == sorted(members)
    got = r.srandmember("s", -3 * n)
    assert len(got) == 3 * n and set(got) <= members
    assert r.scard("s") == n  # nothing removed
    assert_error(r, "value is not an integer or out of range", "SRANDMEMBER", "s", "x")
    assert_error(r, "value is out of range, value must between -9223372036854775807 and "
                 "9223372036854775807", "SRANDMEMBER", "s", str(-(2**63)))
    assert_error(r, "syntax error", "SRANDMEMBER", "s", "1", "2")


def test_smove(r):
    r.sadd("a", "x", "y")
    r.sadd("b", "z")
    assert r.smove("a", "b", "x") is True
    assert r.smembers("a") == {"y"} and r.smembers("b") == {"x", "z"}
    assert r.smove("a", "b", "nope") is False
    assert r.smove("missing", "b", "x") is False
    assert r.smove("a", "new", "y") is True
    assert r.exists("a") == 0
    assert r.smembers("new") == {"y"}
    # The member already in the destination: still moved out of the source.
    r.sadd("c", "y", "w")
    assert r.smove("c", "new", "y") is True
    assert r.smembers("c") == {"w"} and r.smembers("new") == {"y"}
    # Same key.
    assert r.smove("c", "c", "w") is True
    assert r.smove("c", "c", "q") is False
    assert r.smembers("c") == {"w"}
    r.set("str", "v")
    assert_error(r, WRONGTYPE, "SMOVE", "str", "c", "w")
    assert_error(r, WRONGTYPE, "SMOVE", "c", "str", "w")
    assert r.smove("missing", "str", "w") is False
    assert r.smembers("c") == {"w"}


def test_sinter_sunion_sdiff(r):
    r.sadd("a", "1", "2", "3", "x")
    r.sadd("b", "2", "3", "4", "x", "y")
    r.sadd("c", "3", "x", "z")
    assert r.sinter("a", "b", "c") == {"3", "x"}
    assert r.sinter("a") == {"1", "2", "3", "x"}
    assert r.sinter("a", "missing") == set()
    assert r.sunion("a", "b", "c", "missing") == {"1", "2", "3", "4", "x", "y", "z"}
    assert r.sdiff("a", "b") == {"1"}
    assert r.sdiff("b", "a", "c") == {"4", "y"}
    assert r.sdiff("missing", "a") == set()
    assert r.sdiff("a", "missing") == {"1", "2", "3", "x"}
    r.set("str", "v")
    for cmd in ("SINTER", "SUNION", "SDIFF"):
        assert_error(r, WRONGTYPE, cmd, "a", "str")
        assert_error(r, WRONGTYPE, cmd, "missing", "str")


def test_store_commands(r):
    r.sadd("a", "1", "2", "3")
    r.sadd("b", "2", "3", "4")
    assert r.sinterstore("d", "a", "b") == 2
    assert r.smembers("d") == {"2", "3"}
    assert r.object("encoding", "d") == "intset"
    assert r.sunionstore("d", "a", "b") == 4
    assert r.smembers("d") == {"1", "2", "3", "4"}
    assert r.sdiffstore("d", "a", "b") == 1
    assert r.smembers("d") == {"1"}
    # The destination may be a source.
    assert r.sunionstore("a", "a", "b") == 4
    assert r.smembers("a") == {"1", "2", "3", "4"}
    # An empty result deletes the destination, whatever its type; a result replaces any type.
    r.set("str", "v", ex=100)
    assert r.sinterstore("str", "a", "missing") == 0
    assert r.exists("str") == 0
    r.set("str", "v", ex=100)
    assert r.sunionstore("str", "b") == 3
    assert r.type("str") == "set" and r.ttl("str") == -1
    r.set("s2", "v")
    assert_error(r, WRONGTYPE, "SINTERSTORE", "d", "a", "s2")
    assert_error(r, WRONGTYPE, "SDIFFSTORE", "d", "s2")
    assert r.smembers("d") == {"1"}


def test_sintercard(r):
    r.sadd("a", "1", "2", "3", "x")
    r.sadd("b", "2", "3", "x", "y")
    assert r.sintercard(2, ["a", "b"]) == 3
    assert r.sintercard(2, ["a", "b"], limit=2) == 2
    assert r.sintercard(2, ["a", "b"], limit=0) == 3
    assert r.sintercard(1, ["a"]) == 4
    assert r.sintercard(2, ["a", "missing"]) == 0
    assert_error(r, "numkeys should be greater than 0", "SINTERCARD", "0", "a")
    assert_error(r, "numkeys should be greater than 0", "SINTERCARD", "x", "a")
    assert_error(r, "Number of keys can't be greater than number of args", "SINTERCARD", "3",
                 "a", "b")
    assert_error(r, "LIMIT can't be negative", "SINTERCARD", "1", "a", "LIMIT", "-1")
    assert_error(r, "LIMIT can't be negative", "SINTERCARD", "1", "a", "LIMIT", "x")
    assert_error(r, "syntax error", "SINTERCARD", "1", "a", "LIMIT")
    assert_error(r, "syntax error", "SINTERCARD", "1", "a", "b")
    r.set("str", "v")
    assert_error(r, WRONGTYPE, "SINTERCARD", "2", "a", "str")


@pytest.mark.parametrize("n", [10, 100, 2000])
def test_sscan_returns_everything(r, n):
    members = {f"m{i}" for i in range(n)} if n != 100 else {str(i) for i in range(n)}
    r.sadd("s", *members)
    got = set()
    cursor = 0
    while True:
        cursor, part = r.sscan("s", cursor, count=25)
        got.update(part)
        if cursor == 0:
            break
    assert got == members


def test_sscan_match_and_errors(r):
    r.sadd("s", *[f"a{i}" for i in range(5)], *[f"b{i}" for i in range(5)])
    got = set()
    cursor = 0
    while True:
        cursor, part = r.sscan("s", cursor, match="a*", count=1000)
        got.update(part)
        if cursor == 0:
            break
    assert got == {f"a{i}" for i in range(5)}
    assert r.sscan("missing", 0) == (0, [])
    assert_error(r, "invalid cursor", "SSCAN", "s", "x")
    assert_error(r, "syntax error", "SSCAN", "s", "0", "COUNT", "0")
    assert_error(r, "syntax error", "SSCAN", "s", "0", "FOO", "1")


def test_wrongtype(r):
    r.set("str", "x")
    for args in (("SADD", "str", "a"), ("SREM", "str", "a"), ("SISMEMBER", "str", "a"),
                 ("SMISMEMBER", "str", "a"), ("SCARD", "str"), ("SMEMBERS", "str"),
                 ("SRANDMEMBER", "str"), ("SRANDMEMBER", "str", "2"), ("SPOP", "str"),
                 ("SPOP", "str", "2"), ("SSCAN", "str", "0")):
        assert_error(r, WRONGTYPE, *args)
    r.sadd("s", "a")
    assert_error(r, WRONGTYPE, "HGET", "s", "a")


def test_big_set_operations(r):
    r.sadd("big", *[f"member:{i}" for i in range(5000)])
    r.sadd("odd", *[f"member:{i}" for i in range(1, 5000, 2)])
    assert r.scard("big") == 5000
    assert r.sinter("big", "odd") == {f"member:{i}" for i in range(1, 5000, 2)}
    assert r.sdiffstore("even", "big", "odd") == 2500
    assert r.srem("big", *[f"member:{i}" for i in range(4000)]) == 4000
    assert r.scard("big") == 1000
    assert len(r.spop("big", 999)) == 999
    assert r.scard("big") == 1


def test_set_survives_restart(server_factory):
    s = server_factory("--appendonly", "yes") if TARGET == "redis" else server_factory()
    c = s.client()
    c.sadd("ints", 1, 2, 3)
    c.sadd("strs", *[f"m{i}" for i in range(300)])
    c.srem("strs", *[f"m{i}" for i in range(100)])
    popped = c.spop("strs", 50)
    c.sadd("src", "x", "y")
    c.smove("src", "dst", "x")
    c.sunionstore("u", "ints", "src")
    s.stop()
    s.start()
    c = s.client()
    assert c.smembers("ints") == {"1", "2", "3"}
    assert c.smembers("strs") == {f"m{i}" for i in range(100, 300)} - set(popped)
    assert c.smembers("src") == {"y"} and c.smembers("dst") == {"x"}
    assert c.smembers("u") == {"1", "2", "3", "y"}


fdb_only = pytest.mark.skipif(TARGET == "redis", reason="FDB's cache flags")


@fdb_only
def test_set_evicted_and_read_back(server_factory):
    s = server_factory("--maxmemory", "200000")
    c = s.client()
    for k in range(10):
        c.sadd(f"s{k}", *[f"member-{i:040d}" for i in range(1000)])
    # The server's housekeeping evicts values changed by deltas (writing their image first).
    deadline = time.time() + 10
    while c.info("cache")["cache_evictions"] == 0 and time.time() < deadline:
        time.sleep(0.05)
    assert c.info("cache")["cache_evictions"] > 0
    misses = c.info("cache")["cache_misses"]
    for k in range(10):
        assert c.scard(f"s{k}") == 1000
        c.sadd(f"s{k}", "new")
        c.srem(f"s{k}", "member-" + "0" * 40)
    assert c.info("cache")["cache_misses"] > misses  # read back from disk
    s.stop()
    s.start()
    c = s.client()
    for k in range(10):
        assert c.scard(f"s{k}") == 1000
        assert c.sismember(f"s{k}", "new")
