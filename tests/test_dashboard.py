"""The dashboard at `/` of the HTTP listener and the JSON API it calls (src/http/dashboard.h).

Two layers: the API over plain HTTP (sessions, CSRF, the user's ACL, the body limit, refused
commands, the JSON form of replies), and the page itself in headless Chromium driven by selenium:
log in, the charts move under a redis-benchmark load, a key of every type is browsed, the console
runs a command, a slow command appears in the slow log, a client is killed, a read-only user's
write is refused, and a key named like markup shows as text. FDB_DASHBOARD_SCREENSHOT=path saves
a screenshot of the page under load there (docs/dashboard.png is made so).
"""

import base64
import http.client
import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import TARGET, free_port, wait_for

pytestmark = pytest.mark.skipif(TARGET == "redis", reason="FDB's own HTTP listener")

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


class Http:
    """A browser-like client of the API: keeps the session cookie and the CSRF token."""

    def __init__(self, port, context=None):
        self.port = port
        self.context = context  # an ssl.SSLContext: HTTPS
        self.cookie = None
        self.csrf = ""

    def request(self, method, path, body=None, headers=None, raw=None):
        if self.context is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        else:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30,
                                               context=self.context)
        h = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookie:
            h["Cookie"] = self.cookie
        if body is not None or raw is not None:
            h["Content-Type"] = "application/json"
            h["X-CSRF-Token"] = self.csrf
        h.update(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            text = resp.read().decode()
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text
            return resp.status, resp.headers, parsed
        finally:
            conn.close()

    def login(self, user=None, password=None):
        body = {}
        if user is not None:
            body["user"] = user
        if password is not None:
            body["password"] = password
        status, headers, data = self.request("POST", "/api/login", body)
        if status == 200:
            self.cookie = headers["Set-Cookie"].split(";")[0]
            self.csrf = data["csrf"]
        return status, headers, data

    def command(self, *argv):
        status, _, data = self.request("POST", "/api/command", {"argv": list(argv)})
        assert status == 200, data
        return data["reply"]


@pytest.fixture
def dash(server_factory):
    """A server with the HTTP listener, no password (the page works as the default user)."""
    s = server_factory("--http-port", str(free_port()))
    s.http_port = int(s.args[s.args.index("--http-port") + 1])
    return s


@pytest.fixture
def locked(server_factory):
    """A server whose default user has a password (requirepass): the page asks to log in."""
    s = server_factory("--http-port", str(free_port()), "--requirepass", "adminpw")
    s.http_port = int(s.args[s.args.index("--http-port") + 1])
    s.admin = s.client(password="adminpw")
    return s


def test_the_page_and_its_assets_are_served_from_the_binary(dash):
    h = Http(dash.http_port)
    status, headers, body = h.request("GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert '<script src="/dashboard.js"' in body and 'href="/dashboard.css"' in body
    # No inline script may run, and the page is in no other site's frame.
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    for path, kind in (("/dashboard.js", "text/javascript"), ("/dashboard.css", "text/css")):
        status, headers, body = h.request("GET", path)
        assert status == 200 and headers["Content-Type"].startswith(kind) and len(body) > 1000
    assert h.request("GET", "/api/nope")[0] == 404
    assert h.request("HEAD", "/")[0] == 200


def test_without_a_password_the_page_is_the_default_user(dash):
    h = Http(dash.http_port)
    status, _, data = h.request("GET", "/api/session")
    assert status == 200 and data == {"login_required": False, "user": None}
    status, headers, data = h.login()
    assert status == 200 and data["user"] == "default" and len(data["csrf"]) == 32
    cookie = headers["Set-Cookie"]
    name, token = cookie.split(";")[0].split("=")
    assert name == "fdb_session" and len(token) == 32 and int(token, 16) >= 0
    for attr in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="):
        assert attr in cookie
    status, _, data = h.request("GET", "/api/session")
    assert data["user"] == "default" and data["csrf"] == h.csrf
    # Replies keep their RESP3 types.
    assert h.command("SET", "k", "v") == "OK"
    assert h.command("GET", "k") == "v"
    assert h.command("GET", "missing") is None
    assert h.command("INCRBY", "n", "5") == 5
    assert h.command("INCRBY", "big", str(2**62)) == {"int": str(2**62)}
    assert h.command("HSET", "h", "f", "1") == 1
    assert h.command("HGETALL", "h") == {"map": [["f", "1"]]}
    assert h.command("ZADD", "z", "1.5", "m") == 1
    assert h.command("ZSCORE", "z", "m") == {"double": "1.5"}
    assert h.command("GET", "h")["error"].startswith("WRONGTYPE")
    assert h.command("NOSUCHCOMMAND")["error"].startswith("ERR unknown command")
    # A script runs on the HTTP worker as on an I/O thread (a Lua state of its own).
    assert h.command("EVAL", "return redis.call('INCRBY', KEYS[1], ARGV[1])", "1", "n", "2") == 7
    # Binary strings travel as base64 both ways.
    blob = bytes(range(256))
    arg = {"b64": base64.b64encode(blob).decode()}
    assert h.command("SET", arg, arg) == "OK"
    assert dash.client(decode_responses=False).get(blob) == blob
    got = h.command("GET", arg)
    assert base64.b64decode(got["b64"]) == blob
    # The session is a client, as any connection: its own database, listed by CLIENT LIST.
    assert h.command("SELECT", "3") == "OK"
    assert h.command("SET", "in3", "x") == "OK"
    assert dash.client(db=3).get("in3") == "x"
    listed = [c for c in dash.client().client_list() if c.get("lib-name") == "fdb-dashboard"]
    assert len(listed) == 1 and listed[0]["db"] == "3" and listed[0]["user"] == "default"


def test_a_password_requires_a_login(locked):
    h = Http(locked.http_port)
    status, _, data = h.request("GET", "/api/session")
    assert status == 200 and data["login_required"] is True and data["user"] is None
    # Nothing runs without a session, the page's login excepted.
    assert h.request("POST", "/api/command", {"argv": ["PING"]})[0] == 401
    assert h.request("GET", "/api/stats")[0] == 401
    assert h.login()[0] == 401
    status, _, data = h.login("default", "wrong")
    assert status == 401 and data["error"].startswith("WRONGPASS")
    assert h.login("nobody", "adminpw")[0] == 401
    # The failed logins are in ACL LOG, as failed AUTHs are.
    assert any(e["reason"] == "auth" for e in locked.admin.acl_log())
    # A made-up cookie is no session.
    h.cookie, h.csrf = "fdb_session=" + "0" * 32, "0" * 32
    assert h.request("POST", "/api/command", {"argv": ["PING"]})[0] == 401
    status, _, data = h.login("default", "adminpw")
    assert status == 200 and data["user"] == "default"
    assert h.command("PING") == "PONG"
    status, _, stats = h.request("GET", "/api/stats")
    assert status == 200 and stats["user"] == "default" and stats["clients"]["connected"] >= 1
    # Logout ends the session: its cookie opens nothing after.
    status, headers, _ = h.request("POST", "/api/logout", {})
    assert status == 200 and "Max-Age=0" in headers["Set-Cookie"]
    assert h.request("POST", "/api/command", {"argv": ["PING"]})[0] == 401
    assert h.request("GET", "/api/stats")[0] == 401


def test_writes_are_csrf_safe(dash):
    h = Http(dash.http_port)
    h.login()
    assert h.command("SET", "k", "v") == "OK"
    argv = {"argv": ["SET", "k", "changed"]}
    # Without the session's token, or with another one.
    assert h.request("POST", "/api/command", argv, headers={"X-CSRF-Token": ""})[0] == 403
    assert h.request("POST", "/api/command", argv, headers={"X-CSRF-Token": "0" * 32})[0] == 403
    assert h.request("POST", "/api/logout", {}, headers={"X-CSRF-Token": "x"})[0] == 403
    # What a form of another site can send: not JSON.
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert h.request("POST", "/api/command", argv, headers=form)[0] == 415
    assert h.request("POST", "/api/login", {}, headers=form)[0] == 415
    # A page of another origin (the browser names it).
    evil = {"Origin": "http://evil.example"}
    assert h.request("POST", "/api/command", argv, headers=evil)[0] == 403
    assert h.request("POST", "/api/login", {}, headers=evil)[0] == 403
    same = {"Origin": f"http://127.0.0.1:{dash.http_port}"}
    assert h.request("POST", "/api/command", {"argv": ["PING"]}, headers=same)[0] == 200
    # State changes take POST only.
    for path in ("/api/command", "/api/login", "/api/logout"):
        status, headers, _ = h.request("GET", path)
        assert status == 405 and headers["Allow"] == "POST"
    assert h.request("POST", "/api/stats", {})[0] == 405
    assert dash.client().get("k") == "v"


def test_no_password_serves_an_address_not_a_name(dash, locked):
    """DNS rebinding: another site's name pointed at 127.0.0.1 is same-origin with the page. With
    no password that would be a login for anyone; so the page is then only served at an address
    or localhost. With a password a name is fine (the attacker would need the password)."""
    for host in ("evil.example", f"evil.example:{dash.http_port}", "127.0.0.1.evil.example"):
        status, _, data = Http(dash.http_port).request("POST", "/api/login", {},
                                                        headers={"Host": host})
        assert status == 403 and "IP address or localhost" in data["error"], host
    for host in (f"localhost:{dash.http_port}", f"127.0.0.1:{dash.http_port}", "[::1]:1"):
        status, _, _ = Http(dash.http_port).request("POST", "/api/login", {},
                                                    headers={"Host": host})
        assert status == 200, host
    h = Http(locked.http_port)
    status, _, _ = h.request("POST", "/api/login", {"user": "default", "password": "adminpw"},
                             headers={"Host": "db.example:9121"})
    assert status == 200


def test_the_users_acl_applies_to_everything(locked):
    admin = locked.admin
    admin.acl_setuser("ro", enabled=True, passwords=["+ropw"], keys=["*"],
                      commands=["+@read", "+info", "+client|list"])
    admin.acl_setuser("noinfo", enabled=True, passwords=["+pw"], keys=["*"], commands=["+get"])
    admin.set("k", "v")
    ro = Http(locked.http_port)
    assert ro.login("ro", "ropw")[0] == 200
    assert ro.command("GET", "k") == "v"
    refused = ro.command("SET", "k", "x")
    assert refused["error"].startswith("NOPERM")
    assert ro.command("DEL", "k")["error"].startswith("NOPERM")
    assert ro.command("CLIENT", "KILL", "ID", "1")["error"].startswith("NOPERM")
    assert admin.get("k") == "v"
    # The refusals are in ACL LOG as the user's.
    assert any(e["username"] == "ro" and e["reason"] == "command" for e in admin.acl_log())
    assert ro.request("GET", "/api/stats")[0] == 200
    # The charts' figures are INFO's: a user who may not run INFO does not get them.
    noinfo = Http(locked.http_port)
    assert noinfo.login("noinfo", "pw")[0] == 200
    status, _, data = noinfo.request("GET", "/api/stats")
    assert status == 403 and data["error"].startswith("NOPERM")
    # ACL DELUSER ends the user's sessions, as it closes the user's connections.
    admin.acl_deluser("ro")
    assert ro.request("POST", "/api/command", {"argv": ["GET", "k"]})[0] == 401


def test_the_console_refuses_what_needs_a_connection(dash):
    h = Http(dash.http_port)
    h.login()
    for argv in (["BLPOP", "l", "0"], ["BRPOPLPUSH", "a", "b", "0"], ["BZPOPMIN", "z", "0"],
                 ["XREAD", "BLOCK", "0", "STREAMS", "s", "$"], ["WAIT", "0", "0"]):
        assert "blocks or waits" in h.command(*argv)["error"], argv
    for argv in (["SUBSCRIBE", "c"], ["PSUBSCRIBE", "*"], ["MONITOR"], ["MULTI"], ["EXEC"],
                 ["WATCH", "k"], ["HELLO", "2"], ["AUTH", "x"], ["CLIENT", "REPLY", "OFF"],
                 ["QUIT"], ["RESET"], ["SYNC"], ["PSYNC", "?", "-1"]):
        assert "connection of its own" in h.command(*argv)["error"], argv
    # What only looks alike runs.
    assert h.command("XADD", "s", "1-1", "f", "v") == "1-1"
    assert h.command("XREAD", "STREAMS", "s", "0") == {"map": [["s", [["1-1", ["f", "v"]]]]]}
    assert h.command("PUBLISH", "c", "m") == 0
    assert h.command("CLIENT", "ID") > 0


def test_request_bodies_are_bounded(dash):
    h = Http(dash.http_port)
    h.login()
    value = "x" * (60 * 1024)
    assert h.command("SET", "big", value) == "OK"
    assert dash.client().strlen("big") == len(value)
    status, _, _ = h.request("POST", "/api/command", {"argv": ["SET", "big", "y" * 65536]})
    assert status == 413
    # Chunked (no Content-Length): not read.
    status, _, _ = h.request("POST", "/api/command", headers={"Transfer-Encoding": "chunked"},
                             raw=iter([b'{"argv":["PING"]}']))
    assert status == 411
    for raw in (b"", b"{", b"[]", b'{"argv":[]}', b'{"argv":"PING"}', b'{"argv":[1,2]}',
                b'{"argv":[{"b64":"%%%"}]}', b'{"argv":[null]}', b"\xff\xfe", b'"x"'):
        status, _, data = h.request("POST", "/api/command", raw=raw)
        assert status == 400, (raw, data)
    assert dash.client().strlen("big") == len(value)
    # The reply is bounded too: past 4 MB it is refused with the advice to page.
    dash.client().set("huge", "z" * (5 * 1024 * 1024))
    assert "page through it" in h.command("GET", "huge")["error"]
    assert h.command("STRLEN", "huge") == 5 * 1024 * 1024


def test_a_killed_session_client_ends_the_session(dash):
    h = Http(dash.http_port)
    h.login()
    c = dash.client()
    ids = [x["id"] for x in c.client_list() if x.get("lib-name") == "fdb-dashboard"]
    assert len(ids) == 1
    assert c.client_kill_filter(_id=ids[0]) == 1
    status, _, data = h.request("POST", "/api/command", {"argv": ["PING"]})
    assert status == 401 and "ended" in data["error"]
    assert not [x for x in c.client_list() if x.get("lib-name") == "fdb-dashboard"]


# ---- The page, in headless Chromium ------------------------------------------------------------


@pytest.fixture
def browser():
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("chromium and chromium-driver are not installed (scripts/setup.sh installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1400,1100", "--no-first-run", "--disable-extensions"):
        opts.add_argument(a)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


def wait_ui(pred, what, timeout=10, interval=0.05):
    """wait_for over the page: an element replaced while it was read is read again."""
    from selenium.common.exceptions import StaleElementReferenceException

    def safe():
        try:
            return pred()
        except StaleElementReferenceException:
            return None
    return wait_for(safe, timeout=timeout, interval=interval, what=what)


def find(driver, css):
    from selenium.webdriver.common.by import By
    return driver.find_element(By.CSS_SELECTOR, css)


def finds(driver, css):
    from selenium.webdriver.common.by import By
    return driver.find_elements(By.CSS_SELECTOR, css)


def first_row(driver, css):
    """The words of the first row of a table, or None while it has none."""
    rows = finds(driver, css)
    return rows[0].text.split() if rows else None


def no_alert(driver):
    from selenium.common.exceptions import NoAlertPresentException
    try:
        text = driver.switch_to.alert.text
    except NoAlertPresentException:
        return True
    raise AssertionError(f"an alert opened: {text!r}")


def login(driver, user, password):
    wait_ui(lambda: find(driver, "#login").is_displayed(), what="the login form")
    find(driver, "#login-user").clear()
    find(driver, "#login-user").send_keys(user)
    find(driver, "#login-password").send_keys(password)
    find(driver, "#login-submit").click()
    wait_ui(lambda: find(driver, "#app").is_displayed(), what="the dashboard after login")
    assert find(driver, "#user-name").text == user


def console(driver, line):
    from selenium.webdriver.common.keys import Keys
    before = find(driver, "#console-output").text
    find(driver, "#console-input").send_keys(line + Keys.ENTER)
    return wait_ui(lambda: (out := find(driver, "#console-output").text) != before
                    and "> " + line in out and not out.endswith("> " + line) and out[len(before):],
                    what=f"the console's reply to {line}")


def tab(driver, name):
    find(driver, f'#tabs button[data-tab="{name}"]').click()


def browse(driver, pattern):
    """Scans for `pattern`, opens the one key found; returns its value form."""
    find(driver, "#scan-pattern").clear()
    find(driver, "#scan-pattern").send_keys(pattern)
    find(driver, "#scan-button").click()
    items = wait_ui(lambda: finds(driver, "#key-list li"), what=f"a key for {pattern}")
    items[0].click()
    wait_ui(lambda: find(driver, "#key-value").text and find(driver, "#key-encoding").text != "…",
             what=f"the value of {pattern}")


XSS = "<img src=x onerror=alert(1)>"


def test_the_dashboard_in_a_browser(locked, browser):
    admin = locked.admin
    admin.acl_setuser("ro", enabled=True, passwords=["+ropw"], keys=["*"],
                      commands=["+@read", "+info", "+@connection"])
    # A key of every type; the list is longer than a page.
    admin.set("t:string", "hello dashboard")
    admin.rpush("t:list", *[f"item{i}" for i in range(250)])
    admin.hset("t:hash", mapping={f"field{i}": f"value{i}" for i in range(30)})
    admin.sadd("t:set", *[f"member{i}" for i in range(20)])
    admin.zadd("t:zset", {f"z{i}": i / 2 for i in range(20)})
    for i in range(5):
        admin.xadd("t:stream", {"n": str(i), "what": "event"})
    admin.set(XSS, XSS)
    admin.expire("t:string", 1000)
    victim = locked.client(password="adminpw")
    victim.client_setname("victim")

    url = f"http://127.0.0.1:{locked.http_port}/"
    browser.get(url)
    # A wrong password: the form says so and stays.
    wait_ui(lambda: find(browser, "#login").is_displayed(), what="the login form")
    find(browser, "#login-password").send_keys("wrong")
    find(browser, "#login-submit").click()
    wait_ui(lambda: "WRONGPASS" in find(browser, "#login-error").text, what="the refusal")
    assert not find(browser, "#app").is_displayed()
    find(browser, "#login-password").clear()
    login(browser, "default", "adminpw")
    browse(browser, "t:hash")  # open in the screenshot

    # The charts move under a bounded load.
    bench = subprocess.Popen(
        ["redis-benchmark", "-p", str(locked.port), "-a", "adminpw", "-n", "150000", "-c", "8",
         "-t", "set,get", "-r", "10000", "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def ops():
            t = find(browser, "#value-ops").text
            return t not in ("", "–") and float(t) > 0 and float(t)
        wait_ui(ops, timeout=30, interval=0.2, what="ops/s above 0")
        wait_ui(lambda: find(browser, "#value-latency").text.count("µs") +
                 find(browser, "#value-latency").text.count("ms") == 2, timeout=10,
                 what="p50 and p99 of the load")
        # The GETs (after the SETs): the keyspace's hit ratio is shown.
        wait_ui(lambda: find(browser, "#value-hits").text.split(" / ")[1] not in ("", "–"),
                timeout=60, interval=0.2, what="the keyspace hit ratio under GETs")
        if os.environ.get("FDB_DASHBOARD_SCREENSHOT"):
            # For the picture: 20 s of a mixed load (bounded in count and time), then the shot.
            bench.wait(timeout=120)
            bench = subprocess.Popen(
                ["redis-benchmark", "-p", str(locked.port), "-a", "adminpw", "-n", "3000000",
                 "-c", "8", "-t", "get,set,incr,lpush,hset", "-r", "20000", "-q"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(20)
            browser.save_screenshot(os.environ["FDB_DASHBOARD_SCREENSHOT"])
    finally:
        bench.terminate()
        bench.wait(timeout=10)
    assert find(browser, "#value-clients").text.split(" / ")[0] not in ("", "0")
    assert int(find(browser, "#value-keys").text.split(" / ")[0]) >= 7

    # The key browser: every type in its own form.
    browse(browser, "t:string")
    assert find(browser, "#key-type").text == "string"
    assert find(browser, "#value-string").text == "hello dashboard"
    assert find(browser, "#key-ttl").text.endswith(" s") and find(browser, "#key-size").text
    browse(browser, "t:list")
    assert find(browser, "#key-type").text == "list" and find(browser, "#key-length").text == "250"
    assert find(browser, "#key-encoding").text
    rows = finds(browser, "#value-list tbody tr")
    assert len(rows) == 100 and rows[0].text.split() == ["0", "item0"]
    find(browser, "#key-next").click()
    wait_ui(lambda: first_row(browser, "#value-list tbody tr") == ["100", "item100"],
             what="the list's second page")
    find(browser, "#key-next").click()
    wait_ui(lambda: len(finds(browser, "#value-list tbody tr")) == 50, what="the last page")
    assert not find(browser, "#key-next").is_enabled()
    find(browser, "#key-prev").click()
    wait_ui(lambda: first_row(browser, "#value-list tbody tr") == ["100", "item100"],
             what="back to the second page")
    browse(browser, "t:hash")
    assert find(browser, "#key-type").text == "hash"
    assert "field7 value7" in find(browser, "#value-hash").text
    browse(browser, "t:set")
    assert "member3" in find(browser, "#value-set").text
    browse(browser, "t:zset")
    # The rows are drawn after the type: wait for them, as for the pages above.
    wait_ui(lambda: len(finds(browser, "#value-zset tbody tr")) > 3, what="the zset's rows")
    assert finds(browser, "#value-zset tbody tr")[3].text.split() == ["3", "z3", "1.5"]
    browse(browser, "t:stream")
    assert find(browser, "#key-type").text == "stream"
    assert len(finds(browser, "#value-stream tbody tr")) == 5
    assert "what = event" in find(browser, "#value-stream").text

    # A key named like markup is text: shown literally, nothing runs.
    browse(browser, "<img*")
    assert [li.text for li in finds(browser, "#key-list li")] == [XSS]
    assert find(browser, "#key-name").text == XSS
    assert find(browser, "#value-string").text == XSS
    assert not finds(browser, "#key-list img, #key-detail img")
    assert no_alert(browser)

    # Delete, from the page.
    browse(browser, "t:set")
    find(browser, "#key-delete").click()
    browser.switch_to.alert.accept()
    wait_ui(lambda: admin.exists("t:set") == 0, what="the key deleted")

    # The console.
    tab(browser, "console")
    out = console(browser, 'SET "two words" 42')
    assert out.endswith('"OK"')
    assert console(browser, "INCRBY \"two words\" 8").endswith("(integer) 50")
    assert console(browser, "BLPOP nothing 0").endswith("use redis-cli")
    assert console(browser, "HGETALL t:hash").count("=>") == 30

    # A slow command appears in the slow log.
    admin.config_set("slowlog-log-slower-than", 0)
    admin.echo("slow-marker")
    tab(browser, "slowlog")
    wait_ui(lambda: "ECHO slow-marker" in find(browser, "#slowlog-table").text,
             what="the slow command in the slow log")

    # The client list, and its kill button.
    tab(browser, "clients")
    wait_ui(lambda: any("fdb-dashboard" in r.text
                        for r in finds(browser, "#clients-table tbody tr")),
            what="the dashboard's own session in the client list")

    def kill_victim():  # the table is redrawn every second: a row may go stale in between
        rows = [r for r in finds(browser, "#clients-table tbody tr") if " victim " in f" {r.text} "]
        if not rows:
            return False
        rows[0].find_element("css selector", "button").click()
        return True
    wait_ui(kill_victim, what="the victim's kill button")
    browser.switch_to.alert.accept()
    wait_ui(lambda: not [c for c in admin.client_list() if c["name"] == "victim"],
             what="the victim killed")

    # A read-only user: reads work, the write is refused with NOPERM.
    find(browser, "#logout").click()
    login(browser, "ro", "ropw")
    tab(browser, "console")
    assert console(browser, "GET t:string").endswith('"hello dashboard"')
    out = console(browser, "SET t:string changed")
    assert "(error) NOPERM" in out.splitlines()[-1]
    assert admin.get("t:string") == "hello dashboard"
    tab(browser, "keys")
    browse(browser, "t:string")
    find(browser, "#key-delete").click()
    browser.switch_to.alert.accept()
    wait_ui(lambda: "NOPERM" in find(browser, "#key-error").text, what="the refused delete")
    assert admin.exists("t:string") == 1
    assert no_alert(browser)
