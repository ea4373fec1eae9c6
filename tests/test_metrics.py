"""The HTTP listener (`http-port`) and GET /metrics in Prometheus's text format.

The output is read with Prometheus's own Python parser (prometheus_client), scraped by a real
Prometheus server (Debian's `prometheus`) and queried through its HTTP API, and the listener is
fed malformed, oversized and slow requests, after which RESP and /metrics still answer.
"""

import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import TARGET, free_port, wait_for

pytestmark = pytest.mark.skipif(TARGET == "redis", reason="FDB's own HTTP listener")


def get(port, path="/metrics", method="GET", timeout=30):
    """(status, headers, body) of one HTTP request to the server's listener."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read().decode()
    finally:
        conn.close()


def scrape(port):
    """{(sample name, ((label, value), ...)): value} and {family name: type} of GET /metrics."""
    status, headers, body = get(port)
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples, types = {}, {}
    for family in text_string_to_metric_families(body):
        types[family.name] = family.type
        for s in family.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            assert key not in samples, f"sample {key} twice"
            samples[key] = s.value
    return samples, types


def value(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


def listening_ports(pid):
    """The TCP ports the process listens on (its sockets in LISTEN state, IPv4 and IPv6)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and inode in inodes:  # 0A: LISTEN
                    ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


@pytest.fixture
def http_server(server_factory):
    port = free_port()
    s = server_factory("--http-port", str(port), "--appendfsync", "always")
    s.http_port = port
    return s


def test_http_listener_is_off_by_default(server_factory):
    s = server_factory()
    c = s.client()
    assert c.config_get("http-port") == {"http-port": "0"}
    # The RESP port is the only one the process listens on.
    assert listening_ports(s.proc.pid) == {s.port}
    # CONFIG SET opens it at runtime, and 0 closes it again: the port is free when it replies.
    port = free_port()
    assert c.config_set("http-port", port)
    assert listening_ports(s.proc.pid) == {s.port, port}
    assert get(port)[0] == 200
    assert c.config_set("http-port", 0)
    assert listening_ports(s.proc.pid) == {s.port}
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_protected_mode_keeps_metrics_local(server_factory):
    """As the RESP port: with no password and protected-mode on, a scraper that is not on
    127.0.0.1 / ::1 is refused (403 with Redis's DENIED text); a password lets it in."""
    port = free_port()
    s = server_factory("--bind", "127.0.0.1 127.0.0.2", "--http-port", str(port))

    def scrape_from(source):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30,
                                          source_address=(source, 0))
        try:
            conn.request("GET", "/metrics")
            resp = conn.getresponse()
            return resp.status, resp.read().decode()
        finally:
            conn.close()

    assert scrape_from("127.0.0.1")[0] == 200
    status, body = scrape_from("127.0.0.2")
    assert status == 403 and "protected mode" in body
    s.client().config_set("requirepass", "pw")
    status, body = scrape_from("127.0.0.2")
    assert status == 200 and "redis_up 1" in body


def test_http_port_from_a_config_file(server_factory, tmp_path):
    port = free_port()
    conf = tmp_path / "fdb.conf"
    conf.write_text(f"http-port {port}\n")
    s = server_factory("--config", str(conf))
    assert s.client().config_get("http-port") == {"http-port": str(port)}
    assert get(port)[0] == 200


def test_metrics_follow_commands(http_server):
    c = http_server.client()
    before, types = scrape(http_server.http_port)
    assert value(before, "redis_db_keys", db="db0") == 0
    for i in range(10):
        c.set(f"k{i}", "v" * 100)
    c.set("volatile", "x", ex=1000)
    assert c.get("k1") == "v" * 100
    assert c.get("nope") is None
    after, types = scrape(http_server.http_port)

    # redis_exporter's names and types.
    assert types["redis_connected_clients"] == "gauge"
    assert types["redis_commands_processed"] == "counter"
    assert types["redis_commands_latencies_usec"] == "histogram"
    assert types["fdb_fsync_duration_seconds"] == "histogram"
    assert value(after, "redis_up") == 1
    assert value(after, "redis_db_keys", db="db0") == 11
    assert value(after, "redis_db_keys_expiring", db="db0") == 1
    assert value(after, "redis_db_keys", db="db1") == 0
    assert value(after, "redis_connected_clients") >= 1
    assert value(after, "redis_commands_total", cmd="set") >= 11
    assert value(after, "redis_commands_duration_seconds_total", cmd="set") > 0
    assert value(after, "redis_commands_processed_total") >= value(
        before, "redis_commands_processed_total"
    ) + 13
    assert value(after, "redis_keyspace_hits_total") == value(before, "redis_keyspace_hits_total") + 1
    assert (
        value(after, "redis_keyspace_misses_total") == value(before, "redis_keyspace_misses_total") + 1
    )
    # The latency histogram counts every call, and its buckets are cumulative.
    calls = value(after, "redis_commands_total", cmd="set")
    assert value(after, "redis_commands_latencies_usec_count", cmd="set") == calls
    assert value(after, "redis_commands_latencies_usec_bucket", cmd="set", le="+Inf") == calls
    buckets = sorted(
        (float(dict(labels)["le"]), v)
        for (name, labels), v in after.items()
        if name == "redis_commands_latencies_usec_bucket" and dict(labels)["cmd"] == "set"
    )
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)

    # FDB's own: with appendfsync always every write waited for an fsync of its record.
    assert value(after, "fdb_fsync_duration_seconds_count") >= value(
        before, "fdb_fsync_duration_seconds_count"
    ) + 11
    assert value(after, "fdb_fsyncs_total") >= value(after, "fdb_fsync_duration_seconds_count")
    assert value(after, "fdb_log_bytes") > value(before, "fdb_log_bytes")
    assert value(after, "fdb_log_segments") >= 1
    assert value(after, "fdb_live_bytes") > 0
    assert value(after, "fdb_cache_entries") == 11
    assert value(after, "fdb_cache_bytes") >= 1000
    assert value(after, "redis_aof_enabled") == 1


def test_metrics_and_info_agree(http_server):
    c = http_server.client()
    c.mset({f"a{i}": i for i in range(25)})
    http_server.client(db=3).set("x", 1)
    with pytest.raises(Exception):
        c.incr("a1", "notanumber")
    samples, _ = scrape(http_server.http_port)
    info = c.info("everything")
    assert value(samples, "redis_db_keys", db="db0") == info["db0"]["keys"] == 25
    assert value(samples, "redis_db_keys", db="db3") == info["db3"]["keys"] == 1
    assert value(samples, "redis_commands_total", cmd="mset") == info["cmdstat_mset"]["calls"]
    assert value(samples, "redis_errors_total", err="ERR") == info["errorstat_ERR"]["count"]
    assert value(samples, "fdb_cache_entries") == info["cache_entries"]
    assert value(samples, "redis_config_maxclients") == info["maxclients"]


def test_metrics_of_the_ram_cache(server_factory):
    """Values moved to disk under a small budget, and read back, show in fdb_cache_*."""
    port = free_port()
    s = server_factory("--http-port", str(port), "--maxmemory", "204800")
    c = s.client()
    for i in range(200):
        c.set(f"big{i}", "x" * 4000)
    for i in range(200):
        assert c.get(f"big{i}") == "x" * 4000
    samples, _ = scrape(port)
    assert value(samples, "fdb_cache_evictions_total") > 0
    assert value(samples, "fdb_cache_misses_total") > 0
    assert value(samples, "fdb_cache_hits_total") + value(samples, "fdb_cache_misses_total") >= 200
    # Not every value is in RAM: the budget holds about 50 of the 200.
    assert value(samples, "fdb_cache_bytes") < 200 * 4000
    assert value(samples, "fdb_cache_entries") < 200
    assert value(samples, "fdb_cache_budget_bytes") == 204800


def test_metrics_of_replication(server_factory):
    primary = server_factory("--http-port", str(free_port()))
    primary.http_port = int(primary.args[primary.args.index("--http-port") + 1])
    replica = server_factory("--http-port", str(free_port()))
    replica.http_port = int(replica.args[replica.args.index("--http-port") + 1])
    primary.client().set("k", "v")
    assert replica.client().replicaof("127.0.0.1", primary.port)

    def synced():
        i = replica.client().info("replication")
        return i.get("master_link_status") == "up" and replica.client().get("k") == "v"

    wait_for(synced, timeout=30, interval=0.05, what="the replica in sync")
    p, _ = scrape(primary.http_port)
    r, _ = scrape(replica.http_port)
    master = {"master_host": "127.0.0.1", "master_port": str(primary.port)}
    assert value(r, "redis_master_link_up", **master) == 1
    assert value(r, "redis_master_sync_in_progress", **master) == 0
    assert any(name == "redis_instance_info" and dict(labels)["role"] == "slave" for name, labels in r)
    assert any(name == "redis_instance_info" and dict(labels)["role"] == "master" for name, labels in p)
    wait_for(lambda: value(scrape(primary.http_port)[0], "redis_connected_slaves") == 1,
             timeout=30, what="the primary to count its replica")
    p, _ = scrape(primary.http_port)
    assert value(p, "redis_replica_resyncs_full") >= 1
    lags = [labels for (name, labels), v in p.items() if name == "redis_connected_slave_lag_seconds"]
    assert len(lags) == 1 and dict(lags[0])["slave_ip"] == "127.0.0.1"


def test_unknown_paths_and_methods(http_server):
    port = http_server.http_port
    assert get(port, "/")[0] == 200  # the dashboard (tests/test_dashboard.py)
    assert get(port, "/nope")[0] == 404
    assert get(port, "/metrics/x")[0] == 404
    assert get(port, "/metrics", method="POST")[0] == 405
    assert get(port, "/metrics", method="DELETE")[0] == 405
    status, headers, body = get(port, "/metrics", method="HEAD")
    assert status == 200 and body == "" and int(headers["Content-Length"]) > 1000
    # A query string is not part of the path.
    assert get(port, "/metrics?x=1")[0] == 200


def test_config_set_http_port_moves_the_listener(http_server):
    c = http_server.client()
    old = http_server.http_port
    new = free_port()
    assert c.config_set("http-port", new)
    assert c.config_get("http-port") == {"http-port": str(new)}
    assert get(new)[0] == 200
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", old), timeout=5).close()
    # A port another process holds: refused as CONFIG SET port is, the listener stays.
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        with pytest.raises(Exception, match="Unable to listen on this port"):
            c.config_set("http-port", taken.getsockname()[1])
    finally:
        taken.close()
    assert c.config_get("http-port") == {"http-port": str(new)}
    assert get(new)[0] == 200
    # CONFIG SET bind moves the HTTP listener with the RESP one.
    assert c.config_set("bind", "127.0.0.1")
    assert get(new)[0] == 200


def send_raw(port, data, read=True):
    """Sends bytes to the HTTP port; returns what the server answered before closing."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may close before it has read it all (an oversized request)
        out = b""
        if read:
            try:
                while chunk := s.recv(65536):
                    out += chunk
            except OSError:
                pass
        return out


def assert_alive(s):
    assert s.proc.poll() is None, s.read_log()
    assert s.client().ping()
    samples, _ = scrape(s.http_port)
    assert value(samples, "redis_up") == 1


def test_malformed_requests_are_refused_and_the_server_goes_on(http_server):
    port = http_server.http_port
    cases = [
        b"",
        b"\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET /metrics\r\n\r\n",
        b"GET /metrics HTTP/9.9\r\n\r\n",
        b"\x00\x01\x02\xff\xfe" * 100 + b"\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\nabc",
        b"GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /%%%%%00%zz HTTP/1.1\r\n\r\n",
        b"GET " + b"/a" * 10000 + b" HTTP/1.1\r\n\r\n",
        b"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
        b"GET /metrics HTTP/1.1\r\n" + b"X: y\r\n" * 5000 + b"\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        b"*1\r\n$4\r\nPING\r\n",
    ]
    for data in cases:
        reply = send_raw(port, data)
        # Whatever came back (or nothing), it is no success for a bad request.
        assert not reply.startswith(b"HTTP/1.1 200") or data.startswith(b"GET /metrics HTTP/1.1")
    # Oversized: more than 8 KB of headers is refused, not read without end.
    reply = send_raw(port, b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 100_000 + b"\r\n\r\n")
    assert reply == b"" or b" 200 " not in reply.split(b"\r\n")[0]
    # Random mutations of a good request (seeded: a failure replays).
    rng = random.Random(18)
    good = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n"
    for _ in range(300):
        data = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            op = rng.randrange(3)
            pos = rng.randrange(len(data) + 1)
            if op == 0 and data:
                del data[pos % len(data)]
            elif op == 1:
                data.insert(pos, rng.randrange(256))
            else:
                data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        send_raw(port, bytes(data))
    assert_alive(http_server)


def post(port, path, body, cookie=None, csrf=None, content_type="application/json"):
    """Sends a POST whose body may be anything; returns the raw reply."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if content_type is not None:
        head += f"Content-Type: {content_type}\r\n"
    if cookie is not None:
        head += f"Cookie: {cookie}\r\n"
    if csrf is not None:
        head += f"X-CSRF-Token: {csrf}\r\n"
    head += f"Content-Length: {len(body)}\r\n\r\n"
    return send_raw(port, head.encode("latin-1") + body)


def status_of(reply):
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else None


def test_the_dashboards_routes_take_malformed_requests(http_server):
    """The dashboard's API (tests/test_dashboard.py) fed bad JSON, huge and lying bodies, bad
    cookies and tokens: each is refused, and the server goes on."""
    port = http_server.http_port
    reply = post(port, "/api/login", b"{}")
    assert status_of(reply) == 200, reply
    head, body = reply.split(b"\r\n\r\n", 1)
    cookie = [h for h in head.split(b"\r\n") if h.startswith(b"Set-Cookie: ")][0]
    cookie = cookie[12:].split(b";")[0].decode()
    csrf = json.loads(body)["csrf"]
    assert status_of(post(port, "/api/command", b'{"argv":["PING"]}', cookie, csrf)) == 200
    bodies = [b"", b"{", b"}", b"[", b"null", b"1e999999", b'"' + b"a" * 1000, b"{" * 5000,
              b"[" * 5000 + b"]" * 5000, b'{"argv":' + b"[" * 3000 + b"]" * 3000 + b"}",
              rb'{"argv":["\ud800"]}', rb'{"argv":["\u0000"]}', b"\xff\xfe\x00",
              b'{"argv":[{"b64":"===="}]}', b'{"argv":[{"b64":1}]}', b'{"argv":[[]]}',
              b'{"argv":["GET"],"argv":["SET","k","v"]}', b'{"user":{"$gt":""}}',
              b'{"argv":["' + b"x" * 60000 + b'"]}']
    for b in bodies:
        for path in ("/api/command", "/api/login"):  # (logout takes any body)
            reply = post(port, path, b, cookie, csrf)
            assert status_of(reply) in (200, 400, 401, 403, 413, 415), (path, b[:40], reply[:200])
    # Bodies past the limit are not read: refused from their Content-Length.
    big = b'{"argv":["SET","k","' + b"v" * 70000 + b'"]}'
    assert status_of(post(port, "/api/command", big, cookie, csrf)) == 413
    lying = (f"POST /api/command HTTP/1.1\r\nCookie: {cookie}\r\nX-CSRF-Token: {csrf}\r\n"
             f"Content-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{{}}")
    assert status_of(send_raw(port, lying.encode())) in (None, 400, 413)
    short = (f"POST /api/command HTTP/1.1\r\nCookie: {cookie}\r\nX-CSRF-Token: {csrf}\r\n"
             f"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{}}")
    assert status_of(send_raw(port, short.encode())) in (None, 400)
    # Bad cookies and tokens: no session.
    for c in ("", "fdb_session=", "fdb_session=" + "z" * 32, "fdb_session=" + "0" * 32,
              "fdb_session=" + "a" * 5000, "x=1; fdb_session=" + "0" * 31, ";;;===;;",
              "fdb_session=\x01\x02" + "0" * 30, cookie + "0", cookie[:-1]):
        reply = post(port, "/api/command", b'{"argv":["PING"]}', c, csrf)
        assert status_of(reply) in (None, 400, 401), (c[:40], reply[:200])
        reply = send_raw(port, f"GET /api/stats HTTP/1.1\r\nCookie: {c}\r\n\r\n".encode())
        assert status_of(reply) in (None, 400, 401), (c[:40], reply[:200])
    for token in ("", "0" * 32, csrf[:-1], csrf + "0", csrf.upper(), "\x00" * 32):
        reply = post(port, "/api/command", b'{"argv":["SET","forged","v"]}', cookie, token)
        assert status_of(reply) in (None, 400, 403), (token, reply[:200])
    assert http_server.client().get("forged") is None
    # Random mutations of a good API request (seeded: a failure replays).
    rng = random.Random(1818)
    good = (f"POST /api/command HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
            f"X-CSRF-Token: {csrf}\r\nContent-Type: application/json\r\nContent-Length: 33"
            f'\r\n\r\n{{"argv":["SET","fuzz","value"]}}').encode()
    for _ in range(300):
        data = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            pos = rng.randrange(len(data) + 1)
            op = rng.randrange(3)
            if op == 0 and data:
                del data[pos % len(data)]
            elif op == 1:
                data.insert(pos, rng.randrange(256))
            else:
                data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 32)))
        send_raw(port, bytes(data))
    assert status_of(post(port, "/api/command", b'{"argv":["PING"]}', cookie, csrf)) == 200
    assert_alive(http_server)


def test_slow_and_idle_clients_are_closed(http_server):
    port = http_server.http_port
    # Connections that send nothing, and one that sends a byte every 200 ms: more than the
    # listener's two workers. The server closes each once its request deadline passes, and
    # then answers again. (Each idle connection holds a worker for the deadline, 3 s: this many
    # keep /metrics waiting about 6 s; docs/monitoring.md says so.)
    idle = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(4)]
    slow = socket.create_connection(("127.0.0.1", port), timeout=60)
    slow.sendall(b"GET /metrics HTTP/1.1\r\n")
    closed = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            slow.sendall(b"X")
        except OSError:
            closed = True
            break
        time.sleep(0.2)
    assert closed, "a client sending a byte at a time was never closed"
    slow.close()
    # RESP never waited for any of it.
    assert http_server.client().ping()
    for s in idle:
        s.close()
    # /metrics answers again (retrying while the listener drains the idle connections).
    wait_for(lambda: get(port, timeout=60)[0] == 200, timeout=60, what="/metrics after slow clients")
    assert_alive(http_server)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="Debian's prometheus not installed")
def test_promtool_finds_nothing_but_the_exporters_own_name(http_server):
    """Prometheus's linter over a scrape that has every kind of family (histograms, errors)."""
    c = http_server.client()
    c.set("a", "1")
    with pytest.raises(Exception):
        c.lpush("a", "x")
    status, _, body = get(http_server.http_port)
    assert status == 200
    proc = subprocess.run(["promtool", "check", "metrics"], input=body.encode(),
                          capture_output=True, timeout=60)
    problems = [line for line in (proc.stdout + proc.stderr).decode().splitlines() if line.strip()]
    # redis_exporter names this counter without the _total suffix; dashboards use that name.
    assert problems in ([], ['redis_total_error_replies counter metrics should have "_total" suffix'])


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="Debian's prometheus not installed")
def test_prometheus_scrapes_fdb(http_server, tmp_path):
    c = http_server.client()
    for i in range(10):
        c.set(f"key:{i}", i)
    prom_port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: fdb\n    scrape_interval: 1s\n    scrape_timeout: 1s\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{http_server.http_port}']\n"
    )
    log = open(tmp_path / "prometheus.log", "wb")
    proc = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={config}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def query(q):
        url = f"http://127.0.0.1:{prom_port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                body = json.load(resp)
        except (urllib.error.URLError, ConnectionError, OSError):
            return None
        assert body["status"] == "success", body
        return body["data"]["result"] or None

    try:
        result = wait_for(
            lambda: query("redis_connected_clients"), timeout=90, interval=0.5,
            what="Prometheus to have scraped fdb",
        )
        assert result[0]["metric"]["job"] == "fdb"
        assert result[0]["metric"]["instance"] == f"127.0.0.1:{http_server.http_port}"
        assert float(result[0]["value"][1]) >= 1
        keys = query('redis_db_keys{db="db0"}')
        assert float(keys[0]["value"][1]) == 10
        # Every sample was accepted: the target is up and Prometheus reported no parse error.
        up = query("up")
        assert float(up[0]["value"][1]) == 1
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
