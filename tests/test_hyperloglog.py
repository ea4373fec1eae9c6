"""HyperLogLog: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST, in Redis's representation.

Written against Redis 7.0 semantics; every test passes against redis-server 7.0.15
(FDB_TEST_TARGET=redis). The interop tests start a Debian redis-server beside FDB and move raw
HLL bytes between them.
"""

import shutil
import subprocess
import time

import pytest
import redis

from conftest import TARGET, free_port

NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value."
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
CORRUPTED = "INVALIDOBJ Corrupted HLL object detected"

EMPTY_SPARSE = b"HYLL\x01\x00\x00\x00" + b"\x00" * 7 + b"\x80" + b"\x7f\xff"


def assert_error(r, msg, *args):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    assert str(e.value) == msg


def test_pfadd_pfcount_basics(r):
    assert r.pfadd("h", "a", "b", "c") == 1
    assert r.pfadd("h", "a") == 0
    assert r.pfcount("h") == 3
    assert r.pfadd("h", "d") == 1
    assert r.pfcount("h") == 4
    assert r.pfcount("missing") == 0
    assert r.type("h") == "string"


def test_pfadd_without_elements_creates_key(rb):
    assert rb.execute_command("PFADD", "e") == 1
    assert rb.get("e") == EMPTY_SPARSE
    assert rb.execute_command("PFADD", "e") == 0
    assert rb.pfcount("e") == 0


def test_sparse_bytes_match_redis(rb):
    rb.pfadd("h", "a", "b", "c")
    assert rb.execute_command("PFDEBUG", "DECODE", "h") == (
        b"Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603")
    raw = rb.get("h")
    assert raw[:5] == b"HYLL\x01" and raw[15] & 0x80  # cache invalid after PFADD
    rb.pfcount("h")
    raw = rb.get("h")
    assert raw[8:16] == b"\x03" + b"\x00" * 7  # cached cardinality 3


def test_cardinality_estimates(r):
    for start in range(0, 10000, 1000):
        r.pfadd("h", *[f"ele:{i}" for i in range(start, start + 1000)])
    n = r.pfcount("h")
    assert abs(n - 10000) < 10000 * 0.05
    assert r.execute_command("PFDEBUG", "ENCODING", "h") == "dense"


def test_pfcount_many_keys_and_pfmerge(r):
    r.pfadd("a", *[f"x{i}" for i in range(100)])
    r.pfadd("b", *[f"x{i}" for i in range(50, 150)])
    union = r.pfcount("a", "b", "missing")
    assert abs(union - 150) <= 3
    assert r.pfmerge("c", "a", "b") is True
    assert r.pfcount("c") == union
    assert r.pfmerge("empty", "nothing") is True
    assert r.pfcount("empty") == 0


def test_pfmerge_dense_source_makes_dense_dest(r):
    r.pfadd("d", *[f"x{i}" for i in range(3000)])
    assert r.execute_command("PFDEBUG", "ENCODING", "d") == "dense"
    r.pfadd("s", "one")
    r.pfmerge("s", "d")
    assert r.execute_command("PFDEBUG", "ENCODING", "s") == "dense"
    assert r.pfcount("s") == r.pfcount("d", "s")


def test_sparse_max_bytes_config(r):
    old = r.config_get("hll-sparse-max-bytes")["hll-sparse-max-bytes"]
    try:
        r.config_set("hll-sparse-max-bytes", 30)
        r.pfadd("h", *[f"e{i}" for i in range(20)])
        assert r.execute_command("PFDEBUG", "ENCODING", "h") == "dense"
        r.config_set("hll-sparse-max-bytes", 3000)
        r.pfadd("h2", *[f"e{i}" for i in range(20)])
        assert r.execute_command("PFDEBUG", "ENCODING", "h2") == "sparse"
        assert r.pfcount("h") == r.pfcount("h2")
    finally:
        r.config_set("hll-sparse-max-bytes", old)


def test_pfdebug(r):
    r.pfadd("h", "a", "b", "c")
    assert r.execute_command("PFDEBUG", "ENCODING", "h") == "sparse"
    regs = r.execute_command("PFDEBUG", "GETREG", "h")
    assert len(regs) == 16384 and sum(1 for v in regs if v) == 3
    assert r.execute_command("PFDEBUG", "ENCODING", "h") == "dense"  # GETREG made it dense
    assert r.execute_command("PFDEBUG", "TODENSE", "h") == 0
    r.pfadd("h2", "x")
    assert r.execute_command("PFDEBUG", "TODENSE", "h2") == 1
    assert_error(r, "HLL encoding is not sparse", "PFDEBUG", "DECODE", "h")
    assert_error(r, "Unknown PFDEBUG subcommand 'foo'", "PFDEBUG", "foo", "h")
    assert_error(r, "The specified key does not exist", "PFDEBUG", "GETREG", "missing")
    assert r.pfcount("h") == 3


def test_wrong_types(r):
    r.set("s", "foo")
    r.lpush("l", "a")
    assert_error(r, NOT_HLL, "PFADD", "s", "a")
    assert_error(r, NOT_HLL, "PFCOUNT", "s")
    assert_error(r, NOT_HLL, "PFMERGE", "d", "s")
    assert_error(r, NOT_HLL, "PFDEBUG", "GETREG", "s")
    assert_error(r, WRONGTYPE, "PFADD", "l", "a")
    assert_error(r, WRONGTYPE, "PFCOUNT", "l")
    r.set("n", 12345)
    assert_error(r, NOT_HLL, "PFCOUNT", "n")


def test_corrupted_hll(rb):
    rb.pfadd("h", "a", "b", "c")
    raw = bytearray(rb.get("h"))
    raw[16:18] = b"\x7f\xf0"  # the first run now covers too few registers
    rb.set("bad", bytes(raw))
    with pytest.raises(redis.ResponseError) as e:
        rb.pfcount("bad")
    assert str(e.value) == CORRUPTED
    with pytest.raises(redis.ResponseError) as e:
        rb.pfmerge("d", "bad")
    assert str(e.value) == CORRUPTED
    # A dense HLL of the wrong size is not an HLL at all.
    rb.set("short", b"HYLL\x00" + b"\x00" * 20)
    with pytest.raises(redis.ResponseError) as e:
        rb.pfcount("short")
    assert str(e.value) == NOT_HLL


def test_raw_bytes_roundtrip_set_get(rb):
    rb.pfadd("h", *[f"k{i}" for i in range(200)])
    raw = rb.get("h")
    rb.set("copy", raw)
    assert rb.pfcount("copy") == rb.pfcount("h")
    dense = rb.execute_command("PFDEBUG", "TODENSE", "copy")
    assert dense == 1 and len(rb.get("copy")) == 12304


def test_pfselftest(r):
    assert r.execute_command("PFSELFTEST") == "OK"


def test_arity(r):
    assert_error(r, "wrong number of arguments for 'pfadd' command", "PFADD")
    assert_error(r, "wrong number of arguments for 'pfcount' command", "PFCOUNT")
    assert_error(r, "wrong number of arguments for 'pfmerge' command", "PFMERGE")


# --- Interop with redis-server (byte for byte) ---

class RedisRef:
    def __init__(self, tmp):
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while True:
            try:
                c = redis.Redis(port=self.port)
                c.ping()
                c.close()
                return
            except redis.ConnectionError:
                if time.time() > deadline:
                    self.stop()
                    raise
                time.sleep(0.05)

    def client(self):
        return redis.Redis(port=self.port)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def ref(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("no redis-server")
    s = RedisRef(tmp_path)
    yield s.client()
    s.stop()


@pytest.mark.parametrize("n", [3, 300, 5000])
def test_hll_bytes_identical_to_redis(rb, ref, n):
    elements = [f"user:{i}" for i in range(n)]
    for chunk in range(0, n, 500):
        rb.pfadd("h", *elements[chunk:chunk + 500])
        ref.pfadd("h", *elements[chunk:chunk + 500])
    assert rb.get("h") == ref.get("h")
    assert rb.pfcount("h") == ref.pfcount("h")
    assert rb.get("h") == ref.get("h")  # the cached cardinality too
    # Redis's bytes read here, and ours there.
    rb.set("from_redis", ref.get("h"))
    assert rb.pfcount("from_redis") == ref.pfcount("h")
    rb.pfadd("from_redis", "extra")
    ref.pfadd("h", "extra")
    assert rb.get("from_redis") == ref.get("h")


def test_hll_dump_restore_between_servers(rb, ref):
    ref.pfadd("h", *[f"e{i}" for i in range(1000)])
    rb.restore("h", 0, ref.dump("h"))
    assert rb.pfcount("h") == ref.pfcount("h")
    rb.pfadd("mine", *[f"e{i}" for i in range(50)])
    ref.restore("mine", 0, rb.dump("mine"))
    assert ref.pfcount("mine") == rb.pfcount("mine")


def test_pfmerge_bytes_identical_to_redis(rb, ref):
    for c in (rb, ref):
        c.pfadd("a", *[f"a{i}" for i in range(40)])
        c.pfadd("b", *[f"b{i}" for i in range(40)])
        c.pfmerge("m", "a", "b")
    assert rb.get("m") == ref.get("m")


def test_corrupted_hlls_behave_as_redis(rb, ref):
    # Random byte flips and truncations of a sparse and a dense HLL: every command replies and
    # leaves the value as Redis does (Redis changes values in place, so a PFADD that meets the
    # corruption keeps what it added before).
    import random
    rnd = random.Random(1)
    for c in (rb, ref):
        c.pfadd("sp", *[f"e{i}" for i in range(50)])
        c.pfadd("de", *[f"e{i}" for i in range(5000)])
    base = {k: ref.get(k) for k in ("sp", "de")}
    for i in range(300):
        k = rnd.choice(["sp", "de"])
        v = bytearray(base[k])
        for _ in range(rnd.randrange(1, 4)):
            v[rnd.randrange(16, len(v))] = rnd.randrange(256)
        if rnd.random() < 0.1:
            v = v[:rnd.randrange(len(v))]
        for c in (rb, ref):
            c.set("x", bytes(v))
        for args in (("PFCOUNT", "x"), ("PFADD", "x", f"n{i}", f"m{i}"), ("PFMERGE", "y", "x"),
                     ("GET", "y"), ("PFDEBUG", "DECODE", "x"), ("GET", "x")):
            out = []
            for c in (rb, ref):
                try:
                    out.append(c.execute_command(*args))
                except redis.ResponseError as e:
                    out.append(str(e))
            assert out[0] == out[1], (i, args)
        for c in (rb, ref):
            c.delete("y")
