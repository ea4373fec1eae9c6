"""CLIENT LIST / INFO / KILL / UNBLOCK details, CONFIG SET rollback texts, and transactions
refused as a whole while a script is busy or memory is out, as Redis 7.0.

Checked against redis-server 7.0.15 (FDB_TEST_TARGET=redis).
"""

import pytest
import redis

from conftest import Raw, TARGET, wait_for


def fields(line):
    return dict(kv.split("=", 1) for kv in line.strip().split(" "))


def test_client_info_qbuf_counts_the_running_request(server):
    c = Raw(server.port)
    c.cmd("CLIENT", "INFO")
    reply = c.read_reply()
    info = fields(reply.split(b"\r\n", 1)[1].decode())
    # *2 $6 CLIENT $4 INFO: 26 bytes, still in the query buffer while the command runs.
    assert info["qbuf"] == "26"
    assert info["cmd"] == "client|info"
    assert info["flags"] == "N"
    assert info["user"] == "default"
    c.close()


def test_client_kill_user_must_exist(r):
    with pytest.raises(redis.ResponseError, match="^No such user 'wrong_user'"):
        r.execute_command("CLIENT", "KILL", "USER", "wrong_user")


def test_client_kill_skipme_counts_and_connected_clients(server, r):
    others = [Raw(server.port) for _ in range(2)]
    for o in others:
        o.cmd("PING")
        assert o.read_reply() == b"+PONG\r\n"
    before = r.info("clients")["connected_clients"]
    killed = r.execute_command("CLIENT", "KILL", "SKIPME", "yes")
    assert killed == before - 1
    # The killed clients are gone at once for INFO, though they close on their own threads.
    assert r.info("clients")["connected_clients"] == 1
    for o in others:
        assert o.closed()


@pytest.mark.parametrize("mode,reply", [("TIMEOUT", b"*-1\r\n"), ("ERROR", None)])
def test_client_unblock(server, r, mode, reply):
    b = Raw(server.port)
    b.cmd("CLIENT", "ID")
    cid = int(b.read_reply()[1:-2])
    b.cmd("BLPOP", "nolist", 0)
    wait_for(lambda: r.info("clients")["blocked_clients"] == 1, what="BLPOP to block")
    assert r.execute_command("CLIENT", "UNBLOCK", cid, mode) == 1
    got = b.read_reply()
    if reply is None:
        assert got == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    else:
        assert got == reply
    # No longer blocked: it answers, and a second UNBLOCK finds nothing.
    b.cmd("PING")
    assert b.read_reply() == b"+PONG\r\n"
    assert r.execute_command("CLIENT", "UNBLOCK", cid) == 0
    b.close()


def test_client_unblock_error_is_counted(server_factory):
    """As Redis (tests/unit/info.tcl, "errorstats: blocking commands"): the UNBLOCKED error is
    one error reply of BLPOP, in errorstats, total_error_replies and BLPOP's failed_calls."""
    s = server_factory()
    r = s.client()
    b = Raw(s.port)
    b.cmd("CLIENT", "ID")
    cid = int(b.read_reply()[1:-2])
    r.config_resetstat()
    b.cmd("BLPOP", "nolist", 0)
    wait_for(lambda: r.info("clients")["blocked_clients"] == 1, what="BLPOP to block")
    assert r.execute_command("CLIENT", "UNBLOCK", cid, "ERROR") == 1
    assert b.read_reply().startswith(b"-UNBLOCKED")
    assert r.info("errorstats")["errorstat_UNBLOCKED"]["count"] == 1
    blpop = r.info("commandstats")["cmdstat_blpop"]
    assert (blpop["calls"], blpop["failed_calls"], blpop["rejected_calls"]) == (1, 1, 0)
    assert r.info("stats")["total_error_replies"] == 1
    b.close()


def test_client_unblock_errors(r):
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.execute_command("CLIENT", "UNBLOCK", "abc")
    with pytest.raises(redis.ResponseError, match="CLIENT UNBLOCK reason should be TIMEOUT or ERROR"):
        r.execute_command("CLIENT", "UNBLOCK", 1, "LATER")
    assert r.execute_command("CLIENT", "UNBLOCK", 999999) == 0


def test_config_set_rollback_keeps_every_value(r):
    before = r.config_get("maxmemory")["maxmemory"]
    qbl = r.config_get("client-query-buffer-limit")["client-query-buffer-limit"]
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("CONFIG", "SET", "maxmemory", "10000001", "maxmemory-clients", "200%",
                          "client-query-buffer-limit", "invalid")
    assert str(e.value) == ("CONFIG SET failed (possibly related to argument 'maxmemory-clients') "
                            "- percentage argument must be less or equal to 100")
    assert r.config_get("maxmemory")["maxmemory"] == before
    assert r.config_get("client-query-buffer-limit")["client-query-buffer-limit"] == qbl


def test_config_set_of_a_startup_parameter_to_its_own_value(r):
    # Tools write back what CONFIG GET read; FDB cannot move its listener, but the same value
    # changes nothing.
    port = r.config_get("port")["port"]
    assert r.config_set("port", port)
    bind = r.config_get("bind")["bind"]
    assert r.config_set("bind", bind)


def test_multi_is_allowed_and_exec_aborts_while_a_script_is_busy(server, r):
    r.config_set("busy-reply-threshold", 10)
    try:
        r.set("xx", "1")
        loop = Raw(server.port)
        loop.cmd("EVAL", "while true do end", 0)
        t = Raw(server.port)
        wait_for(lambda: _busy(t), what="the script to be busy")
        t.cmd("MULTI")
        assert t.read_reply() == b"+OK\r\n"
        t.cmd("INCR", "xx")
        assert t.read_reply().startswith(b"-BUSY")
        t.cmd("EXEC")
        assert t.read_reply().startswith(
            b"-EXECABORT Transaction discarded because of: BUSY Redis is busy running a script")
        # The transaction is over.
        t.cmd("PING", "x")
        assert t.read_reply().startswith(b"-BUSY")
        r.script_kill()
        assert loop.read_reply().startswith(b"-ERR")
        t.cmd("PING", "x")
        assert t.read_reply() == b"$1\r\nx\r\n"
        assert r.get("xx") == "1"
        loop.close()
        t.close()
    finally:
        r.config_set("busy-reply-threshold", 5000)


def _busy(c):
    c.cmd("PING")
    return c.read_reply().startswith(b"-BUSY")


def test_queueing_under_oom_with_the_default_policy(server_factory):
    # maxmemory far below what must stay in RAM (the index and the server's own tables): with
    # persistence FDB cannot move those to disk, so it refuses as Redis's noeviction does.
    s = server_factory()
    c = s.client()
    c.set("a", "1")
    c.set("b", "2")
    c.config_set("maxmemory", 1)
    t = Raw(s.port)
    t.cmd("MULTI")
    assert t.read_reply() == b"+OK\r\n"
    t.cmd("SET", "x", "1")
    assert t.read_reply() == b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"
    t.cmd("DISCARD")
    assert t.read_reply() == b"+OK\r\n"
    # Reads still run.
    assert c.get("a") == "1"
    c.config_set("maxmemory", 0)
    assert c.set("x", "1")
    t.close()


def test_errorstats_and_commandstats_of_transactions(r):
    r.config_resetstat()
    assert r.info("stats")["total_error_replies"] == 0
    with pytest.raises(redis.ResponseError):
        r.execute_command("NOSUCHCOMMAND")
    p = r.pipeline(transaction=True)
    p.set("a", "b").lpush("a", "x")
    res = p.execute(raise_on_error=False)
    assert res[0] is True and isinstance(res[1], redis.ResponseError)
    info = r.info("errorstats")
    assert info["errorstat_ERR"]["count"] == 1
    assert info["errorstat_WRONGTYPE"]["count"] == 1
    assert r.info("stats")["total_error_replies"] == 2
    stats = r.info("commandstats")
    # EXEC ran and did not fail itself; the failure belongs to LPUSH.
    assert stats["cmdstat_multi"]["calls"] == 1
    assert stats["cmdstat_exec"]["calls"] == 1
    assert stats["cmdstat_exec"]["failed_calls"] == 0
    assert stats["cmdstat_lpush"]["failed_calls"] == 1
    with pytest.raises(redis.ResponseError, match="EXEC without MULTI"):
        r.execute_command("EXEC")
    stats = r.info("commandstats")
    assert stats["cmdstat_exec"]["calls"] == 2
    assert stats["cmdstat_exec"]["failed_calls"] == 1
    r.config_resetstat()
    assert "errorstat_ERR" not in r.info("errorstats")


def test_latencystats_percentiles(r):
    r.config_resetstat()
    r.set("k", "v")
    line = r.info("latencystats")["latency_percentiles_usec_set"]
    assert set(line) == {"p50", "p99", "p99.9"}


def test_min_replicas_to_write_refuses_writes_without_replicas(r, server):
    r.set("xx", "1")
    t = Raw(server.port)
    t.cmd("MULTI")
    t.cmd("INCR", "xx")
    assert t.read_reply() == b"+OK\r\n"
    assert t.read_reply() == b"+QUEUED\r\n"
    r.config_set("min-replicas-to-write", 2)
    try:
        t.cmd("EXEC")
        assert t.read_reply() == (b"-EXECABORT Transaction discarded because of: NOREPLICAS Not "
                                  b"enough good replicas to write.\r\n")
        with pytest.raises(redis.ResponseError, match="^NOREPLICAS Not enough good replicas"):
            r.set("xx", "2")
        assert r.get("xx") == "1"  # reads still run
    finally:
        r.config_set("min-replicas-to-write", 0)
    assert r.incr("xx") == 2
    t.close()


def test_cluster_commands_answer_as_a_server_without_cluster_support(r):
    for sub in (["INFO"], ["HELP"], ["KEYSLOT", "k"], ["NODES"]):
        with pytest.raises(redis.ResponseError, match="^This instance has cluster support disabled"):
            r.execute_command("CLUSTER", *sub)
    assert "cluster|help" in r.command_list(pattern="cl*help")
