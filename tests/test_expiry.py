"""Expiry: EXPIRE family with NX/XX/GT/LT, TTL/PTTL, EXPIRETIME, PERSIST, lazy and active expiry.

Written against Redis 7.0 semantics; every test must pass against redis-server 7.0.15
(FDB_TEST_TARGET=redis) and is the spec for fdb-server.
"""

import time

import pytest
import redis

NX_XX_GT_LT = "NX and XX, GT or LT options at the same time are not compatible"
GT_LT = "GT and LT options at the same time are not compatible"
LLONG_MAX = "9223372036854775807"
LLONG_MIN = "-9223372036854775808"


def call(raw, *args):
    """Sends one command on the raw socket and returns the raw RESP reply bytes."""
    raw.cmd(*args)
    return raw.read_reply()


def assert_error(r, msg, *args):
    """The command fails with exactly `msg` (redis-py strips the leading 'ERR ')."""
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    assert str(e.value) == msg


def now_ms():
    return int(time.time() * 1000)


def wait_until(pred, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


# ---------------------------------------------------------------------------
# TTL / PTTL / EXPIRETIME / PEXPIRETIME basics
# ---------------------------------------------------------------------------

def test_ttl_missing_and_persistent(r):
    assert r.ttl("missing") == -2
    assert r.pttl("missing") == -2
    assert r.expiretime("missing") == -2
    assert r.pexpiretime("missing") == -2
    r.set("k", "v")
    assert r.ttl("k") == -1
    assert r.pttl("k") == -1
    assert r.expiretime("k") == -1
    assert r.pexpiretime("k") == -1


def test_ttl_wire(raw):
    assert call(raw, "TTL", "missing") == b":-2\r\n"
    assert call(raw, "PTTL", "missing") == b":-2\r\n"
    call(raw, "SET", "k", "v")
    assert call(raw, "TTL", "k") == b":-1\r\n"
    assert call(raw, "EXPIRETIME", "k") == b":-1\r\n"
    assert call(raw, "EXPIRE", "k", "100") == b":1\r\n"
    assert call(raw, "TTL", "k") == b":100\r\n"
    call(raw, "HELLO", "3")
    assert call(raw, "TTL", "k") == b":100\r\n"
    assert call(raw, "PTTL", "missing") == b":-2\r\n"


def test_ttl_rounds_to_nearest_second(r):
    r.set("k", "v")
    r.pexpire("k", 10900)
    assert r.ttl("k") == 11
    r.pexpire("k", 10100)
    assert r.ttl("k") == 10


def test_expiretime_values(r):
    r.set("k", "v")
    r.pexpireat("k", 1999999999600)
    assert r.pexpiretime("k") == 1999999999600
    assert r.expiretime("k") == 2000000000  # rounded to the nearest second
    r.pexpireat("k", 1999999999400)
    assert r.expiretime("k") == 1999999999
    r.expireat("k", 2100000000)
    assert r.expiretime("k") == 2100000000
    assert r.pexpiretime("k") == 2100000000000


def test_pttl_precision(r):
    r.set("k", "v", px=123456)
    assert 122000 <= r.pttl("k") <= 123456


# ---------------------------------------------------------------------------
# EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT
# ---------------------------------------------------------------------------

def test_expire(r):
    r.set("k", "v")
    assert r.expire("k", 100) is True
    assert r.ttl("k") == 100
    assert r.expire("missing", 100) is False
    assert r.exists("missing") == 0


def test_pexpire(r):
    r.set("k", "v")
    assert r.pexpire("k", 100500) is True
    assert 100000 <= r.pttl("k") <= 100500
    assert r.pexpire("missing", 100) is False


def test_expireat(r):
    r.set("k", "v")
    at = int(time.time()) + 1000
    assert r.expireat("k", at) is True
    assert r.expiretime("k") == at
    assert 998 <= r.ttl("k") <= 1000
    assert r.expireat("missing", at) is False


def test_pexpireat(r):
    r.set("k", "v")
    at = now_ms() + 100000
    assert r.pexpireat("k", at) is True
    assert r.pexpiretime("k") == at
    assert 99000 <= r.pttl("k") <= 100000
    assert r.pexpireat("missing", at) is False


def test_expire_wire(raw):
    call(raw, "SET", "k", "v")
    assert call(raw, "EXPIRE", "k", "100") == b":1\r\n"
    assert call(raw, "PEXPIRE", "missing", "100") == b":0\r\n"
    assert call(raw, "EXPIREAT", "missing", "99999999999") == b":0\r\n"


def test_expire_overwrites_ttl(r):
    r.set("k", "v", ex=100)
    assert r.expire("k", 1000) is True
    assert r.ttl("k") == 1000
    assert r.expire("k", 50) is True
    assert r.ttl("k") == 50


def test_expire_large_but_valid(r):
    r.set("k", "v")
    assert r.expire("k", 100000000000) is True
    assert r.ttl("k") == 100000000000


def test_pexpireat_max_is_accepted(r):
    r.set("k", "v")
    assert r.execute_command("PEXPIREAT", "k", LLONG_MAX) == 1
    assert r.pexpiretime("k") == 9223372036854775807
    assert r.get("k") == "v"


@pytest.mark.parametrize("args", [
    ("EXPIRE", "k", "-1"),
    ("EXPIRE", "k", "0"),
    ("PEXPIRE", "k", "0"),
    ("PEXPIRE", "k", "-1000"),
    ("PEXPIRE", "k", LLONG_MIN),
    ("EXPIREAT", "k", "1"),
    ("EXPIREAT", "k", "0"),
    ("EXPIREAT", "k", "-100"),
    ("PEXPIREAT", "k", "0"),
    ("PEXPIREAT", "k", "1"),
])
def test_expire_in_the_past_deletes(r, args):
    r.set("k", "v", ex=100)
    assert r.execute_command(*args) == 1
    assert r.exists("k") == 0
    assert r.get("k") is None
    assert r.ttl("k") == -2


def test_expire_in_the_past_on_missing_key(r):
    assert r.expire("missing", -1) is False
    assert r.pexpireat("missing", 1) is False


@pytest.mark.parametrize("cmd,value", [
    ("EXPIRE", LLONG_MAX),
    ("EXPIRE", "9223372036854775"),
    ("EXPIRE", LLONG_MIN),
    ("PEXPIRE", LLONG_MAX),
    ("EXPIREAT", LLONG_MAX),
    ("EXPIREAT", LLONG_MIN),
])
def test_invalid_expire_time(r, cmd, value):
    r.set("k", "v")
    assert_error(r, f"invalid expire time in '{cmd.lower()}' command", cmd, "k", value)
    assert r.ttl("k") == -1
    assert r.get("k") == "v"


def test_invalid_expire_time_on_missing_key(r):
    assert_error(r, "invalid expire time in 'expire' command", "EXPIRE", "missing", LLONG_MAX)


def test_invalid_expire_time_wire(raw):
    call(raw, "SET", "k", "v")
    assert call(raw, "EXPIRE", "k", LLONG_MAX) == \
        b"-ERR invalid expire time in 'expire' command\r\n"
    assert call(raw, "PEXPIRE", "k", LLONG_MAX) == \
        b"-ERR invalid expire time in 'pexpire' command\r\n"


@pytest.mark.parametrize("cmd", ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
@pytest.mark.parametrize("value", ["x", "1.5", "", "10 ", "9223372036854775808"])
def test_expire_non_integer(r, cmd, value):
    r.set("k", "v")
    assert_error(r, "value is not an integer or out of range", cmd, "k", value)
    assert r.ttl("k") == -1


@pytest.mark.parametrize("cmd", ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "TTL", "PTTL",
                                 "EXPIRETIME", "PEXPIRETIME", "PERSIST"])
def test_arity(raw, cmd):
    assert call(raw, cmd) == f"-ERR wrong number of arguments for '{cmd.lower()}' command\r\n".encode()


def test_arity_extra_args(raw):
    assert call(raw, "TTL", "a", "b") == b"-ERR wrong number of arguments for 'ttl' command\r\n"
    assert call(raw, "PERSIST", "a", "b") == \
        b"-ERR wrong number of arguments for 'persist' command\r\n"
    assert call(raw, "EXPIRE", "k") == b"-ERR wrong number of arguments for 'expire' command\r\n"


# ---------------------------------------------------------------------------
# NX / XX / GT / LT
# ---------------------------------------------------------------------------

def test_expire_nx(r):
    r.set("k", "v")
    assert r.expire("k", 100, nx=True) is True
    assert r.ttl("k") == 100
    assert r.expire("k", 200, nx=True) is False
    assert r.ttl("k") == 100


def test_expire_xx(r):
    r.set("k", "v")
    assert r.expire("k", 100, xx=True) is False
    assert r.ttl("k") == -1
    r.expire("k", 100)
    assert r.expire("k", 50, xx=True) is True
    assert r.ttl("k") == 50


def test_expire_gt(r):
    r.set("k", "v")
    # no TTL counts as infinite: GT never applies to a persistent key
    assert r.expire("k", 100, gt=True) is False
    assert r.ttl("k") == -1
    r.expire("k", 100)
    assert r.expire("k", 50, gt=True) is False
    assert r.ttl("k") == 100
    at = r.pexpiretime("k")
    assert r.pexpireat("k", at, gt=True) is False  # equal is not greater
    assert r.pexpiretime("k") == at
    assert r.expire("k", 200, gt=True) is True
    assert r.ttl("k") == 200


def test_expire_lt(r):
    r.set("k", "v")
    # no TTL counts as infinite: any TTL is less
    assert r.expire("k", 100, lt=True) is True
    assert r.ttl("k") == 100
    assert r.expire("k", 200, lt=True) is False
    assert r.ttl("k") == 100
    at = r.pexpiretime("k")
    assert r.pexpireat("k", at, lt=True) is False  # equal is not less
    assert r.pexpiretime("k") == at
    assert r.expire("k", 50, lt=True) is True
    assert r.ttl("k") == 50


def test_expire_xx_gt_combined(r):
    r.set("k", "v")
    assert r.expire("k", 100, xx=True, gt=True) is False
    assert r.expire("k", 100, xx=True, lt=True) is False  # XX: needs an existing TTL
    assert r.ttl("k") == -1
    r.expire("k", 100)
    assert r.expire("k", 200, xx=True, gt=True) is True
    assert r.expire("k", 50, xx=True, lt=True) is True
    assert r.ttl("k") == 50


def test_pexpire_and_at_variants_with_flags(r):
    r.set("k", "v")
    assert r.pexpire("k", 100000, nx=True) is True
    assert r.pexpire("k", 200000, nx=True) is False
    assert r.pexpire("k", 200000, gt=True) is True
    at = int(time.time()) + 100
    assert r.expireat("k", at, lt=True) is True
    assert r.expiretime("k") == at
    assert r.expireat("k", at + 10, lt=True) is False
    assert r.pexpireat("k", (at + 10) * 1000, xx=True) is True
    assert r.pexpiretime("k") == (at + 10) * 1000


def test_flags_on_missing_key(r):
    assert r.expire("missing", 100, nx=True) is False
    assert r.expire("missing", 100, lt=True) is False
    assert r.exists("missing") == 0


def test_flags_with_past_time(r):
    r.set("k", "v")
    # GT with a past time on a persistent key: not greater than infinity, so nothing happens
    assert r.execute_command("PEXPIREAT", "k", "1", "GT") == 0
    assert r.get("k") == "v"
    # LT with a past time: less than infinity, so the key is deleted
    assert r.execute_command("PEXPIREAT", "k", "1", "LT") == 1
    assert r.exists("k") == 0
    r.set("k", "v", ex=100)
    assert r.execute_command("EXPIRE", "k", "-1", "GT") == 0
    assert r.exists("k") == 1
    assert r.execute_command("PEXPIREAT", "k", "1", "NX") == 0
    assert r.exists("k") == 1
    assert r.execute_command("PEXPIREAT", "k", "1", "XX") == 1
    assert r.exists("k") == 0


def test_repeated_flag_is_allowed(r):
    r.set("k", "v")
    assert r.execute_command("EXPIRE", "k", "100", "NX", "NX") == 1
    assert r.execute_command("EXPIRE", "k", "200", "gt", "GT") == 1
    assert r.ttl("k") == 200


@pytest.mark.parametrize("cmd,value", [
    ("EXPIRE", "100"), ("PEXPIRE", "100000"), ("EXPIREAT", "99999999999"),
    ("PEXPIREAT", "99999999999000"),
])
@pytest.mark.parametrize("flags,msg", [
    (("NX", "XX"), NX_XX_GT_LT),
    (("XX", "NX"), NX_XX_GT_LT),
    (("NX", "GT"), NX_XX_GT_LT),
    (("LT", "NX"), NX_XX_GT_LT),
    (("nx", "xx"), NX_XX_GT_LT),
    (("GT", "LT"), GT_LT),
    (("lt", "gt"), GT_LT),
    (("XX", "GT", "LT"), GT_LT),
])
def test_incompatible_flags(r, cmd, value, flags, msg):
    r.set("k", "v", ex=50)
    assert_error(r, msg, cmd, "k", value, *flags)
    assert r.ttl("k") == 50


def test_incompatible_flags_wire(raw):
    call(raw, "SET", "k", "v")
    assert call(raw, "EXPIRE", "k", "100", "NX", "XX") == b"-ERR " + NX_XX_GT_LT.encode() + b"\r\n"
    assert call(raw, "EXPIRE", "k", "100", "GT", "LT") == b"-ERR " + GT_LT.encode() + b"\r\n"
    # checked before the key is looked up
    assert call(raw, "EXPIRE", "missing", "100", "NX", "XX") == \
        b"-ERR " + NX_XX_GT_LT.encode() + b"\r\n"


def test_unsupported_option(raw):
    call(raw, "SET", "k", "v")
    assert call(raw, "EXPIRE", "k", "100", "foo") == b"-ERR Unsupported option foo\r\n"
    assert call(raw, "PEXPIRE", "k", "100", "NX", "BAR") == b"-ERR Unsupported option BAR\r\n"
    # unknown options are reported before incompatible ones
    assert call(raw, "EXPIRE", "k", "100", "NX", "XX", "foo") == b"-ERR Unsupported option foo\r\n"
    assert call(raw, "EXPIRE", "k", "100", "KEEPTTL") == b"-ERR Unsupported option KEEPTTL\r\n"
    assert call(raw, "TTL", "k") == b":-1\r\n"


# ---------------------------------------------------------------------------
# PERSIST
# ---------------------------------------------------------------------------

def test_persist(r):
    r.set("k", "v", ex=100)
    assert r.persist("k") is True
    assert r.ttl("k") == -1
    assert r.persist("k") is False
    assert r.persist("missing") is False
    assert r.get("k") == "v"


def test_persist_wire(raw):
    call(raw, "SET", "k", "v", "EX", "100")
    assert call(raw, "PERSIST", "k") == b":1\r\n"
    assert call(raw, "PERSIST", "k") == b":0\r\n"
    assert call(raw, "PERSIST", "missing") == b":0\r\n"


def test_persist_saves_key_from_expiring(r2):
    r2.set("k", "v", px=100)
    assert r2.persist("k") is True
    time.sleep(0.2)
    assert r2.get("k") == "v"


# ---------------------------------------------------------------------------
# Which commands keep / clear the TTL
# ---------------------------------------------------------------------------

def test_set_clears_ttl(r):
    r.set("k", "v")
    r.expire("k", 100)
    r.set("k", "v2")
    assert r.ttl("k") == -1


def test_set_keepttl_keeps_ttl(r):
    r.set("k", "v")
    r.expire("k", 100)
    r.set("k", "v2", keepttl=True)
    assert r.ttl("k") == 100
    assert r.get("k") == "v2"


def test_set_xx_clears_and_failed_nx_keeps_ttl(r):
    r.set("k", "v", ex=100)
    assert r.set("k", "v2", nx=True) is None
    assert r.ttl("k") == 100
    assert r.set("k", "v3", xx=True) is True
    assert r.ttl("k") == -1


def test_overwriting_commands_clear_ttl(r):
    r.set("a", "1", ex=100)
    r.getset("a", "2")
    assert r.ttl("a") == -1
    r.set("b", "1", ex=100)
    r.mset({"b": "2"})
    assert r.ttl("b") == -1
    r.set("c", "1", ex=100)
    r.execute_command("SETEX", "c", "200", "x")
    assert r.ttl("c") == 200


def test_modifying_commands_keep_ttl(r):
    r.set("k", "1", ex=100)
    r.incr("k")
    r.incrby("k", 5)
    r.decr("k")
    r.incrbyfloat("k", 1.5)
    r.append("k", "0")
    r.setrange("k", 0, "9")
    assert r.get("k") == "9.50"
    assert r.ttl("k") == 100


def test_rename_carries_ttl(r):
    r.set("a", "v", px=100000)
    r.rename("a", "b")
    assert 99000 <= r.pttl("b") <= 100000
    assert r.ttl("a") == -2
    r.renamenx("b", "c")
    assert 99000 <= r.pttl("c") <= 100000


def test_rename_onto_key_with_ttl(r):
    r.set("src", "1")
    r.set("dst", "2", ex=100)
    r.rename("src", "dst")
    assert r.ttl("dst") == -1


def test_getex_persist_and_set_ttl(r):
    r.set("k", "v", ex=100)
    assert r.getex("k", persist=True) == "v"
    assert r.ttl("k") == -1
    assert r.getex("k", ex=30) == "v"
    assert r.ttl("k") == 30
    assert r.getex("k") == "v"
    assert r.ttl("k") == 30


def test_getdel_removes_ttl_state(r):
    r.set("k", "v", ex=100)
    assert r.getdel("k") == "v"
    assert r.ttl("k") == -2
    r.set("k", "new")
    assert r.ttl("k") == -1


def test_del_then_recreate_has_no_ttl(r):
    r.set("k", "v", ex=100)
    r.delete("k")
    r.set("k", "v")
    assert r.ttl("k") == -1


# ---------------------------------------------------------------------------
# Keys really expire
# ---------------------------------------------------------------------------

def test_lazy_expiry_on_access(r):
    r.set("k", "v", px=50)
    r.set("n", "10", px=50)
    r.set("s", "abc", px=50)
    r.set("p", "keep")
    time.sleep(0.12)
    assert r.get("k") is None
    assert r.exists("k") == 0
    assert r.ttl("k") == -2
    assert r.pttl("k") == -2
    # an expired key behaves as missing for every command
    assert r.incr("n") == 1
    assert r.ttl("n") == -1
    assert r.append("s", "x") == 1
    assert r.get("s") == "x"
    assert r.get("p") == "keep"


def test_expired_key_is_missing_for_other_commands(r):
    for k in ("a", "b", "c", "d", "e", "f"):
        r.set(k, "old", px=30)
    time.sleep(0.08)
    assert r.setnx("a", "new") is True
    assert r.get("a") == "new"
    assert r.set("b", "new", xx=True) is None
    assert r.exists("b") == 0
    with pytest.raises(redis.ResponseError, match="^no such key$"):
        r.rename("c", "c2")
    assert r.strlen("d") == 0
    assert r.persist("e") is False
    assert r.expire("f", 100) is False
    assert r.keys("*") == ["a"]


def test_expire_set_at_runtime_expires(r):
    r.set("k", "v")
    assert r.pexpire("k", 50) is True
    assert r.get("k") == "v"
    time.sleep(0.12)
    assert r.get("k") is None


def test_active_expiry(r):
    """Keys never touched again still go away: DBSIZE drops to 0 without any access."""
    with r.pipeline(transaction=False) as p:
        for i in range(200):
            p.set(f"vol:{i}", "v", px=100)
        p.dbsize()
        p.info("keyspace")
        *_, size, ks = p.execute()
    assert size == 200
    assert ks["db0"]["keys"] == 200
    assert ks["db0"]["expires"] == 200
    time.sleep(0.1)
    assert wait_until(lambda: r.dbsize() == 0, 1.5), f"dbsize still {r.dbsize()}"
    assert "db0" not in r.info("keyspace")


def test_active_expiry_leaves_persistent_keys(r2):
    with r2.pipeline(transaction=False) as p:
        for i in range(200):
            p.set(f"vol:{i}", "v", px=100)
        for i in range(50):
            p.set(f"keep:{i}", "v")
        p.info("keyspace")
        ks = p.execute()[-1]["db0"]
    assert ks["keys"] == 250
    assert ks["expires"] == 200
    time.sleep(0.1)
    assert wait_until(lambda: r2.dbsize() == 50, 1.5), f"dbsize {r2.dbsize()}"
    ks = r2.info("keyspace")["db0"]
    assert ks["keys"] == 50
    assert ks["expires"] == 0


def test_active_expiry_in_other_db(server, r2):
    c = server.client(db=3, protocol=2)
    try:
        with c.pipeline(transaction=False) as p:
            for i in range(100):
                p.set(f"k{i}", "v", px=100)
            p.dbsize()
            assert p.execute()[-1] == 100
        time.sleep(0.1)
        assert wait_until(lambda: c.dbsize() == 0, 1.5), f"dbsize {c.dbsize()}"
        assert "db3" not in r2.info("keyspace")
    finally:
        c.close()


def test_info_keyspace_counts_expires(r2, raw):
    r2.set("a", "1")
    r2.set("b", "2", ex=100)
    ks = r2.info("keyspace")
    assert ks["db0"]["keys"] == 2
    assert ks["db0"]["expires"] == 1
    raw.cmd("INFO", "keyspace")
    body = raw.read_reply()
    assert b"# Keyspace\r\n" in body
    assert b"db0:keys=2,expires=1,avg_ttl=" in body
