"""Keyspace notifications (notify-keyspace-events) and CLIENT REPLY against the real server
(--threads 2): the event Redis 7 names for each command on `__keyspace@<db>__:<key>` and
`__keyevent@<db>__:<event>`, the class mask, `new`, expiry by lazy access and by the active
cycle, whole-key eviction, EXEC, writers on both I/O threads, and no message at all while the
parameter is empty. Subscribers are redis-py pubsub objects in RESP2 and RESP3, and raw sockets.
"""

import re
import time

import pytest
import redis

from conftest import TARGET, Raw, Server

MARK = "__keyevent@0__:__mark__"


@pytest.fixture(scope="module")
def srv():
    extra = () if TARGET == "redis" else ("--enable-debug-command", "yes")
    s = Server(extra)
    yield s
    s.close()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def proto(request):
    return request.param


@pytest.fixture
def w(srv):
    """A writer: flushed server, notifications off until the test sets them."""
    c = srv.client()
    c.config_set("notify-keyspace-events", "")
    c.flushall()
    yield c
    c.config_set("notify-keyspace-events", "")
    c.close()


def subscribe(srv, proto, pattern="__key*@*__:*"):
    c = srv.client(protocol=proto)
    p = c.pubsub()
    p.psubscribe(pattern)
    msg = p.get_message(timeout=10)
    assert msg["type"] == "psubscribe", msg
    return c, p


def collect(p, w):
    """Every notification up to the writer's marker, a PUBLISH on a channel the pattern
    matches: a client's notifications and its PUBLISHes reach a subscriber in the order the
    client made them. Returns (channel, data) pairs."""
    w.publish(MARK, "end")
    out = []
    deadline = time.time() + 20
    while time.time() < deadline:
        m = p.get_message(timeout=1)
        if m is None or m["type"] != "pmessage":
            continue
        ch, data = m["channel"], m["data"]
        if isinstance(ch, bytes):
            ch, data = ch.decode(), data.decode()
        if ch == MARK:
            return out
        out.append((ch, data))
    raise AssertionError("marker never arrived; got %r" % out)


def keyspace(events):
    """(key, event) of the __keyspace@..__ messages, in order."""
    return [(ch.split(":", 1)[1], ev) for ch, ev in events if ch.startswith("__keyspace@")]


# (setup commands, commands, expected (key, event) in order), flags "KA".
CASES = {
    "set": ([], [["SET", "s", "v"]], [("s", "set")]),
    "set_ex": ([], [["SET", "s", "v", "EX", "100"]], [("s", "set"), ("s", "expire")]),
    "setex": ([], [["SETEX", "s", "100", "v"]], [("s", "set"), ("s", "expire")]),
    "mset": ([], [["MSET", "a", "1", "b", "2"]], [("a", "set"), ("b", "set")]),
    "incr": ([], [["INCR", "n"], ["DECRBY", "n", "3"]], [("n", "incrby"), ("n", "incrby")]),
    "incrbyfloat": ([], [["INCRBYFLOAT", "n", "1.5"]], [("n", "incrbyfloat")]),
    "append": ([], [["APPEND", "s", "x"], ["SETRANGE", "s", "3", "y"]],
               [("s", "append"), ("s", "setrange")]),
    "del": ([["SET", "s", "v"]], [["DEL", "s", "missing"]], [("s", "del")]),
    "getdel": ([["SET", "s", "v"]], [["GETDEL", "s"]], [("s", "del")]),
    "expire": ([["SET", "s", "v"]], [["EXPIRE", "s", "100"], ["PERSIST", "s"]],
               [("s", "expire"), ("s", "persist")]),
    "expire_past": ([["SET", "s", "v"]], [["PEXPIREAT", "s", "1"]], [("s", "del")]),
    "getex": ([["SET", "s", "v"]], [["GETEX", "s", "EX", "100"], ["GETEX", "s", "PERSIST"]],
              [("s", "expire"), ("s", "persist")]),
    "rename": ([["SET", "a", "v"]], [["RENAME", "a", "b"]],
               [("a", "rename_from"), ("b", "rename_to")]),
    "copy": ([["SET", "a", "v"]], [["COPY", "a", "b"]], [("b", "copy_to")]),
    "list": ([], [["LPUSH", "l", "a"], ["RPUSH", "l", "b"], ["LPOP", "l"], ["RPOP", "l"]],
             [("l", "lpush"), ("l", "rpush"), ("l", "lpop"), ("l", "rpop"), ("l", "del")]),
    "list_more": ([["RPUSH", "l", "a", "b", "c"]],
                  [["LSET", "l", "0", "x"], ["LINSERT", "l", "BEFORE", "x", "y"],
                   ["LREM", "l", "1", "y"], ["LTRIM", "l", "0", "0"]],
                  [("l", "lset"), ("l", "linsert"), ("l", "lrem"), ("l", "ltrim")]),
    "lmove": ([["RPUSH", "src", "a"]], [["LMOVE", "src", "dst", "RIGHT", "LEFT"]],
              [("src", "rpop"), ("src", "del"), ("dst", "lpush")]),
    "set_type": ([], [["SADD", "t", "a", "b"], ["SREM", "t", "x"], ["SREM", "t", "a"],
                      ["SMOVE", "t", "u", "b"]],
                 [("t", "sadd"), ("t", "srem"), ("t", "srem"), ("t", "del"), ("u", "sadd")]),
    "hash": ([], [["HSET", "h", "f", "1"], ["HINCRBY", "h", "f", "2"],
                  ["HINCRBYFLOAT", "h", "f", "0.5"], ["HDEL", "h", "f"]],
             [("h", "hset"), ("h", "hincrby"), ("h", "hincrbyfloat"), ("h", "hdel"),
              ("h", "del")]),
    "zset": ([], [["ZADD", "z", "1", "a", "2", "b"], ["ZINCRBY", "z", "1", "a"],
                  ["ZADD", "z", "INCR", "1", "b"], ["ZREM", "z", "x"], ["ZREM", "z", "a"],
                  ["ZPOPMAX", "z"]],
             [("z", "zadd"), ("z", "zincr"), ("z", "zincr"), ("z", "zrem"), ("z", "zpopmax"),
              ("z", "del")]),
    "store": ([["SADD", "a", "1"], ["SADD", "b", "2"]], [["SUNIONSTORE", "d", "a", "b"]],
              [("d", "sunionstore")]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_event_names(srv, w, proto, case):
    setup, cmds, expected = CASES[case]
    for c in setup:
        w.execute_command(*c)
    w.config_set("notify-keyspace-events", "KA")
    _, p = subscribe(srv, proto)
    for c in cmds:
        w.execute_command(*c)
    got = keyspace(collect(p, w))
    if case == "lmove":
        # Per key in order; across the two keys FDB tells the pop before the push (the order
        # of its changes), Redis 7.0 the push first (docs/compatibility.md).
        got.sort(key=lambda e: e[0])
        expected = sorted(expected, key=lambda e: e[0])
    assert got == expected


def test_both_channels_and_new(srv, w, proto):
    w.config_set("notify-keyspace-events", "KEA")
    assert w.config_get("notify-keyspace-events")["notify-keyspace-events"] == "AKE"
    _, p = subscribe(srv, proto)
    w.set("foo", "bar")
    assert collect(p, w) == [("__keyspace@0__:foo", "set"), ("__keyevent@0__:set", "foo")]
    w.config_set("notify-keyspace-events", "En")
    _, p = subscribe(srv, proto)
    w.set("k1", "a")
    w.set("k1", "b")  # not new
    w.rpush("k2", "x")
    w.hset("k3", "f", "v")
    assert collect(p, w) == [("__keyevent@0__:new", "k1"), ("__keyevent@0__:new", "k2"),
                             ("__keyevent@0__:new", "k3")]


def test_class_mask(srv, w, proto):
    w.config_set("notify-keyspace-events", "Kl")
    _, p = subscribe(srv, proto)
    w.set("foo", "bar")
    w.lpush("mylist", "a")
    w.sadd("myset", "a")
    w.lpop("mylist")
    # The emptied list's "del" is of the generic class: masked too.
    assert keyspace(collect(p, w)) == [("mylist", "lpush"), ("mylist", "lpop")]


def test_no_messages_while_off(srv, w, proto):
    _, p = subscribe(srv, proto)
    for i in range(20):
        w.set("k%d" % i, i)
        w.lpush("l", i)
    assert collect(p, w) == []


def test_other_database(srv, w, proto):
    w.config_set("notify-keyspace-events", "KEA")
    _, p = subscribe(srv, proto)
    w.execute_command("SELECT", 5)
    w.set("five", 1)
    w.execute_command("MOVE", "five", 6)
    w.execute_command("SELECT", 0)
    got = collect(p, w)
    assert ("__keyspace@5__:five", "set") in got
    assert ("__keyevent@5__:set", "five") in got
    assert got.index(("__keyspace@5__:five", "move_from")) < got.index(
        ("__keyspace@6__:five", "move_to"))


def test_exec(srv, w, proto):
    w.config_set("notify-keyspace-events", "KA")
    _, p = subscribe(srv, proto)
    pipe = w.pipeline(transaction=True)
    pipe.set("a", 1)
    pipe.lpush("b", "x")
    pipe.incr("a")
    pipe.delete("b")
    pipe.execute()
    assert keyspace(collect(p, w)) == [("a", "set"), ("b", "lpush"), ("a", "incrby"),
                                       ("b", "del")]


def test_expired_lazy_and_active(srv, w, proto):
    w.config_set("notify-keyspace-events", "Ex")
    _, p = subscribe(srv, proto)
    if TARGET != "redis":
        w.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        w.psetex("lazy", 50, 1)
        time.sleep(0.2)
        assert w.get("lazy") is None  # lazy expiry: this read deletes it
    finally:
        if TARGET != "redis":
            w.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    w.psetex("active", 50, 1)  # nobody touches it: the active cycle deletes it
    deadline = time.time() + 20
    got = []
    while time.time() < deadline and len(got) < 2:
        m = p.get_message(timeout=1)
        if m and m["type"] == "pmessage":
            d = m["data"]
            got.append((m["channel"], d.decode() if isinstance(d, bytes) else d))
    assert got == [("__keyevent@0__:expired", "lazy"), ("__keyevent@0__:expired", "active")]


def test_evicted(srv, w, proto):
    w.config_set("notify-keyspace-events", "Ee")
    w.config_set("maxmemory-policy", "allkeys-lru")
    _, p = subscribe(srv, proto)
    try:
        w.set("foo", "bar")
        w.config_set("maxmemory", 1)
        deadline = time.time() + 20
        m = None
        while time.time() < deadline:
            m = p.get_message(timeout=1)
            if m and m["type"] == "pmessage":
                break
    finally:
        w.config_set("maxmemory", 0)
        w.config_set("maxmemory-policy", "noeviction")
    assert m["channel"] == "__keyevent@0__:evicted"
    assert m["data"] == "foo"


def parse_array(reply):
    """The bulk strings of a flat RESP2 array / RESP3 push (raw bytes) as str."""
    parts = reply.split(b"\r\n")
    return [p.decode() for p in parts[2::2]]


@pytest.mark.skipif(TARGET == "redis", reason="FDB's I/O threads")
def test_writers_on_both_threads(srv, w, proto):
    """Writers on both I/O threads, subscribers on both: each subscriber gets every writer's
    events, each writer's in the order it made them."""
    w.config_set("notify-keyspace-events", "KA")
    writers, subs = {}, {}
    opened = []
    for _ in range(32):
        c = Raw(srv.port)
        opened.append(c)
        c.cmd("CLIENT", "INFO")
        t = re.search(r"io-thread=(\d+)", c.read_reply().decode()).group(1)
        if t not in writers:
            writers[t] = c
        elif t not in subs:
            if proto == 3:
                c.cmd("HELLO", "3")
                c.read_reply()
            c.cmd("PSUBSCRIBE", "__key*@*__:*")
            c.read_reply()
            subs[t] = c
        if len(writers) == 2 and len(subs) == 2:
            break
    assert len(writers) == 2 and len(subs) == 2
    n = 200
    for i in range(n):
        for t, c in writers.items():
            c.cmd("RPUSH", "list-" + t, i)
    for c in writers.values():
        for i in range(n):
            assert c.read_reply().startswith(b":")
        c.cmd("PUBLISH", MARK, "end")
        assert c.read_reply() == b":2\r\n"
    for p in subs.values():
        events = {t: [] for t in writers}
        marks = 0
        while marks < 2:
            kind, pattern, channel, data = parse_array(p.read_reply())
            if channel == MARK:
                marks += 1
            elif channel.startswith("__keyspace@0__:list-"):
                events[channel.split("list-")[1]].append(data)
        for t in writers:
            assert events[t] == ["rpush"] * n
    for c in opened:
        c.close()


def test_client_reply(srv):
    r = Raw(srv.port)
    r.cmd("CLIENT", "REPLY", "OFF")
    r.cmd("SET", "a", "1")
    r.cmd("CLIENT", "REPLY", "ON")
    assert r.read_reply() == b"+OK\r\n"
    r.cmd("CLIENT", "REPLY", "SKIP")
    r.cmd("INCR", "a")  # skipped
    r.cmd("INCR", "a")
    assert r.read_reply() == b":3\r\n"
    r.cmd("CLIENT", "REPLY", "MAYBE")
    assert r.read_reply() == b"-ERR syntax error\r\n"
    # Subscription replies and messages are pushes: sent with replies off.
    r.cmd("CLIENT", "REPLY", "OFF")
    r.cmd("SUBSCRIBE", "ch")
    assert r.read_reply() == b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
    c = srv.client()
    assert c.publish("ch", "hi") == 1
    assert r.read_reply() == b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
    r.cmd("PING")  # dropped
    r.cmd("UNSUBSCRIBE")
    assert r.read_reply() == b"*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n"
    r.close()
    c.close()


async def test_asyncio_pubsub(srv, w, proto):
    """redis.asyncio's pubsub object receives the events of another client's writes."""
    import redis.asyncio
    w.config_set("notify-keyspace-events", "KEA")
    c = redis.asyncio.Redis(host="127.0.0.1", port=srv.port, protocol=proto,
                            decode_responses=True)
    p = c.pubsub()
    await p.subscribe("__keyevent@0__:hset", MARK)
    for _ in range(2):
        assert (await p.get_message(timeout=10))["type"] == "subscribe"
    w.hset("h", "f", "v")
    w.publish(MARK, "end")
    got = []
    while True:
        m = await p.get_message(timeout=10)
        assert m is not None
        if m["channel"] == MARK:
            break
        got.append((m["channel"], m["data"]))
    assert got == [("__keyevent@0__:hset", "h")]
    await p.aclose()
    await c.aclose()
