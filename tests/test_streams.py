"""Streams (Redis 7.0): XADD, ranges, trimming, XREAD, consumer groups, blocking, persistence.

Runs in RESP2 and RESP3 and against Debian's redis-server (FDB_TEST_TARGET=redis) to check the
tests themselves.
"""

import threading
import time

import pytest
import redis

from conftest import TARGET
from test_dump import real_redis  # noqa: F401  (a fixture: Debian's redis-server)


def ids(entries):
    return [e[0] for e in entries]


def streams(got):
    """XREAD / XREADGROUP's reply as a list of [key, [(id, fields)...]] in RESP2 and RESP3."""
    if isinstance(got, dict):
        got = list(got.items())
    out = []
    for key, entries in got or []:
        if entries and isinstance(entries[0], list) and entries[0] and \
                isinstance(entries[0][0], (list, tuple)):
            entries = entries[0]
        out.append([key, [tuple(e) if e is not None else e for e in entries]])
    return out


def test_xadd_xrange_xlen(r):
    assert r.xadd("s", {"f": "v"}, id="1-1") == "1-1"
    assert r.xadd("s", {"a": "1", "b": "2"}, id="2-0") == "2-0"
    assert r.xadd("s", {"f": "w"}, id="2-*") == "2-1"
    assert r.xadd("s", {"f": "x"}, id="5") == "5-0"
    assert r.xlen("s") == 4
    assert r.xrange("s") == [("1-1", {"f": "v"}), ("2-0", {"a": "1", "b": "2"}),
                             ("2-1", {"f": "w"}), ("5-0", {"f": "x"})]
    assert ids(r.xrange("s", "2", "2")) == ["2-0", "2-1"]
    assert ids(r.xrange("s", "(1-1", "+")) == ["2-0", "2-1", "5-0"]
    assert ids(r.xrange("s", "-", "(5-0")) == ["1-1", "2-0", "2-1"]
    assert ids(r.xrange("s", count=2)) == ["1-1", "2-0"]
    assert ids(r.xrevrange("s", count=3)) == ["5-0", "2-1", "2-0"]
    assert ids(r.xrevrange("s", "(5-0", "-")) == ["2-1", "2-0", "1-1"]
    assert ids(r.xrevrange("s", "(5", "-")) == ["5-0", "2-1", "2-0", "1-1"]
    assert r.xrange("missing") == []
    assert r.type("s") == "stream"
    assert r.object("encoding", "s") == "stream"
    # An auto ID is at least the clock and greater than the last one.
    auto = r.xadd("s", {"f": "y"})
    ms, seq = map(int, auto.split("-"))
    assert ms >= 5 and ms >= int(time.time() * 1000) - 60_000


def test_xadd_errors(r):
    r.xadd("s", {"f": "v"}, id="5-5")
    with pytest.raises(redis.ResponseError, match="equal or smaller than the target stream top"):
        r.xadd("s", {"f": "v"}, id="5-5")
    with pytest.raises(redis.ResponseError, match="equal or smaller"):
        r.xadd("s", {"f": "v"}, id="4-*")
    with pytest.raises(redis.ResponseError, match="must be greater than 0-0"):
        r.xadd("t", {"f": "v"}, id="0-0")
    assert r.exists("t") == 0
    with pytest.raises(redis.ResponseError, match="Invalid stream ID"):
        r.xadd("s", {"f": "v"}, id="abc")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'xadd'"):
        r.execute_command("XADD", "s", "*", "f")
    with pytest.raises(redis.ResponseError, match="LIMIT cannot be used without the special ~"):
        r.execute_command("XADD", "s", "MAXLEN", "5", "LIMIT", "2", "*", "f", "v")
    with pytest.raises(redis.ResponseError, match="MAXLEN argument must be >= 0"):
        r.execute_command("XADD", "s", "MAXLEN", "-1", "*", "f", "v")
    r.set("str", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.xadd("str", {"f": "v"})
    assert r.xadd("nomk", {"f": "v"}, nomkstream=True) is None
    assert r.exists("nomk") == 0
    r.execute_command("XSETID", "s", "18446744073709551615-18446744073709551615")
    with pytest.raises(redis.ResponseError, match="exhausted the last possible ID"):
        r.xadd("s", {"f": "v"})


def test_trimming(r):
    for i in range(1, 11):
        r.xadd("s", {"i": str(i)}, id=f"{i}-0")
    assert r.xtrim("s", maxlen=7, approximate=False) == 3
    assert ids(r.xrange("s"))[0] == "4-0"
    assert r.xtrim("s", minid="6", approximate=False) == 2
    assert r.xlen("s") == 5
    r.xadd("s", {"i": "11"}, id="11-0", maxlen=3, approximate=False)
    assert ids(r.xrange("s")) == ["9-0", "10-0", "11-0"]
    # MAXLEN 0 leaves an empty stream, which still exists.
    r.xadd("e", {"f": "v"}, maxlen=0)
    assert r.exists("e") == 1 and r.xlen("e") == 0
    # Approximate trimming removes whole nodes only.
    r.config_set("stream-node-max-entries", 10)
    try:
        for i in range(100):
            r.xadd("big", {"x": "v"})
        assert r.execute_command("XTRIM", "big", "MAXLEN", "~", "55") == 40
        assert r.xlen("big") == 60
        assert r.execute_command("XTRIM", "big", "MAXLEN", "~", "0", "LIMIT", "15") == 10
    finally:
        r.config_set("stream-node-max-entries", 100)


def test_xdel_and_xinfo_stream(r):
    for i in range(1, 6):
        r.xadd("x", {"data": str(i)}, id=f"{i}-0")
    assert r.xdel("x", "2-0", "9-0") == 1
    assert r.xdel("x", "1-0") == 1
    info = r.xinfo_stream("x")
    assert info["length"] == 3
    assert info["last-generated-id"] == "5-0"
    assert info["max-deleted-entry-id"] == "2-0"
    assert info["entries-added"] == 5
    assert info["recorded-first-entry-id"] == "3-0"
    assert info["first-entry"] == ("3-0", {"data": "3"})
    assert info["last-entry"] == ("5-0", {"data": "5"})
    with pytest.raises(redis.ResponseError, match="no such key"):
        r.xinfo_stream("nope")


def test_xread(r):
    r.xadd("a", {"f": "1"}, id="1-0")
    r.xadd("a", {"f": "2"}, id="2-0")
    r.xadd("b", {"g": "1"}, id="3-0")
    got = streams(r.xread({"a": "0", "b": "3-0", "c": "0"}))
    assert got == [["a", [("1-0", {"f": "1"}), ("2-0", {"f": "2"})]]]
    assert r.xread({"a": "$"}) in (None, [], {})
    got = streams(r.xread({"a": "0"}, count=1))
    assert got == [["a", [("1-0", {"f": "1"})]]]
    with pytest.raises(redis.ResponseError, match="Unbalanced XREAD list of streams"):
        r.execute_command("XREAD", "STREAMS", "a", "b", "0")


def test_consumer_groups(r):
    for i in range(1, 5):
        r.xadd("s", {"n": str(i)}, id=f"{i}-0")
    assert r.xgroup_create("s", "g", id="0") is True
    with pytest.raises(redis.ResponseError, match="BUSYGROUP"):
        r.xgroup_create("s", "g", id="0")
    with pytest.raises(redis.ResponseError, match="requires the key to exist"):
        r.xgroup_create("nokey", "g", id="$")
    assert r.xgroup_create("made", "g", id="$", mkstream=True) is True
    assert r.type("made") == "stream"
    got = streams(r.xreadgroup("g", "alice", {"s": ">"}, count=2))
    assert ids(got[0][1]) == ["1-0", "2-0"]
    r.xreadgroup("g", "bob", {"s": ">"}, count=1)
    pending = r.xpending("s", "g")
    assert pending["pending"] == 3
    assert pending["min"] == "1-0" and pending["max"] == "3-0"
    assert sorted((c["name"], c["pending"]) for c in pending["consumers"]) == [("alice", 2),
                                                                               ("bob", 1)]
    rows = r.xpending_range("s", "g", "-", "+", 10)
    assert [(x["message_id"], x["consumer"], x["times_delivered"]) for x in rows] == [
        ("1-0", "alice", 1), ("2-0", "alice", 1), ("3-0", "bob", 1)]
    assert len(r.xpending_range("s", "g", "-", "+", 10, consumername="bob")) == 1
    # History: alice's own pending entries again, delivery count up.
    hist = streams(r.xreadgroup("g", "alice", {"s": "0"}))
    assert ids(hist[0][1]) == ["1-0", "2-0"]
    assert r.xpending_range("s", "g", "1-0", "1-0", 1)[0]["times_delivered"] == 2
    assert r.xack("s", "g", "1-0", "3-0", "9-0") == 2
    assert r.xpending("s", "g")["pending"] == 1
    # XCLAIM moves bob's... alice's remaining entry to bob.
    claimed = r.xclaim("s", "g", "bob", 0, ["2-0"])
    assert claimed == [("2-0", {"n": "2"})]
    assert r.xpending_range("s", "g", "-", "+", 10)[0]["consumer"] == "bob"
    assert r.xclaim("s", "g", "carol", 0, ["2-0"], justid=True) == ["2-0"]
    # XAUTOCLAIM, including an entry deleted from the stream.
    r.xreadgroup("g", "alice", {"s": ">"})  # 4-0 to alice
    r.xdel("s", "4-0")
    res = r.xautoclaim("s", "g", "dave", 0, "0-0", count=10)
    assert res[0] == "0-0"
    assert ids(res[1]) == ["2-0"]
    assert res[2] == ["4-0"]
    groups = r.xinfo_groups("s")
    assert groups[0]["name"] == "g" and groups[0]["pending"] == 1
    assert groups[0]["last-delivered-id"] == "4-0"
    consumers = {c["name"]: c["pending"] for c in r.xinfo_consumers("s", "g")}
    assert consumers == {"alice": 0, "bob": 0, "carol": 0, "dave": 1}
    assert r.xgroup_delconsumer("s", "g", "dave") == 1
    assert r.xgroup_createconsumer("s", "g", "erin") == 1
    assert r.xgroup_createconsumer("s", "g", "erin") == 0
    assert r.xgroup_setid("s", "g", "0") is True
    assert r.xgroup_destroy("s", "g") == 1
    assert r.xgroup_destroy("s", "g") == 0
    with pytest.raises(redis.ResponseError, match="NOGROUP"):
        r.xreadgroup("g", "alice", {"s": ">"})


def test_xinfo_full_and_lag(r):
    for i in range(1, 6):
        r.xadd("x", {"data": str(i)}, id=f"{i}-0")
    r.xgroup_create("x", "g1", id="0")
    full = r.xinfo_stream("x", full=True)
    assert full["groups"][0]["lag"] == 5
    r.xreadgroup("g1", "c1", {"x": ">"}, count=1)
    full = r.xinfo_stream("x", full=True)
    g = full["groups"][0]
    assert g["entries-read"] == 1 and g["lag"] == 4
    assert g["pel-count"] == 1
    assert g["consumers"][0]["name"] == "c1"


def test_xsetid(r):
    r.xadd("s", {"f": "v"}, id="5-0")
    assert r.execute_command("XSETID", "s", "10-0") in (True, "OK")
    assert r.xinfo_stream("s")["last-generated-id"] == "10-0"
    with pytest.raises(redis.ResponseError, match="smaller than the target stream top item"):
        r.execute_command("XSETID", "s", "1-0")
    with pytest.raises(redis.ResponseError, match="no such key"):
        r.execute_command("XSETID", "nokey", "1-0")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("XSETID", "s", "20-0", "5")


def test_blocking_xread_woken_by_xadd(server, r):
    r.xadd("bs", {"f": "0"}, id="1-0")
    result = {}

    def reader():
        c = server.client()
        result["got"] = c.xread({"bs": "$"}, block=0)
        c.close()

    t = threading.Thread(target=reader)
    t.start()
    deadline = time.time() + 10
    while int(r.info("clients")["blocked_clients"]) < 1 and time.time() < deadline:
        time.sleep(0.01)
    r.xadd("bs", {"f": "1"}, id="2-0")
    t.join(10)
    got = streams(result["got"])
    assert got == [["bs", [("2-0", {"f": "1"})]]]


def test_blocking_xreadgroup_in_arrival_order(server, r):
    r.xgroup_create("q", "g", id="$", mkstream=True)
    results = [None, None]

    def reader(i):
        c = server.client()
        results[i] = c.xreadgroup("g", f"c{i}", {"q": ">"}, count=1, block=0)
        c.close()

    threads = []
    for i in range(2):
        t = threading.Thread(target=reader, args=(i,))
        t.start()
        threads.append(t)
        deadline = time.time() + 10
        while int(r.info("clients")["blocked_clients"]) < i + 1 and time.time() < deadline:
            time.sleep(0.01)
    r.xadd("q", {"job": "1"}, id="1-0")
    r.xadd("q", {"job": "2"}, id="2-0")
    for t in threads:
        t.join(10)
    flat = []
    for got in results:
        got = streams(got)
        flat.append(ids(got[0][1]))
    assert flat == [["1-0"], ["2-0"]]


def test_blocking_timeout_and_multi(r):
    assert r.xread({"none": "$"}, block=50) in (None, {}, [])
    r.xgroup_create("m", "g", id="$", mkstream=True)
    p = r.pipeline(transaction=True)
    p.xreadgroup("g", "c", {"m": ">"}, block=0)
    assert p.execute()[0] in (None, {}, [])


def test_destroy_unblocks_xreadgroup(server, r):
    r.xgroup_create("d", "g", id="$", mkstream=True)
    result = {}

    def reader():
        c = server.client()
        try:
            c.xreadgroup("g", "c", {"d": ">"}, block=0)
        except redis.ResponseError as e:
            result["err"] = str(e)
        c.close()

    t = threading.Thread(target=reader)
    t.start()
    deadline = time.time() + 10
    while int(r.info("clients")["blocked_clients"]) < 1 and time.time() < deadline:
        time.sleep(0.01)
    r.xgroup_destroy("d", "g")
    t.join(10)
    assert "the consumer group this client was blocked on" in result["err"]


def test_rq_style_multi_and_xrevrange(r):
    # RQ stores each job result with XADD inside MULTI and reads the newest with XREVRANGE.
    for i in range(3):
        p = r.pipeline(transaction=True)
        p.xadd("rq:results:job1", {"type": "1", "return_value": f"v{i}"}, maxlen=10)
        p.expire("rq:results:job1", 500)
        p.execute()
    newest = r.xrevrange("rq:results:job1", "+", "-", count=1)
    assert newest[0][1]["return_value"] == "v2"
    assert r.ttl("rq:results:job1") > 0


def test_generic_commands_on_streams(r):
    r.xadd("s{t}", {"f": "v"}, id="1-0")
    r.xgroup_create("s{t}", "g", id="0")
    assert r.copy("s{t}", "c{t}") is True
    assert r.xrange("c{t}") == [("1-0", {"f": "v"})]
    assert r.xinfo_groups("c{t}")[0]["name"] == "g"
    assert r.rename("c{t}", "d{t}") is True
    assert r.xlen("d{t}") == 1
    assert list(r.scan_iter(_type="stream")) and set(r.scan_iter(_type="stream")) == {"s{t}", "d{t}"}
    assert r.expire("d{t}", 100) is True
    assert r.delete("d{t}", "s{t}") == 2


def test_keyspace_notifications(server, r):
    r.config_set("notify-keyspace-events", "KEt")
    try:
        p = server.client().pubsub()
        p.psubscribe("__keyevent@0__:*")
        p.get_message(timeout=1)
        r.xadd("n", {"f": "v"}, id="1-0", maxlen=0)
        r.xgroup_create("n", "g", id="$")
        r.xgroup_createconsumer("n", "g", "c")
        r.execute_command("XSETID", "n", "5-0")
        events = []
        deadline = time.time() + 5
        while len(events) < 5 and time.time() < deadline:
            m = p.get_message(timeout=0.5)
            if m and m["type"] == "pmessage":
                events.append(m["channel"].split(":", 1)[1])
        assert events == ["xadd", "xtrim", "xgroup-create", "xgroup-createconsumer", "xsetid"]
        p.close()
    finally:
        r.config_set("notify-keyspace-events", "")


@pytest.mark.skipif(TARGET == "redis", reason="restarts an FDB data directory")
def test_streams_survive_restart(server_factory):
    s = server_factory()
    c = s.client()
    for i in range(1, 301):
        c.xadd("s", {"n": str(i), "pad": "x" * 20}, id=f"{i}-0")
    c.xdel("s", "7-0")
    c.xtrim("s", maxlen=250)
    c.xgroup_create("s", "g", id="0")
    c.xreadgroup("g", "alice", {"s": ">"}, count=5)
    c.xack("s", "g", ids(c.xrange("s", count=1))[0])
    before = (c.xrange("s"), c.xinfo_stream("s", full=True), c.xpending("s", "g"))
    s.stop()
    s.start()
    c = s.client()
    after = (c.xrange("s"), c.xinfo_stream("s", full=True), c.xpending("s", "g"))
    assert after[0] == before[0]
    assert after[2] == before[2]
    for k in ("length", "last-generated-id", "max-deleted-entry-id", "entries-added"):
        assert after[1][k] == before[1][k]
    assert after[1]["groups"][0]["pending"] == before[1]["groups"][0]["pending"]


def fill_streams(c):
    c.flushall()
    c.xadd("st", {"a": "1", "b": "2"}, id="1-1")
    c.xadd("st", {"a": "3", "b": "4"}, id="1-2")
    c.xadd("st", {"other": "x" * 100, "z": "y" * 5000}, id="2-0")
    for i in range(3, 250):
        c.xadd("st", {"a": str(i), "b": "-7" if i % 3 else "v" * (i % 70)}, id=f"{i}-{i % 4}")
    c.xdel("st", "5-1", "100-0")
    c.xgroup_create("st", "g1", id="0")
    c.xgroup_create("st", "g2", id="$")
    c.xreadgroup("g1", "alice", {"st": ">"}, count=7)
    c.xreadgroup("g1", "bob", {"st": ">"}, count=3)
    c.xack("st", "g1", "1-1")
    c.xgroup_createconsumer("st", "g2", "idle")
    c.xadd("empty", {"f": "v"}, maxlen=0)


def stream_state(c, key):
    info = c.xinfo_stream(key, full=True)
    groups = [(g["name"], g["last-delivered-id"], g["entries-read"], g["lag"], g["pel-count"],
               [tuple(p[:2]) if isinstance(p, list) else (p["id"], p["consumer"])
                for p in g["pending"]],
               [(x["name"], x["pel-count"]) for x in g["consumers"]]) for g in info["groups"]]
    return (c.xrange(key), info["length"], info["last-generated-id"],
            info["max-deleted-entry-id"], info["entries-added"], groups)


@pytest.mark.skipif(TARGET == "redis", reason="compares FDB with Redis")
@pytest.mark.parametrize("direction", ["redis_to_fdb", "fdb_to_redis"])
def test_stream_dump_restore_between_redis_and_fdb(real_redis, server, direction):
    red_port = real_redis.connection_pool.connection_kwargs["port"]

    def client(port, decode):
        return redis.Redis(host="127.0.0.1", port=port, decode_responses=decode)

    fdb, red = client(server.port, True), client(red_port, True)
    ports = (red_port, server.port) if direction == "redis_to_fdb" else (server.port, red_port)
    src, dst = client(ports[0], True), client(ports[1], True)
    raw_src, raw_dst = client(ports[0], False), client(ports[1], False)
    fill_streams(src)
    dst.flushall()
    for key in ("st", "empty"):
        assert raw_dst.restore(key, 0, raw_src.dump(key)) in (True, b"OK"), key
        assert dst.type(key) == "stream"
        assert stream_state(dst, key) == stream_state(src, key), key
    # The restored stream works on: groups read on from where they were.
    got = streams(dst.xreadgroup("g1", "carol", {"st": ">"}, count=1))
    assert ids(got[0][1]) == ["11-3"]
    for c in (fdb, red, src, dst, raw_src, raw_dst):
        c.close()
