"""HTTPS on the HTTP listener (`http-tls yes`): /metrics and the dashboard's API over TLS with
the RESP listener's tls-* certificate, key and CA; client certificates as tls-auth-clients says;
the session cookie marked Secure; CONFIG SET of http-tls and of a certificate.

Certificates come from scripts/gen-test-certs.sh (tests/test_tls.py's fixture).
"""

import http.client
import os
import socket
import ssl
import subprocess

import pytest

from conftest import FDB_BIN, TARGET, free_port
from test_dashboard import Http
from test_tls import certs  # noqa: F401  (the session's certificates)

pytestmark = pytest.mark.skipif(TARGET == "redis", reason="FDB's own HTTP listener")


def tls_files(certs, cert="redis"):
    return ["--tls-cert-file", os.path.join(certs, f"{cert}.crt"),
            "--tls-key-file", os.path.join(certs, f"{cert}.key"),
            "--tls-ca-cert-file", os.path.join(certs, "ca.crt")]


def https_server(server_factory, certs, *extra):
    port = free_port()
    s = server_factory("--http-port", str(port), "--http-tls", "yes", *tls_files(certs), *extra)
    s.http_port = port
    return s


def context(certs, cert=None, ca="ca"):
    """A client's context that verifies the server against `ca` (no host name in the test
    certificates) and presents `cert` when given."""
    ctx = ssl.create_default_context(cafile=os.path.join(certs, f"{ca}.crt"))
    ctx.check_hostname = False
    if cert is not None:
        ctx.load_cert_chain(os.path.join(certs, f"{cert}.crt"), os.path.join(certs, f"{cert}.key"))
    return ctx


def get(port, ctx, path="/metrics"):
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=ctx)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def plain_http_fails(port):
    """Plain HTTP to the port gets no HTTP response (the TLS handshake fails instead)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        return conn.getresponse().status != 200
    except (http.client.HTTPException, OSError):
        return True
    finally:
        conn.close()


def test_metrics_and_page_over_https(server_factory, certs):
    s = https_server(server_factory, certs, "--tls-auth-clients", "no")
    s.client().set("k", "v")
    status, body = get(s.http_port, context(certs))
    assert status == 200
    assert "redis_up 1" in body and 'redis_db_keys{db="db0"} 1' in body
    for _ in range(20):  # every worker thread, several times
        status, page = get(s.http_port, context(certs), "/")
        assert status == 200 and "<html" in page.lower()
    # The certificate the server presents is tls-cert-file's.
    with socket.create_connection(("127.0.0.1", s.http_port), timeout=10) as raw:
        with context(certs).wrap_socket(raw) as tls:
            pem = ssl.DER_cert_to_PEM_cert(tls.getpeercert(binary_form=True))
    with open(os.path.join(certs, "redis.crt")) as f:
        assert ssl.PEM_cert_to_DER_cert(pem) == ssl.PEM_cert_to_DER_cert(f.read())
    assert plain_http_fails(s.http_port)


def test_client_certificates_follow_tls_auth_clients(server_factory, certs):
    s = https_server(server_factory, certs)  # tls-auth-clients yes, Redis's default
    assert get(s.http_port, context(certs, cert="client"))[0] == 200
    for ctx in (context(certs), context(certs, cert="other")):  # none, and one of another CA
        with pytest.raises((ssl.SSLError, ConnectionError, OSError, http.client.HTTPException)):
            get(s.http_port, ctx)
    # A server certificate from another CA is refused by the client.
    with pytest.raises(ssl.SSLError):
        get(s.http_port, context(certs, cert="client", ca="other-ca"))


def test_session_cookie_is_secure_over_https_only(server_factory, certs):
    s = https_server(server_factory, certs, "--tls-auth-clients", "no", "--requirepass", "pw")
    h = Http(s.http_port, context=context(certs))
    status, headers, data = h.login(password="pw")
    assert status == 200, data
    cookie = headers["Set-Cookie"]
    assert "; Secure;" in cookie and "HttpOnly" in cookie
    assert h.command("SET", "k", "v") == "OK"
    assert s.client(password="pw").get("k") == "v"
    # Plain HTTP: no Secure (the browser would never send it back).
    s.client(password="pw").config_set("http-tls", "no")
    plain = Http(s.http_port)
    status, headers, _ = plain.login(password="pw")
    assert status == 200 and "Secure" not in headers["Set-Cookie"]


def test_config_set_switches_https_and_reloads_the_certificate(server_factory, certs):
    port = free_port()
    s = server_factory("--http-port", str(port), *tls_files(certs), "--tls-auth-clients", "no")
    c = s.client()
    assert get_plain_status(port) == 200
    assert c.config_set("http-tls", "yes")
    assert c.config_get("http-tls") == {"http-tls": "yes"}
    assert get(port, context(certs))[0] == 200
    assert plain_http_fails(port)
    # A certificate that cannot be loaded is refused; the listener keeps the one it has.
    with pytest.raises(Exception, match="Unable to update TLS configuration"):
        c.config_set("tls-cert-file", os.path.join(certs, "missing.crt"))
    assert "Failed to load certificate" in s.read_log()
    assert c.config_get("tls-cert-file")["tls-cert-file"].endswith("redis.crt")
    assert get(port, context(certs))[0] == 200
    assert c.config_set("http-tls", "no")
    assert get_plain_status(port) == 200


def get_plain_status(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        return conn.getresponse().status
    finally:
        conn.close()


def test_http_tls_without_a_certificate_refuses_to_start(tmp_path):
    p = subprocess.run([FDB_BIN, "--port", str(free_port()), "--bind", "127.0.0.1",
                        "--dir", str(tmp_path), "--http-port", str(free_port()),
                        "--http-tls", "yes"],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode != 0
    assert "No tls-cert-file configured!" in p.stdout + p.stderr


def test_garbage_and_stalled_handshakes_leave_https_serving(server_factory, certs):
    s = https_server(server_factory, certs, "--tls-auth-clients", "no")
    stalled = [socket.create_connection(("127.0.0.1", s.http_port), timeout=10) for _ in range(3)]
    plain = b"GET / HTTP/1.1\r\n\r\n"
    bad_hello = b"\x16\x03\x01\xff\xff" + b"\x00" * 300  # a record header promising 64 KB
    for junk in (plain, bad_hello, os.urandom(4096)):
        with socket.create_connection(("127.0.0.1", s.http_port), timeout=10) as raw:
            raw.sendall(junk)
            try:
                raw.recv(1024)
            except OSError:
                pass
    for c in stalled:
        c.close()
    assert get(s.http_port, context(certs))[0] == 200
    assert s.client().ping()
