"""Replication: a primary's data set and every later change reach its replicas.

Every process is started by the test on loopback ports. Data is compared key by key, for every
type, through ordinary read commands on the primary and on the replica.
"""

import os
import signal
import threading
import time

import pytest
import redis

from conftest import TARGET, Server, wait_for

pytestmark = pytest.mark.skipif(TARGET != "fdb", reason="FDB's replication")


def info(c, section="replication"):
    return c.info(section)


def wait_synced(primary, *replicas, timeout=30):
    """Waits until every replica's link is up and it has applied the primary's whole stream."""
    pc = primary.client()

    def synced():
        want = info(pc)["master_repl_offset"]
        for rep in replicas:
            i = info(rep.client())
            if i.get("master_link_status") != "up" or i.get("slave_repl_offset") != want:
                return False
        return info(pc)["master_repl_offset"] == want

    wait_for(synced, timeout=timeout, interval=0.05, what="replicas in sync")


def dataset(server, dbs=(0, 1)):
    """Every key of `dbs` with its type, value and whether it has a deadline (binary-safe)."""
    c = server.client(decode_responses=False)
    out = {}
    for db in dbs:
        c.execute_command("SELECT", db)
        for key in c.scan_iter(count=1000):
            t = c.type(key).decode()
            if t == "string":
                v = c.get(key)
            elif t == "list":
                v = c.lrange(key, 0, -1)
            elif t == "hash":
                v = sorted(c.hgetall(key).items())
            elif t == "set":
                v = sorted(c.smembers(key))
            elif t == "zset":
                v = c.zrange(key, 0, -1, withscores=True)
            elif t == "stream":
                groups = [tuple(g.get(f, g.get(f.encode())) for f in
                                ("name", "last-delivered-id", "pending"))
                          for g in c.xinfo_groups(key)]
                v = (c.xrange(key), sorted(groups))
            else:
                v = None
            out[(db, key)] = (t, v, c.pttl(key) > 0)
    c.close()
    return out


def fill_every_type(c, prefix=""):
    c.set(prefix + "s", "v")
    c.set(prefix + "n", 10)
    c.set(prefix + "ttl", "x", ex=1000)
    c.rpush(prefix + "l", *[f"e{i}" for i in range(300)])
    c.hset(prefix + "h", mapping={f"f{i}": i for i in range(200)})
    c.hset(prefix + "hs", mapping={"a": 1})
    c.sadd(prefix + "set", *range(600))
    c.sadd(prefix + "sets", "x", "y")
    c.zadd(prefix + "z", {f"m{i}": i / 3 for i in range(200)})
    c.xadd(prefix + "x", {"a": "1"}, id="1-1")
    c.xadd(prefix + "x", {"b": "2"}, id="2-1")
    c.xgroup_create(prefix + "x", "g", id="0")
    c.xreadgroup("g", "c1", {prefix + "x": ">"}, count=1)
    c.setbit(prefix + "bits", 1000, 1)
    c.pfadd(prefix + "hll", "a", "b", "c")
    c.execute_command("SELECT", 1)
    c.set(prefix + "db1", "one")
    c.execute_command("SELECT", 0)


def change_every_type(c, prefix=""):
    """In-place changes (deltas), deadlines, deletions, renames, and whole-database ones."""
    c.incr(prefix + "n")
    c.append(prefix + "s", "tail")
    c.setrange(prefix + "s", 1, "Z")
    c.lpush(prefix + "l", "head")
    c.lset(prefix + "l", 5, "five")
    c.linsert(prefix + "l", "BEFORE", "e10", "pivot")
    c.lrem(prefix + "l", 1, "e20")
    c.ltrim(prefix + "l", 1, 250)
    c.rpop(prefix + "l", 3)
    c.hincrby(prefix + "h", "f1", 5)
    c.hdel(prefix + "h", "f2")
    c.hincrbyfloat(prefix + "hs", "a", 0.5)
    c.srem(prefix + "set", 5, 6)
    c.spop(prefix + "set", 3)
    c.smove(prefix + "sets", prefix + "set", "x")
    c.zincrby(prefix + "z", 2.5, "m3")
    c.zrem(prefix + "z", "m4")
    c.zpopmin(prefix + "z", 2)
    c.xadd(prefix + "x", {"c": "3"}, id="3-1")
    c.xack(prefix + "x", "g", "1-1")
    c.xdel(prefix + "x", "2-1")
    c.setbit(prefix + "bits", 7, 1)
    c.pfadd(prefix + "hll", "d")
    c.expire(prefix + "s", 500)
    c.persist(prefix + "ttl")
    c.rename(prefix + "hs", prefix + "hs2")
    c.delete(prefix + "sets")
    c.execute_command("SELECT", 1)
    c.flushdb()
    c.set(prefix + "db1b", "two")
    c.execute_command("SELECT", 0)


def test_replica_gets_the_data_set_and_every_later_change(server_factory):
    primary = server_factory()
    pc = primary.client()
    fill_every_type(pc)
    replica = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, replica)
    rc = replica.client()
    assert dataset(replica) == dataset(primary)
    change_every_type(pc)
    wait_synced(primary, replica)
    assert dataset(replica) == dataset(primary)
    pc.swapdb(0, 1)
    wait_synced(primary, replica)
    assert dataset(replica) == dataset(primary)
    pc.flushall()
    pc.set("after", "flush")
    wait_synced(primary, replica)
    assert dataset(replica) == dataset(primary) == {(0, b"after"): ("string", b"flush", False)}


def test_role_info_and_read_only(server_factory):
    primary = server_factory()
    replica = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, replica)
    pc, rc = primary.client(), replica.client()
    pc.set("k", "v")
    wait_synced(primary, replica)
    role = rc.execute_command("ROLE")
    assert role[0] == "slave" and role[1] == "127.0.0.1" and int(role[2]) == primary.port
    assert role[3] == "connected"
    ri, pi = info(rc), info(pc)
    assert ri["role"] == "slave" and ri["master_link_status"] == "up"
    assert ri["master_replid"] == pi["master_replid"]
    assert pi["role"] == "master" and pi["connected_slaves"] == 1
    assert pi["slave0"]["port"] == replica.port and pi["slave0"]["state"] == "online"
    prole = pc.execute_command("ROLE")
    assert prole[0] == "master" and len(prole[2]) == 1
    assert rc.execute_command("HELLO")["role"] == "replica"
    with pytest.raises(redis.ResponseError, match="^You can't write against a read only replica"):
        rc.set("k", "x")
    # A MULTI block with a write is refused as a whole.
    with pytest.raises(redis.ResponseError):
        with rc.pipeline(transaction=True) as p:
            p.get("k")
            p.set("k", "y")
            p.execute()
    assert rc.get("k") == "v"
    rc.config_set("replica-read-only", "no")
    assert rc.set("local", "1")
    with pytest.raises(redis.ResponseError, match="WAIT cannot be used with replica instances"):
        rc.execute_command("WAIT", 1, 10)


def test_wait_counts_replicas_that_applied_the_write(server_factory):
    primary = server_factory()
    r1 = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    r2 = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, r1, r2)
    pc = primary.client()
    for i in range(50):
        pc.set(f"w{i}", i)
        assert pc.execute_command("WAIT", 2, 5000) == 2
        # Acknowledged means applied: both replicas read the write.
        assert r1.client().get(f"w{i}") == str(i)
        assert r2.client().get(f"w{i}") == str(i)
    # More replicas than exist: WAIT gives up at its timeout and says how many did.
    t0 = time.monotonic()
    assert pc.execute_command("WAIT", 3, 300) == 2
    assert time.monotonic() - t0 >= 0.25
    r2.stop(signal.SIGKILL)
    pc.set("after", "kill")
    assert pc.execute_command("WAIT", 2, 500) == 1


def test_min_replicas_to_write(server_factory):
    primary = server_factory("--min-replicas-to-write", "1", "--min-replicas-max-lag", "10")
    pc = primary.client()
    with pytest.raises(redis.ResponseError, match="NOREPLICAS"):
        pc.set("k", "v")
    replica = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, replica)
    wait_for(lambda: _set_ok(pc), timeout=10, what="writes accepted with a replica")
    assert info(pc)["min_slaves_good_slaves"] == 1


def _set_ok(c):
    try:
        return c.set("k", "v")
    except redis.ResponseError:
        return False


class Writer(threading.Thread):
    """Mixed writes of every type in pipelines, bounded in count."""

    def __init__(self, server, n=4000, prefix="w"):
        super().__init__(daemon=True)
        self.c = server.client(socket_timeout=30)
        self.n = n
        self.prefix = prefix
        self.error = None

    def run(self):
        try:
            p = self.c.pipeline(transaction=False)
            for i in range(self.n):
                k = i % 97
                p.set(f"{self.prefix}s{k}", i)
                p.incr(f"{self.prefix}n{k % 7}")
                p.rpush(f"{self.prefix}l{k % 13}", i)
                if i % 3 == 0:
                    p.lpop(f"{self.prefix}l{(k + 1) % 13}")
                p.hset(f"{self.prefix}h{k % 11}", f"f{i % 50}", i)
                p.sadd(f"{self.prefix}set{k % 5}", i % 300)
                p.zincrby(f"{self.prefix}z{k % 3}", 1, f"m{i % 40}")
                if i % 50 == 0:
                    p.delete(f"{self.prefix}s{(k + 3) % 97}")
                    p.expire(f"{self.prefix}h{k % 11}", 1000)
                if i % 20 == 0:
                    p.execute()
            p.execute()
        except Exception as e:  # reported by the test
            self.error = e


def test_two_replicas_converge_under_a_write_load(server_factory):
    primary = server_factory()
    pc = primary.client()
    fill_every_type(pc, prefix="pre:")
    writer = Writer(primary, n=6000)
    writer.start()
    # The replicas attach while the writes go on: their full sync interleaves the snapshot
    # with the changes made meanwhile.
    time.sleep(0.1)
    r1 = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    time.sleep(0.1)
    r2 = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    writer.join(120)
    assert writer.error is None, writer.error
    wait_synced(primary, r1, r2, timeout=60)
    want = dataset(primary)
    assert len(want) > 100
    assert dataset(r1) == want
    assert dataset(r2) == want


def test_chained_replica_and_promotion(server_factory):
    primary = server_factory()
    r1 = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, r1)
    r2 = server_factory("--replicaof", "127.0.0.1", str(r1.port))
    pc = primary.client()
    fill_every_type(pc)
    change_every_type(pc)
    wait_synced(primary, r1)
    wait_for(lambda: info(r2.client()).get("slave_repl_offset") ==
             info(pc)["master_repl_offset"], timeout=30, what="the chain in sync")
    want = dataset(primary)
    assert dataset(r2) == want
    # The offsets agree along the chain: a replica passes its master's stream on unchanged.
    assert info(r1.client())["master_replid"] == info(r2.client())["master_replid"]
    # r1 becomes a primary; r2, its replica, goes on from where it was (partial resync).
    partial_before = r1.client().info("stats")["sync_partial_ok"]
    r1.client().execute_command("REPLICAOF", "NO", "ONE")
    r1c = r1.client()
    assert info(r1c)["role"] == "master"
    r1c.set("promoted", "yes")
    wait_for(lambda: r2.client().get("promoted") == "yes", timeout=30, what="r2 follows r1")
    assert r1c.info("stats")["sync_partial_ok"] >= partial_before
    assert info(r1c)["master_replid2"] == info(pc)["master_replid"]


def test_killed_replica_resumes_by_partial_sync(server_factory):
    primary = server_factory()
    pc = primary.client()
    replica = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, replica)
    writer = Writer(primary, n=3000, prefix="a")
    writer.start()
    time.sleep(0.2)
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


def test_replica_away_past_the_backlog_syncs_in_full(server_factory):
    primary = server_factory("--repl-backlog-size", "16kb")
    pc = primary.client()
    replica = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, replica)
    pc.set("before", "1")
    wait_synced(primary, replica)
    replica.stop(signal.SIGKILL)
    for i in range(400):
        pc.set(f"big{i}", "x" * 200)
    full_before = pc.info("stats")["sync_full"]
    replica.start()
    wait_synced(primary, replica, timeout=60)
    stats = pc.info("stats")
    assert stats["sync_full"] == full_before + 1
    assert stats["sync_partial_err"] >= 1
    assert dataset(replica) == dataset(primary)


def test_backlog_freed_after_ttl_without_replicas(server_factory):
    # repl-backlog-ttl, as Redis: a primary alone for that long frees its backlog and takes a
    # new replication ID, so a replica coming back syncs in full; one back sooner continues.
    primary = server_factory("--repl-backlog-ttl", "2")
    pc = primary.client()
    replica = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, replica)
    replica.stop(signal.SIGKILL)
    pc.set("while-away", "1")
    replica.start()  # back within the ttl: continues
    wait_synced(primary, replica)
    assert pc.info("stats")["sync_partial_ok"] == 1
    replica.stop(signal.SIGKILL)
    replid = info(pc)["master_replid"]
    wait_for(lambda: info(pc)["repl_backlog_active"] == 0, timeout=10, what="backlog freed")
    assert info(pc)["master_replid"] != replid
    pc.set("after-ttl", "1")
    full_before = pc.info("stats")["sync_full"]
    replica.start()
    wait_synced(primary, replica)
    assert pc.info("stats")["sync_full"] == full_before + 1
    assert replica.client().get("after-ttl") == "1"
    assert "Replication backlog freed after 2 seconds without connected replicas" in primary.read_log()


def test_replicaof_at_runtime_and_config_rewrite(server_factory, tmp_path):
    primary = server_factory()
    conf = tmp_path / "fdb.conf"
    conf.write_text("")
    replica = server_factory("--config", str(conf))
    rc = replica.client()
    rc.set("mine", "gone after the sync")
    primary.client().set("theirs", "1")
    assert rc.execute_command("REPLICAOF", "127.0.0.1", primary.port) == "OK"
    wait_synced(primary, replica)
    assert rc.get("theirs") == "1" and rc.get("mine") is None
    rc.config_rewrite()
    assert f"replicaof 127.0.0.1 {primary.port}" in conf.read_text()
    assert rc.execute_command("REPLICAOF", "127.0.0.1", primary.port).startswith("OK")
    assert rc.execute_command("REPLICAOF", "NO", "ONE") == "OK"
    rc.config_rewrite()
    assert "replicaof" not in conf.read_text()
    assert rc.set("mine", "again")


def test_replconf_and_psync_errors(server):
    c = server.client()
    assert c.execute_command("REPLCONF", "listening-port", "1234") == "OK"
    with pytest.raises(redis.ResponseError, match="Unrecognized REPLCONF option: bogus"):
        c.execute_command("REPLCONF", "bogus", "1")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        c.execute_command("REPLCONF", "listening-port")
    with pytest.raises(redis.ResponseError, match="Invalid master port"):
        c.execute_command("REPLICAOF", "127.0.0.1", "notaport")
    with pytest.raises(redis.ResponseError, match="FDB.APPLY is run by a replica's link"):
        c.execute_command("FDB.APPLY", "x")


class RedisServer:
    """Debian's redis-server on a free port, as the primary FDB migrates from."""

    def __init__(self, tmp, *args):
        import subprocess
        from conftest import free_port
        self.port = free_port()
        self.dir = str(tmp)
        self.log = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--repl-diskless-sync-delay", "0"]
            + list(args), stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: _pings(self.port), timeout=10, what="redis-server up")

    def client(self, **kw):
        kw.setdefault("decode_responses", True)
        return redis.Redis(port=self.port, **kw)

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.log.close()


def _pings(port):
    try:
        return redis.Redis(port=port, socket_timeout=1).ping()
    except (redis.ConnectionError, redis.TimeoutError):
        return False


@pytest.mark.skipif(not os.path.exists("/usr/bin/redis-server"), reason="needs redis-server")
def test_migration_from_a_redis_primary_under_load(server_factory, tmp_path):
    source = RedisServer(tmp_path)
    try:
        c = source.client()
        fill_every_type(c)
        change_every_type(c)
        p = c.pipeline(transaction=False)
        for i in range(20000):
            p.set(f"bulk:{i}", "x" * (i % 50))
            if i % 1000 == 0:
                p.execute()
        p.execute()
        writer = Writer(source, n=3000, prefix="live")
        writer.start()
        replica = server_factory("--replicaof", "127.0.0.1", str(source.port))
        writer.join(120)
        assert writer.error is None, writer.error
        wait_synced(source, replica, timeout=60)
        want = dataset(source)
        assert len(want) > 20000
        assert dataset(replica) == want
        # The move: the application's clients go to FDB once it is a primary of its own.
        rc = replica.client()
        assert rc.execute_command("REPLICAOF", "NO", "ONE") == "OK"
        assert rc.set("after:move", "1")
        assert rc.get("live:s1") == c.get("live:s1")
    finally:
        source.close()


def test_debug_digest_agrees_between_primary_and_replica(server_factory):
    primary = server_factory("--enable-debug-command", "yes")
    replica = server_factory("--enable-debug-command", "yes", "--replicaof", "127.0.0.1",
                             str(primary.port))
    pc, rc = primary.client(), replica.client()
    assert pc.execute_command("DEBUG", "DIGEST") == "0" * 40
    assert pc.execute_command("DEBUG", "POPULATE", 500, "pop", 20) == "OK"
    assert pc.dbsize() == 500 and len(pc.get("pop:7")) == 20
    fill_every_type(pc)
    change_every_type(pc)
    wait_synced(primary, replica)
    d = pc.execute_command("DEBUG", "DIGEST")
    assert d != "0" * 40 and rc.execute_command("DEBUG", "DIGEST") == d
    assert (pc.execute_command("DEBUG", "DIGEST-VALUE", "h", "nokey") ==
            rc.execute_command("DEBUG", "DIGEST-VALUE", "h", "nokey"))
    assert pc.execute_command("DEBUG", "DIGEST-VALUE", "nokey") == ["0" * 40]
    pc.hset("h", "f1", "changed")
    assert pc.execute_command("DEBUG", "DIGEST") != d
    wait_synced(primary, replica)
    assert rc.execute_command("DEBUG", "DIGEST") == pc.execute_command("DEBUG", "DIGEST")


def test_client_kill_type_replica_and_master_reconnect_by_partial_sync(server_factory):
    primary = server_factory()
    replica = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, replica)
    pc, rc = primary.client(), replica.client()
    pc.rpush("l", *range(100))
    wait_synced(primary, replica)
    before = pc.info("stats")["sync_partial_ok"]
    assert pc.client_kill_filter(_type="replica") == 1
    pc.rpush("l", "after")
    wait_synced(primary, replica)
    assert pc.info("stats")["sync_partial_ok"] == before + 1
    assert rc.execute_command("CLIENT", "KILL", "TYPE", "master") == 1
    pc.rpush("l", "again")
    wait_synced(primary, replica)
    assert pc.info("stats")["sync_partial_ok"] == before + 2
    # The old form, naming the master's address, reaches the link too.
    assert rc.execute_command("CLIENT", "KILL", f"127.0.0.1:{primary.port}") == "OK"
    pc.rpush("l", "third")
    wait_synced(primary, replica)
    assert pc.info("stats")["sync_partial_ok"] == before + 3
    assert pc.info("stats")["sync_full"] == 1
    assert rc.lrange("l", 0, -1) == pc.lrange("l", 0, -1)


def _failover_state(c):
    return info(c)["master_failover_state"]


def test_failover_hands_the_primary_role_to_a_replica(server_factory):
    primary = server_factory()
    r1 = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    r2 = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, r1, r2)
    pc, c1, c2 = primary.client(), r1.client(), r2.client()
    # Refusals, with Redis's texts.
    with pytest.raises(redis.ResponseError, match="^FAILOVER is not valid when server is a replica"):
        c1.execute_command("FAILOVER")
    with pytest.raises(redis.ResponseError, match="is not a replica"):
        pc.execute_command("FAILOVER", "TO", "127.0.0.1", primary.port)
    with pytest.raises(redis.ResponseError, match="requires both a timeout and target"):
        pc.execute_command("FAILOVER", "TO", "127.0.0.1", r1.port, "FORCE")
    with pytest.raises(redis.ResponseError, match="^No failover in progress"):
        pc.execute_command("FAILOVER", "ABORT")
    assert _failover_state(pc) == "no-failover"
    fill_every_type(pc)
    before_psync = info(r1.client(), "stats")["sync_partial_ok"]
    assert pc.execute_command("FAILOVER", "TO", "127.0.0.1", r1.port) == "OK"
    wait_for(lambda: _failover_state(pc) == "no-failover" and info(c1)["role"] == "master",
             timeout=20, what="the failover to end")
    # The old primary follows the new one by partial resync: nothing is copied again.
    assert info(pc)["role"] == "slave" and info(pc)["master_port"] == r1.port
    c2.execute_command("REPLICAOF", "127.0.0.1", r1.port)
    wait_synced(r1, primary, r2)
    stats = info(c1, "stats")
    assert stats["sync_partial_ok"] == before_psync + 2 and stats["sync_full"] == 0
    assert dataset(primary) == dataset(r1) == dataset(r2)
    c1.set("after", "failover")
    wait_synced(r1, primary, r2)
    assert pc.get("after") == "failover"
    with pytest.raises(redis.ResponseError, match="^You can't write against a read only replica"):
        pc.set("k", "v")


def test_failover_holds_writes_until_it_ends_and_can_be_aborted(server_factory):
    primary = server_factory()
    replica = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, replica)
    pc = primary.client()
    pc.set("k", "v1")
    wait_synced(primary, replica)
    # A stopped replica never catches up: the failover waits, writes wait with it, reads go on.
    os.kill(replica.proc.pid, signal.SIGSTOP)
    try:
        pc.set("k", "v2")
        assert pc.execute_command("FAILOVER", "TIMEOUT", 60000) == "OK"
        assert _failover_state(pc) == "waiting-for-sync"
        with pytest.raises(redis.ResponseError, match="^FAILOVER already in progress"):
            pc.execute_command("FAILOVER")
        with pytest.raises(redis.ResponseError, match="not allowed while failing over"):
            pc.execute_command("REPLICAOF", "NO", "ONE")
        import socket
        held = socket.create_connection(("127.0.0.1", primary.port), timeout=0.5)
        held.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv3\r\n")
        with pytest.raises(socket.timeout):
            held.recv(100)  # held, not refused
        assert pc.get("k") == "v2"
        assert pc.execute_command("FAILOVER", "ABORT") == "OK"
        assert _failover_state(pc) == "no-failover"
        held.settimeout(10)
        assert held.recv(100) == b"+OK\r\n"
        held.close()
        assert pc.get("k") == "v3"
        # Without FORCE, a timeout gives up and the primary stays one.
        assert pc.execute_command("FAILOVER", "TIMEOUT", 300) == "OK"
        wait_for(lambda: _failover_state(pc) == "no-failover", timeout=10, what="the timeout")
        assert info(pc)["role"] == "master"
        assert pc.set("k", "v4")
    finally:
        os.kill(replica.proc.pid, signal.SIGCONT)
    wait_synced(primary, replica)
    assert replica.client().get("k") == "v4"


def test_replica_counts_changes_under_the_propagated_command_name(server_factory):
    primary = server_factory()
    replica = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, replica)
    pc, rc = primary.client(), replica.client()
    rc.config_resetstat()
    pc.set("k", "a")
    pc.getset("k", "b")
    pc.rpush("src", "x")
    pc.brpoplpush("src", "dst", 1)
    wait_synced(primary, replica)
    stats = rc.info("commandstats")
    assert stats["cmdstat_set"]["calls"] == 2
    assert stats["cmdstat_rpoplpush"]["calls"] == 1
    assert "cmdstat_getset" not in stats and "cmdstat_brpoplpush" not in stats


def test_a_replica_applies_a_pipelined_burst_in_order_and_counts_every_command(server_factory):
    # The link applies the frames it reads together as one transaction; each still counts as
    # its command, and their order within the batch is the master's.
    primary = server_factory()
    replica = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, replica)
    pc, rc = primary.client(), replica.client()
    rc.config_resetstat()
    for _ in range(5):
        pipe = pc.pipeline(transaction=False)
        for i in range(1000):
            pipe.execute_command("INCR", "counter")  # redis-py's incr() sends INCRBY
            pipe.rpush("order", i)
            pipe.set(f"k{i % 50}", i)
        pipe.execute()
    pc.delete("k0")
    wait_synced(primary, replica)
    assert rc.get("counter") == "5000"
    assert rc.lrange("order", 0, -1) == pc.lrange("order", 0, -1)
    assert rc.exists("k0") == 0 and rc.get("k49") == "999"
    stats = rc.info("commandstats")
    assert stats["cmdstat_incr"]["calls"] == 5000
    assert stats["cmdstat_rpush"]["calls"] == 5000
    assert stats["cmdstat_set"]["calls"] == 5000
    assert stats["cmdstat_del"]["calls"] == 1


def test_blocked_clients_are_released_when_a_primary_becomes_a_replica(server_factory):
    a = server_factory()
    b = server_factory()
    blocked = b.client()
    result = {}

    def pop():
        try:
            result["reply"] = blocked.blpop("q", 0)
        except redis.ResponseError as e:
            result["error"] = str(e)

    t = threading.Thread(target=pop)
    t.start()
    wait_for(lambda: b.client().info("clients")["blocked_clients"] == 1, what="the BLPOP")
    b.client().execute_command("REPLICAOF", "127.0.0.1", a.port)
    t.join(10)
    assert result.get("error", "").startswith("UNBLOCKED force unblock"), result
    wait_synced(a, b)
    a.client().rpush("q", "x", "y")
    wait_synced(a, b)
    # Nothing popped the replicated list on the replica.
    assert b.client().lrange("q", 0, -1) == ["x", "y"]


def _redis_replica_of(tmp_path, fdb, primary_client):
    """Debian's redis-server as a replica of `fdb`, once it holds the primary's keys."""
    rs = RedisServer(tmp_path, "--replicaof", "127.0.0.1", str(fdb.port))
    rc = rs.client()
    wait_for(lambda: rc.info("replication").get("master_link_status") == "up",
             timeout=30, what="the Redis replica's link")
    wait_for(lambda: rc.dbsize() == primary_client.dbsize(), timeout=30, what="the snapshot")
    return rs, rc


def _sync_stream(port):
    """A plain client's SYNC: reads the RDB file; returns (socket, reader, file bytes)."""
    import socket
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"SYNC\r\n")
    f = s.makefile("rb")
    line = f.readline()
    while line == b"\n":
        line = f.readline()
    assert line.startswith(b"$"), line
    return s, f, f.read(int(line[1:]))


@pytest.mark.skipif(not os.path.exists("/usr/bin/redis-server"), reason="needs redis-server")
def test_a_redis_replica_of_an_fdb_primary(server_factory, tmp_path):
    """The way back: Debian's redis-server replicates from FDB (an RDB, then commands)."""
    primary = server_factory()
    pc = primary.client()
    fill_every_type(pc)
    p = pc.pipeline(transaction=False)
    for i in range(5000):
        p.set(f"bulk:{i}", "x" * (i % 50))
    p.execute()
    rs, rc = _redis_replica_of(tmp_path, primary, pc)
    try:
        assert dataset(rs) == dataset(primary)
        # Every later change, as commands: in-place changes, deadlines, deletions, MULTI, flushes.
        change_every_type(pc)
        with pc.pipeline(transaction=True) as t:
            t.set("tx:a", 1)
            t.incr("tx:b")
            t.execute()
        pc.swapdb(0, 1)
        pc.set("last", "1")
        wait_for(lambda: rc.get("last") == "1", timeout=30, what="the stream")
        assert dataset(rs) == dataset(primary)
    finally:
        rs.close()


def test_a_plain_sync_client_reads_an_rdb_then_commands(server):
    c = server.client()
    c.set("before", "1")
    s, f, rdb = _sync_stream(server.port)
    assert rdb.startswith(b"REDIS0010") and b"before" in rdb
    # The file names the database the stream is on (repl-stream-db), and, as Redis, the stream
    # starts with a SELECT all the same (Redis's suite reads streams expecting it); then SELECT
    # only when the database changes.
    assert b"repl-stream-db" in rdb
    c.set("key", "value")
    c.delete("key")
    c.execute_command("SELECT", 1)
    c.delete("key")  # nothing to delete: nothing is sent
    c.set("k1", "v")
    want = [b"*2\r\n", b"$6\r\n", b"SELECT\r\n", b"$1\r\n", b"0\r\n",
            b"*3\r\n", b"$3\r\n", b"SET\r\n", b"$3\r\n", b"key\r\n", b"$5\r\n", b"value\r\n",
            b"*2\r\n", b"$3\r\n", b"DEL\r\n", b"$3\r\n", b"key\r\n",
            b"*2\r\n", b"$6\r\n", b"SELECT\r\n", b"$1\r\n", b"1\r\n",
            b"*3\r\n", b"$3\r\n", b"SET\r\n", b"$2\r\n", b"k1\r\n", b"$1\r\n", b"v\r\n"]
    assert [f.readline() for _ in want] == want
    s.close()


def test_writable_replica_expires_its_own_keys_not_its_masters(server_factory):
    primary = server_factory("--enable-debug-command", "yes")
    replica = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, replica)
    pc, rc = primary.client(), replica.client()
    rc.config_set("replica-read-only", "no")
    # Keys the replica's own writes gave a deadline are the replica's to expire.
    rc.set("own", "1", px=100)
    rc.set("own2", "1")
    rc.pexpire("own2", 100)
    assert rc.dbsize() == 2
    wait_for(lambda: rc.dbsize() == 0, timeout=10, what="the replica's own keys to expire")
    # A key of the master past its deadline reads as missing but stays until the master's
    # deletion, unless a write of the replica's own finds it: then it starts from nothing.
    pc.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    pc.set("m1", 5, px=50)
    pc.set("m2", 5, px=50)
    wait_synced(primary, replica)
    time.sleep(0.2)
    assert rc.exists("m1", "m2") == 0 and rc.dbsize() == 2
    assert rc.incr("m1") == 1 and rc.ttl("m1") == -1
    assert rc.get("m2") is None and rc.dbsize() == 2


def test_debug_replicate_reaches_the_replica_which_logs_what_it_cannot_apply(server_factory):
    primary = server_factory("--enable-debug-command", "yes")
    replica = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, replica)
    pc, rc = primary.client(), replica.client()
    assert pc.execute_command("DEBUG", "REPLICATE", "fake-command-1") == "OK"
    pc.set("after", "1")
    wait_synced(primary, replica)
    assert rc.get("after") == "1"  # the replica went on
    log = replica.read_log()
    assert "== CRITICAL == This replica is sending an error to its master" in log
    assert "'fake-command-1'" in log


def test_debug_object_finds_a_replicas_key_past_its_deadline(server_factory):
    primary = server_factory("--enable-debug-command", "yes")
    replica = server_factory("--replicaof", "127.0.0.1", str(primary.port),
                             "--enable-debug-command", "yes")
    wait_synced(primary, replica)
    pc, rc = primary.client(), replica.client()
    pc.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    pc.set("k", 1, px=50)
    wait_synced(primary, replica)
    time.sleep(0.2)
    assert rc.exists("k") == 0
    assert "encoding:" in rc.execute_command("DEBUG", "OBJECT", "k")


@pytest.mark.skipif(not os.path.exists("/usr/bin/redis-server"), reason="needs redis-server")
def test_a_redis_replica_of_an_fdb_replica(server_factory, tmp_path):
    primary = server_factory()
    pc = primary.client()
    fill_every_type(pc)
    middle = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, middle)
    rs, rc = _redis_replica_of(tmp_path, middle, pc)
    try:
        change_every_type(pc)
        pc.set("last", "1")
        wait_for(lambda: rc.get("last") == "1", timeout=30, what="the stream, through the chain")
        assert dataset(rs) == dataset(primary)
    finally:
        rs.close()


def test_a_replica_that_sends_a_command_is_disconnected(server):
    import socket
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.sendall(b"PSYNC replicationid -1\r\n")
    f = s.makefile("rb")
    assert f.readline().startswith(b"+FULLRESYNC ")
    s.sendall(b"GET foo\r\n")
    wait_for(lambda: "Replica generated a reply to command 'get'" in server.read_log(),
             timeout=10, what="the log line")
    assert "Replica can't interact with the keyspace" in server.read_log()
    # Its stream is closed; others are served.
    s.settimeout(10)
    while f.read(4096):
        pass
    assert server.client().ping()
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range"):
        server.client().execute_command("PSYNC", "replicationid", "offset_str")
    assert "asks for synchronization but with a wrong offset" in server.read_log()


def test_wait_blocks_only_its_client(server_factory):
    primary = server_factory("--threads", "1")
    replica = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    wait_synced(primary, replica)
    pc = primary.client()
    pc.set("k", "v")
    assert pc.execute_command("WAIT", 1, 5000) == 1  # answered by the acknowledgement
    # Two replicas never come: WAIT waits out its timeout, while the one I/O thread serves
    # the other clients (and a replica's acknowledgements) meanwhile.
    result = {}
    waiter = primary.client()
    t = threading.Thread(target=lambda: result.setdefault(
        "n", waiter.execute_command("WAIT", 2, 3000)))
    t.start()
    wait_for(lambda: pc.info("clients")["blocked_clients"] == 1, what="WAIT to block")
    assert pc.ping() and pc.set("other", "1")
    assert t.is_alive()  # still waiting while the other client was served
    t.join(10)
    assert result["n"] == 1
    assert pc.info("clients")["blocked_clients"] == 0


def test_a_sync_client_of_a_replica_reads_its_masters_changes_as_commands(server_factory):
    primary = server_factory()
    replica = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    pc = primary.client()
    pc.execute_command("SELECT", 9)
    pc.set("k", "1")
    wait_synced(primary, replica)
    s, f, _ = _sync_stream(replica.port)
    pc.set("key", "value")
    pc.flushdb()
    # The stream was on database 9 (the file says so), and starts with its SELECT, as Redis's.
    want = [b"*2\r\n", b"$6\r\n", b"SELECT\r\n", b"$1\r\n", b"9\r\n",
            b"*3\r\n", b"$3\r\n", b"SET\r\n", b"$3\r\n", b"key\r\n", b"$5\r\n", b"value\r\n",
            b"*1\r\n", b"$7\r\n", b"FLUSHDB\r\n"]
    assert [f.readline() for _ in want] == want
    s.close()


def test_a_stream_that_starts_with_flushall_starts_with_a_select(server_factory):
    # Redis's stream always begins with a SELECT, whatever its first command (its suite's
    # assert_replication_stream expects it before a FLUSHALL).
    primary = server_factory()
    pc = primary.client()
    pc.execute_command("SELECT", 9)
    pc.set("k", "1")
    s, f, _ = _sync_stream(primary.port)
    pc.flushall()
    pc.execute_command("SELECT", 1)
    pc.rpush("l", "x")
    got = [f.readline() for _ in range(13)]
    # Which database the first SELECT names does not matter before a FLUSHALL (Redis's names
    # the client's); that there is one does.
    assert got[:3] == [b"*2\r\n", b"$6\r\n", b"SELECT\r\n"]
    assert got[5:] == [b"*1\r\n", b"$8\r\n", b"FLUSHALL\r\n",
                       b"*2\r\n", b"$6\r\n", b"SELECT\r\n", b"$1\r\n", b"1\r\n"]
    s.close()


def test_exec_refused_when_the_server_became_a_stale_or_read_only_replica(server):
    """As Redis: EXEC is judged by the commands it would run, and a refused EXEC ends the
    transaction with EXECABORT and the refusal (MASTERDOWN, READONLY)."""
    from conftest import free_port
    admin = server.client()
    admin.set("xx", "1")
    c = server.client(single_connection_client=True)
    admin.config_set("replica-serve-stale-data", "no")
    try:
        for queued in (("GET", "xx"), ("TYPE", "xx")):
            assert c.execute_command("MULTI") == "OK"
            assert c.execute_command(*queued) == "QUEUED"
            admin.execute_command("REPLICAOF", "127.0.0.1", free_port())
            with pytest.raises(redis.exceptions.ExecAbortError,
                               match="discarded because of: MASTERDOWN"):
                c.execute_command("EXEC")
            admin.execute_command("REPLICAOF", "NO", "ONE")
        # PING is no stale-data command either (as Redis 7.0), queued or not.
        assert c.execute_command("MULTI") == "OK"
        c.execute_command("PING")  # queued (redis-py reads QUEUED as a failed PING)
        admin.execute_command("REPLICAOF", "127.0.0.1", free_port())
        with pytest.raises(redis.exceptions.ExecAbortError,
                           match="discarded because of: MASTERDOWN"):
            c.execute_command("EXEC")
        with pytest.raises(redis.ResponseError, match="Link with MASTER is down"):
            c.ping()
        admin.execute_command("REPLICAOF", "NO", "ONE")
        # The transaction is over: a new one runs.
        assert c.execute_command("MULTI") == "OK"
        assert c.execute_command("GET", "xx") == "QUEUED"
        assert c.execute_command("EXEC") == ["1"]
        # A stale replica that serves stale data refuses the write of a queued transaction.
        admin.config_set("replica-serve-stale-data", "yes")
        assert c.execute_command("MULTI") == "OK"
        c.execute_command("SET", "xx", "2")  # queued (redis-py reads QUEUED as a failed SET)
        admin.execute_command("REPLICAOF", "127.0.0.1", free_port())
        with pytest.raises(redis.exceptions.ExecAbortError,
                           match="discarded because of: READONLY"):
            c.execute_command("EXEC")
        assert c.get("xx") == "1"
    finally:
        admin.execute_command("REPLICAOF", "NO", "ONE")
        admin.config_set("replica-serve-stale-data", "yes")


def test_a_transaction_reaches_a_sync_client_after_the_select_of_its_database(server):
    """As Redis: MULTI goes in the database of the transaction's first command, so the SELECT
    comes before it (tools reading the stream, and Redis's own suite, expect that order)."""
    s, f, _ = _sync_stream(server.port)
    c = server.client(db=3)
    with c.pipeline(transaction=True) as t:
        t.set("a", "1")
        t.set("b", "2")
        t.execute()
    want = [b"*2\r\n", b"$6\r\n", b"SELECT\r\n", b"$1\r\n", b"3\r\n",
            b"*1\r\n", b"$5\r\n", b"MULTI\r\n",
            b"*3\r\n", b"$3\r\n", b"SET\r\n", b"$1\r\n", b"a\r\n", b"$1\r\n", b"1\r\n",
            b"*3\r\n", b"$3\r\n", b"SET\r\n", b"$1\r\n", b"b\r\n", b"$1\r\n", b"2\r\n",
            b"*1\r\n", b"$4\r\n", b"EXEC\r\n"]
    assert [f.readline() for _ in want] == want
    s.close()


def test_wrong_masterauth_is_logged_as_redis_logs_it_then_a_binary_password_works(
        server_factory):
    primary = server_factory()
    pc = primary.client(decode_responses=False)
    pc.set("k", "v")
    pc.config_set("requirepass", b"abc\x00def")
    replica = server_factory("--masterauth", "abc", "--replicaof", "127.0.0.1",
                             str(primary.port))
    wait_for(lambda: "Unable to AUTH to MASTER: -WRONGPASS" in replica.read_log(), timeout=30,
             what="the refused AUTH in the log")
    rc = replica.client(decode_responses=False)
    assert info(rc)["master_link_status"] == "down"
    rc.config_set("masterauth", b"abc\x00def")
    wait_for(lambda: info(rc)["master_link_status"] == "up", timeout=30, what="the link")
    wait_for(lambda: rc.get("k") == b"v", timeout=30, what="the key")


def test_bind_source_addr_is_the_address_a_replica_connects_from(server_factory):
    # As Redis's: the replica's link leaves from bind-source-addr (the master sees it there).
    primary = server_factory("--protected-mode", "no")
    replica = server_factory()
    rc = replica.client()
    assert rc.config_set("bind-source-addr", "127.0.0.2")
    assert rc.execute_command("REPLICAOF", "127.0.0.1", str(primary.port)) == "OK"
    wait_synced(primary, replica)
    assert info(primary.client())["slave0"]["ip"] == "127.0.0.2"


def test_a_replicas_output_is_counted_apart_and_evicts_no_key(server_factory):
    """As Redis (INFO memory mem_clients_slaves, mem_not_counted_for_evict): what a replica that
    does not read makes the primary hold is reported, and left out of what maxmemory is checked
    against; evicting keys could not shrink it (each eviction adds to it), so a slow replica
    would otherwise drain the data set."""
    primary = server_factory("--appendonly", "no")
    pc = primary.client()
    for i in range(100):
        pc.setrange(f"key:{i}", 100000, "asdf")
    replica = server_factory("--appendonly", "no", "--replicaof", "127.0.0.1",
                             str(primary.port))
    wait_synced(primary, replica)
    pc.config_set("client-output-buffer-limit", "replica 100mb 100mb 300")
    pc.config_set("repl-backlog-size", 16384)
    mem = pc.info("memory")
    limit = mem["used_memory"] - mem["mem_not_counted_for_evict"] + 512 * 1024
    pc.config_set("maxmemory-policy", "allkeys-random")
    pc.config_set("maxmemory", limit)
    replica.proc.send_signal(signal.SIGSTOP)
    try:
        payload = "A" * 100
        # About 13 MB of stream, of which the sockets' buffers take a few.
        for _ in range(100):
            p = pc.pipeline(transaction=False)
            for _ in range(1000):
                p.setrange("key:0", 0, payload)
            p.execute()
        mem = pc.info("memory")
        assert mem["mem_clients_slaves"] > 2 * 1024 * 1024
        assert mem["mem_not_counted_for_evict"] >= mem["mem_clients_slaves"]
        assert mem["used_memory"] - mem["mem_not_counted_for_evict"] < limit
        assert pc.dbsize() == 100
        assert pc.info("stats")["evicted_keys"] == 0
        assert pc.execute_command("CLIENT", "KILL", "TYPE", "replica") == 1
        assert pc.info("memory")["mem_clients_slaves"] == 0
        assert pc.dbsize() == 100
    finally:
        replica.proc.send_signal(signal.SIGCONT)


def _read_command(f):
    """One RESP array of bulk strings from a replication stream, as a list of bytes."""
    line = f.readline()
    assert line.startswith(b"*"), line
    out = []
    for _ in range(int(line[1:])):
        n = int(f.readline()[1:])
        out.append(f.read(n + 2)[:-2])
    return out


def test_publish_reaches_a_sync_client_as_redis_propagates_it(server):
    """As Redis: PUBLISH goes into the replication stream (in MULTI alone, as the one command
    the transaction propagates), after the stream's SELECT."""
    s, f, _ = _sync_stream(server.port)
    c = server.client()
    c.publish("ch", "m1")
    with c.pipeline(transaction=True) as t:
        t.publish("bla", "bla")
        t.execute()
    c.set("after", "1")
    assert _read_command(f) == [b"SELECT", b"0"]
    assert _read_command(f) == [b"PUBLISH", b"ch", b"m1"]
    assert _read_command(f) == [b"PUBLISH", b"bla", b"bla"]
    assert _read_command(f) == [b"SET", b"after", b"1"]
    s.close()


def _wait_message(sub, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = sub.get_message(timeout=0.5)
        if m is not None and m["type"] == "message":
            return m
    return None


def test_a_message_published_on_the_primary_reaches_the_replicas_subscribers(server_factory):
    primary = server_factory()
    replica = server_factory("--replicaof", "127.0.0.1", str(primary.port))
    sub_of_sub = server_factory("--replicaof", "127.0.0.1", str(replica.port))
    wait_synced(primary, replica)
    wait_synced(replica, sub_of_sub)
    subs = []
    for srv in (replica, sub_of_sub):
        p = srv.client().pubsub()
        p.subscribe("news")
        assert p.get_message(timeout=5)["type"] == "subscribe"
        subs.append(p)
    assert primary.client().publish("news", "hello") == 0  # no subscriber on the primary
    for p in subs:
        m = _wait_message(p)
        assert m is not None and m["channel"] == "news" and m["data"] == "hello"
        p.close()
    # A replica's own clients' messages stay on it, as Redis's.
    p = sub_of_sub.client().pubsub()
    p.subscribe("local")
    assert p.get_message(timeout=5)["type"] == "subscribe"
    assert replica.client().publish("local", "x") == 0
    primary.client().set("marker", "1")
    wait_synced(primary, replica)
    wait_synced(replica, sub_of_sub)
    assert p.get_message(timeout=0.5) is None
    p.close()


@pytest.mark.skipif(not os.path.exists("/usr/bin/redis-server"), reason="needs redis-server")
def test_a_message_published_on_fdb_reaches_a_redis_replicas_subscribers(server_factory,
                                                                         tmp_path):
    primary = server_factory()
    pc = primary.client()
    pc.set("k", "v")
    rs, rc = _redis_replica_of(tmp_path, primary, pc)
    try:
        p = rc.pubsub()
        p.subscribe("news")
        assert p.get_message(timeout=5)["type"] == "subscribe"
        pc.publish("news", "hello")
        m = _wait_message(p)
        assert m is not None and m["data"] == "hello"
        p.close()
    finally:
        rs.close()


def test_commands_reach_a_sync_client_as_sent_when_redis_propagates_them_so(server):
    """As Redis: a command whose changes follow from it alone (INCR, RPUSH, HSET, ZADD, LPOP...)
    goes into the stream as it was sent, not as the values it changed, in a MULTI as well; one
    that changed nothing goes not at all; INCRBYFLOAT and relative deadlines still go as their
    outcome; a lazy expiry's DEL comes before the command that found the key expired."""
    s, f, _ = _sync_stream(server.port)
    c = server.client()
    c.execute_command("INCR", "n")
    c.rpush("l", "a", "b", "c")
    c.hset("h", "f", "1")
    c.zadd("z", {"m": 2})
    c.delete("missing")  # changes nothing
    with c.pipeline(transaction=True) as t:
        t.execute_command("INCR", "n")
        t.lpop("l")
        t.execute()
    c.incrbyfloat("fl", 1.5)
    c.expire("n", 100)
    c.set("gone", "1", px=1)
    time.sleep(0.05)
    c.append("gone", "x")  # the key expired: its DEL first, then the APPEND that made it anew
    c.set("after", "1")
    assert _read_command(f) == [b"SELECT", b"0"]
    assert _read_command(f) == [b"INCR", b"n"]
    assert _read_command(f) == [b"RPUSH", b"l", b"a", b"b", b"c"]
    assert _read_command(f) == [b"HSET", b"h", b"f", b"1"]
    assert _read_command(f) == [b"ZADD", b"z", b"2", b"m"]
    assert _read_command(f) == [b"MULTI"]
    assert _read_command(f) == [b"INCR", b"n"]
    assert _read_command(f) == [b"LPOP", b"l"]
    assert _read_command(f) == [b"EXEC"]
    assert _read_command(f)[:3] == [b"SET", b"fl", b"1.5"]
    got = _read_command(f)
    assert got[:2] == [b"PEXPIREAT", b"n"] and int(got[2]) > time.time() * 1000
    assert _read_command(f)[:3] == [b"SET", b"gone", b"1"]
    # One transaction (as Redis 7.0 wraps a command and the deletes it caused), unless the
    # active expiry deleted the key first.
    got = _read_command(f)
    if got == [b"MULTI"]:
        got = _read_command(f)
    assert got == [b"DEL", b"gone"]
    assert _read_command(f) == [b"APPEND", b"gone", b"x"]
    got = _read_command(f)
    if got == [b"EXEC"]:
        got = _read_command(f)
    assert got == [b"SET", b"after", b"1"]
    s.close()


def test_pops_reach_a_sync_client_as_redis_rewrites_them(server):
    """As Redis: LMPOP / BLMPOP go as `LPOP key <popped>`, BLPOP as `LPOP key` (served at once
    or after blocking), ZMPOP as `ZPOPMIN key <popped>`, BZPOPMAX as `ZPOPMAX key`, BLMOVE as
    LMOVE: a pop of a long list does not send the whole list again. (A move between lists of two shards goes as its
    changes, in a MULTI.)"""
    import threading
    s, f, _ = _sync_stream(server.port)
    c = server.client()
    c.rpush("{p}l", *[str(i) for i in range(100)])
    c.lmpop(2, "p:missing", "{p}l", direction="LEFT", count=3)
    c.blpop(["{p}l"], timeout=1)
    c.zadd("p:z", {"a": 1, "b": 2, "c": 3})
    c.zmpop(1, ["p:z"], min=True, count=10)
    c.zadd("p:z", {"a": 1, "b": 2})
    c.bzpopmax(["p:z"], timeout=1)
    c.blmove("{p}l", "{p}l2", timeout=1, src="RIGHT", dest="LEFT")
    blocked = server.client()
    got = []
    t = threading.Thread(target=lambda: got.append(blocked.blpop(["p:empty"], timeout=10)))
    t.start()
    wait_for(lambda: c.info("clients")["blocked_clients"] == 1, timeout=10, what="the BLPOP")
    c.rpush("p:empty", "x")
    t.join()
    assert list(got[0]) == ["p:empty", "x"]
    assert _read_command(f) == [b"SELECT", b"0"]
    assert _read_command(f)[:2] == [b"RPUSH", b"{p}l"]
    assert _read_command(f) == [b"lpop", b"{p}l", b"3"]
    assert _read_command(f) == [b"lpop", b"{p}l"]
    assert _read_command(f)[:2] == [b"ZADD", b"p:z"]
    assert _read_command(f) == [b"zpopmin", b"p:z", b"3"]
    assert _read_command(f)[:2] == [b"ZADD", b"p:z"]
    assert _read_command(f) == [b"zpopmax", b"p:z"]
    assert _read_command(f) == [b"lmove", b"{p}l", b"{p}l2", b"right", b"left"]
    assert _read_command(f) == [b"RPUSH", b"p:empty", b"x"]
    assert _read_command(f) == [b"lpop", b"p:empty"]
    s.close()


def test_writes_before_a_role_change_reach_the_replicas_it_disconnects(server_factory):
    """As Redis, which writes a command's propagation at the end of its event-loop turn: a write
    followed at once by REPLICAOF (pipelined, in one read of the server's) reaches a replica
    before the role change closes its link."""
    import socket
    primary = server_factory()
    s, f, _ = _sync_stream(primary.port)
    unused = socket.socket()
    unused.bind(("127.0.0.1", 0))
    port = unused.getsockname()[1]
    c = primary.client()
    with c.pipeline(transaction=False) as p:
        p.set("before", "1")
        p.execute_command("REPLICAOF", "127.0.0.1", port)
        p.execute()
    assert _read_command(f) == [b"SELECT", b"0"]
    assert _read_command(f) == [b"SET", b"before", b"1"]
    c.execute_command("REPLICAOF", "NO", "ONE")
    unused.close()
    s.close()


def test_restore_reaches_a_sync_client_with_an_absolute_ttl(server):
    """As Redis: RESTORE with a relative TTL goes as the deadline with ABSTTL added; without a
    TTL, or with ABSTTL already, as sent."""
    c = server.client()
    c.set("r:src", "v")
    payload = c.dump("r:src")
    s, f, _ = _sync_stream(server.port)
    before = int(time.time() * 1000)
    c.restore("r:a", 100000, payload)
    c.restore("r:b", 0, payload)
    c.restore("r:c", before + 50000, payload, absttl=True)
    assert _read_command(f) == [b"SELECT", b"0"]
    got = _read_command(f)
    assert got[:2] == [b"RESTORE", b"r:a"] and got[3:] == [payload, b"ABSTTL"]
    assert before + 100000 <= int(got[2]) <= int(time.time() * 1000) + 100000
    assert _read_command(f) == [b"RESTORE", b"r:b", b"0", payload]
    assert _read_command(f) == [b"RESTORE", b"r:c", str(before + 50000).encode(), payload,
                                b"ABSTTL"]
    s.close()
