"""WATCH is exact, as Redis's: EXEC aborts when a watched key changed (any write, deletion,
FLUSHDB/FLUSHALL/SWAPDB of a database where it is live, the expiry of a key that was live), and
only then — a change to another key, even one in the same shard, does not abort."""

import time

import pytest


def run_watched(c, key, change, db=0):
    """WATCH key on c, run change() (on other connections), then MULTI/PING/EXEC on c.
    Returns EXEC's reply: None when aborted."""
    p = c.pipeline(transaction=True)
    p.watch(key)
    change()
    p.multi()
    p.ping()
    try:
        return p.execute()
    except Exception as e:  # redis-py raises WatchError on a null EXEC
        if type(e).__name__ == "WatchError":
            return None
        raise


@pytest.fixture
def other(server):
    c = server.client()
    yield c
    c.close()


def test_a_change_to_the_watched_key_aborts(r, other):
    r.set("k", 1)
    assert run_watched(r, "k", lambda: other.incr("k")) is None
    assert run_watched(r, "k", lambda: other.delete("k")) is None
    assert run_watched(r, "k", lambda: other.rpush("k", "x")) is None
    assert run_watched(r, "k", lambda: other.expire("k", 100)) is None
    assert run_watched(r, "k", lambda: None) == [True]


def test_other_keys_never_abort(r, other):
    # 300 other keys cover every shard, the watched key's included.
    r.set("k", 1)

    def change():
        for i in range(300):
            other.set(f"other:{i}", i)

    assert run_watched(r, "k", change) == [True]


def test_flush_touches_only_keys_that_existed(r, other):
    r.delete("x")
    assert run_watched(r, "x", lambda: other.flushall()) == [True]
    assert run_watched(r, "x", lambda: other.flushdb()) == [True]
    r.set("x", 1)
    assert run_watched(r, "x", lambda: other.flushdb()) is None
    r.set("x", 1)
    assert run_watched(r, "x", lambda: other.flushall()) is None


def test_watch_remembers_the_database(server, other):
    c = server.client(db=0)
    c.flushall()
    c.set("x", 30)
    p = c.pipeline(transaction=True)
    p.watch("x")
    # A change of x in another database is another key.
    db1 = server.client(db=1)
    db1.set("x", 1)
    db1.flushdb()
    p.multi()
    p.ping()
    assert p.execute() == [True]


def test_swapdb_touches_watched_keys_that_exist_in_either_db(server):
    c = server.client(db=0)
    c.flushall()
    other = server.client(db=5)
    other.set("x", 1)
    assert run_watched(c, "x", lambda: other.swapdb(0, 5)) is None
    c.flushall()
    assert run_watched(c, "y", lambda: other.swapdb(0, 5)) == [True]


def test_a_watched_key_that_expires_aborts(r):
    r.set("x", 1, px=100)
    p = r.pipeline(transaction=True)
    p.watch("x")
    time.sleep(0.25)
    p.multi()
    p.ping()
    with pytest.raises(Exception, match="Watched variable changed"):
        p.execute()


def test_unwatch_discard_and_disconnect_release_the_watch(server, other):
    c = server.client()
    c.flushall()
    # Many clients watch and go away without UNWATCH: nothing is left behind that would make
    # a later transaction abort or the server grow.
    for i in range(50):
        t = server.client()
        p = t.pipeline(transaction=True)
        p.watch("shared")
        t.close()
        p.reset()
    c.set("shared", 1)
    assert run_watched(c, "shared", lambda: None) == [True]
    p = c.pipeline(transaction=True)
    p.watch("shared")
    p.unwatch()
    other.set("shared", 2)
    p.multi()
    p.ping()
    assert p.execute() == [True]


def test_watched_keys_already_expired_change_nothing_when_removed(server_factory):
    """As Redis 7.0: a key past its deadline when WATCHed, then deleted by lazy expiry, a flush
    or moved by SWAPDB, is no logical change; a write to it is one."""
    s = server_factory("--enable-debug-command", "yes")
    r, other, db9 = s.client(), s.client(), s.client(db=9)
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)

    def stale(c, key="x"):
        c.set(key, "v", px=1)
        time.sleep(0.01)  # past its deadline; not deleted (no active expiry, nothing read it)

    try:
        stale(r)
        assert run_watched(r, "x", lambda: other.exists("x")) == [True]  # lazy deletion
        stale(r)
        assert run_watched(r, "x", lambda: other.flushdb()) == [True]
        stale(r)
        assert run_watched(r, "x", lambda: other.swapdb(0, 9)) == [True]  # moved away
        db9.flushdb()
        r.flushdb()
        stale(db9)
        assert run_watched(r, "x", lambda: other.swapdb(0, 9)) == [True]  # brought in
        stale(db9)
        assert run_watched(r, "x", lambda: other.swapdb(0, 9)) == [True]  # stale for stale
        stale(r)
        assert run_watched(r, "x", lambda: other.set("x", 1)) is None
        # A key live when watched that expires meanwhile still aborts.
        r.set("y", "v", px=50)
        assert run_watched(r, "y", lambda: time.sleep(0.1)) is None
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)
