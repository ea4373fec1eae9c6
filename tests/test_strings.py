"""String commands: SET and its options, GET family, counters, ranges, LCS, encodings.

Written against Redis 7.0 semantics; every test must pass against redis-server 7.0.15
(FDB_TEST_TARGET=redis) and is the spec for fdb-server.
"""

import os
import time

import pytest
import redis

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def call(raw, *args):
    """Sends one command on the raw socket and returns the raw RESP reply bytes."""
    raw.cmd(*args)
    return raw.read_reply()


def err(exc_info):
    return str(exc_info.value)


def assert_error(r, msg, *args):
    """The command fails with exactly `msg` (redis-py strips the leading 'ERR ')."""
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    assert str(e.value) == msg


# ---------------------------------------------------------------------------
# SET / GET basics
# ---------------------------------------------------------------------------

def test_set_get_roundtrip(r):
    assert r.set("k", "hello") is True
    assert r.get("k") == "hello"
    assert r.set("k", "world") is True
    assert r.get("k") == "world"


def test_get_missing_is_nil(r):
    assert r.get("missing") is None


def test_get_missing_wire_shape(raw):
    assert call(raw, "GET", "missing") == b"$-1\r\n"
    assert call(raw, "SET", "k", "v") == b"+OK\r\n"
    assert call(raw, "GET", "k") == b"$1\r\nv\r\n"


def test_get_missing_resp3_is_null(raw):
    call(raw, "HELLO", "3")
    assert call(raw, "GET", "missing") == b"_\r\n"
    assert call(raw, "SET", "k", "") == b"+OK\r\n"
    assert call(raw, "GET", "k") == b"$0\r\n\r\n"


def test_set_empty_value(r):
    assert r.set("k", "") is True
    assert r.get("k") == ""
    assert r.strlen("k") == 0
    assert r.exists("k") == 1


def test_set_nx(r):
    assert r.set("k", "1", nx=True) is True
    assert r.set("k", "2", nx=True) is None
    assert r.get("k") == "1"


def test_set_xx(r):
    assert r.set("k", "1", xx=True) is None
    assert r.exists("k") == 0
    r.set("k", "1")
    assert r.set("k", "2", xx=True) is True
    assert r.get("k") == "2"


def test_set_nx_xx_wire_replies(raw):
    assert call(raw, "SET", "k", "1", "NX") == b"+OK\r\n"
    assert call(raw, "SET", "k", "2", "NX") == b"$-1\r\n"
    assert call(raw, "SET", "other", "2", "XX") == b"$-1\r\n"
    assert call(raw, "SET", "k", "3", "XX") == b"+OK\r\n"
    assert call(raw, "GET", "k") == b"$1\r\n3\r\n"


def test_set_options_case_insensitive(r):
    assert r.execute_command("set", "k", "v", "ex", "100") is True
    assert r.ttl("k") == 100
    assert r.execute_command("SeT", "k", "v2", "Px", "50000") is True
    assert 49000 <= r.pttl("k") <= 50000
    assert r.get("k") == "v2"


def test_set_ex(r):
    assert r.set("k", "v", ex=100) is True
    assert r.ttl("k") == 100
    assert 99000 <= r.pttl("k") <= 100000


def test_set_px(r):
    assert r.set("k", "v", px=100500) is True
    assert 100000 <= r.pttl("k") <= 100500


def test_set_exat(r):
    at = int(time.time()) + 1000
    assert r.set("k", "v", exat=at) is True
    assert r.expiretime("k") == at
    assert 998 <= r.ttl("k") <= 1000


def test_set_pxat(r):
    at = int(time.time() * 1000) + 100000
    assert r.set("k", "v", pxat=at) is True
    assert r.pexpiretime("k") == at
    assert 99000 <= r.pttl("k") <= 100000


def test_set_exat_pxat_in_the_past_deletes(r):
    r.set("k", "old")
    assert r.set("k", "v", exat=1) is True
    assert r.exists("k") == 0
    assert r.get("k") is None
    assert r.set("k2", "v", pxat=1) is True
    assert r.exists("k2") == 0


def test_set_without_ttl_clears_ttl(r):
    r.set("k", "v", ex=100)
    r.set("k", "v2")
    assert r.ttl("k") == -1


def test_set_keepttl(r):
    r.set("k", "v", ex=100)
    assert r.set("k", "v2", keepttl=True) is True
    assert r.get("k") == "v2"
    assert 99 <= r.ttl("k") <= 100
    # KEEPTTL on a key without TTL / a missing key just sets it
    assert r.set("p", "x", keepttl=True) is True
    assert r.ttl("p") == -1


def test_set_get_option(r):
    assert r.set("k", "1", get=True) is None
    assert r.get("k") == "1"
    assert r.set("k", "2", get=True) == "1"
    assert r.get("k") == "2"


def test_set_get_option_wire(raw):
    assert call(raw, "SET", "k", "a", "GET") == b"$-1\r\n"
    assert call(raw, "SET", "k", "bb", "GET") == b"$1\r\na\r\n"
    assert call(raw, "GET", "k") == b"$2\r\nbb\r\n"


def test_set_nx_get(r):
    # Allowed since Redis 7.0: returns the old value, and does not set when the key exists.
    assert r.set("k", "1", nx=True, get=True) is None
    assert r.get("k") == "1"
    assert r.set("k", "2", nx=True, get=True) == "1"
    assert r.get("k") == "1"


def test_set_xx_get(r):
    assert r.set("k", "1", xx=True, get=True) is None
    assert r.exists("k") == 0
    r.set("k", "1")
    assert r.set("k", "2", xx=True, get=True) == "1"
    assert r.get("k") == "2"


def test_set_get_with_ex(r):
    r.set("k", "old")
    assert r.set("k", "new", ex=100, get=True) == "old"
    assert r.get("k") == "new"
    assert r.ttl("k") == 100


def test_set_xx_keepttl_get(r):
    r.set("k", "old", px=100000)
    assert r.set("k", "new", xx=True, keepttl=True, get=True) == "old"
    assert 99000 <= r.pttl("k") <= 100000
    assert r.get("k") == "new"


def test_set_nx_with_ex_not_applied_when_exists(r):
    r.set("k", "v")
    assert r.set("k", "v2", nx=True, ex=100) is None
    assert r.ttl("k") == -1
    assert r.get("k") == "v"


def test_set_repeated_same_flag_is_allowed(r):
    assert r.execute_command("SET", "k", "v", "NX", "NX") is True
    assert r.execute_command("SET", "k", "w", "XX", "XX") is True
    assert r.execute_command("SET", "k", "x", "EX", "10", "EX", "100") is True
    assert r.ttl("k") == 100
    assert r.execute_command("SET", "k", "y", "KEEPTTL", "KEEPTTL") is True
    assert r.ttl("k") == 100
    assert r.get("k") == "y"


@pytest.mark.parametrize("args", [
    ("NX", "XX"),
    ("XX", "NX"),
    ("EX", "10", "PX", "10000"),
    ("PX", "10", "EX", "10"),
    ("EX", "10", "EXAT", "99999999999"),
    ("PX", "10", "PXAT", "99999999999"),
    ("EXAT", "99999999999", "PXAT", "99999999999"),
    ("KEEPTTL", "EX", "10"),
    ("EX", "10", "KEEPTTL"),
    ("PXAT", "99999999999999", "KEEPTTL"),
    ("EX",),
    ("PX",),
    ("EXAT",),
    ("PXAT",),
    ("FOO",),
    ("EX", "10", "BAR"),
])
def test_set_syntax_errors(r, args):
    r.set("k", "orig")
    assert_error(r, "syntax error", "SET", "k", "v", *args)
    assert r.get("k") == "orig"
    assert r.ttl("k") == -1


@pytest.mark.parametrize("opt,value", [
    ("EX", "0"), ("EX", "-1"), ("PX", "0"), ("PX", "-100"),
    ("EXAT", "0"), ("EXAT", "-5"), ("PXAT", "0"), ("PXAT", "-5"),
    ("EX", "9223372036854775807"), ("PX", "9223372036854775807"),
    ("EXAT", "9223372036854775807"), ("EX", "-9223372036854775808"),
])
def test_set_invalid_expire_time(r, opt, value):
    r.set("k", "orig")
    assert_error(r, "invalid expire time in 'set' command", "SET", "k", "v", opt, value)
    assert r.get("k") == "orig"


@pytest.mark.parametrize("opt,value", [
    ("EX", "1.5"), ("PX", "abc"), ("EXAT", "1e3"), ("PXAT", ""), ("EX", "10 "),
    ("EX", "9223372036854775808"),
])
def test_set_non_integer_expire(r, opt, value):
    assert_error(r, "value is not an integer or out of range", "SET", "k", "v", opt, value)
    assert r.exists("k") == 0


def test_set_errors_on_the_wire(raw):
    assert call(raw, "SET", "k", "v", "NX", "XX") == b"-ERR syntax error\r\n"
    assert call(raw, "SET", "k", "v", "EX", "0") == \
        b"-ERR invalid expire time in 'set' command\r\n"
    assert call(raw, "SET", "k", "v", "EX", "x") == \
        b"-ERR value is not an integer or out of range\r\n"
    assert call(raw, "SET", "k") == b"-ERR wrong number of arguments for 'set' command\r\n"
    assert call(raw, "EXISTS", "k") == b":0\r\n"


# ---------------------------------------------------------------------------
# GETSET / GETDEL / GETEX
# ---------------------------------------------------------------------------

def test_getset(r):
    assert r.getset("k", "1") is None
    assert r.get("k") == "1"
    assert r.getset("k", "2") == "1"
    assert r.get("k") == "2"


def test_getset_clears_ttl(r):
    r.set("k", "1", ex=100)
    assert r.getset("k", "2") == "1"
    assert r.ttl("k") == -1


def test_getdel(r):
    r.set("k", "v")
    assert r.getdel("k") == "v"
    assert r.exists("k") == 0
    assert r.getdel("k") is None


def test_getdel_wire(raw):
    call(raw, "SET", "k", "abc")
    assert call(raw, "GETDEL", "k") == b"$3\r\nabc\r\n"
    assert call(raw, "GETDEL", "k") == b"$-1\r\n"
    assert call(raw, "GETDEL", "a", "b") == \
        b"-ERR wrong number of arguments for 'getdel' command\r\n"


def test_getex_without_options_is_get(r):
    r.set("k", "v", ex=100)
    assert r.getex("k") == "v"
    assert r.ttl("k") == 100
    assert r.getex("missing") is None


def test_getex_ex_px(r):
    r.set("k", "v")
    assert r.getex("k", ex=100) == "v"
    assert r.ttl("k") == 100
    assert r.getex("k", px=200000) == "v"
    assert 199000 <= r.pttl("k") <= 200000


def test_getex_exat_pxat(r):
    r.set("k", "v")
    at = int(time.time()) + 5000
    assert r.getex("k", exat=at) == "v"
    assert r.expiretime("k") == at
    pat = int(time.time() * 1000) + 7000000
    assert r.getex("k", pxat=pat) == "v"
    assert r.pexpiretime("k") == pat


def test_getex_persist(r):
    r.set("k", "v", ex=100)
    assert r.getex("k", persist=True) == "v"
    assert r.ttl("k") == -1
    assert r.get("k") == "v"


def test_getex_in_the_past_deletes_but_returns_value(r):
    r.set("k", "v")
    assert r.getex("k", exat=1) == "v"
    assert r.exists("k") == 0
    r.set("k", "w")
    assert r.getex("k", pxat=1) == "w"
    assert r.exists("k") == 0


def test_getex_missing_key_with_options(r):
    assert r.getex("missing", ex=100) is None
    assert r.exists("missing") == 0


def test_getex_repeated_options(r):
    r.set("k", "v")
    assert r.execute_command("GETEX", "k", "EX", "10", "EX", "100") == "v"
    assert r.ttl("k") == 100
    assert r.execute_command("GETEX", "k", "PERSIST", "PERSIST") == "v"
    assert r.ttl("k") == -1


@pytest.mark.parametrize("args", [
    ("EX", "10", "PX", "10000"),
    ("EX", "10", "PERSIST"),
    ("PERSIST", "PX", "100"),
    ("EXAT", "99999999999", "PXAT", "99999999999000"),
    ("FOO",),
    ("EX",),
    ("KEEPTTL",),
])
def test_getex_syntax_errors(r, args):
    r.set("k", "v", ex=100)
    assert_error(r, "syntax error", "GETEX", "k", *args)
    assert r.ttl("k") == 100


@pytest.mark.parametrize("opt,value", [
    ("EX", "0"), ("EX", "-5"), ("PX", "0"), ("EXAT", "0"), ("PXAT", "-1"),
    ("EX", "9223372036854775807"), ("EXAT", "9223372036854775807"),
])
def test_getex_invalid_expire(r, opt, value):
    r.set("k", "v")
    assert_error(r, "invalid expire time in 'getex' command", "GETEX", "k", opt, value)
    assert r.get("k") == "v"
    assert r.ttl("k") == -1


def test_getex_non_integer(r):
    r.set("k", "v")
    assert_error(r, "value is not an integer or out of range", "GETEX", "k", "EX", "abc")


def test_getex_wire_resp3(raw):
    call(raw, "HELLO", "3")
    call(raw, "SET", "k", "val")
    assert call(raw, "GETEX", "k", "PERSIST") == b"$3\r\nval\r\n"
    assert call(raw, "GETEX", "nokey", "EX", "10") == b"_\r\n"


# ---------------------------------------------------------------------------
# MGET / MSET / MSETNX / SETNX / SETEX / PSETEX
# ---------------------------------------------------------------------------

def test_mset_mget(r):
    assert r.mset({"a": "1", "b": "2", "c": "3"}) is True
    assert r.mget("a", "b", "missing", "c", "a") == ["1", "2", None, "3", "1"]


def test_mset_last_value_wins(r):
    assert r.execute_command("MSET", "a", "1", "a", "2") is True
    assert r.get("a") == "2"


def test_mset_clears_ttl(r):
    r.set("a", "1", ex=100)
    r.mset({"a": "2"})
    assert r.ttl("a") == -1


def test_mget_wire(raw):
    call(raw, "MSET", "x", "1", "y", "22")
    assert call(raw, "MGET", "x", "nokey", "y") == b"*3\r\n$1\r\n1\r\n$-1\r\n$2\r\n22\r\n"


def test_mset_mget_arity(raw):
    assert call(raw, "MSET", "a", "1", "b") == \
        b"-ERR wrong number of arguments for 'mset' command\r\n"
    assert call(raw, "MSET", "a") == b"-ERR wrong number of arguments for 'mset' command\r\n"
    assert call(raw, "MGET") == b"-ERR wrong number of arguments for 'mget' command\r\n"
    assert call(raw, "MSETNX", "a", "1", "b") == \
        b"-ERR wrong number of arguments for 'msetnx' command\r\n"
    assert call(raw, "EXISTS", "a") == b":0\r\n"


def test_msetnx(r):
    assert r.msetnx({"a": "1", "b": "2"}) is True
    assert r.mget("a", "b") == ["1", "2"]
    # one key already exists: nothing is set at all
    assert r.msetnx({"c": "3", "a": "x"}) is False
    assert r.exists("c") == 0
    assert r.get("a") == "1"


def test_msetnx_wire(raw):
    assert call(raw, "MSETNX", "a", "1", "b", "2") == b":1\r\n"
    assert call(raw, "MSETNX", "b", "9", "c", "3") == b":0\r\n"
    assert call(raw, "MGET", "a", "b", "c") == b"*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n"


def test_setnx(r):
    assert r.setnx("k", "1") is True
    assert r.setnx("k", "2") is False
    assert r.get("k") == "1"


def test_setnx_wire(raw):
    assert call(raw, "SETNX", "k", "1") == b":1\r\n"
    assert call(raw, "SETNX", "k", "2") == b":0\r\n"


def test_setex(r):
    assert r.execute_command("SETEX", "k", "100", "v") is True
    assert r.get("k") == "v"
    assert r.ttl("k") == 100


def test_psetex(r):
    assert r.execute_command("PSETEX", "k", "100000", "v") is True
    assert r.get("k") == "v"
    assert 99000 <= r.pttl("k") <= 100000


@pytest.mark.parametrize("cmd,value", [
    ("SETEX", "0"), ("SETEX", "-1"), ("PSETEX", "0"), ("PSETEX", "-10"),
    ("SETEX", "9223372036854775807"),
])
def test_setex_psetex_invalid_expire(r, cmd, value):
    assert_error(r, f"invalid expire time in '{cmd.lower()}' command", cmd, "k", value, "v")
    assert r.exists("k") == 0


def test_setex_non_integer(r):
    assert_error(r, "value is not an integer or out of range", "SETEX", "k", "1.5", "v")
    assert_error(r, "value is not an integer or out of range", "PSETEX", "k", "x", "v")
    assert r.exists("k") == 0


# ---------------------------------------------------------------------------
# APPEND / STRLEN
# ---------------------------------------------------------------------------

def test_append(r):
    assert r.append("k", "abc") == 3
    assert r.append("k", "def") == 6
    assert r.get("k") == "abcdef"
    assert r.append("k", "") == 6
    assert r.get("k") == "abcdef"


def test_append_to_integer(r):
    r.set("k", "12")
    assert r.append("k", "3") == 3
    assert r.get("k") == "123"
    assert r.incr("k") == 124


def test_append_keeps_ttl(r):
    r.set("k", "a", ex=100)
    r.append("k", "b")
    assert r.ttl("k") == 100


def test_strlen(r):
    assert r.strlen("missing") == 0
    r.set("k", "hello")
    assert r.strlen("k") == 5
    r.set("n", "12345")
    assert r.strlen("n") == 5
    r.set("neg", "-1")
    assert r.strlen("neg") == 2


def test_strlen_counts_bytes(rb):
    rb.set(b"k", "h\u00e9llo".encode())
    assert rb.strlen(b"k") == 6


# ---------------------------------------------------------------------------
# INCR / DECR / INCRBY / DECRBY
# ---------------------------------------------------------------------------

def test_incr_decr_on_missing(r):
    assert r.incr("a") == 1
    assert r.incr("a") == 2
    assert r.decr("b") == -1
    assert r.incrby("c", 10) == 10
    assert r.decrby("d", 7) == -7
    assert r.get("a") == "2"
    assert r.get("d") == "-7"


def test_incrby_decrby(r):
    r.set("k", "100")
    assert r.incrby("k", 50) == 150
    assert r.incrby("k", -200) == -50
    assert r.decrby("k", -60) == 10
    assert r.decrby("k", 10) == 0
    assert r.get("k") == "0"


def test_incr_wire_reply_is_integer(raw):
    assert call(raw, "INCR", "k") == b":1\r\n"
    assert call(raw, "INCRBY", "k", "41") == b":42\r\n"
    assert call(raw, "DECR", "k") == b":41\r\n"
    assert call(raw, "DECRBY", "k", "50") == b":-9\r\n"
    assert call(raw, "GET", "k") == b"$2\r\n-9\r\n"


def test_incr_keeps_ttl(r):
    r.set("k", "5", ex=100)
    assert r.incr("k") == 6
    assert r.ttl("k") == 100


def test_incr_large_values(r):
    r.set("k", "9223372036854775806")
    assert r.incr("k") == 9223372036854775807
    r.set("n", "-9223372036854775807")
    assert r.decr("n") == -9223372036854775808
    assert r.get("n") == "-9223372036854775808"


@pytest.mark.parametrize("start,cmd,arg", [
    ("9223372036854775807", "INCR", None),
    ("9223372036854775807", "INCRBY", "1"),
    ("-9223372036854775808", "DECR", None),
    ("-9223372036854775808", "INCRBY", "-1"),
    ("-9223372036854775808", "DECRBY", "1"),
    ("-2", "DECRBY", "9223372036854775807"),
    ("1", "INCRBY", "9223372036854775807"),
])
def test_incr_overflow(r, start, cmd, arg):
    r.set("k", start)
    args = (cmd, "k") if arg is None else (cmd, "k", arg)
    assert_error(r, "increment or decrement would overflow", *args)
    assert r.get("k") == start


def test_decrby_min_int_is_rejected(r):
    # DECRBY cannot negate LLONG_MIN: a separate message in Redis.
    r.set("k", "1")
    assert_error(r, "decrement would overflow", "DECRBY", "k", "-9223372036854775808")
    assert r.get("k") == "1"


@pytest.mark.parametrize("value", [
    "abc", "1.5", "", " 1", "1 ", "01", "+1", "1e3", "0x10", "9223372036854775808",
    "-9223372036854775809", "12a",
])
def test_incr_on_non_integer(r, value):
    r.set("k", value)
    assert_error(r, "value is not an integer or out of range", "INCR", "k")
    assert_error(r, "value is not an integer or out of range", "DECRBY", "k", "1")
    assert r.get("k") == value


@pytest.mark.parametrize("increment", ["1.5", "abc", "", "9223372036854775808"])
def test_incrby_non_integer_increment(r, increment):
    r.set("k", "1")
    assert_error(r, "value is not an integer or out of range", "INCRBY", "k", increment)
    assert_error(r, "value is not an integer or out of range", "DECRBY", "k", increment)
    assert r.get("k") == "1"


def test_incr_errors_on_the_wire(raw):
    call(raw, "SET", "k", "x")
    assert call(raw, "INCR", "k") == b"-ERR value is not an integer or out of range\r\n"
    call(raw, "SET", "m", "9223372036854775807")
    assert call(raw, "INCR", "m") == b"-ERR increment or decrement would overflow\r\n"
    assert call(raw, "INCR") == b"-ERR wrong number of arguments for 'incr' command\r\n"


# ---------------------------------------------------------------------------
# INCRBYFLOAT
# ---------------------------------------------------------------------------

def test_incrbyfloat_formatting(r):
    assert r.incrbyfloat("k", 10.5) == 10.5
    assert r.get("k") == "10.5"
    r.execute_command("INCRBYFLOAT", "k", "0.1")
    assert r.get("k") == "10.6"


def test_incrbyfloat_exponent_values(r):
    r.set("k", "5.0e3")
    r.execute_command("INCRBYFLOAT", "k", "2.0e2")
    assert r.get("k") == "5200"
    r.set("m", "3.0e3")
    r.execute_command("INCRBYFLOAT", "m", "0")
    assert r.get("m") == "3000"


def test_incrbyfloat_no_trailing_zeros_and_no_exponent(r):
    for inc, expect in [("1.0", "1"), ("1.5", "2.5"), ("-2.5", "0"), ("0.1", "0.1"),
                        ("0.2", "0.3"), ("-0.3", "0"), ("1e-5", "0.00001"),
                        ("-0.00001", "0"), ("3.14e2", "314"), ("1e17", "100000000000000314")]:
        r.execute_command("INCRBYFLOAT", "k", inc)
        assert r.get("k") == expect, inc


def test_incrbyfloat_on_integer_value(r):
    r.set("k", "10")
    r.execute_command("INCRBYFLOAT", "k", "1.5")
    assert r.get("k") == "11.5"
    r.execute_command("INCRBYFLOAT", "k", "-0.5")
    assert r.get("k") == "11"
    # still usable as an integer afterwards
    assert r.incr("k") == 12


def test_incrbyfloat_keeps_ttl(r):
    r.set("k", "1", ex=100)
    r.incrbyfloat("k", 1)
    assert r.ttl("k") == 100


def test_incrbyfloat_reply_is_bulk_string(raw):
    assert call(raw, "INCRBYFLOAT", "k", "10.5") == b"$4\r\n10.5\r\n"
    assert call(raw, "INCRBYFLOAT", "k", "0.1") == b"$4\r\n10.6\r\n"
    assert call(raw, "INCRBYFLOAT", "k", "-0.6") == b"$2\r\n10\r\n"


def test_incrbyfloat_reply_is_bulk_string_in_resp3(raw):
    # Redis 7 replies with a bulk string even in RESP3 (not a RESP3 double).
    call(raw, "HELLO", "3")
    assert call(raw, "INCRBYFLOAT", "k", "1.5") == b"$3\r\n1.5\r\n"
    assert call(raw, "INCRBYFLOAT", "k", "3.0e3") == b"$6\r\n3001.5\r\n"


@pytest.mark.parametrize("increment", ["abc", "", " 1", "1 ", "nan", "1.5x", "1e5000"])
def test_incrbyfloat_invalid_increment(r, increment):
    r.set("k", "1")
    assert_error(r, "value is not a valid float", "INCRBYFLOAT", "k", increment)
    assert r.get("k") == "1"


@pytest.mark.parametrize("value", ["abc", "", "1 ", " 1", "1.5.5"])
def test_incrbyfloat_on_non_float_value(r, value):
    r.set("k", value)
    assert_error(r, "value is not a valid float", "INCRBYFLOAT", "k", "1")
    assert r.get("k") == value


def test_incrbyfloat_infinity(r):
    assert_error(r, "increment would produce NaN or Infinity", "INCRBYFLOAT", "k", "inf")
    assert_error(r, "increment would produce NaN or Infinity", "INCRBYFLOAT", "k", "-inf")
    assert r.exists("k") == 0
    r.set("k", "inf")
    assert_error(r, "increment would produce NaN or Infinity", "INCRBYFLOAT", "k", "1")
    assert r.get("k") == "inf"


def test_incrbyfloat_errors_on_the_wire(raw):
    assert call(raw, "INCRBYFLOAT", "k", "x") == b"-ERR value is not a valid float\r\n"
    assert call(raw, "INCRBYFLOAT", "k", "inf") == \
        b"-ERR increment would produce NaN or Infinity\r\n"


# ---------------------------------------------------------------------------
# GETRANGE / SUBSTR / SETRANGE
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("start,end,expect", [
    (0, 4, "Hello"),
    (-5, -1, "World"),
    (0, -1, "Hello World"),
    (-100, -1, "Hello World"),
    (0, 100, "Hello World"),
    (6, 6, "W"),
    (5, 2, ""),
    (100, 200, ""),
    (-1, -5, ""),
    (-1, -1, "d"),
    (10, 10, "d"),
    (11, 11, ""),
    (0, -100, "H"),
    (-100, -100, "H"),
])
def test_getrange(r, start, end, expect):
    r.set("s", "Hello World")
    assert r.getrange("s", start, end) == expect
    assert r.execute_command("SUBSTR", "s", start, end) == expect


def test_getrange_missing_and_empty(r):
    assert r.getrange("missing", 0, -1) == ""
    r.set("e", "")
    assert r.getrange("e", 0, -1) == ""
    assert r.getrange("e", 0, 0) == ""
    assert r.getrange("e", -1, -1) == ""


def test_getrange_missing_wire_is_empty_not_nil(raw):
    assert call(raw, "GETRANGE", "missing", "0", "-1") == b"$0\r\n\r\n"
    call(raw, "HELLO", "3")
    assert call(raw, "GETRANGE", "missing", "0", "-1") == b"$0\r\n\r\n"


def test_getrange_on_integer_encoded_value(r):
    r.set("n", "123456")
    assert r.getrange("n", 1, 3) == "234"
    assert r.getrange("n", -2, -1) == "56"


def test_getrange_errors(raw):
    call(raw, "SET", "s", "abc")
    assert call(raw, "GETRANGE", "s", "a", "1") == \
        b"-ERR value is not an integer or out of range\r\n"
    assert call(raw, "GETRANGE", "s", "0") == \
        b"-ERR wrong number of arguments for 'getrange' command\r\n"
    assert call(raw, "SUBSTR", "s", "0") == \
        b"-ERR wrong number of arguments for 'substr' command\r\n"


def test_setrange_overwrite(r):
    r.set("s", "Hello World")
    assert r.setrange("s", 6, "Redis") == 11
    assert r.get("s") == "Hello Redis"
    assert r.setrange("s", 10, "s!!") == 13
    assert r.get("s") == "Hello Redis!!"


def test_setrange_pads_with_zero_bytes(rb):
    assert rb.setrange(b"k", 5, b"x") == 6
    assert rb.get(b"k") == b"\x00\x00\x00\x00\x00x"
    rb.set(b"s", b"ab")
    assert rb.setrange(b"s", 4, b"cd") == 6
    assert rb.get(b"s") == b"ab\x00\x00cd"


def test_setrange_empty_value(r):
    # Empty value on a missing key creates nothing, whatever the offset.
    assert r.setrange("k", 0, "") == 0
    assert r.setrange("k", 5, "") == 0
    assert r.exists("k") == 0
    # Empty value on an existing key does not change or extend it.
    r.set("s", "abc")
    assert r.setrange("s", 10, "") == 3
    assert r.get("s") == "abc"


def test_setrange_on_integer(r):
    r.set("n", "12345")
    assert r.setrange("n", 1, "9") == 5
    assert r.get("n") == "19345"
    assert r.incr("n") == 19346


def test_setrange_keeps_ttl(r):
    r.set("k", "abc", ex=100)
    r.setrange("k", 1, "X")
    assert r.ttl("k") == 100
    assert r.get("k") == "aXc"


def test_setrange_errors(raw):
    call(raw, "SET", "s", "abc")
    assert call(raw, "SETRANGE", "s", "-1", "x") == b"-ERR offset is out of range\r\n"
    assert call(raw, "SETRANGE", "missing", "-1", "x") == b"-ERR offset is out of range\r\n"
    assert call(raw, "SETRANGE", "s", "abc", "x") == \
        b"-ERR value is not an integer or out of range\r\n"
    # 512 MB limit (proto-max-bulk-len)
    assert call(raw, "SETRANGE", "s", "536870912", "x") == \
        b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
    assert call(raw, "SETRANGE", "s", "0") == \
        b"-ERR wrong number of arguments for 'setrange' command\r\n"
    assert call(raw, "GET", "s") == b"$3\r\nabc\r\n"
    assert call(raw, "EXISTS", "missing") == b":0\r\n"


# ---------------------------------------------------------------------------
# LCS
# ---------------------------------------------------------------------------

def lcs_dict(reply):
    if isinstance(reply, dict):
        return reply
    return dict(zip(reply[0::2], reply[1::2]))


def test_lcs_plain(r):
    r.mset({"key1": "ohmytext", "key2": "mynewtext"})
    assert r.lcs("key1", "key2") == "mytext"
    assert r.lcs("key2", "key1") == "mytext"


def test_lcs_len(r):
    r.mset({"key1": "ohmytext", "key2": "mynewtext"})
    assert r.lcs("key1", "key2", len=True) == 6


def test_lcs_missing_keys_are_empty(r):
    r.set("a", "hello")
    assert r.lcs("a", "missing") == ""
    assert r.lcs("missing", "a", len=True) == 0
    assert r.lcs("m1", "m2") == ""


def test_lcs_no_common(r):
    r.mset({"a": "abc", "b": "xyz"})
    assert r.lcs("a", "b") == ""
    assert r.lcs("a", "b", len=True) == 0


def test_lcs_idx(r):
    r.mset({"key1": "ohmytext", "key2": "mynewtext"})
    d = lcs_dict(r.lcs("key1", "key2", idx=True))
    assert d == {"matches": [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], "len": 6}


def test_lcs_idx_minmatchlen(r):
    r.mset({"key1": "ohmytext", "key2": "mynewtext"})
    d = lcs_dict(r.lcs("key1", "key2", idx=True, minmatchlen=4))
    assert d == {"matches": [[[4, 7], [5, 8]]], "len": 6}


def test_lcs_idx_withmatchlen(r):
    r.mset({"key1": "ohmytext", "key2": "mynewtext"})
    d = lcs_dict(r.lcs("key1", "key2", idx=True, withmatchlen=True))
    assert d == {"matches": [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]], "len": 6}
    d = lcs_dict(r.lcs("key1", "key2", idx=True, minmatchlen=4, withmatchlen=True))
    assert d == {"matches": [[[4, 7], [5, 8], 4]], "len": 6}


def test_lcs_idx_empty(r):
    d = lcs_dict(r.lcs("m1", "m2", idx=True))
    assert d == {"matches": [], "len": 0}


def test_lcs_minmatchlen_ignored_without_idx(r):
    r.mset({"key1": "ohmytext", "key2": "mynewtext"})
    assert r.execute_command("LCS", "key1", "key2", "MINMATCHLEN", "4") == "mytext"


def test_lcs_idx_wire_resp2(raw):
    call(raw, "MSET", "key1", "ohmytext", "key2", "mynewtext")
    assert call(raw, "LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN") == (
        b"*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n"
        b"$3\r\nlen\r\n:6\r\n")
    assert call(raw, "LCS", "key1", "key2", "LEN") == b":6\r\n"
    assert call(raw, "LCS", "key1", "key2") == b"$6\r\nmytext\r\n"


def test_lcs_idx_wire_resp3_is_map(raw):
    call(raw, "HELLO", "3")
    call(raw, "MSET", "key1", "ohmytext", "key2", "mynewtext")
    assert call(raw, "LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN") == (
        b"%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n"
        b"$3\r\nlen\r\n:6\r\n")


def test_lcs_errors(raw):
    call(raw, "MSET", "a", "x", "b", "y")
    assert call(raw, "LCS", "a", "b", "LEN", "IDX") == \
        b"-ERR If you want both the length and indexes, please just use IDX.\r\n"
    assert call(raw, "LCS", "a", "b", "FOO") == b"-ERR syntax error\r\n"
    assert call(raw, "LCS", "a", "b", "MINMATCHLEN", "x") == \
        b"-ERR value is not an integer or out of range\r\n"
    assert call(raw, "LCS", "a") == b"-ERR wrong number of arguments for 'lcs' command\r\n"


# ---------------------------------------------------------------------------
# Binary safety and big values
# ---------------------------------------------------------------------------

def test_binary_values_and_keys(rb):
    value = b"a\x00b\r\nc\xff\xfe\x00"
    key = b"k\x00\r\n\xff"
    assert rb.set(key, value) is True
    assert rb.get(key) == value
    assert rb.strlen(key) == len(value)
    assert rb.getrange(key, 1, 3) == b"\x00b\r"
    assert rb.append(key, b"\x00\x00") == len(value) + 2
    assert rb.get(key) == value + b"\x00\x00"
    assert rb.exists(key) == 1
    assert rb.exists(b"k") == 0
    assert rb.mget([key, b"k\x00"]) == [value + b"\x00\x00", None]


def test_binary_all_byte_values(rb):
    value = bytes(range(256)) * 4
    rb.set(b"k", value)
    assert rb.get(b"k") == value
    assert rb.getrange(b"k", 250, 260) == value[250:261]


def test_binary_wire(raw):
    raw.send(b"*3\r\n$3\r\nSET\r\n$2\r\nk\x00\r\n$4\r\n\r\n\x00\n\r\n")
    assert raw.read_reply() == b"+OK\r\n"
    assert call(raw, b"GET", b"k\x00") == b"$4\r\n\r\n\x00\n\r\n"
    assert call(raw, b"GET", b"k") == b"$-1\r\n"


def test_one_megabyte_values(rb):
    big = os.urandom(1 << 20)
    assert rb.set(b"big", big) is True
    assert rb.get(b"big") == big
    assert rb.strlen(b"big") == 1 << 20
    assert rb.append(b"big", b"tail") == (1 << 20) + 4
    assert rb.getrange(b"big", -4, -1) == b"tail"
    assert rb.getrange(b"big", 1000, 1999) == big[1000:2000]
    assert rb.setrange(b"big", 10, b"XYZ") == (1 << 20) + 4
    assert rb.getrange(b"big", 9, 13) == big[9:10] + b"XYZ" + big[13:14]
    assert rb.getset(b"big", b"small") == big[:10] + b"XYZ" + big[13:] + b"tail"
    assert rb.get(b"big") == b"small"


def test_setrange_large_offset(rb):
    assert rb.setrange(b"k", 1 << 20, b"end") == (1 << 20) + 3
    v = rb.get(b"k")
    assert len(v) == (1 << 20) + 3
    assert v[:-3] == b"\x00" * (1 << 20)
    assert v[-3:] == b"end"


def test_mset_many_keys(r):
    data = {f"key:{i}": f"value:{i}" for i in range(1000)}
    assert r.mset(data) is True
    keys = list(data)
    assert r.mget(keys) == [data[k] for k in keys]
    assert r.dbsize() == 1000


# ---------------------------------------------------------------------------
# OBJECT ENCODING of strings
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("value,encoding", [
    ("0", "int"),
    ("123", "int"),
    ("-123", "int"),
    ("9223372036854775807", "int"),
    ("-9223372036854775808", "int"),
    ("9223372036854775808", "embstr"),
    ("0123", "embstr"),
    ("+1", "embstr"),
    ("-0", "embstr"),
    (" 12", "embstr"),
    ("1.5", "embstr"),
    ("", "embstr"),
    ("hello", "embstr"),
    ("a" * 44, "embstr"),
    ("a" * 45, "raw"),
    ("a" * 1000, "raw"),
])
def test_object_encoding_of_set_values(r, value, encoding):
    r.set("k", value)
    assert r.object("encoding", "k") == encoding
    assert r.get("k") == value


def test_object_encoding_after_modifications(r):
    r.set("k", "1")
    r.append("k", "2")
    assert r.object("encoding", "k") == "raw"
    assert r.incr("k") == 13
    assert r.object("encoding", "k") == "int"
    r.set("s", "abc")
    r.setrange("s", 0, "x")
    assert r.object("encoding", "s") == "raw"
    r.incr("new")
    assert r.object("encoding", "new") == "int"


def test_object_encoding_wire(raw):
    call(raw, "SET", "k", "12")
    assert call(raw, "OBJECT", "ENCODING", "k") == b"$3\r\nint\r\n"
    assert call(raw, "OBJECT", "ENCODING", "missing") == b"$-1\r\n"


# ---------------------------------------------------------------------------
# Arity errors for string commands
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ("GET",), ("GET", "a", "b"), ("SET", "a"), ("GETSET", "a"), ("GETDEL",),
    ("GETEX",), ("SETNX", "a"), ("SETEX", "a", "10"), ("PSETEX", "a", "10"),
    ("APPEND", "a"), ("STRLEN",), ("INCR",), ("DECR", "a", "b"), ("INCRBY", "a"),
    ("DECRBY", "a"), ("INCRBYFLOAT", "a"), ("GETRANGE", "a", "0"), ("SETRANGE", "a", "0"),
    ("SUBSTR", "a"), ("LCS", "a"), ("MGET",), ("MSET",), ("MSETNX",),
])
def test_arity_errors(raw, args):
    name = args[0].lower()
    assert call(raw, *args) == \
        f"-ERR wrong number of arguments for '{name}' command\r\n".encode()


def test_arity_error_names_command_in_lowercase(raw):
    assert call(raw, "GeT") == b"-ERR wrong number of arguments for 'get' command\r\n"
    assert call(raw, "INCRBY", "x") == b"-ERR wrong number of arguments for 'incrby' command\r\n"


# ---------------------------------------------------------------------------
# WRONGTYPE (against a collection type)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ("GET", "l"), ("APPEND", "l", "x"), ("STRLEN", "l"), ("INCR", "l"), ("DECR", "l"),
    ("INCRBY", "l", "1"), ("DECRBY", "l", "1"), ("INCRBYFLOAT", "l", "1"),
    ("GETRANGE", "l", "0", "1"), ("SUBSTR", "l", "0", "1"), ("SETRANGE", "l", "0", "x"),
    ("GETSET", "l", "x"), ("GETDEL", "l"), ("GETEX", "l"), ("GETEX", "l", "PERSIST"),
    ("SET", "l", "x", "GET"),
])
def test_wrongtype_on_list(r, args):
    r.lpush("l", "a")
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    assert err(e) == WRONGTYPE
    assert r.type("l") == "list"
    assert r.lrange("l", 0, -1) == ["a"]


def test_wrongtype_wire(raw):
    call(raw, "SADD", "s", "m")
    assert call(raw, "GET", "s") == \
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"


def test_string_commands_ignoring_type(r):
    r.lpush("l", "a")
    r.set("s", "x")
    # MGET returns nil for non-string values instead of an error
    assert r.mget("s", "l") == ["x", None]
    # SETNX / MSETNX only look at existence
    assert r.setnx("l", "x") is False
    assert r.msetnx({"l": "x", "z": "y"}) is False
    assert r.exists("z") == 0
    assert r.type("l") == "list"
    # plain SET overwrites any type
    assert r.set("l", "v") is True
    assert r.type("l") == "string"
    assert r.get("l") == "v"


def test_lcs_on_non_string(r):
    r.lpush("l", "a")
    r.set("s", "x")
    for args in (("LCS", "l", "s"), ("LCS", "s", "l")):
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command(*args)
        assert err(e) == "The specified keys must contain string values"


def test_setrange_creating_a_key_takes_its_length(r):
    """As Redis (sdsnewlen): a key created by SETRANGE costs its length, not twice it (room to
    grow is for strings that grow again)."""
    r.delete("sr")
    assert r.setrange("sr", 100000, "x") == 100001
    assert r.memory_usage("sr") < 100001 * 5 // 4
