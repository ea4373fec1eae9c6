"""Pub/sub against the real server (--threads 2): the SUBSCRIBE family, PUBLISH, SPUBLISH and
PUBSUB with Redis 7's exact replies (raw sockets), RESP2 subscribed mode and RESP3 pushes,
redis-py's pubsub() in both protocols (sync and asyncio), redis-cli, subscribers and
publishers on both I/O threads, the pubsub output buffer limit, and clients that close while
messages to them are in flight.
"""

import asyncio
import re
import socket
import subprocess
import threading
import time

import pytest
import redis
import redis.asyncio

from conftest import TARGET, Raw, encode_command


def bulk(s):
    s = s if isinstance(s, bytes) else s.encode()
    return b"$%d\r\n%s\r\n" % (len(s), s)


def arr(kind, *items, push=False):
    head = b">" if push else b"*"
    out = head + b"%d\r\n" % (len(items) + 1) + bulk(kind)
    for i in items:
        if isinstance(i, int):
            out += b":%d\r\n" % i
        elif i is None:
            out += b"$-1\r\n"
        else:
            out += bulk(i)
    return out


def names(reply):
    """The bulk strings of a flat array reply, as a set."""
    parts = reply.split(b"\r\n")
    assert parts[0].startswith(b"*")
    return {p.decode() for p in parts[2::2] if p}


def client_field(r, field):
    """The CLIENT LIST field of the connection r (a Raw) by its CLIENT ID."""
    r.cmd("CLIENT", "ID")
    cid = int(r.read_reply()[1:-2])
    r.cmd("CLIENT", "LIST", "ID", cid)
    line = r.read_reply().decode()
    m = re.search(r"\b%s=(\S*)" % re.escape(field), line)
    return m.group(1) if m else None


def spread(srv, n):
    """n raw connections: the first n - n // 2 on one of the server's two I/O threads, the
    other n // 2 on the other one (FDB's CLIENT LIST io-thread field, as Redis 8's, says which).

    FDB hands each accepted connection to the I/O thread serving the fewest, so connections
    alternate; enough are opened to pick from, and the spare ones are closed. Redis has one
    thread: its connections are returned as opened."""
    if TARGET == "redis":
        return [Raw(srv.port) for _ in range(n)]
    by_thread = {}
    spare = []
    for _ in range(4 * n):
        c = Raw(srv.port)
        by_thread.setdefault(client_field(c, "io-thread"), []).append(c)
        if len(by_thread) == 2 and all(len(v) >= n - n // 2 for v in by_thread.values()):
            break
    assert len(by_thread) == 2, by_thread.keys()
    a, b = by_thread.values()
    conns = a[:n - n // 2] + b[:n // 2]
    spare = a[n - n // 2:] + b[n // 2:]
    for c in spare:
        c.close()
    return conns


@pytest.fixture
def srv2(server_factory):
    """A server of its own with two I/O threads and DEBUG allowed from loopback (spread())."""
    return server_factory("--enable-debug-command", "local")


@pytest.fixture
def raws(server):
    made = []

    def make():
        c = Raw(server.port)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()
    # A closed connection's subscriptions go when its I/O thread sees the close: the next test
    # (on the same server) starts once they are gone, not with them still listed.
    if made:
        probe = Raw(server.port)
        deadline = time.time() + 10
        while time.time() < deadline:
            probe.cmd("PUBSUB", "CHANNELS")
            channels = probe.read_reply()
            probe.cmd("PUBSUB", "SHARDCHANNELS")
            shard_channels = probe.read_reply()
            probe.cmd("PUBSUB", "NUMPAT")
            if channels == shard_channels == b"*0\r\n" and probe.read_reply() == b":0\r\n":
                break
            time.sleep(0.01)
        probe.close()


# --- Exact replies (RESP2) --------------------------------------------------------------------


def test_subscribe_publish_exact_bytes(raws):
    sub, pub = raws(), raws()
    sub.cmd("SUBSCRIBE", "ch1", "ch2")
    assert sub.read_reply() == arr("subscribe", "ch1", 1)
    assert sub.read_reply() == arr("subscribe", "ch2", 2)
    sub.cmd("PSUBSCRIBE", "ch*")
    assert sub.read_reply() == arr("psubscribe", "ch*", 3)
    pub.cmd("PUBLISH", "ch1", "hello")
    assert pub.read_reply() == b":2\r\n"  # the channel and the pattern
    assert sub.read_reply() == arr("message", "ch1", "hello")
    assert sub.read_reply() == arr("pmessage", "ch*", "ch1", "hello")
    pub.cmd("PUBLISH", "other", "x")
    assert pub.read_reply() == b":0\r\n"
    sub.cmd("UNSUBSCRIBE", "ch1", "nope")
    assert sub.read_reply() == arr("unsubscribe", "ch1", 2)
    assert sub.read_reply() == arr("unsubscribe", "nope", 2)
    sub.cmd("PUNSUBSCRIBE")
    assert sub.read_reply() == arr("punsubscribe", "ch*", 1)
    sub.cmd("UNSUBSCRIBE")
    assert sub.read_reply() == arr("unsubscribe", "ch2", 0)
    # Subscribed to nothing: still a reply, with a null name.
    sub.cmd("UNSUBSCRIBE")
    assert sub.read_reply() == arr("unsubscribe", None, 0)
    sub.cmd("PUNSUBSCRIBE")
    assert sub.read_reply() == arr("punsubscribe", None, 0)
    sub.cmd("SUNSUBSCRIBE")
    assert sub.read_reply() == arr("sunsubscribe", None, 0)
    sub.cmd("PING")
    assert sub.read_reply() == b"+PONG\r\n"


def test_subscribe_same_channel_twice_counts_once(raws):
    sub, pub = raws(), raws()
    sub.cmd("SUBSCRIBE", "c", "c", "c")
    for _ in range(3):
        assert sub.read_reply() == arr("subscribe", "c", 1)
    pub.cmd("PUBLISH", "c", "m")
    assert pub.read_reply() == b":1\r\n"
    assert sub.read_reply() == arr("message", "c", "m")


def test_pattern_receivers_counted_per_pattern(raws):
    sub, pub = raws(), raws()
    sub.cmd("PSUBSCRIBE", "a*", "a?c", "x*")
    for _ in range(3):
        sub.read_reply()
    sub.cmd("SUBSCRIBE", "abc")
    assert sub.read_reply() == arr("subscribe", "abc", 4)
    pub.cmd("PUBLISH", "abc", "v")
    assert pub.read_reply() == b":3\r\n"
    got = [sub.read_reply() for _ in range(3)]
    assert got[0] == arr("message", "abc", "v")  # the channel first, then the patterns
    assert sorted(got[1:]) == sorted(
        [arr("pmessage", "a*", "abc", "v"), arr("pmessage", "a?c", "abc", "v")])


def test_shard_channels_are_their_own_namespace(raws):
    sub, pub = raws(), raws()
    sub.cmd("SSUBSCRIBE", "s1", "s2")
    assert sub.read_reply() == arr("ssubscribe", "s1", 1)
    assert sub.read_reply() == arr("ssubscribe", "s2", 2)
    sub.cmd("SUBSCRIBE", "s1")
    assert sub.read_reply() == arr("subscribe", "s1", 1)  # channels + patterns only
    pub.cmd("SPUBLISH", "s1", "m")
    assert pub.read_reply() == b":1\r\n"
    assert sub.read_reply() == arr("smessage", "s1", "m")
    pub.cmd("PUBLISH", "s1", "n")
    assert pub.read_reply() == b":1\r\n"
    assert sub.read_reply() == arr("message", "s1", "n")
    pub.cmd("PUBSUB", "SHARDCHANNELS")
    assert names(pub.read_reply()) == {"s1", "s2"}
    pub.cmd("PUBSUB", "SHARDNUMSUB", "s1", "zz")
    assert pub.read_reply() == b"*4\r\n" + bulk("s1") + b":1\r\n" + bulk("zz") + b":0\r\n"
    sub.cmd("SUNSUBSCRIBE", "s1")
    assert sub.read_reply() == arr("sunsubscribe", "s1", 1)
    sub.cmd("SUNSUBSCRIBE")
    assert sub.read_reply() == arr("sunsubscribe", "s2", 0)
    pub.cmd("SPUBLISH", "s1", "m")
    assert pub.read_reply() == b":0\r\n"


def test_pubsub_introspection(raws):
    sub, pub = raws(), raws()
    sub.cmd("SUBSCRIBE", "news.a", "news.b", "misc")
    for _ in range(3):
        sub.read_reply()
    sub.cmd("PSUBSCRIBE", "news.*", "n*")
    for _ in range(2):
        sub.read_reply()
    other = raws()
    other.cmd("PSUBSCRIBE", "news.*")
    other.read_reply()
    # Redis lists channels in its dict's order: compare as sets.
    pub.cmd("PUBSUB", "CHANNELS")
    assert names(pub.read_reply()) == {"misc", "news.a", "news.b"}
    pub.cmd("PUBSUB", "CHANNELS", "news.*")
    assert names(pub.read_reply()) == {"news.a", "news.b"}
    pub.cmd("PUBSUB", "NUMSUB", "news.a", "nothing")
    assert pub.read_reply() == b"*4\r\n" + bulk("news.a") + b":1\r\n" + bulk("nothing") + b":0\r\n"
    pub.cmd("PUBSUB", "NUMSUB")
    assert pub.read_reply() == b"*0\r\n"
    pub.cmd("PUBSUB", "NUMPAT")
    assert pub.read_reply() == b":2\r\n"  # unique patterns
    pub.cmd("PUBSUB", "NOPE")
    assert pub.read_reply() == b"-ERR unknown subcommand 'NOPE'. Try PUBSUB HELP.\r\n"
    pub.cmd("PUBSUB", "NUMPAT", "x")
    assert pub.read_reply() == b"-ERR wrong number of arguments for 'pubsub|numpat' command\r\n"
    pub.cmd("PUBLISH", "x")
    assert pub.read_reply() == b"-ERR wrong number of arguments for 'publish' command\r\n"
    pub.cmd("SUBSCRIBE")
    assert pub.read_reply() == b"-ERR wrong number of arguments for 'subscribe' command\r\n"
    pub.cmd("INFO", "stats")
    info = pub.read_reply().decode()
    assert "pubsub_channels:3\r\n" in info
    assert "pubsub_patterns:2\r\n" in info
    assert "pubsubshard_channels:0\r\n" in info


def test_client_list_fields(raws, server):
    sub, me = raws(), raws()
    sub.cmd("SUBSCRIBE", "a", "b")
    sub.read_reply(), sub.read_reply()
    sub.cmd("PSUBSCRIBE", "p*")
    sub.read_reply()
    sub.cmd("SSUBSCRIBE", "s")
    sub.read_reply()
    # sub is in subscribed mode: read its fields from another connection.
    r = server.client()
    try:
        clients = {c["id"]: c for c in r.client_list()}
        subs = [c for c in clients.values() if c["sub"] == "2"]
        assert len(subs) == 1
        c = subs[0]
        assert (c["psub"], c["ssub"]) == ("1", "1")
        assert "P" in c["flags"]
        ids = {c["id"] for c in r.client_list(_type="pubsub")}
        assert ids == {c["id"]}
        assert c["id"] not in {x["id"] for x in r.client_list(_type="normal")}
    finally:
        r.close()


# --- RESP2 subscribed mode -------------------------------------------------------------------


def test_resp2_subscribed_mode_refuses_other_commands(raws):
    sub = raws()
    sub.cmd("SUBSCRIBE", "c")
    sub.read_reply()
    sub.cmd("GET", "k")
    assert sub.read_reply() == (
        b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
        b"RESET are allowed in this context\r\n")
    sub.cmd("CONFIG", "GET", "port")
    assert sub.read_reply() == (
        b"-ERR Can't execute 'config|get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
        b"QUIT / RESET are allowed in this context\r\n")
    # PING answers in the shape of a message.
    sub.cmd("PING")
    assert sub.read_reply() == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
    sub.cmd("PING", "hi")
    assert sub.read_reply() == b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n"
    # Unknown commands and wrong arity keep their own errors.
    sub.cmd("NOSUCH")
    assert sub.read_reply().startswith(b"-ERR unknown command 'NOSUCH'")
    sub.cmd("QUIT")
    assert sub.read_reply() == b"+OK\r\n"
    assert sub.closed()


def test_reset_leaves_every_subscription(raws):
    sub, pub = raws(), raws()
    sub.cmd("SUBSCRIBE", "c")
    sub.read_reply()
    sub.cmd("PSUBSCRIBE", "c*")
    sub.read_reply()
    sub.cmd("SSUBSCRIBE", "s")
    sub.read_reply()
    sub.cmd("RESET")
    assert sub.read_reply() == b"+RESET\r\n"
    sub.cmd("GET", "k")  # out of subscribed mode
    assert sub.read_reply() == b"$-1\r\n"
    pub.cmd("PUBLISH", "c", "m")
    assert pub.read_reply() == b":0\r\n"
    pub.cmd("SPUBLISH", "s", "m")
    assert pub.read_reply() == b":0\r\n"
    pub.cmd("PUBSUB", "NUMPAT")
    assert pub.read_reply() == b":0\r\n"


def test_close_leaves_every_subscription(raws, server):
    sub, pub = raws(), raws()
    sub.cmd("SUBSCRIBE", "gone")
    sub.read_reply()
    sub.cmd("PSUBSCRIBE", "gone*")
    sub.read_reply()
    sub.close()
    deadline = time.time() + 5
    while time.time() < deadline:
        pub.cmd("PUBLISH", "gone", "m")
        if pub.read_reply() == b":0\r\n":
            break
        time.sleep(0.01)
    else:
        pytest.fail("subscriptions outlived the connection")
    pub.cmd("PUBSUB", "NUMPAT")
    assert pub.read_reply() == b":0\r\n"


# --- RESP3 -----------------------------------------------------------------------------------


def test_resp3_pushes_interleave_with_replies(raws):
    sub, pub = raws(), raws()
    sub.cmd("HELLO", "3")
    sub.read_reply()
    sub.cmd("SUBSCRIBE", "c")
    assert sub.read_reply() == arr("subscribe", "c", 1, push=True)
    sub.cmd("SET", "k", "v")  # any command is allowed
    assert sub.read_reply() == b"+OK\r\n"
    sub.cmd("PING")
    assert sub.read_reply() == b"+PONG\r\n"
    # Publishing to itself: FDB sends the push after PUBLISH's reply, as Redis 7.2 (7.0 sends
    # it before).
    sub.cmd("PUBLISH", "c", "self")
    assert sorted([sub.read_reply(), sub.read_reply()]) == sorted(
        [arr("message", "c", "self", push=True), b":1\r\n"])
    pub.cmd("PUBLISH", "c", "other")
    assert pub.read_reply() == b":1\r\n"
    assert sub.read_reply() == arr("message", "c", "other", push=True)
    sub.cmd("GET", "k")
    assert sub.read_reply() == bulk("v")
    sub.cmd("UNSUBSCRIBE")
    assert sub.read_reply() == arr("unsubscribe", "c", 0, push=True)


def test_resp3_publish_to_self_inside_exec_keeps_the_protocol(raws):
    if TARGET == "redis":
        pytest.skip("Redis 7.0 puts the push inside EXEC's array (fixed in 7.2)")
    c = raws()
    c.cmd("HELLO", "3")
    c.read_reply()
    c.cmd("SUBSCRIBE", "foo")
    c.read_reply()
    for cmd in (("MULTI",), ("PING", "abc"), ("PUBLISH", "foo", "bar"), ("PUBLISH", "foo", "vaz"),
                ("PING", "def")):
        c.cmd(*cmd)
        c.read_reply()
    c.cmd("EXEC")
    assert c.read_reply() == b"*4\r\n" + bulk("abc") + b":1\r\n:1\r\n" + bulk("def")
    assert c.read_reply() == arr("message", "foo", "bar", push=True)
    assert c.read_reply() == arr("message", "foo", "vaz", push=True)
    c.cmd("PUBLISH", "foo", "x")
    assert c.read_reply() == b":1\r\n"
    assert c.read_reply() == arr("message", "foo", "x", push=True)


# --- redis-py --------------------------------------------------------------------------------


def wait_message(p, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = p.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if m is not None:
            return m
    raise AssertionError("no message")


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_pubsub(server, protocol):
    sub = server.client(protocol=protocol)
    pub = server.client(protocol=protocol)
    try:
        p = sub.pubsub()
        p.subscribe("news")
        p.psubscribe("ev.*")
        p.ssubscribe("shard")
        for _ in range(3):
            assert p.get_message(timeout=2)["type"] in ("subscribe", "psubscribe", "ssubscribe")
        assert pub.publish("news", "n1") == 1
        assert pub.publish("ev.x", "e1") == 1
        assert pub.spublish("shard", "s1") == 1
        m = wait_message(p)
        assert (m["type"], m["channel"], m["data"]) == ("message", "news", "n1")
        m = wait_message(p)
        assert (m["type"], m["pattern"], m["channel"], m["data"]) == ("pmessage", "ev.*", "ev.x",
                                                                      "e1")
        m = p.get_sharded_message(ignore_subscribe_messages=True, timeout=5)
        assert (m["type"], m["channel"], m["data"]) == ("smessage", "shard", "s1")
        assert pub.pubsub_numsub("news") == [("news", 1)]
        assert pub.pubsub_numpat() == 1
        p.unsubscribe()
        p.punsubscribe()
        p.sunsubscribe()
        p.close()
        # The subscriber's connection may be served by another I/O thread than the publisher's:
        # its UNSUBSCRIBE (sent without waiting) and close take effect when that thread gets to
        # them.
        deadline = time.time() + 5
        while pub.pubsub_numsub("news") != [("news", 0)] and time.time() < deadline:
            time.sleep(0.01)
        assert pub.publish("news", "n2") == 0
    finally:
        sub.close()
        pub.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_asyncio_pubsub(server, protocol):
    async def run():
        sub = redis.asyncio.Redis(port=server.port, protocol=protocol, decode_responses=True)
        pub = redis.asyncio.Redis(port=server.port, protocol=protocol, decode_responses=True)
        p = sub.pubsub()
        await p.subscribe("a")
        assert (await p.get_message(timeout=2))["type"] == "subscribe"
        assert await pub.publish("a", "1") == 1
        m = None
        for _ in range(50):
            m = await p.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if m:
                break
        assert m["data"] == "1"
        await p.aclose()
        await sub.aclose()
        await pub.aclose()

    asyncio.run(run())


def test_redis_cli_subscribe(server):
    proc = subprocess.Popen(["redis-cli", "-p", str(server.port), "subscribe", "clich"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        r = server.client()
        deadline = time.time() + 5
        while r.pubsub_numsub("clich")[0][1] == 0 and time.time() < deadline:
            time.sleep(0.02)
        assert r.publish("clich", "from-test") == 1
        r.close()
        lines = []
        deadline = time.time() + 5
        while "from-test" not in lines and time.time() < deadline:
            lines.append(proc.stdout.readline().decode().strip())
        assert lines[:3] == ["subscribe", "clich", "1"]
        assert lines[-3:] == ["message", "clich", "from-test"]
    finally:
        proc.kill()
        proc.wait()


# --- Across I/O threads ----------------------------------------------------------------------


def test_publish_reaches_subscribers_on_every_thread_in_order(srv2):
    conns = spread(srv2, 8)
    subs, pub_conns = conns[1:4] + conns[5:8], [conns[0], conns[4]]  # a publisher per thread
    try:
        for s in subs:
            s.cmd("SUBSCRIBE", "fan")
            s.read_reply()
            s.cmd("PSUBSCRIBE", "f*")
            s.read_reply()
        # One publisher per thread, publishing concurrently.
        n = 300
        counts = [[] for _ in pub_conns]

        def publish(i, c):
            for k in range(n):
                c.cmd("PUBLISH", "fan", "p%d-%d" % (i, k))
            for k in range(n):
                counts[i].append(c.read_reply())

        threads = [threading.Thread(target=publish, args=(i, c)) for i, c in enumerate(pub_conns)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Exact receiver counts: every subscriber, once for the channel and once for the pattern.
        expected = b":%d\r\n" % (2 * len(subs))
        assert all(c == expected for cs in counts for c in cs)
        for s in subs:
            seen = {0: [], 1: []}
            for _ in range(2 * n * len(pub_conns)):
                rep = s.read_reply()
                payload = rep.rsplit(b"\r\n", 2)[-2].decode()
                i, k = payload[1:].split("-")
                if rep.startswith(b"*3"):
                    seen[int(i)].append(int(k))
            # Per publisher, in publish order.
            for i in range(len(pub_conns)):
                assert seen[i] == list(range(n))
        for c in pub_conns:
            c.close()
    finally:
        for s in subs:
            s.close()


def test_many_subscribers_on_both_threads_redis_py(srv2):
    server = srv2
    subs = []
    blocker = Raw(server.port)
    try:
        for i in range(40):
            if i == 20:  # the next ones land on the other thread, whatever the placement
                blocker.cmd("DEBUG", "SLEEP", "0.5")
                time.sleep(0.05)
            c = server.client()
            p = c.pubsub()
            p.subscribe("many")
            p.get_message(timeout=2)
            subs.append((c, p))
        pub = server.client()
        threads = {c["io-thread"] for c in pub.client_list(_type="pubsub")} \
            if TARGET != "redis" else {"0", "1"}
        assert threads == {"0", "1"}
        assert pub.publish("many", "hello") == 40
        for _, p in subs:
            assert wait_message(p)["data"] == "hello"
        pub.close()
    finally:
        blocker.close()
        for c, p in subs:
            p.close()
            c.close()


# --- Limits and closing ----------------------------------------------------------------------


def small_rcvbuf_raw(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    r = Raw.__new__(Raw)
    r.sock = s
    r.sock.settimeout(10)
    r.buf = b""
    return r


def published_until_gone(pub, channel, payload, limit_s=20):
    deadline = time.time() + limit_s
    while time.time() < deadline:
        for _ in range(50):
            pub.cmd("PUBLISH", channel, payload)
        replies = [pub.read_reply() for _ in range(50)]
        if replies[-1] == b":0\r\n":
            return True
    return False


def test_slow_subscriber_closed_by_hard_limit(server_factory):
    srv = server_factory("--client-output-buffer-limit", "pubsub 256kb 0 0")
    sub = small_rcvbuf_raw(srv.port)
    sub.cmd("SUBSCRIBE", "slow")
    assert sub.read_reply() == arr("subscribe", "slow", 1)
    # The subscriber reads nothing more; the publisher goes on until it is gone.
    pub = Raw(srv.port)
    assert published_until_gone(pub, "slow", "x" * 4096)
    pub.cmd("INFO", "stats")
    info = pub.read_reply()
    if b"client_output_buffer_limit_disconnections" in info:  # Redis 7.2 and FDB
        assert b"client_output_buffer_limit_disconnections:1\r\n" in info
    pub.cmd("PUBSUB", "NUMSUB", "slow")
    assert pub.read_reply() == b"*2\r\n" + bulk("slow") + b":0\r\n"
    assert sub.closed()
    if TARGET != "redis":
        assert "client-output-buffer-limit pubsub, hard limit" in srv.read_log()
    # The server's memory went back (the subscriber's buffer was freed).
    pub.cmd("PING")
    assert pub.read_reply() == b"+PONG\r\n"


def test_slow_subscriber_closed_by_soft_limit(server_factory):
    srv = server_factory("--client-output-buffer-limit", "pubsub 0 64kb 1")
    sub = small_rcvbuf_raw(srv.port)
    sub.cmd("SUBSCRIBE", "soft")
    sub.read_reply()
    pub = Raw(srv.port)
    assert published_until_gone(pub, "soft", "y" * 4096, limit_s=30)
    assert sub.closed()


def test_config_set_pubsub_limit_applies(server_factory):
    srv = server_factory()
    pub = Raw(srv.port)
    pub.cmd("CONFIG", "SET", "client-output-buffer-limit", "pubsub 128kb 0 0")
    assert pub.read_reply() == b"+OK\r\n"
    sub = small_rcvbuf_raw(srv.port)
    sub.cmd("SUBSCRIBE", "c")
    sub.read_reply()
    assert published_until_gone(pub, "c", "z" * 8192)


def test_subscribers_closing_while_messages_in_flight(srv2):
    """Subscribers on both threads come and go (closed mid-stream, RESET, UNSUBSCRIBE) while
    two publishers flood their channel: the server stays up and consistent (run it under
    ASan to see no use-after-free)."""
    stop = threading.Event()
    errors = []

    server = srv2
    pub_conns = spread(srv2, 2)  # a publisher on each thread

    def publisher(c):
        try:
            while not stop.is_set():
                for _ in range(32):
                    c.cmd("PUBLISH", "churn", "m" * 100)
                for _ in range(32):
                    assert c.read_reply().startswith(b":")
            c.close()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    pubs = [threading.Thread(target=publisher, args=(c,)) for c in pub_conns]
    for t in pubs:
        t.start()
    try:
        for i in range(150):
            if i % 50 == 0:  # subscribers on both threads too
                blocker = Raw(server.port)
                blocker.cmd("DEBUG", "SLEEP", "0.2")
            s = Raw(server.port)
            s.cmd("SUBSCRIBE", "churn")
            s.cmd("PSUBSCRIBE", "ch*")
            if i % 3 == 0:
                s.cmd("RESET")
            elif i % 3 == 1:
                s.cmd("UNSUBSCRIBE")
            s.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()  # with messages unread and in flight
    finally:
        stop.set()
        for t in pubs:
            t.join()
    assert not errors
    r = server.client()
    try:
        deadline = time.time() + 5
        while r.pubsub_numsub("churn")[0][1] != 0 and time.time() < deadline:
            time.sleep(0.02)
        # On failure, say whether the subscription outlived its client or the client is still
        # connected (the server missed the reset).
        clients = r.execute_command("CLIENT", "LIST")
        assert r.pubsub_numsub("churn") == [("churn", 0)], clients
        assert r.pubsub_numpat() == 0, clients
        assert r.ping()
    finally:
        r.close()


def test_messages_queued_for_a_stuck_thread_are_bounded(server_factory):
    """The subscriber's thread sleeps (DEBUG SLEEP of another client on it) while a publisher
    on the other thread floods it: what waits in that thread's inbox is bounded by the pubsub
    hard limit, past it messages are dropped and the subscriber is closed once its thread is
    back."""
    if TARGET == "redis":
        pytest.skip("one thread: DEBUG SLEEP stops the publisher too")
    srv = server_factory("--enable-debug-command", "local",
                         "--client-output-buffer-limit", "pubsub 256kb 0 0")
    pub, _, sub, blocker = spread(srv, 4)  # pub on one thread, sub and blocker on the other
    sub.cmd("SUBSCRIBE", "stuck")
    assert sub.read_reply() == arr("subscribe", "stuck", 1)
    blocker.cmd("DEBUG", "SLEEP", "1")
    time.sleep(0.1)
    payload = "s" * 8192
    for _ in range(200):  # 1.6 MB for a client whose limit is 256 KB
        pub.cmd("PUBLISH", "stuck", payload)
    assert all(pub.read_reply() == b":1\r\n" for _ in range(200))  # counted: it is subscribed
    assert blocker.read_reply() == b"+OK\r\n"
    assert sub.closed()
    pub.cmd("PUBSUB", "NUMSUB", "stuck")
    assert pub.read_reply() == b"*2\r\n" + bulk("stuck") + b":0\r\n"
    if TARGET != "redis":
        pub.cmd("INFO", "stats")
        assert b"client_output_buffer_limit_disconnections:1\r\n" in pub.read_reply()


def test_many_subscribers_on_both_threads_each_get_every_message_once(srv2):
    """A publish hands each I/O thread one delivery for all its subscribers of the channel (and
    one per matching pattern): every subscriber, on either thread, gets each message once, in
    publish order, its channel message before its pattern message; PUBLISH counts them all.
    Subscriptions changing between publishes are seen by the next publish."""
    conns = spread(srv2, 8)
    pub, subs = conns[0], conns[1:]
    for s in subs:
        s.cmd("SUBSCRIBE", "fan")
        assert s.read_reply() == arr("subscribe", "fan", 1)
    subs[0].cmd("PSUBSCRIBE", "f*")
    assert subs[0].read_reply() == arr("psubscribe", "f*", 2)
    for i in range(20):
        pub.cmd("PUBLISH", "fan", i)
    assert [pub.read_reply() for _ in range(20)] == [b":8\r\n"] * 20
    for n, s in enumerate(subs):
        for i in range(20):
            assert s.read_reply() == arr("message", "fan", str(i))
            if n == 0:
                assert s.read_reply() == arr("pmessage", "f*", "fan", str(i))
    subs[-1].cmd("UNSUBSCRIBE", "fan")
    assert subs[-1].read_reply() == arr("unsubscribe", "fan", 0)
    pub.cmd("PUBLISH", "fan", "last")
    assert pub.read_reply() == b":7\r\n"
    for s in subs[1:-1]:
        assert s.read_reply() == arr("message", "fan", "last")
    subs[-1].cmd("PING")
    assert subs[-1].read_reply() == b"+PONG\r\n"  # nothing before it


def test_monitor_lines_keep_their_order_with_invalidations_across_threads(srv2):
    """A monitor that also tracks a key, on the other I/O thread from a client that writes the
    key and then runs another command (one pipelined read): the invalidation comes before the
    MONITOR lines of the write and of the next command, as in Redis (which writes the push while
    the write runs). Both take the writer's thread's outbox, in the order they were made; a
    line that went straight to the monitor's inbox arrived before the invalidation."""
    m, x = spread(srv2, 2)
    m.cmd("HELLO", "3")
    m.read_reply()
    m.cmd("CLIENT", "TRACKING", "ON")
    assert m.read_reply() == b"+OK\r\n"
    m.cmd("GET", "k")
    assert m.read_reply() == b"_\r\n"
    m.cmd("MONITOR")
    assert m.read_reply() == b"+OK\r\n"
    x.send(encode_command("SET", "k", "v") + encode_command("PING"))
    assert x.read_reply() == b"+OK\r\n"
    assert x.read_reply() == b"+PONG\r\n"
    assert m.read_reply() == b">2\r\n" + bulk("invalidate") + b"*1\r\n" + bulk("k")
    assert m.read_reply().endswith(b'"SET" "k" "v"\r\n')
    assert m.read_reply().endswith(b'"PING"\r\n')


def test_monitor_on_another_thread_sees_a_script_before_its_commands(srv2):
    """The lines of a script's own commands, told from inside it, reach a monitor on the other
    I/O thread after the script's line and before the next command's, as in Redis: every line
    for that monitor takes the running thread's outbox, the script's commands' too."""
    m, x = spread(srv2, 2)
    m.cmd("MONITOR")
    assert m.read_reply() == b"+OK\r\n"
    x.send(encode_command("EVAL", "redis.call('set', KEYS[1], ARGV[1])", 1, "k", "v")
           + encode_command("GET", "k"))
    assert x.read_reply() == b"$-1\r\n"  # the script returns nothing: nil
    assert x.read_reply() == bulk("v")
    assert b'"EVAL"' in m.read_reply().upper()
    line = m.read_reply()
    assert b"[0 lua]" in line and line.endswith(b'"set" "k" "v"\r\n')
    assert m.read_reply().endswith(b'"GET" "k"\r\n')
