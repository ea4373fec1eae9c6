"""Blocking list commands: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP.

Several connections on a server with --threads 2 (the session server): a blocked client is
woken by a push from another connection (on any thread), served in arrival order, times out
with a null reply, and leaves nothing behind when it disconnects. Every test must pass against
redis-server 7.0.15 (FDB_TEST_TARGET=redis).
"""

import socket
import time

import pytest
import redis

from conftest import Raw


def call(c, *args):
    c.cmd(*args)
    return c.read_reply()


def pending(c, timeout=0.2):
    """True when no reply arrives on c within `timeout` (the client is still blocked)."""
    c.sock.settimeout(timeout)
    try:
        data = c.sock.recv(65536)
    except socket.timeout:
        return True
    finally:
        c.sock.settimeout(10)
    c.buf += data
    return False


@pytest.fixture
def conns(raw):
    """Five raw connections: with two I/O threads, some land on each thread."""
    return [raw] + [raw.more() for _ in range(4)]


def test_blpop_served_by_push_from_other_connection(conns):
    a, b = conns[0], conns[1]
    a.cmd("BLPOP", "q", "0")
    assert pending(a)
    assert call(b, "RPUSH", "q", "x") == b":1\r\n"
    assert a.read_reply() == b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n"
    assert call(b, "EXISTS", "q") == b":0\r\n"


def test_push_from_every_connection_wakes_waiters_on_every_thread(conns):
    # Each connection in turn blocks while another pushes: pushes and waiters cross threads.
    for i, waiter in enumerate(conns):
        pusher = conns[(i + 1) % len(conns)]
        waiter.cmd("BRPOP", "k%d" % i, "5")
        assert pending(waiter, 0.05)
        assert call(pusher, "LPUSH", "k%d" % i, "v%d" % i) == b":1\r\n"
        assert waiter.read_reply() == b"*2\r\n$2\r\nk%d\r\n$2\r\nv%d\r\n" % (i, i)


def test_fifo_order_per_key(conns):
    waiters = conns[:4]
    pusher = conns[4]
    for w in waiters:
        w.cmd("BLPOP", "fifo", "0")
        time.sleep(0.05)  # arrival order
    assert all(pending(w, 0.05) for w in waiters)
    assert call(pusher, "RPUSH", "fifo", "1", "2", "3", "4") == b":4\r\n"
    for i, w in enumerate(waiters):
        assert w.read_reply() == b"*2\r\n$4\r\nfifo\r\n$1\r\n%d\r\n" % (i + 1)
    assert call(pusher, "EXISTS", "fifo") == b":0\r\n"


def test_one_element_serves_only_the_first_waiter(conns):
    a, b, p = conns[0], conns[1], conns[2]
    a.cmd("BLPOP", "one", "0")
    time.sleep(0.05)
    b.cmd("BLPOP", "one", "0")
    assert pending(a) and pending(b)
    assert call(p, "RPUSH", "one", "x") == b":1\r\n"
    assert a.read_reply() == b"*2\r\n$3\r\none\r\n$1\r\nx\r\n"
    assert pending(b)
    assert call(p, "RPUSH", "one", "y") == b":1\r\n"
    assert b.read_reply() == b"*2\r\n$3\r\none\r\n$1\r\ny\r\n"


def test_blpop_returns_at_once_when_data_is_there(conns):
    a = conns[0]
    call(a, "RPUSH", "k2", "v")
    assert call(a, "BLPOP", "k1", "k2", "0") == b"*2\r\n$2\r\nk2\r\n$1\r\nv\r\n"
    call(a, "RPUSH", "k1", "a", "b")
    assert call(a, "BRPOP", "k1", "0") == b"*2\r\n$2\r\nk1\r\n$1\r\nb\r\n"


def test_blpop_first_nonempty_key_in_argument_order(conns):
    a = conns[0]
    call(a, "RPUSH", "b", "1")
    call(a, "RPUSH", "c", "2")
    assert call(a, "BLPOP", "a", "c", "b", "0") == b"*2\r\n$1\r\nc\r\n$1\r\n2\r\n"


def test_waiter_on_several_keys_served_by_the_key_pushed(conns):
    a, p = conns[0], conns[1]
    a.cmd("BLPOP", "m1", "m2", "m3", "0")
    assert pending(a)
    call(p, "RPUSH", "m2", "z")
    assert a.read_reply() == b"*2\r\n$2\r\nm2\r\n$1\r\nz\r\n"
    # The waiter left every key: a later push stays in the list.
    call(p, "RPUSH", "m1", "stay")
    assert call(p, "LRANGE", "m1", "0", "-1") == b"*1\r\n$4\r\nstay\r\n"


def test_timeout_replies_null_array(conns):
    a = conns[0]
    start = time.time()
    assert call(a, "BLPOP", "none", "0.2") == b"*-1\r\n"
    elapsed = time.time() - start
    assert 0.15 <= elapsed < 2
    assert call(a, "BRPOP", "none", "0.1") == b"*-1\r\n"
    assert call(a, "BLMPOP", "0.1", "1", "none", "LEFT") == b"*-1\r\n"
    # BLMOVE times out with a null array too (Redis's replyToBlockedClientTimedOut).
    assert call(a, "BLMOVE", "none", "d", "LEFT", "RIGHT", "0.1") == b"*-1\r\n"
    assert call(a, "BRPOPLPUSH", "none", "d", "0.1") == b"*-1\r\n"


def test_timeout_resp3_is_null(conns):
    a = conns[0]
    call(a, "HELLO", "3")
    assert call(a, "BLPOP", "none", "0.1") == b"_\r\n"
    assert call(a, "BLMOVE", "none", "d", "LEFT", "RIGHT", "0.1") == b"_\r\n"
    assert call(a, "BLMPOP", "0.1", "1", "none", "RIGHT") == b"_\r\n"


def test_served_resp3_reply(conns):
    a, p = conns[0], conns[1]
    call(a, "HELLO", "3")
    a.cmd("BLMPOP", "0", "2", "x1", "x2", "RIGHT", "COUNT", "2")
    assert pending(a)
    call(p, "RPUSH", "x2", "a", "b", "c")
    assert a.read_reply() == b"*2\r\n$2\r\nx2\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n"
    assert call(p, "LRANGE", "x2", "0", "-1") == b"*1\r\n$1\r\na\r\n"


def test_timeout_errors(r):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("BLPOP", "k", "-1")
    assert str(e.value) == "timeout is negative"
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("BLPOP", "k", "abc")
    assert str(e.value) == "timeout is not a float or out of range"
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("BLPOP", "k", "1e300")  # Redis's overflowing conversion
    assert str(e.value) == "timeout is negative"
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("BRPOP", "k", "nan")
    assert str(e.value) == "timeout is not a float or out of range"
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("BLMPOP", "-0.5", "1", "k", "LEFT")
    assert str(e.value) == "timeout is negative"
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("BLMOVE", "k", "d", "LEFT", "LEFT", "x")
    assert str(e.value) == "timeout is not a float or out of range"
    # The timeout is checked even when there is data.
    r.rpush("k", "v")
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("BLMOVE", "k", "d", "LEFT", "LEFT", "-1")
    assert str(e.value) == "timeout is negative"
    assert r.lrange("k", 0, -1) == ["v"]


def test_wrongtype_when_blocking(r):
    r.set("s", "x")
    with pytest.raises(redis.ResponseError) as e:
        r.blpop(["nothing", "s"], timeout=0.1)
    assert "WRONGTYPE" in str(e.value)
    with pytest.raises(redis.ResponseError) as e:
        r.blmove("s", "d", 0.1)
    assert "WRONGTYPE" in str(e.value)


def test_disconnect_while_blocked_leaves_nothing(conns):
    a, p = conns[0], conns[1]
    a.cmd("BLPOP", "gone", "0")
    assert pending(a)
    a.close()
    time.sleep(0.2)
    assert call(p, "RPUSH", "gone", "v") == b":1\r\n"
    time.sleep(0.1)
    assert call(p, "LRANGE", "gone", "0", "-1") == b"*1\r\n$1\r\nv\r\n"
    info = call(p, "INFO", "clients")
    assert b"blocked_clients:0\r\n" in info


def test_disconnected_waiter_is_skipped_in_fifo(conns):
    a, b, p = conns[0], conns[1], conns[2]
    a.cmd("BLPOP", "skip", "0")
    time.sleep(0.05)
    b.cmd("BLPOP", "skip", "0")
    assert pending(b)
    a.close()
    time.sleep(0.2)
    call(p, "RPUSH", "skip", "v")
    assert b.read_reply() == b"*2\r\n$4\r\nskip\r\n$1\r\nv\r\n"


def test_blmove_waits_and_moves(conns):
    a, p = conns[0], conns[1]
    a.cmd("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
    assert pending(a)
    call(p, "RPUSH", "dst", "old")
    assert call(p, "RPUSH", "src", "a", "b") == b":2\r\n"
    assert a.read_reply() == b"$1\r\nb\r\n"
    assert call(p, "LRANGE", "src", "0", "-1") == b"*1\r\n$1\r\na\r\n"
    assert call(p, "LRANGE", "dst", "0", "-1") == b"*2\r\n$1\r\nb\r\n$3\r\nold\r\n"


def test_blmove_chain_wakes_waiter_on_destination(conns):
    # A served BLMOVE pushes to its destination, which serves a client blocked there.
    a, b, p = conns[0], conns[1], conns[2]
    a.cmd("BLMOVE", "c1", "c2", "LEFT", "LEFT", "0")
    time.sleep(0.05)
    b.cmd("BLPOP", "c2", "0")
    assert pending(a) and pending(b)
    call(p, "RPUSH", "c1", "v")
    assert a.read_reply() == b"$1\r\nv\r\n"
    assert b.read_reply() == b"*2\r\n$2\r\nc2\r\n$1\r\nv\r\n"
    assert call(p, "EXISTS", "c1", "c2") == b":0\r\n"


def test_brpoplpush_waits(conns):
    a, p = conns[0], conns[1]
    a.cmd("BRPOPLPUSH", "s1", "d1", "0")
    assert pending(a)
    call(p, "RPUSH", "s1", "x", "y")
    assert a.read_reply() == b"$1\r\ny\r\n"
    assert call(p, "LRANGE", "d1", "0", "-1") == b"*1\r\n$1\r\ny\r\n"


def test_blmove_to_wrong_type_destination_errors_when_served(conns):
    a, p = conns[0], conns[1]
    call(p, "SET", "dstr", "x")
    a.cmd("BLMOVE", "sw", "dstr", "LEFT", "LEFT", "0")
    assert pending(a)
    call(p, "RPUSH", "sw", "v")
    assert a.read_reply().startswith(b"-WRONGTYPE")
    assert call(p, "LRANGE", "sw", "0", "-1") == b"*1\r\n$1\r\nv\r\n"


def test_push_inside_multi_serves_after_exec(conns):
    a, p = conns[0], conns[1]
    a.cmd("BLPOP", "mq", "0")
    assert pending(a)
    assert call(p, "MULTI") == b"+OK\r\n"
    assert call(p, "RPUSH", "mq", "1", "2") == b"+QUEUED\r\n"
    assert call(p, "LPOP", "mq") == b"+QUEUED\r\n"
    assert pending(a, 0.1)
    assert call(p, "EXEC") == b"*2\r\n:2\r\n$1\r\n1\r\n"
    assert a.read_reply() == b"*2\r\n$2\r\nmq\r\n$1\r\n2\r\n"


def test_push_and_pop_inside_multi_leaves_waiter_blocked(conns):
    a, p = conns[0], conns[1]
    a.cmd("BLPOP", "mq2", "0")
    assert pending(a)
    call(p, "MULTI")
    call(p, "RPUSH", "mq2", "1")
    call(p, "LPOP", "mq2")
    assert call(p, "EXEC") == b"*2\r\n:1\r\n$1\r\n1\r\n"
    assert pending(a, 0.2)
    call(p, "RPUSH", "mq2", "later")
    assert a.read_reply() == b"*2\r\n$3\r\nmq2\r\n$5\r\nlater\r\n"


def test_blocking_commands_inside_multi_do_not_block(conns):
    a = conns[0]
    call(a, "MULTI")
    for cmd in (("BLPOP", "e", "0"), ("BRPOP", "e", "0"), ("BLMPOP", "0", "1", "e", "LEFT"),
                ("BLMOVE", "e", "f", "LEFT", "LEFT", "0"), ("BRPOPLPUSH", "e", "f", "0")):
        assert call(a, *cmd) == b"+QUEUED\r\n"
    assert call(a, "EXEC") == b"*5\r\n*-1\r\n*-1\r\n*-1\r\n$-1\r\n$-1\r\n"


def test_blocked_client_keeps_pipelined_commands_for_later(conns):
    a, p = conns[0], conns[1]
    a.send(b"*3\r\n$5\r\nBLPOP\r\n$2\r\npl\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n")
    assert pending(a)
    call(p, "RPUSH", "pl", "v")
    assert a.read_reply() == b"*2\r\n$2\r\npl\r\n$1\r\nv\r\n"
    assert a.read_reply() == b"+PONG\r\n"


def test_blocked_client_keeps_its_database(conns):
    a, p = conns[0], conns[1]
    call(a, "SELECT", "3")
    a.cmd("BLPOP", "dbk", "0")
    assert pending(a)
    call(p, "RPUSH", "dbk", "db0")  # database 0: not for the waiter
    assert pending(a)
    call(p, "SELECT", "3")
    call(p, "RPUSH", "dbk", "db3")
    assert a.read_reply() == b"*2\r\n$3\r\ndbk\r\n$3\r\ndb3\r\n"
    call(p, "SELECT", "0")
    assert call(p, "LRANGE", "dbk", "0", "-1") == b"*1\r\n$3\r\ndb0\r\n"
    call(p, "FLUSHALL")


def test_many_waiters_many_pushes(conns):
    waiters = conns[:4]
    p = conns[4]
    for i, w in enumerate(waiters):
        w.cmd("BLPOP", "many", "5")
    time.sleep(0.1)
    for i in range(4):
        call(p, "RPUSH", "many", str(i))
    got = sorted(w.read_reply() for w in waiters)
    assert got == sorted(b"*2\r\n$4\r\nmany\r\n$1\r\n%d\r\n" % i for i in range(4))


def test_lpush_reply_and_waiter_both_durable(server_factory):
    s = server_factory("--appendfsync", "always")
    a = Raw(s.port)
    p = Raw(s.port)
    a.cmd("BLPOP", "dq", "0")
    assert pending(a)
    assert call(p, "RPUSH", "dq", "1", "2") == b":2\r\n"
    assert a.read_reply() == b"*2\r\n$2\r\ndq\r\n$1\r\n1\r\n"
    assert call(p, "LRANGE", "dq", "0", "-1") == b"*1\r\n$1\r\n2\r\n"
    a.close()
    p.close()


def test_producers_and_consumers_lose_and_duplicate_nothing(server):
    """Consumers blocked on several keys, producers pushing from other connections (and
    threads): every element is popped exactly once, and nothing stays blocked."""
    import threading

    n_items, n_consumers, keys = 2000, 6, ["pc:%d" % i for i in range(3)]
    got, lock = [], threading.Lock()
    stop = threading.Event()

    def consume():
        c = server.client()
        while not stop.is_set():
            r = c.blpop(keys, timeout=0.2)
            if r is not None:
                with lock:
                    got.append(r[1])
        c.close()

    def produce(start):
        c = server.client()
        for i in range(start, n_items, 2):
            c.rpush(keys[i % len(keys)], str(i))
        c.close()

    consumers = [threading.Thread(target=consume) for _ in range(n_consumers)]
    for t in consumers:
        t.start()
    producers = [threading.Thread(target=produce, args=(s,)) for s in (0, 1)]
    for t in producers:
        t.start()
    for t in producers:
        t.join()
    c = server.client()
    deadline = time.time() + 20
    while time.time() < deadline:
        with lock:
            if len(got) >= n_items:
                break
        time.sleep(0.05)
    stop.set()
    for t in consumers:
        t.join()
    assert sorted(got, key=int) == [str(i) for i in range(n_items)]
    assert c.exists(*keys) == 0
    c.close()


def test_disconnect_storm_leaves_no_waiters(raw):
    clients = [raw.more() for _ in range(20)]
    for i, c in enumerate(clients):
        c.cmd("BLPOP", "storm", "storm:%d" % i, "0")
    time.sleep(0.2)
    for c in clients:
        c.close()
    time.sleep(0.3)
    assert call(raw, "RPUSH", "storm", "x") == b":1\r\n"
    assert call(raw, "LLEN", "storm") == b":1\r\n"
    assert b"blocked_clients:0\r\n" in call(raw, "INFO", "clients")


def test_key_created_with_another_type_keeps_waiters_blocked(conns):
    a, b, p = conns[0], conns[1], conns[2]
    a.cmd("BLPOP", "other", "0")
    time.sleep(0.05)  # arrival order
    b.cmd("BLMOVE", "other", "dst", "LEFT", "LEFT", "0")
    assert pending(a) and pending(b)
    call(p, "SADD", "other", "m")
    assert pending(a, 0.1) and pending(b, 0.1)
    call(p, "DEL", "other")
    call(p, "RPUSH", "other", "1", "2")
    assert a.read_reply() == b"*2\r\n$5\r\nother\r\n$1\r\n1\r\n"
    assert b.read_reply() == b"$1\r\n2\r\n"


def test_waiters_on_two_keys_with_concurrent_pushes_are_all_served(server):
    """Waiters blocked (no timeout) on two keys while two connections push to both keys at
    once: as many elements as waiters, so every waiter must be served and nothing left."""
    import threading

    for rnd in range(5):
        waiters = [Raw(server.port) for _ in range(8)]
        for w in waiters:
            w.cmd("BLPOP", "two:a", "two:b", "0")
        time.sleep(0.1)

        def push(key):
            c = Raw(server.port)
            for i in range(4):
                c.cmd("RPUSH", key, "%s%d" % (key, i))
                c.read_reply()
            c.close()

        ts = [threading.Thread(target=push, args=(k,)) for k in ("two:a", "two:b")]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        got = []
        for w in waiters:
            w.sock.settimeout(5)
            got.append(w.read_reply())
            w.close()
        assert len(set(got)) == 8
        c = Raw(server.port)
        assert call(c, "EXISTS", "two:a", "two:b") == b":0\r\n"
        c.close()


def test_served_pop_is_logged_before_its_reply(server_factory):
    """The pop a push serves is in the log before the served client sees its reply: after a
    kill -9 and a restart the element is gone from the list (and BLMOVE's is at its
    destination)."""
    import os
    import signal

    if os.environ.get("FDB_TEST_TARGET") == "redis":
        pytest.skip("FDB's log (the Redis run has no persistence)")
    s = server_factory("--fsync", "always")
    a, b, p = Raw(s.port), Raw(s.port), Raw(s.port)
    a.cmd("BLPOP", "lg", "0")
    b.cmd("BLMOVE", "lg2", "dst", "LEFT", "RIGHT", "0")
    assert pending(a) and pending(b)
    assert call(p, "RPUSH", "lg", "x", "y") == b":2\r\n"
    assert call(p, "RPUSH", "lg2", "m") == b":1\r\n"
    assert a.read_reply() == b"*2\r\n$2\r\nlg\r\n$1\r\nx\r\n"
    assert b.read_reply() == b"$1\r\nm\r\n"
    s.stop(signal.SIGKILL)
    for c in (a, b, p):
        c.close()
    s.start()
    c = Raw(s.port)
    assert call(c, "LRANGE", "lg", "0", "-1") == b"*1\r\n$1\r\ny\r\n"
    assert call(c, "EXISTS", "lg2") == b":0\r\n"
    assert call(c, "LRANGE", "dst", "0", "-1") == b"*1\r\n$1\r\nm\r\n"
    c.close()


def test_client_list_flags_a_blocked_client(conns, r):
    # CLIENT LIST's `b` flag, as Redis's: Redis's suite waits for it (wait_for_blocked_client)
    # before it pushes; without it the suite's tests push too early.
    a, b = conns[0], conns[1]
    a_id = int(call(a, "CLIENT", "ID")[1:-2])

    def flags():
        for line in r.execute_command("CLIENT", "LIST").splitlines():
            fields = dict(f.split("=", 1) for f in line.split(" ") if "=" in f)
            if int(fields["id"]) == a_id:
                return fields["flags"]
        raise AssertionError("client not listed")

    assert "b" not in flags()
    a.cmd("BLPOP", "flagged", "0")
    assert pending(a)
    assert "b" in flags()
    assert call(b, "RPUSH", "flagged", "x") == b":1\r\n"
    assert a.read_reply() == b"*2\r\n$7\r\nflagged\r\n$1\r\nx\r\n"
    assert "b" not in flags()
    # A timeout clears it too.
    a.cmd("BLPOP", "flagged", "0.05")
    assert a.read_reply() in (b"*-1\r\n", b"_\r\n")
    assert "b" not in flags()
