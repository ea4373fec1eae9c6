"""SORT and SORT_RO (src/commands/sort_family.cc), in RESP2 and RESP3, against Redis 7's
semantics: numeric and ALPHA order, BY and GET patterns (keys and hash fields), LIMIT, DESC,
STORE, errors."""

import re
import signal
import threading
import time

import pytest
import redis


def test_numeric_alpha_desc_and_limit(r):
    r.rpush("l", 3, 10, 1, 2.5, -4)
    assert r.sort("l") == ["-4", "1", "2.5", "3", "10"]
    assert r.sort("l", desc=True) == ["10", "3", "2.5", "1", "-4"]
    assert r.sort("l", alpha=True) == ["-4", "1", "10", "2.5", "3"]
    assert r.sort("l", start=1, num=2) == ["1", "2.5"]
    assert r.sort("l", start=-5, num=2) == ["-4", "1"]  # a negative offset is 0
    assert r.sort("l", start=4, num=-1) == ["10"]  # a negative count is "to the end"
    assert r.sort("l", start=10, num=2) == []
    r.sadd("s", 5, 3, 9)
    assert r.sort("s") == ["3", "5", "9"]
    r.zadd("z", {"a": 3, "b": 1, "c": 2})
    assert r.sort("z", alpha=True) == ["a", "b", "c"]
    assert r.sort("missing") == []


def test_equal_scores_sort_by_element(r):
    r.rpush("l", "b", "a", "c")
    for x in "abc":
        r.set(f"w_{x}", 1)
    assert r.sort("l", by="w_*") == ["a", "b", "c"]
    assert r.sort("l", by="w_*", desc=True) == ["c", "b", "a"]


def test_by_and_get_patterns(r):
    r.rpush("ids", 1, 2, 3)
    r.mset({"weight_1": 30, "weight_2": 10, "weight_3": 20})
    r.hset("obj_1", mapping={"name": "one", "rank": 3})
    r.hset("obj_2", mapping={"name": "two", "rank": 1})
    r.hset("obj_3", mapping={"name": "three"})  # no rank: scores 0
    assert r.sort("ids", by="weight_*") == ["2", "3", "1"]
    assert r.sort("ids", by="obj_*->rank") == ["3", "2", "1"]
    assert r.sort("ids", by="weight_*", get=["#", "obj_*->name", "nokey_*"]) == [
        "2", "two", None, "3", "three", None, "1", "one", None]
    assert r.sort("ids", by="obj_*->name", alpha=True) == ["1", "3", "2"]
    # BY without '*' does not sort: the list's own order (reversed by DESC).
    assert r.sort("ids", by="nosort", get="weight_*") == ["30", "10", "20"]
    assert r.sort("ids", by="nosort", desc=True) == ["3", "2", "1"]


def test_sorted_set_by_nosort_keeps_score_order(r):
    r.zadd("z", {"a": 10, "b": 30, "c": 20, "d": 40})
    assert r.sort("z", by="nosort") == ["a", "c", "b", "d"]
    assert r.sort("z", by="nosort", desc=True) == ["d", "b", "c", "a"]
    assert r.sort("z", by="nosort", start=1, num=2) == ["c", "b"]


def test_store_replaces_and_deletes_the_destination(r):
    r.rpush("l", 3, 1, 2)
    r.set("dst", "old string")
    assert r.sort("l", store="dst") == 3
    assert r.type("dst") == "list"
    assert r.lrange("dst", 0, -1) == ["1", "2", "3"]
    # GET of a missing key stores an empty string.
    assert r.sort("l", get=["#", "none_*"], store="dst") == 6
    assert r.lrange("dst", 0, -1) == ["1", "", "2", "", "3", ""]
    # An empty result deletes the destination, and does not create it.
    assert r.sort("missing", store="dst") == 0
    assert r.exists("dst") == 0
    assert r.sort("missing", store="dst2") == 0
    assert r.exists("dst2") == 0
    # A set sorted BY nosort into STORE is sorted as strings (a stored result is deterministic).
    r.sadd("s", "c", "a", "b")
    assert r.sort("s", by="nosort", store="dst") == 3
    assert r.lrange("dst", 0, -1) == ["a", "b", "c"]


def test_store_is_durable(server_factory):
    srv = server_factory()
    c = srv.client()
    c.rpush("l", 5, 4, 6)
    c.sort("l", store="out")
    srv.stop(signal.SIGKILL)
    srv.start()
    c = srv.client()
    assert c.lrange("out", 0, -1) == ["4", "5", "6"]


def test_errors(r):
    r.set("str", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.sort("str")
    r.rpush("l", 1, "abc")
    with pytest.raises(redis.ResponseError,
                       match=re.escape("One or more scores can't be converted into double")):
        r.sort("l")
    assert r.sort("l", alpha=True) == ["1", "abc"]
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SORT", "l", "BOGUS")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SORT", "l", "LIMIT", "1")
    with pytest.raises(redis.ResponseError, match="not an integer"):
        r.execute_command("SORT", "l", "LIMIT", "x", "1")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SORT_RO", "l", "ALPHA", "STORE", "dst")


def test_sort_ro_and_command_getkeys(r):
    r.rpush("l", 2, 1)
    assert r.execute_command("SORT_RO", "l") == ["1", "2"]
    assert r.command_getkeys("SORT", "abc", "STORE", "x", "STORE", "def") == ["abc", "def"]


def test_sort_in_multi_and_watch(r):
    r.rpush("l", 2, 1)
    p = r.pipeline(transaction=True)
    p.watch("dst")
    p.multi()
    p.sort("l", store="dst")
    p.lrange("dst", 0, -1)
    assert p.execute() == [2, ["1", "2"]]


def test_patterns_read_keys_of_every_shard_while_others_write(server):
    # BY and GET read keys no argument names; the command locks every shard for them, so a
    # concurrent writer of those keys never sees a torn read (and nothing crashes under ASan).
    c = server.client()
    c.flushall()
    n = 200
    c.rpush("ids", *range(n))
    c.mset({f"w_{i}": i for i in range(n)})
    stop = threading.Event()

    def writer():
        w = server.client()
        i = 0
        while not stop.is_set():
            w.set(f"w_{i % n}", i % n)
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        deadline = time.time() + 1.0
        while time.time() < deadline:
            assert c.sort("ids", by="w_*", get="w_*") == [str(i) for i in range(n)]
    finally:
        stop.set()
        t.join()


def test_swapdb_wakes_a_client_blocked_on_the_other_db(server):
    c = server.client()
    c.flushall()
    c1 = server.client(db=1)
    c1.rpush("k", "hello")
    blocked = server.client(db=9)
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("v", blocked.brpop("k", 5)))
    t.start()
    deadline = time.time() + 5
    while c.info("clients")["blocked_clients"] == 0 and time.time() < deadline:
        time.sleep(0.01)
    c.swapdb(1, 9)
    t.join(6)
    assert result["v"] == ("k", "hello")


def test_a_small_block_timeout_is_a_millisecond_not_forever(r):
    # 0.001 s is a hair under a millisecond in binary; it rounds up, as Redis 7.0.
    start = time.time()
    assert r.blpop("nothing", 0.001) is None
    assert time.time() - start < 5


def test_commands_with_key_functions_are_movablekeys(raw):
    for name in (b"sort", b"sort_ro", b"zunionstore", b"lmpop"):
        raw.cmd("COMMAND", "INFO", name)
        assert b"movablekeys" in raw.read_reply(), name
    raw.cmd("COMMAND", "INFO", "set")
    assert b"movablekeys" not in raw.read_reply()
