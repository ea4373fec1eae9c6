"""Replication over TLS (tls-replication): a replica's link is a TLS client of its master's TLS
port, and a primary serves a replica that arrives on its TLS port over that TLS session.

Every process is started by the test on loopback ports; the certificates are tests/test_tls.py's
(scripts/gen-test-certs.sh). The replicas below are pointed at the primary's TLS port only,
which answers nothing to plain text: a replica that did not speak TLS, or a primary that did not
stream over the session, would never sync. Debian's redis-server (built with TLS) stands on the
other side for the interoperability tests.
"""

import os
import signal
import subprocess

import pytest

from conftest import TARGET, free_port, wait_for
from test_replication import (RedisServer, Writer, change_every_type, dataset,
                              fill_every_type, info, wait_synced)
from test_tls import TlsServer, certs  # noqa: F401 (the certificates fixture)

pytestmark = pytest.mark.skipif(TARGET != "fdb", reason="FDB's replication")

needs_redis = pytest.mark.skipif(not os.path.exists("/usr/bin/redis-server"),
                                 reason="needs redis-server")


@pytest.fixture
def started():
    servers = []
    yield servers
    for s in servers:
        s.close()


def fdb(started, certs, *extra, **kw):
    s = TlsServer(certs, *extra, **kw)
    started.append(s)
    return s


def replica_args(primary_tls_port, *extra):
    return ["--tls-replication", "yes", "--replicaof", "127.0.0.1", str(primary_tls_port),
            *extra]


def redis_tls_args(certs, cert="redis", ca="ca"):
    return ["--tls-cert-file", os.path.join(certs, f"{cert}.crt"),
            "--tls-key-file", os.path.join(certs, f"{cert}.key"),
            "--tls-ca-cert-file", os.path.join(certs, f"{ca}.crt")]


def log_has(server, text):
    return text in server.read_log()


def test_replica_over_tls_gets_every_type_and_every_change(started, certs):
    primary = fdb(started, certs)
    pc = primary.client()
    fill_every_type(pc)
    replica = fdb(started, certs, *replica_args(primary.tls_port))
    wait_synced(primary, replica)
    assert dataset(replica) == dataset(primary)
    change_every_type(pc)
    pc.swapdb(0, 1)
    wait_synced(primary, replica)
    assert dataset(replica) == dataset(primary)
    # The stream keeps flowing in both directions: WAIT counts the replica's acknowledgement.
    pc.set("acked", "1")
    assert pc.wait(1, 10000) == 1
    slave = info(pc)["slave0"]
    assert slave["state"] == "online"
    assert info(replica.client())["master_port"] == primary.tls_port


def test_masterauth_and_client_certificate_over_tls(started, certs):
    # tls-auth-clients yes (the default): the primary requires a client certificate, and the
    # replica presents tls-client-cert-file, not its server-only tls-cert-file.
    primary = fdb(started, certs, "--requirepass", "s3cret", "--tls-auth-clients", "yes")
    pc = primary.client(password="s3cret")
    pc.set("k", "v")
    replica = fdb(started, certs, *replica_args(
        primary.tls_port, "--masterauth", "s3cret",
        "--tls-client-cert-file", os.path.join(certs, "client.crt"),
        "--tls-client-key-file", os.path.join(certs, "client.key")), cert="server")
    rc = replica.client()
    wait_for(lambda: info(rc).get("master_link_status") == "up", timeout=30,
             what="the link over TLS with AUTH")
    wait_for(lambda: rc.get("k") == "v", timeout=30, what="the key")
    pc.set("later", "1")
    wait_for(lambda: rc.get("later") == "1", timeout=30, what="the stream")


def test_server_only_certificate_is_refused_as_a_replicas_client_certificate(started, certs):
    # The counterpart of the test above: without tls-client-cert-file the replica presents its
    # tls-cert-file, here a server-only certificate, which the primary's CA check refuses.
    primary = fdb(started, certs, "--tls-auth-clients", "yes")
    primary.client().set("k", "v")
    replica = fdb(started, certs, *replica_args(primary.tls_port), cert="server")
    wait_for(lambda: log_has(replica, "TLS error on the connection to"), timeout=30,
             what="the handshake refused")
    rc = replica.client()
    assert info(rc)["master_link_status"] == "down"
    assert rc.dbsize() == 0


def test_killed_replica_resumes_by_partial_sync_over_tls(started, certs):
    primary = fdb(started, certs)
    pc = primary.client()
    replica = fdb(started, certs, *replica_args(primary.tls_port))
    wait_synced(primary, replica)
    writer = Writer(primary, n=3000, prefix="a")
    writer.start()
    replica.stop(signal.SIGKILL)
    writer.join(120)
    assert writer.error is None
    stats = pc.info("stats")
    full_before, partial_before = stats["sync_full"], stats["sync_partial_ok"]
    replica.start()
    wait_synced(primary, replica, timeout=60)
    stats = pc.info("stats")
    # How we know it resumed: the primary served a partial resync and no new full sync.
    assert stats["sync_partial_ok"] == partial_before + 1
    assert stats["sync_full"] == full_before
    assert dataset(replica) == dataset(primary)


def test_replica_refuses_a_primary_certificate_of_another_ca(started, certs):
    primary = fdb(started, certs, "--tls-auth-clients", "no")
    primary.client().set("k", "v")
    # The replica trusts only the other CA: the primary's certificate is not signed by it.
    replica = fdb(started, certs, *replica_args(
        primary.tls_port, "--tls-ca-cert-file", os.path.join(certs, "other-ca.crt")))
    wait_for(lambda: log_has(replica, "certificate verify failed"), timeout=30,
             what="the primary's certificate refused")
    rc = replica.client()
    assert info(rc)["master_link_status"] == "down"
    assert rc.dbsize() == 0
    assert info(primary.client())["connected_slaves"] == 0


@needs_redis
def test_a_redis_replica_of_an_fdb_primary_over_tls(started, certs, tmp_path):
    primary = fdb(started, certs)
    pc = primary.client()
    fill_every_type(pc)
    rs = RedisServer(tmp_path, "--tls-replication", "yes", *redis_tls_args(certs),
                     "--replicaof", "127.0.0.1", str(primary.tls_port))
    try:
        rc = rs.client()
        wait_for(lambda: rc.info("replication").get("master_link_status") == "up",
                 timeout=30, what="the Redis replica's link over TLS")
        wait_for(lambda: rc.dbsize() == pc.dbsize(), timeout=30, what="the snapshot")
        assert dataset(rs) == dataset(primary)
        change_every_type(pc)
        pc.set("last", "1")
        wait_for(lambda: rc.get("last") == "1", timeout=30, what="the stream")
        assert dataset(rs) == dataset(primary)
    finally:
        rs.close()


@needs_redis
def test_an_fdb_replica_of_a_redis_primary_over_tls(started, certs, tmp_path):
    tls_port = free_port()
    source = RedisServer(tmp_path, "--tls-port", str(tls_port), *redis_tls_args(certs))
    try:
        c = source.client()
        fill_every_type(c)
        replica = fdb(started, certs, *replica_args(tls_port))
        wait_synced(source, replica, timeout=60)
        assert dataset(replica) == dataset(source)
        change_every_type(c)
        wait_synced(source, replica, timeout=60)
        assert dataset(replica) == dataset(source)
    finally:
        source.close()


def test_tls_replication_without_certificates_fails_at_start(certs, tmp_path):
    # As Redis: tls-replication needs the TLS context even without a tls-port.
    from conftest import FDB_BIN
    out = subprocess.run([FDB_BIN, "--port", str(free_port()), "--bind", "127.0.0.1",
                          "--dir", str(tmp_path), "--tls-replication", "yes"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert "Failed to configure TLS" in out.stdout + out.stderr
