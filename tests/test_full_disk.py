"""A full disk: writes fail with MISCONF, reads go on, nothing acknowledged is lost, and writes
resume once space is freed.

The test mounts an 8 MiB tmpfs of its own (so it needs root and mount(2); the module is skipped
with the reason otherwise), puts a filler file of a few MiB and the data directory on it, runs
the server with --fsync always, and writes until the file system is full. The tmpfs is always
unmounted at teardown.
"""

import os
import subprocess
import time
import uuid

import pytest
import redis

from durability_util import TARGET, DurableServer, SANITIZED

pytestmark = pytest.mark.skipif(TARGET == "redis",
                                reason="Redis exits on an AOF write error under appendfsync "
                                       "always; this is FDB's contract")

FS_SIZE = "8m"
FILLER_BYTES = 3 << 20
VALUE_BYTES = 32 << 10


@pytest.fixture
def small_fs(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs (mount -t tmpfs -o size=8m)")
    mnt = tmp_path / f"fullfs-{uuid.uuid4().hex[:8]}"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={FS_SIZE}", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {p.stderr.strip() or p.returncode}")
    try:
        yield str(mnt)
    finally:
        for _ in range(50):
            if subprocess.run(["umount", str(mnt)], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_full_disk_misconf_then_recovery(small_fs, tmp_path):
    filler = os.path.join(small_fs, "filler")
    with open(filler, "wb") as f:
        f.write(os.urandom(FILLER_BYTES))
        f.flush()
        os.fsync(f.fileno())
    data = os.path.join(small_fs, "data")
    os.mkdir(data)
    s = DurableServer(data, fsync="always", log_dir=str(tmp_path))
    try:
        _run(s, filler)
    finally:
        s.close()


def _value(i):
    return (f"{i:06d}-" * (VALUE_BYTES // 7 + 1))[:VALUE_BYTES]


def _run(s, filler):
    c = s.client(socket_timeout=60 if SANITIZED else 20)
    acked = {}
    errors = []
    # 8 MiB - 3 MiB filler: about 160 values of 32 KiB fit. Stop after 10 errors in a row.
    for i in range(400):
        k = f"fill:{i}"
        try:
            assert c.set(k, _value(i)) is True
            acked[k] = _value(i)
            if errors:
                errors.append(None)  # a success after an error (space found again)
        except redis.ResponseError as e:
            errors.append(str(e))
            if len([x for x in errors[-10:] if x]) >= 10:
                break
        except redis.ConnectionError as e:
            time.sleep(0.2)
            pytest.fail(f"write #{i} ({len(acked)} acknowledged, errors so far {errors[-2:]}): "
                        f"the connection was dropped ({e}) instead of a MISCONF reply; server "
                        f"{'still running' if s.alive() else f'exited with {s.proc.returncode}'}"
                        f"; its output:\n{s.log_text()}", pytrace=False)
    real = [e for e in errors if e]
    assert real, (f"{len(acked)} writes of {VALUE_BYTES} bytes all succeeded on an {FS_SIZE} "
                  f"file system: the data is not reaching the disk")
    bad = [e for e in real if not e.startswith("MISCONF")]
    assert not bad, f"write errors on a full disk must start with MISCONF; got {bad[:3]}"
    assert s.alive(), f"the server died on a full disk:\n{s.log_text()}"
    assert len(acked) >= 20, f"only {len(acked)} writes succeeded before the disk filled"

    print(f"\nfull disk: {len(acked)} writes of {VALUE_BYTES} bytes acknowledged, then "
          f"{len(real)} refused: {real[0]!r}")

    # Reads keep working, and every acknowledged write is readable.
    assert c.ping()
    keys = list(acked)
    got = c.mget(keys)
    wrong = [k for k, v in zip(keys, got) if v != acked[k]]
    assert not wrong, f"reads on a full disk: {len(wrong)} acknowledged keys wrong: {wrong[:5]}"
    assert c.get("never-written") is None
    # Small writes and other write commands are refused too while the log cannot be written.
    # (A small record may still fit in what is left; if one is accepted, it counts as
    # acknowledged like any other write.)
    for cmd in (("SET", "small", "1"), ("INCR", "ctr"), ("DEL", keys[0])):
        try:
            reply = c.execute_command(*cmd)
        except redis.ResponseError as e:
            assert str(e).startswith("MISCONF"), f"{cmd[0]} on a full disk: {e}"
            continue
        if cmd[0] == "SET":
            acked["small"] = "1"
        elif cmd[0] == "INCR":
            acked["ctr"] = str(reply)
        else:
            assert reply == 1
            acked.pop(keys[0])

    # Free space: writes resume.
    os.unlink(filler)
    deadline = time.time() + (30 if SANITIZED else 10)
    while True:
        try:
            assert c.set("resumed", "yes") is True
            break
        except redis.ResponseError as e:
            assert str(e).startswith("MISCONF"), e
            assert time.time() < deadline, ("writes still fail 10 s after space was freed: "
                                            f"{e}\n{s.log_text()}")
            time.sleep(0.1)
    acked["resumed"] = "yes"
    for i in range(10):
        k = f"after:{i}"
        assert c.set(k, f"v{i}") is True
        acked[k] = f"v{i}"
    assert c.delete(keys[1]) == 1
    deleted = keys[1]
    acked.pop(deleted)

    # Nothing acknowledged was lost, across a crash and across a clean restart.
    for how in ("kill9", "term"):
        s.restart(how)
        c = s.client()
        keys = list(acked)
        got = c.mget(keys)
        lost = [k for k, v in zip(keys, got) if v != acked[k]]
        assert not lost, (f"after a full disk and a restart ({how}), {len(lost)} acknowledged "
                          f"keys lost or wrong: {lost[:5]}\n{s.log_text()}")
        assert c.get(deleted) is None, "a DEL acknowledged after the disk recovered was lost"
        # A write refused with MISCONF is either absent or has the value it was sent with.
        for i in range(400):
            k = f"fill:{i}"
            if k not in acked and k != deleted:
                v = c.get(k)
                assert v in (None, _value(i)), f"{k} holds a value nobody wrote"
