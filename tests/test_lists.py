"""List commands: pushes, pops, ranges, indexes, LINSERT/LREM/LTRIM/LPOS, LMOVE, LMPOP.

Written against Redis 7.0 semantics; every test must pass against redis-server 7.0.15
(FDB_TEST_TARGET=redis) and is the spec for fdb-server. The blocking commands are in
test_blocking.py.
"""

import os
import time

import pytest
import redis

fdb_only = pytest.mark.skipif(os.environ.get("FDB_TEST_TARGET") == "redis",
                              reason="FDB's own persistence (the Redis run has none)")

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def assert_error(r, msg, *args):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    assert str(e.value) == msg


def call(raw, *args):
    raw.cmd(*args)
    return raw.read_reply()


# --- pushes ---


def test_push_and_range(r):
    assert r.rpush("l", "a", "b") == 2
    assert r.lpush("l", "x", "y") == 4
    assert r.lrange("l", 0, -1) == ["y", "x", "a", "b"]
    assert r.llen("l") == 4
    assert r.type("l") == "list"
    assert r.object("encoding", "l") == "quicklist"


def test_pushx_only_on_existing(r):
    assert r.lpushx("nx", "a") == 0
    assert r.rpushx("nx", "a", "b") == 0
    assert r.exists("nx") == 0
    r.rpush("l", "m")
    assert r.lpushx("l", "a", "b") == 3
    assert r.rpushx("l", "z") == 4
    assert r.lrange("l", 0, -1) == ["b", "a", "m", "z"]


def test_integers_and_binary_values_round_trip(rb):
    vals = [b"0", b"-1", b"127", b"128", b"-9223372036854775808", b"9223372036854775807",
            b"007", b"+1", b"", b"\x00\xff\r\n", b"x" * 20000]
    rb.rpush("l", *vals)
    assert rb.lrange("l", 0, -1) == vals
    assert [rb.lindex("l", i) for i in range(len(vals))] == vals


def test_wrongtype(r):
    r.set("s", "x")
    for args in (("LPUSH", "s", "a"), ("RPUSH", "s", "a"), ("LPUSHX", "s", "a"),
                 ("LPOP", "s"), ("RPOP", "s", "2"), ("LLEN", "s"), ("LRANGE", "s", "0", "1"),
                 ("LINDEX", "s", "0"), ("LSET", "s", "0", "x"),
                 ("LINSERT", "s", "BEFORE", "a", "b"), ("LREM", "s", "0", "a"),
                 ("LTRIM", "s", "0", "1"), ("LPOS", "s", "a"), ("LMOVE", "s", "d", "LEFT", "LEFT"),
                 ("RPOPLPUSH", "s", "d"), ("LMPOP", "1", "s", "LEFT")):
        assert_error(r, WRONGTYPE, *args)
    r.rpush("l", "a")
    assert_error(r, WRONGTYPE, "LMOVE", "l", "s", "LEFT", "LEFT")
    assert r.lrange("l", 0, -1) == ["a"]  # nothing moved


def test_arity_errors(r):
    assert_error(r, "wrong number of arguments for 'lpush' command", "LPUSH", "l")
    assert_error(r, "wrong number of arguments for 'lpop' command", "LPOP", "l", "1", "2")
    assert_error(r, "wrong number of arguments for 'lrange' command", "LRANGE", "l", "0")


# --- pops ---


def test_pop_single_and_count(r):
    r.rpush("l", "a", "b", "c", "d", "e")
    assert r.lpop("l") == "a"
    assert r.rpop("l") == "e"
    assert r.lpop("l", 2) == ["b", "c"]
    assert r.rpop("l", 10) == ["d"]
    assert r.exists("l") == 0
    assert r.lpop("l") is None
    assert r.rpop("l", 3) is None


def test_pop_count_zero_and_errors(r):
    r.rpush("l", "a")
    assert r.lpop("l", 0) == []
    assert r.lpop("missing", 0) is None
    assert_error(r, "value is out of range, must be positive", "LPOP", "l", "-1")
    assert_error(r, "value is out of range, must be positive", "RPOP", "l", "x")
    assert r.lrange("l", 0, -1) == ["a"]


def test_pop_nil_forms_raw(raw):
    assert call(raw, "LPOP", "nokey") == b"$-1\r\n"
    assert call(raw, "LPOP", "nokey", "1") == b"*-1\r\n"
    call(raw, "RPUSH", "l", "a")
    assert call(raw, "LPOP", "l", "0") == b"*0\r\n"
    call(raw, "HELLO", "3")
    assert call(raw, "LPOP", "nokey") == b"_\r\n"
    assert call(raw, "RPOP", "nokey", "2") == b"_\r\n"


# --- reads ---


@pytest.mark.parametrize("start,stop", [(0, -1), (1, 2), (-2, -1), (-100, 100), (3, 1),
                                        (5, 10), (-1, -2), (0, 0), (-5, 0), (2, -3)])
def test_lrange_bounds(r, start, stop):
    items = ["a", "b", "c", "d", "e"]
    r.rpush("l", *items)
    n = len(items)
    s = max(0, start + n if start < 0 else start)
    e = stop + n if stop < 0 else stop
    want = [] if s > e or s >= n else items[s:min(e, n - 1) + 1]
    assert r.lrange("l", start, stop) == want


def test_lrange_errors_and_missing(r):
    assert r.lrange("missing", 0, -1) == []
    assert_error(r, "value is not an integer or out of range", "LRANGE", "l", "a", "1")
    assert_error(r, "value is not an integer or out of range", "LRANGE", "l", "0", "1.5")


def test_lrange_large_list(r):
    r.rpush("big", *range(10000))
    assert r.lrange("big", 4990, 5009) == [str(i) for i in range(4990, 5010)]
    assert r.lrange("big", -3, -1) == ["9997", "9998", "9999"]
    assert len(r.lrange("big", 0, -1)) == 10000


def test_lindex(r):
    r.rpush("l", "a", "b", "c")
    assert r.lindex("l", 0) == "a"
    assert r.lindex("l", -1) == "c"
    assert r.lindex("l", -3) == "a"
    assert r.lindex("l", 3) is None
    assert r.lindex("l", -4) is None
    assert r.lindex("missing", 0) is None
    assert_error(r, "value is not an integer or out of range", "LINDEX", "l", "x")


def test_lset(r):
    r.rpush("l", "a", "b", "c")
    assert r.lset("l", 1, "B") is True
    assert r.lset("l", -1, "a much longer value than before") is True
    assert r.lrange("l", 0, -1) == ["a", "B", "a much longer value than before"]
    assert_error(r, "index out of range", "LSET", "l", "3", "x")
    assert_error(r, "index out of range", "LSET", "l", "-4", "x")
    assert_error(r, "no such key", "LSET", "missing", "0", "x")
    assert_error(r, "no such key", "LSET", "missing", "abc", "x")
    assert_error(r, "value is not an integer or out of range", "LSET", "l", "abc", "x")


def test_linsert(r):
    r.rpush("l", "a", "b", "c")
    assert r.linsert("l", "BEFORE", "b", "x") == 4
    assert r.linsert("l", "after", "c", "y") == 5
    assert r.lrange("l", 0, -1) == ["a", "x", "b", "c", "y"]
    assert r.linsert("l", "BEFORE", "nope", "z") == -1
    assert r.linsert("missing", "BEFORE", "a", "z") == 0
    assert r.exists("missing") == 0
    assert_error(r, "syntax error", "LINSERT", "l", "MIDDLE", "a", "z")
    assert_error(r, "syntax error", "LINSERT", "missing", "MIDDLE", "a", "z")


def test_lrem(r):
    r.rpush("l", "a", "b", "a", "c", "a", "b", "a")
    assert r.lrem("l", 2, "a") == 2
    assert r.lrange("l", 0, -1) == ["b", "c", "a", "b", "a"]
    assert r.lrem("l", -1, "b") == 1
    assert r.lrange("l", 0, -1) == ["b", "c", "a", "a"]
    assert r.lrem("l", 0, "a") == 2
    assert r.lrem("l", 0, "zz") == 0
    assert r.lrange("l", 0, -1) == ["b", "c"]
    assert r.lrem("l", 0, "b") + r.lrem("l", 0, "c") == 2
    assert r.exists("l") == 0
    assert r.lrem("missing", 0, "a") == 0
    assert_error(r, "value is not an integer or out of range", "LREM", "l", "x", "a")


@pytest.mark.parametrize("start,stop", [(1, -2), (0, 0), (-2, -1), (2, 1), (10, 20), (-100, 100),
                                        (0, -1), (3, 100)])
def test_ltrim(r, start, stop):
    items = ["a", "b", "c", "d", "e"]
    r.rpush("l", *items)
    n = len(items)
    s = max(0, start + n if start < 0 else start)
    e = stop + n if stop < 0 else stop
    want = [] if s > e or s >= n else items[s:min(e, n - 1) + 1]
    assert r.ltrim("l", start, stop) is True
    assert r.lrange("l", 0, -1) == want
    assert r.exists("l") == (1 if want else 0)


def test_ltrim_missing_and_errors(r):
    assert r.ltrim("missing", 0, 1) is True
    assert_error(r, "value is not an integer or out of range", "LTRIM", "l", "a", "1")


def test_lpos(r):
    r.rpush("l", "a", "b", "c", "1", "2", "3", "c", "c")
    assert r.lpos("l", "c") == 2
    assert r.lpos("l", "c", rank=2) == 6
    assert r.lpos("l", "c", rank=-1) == 7
    assert r.lpos("l", "c", rank=-3) == 2
    assert r.lpos("l", "c", rank=4) is None
    assert r.lpos("l", "c", count=0) == [2, 6, 7]
    assert r.lpos("l", "c", count=2) == [2, 6]
    assert r.lpos("l", "c", count=2, rank=-1) == [7, 6]
    assert r.lpos("l", "c", count=0, maxlen=7) == [2, 6]
    assert r.lpos("l", "c", rank=-1, maxlen=1) == 7
    assert r.lpos("l", "c", rank=-1, maxlen=2, count=0) == [7, 6]
    assert r.lpos("l", "x") is None
    assert r.lpos("l", "x", count=3) == []
    assert r.lpos("missing", "x") is None
    assert r.lpos("missing", "x", count=1) == []
    assert r.lpos("l", "1") == 3


def test_lpos_errors(r):
    r.rpush("l", "a")
    assert_error(r, "RANK can't be zero: use 1 to start from the first match, 2 from the "
                 "second ... or use negative to start from the end of the list",
                 "LPOS", "l", "a", "RANK", "0")
    assert_error(r, "value is not an integer or out of range", "LPOS", "l", "a", "RANK", "x")
    assert_error(r, "COUNT can't be negative", "LPOS", "l", "a", "COUNT", "-1")
    assert_error(r, "COUNT can't be negative", "LPOS", "l", "a", "COUNT", "x")
    assert_error(r, "MAXLEN can't be negative", "LPOS", "l", "a", "MAXLEN", "-1")
    assert_error(r, "syntax error", "LPOS", "l", "a", "RANK")
    assert_error(r, "syntax error", "LPOS", "l", "a", "FOO", "1")


# --- moves ---


def test_lmove_all_directions(r):
    r.rpush("s", "1", "2", "3")
    assert r.lmove("s", "d", "LEFT", "RIGHT") == "1"
    assert r.lmove("s", "d", "RIGHT", "LEFT") == "3"
    assert r.lrange("d", 0, -1) == ["3", "1"]
    assert r.lmove("s", "d", "left", "left") == "2"
    assert r.exists("s") == 0
    assert r.lrange("d", 0, -1) == ["2", "3", "1"]
    assert r.lmove("s", "d", "LEFT", "LEFT") is None
    assert r.exists("s") == 0
    assert_error(r, "syntax error", "LMOVE", "d", "s", "UP", "LEFT")
    assert_error(r, "syntax error", "LMOVE", "d", "s", "LEFT", "DOWN")


def test_lmove_same_key_rotates(r):
    r.rpush("l", "a", "b", "c")
    assert r.lmove("l", "l", "LEFT", "RIGHT") == "a"
    assert r.lrange("l", 0, -1) == ["b", "c", "a"]
    assert r.rpoplpush("l", "l") == "a"
    assert r.lrange("l", 0, -1) == ["a", "b", "c"]
    r.delete("l")
    r.rpush("l", "only")
    assert r.lmove("l", "l", "RIGHT", "LEFT") == "only"
    assert r.lrange("l", 0, -1) == ["only"]


def test_rpoplpush(r):
    r.rpush("s", "a", "b")
    assert r.rpoplpush("s", "d") == "b"
    assert r.rpoplpush("s", "d") == "a"
    assert r.rpoplpush("s", "d") is None
    assert r.lrange("d", 0, -1) == ["a", "b"]


def test_lmpop(r):
    r.rpush("b", "1", "2", "3")
    r.rpush("c", "x")
    assert r.lmpop(3, "a", "b", "c", direction="LEFT") == ["b", ["1"]]
    assert r.lmpop(2, "a", "b", direction="RIGHT", count=5) == ["b", ["3", "2"]]
    assert r.exists("b") == 0
    assert r.lmpop(2, "a", "b", direction="LEFT") is None
    assert r.lmpop(1, "c", direction="left", count=1) == ["c", ["x"]]


def test_lmpop_errors(r):
    r.set("s", "x")
    assert_error(r, "numkeys should be greater than 0", "LMPOP", "0", "a", "LEFT")
    assert_error(r, "numkeys should be greater than 0", "LMPOP", "-1", "a", "LEFT")
    assert_error(r, "numkeys should be greater than 0", "LMPOP", "x", "a", "LEFT")
    assert_error(r, "syntax error", "LMPOP", "2", "a", "LEFT")
    assert_error(r, "syntax error", "LMPOP", "5", "a", "LEFT")
    assert_error(r, "syntax error", "LMPOP", "1", "a", "UP")
    assert_error(r, "syntax error", "LMPOP", "1", "a", "LEFT", "COUNT")
    assert_error(r, "syntax error", "LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1")
    assert_error(r, "syntax error", "LMPOP", "1", "a", "LEFT", "FOO")
    assert_error(r, "count should be greater than 0", "LMPOP", "1", "a", "LEFT", "COUNT", "0")
    assert_error(r, "count should be greater than 0", "LMPOP", "1", "a", "LEFT", "COUNT", "x")
    assert_error(r, WRONGTYPE, "LMPOP", "2", "a", "s", "LEFT")


def test_lmpop_raw_resp2_resp3(raw):
    call(raw, "RPUSH", "k", "a", "b")
    assert call(raw, "LMPOP", "1", "k", "LEFT", "COUNT", "1") == \
        b"*2\r\n$1\r\nk\r\n*1\r\n$1\r\na\r\n"
    assert call(raw, "LMPOP", "1", "none", "LEFT") == b"*-1\r\n"
    call(raw, "HELLO", "3")
    assert call(raw, "LMPOP", "1", "none", "LEFT") == b"_\r\n"


@fdb_only
def test_lpos_rank_of_most_negative_integer_is_refused(r):
    # Redis 7.2's check (7.0 negates the rank with an overflow and answers nonsense).
    r.rpush("l", "a")
    assert_error(r, "value is out of range, value must between -9223372036854775807 and "
                 "9223372036854775807", "LPOS", "l", "a", "RANK", "-9223372036854775808")


def test_command_getkeys(r):
    assert r.command_getkeys("LMPOP", "2", "a", "b", "LEFT") == ["a", "b"]
    assert r.command_getkeys("BLMPOP", "0", "2", "a", "b", "LEFT") == \
        ["a", "b"]
    assert r.command_getkeys("BLPOP", "a", "b", "0") == ["a", "b"]
    assert r.command_getkeys("LMOVE", "a", "b", "LEFT", "LEFT") == \
        ["a", "b"]


# --- across families ---


def test_generic_commands_on_lists(r):
    r.rpush("l", "a", "b")
    r.copy("l", "c")
    assert r.lrange("c", 0, -1) == ["a", "b"]
    r.rename("c", "d")
    assert r.lrange("d", 0, -1) == ["a", "b"]
    assert r.type("d") == "list"
    assert r.scan(0, _type="list", count=100)[1] in (["l", "d"], ["d", "l"])
    r.expire("l", 100)
    r.rpush("l", "c")
    assert r.ttl("l") > 0
    assert r.move("d", 1)
    assert r.exists("d") == 0


def test_large_list_roundtrip(r):
    vals = ["element-%d" % i for i in range(20000)]
    for i in range(0, len(vals), 1000):
        r.rpush("big", *vals[i:i + 1000])
    assert r.llen("big") == 20000
    assert r.lindex("big", 12345) == "element-12345"
    r.lset("big", 12345, "changed")
    assert r.lindex("big", 12345) == "changed"
    r.linsert("big", "BEFORE", "changed", "inserted")
    assert r.lrange("big", 12344, 12346) == ["element-12344", "inserted", "changed"]
    r.ltrim("big", 10000, 10999)
    assert r.llen("big") == 1000
    assert r.lpop("big") == "element-10000"


@fdb_only
def test_persistence_across_restart(server_factory):
    s = server_factory()
    c = s.client()
    c.rpush("l", *range(5000))
    c.lpop("l", 10)
    c.rpop("l")
    c.lset("l", 5, "five")
    c.linsert("l", "AFTER", "five", "six")
    c.lrem("l", 0, "100")
    c.ltrim("l", 2, -3)
    c.lmove("l", "m", "LEFT", "RIGHT")
    want_l = c.lrange("l", 0, -1)
    want_m = c.lrange("m", 0, -1)
    c.close()
    s.stop()
    s.start()
    c = s.client()
    assert c.lrange("l", 0, -1) == want_l
    assert c.lrange("m", 0, -1) == want_m
    c.close()


@fdb_only
def test_lists_larger_than_the_cache_are_read_back_and_changed(server_factory):
    s = server_factory("--maxmemory", "500kb")
    c = s.client()
    for k in range(8):
        c.rpush("list%d" % k, *["v%d-%d" % (k, i) for i in range(20000)])
    # The housekeeping tick evicts dirty values once their images are written.
    deadline = time.time() + 10
    while int(c.info("cache")["cache_evictions"]) == 0 and time.time() < deadline:
        time.sleep(0.05)
    assert int(c.info("cache")["cache_evictions"]) > 0
    for k in range(8):
        assert c.llen("list%d" % k) == 20000
        assert c.lindex("list%d" % k, 19999) == "v%d-19999" % k
        c.lset("list%d" % k, 0, "first")
        c.rpush("list%d" % k, "tail")
    for k in range(8):
        assert c.lrange("list%d" % k, 0, 1) == ["first", "v%d-1" % k]
        assert c.lindex("list%d" % k, -1) == "tail"
    c.close()
    s.stop()
    s.start()
    c = s.client()
    for k in range(8):
        assert c.llen("list%d" % k) == 20001
        assert c.lindex("list%d" % k, 0) == "first"
    c.close()
