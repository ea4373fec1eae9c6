"""Sorted-set commands: ZADD and its options, ranges by rank, score and lex, removal, pops,
random members, set operations, ZSCAN, encodings and persistence.

Written against Redis 7.0 semantics; every test must pass against redis-server 7.0.15
(FDB_TEST_TARGET=redis) and is the spec for fdb-server. Each test taking `r` runs in RESP2 and
RESP3.
"""

import math
import os

import pytest
import redis

ON_REDIS = os.environ.get("FDB_TEST_TARGET") == "redis"
fdb_only = pytest.mark.skipif(ON_REDIS, reason="FDB-only behaviour")
# ZRANK ... WITHSCORE is Redis 7.2; the reference server is 7.0.
redis72 = pytest.mark.skipif(ON_REDIS, reason="Redis 7.2 command form")

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def assert_error(r, msg, *args):
    """The command fails with exactly `msg` (redis-py strips the leading 'ERR ')."""
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    assert str(e.value) == msg


def score(v):
    """A score as either protocol gives it (a string in RESP2, a float in RESP3)."""
    return float(v)


def pairs(reply):
    """(member, score) pairs from a WITHSCORES reply: flat in RESP2, nested in RESP3."""
    if reply and isinstance(reply[0], list):
        return [(m, float(s)) for m, s in reply]
    return [(reply[i], float(reply[i + 1])) for i in range(0, len(reply), 2)]


def cmd(r, *args):
    """Runs a command and returns the reply as parsed RESP, without redis-py's per-command
    conversions (which differ between RESP2 and RESP3)."""
    if not getattr(r, "_zsets_raw", False):
        r.response_callbacks.clear()
        r._zsets_raw = True
    return r.execute_command(*args)


def fill(r, key="z", n=5):
    """z = {a:1, b:2, c:3, d:4, e:5} (first n)."""
    args = []
    for i, m in enumerate("abcdefghij"[:n]):
        args += [i + 1, m]
    cmd(r, "ZADD", key, *args)


# ---------------------------------------------------------------------------
# ZADD
# ---------------------------------------------------------------------------


def test_zadd_basic_and_update(r):
    assert cmd(r, "ZADD", "z", 1, "a", 2, "b") == 2
    assert cmd(r, "ZADD", "z", 3, "a", 4, "c") == 1
    assert score(cmd(r, "ZSCORE", "z", "a")) == 3
    assert cmd(r, "ZCARD", "z") == 3
    assert cmd(r, "TYPE", "z") == "zset"
    assert cmd(r, "ZRANGE", "z", 0, -1) == ["b", "a", "c"]


def test_zadd_ch_nx_xx_gt_lt(r):
    fill(r, n=3)
    assert cmd(r, "ZADD", "z", "CH", 10, "a", 2, "b", 7, "x") == 2
    assert cmd(r, "ZADD", "z", "NX", 100, "a", 8, "y") == 1
    assert score(cmd(r, "ZSCORE", "z", "a")) == 10
    assert cmd(r, "ZADD", "z", "XX", 100, "a", 9, "w") == 0
    assert score(cmd(r, "ZSCORE", "z", "a")) == 100
    assert cmd(r, "ZSCORE", "z", "w") is None
    assert cmd(r, "ZADD", "z", "GT", "CH", 50, "a", 5, "b") == 1  # only b grows
    assert score(cmd(r, "ZSCORE", "z", "a")) == 100
    assert score(cmd(r, "ZSCORE", "z", "b")) == 5
    assert cmd(r, "ZADD", "z", "LT", "CH", 1, "a", 6, "b") == 1
    assert score(cmd(r, "ZSCORE", "z", "a")) == 1
    # GT/LT add new members unless XX.
    assert cmd(r, "ZADD", "z", "GT", 1, "new") == 1
    assert cmd(r, "ZADD", "z", "XX", "GT", 1, "new2") == 0
    # XX on a missing key creates nothing.
    assert cmd(r, "ZADD", "nokey", "XX", 1, "a") == 0
    assert cmd(r, "EXISTS", "nokey") == 0


def test_zadd_incr(r):
    assert score(cmd(r, "ZADD", "z", "INCR", 1.5, "a")) == 1.5
    assert score(cmd(r, "ZADD", "z", "INCR", 2, "a")) == 3.5
    assert cmd(r, "ZADD", "z", "NX", "INCR", 1, "a") is None
    assert cmd(r, "ZADD", "z", "XX", "INCR", 1, "b") is None
    assert cmd(r, "ZADD", "z", "GT", "INCR", -1, "a") is None
    assert score(cmd(r, "ZADD", "z", "LT", "INCR", -1, "a")) == 2.5
    assert cmd(r, "ZADD", "nokey", "XX", "INCR", 1, "a") is None
    assert cmd(r, "EXISTS", "nokey") == 0


def test_zadd_errors(r):
    assert_error(r, "syntax error", "ZADD", "z", "NX", 1)
    assert_error(r, "wrong number of arguments for 'zadd' command", "ZADD", "z", 1)
    assert_error(r, "syntax error", "ZADD", "z", "NX", 1, "a", 2)
    assert_error(r, "XX and NX options at the same time are not compatible",
                 "ZADD", "z", "NX", "XX", 1, "a")
    assert_error(r, "GT, LT, and/or NX options at the same time are not compatible",
                 "ZADD", "z", "GT", "LT", 1, "a")
    assert_error(r, "GT, LT, and/or NX options at the same time are not compatible",
                 "ZADD", "z", "NX", "GT", 1, "a")
    assert_error(r, "INCR option supports a single increment-element pair",
                 "ZADD", "z", "INCR", 1, "a", 2, "b")
    assert_error(r, "value is not a valid float", "ZADD", "z", "abc", "a")
    assert_error(r, "value is not a valid float", "ZADD", "z", "nan", "a")
    assert_error(r, "value is not a valid float", "ZADD", "z", 1, "a", "x", "b")
    assert cmd(r, "EXISTS", "z") == 0  # nothing was added by the failed calls
    cmd(r, "ZADD", "z", "inf", "a")
    assert_error(r, "resulting score is not a number (NaN)", "ZADD", "z", "INCR", "-inf", "a")
    assert_error(r, "resulting score is not a number (NaN)", "ZINCRBY", "z", "-inf", "a")
    cmd(r, "SET", "s", "x")
    assert_error(r, WRONGTYPE, "ZADD", "s", 1, "a")


def test_zadd_inf_scores_and_formatting(r):
    cmd(r, "ZADD", "z", "+inf", "p", "-inf", "n", "1.1", "f", "10", "i", "-0.5", "h")
    assert cmd(r, "ZRANGE", "z", 0, -1) == ["n", "h", "f", "i", "p"]
    got = pairs(cmd(r, "ZRANGE", "z", 0, -1, "WITHSCORES"))
    assert got[0] == ("n", -math.inf) and got[-1] == ("p", math.inf)


def test_score_text_resp2(r2):
    cmd(r2, "ZADD", "z", "1.1", "a", "3", "b", "inf", "c", "-inf", "d", "1e20", "e")
    assert cmd(r2, "ZSCORE", "z", "a") == "1.1000000000000001"
    assert cmd(r2, "ZSCORE", "z", "b") == "3"
    assert cmd(r2, "ZSCORE", "z", "c") == "inf"
    assert cmd(r2, "ZSCORE", "z", "d") == "-inf"
    assert cmd(r2, "ZSCORE", "z", "e") == "1e+20"
    assert cmd(r2, "ZINCRBY", "z", "0.1", "b") == "3.1000000000000001"


def test_zincrby(r):
    assert score(cmd(r, "ZINCRBY", "z", 5, "a")) == 5
    assert score(cmd(r, "ZINCRBY", "z", -2.5, "a")) == 2.5
    assert_error(r, "value is not a valid float", "ZINCRBY", "z", "x", "a")
    cmd(r, "SET", "s", "x")
    assert_error(r, WRONGTYPE, "ZINCRBY", "s", 1, "a")


# ---------------------------------------------------------------------------
# Reads: ZSCORE, ZMSCORE, ZRANK, ZCOUNT, ZLEXCOUNT
# ---------------------------------------------------------------------------


def test_zscore_zmscore(r):
    fill(r)
    assert score(cmd(r, "ZSCORE", "z", "c")) == 3
    assert cmd(r, "ZSCORE", "z", "nope") is None
    assert cmd(r, "ZSCORE", "nokey", "a") is None
    got = cmd(r, "ZMSCORE", "z", "a", "nope", "e")
    assert [None if v is None else float(v) for v in got] == [1, None, 5]
    assert cmd(r, "ZMSCORE", "nokey", "a", "b") == [None, None]


def test_zrank_zrevrank(r):
    fill(r)
    assert cmd(r, "ZRANK", "z", "a") == 0
    assert cmd(r, "ZRANK", "z", "e") == 4
    assert cmd(r, "ZREVRANK", "z", "a") == 4
    assert cmd(r, "ZRANK", "z", "nope") is None
    assert cmd(r, "ZRANK", "nokey", "a") is None
    cmd(r, "SET", "s", "x")
    assert_error(r, WRONGTYPE, "ZRANK", "s", "a")


@redis72
def test_zrank_withscore(r):
    fill(r)
    got = cmd(r, "ZRANK", "z", "c", "WITHSCORE")
    assert got[0] == 2 and float(got[1]) == 3
    got = cmd(r, "ZREVRANK", "z", "c", "WITHSCORE")
    assert got[0] == 2 and float(got[1]) == 3
    assert cmd(r, "ZRANK", "z", "nope", "WITHSCORE") is None
    assert_error(r, "syntax error", "ZRANK", "z", "a", "WITHSCORES")
    assert_error(r, "wrong number of arguments for 'zrank' command",
                 "ZRANK", "z", "a", "WITHSCORE", "x")


def test_zcount(r):
    fill(r)
    assert cmd(r, "ZCOUNT", "z", 2, 4) == 3
    assert cmd(r, "ZCOUNT", "z", "(2", "(4") == 1
    assert cmd(r, "ZCOUNT", "z", "-inf", "+inf") == 5
    assert cmd(r, "ZCOUNT", "z", 4, 2) == 0
    assert cmd(r, "ZCOUNT", "nokey", 0, 1) == 0
    assert_error(r, "min or max is not a float", "ZCOUNT", "z", "x", 1)
    assert_error(r, "min or max is not a float", "ZCOUNT", "z", 1, "nan")
    assert_error(r, "min or max is not a float", "ZCOUNT", "z", "(1x", 2)


def test_zlexcount(r):
    cmd(r, "ZADD", "z", 0, "a", 0, "b", 0, "c", 0, "d", 0, "e")
    assert cmd(r, "ZLEXCOUNT", "z", "-", "+") == 5
    assert cmd(r, "ZLEXCOUNT", "z", "[b", "[d") == 3
    assert cmd(r, "ZLEXCOUNT", "z", "(b", "(d") == 1
    assert cmd(r, "ZLEXCOUNT", "z", "+", "-") == 0
    assert cmd(r, "ZLEXCOUNT", "nokey", "-", "+") == 0
    for bad in (("a", "+"), ("-", "b"), ("", "+"), ("--", "+")):
        assert_error(r, "min or max not valid string range item", "ZLEXCOUNT", "z", *bad)


# ---------------------------------------------------------------------------
# Ranges
# ---------------------------------------------------------------------------


def test_zrange_by_rank(r):
    fill(r)
    assert cmd(r, "ZRANGE", "z", 0, 2) == ["a", "b", "c"]
    assert cmd(r, "ZRANGE", "z", -2, -1) == ["d", "e"]
    assert cmd(r, "ZRANGE", "z", 3, 100) == ["d", "e"]
    assert cmd(r, "ZRANGE", "z", 4, 2) == []
    assert cmd(r, "ZRANGE", "z", 10, 20) == []
    assert cmd(r, "ZRANGE", "z", -100, 0) == ["a"]
    assert cmd(r, "ZRANGE", "z", 0, 1, "REV") == ["e", "d"]
    assert cmd(r, "ZREVRANGE", "z", 0, 1) == ["e", "d"]
    assert cmd(r, "ZREVRANGE", "z", -1, -1) == ["a"]
    assert pairs(cmd(r, "ZRANGE", "z", 0, 1, "WITHSCORES")) == [("a", 1), ("b", 2)]
    assert pairs(cmd(r, "ZREVRANGE", "z", 0, 0, "WITHSCORES")) == [("e", 5)]
    assert cmd(r, "ZRANGE", "nokey", 0, -1) == []
    assert_error(r, "value is not an integer or out of range", "ZRANGE", "z", "a", 1)
    assert_error(r, "syntax error, LIMIT is only supported in combination with either BYSCORE "
                 "or BYLEX", "ZRANGE", "z", 0, 1, "LIMIT", 0, 1)
    assert_error(r, "syntax error", "ZRANGE", "z", 0, 1, "BOGUS")
    assert_error(r, "syntax error", "ZREVRANGE", "z", 0, 1, "REV")


def test_zrange_by_score(r):
    fill(r)
    assert cmd(r, "ZRANGEBYSCORE", "z", 2, 4) == ["b", "c", "d"]
    assert cmd(r, "ZRANGEBYSCORE", "z", "(2", 4) == ["c", "d"]
    assert cmd(r, "ZRANGEBYSCORE", "z", "-inf", "(2") == ["a"]
    assert cmd(r, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 1, 2) == ["b", "c"]
    assert cmd(r, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 3, -1) == ["d", "e"]
    assert cmd(r, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", -1, 2) == []
    assert cmd(r, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 0, 0) == []
    assert cmd(r, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", 10, 2) == []
    assert pairs(cmd(r, "ZRANGEBYSCORE", "z", 4, 5, "WITHSCORES")) == [("d", 4), ("e", 5)]
    assert cmd(r, "ZREVRANGEBYSCORE", "z", 4, 2) == ["d", "c", "b"]
    assert cmd(r, "ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", 1, 2) == ["d", "c"]
    assert cmd(r, "ZREVRANGEBYSCORE", "z", "(4", "(2") == ["c"]
    assert cmd(r, "ZRANGE", "z", "(1", 3, "BYSCORE") == ["b", "c"]
    assert cmd(r, "ZRANGE", "z", 3, "(1", "BYSCORE", "REV") == ["c", "b"]
    assert cmd(r, "ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", 0, 2) == ["e", "d"]
    assert cmd(r, "ZRANGEBYSCORE", "z", 5, 1) == []
    assert_error(r, "min or max is not a float", "ZRANGEBYSCORE", "z", "a", 1)
    assert_error(r, "syntax error", "ZRANGEBYSCORE", "z", 1, 2, "BYSCORE")
    assert_error(r, "syntax error", "ZRANGEBYSCORE", "z", 1, 2, "LIMIT", 1)


def test_zrange_by_lex(r):
    cmd(r, "ZADD", "z", *sum([[0, m] for m in ["a", "b", "c", "d", "e", "f"]], []))
    assert cmd(r, "ZRANGEBYLEX", "z", "-", "[c") == ["a", "b", "c"]
    assert cmd(r, "ZRANGEBYLEX", "z", "-", "(c") == ["a", "b"]
    assert cmd(r, "ZRANGEBYLEX", "z", "[aaa", "(g") == ["b", "c", "d", "e", "f"]
    assert cmd(r, "ZRANGEBYLEX", "z", "-", "+", "LIMIT", 2, 2) == ["c", "d"]
    assert cmd(r, "ZREVRANGEBYLEX", "z", "+", "-", "LIMIT", 0, 2) == ["f", "e"]
    assert cmd(r, "ZREVRANGEBYLEX", "z", "[c", "(a") == ["c", "b"]
    assert cmd(r, "ZRANGE", "z", "[b", "[d", "BYLEX") == ["b", "c", "d"]
    assert cmd(r, "ZRANGE", "z", "[d", "[b", "BYLEX", "REV") == ["d", "c", "b"]
    assert cmd(r, "ZRANGEBYLEX", "z", "+", "-") == []
    assert_error(r, "min or max not valid string range item", "ZRANGEBYLEX", "z", "a", "+")
    assert_error(r, "syntax error, WITHSCORES not supported in combination with BYLEX",
                 "ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES")


def test_zrangestore(r):
    fill(r)
    assert cmd(r, "ZRANGESTORE", "dst", "z", 1, 3) == 3
    assert pairs(cmd(r, "ZRANGE", "dst", 0, -1, "WITHSCORES")) == [("b", 2), ("c", 3), ("d", 4)]
    assert cmd(r, "ZRANGESTORE", "dst", "z", 4, 5, "BYSCORE", "LIMIT", 0, 1) == 1
    assert cmd(r, "ZRANGE", "dst", 0, -1) == ["d"]
    assert cmd(r, "ZRANGESTORE", "dst", "z", "(5", "+inf", "BYSCORE") == 0
    assert cmd(r, "EXISTS", "dst") == 0
    assert cmd(r, "ZRANGESTORE", "dst", "z", 0, 0, "REV") == 1
    assert cmd(r, "ZRANGE", "dst", 0, -1) == ["e"]
    assert cmd(r, "ZRANGESTORE", "dst", "nokey", 0, -1) == 0
    assert cmd(r, "EXISTS", "dst") == 0
    assert_error(r, "syntax error", "ZRANGESTORE", "dst", "z", 0, 1, "WITHSCORES")
    cmd(r, "SET", "s", "x")
    assert_error(r, WRONGTYPE, "ZRANGESTORE", "dst", "s", 0, 1)


# ---------------------------------------------------------------------------
# Removal
# ---------------------------------------------------------------------------


def test_zrem(r):
    fill(r, n=3)
    assert cmd(r, "ZREM", "z", "a", "nope", "a") == 1
    assert cmd(r, "ZREM", "nokey", "a") == 0
    assert cmd(r, "ZREM", "z", "b", "c") == 2
    assert cmd(r, "EXISTS", "z") == 0


def test_zremrangebyrank(r):
    fill(r)
    assert cmd(r, "ZREMRANGEBYRANK", "z", 0, 1) == 2
    assert cmd(r, "ZRANGE", "z", 0, -1) == ["c", "d", "e"]
    assert cmd(r, "ZREMRANGEBYRANK", "z", -1, -1) == 1
    assert cmd(r, "ZREMRANGEBYRANK", "z", 5, 10) == 0
    assert cmd(r, "ZREMRANGEBYRANK", "z", 0, -1) == 2
    assert cmd(r, "EXISTS", "z") == 0
    assert cmd(r, "ZREMRANGEBYRANK", "nokey", 0, -1) == 0
    assert_error(r, "value is not an integer or out of range", "ZREMRANGEBYRANK", "z", "x", 1)


def test_zremrangebyscore_and_lex(r):
    fill(r)
    assert cmd(r, "ZREMRANGEBYSCORE", "z", "(1", 3) == 2
    assert cmd(r, "ZRANGE", "z", 0, -1) == ["a", "d", "e"]
    assert cmd(r, "ZREMRANGEBYSCORE", "z", "-inf", "+inf") == 3
    assert cmd(r, "EXISTS", "z") == 0
    assert_error(r, "min or max is not a float", "ZREMRANGEBYSCORE", "z", "x", 1)
    cmd(r, "ZADD", "l", 0, "a", 0, "b", 0, "c", 0, "d")
    assert cmd(r, "ZREMRANGEBYLEX", "l", "[b", "(d") == 2
    assert cmd(r, "ZRANGE", "l", 0, -1) == ["a", "d"]
    assert_error(r, "min or max not valid string range item", "ZREMRANGEBYLEX", "l", "b", "+")


# ---------------------------------------------------------------------------
# Pops
# ---------------------------------------------------------------------------


def test_zpopmin_zpopmax(r):
    fill(r)
    assert pairs(cmd(r, "ZPOPMIN", "z")) == [("a", 1)]
    assert pairs(cmd(r, "ZPOPMAX", "z", 2)) == [("e", 5), ("d", 4)]
    assert cmd(r, "ZPOPMIN", "z", 0) == []
    assert cmd(r, "ZPOPMIN", "nokey") == []
    assert pairs(cmd(r, "ZPOPMIN", "z", 10)) == [("b", 2), ("c", 3)]
    assert cmd(r, "EXISTS", "z") == 0
    assert_error(r, "value is out of range, must be positive", "ZPOPMIN", "z", -1)
    assert_error(r, "value is out of range, must be positive", "ZPOPMIN", "z", "x")
    assert_error(r, "syntax error", "ZPOPMIN", "z", 1, 2)


def test_zpop_reply_shapes(r3):
    cmd(r3, "ZADD", "z", 1, "a", 2, "b")
    assert cmd(r3, "ZPOPMIN", "z") == ["a", 1.0]
    cmd(r3, "ZADD", "z", 1, "a")
    assert cmd(r3, "ZPOPMIN", "z", 1) == [["a", 1.0]]


def test_zmpop(r):
    fill(r, "z1", 3)
    got = cmd(r, "ZMPOP", 2, "nokey", "z1", "MIN")
    assert got[0] == "z1" and pairs(got[1]) == [("a", 1)]
    got = cmd(r, "ZMPOP", 1, "z1", "MAX", "COUNT", 5)
    assert got[0] == "z1" and pairs(got[1]) == [("c", 3), ("b", 2)]
    assert cmd(r, "EXISTS", "z1") == 0
    assert cmd(r, "ZMPOP", 1, "z1", "MIN") is None
    assert_error(r, "numkeys should be greater than 0", "ZMPOP", 0, "z1", "MIN")
    assert_error(r, "syntax error", "ZMPOP", 1, "z1", "MIDDLE")
    assert_error(r, "syntax error", "ZMPOP", 2, "z1", "MIN")
    assert_error(r, "count should be greater than 0", "ZMPOP", 1, "z1", "MIN", "COUNT", 0)
    assert_error(r, "syntax error", "ZMPOP", 1, "z1", "MIN", "COUNT", 1, "COUNT", 1)
    cmd(r, "SET", "s", "x")
    assert_error(r, WRONGTYPE, "ZMPOP", 1, "s", "MIN")


# ---------------------------------------------------------------------------
# ZRANDMEMBER
# ---------------------------------------------------------------------------


def test_zrandmember(r):
    fill(r)
    assert cmd(r, "ZRANDMEMBER", "z") in list("abcde")
    assert cmd(r, "ZRANDMEMBER", "nokey") is None
    assert cmd(r, "ZRANDMEMBER", "nokey", 3) == []
    assert cmd(r, "ZRANDMEMBER", "z", 0) == []
    got = cmd(r, "ZRANDMEMBER", "z", 3)
    assert len(got) == 3 and len(set(got)) == 3 and set(got) <= set("abcde")
    assert sorted(cmd(r, "ZRANDMEMBER", "z", 10)) == list("abcde")
    got = cmd(r, "ZRANDMEMBER", "z", -20)
    assert len(got) == 20 and set(got) <= set("abcde")
    got = pairs(cmd(r, "ZRANDMEMBER", "z", -3, "WITHSCORES"))
    assert len(got) == 3 and all(s == "abcde".index(m) + 1 for m, s in got)
    got = pairs(cmd(r, "ZRANDMEMBER", "z", 5, "WITHSCORES"))
    assert sorted(got) == [(m, i + 1) for i, m in enumerate("abcde")]
    assert_error(r, "syntax error", "ZRANDMEMBER", "z", 1, "BOGUS")
    assert_error(r, "value is not an integer or out of range", "ZRANDMEMBER", "z", "x")


def test_zrandmember_big_distinct(r):
    cmd(r, "ZADD", "z", *sum([[i, "m%d" % i] for i in range(300)], []))
    for n in (5, 150, 299):
        got = cmd(r, "ZRANDMEMBER", "z", n)
        assert len(got) == n and len(set(got)) == n


# ---------------------------------------------------------------------------
# Set operations
# ---------------------------------------------------------------------------


def test_zunion_zinter_zdiff(r):
    cmd(r, "ZADD", "a", 1, "x", 2, "y", 3, "z")
    cmd(r, "ZADD", "b", 10, "y", 20, "z", 30, "w")
    assert pairs(cmd(r, "ZUNION", 2, "a", "b", "WITHSCORES")) == [
        ("x", 1), ("y", 12), ("z", 23), ("w", 30)]
    assert cmd(r, "ZUNION", 2, "a", "b") == ["x", "y", "z", "w"]
    assert pairs(cmd(r, "ZINTER", 2, "a", "b", "WITHSCORES")) == [("y", 12), ("z", 23)]
    assert pairs(cmd(r, "ZINTER", 2, "a", "b", "AGGREGATE", "MIN", "WITHSCORES")) == [
        ("y", 2), ("z", 3)]
    assert pairs(cmd(r, "ZINTER", 2, "a", "b", "WEIGHTS", 2, 0.5, "AGGREGATE", "MAX",
                     "WITHSCORES")) == [("y", 5), ("z", 10)]
    assert pairs(cmd(r, "ZDIFF", 2, "a", "b", "WITHSCORES")) == [("x", 1)]
    assert cmd(r, "ZDIFF", 2, "a", "nokey") == ["x", "y", "z"]
    assert cmd(r, "ZINTER", 2, "a", "nokey") == []
    assert cmd(r, "ZUNION", 1, "nokey") == []


def test_setop_store(r):
    cmd(r, "ZADD", "a", 1, "x", 2, "y")
    cmd(r, "ZADD", "b", 3, "y", 4, "w")
    assert cmd(r, "ZUNIONSTORE", "d", 2, "a", "b") == 3
    assert pairs(cmd(r, "ZRANGE", "d", 0, -1, "WITHSCORES")) == [("x", 1), ("w", 4), ("y", 5)]
    assert cmd(r, "ZINTERSTORE", "d", 2, "a", "b", "WEIGHTS", 1, -1) == 1
    assert pairs(cmd(r, "ZRANGE", "d", 0, -1, "WITHSCORES")) == [("y", -1)]
    assert cmd(r, "ZDIFFSTORE", "d", 2, "a", "b") == 1
    assert cmd(r, "ZRANGE", "d", 0, -1) == ["x"]
    assert cmd(r, "ZINTERSTORE", "d", 2, "a", "nokey") == 0
    assert cmd(r, "EXISTS", "d") == 0
    # The destination may be a source, and any type is replaced.
    cmd(r, "SET", "s", "v")
    assert cmd(r, "ZUNIONSTORE", "s", 1, "a") == 2
    assert cmd(r, "TYPE", "s") == "zset"
    assert cmd(r, "ZUNIONSTORE", "a", 2, "a", "b", "AGGREGATE", "MAX") == 3
    assert pairs(cmd(r, "ZRANGE", "a", 0, -1, "WITHSCORES")) == [("x", 1), ("y", 3), ("w", 4)]


def test_setop_inf_and_nan_rules(r):
    cmd(r, "ZADD", "a", "inf", "x")
    cmd(r, "ZADD", "b", "-inf", "x")
    assert pairs(cmd(r, "ZUNION", 2, "a", "b", "WITHSCORES")) == [("x", 0)]
    assert pairs(cmd(r, "ZUNION", 1, "a", "WEIGHTS", 0, "WITHSCORES")) == [("x", 0)]


def test_setops_accept_plain_sets(r):
    cmd(r, "SADD", "s", "x", "y", "q")
    cmd(r, "ZADD", "z", 5, "x", 7, "w")
    assert pairs(cmd(r, "ZUNION", 2, "s", "z", "WITHSCORES")) == [
        ("q", 1), ("y", 1), ("x", 6), ("w", 7)]
    assert pairs(cmd(r, "ZINTER", 2, "z", "s", "WEIGHTS", 2, 3, "WITHSCORES")) == [("x", 13)]
    assert cmd(r, "ZDIFF", 2, "s", "z") == ["q", "y"]
    assert cmd(r, "ZINTERCARD", 2, "s", "z") == 1
    assert cmd(r, "ZUNIONSTORE", "d", 1, "s") == 3
    assert cmd(r, "TYPE", "d") == "zset"
    cmd(r, "SADD", "ints", 1, 2, 3)
    assert cmd(r, "ZINTER", 2, "ints", "ints", "WITHSCORES")[0] in ("1", ["1", 2.0])


def test_setop_errors(r):
    cmd(r, "ZADD", "a", 1, "x")
    assert_error(r, "at least 1 input key is needed for 'zunionstore' command",
                 "ZUNIONSTORE", "d", 0, "a")
    assert_error(r, "at least 1 input key is needed for 'zunion' command", "ZUNION", 0, "a")
    assert_error(r, "syntax error", "ZUNION", 3, "a", "b")
    assert_error(r, "value is not an integer or out of range", "ZUNION", "x", "a")
    assert_error(r, "weight value is not a float", "ZUNION", 1, "a", "WEIGHTS", "w")
    assert_error(r, "syntax error", "ZUNION", 1, "a", "WEIGHTS", 1, 2)
    assert_error(r, "syntax error", "ZUNION", 1, "a", "AGGREGATE", "AVG")
    assert_error(r, "syntax error", "ZDIFF", 1, "a", "WEIGHTS", 1)
    assert_error(r, "syntax error", "ZUNIONSTORE", "d", 1, "a", "WITHSCORES")
    cmd(r, "SET", "s", "v")
    assert_error(r, WRONGTYPE, "ZUNION", 2, "a", "s")
    assert_error(r, WRONGTYPE, "ZINTERSTORE", "d", 2, "a", "s")


def test_zintercard(r):
    cmd(r, "ZADD", "a", 1, "x", 2, "y", 3, "z")
    cmd(r, "ZADD", "b", 1, "y", 1, "z", 1, "w")
    assert cmd(r, "ZINTERCARD", 2, "a", "b") == 2
    assert cmd(r, "ZINTERCARD", 2, "a", "b", "LIMIT", 1) == 1
    assert cmd(r, "ZINTERCARD", 2, "a", "b", "LIMIT", 0) == 2
    assert cmd(r, "ZINTERCARD", 2, "a", "nokey") == 0
    assert_error(r, "LIMIT can't be negative", "ZINTERCARD", 2, "a", "b", "LIMIT", -1)
    assert_error(r, "syntax error", "ZINTERCARD", 2, "a", "b", "WITHSCORES")
    assert_error(r, "at least 1 input key is needed for 'zintercard' command",
                 "ZINTERCARD", 0, "a")


# ---------------------------------------------------------------------------
# ZSCAN
# ---------------------------------------------------------------------------


def test_zscan_small_and_big(r):
    fill(r)
    cursor, items = cmd(r, "ZSCAN", "z", 0)
    assert cursor == "0" or cursor == 0
    assert pairs(items) == [(m, i + 1) for i, m in enumerate("abcde")]
    cursor, items = cmd(r, "ZSCAN", "z", 0, "MATCH", "[ab]")
    assert sorted(pairs(items)) == [("a", 1), ("b", 2)]
    assert cmd(r, "ZSCAN", "nokey", 0)[1] == []
    cmd(r, "ZADD", "big", *sum([[i, "m%d" % i] for i in range(500)], []))
    seen = {}
    cursor = 0
    calls = 0
    while True:
        cursor, items = cmd(r, "ZSCAN", "big", cursor, "COUNT", 50)
        cursor = int(cursor)
        calls += 1
        seen.update(dict(pairs(items)))
        if cursor == 0:
            break
    assert calls > 1
    assert seen == {"m%d" % i: float(i) for i in range(500)}
    assert_error(r, "invalid cursor", "ZSCAN", "z", "x")
    assert_error(r, "syntax error", "ZSCAN", "z", 0, "COUNT", 0)
    assert_error(r, "syntax error", "ZSCAN", "z", 0, "BOGUS", 1)


# ---------------------------------------------------------------------------
# Encodings, WRONGTYPE, keyspace integration
# ---------------------------------------------------------------------------


def test_encoding_conversion(r):
    cmd(r, "ZADD", "z", 1, "a")
    assert cmd(r, "OBJECT", "ENCODING", "z") == "listpack"
    cmd(r, "ZADD", "z", *sum([[i, "m%d" % i] for i in range(128)], []))
    assert cmd(r, "OBJECT", "ENCODING", "z") == "skiplist"
    cmd(r, "ZADD", "long", 1, "x" * 65)
    assert cmd(r, "OBJECT", "ENCODING", "long") == "skiplist"
    cmd(r, "ZADD", "ok", 1, "x" * 64)
    assert cmd(r, "OBJECT", "ENCODING", "ok") == "listpack"


def test_wrongtype_everywhere(r):
    cmd(r, "SET", "s", "x")
    for args in (("ZCARD", "s"), ("ZSCORE", "s", "a"), ("ZMSCORE", "s", "a"),
                 ("ZRANGE", "s", 0, 1), ("ZCOUNT", "s", 0, 1), ("ZLEXCOUNT", "s", "-", "+"),
                 ("ZREM", "s", "a"), ("ZPOPMIN", "s"), ("ZRANDMEMBER", "s"),
                 ("ZREMRANGEBYRANK", "s", 0, 1), ("ZSCAN", "s", 0), ("ZINTERCARD", 1, "s")):
        assert_error(r, WRONGTYPE, *args)
    cmd(r, "ZADD", "z", 1, "a")
    assert_error(r, WRONGTYPE, "GET", "z")


def test_copy_rename_and_big_ranges(r):
    n = 1000
    cmd(r, "ZADD", "z", *sum([[i, "m%04d" % i] for i in range(n)], []))
    assert cmd(r, "ZCARD", "z") == n
    assert cmd(r, "ZRANK", "z", "m0500") == 500
    assert cmd(r, "ZREVRANK", "z", "m0500") == n - 1 - 500
    assert cmd(r, "ZRANGE", "z", 998, -1) == ["m0998", "m0999"]
    assert cmd(r, "ZRANGEBYSCORE", "z", "(10", "+inf", "LIMIT", 0, 3) == ["m0011", "m0012",
                                                                           "m0013"]
    assert cmd(r, "ZCOUNT", "z", 100, "(200") == 100
    assert cmd(r, "COPY", "z", "z2") == 1
    assert cmd(r, "ZRANGE", "z2", 0, 2) == ["m0000", "m0001", "m0002"]
    cmd(r, "RENAME", "z2", "z3")
    assert cmd(r, "ZCARD", "z3") == n
    assert cmd(r, "ZREMRANGEBYSCORE", "z3", 0, 499) == 500
    assert cmd(r, "ZRANGE", "z3", 0, 0) == ["m0500"]
    assert cmd(r, "ZCARD", "z") == n


@fdb_only
def test_persistence_round_trip(server_factory):
    s = server_factory()
    c = s.client()
    c.execute_command("ZADD", "small", 1, "a", 2.5, "b", "-inf", "c")
    c.execute_command("ZADD", "big", *sum([[i % 7, "m%d" % i] for i in range(400)], []))
    c.execute_command("ZINCRBY", "big", 100, "m3")
    c.execute_command("ZREM", "big", "m4")
    c.execute_command("ZPOPMIN", "small")
    c.execute_command("ZUNIONSTORE", "u", 2, "small", "big")
    before = {k: c.execute_command("ZRANGE", k, 0, -1, "WITHSCORES") for k in ("small", "big",
                                                                              "u")}
    c.close()
    s.stop()
    s.start()
    c = s.client()
    after = {k: c.execute_command("ZRANGE", k, 0, -1, "WITHSCORES") for k in ("small", "big", "u")}
    assert after == before
    c.close()


# ---------------------------------------------------------------------------
# Blocking pops: BZPOPMIN, BZPOPMAX, BZMPOP
# ---------------------------------------------------------------------------


def _pending(c, timeout=0.2):
    """True when no reply arrives on raw connection c within `timeout` (still blocked)."""
    import socket
    c.sock.settimeout(timeout)
    try:
        data = c.sock.recv(65536)
    except socket.timeout:
        return True
    finally:
        c.sock.settimeout(10)
    c.buf += data
    return False


def _call(c, *args):
    c.cmd(*args)
    return c.read_reply()


def test_bzpop_immediate(r):
    fill(r, n=3)
    got = cmd(r, "BZPOPMIN", "nokey", "z", 0)
    assert got[0] == "z" and got[1] == "a" and float(got[2]) == 1
    got = cmd(r, "BZPOPMAX", "z", 0)
    assert got[0] == "z" and got[1] == "c" and float(got[2]) == 3
    got = cmd(r, "BZMPOP", 0, 2, "nokey", "z", "MAX", "COUNT", 5)
    assert got[0] == "z" and pairs(got[1]) == [("b", 2)]
    assert cmd(r, "EXISTS", "z") == 0
    assert cmd(r, "BZPOPMIN", "nokey", 0.05) is None
    assert cmd(r, "BZMPOP", 0.05, 1, "nokey", "MIN") is None
    cmd(r, "SET", "s", "x")
    assert_error(r, WRONGTYPE, "BZPOPMIN", "s", 0)
    assert_error(r, "timeout is not a float or out of range", "BZPOPMIN", "z", "x")
    assert_error(r, "timeout is negative", "BZPOPMIN", "z", -1)
    assert_error(r, "numkeys should be greater than 0", "BZMPOP", 0, 0, "z", "MIN")
    assert_error(r, "syntax error", "BZMPOP", 0, 1, "z", "LEFT")


def test_bzpopmin_woken_by_zadd_from_another_client(raw):
    a = raw
    b = raw.more()
    a.cmd("BZPOPMIN", "bz", "0")
    assert _pending(a)
    assert _call(b, "ZADD", "bz", "2", "y", "1", "x") == b":2\r\n"
    assert a.read_reply() == b"*3\r\n$2\r\nbz\r\n$1\r\nx\r\n$1\r\n1\r\n"
    assert _call(b, "ZRANGE", "bz", "0", "-1") == b"*1\r\n$1\r\ny\r\n"
    a.cmd("BZMPOP", "0", "2", "nope", "bz2", "MAX", "COUNT", "5")
    assert _pending(a)
    assert _call(b, "ZADD", "bz2", "1", "p", "3", "q") == b":2\r\n"
    assert a.read_reply() == (b"*2\r\n$3\r\nbz2\r\n*2\r\n*2\r\n$1\r\nq\r\n$1\r\n3\r\n"
                              b"*2\r\n$1\r\np\r\n$1\r\n1\r\n")
    assert _call(b, "EXISTS", "bz2") == b":0\r\n"


def test_bzpop_timeout(raw):
    t = __import__("time").time()
    assert _call(raw, "BZPOPMAX", "never", "0.2") == b"*-1\r\n"
    assert __import__("time").time() - t >= 0.15
    assert _call(raw, "BZMPOP", "0.1", "1", "never", "MIN") == b"*-1\r\n"


def test_bzpop_fifo(raw):
    import time
    waiters = [raw] + [raw.more() for _ in range(3)]
    pusher = raw.more()
    for w in waiters:
        w.cmd("BZPOPMIN", "fifo", "0")
        time.sleep(0.05)
    assert all(_pending(w, 0.05) for w in waiters)
    assert _call(pusher, "ZADD", "fifo", "1", "a", "2", "b", "3", "c") == b":3\r\n"
    for i, m in enumerate("abc"):
        assert waiters[i].read_reply() == b"*3\r\n$4\r\nfifo\r\n$1\r\n%s\r\n$1\r\n%d\r\n" % (
            m.encode(), i + 1)
    assert _pending(waiters[3])
    assert _call(pusher, "ZADD", "fifo", "9", "z") == b":1\r\n"
    assert waiters[3].read_reply() == b"*3\r\n$4\r\nfifo\r\n$1\r\nz\r\n$1\r\n9\r\n"


def test_bzpop_in_multi_does_not_block(r):
    p = r.pipeline(transaction=True)
    p.execute_command("BZPOPMIN", "nokey", 0)
    assert p.execute() == [None]


def test_argument_errors_as_redis_7_0(r):
    r.set("str", "x")
    # A count of 0 still checks the key's type.
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.zpopmin("str", 0)
    assert r.zpopmin("missing", 0) == []
    # numkeys, COUNT and LIMIT that are not numbers get the same text as out-of-range ones.
    for bad in ("0", "a", "-1"):
        with pytest.raises(redis.ResponseError, match="numkeys should be greater than 0"):
            r.execute_command("ZMPOP", bad, "z", "MIN")
    for bad in ("0", "a", "-1"):
        with pytest.raises(redis.ResponseError, match="count should be greater than 0"):
            r.execute_command("ZMPOP", "1", "z", "MIN", "COUNT", bad)
    for bad in ("-1", "a"):
        with pytest.raises(redis.ResponseError, match="LIMIT can't be negative"):
            r.execute_command("ZINTERCARD", "1", "z", "LIMIT", bad)
    r.zadd("z", {"a": 0})
    with pytest.raises(redis.ResponseError, match="value is out of range"):
        r.execute_command("ZRANDMEMBER", "z", "-9223372036854775808")
    with pytest.raises(redis.ResponseError, match="value is out of range"):
        r.execute_command("ZRANDMEMBER", "z", "-9223372036854770000", "WITHSCORES")
