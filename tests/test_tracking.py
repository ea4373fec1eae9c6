"""Client-side caching (CLIENT TRACKING) against the real server (--threads 2): RESP3
`invalidate` pushes and RESP2 redirection to `__redis__:invalidate`, BCAST with prefixes,
NOLOOP, OPTIN / OPTOUT with CLIENT CACHING, invalidation on writes from another I/O thread,
on EXEC, on expiry and on FLUSHALL (null), the tracking table's bound, CLIENT TRACKINGINFO and
GETREDIR, and Redis's error texts. Raw sockets, so the bytes are checked exactly.
"""

import re
import time

import pytest

from conftest import TARGET, Raw, Server


@pytest.fixture(scope="module")
def srv():
    s = Server()
    yield s
    s.close()


def bulk(s):
    s = s if isinstance(s, bytes) else s.encode()
    return b"$%d\r\n%s\r\n" % (len(s), s)


def invalidate(*keys, null=False):
    body = b"_\r\n" if null else b"*%d\r\n" % len(keys) + b"".join(bulk(k) for k in keys)
    return b">2\r\n" + bulk("invalidate") + body


def redirected(*keys, null=False):
    body = b"$-1\r\n" if null else b"*%d\r\n" % len(keys) + b"".join(bulk(k) for k in keys)
    return b"*3\r\n" + bulk("message") + bulk("__redis__:invalidate") + body


def call(c, *args):
    c.cmd(*args)
    return c.read_reply()


def resp3(srv):
    c = Raw(srv.port)
    assert call(c, "HELLO", "3").startswith(b"%")
    return c


def thread_of(c):
    line = call(c, "CLIENT", "INFO").decode()
    m = re.search(r"io-thread=(\d+)", line)
    return m.group(1) if m else None


def on_other_thread(srv, c):
    """A raw connection served by another I/O thread than c's (FDB puts each new connection
    on the thread serving the fewest)."""
    mine = thread_of(c)
    spare = []
    for _ in range(8):
        o = Raw(srv.port)
        if TARGET == "redis" or thread_of(o) != mine:
            for s in spare:
                s.close()
            return o
        spare.append(o)
    raise AssertionError("no connection on another thread")


def client_id(c):
    return int(call(c, "CLIENT", "ID")[1:-2])


@pytest.fixture
def w(srv):
    c = Raw(srv.port)
    assert call(c, "FLUSHALL") == b"+OK\r\n"
    call(c, "CONFIG", "SET", "tracking-table-max-keys", "1000000")
    yield c
    c.close()


def test_resp3_invalidation_from_another_thread(srv, w):
    t = resp3(srv)
    writer = on_other_thread(srv, t)
    assert call(t, "CLIENT", "TRACKING", "ON") == b"+OK\r\n"
    call(writer, "SET", "a", "1")
    call(writer, "SET", "b", "1")
    assert call(t, "GET", "a") == bulk("1")
    call(writer, "INCR", "b")  # not read: no message
    call(writer, "INCR", "a")
    assert t.read_reply() == invalidate("a")
    # Told once: a second change is not sent until the key is read again.
    call(writer, "INCR", "a")
    assert call(t, "PING") == b"+PONG\r\n"
    # The client's own write: after its reply.
    call(t, "GET", "a")
    assert call(t, "DEL", "a") == b":1\r\n"
    assert t.read_reply() == invalidate("a")


def test_resp2_redirect(srv, w):
    target = Raw(srv.port)
    tid = client_id(target)
    call(target, "SUBSCRIBE", "__redis__:invalidate")
    t = Raw(srv.port)
    assert call(t, "CLIENT", "TRACKING", "ON", "REDIRECT", tid) == b"+OK\r\n"
    assert call(t, "CLIENT", "GETREDIR") == b":%d\r\n" % tid
    call(t, "MGET", "k1", "k2")
    call(w, "SET", "k2", "x")
    assert target.read_reply() == redirected("k2")
    call(w, "FLUSHALL")
    assert target.read_reply() == redirected(null=True)
    assert call(t, "CLIENT", "TRACKING", "OFF") == b"+OK\r\n"
    assert call(t, "CLIENT", "GETREDIR") == b":-1\r\n"


def test_bcast_prefixes_and_exec(srv, w):
    t = resp3(srv)
    assert call(t, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a:", "PREFIX", "b:") == \
        b"+OK\r\n"
    w.send(b"MULTI\r\nINCR a:1\r\nINCR a:2\r\nINCR b:1\r\nINCR c:1\r\nEXEC\r\n")
    for _ in range(6):
        w.read_reply()
    # One message per prefix for the whole transaction.
    got = {t.read_reply(), t.read_reply()}
    assert got == {invalidate("a:1", "a:2"), invalidate("b:1")}
    assert call(t, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a") .startswith(
        b"-ERR Prefix 'a' overlaps with an existing prefix 'a:'")


def test_noloop(srv, w):
    t = resp3(srv)
    assert call(t, "CLIENT", "TRACKING", "ON", "NOLOOP") == b"+OK\r\n"
    call(t, "MGET", "x", "y")
    call(t, "SET", "x", "1")  # its own write: not told
    call(w, "SET", "y", "1")
    assert t.read_reply() == invalidate("y")


def test_optin_optout(srv, w):
    t = resp3(srv)
    assert call(t, "CLIENT", "TRACKING", "ON", "OPTIN") == b"+OK\r\n"
    call(t, "GET", "plain")  # not remembered
    assert call(t, "CLIENT", "CACHING", "YES") == b"+OK\r\n"
    call(t, "GET", "cached")
    call(w, "SET", "plain", "1")
    call(w, "SET", "cached", "1")
    assert t.read_reply() == invalidate("cached")
    assert call(t, "CLIENT", "CACHING", "NO").startswith(
        b"-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
    call(t, "CLIENT", "TRACKING", "OFF")
    assert call(t, "CLIENT", "TRACKING", "ON", "OPTOUT") == b"+OK\r\n"
    assert call(t, "CLIENT", "CACHING", "NO") == b"+OK\r\n"
    call(t, "GET", "skipped")
    call(t, "GET", "kept")
    call(w, "SET", "skipped", "1")
    call(w, "SET", "kept", "1")
    assert t.read_reply() == invalidate("kept")


def test_expiry_and_flush(srv, w):
    t = resp3(srv)
    call(t, "CLIENT", "TRACKING", "ON")
    call(w, "SET", "soon", "1", "PX", "50")
    call(t, "GET", "soon")
    assert t.read_reply() == invalidate("soon")  # the active cycle deleted it
    call(t, "GET", "other")
    call(w, "FLUSHDB")
    assert t.read_reply() == invalidate(null=True)


def test_table_bound(srv, w):
    t = resp3(srv)
    call(t, "CLIENT", "TRACKING", "ON")
    call(w, "CONFIG", "SET", "tracking-table-max-keys", "2")
    for k in ("k1", "k2", "k3"):
        call(t, "GET", k)
    # One key had to go; its client is told at once.
    msg = t.read_reply()
    assert msg in (invalidate("k1"), invalidate("k2"), invalidate("k3"))
    info = call(w, "INFO", "stats").decode()
    assert "tracking_total_keys:2" in info


def test_trackinginfo_and_errors(srv, w):
    t = resp3(srv)
    assert call(t, "CLIENT", "TRACKINGINFO") == (
        b"%3\r\n" + bulk("flags") + b"~1\r\n" + bulk("off") + bulk("redirect") + b":-1\r\n" +
        bulk("prefixes") + b"*0\r\n")
    call(t, "CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP", "PREFIX", "p")
    assert call(t, "CLIENT", "TRACKINGINFO") == (
        b"%3\r\n" + bulk("flags") + b"~3\r\n" + bulk("on") + bulk("bcast") + bulk("noloop") +
        bulk("redirect") + b":0\r\n" + bulk("prefixes") + b"*1\r\n" + bulk("p"))
    assert call(t, "CLIENT", "TRACKING", "ON").startswith(b"-ERR You can't switch BCAST mode")
    c = Raw(srv.port)
    assert call(c, "CLIENT", "TRACKING", "ON", "PREFIX", "x") == \
        b"-ERR PREFIX option requires BCAST mode to be enabled\r\n"
    assert call(c, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "FOO", "PREFIX", "FOOBAR") == \
        (b"-ERR Prefix 'FOO' overlaps with another provided prefix 'FOOBAR'. Prefixes for a "
         b"single client must not overlap.\r\n")
    assert call(c, "CLIENT", "TRACKING", "ON", "REDIRECT", "999999") == \
        b"-ERR The client ID you want redirect to does not exist\r\n"
    assert call(c, "CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT") == \
        b"-ERR You can't specify both OPTIN mode and OPTOUT mode\r\n"
    assert call(c, "CLIENT", "CACHING", "YES") == (
        b"-ERR CLIENT CACHING can be called only when the client is in tracking mode with "
        b"OPTIN or OPTOUT mode enabled\r\n")


def test_redirect_broken(srv, w):
    target = Raw(srv.port)
    tid = client_id(target)
    t = resp3(srv)
    call(t, "CLIENT", "TRACKING", "ON", "REDIRECT", tid)
    call(t, "GET", "key1")
    target.close()
    # The target's close is handled by its thread: wait until the server has dropped it.
    while call(w, "CLIENT", "LIST", "ID", tid) != b"$0\r\n\r\n":
        time.sleep(0.01)
    call(w, "SET", "key1", "2")
    assert t.read_reply() == b">2\r\n" + bulk("tracking-redir-broken") + b":%d\r\n" % tid
    info = call(t, "CLIENT", "TRACKINGINFO")
    assert bulk("broken_redirect") in info


def test_no_stale_keys_after_last_client_leaves(srv, w):
    """Regression: with no tracking client left the invalidation sink is off and misses a
    FLUSHALL; the table must not keep what the last client read before."""
    t = resp3(srv)
    call(t, "CLIENT", "TRACKING", "ON")
    call(t, "GET", "old")
    call(t, "CLIENT", "TRACKING", "OFF")
    call(w, "FLUSHALL")  # nobody tracks: not seen by the table
    call(t, "CLIENT", "TRACKING", "ON")
    call(w, "SET", "old", "1")  # t has not read it since: no message
    call(t, "GET", "new")
    call(w, "SET", "new", "1")
    assert t.read_reply() == invalidate("new")


def test_scripts_track_their_declared_keys_only_after_a_read(srv, w):
    # As Redis 7.0: a script that ran a read-only command makes its caller track the keys it
    # declared; a script that only wrote, or ran no key command, tracks nothing.
    t = resp3(srv)
    assert call(t, "CLIENT", "TRACKING", "ON") == b"+OK\r\n"
    call(t, "EVAL", "redis.call('set', 'k3{t}', 'bar')", "2", "k1{t}", "k2{t}")
    call(t, "EVAL_RO", "redis.call('ping')", "2", "k1{t}", "k2{t}")
    call(w, "MSET", "k2{t}", "1", "k1{t}", "1")
    assert call(t, "PING") == b"+PONG\r\n"  # nothing was pending
    call(t, "EVAL", "redis.call('get', 'k3{t}')", "2", "k1{t}", "k2{t}")
    call(w, "MSET", "k2{t}", "2", "k1{t}", "2")
    assert t.read_reply() == invalidate("k2{t}")
    assert t.read_reply() == invalidate("k1{t}")
    call(t, "EVAL_RO", "redis.call('get', 'k1{t}')", "2", "k1{t}", "k2{t}")
    call(w, "MSET", "k2{t}", "3", "k1{t}", "3")
    assert t.read_reply() == invalidate("k2{t}")
    assert t.read_reply() == invalidate("k1{t}")


def info_field(c, section, field):
    text = call(c, "INFO", section).decode()
    m = re.search(r"^%s:(\S+)" % re.escape(field), text, re.M)
    return m.group(1) if m else None


def test_eviction_invalidation_comes_before_the_reply(server_factory):
    # A command that finds memory over maxmemory evicts before it runs (Redis's
    # processCommand): the evicted key's invalidation reaches its tracking client before that
    # command's reply, as in Redis. Before, it came after the reply, where a client reading
    # replies in order took the push for the reply.
    srv = server_factory()
    t = resp3(srv)
    assert call(t, "CLIENT", "TRACKING", "ON") == b"+OK\r\n"
    used = int(info_field(t, "memory", "used_memory"))
    used -= int(info_field(t, "memory", "mem_not_counted_for_evict") or 0)
    assert call(t, "CONFIG", "SET", "maxmemory", str(used + 100 * 1024)) == b"+OK\r\n"
    assert call(t, "CONFIG", "SET", "maxmemory-policy", "volatile-random") == b"+OK\r\n"
    assert call(t, "SETEX", "volatile-key", "10000", "x") == b"+OK\r\n"
    assert call(t, "GET", "volatile-key") == bulk("x")
    assert call(t, "SETBIT", "big-key", "1600000", "0") == b":0\r\n"  # ~200 KB: over the limit
    t.cmd("GETBIT", "big-key", "0")
    assert t.read_reply() == invalidate("volatile-key")
    assert t.read_reply() == b":0\r\n"
    assert call(t, "EXISTS", "volatile-key") == b":0\r\n"
    call(t, "CONFIG", "SET", "maxmemory", "0")
    t.close()


def test_key_written_then_read_in_exec_stays_tracked_without_a_message(srv, w):
    # Inside EXEC a write and then a read of the same key: the read remembers the key after the
    # write, so (as in Redis) the client is not told of its own earlier write; it still tracks
    # the key, so a later change by another client is told. Before, the EXEC's commit (which
    # comes after the read) invalidated the key for the client that had just read it.
    t = resp3(srv)
    assert call(t, "CLIENT", "TRACKING", "ON") == b"+OK\r\n"
    assert call(t, "MULTI") == b"+OK\r\n"
    assert call(t, "SET", "wr", "1") == b"+QUEUED\r\n"
    assert call(t, "GET", "wr") == b"+QUEUED\r\n"
    assert call(t, "EXEC") == b"*2\r\n+OK\r\n" + bulk("1")
    assert call(t, "PING") == b"+PONG\r\n"  # no invalidation came before it
    call(w, "SET", "wr", "2")
    assert t.read_reply() == invalidate("wr")
    t.close()
