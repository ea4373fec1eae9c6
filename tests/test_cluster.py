"""Cluster mode (cluster-enabled yes, docs/cluster.md): three fdb-server processes given one
topology with CLUSTERX SETNODES, then driven by cluster clients (redis-py's RedisCluster and
`redis-cli -c`) and by plain connections that see the redirections themselves."""

import os
import secrets
import subprocess
import time

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import AskError, MovedError

from conftest import TARGET, Server, wait_for

pytestmark = pytest.mark.skipif(TARGET == "redis", reason="CLUSTERX is FDB's (as Kvrocks's)")

RANGES = [(0, 5460), (5461, 10922), (10923, 16383)]


def node_id():
    return secrets.token_hex(20)


def nodes_text(nodes):
    """CLUSTERX SETNODES's text: one '<id> <ip> <port> master|slave <master>|- <slots>' line each."""
    lines = []
    for n in nodes:
        if n.get("primary"):
            lines.append(f"{n['id']} 127.0.0.1 {n['server'].port} slave {n['primary']}")
        else:
            slots = " ".join(f"{a}-{b}" if a != b else str(a) for a, b in n["slots"])
            lines.append(f"{n['id']} 127.0.0.1 {n['server'].port} master - {slots}")
    return "\n".join(lines)


def push(nodes, version, force=False):
    text = nodes_text(nodes)
    for n in nodes:
        c = n["server"].client()
        assert c.execute_command("CLUSTERX", "SETNODEID", n["id"]) == "OK"
        args = ["CLUSTERX", "SETNODES", text, version] + (["FORCE"] if force else [])
        assert c.execute_command(*args) == "OK"
        c.close()


def start_cluster(count=3, ranges=RANGES):
    nodes = []
    for i in range(count):
        s = Server(["--cluster-enabled", "yes", "--appendonly", "no"], threads=1)
        nodes.append({"id": node_id(), "server": s, "slots": [ranges[i]]})
    push(nodes, 1)
    return nodes


def stop_cluster(nodes):
    for n in nodes:
        n["server"].close()


@pytest.fixture(scope="module")
def cluster():
    nodes = start_cluster()
    yield nodes
    stop_cluster(nodes)


@pytest.fixture
def fresh_cluster():
    nodes = start_cluster()
    yield nodes
    stop_cluster(nodes)


def owner(nodes, key):
    slot = redis.cluster.key_slot(key.encode())
    for n in nodes:
        for a, b in n.get("slots", []):
            if a <= slot <= b:
                return n, slot
    raise AssertionError(slot)


def other(nodes, n):
    return next(m for m in nodes if m is not n and not m.get("primary"))


def cluster_client(nodes, **kw):
    s = nodes[0]["server"]
    return RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", s.port)], decode_responses=True,
                        **kw)


def test_info_and_identity(cluster):
    c = cluster[0]["server"].client()
    assert c.info("cluster")["cluster_enabled"] == 1
    info = c.execute_command("CLUSTER", "INFO")
    fields = dict(line.split(":", 1) for line in info.strip().split("\r\n"))
    assert fields["cluster_state"] == "ok"
    assert fields["cluster_slots_assigned"] == "16384"
    assert fields["cluster_known_nodes"] == "3"
    assert fields["cluster_size"] == "3"
    assert fields["cluster_current_epoch"] == "1"
    assert c.execute_command("CLUSTER", "MYID") == cluster[0]["id"]
    assert c.execute_command("CLUSTERX", "MYID") == cluster[0]["id"]
    assert c.execute_command("CLUSTERX", "VERSION") == 1
    assert c.execute_command("CLUSTER", "KEYSLOT", "foo") == 12182
    assert c.execute_command("CLUSTER", "KEYSLOT", "{user1000}.following") == \
        c.execute_command("CLUSTER", "KEYSLOT", "{user1000}.followers")


def test_nodes_slots_shards_formats(cluster):
    c = cluster[1]["server"].client()
    lines = c.execute_command("CLUSTER", "NODES").strip().split("\n")
    assert len(lines) == 3
    by_id = {line.split()[0]: line.split() for line in lines}
    for i, n in enumerate(cluster):
        f = by_id[n["id"]]
        assert f[1] == f"127.0.0.1:{n['server'].port}@0"
        assert f[2] == ("myself,master" if i == 1 else "master")
        assert f[3] == "-" and f[6] == "1" and f[7] == "connected"
        assert f[8] == "%d-%d" % RANGES[i]
    for proto in (2, 3):
        c = cluster[1]["server"].client(protocol=proto)
        slots = c.execute_command("CLUSTER", "SLOTS")
        assert [(s[0], s[1]) for s in slots] == RANGES
        assert [list(s[2])[:3] for s in slots] == \
            [["127.0.0.1", n["server"].port, n["id"]] for n in cluster]
        shards = c.execute_command("CLUSTER", "SHARDS")
        assert len(shards) == 3
        for shard, n in zip(shards, cluster):
            shard = dict(zip(shard[::2], shard[1::2])) if isinstance(shard, list) else shard
            assert list(shard["slots"]) == list(RANGES[cluster.index(n)])
            node = shard["nodes"][0]
            node = dict(zip(node[::2], node[1::2])) if isinstance(node, list) else node
            assert node["id"] == n["id"] and node["port"] == n["server"].port
            assert node["role"] == "master" and node["health"] == "online"
        c.close()


def test_redis_py_cluster_client_every_family(cluster):
    rc = cluster_client(cluster)
    # Keys spread over the three nodes: the client follows the slots map and MOVED.
    for i in range(60):
        assert rc.set(f"str:{i}", i)
    assert [rc.get(f"str:{i}") for i in range(60)] == [str(i) for i in range(60)]
    assert rc.incrby("counter", 5) == 5
    assert rc.hset("hash", mapping={"a": "1", "b": "2"}) == 2
    assert rc.hgetall("hash") == {"a": "1", "b": "2"}
    assert rc.rpush("list", "x", "y", "z") == 3
    assert rc.lrange("list", 0, -1) == ["x", "y", "z"]
    assert rc.sadd("set", "m1", "m2") == 2
    assert rc.smembers("set") == {"m1", "m2"}
    assert rc.zadd("zset", {"a": 1, "b": 2}) == 2
    assert rc.zrange("zset", 0, -1, withscores=True) == [("a", 1.0), ("b", 2.0)]
    sid = rc.xadd("stream", {"f": "v"})
    assert rc.xrange("stream")[0][0] == sid
    assert rc.expire("str:1", 100) and 0 < rc.ttl("str:1") <= 100
    assert rc.type("hash") == "hash"
    assert rc.delete("str:2") == 1 and rc.exists("str:2") == 0
    # Hash tags keep multi-key commands on one slot.
    assert rc.mset({"{u1}.a": "1", "{u1}.b": "2"})
    assert rc.mget("{u1}.a", "{u1}.b") == ["1", "2"]
    rc.sadd("{t}s1", "a", "b")
    rc.sadd("{t}s2", "b", "c")
    assert rc.sunionstore("{t}dst", "{t}s1", "{t}s2") == 3
    assert rc.rename("{t}dst", "{t}dst2")
    assert rc.lmove("list", "list", "LEFT", "RIGHT") == "x"
    rc.zadd("{z}a", {"m": 1})
    rc.zadd("{z}b", {"m": 2})
    assert rc.zunionstore("{z}c", ["{z}a", "{z}b"]) == 1
    assert rc.zscore("{z}c", "m") == 3
    # Every key lives on the node that owns its slot, and only there.
    for key in ("hash", "list", "set", "zset", "stream", "{u1}.a"):
        n, slot = owner(cluster, key)
        c = n["server"].client()
        assert c.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) >= 1
        assert key in c.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100)
        assert c.exists(key) == 1
        c.close()
    rc.close()


def test_redis_cli_follows_redirections(cluster):
    port = cluster[0]["server"].port
    for i in range(20):
        out = subprocess.run(["redis-cli", "-c", "-p", str(port), "SET", f"cli:{i}", f"v{i}"],
                             capture_output=True, text=True, timeout=30)
        assert out.stdout.strip() == "OK", out
    for i in range(20):
        out = subprocess.run(["redis-cli", "-c", "-p", str(port), "GET", f"cli:{i}"],
                             capture_output=True, text=True, timeout=30)
        assert out.stdout.strip() == f"v{i}"
    # Without -c the redirection is the reply.
    n, slot = owner(cluster, "cli:0")
    m = other(cluster, n)
    out = subprocess.run(["redis-cli", "-p", str(m["server"].port), "GET", "cli:0"],
                         capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == f"MOVED {slot} 127.0.0.1:{n['server'].port}"


def test_moved_and_crossslot(cluster):
    n, slot = owner(cluster, "foo")
    m = other(cluster, n)
    c = m["server"].client()
    with pytest.raises(MovedError, match=f"^{slot} 127.0.0.1:{n['server'].port}$"):
        c.execute_command("GET", "foo")
    with pytest.raises(MovedError, match=f"^{slot} "):
        c.execute_command("SET", "foo", "1")
    d = n["server"].client()
    with pytest.raises(redis.ResponseError, match="^Keys in request don't hash to the same slot"):
        d.execute_command("MSET", "foo", "1", "bar", "2")
    with pytest.raises(redis.ResponseError, match="^Keys in request don't hash"):
        d.execute_command("SUNIONSTORE", "foo", "bar")
    assert d.execute_command("MSET", "{foo}1", "1", "{foo}2", "2")
    # Keyless commands run anywhere; SELECT stays on 0.
    assert c.ping() and c.execute_command("ECHO", "x") == "x"
    with pytest.raises(redis.ResponseError, match="SELECT is not allowed in cluster mode"):
        c.execute_command("SELECT", "1")
    assert c.execute_command("SELECT", "0")
    c.close()
    d.close()


def test_shard_channels_are_routed_by_slot(cluster):
    """SPUBLISH / SSUBSCRIBE / SUNSUBSCRIBE go to the node of their channel's slot, as keys do
    (Redis 7.0's sharded pub/sub); PUBLISH / SUBSCRIBE run anywhere."""
    n, slot = owner(cluster, "news")
    m = other(cluster, n)
    c = m["server"].client()
    with pytest.raises(MovedError, match=f"^{slot} 127.0.0.1:{n['server'].port}$"):
        c.execute_command("SPUBLISH", "news", "x")
    assert c.execute_command("PUBLISH", "news", "x") == 0
    from conftest import Raw
    raw = Raw(m["server"].port)
    raw.cmd("SSUBSCRIBE", "news")
    assert raw.read_line() == f"-MOVED {slot} 127.0.0.1:{n['server'].port}".encode()
    raw.cmd("SSUBSCRIBE", "{news}a", "other-channel")
    assert raw.read_line() == b"-CROSSSLOT Keys in request don't hash to the same slot"
    # On the owner: subscribed and delivered; the count is its subscribers'.
    sub = n["server"].client().pubsub()
    sub.ssubscribe("news", "{news}b")
    for _ in range(2):
        assert sub.get_message(timeout=5)["type"] == "ssubscribe"
    d = n["server"].client()
    assert d.execute_command("SPUBLISH", "news", "hello") == 1
    msg = sub.get_message(timeout=5)
    assert msg["type"] == "smessage" and msg["data"] == "hello"
    sub.close()
    c.close()
    d.close()


def test_crossslot_error_text_exact(cluster):
    """The CROSSSLOT prefix is what cluster clients match on."""
    from conftest import Raw
    n, _ = owner(cluster, "foo")
    raw = Raw(n["server"].port)
    raw.cmd("MGET", "foo", "bar")
    assert raw.read_line() == b"-CROSSSLOT Keys in request don't hash to the same slot"


def test_transactions_and_scripts_stay_in_one_slot(cluster):
    n, slot = owner(cluster, "{tx}a")
    c = n["server"].client()
    p = c.pipeline(transaction=True)
    p.set("{tx}a", "1").incr("{tx}b").get("{tx}a")
    assert p.execute() == [True, 1, "1"]
    # Keys of two slots across the queued commands: EXEC is refused and the block discarded.
    c.execute_command("MULTI")
    c.execute_command("SET", "{tx}a", "2")
    other_key = next(f"k{i}" for i in range(1000) if owner(cluster, f"k{i}")[0] is n
                     and owner(cluster, f"k{i}")[1] != slot)
    c.execute_command("SET", other_key, "2")
    with pytest.raises(redis.ResponseError, match="^Keys in request don't hash to the same slot"):
        c.execute_command("EXEC")
    assert c.get("{tx}a") == "1"
    with pytest.raises(redis.ResponseError, match="EXEC without MULTI"):
        c.execute_command("EXEC")
    # A queued command for another node's slot: MOVED, and EXEC aborts.
    moved_key = next(f"k{i}" for i in range(1000) if owner(cluster, f"k{i}")[0] is not n)
    c.execute_command("MULTI")
    with pytest.raises(MovedError, match=f"^"):
        c.execute_command("SET", moved_key, "1")
    with pytest.raises(redis.ResponseError, match="Transaction discarded because of previous errors"):
        c.execute_command("EXEC")
    # EVAL: its declared keys in one slot.
    assert c.eval("return redis.call('GET', KEYS[1])", 1, "{tx}a") == "1"
    with pytest.raises(redis.ResponseError, match="^Keys in request don't hash"):
        c.eval("return 1", 2, "{tx}a", other_key)
    c.close()


def test_older_topology_version_refused(fresh_cluster):
    nodes = fresh_cluster
    c = nodes[0]["server"].client()
    text = nodes_text(nodes)
    for v in (1, 0):
        with pytest.raises(redis.ResponseError, match="Invalid version of cluster"):
            c.execute_command("CLUSTERX", "SETNODES", text, v)
    assert c.execute_command("CLUSTERX", "VERSION") == 1
    # Malformed topologies change nothing.
    bad = [text.replace(" 0-5460", " 0-5461"),  # overlaps the next node's range
           text.replace(" 0-5460", " 0-16384"),
           text.replace(nodes[0]["id"], "xyz")]
    for t in bad:
        with pytest.raises(redis.ResponseError):
            c.execute_command("CLUSTERX", "SETNODES", t, 9)
    assert c.execute_command("CLUSTERX", "VERSION") == 1
    # SETSLOT moves one slot as exactly the next version.
    n, slot = owner(nodes, "foo")
    m = other(nodes, n)
    with pytest.raises(redis.ResponseError, match="Invalid version of cluster"):
        c.execute_command("CLUSTERX", "SETSLOT", slot, "NODE", m["id"], 1)
    for node in nodes:
        assert node["server"].client().execute_command(
            "CLUSTERX", "SETSLOT", slot, "NODE", m["id"], 2) == "OK"
    d = n["server"].client()
    with pytest.raises(MovedError,
                       match=f"^{slot} 127.0.0.1:{m['server'].port}$"):
        d.get("foo")
    assert m["server"].client().set("foo", "moved")
    # FORCE applies an older version (a controller restoring a topology).
    push(nodes, 1, force=True)
    assert c.execute_command("CLUSTERX", "VERSION") == 1
    with pytest.raises(MovedError, match=f"^{slot} 127.0.0.1:{n['server'].port}"):
        m["server"].client().get("foo")
    c.close()
    d.close()


def test_ask_during_migration(fresh_cluster):
    nodes = fresh_cluster
    src, slot = owner(nodes, "foo")
    dst = other(nodes, src)
    s = src["server"].client()
    t = dst["server"].client()
    s.set("foo", "here")
    assert s.execute_command("CLUSTERX", "MIGRATING", slot, dst["id"]) == "OK"
    assert t.execute_command("CLUSTERX", "IMPORTING", slot, src["id"]) == "OK"
    nodes_line = next(line for line in s.execute_command("CLUSTER", "NODES").split("\n")
                      if "myself" in line)
    assert f"[{slot}->-{dst['id']}]" in nodes_line
    # A key still on the source is served there; one that is not goes to the target by ASK.
    assert s.get("foo") == "here"
    with pytest.raises(AskError, match=f"^{slot} 127.0.0.1:{dst['server'].port}$"):
        s.get("{foo}new")
    # The target takes the slot's keys only after ASKING, for one command.
    with pytest.raises(MovedError, match=f"^{slot} "):
        t.set("{foo}new", "1")
    assert t.execute_command("ASKING")
    assert t.set("{foo}new", "1")
    with pytest.raises(MovedError, match=f"^{slot} "):
        t.get("{foo}new")
    # A multi-key call with keys on both sides: TRYAGAIN.
    with pytest.raises(redis.ResponseError, match="^Multiple keys request during rehashing"):
        s.mget("foo", "{foo}new")
    # The cluster client follows ASK for keys already moved.
    rc = cluster_client(nodes)
    assert rc.get("foo") == "here"
    assert rc.get("{foo}new") == "1"
    rc.close()
    s.close()
    t.close()


def test_replica_serves_reads_after_readonly(fresh_cluster):
    nodes = fresh_cluster
    primary = nodes[0]
    rep = {"id": node_id(), "primary": primary["id"],
           "server": Server(["--cluster-enabled", "yes", "--appendonly", "no"], threads=1)}
    try:
        nodes.append(rep)
        push(nodes, 2)
        key = next(f"r{i}" for i in range(1000) if owner(nodes, f"r{i}")[0] is primary)
        _, slot = owner(nodes, key)
        p = primary["server"].client()
        c = rep["server"].client()
        # The topology made it a replica of the primary.
        assert c.info("replication")["role"] == "slave"
        assert c.info("replication")["master_port"] == primary["server"].port
        wait_for(lambda: c.info("replication")["master_link_status"] == "up", timeout=30,
                 what="the replica's link")
        assert p.set(key, "v")
        assert p.execute_command("WAIT", 1, 10000) == 1
        with pytest.raises(MovedError,
                           match=f"^{slot} 127.0.0.1:{primary['server'].port}$"):
            c.get(key)
        assert c.execute_command("READONLY")
        assert c.get(key) == "v"
        with pytest.raises(MovedError, match=f"^"):
            c.set(key, "w")
        assert c.execute_command("READWRITE")
        with pytest.raises(MovedError, match=f"^"):
            c.get(key)
        lines = c.execute_command("CLUSTER", "NODES").strip().split("\n")
        me = next(line for line in lines if line.startswith(rep["id"]))
        assert me.split()[2:4] == ["myself,slave", primary["id"]]
        slots = c.execute_command("CLUSTER", "SLOTS")
        first = next(s for s in slots if s[0] == 0)
        assert first[3][2] == rep["id"]
        # A topology that makes it a primary stops its replication.
        rep.pop("primary")
        rep["slots"] = primary["slots"]
        push([n for n in nodes if n is not primary], 3)  # the fixture still stops the primary
        wait_for(lambda: c.info("replication")["role"] == "master", what="promotion")
        assert c.set(key, "after") and c.get(key) == "after"
        c.close()
        p.close()
    finally:
        rep["server"].close()


def test_unserved_slot_and_no_topology():
    s = Server(["--cluster-enabled", "yes", "--appendonly", "no"], threads=1)
    try:
        c = s.client()
        with pytest.raises(redis.ResponseError, match="^Hash slot not served"):
            c.get("foo")
        info = c.execute_command("CLUSTER", "INFO")
        assert "cluster_state:fail" in info and "cluster_slots_assigned:0" in info
        assert c.execute_command("CLUSTERX", "VERSION") == -1
        me = c.execute_command("CLUSTER", "MYID")
        assert len(me) == 40
        # Half the slots: the state is fail, and a served slot is refused too.
        mid = node_id()
        c.execute_command("CLUSTERX", "SETNODEID", mid)
        c.execute_command("CLUSTERX", "SETNODES", f"{mid} 127.0.0.1 {s.port} master - 0-8191", 1)
        key = next(f"k{i}" for i in range(1000) if redis.cluster.key_slot(f"k{i}".encode()) < 8192)
        with pytest.raises(redis.ResponseError, match="^The cluster is down"):
            c.get(key)
        c.close()
    finally:
        s.close()


def test_cluster_commands_refused_when_disabled(server):
    c = server.client()
    assert c.info("cluster")["cluster_enabled"] == 0
    for args in (("CLUSTER", "INFO"), ("CLUSTERX", "VERSION"), ("READONLY",), ("ASKING",)):
        with pytest.raises(redis.ResponseError, match="cluster support disabled"):
            c.execute_command(*args)


def test_script_keys_must_be_local(cluster):
    n, slot = owner(cluster, "{sc}a")
    c = n["server"].client()
    c.set("{sc}a", "1")
    # Undeclared keys of this node's slots are served; another node's are refused, as Redis.
    assert c.eval("return redis.call('GET', ARGV[1])", 0, "{sc}a") == "1"
    remote = next(f"k{i}" for i in range(1000) if owner(cluster, f"k{i}")[0] is not n)
    with pytest.raises(redis.ResponseError,
                       match="Script attempted to access a non local key in a cluster node"):
        c.eval("return redis.call('GET', ARGV[1])", 0, remote)
    c.close()


def test_scripts_with_a_shebang_and_functions_stay_in_one_slot():
    """As Redis 7.0: a script with a shebang, or a function, reaches the keys of one slot only
    (its declared keys' or its first call's) unless it says allow-cross-slot-keys; an old-style
    script may reach any slot of its node."""
    nodes = start_cluster(count=1, ranges=[(0, 16383)])
    try:
        c = nodes[0]["server"].client()
        cross = "ERR Script attempted to access keys that do not hash to the same slot"
        two_slots = "redis.call('set', 'foo', 'bar'); redis.call('set', 'bar', 'foo'); return 'OK'"
        with pytest.raises(redis.ResponseError, match=f"^{cross[4:]}"):
            c.eval("#!lua\n" + two_slots, 0)
        assert c.eval(two_slots, 0) == "OK"
        assert c.eval("#!lua flags=allow-cross-slot-keys\n" + two_slots, 0) == "OK"
        assert c.eval("#!lua\nredis.call('set', '{foo}x', 1); return redis.call('get', 'foo')",
                      0) == "bar"
        # Against the declared keys' slot.
        with pytest.raises(redis.ResponseError, match=f"^{cross[4:]}"):
            c.eval("#!lua\nredis.call('set', 'foo', 'bar'); return 'OK'", 1, "bar")
        assert c.eval("#!lua\nredis.call('set', KEYS[1], 'v'); return 'OK'", 1, "bar") == "OK"
        lib = ("#!lua name=crossslot\n"
               "local function f(keys, args) " + two_slots + " end\n"
               "redis.register_function{function_name='f', callback=f%s}")
        c.execute_command("FUNCTION", "LOAD", "REPLACE", lib % "")
        with pytest.raises(redis.ResponseError, match=f"^{cross[4:]}"):
            c.execute_command("FCALL", "f", 0)
        c.execute_command("FUNCTION", "LOAD", "REPLACE",
                          lib % ", flags={'allow-cross-slot-keys'}")
        assert c.execute_command("FCALL", "f", 0) == "OK"
        c.close()
    finally:
        stop_cluster(nodes)


def test_shard_channel_subscribers_are_told_when_their_slot_leaves(fresh_cluster):
    """As Redis's removeChannelsInSlot: when a node stops serving a slot, every client
    subscribed to a shard channel of it gets a `sunsubscribe` push and leaves it (RESP2 clients
    leave subscribed mode with their last subscription); other slots' channels stay."""
    from conftest import Raw

    def confirm(kind, name, count, resp3=False):
        head = b">3" if resp3 else b"*3"
        return (head + b"\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n:%d\r\n"
                % (len(kind), kind, len(name), name, count))

    nodes = fresh_cluster
    n, slot = owner(nodes, "{moving}news")
    m = other(nodes, n)
    port = n["server"].port
    stays = next(f"stay{i}" for i in range(1000) if owner(nodes, f"stay{i}")[0] is n
                 and owner(nodes, f"stay{i}")[1] != slot).encode()
    resp2 = Raw(port)
    resp2.cmd("SSUBSCRIBE", "{moving}news")
    assert resp2.read_reply() == confirm(b"ssubscribe", b"{moving}news", 1)
    resp3 = Raw(port)
    resp3.cmd("HELLO", "3")
    resp3.read_reply()
    resp3.cmd("SSUBSCRIBE", "{moving}news", "{moving}sports")
    resp3.read_reply(), resp3.read_reply()
    resp3.cmd("SSUBSCRIBE", stays)  # a slot that stays on n, on the same connection
    assert resp3.read_reply() == confirm(b"ssubscribe", stays, 3, resp3=True)
    for node in nodes:
        assert node["server"].client().execute_command(
            "CLUSTERX", "SETSLOT", slot, "NODE", m["id"], 2) == "OK"
    assert resp2.read_reply() == confirm(b"sunsubscribe", b"{moving}news", 0)
    got = {resp3.read_reply(), resp3.read_reply()}
    assert got in ({confirm(b"sunsubscribe", b"{moving}news", 2, True),
                    confirm(b"sunsubscribe", b"{moving}sports", 1, True)},
                   {confirm(b"sunsubscribe", b"{moving}sports", 2, True),
                    confirm(b"sunsubscribe", b"{moving}news", 1, True)})
    c = n["server"].client()
    assert c.execute_command("PUBSUB", "SHARDNUMSUB", "{moving}news") == ["{moving}news", 0]
    assert c.execute_command("PUBSUB", "SHARDCHANNELS") == [stays.decode()]
    # The RESP2 client is out of subscribed mode: PING answers as to any client.
    resp2.cmd("PING")
    assert resp2.read_reply() == b"+PONG\r\n"
    # The RESP3 client still gets the channel that stayed.
    assert c.execute_command("SPUBLISH", stays, "hi") == 1
    assert resp3.read_reply() == confirm(b"smessage", stays, 0, True)[:-4] + b"$2\r\nhi\r\n"
    c.close()
