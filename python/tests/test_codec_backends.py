"""The codec with orjson against the codec with the stdlib json alone: the corner cases where
the two libraries differ (python/src/fdb/codec.py, "Speed")."""

import dataclasses
import datetime
import json
import math
import random

import pytest

from fdb import codec
from fdb.codec import decode, encode, looks_like_json

pytestmark = pytest.mark.skipif(codec._orjson is None, reason="orjson is not installed")


@pytest.fixture
def stdlib(monkeypatch):
    """Call ``fn`` with orjson hidden."""
    def run(fn, *args):
        with monkeypatch.context() as m:
            m.setattr(codec, "_orjson", None)
            return fn(*args)
    return run


def outcome(fn, *args):
    try:
        value = fn(*args)
    except Exception as e:  # noqa: BLE001 - the exception class is the outcome
        return ("raises", type(e))
    return ("value", type(value), value if not isinstance(value, float) or value == value
            else "nan")


def test_backend_is_orjson():
    assert codec.backend() == "orjson"


@pytest.mark.parametrize("value", [
    [2**64 - 1], [2**64], [-(2**63)], [-(2**63) - 1], {"big": 10**30}, [-(10**40)],
])
def test_ints_beyond_64_bits_round_trip_exactly(value, stdlib):
    stored = encode(value)
    assert stored == stdlib(encode, value) == json.dumps(value, separators=(",", ":")).encode()
    back = decode(stored)
    assert back == value and type(back[0] if isinstance(back, list) else back["big"]) is int


@pytest.mark.parametrize("text", [
    b"[18446744073709551616]", b'{"a":-9223372036854775809}', b"[1234567890123456789012345]",
    b'{"n":99999999999999999999,"s":"x"}',
])
def test_long_integers_written_by_others_read_as_ints(text, stdlib):
    assert decode(text) == json.loads(text) == stdlib(decode, text)


@pytest.mark.parametrize("bad", [[math.nan], {"x": math.inf}, [1, [-math.inf]], {"n": None,
                                                                                   "f": math.nan}])
def test_nan_inside_containers_is_refused(bad):
    with pytest.raises(ValueError):
        encode(bad)


@pytest.mark.parametrize("value", [[None], {"a": None, "b": [None, 1.5]}, ["null"], ["annulled"]])
def test_null_without_nan_is_written(value, stdlib):
    assert decode(encode(value)) == value
    assert encode(value) == stdlib(encode, value)


@pytest.mark.parametrize("value", [[1e16], [1e-5], [1e22], [-0.0], [5e-324], [0.1], [1e-7],
                                   [1.7976931348623157e308], {"f": 123456.789}])
def test_floats_in_containers_read_back_as_the_same_float(value, stdlib):
    for stored in (encode(value), stdlib(encode, value)):
        back = decode(stored)
        assert back == value and [type(x) for x in back] == [type(x) for x in value]
        assert json.loads(stored) == value


def test_float_on_its_own_is_written_as_repr():
    for f in (1e16, 1e-5, 0.1, -0.0, 1e22, 999.99):
        assert encode(f) == repr(f).encode()


@pytest.mark.parametrize("value", [{1: "a"}, {None: 1, True: 2, 2.5: 3}, ["\ud800"], ["x\udcff"]])
def test_what_orjson_refuses_is_json_s_call(value, stdlib):
    assert outcome(encode, value) == outcome(lambda v: stdlib(encode, v), value)


def test_str_subclasses_and_float_subclasses(stdlib):
    class S(str):
        pass

    class F(float):
        pass

    for value in ([S("s")], {S("k"): 1}, [F(1.5)], {"k": S("v")}):
        assert decode(encode(value)) == decode(stdlib(encode, value))


@pytest.mark.parametrize("value", [[datetime.date(2020, 1, 1)], {"t": datetime.datetime.now()},
                                   [{1, 2}], [object()], [1j]])
def test_types_json_refuses_are_refused(value):
    with pytest.raises(TypeError):
        encode(value)


def test_dataclasses_are_refused():
    @dataclasses.dataclass
    class P:
        x: int

    with pytest.raises(TypeError):
        encode([P(1)])


def test_deep_nesting(stdlib):
    value = [[[[[1]]]]]
    for _ in range(300):  # deeper than orjson writes: json writes it
        value = [value]
    assert encode(value) == stdlib(encode, value)
    assert decode(encode(value)) == value


def test_circular_reference_is_refused():
    a: list = []
    a.append(a)
    with pytest.raises(ValueError):
        encode(a)


def test_control_and_special_characters_are_escaped_as_json_does(stdlib):
    value = ["\x00\x1f\x7f\u2028\u2029 é \" \\ \n\r\t\b\f ✓ 😀"]
    assert encode(value) == stdlib(encode, value)
    assert decode(encode(value)) == value


@pytest.mark.parametrize("text", [
    "NaN", "Infinity", "-Infinity", "[NaN]", '{"a":Infinity}', "[-Infinity]",
    " [1]", "[1] ", "[1]\n", "\t{}", "{}\r", " 1", "1 ", '"s" ',
    "1e400", "[1e400]", "-1e400", '"\\ud800"', '["\\udc00x"]', "[1,]", "[1]\x00", "01", "1.",
    ".5", "-", "2024-01-01", '{"a":1}x', "\ufeff[1]", "[1]\x0b", "[1]\u00a0", '"\x01"', "[\"\t\"]",
    '{"a":1,"a":2}', "[1e5, 1E+5, -0.0, 0.1]", '"\\u2028"', "[" * 300 + "]" * 300,
])
def test_reading_rule_agrees(text, stdlib):
    assert outcome(decode, text.encode("utf-8", "surrogatepass")) == \
        outcome(lambda t: stdlib(decode, t), text.encode("utf-8", "surrogatepass"))
    assert outcome(decode, text) == outcome(lambda t: stdlib(decode, t), text)
    assert looks_like_json(text) == stdlib(looks_like_json, text)


def test_reading_rule_agrees_on_random_texts(stdlib):
    rng = random.Random(5)
    alphabet = '{}[]",:0123456789-+.eEtrufalsn \\\n\tx\u00e9'
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        if rng.random() < 0.3:
            text = "[" + text + "]"
        data = text.encode()
        assert outcome(decode, data) == outcome(lambda d: stdlib(decode, d), data), text
        assert looks_like_json(text) == stdlib(looks_like_json, text), text


def test_random_documents_round_trip(stdlib):
    rng = random.Random(7)

    def gen(depth=0):
        r = rng.random()
        if depth > 3 or r < 0.5:
            return rng.choice([rng.randint(-(2**70), 2**70), rng.randint(-100, 100),
                               rng.uniform(-1e20, 1e20), rng.random() * 10**rng.randint(-30, 30),
                               True, False, None, "", "s", "42", "é✓", "a\"b"])
        if r < 0.75:
            return [gen(depth + 1) for _ in range(rng.randint(0, 4))]
        return {f"k{i}": gen(depth + 1) for i in range(rng.randint(0, 4))}

    for _ in range(2000):
        value = gen()
        stored = encode(value)
        assert decode(stored) == value == stdlib(decode, stored)
        if isinstance(value, (list, dict)):  # containers are JSON documents
            assert json.loads(stored) == value
