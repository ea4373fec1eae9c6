"""Pub/sub with node-redis (the npm package `redis`, v5, pinned in tests/node/package-lock.json)
against the real server with two I/O threads, in RESP2 and RESP3: SUBSCRIBE, PSUBSCRIBE,
SSUBSCRIBE in string and buffer mode, PUBLISH/SPUBLISH receiver counts, PUBSUB introspection,
publish order, UNSUBSCRIBE, and in RESP3 commands on a subscribed connection and node-redis's
client-side cache invalidated by the server's push. tests/node/pubsub.mjs does the talking and
prints JSON; scripts/setup.sh installs Node.js and runs `npm ci` in tests/node.
"""

import json
import os
import shutil
import subprocess

import pytest

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")


def run_node(port, resp):
    node = shutil.which("node")
    assert node, "node is not installed: run scripts/setup.sh"
    assert os.path.isdir(os.path.join(NODE_DIR, "node_modules", "redis")), (
        "node-redis is not installed: run scripts/setup.sh (npm ci in tests/node)")
    proc = subprocess.run([node, "pubsub.mjs", str(port), str(resp)], cwd=NODE_DIR,
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip(), f"no output (exit {proc.returncode}): {proc.stderr[-2000:]}"
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert proc.returncode == 0 and not out["errors"], (proc.stderr[-2000:], out["errors"])
    return out


@pytest.mark.parametrize("resp", [2, 3], ids=["resp2", "resp3"])
def test_node_redis_pubsub(server_factory, resp):
    srv = server_factory()
    out = run_node(srv.port, resp)
    got = out["received"]

    # Introspection while subscribed: 'news' has subA and subB, one pattern, one shard channel.
    assert out["numsub"] == {"news": 2, "nobody": 0}
    assert out["numpat"] == 1
    assert out["channels"] == ["news"]
    assert out["shardchannels"] == ["orders"]
    assert out["shardnumsub"] == {"orders": 1}

    # PUBLISH counts every receiver, on either I/O thread.
    assert out["publish"]["news"] == 2
    assert out["publish"]["nobody"] == 0
    assert out["publish"]["binary"] == 2
    assert out["publish"]["sport"] == 1
    assert out["publish"]["orders"] == 1
    assert out["publish"]["seqCounts"] == [1]

    assert got["a"][0] == ["news", "hello"]
    assert len(got["a"]) == 2
    # Buffer mode: the bytes 00 ff 0d 0a 80 arrive unchanged.
    assert got["b"] == [["news", "68656c6c6f"], ["news", "00ff0d0a80"], ["news", "627965"]]
    assert got["c"] == [["orders", "o1"]]
    # The pattern subscriber gets news.sport, then the 200 in publish order.
    assert got["aPattern"][0] == ["news.sport", "goal"]
    assert got["aPattern"][1:] == [["news.seq", f"m{i}"] for i in range(200)]

    # After subA leaves 'news' and 'news.*', only subB receives.
    assert out["numsubAfter"] == {"news": 1}
    assert out["numpatAfter"] == 0
    assert out["publish"]["afterUnsubscribe"] == 1

    if resp == 3:
        assert out["subscribedGet"] == "v"
        # GET, GET (from the cache), SET elsewhere -> invalidation push -> GET reads '2'.
        assert out["tracking"]["values"] == ["1", "1", "2"]
        assert out["tracking"]["hits"] == 1
        assert out["tracking"]["misses"] == 2
