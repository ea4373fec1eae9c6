"""maxmemory-clients counts what a client makes the server hold: a large argument while it
arrives (the client is evicted before its command runs), a MULTI's queued commands and the
WATCHed keys (src/net/connection.cc UpdateMemory)."""

import socket
import time

import pytest

from conftest import TARGET, encode_command

LIMIT = 3_000_000


@pytest.fixture
def srv(server_factory):
    s = server_factory()
    c = s.client(protocol=2)
    c.config_set("maxmemory-clients", LIMIT)
    yield s, c
    c.close()


def named_client(s, name):
    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.sendall(b"CLIENT SETNAME %s\r\n" % name.encode())
    assert sock.recv(100) == b"+OK\r\n"
    return sock


def read_until_closed(sock):
    sock.settimeout(30)
    got = b""
    try:
        while True:
            chunk = sock.recv(1 << 16)
            if not chunk:
                return got
            got += chunk
    except (ConnectionResetError, BrokenPipeError):
        return got


def names(c):
    return [cl.get("name") for cl in c.client_list()]


def gone(c, name):
    """Whether the named client is gone (its removal may follow its socket's close)."""
    deadline = time.time() + 10
    while name in names(c) and time.time() < deadline:
        time.sleep(0.05)
    return name not in names(c)


def test_large_argument_evicts_before_the_command_runs(srv):
    s, c = srv
    sock = named_client(s, "bigarg")
    sock.sendall(encode_command("MSET", "k", "v", "k2", b"v" * 1_000_000))
    assert sock.recv(100) == b"+OK\r\n"
    try:
        sock.sendall(encode_command("MSET", "k", "v2", "k2", b"v" * LIMIT))
    except (ConnectionResetError, BrokenPipeError):
        pass
    read_until_closed(sock)
    sock.close()
    assert gone(c, "bigarg")
    assert c.get("k") == "v"  # the command never ran
    assert c.info("stats")["evicted_clients"] >= 1


def test_queued_multi_commands_count(srv):
    s, c = srv
    sock = named_client(s, "multi")
    quarter = b"v" * (LIMIT // 4)
    sock.sendall(encode_command("MULTI"))
    assert sock.recv(100) == b"+OK\r\n"
    for _ in range(5):
        try:
            sock.sendall(encode_command("SET", "k", quarter))
        except (ConnectionResetError, BrokenPipeError):
            break
    read_until_closed(sock)
    sock.close()
    assert gone(c, "multi")
    assert c.exists("k") == 0


def test_watched_keys_count(srv):
    s, c = srv
    c.config_set("maxmemory-clients", 200_000)
    sock = named_client(s, "watcher")
    try:
        for j in range(0, 200_000, 1000):
            sock.sendall(b"".join(encode_command("WATCH", k) for k in range(j, j + 1000)))
            if j % 20000 == 19000 and gone(c, "watcher"):
                break
    except (ConnectionResetError, BrokenPipeError):
        pass
    sock.close()
    assert c.info("stats")["evicted_clients"] >= 1


def test_multi_mem_in_client_list(srv):
    s, c = srv
    sock = named_client(s, "mm")
    sock.sendall(encode_command("MULTI") + encode_command("SET", "k", b"v" * 10000))
    got = b""
    while got.count(b"\r\n") < 2:
        got += sock.recv(100)
    mine = [cl for cl in c.client_list() if cl.get("name") == "mm"][0]
    assert int(mine["multi-mem"]) >= 10000
    sock.close()


def test_evicted_client_is_unlisted_before_its_socket_closes(srv):
    """An unfinished large argument past the limit: once the client sees its connection
    closed, CLIENT LIST no longer lists it (no waiting)."""
    s, c = srv
    for i in range(8):
        sock = named_client(s, f"qbuf{i}")
        try:
            sock.sendall(b"*1\r\n$%d\r\n" % LIMIT + b"v" * LIMIT)
        except (ConnectionResetError, BrokenPipeError):
            pass
        read_until_closed(sock)
        sock.close()
        assert f"qbuf{i}" not in names(c)


def tot_mem(c, name):
    return int([cl for cl in c.client_list() if cl.get("name") == name][0]["tot-mem"])


def resp_client(s, name, proto):
    """A raw connection named `name`, in RESP2 or (after HELLO 3) RESP3."""
    sock = named_client(s, name)
    if proto == 3:
        sock.sendall(encode_command("HELLO", "3"))
        sock.settimeout(10)
        got = b""
        while b"proto" not in got or not got.endswith(b"\r\n"):
            got += sock.recv(4096)
        time.sleep(0.05)
        sock.setblocking(False)
        try:
            while sock.recv(4096):
                pass
        except BlockingIOError:
            pass
        sock.setblocking(True)
    return sock


def drain(sock):
    sock.setblocking(False)
    try:
        while sock.recv(1 << 16):
            pass
    except (BlockingIOError, ConnectionResetError):
        pass
    sock.setblocking(True)


def subscribe_until_evicted(s, c, name, cmd, proto, per_call=100, calls=200):
    """Sends `cmd` with `per_call` new 20-byte names at a time; returns whether the client was
    evicted (gone from CLIENT LIST) before `calls` calls."""
    sock = resp_client(s, name, proto)
    evicted = False
    try:
        for j in range(calls):
            args = [b"%020d" % (j * per_call + i) for i in range(per_call)]
            if cmd == "TRACKING":
                sock.sendall(b"".join(encode_command("CLIENT", "TRACKING", "on", "BCAST",
                                                     "PREFIX", a) for a in args))
            else:
                sock.sendall(encode_command(cmd, *args))
            time.sleep(0.002)
            drain(sock)
            if j % 10 == 9 and name not in names(c):
                evicted = True
                break
    except (ConnectionResetError, BrokenPipeError):
        evicted = True
    sock.close()
    return evicted or gone(c, name)


@pytest.mark.parametrize("proto", [2, 3], ids=["resp2", "resp3"])
@pytest.mark.parametrize("cmd", ["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "TRACKING"])
def test_subscriptions_and_tracking_prefixes_count(srv, cmd, proto):
    """Redis counts a client's channels, patterns and tracking prefixes in its memory: 2,000 of
    them grow tot-mem, and subscribing past maxmemory-clients evicts the client."""
    s, c = srv
    sock = resp_client(s, "grow", proto)
    before = tot_mem(c, "grow")
    for j in range(20):
        args = [b"%020d" % (j * 100 + i) for i in range(100)]
        if cmd == "TRACKING":
            sock.sendall(b"".join(encode_command("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", a)
                                  for a in args))
        else:
            sock.sendall(encode_command(cmd, *args))
        time.sleep(0.01)
        drain(sock)
    time.sleep(0.1)
    drain(sock)
    assert tot_mem(c, "grow") >= before + 2000 * 16
    sock.close()
    c.config_set("maxmemory-clients", 200_000)
    assert subscribe_until_evicted(s, c, "subs", cmd, proto)
    assert c.info("stats")["evicted_clients"] >= 1


def test_debug_pause_cron_stops_active_expiry(server_factory):
    s = server_factory("--enable-debug-command", "local")
    for proto in (2, 3):
        c = s.client(protocol=proto)
        c.flushall()
        c.config_set("hz", 100)
        assert c.execute_command("DEBUG", "PAUSE-CRON", "1") in (b"OK", "OK", True)
        try:
            for i in range(20):
                c.psetex(f"k{i}", 1, "v")
            time.sleep(0.5)  # 50 cron ticks at hz 100: none runs
            assert c.info("stats")["expired_keys"] == 0
        finally:
            c.execute_command("DEBUG", "PAUSE-CRON", "0")
        deadline = time.time() + 20
        while c.info("stats")["expired_keys"] < 20 and time.time() < deadline:
            time.sleep(0.05)
        assert c.info("stats")["expired_keys"] == 20
        c.config_resetstat()
        c.close()


def client_field(c, name, field):
    return [cl for cl in c.client_list() if cl.get("name") == name][0][field]


@pytest.mark.parametrize("proto", [2, 3], ids=["resp2", "resp3"])
def test_qbuf_of_an_arriving_large_argument_is_its_body(server_factory, proto):
    """As Redis, whose query buffer drops the header once a big argument's body begins."""
    s = server_factory()
    c = s.client(protocol=proto)
    sock = named_client(s, "big")
    n = 1_000_000
    sock.sendall(b"*2\r\n$%d\r\n" % n + b"v" * n)
    deadline = time.time() + 10
    while int(client_field(c, "big", "qbuf")) < n and time.time() < deadline:
        time.sleep(0.01)
    assert int(client_field(c, "big", "qbuf")) == n
    sock.close()


@pytest.mark.parametrize("proto", [2, 3], ids=["resp2", "resp3"])
def test_lowering_maxmemory_clients_evicts_at_once(server_factory, proto):
    """CONFIG SET maxmemory-clients under what the clients hold evicts the largest ones before
    it replies: the next CLIENT LIST no longer lists them."""
    s = server_factory()
    c = s.client(protocol=proto)
    c.config_set("maxmemory-clients", 4 * 1024 * 1024)
    socks = []
    per = 300_000
    for j in range(10):
        sock = named_client(s, f"client{j}")
        sock.sendall(b"*2\r\n$%d\r\n" % per + b"v" * per)
        socks.append(sock)
    for j in range(10):
        deadline = time.time() + 10
        while int(client_field(c, f"client{j}", "qbuf")) < per and time.time() < deadline:
            time.sleep(0.01)
    assert sum(n.startswith("client") for n in names(c) if n) == 10
    c.config_set("maxmemory-clients", 2 * 1024 * 1024)
    left = sum(n.startswith("client") for n in names(c) if n)
    assert 0 < left < 10
    for sock in socks:
        sock.close()


def test_debug_replybuffer_is_accepted(server_factory):
    s = server_factory("--enable-debug-command", "local")
    for proto in (2, 3):
        c = s.client(protocol=proto)
        for args in (("RESIZING", "0"), ("RESIZING", "1"), ("PEAK-RESET-TIME", "100"),
                     ("PEAK-RESET-TIME", "never"), ("PEAK-RESET-TIME", "reset")):
            assert c.execute_command("DEBUG", "REPLYBUFFER", *args) in (b"OK", "OK", True)
        c.close()


def test_same_request_holds_the_same_memory_however_it_was_split(server_factory):
    """A big argument's buffer ends at the request's end whatever reads its bytes came in, so
    clients that sent the same unfinished request have the same tot-mem (Redis's `evict clients
    in right order` sizes each group of clients by one of them)."""
    s = server_factory()
    c = s.client(protocol=2)
    size = 128 * 1024
    header = b"*2\r\n$%d\r\n" % size
    body = b"v" * size
    whole = named_client(s, "whole")
    whole.sendall(header + body)
    split = named_client(s, "split")
    # Pieces chosen so that the last one is smaller than a read chunk: the buffer grew by a
    # whole chunk past the request's end there.
    cuts = [16 * 1024, 124 * 1024, len(header) + size]
    sent = 0
    for cut in cuts:
        split.sendall((header + body)[sent:cut])
        sent = cut
        want = sent - len(header)
        deadline = time.time() + 10
        while int(client_field(c, "split", "qbuf")) < want and time.time() < deadline:
            time.sleep(0.01)
        assert int(client_field(c, "split", "qbuf")) == want
    deadline = time.time() + 10
    while int(client_field(c, "whole", "qbuf")) < size and time.time() < deadline:
        time.sleep(0.01)
    assert tot_mem(c, "split") == tot_mem(c, "whole")
    idle = named_client(s, "idle")
    if TARGET == "fdb":
        # Each holds its request (all but the CRLF that would end it) in a buffer of exactly
        # the request's size (Redis's allocator rounds it up).
        request = len(header) + size + 2
        assert tot_mem(c, "split") - tot_mem(c, "idle") == request
    for sock in (whole, split, idle):
        sock.close()
    c.close()


def test_a_client_made_evictable_over_the_limit_is_evicted_at_once(server_factory):
    """As Redis: CLIENT NO-EVICT off while the clients are over maxmemory-clients evicts then,
    not when some client's memory next grows (Redis's suite waits for it after flipping the
    flag, with nothing else growing)."""
    s = server_factory()
    c = s.client(protocol=2)
    c.execute_command("CLIENT", "NO-EVICT", "on")
    sock = named_client(s, "watcher")
    sock.sendall(encode_command("CLIENT", "NO-EVICT", "on"))
    assert sock.recv(100) == b"+OK\r\n"
    # WATCHed keys are the client's memory, and stay while it idles.
    keys = [f"{i:04d}" + "k" * 200 for i in range(3000)]
    sock.sendall(encode_command("WATCH", *keys))
    assert sock.recv(100) == b"+OK\r\n"
    assert tot_mem(c, "watcher") > 200_000
    c.config_set("maxmemory-clients", 128 * 1024)
    assert "watcher" in names(c)  # over the limit, but not evictable
    evicted = c.info("stats")["evicted_clients"]
    sock.sendall(encode_command("CLIENT", "NO-EVICT", "off"))
    assert gone(c, "watcher")
    assert c.info("stats")["evicted_clients"] == evicted + 1
    sock.close()
    c.close()


@pytest.mark.parametrize("proto", [2, 3], ids=["resp2", "resp3"])
def test_a_big_argument_weighs_its_announced_length_before_it_arrives(server_factory, proto):
    """As Redis, which reserves a big argument's query buffer when it reads its `$N` line: the
    client's tot-mem counts the announced length at once, whatever has arrived, so a client
    announcing more than maxmemory-clients allows is evicted before it sends the bytes (Redis's
    suite checks the eviction right after its client's write, which another I/O thread may not
    have read whole yet)."""
    s = server_factory()
    c = s.client(protocol=proto)
    c.execute_command("CLIENT", "NO-EVICT", "on")
    n = 2_000_000
    sock = named_client(s, "announcer")
    sock.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % n + b"v" * 1000)
    deadline = time.time() + 10
    while int(client_field(c, "announcer", "qbuf")) < 1000 and time.time() < deadline:
        time.sleep(0.01)
    assert int(client_field(c, "announcer", "qbuf")) == 1000
    assert tot_mem(c, "announcer") >= n
    c.config_set("maxmemory-clients", n // 2)
    assert gone(c, "announcer")
    read_until_closed(sock)
    sock.close()
    assert c.exists("k") == 0
    c.close()


def test_config_resetstat_resets_evicted_clients(srv):
    """As Redis's resetServerStats (its suite's maxmemory unit resets the stats between tests
    and checks evicted_clients)."""
    s, c = srv
    c.execute_command("CLIENT", "NO-EVICT", "on")
    sock = named_client(s, "victim")
    try:
        sock.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % (2 * LIMIT))
    except (ConnectionResetError, BrokenPipeError):
        pass
    assert gone(c, "victim")
    sock.close()
    assert c.info("stats")["evicted_clients"] >= 1
    c.config_resetstat()
    assert c.info("stats")["evicted_clients"] == 0
