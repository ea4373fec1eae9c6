"""Lua scripting and functions (EVAL, EVALSHA, SCRIPT, FUNCTION, FCALL), black-box.

What real applications do with scripts (redis-py's Lock and Script objects), Redis's reply
conversions in RESP2 and RESP3, its error texts, the sandbox, atomicity over undeclared keys
under concurrent clients, BUSY and SCRIPT KILL, and durability: a script's writes survive a
kill -9 after its reply, and are all or nothing when the process dies while it runs.
"""

import hashlib
import signal
import socket
import threading
import time

import pytest
import redis
from redis.exceptions import LockError, NoScriptError, ResponseError

from conftest import Server


def test_eval_returns_and_conversions(r):
    assert r.eval("return 1", 0) == 1
    assert r.eval("return 100.5", 0) == 100
    assert r.eval("return 'hello'", 0) == "hello"
    assert r.eval("return {1, 2, {3, 'x'}}", 0) == [1, 2, [3, "x"]]
    # An array stops at the first nil; true is 1 and false is a null in RESP2 mode.
    assert r.eval("return {1, nil, 3}", 0) == [1]
    assert r.eval("return true", 0) == 1
    assert r.eval("return false", 0) is None
    assert r.eval("return {ok='fine'}", 0) in ("fine", b"fine", True)
    assert r.eval("return KEYS[1] .. ARGV[1] .. #KEYS .. #ARGV", 1, "k", "v", "w") == "kv12"


def test_redis_call_conversions(r):
    r.set("s", "v")
    r.rpush("l", "a", "b")
    assert r.eval("return redis.call('get', KEYS[1])", 1, "s") == "v"
    assert r.eval("return redis.call('get', 'missing') == false", 0) == 1
    assert r.eval("return redis.call('lrange', 'l', 0, -1)", 0) == ["a", "b"]
    assert r.eval("return redis.call('incr', 'n')", 0) == 1
    assert r.eval("return redis.call('ping')['ok']", 0) == "PONG"
    assert r.eval("return type(redis.call('set', 'x', 1))", 0) == "table"
    # Numbers passed to redis.call are written as Redis writes them.
    r.eval("redis.call('set', 'f', 1.5) redis.call('set', 'i', 3)", 0)
    assert r.get("f") == "1.5" and r.get("i") == "3"


def test_numbers_passed_to_redis_call_are_written_as_redis_does(r):
    # Redis 7.0 writes a Lua number with "%.17g": integers in full up to 17 digits, fractions
    # with 17 significant digits (checked against Debian's redis-server 7.0.15).
    cases = {
        "100000": "100000",
        "1e15": "1000000000000000",
        "-5": "-5",
        "0.1": "0.10000000000000001",
        "-0.0": "-0",
        "1e17": "1e+17",
        "1e21": "1e+21",
        "1/0": "inf",
        "-1/0": "-inf",
    }
    for lua, want in cases.items():
        got = r.eval(f"redis.call('set', KEYS[1], {lua}) return redis.call('get', KEYS[1])", 1, "n")
        assert got == want, lua


def test_keys_and_argv_are_fresh_for_every_script(r):
    # A script may change its KEYS and ARGV tables; the next script sees only its own.
    r.eval("KEYS[1] = 'changed' KEYS[5] = 'extra' ARGV.x = 1 return 1", 2, "a", "b", "v")
    assert r.eval("return {#KEYS, #ARGV, KEYS[1], KEYS[5] == nil, ARGV.x == nil}", 1, "k") == [
        1,
        0,
        "k",
        1,
        1,
    ]
    r.eval("setmetatable(KEYS, {__index = function() return 'meta' end}) return 1", 1, "a")
    assert r.eval("return KEYS[3] == nil and getmetatable(KEYS) == nil", 1, "k") == 1
    r.eval("for i = 1, 50 do KEYS[i] = i end return 1", 3, "a", "b", "c")
    assert r.eval("return #KEYS .. KEYS[1] .. KEYS[2]", 2, "x", "y") == "2xy"
    # The next script of the same body sees its own arguments too (a cached script).
    body = "return KEYS[1] .. ':' .. (ARGV[1] or 'none') .. ':' .. #ARGV"
    assert r.eval(body, 1, "k1", "a") == "k1:a:1"
    assert r.eval(body, 1, "k2") == "k2:none:0"


def test_resp3_conversions(r3):
    r3.hset("h", mapping={"a": "1"})
    # setresp(3): a map comes as {map=...}, a null as nil, a double as {double=...}.
    got = r3.eval("redis.setresp(3) return redis.call('hgetall', 'h')", 0)
    assert got == {"a": "1"}
    assert r3.eval("redis.setresp(3) return redis.call('get', 'nope') == nil", 0) is True
    assert r3.eval("return {double=3.5}", 0) == 3.5
    assert r3.eval("redis.setresp(3) return true", 0) is True
    assert r3.eval("return {map={x=1}}", 0) == {"x": 1}
    assert list(r3.eval("return {set={a=true}}", 0)) == ["a"]
    with pytest.raises(ResponseError, match="RESP version must be 2 or 3"):
        r3.eval("redis.setresp(4)", 0)


def test_resp2_caller_sees_resp3_types_flattened(r2):
    r2.hset("h", "a", "1")
    assert r2.eval("return {map={x=1}}", 0) == ["x", 1]
    assert r2.eval("return {double=3.5}", 0) == "3.5"
    assert r2.eval("redis.setresp(3) return redis.call('hgetall', 'h')['map']['a']", 0) == "1"


def test_error_texts(r2):
    sha = r2.script_load("return redis.call('incr', KEYS[1])")
    r2.set("str", "x")
    with pytest.raises(ResponseError) as e:
        r2.evalsha(sha, 1, "str")
    assert str(e.value) == (f"value is not an integer or out of range script: {sha}, "
                            "on @user_script:1.")
    with pytest.raises(ResponseError, match=r"Unknown Redis command called from script script: "):
        r2.eval("return redis.call('nosuchcmd')", 0)
    with pytest.raises(ResponseError, match="Wrong number of args calling Redis command"):
        r2.eval("return redis.call('get')", 0)
    with pytest.raises(ResponseError, match="This Redis command is not allowed from script"):
        r2.eval("return redis.call('eval', 'return 1', 0)", 0)
    with pytest.raises(ResponseError, match="This Redis command is not allowed from script"):
        r2.eval("return redis.call('blpop', 'l', 0)", 0)
    with pytest.raises(ResponseError, match="Error compiling script"):
        r2.eval("return +", 0)
    with pytest.raises(ResponseError, match="Number of keys can't be greater than number of args"):
        r2.eval("return 1", 3, "a")
    # pcall returns the error as a table; error_reply / status_reply build them.
    assert r2.eval("return redis.pcall('incr', KEYS[1])['err']", 1, "str") == \
        "ERR value is not an integer or out of range"
    with pytest.raises(ResponseError, match="^MY_CODE custom$"):
        r2.eval("return redis.error_reply('MY_CODE custom')", 0)
    assert r2.eval("return redis.status_reply('DONE')", 0) == "DONE"
    assert r2.eval("return redis.sha1hex('')", 0) == "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert r2.eval("return redis.REDIS_VERSION", 0).count(".") == 2
    assert r2.eval("redis.set_repl(redis.REPL_ALL) return redis.replicate_commands()", 0) == 1


def test_script_client_state_and_limits(r2):
    # SELECT inside a script changes the script's database only.
    assert r2.eval("redis.call('select', 3) redis.call('set', 'dbk', '1') "
                   "return redis.call('dbsize')", 0) == 1
    assert r2.get("dbk") is None
    # SAVE (refused in MULTI too: it would take the locks the script holds) is refused.
    with pytest.raises(ResponseError, match="This Redis command is not allowed from script"):
        r2.eval("return redis.call('save')", 0)
    # The Lua state's memory is bounded; the server goes on.
    with pytest.raises(ResponseError, match="not enough memory"):
        r2.eval("return #string.rep('x', 300 * 1024 * 1024)", 0)
    assert r2.eval("return 'alive'", 0) == "alive"
    # cmsgpack and struct, as Redis's.
    assert r2.eval("local e = cmsgpack.pack(-1099511627776) local h = '' for i = 1, #e do "
                   "h = h .. string.format('%02x', string.byte(e, i)) end return h", 0) == \
        "d3ffffff0000000000"
    assert r2.eval("local t = cmsgpack.unpack(cmsgpack.pack({a = 1, b = {1, 'x'}})) "
                   "return t.b[2]", 0) == "x"
    assert r2.eval("return {struct.unpack('>i2', struct.pack('>i2', -2))}", 0) == [-2, 3]


def test_noscript_and_script_cache(r2):
    with pytest.raises(NoScriptError, match="No matching script. Please use EVAL."):
        r2.evalsha("ffd632c7d33e571e9f24556ebed26c3479a87130", 0)
    sha = r2.script_load("return 'cached'")
    assert r2.script_exists(sha, "0" * 40) == [True, False]
    assert r2.evalsha(sha.upper(), 0) == "cached"
    # EVAL caches its script too.
    r2.eval("return 'by eval'", 0)
    assert r2.evalsha(hashlib.sha1(b"return 'by eval'").hexdigest(), 0) == "by eval"
    assert r2.script_flush() is True
    assert r2.script_exists(sha) == [False]
    with pytest.raises(NoScriptError):
        r2.evalsha(sha, 0)
    with pytest.raises(ResponseError, match="NOTBUSY"):
        r2.script_kill()


def test_register_script_recovers_from_noscript(r2):
    incr_by = r2.register_script(
        "local v = redis.call('incrby', KEYS[1], ARGV[1]) "
        "redis.call('pexpire', KEYS[1], 60000) return v")
    assert incr_by(keys=["counter"], args=[5]) == 5
    r2.script_flush()  # the next call gets NOSCRIPT, loads the script and runs it again
    assert incr_by(keys=["counter"], args=[2]) == 7
    assert 0 < r2.pttl("counter") <= 60000
    # In a pipeline too.
    p = r2.pipeline()
    incr_by(keys=["counter"], args=[1], client=p)
    assert p.execute() == [8]


def test_redis_py_lock_acquire_extend_release(server):
    c = server.client()
    c.delete("lock:res")
    lock = c.lock("lock:res", timeout=10)
    assert lock.acquire(blocking=False)
    assert lock.extend(5)  # EVALSHA
    assert c.pttl("lock:res") > 10000
    assert lock.reacquire()
    lock.release()  # EVALSHA: must delete the key
    assert c.exists("lock:res") == 0
    other = c.lock("lock:res", timeout=10)
    assert other.acquire(blocking=False)
    with pytest.raises(LockError):
        lock.release()  # not its token any more
    other.release()
    c.close()


def test_lock_contention_from_several_clients(server):
    counter_key, lock_key = "lock:counter", "lock:ctr"
    setup = server.client()
    setup.delete(counter_key, lock_key)
    errors = []

    def worker():
        c = server.client()
        try:
            for _ in range(30):
                with c.lock(lock_key, timeout=5, blocking_timeout=30, sleep=0.001):
                    # A non-atomic read-modify-write, safe only under the lock.
                    v = int(c.get(counter_key) or 0)
                    c.set(counter_key, v + 1)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            c.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert int(setup.get(counter_key)) == 120
    assert setup.exists(lock_key) == 0
    setup.close()


def test_sandbox(r2):
    with pytest.raises(ResponseError, match="Script attempted to access nonexistent global variable 'a'"):
        r2.eval("return a", 0)
    for escape in ["a = 10", "setmetatable(_G, {})", "local g = getmetatable(_G); g.__index = {}",
                   "redis = function() return 1 end", "_G = {}", "redis.call = function() end",
                   "cjson.encode = nil", "bit.band = nil", "string.upper = nil",
                   "rawset(_G, 'x', 1)"]:
        with pytest.raises(ResponseError, match="Attempt to modify a readonly table"):
            r2.eval(escape, 0)
    for name in ["loadfile", "dofile", "print", "os", "io", "require", "setfenv"]:
        with pytest.raises(ResponseError, match=f"nonexistent global variable '{name}'"):
            r2.eval(f"return {name}", 0)
    with pytest.raises(ResponseError, match="attempt to call a nil value"):
        r2.eval("return loadstring(string.dump(function() return 1 end))()", 0)
    # The libraries work.
    assert r2.eval("return cjson.encode({1, 2})", 0) == "[1,2]"
    assert r2.eval("return cjson.decode('[1,2,3]')[3]", 0) == 3
    assert r2.eval("return bit.bxor(5, 3)", 0) == 6
    assert r2.eval("return string.format('%d-%s', 7, 'x')", 0) == "7-x"


def test_read_only_scripts(r2):
    r2.set("k", "v")
    assert r2.eval_ro("return redis.call('get', KEYS[1])", 1, "k") == "v"
    with pytest.raises(ResponseError, match="Write commands are not allowed from read-only scripts"):
        r2.eval_ro("return redis.call('set', KEYS[1], 'x')", 1, "k")
    sha = r2.script_load("return redis.call('del', KEYS[1])")
    with pytest.raises(ResponseError, match="Write commands are not allowed from read-only scripts"):
        r2.evalsha_ro(sha, 1, "k")
    with pytest.raises(ResponseError, match="Write commands are not allowed from read-only scripts"):
        r2.eval("#!lua flags=no-writes\nreturn redis.call('set', 'k', 'y')", 0)
    assert r2.get("k") == "v"


def test_script_inside_multi(r2):
    p = r2.pipeline(transaction=True)
    p.set("m", "1")
    p.eval("return redis.call('incr', 'm')", 0)
    assert p.execute() == [True, 2]


def test_scripts_are_atomic_over_undeclared_keys(server):
    """Concurrent transfers between keys the scripts do not declare, while readers check the sum."""
    setup = server.client()
    setup.mset({"acct:a": 1000, "acct:b": 0})
    transfer = ("local a = redis.call('decr', 'acct:a') "
                "for i = 1, 200 do local x = i * i end "
                "redis.call('incr', 'acct:b') return a")
    stop = threading.Event()
    bad = []

    def writer():
        c = server.client()
        for _ in range(100):
            c.eval(transfer, 0)
        c.close()

    def reader():
        c = server.client()
        while not stop.is_set():
            a, b = c.mget("acct:a", "acct:b")
            if int(a) + int(b) != 1000:
                bad.append((a, b))
            # A script reading both sees the same.
            s = c.eval("return redis.call('get','acct:a') + redis.call('get','acct:b')", 0)
            if s != 1000:
                bad.append(s)
        c.close()

    writers = [threading.Thread(target=writer) for _ in range(4)]
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert bad == []
    assert setup.mget("acct:a", "acct:b") == ["600", "400"]
    setup.close()


def _shard(key):
    from redis.crc import key_slot
    return key_slot(key.encode()) // 64  # 16384 slots over 256 shards (base/slot.h)


def test_script_that_reaches_another_shard_before_writing_runs_once(r2):
    """A script learned on its declared keys' shards meets a key of another shard: it starts
    again holding every shard, and what it did shows exactly once."""
    assert _shard("{a}n") != _shard("{b}v")
    script = ("local v = redis.call('get', ARGV[1]) "
              "redis.call('incr', KEYS[1]) return v")
    r2.set("{a}same", "near")
    r2.set("{b}v", "far")
    # First runs: the undeclared key shares the declared key's shard.
    for _ in range(3):
        assert r2.eval(script, 1, "{a}n", "{a}same") == "near"
    # Now it is on another shard, reached before the script's first write.
    for _ in range(5):
        assert r2.eval(script, 1, "{a}n", "{b}v") == "far"
    assert r2.get("{a}n") == "8"
    if r2.info("stats").get("script_restarts") is not None:  # FDB's own field
        assert r2.info("stats")["script_restarts"] >= 1
    # The same with a function.
    r2.function_load("#!lua name=reach\nredis.register_function('reach', function(keys, args) "
                     "local v = redis.call('get', args[1]) redis.call('incr', keys[1]) "
                     "return v end)", replace=True)
    assert r2.fcall("reach", 1, "{a}f", "{a}same") == "near"
    assert r2.fcall("reach", 1, "{a}f", "{b}v") == "far"
    assert r2.get("{a}f") == "2"


def test_scripts_on_declared_keys_stay_serializable(server):
    """Scripts holding only their declared keys' shards run beside scripts that reach other
    shards (before and after writing), multi-key commands, EXEC and whole-keyspace scripts: the
    money in the accounts never changes and nothing hangs."""
    accounts = ["{%s}acct" % t for t in "abcdefgh"]
    assert len({_shard(a) for a in accounts}) == len(accounts)
    setup = server.client()
    setup.mset({a: 1000 for a in accounts})
    total = 1000 * len(accounts)
    transfer = "redis.call('decrby', KEYS[1], ARGV[1]) redis.call('incrby', KEYS[2], ARGV[1])"
    # Writes first, then (one time in three) moves money between two undeclared accounts.
    write_then_reach = ("local n = redis.call('incr', KEYS[1]) "
                        "if n % 3 == 0 then redis.call('decr', ARGV[1]) "
                        "redis.call('incr', ARGV[2]) end return n")
    # Reads an undeclared account first (one time in three), then moves money.
    read_then_reach = ("local n = tonumber(redis.call('get', KEYS[1]) or '0') "
                       "if n % 3 == 1 then redis.call('get', ARGV[1]) end "
                       "redis.call('decr', KEYS[2]) redis.call('incr', KEYS[3]) "
                       "redis.call('set', KEYS[1], n + 1)")
    sum_all = ("local s = 0 for i = 1, #ARGV do s = s + redis.call('get', ARGV[i]) end "
               "return s")
    stop = threading.Event()
    bad = []
    errors = []

    def pick(rng):
        a, b = rng.sample(accounts, 2)
        return a, b

    def worker(seed):
        import random
        rng = random.Random(seed)
        c = server.client(socket_timeout=60)
        try:
            for i in range(150):
                a, b = pick(rng)
                kind = i % 5
                if kind == 0:
                    c.eval(transfer, 2, a, b, 3)
                elif kind == 1:
                    # The counter shares the first account's shard (its tag).
                    c.eval(write_then_reach, 1, a[:3] + "n%d" % seed, a, b)
                elif kind == 2:
                    others = [x for x in accounts if x not in (a, b)]
                    c.eval(read_then_reach, 3, b[:3] + "m%d" % seed, b, a, rng.choice(others))
                elif kind == 3:
                    p = c.pipeline(transaction=True)
                    p.decr(a)
                    p.incr(b)
                    p.execute()
                else:
                    c.eval(transfer, 2, b, a, 1)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))
        finally:
            c.close()

    def reader():
        c = server.client(socket_timeout=60)
        while not stop.is_set():
            if sum(int(v) for v in c.mget(accounts)) != total:
                bad.append("mget")
            if c.eval(sum_all, 0, *accounts) != total:
                bad.append("script")
        c.close()

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in readers + workers:
        t.start()
    for t in workers:
        t.join(timeout=120)
        assert not t.is_alive(), "a worker hung"
    stop.set()
    for t in readers:
        t.join(timeout=60)
    assert errors == []
    assert bad == []
    assert sum(int(v) for v in setup.mget(accounts)) == total
    stats = setup.info("stats")
    if "script_escalations" in stats:  # FDB's own fields: both paths were taken
        assert stats["script_escalations"] > 0 and stats["script_restarts"] > 0
    setup.close()


def _send_eval_raw(port, script):
    """Sends an EVAL on a connection of its own and returns the socket (reply unread)."""
    s = socket.create_connection(("127.0.0.1", port))
    parts = [b"EVAL", script.encode(), b"0"]
    s.sendall(b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))
    return s


def test_busy_script_and_script_kill(server_factory):
    srv = server_factory("--busy-reply-threshold", "50")
    c = srv.client(socket_timeout=10)
    # A read-only endless script: other clients get BUSY, SCRIPT KILL ends it.
    looping = _send_eval_raw(srv.port, "local i = 0 while true do i = i + 1 end")
    time.sleep(0.3)
    other = srv.client(socket_timeout=10)
    with pytest.raises(ResponseError, match="^Redis is busy running a script|BUSY"):
        other.ping()
    assert other.script_kill() is True
    looping.settimeout(10)
    reply = looping.recv(4096)
    assert b"killed by user" in reply
    looping.close()
    deadline = time.time() + 10
    while True:
        try:
            assert other.ping() is True
            break
        except ResponseError:
            assert time.time() < deadline
            time.sleep(0.05)
    # A script that wrote cannot be killed: UNKILLABLE, and SHUTDOWN NOSAVE ends the server
    # without its writes.
    writing = _send_eval_raw(srv.port, "redis.call('set', 'w', 1) while true do end")
    time.sleep(0.3)
    third = srv.client(socket_timeout=10)
    with pytest.raises(ResponseError, match="UNKILLABLE"):
        third.script_kill()
    try:
        third.shutdown(nosave=True)
    except redis.ConnectionError:
        pass
    assert srv.proc.wait(timeout=10) is not None
    writing.close()
    srv.start()
    assert srv.client().exists("w") == 0


def test_kill9_after_reply_keeps_script_writes(server_factory):
    srv = server_factory()
    c = srv.client()
    n = c.eval("for i = 1, 200 do redis.call('set', 'sk:' .. i, i) end "
               "redis.call('rpush', 'sl', 'a', 'b') return 200", 0)
    assert n == 200
    srv.stop(signal.SIGKILL)
    srv.start()
    c = srv.client()
    assert c.mget([f"sk:{i}" for i in (1, 100, 200)]) == ["1", "100", "200"]
    assert c.lrange("sl", 0, -1) == ["a", "b"]


def test_kill9_while_script_runs_is_all_or_nothing(server_factory):
    srv = server_factory()
    c = srv.client()
    c.set("before", "1")
    body = ("for i = 1, 100 do redis.call('set', 'part:' .. i, i) end "
            "local x = 0 for i = 1, 300000000 do x = x + 1 end return x")
    s = _send_eval_raw(srv.port, body)
    time.sleep(0.5)
    srv.stop(signal.SIGKILL)
    s.close()
    srv.start()
    c = srv.client()
    present = sum(c.exists(f"part:{i}") for i in range(1, 101))
    assert present in (0, 100)
    assert c.get("before") == "1"


def test_functions_load_call_list_and_errors(r2):
    r2.function_flush()
    code = ("#!lua name=mylib\n"
            "redis.register_function('setit', function(keys, args) "
            "return redis.call('set', keys[1], args[1]) end)\n"
            "redis.register_function{function_name='getit', callback=function(keys) "
            "return redis.call('get', keys[1]) end, flags={'no-writes'}}")
    assert r2.function_load(code) == "mylib"
    assert r2.fcall("setit", 1, "fk", "fv") == "OK"
    assert r2.fcall_ro("getit", 1, "fk") == "fv"
    assert r2.fcall("SETIT", 1, "fk", "v2") == "OK"  # names are case-insensitive
    with pytest.raises(ResponseError, match=r"Can not execute a script with write flag using \*_ro command"):
        r2.fcall_ro("setit", 1, "fk", "x")
    with pytest.raises(ResponseError, match="Function not found"):
        r2.fcall("nope", 0)
    with pytest.raises(ResponseError, match="Library 'mylib' already exists"):
        r2.function_load(code)
    with pytest.raises(ResponseError, match="Missing library metadata"):
        r2.function_load("return 1")
    with pytest.raises(ResponseError, match="nonexistent global variable 'math'"):
        r2.function_load("#!lua name=bad\nreturn math.random()")
    libs = r2.function_list(withcode=True)
    assert libs[0]["library_name"] == "mylib" if isinstance(libs[0], dict) else True
    dump = r2.function_dump()
    r2.function_flush()
    assert r2.function_list() == []
    assert r2.function_restore(dump) in (True, "OK")
    assert r2.fcall_ro("getit", 1, "fk") == "v2"
    with pytest.raises(ResponseError, match="payload version or checksum are wrong"):
        r2.function_restore(b"garbage")
    assert r2.function_delete("mylib") in (True, "OK")
    with pytest.raises(ResponseError, match="Library not found"):
        r2.function_delete("mylib")


@pytest.mark.parametrize("how", ["restart", "kill9"])
def test_functions_survive_restart(server_factory, how):
    srv = server_factory()
    c = srv.client()
    c.function_load("#!lua name=keep\nredis.register_function('hello', function() return 'hi' end)")
    srv.stop(signal.SIGKILL if how == "kill9" else None)
    srv.start()
    c = srv.client()
    assert c.fcall("hello", 0) == "hi"
    c.function_delete("keep")
    srv.stop()
    srv.start()
    with pytest.raises(ResponseError, match="Function not found"):
        srv.client().fcall("hello", 0)


def test_min_replicas_to_write_refuses_writes_everywhere(r2):
    """With min-replicas-to-write set and too few replicas (none attached), writes are refused
    with NOREPLICAS: plain, queued in MULTI, inside a script, and a script that may write."""
    r2.set("x", "some value")
    r2.config_set("min-replicas-to-write", 1)
    try:
        with pytest.raises(ResponseError, match="Not enough good replicas to write"):
            r2.set("x", "other")
        assert r2.get("x") == "some value"
        assert r2.eval("#!lua flags=no-writes\nreturn redis.call('get','x')", 1, "x") == "some value"
        assert r2.eval("return redis.call('get','x')", 1, "x") == "some value"
        with pytest.raises(ResponseError, match="Not enough good replicas"):
            r2.eval("#!lua\nreturn redis.call('get','x')", 1, "x")
        with pytest.raises(ResponseError, match="Not enough good replicas"):
            r2.eval("return redis.call('set','x', 1)", 1, "x")
        p = r2.pipeline(transaction=True)
        p.set("x", "queued")
        with pytest.raises(ResponseError):
            p.execute()
        assert r2.get("x") == "some value"
    finally:
        r2.config_set("min-replicas-to-write", 0)
    assert r2.set("x", "again") is True


def test_cluster_commands_without_cluster_mode(r2):
    with pytest.raises(ResponseError, match="cluster support disabled"):
        r2.execute_command("CLUSTER", "INFO")
    with pytest.raises(ResponseError, match="not allowed from script"):
        r2.eval("return redis.call('cluster', 'reset', 'hard')", 0)


def test_sort_by_constant_is_ordered_for_scripts(r2):
    members = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "l", "m", "n", "o", "p", "q", "r",
               "s", "t", "u", "v", "z", "aa", "aaa", "azz"]
    r2.sadd("myset", *members)
    assert r2.eval("return redis.call('sort', KEYS[1], 'by', '_')", 1, "myset") == sorted(members)
    r2.delete("myset")
    r2.sadd("myset", "a", "b", "c")
    assert r2.eval("return redis.call('sort', KEYS[1], 'by', '_', 'get', '#', 'get', '_:*')", 1,
                   "myset") == ["a", None, "b", None, "c", None]


def test_scripts_read_streams_but_cannot_block(r2):
    r2.delete("s")
    r2.xgroup_create("s", "g", "$", mkstream=True)
    assert r2.eval("return redis.pcall('xread','STREAMS','s','$')", 1, "s") is None
    with pytest.raises(ResponseError, match="xread command is not allowed with BLOCK option"):
        r2.eval("return redis.pcall('xread','BLOCK',0,'STREAMS','s','$')", 1, "s")
    assert r2.eval("return redis.pcall('xreadgroup','group','g','c','STREAMS','s','>')", 1,
                   "s") is None
    with pytest.raises(ResponseError, match="xreadgroup command is not allowed with BLOCK"):
        r2.eval("return redis.pcall('xreadgroup','group','g','c','BLOCK',0,'STREAMS','s','>')",
                1, "s")
    with pytest.raises(ResponseError, match="not allowed from script"):
        r2.eval("return redis.call('blpop', KEYS[1], 0)", 1, "l")


def test_time_is_frozen_while_a_script_runs(r2):
    """As Redis: a key does not expire half-way through a script, whatever its TTL."""
    script = ("redis.call('set', KEYS[1], 'v', 'px', 5) "
              "local t = redis.call('time') local start = t[1] * 1000000 + t[2] "
              "local now = start "
              "while now - start < 30000 do local i = 0 for j = 1, 1000 do i = i + j end "
              "  local s = redis.call('time') now = s[1] * 1000000 + s[2] end "
              "return redis.call('exists', KEYS[1])")
    assert r2.eval(script, 1, "frozen") == 1
    time.sleep(0.02)
    assert r2.exists("frozen") == 0


def test_error_of_redis_pcall_is_counted_in_errorstats(r):
    """As Redis 7.0: an error that redis.pcall returns to the script is an error reply of the
    server (INFO errorstats, total_error_replies, the command's failed_calls); the script's
    own reply is not an error. One raised by redis.call is counted once."""
    r.config_resetstat()
    assert r.eval("redis.pcall('XGROUP', 'CREATECONSUMER', 's1', 'g', 'c') return 1", 0) == 1
    assert r.info("errorstats")["errorstat_ERR"]["count"] == 1
    assert r.info("stats")["total_error_replies"] == 1
    stats = r.info("commandstats")
    assert stats["cmdstat_xgroup|createconsumer"]["failed_calls"] == 1
    assert stats["cmdstat_eval"]["failed_calls"] == 0
    with pytest.raises(redis.ResponseError):
        r.eval("return redis.call('INCR', 'notanumber', 'extra')", 0)
    assert r.info("errorstats")["errorstat_ERR"]["count"] == 2
    assert r.info("stats")["total_error_replies"] == 2
