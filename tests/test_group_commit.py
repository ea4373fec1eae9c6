"""Replies wait for their log records to be committed; these tests check they always come.

A regression test for a stall: a client that pipelines many writes on one connection kept
running commands while its earlier replies were held, and the later records were never asked
to be committed, so the last replies never left.
"""

import socket
import time

import pytest

from conftest import TARGET, Raw


def pipelined_sets(n, prefix="k"):
    out = []
    for i in range(n):
        k = f"{prefix}{i}".encode()
        v = b"v" * 100
        out.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
    return b"".join(out)


@pytest.mark.parametrize("policy", ["always", "everysec", "no"])
def test_long_pipeline_gets_every_reply(server_factory, policy):
    extra = () if TARGET == "redis" else ("--fsync", policy)
    srv = server_factory(*extra)
    c = Raw(srv.port)
    n = 20000
    c.send(pipelined_sets(n))
    c.sock.settimeout(20)
    deadline = time.time() + 30
    got = 0
    while got < n:
        assert time.time() < deadline, f"only {got} of {n} replies"
        assert c.read_reply() == b"+OK\r\n"
        got += 1
    c.cmd("DBSIZE")
    assert c.read_reply() == b":%d\r\n" % n
    c.close()


def test_many_clients_pipelining_under_fsync_always(server_factory):
    extra = () if TARGET == "redis" else ("--fsync", "always")
    srv = server_factory(*extra)
    clients = [Raw(srv.port) for _ in range(8)]
    n = 2000
    for i, c in enumerate(clients):
        c.send(pipelined_sets(n, prefix=f"c{i}:"))
    for c in clients:
        c.sock.settimeout(20)
        for _ in range(n):
            assert c.read_reply() == b"+OK\r\n"
    clients[0].cmd("DBSIZE")
    assert clients[0].read_reply() == b":%d\r\n" % (8 * n)
    for c in clients:
        c.close()


def fsyncs(client):
    return int(client.info("persistence")["fdb_fsyncs"])


@pytest.mark.skipif(TARGET == "redis", reason="FDB's own INFO fields")
def test_config_set_appendfsync_changes_the_policy_at_runtime(server_factory):
    srv = server_factory("--fsync", "everysec")
    r = srv.client()
    before = fsyncs(r)
    for i in range(50):
        r.set(f"e{i}", "v")
    # everysec: at most a couple of fsyncs for 50 sequential writes
    assert fsyncs(r) - before <= 3
    assert r.config_set("appendfsync", "always")
    assert r.config_get("appendfsync") == {"appendfsync": "always"}
    before = fsyncs(r)
    for i in range(50):
        r.set(f"a{i}", "v")
    # always: each acknowledged write (sequential, one client) waited for its own fsync
    assert fsyncs(r) - before >= 50
    r.close()
