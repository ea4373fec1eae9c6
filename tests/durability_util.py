"""Helpers for the durability, crash and full-disk tests (tests/test_durability.py,
tests/test_crash.py, tests/test_full_disk.py).

These tests restart a server on the SAME data directory, kill it with SIGKILL, damage its files
and inspect them, so they need more than conftest's Server: a server whose log lives outside
the data directory (the data directory is copied byte for byte, cut, or put on a tiny tmpfs),
restart on the same port and directory, a way to run a server that is expected to refuse to
start, and readers for the on-disk format of docs/format.md.

FDB_TEST_TARGET=redis runs the restart and crash tests against redis-server with
`appendonly yes` and the same appendfsync policy (a check of the tests themselves: Redis's AOF
passes them); the tests of FDB's own files (segments, MANIFEST, fdb-check) skip there.
"""

import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from conftest import FDB_BIN, SANITIZED, TARGET, free_port, wait_for  # noqa: F401

FDB_CHECK_BIN = os.environ.get("FDB_CHECK_BIN",
                               os.path.join(os.path.dirname(FDB_BIN), "fdb-check"))
START_TIMEOUT = 30 if SANITIZED else 10
STOP_TIMEOUT = 30 if SANITIZED else 15

fdb_only = pytest.mark.skipif(TARGET == "redis", reason="FDB's own data files and tools")

SEGMENT_RE = re.compile(r"^\d{8,}\.fdb$")
SEGMENT_MAGIC = b"\x89FDBSEG\n"
SEGMENT_HEADER_SIZE = 40
RECORD_HEADER_SIZE = 17
MANIFEST_MAGIC = b"FDBMANI\n"


class ServerDied(AssertionError):
    pass


class DurableServer:
    """One fdb-server (or redis-server) process on a fixed data directory and port.
    fsync=None passes no --fsync flag (the default policy, or one set in extra_args).

    start() / kill9() / shutdown() / stop() can be called repeatedly: a restart reuses the same
    directory and the same port. The server's stdout+stderr go to a log file OUTSIDE the data
    directory (log_path), one file per start (log_text() returns the latest start's)."""

    def __init__(self, data_dir, fsync="always", extra_args=(), threads=2, log_dir=None,
                 start=True):
        self.dir = data_dir
        self.fsync = fsync
        self.extra_args = list(extra_args)
        self.threads = threads
        self.port = free_port()
        self._own_log_dir = None
        if log_dir is None:
            self._own_log_dir = tempfile.TemporaryDirectory(prefix="fdb-dlog-")
            log_dir = self._own_log_dir.name
        self.log_dir = log_dir
        self.starts = 0
        self.proc = None
        self.log_path = None
        self._clients = []
        if start:
            self.start()

    def args(self, port=None):
        port = self.port if port is None else port
        if TARGET == "redis":
            return ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", self.dir,
                    "--save", "", "--appendonly", "yes", "--appendfsync", self.fsync,
                    "--aof-use-rdb-preamble", "yes"] + self.extra_args
        fsync = [] if self.fsync is None else ["--fsync", self.fsync]
        return [FDB_BIN, "--port", str(port), "--bind", "127.0.0.1", "--dir", self.dir,
                "--threads", str(self.threads)] + fsync + self.extra_args

    def start(self, timeout=START_TIMEOUT):
        assert not self.alive(), "server already running"
        self.starts += 1
        self.log_path = os.path.join(self.log_dir, f"server-{self.port}-{self.starts}.log")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.args(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise ServerDied(f"server on {self.dir} exited with {self.proc.returncode} "
                                 f"during start (start #{self.starts}); its output:\n"
                                 f"{self.log_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.settimeout(timeout)
                    s.sendall(b"PING\r\n")
                    reply = s.recv(64)
                    if reply.startswith(b"+PONG"):
                        return self
                    if reply.startswith(b"-LOADING"):
                        time.sleep(0.05)
                        continue
            except OSError:
                time.sleep(0.02)
        self.kill9()
        raise AssertionError(f"server on {self.dir} did not answer PING within {timeout}s; "
                             f"output:\n{self.log_text()}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def client(self, db=0, **kw):
        kw.setdefault("decode_responses", True)
        kw.setdefault("socket_timeout", 60 if SANITIZED else 20)
        kw.setdefault("retry", Retry(NoBackoff(), 0))  # a retried INCR could apply twice
        c = redis.Redis(host="127.0.0.1", port=self.port, db=db, protocol=kw.pop("protocol", 2),
                        **kw)
        self._clients.append(c)
        return c

    def _close_clients(self):
        for c in self._clients:
            try:
                c.close()
            except Exception:
                pass
        self._clients = []

    def kill9(self):
        """SIGKILL by PID and reap. Returns the exit status."""
        self._close_clients()
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=STOP_TIMEOUT)
        return self.proc.returncode

    def stop(self, sig=signal.SIGTERM):
        """Signal by PID and wait; SIGKILL if it does not exit in time. Returns the status."""
        self._close_clients()
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"server did not exit within {STOP_TIMEOUT}s of {sig!r}; "
                                     f"output:\n{self.log_text()}")
        return self.proc.returncode

    def shutdown(self):
        """SHUTDOWN over the protocol; waits for the process to exit. Returns the status."""
        # No retries: redis-py would otherwise reconnect (with backoff) after the server
        # closes the connection, and re-send SHUTDOWN.
        c = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=STOP_TIMEOUT,
                        retry=Retry(NoBackoff(), 0))
        try:
            c.execute_command("SHUTDOWN")
        except redis.ConnectionError:
            pass  # the server closes the connection instead of replying: that is success
        finally:
            c.close()
        self._close_clients()
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"server did not exit within {STOP_TIMEOUT}s of SHUTDOWN")
        return self.proc.returncode

    def restart(self, how="kill9"):
        """Stops the server (kill9 | term | shutdown) and starts it again on the same dir."""
        if how == "kill9":
            self.kill9()
        elif how == "term":
            self.stop(signal.SIGTERM)
        elif how == "shutdown":
            self.shutdown()
        else:
            raise ValueError(how)
        return self.start()

    def log_text(self, all_starts=False):
        if not self.log_path:
            return ""
        paths = ([os.path.join(self.log_dir, f"server-{self.port}-{i}.log")
                  for i in range(1, self.starts + 1)] if all_starts else [self.log_path])
        out = []
        for p in paths:
            try:
                with open(p, "rb") as f:
                    out.append(f.read().decode(errors="replace"))
            except OSError:
                pass
        return "".join(out)[-6000:]

    def close(self):
        try:
            self.kill9()
        finally:
            if self._own_log_dir is not None:
                self._own_log_dir.cleanup()
                self._own_log_dir = None


@pytest.fixture
def durable(tmp_path):
    """durable(fsync="always", data_dir=None, **kw) -> DurableServer, killed after the test."""
    started = []

    def make(fsync="always", data_dir=None, **kw):
        if data_dir is None:
            data_dir = str(tmp_path / f"data{len(started)}")
        os.makedirs(data_dir, exist_ok=True)
        kw.setdefault("log_dir", str(tmp_path))
        s = DurableServer(str(data_dir), fsync=fsync, **kw)
        started.append(s)
        return s

    yield make
    for s in started:
        s.close()


def run_server_expecting_exit(data_dir, extra_args=(), fsync="always", timeout=None):
    """Starts a server that is expected to refuse to start. Returns (returncode, output,
    stdout): output is everything it wrote, standard error then standard output (its log goes
    to standard output, its refusal of arguments to standard error). returncode is None when it was still running after `timeout` seconds (it is then
    killed)."""
    timeout = timeout or (30 if SANITIZED else 10)
    port = free_port()
    args = [FDB_BIN, "--port", str(port), "--bind", "127.0.0.1", "--dir", data_dir,
            "--threads", "2", "--fsync", fsync] + list(extra_args)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    try:
        out, err = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        rc = None
    return rc, (err + out).decode(errors="replace"), out.decode(errors="replace")


def fdb_check(data_dir, salvage=False, timeout=60):
    args = [FDB_CHECK_BIN] + (["--salvage"] if salvage else []) + [data_dir]
    p = subprocess.run(args, capture_output=True, timeout=timeout)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


def copy_data_dir(src, dst):
    """Copies a (stopped) server's data directory, file by file, preserving nothing but bytes."""
    shutil.copytree(src, dst)
    return dst


# ---- the on-disk format (docs/format.md) ----------------------------------------------------

def segment_files(data_dir):
    return sorted(n for n in os.listdir(data_dir) if SEGMENT_RE.match(n))


def read_manifest(data_dir):
    """Returns {"generation", "checkpoint_sequence", "checkpoint", "segments"} or None when the
    directory has no MANIFEST."""
    path = os.path.join(data_dir, "MANIFEST")
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == MANIFEST_MAGIC, f"MANIFEST has a bad magic: {data[:8]!r}"
    _version, body_len = struct.unpack_from("<II", data, 8)
    body = data[16:16 + body_len]
    generation, ckpt_seq, name_len = struct.unpack_from("<QQH", body, 0)
    pos = 18
    name = body[pos:pos + name_len].decode()
    pos += name_len
    (count,) = struct.unpack_from("<I", body, pos)
    pos += 4
    ids = list(struct.unpack_from("<%dQ" % count, body, pos))
    return {"generation": generation, "checkpoint_sequence": ckpt_seq, "checkpoint": name,
            "segments": ids}


def live_segment_paths(data_dir):
    """Segments named by MANIFEST (or all segment files when there is none), ascending."""
    m = read_manifest(data_dir)
    if m is None:
        return [os.path.join(data_dir, n) for n in segment_files(data_dir)]
    names = {int(n[:-4]): n for n in segment_files(data_dir)}
    return [os.path.join(data_dir, names[i]) for i in m["segments"] if i in names]


class Record:
    __slots__ = ("start", "end", "type", "sequence", "payload")

    def __init__(self, start, end, rtype, sequence, payload):
        self.start, self.end, self.type = start, end, rtype
        self.sequence, self.payload = sequence, payload

    def __repr__(self):
        return (f"Record(start={self.start}, end={self.end}, type={self.type}, "
                f"seq={self.sequence}, payload={self.payload[:60]!r})")


def parse_segment(path):
    """Frames the records of a segment (no checksum verification: the files are the server's
    own, read before any damage is done). Returns (header dict, [Record])."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == SEGMENT_MAGIC, f"{path}: not a segment (magic {data[:8]!r})"
    _ver, _flags, seg_id, base_seq = struct.unpack_from("<IIQQ", data, 8)
    header = {"segment_id": seg_id, "base_sequence": base_seq, "size": len(data)}
    records = []
    pos = SEGMENT_HEADER_SIZE
    while pos + RECORD_HEADER_SIZE <= len(data):
        _crc, length, rtype, seq = struct.unpack_from("<IIBQ", data, pos)
        end = pos + RECORD_HEADER_SIZE + length
        if rtype == 0 or end > len(data):
            break
        records.append(Record(pos, end, rtype, seq, data[pos + RECORD_HEADER_SIZE:end]))
        pos = end
    assert pos == len(data), (f"{path}: {len(data) - pos} trailing bytes after the last whole "
                              f"record at offset {pos}")
    return header, records


def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x5A]))


def truncate(path, size):
    with open(path, "r+b") as f:
        f.truncate(size)


def offsets_named(text, filename):
    """The byte offsets mentioned next to `filename` in a message ("...FILE: offset N: ..." or
    "...FILE: torn tail at offset N, ...")."""
    out = []
    for line in text.splitlines():
        if filename in line:
            out += [int(m) for m in re.findall(r"offset (\d+)", line)]
    return out


def info_fields(client, section="persistence"):
    raw = client.execute_command("INFO", section)
    if isinstance(raw, bytes):
        raw = raw.decode()
    if isinstance(raw, dict):
        return {k: str(v) for k, v in raw.items()}
    out = {}
    for line in raw.splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def kill_cycles(s, clients, cycles, verify, rnd, kill_after):
    """The crash tests' driver: `cycles` times, starts the server (after the first cycle) and
    calls verify(cycle - 1), runs every client's run(port, cycle, go, stop) in a thread, kills
    the server with SIGKILL after a random time in kill_after, and waits for the clients; then
    restarts and verifies the last cycle. Returns the number of acknowledged writes (the sum
    of the clients' `acked` after each cycle)."""
    total_acked = 0
    for cycle in range(cycles):
        if cycle > 0:
            s.start()
            verify(cycle - 1)
        go, stop = threading.Event(), threading.Event()
        threads = [threading.Thread(target=cl.run, args=(s.port, cycle, go, stop), daemon=True)
                   for cl in clients]
        for t in threads:
            t.start()
        time.sleep(0.05)
        go.set()
        time.sleep(rnd.uniform(*kill_after))
        s.kill9()
        stop.set()
        for t in threads:
            t.join(timeout=30)
        assert not any(t.is_alive() for t in threads), "a client thread hung after kill -9"
        total_acked += sum(cl.acked for cl in clients)
    s.start()
    verify(cycles - 1)
    return total_acked


class ModelClient:
    """One client of a kill -9 test with a model: it runs random commands on keys of its own,
    checks each reply against its model, and after each crash checks that what the server
    holds is its model after a prefix of its history (every acknowledged command, perhaps the
    one in flight, nothing else). A test's subclass gives the model (empty_model, copy_model,
    apply: the expected reply) and the commands (next_op, send)."""

    def __init__(self, i, seed):
        self.i = i
        self.rnd = random.Random(seed * 1000 + i)
        self.model = self.empty_model()  # verified after the last restart
        self.ops = []
        self.acked = 0
        self.error = None
        self.n = 0
        self.inflight_applied = 0  # unacknowledged commands found applied after a crash

    @staticmethod
    def empty_model():
        raise NotImplementedError

    @staticmethod
    def copy_model(m):
        raise NotImplementedError

    @staticmethod
    def apply(m, op):
        """Applies op to the model m in place; returns the reply the command must get."""
        raise NotImplementedError

    def next_op(self, live):
        """A random command, given the model `live` of what the server holds now."""
        raise NotImplementedError

    def send(self, r, op):
        """Runs op on the redis-py client r; returns its reply."""
        raise NotImplementedError

    def describe(self, observed, state):
        """What a mismatch report shows of the observed and acknowledged states."""
        return f"observed {str(observed)[:400]}, acknowledged state {str(state)[:400]}"

    def run(self, port, cycle, go, stop):
        r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=30,
                        retry=Retry(NoBackoff(), 0), decode_responses=True, protocol=2)
        try:
            r.ping()
        except redis.RedisError as e:
            self.error = f"could not connect: {e!r}"
            return
        go.wait()
        live = self.copy_model(self.model)
        try:
            while not stop.is_set():
                op = self.next_op(live)
                self.ops.append(op)
                want = self.apply(live, op)
                got = self.send(r, op)
                if got != want:
                    self.error = f"{op} replied {got!r}, the model wants {want!r}"
                    return
                self.acked += 1
        except (redis.ConnectionError, redis.TimeoutError, ConnectionError, OSError):
            pass
        except redis.RedisError as e:
            self.error = f"unexpected error reply: {e!r}"
        finally:
            r.close()

    def verify(self, observed):
        """None when `observed` is the model after every acknowledged command (or after the
        one in flight too), which then becomes the model; else what is wrong."""
        inflight = len(self.ops) - self.acked
        state = self.copy_model(self.model)
        for op in self.ops[:self.acked]:
            self.apply(state, op)
        candidates = [state]
        if inflight:
            after = self.copy_model(state)
            self.apply(after, self.ops[self.acked])
            candidates.append(after)
        for applied, cand in enumerate(candidates):
            if cand == observed:
                self.inflight_applied += applied
                self.model = cand
                self.ops, self.acked = [], 0
                return None
        return (f"client {self.i}: state matches no prefix of its history ({self.acked} ops "
                f"acknowledged this cycle, {inflight} in flight: {self.ops[self.acked:]}); "
                f"{self.describe(observed, state)}")


def verify_model_clients(s, clients, observed, cycle, fsync, seed, extra_check=None):
    """Fails the test with every client's problem (its error while running, or a state that
    is no prefix of its history) and extra_check()'s, if any."""
    problems = [f"client {cl.i}: {cl.error}" for cl in clients if cl.error]
    for cl, obs in zip(clients, observed):
        p = cl.verify(obs)
        if p:
            problems.append(p)
    if not problems and extra_check is not None:
        p = extra_check()
        if p:
            problems.append(p)
    if problems:
        pytest.fail(f"--fsync {fsync}, after the crash of cycle {cycle} (seed {seed}): "
                    f"{len(problems)} problem(s):\n  " + "\n  ".join(problems[:6]) +
                    f"\nserver output:\n{s.log_text()[-3000:]}", pytrace=False)
