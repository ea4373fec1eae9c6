"""Opening a data directory of checkpoint format 1 (before issue 10, when a key's shard was the
low bits of XXH3 of the key) with this build: the server converts it on open and the data is
exactly what was acknowledged; a kill during the conversion leaves a directory that opens.

The directory of format 1 is written by the old server itself: FDB_OLD_SERVER_BIN names an
fdb-server built from commit d56b62f (or any commit before issue 10); without it these tests
skip. Example:
  git archive d56b62f | tar -x -C /tmp/ref && cmake -S /tmp/ref -B /tmp/ref/build -G Ninja \
    && cmake --build /tmp/ref/build --target fdb-server
  FDB_OLD_SERVER_BIN=/tmp/ref/build/fdb-server python -m pytest tests/test_format_upgrade.py
"""

import os
import random
import signal
import subprocess
import threading
import time

import pytest

from conftest import TARGET, free_port
from durability_util import DurableServer, durable, fdb_check, read_manifest  # noqa: F401

OLD_BIN = os.environ.get("FDB_OLD_SERVER_BIN")

pytestmark = pytest.mark.skipif(not OLD_BIN or TARGET == "redis",
                                reason="needs FDB_OLD_SERVER_BIN (an fdb-server of format 1)")


class OldServer(DurableServer):
    def args(self, port=None):
        a = super().args(port)
        a[0] = OLD_BIN
        return a


def checkpoint_magic(data_dir):
    m = read_manifest(data_dir)
    assert m and m["checkpoint"], m
    with open(os.path.join(data_dir, m["checkpoint"]), "rb") as f:
        return f.read(8)


def write_old_directory(data_dir, log_dir, nkeys=2000):
    """Writes a format 1 directory with the old server: keys, collections, a checkpoint taken
    while clients write (so its shards are captured at different sequences), then more writes,
    then SIGKILL. Returns the model of what was acknowledged (fsync always)."""
    old = OldServer(data_dir, fsync="always", log_dir=log_dir)
    model = {}
    c = old.client()
    p = c.pipeline(transaction=False)
    for i in range(nkeys):
        p.set(f"k:{i}", f"v{i}")
        model[f"k:{i}"] = f"v{i}"
    p.execute()
    c.hset("{user1}.h", mapping={"a": "1", "b": "2"})
    c.rpush("{user1}.l", "x", "y", "z")
    c.sadd("{user1}.s", "m", "n")
    counters = [f"ctr:{i}" for i in range(64)]
    stop = threading.Event()
    last = {}

    def writer():
        w = old.client()
        rnd = random.Random(7)
        while not stop.is_set():
            k = rnd.choice(counters)
            last[k] = w.incr(k)
        w.close()

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(0.2)
    c.save()  # the checkpoint, written shard by shard while INCRs go on
    time.sleep(0.2)
    stop.set()
    t.join()
    model.update({k: str(v) for k, v in last.items()})
    for i in range(0, nkeys, 7):
        c.delete(f"k:{i}")
        model.pop(f"k:{i}")
    c.set("after", "checkpoint")
    model["after"] = "checkpoint"
    c.hset("{user1}.h", "c", "3")
    c.lpop("{user1}.l")
    c.close()
    assert checkpoint_magic(data_dir) == b"FDBCKPT1"
    old.kill9()
    old.close()
    return model


def verify(client, model):
    keys = [k for k in client.scan_iter(count=1000) if not k.startswith("{user1}")]
    assert sorted(keys) == sorted(model)
    p = client.pipeline(transaction=False)
    for k in model:
        p.get(k)
    assert dict(zip(model, p.execute())) == model
    assert client.hgetall("{user1}.h") == {"a": "1", "b": "2", "c": "3"}
    assert client.lrange("{user1}.l", 0, -1) == ["y", "z"]
    assert client.smembers("{user1}.s") == {"m", "n"}


def test_format1_directory_is_converted_on_open(durable, tmp_path):
    data_dir = str(tmp_path / "data")
    os.makedirs(data_dir)
    model = write_old_directory(data_dir, str(tmp_path))
    rc, out = fdb_check(data_dir)
    assert rc == 0, out
    assert "format 1" in out, out

    s = durable(data_dir=data_dir)
    verify(s.client(), model)
    assert "converted" in s.log_text(), s.log_text()
    assert checkpoint_magic(data_dir) == b"FDBCKPT2"
    s.client().set("new", "write")
    model["new"] = "write"
    s.restart("kill9")
    verify(s.client(), model)
    assert "format 1" not in s.log_text()
    s.shutdown()
    rc, out = fdb_check(data_dir)
    assert rc == 0 and "format 2" in out, out


def test_kill_during_conversion_leaves_a_directory_that_opens(durable, tmp_path):
    data_dir = str(tmp_path / "data")
    os.makedirs(data_dir)
    model = write_old_directory(data_dir, str(tmp_path), nkeys=100000)
    probe = DurableServer(data_dir, fsync="always", log_dir=str(tmp_path), start=False)
    for delay in (0.0, 0.02, 0.05, 0.1, 0.12, 0.15, 0.17, 0.2, 0.4):
        # Started by hand and SIGKILLed after `delay`: inside recovery, the conversion's
        # checkpoint, or after it.
        with open(os.path.join(str(tmp_path), f"kill-{delay}.log"), "wb") as log:
            proc = subprocess.Popen(probe.args(port=free_port()), stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    s = durable(data_dir=data_dir)
    verify(s.client(), model)
    assert checkpoint_magic(data_dir) == b"FDBCKPT2"
    s.shutdown()
    rc, out = fdb_check(data_dir)
    assert rc == 0, out
