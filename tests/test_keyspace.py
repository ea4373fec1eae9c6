"""Keyspace commands: DEL, EXISTS, KEYS, SCAN, TYPE, RENAME, COPY, MOVE, OBJECT, databases.

Written against Redis 7.0 semantics; every test must pass against redis-server 7.0.15
(FDB_TEST_TARGET=redis) and is the spec for fdb-server.
"""

import time

import pytest
import redis

LFU_NOT_SELECTED = (
    "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
    "when switching between policies at runtime LRU and LFU data will take some time to adjust.")
LFU_SELECTED = (
    "An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust.")


def call(raw, *args):
    """Sends one command on the raw socket and returns the raw RESP reply bytes."""
    raw.cmd(*args)
    return raw.read_reply()


def assert_error(r, msg, *args):
    """The command fails with exactly `msg` (redis-py strips the leading 'ERR ')."""
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    assert str(e.value) == msg


@pytest.fixture
def db(r, server):
    """db(n) -> a client of the same protocol as `r`, connected to database n."""
    made = []
    proto = r.connection_pool.connection_kwargs.get("protocol", 2)

    def make(n):
        c = server.client(db=n, protocol=proto)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


# ---------------------------------------------------------------------------
# DEL / UNLINK / EXISTS / TOUCH
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("cmd", ["DEL", "UNLINK"])
def test_del_unlink(r, cmd):
    r.mset({"a": "1", "b": "2", "c": "3"})
    assert r.execute_command(cmd, "a", "missing", "b") == 2
    assert r.exists("a", "b", "c") == 1
    assert r.execute_command(cmd, "a") == 0
    assert r.get("c") == "3"


@pytest.mark.parametrize("cmd", ["DEL", "UNLINK"])
def test_del_duplicate_arguments_count_once(r, cmd):
    r.set("a", "1")
    assert r.execute_command(cmd, "a", "a", "a") == 1
    assert r.exists("a") == 0


def test_del_wire(raw):
    call(raw, "SET", "a", "1")
    assert call(raw, "DEL", "a", "b") == b":1\r\n"
    assert call(raw, "UNLINK", "a") == b":0\r\n"


def test_del_big_value(rb):
    rb.set(b"big", b"x" * (1 << 20))
    assert rb.unlink(b"big") == 1
    assert rb.get(b"big") is None


def test_exists_counts_duplicates(r):
    r.mset({"a": "1", "b": "2"})
    assert r.exists("a") == 1
    assert r.exists("missing") == 0
    assert r.exists("a", "a", "missing", "b", "a") == 4


def test_exists_wire(raw):
    call(raw, "SET", "s", "x")
    assert call(raw, "EXISTS", "s", "s", "nokey", "s") == b":3\r\n"


def test_touch(r):
    r.mset({"a": "1", "b": "2"})
    assert r.touch("a", "b", "missing") == 2
    assert r.touch("a", "a") == 2
    assert r.touch("missing") == 0
    assert r.get("a") == "1"


# ---------------------------------------------------------------------------
# KEYS
# ---------------------------------------------------------------------------

GLOB_KEYS = ["hello", "hallo", "hxllo", "hllo", "heeeello", "hbllo", "h-llo",
             "h*llo", "h?llo", "h[a]llo", "h\\llo", "h]llo", "other", "x"]


@pytest.mark.parametrize("pattern,expect", [
    ("*", GLOB_KEYS),
    ("h?llo", ["hello", "hallo", "hxllo", "hbllo", "h-llo", "h*llo", "h?llo", "h\\llo",
               "h]llo"]),
    ("h*llo", [k for k in GLOB_KEYS if k.startswith("h")]),
    ("h*", [k for k in GLOB_KEYS if k.startswith("h")]),
    ("*llo", [k for k in GLOB_KEYS if k.endswith("llo")]),
    ("h[ae]llo", ["hello", "hallo"]),
    ("h[^e]llo", ["hallo", "hxllo", "hbllo", "h-llo", "h*llo", "h?llo", "h\\llo", "h]llo"]),
    ("h[a-b]llo", ["hallo", "hbllo"]),
    ("h[a-z]llo", ["hello", "hallo", "hxllo", "hbllo"]),
    ("h\\*llo", ["h*llo"]),
    ("h\\?llo", ["h?llo"]),
    ("h\\[a\\]llo", ["h[a]llo"]),
    ("h\\\\llo", ["h\\llo"]),
    ("h[\\]]llo", ["h]llo"]),
    ("x", ["x"]),
    ("?", ["x"]),
    ("nomatch*", []),
    ("", []),
])
def test_keys_glob(r, pattern, expect):
    r.mset({k: "1" for k in GLOB_KEYS})
    assert sorted(r.keys(pattern)) == sorted(expect)


def test_keys_empty_db(r):
    assert r.keys("*") == []


def test_keys_binary(rb):
    rb.set(b"a\x00b", b"1")
    rb.set(b"a\x00c", b"1")
    rb.set(b"ab", b"1")
    assert sorted(rb.keys(b"a\x00*")) == [b"a\x00b", b"a\x00c"]
    assert sorted(rb.keys(b"a?b")) == [b"a\x00b"]


def test_keys_skips_expired(r):
    r.set("live", "1")
    r.set("dead", "1", px=1)
    time.sleep(0.02)
    assert r.keys("*") == ["live"]


def test_keys_wire(raw):
    call(raw, "SET", "only", "1")
    assert call(raw, "KEYS", "*") == b"*1\r\n$4\r\nonly\r\n"
    assert call(raw, "KEYS", "z*") == b"*0\r\n"


# ---------------------------------------------------------------------------
# SCAN
# ---------------------------------------------------------------------------

def scan_all(r, **kw):
    seen = []
    cursor = 0
    for _ in range(100000):
        cursor, keys = r.scan(cursor, **kw)
        seen.extend(keys)
        if cursor == 0:
            return seen
    raise AssertionError("SCAN did not terminate")


def test_scan_empty(r):
    assert r.scan(0) == (0, [])


def test_scan_returns_all_keys(r):
    keys = {f"key:{i}" for i in range(500)}
    r.mset({k: "v" for k in keys})
    seen = scan_all(r, count=7)
    assert set(seen) == keys


def test_scan_match(r):
    r.mset({f"a:{i}": "v" for i in range(100)})
    r.mset({f"b:{i}": "v" for i in range(100)})
    seen = scan_all(r, match="a:*", count=20)
    assert set(seen) == {f"a:{i}" for i in range(100)}
    seen = scan_all(r, match="b:1?", count=1000)
    assert set(seen) == {f"b:1{i}" for i in range(10)}


def test_scan_type_string(r):
    r.mset({f"k{i}": "v" for i in range(50)})
    assert set(scan_all(r, _type="string")) == {f"k{i}" for i in range(50)}
    assert set(scan_all(r, _type="STRING", match="k1*")) == {"k1"} | {f"k1{i}" for i in range(10)}
    assert scan_all(r, _type="list") == []
    assert scan_all(r, _type="hash") == []


def test_scan_type_filters_collections(r):
    r.set("s", "v")
    r.lpush("l", "a")
    r.sadd("set", "a")
    assert scan_all(r, _type="string") == ["s"]
    assert scan_all(r, _type="list") == ["l"]
    assert scan_all(r, _type="set") == ["set"]
    assert sorted(scan_all(r)) == ["l", "s", "set"]


def test_scan_count_bounds_work(r):
    """COUNT is a hint; a small COUNT over many keys must need several calls."""
    r.mset({f"k{i}": "v" for i in range(1000)})
    cursor, keys = r.scan(0, count=10)
    assert cursor != 0
    assert 0 < len(keys) < 1000
    cursor, keys = r.scan(0, count=100000)
    assert cursor == 0
    assert len(keys) == 1000


def test_scan_cursor_is_bulk_string(raw):
    assert call(raw, "SCAN", "0") == b"*2\r\n$1\r\n0\r\n*0\r\n"
    call(raw, "SET", "k", "v")
    assert call(raw, "SCAN", "0") == b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n"
    call(raw, "HELLO", "3")
    assert call(raw, "SCAN", "0", "COUNT", "100") == b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n"


def test_scan_errors(raw):
    assert call(raw, "SCAN", "x") == b"-ERR invalid cursor\r\n"
    assert call(raw, "SCAN", "18446744073709551616") == b"-ERR invalid cursor\r\n"
    assert call(raw, "SCAN", "0", "COUNT", "0") == b"-ERR syntax error\r\n"
    assert call(raw, "SCAN", "0", "COUNT", "-1") == b"-ERR syntax error\r\n"
    assert call(raw, "SCAN", "0", "COUNT", "x") == \
        b"-ERR value is not an integer or out of range\r\n"
    assert call(raw, "SCAN", "0", "FOO") == b"-ERR syntax error\r\n"
    assert call(raw, "SCAN", "0", "MATCH") == b"-ERR syntax error\r\n"
    assert call(raw, "SCAN") == b"-ERR wrong number of arguments for 'scan' command\r\n"


def test_scan_with_growing_table(r):
    """Every key present for the whole scan is returned at least once, while the table grows."""
    original = {f"orig:{i}" for i in range(1000)}
    r.mset({k: "v" for k in original})
    added = 0
    seen = set()
    cursor = 0
    calls = 0
    while True:
        cursor, keys = r.scan(cursor, count=10)
        seen.update(keys)
        calls += 1
        if added < 5000:
            r.mset({f"new:{added + i}": "v" for i in range(100)})
            added += 100
        if cursor == 0:
            break
        assert calls < 100000
    # COUNT 10 over 1000 keys takes well over 50 calls, so all 5000 keys were added mid-scan
    assert added == 5000, f"scan finished after {calls} calls, before the table grew"
    assert original <= seen, f"missing {len(original - seen)} keys"
    assert seen <= original | {f"new:{i}" for i in range(5000)}
    assert r.dbsize() == 1000 + added


def test_scan_with_shrinking_table(r):
    """Keys present for the whole scan are returned even while most other keys are deleted."""
    keep = {f"keep:{i}" for i in range(200)}
    tmp = [f"tmp:{i}" for i in range(5000)]
    r.mset({k: "v" for k in keep})
    r.mset({k: "v" for k in tmp})
    seen = set()
    cursor = 0
    calls = 0
    while True:
        cursor, keys = r.scan(cursor, count=10)
        seen.update(keys)
        calls += 1
        if tmp:
            r.delete(*tmp[:500])
            del tmp[:500]
        if cursor == 0:
            break
        assert calls < 100000
    assert keep <= seen
    assert r.dbsize() == 200 + len(tmp)


# ---------------------------------------------------------------------------
# TYPE
# ---------------------------------------------------------------------------

def test_type(r):
    r.set("s", "v")
    r.set("n", "12")
    assert r.type("s") == "string"
    assert r.type("n") == "string"
    assert r.type("missing") == "none"


def test_type_wire_is_simple_string(raw):
    call(raw, "SET", "s", "v")
    assert call(raw, "TYPE", "s") == b"+string\r\n"
    assert call(raw, "TYPE", "missing") == b"+none\r\n"


def test_type_collections(r):
    r.lpush("l", "a")
    r.sadd("s", "a")
    r.hset("h", "f", "v")
    r.zadd("z", {"a": 1})
    assert [r.type(k) for k in ("l", "s", "h", "z")] == ["list", "set", "hash", "zset"]


# ---------------------------------------------------------------------------
# RENAME / RENAMENX
# ---------------------------------------------------------------------------

def test_rename(r):
    r.set("a", "1")
    assert r.rename("a", "b") is True
    assert r.exists("a") == 0
    assert r.get("b") == "1"


def test_rename_overwrites_destination_and_its_ttl(r):
    r.set("a", "1")
    r.set("b", "2", ex=100)
    r.rename("a", "b")
    assert r.get("b") == "1"
    assert r.ttl("b") == -1


def test_rename_to_itself(r):
    r.set("a", "1", ex=100)
    assert r.rename("a", "a") is True
    assert r.get("a") == "1"
    assert r.ttl("a") == 100


def test_rename_missing(raw):
    assert call(raw, "RENAME", "nokey", "x") == b"-ERR no such key\r\n"
    assert call(raw, "RENAME", "nokey", "nokey") == b"-ERR no such key\r\n"
    assert call(raw, "RENAMENX", "nokey", "x") == b"-ERR no such key\r\n"
    assert call(raw, "EXISTS", "x") == b":0\r\n"


def test_renamenx(r):
    r.mset({"a": "1", "b": "2"})
    assert r.renamenx("a", "b") is False
    assert r.get("a") == "1"
    assert r.get("b") == "2"
    assert r.renamenx("a", "c") is True
    assert r.exists("a") == 0
    assert r.get("c") == "1"
    assert r.renamenx("c", "c") is False
    assert r.get("c") == "1"


def test_renamenx_wire(raw):
    call(raw, "MSET", "a", "1", "b", "2")
    assert call(raw, "RENAMENX", "a", "b") == b":0\r\n"
    assert call(raw, "RENAMENX", "a", "c") == b":1\r\n"
    assert call(raw, "RENAME", "c", "d") == b"+OK\r\n"


def test_rename_binary_keys(rb):
    rb.set(b"a\x00", b"v\x00")
    rb.rename(b"a\x00", b"b\x00")
    assert rb.get(b"b\x00") == b"v\x00"
    assert rb.exists(b"a\x00") == 0


# ---------------------------------------------------------------------------
# COPY
# ---------------------------------------------------------------------------

def test_copy(r):
    r.set("a", "1")
    assert r.copy("a", "b") is True
    assert r.get("b") == "1"
    assert r.get("a") == "1"
    # the copy is independent
    r.append("b", "2")
    assert r.get("a") == "1"
    assert r.get("b") == "12"


def test_copy_existing_destination_needs_replace(r):
    r.mset({"a": "1", "b": "2"})
    assert r.copy("a", "b") is False
    assert r.get("b") == "2"
    assert r.copy("a", "b", replace=True) is True
    assert r.get("b") == "1"


def test_copy_missing_source(r):
    assert r.copy("missing", "b") is False
    assert r.exists("b") == 0


def test_copy_carries_ttl(r):
    r.set("a", "1", px=100000)
    r.copy("a", "b")
    assert 99000 <= r.pttl("b") <= 100000
    # REPLACE replaces the destination's TTL with the source's (none here)
    r.set("d", "3", ex=100)
    r.set("e", "4")
    r.copy("e", "d", replace=True)
    assert r.ttl("d") == -1


def test_copy_to_other_db(r, db):
    r.set("a", "1", ex=100)
    assert r.copy("a", "a", destination_db=1) is True
    d1 = db(1)
    assert d1.get("a") == "1"
    assert d1.ttl("a") == 100
    d1.set("b", "x")
    r.set("b", "y")
    assert r.copy("b", "b", destination_db=1) is False
    assert d1.get("b") == "x"
    assert r.copy("b", "b", destination_db=1, replace=True) is True
    assert d1.get("b") == "y"
    assert r.get("b") == "y"


def test_copy_errors(raw):
    call(raw, "SET", "a", "1")
    assert call(raw, "COPY", "a", "a") == b"-ERR source and destination objects are the same\r\n"
    assert call(raw, "COPY", "a", "a", "REPLACE") == \
        b"-ERR source and destination objects are the same\r\n"
    assert call(raw, "COPY", "a", "b", "DB", "16") == b"-ERR DB index is out of range\r\n"
    assert call(raw, "COPY", "a", "b", "DB", "-1") == b"-ERR DB index is out of range\r\n"
    assert call(raw, "COPY", "a", "b", "DB", "x") == \
        b"-ERR value is not an integer or out of range\r\n"
    assert call(raw, "COPY", "a", "b", "FOO") == b"-ERR syntax error\r\n"
    assert call(raw, "COPY", "a", "b", "DB") == b"-ERR syntax error\r\n"
    assert call(raw, "COPY", "a") == b"-ERR wrong number of arguments for 'copy' command\r\n"
    assert call(raw, "COPY", "a", "b") == b":1\r\n"
    assert call(raw, "COPY", "a", "b") == b":0\r\n"


# ---------------------------------------------------------------------------
# MOVE
# ---------------------------------------------------------------------------

def test_move(r, db):
    r.set("a", "1", ex=100)
    assert r.move("a", 1) is True
    assert r.exists("a") == 0
    d1 = db(1)
    assert d1.get("a") == "1"
    assert d1.ttl("a") == 100


def test_move_existing_in_target(r, db):
    d1 = db(1)
    r.set("a", "0")
    d1.set("a", "1")
    assert r.move("a", 1) is False
    assert r.get("a") == "0"
    assert d1.get("a") == "1"


def test_move_missing(r):
    assert r.move("missing", 1) is False


def test_move_errors(raw):
    call(raw, "SET", "a", "1")
    assert call(raw, "MOVE", "a", "0") == b"-ERR source and destination objects are the same\r\n"
    assert call(raw, "MOVE", "a", "16") == b"-ERR DB index is out of range\r\n"
    assert call(raw, "MOVE", "a", "-1") == b"-ERR DB index is out of range\r\n"
    assert call(raw, "MOVE", "a", "x") == b"-ERR value is not an integer or out of range\r\n"
    assert call(raw, "MOVE", "a", "1") == b":1\r\n"
    assert call(raw, "MOVE", "a", "1") == b":0\r\n"


# ---------------------------------------------------------------------------
# RANDOMKEY
# ---------------------------------------------------------------------------

def test_randomkey_empty(r):
    assert r.randomkey() is None


def test_randomkey_empty_wire(raw):
    assert call(raw, "RANDOMKEY") == b"$-1\r\n"


def test_randomkey(r):
    r.set("only", "1")
    assert r.randomkey() == "only"
    keys = {f"k{i}" for i in range(10)}
    r.delete("only")
    r.mset({k: "v" for k in keys})
    got = {r.randomkey() for _ in range(200)}
    assert got <= keys
    assert len(got) > 1


# ---------------------------------------------------------------------------
# OBJECT
# ---------------------------------------------------------------------------

def test_object_missing_key_is_nil(r):
    assert r.object("encoding", "missing") is None
    assert r.object("idletime", "missing") is None
    assert r.object("refcount", "missing") is None


def test_object_refcount(r):
    r.set("k", "some string value")
    assert r.object("refcount", "k") == 1


def test_object_refcount_of_small_integers_follows_redis_sharing(r):
    """Redis 7.0 shares the integers 0..9999 (OBJECT REFCOUNT INT_MAX) unless maxmemory is set
    with an LRU or LFU policy."""
    shared = 2147483647
    saved = r.config_get("maxmemory*")
    try:
        r.config_set("maxmemory", "0")
        r.set("small", "1")
        r.incr("counter")
        r.set("big", "10000")
        r.set("neg", "-1")
        assert r.object("refcount", "small") == shared
        assert r.object("refcount", "counter") == shared
        assert r.object("refcount", "big") == 1
        assert r.object("refcount", "neg") == 1
        r.config_set("maxmemory", "1gb")
        r.config_set("maxmemory-policy", "allkeys-random")
        r.set("small", "2")
        assert r.object("refcount", "small") == shared
        for policy in ("allkeys-lru", "volatile-lfu"):
            r.config_set("maxmemory-policy", policy)
            r.set("small", "3")
            assert r.object("refcount", "small") == 1
    finally:
        r.config_set("maxmemory", saved["maxmemory"])
        r.config_set("maxmemory-policy", saved["maxmemory-policy"])


def idle_right_after(r, action, key):
    """OBJECT IDLETIME right after `action`; retried because the idle clock has 1 s
    resolution and a second boundary may fall between the two commands."""
    for _ in range(3):
        action()
        v = r.object("idletime", key)
        if v == 0:
            return 0
    return v


def test_object_idletime(r2):
    assert idle_right_after(r2, lambda: r2.mset({"a": "1", "b": "2", "c": "3"}), "a") == 0
    time.sleep(1.1)
    assert r2.object("idletime", "a") >= 1
    # OBJECT itself does not count as an access
    assert r2.object("idletime", "a") >= 1
    assert r2.object("idletime", "b") >= 1
    assert idle_right_after(r2, lambda: r2.get("b"), "b") == 0
    assert idle_right_after(r2, lambda: r2.touch("c"), "c") == 0
    assert 1 <= r2.object("idletime", "a") <= 3


def test_object_freq_without_lfu(raw):
    call(raw, "SET", "k", "v")
    assert call(raw, "OBJECT", "FREQ", "k") == b"-ERR " + LFU_NOT_SELECTED.encode() + b"\r\n"


def test_object_freq_with_lfu(server_factory):
    s = server_factory("--maxmemory-policy", "allkeys-lfu")
    c = s.client()
    try:
        c.set("k", "v")
        assert c.object("freq", "k") == 5  # documented initial counter value
        c.get("k")
        assert c.object("freq", "k") == 6
        assert c.object("freq", "missing") is None
        assert_error(c, LFU_SELECTED, "OBJECT", "IDLETIME", "k")
    finally:
        c.close()


def test_object_help(raw):
    reply = call(raw, "OBJECT", "HELP")
    lines = reply.split(b"\r\n")
    assert lines[0].startswith(b"*")
    items = lines[1:-1]
    assert len(items) == int(lines[0][1:])
    assert all(i.startswith(b"+") for i in items)
    text = [i[1:].decode() for i in items]
    assert text[0] == "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    for sub in ("ENCODING <key>", "FREQ <key>", "IDLETIME <key>", "REFCOUNT <key>", "HELP"):
        assert sub in text


def test_object_errors(raw):
    assert call(raw, "OBJECT", "FOO", "k") == b"-ERR unknown subcommand 'FOO'. Try OBJECT HELP.\r\n"
    assert call(raw, "OBJECT") == b"-ERR wrong number of arguments for 'object' command\r\n"
    assert call(raw, "OBJECT", "ENCODING") == \
        b"-ERR wrong number of arguments for 'object|encoding' command\r\n"
    assert call(raw, "OBJECT", "encoding", "a", "b") == \
        b"-ERR wrong number of arguments for 'object|encoding' command\r\n"
    assert call(raw, "OBJECT", "IDLETIME") == \
        b"-ERR wrong number of arguments for 'object|idletime' command\r\n"


# ---------------------------------------------------------------------------
# SELECT / databases
# ---------------------------------------------------------------------------

def test_select(raw):
    assert call(raw, "SET", "k", "db0") == b"+OK\r\n"
    assert call(raw, "SELECT", "1") == b"+OK\r\n"
    assert call(raw, "GET", "k") == b"$-1\r\n"
    assert call(raw, "SET", "k", "db1") == b"+OK\r\n"
    assert call(raw, "SELECT", "15") == b"+OK\r\n"
    assert call(raw, "GET", "k") == b"$-1\r\n"
    assert call(raw, "SELECT", "0") == b"+OK\r\n"
    assert call(raw, "GET", "k") == b"$3\r\ndb0\r\n"
    assert call(raw, "SELECT", "1") == b"+OK\r\n"
    assert call(raw, "GET", "k") == b"$3\r\ndb1\r\n"


def test_select_is_per_connection(raw):
    other = raw.more()
    assert call(raw, "SELECT", "3") == b"+OK\r\n"
    call(raw, "SET", "k", "v3")
    assert call(other, "GET", "k") == b"$-1\r\n"
    assert call(other, "SELECT", "3") == b"+OK\r\n"
    assert call(other, "GET", "k") == b"$2\r\nv3\r\n"


def test_select_errors(raw):
    assert call(raw, "SELECT", "16") == b"-ERR DB index is out of range\r\n"
    assert call(raw, "SELECT", "-1") == b"-ERR DB index is out of range\r\n"
    assert call(raw, "SELECT", "x") == b"-ERR value is not an integer or out of range\r\n"
    assert call(raw, "SELECT") == b"-ERR wrong number of arguments for 'select' command\r\n"
    # still in db 0
    call(raw, "SET", "k", "v")
    assert call(raw, "SELECT", "0") == b"+OK\r\n"
    assert call(raw, "GET", "k") == b"$1\r\nv\r\n"


def test_databases_are_independent(r, db):
    dbs = [db(i) for i in range(16)]
    for i, c in enumerate(dbs):
        c.set("k", f"v{i}")
        c.set(f"only{i}", "x")
    for i, c in enumerate(dbs):
        assert c.get("k") == f"v{i}"
        assert c.dbsize() == 2
        assert sorted(c.keys("*")) == sorted(["k", f"only{i}"])
    dbs[5].delete("k")
    assert dbs[4].get("k") == "v4"
    assert dbs[6].get("k") == "v6"
    assert dbs[5].exists("k") == 0


def test_dbsize(r, db):
    assert r.dbsize() == 0
    r.mset({"a": "1", "b": "2", "c": "3"})
    assert r.dbsize() == 3
    db(2).set("x", "1")
    assert r.dbsize() == 3
    assert db(2).dbsize() == 1
    r.delete("a")
    assert r.dbsize() == 2


def test_dbsize_wire(raw):
    call(raw, "SET", "a", "1")
    assert call(raw, "DBSIZE") == b":1\r\n"


def test_swapdb(r, db):
    d0, d1 = r, db(1)
    d0.set("a", "in0")
    d0.set("only0", "x", ex=100)
    d1.set("a", "in1")
    assert r.swapdb(0, 1) is True
    assert d0.get("a") == "in1"
    assert d0.exists("only0") == 0
    assert d1.get("a") == "in0"
    assert d1.ttl("only0") == 100
    assert d0.dbsize() == 1
    assert d1.dbsize() == 2
    assert r.swapdb(1, 1) is True
    assert d1.get("a") == "in0"


def test_swapdb_is_seen_by_selected_connections(raw):
    other = raw.more()
    call(other, "SELECT", "2")
    call(raw, "SET", "k", "from0")
    assert call(other, "GET", "k") == b"$-1\r\n"
    assert call(raw, "SWAPDB", "0", "2") == b"+OK\r\n"
    assert call(other, "GET", "k") == b"$5\r\nfrom0\r\n"
    assert call(raw, "GET", "k") == b"$-1\r\n"


def test_swapdb_errors(raw):
    assert call(raw, "SWAPDB", "0", "16") == b"-ERR DB index is out of range\r\n"
    assert call(raw, "SWAPDB", "-1", "0") == b"-ERR DB index is out of range\r\n"
    assert call(raw, "SWAPDB", "x", "0") == b"-ERR invalid first DB index\r\n"
    assert call(raw, "SWAPDB", "0", "x") == b"-ERR invalid second DB index\r\n"
    assert call(raw, "SWAPDB", "0") == b"-ERR wrong number of arguments for 'swapdb' command\r\n"


@pytest.mark.parametrize("mode", [None, "SYNC", "ASYNC", "sync", "async"])
def test_flushdb(r, db, mode):
    d1 = db(1)
    r.mset({"a": "1", "b": "2"})
    d1.set("a", "x")
    args = ("FLUSHDB",) if mode is None else ("FLUSHDB", mode)
    assert r.execute_command(*args) is True
    assert r.dbsize() == 0
    assert r.get("a") is None
    assert d1.get("a") == "x"
    # the db is usable right away
    r.set("a", "new")
    assert r.get("a") == "new"


@pytest.mark.parametrize("mode", [None, "SYNC", "ASYNC"])
def test_flushall(r, db, mode):
    d1, d15 = db(1), db(15)
    r.set("a", "1")
    d1.set("a", "x")
    d15.set("z", "x", ex=100)
    args = ("FLUSHALL",) if mode is None else ("FLUSHALL", mode)
    assert r.execute_command(*args) is True
    assert r.dbsize() == 0
    assert d1.dbsize() == 0
    assert d15.dbsize() == 0
    assert d15.get("z") is None


def test_flush_errors(raw):
    assert call(raw, "FLUSHDB", "FOO") == b"-ERR syntax error\r\n"
    assert call(raw, "FLUSHALL", "FOO") == b"-ERR syntax error\r\n"
    assert call(raw, "FLUSHDB", "SYNC", "ASYNC") == b"-ERR syntax error\r\n"
    assert call(raw, "FLUSHDB", "ASYNC") == b"+OK\r\n"
    assert call(raw, "FLUSHALL", "SYNC") == b"+OK\r\n"


def test_flushall_large(r):
    r.mset({f"k{i}": "v" * 100 for i in range(5000)})
    assert r.dbsize() == 5000
    assert r.execute_command("FLUSHALL", "ASYNC") is True
    assert r.dbsize() == 0
    assert r.keys("*") == []


# ---------------------------------------------------------------------------
# Arity errors
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ("GET",), ("GET", "a", "b"), ("DEL",), ("UNLINK",), ("EXISTS",), ("TOUCH",), ("TYPE",),
    ("TYPE", "a", "b"), ("KEYS",), ("KEYS", "a", "b"), ("SCAN",), ("RENAME", "a"),
    ("RENAMENX", "a"), ("COPY", "a"), ("MOVE", "a"), ("RANDOMKEY", "x"), ("DBSIZE", "x"),
    ("SELECT",), ("SWAPDB", "0"), ("OBJECT",),
])
def test_arity_errors(raw, args):
    name = args[0].lower()
    assert call(raw, *args) == \
        f"-ERR wrong number of arguments for '{name}' command\r\n".encode()


def test_arity_error_via_redis_py(r):
    assert_error(r, "wrong number of arguments for 'get' command", "GET")
    assert_error(r, "wrong number of arguments for 'get' command", "GET", "a", "b")
