"""TLS on client connections (tls-port, tls-* parameters): redis-py with ssl=True and redis-cli
--tls, with and without client certificates, refused certificates, certificate reload by CONFIG
SET, plain and TLS ports side by side, large pipelines and replies, stalled handshakes.

Certificates are made once per session by scripts/gen-test-certs.sh into a temporary directory.
Runs against Debian's redis-server too (FDB_TEST_TARGET=redis), which is built with TLS.
"""

import os
import socket
import ssl
import subprocess
import tempfile
import time

import pytest
import redis

from conftest import ROOT, TARGET, Server, free_port, wait_for


@pytest.fixture(scope="session")
def certs():
    d = tempfile.TemporaryDirectory(prefix="fdb-tls-")
    subprocess.run([os.path.join(ROOT, "scripts", "gen-test-certs.sh"), d.name], check=True,
                   timeout=300)
    yield d.name
    d.cleanup()


def tls_args(certs, tls_port, *extra, cert="redis"):
    return ["--tls-port", str(tls_port),
            "--tls-cert-file", os.path.join(certs, f"{cert}.crt"),
            "--tls-key-file", os.path.join(certs, f"{cert}.key"),
            "--tls-ca-cert-file", os.path.join(certs, "ca.crt"), *extra]


class TlsServer(Server):
    """A server with a plain port (for the harness's readiness check) and a TLS port."""

    def __init__(self, certs, *extra, cert="redis", threads=2):
        self.certs = certs
        self.tls_port = free_port()
        super().__init__(tls_args(certs, self.tls_port, *extra, cert=cert), threads=threads)

    def tls_client(self, cert="client", ca="ca", **kw):
        kw.setdefault("decode_responses", True)
        kw.setdefault("socket_timeout", 30)
        extra = {}
        if cert is not None:
            extra = {"ssl_certfile": os.path.join(self.certs, f"{cert}.crt"),
                     "ssl_keyfile": os.path.join(self.certs, f"{cert}.key")}
        return redis.Redis(host="127.0.0.1", port=self.tls_port, ssl=True,
                           ssl_ca_certs=os.path.join(self.certs, f"{ca}.crt"),
                           ssl_cert_reqs="required", **extra, **kw)


@pytest.fixture
def tls_factory(certs):
    started = []

    def make(*extra, **kw):
        s = TlsServer(certs, *extra, **kw)
        started.append(s)
        return s

    yield make
    for s in started:
        s.close()


@pytest.fixture(scope="module")
def tls_server(certs):
    s = TlsServer(certs)
    yield s
    s.close()


def refused(client):
    """True when the server refuses the client (its handshake or first command fails)."""
    try:
        client.ping()
    except (redis.ConnectionError, ssl.SSLError, OSError):
        return True
    return False


def ssl_socket(port, certs, cert="client"):
    ctx = ssl.create_default_context(cafile=os.path.join(certs, "ca.crt"))
    ctx.check_hostname = False
    if cert:
        ctx.load_cert_chain(os.path.join(certs, f"{cert}.crt"), os.path.join(certs, f"{cert}.key"))
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    return ctx.wrap_socket(s)


def peer_cert_pem(port, certs):
    with ssl_socket(port, certs) as s:
        return ssl.DER_cert_to_PEM_cert(s.getpeercert(binary_form=True))


def same_cert(pem, path):
    def der(p):
        return ssl.PEM_cert_to_DER_cert(p)
    with open(path) as f:
        return der(pem) == der(f.read())


@pytest.mark.parametrize("protocol", [2, 3], ids=["resp2", "resp3"])
def test_commands_over_tls_with_client_certificate(tls_server, protocol):
    c = tls_server.tls_client(protocol=protocol)
    assert c.ping()
    c.set("tls:k", "v")
    assert c.get("tls:k") == "v"
    c.hset("tls:h", mapping={"a": "1", "b": "2"})
    assert c.hgetall("tls:h") == {"a": "1", "b": "2"}
    c.close()


def test_plain_and_tls_ports_side_by_side(tls_server):
    t = tls_server.tls_client()
    p = tls_server.client()
    t.set("side", "by-tls")
    assert p.get("side") == "by-tls"
    p.set("side", "by-plain")
    assert t.get("side") == "by-plain"
    t.close()
    p.close()


def test_plain_client_on_tls_port_gets_no_reply(tls_server):
    s = socket.create_connection(("127.0.0.1", tls_server.tls_port), timeout=10)
    s.sendall(b"PING\r\n")
    try:
        data = s.recv(100)
    except (ConnectionResetError, socket.timeout):
        data = b""
    assert not data.startswith(b"+PONG")
    s.close()


def test_auth_clients_yes_refuses_no_expired_and_wrong_ca_certificates(tls_server):
    assert refused(tls_server.tls_client(cert=None))
    assert refused(tls_server.tls_client(cert="expired"))
    assert refused(tls_server.tls_client(cert="other"))
    # The server still serves a good client afterwards.
    assert tls_server.tls_client().ping()


def test_auth_clients_no_and_optional(tls_factory):
    s = tls_factory("--tls-auth-clients", "no")
    assert s.tls_client(cert=None).ping()
    assert s.client().config_get("tls-auth-clients") == {"tls-auth-clients": "no"}
    s.client().config_set("tls-auth-clients", "optional")
    assert s.tls_client(cert=None).ping()       # no certificate: fine
    assert s.tls_client(cert="client").ping()   # a good one: fine
    assert refused(s.tls_client(cert="other"))  # one from another CA: refused
    s.client().config_set("tls-auth-clients", "yes")
    assert refused(s.tls_client(cert=None))


def test_server_certificate_from_another_ca_is_refused_by_the_client(tls_server):
    assert refused(tls_server.tls_client(ca="other-ca"))


def test_config_set_cert_reload_keeps_connections(tls_factory, certs):
    s = tls_factory()
    old = s.tls_client()
    old.set("reload", "1")
    assert same_cert(peer_cert_pem(s.tls_port, certs), os.path.join(certs, "redis.crt"))
    admin = s.client()
    # Certificate and key together, in one CONFIG SET (each alone would not match the other).
    admin.execute_command("CONFIG", "SET", "tls-cert-file", os.path.join(certs, "server.crt"),
                          "tls-key-file", os.path.join(certs, "server.key"))
    # New connections get the new certificate; the one made before keeps working.
    assert same_cert(peer_cert_pem(s.tls_port, certs), os.path.join(certs, "server.crt"))
    assert old.get("reload") == "1"
    assert old.incr("reload") == 2
    assert s.tls_client().get("reload") == "2"
    assert admin.config_get("tls-cert-file")["tls-cert-file"].endswith("server.crt")


def test_config_set_bad_cert_file_keeps_the_old_context(tls_server, certs):
    admin = tls_server.client()
    with pytest.raises(redis.ResponseError, match="Unable to update TLS configuration"):
        admin.config_set("tls-cert-file", os.path.join(certs, "missing.crt"))
    assert admin.config_get("tls-cert-file")["tls-cert-file"].endswith("redis.crt")
    assert tls_server.tls_client().ping()


def test_start_with_missing_certificate_fails(certs, tmp_path):
    bin_args = (["redis-server", "--save", "", "--appendonly", "no"] if TARGET == "redis"
                else [os.environ.get("FDB_SERVER_BIN", os.path.join(ROOT, "build", "fdb-server"))])
    p = subprocess.run(bin_args + ["--port", str(free_port()), "--bind", "127.0.0.1",
                                   "--dir", str(tmp_path), "--tls-port", str(free_port()),
                                   "--tls-cert-file", str(tmp_path / "nope.crt"),
                                   "--tls-key-file", os.path.join(certs, "redis.key"),
                                   "--tls-ca-cert-file", os.path.join(certs, "ca.crt")],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode != 0
    assert "Failed to load certificate" in p.stdout + p.stderr


def test_tls_only_with_port_zero(certs, tmp_path):
    tls_port = free_port()
    bin_args = (["redis-server", "--save", "", "--appendonly", "no"] if TARGET == "redis"
                else [os.environ.get("FDB_SERVER_BIN", os.path.join(ROOT, "build", "fdb-server"))])
    proc = subprocess.Popen(bin_args + ["--port", "0", "--bind", "127.0.0.1", "--dir",
                                        str(tmp_path)] + tls_args(certs, tls_port),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def up():
            try:
                with ssl_socket(tls_port, certs):
                    return True
            except OSError:
                return False
        wait_for(up, what="the TLS port")
        c = redis.Redis(host="127.0.0.1", port=tls_port, ssl=True, decode_responses=True,
                        ssl_ca_certs=os.path.join(certs, "ca.crt"),
                        ssl_certfile=os.path.join(certs, "client.crt"),
                        ssl_keyfile=os.path.join(certs, "client.key"))
        assert c.ping()
        assert c.config_get("port") == {"port": "0"}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_tls_parameters_are_reported(tls_server):
    c = tls_server.client()
    got = c.config_get("tls-*")
    for name in ["tls-port", "tls-cert-file", "tls-key-file", "tls-ca-cert-file", "tls-auth-clients",
                 "tls-protocols", "tls-ciphers", "tls-ciphersuites", "tls-replication",
                 "tls-cluster", "tls-prefer-server-ciphers", "tls-session-caching",
                 "tls-session-cache-size", "tls-session-cache-timeout", "tls-client-cert-file"]:
        assert name in got, name
    assert got["tls-port"] == str(tls_server.tls_port)
    assert got["tls-auth-clients"] == "yes"


def test_protocols_setting_refuses_tls13_only_client(tls_factory, certs):
    s = tls_factory()
    s.client().config_set("tls-protocols", "TLSv1.2")
    ctx = ssl.create_default_context(cafile=os.path.join(certs, "ca.crt"))
    ctx.check_hostname = False
    ctx.load_cert_chain(os.path.join(certs, "client.crt"), os.path.join(certs, "client.key"))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    with pytest.raises((ssl.SSLError, OSError)):
        with socket.create_connection(("127.0.0.1", s.tls_port), timeout=10) as raw:
            with ctx.wrap_socket(raw) as t:
                t.sendall(b"PING\r\n")
                if not t.recv(10):
                    raise OSError("closed")
    with pytest.raises(redis.ResponseError):
        s.client().config_set("tls-protocols", "SSLv2")


def test_big_pipeline_and_big_replies_over_tls(tls_server):
    c = tls_server.tls_client(decode_responses=False)
    big = os.urandom(3 * 1024 * 1024)
    c.set("tls:big", big)
    assert c.get("tls:big") == big
    p = c.pipeline(transaction=False)
    for i in range(20000):
        p.set(f"tls:p:{i}", b"x" * (i % 100))
    for i in range(20000):
        p.get(f"tls:p:{i}")
    out = p.execute()
    assert out[:20000] == [True] * 20000
    assert out[20000:] == [b"x" * (i % 100) for i in range(20000)]
    # Several MB values read back in one pipeline: replies far larger than a TLS record.
    p = c.pipeline(transaction=False)
    for _ in range(4):
        p.get("tls:big")
    assert p.execute() == [big] * 4
    c.close()


def test_stalled_and_garbage_handshakes_do_not_hurt_other_clients(tls_server):
    silent = [socket.create_connection(("127.0.0.1", tls_server.tls_port)) for _ in range(20)]
    garbage = socket.create_connection(("127.0.0.1", tls_server.tls_port))
    garbage.sendall(b"\x16\x03\x01\x00\xff" + b"\x00" * 64)  # a truncated ClientHello
    junk = socket.create_connection(("127.0.0.1", tls_server.tls_port))
    junk.sendall(os.urandom(4096))
    c = tls_server.tls_client()
    for i in range(50):
        assert c.incr("tls:stall") == i + 1
    assert tls_server.client().ping()
    # Garbage ends that client's connection (after an alert, perhaps).
    junk.settimeout(30)
    try:
        while junk.recv(100):
            pass
    except ConnectionResetError:
        pass
    for s in silent + [garbage, junk]:
        s.close()


def test_handshake_that_never_completes_is_closed_by_timeout(tls_factory):
    s = tls_factory("--timeout", "1")
    stalled = socket.create_connection(("127.0.0.1", s.tls_port))
    stalled.settimeout(60)
    try:
        assert stalled.recv(10) == b""  # the server closed it
    except ConnectionResetError:
        pass
    stalled.close()


def test_client_list_counts_tls_clients_against_maxclients(tls_factory):
    s = tls_factory("--maxclients", "3")
    keep = [s.tls_client(), s.tls_client(), s.client()]
    for k in keep:
        assert k.ping()
    assert refused(s.tls_client())
    for k in keep:
        k.close()


def test_redis_cli_over_tls(tls_server, certs):
    base = ["redis-cli", "-h", "127.0.0.1", "-p", str(tls_server.tls_port), "--tls",
            "--cacert", os.path.join(certs, "ca.crt"),
            "--cert", os.path.join(certs, "client.crt"), "--key", os.path.join(certs, "client.key")]
    out = subprocess.run(base + ["SET", "cli:k", "hello"], capture_output=True, text=True,
                         timeout=30)
    assert out.stdout.strip() == "OK", out
    out = subprocess.run(base + ["-3", "HELLO", "3"], capture_output=True, text=True, timeout=30)
    assert "proto" in out.stdout
    out = subprocess.run(base + ["GET", "cli:k"], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "hello"
    # Without a client certificate (tls-auth-clients yes): refused.
    out = subprocess.run(base[:8] + ["PING"], capture_output=True, text=True, timeout=30)
    assert "PONG" not in out.stdout


def test_config_set_moves_between_plain_and_tls_ports(tls_factory):
    s = tls_factory()
    tls_port = s.tls_port
    t = s.tls_client()
    # TLS off, the plain listener moved to the TLS port's number.
    t.config_set("tls-port", 0)
    t.config_set("port", tls_port)
    t.close()
    p = redis.Redis(host="127.0.0.1", port=tls_port, decode_responses=True, socket_timeout=30)
    assert p.ping()
    # And back: the plain port elsewhere, TLS on that number again.
    other = free_port()
    p.config_set("port", other)
    p.config_set("tls-port", tls_port)
    p.close()
    s.port = other
    assert s.tls_client().ping()
    assert s.client().config_get("tls-port") == {"tls-port": str(tls_port)}


def test_encrypted_key_file_needs_its_passphrase(tls_factory, certs, tmp_path):
    s = tls_factory()
    enc = str(tmp_path / "redis.key.enc")
    subprocess.run(["openssl", "rsa", "-in", os.path.join(certs, "redis.key"), "-out", enc,
                    "-aes256", "-passout", "pass:1234"], check=True, capture_output=True)
    admin = s.client()
    with pytest.raises(redis.ResponseError, match="Unable to update TLS"):
        admin.config_set("tls-key-file", enc)
    admin.config_set("tls-key-file-pass", "1234")
    admin.config_set("tls-key-file", enc)
    assert s.tls_client().ping()


def test_bytes_decrypted_ahead_are_served_without_more_input(tls_server):
    # The end of a large value and the small commands after it share TLS records: once the value
    # is complete, the commands are already inside OpenSSL (SSL_pending) and the socket has
    # nothing more to announce; they must be served all the same.
    # (Without that, the pipeline waits for ever: a short timeout makes it fail instead.)
    c = tls_server.tls_client(decode_responses=False, socket_timeout=10)
    for size in (1 << 20, (1 << 20) + 7777, 300_000):
        p = c.pipeline(transaction=False)
        p.set("tls:pend", b"v" * size)
        for i in range(5):
            p.incr("tls:pend:n")
        p.strlen("tls:pend")
        out = p.execute()
        assert out[0] is True
        assert out[-1] == size
    c.close()
