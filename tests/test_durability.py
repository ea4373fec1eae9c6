"""Durability across restarts, the data directory's lock, and recovery from damaged files.

Black-box: a real fdb-server on a free loopback port with its own --dir; "restart" means the
process is stopped (kill -9 unless a test says otherwise) and started again on the same
directory. What must survive is DESIGN.md's "Write path and durability" and "The data
directory"; the damaged-file tests follow docs/format.md's recovery policy.

FDB_TEST_TARGET=redis runs the restart tests against redis-server with appendonly yes (a check
of the tests); tests of FDB's files and tools are skipped there.
"""

import os
import random
import re
import shutil
import time

import pytest
import redis

from durability_util import (DurableServer, copy_data_dir, durable, fdb_check,  # noqa: F401
                             fdb_only, flip_byte, info_fields, live_segment_paths, offsets_named,
                             parse_segment, read_manifest, run_server_expecting_exit,
                             segment_files, truncate, wait_for, SANITIZED, TARGET)

BOTH = pytest.mark.parametrize("fsync", ["always", "everysec"])


def restart(s, how="kill9"):
    s.restart(how)
    return s.client()


# ---- every kind of change survives a restart -------------------------------------------------

@BOTH
def test_strings_survive_kill9(durable, fsync):
    s = durable(fsync)
    c = s.client()
    cb = s.client(decode_responses=False)
    expected = {f"str:{i}": f"value-{i}-" + "x" * (i % 37) for i in range(300)}
    for k, v in expected.items():
        assert c.set(k, v) is True
    c.mset({"m1": "one", "m2": "two"})
    expected.update(m1="one", m2="two")
    assert c.setnx("nx", "first") and not c.setnx("nx", "second")
    expected["nx"] = "first"
    assert c.getset("gs", "a") is None and c.getset("gs", "b") == "a"
    expected["gs"] = "b"
    c.set("overwritten", "old")
    c.set("overwritten", "new")
    expected["overwritten"] = "new"
    c.set("empty", "")
    expected["empty"] = ""
    binary = bytes(range(256)) * 3 + b"\r\n\x00end"
    cb.set(b"bin\x00key\xff", binary)
    big = os.urandom(1 << 20)
    cb.set("big", big)

    c = restart(s)
    cb = s.client(decode_responses=False)
    keys = list(expected)
    got = dict(zip(keys, c.mget(keys)))
    missing = {k: v for k, v in expected.items() if got[k] != v}
    assert not missing, (f"after kill -9 under --fsync {fsync}, {len(missing)} keys lost or wrong, "
                         f"e.g. {list(missing.items())[:5]} (got {[got[k] for k in list(missing)[:5]]})")
    assert cb.get(b"bin\x00key\xff") == binary, "binary key/value changed across restart"
    assert cb.get("big") == big, "1 MiB value changed across restart"
    assert c.dbsize() == len(expected) + 2, "key count changed across restart"


@BOTH
def test_deletions_survive_kill9(durable, fsync):
    s = durable(fsync)
    c = s.client()
    for i in range(50):
        c.set(f"d:{i}", i)
    assert c.delete(*[f"d:{i}" for i in range(0, 50, 2)]) == 25
    assert c.unlink("d:1", "d:3") == 2
    assert c.getdel("d:5") == "5"
    c.set("d:6", "again")          # deleted then written again: present
    c.set("gone", "x")
    c.delete("gone")               # written then deleted: absent
    c = restart(s)
    for i in range(50):
        want = None if i % 2 == 0 or i in (1, 3, 5) else str(i)
        if i == 6:
            want = "again"
        assert c.get(f"d:{i}") == want, f"d:{i} after restart"
    assert c.exists("gone") == 0, "a deleted key came back after restart"
    assert c.dbsize() == 50 - 25 - 3 + 1


@BOTH
def test_selected_databases_survive(durable, fsync):
    s = durable(fsync)
    for db in range(16):
        c = s.client(db=db)
        c.set("k", f"db{db}")
        c.set(f"only-in-{db}", db)
    c = restart(s)
    for db in range(16):
        c = s.client(db=db)
        assert c.get("k") == f"db{db}", f"database {db} lost or mixed up its key after restart"
        assert c.get(f"only-in-{db}") == str(db)
        assert c.dbsize() == 2, f"database {db} has {c.dbsize()} keys after restart, want 2"


@BOTH
def test_flushdb_and_flushall_survive(durable, fsync):
    s = durable(fsync)
    c0, c1, c2 = s.client(db=0), s.client(db=1), s.client(db=2)
    for i in range(20):
        c0.set(f"a{i}", i)
        c1.set(f"b{i}", i)
        c2.set(f"c{i}", i)
    assert c1.flushdb() is True
    c1.set("after-flushdb", "yes")
    s.restart()
    c0, c1, c2 = s.client(db=0), s.client(db=1), s.client(db=2)
    assert c1.dbsize() == 1 and c1.get("after-flushdb") == "yes", \
        "FLUSHDB of db 1 not replayed (or the write after it lost)"
    assert c0.dbsize() == 20 and c2.dbsize() == 20, "FLUSHDB of db 1 emptied another database"
    assert c0.flushall() is True
    c2.set("after-flushall", "yes")
    s.restart()
    c0, c1, c2 = s.client(db=0), s.client(db=1), s.client(db=2)
    assert (c0.dbsize(), c1.dbsize(), c2.dbsize()) == (0, 0, 1), \
        "FLUSHALL not replayed in order with the writes around it"
    assert c2.get("after-flushall") == "yes"


@BOTH
def test_swapdb_survives(durable, fsync):
    s = durable(fsync)
    c0, c1 = s.client(db=0), s.client(db=1)
    c0.set("k", "zero")
    c0.set("only0", "0")
    c1.set("k", "one")
    c1.set("only1", "1")
    c1.set("only1b", "1b")
    assert c0.swapdb(0, 1) is True
    c0.set("after-swap", "in-0")   # goes into the new db 0 (the old db 1)
    s.restart()
    c0, c1 = s.client(db=0), s.client(db=1)
    assert c0.get("k") == "one" and c1.get("k") == "zero", "SWAPDB not replayed"
    assert sorted(c0.keys("*")) == ["after-swap", "k", "only1", "only1b"]
    assert sorted(c1.keys("*")) == ["k", "only0"]


@BOTH
def test_rename_move_copy_survive(durable, fsync):
    s = durable(fsync)
    c = s.client()
    c.set("src", "v1")
    assert c.rename("src", "dst") is True
    c.set("n1", "n1v")
    c.set("n2", "n2v")
    assert c.renamenx("n1", "n2") is False          # no change
    assert c.renamenx("n1", "n3") is True
    c.set("mv", "moved")
    assert c.move("mv", 3) is True
    c.set("cp", "copied")
    assert c.copy("cp", "cp2") is True
    assert c.copy("cp", "cp-db5", destination_db=5) is True
    c.set("cp3", "old")
    assert c.copy("cp", "cp3", replace=True) is True
    c.set("ttl-src", "t", ex=1000)
    c.rename("ttl-src", "ttl-dst")                   # the TTL moves with the key
    c = restart(s)
    assert c.get("src") is None and c.get("dst") == "v1", "RENAME not replayed"
    assert (c.get("n1"), c.get("n2"), c.get("n3")) == (None, "n2v", "n1v"), "RENAMENX"
    assert c.get("mv") is None and s.client(db=3).get("mv") == "moved", "MOVE not replayed"
    assert (c.get("cp"), c.get("cp2"), c.get("cp3")) == ("copied",) * 3, "COPY not replayed"
    assert s.client(db=5).get("cp-db5") == "copied", "COPY ... DB 5 not replayed"
    assert c.get("ttl-dst") == "t" and 990 < c.ttl("ttl-dst") <= 1000, \
        "RENAME lost the key's TTL across restart"


@BOTH
def test_incr_results_survive(durable, fsync):
    s = durable(fsync)
    c = s.client()
    for _ in range(137):
        c.incr("ctr")
    c.incrby("ctr", 1000)
    c.decr("ctr")
    c.decrby("down", 42)
    c.set("big", 2**62)
    c.incrby("big", 2**62 - 1)
    c.incrbyfloat("f", "10.5")
    c.incrbyfloat("f", "0.1")
    c.incrbyfloat("f", "-3")
    want = {k: c.get(k) for k in ("ctr", "down", "big", "f")}
    assert want["ctr"] == "1136"
    c = restart(s)
    got = {k: c.get(k) for k in want}
    assert got == want, "INCR-family results changed across restart"
    assert c.incr("ctr") == 1137, "INCR after restart does not continue from the stored value"


@BOTH
def test_append_setrange_survive(durable, fsync):
    s = durable(fsync)
    c = s.client()
    for i in range(100):
        c.append("log", f"[{i}]")
    c.set("sr", "Hello World")
    c.setrange("sr", 6, "Redis")
    c.setrange("gap", 10, "end")                 # zero-padded
    c.set("grow", "ab")
    c.setrange("grow", 5, "xyz")
    c.append("new", "created-by-append")
    cb = s.client(decode_responses=False)
    want = {k: cb.get(k) for k in ("log", "sr", "gap", "grow", "new")}
    assert want["gap"] == b"\x00" * 10 + b"end"
    s.restart()
    cb = s.client(decode_responses=False)
    got = {k: cb.get(k) for k in want}
    assert got == want, "APPEND/SETRANGE results changed across restart"


# ---- expiry: absolute deadlines --------------------------------------------------------------

@BOTH
def test_ttl_keeps_absolute_deadline(durable, fsync):
    s = durable(fsync)
    c = s.client()
    now_ms = int(time.time() * 1000)
    c.set("px", "v", px=60_000)
    c.set("ex", "v")
    c.expire("ex", 3600)
    c.set("at", "v")
    c.pexpireat("at", now_ms + 7_200_000)
    c.set("persisted", "v", ex=100)
    c.persist("persisted")
    c.set("keepttl", "v1", ex=500)
    c.set("keepttl", "v2", keepttl=True)
    c.set("getex", "v")
    c.getex("getex", px=90_000)
    c.set("reset", "v", ex=100)
    c.set("reset", "v2")                          # a plain SET drops the TTL
    deadlines = {k: c.pexpiretime(k) for k in ("px", "ex", "at", "keepttl", "getex")}
    for k, d in deadlines.items():
        assert d > now_ms, f"{k}: PEXPIRETIME {d} before restart"
    time.sleep(1.2)  # a replay that re-applies a relative TTL would move deadlines by >= 1.2 s
    c = restart(s)
    after = {k: c.pexpiretime(k) for k in deadlines}
    # Redis's AOF keeps deadlines in ms; allow 1 ms of rounding only.
    moved = {k: (deadlines[k], after[k]) for k in deadlines if abs(after[k] - deadlines[k]) > 1}
    assert not moved, f"absolute deadlines changed across restart (before, after): {moved}"
    assert c.get("keepttl") == "v2"
    assert c.ttl("persisted") == -1, "PERSIST not replayed"
    assert c.ttl("reset") == -1, "SET without KEEPTTL did not clear the TTL after restart"
    assert 0 < c.pttl("px") <= 60_000 - 1_000, "PTTL after restart ignores the time that passed"


@BOTH
def test_expired_keys_stay_expired(durable, fsync):
    s = durable(fsync)
    c = s.client()
    c.set("short", "v", px=200)
    c.set("short2", "v")
    c.pexpire("short2", 250)
    c.set("past", "v")
    c.pexpireat("past", int(time.time() * 1000) - 10_000)   # deletes at once
    c.set("long", "v", ex=3600)
    c.set("plain", "v")
    time.sleep(0.5)  # expired while the server ran, never accessed
    c = restart(s)
    for k in ("short", "short2", "past"):
        assert c.get(k) is None and c.exists(k) == 0, f"expired key {k!r} came back after restart"
    assert c.get("long") == "v" and c.get("plain") == "v"
    assert sorted(c.keys("*")) == ["long", "plain"]


@BOTH
def test_deadline_passing_while_server_down(durable, fsync):
    """A key whose deadline passes while the server is down is gone at restart: deadlines are
    absolute, not re-armed from the restart time."""
    s = durable(fsync)
    c = s.client()
    c.set("soon", "v", px=1500)
    c.set("later", "v", px=60_000)
    s.kill9()
    time.sleep(1.8)
    s.start()
    c = s.client()
    assert c.get("soon") is None, "a key whose deadline passed during downtime was resurrected"
    assert c.get("later") == "v"


# ---- SAVE / BGSAVE: checkpoint + replay of the tail ------------------------------------------

def _wait_next_second(c):
    before = c.lastsave()
    before_ts = int(before.timestamp()) if hasattr(before, "timestamp") else int(before)
    wait_for(lambda: time.time() >= before_ts + 1.05, 3, what="the next second")
    return before_ts


def _lastsave_ts(c):
    v = c.lastsave()
    return int(v.timestamp()) if hasattr(v, "timestamp") else int(v)


@BOTH
def test_save_then_more_writes_then_restart(durable, fsync):
    s = durable(fsync)
    c = s.client()
    for i in range(500):
        c.set(f"k:{i}", f"before-{i}")
    c.set("ctr", 10)
    c.set("ttl", "v", px=600_000)
    deadline = c.pexpiretime("ttl")
    before = _wait_next_second(c)
    assert c.save() is True
    assert _lastsave_ts(c) > before, "LASTSAVE did not advance after SAVE"
    if TARGET != "redis":
        m = read_manifest(s.dir)
        assert m and m["checkpoint"], f"MANIFEST names no checkpoint after SAVE: {m}"
        assert os.path.exists(os.path.join(s.dir, m["checkpoint"])), \
            f"checkpoint {m['checkpoint']} named in MANIFEST does not exist"
    # Writes after the checkpoint: overwrites, deletes, new keys, INCR, a flush of another db.
    for i in range(0, 500, 3):
        c.set(f"k:{i}", f"after-{i}")
    c.delete(*[f"k:{i}" for i in range(1, 500, 7)])
    for i in range(500, 600):
        c.set(f"k:{i}", f"new-{i}")
    c.incrby("ctr", 5)
    s.client(db=1).set("x", "y")
    s.client(db=1).flushdb()

    def expected():
        e = {f"k:{i}": f"before-{i}" for i in range(500)}
        e.update({f"k:{i}": f"after-{i}" for i in range(0, 500, 3)})
        for i in range(1, 500, 7):
            e.pop(f"k:{i}")
        e.update({f"k:{i}": f"new-{i}" for i in range(500, 600)})
        return e

    for attempt in range(2):  # from checkpoint + tail, then again from that recovered state
        c = restart(s)
        e = expected()
        got = dict(zip(e, c.mget(list(e))))
        wrong = [(k, e[k], got[k]) for k in e if got[k] != e[k]]
        assert not wrong, (f"restart #{attempt + 1} after SAVE: {len(wrong)} keys wrong "
                           f"(key, want, got): {wrong[:5]}")
        assert c.get("ctr") == "15", "INCR after the checkpoint not replayed"
        assert c.pexpiretime("ttl") == deadline
        assert c.dbsize() == len(e) + 2, "keys deleted after the checkpoint came back"
        assert s.client(db=1).dbsize() == 0


@BOTH
def test_bgsave_with_concurrent_writes_then_restart(durable, fsync):
    s = durable(fsync)
    c = s.client()
    for i in range(2000):
        c.set(f"b:{i}", "v" * 50 + str(i))
    before = _wait_next_second(c)
    assert c.bgsave(), "BGSAVE failed"
    for i in range(0, 2000, 2):  # writes racing the background save
        c.set(f"b:{i}", f"raced-{i}")
    wait_for(lambda: _lastsave_ts(c) > before and
             str(info_fields(c).get("rdb_bgsave_in_progress", 0)) == "0", 30,
             what="BGSAVE to finish (LASTSAVE to advance)")
    c.set("after", "bgsave")
    c = restart(s)
    want = {f"b:{i}": (f"raced-{i}" if i % 2 == 0 else "v" * 50 + str(i)) for i in range(2000)}
    got = dict(zip(want, c.mget(list(want))))
    wrong = [(k, want[k], got[k]) for k in want if got[k] != want[k]]
    assert not wrong, f"{len(wrong)} keys wrong after BGSAVE + restart: {wrong[:5]}"
    assert c.get("after") == "bgsave"


@fdb_only
def test_info_persistence_fields(durable):
    s = durable("always")
    c = s.client()
    f0 = info_fields(c)
    for name in ("rdb_last_save_time", "fdb_segments", "fdb_live_bytes", "fdb_garbage_bytes",
                 "fdb_compactions", "fdb_fsyncs", "fdb_last_fsync_us"):
        assert name in f0, f"INFO persistence lacks {name}: {sorted(f0)}"
        assert re.fullmatch(r"-?\d+", str(f0[name])), f"{name}={f0[name]!r} is not an integer"
    for i in range(20):
        c.set(f"i:{i}", "x" * 100)
    f1 = info_fields(c)
    assert int(f1["fdb_fsyncs"]) > int(f0["fdb_fsyncs"]), \
        "fdb_fsyncs did not grow after 20 writes under --fsync always"
    assert int(f1["fdb_live_bytes"]) >= 20 * 100, f"fdb_live_bytes={f1['fdb_live_bytes']}"
    assert int(f1["fdb_segments"]) >= 1
    for i in range(20):
        c.set(f"i:{i}", "y" * 100)  # overwrites make garbage
    f2 = info_fields(c)
    assert int(f2["fdb_garbage_bytes"]) >= int(f1["fdb_garbage_bytes"]) + 20 * 100 or \
        int(f2["fdb_compactions"]) > int(f1["fdb_compactions"]), \
        f"overwrites did not show as garbage: {f1} -> {f2}"


@fdb_only
def test_fsync_flag_alias_and_default(durable):
    s = durable(None, extra_args=["--appendfsync", "always"])
    c = s.client()
    assert c.config_get("appendfsync") == {"appendfsync": "always"}, \
        "--appendfsync always is not an alias of --fsync always"
    c.set("alias", "ok")
    c = restart(s)
    assert c.get("alias") == "ok", "a write under --appendfsync always was lost by kill -9"
    d = durable(None)
    assert d.client().config_get("appendfsync") == {"appendfsync": "everysec"}, \
        "the default fsync policy is not everysec"


# ---- the data directory ----------------------------------------------------------------------

@fdb_only
def test_data_dir_layout(durable):
    s = durable("always")
    c = s.client()
    c.set("a", "b")
    names = os.listdir(s.dir)
    assert "LOCK" in names and "MANIFEST" in names, f"data dir holds {names}"
    assert segment_files(s.dir), f"no NNNNNNNN.fdb segment in {names}"
    assert all(re.fullmatch(r"\d{8}\.fdb", n) for n in segment_files(s.dir))
    rc, out = fdb_check(s.dir)
    assert rc != 0, f"fdb-check ran on a directory a live server holds:\n{out}"
    s.kill9()
    rc, out = fdb_check(s.dir)
    assert rc == 0, f"fdb-check of a directory after kill -9 at rest is not clean:\n{out}"


@fdb_only
def test_second_server_on_same_dir_is_refused(durable):
    s = durable("always")
    c = s.client()
    c.set("owner", "first")
    t0 = time.time()
    rc, err, out = run_server_expecting_exit(s.dir, timeout=30 if SANITIZED else 5)
    elapsed = time.time() - t0
    assert rc is not None, f"a second server on the same --dir kept running:\n{err}{out}"
    assert rc != 0, f"the second server exited with status 0:\n{err}{out}"
    assert elapsed < (30 if SANITIZED else 5), f"the second server took {elapsed:.1f}s to give up"
    assert s.dir in err or os.path.realpath(s.dir) in err, \
        f"the second server's stderr does not name the directory {s.dir}:\n" \
        f"stderr: {err}\nstdout: {out}"
    assert s.alive(), "the first server died when a second one tried its directory"
    assert c.ping() and c.get("owner") == "first"
    c.set("still", "writable")
    s.restart()
    assert s.client().get("still") == "writable"


@pytest.mark.parametrize("how", ["shutdown", "term"])
def test_clean_shutdown_then_restart(durable, how):
    s = durable("everysec")
    c = s.client()
    for i in range(1000):
        c.set(f"s:{i}", i)
    c.set("ttl", "v", ex=1000)
    if how == "shutdown":
        rc = s.shutdown()
    else:
        rc = s.stop()
    assert rc == 0, f"clean {how} exited with {rc}:\n{s.log_text()}"
    s.start()
    c = s.client()
    assert c.dbsize() == 1001
    assert c.mget([f"s:{i}" for i in range(1000)]) == [str(i) for i in range(1000)]
    assert 990 < c.ttl("ttl") <= 1000
    if TARGET != "redis":
        s.shutdown()
        rc, out = fdb_check(s.dir)
        assert rc == 0, f"fdb-check after a clean SHUTDOWN is not clean:\n{out}"


@BOTH
def test_many_restarts_accumulate(durable, fsync):
    s = durable(fsync)
    for r in range(6):
        c = s.client()
        for i in range(r * 50):  # every earlier round's keys are still there
            assert c.get(f"r:{i}") == str(i), f"round {r}: r:{i} lost"
        for i in range(r * 50, (r + 1) * 50):
            c.set(f"r:{i}", i)
        s.restart("kill9" if r % 2 else "term")
    assert s.client().dbsize() == 300


# ---- damaged files -------------------------------------------------------------------------

KEY_RE = re.compile(rb"tt:(\d{4})")


def _write_keys_and_kill(durable, n, prefix="tt", value=lambda i: f"val-{i:04d}-" + "x" * (i % 5)):
    s = durable("always")
    c = s.client()
    for i in range(n):
        assert c.set(f"{prefix}:{i:04d}", value(i)) is True
    s.kill9()  # every write above was acknowledged under --fsync always: all durable
    return s


def _live_segments(d):
    segs = live_segment_paths(d)
    assert segs, (f"no live NNNNNNNN.fdb segment in {d} after acknowledged writes "
                  f"(MANIFEST: {read_manifest(d)}, files: {sorted(os.listdir(d))})")
    return segs


def _record_keys(records):
    out = []
    for r in records:
        ks = {int(m) for m in KEY_RE.findall(r.payload)}
        out.append(ks)
    return out


@fdb_only
def test_torn_tail_at_every_offset(durable, tmp_path):
    N = 40
    s = _write_keys_and_kill(durable, N)
    last = _live_segments(s.dir)[-1]
    seg_name = os.path.basename(last)
    hdr, records = parse_segment(last)
    keys = _record_keys(records)
    assert len(records) >= 3 and all(len(k) == 1 for k in keys[-3:]), \
        f"expected the last 3 records of {seg_name} to be the last SETs, one key each: " \
        f"{records[-3:]}"
    tail = records[-3:]
    tail_keys = [next(iter(k)) for k in keys[-3:]]
    assert tail_keys == [N - 3, N - 2, N - 1], f"last records hold keys {tail_keys}"
    size = hdr["size"]
    assert size == tail[-1].end

    def expect_for(cut):
        """(record index in tail the cut falls into or None, keys present, keys absent)."""
        for j, r in enumerate(tail):
            if r.start <= cut < r.end:
                return j, range(0, N - 3 + j), range(N - 3 + j, N)
        return None, range(N), range(0)

    # fdb-check at EVERY cut offset (and with the cut bytes zeroed instead of removed).
    work = tmp_path / "cuts"
    work.mkdir()
    failures = []
    for cut in range(tail[0].start, size + 1):
        j, _, _ = expect_for(cut)
        for mode in ("truncate", "zero"):
            if mode == "zero" and cut == size:
                continue
            d = str(work / f"{mode}-{cut}")
            copy_data_dir(s.dir, d)
            p = os.path.join(d, seg_name)
            if mode == "truncate":
                truncate(p, cut)
            else:
                with open(p, "r+b") as f:
                    f.seek(cut)
                    f.write(b"\0" * (size - cut))
            rc, out = fdb_check(d)
            clean = (mode == "truncate" and cut in (r.start for r in tail)) or cut == size
            if clean:
                if rc != 0:
                    failures.append(f"{mode} at {cut} (a record boundary): fdb-check rc={rc}: {out}")
            else:
                want_off = tail[j].start if j is not None else cut
                if rc != 1 or want_off not in offsets_named(out, seg_name):
                    failures.append(f"{mode} at {cut}: want rc=1 naming {seg_name} offset "
                                    f"{want_off}; got rc={rc}: {out.strip()}")
            shutil.rmtree(d)
    assert not failures, f"{len(failures)} fdb-check failures, e.g.:\n" + "\n".join(failures[:8])

    # The server on a sample of cut offsets: every boundary, +-1 around it, header-only,
    # mid-payload, the last byte, a few random ones.
    sample = set()
    for r in tail:
        sample |= {r.start, r.start + 1, r.start + 4, r.start + 16, r.start + 17,
                   (r.start + r.end) // 2, r.end - 1}
    rnd = random.Random(1234)
    sample |= {rnd.randrange(tail[0].start, size) for _ in range(4)}
    sample = sorted(o for o in sample if tail[0].start <= o < size)
    for n, cut in enumerate(sample):
        d = str(work / f"srv-{cut}")
        copy_data_dir(s.dir, d)
        truncate(os.path.join(d, seg_name), cut)
        j, present, absent = expect_for(cut)
        srv = durable("always", data_dir=d)
        c = srv.client()
        vals = c.mget([f"tt:{i:04d}" for i in range(N)])
        lost = [i for i in present if vals[i] != f"val-{i:04d}-" + "x" * (i % 5)]
        extra = [i for i in absent if vals[i] is not None]
        assert not lost and not extra, (
            f"cut {seg_name} at {cut} (inside the record of tt:{N - 3 + j:04d} at "
            f"{tail[j].start}..{tail[j].end}): keys lost {lost}, keys that should be gone {extra}")
        if cut != tail[j].start:
            log = srv.log_text()
            assert seg_name in log, f"the server did not log the torn tail it cut:\n{log}"
        if n % 4 == 0:
            # The tail is cut for good: new writes after it survive another crash, and the
            # directory checks clean.
            c.set("after-recovery", "yes")
            srv.kill9()
            assert os.path.getsize(os.path.join(d, seg_name)) == tail[j].start, \
                f"recovery did not cut {seg_name} back to offset {tail[j].start}"
            rc, out = fdb_check(d)
            assert rc == 0, f"fdb-check after recovery from a cut at {cut}:\n{out}"
            srv.start()
            c = srv.client()
            assert c.get("after-recovery") == "yes"
            assert c.get(f"tt:{N - 4:04d}") is not None
        srv.close()
        shutil.rmtree(d)


@fdb_only
def test_salvage_cuts_torn_tail(durable, tmp_path):
    N = 20
    s = _write_keys_and_kill(durable, N)
    last = _live_segments(s.dir)[-1]
    seg_name = os.path.basename(last)
    _, records = parse_segment(last)
    cut = records[-1].start + 9
    truncate(last, cut)
    rc, out = fdb_check(s.dir)
    assert rc == 1 and records[-1].start in offsets_named(out, seg_name), out
    rc, out = fdb_check(s.dir, salvage=True)
    assert rc == 0, f"fdb-check --salvage of a torn tail: rc={rc}\n{out}"
    assert os.path.getsize(last) == records[-1].start
    rc, out = fdb_check(s.dir)
    assert rc == 0, f"fdb-check after --salvage is not clean:\n{out}"
    s.start()
    c = s.client()
    assert c.dbsize() == N - 1 and c.get(f"tt:{N - 2:04d}") is not None


def _check_refusal(d, seg_name, rec, what):
    rc, out, stdout = run_server_expecting_exit(d, timeout=10)
    if rc in (None, 0):
        out += "\n[stdout]\n" + stdout
    assert rc is not None, f"{what}: the server started on a corrupted log:\n{out}"
    assert rc != 0, f"{what}: the server exited 0 on a corrupted log:\n{out}"
    offs = offsets_named(out, seg_name)
    assert any(rec.start <= o < rec.end for o in offs), (
        f"{what}: the server's error does not name {seg_name} and an offset in the damaged "
        f"record {rec.start}..{rec.end}:\n{out}")
    rc2, out2 = fdb_check(d)
    assert rc2 == 1, f"{what}: fdb-check rc={rc2} on a corrupted log:\n{out2}"
    offs2 = offsets_named(out2, seg_name)
    assert set(offs) & set(offs2), (f"{what}: fdb-check names offsets {offs2} of {seg_name}, "
                                    f"the server {offs}:\nserver: {out}\nfdb-check: {out2}")
    return offs


@fdb_only
@pytest.mark.parametrize("where", ["payload", "crc", "length", "sequence"])
def test_corruption_in_earlier_segment_refuses_start(durable, tmp_path, where):
    s = durable("always")
    c = s.client()
    for i in range(30):
        c.set(f"tt:{i:04d}", f"v{i}")
    s.restart("kill9")  # a restart starts a new segment (docs/format.md, write protocol 3)
    c = s.client()
    for i in range(30, 60):
        c.set(f"tt:{i:04d}", f"v{i}")
    s.kill9()
    segs = _live_segments(s.dir)
    assert len(segs) >= 2, (f"expected a second segment after a restart, MANIFEST names "
                            f"{read_manifest(s.dir)}; files {os.listdir(s.dir)}")
    # The earliest live segment that holds records of ours.
    for p in segs[:-1]:
        _, records = parse_segment(p)
        ours = [r for r in records if KEY_RE.search(r.payload)]
        if len(ours) >= 3:
            break
    else:
        pytest.fail(f"no earlier segment holds the first 30 writes: {segs}")
    seg_name = os.path.basename(p)
    rec = ours[len(ours) // 2]
    off = {"payload": rec.start + 17 + (rec.end - rec.start - 17) // 2, "crc": rec.start + 1,
           "length": rec.start + 5, "sequence": rec.start + 10}[where]
    flip_byte(p, off)
    _check_refusal(s.dir, seg_name, rec, f"byte {off} ({where}) of {seg_name} flipped")
    # --salvage never cuts a segment that is not the last one.
    size = os.path.getsize(p)
    fdb_check(s.dir, salvage=True)
    assert os.path.getsize(p) == size, "fdb-check --salvage cut an earlier segment"
    rc, _, _ = run_server_expecting_exit(s.dir, timeout=10)
    assert rc not in (None, 0), "the server started after --salvage left the corruption"


@fdb_only
def test_corrupt_segment_header_refuses_start(durable):
    s = durable("always")
    c = s.client()
    for i in range(10):
        c.set(f"tt:{i:04d}", f"v{i}")
    s.restart("kill9")
    s.client().set("later", "x")
    s.kill9()
    p = _live_segments(s.dir)[0]
    flip_byte(p, 18)  # inside the segment id
    rc, out, stdout = run_server_expecting_exit(s.dir, timeout=10)
    assert rc not in (None, 0), \
        f"the server started with a damaged segment header:\n{out}{stdout}"
    assert os.path.basename(p) in out, f"the error does not name {os.path.basename(p)}:\n{out}"
    rc, out = fdb_check(s.dir)
    assert rc == 1 and os.path.basename(p) in out, out


@fdb_only
def test_corruption_early_in_only_segment_refuses_start(durable, tmp_path):
    N = 30
    s = _write_keys_and_kill(durable, N)
    p = _live_segments(s.dir)[-1]
    seg_name = os.path.basename(p)
    _, records = parse_segment(p)
    keys = _record_keys(records)
    idx = next(i for i, k in enumerate(keys) if k == {3})  # the record of tt:0003
    rec = records[idx]
    flip_byte(p, rec.start + 17 + (rec.end - rec.start - 17) // 2)
    _check_refusal(s.dir, seg_name, rec, f"payload of the record of tt:0003 in {seg_name}")
    # --salvage cuts damage in the last segment followed by intact records (dropping them).
    rc, out = fdb_check(s.dir, salvage=True)
    assert os.path.getsize(p) == rec.start, f"--salvage did not cut at {rec.start}:\n{out}"
    rc, out = fdb_check(s.dir)
    assert rc == 0, f"fdb-check after --salvage:\n{out}"
    s.start()
    c = s.client()
    vals = c.mget([f"tt:{i:04d}" for i in range(N)])
    assert [v is not None for v in vals] == [True] * 3 + [False] * (N - 3), vals
