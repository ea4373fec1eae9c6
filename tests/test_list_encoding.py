"""The shape of list nodes: list-max-listpack-size (fill) and list-compress-depth (LZF-compressed
inner nodes), as Redis 7.0's quicklist.

MEMORY USAGE shows both: one element a node costs far more than packed nodes, and compressed
inner nodes far less than raw ones. Every command must see the same elements whatever the shape;
a compressed list must survive a restart, kill -9, eviction to disk and DUMP / RESTORE. The
settings are the server's at the time a list is made, as in Redis (quicklistSetOptions when the
list is created): CONFIG SET shapes the lists made after it.

Written against Redis 7.0 semantics; the tests without fdb_only pass against redis-server 7.0.15
(FDB_TEST_TARGET=redis).
"""

import random

import pytest
import redis

from durability_util import TARGET, durable, info_fields, wait_for  # noqa: F401

fdb_only = pytest.mark.skipif(TARGET == "redis", reason="FDB's own persistence and RAM cache")

# Compressible elements, as most real lists are (ids, names, JSON): LZF shrinks them several-fold.
N = 20000


def elem(i):
    return f"user:{i % 500}:event:login:{i % 7}"


@pytest.fixture
def c(server_factory):
    """A server of its own: the tests change the list settings of the whole server."""
    return server_factory("--enable-debug-command", "yes").client()


def fill_list(c, key, n=N, start=0):
    pipe = c.pipeline(transaction=False)
    for lo in range(start, start + n, 1000):
        pipe.rpush(key, *[elem(i) for i in range(lo, min(lo + 1000, start + n))])
    pipe.execute()


def test_config_set_and_get_both_parameters(c):
    assert c.config_get("list-max-listpack-size") == {"list-max-listpack-size": "-2"}
    assert c.config_get("list-compress-depth") == {"list-compress-depth": "0"}
    assert c.config_set("list-max-ziplist-size", 5)
    assert c.config_get("list-max-listpack-size") == {"list-max-listpack-size": "5"}
    assert c.config_set("list-compress-depth", 2)
    assert c.config_get("list-compress-depth") == {"list-compress-depth": "2"}
    with pytest.raises(redis.ResponseError):
        c.config_set("list-compress-depth", -1)


def test_compress_depth_shrinks_new_lists(c):
    fill_list(c, "raw")
    raw = c.memory_usage("raw")
    c.config_set("list-compress-depth", 1)
    fill_list(c, "packed")
    packed = c.memory_usage("packed")
    assert packed * 2 < raw, (packed, raw)
    assert c.object("encoding", "packed") == "quicklist"
    assert c.lrange("packed", 0, -1) == [elem(i) for i in range(N)]


def test_fill_of_one_element_a_node_costs_more(c):
    fill_list(c, "packed", n=2000)
    packed = c.memory_usage("packed")
    c.config_set("list-max-listpack-size", 1)
    fill_list(c, "single", n=2000)
    single = c.memory_usage("single")
    assert single > packed * 2, (single, packed)
    c.config_set("list-max-listpack-size", -5)  # 64 KB nodes
    fill_list(c, "big", n=2000)
    assert c.memory_usage("big") <= packed * 1.2
    for key in ("packed", "single", "big"):
        assert c.lrange(key, 0, -1) == [elem(i) for i in range(2000)]
        assert c.object("encoding", key) == "quicklist"


@pytest.mark.parametrize("fill,depth", [(-2, 1), (4, 1), (-1, 3), (1, 2)])
def test_commands_on_a_compressed_list_match_a_model(c, fill, depth):
    c.config_set("list-max-listpack-size", fill)
    c.config_set("list-compress-depth", depth)
    rnd = random.Random(fill * 10 + depth)
    model = [elem(i) for i in range(3000)]
    fill_list(c, "l", n=3000)
    for step in range(600):
        op = rnd.randrange(8)
        i = rnd.randrange(len(model)) if model else 0
        if op == 0:
            v = elem(rnd.randrange(10**6))
            c.lset("l", i, v)
            model[i] = v
        elif op == 1:
            pivot = model[i]
            where = rnd.choice(["BEFORE", "AFTER"])
            v = f"ins{step}" + "x" * rnd.randrange(0, 3000)
            assert c.linsert("l", where, pivot, v) == len(model) + 1
            j = model.index(pivot)
            model.insert(j if where == "BEFORE" else j + 1, v)
        elif op == 2:
            v = model[i]
            count = rnd.choice([0, 1, 2, -1, -2])
            removed = c.lrem("l", count, v)
            want = 0
            if count >= 0:
                k = 0
                while k < len(model):
                    if model[k] == v and (count == 0 or want < count):
                        del model[k]
                        want += 1
                    else:
                        k += 1
            else:
                for k in range(len(model) - 1, -1, -1):
                    if model[k] == v and want < -count:
                        del model[k]
                        want += 1
            assert removed == want
        elif op == 3:
            assert c.lindex("l", i) == model[i]
            assert c.lindex("l", i - len(model)) == model[i]
        elif op == 4:
            lo = rnd.randrange(len(model))
            hi = lo + rnd.randrange(300)
            assert c.lrange("l", lo, hi) == model[lo:hi + 1]
            assert (c.lrange("l", -hi - 1, -lo - 1) ==
                    model[max(0, len(model) - hi - 1):len(model) - lo])
        elif op == 5:
            v = elem(rnd.randrange(10**6))
            c.lpush("l", v)
            model.insert(0, v)
            c.rpush("l", v)
            model.append(v)
        elif op == 6 and len(model) > 100:
            c.lpop("l", 3)
            c.rpop("l", 2)
            model = model[3:-2]
        elif op == 7 and rnd.randrange(20) == 0:
            c.ltrim("l", 10, -10)
            model = model[10:-9]
        if not model:
            break
        assert c.llen("l") == len(model)
    assert c.lrange("l", 0, -1) == model
    if model:
        assert c.lpos("l", model[-1]) == model.index(model[-1])


def test_dump_restore_of_a_compressed_list(c):
    c.config_set("list-compress-depth", 1)
    fill_list(c, "l", n=5000)
    payload = c.dump("l")
    c.config_set("list-compress-depth", 0)
    c.restore("raw", 0, payload)
    c.config_set("list-compress-depth", 2)
    c.restore("packed", 0, payload)
    want = [elem(i) for i in range(5000)]
    assert c.lrange("raw", 0, -1) == want
    assert c.lrange("packed", 0, -1) == want
    assert c.memory_usage("packed") * 1.5 < c.memory_usage("raw")
    if TARGET != "redis":  # Redis's payload carries its nodes, compressed or not; FDB's elements
        assert c.dump("packed") == payload == c.dump("raw")


def test_debug_quicklist_packed_threshold(c):
    c.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "10b")
    try:
        c.rpush("l", "aa", "x" * 10, "bb")
        c.lset("l", 2, "y" * 30)
        c.linsert("l", "BEFORE", "x" * 10, "cc")
        assert c.lrange("l", 0, -1) == ["aa", "cc", "x" * 10, "y" * 30]
    finally:
        c.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0")


@fdb_only
def test_compressed_list_survives_restart_and_kill9(durable):
    s = durable("always", extra_args=["--list-compress-depth", "1",
                                      "--list-max-listpack-size", "-1"])
    c = s.client()
    fill_list(c, "l", n=10000)
    model = [elem(i) for i in range(10000)]
    packed = c.memory_usage("l")
    assert packed < 16 * 10000  # raw, each element takes 24 bytes or more
    c.lset("l", 5000, "changed")
    model[5000] = "changed"
    c.linsert("l", "AFTER", "changed", "after")
    model.insert(5001, "after")
    assert c.lrem("l", 0, elem(7)) == model.count(elem(7)) > 0
    model = [v for v in model if v != elem(7)]
    s.shutdown()
    s.start()
    c = s.client()
    assert c.lrange("l", 0, -1) == model
    # Replayed with the server's settings: compressed again.
    assert c.memory_usage("l") <= packed * 1.2
    c.lset("l", 100, "acknowledged")
    model[100] = "acknowledged"
    c.rpush("l", "last")
    model.append("last")
    s.kill9()
    s.start()
    c = s.client()
    assert c.lrange("l", 0, -1) == model
    assert c.lindex("l", 100) == "acknowledged"


@fdb_only
def test_compressed_lists_evicted_and_read_back(durable):
    budget = 300_000
    s = durable("everysec", extra_args=["--maxmemory", str(budget), "--list-compress-depth", "1"])
    c = s.client()
    keys = [f"l{j}" for j in range(8)]
    model = {}
    for j, key in enumerate(keys):
        fill_list(c, key, n=N, start=j)
        model[key] = [elem(i) for i in range(j, j + N)]
    wait_for(lambda: int(info_fields(c, "cache")["cache_bytes"]) <= budget * 2, timeout=10,
             what=f"the cache to shrink to its budget: {info_fields(c, 'cache')}")
    assert int(info_fields(c, "cache")["cache_evictions"]) > 0
    for key in keys:
        c.lset(key, N // 2, "mid")
        model[key][N // 2] = "mid"
        assert c.lrange(key, 0, -1) == model[key]
        assert c.memory_usage(key) < 16 * N  # read back compressed
    assert int(info_fields(c, "cache")["cache_misses"]) > 0
    s.kill9()
    s.start()
    c = s.client()
    for key in keys:
        assert c.lrange(key, 0, -1) == model[key]
