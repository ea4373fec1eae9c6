"""maxmemory and maxmemory-policy (issue 9, defects 4 and 5).

Without persistence (`--appendonly no`) FDB has no disk to move values to, so `maxmemory`
bounds used memory as in Redis: noeviction refuses denyoom commands with Redis's OOM error,
the other policies delete whole keys. These tests run against Redis too
(FDB_TEST_TARGET=redis), except where they are about FDB's own values-to-disk mode.
"""

import os
import time

import pytest
import redis

from conftest import SANITIZED, TARGET, Server

MB = 1024 * 1024
VALUE = b"v" * 1000
OOM = "OOM command not allowed when used memory > 'maxmemory'."


def error_text(e):
    """The whole error line: redis-py strips the codes it maps to exception classes."""
    prefix = {redis.exceptions.OutOfMemoryError: "OOM ",
              redis.exceptions.ExecAbortError: "EXECABORT "}.get(type(e), "")
    return prefix + str(e)


def rss_kb(server, field="VmHWM"):
    with open(f"/proc/{server.proc.pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(field + " not found")


def memory_server(policy, maxmemory="16mb", persistence=False, extra=()):
    args = ["--maxmemory", maxmemory, "--maxmemory-policy", policy]
    if not persistence:
        args += ["--appendonly", "no"]
    return Server(args + list(extra))


def write(r, prefix, n, value=VALUE, ex=None, start=0):
    """SETs n keys pipelined; returns the number of OOM errors."""
    errors = 0
    p = r.pipeline(transaction=False)
    for i in range(start, start + n):
        if ex is None:
            p.set(f"{prefix}{i}", value)
        else:
            p.set(f"{prefix}{i}", value, ex=ex(i))
        if len(p) == 500:
            errors += sum(isinstance(x, redis.ResponseError) for x in p.execute(raise_on_error=False))
    if len(p):
        errors += sum(isinstance(x, redis.ResponseError) for x in p.execute(raise_on_error=False))
    return errors


def write_until_evicted(r, prefix, evicted):
    """SETs keys 500 at a time until INFO's evicted_keys reaches `evicted`."""
    i = 0
    while r.info("stats")["evicted_keys"] < evicted:
        assert write(r, prefix, 500, start=i) == 0
        i += 500
        assert i < 200000, "nothing is evicted"
    return i


def present(r, prefix, n):
    p = r.pipeline(transaction=False)
    for i in range(n):
        p.exists(f"{prefix}{i}")
    return [bool(x) for x in p.execute()]


def test_noeviction_refuses_denyoom_commands_and_multi():
    s = memory_server("noeviction", "8mb")
    try:
        r = s.client()
        errors = write(r, "k", 20000)  # 20 MB under an 8 MB budget
        assert errors > 0
        with pytest.raises(redis.ResponseError) as e:
            r.set("one-more", VALUE)
        assert error_text(e.value) == OOM
        # Used memory hovers at the budget (client buffers come and go): write until refused.
        # Queueing in MULTI is refused too, and EXEC then aborts. (Checked right after a refusal:
        # once a key is deleted below, used memory may be back under the budget, as in Redis.)
        raw = s.client(single_connection_client=True)
        assert raw.ping()
        with pytest.raises(redis.ResponseError) as e:
            for i in range(20000):
                r.rpush("list", VALUE)
        assert error_text(e.value) == OOM
        assert raw.execute_command("MULTI") == "OK"
        with pytest.raises(redis.ResponseError) as e:
            raw.execute_command("SET", "in-multi", "x")
        assert error_text(e.value) == OOM
        with pytest.raises(redis.ResponseError) as e:
            raw.execute_command("EXEC")
        assert error_text(e.value) == "EXECABORT Transaction discarded because of previous errors."
        assert r.exists("in-multi") == 0
        # Reads and deletions still work over the budget.
        assert r.get("k0") == VALUE.decode()
        assert r.delete("k1") == 1
        assert r.dbsize() > 0
        info = r.info()
        assert info["evicted_keys"] == 0
        # Freeing memory lets writes in again.
        keys = [f"k{i}" for i in range(20000)]
        for i in range(0, len(keys), 1000):
            r.delete(*keys[i : i + 1000])
        r.set("after", "1")
        assert r.get("after") == "1"
    finally:
        s.close()


def test_exec_refused_when_memory_ran_out_after_queueing():
    s = memory_server("noeviction", "8mb")
    try:
        a = s.client(single_connection_client=True)
        b = s.client()
        assert a.execute_command("MULTI") == "OK"
        assert a.execute_command("INCR", "queued") == "QUEUED"
        assert write(b, "k", 20000) > 0
        # Used memory hovers at the budget (client buffers come and go); a lower budget puts it
        # well over for the EXEC.
        b.config_set("maxmemory", "2mb")
        with pytest.raises(redis.ResponseError) as e:
            a.execute_command("EXEC")
        assert error_text(e.value) == "EXECABORT Transaction discarded because of: " + OOM
        assert b.exists("queued") == 0
        # The transaction is gone: a new EXEC has no MULTI.
        with pytest.raises(redis.ResponseError) as e:
            a.execute_command("EXEC")
        assert "EXEC without MULTI" in str(e.value)
    finally:
        s.close()


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu", "allkeys-random"])
def test_allkeys_policies_keep_memory_near_the_budget(policy):
    budget = 8 * MB
    s = memory_server(policy, "8mb")
    try:
        r = s.client()
        base_rss = rss_kb(s, "VmRSS") * 1024
        assert write(r, "k", 80000) == 0  # 80 MB: 10x the budget, never an error
        info = r.info()
        assert info["evicted_keys"] > 50000
        assert info["used_memory"] <= budget * 1.1
        assert 1000 < r.dbsize() < 10000
        limit = budget + base_rss + 16 * MB
        if SANITIZED:
            limit = limit * 2 + 320 * MB  # ASan's shadow memory and quarantine of freed chunks
        assert rss_kb(s, "VmRSS") * 1024 <= limit
        assert rss_kb(s, "VmHWM") * 1024 <= limit
        # The newest keys are there and correct.
        assert r.get("k79999") == VALUE.decode()
    finally:
        s.close()


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu"])
def test_allkeys_lru_lfu_keep_touched_keys(policy):
    s = memory_server(policy, "16mb")
    try:
        r = s.client()
        assert write(r, "hot", 2000) == 0
        assert write(r, "cold", 8000) == 0
        assert r.info()["evicted_keys"] == 0
        time.sleep(2.2)  # the LRU clock counts seconds (as Redis's)
        for _ in range(3):
            p = r.pipeline(transaction=False)
            for i in range(2000):
                p.get(f"hot{i}")
            p.execute()
        # Evict about half as many keys as there are cold ones.
        write_until_evicted(r, "new", 4000)
        hot = sum(present(r, "hot", 2000)) / 2000
        cold = sum(present(r, "cold", 8000)) / 8000
        # Sampling alone (no pool of past candidates) kept only ~0.93 of the hot keys: a
        # sample without an idle key picks a key used a second ago.
        assert hot > 0.97, (hot, cold)
        if policy == "allkeys-lru":
            assert hot > 1.5 * cold, (hot, cold)
        else:
            # LFU cannot tell cold keys from new ones (both at the initial count): it evicts
            # from both, never the hot ones.
            assert hot > cold + 0.15, (hot, cold)
    finally:
        s.close()


def test_volatile_ttl_evicts_the_nearest_deadline():
    s = memory_server("volatile-ttl", "16mb")
    try:
        r = s.client()
        assert write(r, "plain", 4000) == 0
        assert write(r, "ttl", 6000, ex=lambda i: 1000 + i) == 0
        more = write_until_evicted(r, "more", 3000)
        assert all(present(r, "plain", 4000))
        assert all(present(r, "more", more))
        alive = present(r, "ttl", 6000)
        first, last = alive[:1000], alive[-1000:]
        # The nearest deadlines went first (sampled, as Redis: not strictly in order).
        assert sum(first) < 400, (sum(first), sum(last))
        assert sum(last) > 800, (sum(first), sum(last))
        assert sum(last) > 2 * sum(first), (sum(first), sum(last))
    finally:
        s.close()


@pytest.mark.parametrize("policy", ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"])
def test_volatile_policies_never_evict_keys_without_ttl(policy):
    s = memory_server(policy, "8mb")
    try:
        r = s.client()
        assert write(r, "plain", 2000) == 0
        assert write(r, "ttl", 3000, ex=lambda i: 10000) == 0
        # More than fits: the volatile keys are evicted, then writes get the OOM error.
        errors = write(r, "more", 20000)
        assert errors > 0
        with pytest.raises(redis.ResponseError) as e:
            r.set("one-more", VALUE)
        assert error_text(e.value) == OOM
        assert all(present(r, "plain", 2000))
        assert sum(present(r, "ttl", 3000)) < 100
        assert r.info()["evicted_keys"] > 2900
    finally:
        s.close()


def test_eviction_parameters_are_accepted():
    s = memory_server("allkeys-lfu", "16mb")
    try:
        r = s.client()
        for name, value in [("maxmemory-samples", "10"), ("maxmemory-eviction-tenacity", "50"),
                            ("lfu-log-factor", "20"), ("lfu-decay-time", "2")]:
            assert r.config_set(name, value)
            assert r.config_get(name) == {name: value}
        r.set("f", "1")
        assert isinstance(r.object("freq", "f"), int)
        r.config_set("maxmemory-policy", "allkeys-lru")
        with pytest.raises(redis.ResponseError) as e:
            r.object("freq", "f")
        assert "An LFU maxmemory policy is not selected" in str(e.value)
    finally:
        s.close()


@pytest.mark.skipif(TARGET == "redis", reason="FDB's log: evictions are logged deletes")
def test_evicted_keys_stay_deleted_after_restart_with_persistence():
    s = memory_server("allkeys-lru", "16mb", persistence=True)
    try:
        r = s.client()
        assert write(r, "k", 40000) == 0
        evicted = r.info()["evicted_keys"]
        assert evicted > 10000
        alive = present(r, "k", 40000)
        s.stop()
        s.start()
        r = s.client()
        after = present(r, "k", 40000)
        # No evicted key comes back. (A few more may go: reading keys takes memory too, so the
        # check itself and the shutdown may evict, as in Redis.)
        assert not any(a and not b for a, b in zip(after, alive))
        assert sum(after) > sum(alive) * 0.9
        assert sum(after) > 5000
    finally:
        s.close()


@pytest.mark.skipif(TARGET == "redis", reason="FDB's values-to-disk mode")
def test_default_policy_with_persistence_moves_values_to_disk():
    s = Server(["--maxmemory", "4mb"])
    try:
        r = s.client()
        assert write(r, "k", 20000) == 0  # 5x the budget: no error, nothing dropped
        info = r.info()
        assert info["evicted_keys"] == 0
        assert info["cache_evictions"] > 0
        assert r.dbsize() == 20000
        assert r.get("k0") == VALUE.decode()
    finally:
        s.close()


def _push(s, key, n, per=100):
    """RPUSH of n integers in commands of `per` elements, pipelined 200 commands at a time."""
    r = s.client()
    sent = 0
    while sent < n:
        p = r.pipeline(transaction=False)
        for _ in range(200):
            if sent >= n:
                break
            m = min(per, n - sent)
            p.rpush(key, *range(sent, sent + m))
            sent += m
        p.execute()


@pytest.mark.skipif(TARGET == "redis", reason="FDB's values-to-disk mode")
def test_one_list_larger_than_the_budget_stays_bounded():
    # A list of 3M small integers (~13 MB in RAM, 3x the budget) grown by pipelined RPUSH.
    # Before, the housekeeping tick evicted it (writing a full image) ten times a second and the
    # next push read it back: RSS peaked at 3x the list. A large hot value now stays resident.
    budget = 4 * MB
    s = Server(["--maxmemory", "4mb"])
    try:
        r = s.client()
        for i in range(50):
            r.set(f"other{i}", f"value{i}")
        r.hset("h", mapping={f"f{i}": i for i in range(100)})
        n = 3_000_000
        _push(s, "biglist", n)
        assert r.llen("biglist") == n
        assert r.lindex("biglist", 0) == "0"
        assert r.lindex("biglist", n // 2) == str(n // 2)
        assert r.lindex("biglist", -1) == str(n - 1)
        limit = budget + 64 * MB  # the index of ~52 keys is negligible
        if SANITIZED:
            limit = limit * 3 + 320 * MB
        assert rss_kb(s, "VmHWM") * 1024 <= limit, rss_kb(s, "VmHWM")
        for i in range(50):
            assert r.get(f"other{i}") == f"value{i}"
        s.stop()
        s.start()
        r = s.client()
        assert r.llen("biglist") == n
        assert r.lindex("biglist", 12345) == "12345"
        assert r.lindex("biglist", -1) == str(n - 1)
        assert r.hget("h", "f99") == "99"
        assert r.get("other49") == "value49"
    finally:
        s.close()


@pytest.mark.skipif(TARGET == "redis", reason="FDB's values-to-disk mode")
def test_list_image_is_written_without_copies():
    # A list of 5M small integers (~25 MB in RAM; its image ~37 MB) under 16 MB. Checkpoints and
    # eviction write the dirty list's image whole. Before, the image existed up to four times at
    # once (the serialized value grown by doubling, the put payload, the log's chunk, its
    # unsynced copy): peak 104-111 MiB. Now it is serialized once into a block that the record,
    # the chunk and the unsynced copy reference: the bound, budget + index + 64 MB, holds.
    budget = 16 * MB
    s = Server(["--maxmemory", "16mb"])
    try:
        r = s.client()
        n = 5_000_000
        _push(s, "biglist", n)
        assert r.llen("biglist") == n
        assert r.lindex("biglist", n // 2) == str(n // 2)
        r.save()  # a checkpoint writes the dirty list's image
        time.sleep(3)  # and the idle list is written out and dropped (values to disk)
        assert r.llen("biglist") == n
        limit = budget + 64 * MB
        if SANITIZED:
            limit = limit * 3 + 320 * MB
        assert rss_kb(s, "VmHWM") * 1024 <= limit, rss_kb(s, "VmHWM")
        s.stop()
        s.start()
        r = s.client()
        assert r.llen("biglist") == n
        assert r.lindex("biglist", 4_321_000) == "4321000"
        assert r.lindex("biglist", -1) == str(n - 1)
    finally:
        s.close()


def test_large_list_image_is_written_in_parts():
    # A list of 5M small integers (~25 MB in RAM; its image ~37 MB) under 16 MB, changed after
    # each checkpoint so that each one writes its image again. The image goes to the log in
    # parts of 1 MB (LogWriter::AppendStreamed), so RAM stays near the list itself plus those
    # parts; before, the whole image was built beside the list (peak 70-73 MiB: list + image).
    # Compaction's scan reads old images in parts too (before, each whole), and so does reading
    # the list back after it was written out.
    s = Server(["--maxmemory", "16mb"])
    try:
        r = s.client()
        n = 5_000_000
        _push(s, "biglist", n - 10)
        for i in range(10):
            r.save()
            r.rpush("biglist", n - 10 + i)
        r.save()
        list_bytes = r.memory_usage("biglist")
        assert list_bytes > 16 * MB
        time.sleep(3)  # idle: written out and dropped; LLEN reads it back, in parts too
        assert r.llen("biglist") == n
        # Under ASan the allocator's own overhead (quarantine, redzones) dwarfs the list: the
        # bound is checked in the plain build only.
        if not SANITIZED:
            limit = list_bytes + 24 * MB
            assert rss_kb(s, "VmHWM") * 1024 <= limit, (rss_kb(s, "VmHWM"), list_bytes)
        assert r.lindex("biglist", -1) == str(n - 1)
        s.stop()
        s.start()
        r = s.client()
        assert r.llen("biglist") == n
        assert r.lindex("biglist", 2_345_678) == "2345678"
    finally:
        s.close()


@pytest.mark.parametrize("proto", [2, 3], ids=["resp2", "resp3"])
@pytest.mark.parametrize("policy", ["allkeys-random", "allkeys-lru", "allkeys-lfu"])
def test_used_memory_stays_within_a_page_of_a_tight_limit(policy, proto):
    """As Redis: with maxmemory 100 KB above what an empty server uses, writing small keys one
    by one until used memory nears it, then as many again, ends at most 4 KB over it (what
    the keyspace does not account, such as a dict's bucket array doubling, counts too)."""
    s = memory_server(policy, maxmemory="0")
    try:
        r = s.client(protocol=proto)
        limit = r.info("memory")["used_memory"] + 100 * 1024
        r.config_set("maxmemory", limit)
        n = 0
        while r.info("memory")["used_memory"] + 4096 <= limit:
            r.setex(f"key:{n}", 10000, "x")
            n += 1
        assert n > 10
        for j in range(n):
            r.setex(f"more:{j}", 10000, "x")
        assert r.info("memory")["used_memory"] < limit + 4096
    finally:
        s.close()
