"""The encoding thresholds of hashes, sets and sorted sets (hash-max-listpack-entries / -value,
set-max-intset-entries, set-max-listpack-entries / -value, zset-max-listpack-entries / -value):
CONFIG SET takes effect on the next write, a small encoding converts when a write passes either
threshold and never back, OBJECT ENCODING reports it, and a restart keeps the data and chooses
the encodings by size. Also ZSCAN's guarantee on a skiplist zset: a member present for the whole
scan is returned while others are removed and added between calls.

Written against Redis 7.0 semantics; every test must pass against redis-server 7.0.15
(FDB_TEST_TARGET=redis) but those marked FDB-only (the 7.2 set listpack, FDB's reload). Each test
taking `r` runs in RESP2 and RESP3.
"""

import os
import signal
import time

import pytest

ON_REDIS = os.environ.get("FDB_TEST_TARGET") == "redis"
fdb_only = pytest.mark.skipif(ON_REDIS, reason="FDB-only behaviour")

THRESHOLDS = ["hash-max-listpack-entries", "hash-max-listpack-value", "set-max-intset-entries",
              "zset-max-listpack-entries", "zset-max-listpack-value"]
if not ON_REDIS:
    THRESHOLDS += ["set-max-listpack-entries", "set-max-listpack-value"]


@pytest.fixture
def c(r):
    """`r` with the thresholds put back after the test (the server is shared)."""
    saved = {}
    for name in THRESHOLDS:
        saved.update(r.config_get(name))
    r.flushall()
    yield r
    for name, value in saved.items():
        r.config_set(name, value)
    r.flushall()


def enc(r, key):
    return r.object("encoding", key)


def test_hash_converts_at_the_configured_thresholds(c):
    c.config_set("hash-max-listpack-entries", 4)
    c.config_set("hash-max-listpack-value", 8)
    c.hset("h", mapping={f"f{i}": "12345678" for i in range(4)})
    assert enc(c, "h") == "listpack"
    c.hset("h", "f4", "x")
    assert enc(c, "h") == "hashtable"
    c.hset("long-value", "f", "123456789")
    assert enc(c, "long-value") == "hashtable"
    c.hset("long-field", "field-of-9", "v")
    assert enc(c, "long-field") == "hashtable"
    c.hset("fits", "f", "12345678")
    assert enc(c, "fits") == "listpack"
    # Never back: small again, and the thresholds raised.
    c.config_set("hash-max-listpack-entries", 128)
    c.hdel("h", "f0", "f1", "f2", "f3")
    assert enc(c, "h") == "hashtable"
    assert c.hgetall("h") == {"f4": "x"}


def test_hash_zero_entries_makes_a_hashtable_at_once(c):
    c.config_set("hash-max-listpack-entries", 0)
    c.hset("h", "f", "v")
    assert enc(c, "h") == "hashtable"
    assert c.hgetall("h") == {"f": "v"}


def test_hash_lowered_threshold_converts_on_the_next_write(c):
    c.hset("h", mapping={f"f{i}": "v" for i in range(10)})
    assert enc(c, "h") == "listpack"
    c.config_set("hash-max-listpack-entries", 5)
    assert c.hget("h", "f3") == "v"
    assert enc(c, "h") == "listpack"  # CONFIG SET converts nothing by itself
    c.hset("h", "f3", "w")  # an update is a write: Redis's hashTypeSet converts
    assert enc(c, "h") == "hashtable"
    assert c.hlen("h") == 10


def test_hincrbyfloat_past_the_value_threshold(c):
    c.config_set("hash-max-listpack-value", 8)
    c.hset("h", "f", "1")
    c.hincrbyfloat("h", "f", "1.23456789")
    assert enc(c, "h") == "hashtable"
    assert c.hget("h", "f") == "2.23456789"


def test_set_intset_threshold(c):
    c.config_set("set-max-intset-entries", 3)
    c.sadd("s", 1, 2, 3)
    assert enc(c, "s") == "intset"
    c.sadd("s", 4)
    assert enc(c, "s") == "hashtable"
    c.srem("s", 1, 2, 3)
    assert enc(c, "s") == "hashtable"
    assert c.smembers("s") == {"4"}
    c.config_set("set-max-intset-entries", 0)
    c.sadd("zero", 1)
    assert enc(c, "zero") == "hashtable"


@fdb_only
def test_set_listpack_thresholds(c):
    c.config_set("set-max-listpack-entries", 3)
    c.config_set("set-max-listpack-value", 5)
    c.sadd("s", "a", "bb", "ccccc")
    assert enc(c, "s") == "listpack"
    c.sadd("s", "d")
    assert enc(c, "s") == "hashtable"
    c.sadd("long", "abcdef")
    assert enc(c, "long") == "hashtable"
    c.sadd("ints", 1, 2)
    assert enc(c, "ints") == "intset"
    c.sadd("ints", "x")  # a string: to a listpack while it fits
    assert enc(c, "ints") == "listpack"
    c.sadd("ints", "y")
    assert enc(c, "ints") == "hashtable"
    c.config_set("set-max-listpack-entries", 0)
    c.sadd("zero", "a")
    assert enc(c, "zero") == "hashtable"


def test_zset_converts_at_the_configured_thresholds(c):
    c.config_set("zset-max-listpack-entries", 3)
    c.config_set("zset-max-listpack-value", 4)
    c.zadd("z", {"a": 1, "bb": 2, "cccc": 3})
    assert enc(c, "z") == "listpack"
    c.zadd("z", {"d": 4})
    assert enc(c, "z") == "skiplist"
    c.zadd("long", {"abcde": 1})
    assert enc(c, "long") == "skiplist"
    c.config_set("zset-max-listpack-entries", 128)
    c.zrem("z", "a", "d")
    assert enc(c, "z") == "skiplist"
    assert [tuple(p) for p in c.zrange("z", 0, -1, withscores=True)] == [("bb", 2.0),
                                                                          ("cccc", 3.0)]


def test_zset_zero_entries_makes_a_skiplist_at_once(c):
    c.config_set("zset-max-listpack-entries", 0)
    c.zadd("z", {"a": 1})
    assert enc(c, "z") == "skiplist"
    c.zincrby("z2", 1, "a")
    assert enc(c, "z2") == "skiplist"


def test_zunionstore_result_takes_the_encoding_its_size_calls_for(c):
    c.config_set("zset-max-listpack-entries", 3)
    c.zadd("a", {"x": 1, "y": 2})
    c.zadd("b", {"y": 1, "z": 2})
    c.zunionstore("u", ["a", "b"])
    assert enc(c, "u") == "listpack"
    c.zadd("b", {"w": 5})
    c.zunionstore("u", ["a", "b"])
    assert enc(c, "u") == "skiplist"


THRESHOLD_FLAGS = ("--hash-max-listpack-entries", "4", "--set-max-intset-entries", "3",
                   "--zset-max-listpack-entries", "3")


def write_collections(k):
    k.hset("h", mapping={f"f{i}": "v" for i in range(6)})
    k.hdel("h", "f0", "f1", "f2", "f3", "f4")  # a hashtable of one field
    k.hset("hsmall", mapping={"a": "1"})
    k.sadd("s", 1, 2, 3, 4, 5)
    k.srem("s", 1, 2, 3, 4)
    k.zadd("z", {f"m{i}": i for i in range(5)})
    k.zrem("z", "m0", "m1", "m2", "m3")
    k.zadd("zbig", {f"m{i}": i for i in range(10)})


def check_collections(k):
    assert k.hgetall("h") == {"f5": "v"}
    assert k.hgetall("hsmall") == {"a": "1"}
    assert k.smembers("s") == {"5"}
    assert k.zrange("z", 0, -1, withscores=True) == [("m4", 4.0)]
    assert k.zcard("zbig") == 10


@fdb_only
def test_restart_after_a_checkpoint_chooses_encodings_by_size(server_factory):
    """A clean stop writes a checkpoint; recovery decodes its images, each taking the encoding
    its size calls for under the thresholds of the moment, as Redis loading an RDB file."""
    s = server_factory(*THRESHOLD_FLAGS)
    k = s.client()
    write_collections(k)
    assert [enc(k, x) for x in ("h", "hsmall", "s", "z", "zbig")] == [
        "hashtable", "listpack", "hashtable", "skiplist", "skiplist"]
    s.stop()
    s.start()
    k = s.client()
    check_collections(k)
    assert [enc(k, x) for x in ("h", "hsmall", "s", "z", "zbig")] == [
        "listpack", "listpack", "intset", "listpack", "skiplist"]
    # The thresholds given at startup apply to the writes after recovery.
    k.hset("hsmall", mapping={"b": "2", "c": "3", "d": "4"})
    assert enc(k, "hsmall") == "listpack"
    k.hset("hsmall", "e", "5")
    assert enc(k, "hsmall") == "hashtable"


@fdb_only
def test_restart_from_the_log_replays_the_conversions(server_factory):
    """Killed before any checkpoint, the server rebuilds each value from its logged records,
    converting as the live writes did (as Redis replaying an AOF)."""
    s = server_factory(*THRESHOLD_FLAGS)
    k = s.client()
    write_collections(k)
    s.stop(signal.SIGKILL)
    s.start()
    k = s.client()
    check_collections(k)
    assert [enc(k, x) for x in ("h", "hsmall", "s", "z", "zbig")] == [
        "hashtable", "listpack", "hashtable", "skiplist", "skiplist"]


@fdb_only
def test_restart_under_other_thresholds(server_factory):
    """Started again with the default thresholds, recovery uses those."""
    s = server_factory(*THRESHOLD_FLAGS)
    k = s.client()
    write_collections(k)
    s.stop()
    s.args = s.args[:-len(THRESHOLD_FLAGS)]
    s.start()
    k = s.client()
    check_collections(k)
    assert enc(k, "zbig") == "listpack"  # 10 members: small under the default 128
    assert enc(k, "s") == "intset"


@fdb_only
def test_value_read_back_after_eviction_takes_the_encoding_its_size_calls_for(server_factory):
    """A value evicted to disk is decoded from its image when read again: as after a restart, it
    takes the encoding its size calls for; one still in RAM keeps its own."""
    s = server_factory("--maxmemory", "200000", *THRESHOLD_FLAGS)
    k = s.client()
    for i in range(50):
        k.hset(f"h{i}", mapping={f"f{j}": "v" for j in range(6)})
        k.hdel(f"h{i}", "f0", "f1", "f2", "f3", "f4")  # a hashtable of one field
    for i in range(10):
        k.hset(f"fill{i}", mapping={f"f{j}": "v" * 50 for j in range(1000)})
    deadline = time.time() + 10
    while k.info("cache")["cache_evictions"] == 0 and time.time() < deadline:
        time.sleep(0.05)
    read_back = 0
    for i in range(50):
        misses = k.info("cache")["cache_misses"]
        assert k.hgetall(f"h{i}") == {"f5": "v"}
        if k.info("cache")["cache_misses"] > misses:
            read_back += 1
            assert enc(k, f"h{i}") == "listpack"
        else:
            assert enc(k, f"h{i}") == "hashtable"
    assert read_back > 0


# ---------------------------------------------------------------------------
# ZSCAN of a skiplist zset


def zscan_all_with_churn(k, key, count, between):
    """Scans `key` to the end calling between(step) after each call; returns the members seen."""
    seen = set()
    cursor, step = 0, 0
    while True:
        cursor, items = k.zscan(key, cursor, count=count)
        seen.update(m for m, _ in items)
        between(step)
        step += 1
        if cursor == 0:
            return seen
        assert step < 100000


def test_zscan_returns_every_member_present_while_others_are_removed(c):
    # Stable members interleave with churning ones in (score, member) order, and the churning
    # ones are removed from the lowest scores up: a cursor that counted ranks would skip stable
    # members every time members below it went away.
    c.zadd("z", {f"s{i}": 2 * i for i in range(1000)})
    c.zadd("z", {f"c{i}": 2 * i + 1 for i in range(1000)})
    assert enc(c, "z") == "skiplist"
    removed = [0]

    def between(step):
        lo = removed[0]
        if lo < 1000:
            c.zrem("z", *[f"c{i}" for i in range(lo, min(lo + 40, 1000))])
            removed[0] = lo + 40

    seen = zscan_all_with_churn(c, "z", 20, between)
    missed = [i for i in range(1000) if f"s{i}" not in seen]
    assert missed == []


def test_zscan_returns_every_member_present_while_others_are_added(c):
    c.zadd("z", {f"s{i}": i for i in range(500)})
    added = [0]

    def between(step):
        n = added[0]
        if n < 20000:
            # New members below every stable one, so a rank cursor would repeat instead of
            # advance, and the member index grows under the cursor.
            c.zadd("z", {f"n{j}": -1 - j for j in range(n, n + 400)})
            added[0] = n + 400

    seen = zscan_all_with_churn(c, "z", 20, between)
    assert [i for i in range(500) if f"s{i}" not in seen] == []


def test_zscan_skiplist_cursor_covers_the_set(c):
    c.config_set("zset-max-listpack-entries", 0)
    c.zadd("z", {f"m{i}": i for i in range(50)})
    assert enc(c, "z") == "skiplist"
    seen = zscan_all_with_churn(c, "z", 5, lambda step: None)
    assert seen == {f"m{i}" for i in range(50)}
    cursor, items = c.zscan("z", 0, match="m1*", count=1000)
    assert cursor == 0
    assert sorted(m for m, _ in items) == sorted(["m1"] + [f"m1{i}" for i in range(10)])
