"""UNLINK frees a large value in the background and INFO counts it (lazyfreed_objects, reset by
CONFIG RESETSTAT); the memory of a deleted large value comes back, none of it kept by the
buffers that carried its write. Run against Redis too (FDB_TEST_TARGET=redis)."""

import pytest

from conftest import wait_for


def used_memory(c):
    return c.info("memory")["used_memory"]


@pytest.mark.parametrize("log", ["yes", "no"], ids=["log", "nolog"])
def test_unlink_of_a_large_set_gives_its_memory_back(server_factory, log):
    s = server_factory("--appendonly", log)
    c = s.client()
    start = used_memory(c)
    c.sadd("myset", *range(100000))
    peak = used_memory(c)
    assert peak > start + 1000000
    assert c.unlink("myset") == 1
    # Redis's own bound (tests/unit/lazyfree.tcl): back under twice what it was before.
    wait_for(lambda: used_memory(c) < min(peak, start * 2), timeout=5,
             what=f"used_memory back under {start * 2}")


def test_unlink_counts_values_freed_in_the_background(server_factory):
    s = server_factory()
    c = s.client()
    c.config_resetstat()
    assert c.info("memory")["lazyfreed_objects"] == 0
    c.config_set("stream-node-max-entries", 5)
    p = c.pipeline(transaction=False)
    for j in range(1000):
        p.xadd("stream", {"foo": j})
    p.execute()
    c.xgroup_create("stream", "g", id="0")
    c.xreadgroup("g", "alice", {"stream": ">"}, count=2)
    assert c.unlink("stream") == 1
    wait_for(lambda: c.info("memory")["lazyfree_pending_objects"] == 0, what="lazyfree done")
    assert c.info("memory")["lazyfreed_objects"] == 1
    # Below the threshold (a small value, or a large one in a compact encoding) UNLINK frees at
    # once, as DEL always does.
    c.config_resetstat()
    c.xadd("small", {"a": "b"})
    c.sadd("big-by-del", *range(1000))
    c.hset("packed", mapping={f"f{i}": i for i in range(100)})
    assert c.unlink("small", "packed") == 2
    assert c.delete("big-by-del") == 1
    wait_for(lambda: c.info("memory")["lazyfree_pending_objects"] == 0, what="lazyfree done")
    assert c.info("memory")["lazyfreed_objects"] == 0
    c.sadd("big", *range(1000))
    c.rpush("list", *([b"x" * 1000] * 1000))
    assert c.unlink("big", "list") == 2
    wait_for(lambda: c.info("memory")["lazyfreed_objects"] == 2, what="two values lazy freed")
