"""Bitmaps on strings: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.

Written against Redis 7.0 semantics; every test passes against redis-server 7.0.15
(FDB_TEST_TARGET=redis). The persistence tests (a SETBIT logs a small delta, SETBITs survive
kill -9) are FDB's own.
"""

import os
import random
import signal

import pytest
import redis

from conftest import TARGET

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
BAD_OFFSET = "bit offset is not an integer or out of range"
BAD_TYPE = ("Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported "
            "but i64 is.")


def assert_error(r, msg, *args):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    assert str(e.value) == msg


# --- SETBIT / GETBIT ---

def test_setbit_getbit_and_growth(r):
    assert r.setbit("b", 7, 1) == 0
    assert r.get("b") == "\x01"
    assert r.setbit("b", 7, 1) == 1
    assert r.setbit("b", 7, 0) == 1
    assert r.getbit("b", 7) == 0
    assert r.setbit("b", 100, 1) == 0
    assert r.strlen("b") == 13
    assert r.getbit("b", 100) == 1
    assert r.getbit("b", 10000) == 0
    assert r.getbit("missing", 3) == 0
    assert r.exists("missing") == 0


def test_setbit_on_int_and_keeps_ttl(r):
    r.set("n", 1)  # "1" = 0x31 = 00110001
    assert r.setbit("n", 6, 1) == 0  # 0x33 = "3"
    assert r.get("n") == "3"
    assert r.object("encoding", "n") == "raw"
    r.set("t", "abc", ex=100)
    r.setbit("t", 200, 1)
    assert 0 < r.ttl("t") <= 100


def test_setbit_errors(r):
    assert_error(r, BAD_OFFSET, "SETBIT", "k", -1, 1)
    assert_error(r, BAD_OFFSET, "SETBIT", "k", 4294967296, 1)
    assert_error(r, BAD_OFFSET, "SETBIT", "k", "x", 1)
    assert_error(r, BAD_OFFSET, "GETBIT", "k", "x")
    assert_error(r, "bit is not an integer or out of range", "SETBIT", "k", 1, 2)
    assert_error(r, "bit is not an integer or out of range", "SETBIT", "k", 1, "-1")
    r.lpush("l", "a")
    assert_error(r, WRONGTYPE, "SETBIT", "l", 0, 1)
    assert_error(r, WRONGTYPE, "GETBIT", "l", 0)
    assert r.exists("k") == 0


def test_setbit_max_offset(r):
    assert r.setbit("big", 4294967295, 1) == 0
    assert r.strlen("big") == 536870912
    assert r.getbit("big", 4294967295) == 1
    assert r.bitcount("big") == 1
    assert r.bitpos("big", 1) == 4294967295
    r.delete("big")


# --- BITCOUNT / BITPOS ---

def test_bitcount(r):
    r.set("s", "foobar")
    assert r.bitcount("s") == 26
    assert r.bitcount("s", 0, 0) == 4
    assert r.bitcount("s", 1, 1) == 6
    assert r.bitcount("s", -2, -1) == 7
    assert r.execute_command("BITCOUNT", "s", 5, 30, "BIT") == 17
    assert r.execute_command("BITCOUNT", "s", 1, 1, "byte") == 6
    assert r.bitcount("s", -1, -5) == 0
    assert r.bitcount("s", 100, 200) == 0
    assert r.bitcount("missing") == 0
    # A missing key is 0 before the arguments are read.
    assert r.execute_command("BITCOUNT", "missing", 0) == 0


def test_bitcount_errors(r):
    r.set("s", "foobar")
    assert_error(r, "syntax error", "BITCOUNT", "s", 0)
    assert_error(r, "syntax error", "BITCOUNT", "s", 0, 1, "bits")
    assert_error(r, "value is not an integer or out of range", "BITCOUNT", "s", "a", 1)
    r.lpush("l", "a")
    assert_error(r, WRONGTYPE, "BITCOUNT", "l")


def test_bitpos(r):
    r.set("k", b"\xff\xf0\x00")
    assert r.bitpos("k", 0) == 12
    r.set("k", b"\x00\xff\xf0")
    assert r.bitpos("k", 1, 0) == 8
    assert r.bitpos("k", 1, 2) == 16
    assert r.bitpos("k", 1, 2, -1, "BYTE") == 16
    assert r.bitpos("k", 1, 7, 15, "BIT") == 8
    r.set("k", b"\x00\x00\x00")
    assert r.bitpos("k", 1) == -1
    assert r.bitpos("k", 1, 7, -3, "BIT") == -1
    r.set("ones", b"\xff\xff")
    assert r.bitpos("ones", 0) == 16          # the string is read as padded with zeros
    assert r.bitpos("ones", 0, 0) == 16
    assert r.bitpos("ones", 0, 0, -1) == -1   # unless the end was given
    assert r.bitpos("missing", 1) == -1
    assert r.bitpos("missing", 0) == 0
    r.set("e", "")
    assert r.bitpos("e", 0) == -1


def test_bitpos_errors(r):
    r.set("s", "foobar")
    assert_error(r, "The bit argument must be 1 or 0.", "BITPOS", "s", 2)
    assert_error(r, "The bit argument must be 1 or 0.", "BITPOS", "missing", 2)
    assert_error(r, "syntax error", "BITPOS", "s", 1, 0, 1, "bitx")
    assert_error(r, "value is not an integer or out of range", "BITPOS", "s", 1, "a")
    assert_error(r, "syntax error", "BITPOS", "s", 0, 1, 2, 3)


def test_bitpos_long_runs(r):
    r.setrange("z", 0, "\x00" * 1000)
    r.setbit("z", 5000 + 3, 1)
    assert r.bitpos("z", 1) == 5003
    assert r.bitpos("z", 1, 626) == -1
    r.set("f", b"\xff" * 999 + b"\xfe")
    assert r.bitpos("f", 0) == 7999


# --- BITOP ---

def test_bitop(rb):
    rb.set("a", b"\xff\x0f")
    rb.set("b", b"\x0f")
    assert rb.bitop("AND", "d", "a", "b") == 2
    assert rb.get("d") == b"\x0f\x00"
    assert rb.bitop("or", "d", "a", "b", "missing") == 2
    assert rb.get("d") == b"\xff\x0f"
    assert rb.bitop("XOR", "d", "a", "b") == 2
    assert rb.get("d") == b"\xf0\x0f"
    assert rb.bitop("NOT", "d", "a") == 2
    assert rb.get("d") == b"\x00\xf0"
    # Every source missing: the destination goes.
    assert rb.bitop("AND", "d", "m1", "m2") == 0
    assert rb.exists("d") == 0


def test_bitop_errors(r):
    assert_error(r, "BITOP NOT must be called with a single source key.",
                 "BITOP", "NOT", "d", "a", "b")
    assert_error(r, "syntax error", "BITOP", "FOO", "d", "a")
    r.lpush("l", "x")
    assert_error(r, WRONGTYPE, "BITOP", "AND", "d", "l")


# --- BITFIELD ---

def test_bitfield_get_set_incrby(r):
    assert r.execute_command("BITFIELD", "bf", "SET", "i8", 0, 100, "GET", "i8", 0) == [0, 100]
    assert r.execute_command("BITFIELD", "bf", "INCRBY", "i8", 0, 100) == [-56]  # wraps
    assert r.execute_command("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i8", 0, -100) == [
        -128]
    assert r.execute_command("BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i8", 0, -1) == [
        None]
    assert r.execute_command("BITFIELD", "bf", "GET", "u8", 0) == [128]


def test_bitfield_overflow_sequence(r):
    got = r.execute_command("BITFIELD", "k", "GET", "u8", 0, "SET", "u8", 0, 1,
                            "INCRBY", "u8", 0, 300, "OVERFLOW", "SAT", "INCRBY", "u8", 0, 300,
                            "OVERFLOW", "FAIL", "INCRBY", "u8", 0, 300)
    assert got == [0, 0, 45, 255, None]


def test_bitfield_hash_offsets_and_wide_types(rb):
    assert rb.execute_command("BITFIELD", "k", "SET", "u4", "#1", 15, "SET", "u4", "#0", 1) == [
        0, 0]
    assert rb.get("k") == b"\x1f"
    rb.set("s", "foobar")
    assert rb.execute_command("BITFIELD", "s", "GET", "i64", 0, "GET", "u63", 0) == [
        7381240782615871488, 3690620391307935744]
    assert rb.execute_command("BITFIELD", "s", "GET", "u8", 4294967295) == [0]
    assert rb.execute_command("BITFIELD", "s", "GET", "u8", "#536870911") == [0]
    assert rb.execute_command("BITFIELD", "x", "SET", "u2", 1, -1) == [0]
    assert rb.get("x") == b"\x60"


def test_bitfield_set_i64_and_u63_limits(r):
    assert r.execute_command("BITFIELD", "k", "SET", "i64", 0, -9223372036854775808,
                             "GET", "i64", 0) == [0, -9223372036854775808]
    assert r.execute_command("BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "i64", 0, -1) == [
        -9223372036854775808]
    assert r.execute_command("BITFIELD", "u", "OVERFLOW", "SAT", "SET", "u63", 0, -1) == [0]
    assert r.execute_command("BITFIELD", "u", "GET", "u63", 0) == [9223372036854775807]


def test_bitfield_fail_still_grows_key(r):
    assert r.execute_command("BITFIELD", "g", "OVERFLOW", "FAIL", "INCRBY", "u8", 8, 300) == [
        None]
    assert r.strlen("g") == 2


def test_bitfield_errors(r):
    assert_error(r, BAD_TYPE, "BITFIELD", "k", "GET", "u64", 0)
    assert_error(r, BAD_TYPE, "BITFIELD", "k", "GET", "i65", 0)
    assert_error(r, BAD_TYPE, "BITFIELD", "k", "GET", "x8", 0)
    assert_error(r, BAD_TYPE, "BITFIELD", "k", "GET", "U8", 0)
    assert_error(r, "Invalid OVERFLOW type specified", "BITFIELD", "k", "OVERFLOW", "foo")
    assert_error(r, BAD_OFFSET, "BITFIELD", "k", "GET", "u8", -1)
    assert_error(r, BAD_OFFSET, "BITFIELD", "k", "GET", "u8", "#x")
    assert_error(r, BAD_OFFSET, "BITFIELD", "k", "GET", "u8", 4294967296)
    assert_error(r, "value is not an integer or out of range", "BITFIELD", "k", "SET", "u8", 0, "x")
    assert_error(r, "syntax error", "BITFIELD", "k", "GET")
    assert_error(r, "syntax error", "BITFIELD", "k", "bad")
    assert_error(r, "BITFIELD_RO only supports the GET subcommand",
                 "BITFIELD_RO", "k", "SET", "u8", 0, 1)
    r.lpush("l", "a")
    assert_error(r, WRONGTYPE, "BITFIELD", "l", "GET", "u8", 0)
    assert r.exists("k") == 0


def test_bitfield_ro(r):
    r.set("s", "foobar")
    assert r.execute_command("BITFIELD_RO", "s", "GET", "u8", 0, "GET", "i4", 4) == [102, 6]
    assert r.execute_command("BITFIELD_RO", "missing", "GET", "u8", 0) == [0]
    assert r.exists("missing") == 0


def test_bitfield_no_ops_reads_nothing(r):
    assert r.execute_command("BITFIELD", "k") == []
    assert r.exists("k") == 0


def test_setrange_and_setbit_agree(rb):
    rb.setrange("k", 3, b"ab")
    assert rb.get("k") == b"\x00\x00\x00ab"
    rb.setbit("k", 0, 1)
    assert rb.get("k") == b"\x80\x00\x00ab"


def test_random_bits_against_a_model(r):
    rnd = random.Random(7)
    model = bytearray()
    for _ in range(400):
        off = rnd.randrange(0, 20000)
        val = rnd.randrange(0, 2)
        byte = off >> 3
        if byte >= len(model):
            model.extend(b"\x00" * (byte + 1 - len(model)))
        old = (model[byte] >> (7 - (off & 7))) & 1
        if val:
            model[byte] |= 0x80 >> (off & 7)
        else:
            model[byte] &= ~(0x80 >> (off & 7)) & 0xff
        assert r.setbit("m", off, val) == old
    assert r.strlen("m") == len(model)
    assert r.bitcount("m") == sum(bin(b).count("1") for b in model)


# --- Persistence (FDB only) ---

fdb_only = pytest.mark.skipif(TARGET == "redis", reason="FDB's log")


def _log_bytes(c):
    return sum(os.path.getsize(os.path.join(c.dir, f)) for f in os.listdir(c.dir)
               if f.endswith(".fdb"))


@fdb_only
def test_setbit_on_large_string_logs_little(server_factory):
    s = server_factory("--fsync", "always")
    c = s.client(decode_responses=False)
    c.setrange("big", 8 * 1024 * 1024 - 1, b"\x00")  # 8 MB of zeros
    c.setbit("big", 0, 1)
    before = _log_bytes(s)
    for i in range(200):
        c.setbit("big", i * 997 * 8 + 3, 1)
    grown = _log_bytes(s) - before
    # 200 whole-value records would be 1.6 GB; deltas are a few dozen bytes each.
    assert grown < 200 * 200, grown
    c.execute_command("BITFIELD", "big", "SET", "u16", 1000, 65535)
    c.setrange("big", 4 * 1024 * 1024, b"hello")
    assert _log_bytes(s) - before < 200 * 200 + 1000
    expected_bits = c.bitcount("big")
    s.stop()
    s.start()
    c = s.client(decode_responses=False)
    assert c.strlen("big") == 8 * 1024 * 1024
    assert c.bitcount("big") == expected_bits
    assert c.getrange("big", 4 * 1024 * 1024, 4 * 1024 * 1024 + 4) == b"hello"
    assert c.execute_command("BITFIELD_RO", "big", "GET", "u16", 1000) == [65535]


@fdb_only
def test_acknowledged_setbits_survive_kill9(server_factory):
    s = server_factory("--fsync", "always")
    c = s.client()
    rnd = random.Random(11)
    model = {}
    for i in range(3000):
        key = f"bm{i % 5}"
        off = rnd.randrange(0, 1 << 20)
        val = rnd.randrange(0, 2)
        c.setbit(key, off, val)
        model[(key, off)] = val
    c.execute_command("BITFIELD", "bm0", "SET", "u32", 64, 123456789)
    s.stop(signal.SIGKILL)
    s.start()
    c = s.client()
    for (key, off), val in model.items():
        if key == "bm0" and 64 <= off < 96:
            continue
        assert c.getbit(key, off) == val, (key, off)
    assert c.execute_command("BITFIELD_RO", "bm0", "GET", "u32", 64) == [123456789]


@fdb_only
def test_bitmaps_and_hlls_evicted_and_read_back(server_factory):
    # A budget far below the values: bitmaps (and HLLs, strings too) move to disk and come back
    # with their deltas, and the state survives a restart.
    s = server_factory("--maxmemory", "300000", "--fsync", "always")
    c = s.client()
    rnd = random.Random(5)
    model = {}
    for round_ in range(3):
        for j in range(6):
            key = f"bitmap:{j}"
            for _ in range(40):
                off = rnd.randrange(0, 200_000 * 8)
                c.setbit(key, off, 1)
                model.setdefault(key, set()).add(off)
            c.pfadd(f"hll:{j}", *[f"e{round_}:{i}" for i in range(500)])
    info = c.info("all")
    assert info["cache_evictions"] > 0
    for key, offs in model.items():
        assert c.bitcount(key) == len(offs), key
        for off in list(offs)[:10]:
            assert c.getbit(key, off) == 1
    counts = {j: c.pfcount(f"hll:{j}") for j in range(6)}
    s.stop(signal.SIGKILL)
    s.start()
    c = s.client()
    for key, offs in model.items():
        assert c.bitcount(key) == len(offs), key
    assert {j: c.pfcount(f"hll:{j}") for j in range(6)} == counts


def test_unchanged_bits_are_not_changes(r):
    def dirty():
        return r.info("persistence")["rdb_changes_since_last_save"]

    d0 = dirty()
    r.setbit("a", 0, 0)                                       # created: a change
    r.execute_command("BITFIELD", "b", "SET", "i5", 0, 0)      # created: a change
    d1 = dirty()
    assert d1 == d0 + 2
    r.setbit("a", 0, 0)                                       # same bit: none
    r.execute_command("BITFIELD", "b", "SET", "i5", 0, 0)      # same field: none
    assert dirty() == d1
    r.execute_command("BITFIELD", "c", "INCRBY", "i5", 0, 1)   # created and changed: one
    r.execute_command("BITFIELD", "c", "INCRBY", "i5", 0, 1)   # changed: one
    r.execute_command("BITFIELD", "c", "INCRBY", "i5", 0, 32)  # wraps to the same value: none
    assert dirty() == d1 + 2
    r.execute_command("BITFIELD", "b", "SET", "i5", 90, 0)     # only the length: one
    assert dirty() == d1 + 3


def test_keyspace_events_of_bitmap_hll_geo_commands(server):
    r = server.client(protocol=2)
    r.flushall()
    r.config_set("notify-keyspace-events", "KEA")
    try:
        p = r.pubsub()
        p.psubscribe("__keyevent@0__:*")
        assert p.get_message(timeout=5)["type"] == "psubscribe"
        r.pfadd("h", "a")
        r.pfadd("h", "a")      # no change: no event
        r.pfcount("h")         # caches the estimate: no event
        r.pfmerge("m", "h")
        r.setbit("b", 3, 1)
        r.setbit("b", 3, 1)    # grows nothing, changes nothing: no event
        r.execute_command("BITFIELD", "b", "SET", "u8", 0, 1)
        r.bitop("AND", "d", "b")
        r.bitop("AND", "d", "nokey")  # empty result: the destination is deleted
        r.geoadd("g", [13.36, 38.11, "P"])
        r.execute_command("GEOSEARCHSTORE", "s", "g", "FROMLONLAT", 13, 38, "BYRADIUS", 100, "km")
        r.execute_command("GEORADIUS", "g", 13, 38, 100, "km", "STORE", "s2")
        r.execute_command("GEOSEARCHSTORE", "s", "g", "FROMLONLAT", 13, 38, "BYRADIUS", 1, "km")
        r.setrange("b", 100, "x")
        r.set("end", 1)
        got = []
        while True:
            m = p.get_message(timeout=5)
            assert m is not None, got
            if m["type"] != "pmessage":
                continue
            ev = m["channel"].split(":", 1)[1] + "/" + m["data"]
            if ev == "set/end":
                break
            got.append(ev)
        assert got == ["pfadd/h", "pfadd/m", "setbit/b", "setbit/b", "set/d", "del/d", "zadd/g",
                       "geosearchstore/s", "georadiusstore/s2", "del/s", "setrange/b"]
        p.close()
    finally:
        r.config_set("notify-keyspace-events", "")
