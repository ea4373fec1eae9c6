"""Geo commands on sorted sets: GEOADD, GEOPOS, GEODIST, GEOHASH, GEOSEARCH[STORE],
GEORADIUS[BYMEMBER][_RO].

Written against Redis 7.0 semantics; every test passes against redis-server 7.0.15
(FDB_TEST_TARGET=redis). The interop test starts a Debian redis-server beside FDB and compares
the stored scores.
"""

import math
import random

import pytest
import redis

from test_hyperloglog import ref  # noqa: F401  (the redis-server fixture)

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def assert_error(r, msg, *args):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    assert str(e.value) == msg


def d(x):
    return x.decode() if isinstance(x, bytes) else x


def sicily(r):
    return r.execute_command("GEOADD", "Sicily", 13.361389, 38.115556, "Palermo",
                             15.087269, 37.502669, "Catania")


def test_geoadd_and_scores(r):
    assert sicily(r) == 2
    assert r.zscore("Sicily", "Palermo") == 3479099956230698
    assert r.zscore("Sicily", "Catania") == 3479447370796909
    assert r.type("Sicily") == "zset"
    assert sicily(r) == 0


def test_geoadd_options(r):
    sicily(r)
    assert r.execute_command("GEOADD", "Sicily", "XX", "CH", 13.361389, 38.115556, "Palermo",
                             1, 1, "New") == 0
    assert r.execute_command("GEOADD", "Sicily", "CH", 13.361389, 38.115556, "Palermo",
                             1, 1, "New") == 1
    assert r.execute_command("GEOADD", "Sicily", "NX", 1, 2, "New", 1, 1, "New2") == 1
    assert r.execute_command("GEOADD", "Sicily", "CH", 1, 2, "New") == 1
    assert_error(r, "syntax error", "GEOADD", "Sicily", "NX", "XX", 10, 10, "a")


def test_geoadd_errors(r):
    assert_error(r, "invalid longitude,latitude pair 200.000000,10.000000",
                 "GEOADD", "g", 200, 10, "a")
    assert_error(r, "invalid longitude,latitude pair 10.000000,86.000000",
                 "GEOADD", "g", 10, 86, "a")
    assert_error(r, "value is not a valid float", "GEOADD", "g", "x", 10, "a")
    assert_error(r, "wrong number of arguments for 'geoadd' command", "GEOADD", "g", 10, 10)
    assert_error(r, "syntax error", "GEOADD", "g", 10, 10, "a", 1)
    assert r.exists("g") == 0
    r.set("s", "x")
    assert_error(r, WRONGTYPE, "GEOADD", "s", 10, 10, "a")


def test_geopos_geohash_geodist(r):
    sicily(r)
    pos = r.geopos("Sicily", "Palermo", "nosuch")
    assert pos[1] is None
    assert pos[0][0] == pytest.approx(13.36138933897018433, abs=1e-12)
    assert pos[0][1] == pytest.approx(38.11555639549629859, abs=1e-12)
    assert r.geohash("Sicily", "Palermo", "Catania", "nosuch") == [
        "sqc8b49rny0", "sqdtr74hyu0", None]
    assert r.geodist("Sicily", "Palermo", "Catania") == 166274.1516
    assert r.geodist("Sicily", "Palermo", "Catania", "km") == 166.2742
    assert r.geodist("Sicily", "Palermo", "Catania", "mi") == 103.3182
    assert r.geodist("Sicily", "Palermo", "nosuch") is None
    assert r.geodist("missing", "a", "b") is None
    assert r.geopos("missing", "a") == [None]
    assert_error(r, "unsupported unit provided. please use M, KM, FT, MI",
                 "GEODIST", "Sicily", "Palermo", "Catania", "foo")


def test_geopos_wire_format(raw):
    raw.cmd("FLUSHALL")
    raw.read_reply()
    raw.cmd("GEOADD", "Sicily", "13.361389", "38.115556", "Palermo")
    raw.read_reply()
    raw.cmd("GEOPOS", "Sicily", "Palermo", "nosuch")
    assert raw.read_reply() == (b"*2\r\n*2\r\n$20\r\n13.36138933897018433\r\n"
                                b"$20\r\n38.11555639549629859\r\n*-1\r\n")
    raw.cmd("HELLO", "3")
    raw.read_reply()
    raw.cmd("GEOPOS", "Sicily", "Palermo", "nosuch")
    assert raw.read_reply() == (b"*2\r\n*2\r\n,13.36138933897018433\r\n"
                                b",38.11555639549629859\r\n_\r\n")


def test_geosearch_radius_and_box(r):
    sicily(r)
    assert r.execute_command("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 200,
                             "km", "ASC") == ["Catania", "Palermo"]
    assert r.execute_command("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYBOX", 400, 400,
                             "km", "ASC", "WITHDIST") == [["Catania", "56.4413"],
                                                          ["Palermo", "190.4424"]]
    assert r.execute_command("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", 500,
                             "km", "COUNT", 1, "WITHDIST") == [["Palermo", "0.0000"]]
    got = r.execute_command("GEORADIUS", "Sicily", 15, 37, 200, "km", "WITHDIST",
                            "WITHCOORD", "WITHHASH", "COUNT", 2, "DESC")
    assert got[0][0] == "Palermo" and got[0][1] == "190.4424"
    assert got[0][2] == 3479099956230698
    assert float(got[0][3][0]) == pytest.approx(13.361389, abs=1e-5)
    assert got[1][0] == "Catania"
    assert r.execute_command("GEORADIUSBYMEMBER", "Sicily", "Palermo", 200, "km", "ASC") == [
        "Palermo", "Catania"]
    assert r.execute_command("GEORADIUS_RO", "Sicily", 15, 37, 100, "km") == ["Catania"]
    assert r.execute_command("GEORADIUSBYMEMBER_RO", "Sicily", "Catania", 10, "km") == [
        "Catania"]


def test_geosearchstore(r):
    sicily(r)
    assert r.execute_command("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", 15, 37,
                             "BYRADIUS", 200, "km", "STOREDIST") == 2
    assert [tuple(x) for x in r.zrange("dst", 0, -1, withscores=True)] == [
        ("Catania", pytest.approx(56.441257870158204)),
        ("Palermo", pytest.approx(190.44242984775784))]
    assert r.execute_command("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", 15, 37,
                             "BYRADIUS", 200, "km") == 2
    assert r.zscore("dst", "Palermo") == 3479099956230698
    assert r.execute_command("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", 15, 37,
                             "BYRADIUS", 1, "km") == 0
    assert r.exists("dst") == 0
    assert r.execute_command("GEORADIUS", "Sicily", 15, 37, 200, "km", "STORE", "d2",
                             "STOREDIST", "d3") == 2
    assert r.exists("d2") == 0 and r.exists("d3") == 1
    r.set("str", "x")
    assert r.execute_command("GEOSEARCHSTORE", "str", "missing", "FROMLONLAT", 15, 37,
                             "BYRADIUS", 1, "km") == 0
    assert r.exists("str") == 0


def test_geosearch_errors(r):
    sicily(r)
    cases = [
        (("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "FROMLONLAT", 1, 1, "BYRADIUS", 10,
          "km"), "syntax error"),
        (("GEOSEARCH", "Sicily", "BYRADIUS", 10, "km", "ASC", "ASC"),
         "exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH"),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "ASC", "ASC"),
         "exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH"),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 10, "km", "BYBOX", 1, 1,
          "km"), "syntax error"),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 10, "kmx"),
         "unsupported unit provided. please use M, KM, FT, MI"),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", -1, "km"),
         "radius cannot be negative"),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYBOX", -1, 1, "km"),
         "height or width cannot be negative"),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 10, "km", "COUNT", 0),
         "COUNT must be > 0"),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 10, "km", "ANY"),
         "the ANY argument requires COUNT argument"),
        (("GEOSEARCH", "Sicily", "FROMMEMBER", "nosuch", "BYRADIUS", 10, "km"),
         "could not decode requested zset member"),
        (("GEORADIUS", "Sicily", 15, 37, 200, "km", "STORE", "x", "WITHDIST"),
         "STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD "
         "options"),
        (("GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 200, "km",
          "WITHDIST"),
         "GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 200, "km", "STORE", "x"),
         "syntax error"),
        (("GEORADIUS_RO", "Sicily", 15, 37, 200, "km", "STORE", "x"), "syntax error"),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", "x", 37, "BYRADIUS", 10, "km"),
         "value is not a valid float"),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", "x", "km"),
         "need numeric radius"),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", 15, 37, "BYRADIUS", 10, "km", "COUNT", "x"),
         "value is not an integer or out of range"),
        (("GEOSEARCH", "Sicily", "FROMLONLAT", 200, 37, "BYRADIUS", 10, "km"),
         "invalid longitude,latitude pair 200.000000,37.000000"),
        (("GEORADIUSBYMEMBER", "Sicily", "nosuch", 200, "km"),
         "could not decode requested zset member"),
    ]
    for args, msg in cases:
        assert_error(r, msg, *args)
    assert r.execute_command("GEOSEARCH", "missing", "FROMMEMBER", "x", "BYRADIUS", 1,
                             "km") == []
    assert_error(r, "radius cannot be negative", "GEORADIUS", "missing", 15, 37, -1, "km")
    r.set("s", "x")
    assert_error(r, WRONGTYPE, "GEOSEARCH", "s", "FROMLONLAT", 1, 1, "BYRADIUS", 1, "km")


def _brute(points, lon, lat, radius_m):
    out = []
    for name, (plon, plat) in points.items():
        lat1, lat2 = math.radians(lat), math.radians(plat)
        u = math.sin((lat2 - lat1) / 2)
        v = math.sin(math.radians(plon - lon) / 2)
        d = 2 * 6372797.560856 * math.asin(math.sqrt(u * u + math.cos(lat1) * math.cos(lat2) * v * v))
        if d <= radius_m:
            out.append(name)
    return sorted(out)


def test_geosearch_matches_brute_force(r):
    rnd = random.Random(3)
    for trial in range(15):
        r.delete("pts")
        lon, lat = rnd.uniform(-170, 170), rnd.uniform(-70, 70)
        radius_km = rnd.choice([1, 10, 50, 200, 1000])
        points = {}
        args = []
        for i in range(300):
            plon = max(-180, min(180, lon + rnd.uniform(-1, 1) * radius_km / 50))
            plat = max(-85, min(85, lat + rnd.uniform(-1, 1) * radius_km / 80))
            args += [plon, plat, f"p{i}"]
        r.execute_command("GEOADD", "pts", *args)
        for name, pos in zip(r.zrange("pts", 0, -1), r.geopos("pts", *r.zrange("pts", 0, -1))):
            points[name] = pos
        got = r.execute_command("GEOSEARCH", "pts", "FROMLONLAT", lon, lat, "BYRADIUS",
                                radius_km, "km")
        expected = _brute(points, lon, lat, radius_km * 1000)
        # Points right on the boundary may round either way.
        assert abs(len(got) - len(expected)) <= 1, trial
        assert len(set(got) ^ set(expected)) <= 1, trial


def test_geo_scores_identical_to_redis(r, ref):  # noqa: F811
    rnd = random.Random(5)
    args = []
    for i in range(500):
        args += [round(rnd.uniform(-180, 180), 6), round(rnd.uniform(-85.05, 85.05), 6), f"m{i}"]
    r.execute_command("GEOADD", "g", *args)
    ref.execute_command("GEOADD", "g", *args)
    ours = [tuple(x) for x in r.zrange("g", 0, -1, withscores=True)]
    theirs = [(d(m), s) for m, s in ref.zrange("g", 0, -1, withscores=True)]
    assert ours == theirs
    members = [f"m{i}" for i in range(0, 500, 7)]
    assert r.geohash("g", *members) == [d(h) for h in ref.geohash("g", *members)]
    assert [list(p) for p in r.geopos("g", *members)] == [list(p) for p in ref.geopos("g", *members)]
    for lon, lat, rad in [(0, 0, 3000), (100, 40, 800), (-70, -30, 1500)]:
        q = ("GEOSEARCH", "g", "FROMLONLAT", lon, lat, "BYRADIUS", rad, "km", "WITHDIST")
        ours = r.execute_command(*q)
        theirs = [[d(m), d(dist)] for m, dist in ref.execute_command(*q)]
        assert ours == theirs
        q = ("GEORADIUS", "g", lon, lat, rad, "km", "COUNT", 3, "ANY")
        assert r.execute_command(*q) == [d(m) for m in ref.execute_command(*q)]


def test_search_from_the_antimeridian_as_redis(r, ref):  # noqa: F811
    # A centre at longitude 180 exactly lies one column past the last one; Redis's cells from
    # there keep that column north and south and wrap only east and west. The same here.
    rnd = random.Random(9)
    args = []
    for i in range(400):
        args += [round(rnd.choice([rnd.uniform(-180, -175), rnd.uniform(175, 180)]), 5),
                 round(rnd.uniform(-3, 3), 5), f"q{i}"]
    r.execute_command("GEOADD", "g", *args)
    ref.execute_command("GEOADD", "g", *args)
    for lon in (180, -180, 179.99):
        for shape in (["BYRADIUS", 50, "km"], ["BYRADIUS", 500, "km"], ["BYBOX", 100, 100, "km"]):
            q = ("GEOSEARCH", "g", "FROMLONLAT", lon, 0, *shape)
            assert r.execute_command(*q) == [d(m) for m in ref.execute_command(*q)], q


def test_argument_order_of_errors(r):
    sicily(r)
    # BYMEMBER: the member is looked up before the radius is read; with no key neither is.
    assert_error(r, "could not decode requested zset member",
                 "GEORADIUSBYMEMBER", "Sicily", "nosuch", "x", "km")
    assert r.execute_command("GEORADIUSBYMEMBER", "missing", "m", "x", "bad-unit") == []
    assert_error(r, "syntax error", "GEORADIUSBYMEMBER", "missing", "m", "1", "km", "BAD")
    assert_error(r, "need numeric width", "GEOSEARCH", "Sicily", "FROMLONLAT", 1, 1, "BYBOX",
                 "x", 1, "km")
    assert_error(r, "need numeric height", "GEOSEARCH", "Sicily", "FROMLONLAT", 1, 1, "BYBOX",
                 1, "x", "km")
