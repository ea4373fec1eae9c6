"""client-output-buffer-limit's soft limit: a client whose pending output stays above it for
longer than the soft seconds is closed even when no new output comes to trigger the check (the
I/O thread's once-a-second check, as Redis's clientsCron). Flow control of a client that does
not read, by the limits that govern it (below)."""

import socket
import time

import pytest

from conftest import TARGET


def client_names(c):
    return [cl.get("name") for cl in c.client_list()]


@pytest.mark.parametrize("cls", ["pubsub"])
def test_soft_limit_closes_a_client_when_traffic_stopped(server_factory, cls):
    s = server_factory()
    c = s.client(protocol=2)
    c.config_set("client-output-buffer-limit", f"{cls} 0 100000 1")
    sub = socket.create_connection(("127.0.0.1", s.port))
    sub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        sub.sendall(b"CLIENT SETNAME stuck\r\n")
        assert sub.recv(100) == b"+OK\r\n"
        payload = "x" * 100000
        if cls == "pubsub":
            sub.sendall(b"SUBSCRIBE ch\r\n")
            sub.recv(100)
        else:
            c.set("big", payload)
        # Output piles up until the client's buffer holds several times the soft limit (the
        # socket's buffers take some first, and may take a little more later: just over the
        # limit could drain back under it, which rightly restarts the soft seconds); the
        # client never reads.
        for _ in range(200):
            if cls == "pubsub":
                c.publish("ch", payload)
            else:
                sub.sendall(b"GET big\r\n")
            omem = [int(cl["omem"]) for cl in c.client_list() if cl.get("name") == "stuck"]
            if not omem or omem[0] > 400000:
                break
        # Nothing more is sent to it: the soft seconds pass with no traffic at all.
        deadline = time.time() + 15
        while "stuck" in client_names(c) and time.time() < deadline:
            time.sleep(0.2)
        assert "stuck" not in client_names(c)
    finally:
        sub.close()
        c.close()


# Flow control (src/net/connection.h, Connection::OutputUnbounded): a connection stops reading
# requests while more than 4 MB of its replies wait only when nothing configured bounds its
# output; under a hard limit, or maxmemory-clients for a client it may evict, the server reads
# on as Redis does (Redis's suite waits for a client that pipelines GETs without reading to
# hold more than 10 MB).

MB = 1024 * 1024


def pipelining_client(s, name):
    """A named raw connection that never reads once named."""
    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.sendall(b"CLIENT SETNAME %s\r\n" % name.encode())
    assert sock.recv(100) == b"+OK\r\n"
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    return sock


def client_field(c, name, field):
    got = [cl for cl in c.client_list() if cl.get("name") == name]
    return int(got[0][field]) if got else -1


def tot_mem(c, name):
    return client_field(c, name, "tot-mem")


def send_gets(sock, n):
    # Non-blocking: what the server does not read stays with the client (the test never waits
    # on a server that stopped reading).
    sock.setblocking(False)
    data = b"GET big\r\n" * n
    try:
        sock.send(data)
    except BlockingIOError:
        pass


@pytest.mark.parametrize("config", [
    {},                                            # FDB's default, normal 1gb 0 0
    {"client-output-buffer-limit": "normal 1gb 0 0", "maxmemory-clients": "0"},
    {"client-output-buffer-limit": "normal 0 0 0", "maxmemory-clients": "100mb"},
], ids=["default", "hard-limit", "maxmemory-clients"])
def test_a_limited_client_that_does_not_read_holds_its_replies_as_in_redis(server_factory,
                                                                            config):
    s = server_factory()
    c = s.client(protocol=2)
    for k, v in config.items():
        c.config_set(k, v)
    c.setrange("big", MB, "v")
    sock = pipelining_client(s, "piper")
    try:
        send_gets(sock, 40)
        # 40 replies of 1 MB: the server reads on, past 4 MB pending, to the 10 MB Redis's
        # suite waits for.
        deadline = time.time() + 30
        while tot_mem(c, "piper") <= 10 * MB and time.time() < deadline:
            time.sleep(0.05)
        assert tot_mem(c, "piper") > 10 * MB
    finally:
        sock.close()
        c.close()


@pytest.mark.skipif(TARGET != "fdb",
                    reason="FDB's flow control (Redis reads on without a limit)")
@pytest.mark.parametrize("no_evict", [False, True], ids=["maxmemory-clients-off", "no-evict"])
def test_an_unbounded_client_that_does_not_read_holds_at_most_4mb_of_replies(server_factory,
                                                                              no_evict):
    s = server_factory()
    c = s.client(protocol=2)
    c.config_set("client-output-buffer-limit", "normal 0 0 0")
    c.config_set("maxmemory-clients", "100mb" if no_evict else "0")
    c.setrange("big", MB, "v")
    sock = pipelining_client(s, "piper")
    try:
        if no_evict:
            sock.sendall(b"CLIENT NO-EVICT on\r\n")
            sock.setblocking(True)
            assert sock.recv(100) == b"+OK\r\n"
        send_gets(sock, 40)
        # The server stops reading once more than 4 MB wait; the socket's buffers took a few
        # replies, and the rest of the 40 GETs stay unread.
        deadline = time.time() + 30
        while tot_mem(c, "piper") <= 4 * MB and time.time() < deadline:
            time.sleep(0.05)
        assert tot_mem(c, "piper") > 4 * MB
        for _ in range(10):
            time.sleep(0.05)
            # Replies waiting: at most the 4 MB and the one that passed it.
            assert client_field(c, "piper", "omem") <= 4 * MB + MB + 64
        assert c.info("commandstats")["cmdstat_get"]["calls"] < 40
    finally:
        sock.close()
        c.close()
