"""Keys sharing a Redis Cluster hash tag ({...}) live in one slot, so FDB keeps them in one shard
(issue 10): multi-key commands and MULTI/EXEC on them lock one shard. These tests check the
commands' results, which are Redis's (FDB_TEST_TARGET=redis runs them against redis-server)."""

import threading


def test_multi_key_commands_on_one_tag(r):
    assert r.mset({"{user1000}.following": "a", "{user1000}.followers": "b"})
    assert r.mget("{user1000}.following", "{user1000}.followers", "{user1000}.none") == [
        "a", "b", None]
    assert r.msetnx({"{user1000}.x": "1", "{user1000}.following": "z"}) is False
    assert r.rename("{user1000}.following", "{user1000}.renamed")
    assert r.get("{user1000}.renamed") == "a"
    assert r.copy("{user1000}.renamed", "{user1000}.copy")
    assert r.delete("{user1000}.renamed", "{user1000}.copy", "{user1000}.followers") == 3
    assert r.exists("{user1000}.following", "{user1000}.followers") == 0


def test_set_and_zset_stores_on_one_tag(r):
    r.sadd("{t}.a", "1", "2", "3")
    r.sadd("{t}.b", "2", "3", "4")
    assert r.sinterstore("{t}.inter", ["{t}.a", "{t}.b"]) == 2
    assert r.smembers("{t}.inter") == {"2", "3"}
    assert r.smove("{t}.a", "{t}.b", "1")
    assert r.smembers("{t}.b") == {"1", "2", "3", "4"}
    r.zadd("{t}.z1", {"m": 1, "n": 2})
    r.zadd("{t}.z2", {"m": 10})
    assert r.zunionstore("{t}.zu", ["{t}.z1", "{t}.z2"]) == 2
    assert r.zscore("{t}.zu", "m") == 11.0
    r.rpush("{t}.src", "x", "y")
    assert r.lmove("{t}.src", "{t}.dst", "LEFT", "RIGHT") == "x"
    assert r.lrange("{t}.dst", 0, -1) == ["x"]


def test_multi_exec_on_one_tag(r):
    p = r.pipeline(transaction=True)
    p.set("{acct}.alice", 100)
    p.set("{acct}.bob", 0)
    p.decrby("{acct}.alice", 30)
    p.incrby("{acct}.bob", 30)
    p.mget("{acct}.alice", "{acct}.bob")
    assert p.execute() == [True, True, 70, 30, ["70", "30"]]


def test_watch_exec_on_one_tag(server, r):
    r.set("{acct}.alice", 100)
    with r.pipeline(transaction=True) as p:
        p.watch("{acct}.alice", "{acct}.bob")
        balance = int(p.get("{acct}.alice"))
        p.multi()
        p.set("{acct}.alice", balance - 10)
        p.incrby("{acct}.bob", 10)
        assert p.execute() == [True, 10]
    # A change to a watched key by another client aborts the transaction.
    other = server.client()
    with r.pipeline(transaction=True) as p:
        p.watch("{acct}.alice")
        p.multi()
        p.set("{acct}.alice", 0)
        other.set("{acct}.alice", 1)
        try:
            p.execute()
            aborted = False
        except Exception:  # redis.WatchError
            aborted = True
    other.close()
    assert aborted
    assert r.get("{acct}.alice") == "1"


def test_transfers_on_one_tag_stay_atomic(server, r):
    """Concurrent MULTI/EXEC transfers between two keys of one tag never lose a unit: the
    total is invariant at every EXEC (both keys are in one shard, one lock)."""
    r.mset({"{bank}.a": 1000, "{bank}.b": 1000})
    errors = []

    def transfer(n, src, dst):
        c = server.client()
        try:
            for _ in range(n):
                p = c.pipeline(transaction=True)
                p.decrby(src, 1)
                p.incrby(dst, 1)
                p.execute()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            c.close()

    def audit(n):
        c = server.client()
        try:
            for _ in range(n):
                p = c.pipeline(transaction=True)
                p.mget("{bank}.a", "{bank}.b")
                a, b = p.execute()[0]
                if int(a) + int(b) != 2000:
                    errors.append(AssertionError(f"total {a}+{b}"))
        finally:
            c.close()

    threads = [threading.Thread(target=transfer, args=(300, "{bank}.a", "{bank}.b")),
               threading.Thread(target=transfer, args=(300, "{bank}.b", "{bank}.a")),
               threading.Thread(target=audit, args=(300,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert int(r.get("{bank}.a")) + int(r.get("{bank}.b")) == 2000
