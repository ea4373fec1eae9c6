"""RDB snapshots of a server without its log (appendonly no), as Redis's: SAVE, BGSAVE (a forked
child writing temp-<pid>.rdb), the save of SHUTDOWN and of SIGTERM / SIGINT when `save` points
are set, SHUTDOWN ABORT, and the file loaded at the next start (src/commands/rdb_snapshot.cc).
Run against Redis too (FDB_TEST_TARGET=redis)."""

import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import redis

from conftest import TARGET, Server, free_port, wait_for

NO_LOG = ("--appendonly", "no", "--enable-debug-command", "yes")


def snapshot_server(factory, *extra, save="900 1"):
    return factory(*NO_LOG, "--save", save, *extra)


def fill(c, n=20):
    c.flushall()
    for i in range(n):
        c.set(f"k{i}", i)
    c.rpush("list", *range(5))
    c.hset("hash", mapping={"a": 1, "b": 2})
    c.zadd("zset", {"x": 1.5, "y": 2})
    c.sadd("set", "p", "q")
    c.set("ttl", "v", ex=1000)
    c.select(3)
    c.set("in-db-3", "yes")
    c.select(0)


def check_restored(c):
    assert c.dbsize() == 25
    assert c.get("k7") == "7"
    assert c.lrange("list", 0, -1) == ["0", "1", "2", "3", "4"]
    assert c.hgetall("hash") == {"a": "1", "b": "2"}
    assert c.zrange("zset", 0, -1, withscores=True) == [("x", 1.5), ("y", 2.0)]
    assert c.smembers("set") == {"p", "q"}
    assert 900 < c.ttl("ttl") <= 1000
    c.select(3)
    assert c.get("in-db-3") == "yes"
    c.select(0)


def child_pids(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_save_writes_a_file_the_next_start_loads(server_factory):
    s = snapshot_server(server_factory)
    c = s.client()
    fill(c)
    assert c.save() is True
    path = os.path.join(s.dir, "dump.rdb")
    with open(path, "rb") as f:
        assert f.read(9) == b"REDIS0010" if TARGET == "fdb" else f.read(5) == b"REDIS"
    assert c.info("persistence")["rdb_changes_since_last_save"] == 0
    c.set("after-save", 1)  # not in the file: SHUTDOWN NOSAVE below keeps it out
    try:
        c.shutdown(nosave=True)
    except redis.ConnectionError:
        pass
    s.stop()
    s.start()
    check_restored(s.client())
    assert s.client().exists("after-save") == 0


@pytest.mark.skipif(TARGET == "redis" or shutil.which("redis-server") is None,
                    reason="FDB's file read by Debian's redis-server")
def test_the_file_loads_into_redis(server_factory):
    s = snapshot_server(server_factory)
    c = s.client()
    fill(c)
    c.save()
    d = tempfile.TemporaryDirectory(prefix="fdb-snapshot-redis-")
    shutil.copy(os.path.join(s.dir, "dump.rdb"), d.name)
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save",
                             "", "--appendonly", "no", "--dir", d.name],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        r = redis.Redis(port=port, decode_responses=True)
        wait_for(lambda: _pings(r), what="redis-server up")
        check_restored(r)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        d.cleanup()


def _pings(c):
    try:
        return c.ping()
    except redis.ConnectionError:
        return False


def test_bgsave_forks_a_child_that_writes_the_file(server_factory):
    s = snapshot_server(server_factory)
    c = s.client()
    fill(c)
    c.config_set("rdb-key-save-delay", 20000)  # 25 keys: half a second
    assert c.bgsave() in (True, "Background saving started")
    assert c.info("persistence")["rdb_bgsave_in_progress"] == 1
    [child] = wait_for(lambda: child_pids(s.proc.pid), what="the saving child")
    wait_for(lambda: os.path.exists(os.path.join(s.dir, f"temp-{child}.rdb")),
             what="the child's file")
    with pytest.raises(redis.ResponseError, match="already in progress"):
        c.bgsave()
    c.set("k0", "changed after the fork")  # the child's file is the instant of BGSAVE
    wait_for(lambda: c.info("persistence")["rdb_bgsave_in_progress"] == 0, what="BGSAVE done")
    assert c.info("persistence")["rdb_last_bgsave_status"] == "ok"
    assert c.info("persistence")["rdb_changes_since_last_save"] == 1
    assert not os.path.exists(os.path.join(s.dir, f"temp-{child}.rdb"))
    c.config_set("rdb-key-save-delay", 0)
    try:
        c.shutdown(nosave=True)
    except redis.ConnectionError:
        pass
    s.stop()
    s.start()
    check_restored(s.client())
    assert s.client().get("k0") == "0"


def test_shutdown_nosave_kills_the_child_and_removes_its_file(server_factory):
    s = snapshot_server(server_factory)
    c = s.client()
    fill(c)
    c.config_set("rdb-key-save-delay", 1000000)  # 25 s: still writing when SHUTDOWN comes
    c.bgsave()
    [child] = wait_for(lambda: child_pids(s.proc.pid), what="the saving child")
    temp = os.path.join(s.dir, f"temp-{child}.rdb")
    wait_for(lambda: os.path.exists(temp), what="the child's file")
    try:
        c.shutdown(nosave=True)
    except redis.ConnectionError:
        pass
    assert s.proc.wait(timeout=10) == 0
    assert not os.path.exists(temp)
    with pytest.raises(redis.ConnectionError):
        s.client().ping()


def test_shutdown_refused_when_its_save_fails(server_factory):
    s = snapshot_server(server_factory)
    c = s.client()
    fill(c)
    dump = os.path.join(s.dir, "dump.rdb")
    if os.path.exists(dump):  # Redis's FLUSHALL saves when save points are set
        os.unlink(dump)
    os.mkdir(dump)  # the rename over it fails
    with pytest.raises(redis.ResponseError, match="Errors trying to SHUTDOWN"):
        c.shutdown()
    assert c.ping() is True
    # A signal's shutdown fails the same way, and the server goes on.
    s.proc.send_signal(signal.SIGTERM)
    wait_for(lambda: "Errors trying to shut down the server" in s.read_log(),
             what="the failed shutdown logged")
    assert c.ping() is True
    try:
        c.shutdown(nosave=True)
    except redis.ConnectionError:
        pass
    assert s.proc.wait(timeout=10) == 0


def test_signal_saves_and_the_next_start_loads(server_factory):
    s = snapshot_server(server_factory)
    c = s.client()
    fill(c)
    assert s.stop(signal.SIGTERM) == 0
    assert os.path.exists(os.path.join(s.dir, "dump.rdb"))
    s.start()
    check_restored(s.client())


def test_no_save_points_no_file(server_factory):
    s = snapshot_server(server_factory, save="")
    c = s.client()
    fill(c)
    assert s.stop(signal.SIGTERM) == 0
    assert not os.path.exists(os.path.join(s.dir, "dump.rdb"))


def test_shutdown_abort_takes_back_a_signal(server_factory):
    s = snapshot_server(server_factory)
    c = s.client()
    with pytest.raises(redis.ResponseError, match="No shutdown in progress"):
        c.execute_command("SHUTDOWN", "ABORT")
    c.execute_command("DEBUG", "PAUSE-CRON", "1")  # the signal's shutdown waits for the tick
    s.proc.send_signal(signal.SIGTERM)
    wait_for(lambda: "scheduling shutdown" in s.read_log(), what="the signal received")
    assert c.execute_command("SHUTDOWN", "ABORT") in (True, "OK")
    c.execute_command("DEBUG", "PAUSE-CRON", "0")
    assert c.ping() is True
    assert "Shutdown manually aborted" in s.read_log()
    assert s.proc.poll() is None


def test_save_points_count_from_the_start(server_factory):
    s = snapshot_server(server_factory, save="1 1")
    c = s.client()
    # As Redis's lastsave: the start, not 1970 (else every save point would be due at once).
    assert abs(c.lastsave().timestamp() - time.time()) < 60
    c.set("k", "v")
    wait_for(lambda: os.path.exists(os.path.join(s.dir, "dump.rdb")), what="the save point's file")
    wait_for(lambda: c.info("persistence")["rdb_changes_since_last_save"] == 0,
             what="the save point's BGSAVE done")
